/*
 * The ZMTP 3.x codec: greeting, frames, commands, READY metadata, ERROR, INITIATE, MESSAGE,
 * PING/PONG, subscriptions and the inner plaintext of a GSSAPI wrap token, encoded into a
 * builder and decoded from caller-owned buffers. No I/O, no GSS calls, no state.
 *
 * Decoding: every decoder returns an enum zmtp_status; on failure *ERR holds the status and one
 * line naming the field and its offset from the start of the buffer given, e.g.
 *     "bad INITIATE: INITIATE token: needs 700 bytes at offset 13, 2 left"
 * which is the close reason the peer reports. Decoded pointers point into the caller's buffer
 * (nothing is allocated), so they are valid as long as that buffer is.
 *
 * Encoding: encoders append to a struct builder (util/builder.h) and never fail visibly; the
 * caller checks builder_ok() once at the end. Command encoders append the command BODY
 * (name-length, name, data); zmtp_frame_encode wraps a body in a frame.
 *
 * Layouts follow 23/ZMTP (3.0), 37/ZMTP (3.1) and the de facto GSSAPI usage of libzmq 4.x
 * (docs/zmtp-gssapi.md).
 */
#ifndef ZMTP_CODEC_H
#define ZMTP_CODEC_H

#include "util/builder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Verdicts of the decoders (and of the mechanism built on them). zmtp_status_text gives each
 * one a short fixed text; struct zmtp_error adds the field and offset. */
enum zmtp_status {
    ZMTP_OK = 0,
    ZMTP_NEED_MORE,        /* input incomplete: feed more bytes (not an error) */
    ZMTP_BAD_SIGNATURE,    /* greeting bytes 0 and 9 are not FF ... 7F */
    ZMTP_BAD_VERSION,      /* greeting major version below 3 (ZMTP 1.0/2.0) */
    ZMTP_BAD_MECHANISM,    /* greeting mechanism differs from ours */
    ZMTP_BAD_FRAME,        /* reserved flag bits, MORE on a command, size out of range */
    ZMTP_FRAME_TOO_LARGE,  /* frame size above the configured limit */
    ZMTP_BAD_COMMAND,      /* command body syntax (name length / name characters) */
    ZMTP_BAD_METADATA,     /* READY property syntax */
    ZMTP_BAD_INITIATE,     /* INITIATE layout (token length, trailing bytes) */
    ZMTP_BAD_MESSAGE,      /* MESSAGE layout (token length, trailing bytes) */
    ZMTP_BAD_WRAPPED,      /* wrapped plaintext: empty (no flags byte) or unknown flag bits */
    ZMTP_BAD_PING,         /* PING/PONG layout */
    ZMTP_BAD_ERROR,        /* ERROR command layout */
    ZMTP_BAD_SUBSCRIPTION, /* subscription layout */
    ZMTP_BAD_WRAP_TOKEN,   /* RFC 4121 token header (only decoded for transcripts) */
    ZMTP_UNEXPECTED,       /* a well-formed frame or command not allowed in this state */
    ZMTP_SOCKET_MISMATCH,  /* peer Socket-Type missing or incompatible with ours */
    ZMTP_GSS_FAILURE,      /* a GSS-API call failed (major/minor text in the detail) */
    ZMTP_INTEGRITY_ONLY,   /* a wrap token without confidentiality while encryption is on */
    ZMTP_PEER_ERROR,       /* the peer sent an ERROR command */
    ZMTP_DENIED,           /* authorization refused the client principal */
    ZMTP_CLOSED,           /* the peer closed the connection */
    ZMTP_TIMEOUT,          /* a deadline passed */
    ZMTP_SYSTEM,           /* out of memory or an OS error */
};

/* A fixed text for STATUS ("bad INITIATE", "mechanism mismatch", ...); never NULL. */
const char *zmtp_status_text(enum zmtp_status status);

/* A decode verdict: the status and one line "TEXT: FIELD: DETAIL at offset N". */
struct zmtp_error {
    enum zmtp_status status;
    char text[256];
};

/* Set *ERR to STATUS with formatted detail (prefixed by zmtp_status_text). ERR may be NULL.
 * Returns STATUS so callers can `return zmtp_fail(...)`. */
