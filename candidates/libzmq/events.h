/*
 * The shim contract's events: one JSON object per line on stdout, flushed at once, written
 * whole even when the ZAP thread and the main thread print at the same time.
 *
 * Ownership: every function only reads its arguments; nothing is kept or allocated.
 */
#ifndef SHIM_EVENTS_H
#define SHIM_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

/* One part of a received message. */
struct event_part {
    const unsigned char *data;
    size_t len;
};

/* {"event":"listening","endpoint":ENDPOINT} */
void event_listening(const char *endpoint);
/* {"event":"delivered","parts":[{"len","sha256","head"}...]} for N parts. */
void event_delivered(const struct event_part *parts, size_t n);
/* {"event":"sent","count":COUNT} */
void event_sent(unsigned long count);
/* {"event":"authorized","principal":PRINCIPAL,"allowed":ALLOWED} */
void event_authorized(const char *principal, bool allowed);
/* {"event":"done","sent":S,"received":R,"verified":V} */
void event_done(unsigned long sent, unsigned long received, unsigned long verified);
/* {"event":"error","reason":REASON}, and "libzmq-shim: REASON" on stderr. */
void event_error(const char *reason);

#endif
