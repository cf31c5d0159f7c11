#!/usr/bin/env python3
"""The XEP-0233 vector files: current with their generator, and well-formed for other users.

Checks the schema vectors/README.md promises (ids, tcIds, results, flags with notes, expected
fields per result) and the coverage the issue asks for (>= 100 vectors, the XEP-0233 §6 example
in both forms, SSPI with and without ports).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Any

import taptest

VECTORS = Path(taptest.REPO) / "vectors"
FILES = ("xep0233-principals.json", "xep0233-features.json")
RESULTS = {"valid", "acceptable", "invalid"}


def load(name: str) -> dict[str, Any]:
    """One vector file."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def tests_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(group type, test) for every test of DOC."""
    return [(g["type"], t) for g in doc["testGroups"] for t in g["tests"]]


class Files(unittest.TestCase):
    def test_generator_is_current(self) -> None:
        r = subprocess.run([sys.executable, str(VECTORS / "gen-xep0233.py"), "--check"],
                           capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_header(self) -> None:
        for name in FILES:
            doc = load(name)
            self.assertEqual((doc["algorithm"], doc["schema"]), ("XEP-0233", "gssconform-vectors-1"))
            self.assertEqual(doc["numberOfTests"], len(tests_of(doc)), name)

    def test_ids(self) -> None:
        for name in FILES:
            tests = [t for _, t in tests_of(load(name))]
            self.assertEqual([t["tcId"] for t in tests], list(range(1, len(tests) + 1)), name)
            ids = [t["id"] for t in tests]
            self.assertEqual(len(ids), len(set(ids)), name)
            for ident in ids:
                self.assertRegex(ident, r"^[a-z0-9]+(/[a-z0-9]+(-[a-z0-9]+)*)+$")

    def test_flags_and_notes(self) -> None:
        for name in FILES:
            doc = load(name)
            used = {f for _, t in tests_of(doc) for f in t["flags"]}
            self.assertEqual(used, set(doc["notes"]), name)
            for flag, note in doc["notes"].items():
                self.assertRegex(note, r"(XEP-0233|RFC \d+|XEP-0388|XML 1\.0|Namespaces)",
                                 f"{name}: note {flag} cites nothing")

    def test_results(self) -> None:
        for name in FILES:
            for _, t in tests_of(load(name)):
                self.assertIn(t["result"], RESULTS, t["id"])
                self.assertTrue(t["comment"], t["id"])
                if t["result"] != "invalid" or name == FILES[1]:
                    continue
                self.assertIsNone(t["expected"]["principal"], t["id"])

    def test_principal_fields(self) -> None:
        for gtype, t in tests_of(load(FILES[0])):
            self.assertIn(gtype, {"gss", "sspi"})
            self.assertEqual(set(t) - {"tcId"}, {"id", "comment", "hostname", "domain", "realm",
                                                 "port", "result", "flags", "expected"})
            if t["result"] != "invalid":
                self.assertTrue(t["expected"]["principal"].startswith("xmpp/"), t["id"])
                self.assertNotRegex(t["expected"]["principal"], r"\s")

    def test_features_fields(self) -> None:
        for _, t in tests_of(load(FILES[1])):
            self.assertEqual(set(t) - {"tcId"},
                             {"id", "comment", "xml", "result", "flags", "expected"})
            hostname = t["expected"]["hostname"]
            self.assertEqual(hostname is None, t["result"] == "invalid", t["id"])
            if not t["expected"]["status"].startswith("FEATURES_"):
                self.assertIsInstance(t["expected"]["gssapiOffered"], bool, t["id"])


class Coverage(unittest.TestCase):
    def test_at_least_100(self) -> None:
        self.assertGreaterEqual(sum(load(n)["numberOfTests"] for n in FILES), 100)

    def test_xep_example_both_forms(self) -> None:
        found = {t["expected"]["principal"] for _, t in tests_of(load(FILES[0]))
                 if "XepExample" in t["flags"] and t["result"] == "valid"}
        self.assertIn("xmpp/auth42.us.example.com/example.com@EXAMPLE.COM", found)
        self.assertIn("xmpp/auth42.us.example.com/example.com", found)
        features = [t for _, t in tests_of(load(FILES[1])) if "XepExample" in t["flags"]]
        self.assertTrue(any(t["result"] == "valid" for t in features))

    def test_sspi_ports(self) -> None:
        sspi = [t for g, t in tests_of(load(FILES[0])) if g == "sspi"]
        with_port = [t for t in sspi if t["port"] is not None and t["result"] != "invalid"]
        without = [t for t in sspi if t["port"] is None and t["result"] != "invalid"]
        self.assertTrue(any(re.search(r":\d+/", t["expected"]["principal"]) for t in with_port))
        self.assertTrue(any(t["port"] == 5222 for t in with_port))
        self.assertTrue(without)

    def test_every_result_in_both_files(self) -> None:
        for name in FILES:
            self.assertEqual({t["result"] for _, t in tests_of(load(name))}, RESULTS, name)


if __name__ == "__main__":
    taptest.main()
