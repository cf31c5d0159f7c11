#!/usr/bin/env python3
"""The runner's incremental KDC log reader (realm.KdcLog): each read parses only what was
appended since the last one, a line still being written is left for later, positions taken by
one case see exactly the requests logged after them, concurrent readers lose nothing; and the
same requests as the whole-log parser (krbrealm's Realm.kdc_log)."""

from __future__ import annotations

import os
import tempfile
import threading
import unittest

import krbrealm
import taptest
from gssconform.realm import KdcLog

ETYPES = "(1 etypes {aes256-cts-hmac-sha1-96(18)}) 127.0.0.1"


def line(kind: str, client: str, server: str) -> str:
    """One krb5kdc 1.20 request line."""
    return (f"Dec 07 17:44:20 vm krb5kdc[2948](info): {kind} {ETYPES}: ISSUE: authtime "
            f"1796665460, etypes {{rep=aes256-cts-hmac-sha1-96(18), tkt=aes256-cts-hmac-sha1-96"
            f"(18), ses=aes256-cts-hmac-sha1-96(18)}}, {client} for {server}\n")


class Incremental(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="gssconform-kdclog-")
        self.path = os.path.join(self.dir.name, "kdc.log")
        self.log = KdcLog(self.path, krbrealm.parse_kdc_log_line)
        self.parsed = 0
        parse = krbrealm.parse_kdc_log_line

        def counting(text: str):
            self.parsed += 1
            return parse(text)
        self.log._parse = counting

    def tearDown(self) -> None:
        self.dir.cleanup()

    def append(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text)

    def test_missing_file_is_empty(self) -> None:
        self.assertEqual(self.log.mark(), 0)
        self.assertEqual(self.log.since(0), [])

    def test_only_new_lines_are_parsed(self) -> None:
        self.append(line("AS_REQ", "alice@R", "krbtgt/R@R") + "other line\n")
        mark = self.log.mark()
        self.assertEqual((mark, self.parsed), (1, 2))
        self.append(line("TGS_REQ", "alice@R", "zmq/localhost@R"))
        got = self.log.since(mark)
        self.assertEqual([(r.kind, r.server) for r in got], [("TGS_REQ", "zmq/localhost@R")])
        self.assertEqual(self.parsed, 3, "the first two lines were not parsed again")
        self.assertEqual(len(self.log.since(0)), 2)

    def test_partial_line_waits_for_its_newline(self) -> None:
        whole = line("TGS_REQ", "bob@R", "xmpp/example.com@R")
        self.append(whole[:40])
        mark = self.log.mark()
        self.assertEqual((mark, self.log.since(mark)), (0, []))
        self.append(whole[40:])
        self.assertEqual([r.client for r in self.log.since(mark)], ["bob@R"])

    def test_same_requests_as_whole_log_parser(self) -> None:
        lines = [line("AS_REQ", f"u{i}@R", "krbtgt/R@R") for i in range(5)]
        for text in lines:
            self.append(text)
            self.log.mark()
        whole = [krbrealm.parse_kdc_log_line(text) for text in lines]
        self.assertEqual(self.log.since(0), whole)

    def test_truncated_file_is_read_again(self) -> None:
        self.append(line("AS_REQ", "a@R", "krbtgt/R@R") * 3)
        mark = self.log.mark()
        os.unlink(self.path)
        self.append(line("AS_REQ", "b@R", "krbtgt/R@R"))
        self.assertEqual([r.client for r in self.log.since(mark)], ["b@R"])

    def test_concurrent_readers_lose_nothing(self) -> None:
        marks: list[int] = []
        seen: list[int] = []

        def reader() -> None:
            mark = self.log.mark()
            marks.append(mark)
            for _ in range(50):
                self.log.since(mark)
            seen.append(len(self.log.since(0)))

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        for i in range(200):
            self.append(line("TGS_REQ", f"c{i}@R", "zmq/localhost@R"))
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(self.log.since(0)), 200)
        self.assertEqual([r.client for r in self.log.since(0)], [f"c{i}@R" for i in range(200)])
        self.assertEqual(self.parsed, 200, "every line parsed exactly once")


if __name__ == "__main__":
    taptest.main()
