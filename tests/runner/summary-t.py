#!/usr/bin/env python3
"""The one-screen summary of `gssconform report`: a column for every verdict, so that each
candidate's row adds up to its number of results (INFO used to be left out)."""

from __future__ import annotations

import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
from gssconform import reports
from gssconform.verdict import VERDICTS
import taptest


def _results(candidate: str, verdicts: list[str]) -> list[dict]:
    return [{"candidate": candidate, "verdict": v, "case": f"c/{i}", "role": "r",
             **({"actual_verdict": "CRASH"} if v == "XFAIL" else {})}
            for i, v in enumerate(verdicts)]


def _rows(table: str) -> dict[str, dict[str, int]]:
    """The table parsed back: candidate -> column label -> count."""
    header, _rule, *lines = table.splitlines()
    labels = header.split()[1:]
    return {line.split()[0]: dict(zip(labels, map(int, line.split()[1:]))) for line in lines
            if ":" not in line}


class SummaryTable(unittest.TestCase):
    def test_every_verdict_counted_and_rows_add_up(self) -> None:
        results = _results("alpha", list(VERDICTS)) + _results("beta", ["INFO", "INFO", "PASS"])
        rows = _rows(reports.summary_table(results, ["alpha", "beta", "gamma"]))
        self.assertEqual(rows["alpha"]["total"], len(VERDICTS))
        self.assertEqual(sum(rows["alpha"].values()) - rows["alpha"]["total"], len(VERDICTS))
        self.assertEqual(rows["beta"]["info"], 2)
        self.assertEqual(rows["beta"]["pass"], 1)
        self.assertEqual(rows["beta"]["total"], 3)
        self.assertEqual(rows["gamma"]["total"], 0, "a candidate without results still has a row")
        table = reports.summary_table(results)
        self.assertIn("alpha: 1 known failures (xfail in its profile), judged 1 CRASH", table,
                      "an expected crash is still named as a crash")

    def test_fits_one_screen(self) -> None:
        table = reports.summary_table(_results("a-long-candidate-name", ["PASS"] * 12345))
        self.assertLessEqual(max(map(len, table.splitlines())), 100)


if __name__ == "__main__":
    taptest.main()
