"""Shared pieces of the mutation tests (tests/zmtp/mutation-t.py, tests/xmpp/mutation-t.py,
tests/xmpp/mutation-client-t.py): gsspeer's deviation table and one bounded end-to-end
`gssconform.mutation` run whose kill matrix the test then inspects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import taptest


def gsspeer(*args: str) -> subprocess.CompletedProcess:
    """`gsspeer ARGS`, bounded to 10 s, output captured as text."""
    return subprocess.run([taptest.program("gsspeer"), *args], capture_output=True, text=True,
                          timeout=10, check=False)


def deviation_rows() -> list[dict]:
    """`gsspeer deviations --json` as a list of rows (AssertionError when it fails)."""
    proc = gsspeer("deviations", "--json")
    if proc.returncode != 0:
        raise AssertionError(f"gsspeer deviations --json: exit {proc.returncode}: {proc.stderr}")
    return [json.loads(line) for line in proc.stdout.splitlines()]


@dataclass
class MutationRun:
    """What one end-to-end mutation run left: its output, exit status, matrix and index."""
    proc: subprocess.CompletedProcess
    matrix: dict
    index_html: str
    has_html: bool


def run_mutation(args: list[str], timeout: float = 240) -> MutationRun:
    """`python3 -m gssconform.mutation --out TMP --build BUILD ARGS` in a temporary folder; the
    run must exit 0 (AssertionError with its output otherwise)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report")
        env = dict(os.environ, PYTHONPATH=os.path.join(taptest.REPO, "runner"))
        proc = subprocess.run(
            [sys.executable, "-m", "gssconform.mutation", "--out", out,
             "--build", taptest.build_dir(), *args],
            capture_output=True, text=True, timeout=timeout, env=env, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"gssconform.mutation {' '.join(args)}: exit "
                                 f"{proc.returncode}\n{proc.stdout}{proc.stderr}")
        with open(os.path.join(out, "mutation.json"), encoding="utf-8") as f:
            matrix = json.load(f)
        try:
            with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
                index = f.read()
        except OSError:
            index = ""
        return MutationRun(proc, matrix, index,
                           os.path.exists(os.path.join(out, "mutation.html")))
