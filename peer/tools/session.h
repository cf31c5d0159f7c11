/*
 * The driver of one ZMTP GSSAPI connection: owns the socket (non-blocking, poll, deadlines),
 * sends and reads the greeting, has the byte stream split into frames (zmtp/connection.h) for
 * the mechanism (zmtp/mechanism.h), writes the frames it produces, and records everything in
 * the transcript.
 *
 * Fault seam: struct zmtp_hooks sees our greeting bytes and every outgoing frame before it is
 * encoded, and may rewrite or drop them; a later fault catalogue plugs in there without
 * touching the engine.
 *
 * Ownership: the session owns the socket given to zmtp_session_open (closed by
 * zmtp_session_close) and its mechanism; it borrows the config (credential, names, transcript,
 * hooks) for its lifetime.
 */
#ifndef TOOLS_SESSION_H
#define TOOLS_SESSION_H

#include "tools/transcript.h"
#include "util/builder.h"
#include "zmtp/connection.h"
#include "zmtp/mechanism.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct zmtp_hooks {
    /* Our 64 greeting bytes in B before they are sent; may rewrite or truncate them. */
    void (*greeting)(void *arg, struct builder *b);
    /* Every outgoing frame before it is encoded; may change it; false drops it. */
    bool (*frame)(void *arg, struct zmtp_mech_frame *frame);
    /* Every received frame after the mechanism saw it: NOTE says what it was, ERR is NULL when
     * the mechanism accepted it, else the close reason. All pointers are borrowed. */
    void (*frame_in)(void *arg, uint8_t flags, const unsigned char *body, size_t len,
                     const struct zmtp_frame_note *note, const struct zmtp_error *err);
    void *arg;
};

/* A decision of the server's authorization policy. */
enum zmtp_authz {
    ZMTP_AUTHZ_ALLOW,
    ZMTP_AUTHZ_DENY,
    ZMTP_AUTHZ_PENDING, /* not yet: ask again with poll */
};

/*
 * The server's authorization policy, asked when the mechanism emits ZMTP_EVENT_AUTHORIZE.
 * start begins deciding about PRINCIPAL (borrowed for the call) and may answer at once; while
 * it says PENDING the session keeps servicing the connection (writing, reading into its buffer)
 * and calls poll on every round until a decision comes. Both must bound themselves in time.
 */
struct zmtp_authorizer {
    enum zmtp_authz (*start)(void *arg, const char *principal);
    enum zmtp_authz (*poll)(void *arg);
    void *arg;
};

struct zmtp_session_config {
    struct zmtp_mech_config mech;
    uint8_t as_server;              /* greeting byte 32 we send (the spec: 1 on the server) */
    uint64_t max_frame_size;        /* 0: no limit */
    struct transcript *transcript;  /* NULL: none */
    const struct zmtp_hooks *hooks; /* NULL: none */
    const struct zmtp_authorizer *authorizer; /* server; NULL admits every authenticated client */
    const volatile sig_atomic_t *stop;        /* NULL, or a flag (set by a signal handler) that ends
                                                 every wait with ZMTP_TIMEOUT "stopped" */
};

struct zmtp_session {
    int fd;
    struct zmtp_mech *mech;
    struct zmtp_session_config cfg;
    struct zmtp_connection conn; /* the incoming bytes: greeting, then frames */
    struct builder out;          /* bytes to write, from out_off */
    size_t out_off;
    bool peer_closed;
    bool peer_reset;    /* the close was a reset (ECONNRESET), not a FIN */
    bool stop_drained;  /* the stop flag was seen and the input already received parsed */
    bool authz_pending; /* the authorizer was started and has not decided yet */
    unsigned long frames_out;
};

/* Monotonic milliseconds (for deadlines). */
int64_t zmtp_now_ms(void);

/*
 * Take over the connected socket FD (made non-blocking here) and create the mechanism.
 * On failure FD is closed, *ERR says why, and S needs no close.
 */
enum zmtp_status zmtp_session_open(struct zmtp_session *s, int fd,
                                   const struct zmtp_session_config *cfg, struct zmtp_error *err);

/* Exchange greetings and run the mechanism's handshake until both READYs went through and our
 * output is written, or until DEADLINE (zmtp_now_ms() scale). */
enum zmtp_status zmtp_session_handshake(struct zmtp_session *s, int64_t deadline,
                                        struct zmtp_error *err);

