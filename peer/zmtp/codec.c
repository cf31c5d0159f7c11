/* The ZMTP 3.x codec: see codec.h. */
#include "zmtp/codec.h"

#include "util/reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    PING_CONTEXT_MAX = 16, /* 37/ZMTP: ping-context = 0*16OCTET */
    WRAP_TOKEN_HEADER = 16,
};

static const struct {
    enum zmtp_status status;
    const char *text;
} status_texts[] = {
    {ZMTP_OK, "ok"},
    {ZMTP_NEED_MORE, "incomplete input"},
    {ZMTP_BAD_SIGNATURE, "bad greeting signature"},
    {ZMTP_BAD_VERSION, "unsupported ZMTP version"},
    {ZMTP_BAD_MECHANISM, "mechanism mismatch"},
    {ZMTP_BAD_FRAME, "bad frame"},
    {ZMTP_FRAME_TOO_LARGE, "frame too large"},
    {ZMTP_BAD_COMMAND, "bad command"},
    {ZMTP_BAD_METADATA, "bad READY metadata"},
    {ZMTP_BAD_INITIATE, "bad INITIATE"},
    {ZMTP_BAD_MESSAGE, "bad MESSAGE"},
    {ZMTP_BAD_WRAPPED, "bad wrapped plaintext"},
    {ZMTP_BAD_PING, "bad PING/PONG"},
    {ZMTP_BAD_ERROR, "bad ERROR"},
    {ZMTP_BAD_SUBSCRIPTION, "bad subscription"},
    {ZMTP_BAD_WRAP_TOKEN, "bad wrap token header"},
    {ZMTP_UNEXPECTED, "unexpected frame"},
    {ZMTP_SOCKET_MISMATCH, "socket type mismatch"},
    {ZMTP_GSS_FAILURE, "GSS-API failure"},
    {ZMTP_INTEGRITY_ONLY, "wrap token without confidentiality"},
    {ZMTP_PEER_ERROR, "peer sent ERROR"},
    {ZMTP_DENIED, "authorization denied"},
    {ZMTP_CLOSED, "connection closed by peer"},
    {ZMTP_TIMEOUT, "timed out"},
    {ZMTP_SYSTEM, "system error"},
};

const char *zmtp_status_text(enum zmtp_status status)
{
    for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
        if (status_texts[i].status == status)
            return status_texts[i].text;
    return "unknown status";
}

enum zmtp_status zmtp_fail(struct zmtp_error *err, enum zmtp_status status, const char *fmt, ...)
{
    va_list args;
    int n;

    if (err == NULL)
        return status;
    err->status = status;
    n = snprintf(err->text, sizeof(err->text), "%s: ", zmtp_status_text(status));
    if (n < 0 || (size_t)n >= sizeof(err->text))
        return status;
    va_start(args, fmt);
    vsnprintf(err->text + n, sizeof(err->text) - (size_t)n, fmt, args);
    va_end(args);
    return status;
}

/* Turn the reader's verdict into STATUS (or ZMTP_OK when the reader is fine). */
static enum zmtp_status reader_verdict(const struct reader *r, enum zmtp_status status,
                                       struct zmtp_error *err)
{
    if (reader_ok(r)) {
        if (err != NULL) {
            err->status = ZMTP_OK;
            err->text[0] = '\0';
        }
        return ZMTP_OK;
    }
    return zmtp_fail(err, status, "%s", reader_error(r));
}

/* ---- Greeting ---- */

void zmtp_greeting_init(struct zmtp_greeting *g, const char *mechanism, uint8_t as_server)
{
    size_t n = strlen(mechanism);

    memset(g, 0, sizeof(*g));
    g->major = 3;
    g->minor = 1;
    if (n > ZMTP_MECHANISM_SIZE)
        n = ZMTP_MECHANISM_SIZE;
    memcpy(g->mechanism, mechanism, n);
    memcpy(g->mechanism_raw, mechanism, n);
    g->as_server = as_server;
}

