"""Helpers of the ZMTP end-to-end tests: one throwaway realm per test file, ZMTP endpoints
(gsspeer, the libzmq and pyzmq candidate shims, raw sockets) started as processes that speak the
shim contract, and their JSON events.

    with RealmFixture() as fx:
        with Endpoint(fx.gsspeer, "zmtp-server", env) as server:
            result = run_client(fx.libzmq_shim, env, server.endpoint, ["--count", "3"])

Every process is bounded in time and stopped on the way out, even when a test fails: servers
by the runner's own process control (gssconform.process), clients by a subprocess timeout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import time
import unittest
from typing import Any

import realmlib
import taptest
from gssconform.process import Proc, Registry

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
    """A server process (context manager) run by the runner's process control
    (gssconform.process.Proc: own session and group, capped output read as it comes, stdout JSON
    lines as events, SIGTERM-grace-SIGKILL of the whole group and a sweep of escaped
    descendants at the end)."""

    def __init__(self, prog: str, env: dict[str, str], args: list[str],
                 bind: str = "tcp://127.0.0.1:0", timeout_ms: int = 20000) -> None:
        self.argv = _command(prog) + ["zmtp-server", "--bind", bind, "--timeout-ms",
                                      str(timeout_ms)] + args
        self.env = env
        self.proc = Proc("endpoint", self.argv, env, os.getcwd(), Registry())
        self.endpoint = ""
        self.stderr = ""
        self.returncode: int | None = None
        self._stopped = False

    def __enter__(self) -> "Endpoint":
        self.proc.start()
        try:
            if not self.proc.wait_ready("listening", 0, time.monotonic() + START_TIMEOUT):
                raise AssertionError(f"{self.argv[:2]} printed no listening event within "
                                     f"{START_TIMEOUT} s")
            self.endpoint = self.wait_for("listening", 0)["endpoint"]
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        assert self.proc.popen is not None
        return self.proc.popen.pid

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every JSON event line of stdout so far."""
        return list(self.proc.stdout.events)

    def named(self, name: str) -> list[dict[str, Any]]:
        """Every event called NAME so far."""
        return [e for e in self.events if e.get("event") == name]

    def wait(self, timeout: float) -> bool:
        """Wait up to TIMEOUT seconds for the process to exit; whether it did."""
        return self.proc.wait_exit(time.monotonic() + timeout)

    def wait_for(self, name: str, timeout: float, count: int = 1) -> dict[str, Any]:
        """The COUNT-th event called NAME, waiting up to TIMEOUT seconds for it (AssertionError
        naming what came instead when it does not)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.named(name)
            if len(found) >= count:
                return found[count - 1]
            if self.proc.exited and not self._stopped:
                self.stop()  # the output read to its end
                continue
            if self._stopped or time.monotonic() >= deadline:
                raise AssertionError(f"no {name!r} event #{count} from {self.argv[:2]} within "
                                     f"{timeout} s; events {self.events}; stderr "
                                     f"{self.proc.stderr.text()!r}")
            # woken at once by an exit; a new event is looked for every 10 ms
            self.proc.wait_exit(min(deadline, time.monotonic() + 0.01))

    def stop(self) -> None:
        """End the process (Proc.stop: SIGTERM to its group, grace, SIGKILL, sweep) and keep its
        exit status and stderr."""
        if self._stopped:
            return
        self._stopped = True
        self.proc.stop(grace=STOP_TIMEOUT)
        self.returncode = self.proc.returncode
        self.stderr = self.proc.stderr.text()


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
