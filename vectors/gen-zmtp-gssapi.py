#!/usr/bin/env python3
"""Write vectors/zmtp-gssapi.json, the ZMTP GSSAPI test vectors (Wycheproof style).

Every vector is declared below by hand: its input bytes, the verdict, the decoded fields or the
field and offset a decoder must name, and the spec text it checks. Real libzmq 4.3.4 bytes come
from vectors/capture/libzmq-4.3.4.json (written by vectors/capture/zmtp-capture.py).

    vectors/gen-zmtp-gssapi.py            rewrite the JSON
    vectors/gen-zmtp-gssapi.py --check    exit 1 when the committed JSON differs

tests/zmtp/vectors-t.py checks the file against an independent decoder and runs --check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "zmtp-gssapi.json"
CAPTURE = HERE / "capture" / "libzmq-4.3.4.json"

# --------------------------------------------------------------------------- spec quotes

Q: dict[str, dict[str, str]] = {
    "padding": {"doc": "23/ZMTP", "section": "Version Negotiation", "level": "MUST",
                "quote": "A peer SHALL NOT assign any significance to the padding field and MUST "
                         "NOT validate this nor interpret it in any way whatsoever."},
    "signature": {"doc": "23/ZMTP", "section": "Formal Grammar", "level": "MUST",
                  "quote": "signature = %xFF padding %x7F"},
    "higher": {"doc": "23/ZMTP", "section": "Version Negotiation", "level": "MUST",
               "quote": "A peer MUST accept higher protocol versions as valid. That is, a ZMTP "
                        "peer MUST accept protocol versions greater or equal to 3.0."},
    "downgrade": {"doc": "23/ZMTP", "section": "Detecting ZMTP 1.0 and 2.0 Peers",
                  "level": "MUST",
                  "quote": "If the implementation's security mechanism is anything other than "
                           "NULL, and it detects a ZMTP 1.0 or 2.0 peer, it MUST immediately "
                           "close the connection."},
    "mechanism": {"doc": "23/ZMTP", "section": "Authentication and Confidentiality",
                  "level": "MUST",
                  "quote": "If the mechanism that the peer received does not exactly match the "
                           "mechanism it sent, it MUST close the connection."},
    "mechanism-pad": {"doc": "23/ZMTP", "section": "Authentication and Confidentiality",
                      "level": "MUST",
                      "quote": "The security mechanism is an ASCII string, null-padded as needed "
                               "to fit 20 octets."},
    "as-server": {"doc": "23/ZMTP", "section": "Topology", "level": "de-facto",
                  "quote": "The actual server role is therefore not defined by bind/connect "
                           "direction, but specified in the greeting <tt>as-server</tt> field, "
                           "which is set to 1 for server peers, and 0 for client peers."},
    "as-server-grammar": {"doc": "23/ZMTP", "section": "Formal Grammar", "level": "de-facto",
                          "quote": "as-server = %x00 | %x01"},
    "filler": {"doc": "23/ZMTP", "section": "Formal Grammar", "level": "de-facto",
               "quote": "filler = 31%x00             ; 31 zero octets"},
    "minor31": {"doc": "37/ZMTP", "section": "Formal Grammar", "level": "MUST",
                "quote": "version-minor = %x01"},
    "reserved": {"doc": "23/ZMTP", "section": "Framing", "level": "MUST",
                 "quote": "Bits 7-3: *Reserved*. Bits 7-3 are reserved for future use and MUST "
                          "be zero."},
    "more-cmd": {"doc": "23/ZMTP", "section": "Framing", "level": "MUST",
                 "quote": "This bit SHALL be zero on command frames."},
    "long": {"doc": "23/ZMTP", "section": "Framing", "level": "MUST",
             "quote": "A value of 1 indicates that the frame size is encoded as a 64-bit "
                      "unsigned integer in network byte order."},
    "short-size": {"doc": "23/ZMTP", "section": "Authentication and Confidentiality",
                   "level": "SHOULD",
                   "quote": "If the body is 0-255 octets, the command SHOULD use a short size "
                            "field (%x04 followed by 1 octet). If the body is 256 or more octets, "
                            "the command SHOULD use a long size field (%x06 followed by 8 "
                            "octets)."},
    "long-size": {"doc": "23/ZMTP", "section": "Formal Grammar", "level": "MUST",
                  "quote": "long-size = 8OCTET          ; Body is 0 to 2^63-1 octets"},
    "frame": {"doc": "23/ZMTP", "section": "Framing", "level": "MUST",
              "quote": "A frame consists of a flags field (1 octet), followed by a size field "
                       "(one octet or eight octets) and a frame body of size octets."},
    "command-name": {"doc": "23/ZMTP", "section": "Formal Grammar", "level": "MUST",
                     "quote": "command-name = OCTET 1*255command-name-char\n"
                              "command-name-char = ALPHA"},
    "empty-frame": {"doc": "docs/zmtp-gssapi.md", "section": "Differences from the "
                    "specifications (D6)", "level": "de-facto",
                    "quote": "The client sends a command frame with an empty body (`04 00`) when "
                             "its GSS context completes without a token"},
    "initiate": {"doc": "docs/zmtp-gssapi.md", "section": "1.4 Handshake",
                 "level": "de-facto",
                 "quote": "token-length    = 4OCTET        ; u32be, len: exactly the octets of "
                          "token, nothing after;"},
    "message": {"doc": "docs/zmtp-gssapi.md", "section": "1.5 Wrapped messages (encryption on)",
                "level": "de-facto",
                "quote": "message         = %d7 %s\"MESSAGE\" token-length wrap-token"},
    "spec38": {"doc": "38/ZMTP-GSSAPI", "section": "Implementation", "level": "de-facto",
               "quote": "All command bodies consist of an 8-character command name, padded "
                        "with spaces, followed by formatted binary fields."},
    "name": {"doc": "23/ZMTP", "section": "The NULL Security Mechanism", "level": "MUST",
             "quote": "The name SHALL be 1 to 255 characters. Zero-sized names are not valid. "
                      "The case (upper or lower) of names SHALL NOT be significant."},
    "name-char": {"doc": "23/ZMTP", "section": "The NULL Security Mechanism", "level": "de-facto",
                  "quote": "name-char = ALPHA | DIGIT | \"-\" | \"_\" | \".\" | \"+\""},
    "value": {"doc": "23/ZMTP", "section": "The NULL Security Mechanism", "level": "MUST",
              "quote": "The value SHALL be 0 to 2,147,483,647 (2^31-1 or INT32_MAX in C/C++) "
                       "octets of opaque binary data. Zero-sized values are allowed."},
    "value-size": {"doc": "23/ZMTP", "section": "The NULL Security Mechanism", "level": "MUST",
                   "quote": "The value size field SHALL be four octets, in network byte order."},
    "dictionary": {"doc": "23/ZMTP", "section": "Connection Metadata", "level": "security",
                   "quote": "The security mechanism SHALL provide a way for peers to exchange "
                            "metadata in the form of a key-value dictionary."},
    "case": {"doc": "23/ZMTP", "section": "Connection Metadata", "level": "MUST",
             "quote": "Metadata names SHALL be case-insensitive."},
    "x-props": {"doc": "23/ZMTP", "section": "Connection Metadata", "level": "MAY",
                "quote": "Metadata names starting with \"X-\" SHALL be reserved for application "
                         "use."},
    "inner-flags": {"doc": "docs/zmtp-gssapi.md", "section": "1.5 Wrapped messages "
                    "(encryption on)", "level": "de-facto",
                    "quote": "plaintext       = inner-flags inner-body        ; what gss_unwrap "
                             "returns, at least 1 octet"},
    "empty-wrap": {"doc": "docs/zmtp-gssapi.md", "section": "1.5 Wrapped messages "
                   "(encryption on)", "level": "security",
                   "quote": "plaintext       = inner-flags inner-body        ; what gss_unwrap "
                            "returns, at least 1 octet"},
    "subscribe30": {"doc": "23/ZMTP", "section": "The Publish-Subscribe Pattern",
                    "level": "de-facto",
                    "quote": "subscribe = %x00 short-size %d1 subscription"},
    "cancel30": {"doc": "23/ZMTP", "section": "The Publish-Subscribe Pattern",
                 "level": "de-facto",
                 "quote": "subscribe = %x00 short-size %d0 subscription"},
    "subscribe31": {"doc": "37/ZMTP", "section": "The Publish-Subscribe Pattern",
                    "level": "MUST",
                    "quote": "subscribe = command-size %d9 \"SUBSCRIBE\" subscription"},
    "cancel31": {"doc": "37/ZMTP", "section": "The Publish-Subscribe Pattern", "level": "MUST",
                 "quote": "cancel = command-size %d6 \"CANCEL\" subscription"},
    "ping": {"doc": "37/ZMTP", "section": "Connection Heartbeating", "level": "MUST",
             "quote": "ping = command-size %d4 \"PING\" ping-ttl ping-context\n"
                      "ping-ttl = 2OCTET\nping-context = 0*16OCTET"},
    "pong": {"doc": "37/ZMTP", "section": "Connection Heartbeating", "level": "MUST",
             "quote": "When a peer receives a PING command it SHALL respond with a PONG command "
                      "that echoes the ping-context, which may be empty and MUST not exceed 16 "
                      "octets:"},
    "error": {"doc": "23/ZMTP", "section": "The NULL Security Mechanism", "level": "MUST",
              "quote": "error-reason = OCTET 0*255VCHAR"},
    "encrypted-commands": {"doc": "23/ZMTP", "section": "Wire Analysis of the Connection",
                           "level": "de-facto",
                           "quote": "On an encrypted connection, message data SHALL be encoded "
                                    "as commands so that wire analysis is not possible."},
}

NOTES = {
    "LibzmqCapture": "The input is a byte string captured from libzmq 4.3.4 (Debian libzmq5 "
                     "4.3.4-6) by vectors/capture/zmtp-capture.py; see "
                     "vectors/capture/libzmq-4.3.4.json.",
    "Padding": "23/ZMTP: the padding field MUST NOT be validated; libzmq puts routing-id length "
               "+ 1 there (8 octets, big-endian).",
    "AsServerIgnored": "libzmq always sends as-server 0, also as a GSSAPI server, and ignores "
                       "the received value (roles come from socket options).",
    "HigherVersion": "23/ZMTP: a peer MUST accept protocol versions greater or equal to 3.0.",
    "OldVersion": "ZMTP 1.0/2.0 peers can only use NULL; with GSSAPI the connection MUST be "
                  "closed (23/ZMTP Backwards Interoperability).",
    "MechanismMismatch": "The mechanism field must be exactly \"GSSAPI\" followed by 14 NULs "
                         "(23/ZMTP: otherwise MUST close).",
    "NonZeroFiller": "23/ZMTP's grammar says 31 zero octets; no implementation checks them and "
                     "nothing is lost by ignoring them.",
    "ReservedFlags": "Frame flag bits 7-3 MUST be zero (23/ZMTP Framing).",
    "CommandMore": "MORE SHALL be zero on command frames (23/ZMTP Framing).",
    "LongShortSize": "A long size for a body of 0-255 octets breaks only a SHOULD; decoders may "
                     "accept it (libzmq does).",
    "Truncated": "The input ends inside the named field.",
    "SizeOverflow": "A long size with the top bit set exceeds 2^63-1 (23/ZMTP grammar).",
    "EmptyCommand": "The de facto empty command frame `04 00` (no name): a frame that is valid "
                    "in exactly one handshake state, never a valid command body.",
    "CommandName": "command-name = OCTET 1*255command-name-char, command-name-char = ALPHA.",
    "TokenLength": "INITIATE/MESSAGE carry u32be(length) + exactly that many token bytes.",
    "TrailingBytes": "Octets left after a field that must end the body.",
    "ZeroLengthToken": "A zero-length token is never sent: a side without an output token sends "
                       "the empty command instead (de facto); no wrap token is empty.",
    "DuplicateName": "Two properties whose names are equal ignoring case: a dictionary cannot "
                     "hold both. libzmq 4.3.4 keeps the first silently; a decoder that accepts "
                     "must also use the first.",
    "NameCase": "Names are case-insensitive per 23/ZMTP; libzmq compares Socket-Type "
                "case-sensitively, so a peer must send the canonical spelling (it decodes either).",
    "NameLength": "A property name of 0 octets or one that runs past the end.",
    "ValueLength": "A property value length that runs past the end or exceeds INT32_MAX.",
    "NameChars": "A name with octets outside name-char: the NULL grammar forbids them, libzmq "
                 "does not check.",
    "EmptyPlaintext": "A wrap token whose plaintext is empty carries no flags byte.",
    "UnknownInnerFlags": "Inner flag bits 7-4 are defined by no libzmq version; the reference "
                         "rejects them like reserved frame flags.",
    "InnerFlagCombination": "Two of the 01/04/08 bits, or 02 with 04/08: meaningless, but libzmq "
                            "master decodes each bit on its own; the reference sends only 00, "
                            "01, 02, 04, 08 and may reject the rest.",
    "InnerCommand": "Inner flags 02: the body is a ZMTP command (PING/PONG, SUBSCRIBE/CANCEL).",
    "InnerSubscribe": "Inner flags 04/08: libzmq master's SUBSCRIBE/CANCEL message bits.",
    "Subscription": "Subscription encodings a reference PUB accepts: 00 01 topic, 00 00 topic, "
                    "COMMAND SUBSCRIBE/CANCEL, the 04/08 bits.",
    "Heartbeat": "PING/PONG bodies (37/ZMTP Connection Heartbeating).",
    "Libzmq434SubscribeLost": "libzmq 4.3.4 wraps a subscription as `00 topic`, dropping the "
                              "subscribe marker, so its own PUB never delivers (captured).",
}

# --------------------------------------------------------------------------- builders


def hx(*parts: bytes | str | int) -> bytes:
    """Concatenate bytes, hex strings (spaces allowed) and single octets."""
    out = b""
    for p in parts:
        if isinstance(p, int):
            out += bytes([p])
        elif isinstance(p, str):
            out += bytes.fromhex(p.replace(" ", ""))
        else:
            out += p
    return out


def greeting(padding: bytes = bytes(8), major: int = 3, minor: int = 1,
             mechanism: bytes = b"GSSAPI", as_server: int = 0, filler: bytes = bytes(31),
             sig0: int = 0xFF, sig9: int = 0x7F) -> bytes:
    """A 64-octet ZMTP 3.x greeting with every field settable."""
    mech = mechanism + bytes(20 - len(mechanism)) if len(mechanism) < 20 else mechanism[:20]
    return bytes([sig0]) + padding + bytes([sig9, major, minor]) + mech + bytes([as_server]) \
        + filler


def u32(n: int) -> bytes:
    """Big-endian 4-octet length."""
    return n.to_bytes(4, "big")


def cmd(name: bytes, data: bytes = b"") -> bytes:
    """A command body: name-length name data."""
    return bytes([len(name)]) + name + data


def frame(flags: int, body: bytes, long: bool | None = None) -> bytes:
    """One frame; LONG is chosen by the body size unless forced."""
    if long is None:
        long = len(body) > 255
    if long:
        return bytes([flags | 0x02]) + len(body).to_bytes(8, "big") + body
    return bytes([flags]) + bytes([len(body)]) + body


def props(*pairs: tuple[bytes, bytes]) -> bytes:
    """READY metadata: name-length name u32be(value-length) value, for each pair."""
    return b"".join(bytes([len(n)]) + n + u32(len(v)) + v for n, v in pairs)


# --------------------------------------------------------------------------- the vectors

GROUPS: dict[str, list[dict[str, Any]]] = {
    t: [] for t in ("greeting", "frame", "command", "ready-metadata", "initiate", "message",
                    "wrapped-plaintext")}


def as_pub(flags: int, body: bytes) -> dict[str, str] | None:
    """What a PUB makes of a part with inner FLAGS and BODY: a subscription or None."""
    kind = topic = None
    if flags == 0x00 and body[:1] in (b"\x01", b"\x00"):
        kind, topic = ("subscribe" if body[0] else "cancel"), body[1:]
    elif flags == 0x02:
        for name, k in ((b"SUBSCRIBE", "subscribe"), (b"CANCEL", "cancel")):
            if body[:1 + len(name)] == bytes([len(name)]) + name:
                kind, topic = k, body[1 + len(name):]
    elif flags in (0x04, 0x08):
        kind, topic = ("subscribe" if flags == 0x04 else "cancel"), body
    return None if kind is None else {"kind": kind, "topic": topic.hex()}


def add(group: str, vid: str, comment: str, data: bytes, result: str, flags: list[str],
        spec: str, expected: dict[str, Any] | None = None,
        error: tuple[str, int] | None = None) -> None:
    """Declare one vector; valid/acceptable need EXPECTED, invalid needs ERROR."""
    assert (result == "invalid") == (error is not None), vid
    assert (result != "invalid") == (expected is not None), vid
    if expected is not None and {"Subscription", "Libzmq434SubscribeLost"} & set(flags):
        inner, body = (0x02, data) if group == "command" else (data[0], data[1:])
        expected["subscription"] = as_pub(inner, body)
    test: dict[str, Any] = {"id": f"{group}/{vid}", "comment": comment, "input": data.hex(),
                            "result": result, "flags": flags}
    if expected is not None:
        test["expected"] = expected
    if error is not None:
        test["error"] = {"field": error[0], "offset": error[1]}
    test["spec"] = Q[spec]
    GROUPS[group].append(test)


def g_expect(major: int = 3, minor: int = 1, as_server: int = 0,
             padding: bytes = bytes(8)) -> dict[str, Any]:
    """Decoded greeting fields (mechanism always GSSAPI for accepted greetings)."""
    return {"major": major, "minor": minor, "mechanism": "GSSAPI", "as_server": as_server,
            "padding": padding.hex()}


def build_greetings(cap: dict[str, Any]) -> None:
    """Greeting vectors: real libzmq bytes, every field's valid and invalid values."""
    dr = cap["dealer-router"]
    client, server = bytes.fromhex(dr["c2s"]["greeting"]), bytes.fromhex(dr["s2c"]["greeting"])
    pad_client = (8).to_bytes(8, "big")
    add("greeting", "libzmq-4.3.4-client",
        "libzmq DEALER client with routing id \"alice-1\": padding = 7 + 1, minor 1, "
        "as-server 0", client, "valid", ["LibzmqCapture", "Padding"], "padding",
        g_expect(padding=pad_client))
    add("greeting", "libzmq-4.3.4-server",
        "libzmq ROUTER GSSAPI server: as-server is 0 even on the server; padding = 0 + 1",
        server, "valid", ["LibzmqCapture", "AsServerIgnored"], "as-server",
        g_expect(padding=(1).to_bytes(8, "big")))
    add("greeting", "zero-padding-minor-0", "a ZMTP 3.0 greeting with zero padding",
        greeting(minor=0), "valid", [], "higher", g_expect(minor=0))
    add("greeting", "as-server-1", "as-server 1 as 23/ZMTP asks of a server",
        greeting(as_server=1), "valid", ["AsServerIgnored"], "as-server",
        g_expect(as_server=1))
    add("greeting", "as-server-0", "as-server 0 (libzmq on both sides)", greeting(as_server=0),
        "valid", ["AsServerIgnored"], "as-server", g_expect(as_server=0))
    add("greeting", "as-server-2", "as-server outside the grammar: libzmq ignores the octet",
        greeting(as_server=2), "acceptable", ["AsServerIgnored"], "as-server-grammar",
        g_expect(as_server=2))
    add("greeting", "minor-2", "a higher minor version (3.2) is accepted", greeting(minor=2),
        "valid", ["HigherVersion"], "higher", g_expect(minor=2))
    add("greeting", "minor-255", "the highest minor version", greeting(minor=255), "valid",
        ["HigherVersion"], "higher", g_expect(minor=255))
    add("greeting", "major-4", "a higher major version is accepted and spoken to as 3.x",
        greeting(major=4, minor=0), "valid", ["HigherVersion"], "higher",
        g_expect(major=4, minor=0))
    pad = bytes.fromhex("deadbeef01020304")
    add("greeting", "nonzero-padding", "arbitrary padding octets carry no meaning",
        greeting(padding=pad), "valid", ["Padding"], "padding", g_expect(padding=pad))
    pad = bytes.fromhex("ffffffffffffffff")
    add("greeting", "padding-all-ff", "padding of all ones", greeting(padding=pad), "valid",
        ["Padding"], "padding", g_expect(padding=pad))
    add("greeting", "nonzero-filler", "filler octets not zero", greeting(filler=b"\x01" * 31),
        "acceptable", ["NonZeroFiller"], "filler", g_expect())
    add("greeting", "truncated-11", "only the staged first 11 octets (signature + major)",
        greeting()[:11], "invalid", ["Truncated"], "frame", error=("greeting", 0))
    add("greeting", "truncated-63", "one octet short", greeting()[:63], "invalid",
        ["Truncated"], "frame", error=("greeting", 0))
    add("greeting", "empty", "no octets at all", b"", "invalid", ["Truncated"], "frame",
        error=("greeting", 0))
    add("greeting", "bad-signature-start", "first octet 0x7F instead of 0xFF",
        greeting(sig0=0x7F), "invalid", [], "signature", error=("signature", 0))
    add("greeting", "bad-signature-end", "octet 9 is 0x7E (LSB 0: a ZMTP 1.0 long identity)",
        greeting(sig9=0x7E), "invalid", ["OldVersion"], "signature", error=("signature", 9))
    zmtp10 = hx("01 00") + bytes(62)
    add("greeting", "zmtp-1.0", "ZMTP 1.0: a short identity frame (length 1, flags 0)", zmtp10,
        "invalid", ["OldVersion"], "downgrade", error=("signature", 0))
    add("greeting", "zmtp-2.0", "ZMTP 2.0 greeting (revision 01, socket type, identity) padded "
        "to 64 octets", hx("ff 0000000000000001 7f 01 05 00 00") + bytes(50), "invalid",
        ["OldVersion"], "downgrade", error=("version-major", 10))
    add("greeting", "zmtp-2.0-rev2", "ZMTP 2.0 with revision 02", greeting(major=2, minor=0),
        "invalid", ["OldVersion"], "downgrade", error=("version-major", 10))
    add("greeting", "major-0", "major version 0", greeting(major=0), "invalid", ["OldVersion"],
        "downgrade", error=("version-major", 10))
    for vid, mech, comment in (
            ("mechanism-null", b"NULL", "the NULL mechanism"),
            ("mechanism-plain", b"PLAIN", "the PLAIN mechanism"),
            ("mechanism-curve", b"CURVE", "the CURVE mechanism"),
            ("mechanism-lower-case", b"gssapi", "lower-case gssapi: names are matched exactly"),
            ("mechanism-gssapix", b"GSSAPIX", "GSSAPIX: a longer name with GSSAPI as prefix"),
            ("mechanism-gssap", b"GSSAP", "GSSAP: a prefix of GSSAPI"),
            ("mechanism-space-padded", b"GSSAPI  ", "space-padded as 38/ZMTP-GSSAPI describes "
             "command names"),
            ("mechanism-nul-then-garbage", b"GSSAPI\x00X", "a NUL then a non-NUL octet")):
        add("greeting", vid, comment, greeting(mechanism=mech), "invalid", ["MechanismMismatch"],
            "mechanism", error=("mechanism", 12))


