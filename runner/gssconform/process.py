"""Process control: each program runs in its own session and process group, its output is read
without blocking and capped, and at the end the whole group is killed (SIGTERM, grace, SIGKILL),
followed by a sweep for descendants that escaped into another group (found by an environment
token every child inherits). A Registry holds every live process so that Ctrl-C/SIGTERM on the run
can kill them all.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from typing import Callable

CAP = 1 << 20          # bytes kept per stream; the rest is counted and dropped
LINE_CAP = 64 << 10    # longest stdout line parsed as an event
EVENTS_CAP = 10000
TOKEN_VAR = "GSSCONFORM_TOKEN"


class Registry:
    """The live processes of a run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[Proc] = set()
        self.closed = False

    def add(self, proc: "Proc") -> bool:
        """Register a process about to start; False once the run is shutting down."""
        with self._lock:
            if self.closed:
                return False
            self._live.add(proc)
            return True

    def remove(self, proc: "Proc") -> None:
        """Forget a process that has been stopped."""
        with self._lock:
            self._live.discard(proc)

    def kill_all(self) -> None:
        """Refuse new processes and SIGKILL every live group and escaped descendant."""
        with self._lock:
            self.closed = True
            live = list(self._live)
        for proc in live:
            proc.kill_now()


class _Stream:
    """A capped collector for one output stream; optionally splits stdout into event lines."""

    def __init__(self, parse_events: bool, on_event: Callable[[dict], None] | None) -> None:
        self.data = bytearray()
        self.total = 0
        self.events: list[dict] = []
        self._line = bytearray()
        self._line_overflow = False
        self._parse = parse_events
        self._on_event = on_event

    @property
    def truncated(self) -> bool:
        """Whether output beyond CAP was dropped."""
        return self.total > len(self.data)

    def feed(self, chunk: bytes) -> None:
        """Take a chunk read from the pipe."""
        self.total += len(chunk)
        room = CAP - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        if self._parse:
            self._split(chunk)

    def _split(self, chunk: bytes) -> None:
        while chunk:
            newline = chunk.find(b"\n")
            piece, chunk = (chunk, b"") if newline < 0 else (chunk[:newline], chunk[newline + 1:])
            if len(self._line) + len(piece) > LINE_CAP:
                self._line_overflow = True
            elif not self._line_overflow:
                self._line += piece
            if newline >= 0:
                if not self._line_overflow:
                    self._event(bytes(self._line))
                self._line.clear()
                self._line_overflow = False

    def _event(self, line: bytes) -> None:
        text = line.strip()
        if not text.startswith(b"{") or len(self.events) >= EVENTS_CAP:
            return
        try:
            event = json.loads(text)
        except ValueError:
            return
        if isinstance(event, dict):
            self.events.append(event)
            if self._on_event:
                self._on_event(event)

    def text(self) -> str:
        """The kept output as text (invalid UTF-8 replaced), with a truncation note."""
        out = self.data.decode("utf-8", "replace")
        if self.truncated:
            out += f"\n[gssconform: output truncated: {self.total} bytes, first {CAP} kept]\n"
        return out


class Proc:
    """One started program of a case (a candidate role or the reference peer)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: str,
                 registry: Registry) -> None:
        self.name = name
        self.argv = argv
        self.token = uuid.uuid4().hex
        self.env = dict(env, **{TOKEN_VAR: self.token})
        self.cwd = cwd
        self.registry = registry
        self.popen: subprocess.Popen | None = None
        self.started = 0.0
        self.ended: float | None = None
        self.returncode: int | None = None
        self.stopped_by_harness = False
        self.killed = False
        self.leftovers: list[int] = []
        self._cond = threading.Condition()
        self._ready = False
        self.stdout = _Stream(True, self._on_event)
        self.stderr = _Stream(False, None)
        self._threads: list[threading.Thread] = []

    def _on_event(self, event: dict) -> None:
        if event.get("event") == "listening":
            with self._cond:
                self._ready = True
                self._cond.notify_all()

    def start(self) -> None:
        """Start the program in a new session; OSError if it cannot be executed."""
        if not self.registry.add(self):
            raise OSError("the run is shutting down")
        try:
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, start_new_session=True)
        except OSError:
            self.registry.remove(self)
            raise
        self.started = time.monotonic()
        for pipe, stream in ((self.popen.stdout, self.stdout), (self.popen.stderr, self.stderr)):
            thread = threading.Thread(target=self._read, args=(pipe, stream), daemon=True)
            thread.start()
            self._threads.append(thread)
        waiter = threading.Thread(target=self._wait, daemon=True)
        waiter.start()
        self._threads.append(waiter)

    def _read(self, pipe, stream: _Stream) -> None:
        fd = pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            stream.feed(chunk)
        pipe.close()

    def _wait(self) -> None:
        code = self.popen.wait()
        with self._cond:
            self.returncode = code
            self.ended = time.monotonic()
            self._cond.notify_all()

    @property
    def exited(self) -> bool:
        """Whether the main process has exited."""
        return self.ended is not None

    def wait_exit(self, deadline: float) -> bool:
        """Wait until the process exits or the monotonic deadline passes; True if it exited."""
        with self._cond:
            return self._cond.wait_for(lambda: self.ended is not None,
                                       max(0.0, deadline - time.monotonic()))

    def wait_ready(self, mode: str, port: int, deadline: float) -> bool:
        """Wait for readiness (listening event, TCP port, or none) until the deadline.

        False if the process exited first or the deadline passed.
        """
        if mode == "none":
            return not self.exited
        if mode == "listening":
            with self._cond:
                self._cond.wait_for(lambda: self._ready or self.ended is not None,
                                    max(0.0, deadline - time.monotonic()))
                return self._ready and self.ended is None
        while time.monotonic() < deadline and not self.exited:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                with self._cond:  # woken early if the process exits
                    self._cond.wait_for(lambda: self.ended is not None, 0.02)
        return False

    def stop(self, grace: float = 1.0) -> None:
        """End the case for this process: SIGTERM to the group, grace, SIGKILL, sweep."""
        if self.popen is None:
            return
        if not self.exited:
            self.stopped_by_harness = True
            self._signal_group(signal.SIGTERM)
            self.wait_exit(time.monotonic() + grace)
        self.kill_now()
        self.wait_exit(time.monotonic() + 5.0)
        for thread in self._threads:
            thread.join(timeout=2.0)
        self.registry.remove(self)

    def kill_now(self) -> None:
        """SIGKILL the whole group and any escaped descendant carrying our token."""
        if self.popen is None:
            return
        if not self.exited:
            self.stopped_by_harness = True
            self.killed = True
        self._signal_group(signal.SIGKILL)
        self.leftovers += sweep(self.token, self.popen.pid)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def signal(self) -> str | None:
        """The name of the signal that ended the process, if any."""
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return f"SIG{-self.returncode}"
        return None

    @property
    def elapsed(self) -> float | None:
        """Seconds from start to exit."""
        return None if self.ended is None else round(self.ended - self.started, 3)


def sweep(token: str, group: int) -> list[int]:
    """SIGKILL every process whose environment carries the token.

    Returns the pids of those outside the process group (descendants that escaped it).
    """
    needle = f"{TOKEN_VAR}={token}".encode()
    killed = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return killed
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            try:
                pgid = os.getpgid(int(entry))
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue
            if pgid != group:
                killed.append(int(entry))
    return killed


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
