#!/usr/bin/python3
"""pyzmq-shim: the pyzmq (python3-zmq, over libzmq 4.3.4) candidate of gssconform.

It follows the shim contract (docs/candidates-bundled.md) exactly like the libzmq C shim:

    shim.py zmtp-server --bind tcp://127.0.0.1:PORT [options]
    shim.py zmtp-client --connect tcp://127.0.0.1:PORT --service-principal NAME [options]
    shim.py --version

Every contract option becomes a GSSAPI socket option (pyzmq has no constants for the name
types: 90/91 with 0 hostbased, 1 user, 2 krb5); --allow is a ZAP handler thread; events are
JSON lines on stdout. The socket monitor's events go to stderr, and a client gives up (exit 1)
on the first HANDSHAKE_FAILED_* event instead of letting libzmq reconnect forever.

Debian's zmq module imports only under /usr/bin/python3, hence the explicit interpreter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import zmq
from zmq.utils.monitor import recv_monitor_message

# The shim contract (docs/candidates.md; the C programs share peer/tools/contract.c, and
# tests/zmtp/contract-t.py checks that this copy prints the same table).
EXIT_OK, EXIT_FAIL, EXIT_INVALID, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 64, 69
# (name, takes a value, roles) in the contract's order.
CONTRACT_OPTIONS = (
    ("bind", True, "server"), ("connect", True, "client"), ("socket-type", True, "both"),
    ("service-principal", True, "both"), ("service-nametype", True, "both"),
    ("principal", True, "client"), ("nametype", True, "client"), ("plaintext", False, "both"),
    ("allow", True, "server"), ("count", True, "both"), ("size", True, "both"),
    ("parts", True, "both"), ("payload-hex", True, "both"), ("subscribe", True, "client"),
    ("timeout-ms", True, "both"), ("handshake-timeout-ms", True, "both"),
    ("interval-ms", True, "client"), ("max-frame-size", True, "both"),
    ("transcript", True, "both"),
)
UNAVAILABLE = ("transcript",)  # contract options pyzmq cannot honour: exit 69
TICK_MS = 100

# libzmq's option numbers and name types (zmq.h), absent from pyzmq's constants.
GSSAPI_PRINCIPAL_NAMETYPE = 90
GSSAPI_SERVICE_PRINCIPAL_NAMETYPE = 91
NAMETYPES = {"hostbased": 0, "user": 1, "krb5": 2}

SOCKET_TYPES = {
    "DEALER": zmq.DEALER, "ROUTER": zmq.ROUTER, "REQ": zmq.REQ, "REP": zmq.REP,
    "PUB": zmq.PUB, "SUB": zmq.SUB, "PUSH": zmq.PUSH, "PULL": zmq.PULL,
}
HANDSHAKE_FAILURES = {
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "HANDSHAKE_FAILED_NO_DETAIL",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "HANDSHAKE_FAILED_PROTOCOL",
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "HANDSHAKE_FAILED_AUTH",
}
EVENT_NAMES = {
    getattr(zmq, name): name[len("EVENT_"):]
    for name in dir(zmq)
    if name.startswith("EVENT_") and name not in ("EVENT_ALL", "EVENT_ALL_V1", "EVENT_ALL_V2")
}

_print_lock = threading.Lock()
_terminated = threading.Event()


def emit(event: str, **fields: Any) -> None:
    """Print one contract event as a JSON line, flushed, whole even across threads."""
    line = json.dumps({"event": event, **fields}, separators=(",", ":"))
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def emit_delivered(parts: list[bytes]) -> None:
    """The `delivered` event for one received message."""
    emit("delivered", parts=[{"len": len(p), "sha256": hashlib.sha256(p).hexdigest(),
                              "head": p[:32].hex()} for p in parts])


class UsageError(Exception):
    """A usage error (exit 64) or an invalid value (exit 2), with a one-line reason."""

    def __init__(self, reason: str, status: int = EXIT_USAGE) -> None:
        super().__init__(reason)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass
class Options:
    """The contract's options after validation."""

    server: bool
    endpoint: str
    socket_type: int
    socket_type_name: str
    service_principal: str | None
    service_nametype: int
    principal: str | None
    nametype: int
    plaintext: bool
    allow: list[str]
    count: int
    size: int
    parts: int
    payload: bytes | None
    subscribe: bytes
    timeout_ms: int
    handshake_timeout_ms: int | None  # ZMQ_HANDSHAKE_IVL; None: libzmq's 30 s
    max_frame_size: int | None  # ZMQ_MAXMSGSIZE, applied to each received frame body
    interval_ms: int = 0  # client: pause between messages


