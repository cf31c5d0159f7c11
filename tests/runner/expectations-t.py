#!/usr/bin/env python3
"""Expectation files and profile features are validated as strictly as profiles (issue 15): an
entry whose role no candidate plays, whose candidate is not in the run or whose case glob
matches no case, and a claimed feature nobody knows, are input errors (exit 3, file:line: key),
not entries that silently apply nothing."""

from __future__ import annotations

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixturelib  # noqa: E402
import taptest  # noqa: E402


class Strict(unittest.TestCase):
    def setUp(self) -> None:
        self.runner = fixturelib.Runner()
        self.addCleanup(self.runner.cleanup)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.runner.dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def run_with(self, expectations: str, modes=("pass",)) -> tuple[int, str]:
        path = self.write("expect.toml", expectations)
        done = self.runner.gssconform(self.runner.fixture_args(
            modes, extra=("--expectations", path)))
        return done.returncode, done.stderr

    def test_valid_file_applies(self) -> None:
        code, err = self.run_with('[[expectation]]\ncase = "fixture/echo/server"\n'
                                  'role = "fixture-server"\ncandidate = "fix-pass"\n'
                                  'disabled = "not today"\n')
        self.assertEqual(code, 0, err)
        verdicts = self.runner.verdicts()
        self.assertEqual(verdicts[("fixture/echo/server", "fix-pass", "fixture-server", 1)],
                         "SKIP")

    def test_unknown_role(self) -> None:
        code, err = self.run_with('[[expectation]]\ncase = "fixture/*"\n'
                                  'role = "fixture-servre"\nxfail = "x"\n')
        self.assertEqual(code, 3, err)
        self.assertIn("expect.toml:3: expectation[0].role: role 'fixture-servre'", err)

    def test_candidate_not_in_run(self) -> None:
        code, err = self.run_with('[[expectation]]\ncase = "fixture/*"\n'
                                  'candidate = "czmq"\nxfail = "x"\n')
        self.assertEqual(code, 3, err)
        self.assertIn("candidate 'czmq' is not in this run (candidates: fix-pass)", err)

    def test_glob_matching_no_case(self) -> None:
        code, err = self.run_with('[[expectation]]\ncase = "fixture/ecko/*"\nxfail = "x"\n')
        self.assertEqual(code, 3, err)
        self.assertIn("expect.toml:2: expectation[0].case: case glob 'fixture/ecko/*' matches "
                      "no case", err)

    def test_glob_outside_the_selection_is_fine(self) -> None:
        """--case narrows what runs, not what an expectation file may name."""
        code, err = self.run_with('[[expectation]]\ncase = "fixture/feature/*"\nxfail = "x"\n')
        self.assertEqual(code, 0, err)

    def test_unknown_feature(self) -> None:
        with open(fixturelib.candidate("pass"), encoding="utf-8") as handle:
            text = handle.read().replace('features = ["echo"]', 'features = ["ehco"]')
        folder = os.path.join(self.runner.dir, "typo")
        os.makedirs(folder)
        path = os.path.join(folder, "profile.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text.replace("{dir}/../fixcand.py",
                                      os.path.join(fixturelib.FIXTURES, "candidates",
                                                   "fixcand.py")))
        done = self.runner.gssconform(self.runner.fixture_args(()) + ["--candidate", path])
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("candidate.features: unknown feature 'ehco' (did you mean 'echo'?",
                      done.stderr)

    def test_unused_feature_is_a_warning(self) -> None:
        with open(fixturelib.candidate("pass"), encoding="utf-8") as handle:
            text = handle.read().replace('features = ["echo"]', 'features = ["echo", "zzz"]')
        folder = os.path.join(self.runner.dir, "extra")
        os.makedirs(folder)
        path = os.path.join(folder, "profile.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text.replace("{dir}/../fixcand.py",
                                      os.path.join(fixturelib.FIXTURES, "candidates",
                                                   "fixcand.py")))
        done = self.runner.gssconform(self.runner.fixture_args(()) + ["--candidate", path])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("gssconform: warning: " + path + ": candidate.features: 'zzz' is asked "
                      "for by no case", done.stderr)


if __name__ == "__main__":
    taptest.main()
