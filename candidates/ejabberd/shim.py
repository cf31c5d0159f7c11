#!/usr/bin/python3
"""ejabberd-shim: ejabberd 23.01 (Debian bookworm) as an XMPP server candidate, headless.

    shim.py xmpp-server --bind 127.0.0.1:PORT --domain D --hostname H
                        --tls-cert F --tls-key F [--tls required|optional] [--timeout-ms MS]
    shim.py --version

ejabberd has no SASL GSSAPI (its mechanisms are PLAIN, DIGEST-MD5, SCRAM-*, X-OAUTH2 and
EXTERNAL) and no XEP-0233 <hostname/>: it is bundled to show how the catalogue judges a server
without either (UNIMPLEMENTED), not to log anybody in. The shim writes ejabberd.yml into the
case's working directory (one virtual host D, one c2s listener on the --bind address, STARTTLS
with the runner's certificate, Mnesia in ./spool) and runs the Erlang VM in the foreground
without distribution (`erl -noinput -noshell -s ejabberd`, no node name, so no epmd and no
ejabberdctl). Readiness is a bounded connect probe, then the `listening` event. SIGTERM stops
the VM (SIGKILL after a short grace). --hostname is accepted and ignored (nothing to advertise).

Only the Python standard library is used.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

EXIT_OK, EXIT_FAIL, EXIT_INVALID, EXIT_USAGE = 0, 1, 2, 64
EBIN_GLOB = "/usr/lib/x86_64-linux-gnu/ejabberd-*/ebin"  # Debian's ejabberd code path
START_S = 20.0  # bound on the c2s port accepting a connection (a fresh Mnesia takes ~8 s)
STOP_S = 1.0  # grace after SIGTERM, then SIGKILL
PACKAGES = ("ejabberd", "erlang-base")


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}, separators=(",", ":")), flush=True)


def fail(status: int, reason: str) -> int:
    emit("error", reason=reason)
    print(f"ejabberd-shim: {reason}", file=sys.stderr, flush=True)
    return status


def version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version}; ", *PACKAGES],
                         capture_output=True, text=True, timeout=10, check=False)
    return out.stdout.strip() or "ejabberd (dpkg-query failed)"


def parse(argv: list[str]) -> dict[str, str]:
    """The options as a dict; ValueError (usage) for anything else."""
    if not argv or argv[0] != "xmpp-server":
        raise ValueError("the only role is xmpp-server")
    known = ("--bind", "--domain", "--hostname", "--tls", "--tls-cert", "--tls-key",
             "--timeout-ms")
    opts: dict[str, str] = {}
    rest = argv[1:]
    while rest:
        if rest[0] not in known or len(rest) < 2:
            raise ValueError(f"cannot honour option {rest[0]}")
        opts[rest[0]], rest = rest[1], rest[2:]
    for name in ("--bind", "--domain", "--tls-cert", "--tls-key"):
        if name not in opts:
            raise ValueError(f"{name} is required")
    if opts.get("--tls", "required") not in ("required", "optional"):
        raise ValueError("--tls must be required or optional (ejabberd needs a certificate)")
    return opts


def config(opts: dict[str, str], port: int, host: str) -> str:
    """ejabberd.yml (YAML, the strings JSON-quoted, which YAML reads the same)."""
    q = json.dumps
    required = "true" if opts.get("--tls", "required") == "required" else "false"
    return "\n".join([
        f"hosts: [{q(opts['--domain'])}]",
        "loglevel: info",
        f"certfiles: [{q(os.path.abspath(opts['--tls-cert']))}, "
        f"{q(os.path.abspath(opts['--tls-key']))}]",
        "listen:",
        f"  - port: {port}",
        f"    ip: {q(host)}",
        "    module: ejabberd_c2s",
        "    starttls: true",
        f"    starttls_required: {required}",
        "auth_method: [internal]",
        "modules: {}",
        ""])


def wait_listening(proc: subprocess.Popen, host: str, port: int, stop: threading.Event) -> bool:
    deadline = time.monotonic() + START_S
    pause = 0.01
    while time.monotonic() < deadline and proc.poll() is None and not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            stop.wait(pause)
            pause = min(pause * 2, 0.2)
    return False


def serve(opts: dict[str, str]) -> int:
    host, _, port_text = opts["--bind"].rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return fail(EXIT_INVALID, f"--bind {opts['--bind']!r} is not HOST:PORT")
    port = int(port_text)
    ebin = sorted(glob.glob(EBIN_GLOB))
    erl = subprocess.run(["sh", "-c", "command -v erl"], capture_output=True, text=True,
                         check=False).stdout.strip()
    if not ebin or not erl:
        return fail(EXIT_USAGE, "ejabberd is not installed (apt-get install ejabberd)")
    work = os.getcwd()
    spool = os.path.join(work, "ejabberd-spool")
    os.makedirs(spool, exist_ok=True)
    path = os.path.join(work, "ejabberd.yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(config(opts, port, host))
    env = dict(os.environ, EJABBERD_CONFIG_PATH=path,
               EJABBERD_LOG_PATH=os.path.join(work, "ejabberd.log"), HOME=work)
    argv = [erl, "-noinput", "-noshell", "-pa", ebin[-1], "-mnesia", "dir", json.dumps(spool),
            "-s", "ejabberd"]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with open(os.path.join(work, "ejabberd.out"), "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        if not wait_listening(proc, host, port, stop):
            if stop.is_set():
                return EXIT_OK
            why = (f"exited with {proc.returncode}" if proc.poll() is not None
                   else f"did not listen within {START_S:.0f} s")
            return fail(EXIT_FAIL, f"ejabberd {why} (see ejabberd.out, ejabberd.log)")
        emit("listening", endpoint=f"{host}:{port}")
        while not stop.is_set() and proc.poll() is None:
            stop.wait(0.1)
        if proc.poll() is not None and not stop.is_set():
            return fail(EXIT_FAIL, f"ejabberd exited by itself with {proc.returncode}")
        emit("done")
        return EXIT_OK
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: list[str]) -> int:
    if argv == ["--version"]:
        print(version())
        return EXIT_OK
    try:
        opts = parse(argv)
    except ValueError as err:
        return fail(EXIT_USAGE, str(err))
    return serve(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