def build_frames(cap: dict[str, Any]) -> None:
    """Frame vectors: flags, short/long sizes, truncation, real libzmq frames."""

    def fx(more: bool, long: bool, command: bool, body: bytes) -> dict[str, Any]:
        return {"more": more, "long": long, "command": command, "size": len(body),
                "body": body.hex()}

    dr, pt = cap["dealer-router"], cap["plaintext"]
    for direction, idx, vid, comment in (
            ("s2c", 0, "libzmq-4.3.4-initiate-ap-rep", "the server's INITIATE with the AP-REP "
             "(short command frame)"),
            ("c2s", 0, "libzmq-4.3.4-initiate-ap-req", "the client's INITIATE with the AP-REQ "
             "(long command frame)"),
            ("c2s", 2, "libzmq-4.3.4-wrapped-ready", "the client's wrapped READY: a MESSAGE in a "
             "command frame"),
            ("c2s", 3, "libzmq-4.3.4-wrapped-part", "a wrapped message part: MESSAGE in a message "
             "frame, MORE clear on the wire although the part has MORE inside"),
            ("c2s", 4, "libzmq-4.3.4-wrapped-long", "a wrapped 300-octet part: long message frame")):
        f = dr[direction]["frames"][idx]
        data = bytes.fromhex(f["head"] + f["body"])
        body = bytes.fromhex(f["body"])
        flags = f["flags"]
        add("frame", vid, comment, data, "valid", ["LibzmqCapture"],
            "encrypted-commands" if not flags & 4 else "frame",
            fx(bool(flags & 1), bool(flags & 2), bool(flags & 4), body))
    empty = dr["c2s"]["frames"][1]
    add("frame", "libzmq-4.3.4-empty-command", "the empty command frame the client sends after "
        "its GSS context completes", bytes.fromhex(empty["head"]), "valid",
        ["LibzmqCapture", "EmptyCommand"], "empty-frame", fx(False, False, True, b""))
    ready = pt["c2s"]["frames"][2]
    body = bytes.fromhex(ready["body"])
    add("frame", "libzmq-4.3.4-plaintext-ready", "PLAINTEXT mode: the client's READY in clear",
        bytes.fromhex(ready["head"]) + body, "valid", ["LibzmqCapture"], "frame",
        fx(False, False, True, body))
    add("frame", "empty-message", "an empty message frame", hx("00 00"), "valid", [], "frame",
        fx(False, False, False, b""))
    add("frame", "more-short", "a message frame with MORE", frame(1, b"hello"), "valid", [],
        "frame", fx(True, False, False, b"hello"))
    body = bytes(range(256))
    add("frame", "long-256", "256 octets: the smallest body that needs a long size",
        frame(0, body), "valid", [], "long", fx(False, True, False, body))
    add("frame", "long-more", "a long message frame with MORE (flags 03)",
        frame(1, b"x" * 300), "valid", [], "long", fx(True, True, False, b"x" * 300))
    add("frame", "long-size-for-short-body", "a long size for a 5-octet command body",
        frame(4, cmd(b"PONG"), long=True), "acceptable", ["LongShortSize"], "short-size",
        fx(False, True, True, cmd(b"PONG")))
    add("frame", "long-size-for-empty-body", "a long size of zero", frame(0, b"", long=True),
        "acceptable", ["LongShortSize"], "short-size", fx(False, True, False, b""))
    for bit in (0x08, 0x10, 0x80):
        add("frame", f"reserved-flag-{bit:02x}", f"reserved flag bit {bit:#04x} set",
            hx(bit | 0x04, "00"), "invalid", ["ReservedFlags"], "reserved", error=("flags", 0))
    add("frame", "command-with-more", "COMMAND and MORE both set (flags 05)",
        frame(5, cmd(b"PING", b"\x00\x00")), "invalid", ["CommandMore"], "more-cmd",
        error=("flags", 0))
    add("frame", "long-command-with-more", "long COMMAND with MORE (flags 07)",
        frame(7, b"x" * 300), "invalid", ["CommandMore"], "more-cmd", error=("flags", 0))
    add("frame", "flags-only", "a flags octet and nothing else", hx("04"), "invalid",
        ["Truncated"], "frame", error=("size", 1))
    add("frame", "long-size-truncated", "a long size cut after 3 of 8 octets", hx("06 000000"),
        "invalid", ["Truncated"], "frame", error=("size", 1))
    add("frame", "short-body-truncated", "size 5, 3 body octets", hx("00 05 616263"), "invalid",
        ["Truncated"], "frame", error=("body", 2))
    add("frame", "long-body-truncated", "long size 300, 10 body octets",
        hx("02", (300).to_bytes(8, "big"), b"y" * 10), "invalid", ["Truncated"], "frame",
        error=("body", 9))
    add("frame", "long-size-top-bit", "long size 2^63: beyond the grammar's 2^63-1",
        hx("06 8000000000000000"), "invalid", ["SizeOverflow"], "long-size", error=("size", 1))


