"""What the Python XMPP shims share: the XMPP shim contract of docs/candidates.md as code.

Used by candidates/{nbxmpp,slixmpp,prosody}/shim.py and candidates/xmppfront/xmppfront.py.
They run as scripts, so each puts this folder (candidates/) on sys.path from its own location
before importing this module. Standard library only: it is imported under Debian's
/usr/bin/python3 as well as any python3.

What lives here, and only the parts that are the same in every shim:
- the contract's exit statuses and the stop signals (SIGTERM, SIGINT);
- `emit` (one event, one JSON line on stdout) and `say` (one line on stderr, named after the
  shim), both whole even when threads print;
- `UsageError` and `read_values`, the option loop of the contract (every option takes a value;
  an option of the other role is "recognised, cannot honour");
- `ClientOptions`, the validation of the contract's xmpp-client options, with a per-shim
  table of the values that shim cannot honour;
- `version` (Debian package versions) and `main` (the subcommand dispatch).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any, Callable

# The contract's exit statuses: 2 an invalid value, 64 a usage error, 69 an option recognised
# but not honoured.
EXIT_OK, EXIT_FAIL, EXIT_INVALID, EXIT_USAGE, EXIT_CANNOT = 0, 1, 2, 64, 69
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_DBN = "urn:xmpp:domain-based-name:1"

SERVER_OPTIONS = ("--bind", "--hostname", "--tls-cert", "--tls-key")
CLIENT_OPTIONS = ("--connect", "--domain", "--jid", "--tls", "--tls-ca", "--authzid",
                  "--principal-form", "--timeout-ms")
# The options only a client takes (an xmpp-server shim refuses them with exit 69).
CLIENT_ONLY_OPTIONS = ("--jid", "--connect", "--tls-ca", "--authzid", "--principal-form")
TLS_MODES = ("required", "optional", "off")
PRINCIPAL_FORMS = ("xep0233", "hostbased", "domain")

_print_lock = threading.Lock()
_name = ["shim"]  # the prefix of `say` lines, set by set_name


def set_name(name: str) -> None:
    """Name the shim in its stderr lines ("NAME: text")."""
    _name[0] = name


def emit(event: str, **fields: Any) -> None:
    """Print one contract event as a JSON line, flushed, whole even across threads."""
    line = json.dumps({"event": event, **fields}, separators=(",", ":"))
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def say(text: str) -> None:
    """One line on stderr, prefixed with the shim's name, whole even across threads."""
    with _print_lock:
        sys.stderr.write(f"{_name[0]}: {text}\n")
        sys.stderr.flush()


class UsageError(Exception):
    """A usage error (exit 64), an option recognised but not honoured (69) or an invalid
    value (exit 2), with a one-line reason."""

    def __init__(self, reason: str, status: int = EXIT_USAGE) -> None:
        super().__init__(reason)
        self.status = status


def read_values(argv: list[str], accepted: tuple[str, ...], foreign: tuple[str, ...],
                plays: str) -> dict[str, str]:
    """The "--name value" pairs of ARGV (a later one wins). An option in FOREIGN belongs to
    the other role: UsageError 69 ("this candidate is a PLAYS"); one in neither tuple, or
    one without a value: UsageError 64."""
    other = "server" if plays == "client" else "client"
    values: dict[str, str] = {}
    i = 0
    while i < len(argv):
        name = argv[i]
        if name in foreign:
            raise UsageError(f"{name}: a {other} option; this candidate is a {plays}",
                             EXIT_CANNOT)
        if name not in accepted:
            raise UsageError(f"unknown option '{name}'")
        if i + 1 >= len(argv):
            raise UsageError(f"{name} needs a value")
        values[name] = argv[i + 1]
        i += 2
    return values


