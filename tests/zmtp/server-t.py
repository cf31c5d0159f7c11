#!/usr/bin/env python3
"""gsspeer zmtp-server as a development counterpart: many connections at once (one event loop),
per-connection deadlines, an --authz-cmd that blocks nobody and leaves nothing behind, and a
connection that ends in the middle of a frame after READY reported as what it is.

Every bound here is a process's own --timeout-ms or a bounded wait for a condition; nothing is
timed.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

import taptest
import zmtplib
from zmtplib import REALM

SERVICE = ["--service-principal", "zmq@localhost"]


def port_of(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def wait_until(condition, timeout: float) -> bool:
    """Poll CONDITION every 20 ms for up to TIMEOUT seconds; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def alive(pid: int) -> bool:
    """Whether PID runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Relay:
    """A TCP relay to PORT that passes the server's bytes through and, once LIMIT bytes of the
    client's went through, ends the server side: with a reset (RESET) or a FIN."""

    def __init__(self, port: int, limit: int, reset: bool) -> None:
        self.port, self.limit, self.reset = port, limit, reset
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(20)
        self.endpoint = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        client, _ = self.listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        for sock in (client, upstream):
            sock.settimeout(20)

        def back() -> None:
            try:
                while data := upstream.recv(65536):
                    client.sendall(data)
            except OSError:
                pass

        thread = threading.Thread(target=back, daemon=True)
        thread.start()
        sent = 0
        try:
            while sent < self.limit and (data := client.recv(min(65536, self.limit - sent))):
                upstream.sendall(data)
                sent += len(data)
        except OSError:
            pass
        # The thread copying the server's bytes waits in poll() on UPSTREAM, and a poll holds
        # the socket: a close() now would send the FIN or RST only when that poll ends (its 20 s
        # timeout). Shutting the reading side wakes the thread (its recv returns b""); once it
        # has let go, the close takes effect at once.
        try:
            upstream.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        thread.join(20)
        if self.reset:
            upstream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        upstream.close()
        client.close()
        self.listener.close()