def build_commands(cap: dict[str, Any]) -> None:
    """Command-body vectors: name grammar, the empty body, PING/PONG, SUBSCRIBE/CANCEL, ERROR."""
    pt, ps = cap["plaintext"], cap["pubsub-plaintext"]

    def cx(name: str, data: bytes) -> dict[str, Any]:
        return {"name": name, "data": data.hex()}

    real = bytes.fromhex(pt["c2s"]["frames"][5]["body"])
    add("command", "libzmq-4.3.4-ping", "PING with ttl 10 (HEARTBEAT_TTL 1000 ms), no context",
        real, "valid", ["LibzmqCapture", "Heartbeat"], "ping", cx("PING", real[5:]))
    real = bytes.fromhex(pt["s2c"]["frames"][4]["body"])
    add("command", "libzmq-4.3.4-pong", "PONG with an empty context", real, "valid",
        ["LibzmqCapture", "Heartbeat"], "pong", cx("PONG", b""))
    real = bytes.fromhex(ps["c2s"]["frames"][3]["body"])
    add("command", "libzmq-4.3.4-subscribe", "SUBSCRIBE \"topic\" (PLAINTEXT mode)", real,
        "valid", ["LibzmqCapture", "Subscription"], "subscribe31", cx("SUBSCRIBE", b"topic"))
    real = bytes.fromhex(ps["c2s"]["frames"][4]["body"])
    add("command", "libzmq-4.3.4-cancel", "CANCEL \"topic\" (PLAINTEXT mode)", real, "valid",
        ["LibzmqCapture", "Subscription"], "cancel31", cx("CANCEL", b"topic"))
    ctx = bytes(range(16))
    add("command", "ping-context-16", "PING with ttl 0 and the largest context (16 octets)",
        cmd(b"PING", b"\x00\x00" + ctx), "valid", ["Heartbeat"], "ping",
        cx("PING", b"\x00\x00" + ctx))
    add("command", "pong-context-16", "PONG echoing a 16-octet context", cmd(b"PONG", ctx),
        "valid", ["Heartbeat"], "pong", cx("PONG", ctx))
    add("command", "ping-context-17", "PING context of 17 octets", cmd(b"PING", bytes(19)),
        "invalid", ["Heartbeat"], "ping", error=("ping-context", 7))
    add("command", "ping-no-ttl", "PING with one octet where the 2-octet ttl belongs",
        cmd(b"PING", b"\x00"), "invalid", ["Heartbeat", "Truncated"], "ping",
        error=("ping-ttl", 5))
    add("command", "pong-context-17", "PONG context of 17 octets", cmd(b"PONG", bytes(17)),
        "invalid", ["Heartbeat"], "pong", error=("ping-context", 5))
    add("command", "subscribe-empty", "SUBSCRIBE to everything (empty subscription)",
        cmd(b"SUBSCRIBE"), "valid", ["Subscription"], "subscribe31", cx("SUBSCRIBE", b""))
    add("command", "error-reason", "ERROR with a reason", cmd(b"ERROR", hx(6, b"denied")),
        "valid", [], "error", cx("ERROR", hx(6, b"denied")))
    add("command", "error-reason-overrun", "ERROR reason length 10, 6 octets follow",
        cmd(b"ERROR", hx(10, b"denied")), "invalid", ["Truncated"], "error",
        error=("error-reason", 7))
    add("command", "error-reason-trailing", "ERROR reason length 2, 6 octets follow",
        cmd(b"ERROR", hx(2, b"denied")), "invalid", ["TrailingBytes"], "error",
        error=("trailing", 9))
    add("command", "unknown-name", "an unknown command name decodes (the state machine decides)",
        cmd(b"HELLO", b"\x01\x02"), "valid", ["CommandName"], "command-name",
        cx("HELLO", b"\x01\x02"))
    add("command", "empty-body", "the empty command frame's body: no name",
        b"", "invalid", ["EmptyCommand", "CommandName"], "command-name",
        error=("command-name", 0))
    add("command", "zero-length-name", "name length 0", hx("00 414243"), "invalid",
        ["CommandName"], "command-name", error=("command-name", 1))
    add("command", "name-overrun", "name length 8, 4 octets follow", hx(8, b"INIT"), "invalid",
        ["CommandName", "Truncated"], "command-name", error=("command-name", 1))
    add("command", "name-digit", "a digit in the name", cmd(b"READ1"), "invalid",
        ["CommandName"], "command-name", error=("command-name", 5))
    add("command", "name-space-padded", "38/ZMTP-GSSAPI's 8-character space-padded name",
        cmd(b"READY   "), "invalid", ["CommandName"], "spec38", error=("command-name", 6))


