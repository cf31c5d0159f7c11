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
    bool two_component_name;
};

#endif
