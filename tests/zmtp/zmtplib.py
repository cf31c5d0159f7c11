"""Helpers of the ZMTP end-to-end tests: one throwaway realm per test file, ZMTP endpoints
(gsspeer, the libzmq and pyzmq candidate shims, raw sockets) started as processes that speak the
shim contract, and their JSON events.

    with RealmFixture() as fx:
        with Endpoint(fx.gsspeer, "zmtp-server", env) as server:
            result = run_client(fx.libzmq_shim, env, server.endpoint, ["--count", "3"])

Every process is bounded in time and stopped (SIGTERM, then SIGKILL) on the way out, even when
a test fails.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import unittest
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import taptest  # noqa: E402

import realmlib  # noqa: E402

REALM = "GSSCONFORM.TEST"
MULTI = "svc/a.example.com/example.com"
PRINCIPALS = ("alice", "bob", "zmq/localhost", MULTI)
STOP_TIMEOUT = 5.0
START_TIMEOUT = 10.0


def gsspeer() -> str:
    """The gsspeer binary of the build under test."""
    return os.path.join(taptest.build_dir(), "gsspeer")


def libzmq_shim() -> str:
    """The libzmq candidate shim of the build under test."""
    return os.path.join(taptest.build_dir(), "candidates", "libzmq", "libzmq-shim")


def pyzmq_shim() -> str:
    """The pyzmq candidate shim (run by /usr/bin/python3 from its #! line)."""
    return os.path.join(taptest.REPO, "candidates", "pyzmq", "shim.py")


def missing_tools() -> str | None:
    """Why the end-to-end tests cannot run here, or None."""
    for prog in ("krb5kdc", "kdb5_util", "kadmin.local"):
        if shutil.which(prog, path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
            return f"{prog} not installed"
    if not os.access(gsspeer(), os.X_OK):
        return f"{gsspeer()} not built"
    return None


class RealmFixture(realmlib.TempRealm):
    """A realm with alice, bob, zmq/localhost and a multi-component service, in a temp dir."""

    def __init__(self) -> None:
        super().__init__("gssconform-zmtp-", principals=PRINCIPALS)

    def __enter__(self) -> "RealmFixture":
        super().__enter__()
        return self

    def env(self, client: str | None = "alice", acceptor: str | None = "zmq/localhost"
            ) -> dict[str, str]:
        """The process environment with CLIENT's and ACCEPTOR's keytabs (either may be None)."""
        env = realmlib.kerberos_free_environ()
        env.update(self.realm.env())
        if client:
            env.update(self.realm.env(client=client))
        if acceptor:
            env.update(self.realm.env(acceptor=acceptor))
        return env


class RealmCase(unittest.TestCase):
    """A TestCase whose tests share one RealmFixture (self.fx), skipped where missing_tools()
    says the end-to-end tests cannot run."""

    fx: RealmFixture

    @classmethod
    def setUpClass(cls) -> None:
        why = missing_tools()
        if why:
            raise unittest.SkipTest(why)
        cls.fx = RealmFixture().__enter__()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.fx.__exit__(None, None, None)


def _command(prog: str) -> list[str]:
    return ["/usr/bin/python3", prog] if prog.endswith(".py") else [prog]


class Endpoint:
    """A server process (context manager) whose stdout events are collected as they come."""

    def __init__(self, prog: str, env: dict[str, str], args: list[str],
                 bind: str = "tcp://127.0.0.1:0", timeout_ms: int = 20000) -> None:
        self.argv = _command(prog) + ["zmtp-server", "--bind", bind, "--timeout-ms",
                                      str(timeout_ms)] + args
        self.env = env
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self.stderr = ""
        self.returncode: int | None = None
        self._eof = False

    def __enter__(self) -> "Endpoint":
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            event = self.wait_for("listening", START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.endpoint = event["endpoint"]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self._queue.put(json.loads(line))
            except json.JSONDecodeError:
                self._queue.put({"event": "unparsable", "line": line})
        self._queue.put(None)

    def _drain(self, timeout: float) -> bool:
        """Move queued events into self.events, waiting up to TIMEOUT for one; False at EOF."""
        if self._eof:
            return False
        try:
            item = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return True
        if item is None:
            self._eof = True
            return False
        self.events.append(item)
        return True

    def wait_for(self, name: str, timeout: float, count: int = 1) -> dict[str, Any]:
        """The COUNT-th event called NAME, waiting up to TIMEOUT seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events if e.get("event") == name]
            if len(found) >= count:
                return found[count - 1]
            left = deadline - time.monotonic()
            if left <= 0 or not self._drain(left):
                raise AssertionError(f"no {name!r} event #{count} from {self.argv[:2]} within "
                                     f"{timeout} s; events {self.events}; stderr {self.stderr!r}")

    def stop(self) -> None:
        """SIGTERM the process group (SIGKILL after a bound) and collect the rest."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(STOP_TIMEOUT)
        self.returncode = self.proc.returncode
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        while self._drain(1.0):
            pass
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def named(self, name: str) -> list[dict[str, Any]]:
        """Every event called NAME collected so far."""
        while not self._queue.empty() and self._drain(0):
            pass
        return [e for e in self.events if e.get("event") == name]


@dataclasses.dataclass
class ClientResult:
    """What a client run did: exit status, events, stderr and elapsed seconds."""

    returncode: int
    events: list[dict[str, Any]]
    stderr: str
    elapsed: float

    def named(self, name: str) -> list[dict[str, Any]]:
        """Every event called NAME."""
        return [e for e in self.events if e.get("event") == name]


def run_client(prog: str, env: dict[str, str], endpoint: str, args: list[str],
               timeout_ms: int = 15000) -> ClientResult:
    """Run a zmtp-client to the end (bounded by its --timeout-ms plus a margin)."""
    argv = _command(prog) + ["zmtp-client", "--connect", endpoint, "--timeout-ms",
                             str(timeout_ms)] + args
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout_ms / 1000 + 10, check=False)
    elapsed = time.monotonic() - start
    events = []
    for line in proc.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            events.append({"event": "unparsable", "line": line})
    return ClientResult(proc.returncode, events, proc.stderr, elapsed)


def payload(k: int, size: int) -> bytes:
    """The contract's generated payload of message K: byte i = (k*31 + i) & 0xff."""
    return bytes((k * 31 + i) & 0xFF for i in range(size))


def read_transcript(path: str) -> list[dict[str, Any]]:
    """The JSON lines of a gsspeer transcript."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
