#!/usr/bin/env python3
"""The ZMTP shim contract is declared once: gsspeer and the libzmq shim print the table of
peer/tools/contract.c, the pyzmq shim its own Python copy; all three must agree on the options
and exit statuses, honour what they do not list as unavailable, exit 69 for what they do, and
64 for an option the contract does not know. The runner maps 69 to UNIMPLEMENTED and 64 to
ERROR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import taptest  # noqa: E402

sys.path.insert(0, os.path.join(taptest.REPO, "runner"))
from gssconform import verdict  # noqa: E402

PROGRAMS = {
    "gsspeer": [taptest.program("gsspeer")],
    "libzmq": [taptest.program("candidates", "libzmq", "libzmq-shim")],
    "pyzmq": ["/usr/bin/python3", os.path.join(taptest.REPO, "candidates", "pyzmq", "shim.py")],
}


def run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                          stdin=subprocess.DEVNULL)


class Contract(unittest.TestCase):
    """Three implementations, one table."""

    def tables(self) -> dict[str, dict]:
        out = {}
        for name, argv in PROGRAMS.items():
            proc = run(argv + ["contract", "--json"])
            self.assertEqual(proc.returncode, 0, f"{name}: {proc.stderr}")
            out[name] = json.loads(proc.stdout)
        return out

    def test_same_options_and_exit_statuses(self) -> None:
        tables = self.tables()
        ref = tables["gsspeer"]
        self.assertEqual(ref["exit"], {"ok": 0, "fail": 1, "invalid": 2, "usage": 64,
                                       "unavailable": 69})
        self.assertIn({"name": "interval-ms", "value": True, "roles": "client"}, ref["options"])
        for name, table in tables.items():
            self.assertEqual(table["contract"], "zmtp", name)
            self.assertEqual(table["exit"], ref["exit"], name)
            self.assertEqual(table["options"], ref["options"], name)
        self.assertEqual(tables["gsspeer"]["unavailable"], [])
        self.assertEqual(tables["libzmq"]["unavailable"], ["transcript"])
        self.assertEqual(tables["pyzmq"]["unavailable"], ["transcript"])

    def test_documented(self) -> None:
        with open(os.path.join(taptest.REPO, "docs", "candidates.md"), encoding="utf-8") as f:
            doc = f.read()
        for option in self.tables()["gsspeer"]["options"]:
            if option["name"] in ("bind", "connect"):
                continue
            self.assertIn(f"`--{option['name']}", doc, option["name"])
        self.assertIn("**69**", doc)

    def test_unavailable_exits_69_unknown_exits_64(self) -> None:
        tables = self.tables()
        for name, argv in PROGRAMS.items():
            base = argv + ["zmtp-server", "--bind", "tcp://127.0.0.1:1"]
            for option in tables[name]["unavailable"]:
                proc = run(base + [f"--{option}", "x"])
                self.assertEqual(proc.returncode, 69, f"{name} --{option}: {proc.stderr}")
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertIn(f"--{option}", proc.stderr)
            proc = run(base + ["--no-such-contract-option"])
            self.assertEqual(proc.returncode, 64, f"{name}: {proc.stderr}")
            self.assertIn("no-such-contract-option", proc.stderr)

    def test_runner_mapping(self) -> None:
        class NoCase:
            timeouts = "verdict"
            checks = ()

        v, reason, _ = verdict.judge(
            NoCase(), {"candidate": {"exit": 69, "stderr": "x: --transcript: cannot\n"}}, False)
        self.assertEqual((v, reason), ("UNIMPLEMENTED",
                                       "candidate cannot honour this case (exit 69): "
                                       "x: --transcript: cannot"))
        v, reason, _ = verdict.judge(
            NoCase(), {"candidate": {"exit": 64, "stderr": "x: --bogus: unknown option\n"}}, False)
        self.assertEqual((v, reason), ("ERROR", "usage error: x: --bogus: unknown option"))


if __name__ == "__main__":
    taptest.main()