/* Wait for the next event (see struct zmtp_event) until DEADLINE; on success *EV is the
 * caller's (zmtp_event_free). Reading continues to answer PINGs and writes pending output. */
enum zmtp_status zmtp_session_next_event(struct zmtp_session *s, struct zmtp_event *ev,
                                         int64_t deadline, struct zmtp_error *err);

/* Send one multipart message (parts borrowed) and write it out before DEADLINE. */
enum zmtp_status zmtp_session_send(struct zmtp_session *s, const struct zmtp_part *parts,
                                   size_t count, int64_t deadline, struct zmtp_error *err);

/* Queue one multipart message (parts borrowed) and write only once BATCH or more bytes wait,
 * then down to fewer than BATCH (before DEADLINE, reading meanwhile), so that a stream of small
 * messages leaves in few large writes; zmtp_session_flush writes the rest. Every frame still
 * goes through the hooks and the transcript one by one. BATCH 0 is zmtp_session_send. */
enum zmtp_status zmtp_session_send_batched(struct zmtp_session *s, const struct zmtp_part *parts,
                                           size_t count, size_t batch, int64_t deadline,
                                           struct zmtp_error *err);

/* Write everything queued before DEADLINE (reading meanwhile). */
enum zmtp_status zmtp_session_flush(struct zmtp_session *s, int64_t deadline,
                                    struct zmtp_error *err);

/* Send a subscription (SUB side) and write it out before DEADLINE. */
enum zmtp_status zmtp_session_subscribe(struct zmtp_session *s, enum zmtp_subscription_kind kind,
                                        const void *topic, size_t len, int64_t deadline,
                                        struct zmtp_error *err);

/* Wait until the peer closes the connection (everything it sends is still processed), or
 * DEADLINE: ZMTP_OK when it closed. */
enum zmtp_status zmtp_session_wait_close(struct zmtp_session *s, int64_t deadline,
                                         struct zmtp_error *err);

/* Answer the mechanism's pending authorization question (if any) through the authorizer.
 * With WAIT a PENDING decision is waited for (the authorizer bounds itself); without it the
 * question stays open (s->authz_pending) and the session's next I/O round looks again. Only
 * answers: frames already buffered are parsed by the session's own rounds. */
enum zmtp_status zmtp_session_authorize(struct zmtp_session *s, bool wait, struct zmtp_error *err);

/* ---- stepping, for a driver that polls many sessions itself (one event loop) ---- */

/* The poll events S wants now: POLLOUT while output is pending, POLLIN unless the peer closed
 * or more than OUT_LIMIT bytes wait to be written (back-pressure; 0: no limit). */
short zmtp_session_poll_events(const struct zmtp_session *s, size_t out_limit);

/* One non-blocking round on REVENTS (from poll, may be 0): write what is pending, read what is
 * there, parse it, look again at a pending authorization. ZMTP_OK after any progress or none;
 * ZMTP_CLOSED once the peer closed and nothing is left to write; any other status is the
 * connection's failure. *ERR is raw: zmtp_session_reason makes the close reason. */
enum zmtp_status zmtp_session_step(struct zmtp_session *s, short revents, struct zmtp_error *err);

/* Move the frames the mechanism queued (after zmtp_mech_send and friends) into the output. */
enum zmtp_status zmtp_session_queue_output(struct zmtp_session *s, struct zmtp_error *err);

/* The same, then one non-blocking write of the output; a large frame with nothing pending
 * before it goes to the socket from the mechanism's buffer (only what the socket does not take
 * is copied into the output). For a driver that writes at once anyway. */
enum zmtp_status zmtp_session_queue_and_write(struct zmtp_session *s, struct zmtp_error *err);

/* Turn a failure STATUS of S into its one-line close reason in *ERR, saying where the peer closed
 * (PHASE: "during the handshake", "while waiting for a message", ...); returns the status. */
enum zmtp_status zmtp_session_reason(struct zmtp_session *s, enum zmtp_status status,
                                     struct zmtp_error *err, const char *phase);

/* Bytes of an incomplete frame (or greeting) received and not yet parsed. */
size_t zmtp_session_partial(const struct zmtp_session *s);

/* Record REASON in the transcript (when not NULL), close the socket, free the mechanism. */
void zmtp_session_close(struct zmtp_session *s, const char *reason);

#endif
