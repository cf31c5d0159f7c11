/*
 * The ZMTP GSSAPI mechanism (38/ZMTP-GSSAPI as libzmq deploys it) for both roles, sans I/O:
 * the caller feeds every frame received after the greeting in with zmtp_mech_receive, takes
 * the frames to send out with zmtp_mech_next_frame, and takes application events (handshake
 * done, messages, subscriptions, authorization) with zmtp_mech_next_event. It never touches a
 * socket, a process or a file; every GSS-API call goes through the struct gssops of its config
 * (util/gssops.h), so tests and fuzzers can run it on a fake table without a KDC.
 *
 * Authorization is an event the driver answers: once the client's context is complete and its
 * empty command frame came, the server emits ZMTP_EVENT_AUTHORIZE (principal) and waits;
 * frames fed in meanwhile are refused. The driver decides however it likes (an allow list, an
 * external command) and answers with zmtp_mech_authorize, which queues ZMTP_EVENT_AUTHORIZED
 * and, when allowed, the server's READY.
 *
 * Handshake (de facto, Kerberos; docs/zmtp-gssapi.md):
 *   client INITIATE(AP-REQ) -> server INITIATE(AP-REP) -> client empty command frame 04 00 ->
 *   server READY -> client READY -> data.
 * With encryption READY travels as MESSAGE(wrap(00 "05 READY" props)) in a command frame, data
 * parts each as MESSAGE(wrap(flags part)) in a message frame; with PLAINTEXT both are plain ZMTP.
 *
 * Fault seam: every outgoing frame is returned as a struct zmtp_mech_frame carrying its kind and
 * plaintext, so a driver can tamper with, drop, duplicate or reorder frames before they reach
 * the wire. Misbehaviour the mechanism itself must produce is gathered in one struct
 * zmtp_faults the config points to (NULL for a well-behaved peer), apart from the real
 * settings.
 *
 * Wrap paths (docs/peer.md --wrap-path): MIT is always the handshake. After it, data is
 * wrapped and unwrapped by MIT (gss_wrap/gss_unwrap, the default) or by the independent RFC
 * 4121 implementation (util/rfc4121.h), keyed from a copy of the established context. With
 * token_check on and the MIT path, every wrap token the peer sends (READY and everything after)
 * is also run through rfc4121's strict receiver; what the second checker finds is handed to
 * the config's report callback (struct zmtp_token_check), synchronously, from inside
 * zmtp_mech_receive (or zmtp_mech_start/receive at context completion for the keying).
 *
 * Ownership: the mechanism borrows the credential, target name, strings, GSS table and faults of
 * its config for its lifetime; frames and events handed out are owned by the caller
 * (zmtp_mech_frame_free, zmtp_event_free).
 */
#ifndef ZMTP_MECHANISM_H
#define ZMTP_MECHANISM_H

#include "util/gssops.h"
#include "zmtp/codec.h"

#include <gssapi/gssapi.h>
#include <stdbool.h>
#include <stddef.h>

enum zmtp_role {
    ZMTP_ROLE_CLIENT,
    ZMTP_ROLE_SERVER,
};

/* Every way our own side misbehaves on purpose (fault injection, tools/faults.c), in one place
 * (BoGo's ProtocolBugs): nothing here is a real setting. Zero / NULL members behave correctly. */
struct zmtp_faults {
    bool wrap_integrity_only; /* gss_wrap with conf_req 0 (the correct value is 1) */
    /* rfc4121 wrap path only: tokens rotated right by wrap_rrc octets (legal), and with
     * wrap_rrc_in_copy the encrypted header copy carries that RRC instead of 0 (illegal, but
     * MIT's gss_unwrap does not compare the copy's EC and RRC). */
    uint16_t wrap_rrc;
    bool wrap_rrc_in_copy;
    /* Our READY: the two property names as spelt on the wire, and the Socket-Type value
     * claimed (NULL: the canonical "Socket-Type", "Identity", and our real socket type). */
    const char *ready_type_name, *ready_identity_name, *ready_socket_type;
};

