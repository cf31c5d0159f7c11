/*
 * Fuzz target: the ZMTP codec's decoders (zmtp/codec.h), each on the same bytes: greeting,
 * frame, command, READY metadata, ERROR, INITIATE, MESSAGE, the wrapped plaintext, PING,
 * PONG, subscriptions and the RFC 4121 wrap header. What decodes is encoded again and must
 * decode to the same fields (greeting, frame, command, properties, INITIATE, MESSAGE).
 *
 * Input: one octet that picks the subscription flags (its low 4 bits), then the bytes.
 */
#include "util/builder.h"
#include "zmtp/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void greeting(const uint8_t *d, size_t n)
{
    struct zmtp_greeting g, back;
    struct zmtp_error err;
    struct builder b;

    if (zmtp_greeting_decode(d, n, NULL, &g, &err) != ZMTP_OK)
        return;
    (void)zmtp_greeting_decode(d, n, "GSSAPI", &back, &err);
    builder_init(&b);
    zmtp_greeting_encode(&b, &g);
    if (builder_ok(&b)) {
        CHECK(b.len == ZMTP_GREETING_SIZE);
        CHECK(memcmp(b.data, d, ZMTP_GREETING_SIZE) == 0);
    }
    builder_free(&b);
}

static void frame(const uint8_t *d, size_t n)
{
    struct zmtp_frame f, back;
    struct zmtp_error err;
    struct builder b;
    size_t used, used2;

    (void)zmtp_frame_header_decode(d, n, 300, &f, &err);
    if (zmtp_frame_decode(d, n, 0, &f, &used, &err) != ZMTP_OK)
        return;
    CHECK(used <= n && used == f.header_len + f.size);
    builder_init(&b);
    zmtp_frame_encode(&b, f.flags & (ZMTP_FLAG_MORE | ZMTP_FLAG_COMMAND), f.body, (size_t)f.size);
    if (builder_ok(&b)) {
        CHECK(zmtp_frame_decode(b.data, b.len, 0, &back, &used2, &err) == ZMTP_OK);
        CHECK(back.size == f.size && used2 == b.len);
        CHECK(f.size == 0 || memcmp(back.body, f.body, (size_t)f.size) == 0);
    }
    builder_free(&b);
}

static void command(const uint8_t *d, size_t n)
{
    struct zmtp_command c, back;
    struct zmtp_error err;
    struct builder b;
    char name[256];

    if (zmtp_command_decode(d, n, &c, &err) != ZMTP_OK)
        return;
    CHECK(c.name_len >= 1 && c.name_len <= 255);
    memcpy(name, c.name, c.name_len);
    name[c.name_len] = '\0';
    CHECK(zmtp_command_is(&c, name));
    builder_init(&b);
    zmtp_command_encode(&b, name, c.data, c.data_len);
    if (builder_ok(&b)) {
        CHECK(b.len == n && memcmp(b.data, d, n) == 0);
        CHECK(zmtp_command_decode(b.data, b.len, &back, &err) == ZMTP_OK);
    }
    builder_free(&b);
}

static void metadata(const uint8_t *d, size_t n)
{
    struct zmtp_metadata md, back;
    struct zmtp_error err;
    struct builder b;

    (void)zmtp_ready_decode(d, n, &md, &err);
    if (zmtp_metadata_decode(d, n, &md, &err) != ZMTP_OK)
        return;
    (void)zmtp_metadata_find(&md, "socket-type");
    (void)zmtp_metadata_find(&md, "Identity");
    builder_init(&b);
    for (size_t i = 0; i < md.count; i++) {
        char name[256];

        memcpy(name, md.props[i].name, md.props[i].name_len);
        name[md.props[i].name_len] = '\0';
        zmtp_property_encode(&b, name, md.props[i].value, md.props[i].value_len);
    }
    if (builder_ok(&b)) {
        CHECK(b.len == n && (n == 0 || memcmp(b.data, d, n) == 0));
        CHECK(zmtp_metadata_decode(b.data, b.len, &back, &err) == ZMTP_OK);
        CHECK(back.count == md.count);
    }
    builder_free(&b);
}

static void tokens(const uint8_t *d, size_t n)
{
    const unsigned char *token;
    size_t token_len;
    struct zmtp_error err;
    struct builder b;

    builder_init(&b);
    if (zmtp_initiate_decode(d, n, &token, &token_len, &err) == ZMTP_OK) {
        zmtp_initiate_encode(&b, token, token_len);
        if (builder_ok(&b))
            CHECK(b.len == n && memcmp(b.data, d, n) == 0);
    }
    builder_free(&b);
    builder_init(&b);
    if (zmtp_message_decode(d, n, &token, &token_len, &err) == ZMTP_OK) {
        CHECK(token_len > 0);
        zmtp_message_encode(&b, token, token_len);
        if (builder_ok(&b))
            CHECK(b.len == n && memcmp(b.data, d, n) == 0);
    }
    builder_free(&b);
}

static void others(uint8_t opt, const uint8_t *d, size_t n)
{
    struct zmtp_error err;
    struct zmtp_wrapped w;
    struct zmtp_wrap_header h;
    const char *reason;
    const unsigned char *ctx, *topic;
    size_t reason_len, ctx_len, topic_len;
    uint16_t ttl;
    enum zmtp_subscription_kind kind;
    char text[64];

    (void)zmtp_error_decode(d, n, &reason, &reason_len, &err);
    if (zmtp_wrapped_decode(d, n, &w, &err) == ZMTP_OK) {
        CHECK((w.flags & ~ZMTP_WRAP_KNOWN) == 0);
        (void)zmtp_subscription_decode(w.flags, w.body, w.len, &kind, &topic, &topic_len, &err);
    }
    (void)zmtp_ping_decode(d, n, &ttl, &ctx, &ctx_len, &err);
    (void)zmtp_pong_decode(d, n, &ctx, &ctx_len, &err);
    (void)zmtp_subscription_decode(opt & 0x0f, d, n, &kind, &topic, &topic_len, &err);
    (void)zmtp_wrap_header_decode(d, n, &h, &err);
    /* socket-type helpers on a NUL-terminated copy */
    if (n < sizeof(text)) {
        memcpy(text, d, n);
        text[n] = '\0';
        (void)zmtp_socket_type_valid(text);
        (void)zmtp_socket_type_has_identity(text);
        (void)zmtp_socket_types_compatible("DEALER", text, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt;

    if (size < 1)
        return 0;
    opt = data[0];
    data++, size--;
    greeting(data, size);
    frame(data, size);
    command(data, size);
    metadata(data, size);
    tokens(data, size);
    others(opt, data, size);
    return 0;
}
