#!/usr/bin/env python3
"""The runner with the throwaway realm: per-case Kerberos environment, KDC log artifact, realm
metadata in results.json, and `gssconform realm up|down` wrapping realm-setup."""

from __future__ import annotations

import os
import shutil
import unittest

from fixturelib import FIXTURES, PEER, RunnerCase, candidate, taptest

REALM_CASES = os.path.join(FIXTURES, "realmcases")


def have_kdc() -> bool:
    """Whether the MIT KDC is installed."""
    return shutil.which("krb5kdc", path=os.environ.get("PATH", "") + ":/usr/sbin") is not None


@unittest.skipUnless(have_kdc(), "krb5kdc not installed")
class WithRealm(RunnerCase):
    """Cases that name principals get the realm's variables."""

    def test_case_gets_principal_keytab_ccache(self) -> None:
        out = os.path.join(self.runner.dir, "out")
        proc = self.runner.gssconform(["run", "--scenarios", REALM_CASES, "--spec", "fixture",
                                       "--peer", PEER, "--candidate", candidate("pass"),
                                       "--out", out])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.runner.results()
        result = doc["results"][0]
        self.assertEqual(result["verdict"], "PASS", result)
        realm = doc["meta"]["realm"]
        self.assertEqual((realm["started"], realm["realm"]), (True, "GSSCONFORM.TEST"))
        self.assertEqual(realm["enctypes"], ["aes256-cts-hmac-sha1-96"])
        self.assertIn("kdc.log", result["artifacts"])
        self.assertFalse(os.path.exists(realm["directory"]))
        self.assertEqual(self.runner.survivors(), [])

    def test_realm_up_down(self) -> None:
        directory = os.path.join(self.runner.dir, "realm")
        proc = self.runner.gssconform(["realm", "up", directory, "--principal", "alice"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("KRB5_CONFIG=", proc.stdout)
        proc = self.runner.gssconform(["realm", "down", directory])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertFalse(os.path.exists(directory))


if __name__ == "__main__":
    taptest.main()