def build_metadata(cap: dict[str, Any]) -> None:
    """READY metadata vectors: real properties, the NULL grammar's limits, duplicates, case."""

    def mx(*pairs: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"properties": [[n.decode(), v.hex()] for n, v in pairs]}

    for scen, d, idx, vid, pairs in (
            ("plaintext", "c2s", 2, "libzmq-4.3.4-dealer",
             ((b"Socket-Type", b"DEALER"), (b"Identity", b"alice-1"))),
            ("plaintext", "s2c", 1, "libzmq-4.3.4-router",
             ((b"Socket-Type", b"ROUTER"), (b"Identity", b""))),
            ("pubsub-plaintext", "c2s", 2, "libzmq-4.3.4-sub", ((b"Socket-Type", b"SUB"),))):
        body = bytes.fromhex(cap[scen][d]["frames"][idx]["body"])
        assert body[:6] == b"\x05READY", vid
        add("ready-metadata", vid, f"the properties of libzmq's READY ({pairs[0][1].decode()})",
            body[6:], "valid", ["LibzmqCapture"], "value", mx(*pairs))
    add("ready-metadata", "empty", "no properties at all", b"", "valid", [], "value", mx())
    pairs = ((b"Socket-Type", b"PUB"), (b"X-Trace", b"\x00\xff"))
    add("ready-metadata", "x-property", "an application property with binary value",
        props(*pairs), "valid", [], "x-props", mx(*pairs))
    pairs = ((b"socket-type", b"DEALER"),)
    add("ready-metadata", "socket-type-lower-case", "Socket-Type spelt in lower case",
        props(*pairs), "valid", ["NameCase"], "case", mx(*pairs))
    pairs = ((b"SOCKET-TYPE", b"DEALER"),)
    add("ready-metadata", "socket-type-upper-case", "Socket-Type spelt in upper case",
        props(*pairs), "valid", ["NameCase"], "case", mx(*pairs))
    name = b"X-" + b"n" * 253
    add("ready-metadata", "name-255", "the longest name (255 octets)", props((name, b"v")),
        "valid", [], "name", mx((name, b"v")))
    base = props((b"Socket-Type", b"DEALER"))
    pairs = ((b"Socket-Type", b"DEALER"), (b"Socket-Type", b"ROUTER"))
    add("ready-metadata", "duplicate-name", "Socket-Type twice", props(*pairs), "acceptable",
        ["DuplicateName"], "dictionary", mx(*pairs))
    pairs = ((b"Socket-Type", b"DEALER"), (b"socket-type", b"ROUTER"))
    add("ready-metadata", "duplicate-name-case", "Socket-Type and socket-type", props(*pairs),
        "acceptable", ["DuplicateName", "NameCase"], "dictionary", mx(*pairs))
    add("ready-metadata", "zero-length-name", "a property name of 0 octets",
        base + hx("00 00000000"), "invalid", ["NameLength"], "name",
        error=("name", len(base) + 1))
    add("ready-metadata", "name-overrun", "name length 20, 11 octets follow",
        hx(20, b"Socket-Type"), "invalid", ["NameLength", "Truncated"], "name",
        error=("name", 1))
    add("ready-metadata", "value-length-truncated", "the value length cut after 2 octets",
        hx(11, b"Socket-Type", "0000"), "invalid", ["ValueLength", "Truncated"], "value-size",
        error=("value", 12))
    add("ready-metadata", "value-overrun", "value length 7, 6 octets follow",
        hx(11, b"Socket-Type", u32(7), b"DEALER"), "invalid", ["ValueLength", "Truncated"],
        "value", error=("value", 16))
    add("ready-metadata", "value-length-int32-max-plus-1", "value length 2^31",
        hx(11, b"Socket-Type", "80000000"), "invalid", ["ValueLength"], "value",
        error=("value", 16))
    add("ready-metadata", "value-length-max", "value length 0xFFFFFFFF",
        hx(8, b"Identity", "ffffffff", b"x"), "invalid", ["ValueLength"], "value",
        error=("value", 13))
    pairs = ((b"Socket Type", b"DEALER"),)
    add("ready-metadata", "name-with-space", "a space inside the name", props(*pairs),
        "acceptable", ["NameChars"], "name-char", mx(*pairs))


