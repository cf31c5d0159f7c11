#!/usr/bin/env python3
"""End to end: the runner with the real realm, the real reference peer (gsspeer) and the bundled
candidates on two smoke cases; transcripts, traces and KDC lines land in the artifacts."""

from __future__ import annotations

import os
import unittest

from fixturelib import FIXTURES, Runner, taptest

SCENARIOS = os.path.join(FIXTURES, "zmtp")
BUILD = taptest.build_dir()
NEEDED = [os.path.join(BUILD, "gsspeer"),
          os.path.join(BUILD, "candidates", "libzmq", "libzmq-shim")]


@unittest.skipUnless(all(os.path.exists(p) for p in NEEDED), f"needs {NEEDED} (make)")
class Smoke(unittest.TestCase):
    """gsspeer, libzmq and pyzmq as server and client against the reference peer."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.runner = Runner()
        cls.proc = cls.runner.gssconform(
            ["run", "--scenarios", SCENARIOS, "--spec", "zmtp-gssapi", "-j", "2",
             "--candidate", "gsspeer", "--candidate", "libzmq", "--candidate", "pyzmq",
             "--out", os.path.join(cls.runner.dir, "out")])
        cls.out = os.path.join(cls.runner.dir, "out")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.runner.cleanup()

    def test_all_pass(self) -> None:
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-3000:])
        verdicts = self.runner.verdicts()
        self.assertEqual(len(verdicts), 6)
        self.assertEqual(set(verdicts.values()), {"PASS"}, verdicts)

    def test_artifacts_and_observations(self) -> None:
        for result in self.runner.results()["results"]:
            with self.subTest(case=result["case"], candidate=result["candidate"]):
                for name in ("peer.transcript.jsonl", "peer.krb5trace", "kdc.log",
                             "candidate.stderr"):
                    self.assertIn(name, result["artifacts"])
                with open(os.path.join(self.out, result["artifacts"]["kdc.log"]),
                          encoding="utf-8") as handle:
                    self.assertIn("TGS_REQ", handle.read())
        doc = self.runner.results()
        self.assertEqual(doc["meta"]["realm"]["realm"], "GSSCONFORM.TEST")
        versions = {c["name"]: c["version"] for c in doc["candidates"]}
        self.assertTrue(versions["gsspeer"].startswith("gsspeer "), versions)

    def test_case_page_has_transcript(self) -> None:
        page = os.path.join(self.out, "cases", "zmtp-gssapi__smoke__echo-server--zmtp-server.html")
        with open(page, encoding="utf-8") as handle:
            text = handle.read()
        self.assertIn("Reference peer transcript (decoded)", text)
        self.assertIn("INITIATE", text)
        self.assertIn("KRB5_TRACE of the reference peer", text)


if __name__ == "__main__":
    taptest.main()