def check_timeout(text: str) -> int:
    """--timeout-ms TEXT as milliseconds; UsageError 2 unless a number >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--timeout-ms '{text}': expected a number >= 1", EXIT_INVALID)
    return int(text)


# A shim's refusals: option -> function of its value (None for --authzid, which is refused
# whenever it is given) returning the reason it cannot be honoured, or None when it can.
Refusals = dict[str, Callable[[str], "str | None"]]


class ClientOptions:
    """The xmpp-client command line after validation: host, port, domain, jid, username
    (the JID's localpart), tls, tls_ca, form, timeout_ms. Each value is checked in the
    contract's order, and right after it the shim's REFUSALS for that option (exit 69)."""

    def __init__(self, argv: list[str], refusals: Refusals) -> None:
        def refuse(name: str, value: str) -> None:
            check = refusals.get(name)
            reason = None if check is None else check(value)
            if reason is not None:
                raise UsageError(f"{name}{'' if name == '--authzid' else ' ' + value}: "
                                 f"cannot be honoured: {reason}", EXIT_CANNOT)

        values = read_values(argv, CLIENT_OPTIONS, SERVER_OPTIONS, "client")
        for required in ("--connect", "--domain", "--jid"):
            if required not in values:
                raise UsageError(f"{required} is required")
        host, sep, port = values["--connect"].rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--connect '{values['--connect']}': expected HOST:PORT",
                             EXIT_INVALID)
        self.host, self.port = host, int(port)
        self.domain = values["--domain"]
        self.jid = values["--jid"]
        local, at, jid_domain = self.jid.partition("@")
        if not at or not local or not jid_domain or "/" in self.jid:
            raise UsageError(f"--jid '{self.jid}': expected a bare JID local@domain",
                             EXIT_INVALID)
        self.username = local
        self.tls = values.get("--tls", "required")
        if self.tls not in TLS_MODES:
            raise UsageError(f"--tls '{self.tls}': expected required, optional or off",
                             EXIT_INVALID)
        refuse("--tls", self.tls)
        self.tls_ca = values.get("--tls-ca")
        if self.tls_ca is not None and not os.access(self.tls_ca, os.R_OK):
            raise UsageError(f"--tls-ca '{self.tls_ca}': not a readable file", EXIT_INVALID)
        if "--authzid" in values:
            refuse("--authzid", values["--authzid"])
        self.authzid = values.get("--authzid")
        self.form = values.get("--principal-form", "xep0233")
        if self.form not in PRINCIPAL_FORMS:
            raise UsageError(f"--principal-form '{self.form}': expected xep0233, hostbased "
                             f"or domain", EXIT_INVALID)
        refuse("--principal-form", self.form)
        self.timeout_ms = check_timeout(values.get("--timeout-ms", "10000"))


def version(packages: list[str]) -> int:
    """Print the Debian versions of PACKAGES (dpkg-query) on one line; the exit status."""
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *packages],
                          capture_output=True, text=True, timeout=10)
    found = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    print(", ".join(f"{n} {found.get(n, '(not installed)')}" for n in packages))
    return EXIT_OK if proc.returncode == 0 else EXIT_FAIL


def usage_of(doc: str) -> str:
    """The usage block of a shim's docstring: its second paragraph."""
    return doc.split("\n\n", 2)[1] + "\n"


def main(argv: list[str], *, role: str, usage: str, packages: list[str],
         parse: Callable[[list[str]], Any], run: Callable[[Any], int],
         log_prefix: str | None = None) -> int:
    """Dispatch a shim's command line: --help, --version (PACKAGES), ROLE with its options
    (PARSE them, then RUN them). LOG_PREFIX: set up Python logging on stderr under that
    prefix (DEBUG when GSSCONFORM_DEBUG is set). Returns the exit status."""
    if len(argv) < 2:
        sys.stderr.write("usage:\n" + usage)
        return EXIT_USAGE
    if argv[1] == "--help":
        sys.stdout.write("usage:\n" + usage)
        return EXIT_OK
    if argv[1] == "--version":
        return version(packages)
    if argv[1] != role:
        say(f"unknown command '{argv[1]}' (this candidate plays {role})")
        return EXIT_USAGE
    try:
        opts = parse(argv[2:])
    except UsageError as e:
        say(str(e))
        return e.status
    if log_prefix is not None:
        logging.basicConfig(level=logging.DEBUG if os.environ.get("GSSCONFORM_DEBUG") else
                            logging.INFO, stream=sys.stderr,
                            format=f"{log_prefix}: %(levelname)s %(name)s: %(message)s")
    return run(opts)