def build_token_bodies(cap: dict[str, Any]) -> None:
    """INITIATE and MESSAGE body vectors: the length-prefixed token layout."""
    dr = cap["dealer-router"]
    real = bytes.fromhex(dr["s2c"]["frames"][0]["body"])
    add("initiate", "libzmq-4.3.4-ap-rep", "the server's INITIATE as captured (156-octet AP-REP)",
        real, "valid", ["LibzmqCapture"], "initiate", {"token": real[13:].hex()})
    real = bytes.fromhex(dr["c2s"]["frames"][0]["body"])
    add("initiate", "libzmq-4.3.4-ap-req", "the client's INITIATE as captured (710-octet AP-REQ)",
        real, "valid", ["LibzmqCapture"], "initiate", {"token": real[13:].hex()})
    add("initiate", "one-octet-token", "the token is opaque: one octet is well formed",
        cmd(b"INITIATE", u32(1) + b"\x60"), "valid", [], "initiate", {"token": "60"})
    tok = bytes(range(256)) * 2
    add("initiate", "token-512", "an arbitrary 512-octet token", cmd(b"INITIATE", u32(512) + tok),
        "valid", [], "initiate", {"token": tok.hex()})
    add("initiate", "trailing-bytes", "length 3, 5 octets follow",
        cmd(b"INITIATE", u32(3) + b"abcde"), "invalid", ["TokenLength", "TrailingBytes"],
        "initiate", error=("trailing", 16))
    add("initiate", "short-token", "length 10, 4 octets follow",
        cmd(b"INITIATE", u32(10) + b"abcd"), "invalid", ["TokenLength", "Truncated"], "initiate",
        error=("token", 13))
    add("initiate", "truncated-length", "2 of the 4 length octets",
        cmd(b"INITIATE", b"\x00\x00"), "invalid", ["TokenLength", "Truncated"], "initiate",
        error=("token-length", 9))
    add("initiate", "no-length", "the name and nothing else", cmd(b"INITIATE"), "invalid",
        ["TokenLength", "Truncated"], "initiate", error=("token-length", 9))
    add("initiate", "zero-length", "length 0 and no token: harmless to accept, as the GSS "
        "acceptor then rejects the empty token", cmd(b"INITIATE", u32(0)), "acceptable",
        ["ZeroLengthToken"], "empty-frame", {"token": ""})
    add("initiate", "length-max", "length 0xFFFFFFFF, 4 octets follow",
        cmd(b"INITIATE", b"\xff\xff\xff\xff" + b"abcd"), "invalid", ["TokenLength", "Truncated"],
        "initiate", error=("token", 13))
    add("initiate", "wrong-name", "a MESSAGE where INITIATE is decoded",
        cmd(b"MESSAGE", u32(1) + b"x"), "invalid", ["CommandName"], "initiate",
        error=("command-name", 0))
    add("initiate", "lower-case-name", "initiate in lower case",
        cmd(b"initiate", u32(1) + b"x"), "invalid", ["CommandName"], "initiate",
        error=("command-name", 1))

    real = bytes.fromhex(dr["c2s"]["frames"][2]["body"])
    add("message", "libzmq-4.3.4-wrapped-ready", "the client's wrapped READY (109-octet token: "
        "60 octets of RFC 4121 overhead + 49 of plaintext)", real, "valid", ["LibzmqCapture"],
        "message", {"token": real[12:].hex()})
    real = bytes.fromhex(dr["c2s"]["frames"][5]["body"])
    add("message", "libzmq-4.3.4-wrapped-ping", "a wrapped PING (68 = 60 + 8)", real, "valid",
        ["LibzmqCapture", "Heartbeat"], "message", {"token": real[12:].hex()})
    add("message", "trailing-bytes", "length 2, 3 octets follow", cmd(b"MESSAGE", u32(2) + b"abc"),
        "invalid", ["TokenLength", "TrailingBytes"], "message", error=("trailing", 14))
    add("message", "short-token", "length 60, 1 octet follows", cmd(b"MESSAGE", u32(60) + b"a"),
        "invalid", ["TokenLength", "Truncated"], "message", error=("token", 12))
    add("message", "truncated-length", "3 of the 4 length octets", cmd(b"MESSAGE", bytes(3)),
        "invalid", ["TokenLength", "Truncated"], "message", error=("token-length", 8))
    add("message", "zero-length", "length 0: no wrap token is empty",
        cmd(b"MESSAGE", u32(0)), "invalid", ["ZeroLengthToken"], "message",
        error=("token-length", 8))
    add("message", "wrong-name", "an INITIATE where MESSAGE is decoded",
        cmd(b"INITIATE", u32(1) + b"x"), "invalid", ["CommandName"], "message",
        error=("command-name", 0))


