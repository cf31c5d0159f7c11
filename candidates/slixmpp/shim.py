#!/usr/bin/python3
"""slixmpp-shim: slixmpp (Debian bookworm python3-slixmpp, SASL GSSAPI through
python3-kerberos) as an XMPP client candidate of gssconform.

    shim.py xmpp-client --connect 127.0.0.1:PORT --domain D --jid alice@D
                        [--tls required|optional|off] [--tls-ca F]
                        [--principal-form xep0233|hostbased] [--timeout-ms MS]
    shim.py --version

It follows the XMPP shim contract of docs/candidates.md: one login, then exit 0 after
<success/>, the stream restart and resource binding. Events: `tls`, `features` (read from the
<stream:features/> slixmpp received), `principal` (the argument slixmpp itself passes to
kerberos.authGSSClientInit, recorded by a wrapper around that function: the name is never
rebuilt here; `krb5_name` is the principal MIT krb5 makes of it, by gss_canonicalize_name in
this process), `sasl`, `bound`, `done`, `error`.

What slixmpp 1.8.3 does, and how the shim maps the contract onto it:
- No DNS: the shim answers slixmpp's own DNS step (get_dns_records) with the --connect
  address for the name D, as an A record of D pointing at the server would. slixmpp then
  takes D as its "service name" (it is the SRV target when SRV is used).
- GSSAPI target: slixmpp asks for the host-based name `xmpp@<service name>`; it never reads
  XEP-0233's <hostname/>. `--principal-form hostbased` is therefore what it always does;
  `xep0233` (the contract's default) runs it as it is and the `principal` event shows the
  form it used; `domain` cannot be honoured (exit 69).
- `--authzid`: cannot be honoured (exit 69): slixmpp passes an authzid credential to
  authGSSClientInit as the *service name*, and always sends the JID's localpart as the
  RFC 4752 authorization identity.
- TLS: `--tls required` is slixmpp's connect(force_starttls=True), `optional`
  force_starttls=False, `off` disable_starttls=True. The shim adds no check of its own:
  slixmpp 1.8.3 stores force_starttls but never reads it, so with `required` it still logs
  in over a server that offers no STARTTLS (the shim says so on stderr).

Debian's slixmpp and kerberos modules import only under /usr/bin/python3.
"""

from __future__ import annotations

import asyncio
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
from xmppshim import (EXIT_FAIL, EXIT_OK, NS_DBN, NS_SASL, NS_TLS,  # noqa: E402
                      STOP_SIGNALS, ClientOptions, emit, main as shim_main, say, set_name,
                      usage_of)

REFUSALS = {
    "--authzid": lambda _v: ("slixmpp 1.8.3 passes an authzid credential to "
                             "kerberos.authGSSClientInit as the GSSAPI service name, and "
                             "always sends the JID's localpart as the RFC 4752 "
                             "authorization identity"),
    "--principal-form": lambda v: ("slixmpp 1.8.3 always asks for the host-based name "
                                   "xmpp@<server name>" if v == "domain" else None),
}


def Options(argv: list[str]) -> ClientOptions:  # noqa: N802
    """The command line after validation (the contract's client options, slixmpp's
    refusals)."""
    return ClientOptions(argv, REFUSALS)


class Outcome:
    """The run's result, set once."""

    def __init__(self) -> None:
        self.status: int | None = None

    def finish(self, status: int, reason: str | None = None) -> None:
        """Record STATUS (the first call wins); a failure also prints its reason."""
        if self.status is not None:
            return
        self.status = status
        if reason is not None:
            say(reason)
            emit("error", reason=reason)


def krb5_name(name: str) -> str | None:
    """The Kerberos principal MIT krb5 makes of the host-based NAME in this process
    (gss_canonicalize_name with the same KRB5_CONFIG: no DNS, [domain_realm] or the empty
    referral realm), or None when it cannot."""
    try:
        import gssapi
        host_based = gssapi.Name(name, gssapi.NameType.hostbased_service)
        return str(host_based.canonicalize(gssapi.MechType.kerberos))
    except Exception:  # any failure: the field is left out, never guessed
        return None


def features_event(xml: ET.Element) -> dict[str, Any]:
    """What a <stream:features/> element offers: its SASL mechanisms (None without a
    <mechanisms/> element), the XEP-0233 <hostname/> text inside <mechanisms/> (None when
    absent), and whether STARTTLS is offered."""
    mechanisms = xml.find(f"{{{NS_SASL}}}mechanisms")
    names = None if mechanisms is None else [
        (m.text or "") for m in mechanisms.findall(f"{{{NS_SASL}}}mechanism")]
    hostname = None if mechanisms is None else mechanisms.find(f"{{{NS_DBN}}}hostname")
    return {"mechanisms": names,
            "hostname": None if hostname is None else (hostname.text or ""),
            "starttls": xml.find(f"{{{NS_TLS}}}starttls") is not None}


