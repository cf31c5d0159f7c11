#!/usr/bin/env python3
"""gsspeer xmpp-server in a throwaway realm (alice, xmpp/H/D, xmpp/D).

Real logins with slixmpp (tests/xmpp/slixmpp-login.py, under /usr/bin/python3) for both
Kerberos name forms and every --tls mode, and raw-socket clients of the test's own for what no
real client sends: XML that RFC 6120 forbids, bad base64, unknown mechanisms, <abort/>, a
client that says nothing. Each server is stopped (SIGTERM, then SIGKILL) by the test that
started it.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import realmlib  # noqa: E402
import taptest  # noqa: E402

DOMAIN = "example.com"
HOST = "auth42.example.com"
REALM = "GSSCONFORM.TEST"
XEP_NAME = f"xmpp/{HOST}/{DOMAIN}@{REALM}"
HOSTBASED_NAME = f"xmpp/{DOMAIN}@{REALM}"
HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slixmpp-login.py")
SYSTEM_PYTHON = "/usr/bin/python3"
WAIT_S = 10.0  # bound on every wait for an event or a close
HEADER = (f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          f"xmlns:stream='http://etherx.jabber.org/streams' to='{DOMAIN}' version='1.0'>")


def have_slixmpp() -> str | None:
    """None when the helper can run, else why not."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import slixmpp, gssapi, kerberos"],
                           capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        return "python3-slixmpp, python3-gssapi or python3-kerberos is not installed"
    return None


