#!/usr/bin/env python3
"""`-j 2` and `--shard 1/2` + `--shard 2/2` + `merge` give the same verdicts as a serial run,
and `--repeat` multiplies results."""

from __future__ import annotations

import os
import unittest

from fixturelib import Runner, taptest

MODES = ("pass", "fail", "abort", "hang", "rude", "usage", "orphans")


class SameVerdicts(unittest.TestCase):
    """Parallel and sharded runs agree with the serial run."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.runner = Runner()
        cls.serial = cls.runner.gssconform(cls.runner.fixture_args(MODES, "serial", "fixture/*"))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.runner.cleanup()

    def tearDown(self) -> None:
        self.assertEqual(self.runner.survivors(), [])

    def test_serial_run(self) -> None:
        self.assertEqual(self.serial.returncode, 1, self.serial.stderr[-2000:])
        self.assertEqual(len(self.runner.verdicts("serial")), 21)

    def test_jobs_two(self) -> None:
        proc = self.runner.gssconform(self.runner.fixture_args(MODES, "parallel", "fixture/*",
                                                               ("-j", "2")))
        self.assertEqual(proc.returncode, self.serial.returncode, proc.stderr[-2000:])
        self.assertEqual(self.runner.verdicts("parallel"), self.runner.verdicts("serial"))
        self.assertEqual(self.runner.results("parallel")["meta"]["jobs"], 2)

    def test_shards_and_merge(self) -> None:
        sizes = []
        for index in (1, 2):
            proc = self.runner.gssconform(self.runner.fixture_args(
                MODES, f"shard{index}", "fixture/*", ("--shard", f"{index}/2")))
            self.assertIn(proc.returncode, (0, 1), proc.stderr[-2000:])
            sizes.append(len(self.runner.verdicts(f"shard{index}")))
        self.assertEqual(sizes, [11, 10])
        merged = os.path.join(self.runner.dir, "merged")
        proc = self.runner.gssconform(["merge", os.path.join(self.runner.dir, "shard1"),
                                       os.path.join(self.runner.dir, "shard2"), "--out", merged])
        self.assertEqual(proc.returncode, self.serial.returncode, proc.stderr)
        self.assertEqual(self.runner.verdicts("merged"), self.runner.verdicts("serial"))
        doc = self.runner.results("merged")
        for result in doc["results"]:
            for rel in result["artifacts"].values():
                self.assertTrue(os.path.isfile(os.path.join(merged, rel)), rel)
        self.assertTrue(os.path.isfile(os.path.join(merged, "index.html")))

    def test_merge_rejects_overlap(self) -> None:
        folder = os.path.join(self.runner.dir, "serial")
        proc = self.runner.gssconform(["merge", folder, folder, "--out",
                                       os.path.join(self.runner.dir, "twice")])
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("more than one shard", proc.stderr)

    def test_repeat(self) -> None:
        proc = self.runner.gssconform(self.runner.fixture_args(("pass",), "repeat", "fixture/*",
                                                               ("--repeat", "3", "-j", "3")))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        verdicts = self.runner.verdicts("repeat")
        self.assertEqual(len(verdicts), 9)
        self.assertEqual({key[3] for key in verdicts}, {1, 2, 3})


if __name__ == "__main__":
    taptest.main()
