#!/usr/bin/env python3
"""The SASL vector files (vectors/sasl-layers.json, vectors/sasl-base64.json): current with
their generator, and well-formed for other users.

Checks the schema vectors/README.md promises (tcIds 1..N, unique stable ids, results, flags
with notes, expected/error fields per result) and the coverage the issue asks for (layer
message lengths 0..5 for both roles, all 8 combinations of the layer bits, the max size rules,
authzid cases; base64 empty, '=', padding, whitespace, alphabet, pad bits).
"""

from __future__ import annotations

import json
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import taptest  # noqa: E402

VECTORS = Path(taptest.REPO) / "vectors"
LAYERS, BASE64 = "sasl-layers.json", "sasl-base64.json"
FILES = (LAYERS, BASE64)
RESULTS = {"valid", "acceptable", "invalid"}


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def tests_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(g["type"], t) for g in doc["testGroups"] for t in g["tests"]]


class Files(unittest.TestCase):
    def test_generator_is_current(self) -> None:
        r = subprocess.run([sys.executable, str(VECTORS / "gen-sasl.py"), "--check"],
                           capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_header(self) -> None:
        for name, algorithm in ((LAYERS, "SASL-GSSAPI-LAYERS"), (BASE64, "RFC6120-SASL-BASE64")):
            doc = load(name)
            self.assertEqual((doc["algorithm"], doc["schema"]), (algorithm, "gssconform-vectors-1"))
            self.assertEqual(doc["numberOfTests"], len(tests_of(doc)), name)

    def test_ids(self) -> None:
        for name in FILES:
            tests = [t for _, t in tests_of(load(name))]
            self.assertEqual([t["tcId"] for t in tests], list(range(1, len(tests) + 1)), name)
            ids = [t["id"] for t in tests]
            self.assertEqual(len(ids), len(set(ids)), name)
            for gtype, t in tests_of(load(name)):
                self.assertRegex(t["id"], r"^[a-z0-9]+(/[a-z0-9]+(-[a-z0-9]+)*)+$")
                self.assertTrue(t["id"].startswith(gtype.split("-")[0] + "/"), t["id"])

    def test_flags_and_notes(self) -> None:
        for name in FILES:
            doc = load(name)
            used = {f for _, t in tests_of(doc) for f in t["flags"]}
            self.assertEqual(used, set(doc["notes"]), name)
            for flag, note in doc["notes"].items():
                self.assertRegex(note, r"(RFC \d+|Policy)", f"{name}: note {flag} cites nothing")

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
