/*
 * A GSS call table (util/gssops.h) that forwards every call to the MIT library and keeps a
 * copy of the plaintexts around wrap and unwrap, so a driver can show what a sans-I/O engine
 * exchanged inside its wrap tokens (the SASL GSSAPI layer messages) without the engine
 * exposing them. It can also take GSS_C_INTEG_FLAG and GSS_C_CONF_FLAG off every
 * init_sec_context request (a fault: a context without integrity).
 *
 * The gssops signatures carry no user data, so there is one tap per process.
 *
 * Ownership: static state only; gsstap_ops returns a table valid for the process's life.
 */
#ifndef TOOLS_GSS_TAP_H
#define TOOLS_GSS_TAP_H

#include "util/gssops.h"

#include <stdbool.h>
#include <stddef.h>

enum gsstap_side {
    GSSTAP_WRAPPED,   /* the last plaintext given to wrap */
    GSSTAP_UNWRAPPED, /* the last plaintext unwrap returned */
};

enum { GSSTAP_MAX = 1024 }; /* longer plaintexts are kept cut to this */

/* The tapping table (forwarding to gssops_mit). */
const struct gssops *gsstap_ops(void);

/* Request contexts without integrity and confidentiality from now on (ON) or not. */
void gsstap_strip_integrity(bool on);

/* Copy the plaintext of SIDE seen since the last take into BUF (GSSTAP_MAX octets) and set
 * *LEN; false (nothing copied) when there was none since. */
bool gsstap_take(enum gsstap_side side, unsigned char *buf, size_t *len);

/* The conf_state of the last successful unwrap: 1 (confidentiality), 0 (integrity only), -1
 * (no unwrap yet, or the library left it unset). */
int gsstap_unwrap_conf(void);

#endif