def build_plaintexts(cap: dict[str, Any]) -> None:
    """Wrapped-plaintext vectors: the flags octet and body found inside a wrap token."""

    def wx(flags: int, body: bytes) -> dict[str, Any]:
        return {"flags": flags, "more": bool(flags & 1), "command": bool(flags & 2),
                "body": body.hex()}

    wraps = cap["dealer-router"]["wraps"]
    seen: set[str] = set()
    for line in wraps:
        kind, data_hex = line.split()
        if kind != "wrap" or data_hex in seen:
            continue
        seen.add(data_hex)
    labels = {
        "00055245414459": ("libzmq-4.3.4-ready", "a wrapped READY: flags 00 although READY is a "
                           "command"),
        "0168656c6c6f": ("libzmq-4.3.4-more-part", "the first part of a 2-part message: MORE"),
        "0078787878": ("libzmq-4.3.4-last-part", "the last part (300 octets)"),
        "020450494e47": ("libzmq-4.3.4-ping", "a wrapped PING: COMMAND"),
        "0204504f4e47": ("libzmq-4.3.4-pong", "a wrapped PONG: COMMAND"),
    }
    done: set[str] = set()
    for data_hex in sorted(seen):
        for prefix, (vid, comment) in labels.items():
            if data_hex.startswith(prefix) and vid not in done:
                done.add(vid)
                data = bytes.fromhex(data_hex)
                flags = ["LibzmqCapture"] + (["InnerCommand"] if data[0] & 2 else [])
                add("wrapped-plaintext", vid, comment, data, "valid", flags, "inner-flags",
                    wx(data[0], data[1:]))
    sub = [ln.split()[1] for ln in cap["pubsub"]["wraps"] if ln.startswith("wrap 00746f")][0]
    data = bytes.fromhex(sub)
    add("wrapped-plaintext", "libzmq-4.3.4-lost-subscribe", "libzmq 4.3.4 SUB's subscription "
        "to \"topic\" under encryption: a plain message, the subscribe marker lost", data,
        "valid", ["LibzmqCapture", "Libzmq434SubscribeLost"], "inner-flags", wx(0, b"topic"))
    for vid, data, comment, spec in (
            ("subscribe-00-01", hx("00 01", b"topic"), "subscription as a 3.0 message: "
             "00 + 01 topic", "subscribe30"),
            ("cancel-00-00", hx("00 00", b"topic"), "cancel as a 3.0 message: 00 + 00 topic",
             "cancel30"),
            ("subscribe-command", hx("02", cmd(b"SUBSCRIBE", b"topic")), "COMMAND-flagged "
             "SUBSCRIBE", "subscribe31"),
            ("cancel-command", hx("02", cmd(b"CANCEL", b"topic")), "COMMAND-flagged CANCEL",
             "cancel31"),
            ("subscribe-bit-04", hx("04", b"topic"), "libzmq master's SUBSCRIBE bit",
             "inner-flags"),
            ("cancel-bit-08", hx("08", b"topic"), "libzmq master's CANCEL bit", "inner-flags"),
            ("subscribe-all-bit-04", hx("04"), "SUBSCRIBE bit with an empty topic (everything)",
             "inner-flags")):
        flags = ["Subscription"] + (["InnerCommand"] if data[0] == 2 else []) \
            + (["InnerSubscribe"] if data[0] in (4, 8) else [])
        add("wrapped-plaintext", vid, comment, data, "valid", flags, spec, wx(data[0], data[1:]))
    add("wrapped-plaintext", "empty-message", "an empty single-part message: the flags octet "
        "alone", hx("00"), "valid", [], "inner-flags", wx(0, b""))
    add("wrapped-plaintext", "ping-context", "a wrapped PING with ttl 0 and a 4-octet context",
        hx("02", cmd(b"PING", hx("0000 01020304"))), "valid", ["InnerCommand", "Heartbeat"],
        "ping", wx(2, cmd(b"PING", hx("0000 01020304"))))
    add("wrapped-plaintext", "empty", "a wrap token of zero octets: no flags octet", b"",
        "invalid", ["EmptyPlaintext"], "empty-wrap", error=("flags", 0))
    for bit in (0x10, 0x20, 0x40, 0x80):
        add("wrapped-plaintext", f"unknown-bit-{bit:02x}", f"unknown inner flag bit {bit:#04x}",
            hx(bit, b"data"), "invalid", ["UnknownInnerFlags"], "inner-flags",
            error=("flags", 0))
    add("wrapped-plaintext", "combination-03", "flags 03: COMMAND with MORE",
        hx(3, cmd(b"PING", b"\x00\x00")), "invalid", ["CommandMore"], "more-cmd",
        error=("flags", 0))
    for value, comment in ((0x05, "SUBSCRIBE with MORE"), (0x06, "SUBSCRIBE with COMMAND"),
                           (0x0C, "SUBSCRIBE and CANCEL")):
        data = hx(value, cmd(b"SUBSCRIBE", b"topic") if value & 0x02 else b"topic")
        add("wrapped-plaintext", f"combination-{value:02x}", f"flags {value:02x}: {comment}",
            data, "acceptable", ["InnerFlagCombination"], "inner-flags",
            wx(value, data[1:]))
    add("wrapped-plaintext", "command-empty-body", "COMMAND flag with no command inside",
        hx("02"), "invalid", ["InnerCommand", "CommandName"], "command-name",
        error=("command-name", 1))
    add("wrapped-plaintext", "command-bad-name", "COMMAND flag, name length past the end",
        hx("02 09", b"SUB"), "invalid", ["InnerCommand", "CommandName"], "command-name",
        error=("command-name", 2))


