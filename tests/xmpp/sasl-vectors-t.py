#!/usr/bin/env python3
"""The SASL vector files (vectors/sasl-layers.json, vectors/sasl-base64.json): current with
their generator, and well-formed for other users.

Checks the schema vectors/README.md promises (tcIds 1..N, unique stable ids, results, flags
with notes, expected/error fields per result) and the coverage the issue asks for (layer
message lengths 0..5 for both roles, all 8 combinations of the layer bits, the max size rules,
authzid cases; base64 empty, '=', padding, whitespace, alphabet, pad bits).
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vectorlib import RESULTS, load, tests_of  # noqa: E402
import taptest  # noqa: E402
import vectorlib  # noqa: E402

LAYERS, BASE64 = "sasl-layers.json", "sasl-base64.json"
FILES = (LAYERS, BASE64)


class Files(unittest.TestCase):
    def test_generator_is_current(self) -> None:
        vectorlib.assert_generator_current(self, "gen-sasl.py")

    def test_header(self) -> None:
        for name, algorithm in ((LAYERS, "SASL-GSSAPI-LAYERS"), (BASE64, "RFC6120-SASL-BASE64")):
            vectorlib.assert_header(self, name, algorithm)

    def test_ids(self) -> None:
        for name in FILES:
            vectorlib.assert_ids(self, name)
            for gtype, t in tests_of(load(name)):
                self.assertTrue(t["id"].startswith(gtype.split("-")[0] + "/"), t["id"])

    def test_flags_and_notes(self) -> None:
        for name in FILES:
            vectorlib.assert_flags_noted(self, name, r"(RFC \d+|Policy)")

    def test_results_and_fields(self) -> None:
        for name in FILES:
            for gtype, t in tests_of(load(name)):
                self.assertIn(t["result"], RESULTS, t["id"])
                self.assertTrue(t["comment"], t["id"])
                self.assertIn("status", t["expected"], t["id"])
                if t["result"] == "invalid":
                    self.assertIn("error", t, t["id"])
                    self.assertEqual(set(t["error"]), {"field", "offset"}, t["id"])
                    self.assertNotEqual(t["expected"]["status"], "BASE64_OK", t["id"])
                else:
                    self.assertNotIn("error", t, t["id"])
                    if name == LAYERS:
                        self.assertEqual(t["expected"]["status"], "SASL_LAYER_OK", t["id"])

    def test_layer_fields(self) -> None:
        for gtype, t in tests_of(load(LAYERS)):
            self.assertIn(gtype, {"server-layers", "client-layers"})
            keys = {"id", "comment", "input", "result", "flags", "expected", "tcId"}
            if gtype == "client-layers":
                keys.add("offered")
            if t["result"] == "invalid":
                keys.add("error")
            self.assertEqual(set(t), keys, t["id"])
            bytes.fromhex(t["input"])
            if t["result"] != "invalid":
                want = {"status", "layers", "maxSize"} if gtype == "server-layers" else \
                    {"status", "layer", "maxSize", "authzid"}
                self.assertEqual(set(t["expected"]), want, t["id"])


class Coverage(unittest.TestCase):
    def test_lengths_both_roles(self) -> None:
        for gtype in ("server-layers", "client-layers"):
            lengths = {len(bytes.fromhex(t["input"])) for g, t in tests_of(load(LAYERS))
                       if g == gtype}
            self.assertLessEqual(set(range(6)), lengths, gtype)

    def test_every_bit_combination(self) -> None:
        for gtype in ("server-layers", "client-layers"):
            firsts = {bytes.fromhex(t["input"])[0] for g, t in tests_of(load(LAYERS))
                      if g == gtype and len(t["input"]) >= 2}
            self.assertLessEqual(set(range(8)), firsts, gtype)

    def test_rules_present(self) -> None:
        statuses = {t["expected"]["status"] for _, t in tests_of(load(LAYERS))}
        self.assertEqual(statuses, {"SASL_LAYER_OK", "SASL_LAYER_BAD_LENGTH", "SASL_LAYER_NO_BIT",
                                    "SASL_LAYER_SEVERAL_BITS", "SASL_LAYER_NOT_OFFERED",
                                    "SASL_LAYER_UNKNOWN_BITS", "SASL_LAYER_MAXSIZE_NONE",
                                    "SASL_LAYER_BAD_AUTHZID"})
        statuses = {t["expected"]["status"] for _, t in tests_of(load(BASE64))}
        self.assertEqual(statuses, {"BASE64_OK", "BASE64_BAD_LENGTH", "BASE64_WHITESPACE",
                                    "BASE64_BAD_CHAR", "BASE64_BAD_PADDING",
                                    "BASE64_NONZERO_PAD_BITS"})

    def test_payload_conventions(self) -> None:
        texts = {t["text"]: t for g, t in tests_of(load(BASE64)) if g == "payload"}
        self.assertIs(texts[""]["expected"]["present"], False)
        self.assertEqual((texts["="]["result"], texts["="]["expected"]["octets"]), ("valid", ""))

    def test_valid_authzids_are_utf8(self) -> None:
        for gtype, t in tests_of(load(LAYERS)):
            if gtype == "client-layers" and t["result"] != "invalid":
                raw = bytes.fromhex(t["input"])[4:]
                want = t["expected"]["authzid"]
                self.assertEqual(raw.decode("utf-8") if raw else None, want, t["id"])


if __name__ == "__main__":
    taptest.main()
