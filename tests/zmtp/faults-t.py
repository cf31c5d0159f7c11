#!/usr/bin/env python3
"""The fault catalogue of gsspeer (`--fault NAME[:ARG]`) on a real realm.

Every fault in both directions against a normal gsspeer: the reference peer with the fault
applies it, and the normal gsspeer must refuse what it must refuse (closing within 1000 ms, the
catalogue's "promptly", with nothing delivered) and accept what is valid (the exchange still
works). A handful of faults against the libzmq candidate shim confirm that the faults reach a
real implementation and that the observation events say what it did. Cases run in parallel
(each is a few processes bounded by --timeout-ms and --observe-ms).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import unittest
from dataclasses import dataclass, field
from typing import Any

import taptest
import zmtplib

SERVICE = ["--service-principal", "zmq@localhost"]
OBSERVE_MS = 1200
PROMPT_MS = 1000  # "closed promptly" (docs/peer.md)
PAYLOAD_HEX = b"gssconform-fault".hex()
PING_HEX = b"gssconform-ping".hex()
WORKERS = 8

# Faults the normal gsspeer must refuse, in either role of the faulty peer.
REFUSED_BOTH = [
    "greeting-mechanism:NULL", "greeting-mechanism:PLAIN", "greeting-mechanism:CURVE",
    "greeting-mechanism:gssapi", "greeting-mechanism:GSSAPIX", "greeting-zmtp2",
    "greeting-zmtp1", "greeting-major:2", "hello-command", "welcome-command",
    "error-command:bye",
    "unknown-command", "initiate-garbage", "initiate-empty", "initiate-truncated-length",
    "initiate-trailing:4", "initiate-short", "early-ready", "early-message", "stall",
    "oversize:100000", "tamper-token", "tamper-length", "tamper-name", "replay-token",
    "reorder-tokens", "reflect-token", "integrity-only", "zero-length-wrap",
    "unwrapped-after-ready", "trailing-bytes:3", "unknown-flags:10", "unknown-flags:80",
    "frame-reserved-flags:08", "frame-reserved-flags:80", "ready-socket-type:PUSH",
    "ready-plain",
]
# What the one-line reason of each refusal names (the same in both roles).
REASONS = {
    "greeting-mechanism": "mechanism mismatch: greeting mechanism:",
    "greeting-zmtp2": "unsupported ZMTP version: greeting major version: 1 (ZMTP 2.0)",
    "greeting-zmtp1": "bad greeting signature",
    "greeting-major": "unsupported ZMTP version: greeting major version: 2",
    "hello-command": "INITIATE expected: got HELLO command",
    "welcome-command": "INITIATE expected: got WELCOME command",
    "error-command": 'peer sent ERROR: ERROR "bye"',
    "unknown-command": "INITIATE expected: got FROBNICATE command",
    "initiate-garbage": "Invalid token was supplied",
    "initiate-empty": "INITIATE token length: 0",
    "initiate-truncated-length": "INITIATE token length: needs 4 bytes",
    "initiate-trailing": "INITIATE: 4 trailing bytes",
    "initiate-short": "INITIATE token: needs",
    "early-ready": "INITIATE expected: got READY command",
    "early-message": "INITIATE expected: got MESSAGE command",
    "stall": "timed out: during the handshake",
    "skip-empty-frame": "timed out: during the handshake",
    "empty-frame-garbage": "empty command frame expected",
    "oversize": "frame too large: frame size: 100000 bytes",
    "tamper-token": "gss_unwrap of the MESSAGE token",
    "tamper-length": "MESSAGE: 1 trailing bytes",
    "tamper-name": "is not a wrapped MESSAGE",
    "replay-token": "duplicate of an earlier token",
    "reorder-tokens": "(reordered or missing token)",
    "reflect-token": "gss_unwrap of the MESSAGE token",
    "integrity-only": "conf_state 0 (integrity only)",
    "zero-length-wrap": "wrapped flags: needs 1 bytes",
    "unwrapped-after-ready": "is not a wrapped MESSAGE (unwrapped data while encryption is on)",
    "trailing-bytes": "MESSAGE: 3 trailing bytes",
    "unknown-flags": "wrapped flags: unknown bits",
    "frame-reserved-flags": "frame flags: reserved bits set",
    "ready-socket-type": "socket type mismatch: READY Socket-Type: peer PUSH cannot talk to our",
    "ready-plain": "READY expected wrapped in MESSAGE: peer sent a plain READY",
}
# Only a client omits or fills the empty frame; the reference server requires exactly 04 00.
REFUSED_CLIENT_ONLY = ["skip-empty-frame", "empty-frame-garbage"]
# Valid variations: the exchange must still work.
ACCEPTED = [
    "greeting-minor:9", "greeting-major:4", "greeting-as-server:0", "greeting-as-server:1",
    "greeting-padding", "greeting-staged:200", "initiate-long-frame",
    "message-in-command-frame", "ping", "ready-name-case",
]


def normal_args(fault: str) -> list[str]:
    """The normal gsspeer's options against FAULT: a frame limit below the oversize
    announcement, and a handshake bound short enough for a refusal to be prompt (stall,
    skip-empty-frame) but long enough for a valid variation to complete on a loaded machine
    (greeting-staged pauses up to 200 ms on top of the GSS exchange)."""
    bound = "10000" if fault in ACCEPTED else "300"
    return ["--handshake-timeout-ms", bound, "--max-frame-size", "65536"]


@dataclass
class Outcome:
    """What one faulty run produced: the faulty peer's events and exit, the other side's."""

    fault: str
    faulty_role: str
    faulty_rc: int | None
    faulty_events: list[dict[str, Any]]
    faulty_stderr: str
    other_rc: int | None
    other_events: list[dict[str, Any]]
    other_stderr: str
    extra: dict[str, Any] = field(default_factory=dict)

    def faulty(self, name: str) -> list[dict[str, Any]]:
        """The faulty peer's events called NAME."""
        return [e for e in self.faulty_events if e.get("event") == name]

    def other(self, name: str) -> list[dict[str, Any]]:
        """The other side's events called NAME."""
        return [e for e in self.other_events if e.get("event") == name]

    def describe(self) -> str:
        """Everything, for a failure message."""
        return (f"{self.fault} ({self.faulty_role} faulty): faulty rc {self.faulty_rc} "
                f"events {self.faulty_events} stderr {self.faulty_stderr!r}; other rc "
                f"{self.other_rc} events {self.other_events} stderr {self.other_stderr!r}")