enum zmtp_status zmtp_fail(struct zmtp_error *err, enum zmtp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Greeting (64 octets) ---- */

enum {
    ZMTP_GREETING_SIZE = 64,
    ZMTP_SIGNATURE_SIZE = 10, /* FF, 8 padding bytes, 7F */
    ZMTP_MECHANISM_SIZE = 20,
};

struct zmtp_greeting {
    unsigned char padding[8]; /* bytes 1-8: no meaning (libzmq puts its routing-id length there) */
    uint8_t major;            /* byte 10 */
    uint8_t minor;            /* byte 11 */
    char mechanism[ZMTP_MECHANISM_SIZE + 1]; /* bytes 12-31 up to the first NUL, NUL-terminated */
    unsigned char mechanism_raw[ZMTP_MECHANISM_SIZE]; /* bytes 12-31 as they are */
    uint8_t as_server;                                /* byte 32 */
    unsigned char filler[31];                         /* bytes 33-63 */
};

/* A greeting with zero padding, version 3.1, mechanism MECHANISM (at most 20 characters,
 * NUL-padded), AS_SERVER, zero filler. */
void zmtp_greeting_init(struct zmtp_greeting *g, const char *mechanism, uint8_t as_server);

/* Append the 64 bytes of G to B. */
void zmtp_greeting_encode(struct builder *b, const struct zmtp_greeting *g);

/*
 * Decode the greeting at the start of DATA (LEN bytes received so far; extra bytes after 64
 * are ignored). Checks as much as LEN allows, so a bad signature is reported after 10 bytes
 * and a ZMTP 1.0/2.0 version after 11: ZMTP_NEED_MORE means "valid so far".
 * MECHANISM (may be NULL: not checked) is compared with all 20 bytes (name + NUL padding),
 * case-sensitively. Any padding, minor version, as-server value and filler are accepted.
 * On ZMTP_OK *G is filled; on other statuses its content is unspecified.
 */
enum zmtp_status zmtp_greeting_decode(const unsigned char *data, size_t len, const char *mechanism,
                                      struct zmtp_greeting *g, struct zmtp_error *err);

/* ---- Frames ---- */

enum {
    ZMTP_FLAG_MORE = 0x01,
    ZMTP_FLAG_LONG = 0x02,
    ZMTP_FLAG_COMMAND = 0x04,
    ZMTP_FLAG_RESERVED = 0xf8,
    ZMTP_SHORT_MAX = 255,
};

struct zmtp_frame {
    uint8_t flags;             /* as received (LONG included) */
    size_t header_len;         /* 2 (short) or 9 (long) */
    uint64_t size;             /* body length */
    const unsigned char *body; /* into the caller's buffer; NULL when only the header was decoded */
};

/*
 * Decode the frame header at the start of DATA. ZMTP_NEED_MORE when fewer than header_len
 * bytes are there. Rejects reserved flag bits, MORE together with COMMAND, a long size with the
 * top bit set, and a size above MAX_SIZE (0 = no limit; ZMTP_FRAME_TOO_LARGE). A long header
 * with a size <= 255 is accepted (the spec's SHOULD is about sending). body is left NULL.
 */
enum zmtp_status zmtp_frame_header_decode(const unsigned char *data, size_t len, uint64_t max_size,
                                          struct zmtp_frame *f, struct zmtp_error *err);

/* Decode a whole frame at the start of DATA: the header as above, then ZMTP_NEED_MORE until
 * the body is complete; on ZMTP_OK f->body points at it and *CONSUMED = header_len + size. */
enum zmtp_status zmtp_frame_decode(const unsigned char *data, size_t len, uint64_t max_size,
                                   struct zmtp_frame *f, size_t *consumed, struct zmtp_error *err);

/* Append a frame with FLAGS (MORE and/or COMMAND; LONG is chosen here: set when LEN > 255)
 * and body DATA. */
void zmtp_frame_encode(struct builder *b, uint8_t flags, const void *data, size_t len);

enum { ZMTP_FRAME_HEADER_MAX = 9 };

/* Write the header zmtp_frame_encode puts before a LEN-byte body with FLAGS into OUT (for a
 * driver that sends the body from where it is); returns its length, 2 or 9. */
size_t zmtp_frame_header_encode(unsigned char out[ZMTP_FRAME_HEADER_MAX], uint8_t flags, size_t len);

/* ---- Commands (frame bodies of COMMAND frames) ---- */

struct zmtp_command {
    const char *name; /* into the buffer, NOT NUL-terminated */
    size_t name_len;  /* 1..255 */
    const unsigned char *data;
    size_t data_len;
};

/* Decode "name-length name data": name-length 1..255, name of ALPHA (the spec's command-name
 * chars are letters). Zero bytes (the empty command frame) is ZMTP_BAD_COMMAND: callers that
 * allow the empty frame test for size 0 first. */
enum zmtp_status zmtp_command_decode(const unsigned char *body, size_t len, struct zmtp_command *c,
                                     struct zmtp_error *err);

/* True when C's name is exactly NAME (case-sensitive, as libzmq compares). */
bool zmtp_command_is(const struct zmtp_command *c, const char *name);

/* Append "name-length NAME DATA". */
void zmtp_command_encode(struct builder *b, const char *name, const void *data, size_t len);

/* ---- READY metadata ---- */

/* 23/ZMTP sets no limit on the number of READY properties; the reference bounds the property
 * list by its total size instead (ZMTP_METADATA_MAX octets: names, lengths and values), far above
 * anything libzmq sends. The first ZMTP_PROPERTIES_MAX properties are listed in props[] for
 * callers that walk them; zmtp_metadata_find searches every property. */
enum {
    ZMTP_PROPERTIES_MAX = 32,
    ZMTP_METADATA_MAX = 65536,
};

struct zmtp_property {
    const char *name; /* into the buffer, NOT NUL-terminated; 1..255 name chars */
    size_t name_len;
    const unsigned char *value;
    size_t value_len;
};

struct zmtp_metadata {
    size_t count; /* properties listed in props[] */
    struct zmtp_property props[ZMTP_PROPERTIES_MAX];
    size_t total;              /* every property of the list */
    const unsigned char *list; /* the whole property list (borrowed) */
    size_t list_len;
};

/* Decode a READY command body "05 READY" + properties (name-length name u32be(len) value)*.
 * Property names must be 1..255 of ALPHA DIGIT - _ . + ; a property list longer than
 * ZMTP_METADATA_MAX octets is ZMTP_BAD_METADATA (any number of properties is fine). */
enum zmtp_status zmtp_ready_decode(const unsigned char *body, size_t len, struct zmtp_metadata *md,
                                   struct zmtp_error *err);

/* Decode a bare property list (the part after "05 READY"); offsets count from PROPS. */
enum zmtp_status zmtp_metadata_decode(const unsigned char *props, size_t len,
                                      struct zmtp_metadata *md, struct zmtp_error *err);

/* The property named NAME (compared case-insensitively, as the spec says) among the ones listed
 * in props[] (the first ZMTP_PROPERTIES_MAX), or NULL. */
const struct zmtp_property *zmtp_metadata_find(const struct zmtp_metadata *md, const char *name);

/* The first property named NAME (case-insensitively) among all of MD's properties, however many:
 * true with *OUT filled (pointing into the decoded buffer), false when there is none. */
bool zmtp_metadata_lookup(const struct zmtp_metadata *md, const char *name,
                          struct zmtp_property *out);

/* Append one property (NAME must be 1..255 bytes). */
void zmtp_property_encode(struct builder *b, const char *name, const void *value, size_t len);

/* Append a READY command body: "05 READY", Socket-Type = SOCKET_TYPE, then Identity = IDENTITY
 * (IDENTITY_LEN bytes, may be 0) when WITH_IDENTITY (REQ/DEALER/ROUTER, as libzmq). */
void zmtp_ready_encode(struct builder *b, const char *socket_type, bool with_identity,
                       const void *identity, size_t identity_len);

/* The same with the property names spelt TYPE_NAME and IDENTITY_NAME (NULL: no Identity). */
void zmtp_ready_encode_named(struct builder *b, const char *type_name, const char *socket_type,
                             const char *identity_name, const void *identity, size_t identity_len);

/* ---- ERROR ---- */

/* Decode "05 ERROR" reason-length(1) reason; *REASON points into BODY. */
enum zmtp_status zmtp_error_decode(const unsigned char *body, size_t len, const char **reason,
                                   size_t *reason_len, struct zmtp_error *err);
/* Append an ERROR body with REASON (truncated to 255 bytes). */
void zmtp_error_encode(struct builder *b, const char *reason);

/* ---- GSSAPI commands: INITIATE and MESSAGE carry u32be(len) + exactly len token bytes ---- */

/* Decode "08 INITIATE" u32be(len) token; nothing may follow the token. */
enum zmtp_status zmtp_initiate_decode(const unsigned char *body, size_t len,
                                      const unsigned char **token, size_t *token_len,
                                      struct zmtp_error *err);
void zmtp_initiate_encode(struct builder *b, const void *token, size_t len);

/* Decode "07 MESSAGE" u32be(len) token; nothing may follow the token; an empty token is
 * ZMTP_BAD_MESSAGE (no wrap token is zero bytes long). */
enum zmtp_status zmtp_message_decode(const unsigned char *body, size_t len,
                                     const unsigned char **token, size_t *token_len,
                                     struct zmtp_error *err);
void zmtp_message_encode(struct builder *b, const void *token, size_t len);

/* ---- The plaintext inside a wrap token: flags(1) body ---- */

enum {
    ZMTP_WRAP_MORE = 0x01,
    ZMTP_WRAP_COMMAND = 0x02,
    ZMTP_WRAP_SUBSCRIBE = 0x04, /* libzmq master */
    ZMTP_WRAP_CANCEL = 0x08,    /* libzmq master */
    ZMTP_WRAP_KNOWN = 0x0f,
};

struct zmtp_wrapped {
    uint8_t flags;
    const unsigned char *body; /* into the plaintext */
    size_t len;
};

/* Decode a wrapped plaintext: at least the flags byte; flag bits other than ZMTP_WRAP_KNOWN,
 * and MORE together with COMMAND, are ZMTP_BAD_WRAPPED. */
enum zmtp_status zmtp_wrapped_decode(const unsigned char *plain, size_t len, struct zmtp_wrapped *w,
                                     struct zmtp_error *err);

/* Append the plaintext of one part: FLAGS then DATA. */
void zmtp_wrapped_encode(struct builder *b, uint8_t flags, const void *data, size_t len);

/* ---- PING / PONG (37/ZMTP) ---- */

/* Decode "04 PING" ttl(u16be) context(0..16 bytes). */
enum zmtp_status zmtp_ping_decode(const unsigned char *body, size_t len, uint16_t *ttl,
                                  const unsigned char **context, size_t *context_len,
                                  struct zmtp_error *err);
/* Decode "04 PONG" context(0..16 bytes). */
enum zmtp_status zmtp_pong_decode(const unsigned char *body, size_t len,
                                  const unsigned char **context, size_t *context_len,
                                  struct zmtp_error *err);
void zmtp_ping_encode(struct builder *b, uint16_t ttl, const void *context, size_t len);
void zmtp_pong_encode(struct builder *b, const void *context, size_t len);

/* ---- Subscriptions ---- */

enum zmtp_subscription_kind {
    ZMTP_SUBSCRIBE,
    ZMTP_CANCEL,
};

/*
 * Decode a subscription from one message part as a PUB sees it. FLAGS are the part's command
 * flags as delivered: for wrapped parts the inner flags byte (ZMTP_WRAP_*), for plaintext
 * frames ZMTP_WRAP_COMMAND when the frame was a command frame, else 0. Accepted encodings:
 *   flags 0:         01 topic (subscribe), 00 topic (cancel)       (ZMTP 3.0)
 *   COMMAND:         09 SUBSCRIBE topic, 06 CANCEL topic            (ZMTP 3.1)
 *   SUBSCRIBE / CANCEL flag bits: topic is the whole body           (libzmq master)
 * *TOPIC points into BODY.
 */
enum zmtp_status zmtp_subscription_decode(uint8_t flags, const unsigned char *body, size_t len,
                                          enum zmtp_subscription_kind *kind,
                                          const unsigned char **topic, size_t *topic_len,
                                          struct zmtp_error *err);

/* Append a ZMTP 3.0 subscription part body: 01 topic (or 00 topic for a cancel). */
void zmtp_subscription_encode(struct builder *b, enum zmtp_subscription_kind kind,
                              const void *topic, size_t len);

/* ---- RFC 4121 wrap token header (for transcripts and checks) ---- */

struct zmtp_wrap_header {
    uint8_t flags; /* 01 SentByAcceptor, 02 Sealed, 04 AcceptorSubkey */
    uint16_t ec;
    uint16_t rrc;
    uint64_t snd_seq;
};

/* Decode the 16-byte header "05 04 flags FF EC(2) RRC(2) SND_SEQ(8)" at the start of TOKEN. */
enum zmtp_status zmtp_wrap_header_decode(const unsigned char *token, size_t len,
                                         struct zmtp_wrap_header *h, struct zmtp_error *err);

/* ---- Socket types ---- */

/* True when NAME is one of the ZMTP socket types (PAIR PUB SUB REQ REP DEALER ROUTER PULL PUSH
 * XPUB XSUB), compared exactly (upper case). */
bool zmtp_socket_type_valid(const char *name);

/* True when a socket of type OURS may talk to a peer announcing PEER (PEER_LEN bytes), per the
 * compatibility table of 23/ZMTP. */
bool zmtp_socket_types_compatible(const char *ours, const char *peer, size_t peer_len);

/* True for the types whose READY carries Identity (REQ, DEALER, ROUTER), as libzmq sends. */
bool zmtp_socket_type_has_identity(const char *name);

#endif