class Server:
    """A running gsspeer xmpp-server; its events are read by a thread into a queue."""

    def __init__(self, env: dict[str, str], args: list[str], cwd: str) -> None:
        self.events: list[dict] = []
        self.queue: queue.Queue[dict | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [taptest.program("gsspeer"), "xmpp-server", "--bind", "127.0.0.1:0",
             "--domain", DOMAIN, "--hostname", HOST, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, text=True)
        self.stderr: list[str] = []
        self.readers = [threading.Thread(target=self._read, daemon=True),
                        threading.Thread(target=self._read_err, daemon=True)]
        for reader in self.readers:
            reader.start()
        first = self.next_event(lambda e: True)
        if first.get("event") != "listening":
            self.stop()
            raise AssertionError(f"first event is not listening: {first}")
        self.port = int(first["endpoint"].rsplit(":", 1)[1])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.queue.put(json.loads(line))
            except json.JSONDecodeError:
                self.queue.put({"event": "not-json", "line": line})
        self.queue.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def next_event(self, match, timeout: float = WAIT_S) -> dict:
        """The next event MATCH accepts (earlier ones are kept in self.events)."""
        until = time.monotonic() + timeout
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event within {timeout} s; got {self.events}")
            try:
                event = self.queue.get(timeout=left)
            except queue.Empty:
                continue
            if event is None:
                raise AssertionError(f"server exited ({self.proc.poll()}); events {self.events}"
                                     f"; stderr {''.join(self.stderr)}")
            self.events.append(event)
            if match(event):
                return event

    def event(self, name: str, connection: int | None = None) -> dict:
        return self.next_event(lambda e: e.get("event") == name and
                               (connection is None or e.get("connection") == connection))

    def stderr_line(self, text: str, timeout: float = WAIT_S) -> str:
        """The first stderr line containing TEXT (waiting for the reader thread, bounded)."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            for line in list(self.stderr):
                if text in line:
                    return line
            time.sleep(0.01)
        raise AssertionError(f"no stderr line with {text!r}: {self.stderr}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def crash_reports(self) -> list[str]:
        """Sanitizer and crash lines on stderr (call after stop: the readers then saw all)."""
        for reader in self.readers:
            reader.join(timeout=WAIT_S)
        marks = ("Sanitizer", "runtime error:", "Assertion", "Segmentation fault")
        return [line for line in self.stderr if any(m in line for m in marks)]


class Raw:
    """A raw-socket XMPP client: send text, read until a marker or the close."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
        self.data = b""

    def send(self, text: str | bytes) -> None:
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def read_until(self, marker: bytes) -> bytes:
        until = time.monotonic() + WAIT_S
        while marker not in self.data and time.monotonic() < until:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.data += chunk
        return self.data

    def read_to_close(self) -> bytes:
        """Everything until the server closes; AssertionError if it does not within WAIT_S."""
        until = time.monotonic() + WAIT_S
        while time.monotonic() < until:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return self.data
            if not chunk:
                return self.data
            self.data += chunk
        raise AssertionError(f"the server did not close; got {self.data!r}")

    def close(self) -> None:
        self.sock.close()


class ServerTests(realmlib.SharedRealmCase):
    realm_prefix = "xmpp-server-t."
    realm_options = {"principals": ("alice", f"xmpp/{HOST}/{DOMAIN}", f"xmpp/{DOMAIN}"),
                     "domains": ("localhost", DOMAIN)}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls.no_slixmpp = have_slixmpp()
            tmp = cls.tmp.name
            # One acceptor keytab with both service keys (GSS_C_NO_CREDENTIAL takes any).
            keytab = os.path.join(tmp, "server.keytab")
            script = "".join(f"rkt {cls.realm.principal(p).keytab}\n"
                             for p in (f"xmpp/{HOST}/{DOMAIN}", f"xmpp/{DOMAIN}"))
            subprocess.run(["ktutil"], input=script + f"wkt {keytab}\nq\n", text=True,
                           capture_output=True, timeout=30, check=True)
            cls.cert = os.path.join(tmp, "cert.pem")
            cls.key = os.path.join(tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", cls.key, "-out", cls.cert, "-days", "2",
                            "-subj", f"/CN={DOMAIN}", "-addext", f"subjectAltName=DNS:{DOMAIN}",
                            "-addext", "basicConstraints=critical,CA:TRUE"],
                           capture_output=True, timeout=60, check=True)
            cls.env = {**realmlib.kerberos_free_environ(), **cls.realm.env(client="alice"),
                       "KRB5_KTNAME": f"FILE:{keytab}"}
        except BaseException:
            super().tearDownClass()
            raise

    def setUp(self) -> None:
        self.servers: list[Server] = []
        self.clients: list[Raw] = []

    def tearDown(self) -> None:
        for c in self.clients:
            c.close()
        for s in self.servers:
            s.stop()
        reports = [line for s in self.servers for line in s.crash_reports()]
        self.assertEqual(reports, [], "the server reported a crash or sanitizer error")

    def server(self, *args: str, tls: str = "required") -> Server:
        extra = ["--tls", tls]
        if tls != "off":
            extra += ["--tls-cert", self.cert, "--tls-key", self.key]
        s = Server(self.env, extra + list(args), self.tmp.name)
        self.servers.append(s)
        return s

    def raw(self, server: Server) -> Raw:
        c = Raw(server.port)
        self.clients.append(c)
        return c

    def login(self, server: Server, *args: str, tls: str = "required") -> tuple[int, list[dict]]:
        if self.no_slixmpp:
            self.skipTest(self.no_slixmpp)
        proc = subprocess.run(
            [SYSTEM_PYTHON, HELPER, "--port", str(server.port), "--jid", f"alice@{DOMAIN}",
             "--ca", self.cert, "--tls", tls, *args],
            capture_output=True, text=True, env=self.env, timeout=60, check=False)
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        return proc.returncode, events

    # ---- real logins ----

    def test_xep0233_name_logs_in(self) -> None:
        s = self.server()
        rc, events = self.login(s, "--target", XEP_NAME, "--name-type", "krb5")
        self.assertEqual(rc, 0, events)
        self.assertIn({"event": "done"}, events)
        tls = s.event("tls")
        self.assertRegex(tls["version"], r"^TLSv1\.[23]$")
        login = s.event("login")
        self.assertEqual(login["target"], XEP_NAME)
        self.assertEqual(login["client"], f"alice@{REALM}")
        self.assertEqual((login["outcome"], login["layer"], login["max_size"], login["authzid"]),
                         ("success", 1, 0, None))
        self.assertTrue(s.event("bound")["jid"].startswith(f"alice@{DOMAIN}/"))

    def test_hostbased_name_logs_in(self) -> None:
        s = self.server()
        rc, events = self.login(s, "--target", f"xmpp@{DOMAIN}", "--name-type", "hostbased")
        self.assertEqual(rc, 0, events)
        login = s.event("login")
        self.assertEqual((login["target"], login["outcome"]), (HOSTBASED_NAME, "success"))

    def test_own_bare_jid_as_authzid(self) -> None:
        s = self.server()
        rc, events = self.login(s, "--target", XEP_NAME, "--authzid", f"alice@{DOMAIN}")
        self.assertEqual(rc, 0, events)
        self.assertEqual(s.event("login")["authzid"], f"alice@{DOMAIN}")

    def test_other_authzid_refused(self) -> None:
        s = self.server()
        rc, events = self.login(s, "--target", XEP_NAME, "--authzid", f"bob@{DOMAIN}")
        self.assertEqual(rc, 1, events)
        self.assertIn({"event": "sasl", "outcome": "failure", "condition": "invalid-authzid"},
                      events)
        login = s.event("login")
        self.assertEqual((login["outcome"], login["condition"]), ("failure", "invalid-authzid"))
        self.assertIn(f"bob@{DOMAIN}", login["reason"])

    def test_stock_slixmpp_sends_its_username_as_authzid(self) -> None:
        # slixmpp's own GSSAPI (python3-kerberos) names xmpp@D and puts the JID's local part
        # in the layer reply: not a JID, so the reference refuses it (RFC 6120 §6.3.8).
        s = self.server()
        rc, events = self.login(s, "--stock")
        self.assertEqual(rc, 1, events)
        login = s.event("login")
        self.assertEqual((login["target"], login["authzid"], login["condition"]),
                         (HOSTBASED_NAME, "alice", "invalid-authzid"))

    def test_tls_optional_with_and_without_tls(self) -> None:
        s = self.server(tls="optional")
        rc, events = self.login(s, "--target", XEP_NAME, tls="off")
        self.assertEqual(rc, 0, events)
        login = s.event("login")
        self.assertEqual(login["outcome"], "success")
        self.assertFalse([e for e in s.events if e.get("event") == "tls"],
                         "no TLS on the first connection")
        rc, events = self.login(s, "--target", XEP_NAME, tls="optional")
        self.assertEqual(rc, 0, events)
        self.assertEqual(s.event("tls")["connection"], 2)
        self.assertEqual(s.event("login", connection=2)["outcome"], "success")

    def test_tls_off(self) -> None:
        s = self.server(tls="off")
        c = self.raw(s)
        c.send(HEADER)
        features = c.read_until(b"</stream:features>")
        self.assertNotIn(b"starttls", features)
        self.assertIn(f"<hostname xmlns='urn:xmpp:domain-based-name:1'>{HOST}</hostname>"
                      .encode(), features)
        c.close()
        rc, events = self.login(s, "--target", XEP_NAME, tls="off")
        self.assertEqual(rc, 0, events)
        self.assertEqual(s.event("login", connection=2)["target"], XEP_NAME)

    def test_tls_required_refuses_auth_in_the_clear(self) -> None:
        s = self.server()
        c = self.raw(s)
        c.send(HEADER)
        features = c.read_until(b"</stream:features>")
        self.assertIn(b"<required/></starttls>", features)
        self.assertNotIn(b"mechanisms", features, "no SASL before TLS")
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'>=</auth>")
        self.assertIn(b"<encryption-required/></failure></stream:stream>", c.read_to_close())
        self.assertEqual(s.event("login")["condition"], "encryption-required")

    # ---- hostile and malformed input: a stream error or SASL failure, then the close ----

    def assert_refused(self, data: bytes, expect: bytes, reason: str, tls: str = "off") -> None:
        s = self.server(tls=tls)
        c = self.raw(s)
        c.send(data)
        got = c.read_to_close()
        self.assertIn(expect, got)
        closed = s.event("closed")
        self.assertIn(reason, closed["reason"])
        self.assertIn(reason, s.stderr_line(reason))

    def test_doctype_refused(self) -> None:
        self.assert_refused(
            b"<?xml version='1.0'?><!DOCTYPE s [<!ENTITY a 'aaaaaaaaaa'>"
            b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]>" + HEADER.split("?>", 1)[1].encode(),
            b"<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
            "restricted-xml: line 1")

    def test_external_entity_refused(self) -> None:
        self.assert_refused(b"<!DOCTYPE s SYSTEM 'file:///etc/passwd'>",
                            b"<restricted-xml", "document type declaration")

    def test_processing_instruction_refused(self) -> None:
        self.assert_refused(HEADER.encode() + b"<?evil x?>", b"<restricted-xml",
                            "processing instruction")

    def test_comment_refused(self) -> None:
        self.assert_refused(HEADER.encode() + b"<!-- x -->", b"<restricted-xml", "comment")

    def test_bad_utf8_refused(self) -> None:
        self.assert_refused(HEADER.encode() + b"<iq>\xc0\xaf</iq>", b"<unsupported-encoding",
                            "is not UTF-8")

    def test_not_well_formed_refused(self) -> None:
        self.assert_refused(HEADER.encode() + b"<iq></message>", b"<not-well-formed",
                            "mismatched tag")

    def test_stanza_before_auth_refused(self) -> None:
        self.assert_refused(HEADER.encode() + b"<iq type='get' id='1'/>", b"<not-authorized",
                            "before authentication")

    def test_wrong_domain_refused(self) -> None:
        self.assert_refused(HEADER.replace(DOMAIN, "other.example").encode(), b"<host-unknown",
                            "this server serves")

    def sasl_refused(self, auth: str, condition: str, reason: str) -> dict:
        s = self.server(tls="off")
        c = self.raw(s)
        c.send(HEADER)
        c.read_until(b"</stream:features>")
        c.send(auth)
        got = c.read_to_close()
        self.assertIn(f"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{condition}/>"
                      f"</failure></stream:stream>".encode(), got)
        login = s.event("login")
        self.assertEqual((login["outcome"], login["condition"]), ("failure", condition))
        self.assertIn(reason, login["reason"])
        self.assertIn(reason, s.event("closed")["reason"])
        return login

    def test_bad_base64_refused(self) -> None:
        self.sasl_refused("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'>"
                          "YII!</auth>", "incorrect-encoding",
                          "a character outside the base64 alphabet")

    def test_unknown_mechanism_refused(self) -> None:
        self.sasl_refused("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                          "AGFsaWNlAHB3</auth>", "invalid-mechanism", "'PLAIN' not offered")

    def test_abort(self) -> None:
        s = self.server(tls="off")
        c = self.raw(s)
        c.send(HEADER)
        c.read_until(b"</stream:features>")
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'/>")
        self.assertIn(b"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
                      c.read_until(b"<challenge"), "no initial response: an empty challenge")
        c.send("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        self.assertIn(b"<aborted/></failure>", c.read_to_close())
        self.assertEqual(s.event("login")["condition"], "aborted")

    def test_new_auth_starts_over(self) -> None:
        s = self.server(tls="off")
        c = self.raw(s)
        c.send(HEADER)
        c.read_until(b"</stream:features>")
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'/>")
        c.read_until(b"<challenge")
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'>YII=</auth>")
        first = s.event("login")
        self.assertEqual((first["exchange"], first["outcome"]), (1, "restarted"))
        second = s.event("login")
        self.assertEqual((second["exchange"], second["outcome"]), (2, "failure"))
        c.read_to_close()

    def test_silent_client_does_not_block_others(self) -> None:
        s = self.server("--timeout-ms", "6000")
        silent = self.raw(s)
        silent.send(HEADER)
        silent.read_until(b"</stream:features>")
        rc, events = self.login(s, "--target", XEP_NAME)
        self.assertEqual(rc, 0, events)
        self.assertEqual(s.event("login")["outcome"], "success")
        closed = s.event("closed", connection=1)
        self.assertIn("timed out waiting for the client", closed["reason"])
        silent.read_to_close()

    def test_silent_during_exchange_gets_a_login_event(self) -> None:
        s = self.server("--timeout-ms", "1000", tls="off")
        c = self.raw(s)
        c.send(HEADER)
        c.read_until(b"</stream:features>")
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'/>")
        c.read_to_close()
        login = s.event("login")
        self.assertEqual((login["outcome"], login["reason"]),
                         ("failure", "timed out waiting for the client"))
        self.assertEqual(s.event("closed")["reason"], "timed out waiting for the client")

    def test_sigterm_exits_zero(self) -> None:
        s = self.server()
        c = self.raw(s)
        c.send(HEADER)
        c.read_until(b"</stream:features>")
        self.assertEqual(s.stop(), 0)
        c.read_to_close()

    # ---- faults ----

    def features_with(self, *faults: str, tls: str = "off") -> tuple[Server, bytes]:
        args = [a for f in faults for a in ("--fault", f)]
        s = self.server(*args, tls=tls)
        c = self.raw(s)
        c.send(HEADER)
        return s, c.read_until(b"</stream:features>")

    def test_fault_hostname_variants(self) -> None:
        cases = {
            "hostname-absent": (b"<mechanism>GSSAPI</mechanism></mechanisms>", b"hostname"),
            "hostname-legacy-ns": (b"<hostname xmlns='urn:xmpp:domain-based-name:0'>", None),
            "hostname-legacy-ns:tmp": (b"<hostname xmlns='urn:xmpp:tmp:domain-based-name'>",
                                       None),
            "hostname-misplaced": (f"</mechanisms><hostname xmlns='urn:xmpp:domain-based-name:1'>"
                                   f"{HOST}</hostname></stream:features>".encode(), None),
            "hostname-repeated:other.example.com":
                (f"{HOST}</hostname><hostname xmlns='urn:xmpp:domain-based-name:1'>"
                 f"other.example.com</hostname></mechanisms>".encode(), None),
            "hostname-empty": (b"<hostname xmlns='urn:xmpp:domain-based-name:1'/></mechanisms>",
                               None),
        }
        for fault, (present, absent) in cases.items():
            with self.subTest(fault=fault):
                s, features = self.features_with(fault)
                self.assertIn(present, features)
                if absent is not None:
                    self.assertNotIn(absent, features)
                event = s.event("fault")
                self.assertEqual((event["name"], event["applied"]),
                                 (fault.split(":")[0], True))

    def test_fault_hostname_before_tls(self) -> None:
        s, features = self.features_with("hostname-before-tls:evil.example.com",
                                         tls="required")
        self.assertIn(b"<required/></starttls><mechanisms", features)
        self.assertIn(b">evil.example.com</hostname>", features)
        self.assertEqual(s.event("fault")["name"], "hostname-before-tls")

    def test_fault_extra_empty_challenge_and_transcript(self) -> None:
        transcript = os.path.join(self.tmp.name, "extra.jsonl")
        s = self.server("--fault", "extra-empty-challenge", "--transcript", transcript)
        rc, events = self.login(s, "--target", XEP_NAME)
        self.assertEqual(rc, 0, events)
        self.assertEqual(s.event("fault")["name"], "extra-empty-challenge")
        self.assertEqual(s.event("login")["outcome"], "success")
        s.event("closed")
        with open(transcript, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        kinds = [(x["dir"], x["kind"]) for x in lines if x["dir"] != "local"]
        auth = kinds.index(("in", "auth"))
        self.assertEqual(kinds[auth:auth + 7],
                         [("in", "auth"), ("out", "challenge"), ("in", "response"),
                          ("out", "challenge"), ("in", "response"), ("out", "challenge"),
                          ("in", "response")])
        sasl = [x for x in lines if x["kind"] in ("auth", "challenge", "response")]
        self.assertTrue(sasl[0]["payload"].startswith("60"), "the AP-REQ, an RFC 2743 token")
        self.assertEqual(sasl[3]["payload_len"], 0, "the extra empty challenge")
        self.assertEqual(sasl[5]["layer"], {"layers": 1, "max_size": 0, "octets": 4})
        self.assertEqual(sasl[5]["plain"], "01000000")
        self.assertEqual(sasl[6]["layer"], {"layer": 1, "max_size": 0, "authzid": None})
        self.assertEqual(sasl[6]["plain"], "01000000")
        self.assertTrue(sasl[6]["payload"].startswith("0504"), "an RFC 4121 wrap token")

    def test_fault_challenge_bad_base64(self) -> None:
        s = self.server("--fault", "challenge-bad-base64", tls="off")
        rc, events = self.login(s, "--target", XEP_NAME, tls="off")
        self.assertEqual(rc, 1, events)
        self.assertEqual(s.event("fault")["name"], "challenge-bad-base64")
        s.event("closed")

    def test_fault_failure_mid_exchange(self) -> None:
        s = self.server("--fault", "failure-mid-exchange")
        rc, events = self.login(s, "--target", XEP_NAME)
        self.assertEqual(rc, 1, events)
        self.assertIn({"event": "sasl", "outcome": "failure", "condition": "not-authorized"},
                      events)
        self.assertEqual(s.event("fault")["name"], "failure-mid-exchange")

    def test_fault_engine_faults_applied(self) -> None:
        # The test's client does not judge the layer message, so each exchange goes on far
        # enough for the fault to go out; the transcript shows the layer message as sent.
        expect_layer = {
            "layer-maxsize-with-none": {"layers": 1, "max_size": 65536, "octets": 4},
            "layer-5-octets": {"layers": 1, "max_size": 0, "octets": 5},
            "layer-no-bit": {"layers": 0, "max_size": 0, "octets": 4},
        }
        expect_plain = {"layer-maxsize-with-none": "01010000", "layer-5-octets": "0100000000",
                        "layer-no-bit": "00000000"}
        for fault in ("no-ap-rep", "success-with-data", *expect_layer):
            with self.subTest(fault=fault):
                transcript = os.path.join(self.tmp.name, f"{fault}.jsonl")
                s = self.server("--fault", fault, "--transcript", transcript, tls="off")
                self.login(s, "--target", XEP_NAME, tls="off")
                event = s.event("fault")
                self.assertEqual((event["name"], event["applied"]), (fault, True))
                s.event("closed")
                with open(transcript, encoding="utf-8") as f:
                    lines = [json.loads(line) for line in f]
                layers = [(x["layer"], x["plain"]) for x in lines
                          if x["kind"] == "challenge" and "layer" in x]
                if fault in expect_layer:
                    self.assertEqual(layers, [(expect_layer[fault], expect_plain[fault])])
                if fault == "success-with-data":
                    self.assertIn("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                  "Z3NzY29uZm9ybQ==</success>",
                                  [x["xml"] for x in lines if x["kind"] == "success"])
                if fault == "no-ap-rep":
                    challenges = [x for x in lines if x["kind"] == "challenge"]
                    self.assertTrue(challenges[0]["payload"].startswith("0504"),
                                    "the first challenge is the wrap token, not an AP-REP")

    def test_unknown_fault_is_a_usage_error(self) -> None:
        proc = subprocess.run([taptest.program("gsspeer"), "xmpp-server", "--bind",
                               "127.0.0.1:0", "--domain", DOMAIN, "--hostname", HOST,
                               "--tls", "off", "--fault", "nosuch"],
                              capture_output=True, text=True, timeout=30, check=False)
        self.assertEqual(proc.returncode, 64)
        self.assertIn("unknown fault \"nosuch\"", proc.stderr)

    def test_list_faults(self) -> None:
        proc = subprocess.run([taptest.program("gsspeer"), "xmpp-server", "--list-faults",
                               "--json"], capture_output=True, text=True, timeout=30,
                              check=True)
        names = [json.loads(line)["name"] for line in proc.stdout.splitlines()]
        self.assertEqual(len(names), 14)
        self.assertIn("layer-5-octets", names)


if __name__ == "__main__":
    if shutil.which("ktutil") is None or shutil.which("openssl") is None:
        print("1..0 # skip ktutil or openssl is missing")
        sys.exit(0)
    taptest.main()
