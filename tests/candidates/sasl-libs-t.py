#!/usr/bin/env python3
"""The bundled SASL-library candidates (GNU SASL's `gsasl`, Cyrus SASL through
candidates/cyrus/cyrus-shim) behind candidates/xmppfront, on a real KDC, with TLS.

Every login starts the front as xmpp-server (readiness: its `listening` event) and as
xmpp-client, each carrying one SASL program, and checks both sides' events, the service
ticket the client asked the KDC for, and the RFC 4752 layer messages the libraries sent (read
from the front's log of the payloads it carried: the wrap tokens are unsealed, RFC 4121 §4.2.4,
so their plaintext is visible without keys). What is asserted is what docs/candidates-bundled.md
records. Every process is bounded in time and killed with its process group at the end.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realmlib  # noqa: E402
import taptest  # noqa: E402

REALM = "GSSCONFORM.TEST"
DOMAIN = "example.com"
HOST = "auth42.us.example.com"
XEP_NAME = f"xmpp/{HOST}/{DOMAIN}"
FRONT = os.path.join(taptest.REPO, "candidates", "xmppfront", "xmppfront.py")
LINE_CLIENT = os.path.join(taptest.REPO, "tests", "candidates", "gss-line-client.py")
SERVER_TIMEOUT_MS = 60000  # the server's own bound; the test stops it long before
CLIENT_TIMEOUT_MS = 20000  # generous: with load 12 on the 2-core build machine one login took
                           # up to 15 s of wall time (Python's start alone took 2 s)
STARTUP_S = 10.0  # bound on a server printing its `listening` event
STOP_S = 10.0  # bound on a server exiting after SIGTERM


def sasl_program(lib: str, role: str) -> list[str]:
    """The SASL program of LIB ("gsasl" or "cyrus") in ROLE ("client" or "server"), as the
    bundled profiles run it."""
    if lib == "gsasl":
        return ["gsasl", f"--{role}", "-d", "--quiet", "--mechanism", "GSSAPI",
                "--service", "xmpp"]
    return [os.path.join(taptest.build_dir(), "candidates", "cyrus", "cyrus-shim"), f"--{role}",
            "--mechanism", "GSSAPI", "--service", "xmpp"]


def run_group(argv: list[str], env: dict[str, str] | None, timeout: float
              ) -> subprocess.CompletedProcess:
    """Run ARGV in its own session, bounded by TIMEOUT seconds; its whole process group (the
    front and the SASL program it started) is killed when it does not end in time."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{argv[0]} did not end within {timeout} s: {err}") from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def wait_listening(server: subprocess.Popen) -> tuple[str, bytes]:
    """Read the server front's stdout until its `listening` event (bounded by STARTUP_S);
    its endpoint and everything read."""
    out = b""
    deadline = time.monotonic() + STARTUP_S
    with selectors.DefaultSelector() as sel:
        sel.register(server.stdout, selectors.EVENT_READ)
        while b"\n" not in out:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError("the server front printed no `listening` event")
            chunk = os.read(server.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError("the server front ended at its start")
            out += chunk
    return json.loads(out.split(b"\n", 1)[0])["endpoint"], out


def parse_events(stdout: str, who: str) -> list[dict]:
    """Every stdout line as a JSON object with an "event" key (AssertionError otherwise)."""
    events = []
    for number, line in enumerate(stdout.splitlines(), 1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"{who} stdout line {number} is not JSON ({e}): {line!r}")
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise AssertionError(f"{who} stdout line {number} is not an event: {line!r}")
        events.append(event)
    return events


def layer_messages(stderr: str, direction: str) -> list[bytes]:
    """The plaintext of every unsealed RFC 4121 wrap token the front logged as carried in
    DIRECTION ("program>": output of the SASL program, "program<": its input)."""
    found = []
    for match in re.finditer(rf"{re.escape(direction)} ([A-Za-z0-9+/=]+)$", stderr, re.M):
        try:
            token = base64.b64decode(match.group(1), validate=True)
        except binascii.Error:
            continue
        if len(token) < 16 or token[:2] != b"\x05\x04" or token[2] & 0x02:
            continue  # not a wrap token, or sealed
        ec = int.from_bytes(token[4:6], "big")
        found.append(token[16:len(token) - ec])  # plaintext, then EC octets of checksum
    return found


@dataclasses.dataclass
class Login:
    """One login through the front: both sides' outcomes and the KDC requests it caused."""

    client_rc: int
    client_events: list[dict]
    client_stderr: str
    server_events: list[dict]
    server_stderr: str
    kdc: list  # krbrealm.KdcRequest made during the login

    def of(self, side: str, kind: str) -> list[dict]:
        events = self.client_events if side == "client" else self.server_events
        return [e for e in events if e["event"] == kind]

    def tgs(self) -> list[tuple[str, str]]:
        """(service principal, outcome) of every TGS_REQ."""
        return [(r.server, r.outcome) for r in self.kdc if r.kind == "TGS_REQ"]


class SaslLibsTest(realmlib.SharedRealmCase):
    realm_prefix = "sasl-libs-t."
    realm_options = {"principals": ("alice", XEP_NAME, f"xmpp/{DOMAIN}", f"xmpp/{HOST}"),
                     "domains": ("localhost", DOMAIN)}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls.tls_cert = os.path.join(cls.tmp.name, "cert.pem")
            cls.tls_key = os.path.join(cls.tmp.name, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "2", "-subj", "/CN=localhost", "-keyout", cls.tls_key, "-out",
                            cls.tls_cert, "-addext",
                            f"subjectAltName=DNS:localhost,DNS:{DOMAIN},IP:127.0.0.1"],
                           capture_output=True, timeout=60, check=True)
            # one keytab with the XEP-0233 key and the host-based key of the same host
            cls.both_keytab = os.path.join(cls.tmp.name, "both.keytab")
            commands = "".join(f"rkt {cls.realm.principal(name).keytab}\n"
                               for name in (XEP_NAME, f"xmpp/{HOST}"))
            subprocess.run(["ktutil"], input=commands + f"wkt {cls.both_keytab}\nquit\n",
                           text=True, capture_output=True, timeout=30, check=True)
        except BaseException:
            super().tearDownClass()
            raise
        cls.base_env = {**realmlib.kerberos_free_environ(), **cls.realm.env()}

    def login(self, server_lib: str | list[str], client_lib: str | list[str], *,
              acceptor: str, keytab: str | None = None, server_args: tuple = (),
              client_args: tuple = ()) -> Login:
        """Run one server front and one client front against it; list arguments are a whole
        SASL program instead of a library name."""
        server_prog = server_lib if isinstance(server_lib, list) else \
            sasl_program(server_lib, "server")
        client_prog = client_lib if isinstance(client_lib, list) else \
            sasl_program(client_lib, "client")
        server_env = {**self.base_env, **self.realm.env(acceptor=acceptor)}
        if keytab is not None:
            server_env["KRB5_KTNAME"] = f"FILE:{keytab}"
        client_env = {**self.base_env, **self.realm.env(client="alice")}
        # a fresh ccache per login, so that every login asks the KDC again
        ccache = os.path.join(self.tmp.name, f"cc-{time.monotonic_ns()}")
        client_env["KRB5CCNAME"] = f"FILE:{ccache}"
        before = len(self.realm.kdc_log())
        err_path = os.path.join(self.tmp.name, f"server-{time.monotonic_ns()}.stderr")
        argv = [FRONT, "xmpp-server", "--bind", "127.0.0.1:0", "--domain", DOMAIN,
                "--hostname", HOST, "--tls-cert", self.tls_cert, "--tls-key", self.tls_key,
                "--timeout-ms", str(SERVER_TIMEOUT_MS), "--sasl-program",
                shlex.join(server_prog), *server_args]
        with open(err_path, "w+b") as err:
            server = subprocess.Popen(argv, env=server_env, stdout=subprocess.PIPE, stderr=err,
                                      start_new_session=True)
            try:
                endpoint, out = wait_listening(server)
                client = run_group(
                    [FRONT, "xmpp-client", "--connect", endpoint, "--domain", DOMAIN, "--jid",
                     f"alice@{DOMAIN}", "--tls-ca", self.tls_cert, "--timeout-ms",
                     str(CLIENT_TIMEOUT_MS), "--sasl-program", shlex.join(client_prog),
                     *client_args],
                    client_env, CLIENT_TIMEOUT_MS / 1000 + 5)
                server.send_signal(signal.SIGTERM)
                rest, _ = server.communicate(timeout=STOP_S)  # killed below on expiry
                self.assertEqual(server.returncode, 0, "the server front after SIGTERM")
            finally:
                if server.poll() is None:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
                try:
                    os.killpg(server.pid, signal.SIGKILL)  # any SASL program left behind
                except ProcessLookupError:
                    pass
            err.seek(0)
            server_stderr = err.read().decode("utf-8", "replace")
        return Login(client.returncode, parse_events(client.stdout, "client front"),
                     client.stderr, parse_events((out + rest).decode(), "server front"),
                     server_stderr, self.realm.kdc_log()[before:])

    def assert_logged_in(self, login: Login, client_name: str) -> None:
        detail = f"\nclient stderr:\n{login.client_stderr}\nserver stderr:\n{login.server_stderr}"
        self.assertEqual(login.client_rc, 0, detail)
        self.assertEqual([e["event"] for e in login.client_events],
                         ["tls", "features", "principal", "sasl", "bound", "done"], detail)
        self.assertEqual(login.of("client", "features")[0],
                         {"event": "features", "mechanisms": ["GSSAPI"], "hostname": HOST})
        self.assertEqual(login.of("client", "sasl")[0]["outcome"], "success")
        self.assertEqual(login.of("client", "bound")[0]["jid"], f"alice@{DOMAIN}/xmppfront")
        logins = login.of("server", "login")
        self.assertEqual(len(logins), 1, detail)
        self.assertEqual(logins[0]["outcome"], "success", detail)
        self.assertEqual(logins[0]["client"], client_name)
        self.assertEqual(len(login.of("server", "tls")), 1)

    # ---- logins: each client library to each server library, host-based name of the domain

    def check_pair(self, server_lib: str, client_lib: str) -> Login:
        login = self.login(server_lib, client_lib, acceptor=f"xmpp/{DOMAIN}",
                           server_args=("--sasl-host", "domain"))
        # Cyrus reports the authentication identity without the realm
        self.assert_logged_in(login, f"alice@{REALM}" if server_lib == "gsasl" else "alice")
        self.assertEqual(login.of("client", "principal")[0],
                         {"event": "principal", "target": f"xmpp@{DOMAIN}", "form": "hostbased"})
        # the KDC's view: the one service ticket the client asked for
        self.assertEqual(login.tgs(), [(f"xmpp/{DOMAIN}@{REALM}", "ISSUE")])
        return login

    def check_layers(self, login: Login, server_lib: str, client_lib: str) -> None:
        """The layer message of the server and the client's reply (RFC 4752 §3.1), as the
        libraries sent them: "none" (01) on both sides, the max sizes as observed."""
        offered = layer_messages(login.server_stderr, "program>")
        chosen = layer_messages(login.server_stderr, "program<")
        server_max = "ffffff" if server_lib == "gsasl" else "000000"
        self.assertEqual([m.hex() for m in offered], ["01" + server_max])
        # gsasl's client echoes the server's max size; Cyrus's sends 0 with "none"
        client_max = server_max if client_lib == "gsasl" else "000000"
        self.assertEqual([m.hex() for m in chosen], ["01" + client_max])

    def test_gsasl_client_to_gsasl_server(self) -> None:
        login = self.check_pair("gsasl", "gsasl")
        self.check_layers(login, "gsasl", "gsasl")
        self.assertIsNone(login.of("server", "login")[0]["authzid"])

    def test_gsasl_client_to_cyrus_server(self) -> None:
        login = self.check_pair("cyrus", "gsasl")
        self.check_layers(login, "cyrus", "gsasl")
        # libsasl2 names the authentication identity as the authorization one when none came:
        # the front cannot tell "none" from "the same", and leaves the field out
        self.assertNotIn("authzid", login.of("server", "login")[0])

    def test_cyrus_client_to_gsasl_server(self) -> None:
        login = self.check_pair("gsasl", "cyrus")
        self.check_layers(login, "gsasl", "cyrus")
        self.assertIsNone(login.of("server", "login")[0]["authzid"])

    def test_cyrus_client_to_cyrus_server(self) -> None:
        login = self.check_pair("cyrus", "cyrus")
        self.check_layers(login, "cyrus", "cyrus")

    def test_authzid_reaches_both_servers(self) -> None:
        for server_lib, client_lib in (("gsasl", "cyrus"), ("cyrus", "gsasl")):
            with self.subTest(server=server_lib, client=client_lib):
                login = self.login(server_lib, client_lib, acceptor=f"xmpp/{DOMAIN}",
                                   server_args=("--sasl-host", "domain"),
                                   client_args=("--authzid", f"alice@{DOMAIN}"))
                self.assert_logged_in(login, f"alice@{REALM}" if server_lib == "gsasl"
                                      else "alice")
                self.assertEqual(login.of("server", "login")[0]["authzid"], f"alice@{DOMAIN}")
                chosen = layer_messages(login.server_stderr, "program<")
                self.assertEqual(len(chosen), 1)
                self.assertEqual(chosen[0][4:], f"alice@{DOMAIN}".encode())

    def test_foreign_authzid_refused(self) -> None:
        """The front's authorization (as the XMPP server application): another JID is refused
        with <invalid-authzid/>, for both server libraries."""
        for server_lib in ("gsasl", "cyrus"):
            with self.subTest(server=server_lib):
                login = self.login(server_lib, "gsasl", acceptor=f"xmpp/{DOMAIN}",
                                   server_args=("--sasl-host", "domain"),
                                   client_args=("--authzid", f"bob@{DOMAIN}"))
                self.assertEqual(login.client_rc, 1)
                self.assertEqual(login.of("client", "sasl"),
                                 [{"event": "sasl", "outcome": "failure",
                                   "condition": "invalid-authzid"}])
                self.assertEqual(login.of("server", "login")[0]["outcome"], "failure")
                self.assertEqual(login.of("server", "login")[0]["authzid"], f"bob@{DOMAIN}")

    # ---- which name each client builds from the advertised <hostname/>

    def test_clients_with_advertised_hostname_ask_host_based(self) -> None:
        """Given the advertised <hostname/> as their host, both libraries ask the KDC for the
        two-component xmpp/<hostname>, never for the XEP-0233 three-component name."""
        for client_lib in ("gsasl", "cyrus"):
            with self.subTest(client=client_lib):
                login = self.login("gsasl", client_lib, acceptor=f"xmpp/{HOST}",
                                   client_args=("--sasl-host", "advertised"))
                self.assertEqual(login.of("client", "principal")[0]["target"], f"xmpp@{HOST}")
                self.assertEqual(login.client_rc, 0, login.client_stderr)
                self.assertEqual(login.tgs(), [(f"xmpp/{HOST}@{REALM}", "ISSUE")])

    def test_principal_form_domain_cannot_be_honoured(self) -> None:
        proc = run_group([FRONT, "xmpp-client", "--connect", "127.0.0.1:9", "--domain",
                          DOMAIN, "--jid", f"alice@{DOMAIN}", "--tls-ca", self.tls_cert,
                          "--principal-form", "domain", "--sasl-program", "gsasl --client"],
                         None, 30)
        self.assertEqual(proc.returncode, 64)
        self.assertIn("host-based", proc.stderr)
        self.assertEqual(proc.stdout, "")

    # ---- what each server's acceptor takes

    def test_servers_refuse_the_xep0233_name(self) -> None:
        """A ticket for xmpp/<hostname>/<domain> is refused by both servers although its key is
        in their keytab: the acceptor is the host-based xmpp@<hostname>. The same client asking
        for xmpp/<hostname> logs in (control)."""
        client = [LINE_CLIENT, "--target"]
        for server_lib in ("gsasl", "cyrus"):
            with self.subTest(server=server_lib, ticket="xep0233"):
                login = self.login(server_lib, client + [XEP_NAME], acceptor=XEP_NAME,
                                   keytab=self.both_keytab)
                self.assertEqual(login.tgs(), [(f"{XEP_NAME}@{REALM}", "ISSUE")])
                self.assertEqual(login.client_rc, 1)
                self.assertEqual(login.of("client", "sasl")[0]["condition"], "not-authorized")
                failure = login.of("server", "login")[0]
                self.assertEqual(failure["outcome"], "failure")
                self.assertIn("accept_sec_context" if server_lib == "gsasl"
                              else "authentication failure", failure["reason"])
                if server_lib == "cyrus":  # libsasl2 logs GSS-API's minor status too
                    self.assertIn(f"does not match server principal xmpp/{HOST}@",
                                  login.server_stderr)
            with self.subTest(server=server_lib, ticket="hostbased"):
                login = self.login(server_lib, client + [f"xmpp@{HOST}"], acceptor=XEP_NAME,
                                   keytab=self.both_keytab)
                self.assertEqual(login.client_rc, 0, login.client_stderr + login.server_stderr)
                self.assertEqual(login.tgs(), [(f"xmpp/{HOST}@{REALM}", "ISSUE")])

    def test_servers_need_a_host_based_key(self) -> None:
        """With only the XEP-0233 key in the keytab (what a conformant deployment registers),
        neither server can even acquire its acceptor credential: every login fails."""
        for server_lib in ("gsasl", "cyrus"):
            with self.subTest(server=server_lib):
                login = self.login(server_lib, [LINE_CLIENT, "--target", XEP_NAME],
                                   acceptor=XEP_NAME)
                self.assertEqual(login.client_rc, 1)
                self.assertEqual(login.of("server", "login")[0]["outcome"], "failure")
                self.assertRegex(login.server_stderr,
                                 "gss_acquire_cred|No key table entry found matching "
                                 f"xmpp/{re.escape(HOST)}@")


