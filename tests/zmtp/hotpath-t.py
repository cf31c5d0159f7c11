#!/usr/bin/env python3
"""gsspeer's batched hot path (issue 17) delivers what the per-message one did: a PUSH stream
written in batches arrives whole and in order with one transcript line per frame, a server's
batched `delivered` lines are all there, 1 MiB frames (read in one go, sent from the
mechanism's buffer) come back byte for byte, and --bench prints counts instead of events.
Speed itself belongs in bench/ (docs/bench.md), not here."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time

import taptest
import zmtplib

SERVICE = ["--service-principal", "zmq@localhost"]
MODES = ([], ["--plaintext"])


def received_totals(srv: zmtplib.Endpoint, total: int, timeout: float) -> list[int]:
    """The {"received":N} totals a --bench server printed, once the last one reaches TOTAL
    (or TIMEOUT seconds passed, or it exited): polled like Endpoint.wait_for."""
    deadline = time.monotonic() + timeout
    while True:
        totals = [e["received"] for e in srv.events if "event" not in e]
        if (totals and totals[-1] >= total) or srv.proc.exited or time.monotonic() >= deadline:
            return totals
        srv.proc.wait_exit(min(deadline, time.monotonic() + 0.01))


class HotPath(zmtplib.RealmCase):
    """Real realm, gsspeer on both sides."""

    def test_push_stream_arrives_whole_and_in_order(self) -> None:
        g = zmtplib.gsspeer()
        count, size = 3000, 100  # about 300 KiB: several 64 KiB batches
        for mode in MODES:
            with self.subTest(mode=mode), tempfile.TemporaryDirectory() as tmp:
                transcript = os.path.join(tmp, "client.jsonl")
                with zmtplib.Endpoint(g, self.fx.env(), ["--socket-type", "PULL"] + mode) as srv:
                    result = zmtplib.run_client(
                        g, self.fx.env(), srv.endpoint,
                        SERVICE + ["--socket-type", "PUSH", "--count", str(count), "--size",
                                   str(size), "--transcript", transcript] + mode,
                        timeout_ms=30000)
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertEqual(result.named("sent"), [{"event": "sent", "count": count}])
                    srv.wait_for("delivered", 30, count)
                delivered = srv.named("delivered")
                self.assertEqual(len(delivered), count)
                got = [(d["parts"][0]["len"], d["parts"][0]["sha256"]) for d in delivered]
                want = [(size, hashlib.sha256(zmtplib.payload(k, size)).hexdigest())
                        for k in range(count)]
                self.assertEqual(got, want, "every message, in order, with its own bytes")
                out = [f for f in zmtplib.read_transcript(transcript)
                       if f.get("dir") == "out" and f.get("kind") == "MESSAGE"]
                self.assertEqual(len(out), count, "one transcript line per frame sent")

    def test_one_mib_echo(self) -> None:
        g = zmtplib.gsspeer()
        size = 1 << 20
        for mode in MODES:
            with self.subTest(mode=mode):
                with zmtplib.Endpoint(g, self.fx.env(), mode) as srv:
                    result = zmtplib.run_client(
                        g, self.fx.env(), srv.endpoint,
                        SERVICE + ["--count", "3", "--size", str(size), "--parts", "2"] + mode,
                        timeout_ms=30000)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.named("done")[-1]["verified"], 3, result.events)
                parts = [p for d in srv.named("delivered") for p in d["parts"]]
                want = [hashlib.sha256(zmtplib.payload(k, size)).hexdigest()
                        for k in range(3) for _ in range(2)]
                self.assertEqual([p["sha256"] for p in parts], want)

    def test_bench_mode_counts_instead_of_events(self) -> None:
        g = zmtplib.gsspeer()
        env = self.fx.env()
        with zmtplib.Endpoint(g, env, ["--socket-type", "PULL", "--bench"]) as srv:
            push = zmtplib.run_client(g, env, srv.endpoint,
                                      SERVICE + ["--socket-type", "PUSH", "--count", "500"])
            self.assertEqual(push.returncode, 0, push.stderr)
            totals = received_totals(srv, 500, 30)
        self.assertEqual(totals[-1:], [500], srv.events)
        self.assertEqual(totals, sorted(totals), "totals only grow")
        self.assertEqual(srv.named("delivered"), [], "no delivered events with --bench")
        with zmtplib.Endpoint(g, env, ["--bench"]) as srv:
            echo = zmtplib.run_client(g, env, srv.endpoint,
                                      SERVICE + ["--count", "50", "--bench"])
        self.assertEqual(echo.returncode, 0, echo.stderr)
        self.assertEqual([e for e in echo.events if "event" not in e],
                         [{"received": 1}, {"received": 50}], "the first and the last echo")
        self.assertEqual(echo.named("done")[-1]["verified"], 50)
        self.assertEqual(echo.named("delivered"), [])


if __name__ == "__main__":
    taptest.main()
