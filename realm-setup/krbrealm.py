"""A throwaway MIT Kerberos realm that lives in one directory and owns one KDC.

    with krbrealm.Realm(run_dir / "realm", principals=["alice", "zmq/localhost"]) as realm:
        env = {**realm.env(client="alice"), **realm.env(acceptor="zmq/localhost")}
        ...                                  # start peers with env
        realm.kdc_log()                      # the AS_REQ / TGS_REQ lines, parsed

Everything the realm writes (database, stash, keytabs, ccaches, replay caches, logs, state)
stays inside its directory; the client profile turns DNS off, so nothing leaves loopback.
The KDC is `krb5kdc -n`, a child of this process that is stopped on every way out of the
with-block (normal exit, exception, SIGTERM/SIGINT) and, through PR_SET_PDEATHSIG, even when
the owner is killed with SIGKILL. `krbrealm up` starts a detached KDC instead (its own
session, pid in DIR/kdc.pid and DIR/realm.json) that `krbrealm down` stops.

See docs/realm.md for the layout, the CLI and the measured figures.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import re
import select
import shutil
import signal
import threading
import time
import urllib.parse
from pathlib import Path

# typing, dataclasses, secrets and ctypes are not imported: `krbrealm up` and `down` import this
# module on every call, and those imports cost more than the rest of it (docs/realm.md).
# socket, string and subprocess are imported where a realm is built or started, not by `down`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    import subprocess
    from typing import Any, Callable, Iterable

DEFAULT_REALM = "GSSCONFORM.TEST"
DEFAULT_ENCTYPES = ("aes256-cts-hmac-sha1-96",)
DEFAULT_DOMAINS = ("localhost", "example.com")
SUPPORTED_ENCTYPES = (
    "aes256-cts-hmac-sha1-96",
    "aes128-cts-hmac-sha1-96",
    "aes256-cts-hmac-sha384-192",
    "aes128-cts-hmac-sha256-128",
)
STATE_FILE = "realm.json"
TEMPLATES = Path(__file__).resolve().parent / "templates"

# The binaries the realm needs and the Debian package that ships each.
BINARIES = {
    "kdb5_util": "krb5-kdc",
    "krb5kdc": "krb5-kdc",
    "kadmin.local": "krb5-admin-server",
}

KDC_START_TIMEOUT = 10.0  # seconds until a started KDC must have logged "commencing operation"
KDC_STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL, and after SIGKILL
PORT_ATTEMPTS = 8  # KDC starts tried when another process takes our port first
TOOL_TIMEOUT = 30.0  # kdb5_util / kadmin.local
SBIN_DIRS = ("/usr/sbin", "/sbin")  # searched after PATH: a user's PATH often lacks them

_PR_SET_PDEATHSIG = 1
_REALM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_COMPONENT_RE = re.compile(r"^[A-Za-z0-9._+-]+$")
_PASSWORD_RE = re.compile(r"^[!#-~]+$")  # printable ASCII without space and '"'
_BENIGN_KADMIN = re.compile(
    r"^(No policy specified for .*; defaulting to no policy"
    r"|Authenticating as principal .* with password\.)$"
)


class RealmError(Exception):
    """The realm could not be created, started, changed or stopped; the message says why."""


class PrincipalSpecError(RealmError, ValueError):
    """A principal spec ("NAME[:opt=value,...]") is malformed; the message names the spec."""


class Principal(collections.namedtuple("Principal", "name keytab ccache maxlife password",
                                       defaults=(None, None))):
    """One principal of the realm with its own keytab and credential cache (immutable).

    name (str) is the full name with @REALM. keytab (Path) serves as acceptor keytab
    (KRB5_KTNAME) and as client keytab (KRB5_CLIENT_KTNAME); ccache (Path) is the file for
    KRB5CCNAME; maxlife (int | None) and password (str | None) as in the principal's spec.
    """

    __slots__ = ()

    @property
    def is_service(self) -> bool:
        """True for a NAME with '/', i.e. a service or host principal."""
        return "/" in self.name.rsplit("@", 1)[0]


class KdcRequest(collections.namedtuple(
        "KdcRequest", "time kind client server outcome line status address pid requested_etypes "
        "ticket_etype session_etype", defaults=("", "", 0, (), "", ""))):
    """One AS_REQ or TGS_REQ line of the KDC log (immutable; _asdict() gives the fields).

    time, kind, client, server (str); outcome is "ISSUE" or the KDC's error text ("Server not
    found in Kerberos database"); line is the raw log line; status is the KDC's status word
    (ISSUE, LOOKING_UP_SERVER, CLIENT_NOT_FOUND, ...); address (str), pid (int);
    requested_etypes (tuple of str), ticket_etype and session_etype (str, empty when the KDC
    reports none).
    """

    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# Principal specs


def parse_principal_spec(spec: str, realm: str) -> tuple[str, int | None, str | None]:
    """Parse "NAME[@REALM][:opt=value,...]" into (full name, maxlife, password).

    Raises PrincipalSpecError naming the spec when the name, an option or a value is invalid.
    """

    def bad(why: str) -> PrincipalSpecError:
        return PrincipalSpecError(f"principal spec {spec!r}: {why}")

    if not isinstance(spec, str):
        raise PrincipalSpecError(f"principal spec {spec!r}: not a string")
    name, sep, opts = spec.partition(":")
    if "@" in name:
        name, _, prealm = name.partition("@")
        if not _REALM_RE.match(prealm):
            raise bad(f"invalid realm {prealm!r}")
    else:
        prealm = realm
    if not name:
        raise bad("empty principal name")
    for component in name.split("/"):
        if not component:
            raise bad("empty name component (leading, trailing or doubled '/')")
        if not _COMPONENT_RE.match(component):
            raise bad(f"invalid name component {component!r} (allowed: A-Z a-z 0-9 . _ + -)")
    maxlife: int | None = None
    password: str | None = None
    if sep and not opts:
        raise bad("':' without options")
    for opt in opts.split(",") if opts else ():
        key, eq, value = opt.partition("=")
        if not eq or not value:
            raise bad(f"option {opt!r} is not key=value")
        if key == "maxlife":
            if not value.isdigit() or int(value) <= 0:
                raise bad(f"maxlife {value!r} is not a positive number of seconds")
            maxlife = int(value)
        elif key == "password":
            if not _PASSWORD_RE.match(value):
                raise bad("password must be printable ASCII without spaces or '\"'")
            password = value
        else:
            raise bad(f"unknown option {key!r} (known: maxlife, password)")
    return f"{name}@{prealm}", maxlife, password


def _file_stem(full_name: str, realm: str) -> str:
    """A file name for a principal: injective, readable ('zmq%2Flocalhost')."""
    if full_name.endswith("@" + realm):
        full_name = full_name[: -len(realm) - 1]
    return urllib.parse.quote(full_name, safe="@.-+_")


# ---------------------------------------------------------------------------------------------
# Processes, ports and signals


def find_binary(name: str) -> str:
    """The path of a krb5 binary; RealmError naming the binary and its package if missing."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    path = shutil.which(name, path=search)
    if path is None:
        raise RealmError(
            f"{name} not found (PATH, {', '.join(SBIN_DIRS)}): install the Debian package "
            f"{BINARIES.get(name, 'krb5-user')} (apt-get install {BINARIES.get(name, 'krb5-user')})"
        )
    return path


