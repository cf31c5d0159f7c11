#!/usr/bin/env python3
"""Ctrl-C (SIGINT to the foreground group) or SIGTERM in the middle of a case: every candidate
and peer process group dies, the realm's KDC stops, partial reports are written, exit 2."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading

from fixturelib import FIXTURES, GSSCONFORM, OUTER_TIMEOUT, PEER, RunnerCase, candidate, taptest

REALM_CASES = os.path.join(FIXTURES, "realmcases")


class Interrupt(RunnerCase):
    """A run interrupted while a candidate hangs leaves nothing behind."""

    def interrupt(self, sig: int, scenarios: str, spec_case: str) -> subprocess.CompletedProcess:
        """Start a run on hanging candidates, send sig once they run, wait for the end."""
        out = os.path.join(self.runner.dir, "out")
        args = [sys.executable, GSSCONFORM, "run", "--scenarios", scenarios, "--spec", "fixture",
                "--case", spec_case, "--peer", PEER, "--candidate", candidate("hang"),
                "--candidate", candidate("orphans"), "--deadline", "120", "--out", out,
                "-j", "1"]  # one case at a time: the survivors below are its two processes
        proc = subprocess.Popen(args, env=self.runner.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            # Ready to interrupt once the hanging candidate and the peer both run.
            stop = threading.Event()
            for _ in range(600):
                if len(self.runner.survivors()) >= 2 or proc.poll() is not None:
                    break
                stop.wait(0.05)
            self.assertIsNone(proc.poll(), "gssconform ended before it could be interrupted")
            self.assertEqual(len(self.runner.survivors()), 2)
            if sig == signal.SIGINT:
                os.killpg(proc.pid, sig)  # what a terminal's Ctrl-C does
            else:
                os.kill(proc.pid, sig)
            out_text, err_text = proc.communicate(timeout=OUTER_TIMEOUT)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(args, proc.returncode, out_text, err_text)

    def check(self, proc: subprocess.CompletedProcess) -> None:
        """Exit 2, nothing left running, partial reports marked interrupted."""
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("stopping every process", proc.stderr)
        self.assertEqual(self.runner.survivors(), [])
        doc = self.runner.results()
        self.assertTrue(doc["meta"]["interrupted"])
        self.assertLess(len(doc["results"]), doc["meta"]["planned"] + 1)
        hang = [r for r in doc["results"] if r["candidate"] == "fix-hang"]
        self.assertTrue(hang, "the case that was running when the signal came is reported")
        for result in hang:
            # Its processes were killed by the harness: never the candidate's fault.
            self.assertEqual(result["verdict"], "ERROR", result["reason"])
            self.assertTrue(result["interrupted"])
            self.assertIn("interrupted", result["reason"])

    def test_ctrl_c(self) -> None:
        self.check(self.interrupt(signal.SIGINT, os.path.join(FIXTURES, "scenarios"),
                                  "fixture/echo/server"))

    def test_sigterm(self) -> None:
        self.check(self.interrupt(signal.SIGTERM, os.path.join(FIXTURES, "scenarios"),
                                  "fixture/echo/client"))

    def test_ctrl_c_stops_the_realm(self) -> None:
        if shutil.which("krb5kdc", path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
            self.skipTest("krb5kdc not installed")
        proc = self.interrupt(signal.SIGINT, REALM_CASES, "fixture/realm/*")
        self.check(proc)
        realm = self.runner.results()["meta"]["realm"]
        self.assertTrue(realm["started"], realm)
        self.assertFalse(os.path.exists(realm["directory"]))
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as handle:
                        cmdline = handle.read()
                except OSError:
                    continue
                self.assertNotIn(realm["directory"].encode(), cmdline)


if __name__ == "__main__":
    taptest.main()
