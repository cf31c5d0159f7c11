#!/usr/bin/env python3
"""candidates/skeleton/skeleton-shim.c, the C shim a binding author copies (issue 15): its
command line is the contract's option table (`gsspeer contract --json`: every option of a role
accepted, the other role's refused with 64, an unknown one 64, a bad number 2, an option it
cannot honour 69), its event writers print what the runner's contract check accepts with the
digests the contract defines, and a run of the catalogue with it unfilled is UNIMPLEMENTED,
never a pass."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import taptest  # noqa: E402

REPO = taptest.REPO
sys.path.insert(0, os.path.join(REPO, "runner"))
from gssconform import observe  # noqa: E402

SHIM = os.path.join(taptest.build_dir(), "candidates", "skeleton", "skeleton-shim")
GSSPEER = os.path.join(taptest.build_dir(), "gsspeer")
BOUND = 60  # seconds for one program (not a timing assertion)
ROLES = {"server": "zmtp-server", "client": "zmtp-client"}
ENDPOINT = {"zmtp-server": "--bind", "zmtp-client": "--connect"}


def shim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHIM, *args], capture_output=True, text=True, timeout=BOUND,
                          check=False)


@unittest.skipUnless(os.access(SHIM, os.X_OK) and os.access(GSSPEER, os.X_OK), "not built")
class CommandLine(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        done = subprocess.run([GSSPEER, "contract", "--json"], capture_output=True, text=True,
                              timeout=BOUND, check=True)
        cls.contract = json.loads(done.stdout)

    def start(self, role: str, *args: str) -> subprocess.CompletedProcess:
        return shim(role, ENDPOINT[role], "tcp://127.0.0.1:1", *args)

    def test_every_contract_option(self) -> None:
        for option in self.contract["options"]:
            if option["name"] in ("bind", "connect"):
                continue
            args = [f"--{option['name']}"] + (["1"] if option["value"] else [])
            for role in ROLES.values():
                done = self.start(role, *args)
                mine = option["roles"] in ("both", role.split("-")[1])
                with self.subTest(option=option["name"], role=role):
                    if not mine:
                        self.assertEqual(done.returncode, 64, done.stderr)
                    elif option["name"] == "transcript":
                        self.assertEqual(done.returncode, 69, done.stderr)
                        self.assertIn("--transcript: cannot honour this option", done.stderr)
                    else:   # parsed, then the unwritten role: 69 with its own message
                        self.assertEqual(done.returncode, 69, done.stderr)
                        self.assertIn("is not written yet", done.stderr)

    def test_exit_statuses_are_the_contracts(self) -> None:
        self.assertEqual(self.contract["exit"], {"ok": 0, "fail": 1, "invalid": 2, "usage": 64,
                                                 "unavailable": 69})
        self.assertEqual(self.start("zmtp-server", "--sokcet-type", "ROUTER").returncode, 64)
        self.assertEqual(self.start("zmtp-client", "--count").returncode, 64)
        self.assertEqual(self.start("zmtp-client", "--count", "ten").returncode, 2)
        self.assertEqual(shim("zmtp-client").returncode, 64, "no --connect")
        self.assertEqual(shim("zmtp-router").returncode, 64)
        self.assertEqual(shim("--version").returncode, 0)


@unittest.skipUnless(os.access(SHIM, os.X_OK), "not built")
class Events(unittest.TestCase):
    def test_sample_events(self) -> None:
        done = shim("sample-events")
        self.assertEqual(done.returncode, 0, done.stderr)
        count, bad = observe.violations(done.stdout, False, observe.EVENTS["zmtp-gssapi"])
        self.assertEqual((count, bad), (0, []))
        events = [json.loads(line) for line in done.stdout.splitlines()]
        data = bytes((0 * 31 + i) & 0xFF for i in range(40))
        part = {"len": 40, "sha256": hashlib.sha256(data).hexdigest(), "head": data[:32].hex()}
        self.assertEqual(events[2], {"event": "delivered", "parts": [part, part]})
        self.assertEqual(events[-1], {"event": "error", "reason": 'sample "reason" with a\ttab'})
        self.assertEqual(done.stderr, 'skeleton-shim: sample "reason" with a\ttab\n')


@unittest.skipUnless(os.access(SHIM, os.X_OK), "not built")
class Unfilled(unittest.TestCase):
    def test_a_run_is_unimplemented(self) -> None:
        tmp = tempfile.mkdtemp(prefix="gssconform-skeleton-")
        try:
            os.symlink(SHIM, os.path.join(tmp, "my-shim"))
            shutil.copy(os.path.join(REPO, "candidates", "skeleton", "profile.toml.example"),
                        os.path.join(tmp, "profile.toml"))
            out = os.path.join(tmp, "out")
            done = subprocess.run([sys.executable, os.path.join(REPO, "gssconform"), "run",
                                   "--candidate", os.path.join(tmp, "profile.toml"),
                                   "--case", "zmtp-gssapi/handshake/echo/*", "--out", out, "-q"],
                                  capture_output=True, text=True, timeout=240, check=False)
            with open(os.path.join(out, "results.json"), encoding="utf-8") as handle:
                results = json.load(handle)["results"]
            self.assertEqual([(r["verdict"], r["role"]) for r in results],
                             [("UNIMPLEMENTED", "zmtp-client"), ("UNIMPLEMENTED", "zmtp-server")],
                             done.stderr)
            self.assertIn("not written yet", results[0]["reason"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    taptest.main()
