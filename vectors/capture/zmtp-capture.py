#!/usr/bin/python3
"""Capture what libzmq puts on the wire for ZMTP GSSAPI, byte for byte.

Starts a throwaway Kerberos realm (realm-setup/krbrealm.py), runs a pyzmq GSSAPI server and
client in this process and puts a small TCP relay on loopback between them that records both
directions. Then it splits each direction into the greeting and ZMTP frames and prints them.

    vectors/capture/zmtp-capture.py [--scenario NAME ...] [--json FILE]

Scenarios: dealer-router (encrypted, multipart echo, heartbeats), plaintext (the same with
ZMQ_GSSAPI_PLAINTEXT), pubsub (encrypted PUB/SUB) and pubsub-plaintext. Default: all.

Kerberos tokens and wrap tokens differ on every run (context tokens even in length, by an octet
or two); greetings, frame layouts, the sizes of wrapped frames and the plaintexts do not.
Runs under /usr/bin/python3 because pyzmq is the Debian module python3-zmq.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "realm-setup"))
import krbrealm  # noqa: E402 (realm-setup is not a package)

REALM = "GSSCONFORM.TEST"
SERVICE = "zmq/localhost"
CLIENT = "alice"
DEADLINE_S = 10.0  # every scenario is bounded by this


class CaptureError(Exception):
    """The realm or a scenario could not be run; the message says what and where."""


# --------------------------------------------------------------------------- realm


def make_realm(directory: Path) -> krbrealm.Realm:
    """A throwaway realm with the service and the client principal (not started yet)."""
    return krbrealm.Realm(directory, realm=REALM, principals=(SERVICE, CLIENT))


# --------------------------------------------------------------------------- relay


@dataclass
class Chunk:
    """Bytes seen in one recv() on one side of the relay."""

    direction: str  # "c2s" or "s2c"
    data: bytes


@dataclass
class Relay:
    """A one-connection TCP relay on loopback that records both directions."""

    upstream_port: int
    chunks: list[Chunk] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + DEADLINE_S
        self._listener.settimeout(DEADLINE_S)
        try:
            down, _ = self._listener.accept()
        except OSError:
            return
        up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=DEADLINE_S)
        peer = {down: (up, "c2s"), up: (down, "s2c")}
        open_ = {down, up}
        try:
            while open_ and not self._stop.is_set() and time.monotonic() < deadline:
                readable, _, _ = select.select(list(open_), [], [], 0.05)
                for s in readable:
                    data = s.recv(65536)
                    other, direction = peer[s]
                    if not data:
                        open_.discard(s)
                        try:
                            other.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    with self._lock:
                        self.chunks.append(Chunk(direction, data))
                    other.sendall(data)
        finally:
            down.close()
            up.close()
            self._listener.close()

    def stream(self, direction: str) -> bytes:
        """Everything recorded so far in DIRECTION."""
        with self._lock:
            return b"".join(c.data for c in self.chunks if c.direction == direction)

    def first_chunks(self, direction: str, n: int) -> list[bytes]:
        """The first N recv() chunks of DIRECTION (shows libzmq's staged greeting)."""
        with self._lock:
            return [c.data for c in self.chunks if c.direction == direction][:n]

    def close(self) -> None:
        """Stop relaying and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=DEADLINE_S)


# --------------------------------------------------------------------------- decoding


def split_stream(data: bytes) -> tuple[bytes, list[dict[str, Any]]]:
    """Split one direction into the 64-octet greeting and the frames that follow."""
    greeting, rest = data[:64], data[64:]
    frames: list[dict[str, Any]] = []
    pos = 0
    while pos < len(rest):
        flags = rest[pos]
        if flags & 0x02:
            if pos + 9 > len(rest):
                break
            size = int.from_bytes(rest[pos + 1:pos + 9], "big")
            head = 9
        else:
            if pos + 2 > len(rest):
                break
            size = rest[pos + 1]
            head = 2
        if pos + head + size > len(rest):
            break
        frames.append({"flags": flags, "size": size, "head": rest[pos:pos + head].hex(),
                       "body": rest[pos + head:pos + head + size].hex()})
        pos += head + size
    return greeting, frames


def describe(frame: dict[str, Any]) -> str:
    """One line: flags, size and what the body is (command name, token lengths)."""
    body = bytes.fromhex(frame["body"])
    kind = "CMD" if frame["flags"] & 0x04 else "MSG"
    text = f"{kind} flags={frame['flags']:02x} size={frame['size']}"
    if body and 0 < body[0] <= len(body) - 1 and body[1:1 + body[0]].isalpha():
        name = body[1:1 + body[0]].decode()
        text += f" name={name}"
        data = body[1 + body[0]:]
        if name in ("INITIATE", "MESSAGE") and len(data) >= 4:
            n = int.from_bytes(data[:4], "big")
            text += f" token-length={n} (+{len(data) - 4 - n} after)"
            if name == "MESSAGE" and len(data) >= 20:
                text += f" wrap-header={data[4:20].hex()}"
    elif not body and kind == "CMD":
        text += " (empty command)"
    return text


# --------------------------------------------------------------------------- scenarios


def _socket(ctx: zmq.Context, kind: int, server: bool, plaintext: bool) -> zmq.Socket:
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, int(DEADLINE_S * 1000))
    s.setsockopt(zmq.SNDTIMEO, int(DEADLINE_S * 1000))
    if server:
        s.setsockopt(zmq.GSSAPI_SERVER, 1)
    else:
        s.setsockopt(zmq.GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, 2)  # ZMQ_GSSAPI_NT_KRB5_PRINCIPAL
        s.setsockopt_string(zmq.GSSAPI_SERVICE_PRINCIPAL, f"{SERVICE}@{REALM}")
    if plaintext:
        s.setsockopt(zmq.GSSAPI_PLAINTEXT, 1)
    return s


def _wait_for(predicate: Any, what: str) -> None:
    """Poll PREDICATE (an observation of the relay) until true or the scenario deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise CaptureError(f"timed out waiting for {what}")
        time.sleep(0.01)


def run_dealer_router(ctx: zmq.Context, plaintext: bool) -> Relay:
    """DEALER (routing id "alice-1", heartbeats on) -> ROUTER echo of one 2-part message."""
    server = _socket(ctx, zmq.ROUTER, True, plaintext)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    relay = Relay(port)
    client = _socket(ctx, zmq.DEALER, False, plaintext)
    client.setsockopt(zmq.ROUTING_ID, b"alice-1")
    client.setsockopt(zmq.HEARTBEAT_IVL, 100)
    client.setsockopt(zmq.HEARTBEAT_TTL, 1000)
    try:
        client.connect(f"tcp://127.0.0.1:{relay.port}")
        client.send_multipart([b"hello", b"x" * 300])
        parts = server.recv_multipart()
        server.send_multipart(parts)
        if client.recv_multipart() != [b"hello", b"x" * 300]:
            raise CaptureError("dealer-router: echo differs")
        # Heartbeats: wait for two more frames each way after the echo (PING and PONG).
        n_c, n_s = (len(split_stream(relay.stream(d))[1]) for d in ("c2s", "s2c"))
        _wait_for(lambda: len(split_stream(relay.stream("c2s"))[1]) >= n_c + 1
                  and len(split_stream(relay.stream("s2c"))[1]) >= n_s + 1, "PING/PONG")
    finally:
        client.close()
        server.close()
        relay.close()
    return relay


def run_pubsub(ctx: zmq.Context, plaintext: bool) -> Relay:
    """SUB subscribes to "topic", receives one publication, then unsubscribes."""
    server = _socket(ctx, zmq.PUB, True, plaintext)
    port = server.bind_to_random_port("tcp://127.0.0.1")
    relay = Relay(port)
    client = _socket(ctx, zmq.SUB, False, plaintext)
    try:
        client.connect(f"tcp://127.0.0.1:{relay.port}")
        client.setsockopt(zmq.SUBSCRIBE, b"topic")
        poller = zmq.Poller()
        poller.register(client, zmq.POLLIN)
        # The subscription reaches the PUB asynchronously: publish (bounded) until one arrives.
        for _ in range(40):
            server.send(b"topic:payload")
            if poller.poll(50):
                break
        else:
            # Observed with libzmq 4.3.4 under encryption: the capture still shows why.
            print("pubsub: no publication reached the SUB within 2 s", file=sys.stderr)
            return relay
        client.recv()
        n = len(split_stream(relay.stream("c2s"))[1])
        client.setsockopt(zmq.UNSUBSCRIBE, b"topic")
        _wait_for(lambda: len(split_stream(relay.stream("c2s"))[1]) > n, "the cancel frame")
    finally:
        client.close()
        server.close()
        relay.close()
    return relay


SCENARIOS = {
    "dealer-router": lambda ctx: run_dealer_router(ctx, False),
    "plaintext": lambda ctx: run_dealer_router(ctx, True),
    "pubsub": lambda ctx: run_pubsub(ctx, False),
    "pubsub-plaintext": lambda ctx: run_pubsub(ctx, True),
}


def report(name: str, streams: dict[str, bytes], chunks: dict[str, list[int]],
           wraps: list[str]) -> dict[str, Any]:
    """Print one scenario's capture and return it as a JSON-ready dict."""
    out: dict[str, Any] = {"scenario": name, "libzmq": zmq.zmq_version()}
    print(f"== {name} (libzmq {zmq.zmq_version()})")
    for direction, who in (("c2s", "client -> server"), ("s2c", "server -> client")):
        greeting, frames = split_stream(streams[direction])
        print(f"-- {who}")
        print(f"   greeting {greeting.hex()}")
        print(f"   first recv() sizes {chunks[direction]} (libzmq sends its greeting in stages)")
        for f in frames:
            print(f"   {f['head']} {describe(f)}")
            if f["size"] <= 64:
                print(f"      body {f['body']}")
        out[direction] = {"greeting": greeting.hex(), "first_chunks": chunks[direction],
                          "frames": frames}
    if wraps:
        print("-- gss_wrap inputs / gss_unwrap outputs (inner flags byte + body), in call order")
        for line in wraps:
            print(f"   {line}")
    out["wraps"] = wraps
    return out


def run_child(name: str, out: Path) -> int:
    """Run one scenario in this (child) process and write the relay's recording to OUT."""
    ctx = zmq.Context()
    try:
        relay = SCENARIOS[name](ctx)
    except (CaptureError, zmq.ZMQError, OSError) as e:
        print(f"zmtp-capture: {name}: {e}", file=sys.stderr)
        return 2
    finally:
        ctx.term()
    out.write_text(json.dumps({
        d: {"stream": relay.stream(d).hex(), "chunks": [len(c) for c in relay.first_chunks(d, 3)]}
        for d in ("c2s", "s2c")}))
    return 0


def build_wraplog(directory: Path) -> Path | None:
    """Compile wraplog.c (the gss_wrap/gss_unwrap logger) into DIRECTORY; None when no cc."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    lib = directory / "wraplog.so"
    proc = subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib),
                           str(Path(__file__).with_name("wraplog.c")), "-ldl"],
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        print(f"zmtp-capture: no wrap log ({proc.stderr.strip()})", file=sys.stderr)
        return None
    return lib


def main() -> int:
    """Run the chosen scenarios in one throwaway realm; exit 0, or 2 on a realm/run failure."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    ap.add_argument("--json", type=Path, help="also write the captures as JSON here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return run_child(args.child, args.child_out)
    names = args.scenario or list(SCENARIOS)
    directory = Path(tempfile.mkdtemp(prefix="zmtp-capture-"))
    realm = make_realm(directory / "realm")
    results = []
    try:
        realm.start()
        wraplog = build_wraplog(directory)
        for name in names:
            out, log = directory / f"{name}.json", directory / f"{name}.wraplog"
            env = dict(os.environ, **realm.env(client=CLIENT, acceptor=SERVICE))
            if wraplog is not None:
                env.update(LD_PRELOAD=str(wraplog), ZMTP_CAPTURE_WRAPLOG=str(log))
            proc = subprocess.run([sys.executable, __file__, "--child", name, "--child-out",
                                   str(out)], env=env, timeout=3 * DEADLINE_S, check=False)
            if proc.returncode != 0:
                raise CaptureError(f"scenario {name} failed (exit {proc.returncode})")
            rec = json.loads(out.read_text())
            wraps = log.read_text().splitlines() if log.exists() else []
            results.append(report(name, {d: bytes.fromhex(rec[d]["stream"]) for d in rec},
                                  {d: rec[d]["chunks"] for d in rec}, wraps))
    except (CaptureError, OSError, subprocess.TimeoutExpired, krbrealm.RealmError) as e:
        print(f"zmtp-capture: {e}", file=sys.stderr)
        return 2
    finally:
        realm.stop()
        shutil.rmtree(directory, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