def faulty_client(fx: zmtplib.RealmFixture, fault: str, server: str) -> Outcome:
    """The reference client with FAULT against SERVER (a normal gsspeer or a shim)."""
    env = fx.env()
    args = normal_args(fault) if server == zmtplib.gsspeer() else []
    with zmtplib.Endpoint(server, env, args) as srv:
        result = zmtplib.run_client(zmtplib.gsspeer(), env, srv.endpoint,
                                    SERVICE + ["--fault", fault, "--observe-ms",
                                               str(OBSERVE_MS)], timeout_ms=10000)
    return Outcome(fault, "client", result.returncode, result.events, result.stderr,
                   srv.returncode, srv.events, srv.stderr)


def faulty_server(fx: zmtplib.RealmFixture, fault: str, client: str) -> Outcome:
    """The reference server with FAULT (one connection) against CLIENT."""
    env = fx.env()
    args = normal_args(fault) if client == zmtplib.gsspeer() else []
    with zmtplib.Endpoint(zmtplib.gsspeer(), env,
                          ["--fault", fault, "--observe-ms", str(OBSERVE_MS)]) as srv:
        result = zmtplib.run_client(client, env, srv.endpoint, SERVICE + args,
                                    timeout_ms=10000 if fault in ACCEPTED else 3000)
        srv.wait(OBSERVE_MS / 1000 + 5)  # if it does not exit, stop() ends it and the missing
        #                                  outcome event then fails the case
    return Outcome(fault, "server", srv.returncode, srv.events, srv.stderr, result.returncode,
                   result.events, result.stderr)