def build() -> dict[str, Any]:
    """The whole vector file as a dict (tcIds numbered in file order)."""
    cap = {c["scenario"]: c for c in json.loads(CAPTURE.read_text())}
    for g in GROUPS.values():
        g.clear()
    build_greetings(cap)
    build_frames(cap)
    build_commands(cap)
    build_metadata(cap)
    build_token_bodies(cap)
    build_plaintexts(cap)
    tc = 0
    groups = []
    for gtype, tests in GROUPS.items():
        numbered = []
        for t in tests:
            tc += 1
            numbered.append({"tcId": tc, **t})
        groups.append({"type": gtype, "tests": numbered})
    used = {f for g in groups for t in g["tests"] for f in t["flags"]}
    return {"algorithm": "ZMTP-GSSAPI", "schema": "gssconform-vectors-1", "numberOfTests": tc,
            "header": ["ZMTP 3.x framing and the de facto GSSAPI mechanism of libzmq; grammar "
                       "in docs/zmtp-gssapi.md, schema in vectors/README.md. Generated by "
                       "vectors/gen-zmtp-gssapi.py: edit that, not this file."],
            "notes": {k: v for k, v in NOTES.items() if k in used},
            "testGroups": groups}


def render() -> str:
    """The JSON text exactly as committed."""
    return json.dumps(build(), indent=1, ensure_ascii=True) + "\n"


def main() -> int:
    """Write the file, or with --check compare it (exit 1 and say so when stale)."""
    text = render()
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run vectors/gen-zmtp-gssapi.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({json.loads(text)['numberOfTests']} tests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
