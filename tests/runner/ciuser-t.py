#!/usr/bin/env python3
"""What a CI user meets on the command line (issue 15): -q names the failing cases, a run that
did not finish says how many cases were not run, `+PROFILE` adds a candidate to the bundled
ones, `run` and `report` default to the same worker count, and a missing program of the user's
own profile is not answered with "run make"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixturelib  # noqa: E402
import taptest  # noqa: E402

sys.path.insert(0, os.path.join(taptest.REPO, "runner"))
from gssconform import cli, reports  # noqa: E402
from gssconform.candidate import bundled  # noqa: E402


class CommandLine(unittest.TestCase):
    def setUp(self) -> None:
        self.runner = fixturelib.Runner()
        self.addCleanup(self.runner.cleanup)

    def test_quiet_names_the_failing_cases(self) -> None:
        done = self.runner.gssconform(self.runner.fixture_args(("pass", "fail"),
                                                               extra=("-q",)))
        self.assertEqual(done.returncode, 1, done.stderr)
        lines = done.stderr.splitlines()
        self.assertIn("gssconform: FAIL: fixture/echo/server [fix-fail fixture-server]: MUST: "
                      "the reference client got its line back (peer.exit = 1)", lines)
        self.assertFalse([line for line in lines if "fix-pass" in line], "passes not listed")
        self.assertFalse([line for line in lines if line.startswith("[")], "no progress")

    def test_not_run_count(self) -> None:
        results = [{"verdict": "PASS"}] * 15
        self.assertEqual(reports.summary_line(results, 40),
                         "15 results: 15 PASS; 25 of 40 planned cases not run")
        self.assertEqual(reports.summary_line(results, 15), "15 results: 15 PASS")

    def test_interrupted_run_counts_what_did_not_run(self) -> None:
        args = [sys.executable, fixturelib.GSSCONFORM] + self.runner.fixture_args(
            ("hang", "pass"), extra=("-j", "1", "--deadline", "120"))
        proc = subprocess.Popen(args, env=self.runner.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            waiting = threading.Event()
            for _ in range(1200):   # the hanging client and the fixture peer both run
                if len(self.runner.survivors()) >= 2 or proc.poll() is not None:
                    break
                waiting.wait(0.05)
            self.assertIsNone(proc.poll(), "the run ended before it could be interrupted")
            os.killpg(proc.pid, signal.SIGINT)
            _, err = proc.communicate(timeout=fixturelib.OUTER_TIMEOUT)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        self.assertEqual(proc.returncode, 2, err)
        self.assertIn("gssconform: 1 results: 1 ERROR; 3 of 4 planned cases not run", err)

    def test_plus_adds_to_the_bundled_candidates(self) -> None:
        done = self.runner.gssconform(self.runner.fixture_args(
            (), extra=("--candidate", "+" + fixturelib.candidate("pass"))))
        doc = self.runner.results()
        names = [c["name"] for c in doc["candidates"]]
        self.assertEqual(names, bundled(os.path.join(taptest.REPO, "candidates")) + ["fix-pass"],
                         done.stderr)

    def test_run_and_report_share_the_worker_default(self) -> None:
        parser = cli._parser()
        run = parser.parse_args(["run"])
        report = parser.parse_args(["report"])
        self.assertEqual(run.jobs, report.jobs)
        self.assertGreater(run.jobs, 1)

    def test_missing_program_of_own_profile(self) -> None:
        folder = os.path.join(self.runner.dir, "mine")
        os.makedirs(folder)
        profile = os.path.join(folder, "profile.toml")
        with open(profile, "w", encoding="utf-8") as handle:
            handle.write('[candidate]\nname = "mine"\n\n[roles.fixture-server]\n'
                         'command = ["{dir}/../mylib-shim", "server", "{port}"]\n')
        done = self.runner.gssconform(self.runner.fixture_args((), extra=("--candidate",
                                                                          profile)))
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("mylib-shim does not exist or is not executable (a program of your own "
                      "profile: build it or fix the path", done.stderr)
        self.assertNotIn("make", done.stderr)


    def test_crash_reason_quotes_the_assertion(self) -> None:
        """Reason, TAP and JUnit all carry the assertion line, not only "killed by SIGABRT"."""
        done = self.runner.gssconform(self.runner.fixture_args(("assert",),
                                                               cases="fixture/echo/client"))
        self.assertEqual(done.returncode, 1, done.stderr)
        result = self.runner.results()["results"][0]
        line = "shim.c:42: run: Assertion 'rc == 0' failed."
        self.assertEqual((result["verdict"], result["reason"]),
                         ("CRASH", f"candidate crashed: killed by SIGABRT: {line}"))
        for name in ("results.tap", "junit.xml"):
            with open(os.path.join(self.runner.dir, "out", name), encoding="utf-8") as handle:
                text = handle.read()
            self.assertIn("killed by SIGABRT: shim.c:42: run: Assertion", text, name)


    def test_spec_help_says_what_exists(self) -> None:
        """A spec without case files is marked in --spec's help (the XMPP catalogue was
        advertised before it existed)."""
        os.makedirs(os.path.join(self.runner.dir, "tree", "zmtp-gssapi"))
        with open(os.path.join(self.runner.dir, "tree", "zmtp-gssapi", "a.toml"), "w",
                  encoding="utf-8"):
            pass
        self.assertEqual(cli.spec_names(os.path.join(self.runner.dir, "tree")),
                         ["zmtp-gssapi", "xep0233 (no cases yet)"])
        has_xmpp = any(name.endswith(".toml") for _, _, names in os.walk(
            os.path.join(taptest.REPO, "scenarios", "xep0233")) for name in names)
        done = self.runner.gssconform(["run", "--help"])
        self.assertEqual("xep0233 (no cases yet)" in " ".join(done.stdout.split()),
                         not has_xmpp, done.stdout)


if __name__ == "__main__":
    taptest.main()