# krb5kdc 1.20 binds its sockets with SO_REUSEPORT: a second KDC of the same user binds a
# port already in use *successfully* and the kernel then splits the clients between the two.
# A bind failure therefore does not reveal every collision. Two guards:
# - a port lock: an abstract AF_UNIX socket named after the port (no file anywhere, released by
#   the kernel when its last holder dies), inherited by the KDC so it lives exactly as long as
#   the KDC; realms of any process of this suite never pick a locked port;
# - after the KDC is up, no listener on its port but the KDC's own sockets (other software
#   could share the port through SO_REUSEPORT too).
_PORT_LOCK_PREFIX = "\0gssconform-krbrealm-port-"


def _lock_port(port: int) -> socket.socket | None:
    """The lock socket of port, or None when another realm holds it."""
    import socket  # noqa: PLC0415 (deferred, see the imports)

    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"{_PORT_LOCK_PREFIX}{port}")
    except OSError:
        lock.close()
        return None
    return lock


def _free_port() -> tuple[int, socket.socket]:
    """A loopback port free on TCP and UDP right now, with its lock (the caller closes it).

    Software that does not take the lock can still bind the port before the KDC does:
    start() retries on a bind failure or a shared port.
    """
    import socket  # noqa: PLC0415 (deferred, see the imports)

    for _ in range(64):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        lock = _lock_port(port)
        if lock is not None:
            return port, lock
    raise RealmError("no free loopback port found on TCP and UDP after 64 attempts")


def _port_listeners(port: int) -> set[int]:
    """Socket inodes of every TCP listener and UDP socket bound to local port (any address)."""
    inodes = set()
    for table, tcp in (("tcp", True), ("tcp6", True), ("udp", False), ("udp6", False)):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or int(fields[1].rsplit(":", 1)[1], 16) != port:
                continue
            if tcp and fields[3] != "0A":  # only LISTEN; accepted connections share the port
                continue
            inodes.add(int(fields[9]))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process pid holds."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def _pdeathsig_preexec(parent: int) -> Callable[[], None]:
    """A preexec_fn that makes the child get SIGTERM when the forking thread's process dies."""
    import ctypes  # noqa: PLC0415 (only here: a detached KDC, `krbrealm up`, does without)

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: the child calls it

    def preexec() -> None:
        prctl(
            ctypes.c_int(_PR_SET_PDEATHSIG),
            ctypes.c_ulong(signal.SIGTERM),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        )
        if os.getppid() != parent:  # the owner died before prctl took effect
            os._exit(1)

    return preexec


def _proc_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # "pid (comm) S ...": comm may contain spaces or ')', so split at the last ')'.
    return stat[stat.rfind(")") + 2 :][:1] or None


def _alive(pid: int) -> bool:
    """True while pid runs; a zombie (dead, waiting to be reaped) counts as gone."""
    return _proc_state(pid) not in (None, "Z", "X")


