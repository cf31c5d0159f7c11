#!/usr/bin/env python3
"""End to end: the SASL GSSAPI engine (peer/xmpp/sasl.h), client and server in one process
through the real GSS-API (peer/tests/xmpp/sasl-roundtrip) in a throwaway realm.

alice authenticates to xmpp/host.example.com/example.com@REALM (a three-component principal,
the form XEP-0233 produces): four payloads (AP-REQ, AP-REP, empty response, layer message and
reply), the server's outcome names the target the ticket was for and alice, the layer
negotiation carries what was configured, and the KDC issued exactly that ticket. A server
without the service's key refuses with not-authorized and the GSS text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realmlib  # noqa: E402
import taptest  # noqa: E402

REALM = "GSSCONFORM.TEST"
SERVICE = "xmpp/host.example.com/example.com"
OTHER = "xmpp/other.example.com/example.com"
ROUNDTRIP_TIMEOUT = 30  # seconds; one in-process exchange against a loopback KDC

GSS_C_MUTUAL_FLAG, GSS_C_SEQUENCE_FLAG, GSS_C_CONF_FLAG, GSS_C_INTEG_FLAG = 2, 8, 16, 32


class SaslRoundTrip(realmlib.SharedRealmCase):
    """One realm for the class; alice is the client."""

    realm_prefix = "sasl-roundtrip-t."
    realm_options = {"realm": REALM, "principals": ("alice", SERVICE, OTHER)}

    def run_roundtrip(self, acceptor: str, *args: str) -> subprocess.CompletedProcess[str]:
        program = taptest.program("peer", "tests", "xmpp", "sasl-roundtrip")
        env = realmlib.kerberos_free_environ()
        env.update(self.realm.env(client="alice"))
        env.update(self.realm.env(acceptor=acceptor))
        return subprocess.run([program, *args], env=env, capture_output=True, text=True,
                              timeout=ROUNDTRIP_TIMEOUT, check=False)

    def success(self, *args: str) -> dict[str, object]:
        result = self.run_roundtrip(SERVICE, "--service", f"{SERVICE}@{REALM}", *args)
        self.assertEqual(result.returncode, 0, f"stderr: {result.stderr}")
        self.assertEqual(result.stderr, "")
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 1, f"stdout: {result.stdout!r}")
        report = json.loads(lines[0])
        self.assertEqual(report["steps"], 5)
        self.assertEqual(report["server_target"], f"{SERVICE}@{REALM}")
        self.assertEqual(report["client_target"], f"{SERVICE}@{REALM}")
        self.assertEqual(report["server_initiator"], f"alice@{REALM}")
        wanted = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG
        self.assertEqual(report["flags"] & wanted, wanted, report)
        return report

    def test_default_none(self) -> None:
        report = self.success()
        self.assertEqual(report["layers_offered"], 1)
        self.assertEqual(report["server_max_size"], 0)
        self.assertEqual(report["layer"], 1)
        self.assertEqual(report["client_layer"], 1)
        self.assertEqual(report["client_max_size"], 0)
        self.assertIsNone(report["authzid"])
        tgs = [r for r in self.realm.kdc_log()
               if r.kind == "TGS_REQ" and r.server == f"{SERVICE}@{REALM}"]
        self.assertTrue(tgs and all(r.outcome == "ISSUE" for r in tgs),
                        [r.line for r in tgs])

    def test_authzid(self) -> None:
        report = self.success("--authzid", "bob@example.com")
        self.assertEqual(report["authzid"], "bob@example.com")

    def test_confidentiality_layer(self) -> None:
        # The client accepts every layer and picks the strongest offered; CONF is requested
        # only because the client finds a confidentiality layer acceptable.
        report = self.success("--client-layers", "7", "--client-max", "4096",
                              "--server-layers", "7", "--server-max", "65536")
        self.assertEqual(report["layers_offered"], 7)
        self.assertEqual(report["server_max_size"], 65536)
        self.assertEqual(report["layer"], 4)
        self.assertEqual(report["client_max_size"], 4096)
        self.assertTrue(report["flags"] & GSS_C_CONF_FLAG)

    def test_integrity_layer(self) -> None:
        report = self.success("--client-layers", "3", "--client-max", "1000",
                              "--server-layers", "7", "--server-max", "2000")
        self.assertEqual(report["layer"], 2)
        self.assertEqual(report["client_max_size"], 1000)

    def test_no_common_layer(self) -> None:
        result = self.run_roundtrip(SERVICE, "--service", f"{SERVICE}@{REALM}",
                                    "--client-layers", "1", "--server-layers", "2",
                                    "--server-max", "100")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("none of which the client accepts", result.stderr)

    def test_wrong_acceptor_key(self) -> None:
        # The ticket names SERVICE; the server only holds OTHER's key.
        result = self.run_roundtrip(OTHER, "--service", f"{SERVICE}@{REALM}")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("server (not-authorized)", result.stderr)
        self.assertIn("accept_sec_context failed", result.stderr)

    def test_usage(self) -> None:
        for args in ([], ["--service"], ["--service", "x", "--client-layers", "256"],
                     ["--service", "x", "--bogus", "1"]):
            with self.subTest(args=args):
                result = self.run_roundtrip(SERVICE, *args)
                self.assertEqual(result.returncode, 64, result.stderr)
                self.assertIn("usage:", result.stderr)


if __name__ == "__main__":
    taptest.main()