class Server(zmtplib.RealmCase):
    """The reference server with many clients, slow authorization and broken connections."""

    def test_idle_connections_block_nobody(self) -> None:
        """Twenty connections that never send a byte (each held up to its 5 s handshake
        deadline) do not keep a real client from being served within its own 8 s bound."""
        env = self.fx.env()
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, ["--handshake-timeout-ms", "5000"],
                              timeout_ms=60000) as srv:
            idle = [socket.create_connection(("127.0.0.1", port_of(srv.endpoint)), timeout=10)
                    for _ in range(20)]
            try:
                result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint,
                                            SERVICE + ["--count", "5"], timeout_ms=8000)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.named("done")[0]["verified"], 5)
                # The idle ones are closed at their own deadline, each with its reason.
                closed = srv.wait_for("closed", 30, count=20)
                self.assertIn("during the handshake", closed["reason"])
            finally:
                for sock in idle:
                    sock.close()

    def test_concurrent_clients(self) -> None:
        """Forty clients at once, each 20 echoes: every one verified, nothing refused."""
        env = self.fx.env()
        # 40 handshakes at once on a loaded machine: the default 1.5 s bound is too short.
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, ["--handshake-timeout-ms", "60000"],
                              timeout_ms=120000) as srv:
            with concurrent.futures.ThreadPoolExecutor(40) as pool:
                results = list(pool.map(
                    lambda _: zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint,
                                                 SERVICE + ["--count", "20", "--size", "100",
                                                            "--handshake-timeout-ms", "60000"],
                                                 timeout_ms=60000), range(40)))
            for result in results:
                self.assertEqual(result.returncode, 0, f"{result.stderr} (server: "
                                 f"{srv.named('closed')})")
                self.assertEqual(result.named("done")[0]["verified"], 20)
            srv.stop()
        self.assertEqual(srv.named("closed"), [])
        self.assertEqual(srv.named("done")[0]["received"], 800)

    def broken_after_ready(self, reset: bool) -> dict:
        """The server's closed event when a 1 MB message is cut after 200 kB (well after
        READY, inside the message's frame)."""
        env = self.fx.env()
        with zmtplib.Endpoint(zmtplib.gsspeer(), env, [], timeout_ms=60000) as srv:
            relay = Relay(port_of(srv.endpoint), 200000, reset)
            result = zmtplib.run_client(zmtplib.gsspeer(), env, relay.endpoint,
                                        SERVICE + ["--size", "1000000"], timeout_ms=20000)
            self.assertNotEqual(result.returncode, 0, result.events)
            closed = srv.wait_for("closed", 20)
            self.assertEqual(srv.named("delivered"), [])
            relay.thread.join(20)
        self.assertIn(closed["reason"], srv.stderr)
        return closed

    def test_reset_mid_frame_after_ready(self) -> None:
        closed = self.broken_after_ready(reset=True)
        self.assertIn("connection reset by peer after READY, in the middle of a frame",
                      closed["reason"])

    def test_fin_mid_frame_after_ready(self) -> None:
        closed = self.broken_after_ready(reset=False)
        self.assertIn("peer closed the connection after READY in the middle of a frame",
                      closed["reason"])

    def test_authz_cmd_blocks_nobody(self) -> None:
        """While the first client's --authz-cmd runs (it waits for a file only the test writes
        once the second client is done), a second client is served within its own 4 s bound."""
        env = self.fx.env()
        with tempfile.TemporaryDirectory(prefix="server-t.") as tmp:
            started, go = Path(tmp, "started"), Path(tmp, "go")
            cmd = (f'if [ ! -e {started} ]; then : > {started}; i=0; '
                   f'while [ ! -e {go} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; fi; '
                   f'test "$1" = alice@{REALM}')
            with zmtplib.Endpoint(zmtplib.gsspeer(), env,
                                  ["--authz-cmd", cmd, "--handshake-timeout-ms", "8000"],
                                  timeout_ms=60000) as srv:
                with concurrent.futures.ThreadPoolExecutor(1) as pool:
                    first = pool.submit(zmtplib.run_client, zmtplib.gsspeer(), env, srv.endpoint,
                                        SERVICE, 20000)
                    self.assertTrue(wait_until(started.exists, 15), "first --authz-cmd ran")
                    second = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint, SERVICE,
                                                timeout_ms=4000)
                    go.touch()
                    first_result = first.result()
            self.assertEqual(second.returncode, 0, second.stderr)
            self.assertEqual(first_result.returncode, 0, first_result.stderr)

    def test_authz_cmd_group_killed(self) -> None:
        """An --authz-cmd that outlives the handshake deadline is killed with everything it
        started (its own process group), not only sh."""
        env = self.fx.env()
        with tempfile.TemporaryDirectory(prefix="server-t.") as tmp:
            pidfile = Path(tmp, "pid")
            cmd = f"sleep 30 & echo $! > {pidfile}; wait"
            pid = 0
            try:
                with zmtplib.Endpoint(zmtplib.gsspeer(), env,
                                      ["--authz-cmd", cmd, "--handshake-timeout-ms", "1000"],
                                      timeout_ms=60000) as srv:
                    result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint, SERVICE,
                                                timeout_ms=10000)
                    self.assertNotEqual(result.returncode, 0)
                    srv.wait_for("closed", 15)
                    self.assertTrue(wait_until(lambda: pidfile.exists()
                                               and pidfile.read_text().strip() != "", 5))
                    pid = int(pidfile.read_text())
                    gone = wait_until(lambda: not alive(pid), 5)
                self.assertTrue(gone, f"the command's child {pid} outlived the deadline")
            finally:
                if pid and alive(pid):
                    os.kill(pid, signal.SIGKILL)  # the test's own leftover (before the fix)


if __name__ == "__main__":
    taptest.main()