def _number(option: str, text: str, minimum: int) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise UsageError(f"--{option} '{text}': expected a number >= {minimum}", EXIT_INVALID)
    return value


def parse_options(command: str, argv: list[str]) -> Options:
    """Parse the arguments after COMMAND ("zmtp-server" / "zmtp-client"); raises UsageError."""
    server = command == "zmtp-server"
    p = _parser()
    a = p.parse_args(argv)
    if a.transcript is not None:
        raise UsageError("--transcript: only gsspeer writes transcripts; libzmq does not "
                         "expose its frames", EXIT_UNAVAILABLE)
    if server and a.connect is not None or not server and a.bind is not None:
        raise UsageError(f"{command}: a server binds (--bind), a client connects (--connect)")
    endpoint = a.bind if server else a.connect
    if endpoint is None:
        raise UsageError(f"{command}: --{'bind' if server else 'connect'} ENDPOINT is required")
    type_name = (a.socket_type or ("ROUTER" if server else "DEALER")).upper()
    if type_name not in SOCKET_TYPES:
        raise UsageError("--socket-type: expected DEALER, ROUTER, REQ, REP, PUB, SUB, PUSH or "
                         "PULL")
    if server and type_name == "REQ":
        raise UsageError("REQ: cannot be an echo server")
    if not server and type_name in ("ROUTER", "REP"):
        raise UsageError(f"{type_name}: cannot be a client that sends first")
    if not server and a.service_principal is None:
        raise UsageError("zmtp-client: --service-principal is required (libzmq needs the target "
                         "name to start GSSAPI)")
    if server and a.principal is not None:
        raise UsageError("zmtp-server: --principal is a client option; a server names its own "
                         "principal with --service-principal")
    if not server and a.allow:
        raise UsageError("zmtp-client: --allow is a server option")
    for option, value in (("service-nametype", a.service_nametype), ("nametype", a.nametype)):
        if value is not None and value not in NAMETYPES:
            raise UsageError(f"--{option}: expected hostbased, user or krb5")
    payload = None
    if a.payload_hex is not None:
        try:
            payload = bytes.fromhex(a.payload_hex)
        except ValueError:
            payload = None
        if payload is None or len(a.payload_hex) % 2 or " " in a.payload_hex:
            raise UsageError(f"--payload-hex '{a.payload_hex}': expected an even number of hex "
                             "digits", EXIT_INVALID)
    return Options(
        server=server, endpoint=endpoint, socket_type=SOCKET_TYPES[type_name],
        socket_type_name=type_name, service_principal=a.service_principal,
        service_nametype=NAMETYPES[a.service_nametype or "hostbased"],
        principal=a.principal, nametype=NAMETYPES[a.nametype or "hostbased"],
        plaintext=a.plaintext, allow=a.allow or [],
        count=_number("count", a.count, 0) if a.count is not None else 1,
        size=_number("size", a.size, 0) if a.size is not None else 16,
        parts=_number("parts", a.parts, 1) if a.parts is not None else 1,
        payload=payload, subscribe=(a.subscribe or "").encode(),
        timeout_ms=_number("timeout-ms", a.timeout_ms, 1) if a.timeout_ms is not None else 10000,
        # ZMQ_HANDSHAKE_IVL 0 would mean no deadline at all, which the contract excludes
        handshake_timeout_ms=(_number("handshake-timeout-ms", a.handshake_timeout_ms, 1)
                              if a.handshake_timeout_ms is not None else None),
        max_frame_size=(_number("max-frame-size", a.max_frame_size, 0)
                        if a.max_frame_size is not None else None),
        interval_ms=_number("interval-ms", a.interval_ms, 0) if a.interval_ms is not None else 0,
    )


def _parser() -> _Parser:
    p = _Parser(add_help=False, allow_abbrev=False)
    for name, takes_value, _roles in CONTRACT_OPTIONS:
        if name == "allow":
            p.add_argument("--allow", action="append")
        elif takes_value:
            p.add_argument(f"--{name}")
        else:
            p.add_argument(f"--{name}", action="store_true")
    p.add_argument("--max-msg-size", dest="max_frame_size")  # its libzmq name
    return p


def contract_json() -> str:
    """`shim.py contract --json`: the contract table as the C programs print it."""
    return json.dumps({
        "contract": "zmtp",
        "exit": {"ok": EXIT_OK, "fail": EXIT_FAIL, "invalid": EXIT_INVALID,
                 "usage": EXIT_USAGE, "unavailable": EXIT_UNAVAILABLE},
        "options": [{"name": n, "value": v, "roles": r} for n, v, r in CONTRACT_OPTIONS],
        "unavailable": list(UNAVAILABLE)}, separators=(",", ":"))