class Faults(zmtplib.RealmCase):
    """Each fault once per direction against gsspeer, a handful against libzmq."""

    outcomes: dict[tuple[str, str, str], Outcome]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        g, lz = zmtplib.gsspeer(), zmtplib.libzmq_shim()
        jobs: list[tuple[str, str, str]] = []
        for fault in REFUSED_BOTH + REFUSED_CLIENT_ONLY + ACCEPTED:
            jobs.append(("client", fault, g))
            if fault not in REFUSED_CLIENT_ONLY:
                jobs.append(("server", fault, g))
        if os.access(lz, os.X_OK):
            for fault in ("greeting-mechanism:NULL", "tamper-token", "ping",
                          "message-in-command-frame", "skip-empty-frame", "ready-name-case"):
                jobs.append(("client", fault, lz))
            for fault in ("tamper-token", "ping", "greeting-minor:9"):
                jobs.append(("server", fault, lz))
        cls.outcomes = {}
        try:
            with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
                futures = {
                    pool.submit(faulty_client if role == "client" else faulty_server, cls.fx,
                                fault, other): (role, fault, other)
                    for role, fault, other in jobs}
                for future, key in futures.items():
                    cls.outcomes[key] = future.result()
        except BaseException:
            cls.fx.__exit__(None, None, None)
            raise

    def applied(self, o: Outcome) -> None:
        """The faulty peer applied the fault, observed the outcome and exited 0."""
        self.assertEqual(o.faulty_rc, 0, o.describe())
        faults = o.faulty("fault")
        self.assertTrue(faults and all(f["applied"] for f in faults), o.describe())
        self.assertEqual(faults[0]["name"], o.fault.split(":")[0])

    def refused(self, o: Outcome) -> None:
        """The other side closed promptly and delivered nothing."""
        self.applied(o)
        closed = o.faulty("peer-closed")
        self.assertEqual(len(closed), 1, o.describe())
        self.assertLessEqual(closed[0]["after_ms"], PROMPT_MS, o.describe())
        self.assertEqual(o.other("delivered"), [], o.describe())

    def says_why(self, o: Outcome, event: str) -> None:
        """The other side's one EVENT ('closed' or 'error') gives the fault's reason in a line."""
        reasons = [e.get("reason", "") for e in o.other(event)]
        self.assertEqual(len(reasons), 1, o.describe())
        self.assertNotIn("\n", reasons[0])
        self.assertIn(REASONS[o.fault.split(":")[0]], reasons[0], o.describe())
        # A minor status that says nothing is dropped (MIT's "Success" for a mapped minor 0).
        self.assertNotRegex(reasons[0], r"; (Success)?$", o.describe())

    def test_refused_by_gsspeer_server(self) -> None:
        """Faults of a client: the normal gsspeer server refuses and says why."""
        for fault in REFUSED_BOTH + REFUSED_CLIENT_ONLY:
            with self.subTest(fault=fault):
                o = self.outcomes[("client", fault, zmtplib.gsspeer())]
                self.refused(o)
                self.says_why(o, "closed")

    def test_refused_by_gsspeer_client(self) -> None:
        """Faults of a server: the normal gsspeer client fails (exit 1) with nothing delivered."""
        for fault in REFUSED_BOTH:
            with self.subTest(fault=fault):
                o = self.outcomes[("server", fault, zmtplib.gsspeer())]
                self.refused(o)
                self.assertEqual(o.other_rc, 1, o.describe())
                self.says_why(o, "error")

    def test_accepted_by_gsspeer(self) -> None:
        """Valid variations: the exchange still works in both directions."""
        for fault in ACCEPTED:
            with self.subTest(fault=fault, faulty="client"):
                o = self.outcomes[("client", fault, zmtplib.gsspeer())]
                self.applied(o)
                echoes = o.faulty("received")
                self.assertIn({"event": "received", "kind": "echo", "len": 16,
                               "head": PAYLOAD_HEX}, echoes, o.describe())
                self.assertEqual(len(o.other("delivered")), 1, o.describe())
                if fault == "ping":
                    self.assertIn({"event": "received", "kind": "pong", "context": PING_HEX},
                                  echoes, o.describe())
            with self.subTest(fault=fault, faulty="server"):
                o = self.outcomes[("server", fault, zmtplib.gsspeer())]
                self.applied(o)
                self.assertEqual(o.other_rc, 0, o.describe())
                self.assertEqual(o.other("done")[0]["verified"], 1, o.describe())

    def libzmq(self, role: str, fault: str) -> Outcome:
        """The outcome of FAULT against the libzmq shim (skips when it is not built)."""
        key = (role, fault, zmtplib.libzmq_shim())
        if key not in self.outcomes:
            self.skipTest("libzmq shim not built")
        return self.outcomes[key]

    def test_libzmq_server(self) -> None:
        """Faults reach libzmq as a server: refused ones close, valid ones (PING, MESSAGE in a
        command frame, recased READY names) work, and a client that never sends the empty frame
        leaves it waiting (its 30 s handshake timer)."""
        for fault in ("greeting-mechanism:NULL", "tamper-token"):
            with self.subTest(fault=fault):
                self.refused(self.libzmq("client", fault))
        o = self.libzmq("client", "ping")
        self.applied(o)
        self.assertIn({"event": "received", "kind": "pong", "context": PING_HEX},
                      o.faulty("received"), o.describe())
        o = self.libzmq("client", "message-in-command-frame")
        self.applied(o)
        self.assertIn("echo", [e["kind"] for e in o.faulty("received")], o.describe())
        # libzmq compares names case-sensitively, but Socket-Type it does not find is not
        # checked: the exchange works (docs/zmtp-gssapi.md D9).
        o = self.libzmq("client", "ready-name-case")
        self.applied(o)
        self.assertIn("echo", [e["kind"] for e in o.faulty("received")], o.describe())
        o = self.libzmq("client", "skip-empty-frame")
        self.applied(o)
        self.assertEqual(o.faulty("peer-open")[0]["phase"], "handshake", o.describe())

    def test_libzmq_client(self) -> None:
        """Faults reach libzmq as a client: a tampered echo is refused, PING answered, a higher
        minor version accepted."""
        o = self.libzmq("server", "tamper-token")
        self.refused(o)
        self.assertNotEqual(o.other_rc, 0, o.describe())
        o = self.libzmq("server", "ping")
        self.applied(o)
        self.assertIn({"event": "received", "kind": "pong", "context": PING_HEX},
                      o.faulty("received"), o.describe())
        self.assertEqual(o.other_rc, 0, o.describe())
        o = self.libzmq("server", "greeting-minor:9")
        self.applied(o)
        self.assertEqual(o.other_rc, 0, o.describe())


