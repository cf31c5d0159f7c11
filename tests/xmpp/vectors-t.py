#!/usr/bin/env python3
"""The XEP-0233 vector files: current with their generator, and well-formed for other users.

Checks the schema vectors/README.md promises (ids, tcIds, results, flags with notes, expected
fields per result) and the coverage the issue asks for (>= 100 vectors, the XEP-0233 §6 example
in both forms, SSPI with and without ports).
"""

from __future__ import annotations

import re
import unittest

from vectorlib import RESULTS, load, tests_of
import taptest
import vectorlib

FILES = ("xep0233-principals.json", "xep0233-features.json")


class Files(unittest.TestCase):
    def test_generator_is_current(self) -> None:
        vectorlib.assert_generator_current(self, "gen-xep0233.py")

    def test_header(self) -> None:
        for name in FILES:
            vectorlib.assert_header(self, name, "XEP-0233")

    def test_ids(self) -> None:
        for name in FILES:
            vectorlib.assert_ids(self, name)

    def test_flags_and_notes(self) -> None:
        for name in FILES:
            vectorlib.assert_flags_noted(self, name,
                                         r"(XEP-0233|RFC \d+|XEP-0388|XML 1\.0|Namespaces)")

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
