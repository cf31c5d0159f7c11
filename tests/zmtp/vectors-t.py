#!/usr/bin/env python3
"""Check vectors/zmtp-gssapi.json against itself and against an independent decoder.

The file's own consistency (schema, unique ids, hex, flags explained by notes, spec references)
and every vector's verdict: a strict decoder written here from docs/zmtp-gssapi.md (not from the
generator) must reproduce the expected fields of every valid vector and the error field and
offset of every invalid one; acceptable vectors must be rejected by the strict decoder and
decoded to the expected fields by the lenient one. The C codec's own run over the same file is
peer/tests/zmtp/vectors-t.c.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unittest
from typing import Any, Callable

import taptest

VECTORS = os.path.join(taptest.REPO, "vectors", "zmtp-gssapi.json")
GENERATOR = os.path.join(taptest.REPO, "vectors", "gen-zmtp-gssapi.py")
LEVELS = {"MUST", "SHOULD", "MAY", "de-facto", "security"}
EXPECTED_KEYS = {
    "greeting": {"major", "minor", "mechanism", "as_server", "padding"},
    "frame": {"more", "long", "command", "size", "body"},
    "command": {"name", "data"},
    "ready-metadata": {"properties"},
    "initiate": {"token"},
    "message": {"token"},
    "wrapped-plaintext": {"flags", "more", "command", "body"},
}
GROUP_TYPES = set(EXPECTED_KEYS)


class DecodeError(Exception):
    """A decode failure naming the grammar field and the offset of its first octet."""

    def __init__(self, field: str, offset: int) -> None:
        super().__init__(f"{field} at offset {offset}")
        self.field = field
        self.offset = offset


def _need(data: bytes, offset: int, n: int, field: str) -> bytes:
    if len(data) - offset < n:
        raise DecodeError(field, offset)
    return data[offset:offset + n]


def decode_greeting(data: bytes, lenient: bool) -> dict[str, Any]:
    """The 64-octet ZMTP 3.x greeting with mechanism GSSAPI."""
    if len(data) != 64:
        raise DecodeError("greeting", 0)
    if data[0] != 0xFF:
        raise DecodeError("signature", 0)
    if data[9] != 0x7F:
        raise DecodeError("signature", 9)
    if data[10] < 3:
        raise DecodeError("version-major", 10)
    if data[12:32] != b"GSSAPI" + bytes(14):
        raise DecodeError("mechanism", 12)
    if data[32] > 1 and not lenient:
        raise DecodeError("as-server", 32)
    if any(data[33:]) and not lenient:
        raise DecodeError("filler", 33)
    return {"major": data[10], "minor": data[11], "mechanism": "GSSAPI", "as_server": data[32],
            "padding": data[1:9].hex()}


def decode_frame(data: bytes, lenient: bool) -> dict[str, Any]:
    """One whole frame: flags, size, body."""
    flags = _need(data, 0, 1, "flags")[0]
    if flags & 0xF8 or (flags & 0x04 and flags & 0x01):
        raise DecodeError("flags", 0)
    if flags & 0x02:
        size = int.from_bytes(_need(data, 1, 8, "size"), "big")
        if size >> 63:
            raise DecodeError("size", 1)
        if size < 256 and not lenient:
            raise DecodeError("size", 1)
        head = 9
    else:
        size = _need(data, 1, 1, "size")[0]
        head = 2
    body = _need(data, head, size, "body")
    if len(data) != head + size:
        raise DecodeError("trailing", head + size)
    return {"more": bool(flags & 1), "long": bool(flags & 2), "command": bool(flags & 4),
            "size": size, "body": body.hex()}


def _command_name(data: bytes, at: int) -> tuple[str, int]:
    """The command name starting at AT; returns it and the offset of the data."""
    n = _need(data, at, 1, "command-name")[0]
    if n == 0:
        raise DecodeError("command-name", at + 1)
    name = _need(data, at + 1, n, "command-name")
    for i, c in enumerate(name):
        if not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            raise DecodeError("command-name", at + 1 + i)
    return name.decode(), at + 1 + n


def decode_command(data: bytes, lenient: bool, at: int = 0) -> dict[str, Any]:
    """A command body; the data of PING, PONG and ERROR is checked against their grammar."""
    del lenient
    name, pos = _command_name(data, at)
    rest = data[pos:]
    if name == "PING":
        _need(data, pos, 2, "ping-ttl")
        if len(rest) - 2 > 16:
            raise DecodeError("ping-context", pos + 2)
    elif name == "PONG" and len(rest) > 16:
        raise DecodeError("ping-context", pos)
    elif name == "ERROR":
        n = _need(data, pos, 1, "error-reason")[0]
        if len(rest) - 1 < n:
            raise DecodeError("error-reason", pos + 1)
        if len(rest) - 1 > n:
            raise DecodeError("trailing", pos + 1 + n)
    return {"name": name, "data": rest.hex()}


def decode_metadata(data: bytes, lenient: bool) -> dict[str, Any]:
    """READY properties: name-length name u32be(value-length) value, names unique ignoring case
    (lenient: duplicates kept in order, any name octets)."""
    pos, out, seen = 0, [], set()
    while pos < len(data):
        n = data[pos]
        if n == 0:
            raise DecodeError("name", pos + 1)
        name = _need(data, pos + 1, n, "name")
        if not lenient:
            for i, c in enumerate(name):
                if not (chr(c).isascii() and (chr(c).isalnum() or chr(c) in "-_.+")):
                    raise DecodeError("name", pos + 1 + i)
            if name.lower() in seen:
                raise DecodeError("name", pos)
        seen.add(name.lower())
        pos += 1 + n
        size = int.from_bytes(_need(data, pos, 4, "value"), "big")
        pos += 4
        if size > 0x7FFFFFFF or len(data) - pos < size:
            raise DecodeError("value", pos)
        out.append([name.decode(), data[pos:pos + size].hex()])
        pos += size
    return {"properties": out}


def _token_body(expected_name: str) -> Callable[[bytes, bool], dict[str, Any]]:
    """A decoder of "NAME u32be(length) token" with nothing after the token."""
    want = expected_name.encode()

    def decode(data: bytes, lenient: bool) -> dict[str, Any]:
        if _need(data, 0, 1, "command-name")[0] != len(want):
            raise DecodeError("command-name", 0)
        if _need(data, 1, len(want), "command-name") != want:
            raise DecodeError("command-name", 1)
        pos = 1 + len(want)
        n = int.from_bytes(_need(data, pos, 4, "token-length"), "big")
        # An empty INITIATE token is harmless (the acceptor rejects it); an empty MESSAGE is not.
        if n == 0 and not (lenient and expected_name == "INITIATE"):
            raise DecodeError("token-length", pos)
        token = _need(data, pos + 4, n, "token")
        if len(data) > pos + 4 + n:
            raise DecodeError("trailing", pos + 4 + n)
        return {"token": token.hex()}

    return decode


def decode_plaintext(data: bytes, lenient: bool) -> dict[str, Any]:
    """The plaintext inside a wrap token: one flags octet (00/01/02/04/08; lenient: any mix of
    bits 3-0 without COMMAND+MORE), then the body, a command when COMMAND is set."""
    flags = _need(data, 0, 1, "flags")[0]
    if flags & 0xF0 or flags & 0x03 == 0x03:
        raise DecodeError("flags", 0)
    if not lenient and flags not in (0x00, 0x01, 0x02, 0x04, 0x08):
        raise DecodeError("flags", 0)
    if flags & 0x02:
        decode_command(data, lenient, at=1)
    return {"flags": flags, "more": bool(flags & 1), "command": bool(flags & 2),
            "body": data[1:].hex()}


def subscription(flags: int, body: bytes) -> dict[str, str] | None:
    """How a PUB reads a part: 00 + 01/00 topic, COMMAND SUBSCRIBE/CANCEL, the 04/08 bits."""
    if flags == 0 and len(body) >= 1 and body[0] in (0, 1):
        return {"kind": ("cancel", "subscribe")[body[0]], "topic": body[1:].hex()}
    if flags == 2:
        name, pos = _command_name(body, 0)
        if name in ("SUBSCRIBE", "CANCEL"):
            return {"kind": name.lower(), "topic": body[pos:].hex()}
    if flags in (4, 8):
        return {"kind": "subscribe" if flags == 4 else "cancel", "topic": body.hex()}
    return None


DECODERS: dict[str, Callable[[bytes, bool], dict[str, Any]]] = {
    "greeting": decode_greeting,
    "frame": decode_frame,
    "command": decode_command,
    "ready-metadata": decode_metadata,
    "initiate": _token_body("INITIATE"),
    "message": _token_body("MESSAGE"),
    "wrapped-plaintext": decode_plaintext,
}


def load() -> dict[str, Any]:
    """The vector file, parsed strictly (duplicate keys are an error)."""

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate key in {keys}")
        return dict(pairs)

    with open(VECTORS, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_dupes)


DOC = load()


class Schema(unittest.TestCase):
    """The file's own consistency."""

    def test_top_level(self) -> None:
        self.assertEqual(DOC["algorithm"], "ZMTP-GSSAPI")
        self.assertEqual(DOC["schema"], "gssconform-vectors-1")
        total = sum(len(g["tests"]) for g in DOC["testGroups"])
        self.assertEqual(DOC["numberOfTests"], total)
        self.assertGreaterEqual(total, 60)
        self.assertEqual({g["type"] for g in DOC["testGroups"]}, GROUP_TYPES)

    def test_ids(self) -> None:
        tests = [t for g in DOC["testGroups"] for t in g["tests"]]
        self.assertEqual([t["tcId"] for t in tests], list(range(1, len(tests) + 1)))
        ids = [t["id"] for t in tests]
        self.assertEqual(len(ids), len(set(ids)), "ids are unique")
        for g in DOC["testGroups"]:
            for t in g["tests"]:
                self.assertRegex(t["id"], rf"^{re.escape(g['type'])}/[a-z0-9.-]+$")

    def test_fields(self) -> None:
        used = set()
        for g in DOC["testGroups"]:
            for t in g["tests"]:
                m = t["id"]
                self.assertRegex(t["input"], r"^([0-9a-f]{2})*$", m)
                self.assertIn(t["result"], {"valid", "invalid", "acceptable"}, m)
                self.assertTrue(t["comment"], m)
                spec = t["spec"]
                self.assertEqual(set(spec), {"doc", "section", "quote", "level"}, m)
                self.assertIn(spec["level"], LEVELS, m)
                self.assertTrue(spec["quote"].strip(), m)
                if t["result"] == "invalid":
                    self.assertNotIn("expected", t, m)
                    self.assertEqual(set(t["error"]), {"field", "offset"}, m)
                    self.assertLessEqual(t["error"]["offset"], len(t["input"]) // 2, m)
                else:
                    self.assertNotIn("error", t, m)
                    self.assertEqual(set(t["expected"]) - {"subscription"},
                                     EXPECTED_KEYS[g["type"]], m)
                used.update(t["flags"])
        self.assertEqual(used, set(DOC["notes"]), "every flag has a note and every note a user")

    def test_generator_up_to_date(self) -> None:
        proc = subprocess.run([sys.executable, GENERATOR, "--check"], capture_output=True,
                              text=True, timeout=60, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)


def _verdict_problem(decoder: Callable[[bytes, bool], dict[str, Any]],
                     t: dict[str, Any]) -> str | None:
    """Why vector T disagrees with DECODER, or None when it agrees."""
    data = bytes.fromhex(t["input"])

    def attempt(lenient: bool) -> dict[str, Any] | DecodeError:
        try:
            return decoder(data, lenient)
        except DecodeError as e:
            return e

    strict, lenient = attempt(False), attempt(True)
    if t["result"] == "invalid":
        want = (t["error"]["field"], t["error"]["offset"])
        for got in (strict, lenient):
            if not isinstance(got, DecodeError):
                return f"decoded {got}, expected error {want}"
            if (got.field, got.offset) != want:
                return f"error {(got.field, got.offset)}, expected {want}"
        return None
    if t["result"] == "acceptable" and not isinstance(strict, DecodeError):
        return "the strict decoder accepts an 'acceptable' vector"
    got = strict if t["result"] == "valid" else lenient
    if isinstance(got, DecodeError):
        return f"rejected: {got}"
    if "subscription" in t["expected"]:
        if "flags" in got:
            got["subscription"] = subscription(got["flags"], bytes.fromhex(got["body"]))
        else:
            got["subscription"] = subscription(2, data)
    if got != t["expected"]:
        return f"decoded {got}, expected {t['expected']}"
    return None


def _group_test(group: dict[str, Any]) -> Callable[[unittest.TestCase], None]:
    decoder = DECODERS[group["type"]]

    def run(self: unittest.TestCase) -> None:
        problems = []
        for t in group["tests"]:
            problem = _verdict_problem(decoder, t)
            if problem is not None:
                problems.append(f"{t['id']}: {problem}")
        self.assertEqual(problems, [])

    run.__doc__ = f"every {group['type']} vector decodes as declared"
    return run


class Vectors(unittest.TestCase):
    """One TAP point per group: each vector's verdict under the independent decoder."""


for _group in DOC["testGroups"]:
    setattr(Vectors, "test_" + _group["type"].replace("-", "_"), _group_test(_group))


if __name__ == "__main__":
    taptest.main()
