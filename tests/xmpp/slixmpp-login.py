#!/usr/bin/python3
"""One XMPP login with the real slixmpp client, for tests/xmpp/server-t.py (not a test itself).

    slixmpp-login.py --port P --jid alice@D [--tls required|optional|off] [--ca F]
                     [--target NAME --name-type krb5|hostbased | --stock] [--authzid J]
                     [--timeout S]

Without --stock, slixmpp's GSSAPI mechanism is replaced by one on python3-gssapi that asks
for exactly --target (slixmpp's own, on python3-kerberos, can only name a host-based service
xmpp@<service-name>, never the XEP-0233 form xmpp/H/D@REALM). The RFC 4752 exchange is the
usual one: context tokens, an empty response to the AP-REP, then the layer reply "none", max
size 0, and --authzid if given. With --stock slixmpp's own mechanism runs with service-name D.

Prints JSON lines on stdout (sasl, bound, done, error) and exits 0 only after the session
started (SASL success, restart, bind). Runs under /usr/bin/python3 (Debian's slixmpp and
gssapi); Kerberos comes from the environment (KRB5_CONFIG, KRB5_CLIENT_KTNAME, KRB5CCNAME).
"""

import argparse
import asyncio
import json
import logging
import sys


def emit(**event):
    print(json.dumps(event), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--jid", required=True)
    ap.add_argument("--tls", choices=("required", "optional", "off"), default="required")
    ap.add_argument("--ca")
    ap.add_argument("--target")
    ap.add_argument("--name-type", choices=("krb5", "hostbased"), default="krb5")
    ap.add_argument("--stock", action="store_true")
    ap.add_argument("--authzid")
    ap.add_argument("--timeout", type=float, default=8.0)
    args = ap.parse_args()

    logging.basicConfig(level=logging.CRITICAL)
    import slixmpp
    from slixmpp.util.sasl import client as sasl_client

    if not args.stock:
        import gssapi

        class TargetGSSAPI(sasl_client.Mech):
            name = "GSSAPI"
            required_credentials = {"username"}
            optional_credentials = set()
            security = set()

            def setup(self, name):
                kind = (gssapi.NameType.kerberos_principal if args.name_type == "krb5"
                        else gssapi.NameType.hostbased_service)
                target = gssapi.Name(args.target, kind)
                flags = [gssapi.RequirementFlag.mutual_authentication,
                         gssapi.RequirementFlag.integrity]
                self.ctx = gssapi.SecurityContext(name=target, usage="initiate", flags=flags)

            def process(self, challenge=b""):
                if not self.ctx.complete:
                    token = self.ctx.step(challenge or None)
                    return token or b""
                if not challenge:
                    return b""
                self.ctx.unwrap(challenge)  # the server's layers and max size
                reply = b"\x01\x00\x00\x00" + (args.authzid or "").encode()
                return self.ctx.wrap(reply, False).message

        sasl_client.MECHANISMS["GSSAPI"] = TargetGSSAPI
        sasl_client.MECH_SEC_SCORES["GSSAPI"] = 100

    xmpp = slixmpp.ClientXMPP(args.jid, "")
    xmpp.credentials["service-name"] = args.jid.split("@", 1)[1]
    if args.stock and args.authzid:
        xmpp.credentials["username"] = args.authzid
    if args.ca:
        xmpp.ca_certs = args.ca
    xmpp.register_plugin("feature_mechanisms")
    outcome = {"rc": 1}
    done = asyncio.get_event_loop().create_future()

    def finish(rc):
        outcome["rc"] = rc
        if not done.done():
            done.set_result(rc)

    def on_auth(_):
        emit(event="sasl", outcome="success")

    def on_failed(stanza):
        cond = stanza["condition"] if hasattr(stanza, "__getitem__") else None
        emit(event="sasl", outcome="failure", condition=cond)
        finish(1)

    def on_session(_):
        emit(event="bound", jid=str(xmpp.boundjid))
        emit(event="done")
        finish(0)

    def on_disconnected(reason):
        if not done.done():
            emit(event="error", reason="disconnected: %s" % (reason,))
        finish(outcome["rc"])

    xmpp.add_event_handler("auth_success", on_auth)
    xmpp.add_event_handler("failed_auth", on_failed)
    xmpp.add_event_handler("session_start", on_session)
    xmpp.add_event_handler("disconnected", on_disconnected)
    xmpp.add_event_handler("connection_failed",
                           lambda e: (emit(event="error", reason="connect: %s" % (e,)), finish(1)))
    xmpp.connect(("127.0.0.1", args.port), force_starttls=args.tls == "required",
                 disable_starttls=args.tls == "off")
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(done, args.timeout))
    except asyncio.TimeoutError:
        emit(event="error", reason="no login within %.1f s" % args.timeout)
        outcome["rc"] = 1
    xmpp.disconnect(wait=0.2)
    try:
        loop.run_until_complete(asyncio.wait_for(xmpp.disconnected, 1.0))
    except (asyncio.TimeoutError, Exception):
        pass
    return outcome["rc"]


if __name__ == "__main__":
    sys.exit(main())
