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
    /* the server role (tools/xmpp-server.c, sasl.c as acceptor) */
    bool hostname_before_tls;      /* pre-TLS features carry <mechanisms/> with <hostname/> */
    bool no_hostname;              /* no <hostname/> at all */
    bool hostname_misplaced;       /* <hostname/> a direct child of <stream:features/> */
    bool sasl_before_tls;          /* TLS required, yet <mechanisms/> and <auth/> before it */
    bool hostbased_acceptor;       /* acceptor credential for xmpp@<hostname> only */
    bool lenient_base64;           /* payload characters outside the alphabet skipped, missing
                                      padding and stray pad bits taken */
    bool no_empty_challenge;       /* sasl.c: a missing initial response goes to
                                      accept_sec_context instead of an empty challenge */
    bool layer_maxsize_with_none;  /* sasl.c: layer message 01 ffffff */
    bool accept_layer_no_bit;      /* sasl.c: a layer reply choosing no layer (00) is taken */
    bool accept_maxsize_with_none; /* sasl.c: "none" with a non-zero max size is taken */
    bool undefined_condition;      /* every <failure/> carries <undefined-condition/> */
    bool admit_foreign_authzid;    /* any authzid is authorized */
    bool refuse_empty_element;     /* an empty <response/> is refused; only "=" is taken */
    bool success_with_data;        /* <success/> carries data */
    bool no_stream_restart;        /* the stream is not restarted after <success/> */
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