class ZapHandler:
    """27/ZAP handler: admits only the --allow principals (200), denies the rest (400).

    libzmq asks it after the client's empty command frame and before READY; the single
    credential frame is gss_display_name of the client ("alice@REALM").
    """

    def __init__(self, ctx: zmq.Context, allow: list[str]) -> None:
        """Bind inproc://zeromq.zap.01 in CTX now (before the server binds) and start."""
        self.allow = set(allow)
        self.socket = ctx.socket(zmq.REP)
        self.socket.bind("inproc://zeromq.zap.01")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.socket.poll(TICK_MS):
                continue
            frames = self.socket.recv_multipart()
            request_id = frames[1] if len(frames) > 1 else b""
            if len(frames) < 7 or frames[0] != b"1.0" or frames[5] != b"GSSAPI":
                print(f"pyzmq-shim: ZAP: unexpected request ({len(frames)} frames)",
                      file=sys.stderr, flush=True)
                self.socket.send_multipart([b"1.0", request_id, b"400", b"not a GSSAPI "
                                            b"request", b"", b""])
                continue
            principal = frames[6].decode("utf-8", "replace")
            admit = principal in self.allow
            emit("authorized", principal=principal, allowed=admit)
            if admit:
                reply = [b"200", b"OK", frames[6]]
            else:
                reply = [b"400", b"principal not in --allow", b""]
            self.socket.send_multipart([b"1.0", request_id, *reply, b""])

    def stop(self) -> None:
        """Stop the thread (within about 100 ms) and close the socket."""
        self._stop.set()
        self._thread.join()
        self.socket.close(linger=0)


class Failed(Exception):
    """The run failed; the message is the contract's one-line reason."""


class Terminated(Exception):
    """SIGTERM / SIGINT arrived."""


