#!/usr/bin/env python3
"""docs/peer.md is true (issue 15): its two-terminal walkthrough runs as written (realm up,
server, client, Ctrl-C, realm down), and its fault table is `gsspeer faults --json` row for
row, so the hand copy cannot drift from peer/tools/faults.c."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import taptest  # noqa: E402

REPO = taptest.REPO
DOC = os.path.join(REPO, "docs", "peer.md")
GSSPEER = os.path.join(taptest.build_dir(), "gsspeer")
BOUND = 60.0  # bound on each step (not a timing assertion)


def doc_text() -> str:
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end >= 0 else None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@unittest.skipUnless(os.access(GSSPEER, os.X_OK), "gsspeer not built")
class Walkthrough(unittest.TestCase):
    def test_two_terminals(self) -> None:
        blocks = re.findall(r"```sh\n(.*?)```", section(doc_text(), "## Walkthrough"), re.S)
        self.assertEqual(len(blocks), 3, "terminal 1, terminal 2, finish")
        tmp = tempfile.mkdtemp(prefix="gssconform-walk-")
        realm = os.path.join(tmp, "realm")
        port = str(free_port())

        def as_here(block: str) -> str:
            return (block.replace("/tmp/demo-realm", realm).replace("5555", port)
                    .replace("/tmp/demo-server.jsonl", os.path.join(tmp, "server.jsonl"))
                    .replace("build/gsspeer", GSSPEER))

        env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        server = subprocess.Popen(["bash", "-e", "-c", as_here(blocks[0])], cwd=REPO, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        try:
            first = self.read_line(server)   # krbrealm up's own lines come first
            self.assertEqual(json.loads(first), {"event": "listening",
                                                 "endpoint": f"tcp://127.0.0.1:{port}"})
            client = subprocess.run(["bash", "-e", "-c", as_here(blocks[1])], cwd=REPO, env=env,
                                    capture_output=True, text=True, timeout=BOUND, check=False)
            self.assertEqual(client.returncode, 0, client.stderr)
            events = [json.loads(line) for line in client.stdout.splitlines()]
            self.assertEqual([e["event"] for e in events],
                             ["token-check"] + ["delivered"] * 3 + ["sent", "done"])
            self.assertEqual(events[0]["checked_by"], "mit+rfc4121")
            self.assertEqual(events[-1], {"event": "done", "sent": 3, "received": 3,
                                          "verified": 3})
            os.killpg(server.pid, signal.SIGINT)          # Ctrl-C in terminal 1
            out, err = server.communicate(timeout=BOUND)
            self.assertEqual(server.returncode, 0, err)
            self.assertIn(b'"principal":"alice@GSSCONFORM.TEST","allowed":true', out)
            down = subprocess.run(["bash", "-e", "-c", as_here(blocks[2])], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=BOUND, check=False)
            self.assertEqual(down.returncode, 0, down.stderr)
            self.assertFalse(os.path.exists(realm), "krbrealm down removes the realm")
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.communicate()
            if os.path.exists(realm):
                subprocess.run([os.path.join(REPO, "realm-setup", "krbrealm"), "down", realm],
                               capture_output=True, timeout=BOUND, check=False)
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def read_line(proc: subprocess.Popen) -> bytes:
        """The first stdout line of PROC that is a JSON object, waiting at most BOUND s."""
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        data = b""
        end = time.monotonic() + BOUND
        while time.monotonic() < end:
            lines = [line for line in data.split(b"\n")[:-1] if line.startswith(b"{")]
            if lines:
                selector.close()
                return lines[0]
            if selector.select(max(0.0, end - time.monotonic())):
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                data += chunk
        selector.close()
        raise AssertionError(f"terminal 1 printed no event: {data!r}")


@unittest.skipUnless(os.access(GSSPEER, os.X_OK), "gsspeer not built")
class FaultTable(unittest.TestCase):
    def test_table_is_the_catalogue(self) -> None:
        listed = subprocess.run([GSSPEER, "faults", "--json"], capture_output=True, text=True,
                                timeout=BOUND, check=True).stdout
        want = [f"| `{f['name']}` | {('`' + f['arg'] + '`') if f['arg'] else ''} | "
                f"{f['phase']} | {f['roles']} | {f['description']} |"
                for f in map(json.loads, listed.splitlines())]
        part = section(doc_text(), "## Fault injection")
        rows = [line.rstrip() for line in part.splitlines()
                if line.startswith("| `") and line.count(" | ") == 4]
        self.assertGreater(len(want), 30)
        self.assertEqual(rows, want,
                         "docs/peer.md's fault table differs from `gsspeer faults --json`; "
                         "the rows it should have:\n" + "\n".join(want))


if __name__ == "__main__":
    taptest.main()
