"""Helpers of the runner tests: drive ./gssconform on the fixture spec as a subprocess,
track every pid the fixture programs record, and make sure none survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
import taptest

REPO = taptest.REPO
GSSCONFORM = os.path.join(REPO, "gssconform")
FIXTURES = os.path.join(HERE, "fixtures")
SCENARIOS = os.path.join(FIXTURES, "scenarios")
PEER = os.path.join(FIXTURES, "peer", "profile.toml")
MODES = ("pass", "fail", "abort", "hang", "unready", "flood", "orphans", "asan", "rude", "usage")
OUTER_TIMEOUT = 240  # generous bound on one gssconform invocation (not a timing assertion)


def candidate(mode: str) -> str:
    """The profile path of a fixture candidate."""
    return os.path.join(FIXTURES, "candidates", mode, "profile.toml")


class Runner:
    """A scratch folder, a pid file the fixtures append to, and gssconform invocations."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="gssconform-test-")
        self.dir = self.tmp.name
        self.pidfile = os.path.join(self.dir, "pids")

    def env(self) -> dict[str, str]:
        """The environment of gssconform (fixtures record pids through FIXTURE_PIDS)."""
        return dict(os.environ, FIXTURE_PIDS=self.pidfile)

    def fixture_args(self, modes=MODES, out: str = "out", cases: str = "fixture/echo/*",
                     extra: tuple = ()) -> list[str]:
        """`run` arguments for the fixture spec with the given fixture candidates."""
        # -j 1 unless EXTRA says otherwise: the 2 s deadline is for one case at a time on a
        # shared machine (run's default is 3 workers).
        args = ["run", "--scenarios", SCENARIOS, "--spec", "fixture", "--peer", PEER,
                "--deadline", "2", "--out", os.path.join(self.dir, out), "--case", cases,
                "-j", "1"]
        for mode in modes:
            args += ["--candidate", candidate(mode)]
        return args + list(extra)

    def gssconform(self, args: list[str]) -> subprocess.CompletedProcess:
        """Run ./gssconform to completion (bounded by OUTER_TIMEOUT, group killed on expiry)."""
        proc = subprocess.Popen([sys.executable, GSSCONFORM] + args, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=OUTER_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(f"gssconform {args} did not finish: {err[-2000:]}") from None
        return subprocess.CompletedProcess(args, proc.returncode, out, err)

    def results(self, out: str = "out") -> dict:
        """The results.json of a report folder."""
        with open(os.path.join(self.dir, out, "results.json"), encoding="utf-8") as handle:
            return json.load(handle)

    def verdicts(self, out: str = "out") -> dict[tuple, str]:
        """(case, candidate, role, repeat) -> verdict."""
        return {(r["case"], r["candidate"], r["role"], r["repeat"]): r["verdict"]
                for r in self.results(out)["results"]}

    def recorded_pids(self) -> list[int]:
        """Every pid a fixture program recorded."""
        try:
            with open(self.pidfile, encoding="ascii") as handle:
                return [int(line) for line in handle if line.strip()]
        except FileNotFoundError:
            return []

    def survivors(self) -> list[int]:
        """Recorded pids that still run (zombies waiting for a reaper do not count)."""
        alive = []
        for pid in self.recorded_pids():
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                    state = handle.read().rsplit(")", 1)[1].split()[0]
                with open(f"/proc/{pid}/environ", "rb") as handle:
                    ours = f"FIXTURE_PIDS={self.pidfile}".encode() in handle.read().split(b"\0")
            except (OSError, IndexError):
                continue
            if state != "Z" and ours:
                alive.append(pid)
        return alive

    def cleanup(self) -> None:
        """Kill any survivor (so a failing test still leaves nothing running), drop files."""
        for pid in self.survivors():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.tmp.cleanup()


class RunnerCase(unittest.TestCase):
    """A TestCase that gives each test a fresh Runner (self.runner), cleaned up after it."""

    runner: Runner

    def setUp(self) -> None:
        self.runner = Runner()

    def tearDown(self) -> None:
        self.runner.cleanup()
