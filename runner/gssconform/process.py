"""Process control: each program runs in its own session and process group, its output is read
without blocking and capped, and at the end the whole group is killed (SIGTERM, grace, SIGKILL),
followed by a sweep for descendants that left the group. A Registry holds every live process so
that Ctrl-C/SIGTERM on the run can kill them all.

Nothing escapes and nothing is signalled by mistake:
- the runner is a child subreaper (PR_SET_CHILD_SUBREAPER), so a descendant whose parent exits
  (`setsid env -i daemon &`) becomes the runner's child instead of init's; the sweep finds
  descendants by the process tree, by the environment token, and as such orphans, and records the
  ones outside the group (candidate.escaped);
- a leader's exit is observed with waitid(WNOWAIT) and the leader is reaped only after its group
  was killed: while it is an unreaped zombie its pid, hence its process group id, cannot be
  reused, so killpg never reaches an unrelated group; every other kill goes through a pidfd
  opened before the process's identity (start time) was checked;
- a guardian process (guard(), `python3 process.py --guard`) watches the runner: when the runner
  dies without saying goodbye (kill -9), it kills every process of the runner's tree it saw last
  and removes the run's temporary folders.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Callable

CAP = 1 << 20          # bytes kept per stream; the rest is counted and dropped
LINE_CAP = 64 << 10    # longest stdout line parsed as an event
EVENTS_CAP = 10000
TOKEN_VAR = "GSSCONFORM_TOKEN"
HELPER_VAR = "GSSCONFORM_RUNNER"  # see become_subreaper
RUN_VAR = "GSSCONFORM_RUN"     # one value per run: the guardian's sweep after a runner death
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
GUARD_POLL = 0.2               # seconds between the guardian's looks at the runner's tree


def _prctl(option: int, value: int) -> bool:
    """prctl(option, value); False when the call failed (not Linux, no permission)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(ctypes.c_int(option), ctypes.c_ulong(value), ctypes.c_ulong(0),
                          ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants; False if the kernel refused.

    It also marks the runner's environment (HELPER_VAR): a process the runner starts itself
    with subprocess (kadmin.local, a version command, a test's helper) inherits the mark and no
    case token, so the sweep never takes it for an orphan: it is neither killed nor reaped
    behind its Popen's back (which would read its exit status as 0)."""
    os.environ[HELPER_VAR] = str(os.getpid())
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def _stat(pid: int) -> tuple[int, int, int, str, int] | None:
    """(ppid, pgid, sid, state, start time) of a process from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    try:
        return int(fields[1]), int(fields[2]), int(fields[3]), fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def processes() -> dict[int, tuple[int, int, int, str, int]]:
    """Every process of /proc: pid -> (ppid, pgid, sid, state, start time)."""
    table = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                table[int(entry)] = info
    return table


def descendants(table: dict, roots: set[int]) -> set[int]:
    """The pids below roots in the process tree of table (roots excluded)."""
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info[0], []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child not in roots:
                found.add(child)
                todo.append(child)
    return found


def kill_verified(pid: int, start: int, sig: int = signal.SIGKILL) -> bool:
    """Send sig to pid through a pidfd, only if pid is still the process that started at start
    (so a reused pid is never signalled); True if the signal was sent."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        info = _stat(pid)
        if info is None or info[4] != start:
            return False
        signal.pidfd_send_signal(fd, sig)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class Registry:
    """The live processes of a run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[Proc] = set()
        self.closed = False
        self.run_token = uuid.uuid4().hex
        # Held while a child is being forked and while orphans are swept, so a child that has
        # just been forked (its pid not yet known) is never taken for an orphan.
        self.spawn_lock = threading.RLock()
        self._keep: set[int] = set()   # children of the runner that are not orphans (the KDC)
        self.subreaper = False

    def keep(self, pid: int) -> None:
        """Mark a direct child the runner started outside Proc (the KDC): never an orphan."""
        with self._lock:
            self._keep.add(pid)

    def unkeep(self, pid: int) -> None:
        """Forget a pid given to keep()."""
        with self._lock:
            self._keep.discard(pid)

    def owned(self) -> dict[int, str]:
        """Leader pid -> token of every live process, plus the kept pids (token '')."""
        with self._lock:
            out = {pid: "" for pid in self._keep}
            for proc in self._live:
                if proc.popen is not None:
                    out[proc.popen.pid] = proc.token
            return out

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
        self.events_dropped = 0
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
                if not self._line_overflow and \
                        (bytes(self._line) + piece[:64]).lstrip().startswith(b"{"):
                    self.events_dropped += 1  # an event line too long to parse
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
        if not text.startswith(b"{"):
            return
        if len(self.events) >= EVENTS_CAP:
            # Not kept: a check that reads this side's events would judge a cut stream, so the
            # count is an observation that makes such a case ERROR (verdict.judge). Readiness
            # is still seen: a late 'listening' must not turn into TIMEOUT.
            self.events_dropped += 1
            if self._on_event and b'"listening"' in text:
                try:
                    event = json.loads(text)
                except ValueError:
                    return
                if isinstance(event, dict):
                    self._on_event(event)
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
        self._stop_lock = threading.Lock()
        self.reaped = False
        self.start_time: int | None = None
        self.env[RUN_VAR] = registry.run_token

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
            with self.registry.spawn_lock:
                self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, start_new_session=True)
        except OSError:
            self.registry.remove(self)
            raise
        self.started = time.monotonic()
        info = _stat(self.popen.pid)
        self.start_time = info[4] if info else None
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
        # WNOWAIT: learn the exit status but leave the leader a zombie until stop() killed its
        # group and reaped it, so its pid (the group id) cannot be reused in between.
        try:
            info = os.waitid(os.P_PID, self.popen.pid, os.WEXITED | os.WNOWAIT)
            code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        except ChildProcessError:
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
        """End the case for this process: SIGTERM to the group, grace, SIGKILL, sweep, reap."""
        if self.popen is None:
            return
        with self._stop_lock:
            if self.reaped:
                return
            if not self.exited:
                self.stopped_by_harness = True
                self._signal_group(signal.SIGTERM)
                self.wait_exit(time.monotonic() + grace)
            self.kill_now()
            self.wait_exit(time.monotonic() + 5.0)
            if self.exited:
                # Only now is the leader's pid given back: its group is dead.
                self.popen.wait()
                self.reaped = True
            for thread in self._threads:
                thread.join(timeout=2.0)
            self.registry.remove(self)

    def kill_now(self) -> None:
        """SIGKILL the whole group and every descendant that left it (recorded in leftovers)."""
        if self.popen is None or self.reaped:
            return
        if not self.exited:
            self.stopped_by_harness = True
            self.killed = True
        self._signal_group(signal.SIGKILL)
        for pid in sweep(self):
            if pid not in self.leftovers:
                self.leftovers.append(pid)

    def _signal_group(self, sig: int) -> None:
        # The leader is unreaped until stop() ends (see _wait): the group id is still ours.
        if self.reaped:
            return
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


def _has_token(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return needle in handle.read().split(b"\0")
    except OSError:
        return False


def _environ_of(pid: int, *names: str) -> list[str | None]:
    """The values of the environment variables NAMES of process pid (None where unset)."""
    values: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            for item in handle.read().split(b"\0"):
                key, _, value = item.partition(b"=")
                values[key.decode("ascii", "replace")] = value.decode("ascii", "replace")
    except OSError:
        pass
    return [values.get(name) for name in names]


def _token_of(pid: int) -> str | None:
    return _environ_of(pid, TOKEN_VAR)[0]


def _runner_helper(pid: int) -> bool:
    """A process this runner started itself (not through a Proc): it carries the runner's
    mark and no case token."""
    token, mark = _environ_of(pid, TOKEN_VAR, HELPER_VAR)
    return token is None and mark == str(os.getpid())


def sweep(proc: Proc) -> list[int]:
    """SIGKILL every process that belongs to proc and is not its leader, and reap the ones that
    became the runner's children. Belonging: below the leader in the process tree, in its group
    or session, carrying its environment token, or an orphan the runner (a subreaper) inherited
    that no other live process of the run owns (a descendant that cleared its environment and
    left its session has nothing else to go by).

    Returns the pids outside the leader's group (descendants that escaped it).
    """
    me = os.getpid()
    leader = proc.popen.pid
    needle = f"{TOKEN_VAR}={proc.token}".encode()
    escaped: list[int] = []
    ours: set[int] = set()  # of those, the runner's children (it reaps them, and only them)
    with proc.registry.spawn_lock:
        owned = proc.registry.owned()
        for _ in range(5):  # a process may fork while we kill; stop when nothing is left
            table = processes()
            mine = descendants(table, {leader})
            # As a subreaper the runner inherits every orphan of its tree: whatever belongs to
            # proc is below the runner, so only those processes' environments need reading.
            scope = descendants(table, {me}) if proc.registry.subreaper else table
            for pid in scope:
                ppid, pgid, sid, state, _start = table[pid]
                if pid in (me, leader) or state in ("Z", "X"):
                    continue
                if pgid == leader or sid == leader or _has_token(pid, needle):
                    mine.add(pid)
                elif ppid == me and pid not in owned and proc.registry.subreaper \
                        and not _runner_helper(pid):
                    token = _token_of(pid)
                    if token is None or token == proc.token or token not in owned.values():
                        mine.add(pid)
            mine |= descendants(table, mine)
            mine.discard(me)
            mine.discard(leader)
            mine -= set(owned)
            ours |= {pid for pid in mine if table.get(pid) and table[pid][0] == me}
            live = [pid for pid in mine if table.get(pid) and table[pid][3] not in ("Z", "X")]
            if not live:
                break
            for pid in live:
                if kill_verified(pid, table[pid][4]) and table[pid][1] != leader \
                        and pid not in escaped:
                    escaped.append(pid)
            time.sleep(0.01)
        if ours:
            reap_orphans(ours)
    return sorted(escaped)


def reap_orphans(pids: set[int]) -> None:
    """waitpid() those of PIDS (orphans of a case the runner inherited as subreaper and killed)
    that are zombies now. Only these: a zombie's environment cannot be read, and reaping any
    other child would steal the exit status a Popen of the runner is waiting for."""
    table = processes()
    for pid in pids:
        if table.get(pid) and table[pid][3] == "Z" and table[pid][0] == os.getpid():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Guardian:
    """The watcher of a run (see the module docstring): told the run's temporary folders, it
    kills the runner's process tree and removes them if the runner dies before close()."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the guardian (a failure to start is a warning, not the end of the run)."""
        try:
            with self.registry.spawn_lock:
                self.popen = subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), "--guard", str(os.getpid()),
                     self.registry.run_token], stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL, start_new_session=True)
            self.registry.keep(self.popen.pid)
        except OSError as err:
            print(f"gssconform: warning: no guardian process: {err}", file=sys.stderr)
            self.popen = None

    def remove_on_death(self, path: str) -> None:
        """Have the guardian remove path if the runner dies."""
        self._say(f"dir {path}")

    def _say(self, line: str) -> None:
        if self.popen is None:
            return
        try:
            self.popen.stdin.write(line.encode("utf-8", "surrogateescape") + b"\n")
            self.popen.stdin.flush()
        except OSError:
            pass

    def close(self) -> None:
        """The run ended normally: dismiss the guardian."""
        if self.popen is None:
            return
        self._say("bye")
        try:
            self.popen.stdin.close()
        except OSError:
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.registry.unkeep(self.popen.pid)
        self.popen = None


