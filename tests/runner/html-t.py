#!/usr/bin/env python3
"""index.html and a case page open in headless Chromium: the screenshot is taken, the matrix is
rendered (the filter script ran and counted its rows), and the console shows no message."""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import unittest

from fixturelib import Runner, taptest

BROWSER_TIMEOUT = 120  # generous bound on one headless Chromium invocation


def chromium(profile: str, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throwaway profile; killed by process group on expiry."""
    argv = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--window-size=1200,900", *args]
    env = dict(os.environ, HOME=profile)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"chromium did not finish within {BROWSER_TIMEOUT} s") from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # helpers (zygote, gpu) of this browser
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(argv, proc.returncode, out.decode(errors="replace"),
                                       err.decode(errors="replace"))


def console_lines(stderr: str) -> list[str]:
    """The page console messages Chromium logged (INFO:CONSOLE lines)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@unittest.skipIf(shutil.which("chromium") is None, "chromium not installed (deps/ensure)")
class Browser(unittest.TestCase):
    """The static report renders in a real browser without errors."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.runner = Runner()
        proc = cls.runner.gssconform(cls.runner.fixture_args(("pass", "fail", "abort", "rude"),
                                                             cases="fixture/*"))
        assert proc.returncode == 1, proc.stderr
        cls.out = os.path.join(cls.runner.dir, "out")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.runner.cleanup()

    def test_detects_console_errors(self) -> None:
        # The check below is only worth something if a broken page is caught.
        page = os.path.join(self.runner.dir, "broken.html")
        with open(page, "w", encoding="utf-8") as handle:
            handle.write("<html><body><script>nosuch();</script></body></html>")
        proc = chromium(os.path.join(self.runner.dir, "p0"), "--enable-logging=stderr", "--v=0",
                        "--dump-dom", f"file://{page}")
        self.assertTrue(any("nosuch" in line for line in console_lines(proc.stderr)),
                        proc.stderr[-2000:])

    def test_index_screenshot_and_matrix(self) -> None:
        shot = os.path.join(self.runner.dir, "index.png")
        index = f"file://{os.path.join(self.out, 'index.html')}"
        proc = chromium(os.path.join(self.runner.dir, "p1"), f"--screenshot={shot}", index)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        with open(shot, "rb") as handle:
            head = handle.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", head[16:24]), (1200, 900))
        print(f"# screenshot {os.path.getsize(shot)} bytes", flush=True)
        proc = chromium(os.path.join(self.runner.dir, "p2"), "--enable-logging=stderr", "--v=0",
                        "--dump-dom", index)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertEqual(console_lines(proc.stderr), [])
        dom = proc.stdout
        self.assertIn('<span id="visible">3</span>', dom)  # set by the filter script
        self.assertEqual(len(re.findall(r'<tr data-case="fixture/', dom)), 3)
        self.assertEqual(len(re.findall(r'<td class="cell"', dom)), 12)
        for verdict in ("PASS", "FAIL", "CRASH", "NON-STRICT", "UNIMPLEMENTED"):
            self.assertIn(f'data-verdicts="{verdict}"', dom)

    def test_case_page(self) -> None:
        page = os.path.join(self.out, "cases", "fixture__echo__server--fixture-server.html")
        proc = chromium(os.path.join(self.runner.dir, "p3"), "--enable-logging=stderr", "--v=0",
                        "--dump-dom", f"file://{page}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertEqual(console_lines(proc.stderr), [])
        self.assertIn("A server MUST echo every line it receives.", proc.stdout)
        self.assertIn("killed by SIGABRT", proc.stdout)
        self.assertIn("Candidate stderr", proc.stdout)

    def test_requirements_page(self) -> None:
        page = os.path.join(self.out, "requirements.html")
        proc = chromium(os.path.join(self.runner.dir, "p4"), "--enable-logging=stderr", "--v=0",
                        "--dump-dom", f"file://{page}")
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertEqual(console_lines(proc.stderr), [])
        self.assertIn("3/4 requirements covered (75.0%)", proc.stdout)
        self.assertEqual(proc.stdout.count('class="uncovered"'), 1)


if __name__ == "__main__":
    taptest.main()