def _is_our_kdc(pid: int, kdc_profile: Path) -> bool:
    """True when pid is a live krb5kdc started with KRB5_KDC_PROFILE=kdc_profile."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    if not argv or os.path.basename(argv[0]) != b"krb5kdc":
        return False
    return b"KRB5_KDC_PROFILE=" + os.fsencode(str(kdc_profile)) in environ


def _pidfd(pid: int) -> int | None:
    """A pidfd of pid (the caller closes it); None where pidfds are unavailable (Linux < 5.3,
    no descriptor left). ProcessLookupError when pid is gone."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        raise
    except OSError:
        return None


def _wait_gone(pid: int, timeout: float, pidfd: int | None = None) -> bool:
    """Wait until pid is gone or a zombie (a non-child cannot be reaped here); False when it
    still runs after timeout. Event-driven: a pidfd becomes readable when its process exits
    (pidfd is used when given, else one is opened); polling /proc only without pidfds."""
    own = pidfd is None
    if own:
        try:
            pidfd = _pidfd(pid)
        except ProcessLookupError:
            return True
    if pidfd is not None:
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            return bool(poller.poll(timeout * 1000))
        finally:
            if own:
                os.close(pidfd)
    deadline = time.monotonic() + timeout
    pause = 0.0005
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.02)
    return True


def _terminate(pid: int, pidfd: int | None, what: str) -> None:
    """SIGTERM to pid, SIGKILL after KDC_STOP_TIMEOUT, each followed by a bounded wait until it
    is gone or a zombie. Signals go through pidfd when given (never to a reused pid).
    RealmError when the process outlives SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return
        if _wait_gone(pid, KDC_STOP_TIMEOUT, pidfd):
            return
    raise RealmError(f"{what}: still running after SIGKILL")


_IN_MODIFY, _IN_CREATE = 0x2, 0x100  # <sys/inotify.h>


class _Waker:
    """What a wait for a KDC's readiness sleeps on between two looks at its log: a file of the
    realm's directory created or written (inotify, watching from before the KDC starts, so no
    write goes unseen) or the KDC's exit (pidfd) wakes it at once. Where either is unavailable
    (no inotify instance left, no pidfds), a pause that doubles from 0.2 ms to 5 ms."""

    def __init__(self, directory: Path) -> None:
        import ctypes  # noqa: PLC0415 (the standard library has no inotify; only needed here)

        libc = ctypes.CDLL(None, use_errno=True)
        self._pause = 0.0002
        self._pidfd: int | None = None
        self._watch: int | None = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._watch < 0:
            self._watch = None
        elif libc.inotify_add_watch(self._watch, os.fsencode(directory),
                                    _IN_MODIFY | _IN_CREATE) < 0:
            self.close()

    def watch_exit(self, pid: int) -> None:
        """Wake also when pid (a child that has not been reaped) exits."""
        if self._watch is not None:
            self._pidfd = _pidfd(pid)

    def wait(self, deadline: float) -> None:
        """Return after the next write or exit (or at deadline), or after the next pause."""
        if self._watch is None or self._pidfd is None:
            time.sleep(self._pause)
            self._pause = min(self._pause * 2, 0.005)
            return
        poller = select.poll()
        poller.register(self._watch, select.POLLIN)
        poller.register(self._pidfd, select.POLLIN)
        if poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
            try:
                while os.read(self._watch, 4096):  # the events say nothing the log does not
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        for fd in (self._watch, self._pidfd):
            if fd is not None:
                os.close(fd)
        self._watch = self._pidfd = None


_signal_lock = threading.Lock()
_signal_depth = 0
_signal_saved: dict[int, Any] = {}
_signal_fired = False
_cleaning = 0  # main-thread with-blocks of realms now stopping their KDC
_deferred: int | None = None  # a signal that arrived during such a cleanup


def _signal_exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else SystemExit(128 + signum)


def _raise_on_signal(signum: int, frame: Any) -> None:
    """SIGTERM -> SystemExit, SIGINT -> KeyboardInterrupt, once; a signal that arrives while
    a realm is being stopped is raised after the stop, so the cleanup is never interrupted."""
    global _signal_fired, _deferred
    if _signal_fired:
        return
    if _cleaning:
        _deferred = signum
        return
    _signal_fired = True
    raise _signal_exception(signum)


def _install_signal_handlers() -> bool:
    """Turn SIGTERM/SIGINT into exceptions while a realm's with-block runs (main thread only)."""
    global _signal_depth, _signal_fired, _deferred
    if threading.current_thread() is not threading.main_thread():
        return False
    with _signal_lock:
        if _signal_depth == 0:
            _signal_fired = False
            _deferred = None
            for signum in (signal.SIGTERM, signal.SIGINT):
                _signal_saved[signum] = signal.signal(signum, _raise_on_signal)
        _signal_depth += 1
    return True


def _restore_signal_handlers() -> None:
    global _signal_depth
    with _signal_lock:
        _signal_depth -= 1
        if _signal_depth == 0:
            for signum, handler in _signal_saved.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            _signal_saved.clear()


_live_lock = threading.Lock()
_live: set["Realm"] = set()  # in-process KDCs still running, stopped at interpreter exit


