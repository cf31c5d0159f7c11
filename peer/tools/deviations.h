/*
 * Planted deviations: `gsspeer --deviate NAME` turns on one plausible implementation bug in
 * gsspeer's own behaviour, so that the reference peer becomes a non-conformant candidate and
 * the catalogue can be shown to catch it (mutation testing, docs/mutation.md). Faults
 * (tools/faults.h) test the other side; deviations make this side the one under test.
 *
 * One table names every deviation, its roles, a one-line meaning and the real implementation
 * it imitates where there is one. Each switch is a member of struct zmtp_deviations
 * (zmtp/mechanism.h), consulted at the few points that need it (the mechanism, the session's
 * greeting and close, the role driver's options); the normal code paths run unchanged when none
 * is set.
 *
 * Ownership: everything here is static data or plain values; nothing is allocated.
 */
#ifndef TOOLS_DEVIATIONS_H
#define TOOLS_DEVIATIONS_H

#include "xmpp/deviations.h"
#include "zmtp/mechanism.h"

#include <stdbool.h>
#include <stddef.h>

enum {
    DEVIATION_ROLE_CLIENT = 1,
    DEVIATION_ROLE_SERVER = 2,
    DEVIATION_ROLE_BOTH = 3,
};

/* One table entry (static data). */
struct deviation_spec {
    const char *name;
    const char *protocol; /* "zmtp" (zmtp-server / zmtp-client) or "xmpp" (xmpp-server /
                             xmpp-client) */
    unsigned roles;       /* DEVIATION_ROLE_* bits */
    size_t member;        /* offsetof the bool in struct zmtp_deviations ("zmtp") or in
                             struct xmpp_deviations ("xmpp") */
    const char *summary;  /* one line: what gsspeer then does wrong */
    const char *imitates; /* the real implementation that behaves so, or "" */
};

/* The table, terminated by an entry with a NULL name. */
extern const struct deviation_spec deviation_table[];

/* The entry called NAME, or NULL. */
const struct deviation_spec *deviation_find(const char *name);

/* "client", "server" or "both". */
const char *deviation_roles_name(unsigned roles);

/*
 * Take every `--deviate NAME` (also `--deviate=NAME`) out of ARGV, shifting the rest down and
 * lowering *ARGC, and set the named switches in *DEV, a struct zmtp_deviations or struct
 * xmpp_deviations of DEV_SIZE octets (cleared first) as PROTOCOL ("zmtp", "xmpp") says. SERVER
 * says the role. An unknown name, one of the other protocol or one not offered in the role is a
 * usage error: the reason and the list of names go to stderr and 64 is returned; otherwise -1.
 */
int deviations_take_options(const char *protocol, void *dev, size_t dev_size, int *argc,
                            char **argv, bool server);

/* True when any switch of DEV (a struct of PROTOCOL, as above) is set. */
bool deviations_any(const char *protocol, const void *dev);

/* `gsspeer deviations [--json]`: print the table. */
int cmd_deviations(int argc, char **argv);

#endif