void zmtp_greeting_encode(struct builder *b, const struct zmtp_greeting *g)
{
    builder_add_u8(b, 0xff);
    builder_add(b, g->padding, sizeof(g->padding));
    builder_add_u8(b, 0x7f);
    builder_add_u8(b, g->major);
    builder_add_u8(b, g->minor);
    builder_add(b, g->mechanism_raw, sizeof(g->mechanism_raw));
    builder_add_u8(b, g->as_server);
    builder_add(b, g->filler, sizeof(g->filler));
}

enum zmtp_status zmtp_greeting_decode(const unsigned char *data, size_t len, const char *mechanism,
                                      struct zmtp_greeting *g, struct zmtp_error *err)
{
    struct reader r;
    unsigned char want[ZMTP_MECHANISM_SIZE] = {0};
    const unsigned char *p;

    /* 23/ZMTP: signature = %xFF padding %x7F; checked as soon as the bytes are here. */
    if (len >= 1 && data[0] != 0xff)
        return zmtp_fail(err, ZMTP_BAD_SIGNATURE,
                         "greeting signature: byte 0 is 0x%02x, expected 0xff at offset 0",
                         data[0]);
    if (len >= ZMTP_SIGNATURE_SIZE && data[9] != 0x7f)
        return zmtp_fail(err, ZMTP_BAD_SIGNATURE,
                         "greeting signature: byte 9 is 0x%02x, expected 0x7f at offset 9",
                         data[9]);
    if (len >= ZMTP_SIGNATURE_SIZE + 1 && data[10] < 3)
        return zmtp_fail(err, ZMTP_BAD_VERSION,
                         "greeting major version: %u (ZMTP %s) at offset 10, 3 or higher needed",
                         data[10], data[10] <= 1 ? "2.0" : "unknown");
    if (len < ZMTP_GREETING_SIZE)
        return zmtp_fail(err, ZMTP_NEED_MORE, "greeting: %zu of 64 bytes", len);

    reader_init(&r, data, ZMTP_GREETING_SIZE);
    memset(g, 0, sizeof(*g));
    reader_u8(&r, "greeting signature");
    p = reader_bytes(&r, sizeof(g->padding), "greeting padding");
    if (p != NULL)
        memcpy(g->padding, p, sizeof(g->padding));
    reader_u8(&r, "greeting signature");
    g->major = reader_u8(&r, "greeting major version");
    g->minor = reader_u8(&r, "greeting minor version");
    p = reader_bytes(&r, ZMTP_MECHANISM_SIZE, "greeting mechanism");
    if (p != NULL) {
        memcpy(g->mechanism_raw, p, ZMTP_MECHANISM_SIZE);
        memcpy(g->mechanism, p, ZMTP_MECHANISM_SIZE);
        g->mechanism[ZMTP_MECHANISM_SIZE] = '\0';
    }
    g->as_server = reader_u8(&r, "greeting as-server");
    p = reader_bytes(&r, sizeof(g->filler), "greeting filler");
    if (p != NULL)
        memcpy(g->filler, p, sizeof(g->filler));
    if (!reader_ok(&r))
        return reader_verdict(&r, ZMTP_BAD_SIGNATURE, err);

    if (mechanism != NULL) {
        size_t n = strlen(mechanism);

        memcpy(want, mechanism, n < sizeof(want) ? n : sizeof(want));
        /* 23/ZMTP: "If the mechanism does not exactly match, the peer MUST close". */
        if (memcmp(want, g->mechanism_raw, sizeof(want)) != 0) {
            char shown[ZMTP_MECHANISM_SIZE * 4 + 1];
            size_t k = 0, end = ZMTP_MECHANISM_SIZE;

            /* Show the name without its NUL padding, escaping anything unprintable. */
            while (end > 0 && g->mechanism_raw[end - 1] == 0)
                end--;
            for (size_t i = 0; i < end; i++) {
                unsigned char c = g->mechanism_raw[i];

                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
                    shown[k++] = (char)c;
                else
                    k += (size_t)snprintf(shown + k, sizeof(shown) - k, "\\x%02x", c);
            }
            shown[k] = '\0';
            return zmtp_fail(err, ZMTP_BAD_MECHANISM,
                             "greeting mechanism: \"%s\" at offset 12, expected \"%s\"", shown,
                             mechanism);
        }
    }
    return reader_verdict(&r, ZMTP_OK, err);
}