@atexit.register
def _stop_live_realms() -> None:
    with _live_lock:
        realms = list(_live)
    for realm in realms:
        try:
            realm.stop()
        except RealmError:
            pass


# ---------------------------------------------------------------------------------------------
# KDC log


_LOG_RE = re.compile(
    r"^(?P<time>\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ krb5kdc\[(?P<pid>\d+)\]\(\w+\): "
    r"(?P<kind>AS_REQ|TGS_REQ) \(\d+ etypes \{(?P<req>[^}]*)\}\) (?P<addr>\S+): "
    r"(?P<status>[A-Z0-9_]+): (?:authtime -?\d+, etypes \{(?P<rep>[^}]*)\},? )?"
    r"(?P<client>.*?) for (?P<server>.*?)(?:, (?P<error>.*))?$"
)
_ETYPE_RE = re.compile(r"(\w+)=([A-Za-z0-9-]+)")


def parse_kdc_log_line(line: str) -> KdcRequest | None:
    """Parse one krb5kdc 1.20 log line; None unless it is an AS_REQ or TGS_REQ line.

    A request line the pattern does not fit is still returned, with kind, time and the raw
    line, and outcome "UNPARSED".
    """
    line = line.rstrip("\n")
    m = _LOG_RE.match(line)
    if m is None:
        kind = next((k for k in ("AS_REQ", "TGS_REQ") if f"): {k} (" in line), None)
        if kind is None:
            return None
        return KdcRequest(time=line[:15], kind=kind, client="", server="", outcome="UNPARSED",
                          line=line)
    rep = dict(_ETYPE_RE.findall(m["rep"] or ""))
    status = m["status"]
    return KdcRequest(
        time=m["time"],
        kind=m["kind"],
        client=m["client"],
        server=m["server"],
        outcome="ISSUE" if status == "ISSUE" else (m["error"] or status),
        line=line,
        status=status,
        address=m["addr"],
        pid=int(m["pid"]),
        requested_etypes=tuple(re.sub(r"\(-?\d+\)$", "", e.strip()) for e in m["req"].split(",")
                               if e.strip()),
        ticket_etype=rep.get("tkt", ""),
        session_etype=rep.get("ses", ""),
    )


# ---------------------------------------------------------------------------------------------
# The realm


