#!/usr/bin/python3
"""nbxmpp-shim: nbxmpp (Debian bookworm python3-nbxmpp, the XMPP library under Gajim; SASL
GSSAPI through python3-gssapi) as an XMPP client candidate of gssconform.

    shim.py xmpp-client --connect 127.0.0.1:PORT --domain D --jid alice@D
                        [--tls required|off] [--tls-ca F]
                        [--principal-form xep0233] [--timeout-ms MS]
    shim.py --version

It follows the XMPP shim contract of docs/candidates.md: one login on a GLib main loop (no
display needed), exit 0 after <success/>, the stream restart and resource binding. Events:
`tls`, `features` (from the features nbxmpp hands to its SASL code), `principal` (the name
nbxmpp itself passes to gssapi.Name, and the flags it passes to gssapi.SecurityContext,
recorded by a thin wrapper around python3-gssapi: the name is never rebuilt here;
`krb5_name` is the principal MIT krb5 makes of it, gss_canonicalize_name on that very name),
`security-layer` (the RFC 4752 layer octets the server offered and nbxmpp's reply, recorded
at gss_unwrap/gss_wrap; not in the contract), `sasl`, `bound`, `done`, `error`.

What nbxmpp 4.2.2 does, and how the shim maps the contract onto it:
- Address: nbxmpp's "custom host" (--connect, STARTTLS), so it does no SRV lookup and no
  host-meta HTTP request.
- GSSAPI target: nbxmpp asks for the host-based name `xmpp@X`, where X is the text of a
  <hostname xmlns='urn:xmpp:domain-based-name:1'/> that is a *direct child of
  <stream:features/>* when there is one, else the domain. It does not look inside
  <mechanisms/>, and it never builds XEP-0233's `xmpp/H/D` name. `--principal-form xep0233`
  (the default) runs it as it is and the `principal` event shows what it used; `hostbased`
  and `domain` cannot be honoured (exit 69): it has no switch for either.
- `--authzid` cannot be honoured (exit 69): nbxmpp always sends its Kerberos initiator name
  (e.g. alice@REALM) as the RFC 4752 authorization identity.
- TLS: `required` is nbxmpp's START_TLS connection type (it refuses a server without
  STARTTLS), `off` its PLAIN type; `optional` cannot be honoured (exit 69): neither type
  means "STARTTLS when offered". `--tls-ca F`: nbxmpp has no CA setting, only a list of
  accepted certificates for an unknown issuer, compared with the server certificate itself;
  the shim gives it F, so this works when F is the server's own (self-signed) certificate,
  as the runner's {tls_ca} is.

Debian's nbxmpp, gi and gssapi modules import only under /usr/bin/python3.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_INVALID, EXIT_USAGE, EXIT_CANNOT = 0, 1, 2, 64, 69
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_DBN = "urn:xmpp:domain-based-name:1"
SERVER_OPTIONS = ("--bind", "--hostname", "--tls-cert", "--tls-key")
VALUE_OPTIONS = ("--connect", "--domain", "--jid", "--tls", "--tls-ca", "--authzid",
                 "--principal-form", "--timeout-ms")


def emit(event: str, **fields: Any) -> None:
    """Print one contract event as a JSON line, flushed."""
    sys.stdout.write(json.dumps({"event": event, **fields}, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def say(text: str) -> None:
    """One line on stderr."""
    print(f"nbxmpp-shim: {text}", file=sys.stderr, flush=True)


class UsageError(Exception):
    """Exit 64 (usage), 69 (recognised, cannot honour) or 2 (invalid value), one line."""

    def __init__(self, reason: str, status: int = EXIT_USAGE) -> None:
        super().__init__(reason)
        self.status = status


class Options:
    """The command line after validation."""

    def __init__(self, argv: list[str]) -> None:
        values: dict[str, str] = {}
        i = 0
        while i < len(argv):
            name = argv[i]
            if name in SERVER_OPTIONS:
                raise UsageError(f"{name}: a server option; this candidate is a client",
                                 EXIT_CANNOT)
            if name not in VALUE_OPTIONS:
                raise UsageError(f"unknown option '{name}'")
            if i + 1 >= len(argv):
                raise UsageError(f"{name} needs a value")
            values[name] = argv[i + 1]
            i += 2
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
        local, at, jid_domain = values["--jid"].partition("@")
        if not at or not local or not jid_domain or "/" in jid_domain:
            raise UsageError(f"--jid '{values['--jid']}': expected a bare JID local@domain",
                             EXIT_INVALID)
        self.username = local
        self.tls = values.get("--tls", "required")
        if self.tls not in ("required", "optional", "off"):
            raise UsageError(f"--tls '{self.tls}': expected required, optional or off",
                             EXIT_INVALID)
        if self.tls == "optional":
            raise UsageError("--tls optional: cannot be honoured: nbxmpp's connection types "
                             "are STARTTLS-or-fail and never-TLS", EXIT_CANNOT)
        self.tls_ca = values.get("--tls-ca")
        if self.tls_ca is not None and not os.access(self.tls_ca, os.R_OK):
            raise UsageError(f"--tls-ca '{self.tls_ca}': not a readable file", EXIT_INVALID)
        if "--authzid" in values:
            raise UsageError("--authzid: cannot be honoured: nbxmpp 4.2.2 always sends its "
                             "Kerberos initiator name as the RFC 4752 authorization identity",
                             EXIT_CANNOT)
        self.form = values.get("--principal-form", "xep0233")
        if self.form not in ("xep0233", "hostbased", "domain"):
            raise UsageError(f"--principal-form '{self.form}': expected xep0233, hostbased "
                             f"or domain", EXIT_INVALID)
        if self.form != "xep0233":
            raise UsageError(f"--principal-form {self.form}: cannot be honoured: nbxmpp "
                             f"4.2.2 has no setting for the GSSAPI service name",
                             EXIT_CANNOT)
        text = values.get("--timeout-ms", "10000")
        if not text.isdigit() or int(text) < 1:
            raise UsageError(f"--timeout-ms '{text}': expected a number >= 1", EXIT_INVALID)
        self.timeout_ms = int(text)


class RecordingGssapi:
    """Stands in for the gssapi module inside nbxmpp.sasl: everything is the real
    python3-gssapi, but the first Name and SecurityContext calls are reported as the
    `principal` event (the name string and name type, the requested flags)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.fields: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def Name(self, base: Any = None, name_type: Any = None, *args: Any, **kw: Any) -> Any:  # noqa: N802
        text = base.decode() if isinstance(base, bytes) else str(base)
        kind = {self._real.NameType.hostbased_service: "hostbased_service",
                self._real.NameType.kerberos_principal: "kerberos_principal"}.get(
                    name_type, str(name_type))
        self.fields = {"target": text,
                       "form": "hostbased" if kind == "hostbased_service" else "other",
                       "name_type": kind}
        name = self._real.Name(base, name_type, *args, **kw)
        try:
            self.fields["krb5_name"] = str(name.canonicalize(self._real.MechType.kerberos))
        except Exception:  # any failure: the field is left out, never guessed
            pass
        return name

    def SecurityContext(self, *args: Any, **kw: Any) -> Any:  # noqa: N802
        flags = kw.get("flags")
        if self.fields:
            if flags is not None:
                names = sorted(f.name for f in self._real.RequirementFlag
                               if int(flags) & int(f))
                self.fields["flags"] = names
            emit("principal", **self.fields)
            self.fields = {}
        return RecordingContext(self._real.SecurityContext(*args, **kw))


