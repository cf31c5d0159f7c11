#!/usr/bin/env python3
"""End-to-end checks of gsspeer's ZMTP GSSAPI roles that are single runs rather than a matrix:
message sizes, 4 MiB and 10,000-message round trips, the handshake layout in a transcript of a
gsspeer<->libzmq session, the three name types (with a multi-component principal),
authorization, prompt one-line failures, the staged greeting, ZMTP 2.0 refusal and IPv6.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from typing import Any

import taptest
import zmtplib
from zmtplib import MULTI, REALM

SERVICE = ["--service-principal", "zmq@localhost"]
PROMPT = 2.0  # seconds: the bound for failures and denials


def greeting(mechanism: bytes = b"GSSAPI", major: int = 3, minor: int = 1,
             as_server: int = 0) -> bytes:
    """A ZMTP 3.x greeting."""
    return (b"\xff" + bytes(8) + b"\x7f" + bytes([major, minor]) + mechanism.ljust(20, b"\0")
            + bytes([as_server]) + bytes(31))


def recv_exactly(sock: socket.socket, n: int, timeout: float) -> bytes:
    """Read N bytes (fewer if the peer closes) within TIMEOUT seconds."""
    sock.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


class EndToEnd(zmtplib.RealmCase):
    """Single runs against a real realm, real libzmq and gsspeer."""

    def echo(self, server: str, client: str, args: list[str], count: int,
             server_args: list[str] | None = None, client_args: list[str] | None = None,
             env: dict[str, str] | None = None) -> zmtplib.ClientResult:
        """One DEALER/ROUTER echo run; asserts every message came back verified."""
        env = env or self.fx.env()
        with zmtplib.Endpoint(server, env, args + (server_args or [])) as srv:
            result = zmtplib.run_client(client, env, srv.endpoint,
                                        SERVICE + args + (client_args or []), timeout_ms=30000)
        self.assertEqual(result.returncode, 0, f"{args}: client stderr {result.stderr}")
        self.assertEqual(result.named("done")[-1]["verified"], count, result.named("done"))
        self.assertEqual(srv.returncode, 0, srv.stderr)
        return result

    # ---- sizes and volume ----

    def pairs(self) -> list[tuple[str, str]]:
        """(server, client) pairs with gsspeer on at least one side."""
        g, lz, py = zmtplib.gsspeer(), zmtplib.libzmq_shim(), zmtplib.pyzmq_shim()
        return [(g, g), (lz, g), (g, lz), (py, g), (g, py)]

    def test_sizes(self) -> None:
        for mode in ([], ["--plaintext"]):
            for size in (0, 1, 255, 256, 65536):
                for server, client in self.pairs():
                    with self.subTest(mode=mode, size=size, server=server, client=client):
                        result = self.echo(server, client,
                                           mode + ["--size", str(size), "--count", "2"], 2)
                        if client == zmtplib.gsspeer():
                            self.assertEqual(result.named("delivered")[0]["parts"][0]["len"],
                                             size)

    def test_4mib(self) -> None:
        for mode in ([], ["--plaintext"]):
            for server, client in self.pairs():
                with self.subTest(mode=mode, server=server, client=client):
                    self.echo(server, client, mode + ["--size", str(4 << 20)], 1)

    def test_10000_messages(self) -> None:
        g, lz = zmtplib.gsspeer(), zmtplib.libzmq_shim()
        for server, client in ((lz, g), (g, g), (g, lz)):
            with self.subTest(server=server, client=client):
                result = self.echo(server, client, ["--count", "10000", "--size", "32"], 10000)
                if client != g:
                    continue
                delivered = result.named("delivered")
                self.assertEqual(len(delivered), 10000)
                # The contract's payload of the last message, checked through its digest.
                want = hashlib.sha256(zmtplib.payload(9999, 32)).hexdigest()
                self.assertEqual(delivered[-1]["parts"][0]["sha256"], want)

    def test_pull_stopped_when_its_push_exits_delivers_everything(self) -> None:
        """What the runner does in a PUSH/PULL case: the PUSH client exits once its messages are
        written and the PULL server is stopped (SIGTERM) at once; a stop takes what the peer
        sent up to its FIN first, so none of the messages on their way is lost."""
        count = 2000
        for name, client in (("gsspeer", zmtplib.gsspeer()), ("libzmq", zmtplib.libzmq_shim())):
            with self.subTest(client=name):
                with zmtplib.Endpoint(zmtplib.gsspeer(), self.fx.env(),
                                      ["--socket-type", "PULL"]) as srv:
                    result = zmtplib.run_client(client, self.fx.env(), srv.endpoint,
                                                SERVICE + ["--socket-type", "PUSH", "--count",
                                                           str(count), "--size", "1000"])
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(len(srv.named("delivered")), count, srv.stderr)

    def test_interval_between_messages(self) -> None:
        """--interval-ms paces the client's messages on one connection; each is still echoed."""
        g = zmtplib.gsspeer()
        with zmtplib.Endpoint(g, self.fx.env(), []) as srv:
            result = zmtplib.run_client(g, self.fx.env(), srv.endpoint,
                                        SERVICE + ["--count", "3", "--interval-ms", "200"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.named("done")[0]["verified"], 3)
        self.assertGreaterEqual(result.elapsed, 0.4, "two pauses of 200 ms were taken")
        self.assertEqual(len(srv.named("delivered")), 3)
        bad = zmtplib.run_client(g, self.fx.env(), "tcp://127.0.0.1:1",
                                 SERVICE + ["--interval-ms", "x"])
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--interval-ms", bad.stderr)

    def test_payload_file(self) -> None:
        data = bytes(range(256)) * 4 + b"end"
        path = self.fx.path("payload.bin")
        with open(path, "wb") as handle:
            handle.write(data)
        g = zmtplib.gsspeer()
        with zmtplib.Endpoint(g, self.fx.env(), []) as srv:
            result = zmtplib.run_client(g, self.fx.env(), srv.endpoint,
                                        SERVICE + ["--payload-file", path, "--count", "2",
                                                   "--parts", "2"])
            srv.wait_for("delivered", 5, count=2)
        self.assertEqual(result.returncode, 0, result.stderr)
        digest = hashlib.sha256(data).hexdigest()
        for message in srv.named("delivered"):
            self.assertEqual([p["sha256"] for p in message["parts"]], [digest, digest])
        missing = self.fx.path("no-such-payload")
        result = zmtplib.run_client(g, self.fx.env(), "tcp://127.0.0.1:1",
                                    SERVICE + ["--payload-file", missing])
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"--payload-file: {missing}: No such file", result.stderr)

    def test_pub_sub_topic(self) -> None:
        """A SUB's topic reaches the PUB (00 01 topic inside the wrap): gsspeer and libzmq PUBs
        publish matching messages, and gsspeer's PUB filters the rest out."""
        env = self.fx.env()
        common = ["--count", "2", "--payload-hex", b"abcd".hex()]
        for server in (zmtplib.gsspeer(), zmtplib.libzmq_shim()):
            with self.subTest(server=server):
                with zmtplib.Endpoint(server, env, ["--socket-type", "PUB"] + common) as srv:
                    result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint,
                                                SERVICE + ["--socket-type", "SUB",
                                                           "--subscribe", "abc"] + common)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.named("done")[0]["verified"], 2)
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, ["--socket-type", "PUB"] + common) as srv:
            result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint,
                                        SERVICE + ["--socket-type", "SUB", "--subscribe", "x"]
                                        + common, timeout_ms=500)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.named("delivered"), [])
        self.assertEqual(srv.named("done")[0]["sent"], 0, "nothing matched the topic")

    def test_ipv6_loopback(self) -> None:
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        env = self.fx.env()
        try:
            with zmtplib.Endpoint(zmtplib.gsspeer(), env, [], bind="tcp://[::1]:0") as srv:
                self.assertTrue(srv.endpoint.startswith("tcp://[::1]:"), srv.endpoint)
                result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint,
                                            SERVICE + ["--count", "2"])
        except AssertionError as e:
            if "Cannot assign" in str(e) or "Address family" in str(e):
                self.skipTest("::1 not configured")
            raise
        self.assertEqual(result.returncode, 0, result.stderr)

    # ---- the transcript shows the wire doc's handshake layout ----

    def check_handshake(self, frames: list[dict[str, Any]], we_are_client: bool,
                        our_type: str, peer_type: str) -> None:
        """Assert the de facto layout on a transcript: greeting, INITIATE, empty, READYs."""
        out, inn = ("out", "in") if we_are_client else ("in", "out")
        g_out = next(f for f in frames if f["kind"] == "greeting" and f["dir"] == "out")
        g_in = next(f for f in frames if f["kind"] == "greeting" and f["dir"] == "in")
        ours = greeting(as_server=0 if we_are_client else 1).hex()
        self.assertEqual(g_out["hex"], ours, "our greeting, byte for byte")
        # libzmq: padding carries its routing-id length, as-server is always 0.
        self.assertEqual(g_in["fields"]["as_server"], 0)
        self.assertEqual(g_in["fields"]["mechanism"], "GSSAPI")
        self.assertEqual(g_in["hex"][2:16], "00" * 7)
        hs = [f for f in frames if f["kind"] != "greeting"][:5]
        self.assertEqual([(f["dir"], f["kind"]) for f in hs],
                         [(out, "INITIATE"), (inn, "INITIATE"), (out, "empty"),
                          (inn, "READY"), (out, "READY")])
        ap_req, ap_rep, empty, ready_s, ready_c = hs
        self.assertEqual(ap_req["flags"], 6, "AP-REQ (> 255 bytes) in a long command frame")
        self.assertTrue(ap_req["hex"].startswith("06" + f"{ap_req['size']:016x}"
                                                 + "08" + b"INITIATE".hex()))
        token_len = int(ap_req["hex"][2 + 16 + 18:2 + 16 + 18 + 8], 16)
        self.assertEqual(token_len + 13, ap_req["size"], "INITIATE = name + u32 len + token")
        self.assertEqual(ap_rep["flags"], 4)
        self.assertEqual(empty["hex"], "0400", "the empty command frame")
        for ready, sender, sent_by_acceptor in ((ready_s, "server", True),
                                                (ready_c, "client", False)):
            self.assertEqual(ready["flags"], 4, "READY travels in a command frame")
            self.assertTrue(ready["hex"][4:].startswith("07" + b"MESSAGE".hex()))
            self.assertEqual(ready["token"]["flags"], 7 if sent_by_acceptor else 6)
            self.assertEqual(ready["token"]["overhead"], 60)
            self.assertTrue(ready["plain"].startswith("00" + "05" + b"READY".hex()), sender)
        # The server's READY comes first, whichever side we are.
        our_ready, peer_ready = (ready_c, ready_s) if we_are_client else (ready_s, ready_c)
        want_props = {"Socket-Type": our_type, "Identity": ""}
        self.assertEqual(our_ready["inner"]["properties"], want_props)
        self.assertEqual(peer_ready["inner"]["properties"]["Socket-Type"], peer_type)
        data = [f for f in frames if f["kind"] == "MESSAGE"]
        self.assertTrue(data)
        for f in data:
            self.assertIn(f["flags"], (0, 2), "data in message frames, MORE never on the wire")
        seqs = [f["token"]["snd_seq"] for f in frames
                if f["dir"] == "out" and f.get("token")]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))),
                         "SND_SEQ +1 per wrap, READY first")
        inner = [f["plain"][:2] for f in data if f["dir"] == "out"]
        self.assertEqual(inner[:3], ["01", "01", "00"], "inner MORE flags of a 3-part message")

    def test_transcript_gsspeer_client_libzmq_server(self) -> None:
        path = self.fx.path("client.jsonl")
        self.echo(zmtplib.libzmq_shim(), zmtplib.gsspeer(), ["--parts", "3"], 1,
                  client_args=["--transcript", path])
        self.check_handshake(zmtplib.read_transcript(path), True, "DEALER", "ROUTER")

    def test_transcript_libzmq_client_gsspeer_server(self) -> None:
        path = self.fx.path("server.jsonl")
        self.echo(zmtplib.gsspeer(), zmtplib.libzmq_shim(), ["--parts", "3"], 1,
                  server_args=["--transcript", path])
        self.check_handshake(zmtplib.read_transcript(path), False, "ROUTER", "DEALER")

    # ---- name types ----

    def test_name_types(self) -> None:
        g, lz = zmtplib.gsspeer(), zmtplib.libzmq_shim()
        cases = [
            # (acceptor, service args, client args)
            ("zmq/localhost", ["--service-principal", "zmq@localhost"], []),
            ("zmq/localhost", ["--service-principal", "zmq/localhost", "--service-nametype",
                               "user"], ["--principal", "alice", "--nametype", "user"]),
            ("zmq/localhost", ["--service-principal", f"zmq/localhost@{REALM}",
                               "--service-nametype", "krb5"],
             ["--principal", f"alice@{REALM}", "--nametype", "krb5"]),
            (MULTI, ["--service-principal", f"{MULTI}@{REALM}", "--service-nametype", "krb5"],
             []),
        ]
        for acceptor, service, client in cases:
            for server in (g, lz):
                with self.subTest(service=service, client=client, server=server):
                    env = self.fx.env(acceptor=acceptor)
                    with zmtplib.Endpoint(server, env, []) as srv:
                        result = zmtplib.run_client(g, env, srv.endpoint, service + client)
                    self.assertEqual(result.returncode, 0, result.stderr)
        tgs = [r for r in self.fx.realm.kdc_log()
               if r.kind == "TGS_REQ" and r.server == f"{MULTI}@{REALM}"]
        self.assertTrue(tgs and all(r.outcome == "ISSUE" for r in tgs), tgs)

    def test_libzmq_client_krb5_multi_component(self) -> None:
        env = self.fx.env(acceptor=MULTI)
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, []) as srv:
            result = zmtplib.run_client(zmtplib.libzmq_shim(), env, srv.endpoint,
                                        ["--service-principal", f"{MULTI}@{REALM}",
                                         "--service-nametype", "krb5"])
            srv.wait_for("delivered", 5)
        self.assertEqual(result.returncode, 0, result.stderr)

    # ---- authorization ----

    def check_authz(self, server_args: list[str]) -> None:
        """alice is admitted, bob is refused promptly with nothing delivered."""
        with zmtplib.Endpoint(zmtplib.gsspeer(), self.fx.env(), server_args) as srv:
            bob = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(client="bob"), srv.endpoint,
                                     SERVICE)
            denied = srv.wait_for("authorized", 5)
            alice = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(), srv.endpoint, SERVICE)
            srv.wait_for("delivered", 5)
        self.assertEqual(denied, {"event": "authorized", "principal": f"bob@{REALM}",
                                  "allowed": False})
        self.assertNotEqual(bob.returncode, 0)
        self.assertLess(bob.elapsed, PROMPT, "a denied client's connection closes promptly")
        self.assertEqual(len(bob.stderr.strip().splitlines()), 1, bob.stderr)
        self.assertEqual(alice.returncode, 0, alice.stderr)
        self.assertEqual(len(srv.named("delivered")), 1, "only alice's message was delivered")
        self.assertIn("authorization denied", srv.named("closed")[0]["reason"])

    def test_authz_allow(self) -> None:
        self.check_authz(["--allow", f"alice@{REALM}"])

    def test_authz_cmd(self) -> None:
        self.check_authz(["--authz-cmd", f'test "$1" = alice@{REALM}'])

    def test_authz_libzmq_client_denied(self) -> None:
        env = self.fx.env(client="bob")
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, ["--allow", f"alice@{REALM}"]) as srv:
            result = zmtplib.run_client(zmtplib.libzmq_shim(), env, srv.endpoint, SERVICE,
                                        timeout_ms=1500)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(srv.named("delivered"), [])
        self.assertFalse(srv.named("authorized")[0]["allowed"])

    # ---- prompt one-line failures ----

    def check_failure(self, result: zmtplib.ClientResult, words: str) -> None:
        """A failed client run: non-zero, within PROMPT, one stderr line containing WORDS that
        is also the error event's reason."""
        self.assertNotEqual(result.returncode, 0)
        self.assertLess(result.elapsed, PROMPT)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(words, lines[0])
        self.assertEqual(result.named("error")[0]["reason"], lines[0].removeprefix("gsspeer: "))

    def test_wrong_service_principal(self) -> None:
        with zmtplib.Endpoint(zmtplib.gsspeer(), self.fx.env(), []) as srv:
            result = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(), srv.endpoint,
                                        ["--service-principal", "nosuch@localhost"])
        self.check_failure(result, "not found in Kerberos database")

    def test_service_principal_the_server_lacks(self) -> None:
        """A ticket the KDC issues (for bob) but the server has no key for: a gsspeer server
        refuses it, a libzmq server says nothing; either way the client's one line comes within
        PROMPT (libzmq: through the default handshake bound)."""
        wrong = ["--service-principal", f"bob@{REALM}", "--service-nametype", "krb5"]
        for name, server in (("gsspeer", zmtplib.gsspeer()), ("libzmq", zmtplib.libzmq_shim())):
            with self.subTest(server=name):
                with zmtplib.Endpoint(server, self.fx.env(), []) as srv:
                    result = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(), srv.endpoint,
                                                wrong)
                self.check_failure(result, "handshake")
                self.assertEqual(srv.named("delivered"), [])

    def test_missing_credentials(self) -> None:
        env = self.fx.env(client=None)
        env["KRB5CCNAME"] = "FILE:" + self.fx.path("no-such-ccache")
        with zmtplib.Endpoint(zmtplib.gsspeer(), self.fx.env(), []) as srv:
            result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint, SERVICE)
        self.check_failure(result, "missing credentials")

    def test_mechanism_mismatch(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            conns: list[socket.socket] = []

            def serve() -> None:
                listener.settimeout(5)
                conn, _ = listener.accept()
                conns.append(conn)
                conn.sendall(greeting(b"NULL", as_server=1))

            thread = threading.Thread(target=serve, daemon=True)
            thread.start()
            result = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(),
                                        f"tcp://127.0.0.1:{port}", SERVICE)
            thread.join(5)
            for conn in conns:
                conn.close()
        self.check_failure(result, 'mechanism mismatch: greeting mechanism: "NULL" at offset 12')

    def test_mechanism_mismatch_against_libzmq(self) -> None:
        """A real libzmq server with another mechanism closes on our GSSAPI greeting without
        sending its own mechanism: the one line says so."""
        other = os.path.join(os.path.dirname(os.path.abspath(__file__)), "othermech.py")
        for mechanism in ("NULL", "PLAIN", "CURVE"):
            with self.subTest(mechanism=mechanism):
                with zmtplib.Endpoint(other, self.fx.env(), ["--mechanism", mechanism]) as srv:
                    result = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(), srv.endpoint,
                                                SERVICE)
                self.check_failure(result, "before its mechanism field: it refused our greeting")
                self.assertEqual(srv.named("delivered"), [])

    # ---- greeting behaviour as a server ----

    def test_staged_greeting_and_zmtp2_refusal(self) -> None:
        with zmtplib.Endpoint(zmtplib.gsspeer(), self.fx.env(), []) as srv:
            port = int(srv.endpoint.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                # A peer that sends 11 bytes and waits: we must not wait for its 64.
                sock.sendall(greeting()[:11])
                ours = recv_exactly(sock, 64, 5)
                self.assertEqual(ours, greeting(as_server=1))
                sock.sendall(greeting(b"PLAIN")[11:])
                self.assertEqual(recv_exactly(sock, 1, 5), b"", "mismatch closes")
            first = srv.wait_for("closed", 5)
            self.assertIn("mechanism mismatch", first["reason"])
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                start = time.monotonic()
                # ZMTP 2.0: signature, revision 01, socket type 05 (DEALER).
                sock.sendall(b"\xff" + bytes(8) + b"\x7f\x01\x05")
                recv_exactly(sock, 64, 5)
                self.assertEqual(recv_exactly(sock, 1, 5), b"")
                self.assertLess(time.monotonic() - start, PROMPT)
            second = srv.wait_for("closed", 5, count=2)
            self.assertIn("unsupported ZMTP version", second["reason"])
            self.assertEqual(srv.named("delivered"), [])

    def test_stalled_handshake_is_bounded(self) -> None:
        """A peer that connects and sends nothing is closed at the handshake deadline, and the
        server then serves the next client."""
        with zmtplib.Endpoint(zmtplib.gsspeer(), self.fx.env(),
                              ["--handshake-timeout-ms", "300"]) as srv:
            port = int(srv.endpoint.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                self.assertEqual(len(recv_exactly(sock, 64, 5)), 64)
                self.assertEqual(recv_exactly(sock, 1, 5), b"", "stalled peer closed")
            self.assertIn("during the handshake", srv.wait_for("closed", 5)["reason"])
            result = zmtplib.run_client(zmtplib.gsspeer(), self.fx.env(), srv.endpoint, SERVICE)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_byte_by_byte_delivery(self) -> None:
        """Every byte of a gsspeer<->gsspeer session passes a relay one byte per send, so the
        driver must reassemble greetings and frames from arbitrary pieces."""
        env = self.fx.env()
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, []) as srv, \
                socket.create_server(("127.0.0.1", 0)) as listener:
            port = int(srv.endpoint.rsplit(":", 1)[1])
            relay_port = listener.getsockname()[1]
            relayed = [0]

            def pump(src: socket.socket, dst: socket.socket) -> None:
                try:
                    while data := src.recv(4096):
                        for i in range(len(data)):
                            dst.sendall(data[i:i + 1])
                        relayed[0] += len(data)
                except OSError:
                    pass
                finally:
                    for sock in (src, dst):
                        try:
                            sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass

            def relay() -> None:
                listener.settimeout(10)
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
                for sock in (client, upstream):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.settimeout(20)
                threads = [threading.Thread(target=pump, args=pair, daemon=True)
                           for pair in ((client, upstream), (upstream, client))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(20)
                client.close()
                upstream.close()

            thread = threading.Thread(target=relay, daemon=True)
            thread.start()
            result = zmtplib.run_client(zmtplib.gsspeer(), env, f"tcp://127.0.0.1:{relay_port}",
                                        SERVICE + ["--count", "3", "--parts", "2",
                                                   "--size", "300"])
            thread.join(20)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.named("done")[0]["verified"], 3)
        self.assertGreater(relayed[0], 3000)


if __name__ == "__main__":
    taptest.main()
