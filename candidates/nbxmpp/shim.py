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

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
from xmppshim import (EXIT_FAIL, EXIT_OK, NS_DBN, NS_SASL, STOP_SIGNALS,  # noqa: E402
                      ClientOptions, emit, main as shim_main, say, set_name, usage_of)

REFUSALS = {
    "--tls": lambda v: ("nbxmpp's connection types are STARTTLS-or-fail and never-TLS"
                        if v == "optional" else None),
    "--authzid": lambda _v: ("nbxmpp 4.2.2 always sends its Kerberos initiator name as the "
                             "RFC 4752 authorization identity"),
    "--principal-form": lambda v: ("nbxmpp 4.2.2 has no setting for the GSSAPI service name"
                                   if v != "xep0233" else None),
}


def Options(argv: list[str]) -> ClientOptions:  # noqa: N802
    """The command line after validation (the contract's client options, nbxmpp's refusals)."""
    return ClientOptions(argv, REFUSALS)


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


def run(opts: ClientOptions) -> int:
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
    for sig in STOP_SIGNALS:
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, on_signal)
    client.connect()
    loop.run()
    assert result["status"] is not None
    return result["status"]


def main(argv: list[str]) -> int:
    """Dispatch the subcommand; returns the exit status."""
    set_name("nbxmpp-shim")
    return shim_main(argv, role="xmpp-client", usage=usage_of(__doc__),
                     packages=["python3-nbxmpp", "python3-gssapi"], parse=Options, run=run,
                     log_prefix="nbxmpp")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