/* ---- Frames ---- */

enum zmtp_status zmtp_frame_header_decode(const unsigned char *data, size_t len, uint64_t max_size,
                                          struct zmtp_frame *f, struct zmtp_error *err)
{
    uint8_t flags;

    memset(f, 0, sizeof(*f));
    if (len < 1)
        return zmtp_fail(err, ZMTP_NEED_MORE, "frame flags: 0 bytes");
    flags = data[0];
    f->flags = flags;
    if (flags & ZMTP_FLAG_RESERVED)
        return zmtp_fail(err, ZMTP_BAD_FRAME, "frame flags: reserved bits set (0x%02x) at offset 0",
                         flags);
    /* 23/ZMTP: command-size = %x04 short-size | %x06 long-size (no MORE on commands). */
    if ((flags & ZMTP_FLAG_COMMAND) && (flags & ZMTP_FLAG_MORE))
        return zmtp_fail(err, ZMTP_BAD_FRAME,
                         "frame flags: MORE set on a command frame (0x%02x) at offset 0", flags);
    f->header_len = (flags & ZMTP_FLAG_LONG) ? 9 : 2;
    if (len < f->header_len)
        return zmtp_fail(err, ZMTP_NEED_MORE, "frame size: %zu of %zu header bytes", len,
                         f->header_len);
    if (flags & ZMTP_FLAG_LONG) {
        struct reader r;

        reader_init(&r, data + 1, 8);
        f->size = reader_u64be(&r, "frame size");
        if (f->size >> 63)
            return zmtp_fail(err, ZMTP_BAD_FRAME,
                             "frame size: long size 0x%016llx has the top bit set at offset 1",
                             (unsigned long long)f->size);
    } else {
        f->size = data[1];
    }
    if (max_size != 0 && f->size > max_size)
        return zmtp_fail(err, ZMTP_FRAME_TOO_LARGE,
                         "frame size: %llu bytes at offset 1, limit %llu",
                         (unsigned long long)f->size, (unsigned long long)max_size);
    if (err != NULL) {
        err->status = ZMTP_OK;
        err->text[0] = '\0';
    }
    return ZMTP_OK;
}

enum zmtp_status zmtp_frame_decode(const unsigned char *data, size_t len, uint64_t max_size,
                                   struct zmtp_frame *f, size_t *consumed, struct zmtp_error *err)
{
    enum zmtp_status status;

    *consumed = 0;
    status = zmtp_frame_header_decode(data, len, max_size, f, err);
    if (status != ZMTP_OK)
        return status;
    if (len - f->header_len < f->size)
        return zmtp_fail(err, ZMTP_NEED_MORE, "frame body: %zu of %llu bytes", len - f->header_len,
                         (unsigned long long)f->size);
    f->body = data + f->header_len;
    *consumed = f->header_len + (size_t)f->size;
    return ZMTP_OK;
}

size_t zmtp_frame_header_encode(unsigned char out[ZMTP_FRAME_HEADER_MAX], uint8_t flags, size_t len)
{
    flags &= (uint8_t)(ZMTP_FLAG_MORE | ZMTP_FLAG_COMMAND);
    if (len <= ZMTP_SHORT_MAX) {
        out[0] = flags;
        out[1] = (unsigned char)len;
        return 2;
    }
    out[0] = flags | ZMTP_FLAG_LONG;
    for (size_t i = 0; i < 8; i++)
        out[1 + i] = (unsigned char)((uint64_t)len >> (8 * (7 - i)));
    return ZMTP_FRAME_HEADER_MAX;
}

