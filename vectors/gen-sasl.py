#!/usr/bin/env python3
"""Write the SASL GSSAPI vectors: vectors/sasl-layers.json and vectors/sasl-base64.json.

sasl-layers.json: RFC 4752 §3.3 security layer messages as they come out of GSS_Unwrap, the
server's (exactly 4 octets) and the client's (4 octets and an optional authzid), judged against
the rules below. sasl-base64.json: RFC 6120 §6.4.2 payload encodings (strict RFC 4648 base64,
"=" for zero octets).

The outcomes are computed here by this script's own small rule functions (never by the
reference peer); the rules and the policies behind them are stated in vectors/README.md.

    vectors/gen-sasl.py            rewrite both JSON files
    vectors/gen-sasl.py --check    exit 1 when a committed file differs from this script

tests/xmpp/sasl-vectors-t.py runs --check; peer/tests/xmpp/sasl-t.c and
peer/tests/util/base64-t.c consume every vector.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import vectorgen  # beside this script

HERE = Path(__file__).resolve().parent
LAYERS = HERE / "sasl-layers.json"
BASE64 = HERE / "sasl-base64.json"

SCHEMA = "gssconform-vectors-1"

NONE, INTEGRITY, CONFIDENTIALITY = 1, 2, 4
KNOWN = NONE | INTEGRITY | CONFIDENTIALITY

# --------------------------------------------------------------------------- layer flags

LAYER_NOTES: dict[str, str] = {
    "BadLength": "RFC 4752 §3.1 (paraphrase): the server's layer message is exactly 4 "
                 "octets (bit-mask, 3-octet maximum size); the client's reply is at least 4 "
                 "octets, the authorization identity following.",
    "NoLayer": "RFC 4752 §3.3 (paraphrase): the first octet is a bit-mask of security layers; "
               "a mask with no bit names no layer, so nothing can be selected.",
    "EveryCombination": "One of the 8 combinations of the three layer bits of RFC 4752 §3.3 "
                        "(1 no security layer, 2 integrity, 4 confidentiality).",
    "UnknownBits": "RFC 4752 §3.3 defines bits 1, 2 and 4 only. A client selecting another bit "
                   "selects nothing the server offered; a server message with no defined bit "
                   "offers nothing a client can select.",
    "UnknownBitsIgnored": "Policy (RFC 4752 §3.3, paraphrase: bits that are not understood "
                          "are negotiated off): bits a client does not know, offered beside a "
                          "defined bit, are ignored and never selected; a strict reader may "
                          "refuse the message.",
    "SeveralLayers": "RFC 4752 §3.1 (paraphrase): the client's first octet is the bit-mask of "
                     "the ONE selected security layer; several bits select nothing.",
    "NotOffered": "RFC 4752 §3.1 (paraphrase): the server verifies that the client selected a "
                  "security layer it offered.",
    "MaxSizeWithNone": "RFC 4752 §3.1 (paraphrase): with no security layer (only bit 1 offered "
                       "by the server, bit 1 selected by the client) the maximum size is 0.",
    "MaxSizeWithLayer": "RFC 4752 §3.3: with an integrity or confidentiality layer the 3 octets "
                        "are the maximum size of a protected message the sender can receive, "
                        "any 24-bit big-endian value.",
    "ZeroMaxSizeWithLayer": "Policy: RFC 4752 §3.3 puts no lower bound on the maximum size "
                            "that goes with a layer; 0 is read as it is (using the layer is the "
                            "peer's problem, not the message's).",
    "NoAuthzid": "RFC 4752 §3.1 (paraphrase): the authorization identity follows the 4 octets "
                 "and may be absent; exactly 4 octets means none (RFC 6120 §6.3.8: a client "
                 "sends one only to act for another entity).",
    "Authzid": "RFC 4752 §3.1 (paraphrase): octets 5 onwards are the UTF-8 authorization "
               "identity, not NUL-terminated; whether it is authorized is the server's policy "
               "(RFC 6120 §6.3.8), not the message's.",
    "AuthzidNotUtf8": "RFC 4752 §3.1 (paraphrase): the authorization identity is UTF-8; "
                      "octets that are not well-formed UTF-8 (RFC 3629: overlong forms, "
                      "surrogates, stray continuation octets) make the reply invalid "
                      "(RFC 6120 §6.5.6 invalid-authzid).",
    "AuthzidNul": "Policy: a NUL octet in the authorization identity is refused (RFC 4752 "
                  "§3.1, paraphrase: the identity is not NUL-terminated; a NUL would "
                  "truncate the name for C readers; RFC 6120 §6.5.6 invalid-authzid).",
}

# --------------------------------------------------------------------------- layer rules


def server_rule(msg: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """(status, result, error) of a server layer message."""
    if len(msg) != 4:
        return "SASL_LAYER_BAD_LENGTH", "invalid", {"field": "length", "offset": len(msg)}
    layers, size = msg[0], int.from_bytes(msg[1:4], "big")
    if layers == 0:
        return "SASL_LAYER_NO_BIT", "invalid", {"field": "layers", "offset": 0}
    if layers & KNOWN == 0:
        return "SASL_LAYER_UNKNOWN_BITS", "invalid", {"field": "layers", "offset": 0}
    if layers & KNOWN == NONE and size != 0:
        return "SASL_LAYER_MAXSIZE_NONE", "invalid", {"field": "max-size", "offset": 1}
    return "SASL_LAYER_OK", "acceptable" if layers & ~KNOWN else "valid", None


def authzid_error(octets: bytes) -> int | None:
    """Offset (within OCTETS) of the first octet that makes the authzid invalid, or None."""
    nul = octets.find(b"\0")
    try:
        octets.decode("utf-8", errors="strict")
        bad = None
    except UnicodeDecodeError as e:
        bad = e.start
    found = [o for o in (nul if nul >= 0 else None, bad) if o is not None]
    return min(found) if found else None


def client_rule(msg: bytes, offered: int) -> tuple[str, str, dict[str, Any] | None]:
    """(status, result, error) of a client layer reply against OFFERED."""
    if len(msg) < 4:
        return "SASL_LAYER_BAD_LENGTH", "invalid", {"field": "length", "offset": len(msg)}
    layer, size = msg[0], int.from_bytes(msg[1:4], "big")
    if layer == 0:
        return "SASL_LAYER_NO_BIT", "invalid", {"field": "layer", "offset": 0}
    if layer & ~KNOWN:
        return "SASL_LAYER_UNKNOWN_BITS", "invalid", {"field": "layer", "offset": 0}
    if layer & (layer - 1):
        return "SASL_LAYER_SEVERAL_BITS", "invalid", {"field": "layer", "offset": 0}
    if layer & offered == 0:
        return "SASL_LAYER_NOT_OFFERED", "invalid", {"field": "layer", "offset": 0}
    if layer == NONE and size != 0:
        return "SASL_LAYER_MAXSIZE_NONE", "invalid", {"field": "max-size", "offset": 1}
    bad = authzid_error(msg[4:])
    if bad is not None:
        return "SASL_LAYER_BAD_AUTHZID", "invalid", {"field": "authzid", "offset": 4 + bad}
    return "SASL_LAYER_OK", "valid", None


def server_vector(name: str, comment: str, msg: bytes, flags: list[str]) -> dict[str, Any]:
    status, result, error = server_rule(msg)
    t: dict[str, Any] = {"id": f"server/{name}", "comment": comment, "input": msg.hex(),
                         "result": result, "flags": flags}
    if error is None:
        t["expected"] = {"status": status, "layers": msg[0],
                         "maxSize": int.from_bytes(msg[1:4], "big")}
    else:
        t["expected"] = {"status": status}
        t["error"] = error
    return t


def client_vector(name: str, comment: str, msg: bytes, offered: int,
                  flags: list[str]) -> dict[str, Any]:
    status, result, error = client_rule(msg, offered)
    t: dict[str, Any] = {"id": f"client/{name}", "comment": comment, "input": msg.hex(),
                         "offered": offered, "result": result, "flags": flags}
    if error is None:
        t["expected"] = {"status": status, "layer": msg[0],
                         "maxSize": int.from_bytes(msg[1:4], "big"),
                         "authzid": msg[4:].decode("utf-8") if len(msg) > 4 else None}
    else:
        t["expected"] = {"status": status}
        t["error"] = error
    return t


def size3(n: int) -> bytes:
    return n.to_bytes(3, "big")


LAYER_NAMES = {0: "nothing", 1: "none", 2: "integrity", 3: "none-integrity",
               4: "confidentiality", 5: "none-confidentiality", 6: "integrity-confidentiality",
               7: "all"}


def server_tests() -> list[dict[str, Any]]:
    v = []
    for n in range(6):
        msg = (bytes([NONE]) + size3(0) + b"\0")[:n]
        v.append(server_vector(f"length-{n}", f"a {n}-octet message (bit-mask 01 and max size 0 "
                               "as far as it goes)", msg, [] if n == 4 else ["BadLength"]))
    for bits in range(8):
        for size in (0, 65536):
            flags = ["EveryCombination"]
            if bits == 0:
                flags.append("NoLayer")
            elif bits == NONE and size:
                flags.append("MaxSizeWithNone")
            elif bits & ~NONE and size:
                flags.append("MaxSizeWithLayer")
            elif bits & ~NONE:
                flags.append("ZeroMaxSizeWithLayer")
            v.append(server_vector(f"layers-{LAYER_NAMES[bits]}-max-{size}",
                                   f"bit-mask {bits:02x} with max size {size}",
                                   bytes([bits]) + size3(size), flags))
    v.append(server_vector("none-max-1", "only 'none' with max size 1", bytes([1]) + size3(1),
                           ["MaxSizeWithNone"]))
    v.append(server_vector("none-max-ffffff", "only 'none' with the largest max size",
                           bytes([1]) + size3(0xFFFFFF), ["MaxSizeWithNone"]))
    v.append(server_vector("integrity-max-ffffff", "integrity with the largest max size",
                           bytes([2]) + size3(0xFFFFFF), ["MaxSizeWithLayer"]))
    v.append(server_vector("all-max-1", "every layer with max size 1",
                           bytes([7]) + size3(1), ["MaxSizeWithLayer"]))
    for bits, size, name in ((0x08, 0, "bit-8-only"), (0x80, 0, "bit-80-only"),
                             (0xF8, 0, "undefined-bits-only")):
        v.append(server_vector(name, f"bit-mask {bits:02x}: no defined layer",
                               bytes([bits]) + size3(size), ["UnknownBits"]))
    for bits, size, name in ((0x09, 0, "none-and-bit-8"), (0xFF, 4096, "every-bit"),
                             (0x83, 4096, "none-integrity-and-bit-80")):
        v.append(server_vector(name, f"bit-mask {bits:02x}: defined layers plus undefined bits",
                               bytes([bits]) + size3(size), ["UnknownBitsIgnored"]))
    v.append(server_vector("none-undefined-bit-max-1",
                           "bit-mask 09 (only 'none' of the defined layers) with max size 1",
                           bytes([0x09]) + size3(1), ["UnknownBitsIgnored", "MaxSizeWithNone"]))
    return v


def client_tests() -> list[dict[str, Any]]:
    v = []
    for n in range(6):
        msg = (bytes([NONE]) + size3(0) + b"a")[:n]
        flags = ["BadLength"] if n < 4 else ["NoAuthzid"] if n == 4 else ["Authzid"]
        v.append(client_vector(f"length-{n}", f"a {n}-octet reply to an offer of 'none' "
                               "(01 000000 then authzid 'a', as far as it goes)", msg, NONE,
                               flags))
    for offered in (KNOWN, NONE):
        for bits in range(8):
            size = 0 if bits == NONE else 4096
            flags = ["EveryCombination"]
            if bits == 0:
                flags.append("NoLayer")
            elif bits & (bits - 1):
                flags.append("SeveralLayers")
            elif bits & offered == 0:
                flags.append("NotOffered")
            elif bits != NONE:
                flags.append("MaxSizeWithLayer")
            v.append(client_vector(f"offered-{LAYER_NAMES[offered]}-chose-{LAYER_NAMES[bits]}",
                                   f"layer octet {bits:02x} (max size {size}) after an offer of "
                                   f"{offered:02x}", bytes([bits]) + size3(size), offered,
                                   flags + ["NoAuthzid"]))
    v.append(client_vector("none-max-1", "'none' with max size 1", bytes([1]) + size3(1), KNOWN,
                           ["MaxSizeWithNone"]))
    v.append(client_vector("none-max-ffffff", "'none' with the largest max size",
                           bytes([1]) + size3(0xFFFFFF), NONE, ["MaxSizeWithNone"]))
    v.append(client_vector("confidentiality-max-ffffff", "confidentiality, largest max size",
                           bytes([4]) + size3(0xFFFFFF), KNOWN, ["MaxSizeWithLayer"]))
    v.append(client_vector("integrity-max-0", "integrity with max size 0",
                           bytes([2]) + size3(0), KNOWN, ["ZeroMaxSizeWithLayer"]))
    for bits, name in ((0x08, "bit-8"), (0x80, "bit-80"), (0x09, "none-and-bit-8")):
        v.append(client_vector(f"chose-{name}", f"layer octet {bits:02x} after an offer of "
                               "every defined layer", bytes([bits]) + size3(0), KNOWN,
                               ["UnknownBits"]))
    head = bytes([NONE]) + size3(0)
    for name, comment, authzid, flags in (
            ("authzid-jid", "a bare JID", b"bob@example.com", ["Authzid"]),
            ("authzid-full-jid", "a full JID", b"bob@example.com/desk", ["Authzid"]),
            ("authzid-utf8", "a JID with a two-octet UTF-8 character",
             "bücher@example.com".encode(), ["Authzid"]),
            ("authzid-four-octet-utf8", "a four-octet UTF-8 character (U+1F600)",
             "\U0001F600@example.com".encode(), ["Authzid"]),
            ("authzid-one-octet", "a one-octet authzid", b"b", ["Authzid"]),
            ("authzid-nul-only", "a single NUL octet", b"\0", ["AuthzidNul"]),
            ("authzid-nul-inside", "a NUL inside", b"bob\0@example.com", ["AuthzidNul"]),
            ("authzid-nul-terminated", "NUL-terminated, as a C string", b"bob@example.com\0",
             ["AuthzidNul"]),
            ("authzid-latin1", "ISO-8859-1, not UTF-8", "bücher".encode("latin-1"),
             ["AuthzidNotUtf8"]),
            ("authzid-overlong", "an overlong '/' (c0 af)", b"bob\xc0\xafexample",
             ["AuthzidNotUtf8"]),
            ("authzid-surrogate", "a UTF-16 surrogate encoded in UTF-8 (ed a0 80)",
             b"bob\xed\xa0\x80", ["AuthzidNotUtf8"]),
            ("authzid-truncated", "a UTF-8 sequence cut short at the end", b"b\xc3",
             ["AuthzidNotUtf8"]),
            ("authzid-continuation", "a stray continuation octet", b"\x80bob",
             ["AuthzidNotUtf8"]),
            ("authzid-ff", "octet ff", b"bob\xff", ["AuthzidNotUtf8"])):
        v.append(client_vector(name, f"'none', max size 0, authzid: {comment}", head + authzid,
                               NONE, flags))
    v.append(client_vector("integrity-authzid", "integrity, max size 65536 and an authzid",
                           bytes([2]) + size3(65536) + b"bob@example.com", INTEGRITY | NONE,
                           ["MaxSizeWithLayer", "Authzid"]))
    v.append(client_vector("maxsize-none-bad-authzid",
                           "'none' with max size 1 and a NUL authzid: the max size is judged "
                           "first", head[:1] + size3(1) + b"\0", NONE,
                           ["MaxSizeWithNone", "AuthzidNul"]))
    return v

# --------------------------------------------------------------------------- base64

BASE64_NOTES: dict[str, str] = {
    "Rfc4648Example": "RFC 4648 §10 test vectors (\"\", \"f\", \"fo\", ..., \"foobar\").",
    "Padding": "RFC 4648 §4 (paraphrase): the final quantum is padded with '=' to 4 characters; "
               "RFC 6120 §6.4.2 (paraphrase) requires base64 as RFC 4648 defines it.",
    "MissingPadding": "RFC 4648 §4/§3.2 (paraphrase): padding is required unless the "
                      "specification referring to it says otherwise; RFC 6120 does not, so an "
                      "unpadded length (not a multiple of 4) is refused.",
    "ExtraPadding": "RFC 4648 §4 (paraphrase): at most two '=' and only at the end of the data; "
                    "more, or '=' inside the data, is refused.",
    "Whitespace": "RFC 6120 §6.4.2 (paraphrase): the data contains no whitespace or line "
                  "breaks; RFC 4648 §3.3 (paraphrase): characters outside the alphabet are "
                  "refused unless the referring specification allows them.",
    "BadAlphabet": "RFC 4648 §3.3/§4 (paraphrase): a character outside the base64 alphabet "
                   "(including the base64url '-' and '_', RFC 4648 §5) is refused.",
    "NonZeroPadBits": "RFC 4648 §3.5 (paraphrase): the pad bits are set to zero by encoders "
                      "and a decoder MAY reject data where they are not; this decoder does "
                      "(the canonical encoding only).",
    "EqualsZeroLength": "RFC 6120 §6.4.2 (paraphrase): a payload of zero octets is sent as a "
                        "single '='; the role maps it to zero octets, the base64 decoder itself "
                        "refuses '=' (not a multiple of 4).",
    "EmptyText": "No character data: the element carries no payload at all (RFC 6120 §6.4.2, "
                 "paraphrase: <auth/> without text means no initial response); the decoder "
                 "decodes \"\" to zero octets and the role decides what absence means.",
    "Binary": "Octets outside ASCII, exercising every alphabet position class "
              "(RFC 4648 §4 table).",
}


def b64_rule(text: str) -> tuple[str, int | None]:
    """(status, offset) of TEXT by this file's decoder rules: characters judged first, left to
    right (whitespace, outside the alphabet, '=' not among the last two or followed by data),
    then the length, then the pad bits."""
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    n = len(text)
    for i, c in enumerate(text):
        if c == "=":
            if i + 2 < n or (i + 2 == n and text[i + 1] != "="):
                return "BASE64_BAD_PADDING", i
            continue
        if c in " \t\r\n":
            return "BASE64_WHITESPACE", i
        if c not in alphabet:
            return "BASE64_BAD_CHAR", i
    if n % 4:
        return "BASE64_BAD_LENGTH", n
    if n:
        pad = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
        last = n - 1 - pad
        v = alphabet.index(text[last])
        if (pad == 1 and v & 3) or (pad == 2 and v & 15):
            return "BASE64_NONZERO_PAD_BITS", last
    return "BASE64_OK", None


def b64_vector(group: str, name: str, comment: str, text: str,
               flags: list[str]) -> dict[str, Any]:
    status, offset = b64_rule(text)
    t: dict[str, Any] = {"id": f"{group}/{name}", "comment": comment, "text": text}
    if group == "payload":
        # The element's character data: "" absent, "=" zero octets, else the decoder.
        if text == "":
            t.update(result="valid", flags=flags,
                     expected={"status": status, "present": False, "octets": ""})
        elif text == "=":
            t.update(result="valid", flags=flags,
                     expected={"status": status, "present": True, "octets": ""})
        elif status == "BASE64_OK":
            t.update(result="valid", flags=flags,
                     expected={"status": status, "present": True,
                               "octets": base64.b64decode(text, validate=True).hex()})
        else:
            t.update(result="invalid", flags=flags, expected={"status": status},
                     error={"field": "text", "offset": offset})
        return t
    if status == "BASE64_OK":
        t.update(result="valid", flags=flags,
                 expected={"status": status,
                           "octets": base64.b64decode(text, validate=True).hex()})
    else:
        t.update(result="invalid", flags=flags, expected={"status": status},
                 error={"field": "text", "offset": offset})
    return t


def base64_tests() -> list[dict[str, Any]]:
    v = []
    for name, plain in (("empty", b""), ("f", b"f"), ("fo", b"fo"), ("foo", b"foo"),
                        ("foob", b"foob"), ("fooba", b"fooba"), ("foobar", b"foobar")):
        v.append(b64_vector("base64", f"rfc4648-{name}", f"RFC 4648 §10: '{plain.decode()}'",
                            base64.b64encode(plain).decode(), ["Rfc4648Example"]
                            + (["Padding"] if len(plain) % 3 else [])))
    for name, plain in (("zeros-1", b"\0"), ("zeros-2", b"\0\0"), ("zeros-3", b"\0\0\0"),
                        ("ff-1", b"\xff"), ("ff-2", b"\xff\xff"), ("ff-3", b"\xff\xff\xff"),
                        ("every-octet", bytes(range(256))),
                        ("plus-slash", b"\xfb\xef\xbe\xff")):
        v.append(b64_vector("base64", name, f"{len(plain)} octets {plain[:4].hex()}...",
                            base64.b64encode(plain).decode(),
                            ["Binary"] + (["Padding"] if len(plain) % 3 else [])))
    for name, text, flags in (
            ("unpadded-2", "Zg", ["MissingPadding"]),
            ("unpadded-3", "Zm8", ["MissingPadding"]),
            ("one-pad-of-two", "Zg=", ["MissingPadding"]),
            ("single-char", "Z", ["MissingPadding"]),
            ("five-chars", "Zm9vY", ["MissingPadding"]),
            ("pad-only-2", "==", ["ExtraPadding"]),
            ("pad-only-4", "====", ["ExtraPadding"]),
            ("three-pads", "Z===", ["ExtraPadding"]),
            ("extra-pad", "Zg===", ["ExtraPadding"]),
            ("padding-group", "Zm9v====", ["ExtraPadding"]),
            ("pad-inside", "Zg==Zg==", ["ExtraPadding"]),
            ("pad-then-data", "Zm=v", ["ExtraPadding"]),
            ("space-inside", "Zm9v Yg==", ["Whitespace"]),
            ("lf-inside", "Zm9v\nYmFy", ["Whitespace"]),
            ("crlf-after", "Zm9vYmFy\r\n", ["Whitespace"]),
            ("space-before", " Zm9v", ["Whitespace"]),
            ("tab-inside", "Zm9v\tYmFy", ["Whitespace"]),
            ("space-after-padding", "Zg== ", ["Whitespace", "ExtraPadding"]),
            ("base64url-dash", "Zm9-", ["BadAlphabet"]),
            ("base64url-underscore", "Zm9_", ["BadAlphabet"]),
            ("asterisk", "Zm9v*", ["BadAlphabet"]),
            ("dot", "Zm.v", ["BadAlphabet"]),
            ("non-ascii", "Zm9v\u00fc", ["BadAlphabet"]),
            ("pad-bits-1-of-2", "Zh==", ["NonZeroPadBits"]),
            ("pad-bits-8-of-2", "Zn==", ["NonZeroPadBits"]),
            ("pad-bits-1-of-1", "Zm9=", ["NonZeroPadBits"]),
            ("pad-bits-2-of-1", "Zm+=", ["NonZeroPadBits"]),
            ("pad-bits-last-group", "Zm9vYh==", ["NonZeroPadBits"])):
        v.append(b64_vector("base64", name, repr(text), text, flags))
    for name, text, flags in (
            ("empty-text", "", ["EmptyText"]),
            ("equals", "=", ["EqualsZeroLength"]),
            ("equals-twice", "==", ["EqualsZeroLength", "ExtraPadding"]),
            ("equals-space", "= ", ["EqualsZeroLength", "Whitespace"]),
            ("one-octet", "AA==", ["Padding"]),
            ("token-like", base64.b64encode(bytes.fromhex("608202") + b"\x06\x09*").decode(),
             ["Binary"])):
        v.append(b64_vector("payload", name, repr(text), text, flags))
    return v

# --------------------------------------------------------------------------- output


def document(algorithm: str, header: list[str], notes: dict[str, str],
             groups: list[tuple[str, str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The vector file: tcIds numbered in file order; only notes of used flags."""
    tc = 0
    out_groups = []
    used: set[str] = set()
    for gtype, description, tests in groups:
        numbered = []
        for t in tests:
            tc += 1
            numbered.append({"tcId": tc, **t})
            used.update(t["flags"])
        out_groups.append({"type": gtype, "description": description, "tests": numbered})
    missing = used - set(notes)
    if missing:
        raise SystemExit(f"flags without a note: {sorted(missing)}")
    return {"algorithm": algorithm, "schema": SCHEMA, "numberOfTests": tc, "header": header,
            "notes": {k: notes[k] for k in sorted(used)}, "testGroups": out_groups}


