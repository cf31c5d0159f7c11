#!/usr/bin/env python3
"""`gsspeer xmpp-client` end to end: a real Prosody 0.12 with Cyrus SASL GSSAPI in a throwaway
realm (logins, the principal it asked for in the KDC log, faults the server must refuse), and a
scripted loopback server for the client's own robustness (each misbehaviour ends in one line,
an error event and exit 1, within --timeout-ms).

Prosody runs in the foreground as a child of this test with a generated configuration in a
temporary folder: loopback c2s port, `authentication = "cyrus"`, SASL_CONF_PATH pointing at a
Cyrus `prosody.conf` with `mech_list: GSSAPI`, and KRB5_KTNAME holding xmpp/localhost. As
root it needs `run_as_root = true` (otherwise it tries to switch to the prosody user); it is
stopped by its pid. Prosody advertises no XEP-0233 <hostname/>, so the client falls back to
the RFC 4752 host-based name xmpp@localhost.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import realmlib  # noqa: E402
import taptest  # noqa: E402

DOMAIN = "localhost"
HOST = "auth42.localhost"
JID = f"alice@{DOMAIN}"
READY_TIMEOUT = 20.0  # seconds for Prosody to log its c2s listener
CLIENT_TIMEOUT = 30.0  # subprocess bound; the client's own --timeout-ms is far lower

PROSODY_CFG = """\
run_as_root = true
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
plugin_paths = {{ "/usr/lib/prosody/modules" }}
modules_enabled = {{ "saslauth"; "tls"; "disco" }}
modules_disabled = {{ "s2s"; "offline"; "c2s_legacy"; "posix" }}
c2s_ports = {{ {port} }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_direct_tls_ports = {{}}
legacy_ssl_ports = {{}}
s2s_ports = {{}}
component_ports = {{}}
http_ports = {{}}
https_ports = {{}}
log = {{ debug = "{dir}/prosody.log" }}
authentication = "cyrus"
cyrus_service_name = "xmpp"
cyrus_server_fqdn = "{domain}"
c2s_require_encryption = true
certificates = "{dir}/certs"
ssl = {{ certificate = "{dir}/cert.pem"; key = "{dir}/key.pem" }}
VirtualHost "{domain}"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prosody:
    """One Prosody process of the test; start() waits for its c2s listener, stop() ends it."""

    def __init__(self, directory: str, env: dict[str, str]) -> None:
        self.dir = directory
        self.env = env
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "sasl"), exist_ok=True)
        Path(self.dir, "sasl", "prosody.conf").write_text("mech_list: GSSAPI\n")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={DOMAIN}", "-keyout", os.path.join(self.dir, "key.pem"),
             "-out", os.path.join(self.dir, "cert.pem"),
             "-addext", f"subjectAltName=DNS:{DOMAIN}"],
            capture_output=True, timeout=60, check=True)
        self.port = free_port()
        Path(self.dir, "prosody.cfg.lua").write_text(
            PROSODY_CFG.format(dir=self.dir, port=self.port, domain=DOMAIN))
        env = dict(self.env, SASL_CONF_PATH=os.path.join(self.dir, "sasl"))
        log = open(os.path.join(self.dir, "stdout.log"), "wb")
        try:
            self.proc = subprocess.Popen(
                ["prosody", "-F", "--config", os.path.join(self.dir, "prosody.cfg.lua")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=self.dir)
        finally:
            log.close()
        ready = f"Activated service 'c2s' on [127.0.0.1]:{self.port}"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prosody exited with {self.proc.returncode}: "
                                     f"{self.output()[-2000:]}")
            if ready in self.log():
                return
            time.sleep(0.05)
        raise AssertionError(f"prosody did not listen within {READY_TIMEOUT} s: "
                             f"{self.log()[-2000:]}")

    def log(self) -> str:
        try:
            return Path(self.dir, "prosody.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output(self) -> str:
        return Path(self.dir, "stdout.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


class Run:
    """One finished client run: exit status, events, stderr, transcript records."""

    def __init__(self, proc: subprocess.CompletedProcess[str], transcript: str | None) -> None:
        self.status = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.events = [json.loads(line) for line in proc.stdout.splitlines()]
        self.transcript = []
        if transcript is not None and os.path.exists(transcript):
            with open(transcript, encoding="utf-8") as f:
                self.transcript = [json.loads(line) for line in f]

    def named(self, name: str) -> list[dict]:
        return [e for e in self.events if e["event"] == name]

    def one(self, name: str) -> dict:
        found = self.named(name)
        if len(found) != 1:
            raise AssertionError(f"expected one {name} event, got {found}: {self.stdout}"
                                 f"{self.stderr}")
        return found[0]


def gsspeer() -> str:
    return os.path.join(taptest.build_dir(), "gsspeer")


def run_client(env: dict[str, str], port: int, *args: str, transcript: str | None = None,
               timeout_ms: int = 8000) -> Run:
    argv = [gsspeer(), "xmpp-client", "--connect", f"127.0.0.1:{port}", "--domain", DOMAIN,
            "--jid", JID, "--timeout-ms", str(timeout_ms), *args]
    if transcript is not None:
        argv += ["--transcript", transcript]
    proc = subprocess.run(argv, capture_output=True, encoding="utf-8", env=env,
                          timeout=CLIENT_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    return Run(proc, transcript)


class WithProsody(realmlib.SharedRealmCase):
    realm_prefix = "client-t."
    realm_options = {"principals": ("alice", f"xmpp/{HOST}/{DOMAIN}", f"xmpp/{DOMAIN}")}
    prosody: Prosody

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            base = realmlib.kerberos_free_environ()
            cls.client_env = {**base, **cls.realm.env(client="alice"),
                              "KRB5_TRACE": os.path.join(cls.tmp.name, "client.trace")}
            cls.prosody = Prosody(os.path.join(cls.tmp.name, "prosody"),
                                  {**base, **cls.realm.env(acceptor=f"xmpp/{DOMAIN}")})
            cls.prosody.start()
        except BaseException:
            if hasattr(cls, "prosody"):
                cls.prosody.stop()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            cls.prosody.stop()
        finally:
            super().tearDownClass()

    runs = 0

    def client(self, *args: str, transcript: str | None = None, ca: bool = True) -> Run:
        # A fresh ccache per run: every login asks the KDC for its service ticket.
        type(self).runs += 1
        env = dict(self.client_env,
                   KRB5CCNAME=f"FILE:{os.path.join(self.tmp.name, f'ccache-{self.runs}')}")
        if not ca:
            return run_client(env, self.prosody.port, *args, transcript=transcript)
        return run_client(env, self.prosody.port, "--tls-ca",
                          os.path.join(self.prosody.dir, "cert.pem"), *args,
                          transcript=transcript)

    def tgs_for(self, server: str) -> list:
        return [r for r in self.realm.kdc_log()
                if r.kind == "TGS_REQ" and r.server == server and r.client.startswith("alice@")]

    def test_login_hostbased(self) -> None:
        before = len(self.tgs_for(f"xmpp/{DOMAIN}@{self.realm.realm}"))
        path = os.path.join(self.tmp.name, "login.jsonl")
        run = self.client(transcript=path)
        self.assertEqual(run.status, 0, run.stderr)
        self.assertEqual([e["event"] for e in run.events],
                         ["tls", "features", "principal", "layer-offer", "sasl", "bound",
                          "done"])
        # Cyrus offers only "no security layer", max size 0, wrapped without confidentiality.
        self.assertEqual(run.one("layer-offer"),
                         {"event": "layer-offer", "octets": 4, "plain": "01000000", "layers": 1,
                          "max_size": 0, "conf": False, "status": "SASL_LAYER_OK"})
        features = run.one("features")
        self.assertEqual((features["mechanisms"], features["hostname"], features["tls"]),
                         (["GSSAPI"], None, True))
        self.assertEqual(features["hostname_status"], "HOSTNAME_ABSENT")
        self.assertEqual(run.one("principal"), {"event": "principal",
                                                "target": f"xmpp@{DOMAIN}", "form": "hostbased"})
        self.assertEqual(run.one("sasl")["outcome"], "success")
        self.assertEqual(run.one("sasl")["layer"], 1)
        self.assertTrue(run.one("bound")["jid"].startswith(f"{JID}/"), run.stdout)
        # The ticket the KDC issued names the host-based principal.
        issued = self.tgs_for(f"xmpp/{DOMAIN}@{self.realm.realm}")
        self.assertEqual(len(issued), before + 1, self.realm.kdc_log())
        self.assertEqual(issued[-1].outcome, "ISSUE")

        kinds = [(r["dir"], r["kind"]) for r in run.transcript]
        self.assertEqual(kinds[:5], [("out", "stream-open"), ("in", "stream-open"),
                                     ("in", "features"), ("out", "starttls"), ("in", "proceed")])
        self.assertIn(("out", "auth"), kinds)
        self.assertEqual(kinds[-2:], [("in", "iq"), ("out", "stream-close")])
        auth = next(r for r in run.transcript if r["kind"] == "auth")
        self.assertTrue(auth["sasl"]["token"].startswith("60"), auth)  # GSS initial token
        self.assertGreater(auth["sasl"]["len"], 100)
        layer_in = [r for r in run.transcript if r["dir"] == "in" and "layer" in r.get("sasl", {})]
        layer_out = [r for r in run.transcript
                     if r["dir"] == "out" and "layer" in r.get("sasl", {})]
        self.assertEqual(len(layer_in), 1, run.transcript)
        self.assertEqual(len(layer_out), 1, run.transcript)
        self.assertEqual(layer_in[0]["sasl"]["layer"]["status"], "SASL_LAYER_OK")
        self.assertEqual(layer_in[0]["sasl"]["layer"]["plain"][:2], "01")  # Cyrus offers none
        self.assertEqual(layer_out[0]["sasl"]["layer"]["plain"], "01000000")  # none, size 0
        # The bytes as they came: the wrap token's header, not what gss_unwrap left in place.
        self.assertTrue(layer_in[0]["sasl"]["token"].startswith("0504"), layer_in[0])

    def test_principal_form_domain_needs_hostname(self) -> None:
        run = self.client("--principal-form", "domain")
        self.assertEqual(run.status, 1)
        self.assertIn("<hostname/>", run.one("error")["reason"])
        self.assertEqual(run.named("principal"), [])
        self.assertEqual(run.stderr.count("\n"), 1, run.stderr)

    def test_principal_form_hostbased(self) -> None:
        run = self.client("--principal-form", "hostbased")
        self.assertEqual(run.status, 0, run.stderr)
        self.assertEqual(run.one("principal")["form"], "hostbased")

    def test_untrusted_certificate(self) -> None:
        run = self.client(ca=False)
        self.assertEqual(run.status, 1)
        reason = run.one("error")["reason"]
        self.assertIn("TLS handshake failed", reason)
        self.assertIn("certificate", reason)
        self.assertEqual(run.named("sasl"), [])

    def fault(self, name: str) -> Run:
        run = self.client("--fault", name)
        self.assertEqual(run.status, 0, run.stdout + run.stderr)
        self.assertEqual(run.one("fault")["name"], name)
        self.assertIs(run.one("fault")["applied"], True)
        return run

    def test_fault_unknown_mechanism(self) -> None:
        run = self.fault("unknown-mechanism")
        self.assertEqual(run.one("sasl")["condition"], "invalid-mechanism", run.stdout)

    def test_fault_bad_base64(self) -> None:
        run = self.fault("auth-bad-base64")
        self.assertEqual(run.one("sasl")["condition"], "incorrect-encoding", run.stdout)

    def test_fault_abort(self) -> None:
        run = self.fault("abort")
        self.assertEqual(run.one("sasl")["condition"], "aborted", run.stdout)

    def test_fault_sasl_before_tls(self) -> None:
        run = self.fault("sasl-before-tls")
        self.assertEqual(run.named("tls"), [])
        # Prosody offers no mechanisms before TLS: the auth is refused, never a success.
        refused = run.named("sasl") + run.named("stream-error") + run.named("peer-closed")
        self.assertTrue(refused, run.stdout)
        self.assertNotIn("success", [e.get("outcome") for e in run.named("sasl")])

    def test_faults_on_the_wire(self) -> None:
        # What each fault puts on the wire, from the client's own transcript; the server's
        # reaction only has to be there (judging it is the catalogue's business).
        def out(run: Run, kind: str) -> list[dict]:
            return [r for r in run.transcript if r["dir"] == "out" and r["kind"] == kind]

        def reply(run: Run) -> dict:
            found = [r["sasl"]["layer"] for r in out(run, "response") if "layer" in r["sasl"]]
            self.assertEqual(len(found), 1, run.transcript)
            return found[0]

        checks = {
            "layer-no-bit": lambda run: self.assertEqual(reply(run)["plain"], "00000000"),
            "layer-several-bits": lambda run: self.assertEqual(reply(run)["layers"], 7),
            "maxsize-with-none": lambda run: self.assertEqual(
                (reply(run)["layers"], reply(run)["max_size"] > 0), (1, True)),
            "foreign-authzid": lambda run: self.assertEqual(reply(run)["authzid"],
                                                            f"mallory@{DOMAIN}"),
            "empty-response-equals": lambda run: self.assertTrue(
                out(run, "response")[0]["xml"].endswith(">=</response>")),
            "empty-response-element": lambda run: self.assertTrue(
                out(run, "response")[0]["xml"].endswith("/>")),
            "initial-response-empty-equals": lambda run: self.assertTrue(
                out(run, "auth")[0]["xml"].endswith(">=</auth>")),
            "no-initial-response": lambda run: self.assertTrue(
                out(run, "auth")[0]["xml"].endswith("/>")),
            "second-auth": lambda run: self.assertEqual(len(out(run, "auth")), 2),
            "no-integrity": lambda run: self.assertTrue(out(run, "auth")),
        }
        for name, check in checks.items():
            with self.subTest(fault=name):
                run = self.client("--fault", name,
                                  transcript=os.path.join(self.tmp.name, f"{name}.jsonl"))
                self.assertEqual(run.status, 0, run.stdout + run.stderr)
                self.assertEqual(run.one("fault")["name"], name)
                reaction = (run.named("sasl") + run.named("stream-error") +
                            run.named("peer-closed") + run.named("peer-open") +
                            run.named("client-refused") + run.named("unexpected-challenge"))
                self.assertTrue(reaction, run.stdout)
                check(run)


class WithReferenceServer(realmlib.SharedRealmCase):
    """The XEP-0233 path end to end: gsspeer's own server advertises <hostname/>, the client
    asks the KDC for xmpp/H/D@REALM."""

    realm_prefix = "client-t-ref."
    realm_options = {"principals": ("alice", f"xmpp/{HOST}/{DOMAIN}")}

    def test_domain_based_login(self) -> None:
        tmp = self.tmp.name
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={DOMAIN}", "-keyout", os.path.join(tmp, "key.pem"),
             "-out", os.path.join(tmp, "cert.pem"), "-addext", f"subjectAltName=DNS:{DOMAIN}"],
            capture_output=True, timeout=60, check=True)
        base = realmlib.kerberos_free_environ()
        server = subprocess.Popen(
            [gsspeer(), "xmpp-server", "--bind", "127.0.0.1:0", "--domain", DOMAIN,
             "--hostname", HOST, "--tls-cert", os.path.join(tmp, "cert.pem"),
             "--tls-key", os.path.join(tmp, "key.pem")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**base, **self.realm.env(acceptor=f"xmpp/{HOST}/{DOMAIN}")})
        try:
            first: list[str] = []
            reader = threading.Thread(target=lambda: first.append(server.stdout.readline()),
                                      daemon=True)
            reader.start()
            reader.join(READY_TIMEOUT)
            self.assertTrue(first and first[0], "xmpp-server printed no listening event")
            listening = json.loads(first[0])
            self.assertEqual(listening["event"], "listening")
            port = int(listening["endpoint"].rsplit(":", 1)[1])
            env = {**base, **self.realm.env(client="alice")}
            run = run_client(env, port, "--tls-ca", os.path.join(tmp, "cert.pem"))
        finally:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
            server.stdout.close()
        self.assertEqual(run.status, 0, run.stdout + run.stderr)
        self.assertEqual(run.one("features")["hostname"], HOST)
        target = f"xmpp/{HOST}/{DOMAIN}@{self.realm.realm}"
        self.assertEqual(run.one("principal"),
                         {"event": "principal", "target": target, "form": "xep0233"})
        tgs = [r for r in self.realm.kdc_log() if r.kind == "TGS_REQ" and r.server == target]
        self.assertEqual([r.outcome for r in tgs], ["ISSUE"], self.realm.kdc_log())
        self.assertEqual(run.named("done"), [{"event": "done"}])


class Scripted(unittest.TestCase):
    """A loopback server that plays a script (bytes to send once something arrived, or a
    stall): the client's own robustness, without Kerberos beyond a realm-free environment."""

    def serve(self, script: list[bytes | None], *args: str, timeout_ms: int = 1500) -> Run:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)
        port = listener.getsockname()[1]
        done = threading.Event()

        def play() -> None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                for step in script:
                    if step is None:  # stall until the client gives up
                        done.wait(10)
                        return
                    try:
                        conn.recv(4096)
                        if step == b"":  # close once the client has spoken
                            return
                        conn.sendall(step)
                    except OSError:
                        return
                done.wait(10)

        thread = threading.Thread(target=play, daemon=True)
        thread.start()
        env = dict(realmlib.kerberos_free_environ(), KRB5_CONFIG="/dev/null")
        started = time.monotonic()
        try:
            run = run_client(env, port, *args, timeout_ms=timeout_ms)
        finally:
            done.set()
            listener.close()
            thread.join(10)
        run.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
        return run

    def assertFailed(self, run: Run, *needles: str) -> None:  # noqa: N802
        self.assertEqual(run.status, 1, run.stdout + run.stderr)
        reason = run.one("error")["reason"]
        for needle in needles:
            self.assertIn(needle, reason)
        self.assertEqual(run.stderr.count("\n"), 1, run.stderr)

    HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              b"xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='x' "
              b"version='1.0'>")

    def test_stall_times_out(self) -> None:
        run = self.serve([None])
        self.assertFailed(run, "timeout", "stream header")

    def test_close_at_once(self) -> None:
        run = self.serve([b""])
        self.assertFailed(run, "closed the connection", "stream header")

    def test_no_starttls_while_required(self) -> None:
        run = self.serve([self.HEADER + b"<stream:features><mechanisms xmlns='urn:ietf:params:"
                          b"xml:ns:xmpp-sasl'><mechanism>GSSAPI</mechanism></mechanisms>"
                          b"</stream:features>"])
        self.assertFailed(run, "STARTTLS")

    def test_tls_handshake_stall(self) -> None:
        # <proceed/>, then silence: libstrophe's handshake blocks; the watchdog ends it.
        run = self.serve([self.HEADER + b"<stream:features><starttls xmlns='urn:ietf:params:xml:"
                          b"ns:xmpp-tls'/></stream:features>",
                          b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", None])
        self.assertFailed(run, "timeout", "TLS")

    def test_starttls_refused(self) -> None:
        run = self.serve([self.HEADER + b"<stream:features><starttls xmlns='urn:ietf:params:xml:"
                          b"ns:xmpp-tls'/></stream:features>",
                          b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"])
        self.assertFailed(run, "STARTTLS refused")

    def test_no_gssapi_offered(self) -> None:
        run = self.serve([self.HEADER + b"<stream:features><mechanisms xmlns='urn:ietf:params:"
                          b"xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
                          b"</stream:features>"], "--tls", "off")
        self.assertFailed(run, "GSSAPI")
        self.assertEqual(run.one("features")["mechanisms"], ["PLAIN"])

    def test_fault_not_applicable(self) -> None:
        # sasl-before-tls needs STARTTLS on offer; without it the fault cannot be applied.
        run = self.serve([self.HEADER + b"<stream:features><mechanisms xmlns='urn:ietf:params:"
                          b"xml:ns:xmpp-sasl'><mechanism>GSSAPI</mechanism></mechanisms>"
                          b"</stream:features>"], "--fault", "sasl-before-tls")
        self.assertFailed(run, "sasl-before-tls", "cannot be applied")
        self.assertEqual(run.named("fault"), [])

    def test_stream_error(self) -> None:
        run = self.serve([self.HEADER + b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:"
                          b"ns:xmpp-streams'/></stream:error></stream:stream>"])
        self.assertFailed(run, "stream error host-unknown")
        self.assertEqual(run.one("stream-error")["condition"], "host-unknown")

    def test_not_xml(self) -> None:
        run = self.serve([b"HTTP/1.1 400 Bad Request\r\n\r\n"])
        self.assertEqual(run.status, 1, run.stdout)
        self.assertEqual(len(run.named("error")), 1)

    def test_hostname_judged(self) -> None:
        # The XEP-0233 name is built from the usable <hostname/>; no KDC here, so GSS fails
        # afterwards, with one line.
        run = self.serve([self.HEADER + b"<stream:features><mechanisms xmlns='urn:ietf:params:"
                          b"xml:ns:xmpp-sasl'><mechanism>GSSAPI</mechanism><hostname xmlns='urn:"
                          b"xmpp:domain-based-name:1'>Auth42.localhost.</hostname></mechanisms>"
                          b"</stream:features>"], "--tls", "off")
        features = run.one("features")
        self.assertEqual(features["hostname"], "Auth42.localhost")
        self.assertEqual(features["hostname_verdict"], "acceptable")
        self.assertEqual(run.one("principal"),
                         {"event": "principal", "target": "xmpp/Auth42.localhost/localhost@LOCALHOST",
                          "form": "xep0233"})
        self.assertIn("acceptable (lenient reading)", run.stderr)
        self.assertEqual(run.status, 1)

    def test_hostname_invalid_falls_back(self) -> None:
        run = self.serve([self.HEADER + b"<stream:features><mechanisms xmlns='urn:ietf:params:"
                          b"xml:ns:xmpp-sasl'><mechanism>GSSAPI</mechanism><hostname xmlns='urn:"
                          b"xmpp:domain-based-name:1'>evil/admin.localhost</hostname></mechanisms>"
                          b"</stream:features>"], "--tls", "off")
        self.assertEqual(run.one("features")["hostname"], None)
        self.assertEqual(run.one("features")["hostname_status"], "HOSTNAME_KRB5_META")
        self.assertEqual(run.one("principal")["target"], f"xmpp@{DOMAIN}")


class Cli(unittest.TestCase):
    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([gsspeer(), "xmpp-client", *args], capture_output=True,
                              encoding="utf-8", timeout=20, check=False)

    def test_list_faults(self) -> None:
        r = self.run_cli("--list-faults", "--json")
        self.assertEqual(r.returncode, 0)
        names = {json.loads(line)["name"] for line in r.stdout.splitlines()}
        self.assertLessEqual({"auth-bad-base64", "unknown-mechanism", "abort", "second-auth",
                              "layer-no-bit", "layer-several-bits", "maxsize-with-none",
                              "foreign-authzid", "empty-response-equals",
                              "empty-response-element", "sasl-before-tls", "no-integrity",
                              "initial-response-empty-equals"}, names)

    def test_usage(self) -> None:
        self.assertEqual(self.run_cli("--fault", "nosuch", "--connect", "127.0.0.1:1",
                                      "--domain", DOMAIN, "--jid", JID).returncode, 64)
        self.assertEqual(self.run_cli("--connect", "127.0.0.1:1").returncode, 64)
        self.assertEqual(self.run_cli("--tls", "maybe").returncode, 64)
        r = self.run_cli("--connect", "127.0.0.1", "--domain", DOMAIN, "--jid", JID)
        self.assertEqual(r.returncode, 2)
        self.assertIn("HOST:PORT", r.stderr)
        r = self.run_cli("--connect", "127.0.0.1:1", "--domain", "a\"b", "--jid", JID)
        self.assertEqual(r.returncode, 2)
        r = self.run_cli("--connect", "127.0.0.1:1", "--domain", DOMAIN, "--jid", "bob@other")
        self.assertEqual(r.returncode, 2)
        r = self.run_cli("--connect", "127.0.0.1:1", "--domain", DOMAIN, "--jid", JID,
                         "--tls-ca", "/nonexistent/ca.pem")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tls-ca /nonexistent/ca.pem", r.stderr)

    def test_connection_refused(self) -> None:
        with socket.socket() as s:  # a port nobody listens on: bound, never listening
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            r = self.run_cli("--connect", f"127.0.0.1:{port}", "--domain", DOMAIN, "--jid", JID)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect", json.loads(r.stdout)["reason"])


if __name__ == "__main__":
    taptest.main()