void zmtp_frame_encode(struct builder *b, uint8_t flags, const void *data, size_t len)
{
    unsigned char header[ZMTP_FRAME_HEADER_MAX];

    builder_add(b, header, zmtp_frame_header_encode(header, flags, len));
    builder_add(b, data, len);
}

/* ---- Commands ---- */

static bool is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_name_char(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '+';
}

/* Read "name-length name" into *C with the reader R; the name must be 1..255 letters. */
static void read_command_name(struct reader *r, struct zmtp_command *c)
{
    size_t name_len = reader_u8(r, "command name length");
    const unsigned char *name;

    if (reader_ok(r) && name_len == 0) {
        reader_fail(r, READER_INVALID, "command name length", "0 (names are 1..255 letters)");
        return;
    }
    name = reader_bytes(r, name_len, "command name");
    if (name == NULL)
        return;
    for (size_t i = 0; i < name_len; i++) {
        if (!is_alpha(name[i])) {
            /* Report at the offending byte, not at the end of the name. */
            r->ptr = name + i;
            r->len += name_len - i;
            reader_fail(r, READER_INVALID, "command name", "byte 0x%02x is not a letter", name[i]);
            return;
        }
    }
    c->name = (const char *)name;
    c->name_len = name_len;
}

enum zmtp_status zmtp_command_decode(const unsigned char *body, size_t len, struct zmtp_command *c,
                                     struct zmtp_error *err)
{
    struct reader r;

    memset(c, 0, sizeof(*c));
    reader_init(&r, body, len);
    read_command_name(&r, c);
    if (reader_ok(&r)) {
        c->data_len = reader_remaining(&r);
        c->data = reader_bytes(&r, c->data_len, "command data");
    }
    return reader_verdict(&r, ZMTP_BAD_COMMAND, err);
}

bool zmtp_command_is(const struct zmtp_command *c, const char *name)
{
    size_t n = strlen(name);

    return c->name != NULL && c->name_len == n && memcmp(c->name, name, n) == 0;
}

void zmtp_command_encode(struct builder *b, const char *name, const void *data, size_t len)
{
    size_t n = strlen(name);

    builder_add_u8(b, (uint8_t)n);
    builder_add(b, name, n);
    builder_add(b, data, len);
}

/* Start reading BODY as the command NAME: checks name-length and name exactly. */
static void expect_command(struct reader *r, const char *name)
{
    size_t n = strlen(name);
    uint8_t name_len = (uint8_t)n;

    reader_expect(r, &name_len, 1, "command name length");
    reader_expect(r, name, n, "command name");
}

/* ---- READY metadata ---- */

/* Read one property at R into *P; false (R failed) when it is malformed. */
static bool read_property(struct reader *r, struct zmtp_property *p)
{
    size_t name_len;
    const unsigned char *name;
    uint32_t value_len;

    name_len = reader_u8(r, "property name length");
    if (reader_ok(r) && name_len == 0) {
        reader_fail(r, READER_INVALID, "property name length", "0 (names are 1..255 chars)");
        return false;
    }
    name = reader_bytes(r, name_len, "property name");
    for (size_t i = 0; name != NULL && i < name_len; i++) {
        if (!is_name_char(name[i])) {
            r->ptr = name + i;
            r->len += name_len - i;
            reader_fail(r, READER_INVALID, "property name", "byte 0x%02x is not a name character",
                        name[i]);
            return false;
        }
    }
    value_len = reader_u32be(r, "property value length");
    p->value = reader_bytes(r, value_len, "property value");
    if (!reader_ok(r))
        return false;
    p->name = (const char *)name;
    p->name_len = name_len;
    p->value_len = value_len;
    return true;
}

/* Read properties until the end of R's buffer into *MD (offsets count from R's start). */
static void read_properties(struct reader *r, struct zmtp_metadata *md)
{
    md->list = r->ptr;
    md->list_len = reader_remaining(r);
    if (md->list_len > ZMTP_METADATA_MAX) {
        reader_fail(r, READER_INVALID, "property list", "%zu octets (the reference's bound is %d)",
                    md->list_len, ZMTP_METADATA_MAX);
        return;
    }
    while (reader_ok(r) && reader_remaining(r) > 0) {
        struct zmtp_property p;

        if (!read_property(r, &p))
            return;
        if (md->count < ZMTP_PROPERTIES_MAX)
            md->props[md->count++] = p;
        md->total++;
    }
}

