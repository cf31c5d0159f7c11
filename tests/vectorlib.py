"""What the vector-file tests share (tests/xmpp/vectors-t.py, tests/xmpp/sasl-vectors-t.py):
loading a file of vectors/, its tests with their group type, and the checks of the common
schema of vectors/README.md (gssconform-vectors-1) that every file passes the same way. Each
check takes the unittest.TestCase it asserts in."""

from __future__ import annotations

import json
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Any

import taptest

VECTORS = Path(taptest.REPO) / "vectors"
SCHEMA = "gssconform-vectors-1"
RESULTS = {"valid", "acceptable", "invalid"}
# A vector id: lower-case words joined by '-', at least two of them separated by '/'.
ID_PATTERN = r"^[a-z0-9]+(/[a-z0-9]+(-[a-z0-9]+)*)+$"


def load(name: str) -> dict[str, Any]:
    """One vector file of vectors/."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def tests_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(group type, test) for every test of DOC."""
    return [(g["type"], t) for g in doc["testGroups"] for t in g["tests"]]


def assert_generator_current(test: unittest.TestCase, generator: str) -> None:
    """vectors/GENERATOR --check exits 0 and prints nothing on stderr: the files it writes
    are what it would write now."""
    r = subprocess.run([sys.executable, str(VECTORS / generator), "--check"],
                       capture_output=True, text=True, timeout=60, check=False)
    test.assertEqual((r.returncode, r.stderr), (0, ""))


def assert_header(test: unittest.TestCase, name: str, algorithm: str) -> None:
    """File NAME names ALGORITHM and the schema, and counts its tests right."""
    doc = load(name)
    test.assertEqual((doc["algorithm"], doc["schema"]), (algorithm, SCHEMA))
    test.assertEqual(doc["numberOfTests"], len(tests_of(doc)), name)


def assert_ids(test: unittest.TestCase, name: str) -> None:
    """File NAME numbers its tests 1..N (tcId) and gives each a unique id of ID_PATTERN."""
    tests = [t for _, t in tests_of(load(name))]
    test.assertEqual([t["tcId"] for t in tests], list(range(1, len(tests) + 1)), name)
    ids = [t["id"] for t in tests]
    test.assertEqual(len(ids), len(set(ids)), name)
    for ident in ids:
        test.assertRegex(ident, ID_PATTERN)


def assert_flags_noted(test: unittest.TestCase, name: str, cites: str) -> None:
    """File NAME has a note for exactly the flags its tests use, each note citing a source
    (the regular expression CITES)."""
    doc = load(name)
    used = {f for _, t in tests_of(doc) for f in t["flags"]}
    test.assertEqual(used, set(doc["notes"]), name)
    for flag, note in doc["notes"].items():
        test.assertRegex(note, cites, f"{name}: note {flag} cites nothing")
