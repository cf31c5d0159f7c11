#!/usr/bin/env python3
"""What the XMPP cases need of the runner: a check guarded by `when` (not applicable unless its
guard holds), the UNIMPLEMENTED check level (an optional feature the candidate lacks, never a
FAIL), and `also_accept` (one acceptor keytab holding several principals' keys)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest

import realmlib
import taptest
from gssconform import verdict
from gssconform.errors import InputError
from gssconform.scenario import load_file

CASE = """
[[case]]
id = "xep0233/guard/principal"
title = "guarded checks"
principals = ["alice", "xmpp/h.example.com/example.com", "xmpp/example.com"]

[case.candidate]
role = "xmpp-client"
client = "alice"

[case.peer]
role = "xmpp-server"
acceptor = "xmpp/h.example.com/example.com"
also_accept = ["xmpp/example.com"]

[[case.expect]]
observe = "peer.event.login.0.target"
matches = "^xmpp/[^/@]+/[^/@]+@"
level = "UNIMPLEMENTED"
message = "the client built a domain-based name"

[[case.expect]]
observe = "peer.event.login.0.target"
equals = "xmpp/h.example.com/example.com@R"
level = "MUST"
message = "the domain-based name is exactly the XEP-0233 one"
when = { observe = "peer.event.login.0.target", matches = "^xmpp/[^/@]+/[^/@]+@" }
"""


def _obs(target: str) -> dict:
    return {"candidate": {"exit": 0}, "peer": {"exit": 0, "event": {"login": [{"target": target}]}}}


class Guards(unittest.TestCase):
    """The `when` guard and the UNIMPLEMENTED level, judged on synthetic observations."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory(prefix="guards-t.")
        cls.path = os.path.join(cls.tmp.name, "guard.toml")
        with open(cls.path, "w", encoding="utf-8") as handle:
            handle.write(CASE)
        cls.case = load_file(cls.path, "xep0233")[0]

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_exact_name_passes(self) -> None:
        verdict_, _, checks = verdict.judge(self.case, _obs("xmpp/h.example.com/example.com@R"),
                                            False)
        self.assertEqual(verdict_, "PASS")
        self.assertEqual([c["passed"] for c in checks], [True, True])

    def test_hostbased_name_is_unimplemented_not_fail(self) -> None:
        verdict_, reason, checks = verdict.judge(self.case, _obs("xmpp/example.com@R"), False)
        self.assertEqual(verdict_, "UNIMPLEMENTED")
        self.assertIn("xmpp/example.com@R", reason)
        self.assertIsNone(checks[1]["passed"])
        self.assertTrue(checks[1]["seen"].startswith("not applicable"))

    def test_wrong_domain_based_name_fails(self) -> None:
        verdict_, reason, _ = verdict.judge(self.case, _obs("xmpp/example.com/h.example.com@R"),
                                            False)
        self.assertEqual(verdict_, "FAIL")
        self.assertIn("exactly the XEP-0233 one", reason)

    def test_side_records_also_accept(self) -> None:
        self.assertEqual(self.case.peer.also_accept, ["xmpp/example.com"])
        self.assertIn("when", self.case.to_json()["checks"][1])

    def _load_error(self, text: str) -> str:
        path = os.path.join(self.tmp.name, "bad.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        with self.assertRaises(InputError) as err:
            load_file(path, "xep0233")
        return str(err.exception)

    def test_undeclared_also_accept_is_an_input_error(self) -> None:
        text = CASE.replace('also_accept = ["xmpp/example.com"]', 'also_accept = ["xmpp/other"]')
        self.assertIn("principal 'xmpp/other' is not declared", self._load_error(text))

    def test_guard_without_operator_is_an_input_error(self) -> None:
        text = CASE.replace('when = { observe = "peer.event.login.0.target", matches = '
                            '"^xmpp/[^/@]+/[^/@]+@" }', 'when = { observe = "peer.exit" }')
        message = self._load_error(text)
        self.assertIn("when", message)
        self.assertIn("needs exactly one operator", message)


class AlsoAccept(realmlib.SharedRealmCase):
    """keytab_for: one keytab with the keys of several principals, made once and reused."""

    realm_prefix = "guards-t."
    realm_options = {"principals": ("alice", "xmpp/h.example.com/example.com",
                                    "xmpp/example.com")}

    def test_merged_keytab_holds_both_principals(self) -> None:
        names = ["xmpp/h.example.com/example.com", "xmpp/example.com"]
        path = self.realm.keytab_for(names)
        listing = subprocess.run(["klist", "-k", str(path)], capture_output=True, text=True,
                                 timeout=10, check=True,
                                 env={**realmlib.kerberos_free_environ(), **self.realm.env()})
        for name in names:
            self.assertIn(f"{name}@{self.realm.realm}", listing.stdout)
        self.assertEqual(self.realm.keytab_for(names), path)
        env = self.realm.env(acceptor=names[0], also_accept=names[1:])
        self.assertEqual(env["KRB5_KTNAME"], str(path))

    def test_one_name_is_its_own_keytab(self) -> None:
        self.assertEqual(self.realm.keytab_for(["xmpp/example.com"]),
                         self.realm.principal("xmpp/example.com").keytab)


if __name__ == "__main__":
    taptest.main()