enum zmtp_status zmtp_metadata_decode(const unsigned char *props, size_t len,
                                      struct zmtp_metadata *md, struct zmtp_error *err)
{
    struct reader r;

    memset(md, 0, sizeof(*md));
    reader_init(&r, props, len);
    read_properties(&r, md);
    return reader_verdict(&r, ZMTP_BAD_METADATA, err);
}

enum zmtp_status zmtp_ready_decode(const unsigned char *body, size_t len, struct zmtp_metadata *md,
                                   struct zmtp_error *err)
{
    struct reader r;

    memset(md, 0, sizeof(*md));
    reader_init(&r, body, len);
    expect_command(&r, "READY");
    if (!reader_ok(&r))
        return reader_verdict(&r, ZMTP_BAD_COMMAND, err);
    read_properties(&r, md);
    return reader_verdict(&r, ZMTP_BAD_METADATA, err);
}

bool zmtp_metadata_lookup(const struct zmtp_metadata *md, const char *name,
                          struct zmtp_property *out)
{
    size_t n = strlen(name);
    struct reader r;
    struct zmtp_property p;

    if (md->list == NULL) {
        const struct zmtp_property *listed = zmtp_metadata_find(md, name);

        if (listed != NULL)
            *out = *listed;
        return listed != NULL;
    }
    /* The list was validated by the decode: walk it again. */
    reader_init(&r, md->list, md->list_len);
    for (size_t i = 0; i < md->total && read_property(&r, &p); i++) {
        if (p.name_len == n && strncasecmp(p.name, name, n) == 0) {
            *out = p;
            return true;
        }
    }
    return false;
}

const struct zmtp_property *zmtp_metadata_find(const struct zmtp_metadata *md, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < md->count; i++)
        if (md->props[i].name_len == n && strncasecmp(md->props[i].name, name, n) == 0)
            return &md->props[i];
    return NULL;
}

void zmtp_property_encode(struct builder *b, const char *name, const void *value, size_t len)
{
    size_t n = strlen(name);

    builder_add_u8(b, (uint8_t)n);
    builder_add(b, name, n);
    builder_add_u32be(b, (uint32_t)len);
    builder_add(b, value, len);
}

void zmtp_ready_encode(struct builder *b, const char *socket_type, bool with_identity,
                       const void *identity, size_t identity_len)
{
    zmtp_ready_encode_named(b, "Socket-Type", socket_type, with_identity ? "Identity" : NULL,
                            identity, identity_len);
}

void zmtp_ready_encode_named(struct builder *b, const char *type_name, const char *socket_type,
                             const char *identity_name, const void *identity, size_t identity_len)
{
    zmtp_command_encode(b, "READY", NULL, 0);
    zmtp_property_encode(b, type_name, socket_type, strlen(socket_type));
    if (identity_name != NULL)
        zmtp_property_encode(b, identity_name, identity, identity_len);
}

/* ---- ERROR ---- */

enum zmtp_status zmtp_error_decode(const unsigned char *body, size_t len, const char **reason,
                                   size_t *reason_len, struct zmtp_error *err)
{
    struct reader r;

    *reason = NULL;
    *reason_len = 0;
    reader_init(&r, body, len);
    expect_command(&r, "ERROR");
    *reason_len = reader_u8(&r, "ERROR reason length");
    *reason = (const char *)reader_bytes(&r, *reason_len, "ERROR reason");
    reader_end(&r, "ERROR");
    if (!reader_ok(&r)) {
        *reason = NULL;
        *reason_len = 0;
    }
    return reader_verdict(&r, ZMTP_BAD_ERROR, err);
}

