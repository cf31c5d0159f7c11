#!/usr/bin/env python3
"""Docs that are true (issue 15): every test vector that cites one of the project's own
documents quotes text that is in it, and every case id a user-facing document names exists in
the catalogue (reports/README.md's example once named a case that did not)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import taptest  # noqa: E402

REPO = taptest.REPO
sys.path.insert(0, os.path.join(REPO, "runner"))
from gssconform.scenario import load_spec  # noqa: E402

SPEC_DOCS = ("23/ZMTP", "37/ZMTP", "38/ZMTP-GSSAPI")   # external: not in the repository
USER_DOCS = ("README.md", "reports/README.md", "docs/ci.md", "docs/candidates.md",
             "docs/candidates-bundled.md", "docs/peer.md", "docs/zmtp-gssapi.md")


def read(rel: str) -> str:
    with open(os.path.join(REPO, rel), encoding="utf-8") as handle:
        return handle.read()


class Quotes(unittest.TestCase):
    def test_own_documents_hold_the_quotes(self) -> None:
        with open(os.path.join(REPO, "vectors", "zmtp-gssapi.json"), encoding="utf-8") as handle:
            doc = json.load(handle)
        own = 0
        for group in doc["testGroups"]:
            for test in group["tests"]:
                spec = test["spec"]
                where = f"tcId {test['tcId']} ({test['id']})"
                if spec["doc"] in SPEC_DOCS:
                    continue
                self.assertTrue(os.path.isfile(os.path.join(REPO, spec["doc"])),
                                f"{where} cites {spec['doc']!r}: no such file in the repository")
                text = read(spec["doc"])
                self.assertIn(spec["quote"], text, f"{where}: quote not in {spec['doc']}")
                heading = spec["section"].split(" (")[0]
                self.assertTrue(re.search(rf"^#+ {re.escape(heading)}", text, re.M),
                                f"{where}: no section {heading!r} in {spec['doc']}")
                own += 1
        self.assertGreater(own, 30, "the vectors citing docs/zmtp-gssapi.md")


class CaseIds(unittest.TestCase):
    def test_named_cases_exist(self) -> None:
        ids = [case.id for case in load_spec(os.path.join(REPO, "scenarios"), "zmtp-gssapi")]
        named = 0
        for rel in USER_DOCS:
            text = read(rel)
            for match in re.finditer(r"(?<![\w/.-])zmtp-gssapi/[a-z0-9*?/_-]*[a-z0-9*]", text):
                glob = match.group(0)
                line = text.count("\n", 0, match.start()) + 1
                self.assertTrue(any(fnmatch.fnmatchcase(i, glob) or
                                    fnmatch.fnmatchcase(i, glob + "/*") for i in ids),
                                f"{rel}:{line}: {glob} names no case of scenarios/")
                named += 1
        self.assertGreater(named, 5)


if __name__ == "__main__":
    taptest.main()
