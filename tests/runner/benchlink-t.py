#!/usr/bin/env python3
"""The report index links to the benchmark report `make bench` writes into the report folder
(bench/index.html) when it is there, says the benchmarks were not run otherwise, and a bench
run after the report turns that line into the link."""

from __future__ import annotations

import os
import tempfile
import unittest

import taptest
from gssconform import report_html

DOC = {"meta": {"specs": ["fixture"]}, "cases": {}, "candidates": [], "results": [
    {"case": "x/y", "candidate": "cand", "role": "zmtp-server", "verdict": "PASS",
     "reason": "every check passed", "checks": [], "observations": {}, "artifacts": {}}]}


class BenchLink(unittest.TestCase):
    def index(self, out: str) -> str:
        report_html.write(DOC, out)
        with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
            return handle.read()

    def test_not_run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="gssconform-bench-") as out:
            page = self.index(out)
        self.assertIn("benchmarks: not run", page)
        self.assertNotIn("href='bench/index.html'", page)

    def test_linked_when_present(self) -> None:
        with tempfile.TemporaryDirectory(prefix="gssconform-bench-") as out:
            os.makedirs(os.path.join(out, "bench"))
            with open(os.path.join(out, "bench", "index.html"), "w", encoding="utf-8") as handle:
                handle.write("<html></html>\n")
            page = self.index(out)
        self.assertIn("<a href='bench/index.html'>benchmarks</a>", page)
        self.assertNotIn("not run", page)

    def test_bench_after_report_links_it(self) -> None:
        with tempfile.TemporaryDirectory(prefix="gssconform-bench-") as out:
            self.assertIn("benchmarks: not run", self.index(out))
            self.assertFalse(report_html.refresh_bench_link(out), "nothing to link yet")
            os.makedirs(os.path.join(out, "bench"))
            with open(os.path.join(out, "bench", "index.html"), "w", encoding="utf-8") as handle:
                handle.write("<html></html>\n")
            self.assertTrue(report_html.refresh_bench_link(out))
            with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
                page = handle.read()
            self.assertFalse(report_html.refresh_bench_link(out), "already linked")
        self.assertIn("<a href='bench/index.html'>benchmarks</a>", page)
        self.assertNotIn("not run", page)

    def test_no_index_is_left_alone(self) -> None:
        with tempfile.TemporaryDirectory(prefix="gssconform-bench-") as out:
            self.assertFalse(report_html.refresh_bench_link(out))
            self.assertEqual(os.listdir(out), [])


if __name__ == "__main__":
    taptest.main()