class FrontFramingTest(unittest.TestCase):
    """The front's own XMPP checks (no realm: the SASL program is never reached)."""

    def serve(self) -> tuple[subprocess.Popen, str]:
        server = subprocess.Popen([FRONT, "xmpp-server", "--bind", "127.0.0.1:0", "--domain",
                                   DOMAIN, "--hostname", HOST, "--tls", "off", "--timeout-ms",
                                   "20000", "--sasl-program", "false"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        self.addCleanup(self.stop, server)
        return server, wait_listening(server)[0]

    def stop(self, server: subprocess.Popen) -> None:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.communicate(timeout=STOP_S)

    def exchange(self, endpoint: str, text: str) -> str:
        """Send the stream header and TEXT; what the front sent until it closed (bounded)."""
        import socket
        host, _, port = endpoint.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' "
                         "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                         f"version='1.0'>{text}".encode())
            got = b""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += chunk
                if b"<failure" in got and b"</failure>" in got:
                    break
            return got.decode()

    def test_invalid_mechanism(self) -> None:
        _, endpoint = self.serve()
        got = self.exchange(endpoint, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                      "mechanism='PLAIN'>AGFsaWNlAHg=</auth>")
        self.assertIn("<hostname xmlns='urn:xmpp:domain-based-name:1'>auth42.us.example.com"
                      "</hostname>", got)
        self.assertIn("<invalid-mechanism/>", got)

    def test_incorrect_encoding(self) -> None:
        _, endpoint = self.serve()
        got = self.exchange(endpoint, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                      "mechanism='GSSAPI'>not*base64</auth>")
        self.assertIn("<incorrect-encoding/>", got)

    def test_program_that_cannot_start(self) -> None:
        """A SASL program that ends before its mechanism line: the client is told
        (<temporary-auth-failure/>) and the login event says why."""
        server, endpoint = self.serve()
        got = self.exchange(endpoint, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                      "mechanism='GSSAPI'>YWJj</auth>")
        self.assertIn("<temporary-auth-failure/>", got)
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=STOP_S)
        login = [e for e in parse_events(out.decode(), "server front") if e["event"] == "login"]
        self.assertEqual(len(login), 1)
        self.assertEqual(login[0]["condition"], "temporary-auth-failure")
        self.assertIn("before naming its mechanism", login[0]["reason"])

    def test_doctype_refused(self) -> None:
        server, endpoint = self.serve()
        import socket
        host, _, port = endpoint.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>")
            sock.settimeout(10)
            got = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += chunk
        self.assertNotIn(b"<stream:features", got)
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=STOP_S)
        self.assertIn(b"document type declaration", err)


if __name__ == "__main__":
    taptest.main()