class Realm:
    """One throwaway realm: one directory, one database, one KDC on a loopback port.

    Use as a context manager (start on enter, stop and remove the directory on exit) or call
    start()/stop() yourself. Attributes: directory (Path), realm (str), kdc_port (int),
    kdc_pid (int; 0 while no KDC runs), enctypes, max_life, clockskew, domains.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        realm: str = DEFAULT_REALM,
        enctypes: Iterable[str] = DEFAULT_ENCTYPES,
        principals: Iterable[str] = (),
        max_life: int | None = None,
        clockskew: int | None = None,
        domains: Iterable[str] = DEFAULT_DOMAINS,
    ) -> None:
        """Check the settings; nothing is created before start(). Raises RealmError."""
        self.directory = Path(os.path.abspath(directory))
        if not _REALM_RE.match(realm):
            raise RealmError(f"invalid realm name {realm!r}")
        self.realm = realm
        self.enctypes = tuple(enctypes)
        if not self.enctypes:
            raise RealmError("enctypes: at least one enctype is needed")
        for enctype in self.enctypes:
            if enctype not in SUPPORTED_ENCTYPES:
                raise RealmError(
                    f"enctype {enctype!r} not supported (known: {', '.join(SUPPORTED_ENCTYPES)})"
                )
        for label, value in (("max_life", max_life), ("clockskew", clockskew)):
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise RealmError(f"{label} {value!r} is not a positive number of seconds")
        self.max_life = max_life
        self.clockskew = clockskew
        self.domains = tuple(domains)
        for domain in self.domains:
            if not re.match(r"^[A-Za-z0-9.-]+$", domain):
                raise RealmError(f"invalid domain {domain!r}")
        self.kdc_port = 0
        self.kdc_pid = 0
        self.detached = False
        self._specs = list(principals)
        self._principals: dict[str, Principal] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._port_lock: socket.socket | None = None  # held until the KDC holds it too
        self._keytab_lock = threading.Lock()  # keytab_for from concurrent workers
        self._created = False
        self._handlers = False
        for spec in self._specs:  # fail early on a malformed spec
            parse_principal_spec(spec, self.realm)

    # -- paths ---------------------------------------------------------------------------------

    @property
    def krb5_conf(self) -> Path:
        """The client profile (KRB5_CONFIG)."""
        return self.directory / "krb5.conf"

    @property
    def kdc_conf(self) -> Path:
        """The KDC profile (KRB5_KDC_PROFILE)."""
        return self.directory / "kdc.conf"

    @property
    def kdc_log_path(self) -> Path:
        """The KDC's log file."""
        return self.directory / "kdc.log"

    @property
    def rcache_dir(self) -> Path:
        """The replay cache directory (KRB5RCACHEDIR)."""
        return self.directory / "rcache"

    # -- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> "Realm":
        """Start the realm unless start() ran already (`with Realm(...).start(port=P):`)."""
        self._handlers = _install_signal_handlers()
        try:
            return self if self.kdc_pid else self.start()
        except BaseException:
            self._leave_handlers()
            raise

    def __exit__(self, *exc: object) -> None:
        global _cleaning, _deferred, _signal_fired
        guarded = self._handlers  # the handlers run in the main thread, and so does this exit
        if guarded:
            _cleaning += 1
        try:
            self.stop()
        finally:
            if guarded:
                _cleaning -= 1
            self._leave_handlers()
            if guarded and not _cleaning and _deferred is not None and not _signal_fired:
                signum, _deferred, _signal_fired = _deferred, None, True
                raise _signal_exception(signum)

    def _leave_handlers(self) -> None:
        if self._handlers:
            self._handlers = False
            _restore_signal_handlers()

    def start(self, detached: bool = False, port: int | None = None) -> "Realm":
        """Create the realm in the directory and start its KDC; return self.

        The directory must not exist or be empty. detached=True starts the KDC in its own
        session without a parent-death signal, so it outlives this process (for `krbrealm up`).
        port is tried first when given; when it (or a picked free port) cannot be bound, the
        KDC is restarted on another free port, up to PORT_ATTEMPTS times in all.
        On any failure everything started is stopped, the directory removed, and RealmError
        raised with what failed and where.
        """
        if self.kdc_pid:
            raise RealmError(f"{self.directory}: realm already started")
        tools = {name: find_binary(name) for name in BINARIES}
        try:
            if self.directory.exists() and (
                not self.directory.is_dir() or any(self.directory.iterdir())
            ):
                raise RealmError(f"{self.directory}: exists and is not an empty directory")
        except OSError as e:
            raise RealmError(f"{self.directory}: {e.strerror or e}") from None
        self.detached = detached
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._created = True
            for sub in ("db", "keytabs", "ccache", "rcache"):
                (self.directory / sub).mkdir()
            (self.directory / "db" / "kadm5.acl").write_text("")
            self._use_port(port)
            self._run_tool(
                [tools["kdb5_util"], "-r", self.realm, "-P", os.urandom(24).hex(),
                 "create", "-s"],
                "kdb5_util create",
            )
            # kadmin.local makes the principals while the KDC starts, each taking about as long
            # as the other (the KDC looks principals up per request, as after add_principals);
            # the realm is started when both are done.
            adding = _InThread(self._add, self._specs, tools["kadmin.local"], True)
            try:
                self._start_kdc(tools["krb5kdc"])
            except BaseException:
                adding.wait()  # what kadmin says no longer matters, but it must be over
                raise
            adding.result()
            self._save_state()
        except OSError as e:
            self._abort_start()
            raise RealmError(f"creating the realm in {self.directory}: {e}") from None
        except BaseException:
            self._abort_start()
            raise
        if not detached:
            with _live_lock:
                _live.add(self)
        return self

    def _abort_start(self) -> None:
        self._principals.clear()  # their keytabs go with the directory
        try:
            self._stop_kdc()
        finally:
            if self._created:
                shutil.rmtree(self.directory, ignore_errors=True)
                self._created = False

    def stop(self, remove: bool = True) -> None:
        """Stop the KDC (SIGTERM, then SIGKILL after KDC_STOP_TIMEOUT) and wait until it is
        gone; then remove the directory when remove is true. Idempotent.

        Raises RealmError when the KDC cannot be stopped.
        """
        with _live_lock:
            _live.discard(self)
        self._stop_kdc()
        if remove and (self._created or (self.directory / STATE_FILE).exists()):
            shutil.rmtree(self.directory, ignore_errors=True)
            self._created = False
        elif self.directory.exists():
            self._save_state()

    def restart_kdc(self) -> "Realm":
        """Start the KDC again on the realm's database (the same principals and keytabs) after
        it died or was stopped: on its old port when that is still free, else on another one
        (krb5.conf and kdc.conf are rewritten in place, so env() stays valid). Returns self;
        raises RealmError when the realm has no directory or the KDC does not come up."""
        if not (self.directory / "db").is_dir():
            raise RealmError(f"{self.directory}: no realm database to restart a KDC on")
        self._stop_kdc()
        try:
            self._use_port(self.kdc_port or None)
            self._start_kdc(find_binary("krb5kdc"))
        except OSError as e:
            raise RealmError(f"restarting the KDC in {self.directory}: {e}") from None
        self._save_state()
        return self

    @classmethod
    def attach(cls, directory: str | os.PathLike[str]) -> "Realm":
        """Re-open a realm another process started (state in DIR/realm.json).

        stop() on the result stops that KDC (after checking /proc that the pid is really this
        realm's krb5kdc) and removes the directory. Raises RealmError if there is no state.
        """
        path = Path(os.path.abspath(directory)) / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise RealmError(f"{path}: no realm state (not a realm directory?)") from None
        except (OSError, ValueError) as e:
            raise RealmError(f"{path}: unreadable realm state: {e}") from None
        try:
            self = cls(path.parent, realm=state["realm"], enctypes=state["enctypes"],
                       max_life=state["max_life"], clockskew=state["clockskew"],
                       domains=state["domains"])
            self.kdc_port = int(state["kdc_port"])
            self.kdc_pid = int(state["kdc_pid"])
            self.detached = bool(state["detached"])
            for name, p in state["principals"].items():
                self._principals[name] = Principal(name, Path(p["keytab"]), Path(p["ccache"]),
                                                   p.get("maxlife"), p.get("password"))
        except (KeyError, TypeError, ValueError) as e:
            raise RealmError(f"{path}: malformed realm state: {e!r}") from None
        return self

    # -- principals ----------------------------------------------------------------------------

    def add_principals(self, specs: Iterable[str]) -> list[Principal]:
        """Create principals with their keytabs in one kadmin.local batch; works while the KDC
        runs. Raises PrincipalSpecError for a malformed spec, RealmError when kadmin fails."""
        added = self._add(list(specs), find_binary("kadmin.local"), initial=False)
        self._save_state()
        return added

    def principal(self, name: str) -> Principal:
        """The principal called name ("alice", "zmq/localhost" or with @REALM); KeyError if
        the realm has none of that name."""
        full = name if "@" in name else f"{name}@{self.realm}"
        try:
            return self._principals[full]
        except KeyError:
            raise KeyError(f"realm {self.realm} has no principal {full!r}") from None

    @property
    def principals(self) -> list[Principal]:
        """All principals created through this object or recorded in realm.json."""
        return list(self._principals.values())

    def _add(self, specs: list[str], kadmin: str, initial: bool) -> list[Principal]:
        new: list[Principal] = []
        for spec in specs:
            full, maxlife, password = parse_principal_spec(spec, self.realm)
            if full in self._principals or any(p.name == full for p in new):
                raise PrincipalSpecError(f"principal spec {spec!r}: {full} exists already")
            stem = _file_stem(full, self.realm)
            new.append(Principal(full, self.directory / "keytabs" / f"{stem}.keytab",
                                 self.directory / "ccache" / stem, maxlife, password))
        sha2 = self.enctypes != DEFAULT_ENCTYPES
        lines: list[str] = []
        if initial and sha2:
            lines.append(f"setstr krbtgt/{self.realm}@{self.realm} session_enctypes "
                         + ",".join(self.enctypes))
        for p in new:
            opts = [f"-maxlife {p.maxlife}s"] if p.maxlife else []
            opts.append(f'-pw "{p.password}"' if p.password else "-randkey")
            lines.append(f"addprinc {' '.join(opts)} {p.name}")
            if sha2:
                # The KDC picks a session key only among enctypes it believes the service
                # supports; without this it assumes aes-sha1 even for an sha384-only service.
                lines.append(f"setstr {p.name} session_enctypes {','.join(self.enctypes)}")
            lines.append(f"ktadd -norandkey -k {p.keytab} {p.name}")
        if lines:
            self._run_tool([kadmin, "-r", self.realm], "kadmin.local", "\n".join(lines) + "\n")
        for p in new:
            if not p.keytab.is_file() or p.keytab.stat().st_size == 0:
                raise RealmError(f"kadmin.local wrote no keytab {p.keytab} for {p.name}")
            self._principals[p.name] = p
        return new

    # -- environment and log -------------------------------------------------------------------

    def env(self, client: str | None = None, acceptor: str | None = None,
            also_accept: Iterable[str] = ()) -> dict[str, str]:
        """The variables a process of this realm needs (add them to os.environ).

        Always KRB5_CONFIG, KRB5_KDC_PROFILE and KRB5RCACHEDIR; with client=NAME also
        KRB5_CLIENT_KTNAME and KRB5CCNAME (FILE:) of that principal, with acceptor=NAME
        KRB5_KTNAME (a keytab that also holds the keys of also_accept, see keytab_for). The
        client and acceptor dicts never share a key, so they can be merged.
        """
        env = {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
            "KRB5RCACHEDIR": str(self.rcache_dir),
        }
        if client is not None:
            p = self.principal(client)
            env["KRB5_CLIENT_KTNAME"] = str(p.keytab)
            env["KRB5CCNAME"] = f"FILE:{p.ccache}"
        if acceptor is not None:
            env["KRB5_KTNAME"] = str(self.keytab_for([acceptor, *also_accept]))
        return env

    def keytab_for(self, names: Iterable[str]) -> Path:
        """The keytab holding the keys of every principal in names: the principal's own keytab
        for one name, else a keytab made once (kadmin.local ktadd -norandkey, so the keys stay
        the KDC's) under keytabs/ and reused. KeyError for an unknown principal."""
        members = [self.principal(n) for n in dict.fromkeys(names)]
        if len(members) == 1:
            return members[0].keytab
        stem = "+".join(_file_stem(p.name, self.realm) for p in members)
        path = self.directory / "keytabs" / f"{stem}.keytab"
        with self._keytab_lock:
            if not path.is_file():
                # Written under another name and renamed whole: a kadmin.local that fails half
                # way must not leave a keytab lacking some keys for the next caller.
                partial = path.with_name(path.name + ".partial")
                partial.unlink(missing_ok=True)
                lines = [f"ktadd -norandkey -k {partial} {p.name}" for p in members]
                try:
                    self._run_tool([find_binary("kadmin.local"), "-r", self.realm],
                                   "kadmin.local", "\n".join(lines) + "\n")
                    if not partial.is_file() or partial.stat().st_size == 0:
                        raise RealmError(f"kadmin.local wrote no keytab {path}")
                    partial.rename(path)
                finally:
                    partial.unlink(missing_ok=True)
        return path

    def kdc_log(self) -> list[KdcRequest]:
        """Every AS_REQ / TGS_REQ line of the KDC log so far, parsed, oldest first."""
        try:
            text = self.kdc_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        requests = []
        for line in text.split("\n")[:-1]:  # a last line without newline is still being written
            request = parse_kdc_log_line(line)
            if request is not None:
                requests.append(request)
        return requests

    # -- internals -----------------------------------------------------------------------------

    def _use_port(self, port: int | None) -> None:
        """Give the realm port (None, or a port another realm holds: a free one) with its lock
        and write the profiles that name it."""
        self._release_port_lock()
        lock = _lock_port(port) if port is not None else None
        if lock is None:
            port, lock = _free_port()
        self._port_lock = lock
        self._write_profiles(port)

    def _release_port_lock(self) -> None:
        if self._port_lock is not None:
            self._port_lock.close()
            self._port_lock = None

    def _write_profiles(self, port: int) -> None:
        from string import Template  # noqa: PLC0415 (deferred, see the imports)

        self.kdc_port = port
        libdefaults: list[str] = []
        if self.clockskew is not None:
            libdefaults.append(f"    clockskew = {self.clockskew}")
        if self.enctypes != DEFAULT_ENCTYPES:
            # The client's order decides the session enctype; ask for the realm's first.
            enctypes = " ".join(self.enctypes)
            for key in ("permitted_enctypes", "default_tkt_enctypes", "default_tgs_enctypes"):
                libdefaults.append(f"    {key} = {enctypes}")
        domain_realm = []
        for domain in self.domains:
            domain_realm.append(f"    {domain} = {self.realm}")
            domain_realm.append(f"    .{domain} = {self.realm}")
        realm_extra = [f"        max_life = {self.max_life}s"] if self.max_life else []
        values = {
            "realm": self.realm,
            "port": str(port),
            "directory": str(self.directory),
            "libdefaults_extra": "".join("\n" + line for line in libdefaults),
            "domain_realm": "\n".join(domain_realm),
            "supported_enctypes": " ".join(f"{e}:normal" for e in self.enctypes),
            "realm_extra": "".join("\n" + line for line in realm_extra),
        }
        for name, target in (("krb5.conf", self.krb5_conf), ("kdc.conf", self.kdc_conf)):
            try:
                template = Template((TEMPLATES / name).read_text())
                # Replaced whole: a kadmin.local running meanwhile reads the old or the new.
                partial = target.with_name(f".{name}.tmp")
                partial.write_text(template.substitute(values))
                os.replace(partial, target)
            except (OSError, KeyError, ValueError) as e:
                raise RealmError(f"template {TEMPLATES / name}: {e!r}") from None

    def _tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env())
        env.pop("KRB5_TRACE", None)
        return env

    def _run_tool(self, argv: list[str], what: str, stdin: str | None = None) -> None:
        import subprocess  # noqa: PLC0415 (deferred, see the imports)

        try:
            result = subprocess.run(argv, input=stdin, env=self._tool_env(), cwd=self.directory,
                                    capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RealmError(f"{what} in {self.directory}: no exit after {TOOL_TIMEOUT} s") from None
        errors = [line for line in result.stderr.splitlines()
                  if line.strip() and not _BENIGN_KADMIN.match(line.strip())]
        if result.returncode != 0 or errors:
            detail = "; ".join(errors) or f"exit status {result.returncode}"
            raise RealmError(f"{what} in {self.directory} failed: {detail}")

    def _start_kdc(self, krb5kdc: str) -> None:
        last = ""
        for attempt in range(PORT_ATTEMPTS):
            if attempt:
                self._use_port(None)
            try:
                self._spawn_kdc(krb5kdc)
                return
            except _PortTaken as e:
                last = str(e)
        raise RealmError(f"krb5kdc in {self.directory}: no free port after {PORT_ATTEMPTS} "
                         f"attempts (last: {last})")

    def _spawn_kdc(self, krb5kdc: str) -> None:
        import subprocess  # noqa: PLC0415 (deferred, see the imports)

        log = self.kdc_log_path
        offset = log.stat().st_size if log.exists() else 0
        kwargs: dict[str, Any] = {}
        if self.detached:
            kwargs["start_new_session"] = True
        elif threading.current_thread() is threading.main_thread():
            # PR_SET_PDEATHSIG fires when the forking *thread* ends, so only the main thread
            # (which lives as long as the process) may use it.
            kwargs["preexec_fn"] = _pdeathsig_preexec(os.getpid())
        assert self._port_lock is not None
        waker = _Waker(self.directory)
        try:
            with open(self.directory / "kdc.stderr", "ab") as err:
                # The KDC inherits the port lock: it is held as long as the KDC lives.
                self._proc = subprocess.Popen([krb5kdc, "-n"], env=self._tool_env(),
                                              cwd=self.directory, stdin=subprocess.DEVNULL,
                                              stdout=err, stderr=err,
                                              pass_fds=(self._port_lock.fileno(),), **kwargs)
            self.kdc_pid = self._proc.pid
            (self.directory / "kdc.pid").write_text(f"{self.kdc_pid}\n")
            try:
                waker.watch_exit(self.kdc_pid)
                self._wait_ready(offset, waker)
            except BaseException:
                self._stop_kdc()
                raise
        finally:
            waker.close()
        self._release_port_lock()

    def _wait_ready(self, offset: int, waker: _Waker) -> None:
        import socket  # noqa: PLC0415 (deferred, see the imports)

        assert self._proc is not None
        tag = f"krb5kdc[{self.kdc_pid}]"
        deadline = time.monotonic() + KDC_START_TIMEOUT
        while True:
            try:
                with open(self.kdc_log_path, "rb") as f:
                    f.seek(offset)
                    text = f.read().decode(errors="replace")
            except FileNotFoundError:
                text = ""
            ours = [line for line in text.splitlines() if tag in line]
            if any("Address already in use" in line or "Cannot bind" in line for line in ours):
                raise _PortTaken(f"port {self.kdc_port}: " + " / ".join(
                    line.split("): ", 1)[-1] for line in ours if "(Error)" in line))
            if any(line.endswith("commencing operation") for line in ours):
                listeners = _port_listeners(self.kdc_port)
                own = _socket_inodes(self.kdc_pid)
                if listeners - own:
                    raise _PortTaken(f"port {self.kdc_port} is shared with "
                                     f"{len(listeners - own)} socket(s) of another process")
                try:
                    with socket.create_connection(("127.0.0.1", self.kdc_port), timeout=2):
                        pass
                except OSError as e:
                    raise RealmError(f"krb5kdc in {self.directory} logged readiness but "
                                     f"127.0.0.1:{self.kdc_port} refuses TCP: {e}") from None
                if self._proc.poll() is None:
                    return
            if self._proc.poll() is not None:
                errors = [line.split("): ", 1)[-1] for line in ours if "(Error)" in line]
                raise RealmError(
                    f"krb5kdc in {self.directory} exited with status {self._proc.returncode} "
                    f"before it was ready: {' / '.join(errors) or 'see kdc.log and kdc.stderr'}")
            if time.monotonic() >= deadline:
                raise RealmError(f"krb5kdc in {self.directory}: not ready after "
                                 f"{KDC_START_TIMEOUT} s (no 'commencing operation' in kdc.log)")
            waker.wait(deadline)

    def _stop_kdc(self) -> None:
        pid = self.kdc_pid
        what = f"krb5kdc pid {pid} in {self.directory}"
        try:
            if self._proc is not None:
                if self._proc.poll() is None:
                    pidfd = _pidfd(pid)  # our unreaped child: its pid cannot be reused
                    try:
                        _terminate(pid, pidfd, what)
                    finally:
                        if pidfd is not None:
                            os.close(pidfd)
                    self._proc.wait()  # a zombie now: reaped at once
            elif pid:
                self._stop_detached_kdc(pid, what)
        finally:
            if self._proc is None or self._proc.returncode is not None:
                self._proc = None
                self.kdc_pid = 0
                self._release_port_lock()

    def _stop_detached_kdc(self, pid: int, what: str) -> None:
        """Stop a KDC another process started, if pid is still this realm's krb5kdc."""
        try:
            pidfd = _pidfd(pid)
        except ProcessLookupError:
            return
        try:
            if not _is_our_kdc(pid, self.kdc_conf):
                return
            # /proc was read after the pidfd was opened: while the pidfd's process has not
            # exited, what /proc said was about that process, not a later one given its pid.
            if pidfd is not None and _wait_gone(pid, 0, pidfd):
                return
            _terminate(pid, pidfd, what)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _save_state(self) -> None:
        state = {
            "realm": self.realm,
            "directory": str(self.directory),
            "kdc_port": self.kdc_port,
            "kdc_pid": self.kdc_pid,
            "detached": self.detached,
            "enctypes": list(self.enctypes),
            "max_life": self.max_life,
            "clockskew": self.clockskew,
            "domains": list(self.domains),
            "env": self.env(),
            "principals": {
                p.name: {"keytab": str(p.keytab), "ccache": str(p.ccache),
                         "maxlife": p.maxlife, "password": p.password}
                for p in self._principals.values()
            },
        }
        tmp = self.directory / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.directory / STATE_FILE)


class _InThread:
    """fn(*args) run in a thread of its own; result() waits for it and raises what it raised."""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                fn(*args)
            except BaseException as e:  # handed to the waiting thread by result()
                self._error = e

        self._thread = threading.Thread(target=run, name="krbrealm", daemon=True)
        self._thread.start()

    def wait(self) -> BaseException | None:
        """Wait until fn returned; what it raised, or None."""
        self._thread.join()
        return self._error

    def result(self) -> None:
        """Wait until fn returned; raise what it raised."""
        error = self.wait()
        if error is not None:
            raise error


class _PortTaken(Exception):
    """The KDC could not bind its port: another process took it after we picked it."""
