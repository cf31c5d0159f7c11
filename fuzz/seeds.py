#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from vectors/*.json, the
libzmq capture and a few hand-made exchanges in the fake GSS table's conventions (fakegss.h:
tokens "AP-REQ"/"AP-REP", wrap = one conf octet + the plaintext).

Run from the top of the tree after a vector file changes; the output is committed. Files this
script did not write (regression inputs of findings, named regress-*) are left alone.
"""
import hashlib
import json
import os
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(TOP, "fuzz", "corpus")


def load(name):
    with open(os.path.join(TOP, "vectors", name), encoding="utf-8") as f:
        return json.load(f)


def tests(doc, group_type=None):
    for g in doc["testGroups"]:
        if group_type is None or g["type"] == group_type:
            yield from g["tests"]


class Corpus:
    def __init__(self, target):
        self.dir = os.path.join(CORPUS, target)
        os.makedirs(self.dir, exist_ok=True)
        for f in os.listdir(self.dir):
            if f.startswith("seed-"):
                os.unlink(os.path.join(self.dir, f))
        self.seen = set()

    def add(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        digest = hashlib.sha1(data).hexdigest()[:16]
        if digest in self.seen:
            return
        self.seen.add(digest)
        with open(os.path.join(self.dir, "seed-" + digest), "wb") as f:
            f.write(data)


# ---- ZMTP bytes ----

def greeting(as_server):
    return (b"\xff" + bytes(8) + b"\x7f\x03\x01" + b"GSSAPI".ljust(20, b"\0") +
            bytes([as_server]) + bytes(31))


def frame(flags, body):
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def command(name, data=b""):
    return bytes([len(name)]) + name + data


def token_cmd(name, token):
    return command(name, struct.pack(">I", len(token)) + token)


def prop(name, value):
    return bytes([len(name)]) + name + struct.pack(">I", len(value)) + value


def ready(socket_type, identity=None):
    body = command(b"READY", prop(b"Socket-Type", socket_type))
    if identity is not None:
        body += prop(b"Identity", identity)
    return body


def wrapped(flags, body):
    """A MESSAGE carrying the fake wrap token (conf 1) of flags + body."""
    return token_cmd(b"MESSAGE", b"\x01" + bytes([flags]) + body)


def zmtp_streams():
    """(option octet, peer bytes) pairs for zmtp-stream (see its header comment)."""
    out = []
    for plaintext in (False, True):
        pt = 2 if plaintext else 0
        # we are the server: a DEALER client
        c = greeting(0) + frame(4, token_cmd(b"INITIATE", b"alice@FAKE.TEST")) + frame(4, b"")
        if plaintext:
            c += frame(4, ready(b"DEALER", b"alice-1")) + frame(1, b"part1") + frame(0, b"")
            c += frame(4, command(b"PING", b"\x00\x0actx"))
        else:
            c += frame(4, wrapped(2, ready(b"DEALER", b"alice-1")))
            c += frame(0, wrapped(1, b"part1")) + frame(0, wrapped(0, b""))
            c += frame(0, wrapped(2, command(b"PING", b"\x00\x0actx")))
        out.append((0x00 | pt, c))
        out.append((0x30 | pt, c))
        out.append((0x04 | pt, c))
        # we are the client: a ROUTER server
        s = greeting(1) + frame(4, token_cmd(b"INITIATE", b"AP-REP"))
        if plaintext:
            s += frame(4, ready(b"ROUTER", b"")) + frame(0, b"hello")
        else:
            s += frame(4, wrapped(2, ready(b"ROUTER", b""))) + frame(0, wrapped(0, b"hello"))
        out.append((0x01 | pt, s))
        out.append((0x51 | pt, s))
        # PUB/SUB: we are the PUB server, a SUB client subscribes
        c = greeting(0) + frame(4, token_cmd(b"INITIATE", b"bob@FAKE.TEST")) + frame(4, b"")
        if plaintext:
            c += frame(4, ready(b"SUB")) + frame(0, b"\x01topic") + frame(4, command(b"SUBSCRIBE", b"t"))
        else:
            c += frame(4, wrapped(2, ready(b"SUB"))) + frame(0, wrapped(0, b"\x01topic"))
            c += frame(0, wrapped(4, b"topic")) + frame(0, wrapped(8, b"topic"))
        out.append((0x08 | pt, c))
    # a client that sends an ERROR, one that retries the token in rounds
    out.append((0, greeting(0) + frame(4, command(b"ERROR", b"\x06denied"))))
    out.append((0, greeting(0) + frame(4, token_cmd(b"INITIATE", b"MORE")) +
                frame(4, token_cmd(b"INITIATE", b"carol@FAKE.TEST")) + frame(4, b"")))
    return out


def capture_streams(cap):
    """The real libzmq byte streams, both directions (real Kerberos tokens: the fake accepts
    the AP-REQ and refuses the real wrap tokens)."""
    out = []
    for sc in cap:
        for direction, role in (("c2s", 0), ("s2c", 1)):
            d = sc[direction]
            data = bytes.fromhex(d["greeting"])
            for f in d["frames"]:
                data += bytes.fromhex(f["head"]) + bytes.fromhex(f["body"])
            opt = role | (2 if "plaintext" in sc["scenario"] else 0)
            opt |= 8 if "pubsub" in sc["scenario"] else 0
            out.append((opt, data))
    return out


def main():
    zmtp = load("zmtp-gssapi.json")
    cap = load("capture/libzmq-4.3.4.json")

    c = Corpus("zmtp-stream")
    for opt, data in zmtp_streams() + capture_streams(cap):
        c.add(bytes([opt]) + data)

    c = Corpus("zmtp-codec")
    for t in tests(zmtp):
        raw = bytes.fromhex(t["input"])
        if t.get("expected", {}).get("subscription") is not None or "Subscription" in t["flags"]:
            c.add(b"\x02" + raw)
        c.add(b"\x00" + raw)
    for sc in cap:
        for direction in ("c2s", "s2c"):
            for f in sc[direction]["frames"]:
                c.add(b"\x00" + bytes.fromhex(f["head"]) + bytes.fromhex(f["body"]))
                c.add(b"\x00" + bytes.fromhex(f["body"]))
        for w in sc["wraps"]:
            c.add(b"\x00" + bytes.fromhex(w.split()[1]))

    c = Corpus("xmpp-features")
    for t in tests(load("xep0233-features.json")):
        c.add(t["xml"])

    c = Corpus("xmpp-principal")
    for t in tests(load("xep0233-principals.json")):
        opt = (1 if t["id"].startswith("sspi/") else 0)
        opt |= 2 if t["hostname"] is None else 0
        opt |= 4 if t["realm"] is None else 0
        port = -1 if t["port"] is None else t["port"]
        if not -2**31 <= port < 2**31:
            continue
        c.add(bytes([opt]) + struct.pack(">i", port) +
              "\0".join([t["hostname"] or "", t["domain"] or "", t["realm"] or ""]).encode())

    c = Corpus("xmpp-stream")
    header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "
              "version='1.0' xml:lang='en'>")
    bodies = [
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'>QVAtUkVR</auth>"
        "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</response>",
        "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<resource>r&amp;1</resource></bind></iq><message to='a@example.com'>"
        "<body>hi &lt;3</body></message>",
        "<presence/></stream:stream>",
    ]
    # what restricted XML forbids, and encodings XMPP does not allow (RFC 6120 §11)
    bodies += [
        "<!-- a comment --><presence/>",
        "<?pi data?><presence/>",
        "<message><body>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;</body></message>",
        "<message xml:lang='de'><body>\u00e9\u4e2d</body></message>",
    ]
    for prolog in ("<!DOCTYPE stream [<!ENTITY x 'y'>]>",
                   "<!DOCTYPE s [<!NOTATION n SYSTEM 'u'>]>",
                   "<!DOCTYPE s SYSTEM 'http://example.com/x.dtd'>"):
        c.add(b"\x00" + (prolog + header + "<presence/>").encode())
    c.add(b"\x00<?xml version='1.0' encoding='ISO-8859-1'?>" + header[21:].encode())
    c.add(b"\x00" + header.encode() + b"<body>\xff\xfe</body>")
    for i, body in enumerate(bodies):
        for opt in (0x00, 0x03, 0x20, 0x10):
            c.add(bytes([opt]) + (header + body).encode())
    for t in list(tests(load("xep0233-features.json")))[:40]:
        c.add(b"\x00" + (header + t["xml"]).encode())

    c = Corpus("xmpp-sasl")

    def payloads(*ps):
        return b"".join(bytes([len(p)]) + p for p in ps)

    lay_srv = b"\x00" + b"\x07\x00\x10\x00"  # fake wrap, conf 0: offer all, max 4096
    for opt in (0x00, 0x02, 0x0E, 0x20, 0x40):
        # we are the server: the client's initial response, the empty response, its layer reply
        c.add(bytes([opt]) + payloads(b"alice@FAKE.TEST", b"", b"\x00\x01\x00\x00\x00"))
        c.add(bytes([opt]) + payloads(b"alice@FAKE.TEST", b"", b"\x00\x04\x01\x00\x00bob"))
        c.add(bytes([opt]) + payloads(b"", b"AP-REQ", b"", b"\x00\x01\x00\x00\x00"))
    for opt in (0x01, 0x03, 0x0F, 0x1F, 0xC1, 0xE1):
        # we are the client: AP-REP, then the server's layer message
        c.add(bytes([opt]) + payloads(b"AP-REP", lay_srv, b""))
        c.add(bytes([opt]) + payloads(b"MORE", b"AP-REP", b"\x00\x01\x00\x00\x00"))

    c = Corpus("sasl-layers")
    for t in tests(load("sasl-layers.json")):
        c.add(bytes([t.get("offered", 7)]) + bytes.fromhex(t["input"]))

    c = Corpus("base64")
    for t in tests(load("sasl-base64.json")):
        c.add(t["text"])

    c = Corpus("jsonload")
    for text in ['{}', '[]', '0', '-12', '1.5e3', '"a\\u00e9\\ud83d\\ude00"',
                 '{"a":[1,2,{"b":null}],"c":true}', '9223372036854775807', '{"a":1,"a":2}',
                 '[1,]', '"\\u0000"', ' [ "x" ] ', '[[[[[[[[[[]]]]]]]]]]']:
        c.add(text)
    for name in ("sasl-base64.json", "sasl-layers.json", "xep0233-features.json",
                 "xep0233-principals.json", "zmtp-gssapi.json"):
        doc = load(name)
        c.add(json.dumps(doc["testGroups"][0]["tests"][0]))
        c.add(json.dumps(dict(list(doc["notes"].items())[:3])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
