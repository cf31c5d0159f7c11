#!/usr/bin/python3
"""A SASL GSSAPI client (RFC 4752) that speaks gsasl's line protocol, for tests only.

candidates/xmppfront runs it in place of `gsasl --client` so that a test can ask a server
candidate for a service name neither SASL library can build (the XEP-0233 three-component
name). Real MIT GSS-API through python3-gssapi (imports only under /usr/bin/python3):

    gss-line-client.py --target NAME [--hostname=IGNORED]

NAME with a '/' is a Kerberos principal name (xmpp/host/domain), otherwise a host-based
service name (xmpp@host). It chooses the "none" layer with max size 0 and no authzid. Exit 0
when the exchange completed and one more line (the data with the outcome) came; 1 otherwise.
"""

import argparse
import base64
import sys

import gssapi


def read_line() -> bytes:
    line = sys.stdin.readline()
    if not line:
        sys.exit("gss-line-client: stdin ended during the exchange")
    return base64.b64decode(line.strip(), validate=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--hostname")  # appended by the front; the target is given explicitly
    a = p.parse_args()
    kind = gssapi.NameType.kerberos_principal if "/" in a.target else \
        gssapi.NameType.hostbased_service
    ctx = gssapi.SecurityContext(name=gssapi.Name(a.target, kind), usage="initiate",
                                 flags=gssapi.RequirementFlag.mutual_authentication)
    print("GSSAPI", flush=True)
    try:
        token = ctx.step()
        print(base64.b64encode(token or b"").decode(), flush=True)
        while not ctx.complete:
            token = ctx.step(read_line())
            print(base64.b64encode(token or b"").decode(), flush=True)
        offer = ctx.unwrap(read_line()).message
        print(f"gss-line-client: layer message {offer.hex()}", file=sys.stderr)
        reply = ctx.wrap(b"\x01\x00\x00\x00", False).message
        print(base64.b64encode(reply).decode(), flush=True)
    except gssapi.exceptions.GSSError as err:
        sys.exit(f"gss-line-client: {err}")
    read_line()
    return 0


if __name__ == "__main__":
    sys.exit(main())