class RecordingContext:
    """A real gssapi.SecurityContext that also reports the RFC 4752 security layer
    negotiation as one `security-layer` event: what the server's wrapped challenge offered
    (as unwrapped by GSS-API) and the plaintext nbxmpp wraps as its reply."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._offer: bytes | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def unwrap(self, message: bytes) -> Any:
        result = self._real.unwrap(message)
        self._offer = bytes(result.message)
        return result

    def wrap(self, message: bytes, encrypt: bool) -> Any:
        fields: dict[str, Any] = {}
        if self._offer is not None and len(self._offer) >= 4:
            fields["offered"] = {"layers": self._offer[0],
                                 "max_size": int.from_bytes(self._offer[1:4], "big"),
                                 "extra_octets": len(self._offer) - 4}
        if len(message) >= 4:
            fields["reply"] = {"layer": message[0],
                               "max_size": int.from_bytes(message[1:4], "big"),
                               "authzid": message[4:].decode("utf-8", "replace") or None,
                               "confidential": bool(encrypt)}
        emit("security-layer", **fields)
        return self._real.wrap(message, encrypt)


def tls_fields(version: Any) -> dict[str, str]:
    """The `tls` event's version from a Gio.TlsProtocolVersion ("TLSv1.3"); nothing when
    nbxmpp does not know it."""
    name = getattr(version, "value_name", "") or ""
    known = {"G_TLS_PROTOCOL_VERSION_TLS_1_0": "TLSv1", "G_TLS_PROTOCOL_VERSION_TLS_1_1":
             "TLSv1.1", "G_TLS_PROTOCOL_VERSION_TLS_1_2": "TLSv1.2",
             "G_TLS_PROTOCOL_VERSION_TLS_1_3": "TLSv1.3"}
    return {"version": known[name]} if name in known else {}


def run(opts: Options) -> int:
    """One login on a GLib main loop; returns the exit status."""
    import gssapi
    import nbxmpp.sasl
    from gi.repository import Gio, GLib
    from nbxmpp.client import Client
    from nbxmpp.const import ConnectionProtocol, ConnectionType

    if not nbxmpp.sasl.GSSAPI_AVAILABLE:
        reason = "nbxmpp found no usable gssapi module"
        say(reason)
        emit("error", reason=reason)
        return EXIT_FAIL
    nbxmpp.sasl.gssapi = RecordingGssapi(gssapi)

    loop = GLib.MainLoop()
    result: dict[str, Any] = {"status": None, "tls": False}

    def finish(status: int, reason: str | None = None) -> None:
        if result["status"] is not None:
            return
        result["status"] = status
        if reason is not None:
            say(reason)
            emit("error", reason=reason)
        # Let the stream close go out before the loop stops (bounded).
        GLib.timeout_add(300, lambda: (loop.quit(), False)[1])

    client = Client()
    client.set_domain(opts.domain)
    client.set_username(opts.username)
    client.set_mechs({"GSSAPI"})
    con_type = ConnectionType.START_TLS if opts.tls == "required" else ConnectionType.PLAIN
    shown = f"[{opts.host}]" if ":" in opts.host else opts.host
    client.set_custom_host(f"{shown}:{opts.port}", ConnectionProtocol.TCP, con_type)
    if opts.tls_ca is not None:
        client.set_accepted_certificates([Gio.TlsCertificate.new_from_file(opts.tls_ca)])

    sasl = client._sasl  # nbxmpp's SASL object: wrapped to observe, nothing changed
    real_start, real_success, real_failure = sasl.start_auth, sasl._on_success, sasl._on_failure

    def start_auth(features: Any) -> None:
        if client.is_stream_secure and not result["tls"]:
            result["tls"] = True
            emit("tls", **tls_fields(client.tls_version))
        mechanisms = features.getTag("mechanisms", namespace=NS_SASL)
        names = [] if mechanisms is None else [
            m.getData() for m in mechanisms.getTags("mechanism")]
        inside = None if mechanisms is None else mechanisms.getTag("hostname",
                                                                   namespace=NS_DBN)
        emit("features", mechanisms=names,
             hostname=None if inside is None else inside.getData(),
             hostname_read_by_nbxmpp=features.get_domain_based_name())
        real_start(features)

    def on_success(stanza: Any) -> None:
        emit("sasl", outcome="success")
        real_success(stanza)

    def on_failure(stanza: Any) -> None:
        condition = next((c.getName() for c in stanza.getChildren()
                          if c.getName() != "text"), None)
        emit("sasl", outcome="failure", condition=condition)
        real_failure(stanza)

    sasl.start_auth, sasl._on_success, sasl._on_failure = start_auth, on_success, on_failure

    def on_connected(_client: Any, _signal: str) -> None:
        emit("bound", jid=str(client.get_bound_jid()))
        emit("done")
        finish(EXIT_OK)
        client.disconnect()

    def on_gone(_client: Any, signal_name: str) -> None:
        if result["status"] is None:
            error = client.get_error()
            finish(EXIT_FAIL, f"{signal_name} before resource binding: {error}")

    client.subscribe("connected", on_connected)
    client.subscribe("disconnected", on_gone)
    client.subscribe("connection-failed", on_gone)

    def on_timeout() -> bool:
        finish(EXIT_FAIL, f"timeout after {opts.timeout_ms} ms")
        client.disconnect(immediate=True)
        return False

    def on_signal() -> bool:
        finish(EXIT_FAIL, "terminated by a signal")
        client.disconnect(immediate=True)
        return False

    GLib.timeout_add(opts.timeout_ms, on_timeout)
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, on_signal)
    client.connect()
    loop.run()
    assert result["status"] is not None
    return result["status"]


def version() -> int:
    """The Debian package versions (dpkg-query), one line."""
    import subprocess
    names = ["python3-nbxmpp", "python3-gssapi"]
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *names],
                          capture_output=True, text=True, timeout=10)
    found = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    print(", ".join(f"{n} {found.get(n, '(not installed)')}" for n in names))
    return EXIT_OK if proc.returncode == 0 else EXIT_FAIL


USAGE = __doc__.split("\n\n", 2)[1] + "\n"


def main(argv: list[str]) -> int:
    """Dispatch the subcommand; returns the exit status."""
    if len(argv) < 2:
        sys.stderr.write("usage:\n" + USAGE)
        return EXIT_USAGE
    if argv[1] == "--help":
        sys.stdout.write("usage:\n" + USAGE)
        return EXIT_OK
    if argv[1] == "--version":
        return version()
    if argv[1] != "xmpp-client":
        say(f"unknown command '{argv[1]}' (this candidate plays xmpp-client)")
        return EXIT_USAGE
    try:
        opts = Options(argv[2:])
    except UsageError as e:
        say(str(e))
        return e.status
    logging.basicConfig(level=logging.DEBUG if os.environ.get("GSSCONFORM_DEBUG") else
                        logging.INFO, stream=sys.stderr,
                        format="nbxmpp: %(levelname)s %(name)s: %(message)s")
    return run(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