def guard(runner: int, run_token: str) -> int:
    """The guardian's main loop: remember the runner's process tree every GUARD_POLL seconds;
    on end of input without 'bye' (the runner died) kill what it remembered, whatever carries
    the run's token, and everything below them, then remove the folders it was told."""
    import select  # noqa: PLC0415 (only the guardian needs it)
    me = os.getpid()
    seen: dict[int, int] = {}
    dirs: list[str] = []
    buffer = b""
    fd = sys.stdin.fileno()
    while True:
        table = processes()
        below = descendants(table, {runner}) - {me}
        seen.update({pid: table[pid][4] for pid in below if pid in table})
        seen = {pid: start for pid, start in seen.items() if pid in table}
        ready, _, _ = select.select([fd], [], [], GUARD_POLL)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            text = line.decode("utf-8", "surrogateescape")
            if text == "bye":
                return 0
            if text.startswith("dir "):
                dirs.append(text[4:])
    needle = f"{RUN_VAR}={run_token}".encode()
    killed = 0
    for _ in range(5):
        table = processes()
        targets = {pid for pid, start in seen.items()
                   if pid in table and table[pid][4] == start}
        targets |= {pid for pid in table if pid != me and _has_token(pid, needle)}
        targets |= descendants(table, targets)
        targets.discard(me)
        live = [pid for pid in targets if table[pid][3] not in ("Z", "X")]
        if not live:
            break
        killed += sum(kill_verified(pid, table[pid][4]) for pid in live)
        time.sleep(0.05)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
    print(f"gssconform: the runner (pid {runner}) died: its guardian killed {killed} "
          f"processes and removed {len(dirs)} temporary folders", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--guard":
        sys.exit(guard(int(sys.argv[2]), sys.argv[3]))
    print("usage: process.py --guard RUNNER-PID RUN-TOKEN", file=sys.stderr)
    sys.exit(2)