@dataclass
class Run:
    """One server or client run: its context, socket, monitor and counters."""

    opts: Options
    ctx: zmq.Context = field(default_factory=zmq.Context)
    socket: zmq.Socket | None = None
    monitor: zmq.Socket | None = None
    zap: ZapHandler | None = None
    start: float = field(default_factory=time.monotonic)
    sent: int = 0
    received: int = 0
    verified: int = 0

    @property
    def deadline(self) -> float:
        """Monotonic time at which --timeout-ms expires."""
        return self.start + self.opts.timeout_ms / 1000

    def elapsed_ms(self) -> int:
        """Milliseconds since the run started."""
        return int((time.monotonic() - self.start) * 1000)

    def open(self) -> None:
        """Create the ZAP handler, the socket and its monitor; bind or connect."""
        o = self.opts
        if o.server and o.allow:
            self.zap = ZapHandler(self.ctx, o.allow)
        kind = zmq.XPUB if o.socket_type == zmq.PUB else o.socket_type
        s = self.socket = self.ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        if o.server:
            s.setsockopt(zmq.GSSAPI_SERVER, 1)
            if o.service_principal is not None:
                s.setsockopt(GSSAPI_PRINCIPAL_NAMETYPE, o.service_nametype)
                s.setsockopt(zmq.GSSAPI_PRINCIPAL, o.service_principal.encode())
        else:
            s.setsockopt(GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, o.service_nametype)
            s.setsockopt(zmq.GSSAPI_SERVICE_PRINCIPAL, (o.service_principal or "").encode())
            if o.principal is not None:
                s.setsockopt(GSSAPI_PRINCIPAL_NAMETYPE, o.nametype)
                s.setsockopt(zmq.GSSAPI_PRINCIPAL, o.principal.encode())
            # Queue only once the handshake is done: a failed one never looks like a PUSH.
            s.setsockopt(zmq.IMMEDIATE, 1)
        if o.plaintext:
            s.setsockopt(zmq.GSSAPI_PLAINTEXT, 1)
        if o.handshake_timeout_ms is not None:
            s.setsockopt(zmq.HANDSHAKE_IVL, o.handshake_timeout_ms)
        if o.max_frame_size is not None:
            s.setsockopt(zmq.MAXMSGSIZE, o.max_frame_size)
        if o.socket_type == zmq.SUB:
            s.setsockopt(zmq.SUBSCRIBE, o.subscribe)
        self.monitor = s.get_monitor_socket(zmq.EVENT_ALL)
        if o.server:
            s.bind(o.endpoint)
            emit("listening", endpoint=s.getsockopt_string(zmq.LAST_ENDPOINT))
        else:
            s.connect(o.endpoint)

    def close(self, linger_ms: int = 0) -> None:
        """Close everything open() made; queued messages may leave within LINGER_MS."""
        if self.monitor is not None and self.socket is not None:
            self.socket.disable_monitor()
            self.monitor.close(linger=0)
        if self.socket is not None:
            self.socket.close(linger=linger_ms)
        if self.zap is not None:
            self.zap.stop()
        self.ctx.term()

    def _read_monitor(self) -> None:
        assert self.monitor is not None
        m = recv_monitor_message(self.monitor, zmq.NOBLOCK)
        event, value = m["event"], m["value"]
        name = EVENT_NAMES.get(event, "UNKNOWN")
        endpoint = m["endpoint"].decode(errors="replace")
        print(f"pyzmq-shim: +{self.elapsed_ms()} ms monitor {name} value={value} "
              f"({value:#x}) {endpoint}", file=sys.stderr, flush=True)
        if not self.opts.server and event in HANDSHAKE_FAILURES:
            raise Failed(f"handshake failed: libzmq reports {HANDSHAKE_FAILURES[event]} "
                         f"(value {value}) after {self.elapsed_ms()} ms")

    def wait_for(self, events: int, doing: str, until: float | None = None) -> bool:
        """Wait for EVENTS on the socket, bounded by the deadline, signals and (client) a
        failed handshake; True when they came, False when UNTIL (monotonic, before the
        deadline) passed first."""
        poller = zmq.Poller()
        poller.register(self.socket, events)
        poller.register(self.monitor, zmq.POLLIN)
        end = self.deadline if until is None else min(until, self.deadline)
        while True:
            if _terminated.is_set():
                raise Terminated(f"terminated by a signal while {doing}")
            left = end - time.monotonic()
            if left <= 0:
                if end < self.deadline:
                    return False
                raise Failed(f"timeout after {self.opts.timeout_ms} ms while {doing} (sent "
                             f"{self.sent}, received {self.received}, verified {self.verified})")
            ready = dict(poller.poll(min(TICK_MS, max(1, int(left * 1000)))))
            if ready.get(self.monitor, 0) & zmq.POLLIN:
                self._read_monitor()
            if ready.get(self.socket, 0) & events:
                return True

    def pause(self) -> None:
        """--interval-ms between messages, the connection serviced by libzmq meanwhile; a
        message arriving then is a failure (nothing is owed to us before our next message)."""
        until = time.monotonic() + self.opts.interval_ms / 1000
        if self.wait_for(zmq.POLLIN, "pausing between messages", until):
            raise Failed("a message arrived during --interval-ms")

    def receive(self, doing: str) -> list[bytes]:
        """One whole multipart message."""
        self.wait_for(zmq.POLLIN, doing)
        assert self.socket is not None
        return self.socket.recv_multipart(zmq.NOBLOCK)

    def send(self, parts: list[bytes], doing: str) -> None:
        """Send a multipart message, waiting for room within the deadline."""
        assert self.socket is not None
        for i, part in enumerate(parts):
            flags = zmq.NOBLOCK | (zmq.SNDMORE if i + 1 < len(parts) else 0)
            while True:
                try:
                    self.socket.send(part, flags)
                    break
                except zmq.Again:
                    self.wait_for(zmq.POLLOUT, doing)

    def message(self, k: int) -> list[bytes]:
        """Message K of the contract: --parts parts of --payload-hex, or of --size bytes with
        byte i = (K*31 + i) & 0xff."""
        o = self.opts
        body = o.payload if o.payload is not None else bytes(
            (k * 31 + i) & 0xFF for i in range(o.size))
        return [body] * o.parts

    def verify(self, k: int, got: list[bytes]) -> None:
        """Compare a received message with message K."""
        want = self.message(k)
        if len(got) != len(want):
            raise Failed(f"message {k}: {len(got)} parts received, {len(want)} expected")
        for p, (g, w) in enumerate(zip(got, want)):
            if g != w:
                raise Failed(f"message {k} part {p}: {len(g)} bytes received differ from the "
                             f"{len(w)} sent")
        self.verified += 1

    def wait_for_subscriber(self) -> None:
        """XPUB: wait for the first subscription (a message whose first byte is 1)."""
        while True:
            msg = self.receive("waiting for a subscriber")
            if msg and msg[0][:1] == b"\x01":
                return

    def publish(self) -> None:
        """PUB and PUSH: send --count messages (PUB once a subscriber is there)."""
        if self.opts.socket_type == zmq.PUB:
            self.wait_for_subscriber()
        for k in range(self.opts.count):
            self.send(self.message(k), "sending")
            self.sent += 1
        emit("sent", count=self.sent)

    def request(self) -> None:
        """REQ and DEALER clients: send each message and verify its echo."""
        for k in range(self.opts.count):
            if k > 0 and self.opts.interval_ms > 0:
                self.pause()
            self.send(self.message(k), "sending")
            self.sent += 1
            if self.sent == self.opts.count:
                emit("sent", count=self.sent)
            got = self.receive("waiting for an echo")
            emit_delivered(got)
            self.received += 1
            self.verify(k, got)
        if self.opts.count == 0:
            emit("sent", count=0)

    def collect(self) -> None:
        """SUB and PULL clients: receive --count messages and verify them in order."""
        while self.received < self.opts.count:
            got = self.receive("receiving")
            emit_delivered(got)
            self.received += 1
            self.verify(self.received - 1, got)

    def serve(self) -> None:
        """Deliver (and echo, for ROUTER/REP/DEALER) until SIGTERM or the deadline."""
        kind = self.opts.socket_type
        if kind in (zmq.PUB, zmq.PUSH):
            self.publish()
        while True:
            msg = self.receive("serving")
            if kind == zmq.PUB:  # XPUB: (un)subscriptions, not application messages
                continue
            emit_delivered(msg[1:] if kind == zmq.ROUTER else msg)
            self.received += 1
            if kind in (zmq.ROUTER, zmq.REP, zmq.DEALER):
                self.send(msg, "echoing")
                self.sent += 1


