#!/usr/bin/env python3
"""The runner against fixture candidates that pass, fail, abort, hang, never become ready, flood
output, leave children behind, print a sanitizer report, break a SHOULD, or cannot honour a case:
each gets its verdict, the run ends, nothing survives, and real tools consume the reports."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import unittest

import fixturelib
from fixturelib import Runner, RunnerCase, taptest

EXPECTED = {
    "pass": ("PASS", "PASS"), "fail": ("FAIL", "FAIL"), "abort": ("CRASH", "CRASH"),
    "hang": ("TIMEOUT", "TIMEOUT"), "unready": ("TIMEOUT", "TIMEOUT"),
    "flood": ("PASS", "PASS"), "orphans": ("PASS", "PASS"), "asan": ("CRASH", "CRASH"),
    "rude": ("NON-STRICT", "PASS"), "usage": ("UNIMPLEMENTED", "UNIMPLEMENTED"),
}
JUNIT_XSD = os.path.join(fixturelib.HERE, "junit.xsd")


class SerialRun(unittest.TestCase):
    """One serial run of every fixture candidate over the echo cases."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.runner = Runner()
        cls.proc = cls.runner.gssconform(cls.runner.fixture_args(cases="fixture/*"))
        print("# " + cls.proc.stderr.strip().splitlines()[-2], flush=True)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.runner.cleanup()

    def test_exit_status_is_conformance_failure(self) -> None:
        self.assertEqual(self.proc.returncode, 1, self.proc.stderr[-3000:])

    def test_every_fixture_gets_its_verdict(self) -> None:
        verdicts = self.runner.verdicts()
        for mode, (server, client) in EXPECTED.items():
            name = f"fix-{mode}"
            with self.subTest(mode=mode):
                self.assertEqual(verdicts[("fixture/echo/server", name, "fixture-server", 1)],
                                 server)
                self.assertEqual(verdicts[("fixture/echo/client", name, "fixture-client", 1)],
                                 client)
                self.assertEqual(verdicts[("fixture/feature/fancy", name, "fixture-server", 1)],
                                 "UNIMPLEMENTED")

    def test_nothing_survives(self) -> None:
        self.assertGreater(len(self.runner.recorded_pids()), 30)
        self.assertEqual(self.runner.survivors(), [])

    def test_escaped_child_is_observed(self) -> None:
        for result in self.runner.results()["results"]:
            if result["candidate"] == "fix-orphans" and result["verdict"] == "PASS":
                self.assertEqual(len(result["observations"]["candidate"]["escaped"]), 1)

    def test_timeouts_stay_within_their_deadline(self) -> None:
        # An observation, not a timing assertion: the hang cases were cut by the deadline.
        for result in self.runner.results()["results"]:
            if result["verdict"] == "TIMEOUT":
                self.assertLess(result["elapsed"], result["deadline"] + 10, result)

    def test_flood_is_capped_and_noted(self) -> None:
        result = [r for r in self.runner.results()["results"]
                  if r["candidate"] == "fix-flood" and r["case"] == "fixture/echo/server"][0]
        self.assertTrue(result["observations"]["candidate"]["truncated"])
        path = os.path.join(self.runner.dir, "out", result["artifacts"]["candidate.stderr"])
        self.assertTrue(path.endswith(".gz"), "over 256 KiB: compressed once judged")
        with gzip.open(path, "rb") as handle:
            data = handle.read()
        self.assertLess(len(data), 1100000)
        self.assertIn(b"output truncated", data[-200:])

    def test_crash_reason_cites_signal_or_sanitizer(self) -> None:
        reasons = {(r["candidate"], r["case"]): r["reason"]
                   for r in self.runner.results()["results"]}
        self.assertIn("SIGABRT", reasons[("fix-abort", "fixture/echo/server")])
        self.assertIn("AddressSanitizer", reasons[("fix-asan", "fixture/echo/server")])

    def test_results_json_fields_and_artifacts(self) -> None:
        doc = self.runner.results()
        self.assertEqual(doc["meta"]["specs"], ["fixture"])
        self.assertEqual({c["version"] for c in doc["candidates"]}, {"fixcand 1.0"})
        for result in doc["results"]:
            for key in ("case", "candidate", "role", "verdict", "reason", "observations",
                        "artifacts"):
                self.assertIn(key, result)
            for rel in result["artifacts"].values():
                self.assertTrue(os.path.isfile(os.path.join(self.runner.dir, "out", rel)), rel)

    def test_tap_is_accepted_by_prove(self) -> None:
        tap = os.path.join(self.runner.dir, "out", "results.tap")
        proc = subprocess.run(["prove", "-v", "--exec", "cat", tap], capture_output=True,
                              text=True, timeout=60, check=False)
        self.assertIn(f"Tests=30", proc.stdout)
        self.assertNotIn("Parse errors", proc.stdout)
        self.assertRegex(proc.stdout, r"Failed \d+/30 subtests")

    def test_junit_against_schema_and_tap_formatter(self) -> None:
        junit = os.path.join(self.runner.dir, "out", "junit.xml")
        if shutil.which("xmllint") is None:
            self.skipTest("xmllint missing (libxml2-utils)")
        proc = subprocess.run(["xmllint", "--noout", "--schema", JUNIT_XSD, junit],
                              capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        if shutil.which("tap2junit") is None:
            self.skipTest("tap2junit missing (libtap-formatter-junit-perl)")
        tap = os.path.join(self.runner.dir, "out", "results.tap")
        converted = subprocess.run(["tap2junit", "--name", "gssconform", "-"],
                                   stdin=open(tap, "rb"), capture_output=True, timeout=60,
                                   check=False)
        self.assertEqual(converted.returncode, 0, converted.stderr)
        self.assertEqual(converted.stdout.count(b"<testcase"), 30)
        with open(junit, "rb") as handle:
            ours = handle.read()
        self.assertEqual(ours.count(b"<testcase"), 30)
        self.assertEqual(ours.count(b"<failure"), 10)  # 2 FAIL, 4 CRASH, 4 TIMEOUT

    def test_requirements_report(self) -> None:
        import json
        with open(os.path.join(self.runner.dir, "out", "requirements.json"),
                  encoding="utf-8") as handle:
            cov = json.load(handle)
        self.assertEqual(cov["total"], {"requirements": 4, "covered": 3, "percent": 75.0})
        polite = [r for r in cov["requirements"] if r["id"] == "fixture/3/polite"][0]
        self.assertEqual(polite["cases"], ["fixture/echo/server"])
        self.assertIn({"candidate": "fix-rude", "role": "fixture-server",
                       "verdict": "NON-STRICT", "case": "fixture/echo/server"},
                      polite["results"])


class Expectations(RunnerCase):
    """Profile expectations: disabled -> SKIP, xfail -> XFAIL/XPASS, expected message."""

    def test_xfail_xpass_skip(self) -> None:
        path = os.path.join(self.runner.dir, "expect.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write('[[expectation]]\ncase = "fixture/echo/server"\ncandidate = "fix-fail"\n'
                         'xfail = "echoes the wrong line"\nmessage = "peer.exit"\n'
                         '[[expectation]]\ncase = "fixture/echo/client"\ncandidate = "fix-fail"\n'
                         'disabled = "client mode not shipped"\n'
                         '[[expectation]]\ncase = "fixture/echo/*"\ncandidate = "fix-pass"\n'
                         'role = "fixture-server"\nxfail = "thought broken"\n'
                         '[[expectation]]\ncase = "fixture/echo/server"\ncandidate = "fix-abort"\n'
                         'xfail = "crashes"\nmessage = "SIGSEGV"\n')
        proc = self.runner.gssconform(self.runner.fixture_args(
            ("pass", "fail", "abort"), extra=("--expectations", path)))
        verdicts = self.runner.verdicts()
        self.assertEqual(verdicts[("fixture/echo/server", "fix-fail", "fixture-server", 1)],
                         "XFAIL")
        self.assertEqual(verdicts[("fixture/echo/client", "fix-fail", "fixture-client", 1)],
                         "SKIP")
        self.assertEqual(verdicts[("fixture/echo/server", "fix-pass", "fixture-server", 1)],
                         "XPASS")
        self.assertEqual(verdicts[("fixture/echo/client", "fix-pass", "fixture-client", 1)],
                         "PASS")
        # it crashed with SIGABRT, not the expected SIGSEGV: stays CRASH
        self.assertEqual(verdicts[("fixture/echo/server", "fix-abort", "fixture-server", 1)],
                         "CRASH")
        self.assertEqual(proc.returncode, 1)
        # An expected failure keeps what the case judged, and the matrix shows it.
        actual = {(r["case"], r["candidate"]): r.get("actual_verdict")
                  for r in self.runner.results()["results"]}
        self.assertEqual(actual[("fixture/echo/server", "fix-fail")], "FAIL")
        self.assertEqual(actual[("fixture/echo/server", "fix-pass")], "PASS")
        self.assertIsNone(actual[("fixture/echo/client", "fix-pass")])
        self.assertIsNone(actual[("fixture/echo/server", "fix-abort")])
        with open(os.path.join(self.runner.dir, "out", "index.html"), encoding="utf-8") as page:
            index = page.read()
        self.assertIn("<span class='known'>XFAIL (FAIL)</span>", index)
        self.assertIn("<span class='known'>XPASS (PASS)</span>", index)
        self.assertRegex(index, r"<tr><td>fix-fail</td>.*?<td>FAIL 1</td></tr>")

    def test_all_expected_exits_zero(self) -> None:
        path = os.path.join(self.runner.dir, "expect.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write('[[expectation]]\ncase = "fixture/echo/*"\nxfail = "known bug 12"\n')
        proc = self.runner.gssconform(self.runner.fixture_args(("fail",),
                                                               extra=("--expectations", path)))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(set(self.runner.verdicts().values()), {"XFAIL"})

    def test_strict_turns_should_into_fail(self) -> None:
        proc = self.runner.gssconform(self.runner.fixture_args(("rude",)))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.runner.gssconform(self.runner.fixture_args(("rude",), extra=("--strict",)))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(self.runner.verdicts()[("fixture/echo/server", "fix-rude",
                                                 "fixture-server", 1)], "FAIL")

    def test_broken_reference_peer_is_error_not_candidate_fault(self) -> None:
        # The program exists (a missing one is an input error, input-t) but cannot be executed.
        program = os.path.join(self.runner.dir, "not-a-program")
        with open(program, "w", encoding="utf-8") as handle:
            handle.write("no interpreter line, no ELF header\n")
        os.chmod(program, 0o755)
        profile = os.path.join(self.runner.dir, "peer.toml")
        with open(profile, "w", encoding="utf-8") as handle:
            handle.write(f'[candidate]\nname = "nopeer"\n[roles.fixture-client]\n'
                         f'command = ["{program}", "{{port}}"]\n'
                         f'[roles.fixture-server]\ncommand = ["{program}", "{{port}}"]\n')
        args = self.runner.fixture_args(("pass",))
        args[args.index("--peer") + 1] = profile
        proc = self.runner.gssconform(args)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(set(self.runner.verdicts().values()), {"ERROR"})
        self.assertIn(program, self.runner.results()["results"][0]["reason"])


if __name__ == "__main__":
    taptest.main()
