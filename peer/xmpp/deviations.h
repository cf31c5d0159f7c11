/*
 * The switches of gsspeer's planted XMPP deviations (`gsspeer xmpp-server|xmpp-client --deviate
 * NAME`, docs/mutation.md): each makes gsspeer's own XMPP role behave like a plausible,
 * non-conformant implementation so that the xep0233 catalogue can be shown to catch it. The
 * table that names them, with their roles and the implementation each imitates, is
 * peer/tools/deviations.c; this struct holds only the switches, so that the engines (sasl.c,
 * features.c) and the drivers (tools/xmpp-server.c, tools/xmpp-client.c) can consult them
 * without depending on the tools.
 *
 * Ownership: plain values. A NULL pointer to this struct, or all members false, is a conformant
 * peer; the normal code paths never depend on a member being set.
 */
#ifndef XMPP_DEVIATIONS_H
#define XMPP_DEVIATIONS_H

#include <stdbool.h>

struct xmpp_deviations {
    /* the server role (tools/xmpp-server.c, features.c, sasl.c as acceptor) */
    bool hostname_before_tls;
    /* the client role (tools/xmpp-client.c, sasl.c as initiator) */
    bool two_component_name;    /* xmpp/<domain>@REALM although <hostname/> was advertised */
    bool swapped_components;    /* xmpp/<domain>/<hostname>@REALM (the old drafts' order) */
    bool realm_from_hostname;   /* REALM = the <hostname/>'s parent domain, upper-cased */
    bool port_in_name;          /* xmpp/<hostname>:<port>/<domain>@REALM (the SSPI form) */
    bool pre_tls_hostname;      /* the <hostname/> of the features before STARTTLS is used */
    bool login_without_tls;     /* --tls required, no STARTTLS offered: logs in anyway */
    bool skip_starttls;         /* GSSAPI offered before TLS: authenticates without STARTTLS */
    bool no_hostbased_fallback; /* no usable <hostname/>: gives up instead of xmpp@<domain> */
    bool hang_on_bad_base64;    /* a challenge that is not base64 is ignored: no answer, no close */
    bool layer_octet_zero;      /* the layer reply's octet is 00 (no layer chosen) */
    bool maxsize_echoed;        /* a "none" offer with a max size is taken, the max size echoed */
    bool answer_bad_layer;      /* a malformed layer message is answered with 01 000000 */
    bool authzid_initiator;     /* authzid = the Kerberos initiator name, always */
};

#endif