void zmtp_error_encode(struct builder *b, const char *reason)
{
    size_t n = strlen(reason);

    if (n > 255)
        n = 255;
    zmtp_command_encode(b, "ERROR", NULL, 0);
    builder_add_u8(b, (uint8_t)n);
    builder_add(b, reason, n);
}

/* ---- INITIATE and MESSAGE ---- */

/* Decode "NAME u32be(len) token" with nothing after the token. */
static enum zmtp_status decode_token_command(const unsigned char *body, size_t len,
                                             const char *name, const char *length_field,
                                             const char *token_field, enum zmtp_status bad,
                                             const unsigned char **token, size_t *token_len,
                                             struct zmtp_error *err)
{
    struct reader r;
    uint32_t n;

    *token = NULL;
    *token_len = 0;
    reader_init(&r, body, len);
    expect_command(&r, name);
    if (!reader_ok(&r))
        return reader_verdict(&r, ZMTP_BAD_COMMAND, err);
    n = reader_u32be(&r, length_field);
    *token = reader_bytes(&r, n, token_field);
    reader_end(&r, name);
    if (!reader_ok(&r)) {
        *token = NULL;
        return reader_verdict(&r, bad, err);
    }
    *token_len = n;
    return reader_verdict(&r, ZMTP_OK, err);
}

enum zmtp_status zmtp_initiate_decode(const unsigned char *body, size_t len,
                                      const unsigned char **token, size_t *token_len,
                                      struct zmtp_error *err)
{
    return decode_token_command(body, len, "INITIATE", "INITIATE token length", "INITIATE token",
                                ZMTP_BAD_INITIATE, token, token_len, err);
}

void zmtp_initiate_encode(struct builder *b, const void *token, size_t len)
{
    zmtp_command_encode(b, "INITIATE", NULL, 0);
    builder_add_u32be(b, (uint32_t)len);
    builder_add(b, token, len);
}

enum zmtp_status zmtp_message_decode(const unsigned char *body, size_t len,
                                     const unsigned char **token, size_t *token_len,
                                     struct zmtp_error *err)
{
    enum zmtp_status status;

    status = decode_token_command(body, len, "MESSAGE", "MESSAGE token length", "MESSAGE token",
                                  ZMTP_BAD_MESSAGE, token, token_len, err);
    if (status == ZMTP_OK && *token_len == 0)
        return zmtp_fail(err, ZMTP_BAD_MESSAGE,
                         "MESSAGE token length: 0 at offset 8 (a wrap token is never empty)");
    return status;
}

void zmtp_message_encode(struct builder *b, const void *token, size_t len)
{
    zmtp_command_encode(b, "MESSAGE", NULL, 0);
    builder_add_u32be(b, (uint32_t)len);
    builder_add(b, token, len);
}

/* ---- Wrapped plaintext ---- */

enum zmtp_status zmtp_wrapped_decode(const unsigned char *plain, size_t len, struct zmtp_wrapped *w,
                                     struct zmtp_error *err)
{
    struct reader r;

    memset(w, 0, sizeof(*w));
    reader_init(&r, plain, len);
    w->flags = reader_u8(&r, "wrapped flags");
    if (reader_ok(&r) && (w->flags & ~ZMTP_WRAP_KNOWN)) {
        r.ptr--;
        r.len++;
        reader_fail(&r, READER_INVALID, "wrapped flags", "unknown bits 0x%02x",
                    w->flags & ~ZMTP_WRAP_KNOWN);
    }
    if (reader_ok(&r) && (w->flags & ZMTP_WRAP_MORE) && (w->flags & ZMTP_WRAP_COMMAND)) {
        r.ptr--;
        r.len++;
        reader_fail(&r, READER_INVALID, "wrapped flags", "MORE set on a command (0x%02x)",
                    w->flags);
    }
    w->len = reader_remaining(&r);
    w->body = reader_bytes(&r, w->len, "wrapped body");
    if (!reader_ok(&r)) {
        w->body = NULL;
        w->len = 0;
    }
    return reader_verdict(&r, ZMTP_BAD_WRAPPED, err);
}