def run_endpoint(opts: Options) -> int:
    """Run one server or client to the end; returns the exit status."""
    run = Run(opts)
    linger_ms = 0
    try:
        run.open()
        if opts.server:
            run.serve()
        elif opts.socket_type in (zmq.PUB, zmq.PUSH):
            run.publish()
            linger_ms = max(0, int((run.deadline - time.monotonic()) * 1000))
        elif opts.socket_type in (zmq.REQ, zmq.DEALER):
            run.request()
        else:
            run.collect()
        emit("done", sent=run.sent, received=run.received, verified=run.verified)
        return EXIT_OK
    except Terminated as e:
        if opts.server:
            emit("done", sent=run.sent, received=run.received, verified=run.verified)
            return EXIT_OK
        return _fail(str(e))
    except Failed as e:
        return _fail(str(e))
    except zmq.ZMQError as e:
        return _fail(f"libzmq: {e}")
    finally:
        run.close(linger_ms)


def _fail(reason: str) -> int:
    print(f"pyzmq-shim: {reason}", file=sys.stderr, flush=True)
    emit("error", reason=reason)
    return EXIT_FAIL


USAGE = """\
usage: shim.py zmtp-server --bind ENDPOINT [options]
       shim.py zmtp-client --connect ENDPOINT --service-principal NAME [options]
       shim.py contract --json
       shim.py --version

The pyzmq candidate of gssconform (shim contract: docs/candidates-bundled.md).
Options: --socket-type T, --service-principal N, --service-nametype K, --principal N,
  --nametype K (K: hostbased|user|krb5), --plaintext, --allow PRINCIPAL (repeatable),
  --count N, --size S, --parts P, --payload-hex HEX, --subscribe TOPIC,
  --timeout-ms MS, --handshake-timeout-ms MS, --max-frame-size BYTES, --interval-ms MS.
Exit status: 0 success; 1 exchange failed or timed out; 2 invalid option value;
64 usage error; 69 a contract option this candidate cannot honour (--transcript).
"""


def main(argv: list[str]) -> int:
    """Dispatch the subcommand; returns the exit status."""
    if len(argv) < 2:
        sys.stderr.write(USAGE)
        return EXIT_USAGE
    if argv[1] == "--help":
        sys.stdout.write(USAGE)
        return EXIT_OK
    if argv[1] == "--version":
        print(f"pyzmq {zmq.pyzmq_version()} libzmq {zmq.zmq_version()}")
        return EXIT_OK
    if argv[1] == "contract":
        if argv[2:] != ["--json"]:
            print("usage: shim.py contract --json", file=sys.stderr)
            return EXIT_USAGE
        print(contract_json(), flush=True)
        return EXIT_OK
    if argv[1] not in ("zmtp-server", "zmtp-client"):
        print(f"pyzmq-shim: unknown command '{argv[1]}' (zmtp-server or zmtp-client)",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        opts = parse_options(argv[1], argv[2:])
    except UsageError as e:
        print(f"pyzmq-shim: {e}", file=sys.stderr)
        return e.status
    if not zmq.has("gssapi"):
        print(f"pyzmq-shim: libzmq {zmq.zmq_version()} was built without GSSAPI",
              file=sys.stderr)
        return EXIT_UNAVAILABLE
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: _terminated.set())
    return run_endpoint(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