def run(opts: ClientOptions) -> int:
    """One login; returns the exit status."""
    import kerberos
    from slixmpp.clientxmpp import ClientXMPP

    outcome = Outcome()
    state = {"tls": False, "principal": False}

    real_init = kerberos.authGSSClientInit

    def recording_init(service: str, *args: Any, **kwargs: Any) -> Any:
        form = "hostbased" if "@" in service and "/" not in service else "other"
        fields: dict[str, Any] = {"target": service, "form": form,
                                  "name_type": "hostbased_service"}
        canonical = krb5_name(service)
        if canonical is not None:
            fields["krb5_name"] = canonical
        emit("principal", **fields)
        state["principal"] = True
        return real_init(service, *args, **kwargs)

    kerberos.authGSSClientInit = recording_init

    class Client(ClientXMPP):
        async def get_dns_records(self, domain: str, port: int | None = None):
            # slixmpp's DNS step, answered locally: D has the --connect address.
            return [(domain, opts.host, opts.port)]

        async def _handle_stream_features(self, features):
            fields = features_event(features.xml)
            if fields["mechanisms"] is not None:
                emit("features", mechanisms=fields["mechanisms"], hostname=fields["hostname"])
            if opts.tls == "required" and not state["tls"] and not fields["starttls"]:
                # Not enforced here: slixmpp's own force_starttls decides (and lets it go).
                say("--tls required, and the server offered no STARTTLS: left to slixmpp")
            return await super()._handle_stream_features(features)

    xmpp = Client(opts.jid, "", sasl_mech="GSSAPI")
    if opts.tls_ca is not None:
        xmpp.ca_certs = Path(opts.tls_ca)

    def on_tls(_event: Any) -> None:
        # slixmpp fires tls_success before it stores the TLS transport: read it just after.
        state["tls"] = True

        def report() -> None:
            version = getattr(xmpp.socket, "version", None)
            emit("tls", **({"version": version()} if callable(version) else {}))

        xmpp.loop.call_soon(report)

    def on_success(_stanza: Any) -> None:
        emit("sasl", outcome="success")

    def on_failure(stanza: Any) -> None:
        emit("sasl", outcome="failure", condition=stanza["condition"] or None)
        outcome.finish(EXIT_FAIL, f"SASL failure: {stanza['condition']}")

    def on_bind(jid: Any) -> None:
        emit("bound", jid=str(jid))
        emit("done")
        outcome.finish(EXIT_OK)
        xmpp.disconnect()

    def on_no_auth(_event: Any) -> None:
        outcome.finish(EXIT_FAIL, "slixmpp found no usable SASL mechanism (GSSAPI needs the "
                                  "kerberos module and a GSSAPI offer)")

    def on_disconnected(_event: Any) -> None:
        if outcome.status is None:
            why = "" if state["principal"] else " before any GSSAPI step"
            outcome.finish(EXIT_FAIL, f"disconnected before resource binding{why}")

    def on_connection_failed(error: Any) -> None:
        outcome.finish(EXIT_FAIL, f"connection failed: {error}")
        xmpp.disconnect()

    def on_invalid_cert(error: Any) -> None:
        outcome.finish(EXIT_FAIL, f"TLS: the server certificate was refused: {error}")
        xmpp.disconnect()

    xmpp.add_event_handler("tls_success", on_tls)
    xmpp.add_event_handler("auth_success", on_success)
    xmpp.add_event_handler("failed_auth", on_failure)
    xmpp.add_event_handler("session_bind", on_bind)
    xmpp.add_event_handler("no_auth", on_no_auth)
    xmpp.add_event_handler("failed_all_auth", on_no_auth)
    xmpp.add_event_handler("disconnected", on_disconnected)
    xmpp.add_event_handler("connection_failed", on_connection_failed)
    xmpp.add_event_handler("ssl_invalid_chain", on_invalid_cert)

    loop = xmpp.loop
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, lambda: (outcome.finish(EXIT_FAIL, "terminated by a "
                                                              "signal"), xmpp.abort()))
    xmpp.connect((opts.domain, opts.port), force_starttls=opts.tls == "required",
                 disable_starttls=opts.tls == "off")

    async def wait() -> None:
        deadline = loop.time() + opts.timeout_ms / 1000
        while outcome.status is None and loop.time() < deadline:
            await asyncio.sleep(0.02)
        if outcome.status is None:
            outcome.finish(EXIT_FAIL, f"timeout after {opts.timeout_ms} ms")
        # Let the disconnect (stream close) go out, bounded.
        try:
            await asyncio.wait_for(xmpp.disconnected, 1.0)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            xmpp.abort()

    loop.run_until_complete(wait())
    assert outcome.status is not None
    return outcome.status


def main(argv: list[str]) -> int:
    """Dispatch the subcommand; returns the exit status."""
    set_name("slixmpp-shim")
    return shim_main(argv, role="xmpp-client", usage=usage_of(__doc__),
                     packages=["python3-slixmpp", "python3-kerberos"], parse=Options, run=run,
                     log_prefix="slixmpp")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
