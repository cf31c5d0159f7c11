#!/usr/bin/env python3
"""Progress output of a run: on a terminal one live line redrawn in place with failures printed
above it; elsewhere (CI logs) plain lines without escape codes; nothing with --quiet."""

from __future__ import annotations

import io
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
from gssconform.progress import Progress
import taptest

PASSED = {"case": "spec/a/one", "candidate": "c", "role": "zmtp-server", "verdict": "PASS",
          "reason": "all checks passed"}
FAILED = {"case": "spec/a/two", "candidate": "c", "role": "zmtp-client", "verdict": "FAIL",
          "reason": "MUST: the thing (x = 1)"}


class Stream(io.StringIO):
    """A text stream that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def run(tty: bool, quiet: bool = False) -> str:
    stream = Stream(tty)
    progress = Progress(2, stream=stream, quiet=quiet)
    progress.finished(PASSED, False)
    progress.finished(FAILED, True)
    progress.close()
    return stream.getvalue()


class ProgressOutput(unittest.TestCase):
    def test_terminal_live_line(self) -> None:
        text = run(tty=True)
        self.assertIn("\r\033[K[1/2] failures 0 00:00  PASS", text)
        self.assertIn("\r\033[KFAIL: spec/a/two [c zmtp-client]: MUST: the thing (x = 1)\n", text,
                      "a failure is printed on a line of its own, above the live line")
        self.assertIn("\r\033[K[2/2] failures 1 00:00  FAIL", text)
        self.assertTrue(text.endswith("\n"), "the live line is ended when the run closes")

    def test_plain_lines_elsewhere(self) -> None:
        self.assertEqual(run(tty=False),
                         "[1/2] PASS          spec/a/one [c zmtp-server]\n"
                         "[2/2] FAIL          spec/a/two [c zmtp-client]: MUST: the thing (x = 1)\n")

    def test_quiet(self) -> None:
        self.assertEqual(run(tty=True, quiet=True), "")
        self.assertEqual(run(tty=False, quiet=True), "")


if __name__ == "__main__":
    taptest.main()
