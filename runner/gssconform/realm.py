"""The throwaway Kerberos realm of a run (one per run, shared by its workers).

Wraps realm-setup/krbrealm.py: every principal the selected cases name is created in one batch
at start; realm failures become HarnessError (verdict ERROR, exit 2), never a candidate verdict.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

from .artifacts import read_text
from .errors import HarnessError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REALM_SETUP = os.path.join(REPO, "realm-setup")
RESTARTS = 3   # KDC restarts a run tries before it stops


def kdc_unreachable(realm: str) -> re.Pattern:
    """What MIT krb5 prints (KRB5_KDC_UNREACH) when no KDC of realm answered. Only the run's own
    realm counts: a candidate that asks another realm, or cannot resolve one, is judged."""
    return re.compile(r"Cannot contact any KDC for (?:requested )?realm '?" + re.escape(realm)
                      + r"\b")


def krbrealm_module():
    """realm-setup/krbrealm.py as a module (HarnessError when it cannot be imported); the
    gssconform launcher and `make test` put realm-setup/ on the import path."""
    try:
        import krbrealm  # noqa: PLC0415 (lives outside the package, found at run time)
    except ImportError as err:
        raise HarnessError(f"cannot import realm-setup/krbrealm.py: {err} (is realm-setup/ on "
                           "PYTHONPATH?)") from None
    return krbrealm


class KdcLog:
    """The KDC log read incrementally: every call parses only the lines appended since the last
    one (the byte offset is kept), so a case's start and end cost what the case logged, not the
    whole run's log. Thread-safe: the workers of a run share one reader.

    Positions are indexes into the list of requests parsed so far (mark() now, since(mark)
    later). The KDC only appends (a restarted KDC appends to the same file); a file that shrank
    (replaced by hand) is read again from its start, its requests appended after the old ones."""

    def __init__(self, path, parse) -> None:
        self.path = path
        self._parse = parse           # krbrealm.parse_kdc_log_line
        self._lock = threading.Lock()
        self._offset = 0              # bytes consumed: always just after a newline
        self._requests: list = []

    def _catch_up(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < self._offset:
                    self._offset = 0
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1   # a last line without newline is still being written
        if end == 0:
            return
        self._offset += end
        for line in data[:end].decode("utf-8", "replace").split("\n")[:-1]:
            request = self._parse(line)
            if request is not None:
                self._requests.append(request)

    def mark(self) -> int:
        """The position after every request logged so far."""
        with self._lock:
            self._catch_up()
            return len(self._requests)

    def since(self, mark: int) -> list:
        """The requests logged after position mark, oldest first."""
        with self._lock:
            self._catch_up()
            return self._requests[mark:]


class RunRealm:
    """A realm for one run: started on demand, stopped and removed by close()."""

    def __init__(self, principals: list[str], enctypes: tuple[str, ...] | None = None,
                 registry=None, keytabs: list[list[str]] | None = None) -> None:
        self.specs = principals
        # Acceptor keytabs holding several principals (a side's acceptor + also_accept): made
        # once at start, before any case runs, so no case waits on (or races) kadmin.local.
        self.keytab_groups = keytabs or []
        self.enctypes = enctypes
        self.realm = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._tmp: str | None = None
        self.registry = registry      # process.Registry: the KDC is a child, not an orphan
        self.generation = 0           # KDC restarts so far
        self.restarts: list[str] = []  # why each restart happened
        self.kdc_log: KdcLog | None = None  # the log reader, once the realm is up
        self._listening: tuple[int, set[int]] = (0, set())  # KDC pid, its listener inodes

    @property
    def tmp(self) -> str | None:
        """The temporary folder holding the realm (None before start)."""
        return self._tmp

    def _keep_kdc(self) -> None:
        if self.registry is not None and self.realm is not None and self.realm.kdc_pid:
            self.registry.keep(self.realm.kdc_pid)

    def health(self) -> str | None:
        """None while the KDC process lives and holds its TCP listener, else what is wrong.

        The listener is read from /proc, not probed with a connect: under load (many cases
        talking to the KDC over TCP, load average far above the cores) its small accept queue
        overflows and a connect can wait for SYN retransmits although the KDC is fine."""
        realm = self.realm
        if realm is None:
            return self.error or "realm not started"
        pid = realm.kdc_pid
        krbrealm = krbrealm_module()
        if not pid or not krbrealm._alive(pid):
            return f"the KDC (krb5kdc pid {pid}) is gone"
        held = krbrealm._socket_inodes(pid)
        known_pid, known = self._listening
        if known_pid == pid and known & held:
            # Still holds the socket found listening before: a listener cannot stop listening
            # without being closed, so the socket tables (large under load) need no new read.
            return None
        listening = krbrealm._port_listeners(realm.kdc_port) & held
        if not listening:
            return f"the KDC (pid {pid}) no longer listens on 127.0.0.1:{realm.kdc_port}"
        self._listening = (pid, listening)
        return None

    def ensure(self) -> str | None:
        """Between cases: None when the KDC is healthy, restarting it (same database,
        principals and keytabs) when it is gone, up to RESTARTS times per run; else the reason
        the realm is lost."""
        with self._lock:
            problem = self.health()
            if problem is None:
                return None
            if len(self.restarts) >= RESTARTS:
                return f"{problem}; not restarted again after {RESTARTS} restarts"
            self.restarts.append(problem)
            print(f"gssconform: realm: {problem}: restarting the KDC", file=sys.stderr,
                  flush=True)
            old = self.realm.kdc_pid
            lock = self.registry.spawn_lock if self.registry is not None else threading.RLock()
            try:
                with lock:
                    self.realm.restart_kdc()
            except Exception as err:  # noqa: BLE001 (RealmError, OSError: the run stops)
                return f"{problem}; restarting it failed: {err}"
            finally:
                if self.registry is not None and old:
                    self.registry.unkeep(old)
                self.generation += 1
                self._keep_kdc()
            return self.health()

    def broken_since(self, generation: int, result: dict, out: str) -> str | None:
        """After a case: why its outcome cannot be trusted because of the realm (the KDC died
        or was restarted while it ran, or a side could not reach the KDC in a case that did not
        pass), else None."""
        if generation != self.generation:
            return "the KDC was restarted while this case ran"
        problem = self.health()
        if problem:
            return f"{problem} (it died while this case ran)"
        if result.get("verdict") in ("PASS", "XFAIL"):
            return None
        texts = []
        for side in ("candidate", "peer"):
            texts.append(str((result.get("observations", {}).get(side) or {}).get(
                "stderr_tail", "")))
        for key, rel in result.get("artifacts", {}).items():
            if key.endswith((".krb5trace", ".stderr")):
                try:
                    texts.append(read_text(os.path.join(out, rel), 1 << 20))
                except OSError:
                    continue
        pattern = kdc_unreachable(self.realm.realm)
        for text in texts:
            match = pattern.search(text)
            if match:
                line_start = text.rfind("\n", 0, match.start()) + 1
                line_end = text.find("\n", match.end())
                line = text[line_start:line_end if line_end >= 0 else None].strip()[:200]
                return f"a side could not reach the KDC ({line})"
        return None

    def start(self) -> None:
        """Create the realm with all principals; on failure remember the error for every case."""
        with self._lock:
            if self.realm is not None or self.error is not None:
                return
            try:
                krbrealm = krbrealm_module()
                self._tmp = tempfile.mkdtemp(prefix="gssconform-realm-")
                kwargs = {"principals": self.specs}
                if self.enctypes:
                    kwargs["enctypes"] = self.enctypes
                realm = krbrealm.Realm(os.path.join(self._tmp, "realm"), **kwargs)
                realm.start()
                self.realm = realm
                self.kdc_log = KdcLog(realm.kdc_log_path, krbrealm.parse_kdc_log_line)
                self._keep_kdc()
                for group in self.keytab_groups:
                    realm.keytab_for(group)
            except HarnessError as err:
                self.error = str(err)
            except Exception as err:  # RealmError, PrincipalSpecError, OSError
                self.error = f"realm failure: {err}"

    def get(self) -> "krbrealm.Realm":  # noqa: F821 (krbrealm is imported at run time)
        """The running krbrealm.Realm; HarnessError if it could not be started."""
        if self.realm is None:
            raise HarnessError(self.error or "realm not started")
        return self.realm

    def log(self) -> KdcLog:
        """The incremental reader of the running realm's KDC log (HarnessError as get())."""
        self.get()
        return self.kdc_log

    def describe(self) -> dict:
        """Realm facts for the run metadata."""
        if self.realm is None:
            return {"started": False, "error": self.error}
        return {"started": True, "realm": self.realm.realm, "enctypes": list(self.realm.enctypes),
                "directory": str(self.realm.directory),
                "kdc_port": self.realm.kdc_port, "krb5": _krb5_version(),
                "kdc_restarts": list(self.restarts)}

    def close(self) -> None:
        """Stop the KDC and remove the realm directory."""
        with self._lock:
            if self.realm is not None:
                try:
                    self.realm.stop()
                except Exception as err:  # noqa: BLE001 (stopping must not mask the run)
                    print(f"gssconform: warning: stopping the realm: {err}", file=sys.stderr)
                self.realm = None
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None


def _krb5_version() -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libkrb5-3"],
                             capture_output=True, text=True, timeout=10, check=False)
        return f"MIT krb5 {out.stdout.strip()}" if out.stdout.strip() else "MIT krb5"
    except (OSError, subprocess.TimeoutExpired):
        return "MIT krb5"


def cli(argv: list[str]) -> int:
    """`gssconform realm up|down|env|log|add ...`: hand over to realm-setup/krbrealm."""
    tool = os.path.join(REALM_SETUP, "krbrealm")
    if not os.path.exists(tool):
        print("gssconform: realm-setup/krbrealm is missing", file=sys.stderr)
        return 2
    if len(argv) >= 1 and argv[0] in ("up", "down", "env", "log", "add") and \
            (len(argv) == 1 or argv[1].startswith("-")):
        argv = [argv[0], os.path.join(REPO, "realm")] + argv[1:]
    return subprocess.call([sys.executable, tool] + argv)