void zmtp_wrapped_encode(struct builder *b, uint8_t flags, const void *data, size_t len)
{
    builder_add_u8(b, flags);
    builder_add(b, data, len);
}

/* ---- PING / PONG ---- */

/* Read the remaining bytes of R as a ping context of at most 16 bytes. */
static void read_ping_context(struct reader *r, const unsigned char **context, size_t *context_len)
{
    *context_len = reader_remaining(r);
    if (reader_ok(r) && *context_len > PING_CONTEXT_MAX) {
        reader_fail(r, READER_INVALID, "ping context", "%zu bytes (at most %d)", *context_len,
                    PING_CONTEXT_MAX);
        *context_len = 0;
    }
    *context = reader_bytes(r, *context_len, "ping context");
    if (!reader_ok(r)) {
        *context = NULL;
        *context_len = 0;
    }
}

enum zmtp_status zmtp_ping_decode(const unsigned char *body, size_t len, uint16_t *ttl,
                                  const unsigned char **context, size_t *context_len,
                                  struct zmtp_error *err)
{
    struct reader r;

    reader_init(&r, body, len);
    expect_command(&r, "PING");
    *ttl = reader_u16be(&r, "PING ttl");
    read_ping_context(&r, context, context_len);
    return reader_verdict(&r, ZMTP_BAD_PING, err);
}

enum zmtp_status zmtp_pong_decode(const unsigned char *body, size_t len,
                                  const unsigned char **context, size_t *context_len,
                                  struct zmtp_error *err)
{
    struct reader r;

    reader_init(&r, body, len);
    expect_command(&r, "PONG");
    read_ping_context(&r, context, context_len);
    return reader_verdict(&r, ZMTP_BAD_PING, err);
}

void zmtp_ping_encode(struct builder *b, uint16_t ttl, const void *context, size_t len)
{
    zmtp_command_encode(b, "PING", NULL, 0);
    builder_add_u16be(b, ttl);
    builder_add(b, context, len);
}

void zmtp_pong_encode(struct builder *b, const void *context, size_t len)
{
    zmtp_command_encode(b, "PONG", context, len);
}

/* ---- Subscriptions ---- */

enum zmtp_status zmtp_subscription_decode(uint8_t flags, const unsigned char *body, size_t len,
                                          enum zmtp_subscription_kind *kind,
                                          const unsigned char **topic, size_t *topic_len,
                                          struct zmtp_error *err)
{
    struct reader r;

    *topic = NULL;
    *topic_len = 0;
    *kind = ZMTP_SUBSCRIBE;
    reader_init(&r, body, len);
    if ((flags & ZMTP_WRAP_SUBSCRIBE) && (flags & ZMTP_WRAP_CANCEL))
        return zmtp_fail(err, ZMTP_BAD_SUBSCRIPTION,
                         "subscription flags: SUBSCRIBE and CANCEL both set (0x%02x)", flags);
    if (flags & (ZMTP_WRAP_SUBSCRIBE | ZMTP_WRAP_CANCEL)) {
        *kind = (flags & ZMTP_WRAP_CANCEL) ? ZMTP_CANCEL : ZMTP_SUBSCRIBE;
    } else if (flags & ZMTP_WRAP_COMMAND) {
        struct zmtp_command c;
        enum zmtp_status status = zmtp_command_decode(body, len, &c, err);

        if (status != ZMTP_OK)
            return zmtp_fail(err, ZMTP_BAD_SUBSCRIPTION, "%s", err != NULL ? err->text : "");
        if (zmtp_command_is(&c, "SUBSCRIBE"))
            *kind = ZMTP_SUBSCRIBE;
        else if (zmtp_command_is(&c, "CANCEL"))
            *kind = ZMTP_CANCEL;
        else
            return zmtp_fail(err, ZMTP_BAD_SUBSCRIPTION,
                             "command name: \"%.*s\" at offset 1, expected SUBSCRIBE or CANCEL",
                             (int)c.name_len, c.name);
        reader_bytes(&r, 1 + c.name_len, "command name");
    } else {
        uint8_t first = reader_u8(&r, "subscription flag");

        if (reader_ok(&r) && first > 1) {
            r.ptr--;
            r.len++;
            reader_fail(&r, READER_INVALID, "subscription flag", "0x%02x (expected 00 or 01)",
                        first);
        }
        *kind = first == 1 ? ZMTP_SUBSCRIBE : ZMTP_CANCEL;
    }
    *topic_len = reader_remaining(&r);
    *topic = reader_bytes(&r, *topic_len, "subscription topic");
    if (!reader_ok(&r)) {
        *topic = NULL;
        *topic_len = 0;
    }
    return reader_verdict(&r, ZMTP_BAD_SUBSCRIPTION, err);
}

