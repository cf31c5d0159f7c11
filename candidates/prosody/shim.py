#!/usr/bin/python3
"""prosody-shim: Prosody 0.12 (Debian bookworm) with mod_auth_cyrus as an XMPP server candidate.

    shim.py xmpp-server --bind 127.0.0.1:PORT --domain D --hostname H
                        [--tls required|optional|off] [--tls-cert F --tls-key F]
                        [--xep0233 on|off|misplaced] [--acceptor-fqdn NAME]
                        [--timeout-ms MS]
    shim.py --version

It writes a Prosody configuration into the case's working directory (subfolder prosody/),
runs `prosody -F --config FILE` in the foreground as a child and follows the XMPP shim
contract of docs/candidates.md: a `listening` event once the port accepts a connection (a
bounded connect probe), one `login` event per SASL outcome parsed from Prosody's log, and a
clean stop on SIGTERM (forwarded to Prosody, which is then waited for). A `login` event's
client and target come from the acceptor's own MIT krb5 trace (KRB5_TRACE; the shim sets
prosody/krb5.trace when the runner gave none); the RFC 4752 layer, max size and authzid are
not visible outside Cyrus and are listed in the event's "not_observed". Everything Prosody
writes goes to prosody/prosody.log (debug level); its info and higher lines also to stderr.

Prosody listens for c2s on the one --bind address only: s2s, HTTP, components and the
direct-TLS ports are off. SASL is Cyrus SASL (lua-cyrussasl) with `mech_list: GSSAPI` from a
generated prosody.conf (SASL_CONF_PATH); the acceptor keytab is the runner's KRB5_KTNAME.
`--acceptor-fqdn` (default: --hostname) is Prosody's cyrus_server_fqdn: Cyrus's GSSAPI plugin
acquires its acceptor credential for the host-based name xmpp@NAME. `--xep0233 on` (the
default) loads this folder's mod_xep0233_hostname, which advertises --hostname in the SASL
<mechanisms/> feature after TLS; `off` runs plain Prosody, which advertises nothing;
`misplaced` (a diagnostic, not Prosody's behaviour) puts the same element directly into
<stream:features/>, to observe clients that look for it there.

Only the Python standard library is used; the interpreter is Debian's like the other shims.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
from xmppshim import (CLIENT_ONLY_OPTIONS, EXIT_CANNOT, EXIT_FAIL, EXIT_INVALID,  # noqa: E402
                      EXIT_OK, STOP_SIGNALS, TLS_MODES, UsageError, check_timeout, emit,
                      main as shim_main, read_values, say, set_name, usage_of)

HERE = os.path.dirname(os.path.abspath(__file__))
PROSODY = "prosody"
START_S = 10.0  # bound on Prosody's port accepting a connection
STOP_S = 5.0  # bound on Prosody exiting after SIGTERM (then SIGKILL)
PROBE_S = 0.005  # first pause between connect probes (doubles up to 0.1 s)
ACCEPTED = ("--bind", "--domain", "--hostname", "--tls", "--tls-cert", "--tls-key",
            "--xep0233", "--acceptor-fqdn", "--timeout-ms")


def _lua_string(text: str) -> str:
    """TEXT as a Lua string literal; UsageError (exit 2) for control characters."""
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UsageError(f"{text!r}: control characters cannot go into Prosody's "
                         f"configuration", EXIT_INVALID)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Options:
    """The command line after validation."""

    def __init__(self, argv: list[str]) -> None:
        self.host = ""
        self.port = -1
        self.domain = ""
        self.hostname = ""
        self.tls = "required"
        self.tls_cert: str | None = None
        self.tls_key: str | None = None
        self.xep0233 = "on"
        self.acceptor_fqdn: str | None = None
        self.timeout_ms = 10000
        values = read_values(argv, ACCEPTED, CLIENT_ONLY_OPTIONS, "server")
        for required in ("--bind", "--domain", "--hostname"):
            if required not in values:
                raise UsageError(f"{required} is required")
        host, sep, port = values["--bind"].rpartition(":")
        host = host.strip("[]")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise UsageError(f"--bind '{values['--bind']}': expected HOST:PORT", EXIT_INVALID)
        if host not in ("127.0.0.1", "::1"):
            raise UsageError(f"--bind '{values['--bind']}': only 127.0.0.1 or ::1 (loopback)",
                             EXIT_INVALID)
        self.host, self.port = host, int(port)
        for name in ("--domain", "--hostname", "--acceptor-fqdn"):
            value = values.get(name)
            if value is not None and not re.fullmatch(r"[A-Za-z0-9.-]+", value):
                raise UsageError(f"{name} '{value}': only letters, digits, '-' and '.' can "
                                 f"go into Prosody's configuration", EXIT_CANNOT)
        self.domain, self.hostname = values["--domain"], values["--hostname"]
        self.acceptor_fqdn = values.get("--acceptor-fqdn", self.hostname)
        self.tls = values.get("--tls", "required")
        if self.tls not in TLS_MODES:
            raise UsageError(f"--tls '{self.tls}': expected required, optional or off",
                             EXIT_INVALID)
        self.tls_cert, self.tls_key = values.get("--tls-cert"), values.get("--tls-key")
        if self.tls != "off":
            for name, path in (("--tls-cert", self.tls_cert), ("--tls-key", self.tls_key)):
                if path is None:
                    raise UsageError(f"{name} is required unless --tls off")
                if not os.access(path, os.R_OK):
                    raise UsageError(f"{name} '{path}': not a readable file", EXIT_INVALID)
        self.xep0233 = values.get("--xep0233", "on")
        if self.xep0233 not in ("on", "off", "misplaced"):
            raise UsageError(f"--xep0233 '{self.xep0233}': expected on, off or misplaced",
                             EXIT_INVALID)
        if "--timeout-ms" in values:
            self.timeout_ms = check_timeout(values["--timeout-ms"])


def free_port(host: str) -> int:
    """A port the kernel just handed out on HOST (for --bind HOST:0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def write_config(opts: Options, base: str) -> str:
    """Write prosody.cfg.lua and the Cyrus SASL prosody.conf under BASE; return the former."""
    for sub in ("data", "certs", "sasl"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    with open(os.path.join(base, "sasl", "prosody.conf"), "w", encoding="ascii") as f:
        f.write("mech_list: GSSAPI\n")
    modules = ["saslauth", "gssconform_auth"]
    if opts.tls != "off":
        modules.insert(0, "tls")
    if opts.xep0233 != "off":
        modules.append("xep0233_hostname")
    lines = [
        "-- written by candidates/prosody/shim.py for one gssconform case",
        "run_as_root = true  -- only read when started as root; Prosody refuses root otherwise",
        "daemonize = false",
        f"pidfile = {_lua_string(os.path.join(base, 'prosody.pid'))}",
        f"data_path = {_lua_string(os.path.join(base, 'data'))}",
        f"certificates = {_lua_string(os.path.join(base, 'certs'))}",
        f"plugin_paths = {{ {_lua_string(HERE)} }}",
        'log = { debug = "*console" }',
        "use_libevent = false",
        f"modules_enabled = {{ {', '.join(_lua_string(m) for m in modules)} }}",
        # Autoloaded modules that are not needed: s2s (and its listener), offline storage.
        'modules_disabled = { "s2s", "s2s_auth_certs", "offline" }',
        f"interfaces = {{ {_lua_string(opts.host)} }}",
        f"local_interfaces = {{ {_lua_string(opts.host)} }}",
        f"c2s_interfaces = {{ {_lua_string(opts.host)} }}",
        f"c2s_ports = {{ {opts.port} }}",
        "c2s_direct_tls_ports = { }",
        "legacy_ssl_ports = { }",
        "s2s_ports = { }",
        "http_ports = { }",
        "https_ports = { }",
        "component_ports = { }",
        f"c2s_require_encryption = {'true' if opts.tls == 'required' else 'false'}",
        "allow_unencrypted_plain_auth = false",
        'authentication = "cyrus"',
        'cyrus_service_name = "xmpp"',
        'cyrus_application_name = "prosody"',
        f"cyrus_server_fqdn = {_lua_string(opts.acceptor_fqdn or opts.hostname)}",
        f"xep0233_hostname = {_lua_string(opts.hostname)}",
        'xep0233_hostname_placement = "%s"' % (
            "features" if opts.xep0233 == "misplaced" else "mechanisms"),
    ]
    if opts.tls != "off":
        lines.append(f"ssl = {{ certificate = {_lua_string(os.path.abspath(opts.tls_cert))}; "
                     f"key = {_lua_string(os.path.abspath(opts.tls_key))} }}")
    lines.append(f"VirtualHost {_lua_string(opts.domain)}")
    path = os.path.join(base, "prosody.cfg.lua")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


class TraceReader:
    """Reads what libkrb5 inside Prosody appended to its KRB5_TRACE file since the last call,
    and finds the acceptor's view of the AP-REQ there: on success MIT krb5 1.20 logs
    "AP-REQ ticket: CLIENT -> SERVER, session key ...", on a refused ticket "Failed to
    decrypt AP-REQ ticket: CODE/Request ticket server SERVER ...". Those are the names the
    ticket carried, whatever Cyrus or Prosody report."""

    TICKET = re.compile(r"AP-REQ ticket: (\S+) -> (\S+), session key")
    REFUSED = re.compile(r"Failed to decrypt AP-REQ ticket: (-?\d+)/(.*)$")
    SERVER = re.compile(r"[Rr]equest ticket server (\S+)")

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0

    def since_last(self) -> dict[str, Any]:
        """Fields for a `login` event from the new trace lines: client and target when
        exactly one AP-REQ was seen, else a note saying why they are left out."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError as e:
            return {"trace_note": f"KRB5_TRACE unreadable: {e.strerror}"}
        end = data.rfind(b"\n") + 1  # whole lines only; a partial one waits
        self.offset += end
        seen: list[dict[str, Any]] = []
        for line in data[:end].decode("utf-8", "replace").splitlines():
            ok = self.TICKET.search(line)
            if ok:
                seen.append({"client": ok.group(1), "target": ok.group(2)})
                continue
            bad = self.REFUSED.search(line)
            if bad:
                server = self.SERVER.search(bad.group(2))
                entry = {"acceptor_error": bad.group(2).strip()}
                if server:
                    entry["target"] = server.group(1)
                seen.append(entry)
        if len(seen) == 1:
            return seen[0]
        if not seen:
            return {"trace_note": "no AP-REQ in the acceptor's KRB5_TRACE since the previous "
                                  "login"}
        return {"trace_note": f"{len(seen)} AP-REQs in the acceptor's KRB5_TRACE since the "
                              f"previous login: not attributed"}


# Prosody's console log lines: "SOURCE<spaces>LEVEL<tab>MESSAGE".
LOG_LINE = re.compile(r"^(\S+)\s+(debug|info|warn|error)\t(.*)$")
TLS_DONE = re.compile(r"^Stream encrypted \((TLSv[0-9.]+) with ")
AUTH_OK = re.compile(r"^gssconform-auth success user=(\S+) authid=(\S+)$")
AUTH_FAIL = re.compile(r"^gssconform-auth failure condition=(\S+) authid=(\S+) detail=(.*)$")
NOT_OBSERVED = ["layer", "max_size", "authzid"]


class LogReader(threading.Thread):
    """Copies Prosody's output to prosody.log (all) and stderr (info and higher) and turns
    Prosody's "Stream encrypted (VERSION with ...)" lines into `tls` events and the
    gssconform-auth lines of mod_gssconform_auth into `login` events."""

    def __init__(self, stream, log_path: str, trace: TraceReader) -> None:
        super().__init__(name="prosody-log", daemon=True)
        self.stream = stream
        self.trace = trace
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")

    def run(self) -> None:
        with self.log:
            for raw in self.stream:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log.write(line + "\n")
                self.log.flush()
                m = LOG_LINE.match(line)
                if m is None or m.group(2) != "debug":
                    print(f"prosody: {line}", file=sys.stderr, flush=True)
                if m is not None:
                    self.judge(m.group(1), m.group(3))

    def judge(self, source: str, message: str) -> None:
        tls = TLS_DONE.match(message)
        if tls is not None:
            emit("tls", version=tls.group(1), session=source)
            return
        ok, bad = AUTH_OK.match(message), AUTH_FAIL.match(message)
        if ok is None and bad is None:
            return
        fields: dict[str, Any] = self.trace.since_last()
        authid = (ok or bad).group(2)
        if authid != "-" and "client" not in fields:
            fields["client"] = authid
        if ok is not None:
            fields.update(user=ok.group(1), outcome="success")
        else:
            fields.update(outcome="failure", condition=bad.group(1),
                          reason=bad.group(3).strip())
        unknown = [k for k in ("client", "target") if k not in fields] + NOT_OBSERVED
        emit("login", **fields, session=source, not_observed=unknown)


def wait_listening(proc: subprocess.Popen, host: str, port: int,
                   stop: threading.Event) -> bool:
    """Probe HOST:PORT with connects until one succeeds (True), Prosody exits, a signal
    came or START_S passes (False). The probe connection is closed at once."""
    deadline = time.monotonic() + START_S
    pause = PROBE_S
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc.poll() is not None or stop.is_set():
            return False
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            try:
                s.connect((host, port))
                return True
            except OSError:
                pass
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
    return False


CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGFPE)


def exit_text(returncode: int) -> str:
    """How Prosody ended, for a reason line."""
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


def exit_status(returncode: int) -> int:
    """The shim's exit status for Prosody's unexpected end: 128+N for a crash signal (the
    contract's way for a wrapper to report its child's crash), else 1."""
    if returncode < 0 and -returncode in CRASH_SIGNALS:
        return 128 - returncode
    return EXIT_FAIL


def serve(opts: Options) -> int:
    """Run Prosody until SIGTERM/SIGINT or --timeout-ms; returns the exit status."""
    workdir = os.environ.get("GSSCONFORM_WORKDIR") or os.getcwd()
    base = os.path.join(os.path.abspath(workdir), "prosody")
    if opts.port == 0:
        opts.port = free_port(opts.host)
    try:
        config = write_config(opts, base)
    except UsageError as e:
        say(str(e))
        return e.status
    if not os.environ.get("KRB5_KTNAME"):
        say("KRB5_KTNAME is not set: Cyrus GSSAPI uses the default keytab")
    env = {**os.environ, "SASL_CONF_PATH": os.path.join(base, "sasl")}
    trace = env.get("KRB5_TRACE", "").removeprefix("FILE:")
    if not trace:
        trace = env["KRB5_TRACE"] = os.path.join(base, "krb5.trace")
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    proc = subprocess.Popen([PROSODY, "-F", "--config", config], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=base)
    reader = LogReader(proc.stdout, os.path.join(base, "prosody.log"), TraceReader(trace))
    reader.start()
    status = EXIT_OK
    try:
        if not wait_listening(proc, opts.host, opts.port, stop):
            if proc.poll() is not None:
                reason = f"Prosody {exit_text(proc.returncode)} before listening"
                status = exit_status(proc.returncode)
            elif stop.is_set():
                reason, status = "terminated by a signal before Prosody listened", EXIT_FAIL
            else:
                reason = f"Prosody did not accept on {opts.host}:{opts.port} within {START_S} s"
                status = EXIT_FAIL
            say(f"{reason} (see prosody/prosody.log)")
            emit("error", reason=reason)
            return status
        shown = f"[{opts.host}]" if ":" in opts.host else opts.host
        emit("listening", endpoint=f"{shown}:{opts.port}")
        deadline = time.monotonic() + opts.timeout_ms / 1000
        while not stop.is_set():
            if proc.poll() is not None:
                reason = f"Prosody {exit_text(proc.returncode)} while serving"
                say(reason)
                emit("error", reason=reason)
                status = exit_status(proc.returncode)
                return status
            if time.monotonic() >= deadline:
                reason = f"timeout after {opts.timeout_ms} ms while serving"
                say(reason)
                emit("error", reason=reason)
                status = EXIT_FAIL
                break
            stop.wait(0.05)
        return status
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                say(f"Prosody still running {STOP_S} s after SIGTERM: killed")
                proc.kill()
                proc.wait()
        reader.join(2.0)
        if status == EXIT_OK and stop.is_set():
            emit("done")


def main(argv: list[str]) -> int:
    """Dispatch the subcommand; returns the exit status."""
    set_name("prosody-shim")
    return shim_main(argv, role="xmpp-server", usage=usage_of(__doc__),
                     packages=["prosody", "prosody-modules", "lua-cyrussasl",
                               "libsasl2-modules-gssapi-mit"], parse=Options, run=serve)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