/* Plausible implementation bugs planted on purpose (gsspeer --deviate, tools/deviations.c):
 * unlike the faults above, which test the other side, these make our own side the
 * non-conformant candidate of a mutation run (docs/mutation.md). The mechanism consults the
 * handshake and data members, the session and the role driver the rest. All false: none. */
struct zmtp_deviations {
    /* greeting (tools/session.c, tools/roles.c) */
    bool as_server_zero, mechanism_space_padded, any_mechanism;
    /* handshake */
    bool no_mutual, skip_empty_frame, ready_unwrapped, accept_plain_ready, swallow_error,
        skip_unknown_commands, initiate_lenient, metadata_name_case, socket_type_unchecked;
    /* data */
    bool integrity_only, accept_integrity_only, accept_unwrapped, ignore_bad_token, accept_replay,
        accept_reorder, more_outside_wrap, drop_last_part, accept_trailing, accept_unknown_flags,
        accept_zero_length, no_pong, subscribe_no_byte;
    /* data, rfc4121 path forced on: our wrap tokens rotated by 12 octets with that RRC in the
     * encrypted header copy as well (RFC 4121 wants 0 there; MIT's gss_unwrap does not look) */
    bool rrc_header_copy;
    /* the drivers (tools/session.c, tools/roles.c) */
    bool hang_on_error, no_handshake_timeout, nametype_ignored, any_service, ignore_allow,
        plaintext_ignored, no_frame_limit;
};

/* Who wraps and unwraps the data after the handshake. */
enum zmtp_wrap_path {
    ZMTP_WRAP_MIT,     /* gss_wrap / gss_unwrap through the config's struct gssops */
    ZMTP_WRAP_RFC4121, /* util/rfc4121 on OpenSSL, keyed from a copy of the context */
};

/* The name of PATH ("mit", "rfc4121"). */
const char *zmtp_wrap_path_name(enum zmtp_wrap_path path);

/* What the independent RFC 4121 checker reports. */
enum zmtp_check_verdict {
    ZMTP_CHECK_CHECKING,     /* keyed at context completion: tokens are checked from now on */
    ZMTP_CHECK_UNCHECKED,    /* it could not key itself (detail): nothing will be checked; our
                              * own limitation, never the peer's fault */
    ZMTP_CHECK_VIOLATION,    /* MIT accepted a token that RFC 4121 forbids (detail, header) */
    ZMTP_CHECK_DISAGREEMENT, /* MIT refused a token rfc4121 accepts, or the two opened it to
                              * different plaintexts: one implementation is wrong, not
                              * necessarily the peer */
};

/* The name of VERDICT ("checking", "unchecked", "rfc4121-violation", "disagreement"). */
const char *zmtp_check_verdict_name(enum zmtp_check_verdict verdict);

/* One report of the checker; every pointer is borrowed for the duration of the callback. */
struct zmtp_token_check {
    enum zmtp_check_verdict verdict;
    enum zmtp_wrap_path path;     /* the data path that runs */
    const char *checker;          /* "rfc4121" when tokens are checked twice, else "none" */
    int enctype;                  /* of the context key (0 when unknown) */
    const char *kind;             /* VIOLATION/DISAGREEMENT: "READY" or "MESSAGE", else NULL */
    uint64_t seq;                 /* VIOLATION/DISAGREEMENT: the token's SND_SEQ */
    const unsigned char *header;  /* VIOLATION/DISAGREEMENT: the 16 header octets, else NULL */
    const char *detail;           /* one line */
};

