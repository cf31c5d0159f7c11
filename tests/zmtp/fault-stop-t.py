#!/usr/bin/env python3
"""A faulty gsspeer server that is stopped (SIGTERM) still reports a close that had already
arrived.

The runner stops the reference server as soon as the candidate client has exited, so the peer's
stop and the candidate's FIN come together: the FIN must win (peer-closed), or a candidate that
closed at once is reported as never having closed (peer-open). Here the server is frozen
(SIGSTOP) while its client dies and the SIGTERM is sent, so both are pending when it resumes.
The client is libzmq's, which takes the fault (unknown inner flags) and then waits for a second
echo that never comes, so only the test decides when it closes."""

from __future__ import annotations

import os
import signal
import subprocess
import unittest

import taptest
import zmtplib


def _missing() -> str | None:
    """Why this test cannot run here, or None."""
    if not os.access(zmtplib.libzmq_shim(), os.X_OK):
        return f"{zmtplib.libzmq_shim()} not built"
    return zmtplib.missing_tools()


@unittest.skipIf(_missing(), _missing() or "")
class StoppedObserver(unittest.TestCase):
    def test_close_pending_at_stop_is_peer_closed(self) -> None:
        with zmtplib.RealmFixture() as fx, zmtplib.Endpoint(
                zmtplib.gsspeer(), fx.env(),
                ["--fault", "unknown-flags:80", "--observe-ms", "8000"]) as srv:
            client = subprocess.Popen(
                [zmtplib.libzmq_shim(), "zmtp-client", "--connect", srv.endpoint,
                 "--service-principal", "zmq@localhost", "--count", "2", "--timeout-ms", "9000"],
                env=fx.env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            try:
                srv.wait_for("received", 5)  # the client's second message: it took the fault
                os.kill(srv.pid, signal.SIGSTOP)
                try:
                    client.kill()
                    client.wait(5)
                    os.kill(srv.pid, signal.SIGTERM)
                finally:
                    os.kill(srv.pid, signal.SIGCONT)
                if not srv.wait(5):
                    raise AssertionError("the reference server did not exit on SIGTERM")
            finally:
                if client.poll() is None:
                    client.kill()
                    client.wait(5)
        self.assertEqual(srv.named("peer-open"), [], "a close already received is no peer-open")
        closed = srv.named("peer-closed")
        self.assertEqual(len(closed), 1, srv.events)
        self.assertIn(closed[0]["how"], ("fin", "reset"))


if __name__ == "__main__":
    taptest.main()
