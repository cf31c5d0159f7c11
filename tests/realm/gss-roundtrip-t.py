#!/usr/bin/env python3
"""End to end: util/gss against a real throwaway KDC, through peer/tests/util/gss-roundtrip.

For each way a service name is given (hostbased, user, krb5 with a multi-component principal)
alice establishes a context with the service in one process, wrap/unwrap works both ways, the
acceptor reports the expected target principal, and the KDC log shows the TGS_REQ for exactly
that server principal being issued. A service unknown to the KDC fails with its name in the
reason.
"""

from __future__ import annotations

import json
import subprocess

import realmlib
import taptest

REALM = "GSSCONFORM.TEST"
ROUNDTRIP_TIMEOUT = 30  # seconds; one in-process handshake against a loopback KDC
MULTI = "xmpp/auth42.us.example.com/example.com"

# Each service principal is used by one case only, so no ticket cached by an earlier case can
# stand in for the TGS_REQ a case must cause.
SERVICES = ("zmq/localhost", "xmpp/example.com", MULTI, "imap/example.com", "host/localhost")


def roundtrip(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run gss-roundtrip with ARGS in the realm environment ENV (added to os.environ)."""
    program = taptest.program("peer", "tests", "util", "gss-roundtrip")
    full_env = realmlib.kerberos_free_environ()
    full_env.update(env)
    return subprocess.run([program, *args], env=full_env, capture_output=True, text=True,
                          timeout=ROUNDTRIP_TIMEOUT, check=False)


class GssRoundTrip(realmlib.SharedRealmCase):
    """One realm for the whole class; each test uses its own service principal."""

    realm_prefix = "gss-roundtrip-t."
    realm_options = {"realm": REALM, "principals": ("alice", *SERVICES)}

    def env(self, service: str | None) -> dict[str, str]:
        """alice as the client, SERVICE (if any) as the acceptor."""
        return {**self.realm.env(client="alice"),
                **(self.realm.env(acceptor=service) if service else {})}

    def check_success(self, service: str, client_args: list[str], service_name: str,
                      service_type: str) -> None:
        """A round trip to SERVICE named as SERVICE_NAME of SERVICE_TYPE succeeds, reports
        the right names, and the KDC issued a ticket for exactly that principal."""
        principal = f"{service}@{REALM}"
        result = roundtrip(self.env(service), *client_args, "--service", service_name,
                           "--service-nametype", service_type)
        self.assertEqual(result.returncode, 0, f"stderr: {result.stderr}")
        self.assertEqual(result.stderr, "")
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 1, f"stdout: {result.stdout!r}")
        report = json.loads(lines[0])
        self.assertEqual(report["initiator"], f"alice@{REALM}")
        self.assertEqual(report["acceptor_target"], principal)
        self.assertIs(report["enctype_ok"], True)
        self.assertEqual(report["enctype"], 18)  # the realm's aes256-cts-hmac-sha1-96
        tgs = [r for r in self.realm.kdc_log() if r.kind == "TGS_REQ" and r.server == principal]
        self.assertEqual([r.outcome for r in tgs], ["ISSUE"],
                         f"TGS_REQ lines for {principal}: {[r.line for r in tgs]}")
        self.assertEqual(tgs[0].client, f"alice@{REALM}")

    def test_hostbased(self) -> None:
        self.check_success("zmq/localhost", ["--client", "alice", "--client-nametype", "user"],
                           "zmq@localhost", "hostbased")

    def test_user(self) -> None:
        self.check_success("xmpp/example.com", ["--client", "alice", "--client-nametype", "user"],
                           "xmpp/example.com", "user")

    def test_krb5_multi_component(self) -> None:
        self.check_success(MULTI, ["--client", "alice", "--client-nametype", "user"],
                           f"{MULTI}@{REALM}", "krb5")

    def test_krb5_client(self) -> None:
        self.check_success("imap/example.com",
                           ["--client", f"alice@{REALM}", "--client-nametype", "krb5"],
                           f"imap/example.com@{REALM}", "krb5")

    def test_default_client(self) -> None:
        # No --client: the default initiator credentials come from alice's client keytab.
        self.check_success("host/localhost", [], "host@localhost", "hostbased")

    def test_unknown_service(self) -> None:
        principal = f"zmq/nowhere.example.com@{REALM}"
        result = roundtrip(self.env("zmq/localhost"), "--client", "alice", "--client-nametype",
                           "user", "--service", principal, "--service-nametype", "krb5")
        self.assertEqual(result.returncode, 1, f"stderr: {result.stderr}")
        self.assertEqual(result.stdout, "")
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("gss_init_sec_context", result.stderr)
        self.assertIn(principal, result.stderr)
        tgs = [r for r in self.realm.kdc_log() if r.kind == "TGS_REQ" and r.server == principal]
        self.assertTrue(tgs and all(r.outcome != "ISSUE" for r in tgs),
                        f"TGS_REQ lines for {principal}: {[r.line for r in tgs]}")

    def test_wrong_acceptor_keytab(self) -> None:
        # The ticket is for zmq/localhost but the acceptor only has host/localhost's key.
        result = roundtrip(self.env("host/localhost"), "--client", "alice",
                           "--client-nametype", "user", "--service", "zmq@localhost",
                           "--service-nametype", "hostbased")
        self.assertEqual(result.returncode, 1, f"stderr: {result.stderr}")
        self.assertIn("gss_accept_sec_context", result.stderr)

    def test_usage(self) -> None:
        for args in ([], ["--service", "zmq@localhost"],
                     ["--service", "x", "--service-nametype", "bogus"],
                     ["--client", "alice", "--service", "x", "--service-nametype", "user"],
                     ["--service", "x", "--service-nametype", "user", "--extra", "1"],
                     ["--service"]):
            with self.subTest(args=args):
                result = roundtrip(self.env(None), *args)
                self.assertEqual(result.returncode, 64, f"stderr: {result.stderr}")
                self.assertIn("usage:", result.stderr)


if __name__ == "__main__":
    taptest.main()