struct zmtp_mech_config {
    enum zmtp_role role;
    bool plaintext;          /* ZMQ_GSSAPI_PLAINTEXT: no wrapping after authentication */
    gss_cred_id_t cred;      /* GSS_C_NO_CREDENTIAL: the default (ccache / keytabs) */
    gss_name_t target;       /* client: the service to authenticate to */
    const char *socket_type; /* ours: "DEALER", ... (sent as Socket-Type) */
    const void *identity;    /* Identity property value (REQ/DEALER/ROUTER) */
    size_t identity_len;
    const struct gssops *gss;                 /* NULL: gssops_mit, the linked GSS-API */
    const struct zmtp_faults *faults;         /* NULL: none (a well-behaved peer) */
    const struct zmtp_deviations *deviations; /* NULL: none (a conformant peer) */
    enum zmtp_wrap_path wrap_path;            /* data after the handshake (0: MIT) */
    bool token_check; /* MIT path: check the peer's tokens with rfc4121 too */
    bool no_frame_plain; /* nobody reads zmtp_mech_frame.plain (no transcript, no fault
                            hooks): frames carry none, saving a copy of every plaintext */
    /* NULL, or called with every report of the checker (and the keying of the rfc4121 path) */
    void (*report)(void *arg, const struct zmtp_token_check *check);
    void *report_arg;
};

/* One frame to send, with what it is for the transcript and for fault hooks. */
struct zmtp_mech_frame {
    uint8_t flags;       /* ZMTP_FLAG_COMMAND and/or ZMTP_FLAG_MORE (LONG is the encoder's) */
    unsigned char *body; /* owned */
    size_t len;
    const char *kind;     /* "INITIATE", "empty", "READY", "MESSAGE", "PING", "PONG", ... */
    unsigned char *plain; /* owned; the wrapped plaintext (flags byte first) or NULL */
    size_t plain_len;
};

/* What a received frame turned out to be (valid until the next zmtp_mech_receive). */
struct zmtp_frame_note {
    const char *kind;           /* as in struct zmtp_mech_frame */
    const unsigned char *plain; /* unwrapped plaintext, or NULL */
    size_t plain_len;
};

struct zmtp_part {
    unsigned char *data; /* owned by whoever owns the enclosing event; may be NULL when len 0 */
    size_t len;
};

enum zmtp_event_type {
    ZMTP_EVENT_READY,      /* handshake complete; peer_socket_type / principal known */
    ZMTP_EVENT_AUTHORIZE,  /* server: principal; answer with zmtp_mech_authorize */
    ZMTP_EVENT_AUTHORIZED, /* server: principal and allowed (the answer given) */
    ZMTP_EVENT_MESSAGE,    /* parts / count: one complete multipart message */
    ZMTP_EVENT_SUBSCRIBE,  /* topic / topic_len (PUB side) */
    ZMTP_EVENT_CANCEL,
};

struct zmtp_event {
    enum zmtp_event_type type;
    struct zmtp_part *parts; /* MESSAGE: owned array of owned parts */
    size_t count;
    unsigned char **blocks; /* MESSAGE: NULL, or an owned array of COUNT entries, each NULL or
                               the owned allocation parts[i].data points into (received
                               without a copy; then parts[i].data is not an allocation itself).
                               zmtp_event_free releases both; a caller that takes a part's
                               memory over takes the block when there is one. */
    unsigned char *topic; /* SUBSCRIBE/CANCEL: owned */
    size_t topic_len;
    char *principal; /* AUTHORIZE / AUTHORIZED: owned */
    bool allowed;
};

struct zmtp_mech;

/* Create a mechanism for CFG. On success *MECH is owned by the caller (zmtp_mech_free);
 * on failure *MECH is NULL and *ERR says why. Nothing is sent until zmtp_mech_start. */
enum zmtp_status zmtp_mech_new(const struct zmtp_mech_config *cfg, struct zmtp_mech **mech,
                               struct zmtp_error *err);

/* Release MECH, its GSS context and everything queued (NULL is fine). */
void zmtp_mech_free(struct zmtp_mech *mech);

/* Begin the handshake after the greetings: the client queues its first INITIATE. */
enum zmtp_status zmtp_mech_start(struct zmtp_mech *mech, struct zmtp_error *err);

/*
 * Feed one received frame (FLAGS as on the wire, BODY of LEN bytes, borrowed). Anything the
 * state machines of docs/zmtp-gssapi.md (section 2) do not allow in the current state is an
 * error: the status and *ERR (one line,
 * field and offset where there is one) are the close reason, and the mechanism stays failed.
 * NOTE (may be NULL) is filled with what the frame was.
 */