void zmtp_subscription_encode(struct builder *b, enum zmtp_subscription_kind kind,
                              const void *topic, size_t len)
{
    builder_add_u8(b, kind == ZMTP_SUBSCRIBE ? 1 : 0);
    builder_add(b, topic, len);
}

/* ---- RFC 4121 wrap token header ---- */

enum zmtp_status zmtp_wrap_header_decode(const unsigned char *token, size_t len,
                                         struct zmtp_wrap_header *h, struct zmtp_error *err)
{
    static const unsigned char tok_id[2] = {0x05, 0x04};
    static const unsigned char filler = 0xff;
    struct reader r;

    memset(h, 0, sizeof(*h));
    reader_init(&r, token, len);
    /* RFC 4121 4.2.6.2: TOK_ID 05 04, Flags, Filler FF, EC, RRC, SND_SEQ. */
    reader_expect(&r, tok_id, sizeof(tok_id), "wrap token TOK_ID");
    h->flags = reader_u8(&r, "wrap token flags");
    reader_expect(&r, &filler, 1, "wrap token filler");
    h->ec = reader_u16be(&r, "wrap token EC");
    h->rrc = reader_u16be(&r, "wrap token RRC");
    h->snd_seq = reader_u64be(&r, "wrap token SND_SEQ");
    return reader_verdict(&r, ZMTP_BAD_WRAP_TOKEN, err);
}

/* ---- Socket types ---- */

static const struct {
    const char *type;
    const char *peers[3];
} socket_types[] = {
    {"PAIR", {"PAIR"}},
    {"PUB", {"SUB", "XSUB"}},
    {"SUB", {"PUB", "XPUB"}},
    {"REQ", {"REP", "ROUTER"}},
    {"REP", {"REQ", "DEALER"}},
    {"DEALER", {"REP", "DEALER", "ROUTER"}},
    {"ROUTER", {"REQ", "DEALER", "ROUTER"}},
    {"PULL", {"PUSH"}},
    {"PUSH", {"PULL"}},
    {"XPUB", {"SUB", "XSUB"}},
    {"XSUB", {"PUB", "XPUB"}},
};

bool zmtp_socket_type_valid(const char *name)
{
    for (size_t i = 0; i < sizeof(socket_types) / sizeof(socket_types[0]); i++)
        if (strcmp(name, socket_types[i].type) == 0)
            return true;
    return false;
}

bool zmtp_socket_types_compatible(const char *ours, const char *peer, size_t peer_len)
{
    for (size_t i = 0; i < sizeof(socket_types) / sizeof(socket_types[0]); i++) {
        if (strcmp(ours, socket_types[i].type) != 0)
            continue;
        for (size_t j = 0; j < 3 && socket_types[i].peers[j] != NULL; j++) {
            const char *p = socket_types[i].peers[j];

            if (strlen(p) == peer_len && memcmp(p, peer, peer_len) == 0)
                return true;
        }
    }
    return false;
}

bool zmtp_socket_type_has_identity(const char *name)
{
    return strcmp(name, "REQ") == 0 || strcmp(name, "DEALER") == 0 || strcmp(name, "ROUTER") == 0;
}
