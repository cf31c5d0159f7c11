#!/usr/bin/env python3
"""Observations built from a gsspeer transcript: transcript_hex holds the wire bytes of every
record (and only those; _in and _out one direction each), so confidentiality checks search what
was on the wire, never the decrypted `plain` field."""

from __future__ import annotations

import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
from gssconform import observe, verdict
from gssconform.scenario import Check
import taptest

TRANSCRIPT = [
    {"dir": "out", "kind": "greeting", "hex": "FF00000000000000017F03"},
    {"dir": "in", "kind": "MESSAGE", "hex": "00420745", "plain": "00deadbeef"},
    {"dir": "local", "kind": "close", "reason": "done"},
    {"raw": "not json"},
]


class TranscriptHex(unittest.TestCase):
    def test_wire_bytes_only_one_line_per_record(self) -> None:
        self.assertEqual(observe.transcript_hex(TRANSCRIPT), "ff00000000000000017f03\n00420745")

    def test_one_direction(self) -> None:
        self.assertEqual(observe.transcript_hex(TRANSCRIPT, "in"), "00420745")
        self.assertEqual(observe.transcript_hex(TRANSCRIPT, "out"), "ff00000000000000017f03")
        peer = observe.side(None, False, None, False, TRANSCRIPT)
        self.assertEqual(peer["transcript_hex_in"], "00420745", "what the other side sent")
        self.assertEqual(peer["transcript_hex_out"], "ff00000000000000017f03")

    def test_side_without_process_has_it(self) -> None:
        obs = {"peer": observe.side(None, False, None, False, TRANSCRIPT)}
        hidden = Check("peer.transcript_hex", "not_contains", "deadbeef", "security", "hidden")
        self.assertTrue(verdict.evaluate(hidden, obs)[0], "plaintext is not wire bytes")
        seen = Check("peer.transcript_hex", "contains", "00420745", "security", "seen")
        self.assertTrue(verdict.evaluate(seen, obs)[0])
        self.assertFalse([k for k in observe.summary(obs)["peer"] if k.startswith("transcript")])


if __name__ == "__main__":
    taptest.main()
