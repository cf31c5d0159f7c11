/*
 * The command line of gsspeer xmpp-client (docs/peer.md, "xmpp-client"): parsing, the usage
 * text, and the checks of the values that go into the stream and the principal.
 *
 * Ownership: struct xc_options borrows its strings from ARGV (the host from static storage).
 */
#ifndef TOOLS_XMPP_CLIENT_OPTIONS_H
#define TOOLS_XMPP_CLIENT_OPTIONS_H

#include "tools/tls.h"
#include "tools/xmpp-client-faults.h"

#include <stdbool.h>

enum form_opt { FORM_XEP0233, FORM_HOSTBASED, FORM_DOMAIN };

struct xc_options {
    const char *host;
    unsigned short port;
    const char *domain;
    const char *jid;
    enum tls_mode tls;
    const char *tls_ca;
    const char *authzid;
    enum form_opt form;
    const char *service_principal; /* --service-principal: exactly this name, overrides form */
    const char *transcript;
    long timeout_ms;
    bool faults[XC_FAULT_COUNT];
    unsigned fault_count;
};

/* Parse ARGV (ARGV[0] is the subcommand) into *O. Returns 0 to go on; -1 when the run is over
 * successfully (--help, --list-faults printed); else the exit status, after one line on
 * stderr (64 usage, 2 invalid value). */
int xc_options_parse(int argc, char **argv, struct xc_options *o);

/* Check what goes into the stream header and the principal: --domain a host name
 * (xep0233.h), --jid a bare JID of that domain, --tls-ca readable, --authzid without XML
 * markup. False after one line on stderr. */
bool xc_options_check(const struct xc_options *o);

#endif