def outputs() -> dict[Path, str]:
    layers = document(
        "SASL-GSSAPI-LAYERS",
        ["RFC 4752 §3.3 security layer messages as GSS_Unwrap returns them: the server's "
         "bit-mask and 3-octet max size, the client's selected layer, max size and optional "
         "authzid.",
         "Generated by vectors/gen-sasl.py: edit that, not this file. Schema and rules: "
         "vectors/README.md."],
        LAYER_NOTES,
        [("server-layers", "The server's layer message (RFC 4752 §3.1 'server' step).",
          server_tests()),
         ("client-layers", "The client's reply, judged against the bit-mask the server "
          "offered ('offered').", client_tests())])
    b64 = document(
        "RFC6120-SASL-BASE64",
        ["RFC 6120 §6.4.2 SASL payload encodings: strict RFC 4648 §4 base64 (padding, no "
         "whitespace, the canonical pad bits) and the element text conventions ('' and '=').",
         "Generated by vectors/gen-sasl.py: edit that, not this file. Schema and rules: "
         "vectors/README.md."],
        BASE64_NOTES,
        [("base64", "The base64 decoder on its own.",
          [t for t in base64_tests() if t["id"].startswith("base64/")]),
         ("payload", "The character data of a SASL element as a role reads it.",
          [t for t in base64_tests() if t["id"].startswith("payload/")])])
    return {LAYERS: vectorgen.render(layers), BASE64: vectorgen.render(b64)}


def main(argv: list[str]) -> int:
    """Write both files, or with --check report whether they are current."""
    return vectorgen.main(argv, outputs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
