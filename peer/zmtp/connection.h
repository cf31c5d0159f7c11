/*
 * The incoming side of one ZMTP connection, sans I/O: the bytes a driver received go in, the
 * peer's greeting and then whole frames come out, one item at a time. Both the session driver
 * (tools/session.c, which feeds the frames to the mechanism) and the fault observer
 * (tools/faults.c, which reports what the peer sent after a fault) read through it, so there is
 * one bytes-to-frames step.
 *
 * Ownership: the connection owns its input buffer (zmtp_connection_free); an item points into
 * that buffer and stays valid until the next zmtp_connection_consume, zmtp_connection_compact,
 * or input added. MECHANISM is borrowed for the connection's lifetime.
 */
#ifndef ZMTP_CONNECTION_H
#define ZMTP_CONNECTION_H

#include "util/builder.h"
#include "zmtp/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zmtp_connection {
    struct builder in; /* received bytes; those before in_off are consumed */
    size_t in_off;
    bool greeting_done;
    struct zmtp_greeting peer_greeting;
    const char *mechanism;   /* the peer's greeting must name it; NULL: any */
    uint64_t max_frame_size; /* 0: no limit */
    unsigned long frames_in; /* frames consumed */
};

enum zmtp_item_kind {
    ZMTP_ITEM_GREETING, /* bytes/len: the peer's 64 greeting octets; peer_greeting decoded */
    ZMTP_ITEM_FRAME,    /* frame: flags, size and body (into the buffer) */
};

struct zmtp_item {
    enum zmtp_item_kind kind;
    const unsigned char *bytes; /* what was looked at: the greeting, the whole frame, or on an
                                   error every byte not yet consumed */
    size_t len;
    struct zmtp_frame frame; /* ZMTP_ITEM_FRAME */
    size_t used;             /* bytes zmtp_connection_consume moves past */
};

/* Start with nothing received. MECHANISM (may be NULL) and MAX_FRAME_SIZE as in the struct. */
void zmtp_connection_init(struct zmtp_connection *c, const char *mechanism,
                          uint64_t max_frame_size);

/* Release the input buffer. */
void zmtp_connection_free(struct zmtp_connection *c);

/* Append LEN received bytes; false when out of memory. */
bool zmtp_connection_add(struct zmtp_connection *c, const void *data, size_t len);

/* Room for up to LEN bytes to receive into directly; commit what arrived with
 * zmtp_connection_commit(c, LEN, got). NULL when out of memory. */
unsigned char *zmtp_connection_reserve(struct zmtp_connection *c, size_t len);
void zmtp_connection_commit(struct zmtp_connection *c, size_t reserved, size_t got);

/* Bytes still missing to complete the item being received (the greeting, or the frame whose
 * header has arrived), so a driver can read it in one go; 0 when nothing is known to be
 * missing (no header yet, or the item is complete). */
size_t zmtp_connection_missing(const struct zmtp_connection *c);

/* Bytes received and not yet consumed. */
size_t zmtp_connection_pending(const struct zmtp_connection *c);

/*
 * The next item: the peer's greeting first, then frames. ZMTP_NEED_MORE when what is there is
 * not complete yet; ZMTP_OK with *ITEM; any other status is the peer's error (*ERR says what and
 * where, ITEM->bytes/len hold the unconsumed bytes, and for a greeting ITEM->kind says so).
 * Nothing is consumed: call zmtp_connection_consume to move on.
 */
enum zmtp_status zmtp_connection_next(struct zmtp_connection *c, struct zmtp_item *item,
                                      struct zmtp_error *err);

/* Move past ITEM (the last one zmtp_connection_next returned with ZMTP_OK). */
void zmtp_connection_consume(struct zmtp_connection *c, const struct zmtp_item *item);

/*
 * Move past ITEM (as zmtp_connection_consume) and hand the whole input buffer over with it, so
 * a large frame's body can be kept without a copy: possible only when ITEM is a frame that ends
 * exactly where the received bytes end. Returns the buffer (malloc'd; the caller frees it; the
 * frame's body and ITEM->bytes point into it) and leaves the connection with nothing pending;
 * NULL when not possible, and then nothing changed (consume ITEM as usual).
 */
unsigned char *zmtp_connection_take(struct zmtp_connection *c, const struct zmtp_item *item);

/* Drop consumed bytes once they are most of the buffer (items become invalid). */
void zmtp_connection_compact(struct zmtp_connection *c);

#endif
