#!/usr/bin/env python3
"""Run the C test of the ZMTP GSSAPI mechanism (peer/tests/zmtp/mechanism-t.c), which drives
a client and a server engine against each other in memory, inside a throwaway realm: alice's
client keytab and zmq/localhost's acceptor keytab in one process."""

from __future__ import annotations

import subprocess
import unittest

import taptest
import zmtplib



class Mechanism(unittest.TestCase):
    """The in-memory engine test passes every point in a real realm."""

    def test_engines_in_memory(self) -> None:
        why = zmtplib.missing_tools()
        if why:
            self.skipTest(why)
        program = taptest.program("peer", "tests", "zmtp", "mechanism-t")
        with zmtplib.RealmFixture() as fx:
            proc = subprocess.run([program], env=fx.env(), capture_output=True, text=True,
                                  timeout=60, check=False)
        for line in proc.stdout.splitlines():
            print(f"# {line}", flush=True)
        self.assertEqual(proc.returncode, 0, f"stderr: {proc.stderr}")
        self.assertNotIn("not ok", proc.stdout)
        self.assertRegex(proc.stdout, r"(?m)^1\.\.[1-9][0-9]*$")


if __name__ == "__main__":
    taptest.main()
