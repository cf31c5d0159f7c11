#!/usr/bin/env python3
"""Run vectors/capture/zmtp-capture.py against a real KDC and libzmq, compare with the stored capture.

Everything but the Kerberos tokens is deterministic: greetings, the flags of every handshake
frame and the size of every one but INITIATE, the shapes of the data-phase frames and the plaintext inside every wrap token. If libzmq's behaviour or the tool changes,
this fails and vectors/capture/libzmq-4.3.4.json (and the vectors built on it) need a look.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from typing import Any

import taptest

TOOL = os.path.join(taptest.REPO, "vectors", "capture", "zmtp-capture.py")
STORED = os.path.join(taptest.REPO, "vectors", "capture", "libzmq-4.3.4.json")


def _missing() -> str | None:
    """Why the capture cannot run here, or None."""
    for prog in ("krb5kdc", "kdb5_util", "kadmin.local", "cc"):
        if shutil.which(prog, path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
            return f"{prog} not installed"
    probe = subprocess.run(["/usr/bin/python3", "-c", "import zmq; assert zmq.has('gssapi')"],
                           capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        return "python3-zmq with GSSAPI not installed"
    return None


INITIATE = (b"\x08INITIATE").hex()
HANDSHAKE_FRAMES = {"c2s": 3, "s2c": 2}  # INITIATE, (empty command,) READY


def _shape(capture: list[dict[str, Any]]) -> dict[str, Any]:
    """The deterministic part of a capture, keyed by scenario: greetings and handshake frames
    in order; for the data phase, whose heartbeats and retried publications depend on timing,
    the set of distinct frame shapes and of distinct wrap/unwrap plaintexts."""
    shape: dict[str, Any] = {}
    for s in capture:
        entry: dict[str, Any] = {"libzmq": s["libzmq"], "wraps": sorted(set(s["wraps"]))}
        for d in ("c2s", "s2c"):
            # Kerberos tokens vary in length by an octet or two (DER): INITIATE by name only.
            frames = [(f["flags"], "INITIATE" if f["body"].startswith(INITIATE) else f["size"])
                      for f in s[d]["frames"]]
            n = HANDSHAKE_FRAMES[d]
            entry[d] = {"greeting": s[d]["greeting"], "handshake": frames[:n],
                        "data": sorted(set(frames[n:]))}
        shape[s["scenario"]] = entry
    return shape


class Capture(unittest.TestCase):
    """One live capture of all scenarios."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.reason = _missing()
        if cls.reason:
            return
        cls.tmp = tempfile.mkdtemp(prefix="capture-t-")
        out = os.path.join(cls.tmp, "capture.json")
        cls.proc = subprocess.run([TOOL, "--json", out], capture_output=True, text=True,
                                  timeout=180, check=False)
        cls.live = json.load(open(out, encoding="utf-8")) if cls.proc.returncode == 0 else []

    @classmethod
    def tearDownClass(cls) -> None:
        if getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self) -> None:
        if self.reason:
            self.skipTest(self.reason)

    def test_tool_succeeds_and_prints_frames(self) -> None:
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIn("== dealer-router (libzmq 4.3.4)", self.proc.stdout)
        self.assertIn("(empty command)", self.proc.stdout)

    def test_matches_stored_capture(self) -> None:
        with open(STORED, encoding="utf-8") as f:
            stored = _shape(json.load(f))
        self.assertEqual(_shape(self.live), stored)

    def test_wrapped_plaintexts_are_logged(self) -> None:
        wraps = {s["scenario"]: s["wraps"] for s in self.live}
        self.assertIn("wrap 0168656c6c6f", wraps["dealer-router"], "MORE part 'hello'")
        self.assertIn("wrap 00746f706963", wraps["pubsub"], "4.3.4's lost subscription")


if __name__ == "__main__":
    taptest.main()
