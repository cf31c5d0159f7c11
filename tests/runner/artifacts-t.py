#!/usr/bin/env python3
"""Bulk artifacts after a case (gssconform.artifacts): a passed case's long transcript is
summarised (first and last records whole, control records kept, bulk data frames elided with
their count, bytes and digest, huge fields cut), every other big file is gzip-compressed whole
and reads back byte for byte; small files are left alone; the case page shows a compressed
transcript's first and last records."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import unittest

import taptest
from gssconform import artifacts, report_html


def transcript(messages: int, big_hex: int = 0) -> list[dict]:
    """A synthetic gsspeer transcript: greeting, handshake, MESSAGE echoes, a PING in the
    middle of them, a close."""
    records = [{"time": "t0", "dir": "out", "kind": "greeting", "hex": "ff00"},
               {"time": "t1", "dir": "in", "kind": "INITIATE", "hex": "0600"}]
    for i in range(messages):
        for direction in ("out", "in"):
            records.append({"time": f"m{i}", "dir": direction, "kind": "MESSAGE",
                            "hex": f"{i:08x}" * 4, "plain": f"{i:04x}"})
        if i == messages // 2:
            records.append({"time": "p", "dir": "in", "kind": "PING", "hex": "0450"})
    if big_hex:
        records.append({"time": "b", "dir": "in", "kind": "MESSAGE", "hex": "ab" * big_hex})
    records.append({"time": "t9", "dir": "local", "kind": "close", "reason": "done"})
    return records


def write_jsonl(path: str, records: list[dict]) -> bytes:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    with open(path, "wb") as handle:
        handle.write(data)
    return data


class Summary(unittest.TestCase):
    def test_bulk_elided_control_kept(self) -> None:
        records = transcript(1000)
        lines = [json.dumps(r).encode() + b"\n" for r in records]
        out = artifacts.summarise(lines)
        kinds = [r["kind"] for r in out]
        self.assertEqual(kinds[:2], ["greeting", "INITIATE"])
        self.assertEqual(kinds[-1], "close")
        self.assertIn("PING", kinds, "a control record in the middle is kept")
        elided = [r for r in out if r["kind"] == "elided"]
        self.assertEqual(len(elided), 2, "one elided stretch each side of the PING")
        self.assertEqual(sum(r["records"] for r in elided) + len(out) - len(elided),
                         len(records), "every record is either kept or counted")
        kept_messages = [r for r in out if r["kind"] == "MESSAGE"]
        self.assertEqual(len(kept_messages), artifacts.HEAD + artifacts.TAIL - 3)
        first = elided[0]
        start = next(i for i, r in enumerate(records) if r["time"] == first["first_time"]
                     and r["kind"] == "MESSAGE")
        digest = hashlib.sha256(b"".join(lines[start:start + first["records"]])).hexdigest()
        self.assertEqual(first["sha256"], digest)
        self.assertEqual(sum(first["wire_bytes"].values()), 16 * first["records"])

    def test_short_transcript_unchanged(self) -> None:
        records = transcript(10)
        out = artifacts.summarise([json.dumps(r).encode() + b"\n" for r in records])
        self.assertEqual(out, records)

    def test_huge_field_cut_with_length_and_digest(self) -> None:
        records = transcript(0, big_hex=1 << 20)
        out = artifacts.summarise([json.dumps(r).encode() + b"\n" for r in records])
        cut = out[-2]["hex"]
        self.assertTrue(cut.startswith("ab" * (artifacts.LONG_KEEP // 2)))
        self.assertLess(len(cut), artifacts.LONG_FIELD)
        self.assertIn(f"{2 << 20} characters", cut)
        self.assertIn(hashlib.sha256(b"ab" * (1 << 20)).hexdigest(), cut)


class Shrink(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="gssconform-artifacts-")
        self.out = self.tmp.name
        self.rel = os.path.join("artifacts", "cand", "case", "zmtp-server")
        self.work = os.path.join(self.out, self.rel)
        os.makedirs(self.work)
        self.map = {}
        self.data = {}
        for name, records in (("peer.transcript.jsonl", transcript(3000)),
                              ("candidate.transcript.jsonl", transcript(3000)),
                              ("small.transcript.jsonl", transcript(3))):
            self.data[name] = write_jsonl(os.path.join(self.work, name), records)
            self.map[name] = os.path.join(self.rel, name)
        self.data["peer.stdout"] = b'{"event":"delivered"}\n' * 20000
        with open(os.path.join(self.work, "peer.stdout"), "wb") as handle:
            handle.write(self.data["peer.stdout"])
        self.map["peer.stdout"] = os.path.join(self.rel, "peer.stdout")

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def test_summarised_compressed_and_left_alone(self) -> None:
        self.assertGreater(len(self.data["peer.transcript.jsonl"]), artifacts.BULK)
        artifacts.shrink(self.work, self.rel, self.map, {"peer.transcript.jsonl"})
        self.assertTrue(self.map["peer.transcript.jsonl"].endswith(".transcript.summary.jsonl"))
        self.assertTrue(self.map["candidate.transcript.jsonl"].endswith(".jsonl.gz"))
        self.assertTrue(self.map["peer.stdout"].endswith("peer.stdout.gz"))
        self.assertEqual(self.map["small.transcript.jsonl"],
                         os.path.join(self.rel, "small.transcript.jsonl"))
        for name in ("candidate.transcript.jsonl", "peer.stdout", "small.transcript.jsonl"):
            with self.subTest(name=name):
                text = artifacts.read_text(os.path.join(self.out, self.map[name]))
                self.assertEqual(text.encode(), self.data[name], "lossless")
        summary = artifacts.read_text(os.path.join(self.out, self.map["peer.transcript.jsonl"]))
        header = json.loads(summary.splitlines()[0])
        self.assertEqual(header["kind"], "summary")
        self.assertEqual(header["sha256"],
                         hashlib.sha256(self.data["peer.transcript.jsonl"]).hexdigest())
        self.assertLess(len(summary), artifacts.BULK)
        left = sorted(os.listdir(self.work))
        self.assertEqual(left, ["candidate.transcript.jsonl.gz", "peer.stdout.gz",
                                "peer.transcript.summary.jsonl", "small.transcript.jsonl"])

    def test_read_text_limit_and_broken_gzip(self) -> None:
        artifacts.shrink(self.work, self.rel, self.map, set())
        path = os.path.join(self.out, self.map["peer.stdout"])
        self.assertEqual(artifacts.read_text(path, 10), '{"event":"')
        with open(path, "r+b") as handle:
            handle.truncate(100)
        with self.assertRaises(OSError):
            artifacts.read_text(path)

    def test_case_page_shows_compressed_transcript(self) -> None:
        artifacts.shrink(self.work, self.rel, self.map, set())
        doc = {"cases": {}, "meta": {}, "results": [
            {"case": "x/y", "candidate": "cand", "role": "zmtp-server", "verdict": "FAIL",
             "reason": "r", "checks": [], "observations": {}, "artifacts": self.map}]}
        page = report_html._case_page(doc, "x/y", "zmtp-server", doc["results"], self.out)
        self.assertIn("INITIATE", page, "first records shown")
        self.assertIn("<code>close</code>", page, "last records shown")
        self.assertIn("records not shown: see the artifact file", page)
        self.assertIn("peer.transcript.jsonl.gz", page, "linked")


if __name__ == "__main__":
    taptest.main()