class Cli(unittest.TestCase):
    """`gsspeer faults` and the usage errors of --fault (no realm needed)."""

    def run_peer(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run gsspeer with ARGS (bounded)."""
        return subprocess.run([zmtplib.gsspeer(), *args], capture_output=True, text=True,
                              timeout=10, check=False)

    def test_catalogue(self) -> None:
        """Every fault name of the scenarios' contract is listed, with phase and roles."""
        listing = self.run_peer("faults", "--json")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        entries = {e["name"]: e for e in map(json.loads, listing.stdout.splitlines())}
        for fault in REFUSED_BOTH + REFUSED_CLIENT_ONLY + ACCEPTED:
            self.assertIn(fault.split(":")[0], entries)
        self.assertEqual(entries["skip-empty-frame"]["roles"], "client")
        self.assertEqual(entries["tamper-token"]["phase"], "data")
        self.assertEqual(entries["oversize"]["arg"], "N")
        text = self.run_peer("faults")
        self.assertEqual(text.returncode, 0)
        self.assertIn("greeting-staged:MS", text.stdout)

    def test_usage_errors(self) -> None:
        """An unknown fault or a bad ARG is a usage error (64) naming it."""
        for args, needle in (
                (["--fault", "no-such"], 'unknown fault "no-such"'),
                (["--fault", "greeting-minor:x"], "greeting-minor needs N"),
                (["--fault", "unknown-flags:zz"], "unknown-flags needs HEX"),
                (["--fault", "tamper-token", "--observe-ms", "0"], "--observe-ms")):
            with self.subTest(args=args):
                r = self.run_peer("zmtp-client", "--connect", "tcp://127.0.0.1:9",
                                  "--service-principal", "zmq@localhost", *args)
                self.assertEqual(r.returncode, 64, r.stderr)
                self.assertIn(needle, r.stderr)
        r = self.run_peer("zmtp-server", "--bind", "tcp://127.0.0.1:0", "--fault",
                          "skip-empty-frame")
        self.assertEqual(r.returncode, 64)
        self.assertIn("client role only", r.stderr)


if __name__ == "__main__":
    taptest.main()