enum zmtp_status zmtp_mech_receive(struct zmtp_mech *mech, uint8_t flags, const unsigned char *body,
                                   size_t len, struct zmtp_frame_note *note,
                                   struct zmtp_error *err);

/*
 * zmtp_mech_receive of a frame whose BODY lies in *BLOCK, a malloc'd buffer of the caller's
 * (the whole input buffer a driver received the frame into), so a large PLAINTEXT part can be
 * delivered without a copy: when a data part is made of BODY, the part takes *BLOCK over (its
 * data points at BODY inside it; zmtp_event_free frees the block) and *BLOCK becomes NULL.
 * Otherwise *BLOCK is left as it was and stays the caller's to free. Either way BODY stays
 * valid until the caller frees what it still owns, or until the event holding the part is
 * freed.
 */
enum zmtp_status zmtp_mech_receive_block(struct zmtp_mech *mech, uint8_t flags,
                                         const unsigned char *body, size_t len,
                                         unsigned char **block, struct zmtp_frame_note *note,
                                         struct zmtp_error *err);

/* Take the next frame to send; false when none is queued. *FRAME becomes the caller's. */
bool zmtp_mech_next_frame(struct zmtp_mech *mech, struct zmtp_mech_frame *frame);
void zmtp_mech_frame_free(struct zmtp_mech_frame *frame);

/* Take the next event; false when none. *EVENT becomes the caller's. */
bool zmtp_mech_next_event(struct zmtp_mech *mech, struct zmtp_event *event);
void zmtp_event_free(struct zmtp_event *event);

/* Server: true while an authorization question (ZMTP_EVENT_AUTHORIZE) waits for its answer. */
bool zmtp_mech_awaiting_authorization(const struct zmtp_mech *mech);

/* Server: answer the pending authorization question. Queues ZMTP_EVENT_AUTHORIZED; when
 * ALLOWED the server's READY follows, else the mechanism fails with ZMTP_DENIED (that status
 * and *ERR are returned). ZMTP_UNEXPECTED when no question is pending. */
enum zmtp_status zmtp_mech_authorize(struct zmtp_mech *mech, bool allowed, struct zmtp_error *err);

/* True once the mechanism failed (a refused frame, a GSS error, a denial). */
bool zmtp_mech_failed(const struct zmtp_mech *mech);

/* True once both READY commands went through. */
bool zmtp_mech_ready(const struct zmtp_mech *mech);

/* Queue one multipart message (COUNT parts, borrowed) for sending; only after READY. */
enum zmtp_status zmtp_mech_send(struct zmtp_mech *mech, const struct zmtp_part *parts, size_t count,
                                struct zmtp_error *err);

/* Queue a subscription (SUB side): 00 01 topic (cancel 00 00 topic) wrapped, or 01 topic. */
enum zmtp_status zmtp_mech_subscribe(struct zmtp_mech *mech, enum zmtp_subscription_kind kind,
                                     const void *topic, size_t len, struct zmtp_error *err);

/* Queue a PING with TTL (tenths of a second) and CONTEXT (at most 16 bytes). */
enum zmtp_status zmtp_mech_ping(struct zmtp_mech *mech, uint16_t ttl, const void *context,
                                size_t len, struct zmtp_error *err);

/* Fault injection: queue PLAIN (LEN bytes, flags byte included or not, borrowed) as one MESSAGE
 * in a message frame, wrapped with conf_req CONF, exactly as given (no flags byte is added, so a
 * zero-length or unknown-flags plaintext can be produced). Only after READY, never in PLAINTEXT
 * mode. */
enum zmtp_status zmtp_mech_queue_wrapped(struct zmtp_mech *mech, const void *plain, size_t len,
                                         bool conf, struct zmtp_error *err);

/* The peer's Socket-Type as a NUL-terminated string ("" before READY). */
const char *zmtp_mech_peer_socket_type(const struct zmtp_mech *mech);

/* Server: the client principal (gss_display_name), NULL until the context is complete.
 * Client: the server principal likewise. Owned by the mechanism. */
const char *zmtp_mech_peer_principal(const struct zmtp_mech *mech);

#endif
