/* Tests of the ZMTP codec (zmtp/codec.c) on the layouts of docs/zmtp-gssapi.md and libzmq captures. */
#include "zmtp/codec.h"

#include "tests/tap.h"
#include "util/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode the hex string HEX into a new buffer (caller frees); *LEN gets its length. */
static unsigned char *unhex(const char *hex, size_t *len)
{
    unsigned char *out;

    if (hex_decode(hex, &out, len) != HEX_OK)
        bail("bad hex in test data: %s", hex);
    return out;
}

/* Greeting sent by libzmq 4.3.4 (as-server 0 on a server, padding carries 01). */
static const char libzmq_greeting[] =
    "ff00000000000000017f0301475353415049000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000";

static void test_greeting(void)
{
    struct zmtp_greeting g, got;
    struct zmtp_error err;
    struct builder b;
    unsigned char *wire;
    size_t len;

    wire = unhex(libzmq_greeting, &len);
    is_int(zmtp_greeting_decode(wire, len, "GSSAPI", &got, &err), ZMTP_OK, "libzmq greeting");
    is_string(got.mechanism, "GSSAPI", "mechanism name");
    is_int(got.major * 10 + got.minor, 31, "version 3.1");
    is_int(got.as_server, 0, "libzmq sends as-server 0");
    is_int(zmtp_greeting_decode(wire, 11, "GSSAPI", &got, &err), ZMTP_NEED_MORE,
           "11 staged bytes are valid so far");
    is_int(zmtp_greeting_decode(wire, len, "NULL", &got, &err), ZMTP_BAD_MECHANISM,
           "mechanism mismatch");
    is_string(err.text,
              "mechanism mismatch: greeting mechanism: \"GSSAPI\" at offset 12, expected \"NULL\"",
              "mismatch names the field and offset");
    wire[10] = 1;
    is_int(zmtp_greeting_decode(wire, 11, "GSSAPI", &got, &err), ZMTP_BAD_VERSION,
           "ZMTP 2.0 refused after 11 bytes");
    wire[0] = 0x01;
    is_int(zmtp_greeting_decode(wire, 1, "GSSAPI", &got, &err), ZMTP_BAD_SIGNATURE,
           "bad signature after 1 byte");
    free(wire);

    zmtp_greeting_init(&g, "GSSAPI", 1);
    builder_init(&b);
    zmtp_greeting_encode(&b, &g);
    ok(builder_ok(&b) && b.len == 64, "greeting is 64 bytes");
    is_int(zmtp_greeting_decode(b.data, b.len, "GSSAPI", &got, &err), ZMTP_OK, "round trip");
    is_int(got.as_server, 1, "as-server 1 on the server");
    builder_free(&b);
}

static void test_frames(void)
{
    static const unsigned char short_frame[] = {0x04, 0x00};
    unsigned char long_frame[9 + 300];
    struct zmtp_frame f;
    struct zmtp_error err;
    struct builder b;
    size_t used;

    is_int(zmtp_frame_decode(short_frame, 2, 0, &f, &used, &err), ZMTP_OK, "empty command frame");
    ok(f.flags == ZMTP_FLAG_COMMAND && f.size == 0 && used == 2, "04 00 decoded");
    memset(long_frame, 'x', sizeof(long_frame));
    memcpy(long_frame, "\x02\x00\x00\x00\x00\x00\x00\x01\x2c", 9);
    is_int(zmtp_frame_decode(long_frame, 100, 0, &f, &used, &err), ZMTP_NEED_MORE,
           "partial long frame");
    is_int(zmtp_frame_decode(long_frame, sizeof(long_frame), 0, &f, &used, &err), ZMTP_OK,
           "long frame");
    is_int((long long)f.size, 300, "long size");
    is_int(zmtp_frame_decode(long_frame, sizeof(long_frame), 299, &f, &used, &err),
           ZMTP_FRAME_TOO_LARGE, "limit enforced");
    long_frame[0] = 0x05;
    is_int(zmtp_frame_header_decode(long_frame, 2, 0, &f, &err), ZMTP_BAD_FRAME,
           "MORE on a command frame");
    long_frame[0] = 0x10;
    is_int(zmtp_frame_header_decode(long_frame, 2, 0, &f, &err), ZMTP_BAD_FRAME, "reserved bit");
    is_string(err.text, "bad frame: frame flags: reserved bits set (0x10) at offset 0",
              "reserved bit reason");

    builder_init(&b);
    zmtp_frame_encode(&b, 0, long_frame, 255);
    zmtp_frame_encode(&b, ZMTP_FLAG_COMMAND, long_frame, 256);
    ok(builder_ok(&b) && b.len == 2 + 255 + 9 + 256, "255 short, 256 long");
    ok(b.data[0] == 0x00 && b.data[1] == 0xff && b.data[257] == 0x06, "flags chosen");
    builder_free(&b);
}

static void test_commands(void)
{
    struct zmtp_command c;
    struct zmtp_error err;
    struct builder b;
    const unsigned char *token;
    size_t token_len;
    unsigned char *body;
    size_t len;

    is_int(zmtp_command_decode((const unsigned char *)"", 0, &c, &err), ZMTP_BAD_COMMAND,
           "empty body is not a command");
    is_int(zmtp_command_decode((const unsigned char *)"\x05READ", 5, &c, &err), ZMTP_BAD_COMMAND,
           "short name");
    is_string(err.text, "bad command: command name: needs 5 bytes at offset 1, 4 left",
              "short name reason");

    builder_init(&b);
    zmtp_initiate_encode(&b, "tok", 3);
    is_blob(b.data, b.len, "\x08INITIATE\x00\x00\x00\x03tok", 16, "INITIATE layout");
    is_int(zmtp_initiate_decode(b.data, b.len, &token, &token_len, &err), ZMTP_OK,
           "INITIATE decodes");
    is_blob(token, token_len, "tok", 3, "INITIATE token");
    builder_add_u8(&b, 0);
    is_int(zmtp_initiate_decode(b.data, b.len, &token, &token_len, &err), ZMTP_BAD_INITIATE,
           "trailing byte after the token");
    is_string(err.text, "bad INITIATE: INITIATE: 1 trailing bytes at offset 16", "trailing reason");
    is_int(zmtp_initiate_decode(b.data, 11, &token, &token_len, &err), ZMTP_BAD_INITIATE,
           "truncated length");
    is_string(err.text, "bad INITIATE: INITIATE token length: needs 4 bytes at offset 9, 2 left",
              "truncated length reason");
    builder_reset(&b);
    zmtp_message_encode(&b, NULL, 0);
    is_int(zmtp_message_decode(b.data, b.len, &token, &token_len, &err), ZMTP_BAD_MESSAGE,
           "empty wrap token");
    builder_free(&b);

    /* READY plaintext of libzmq's DEALER (inside the wrap, after the flags byte). */
    body = unhex("0552454144590b536f636b65742d54797065000000064445414c4552084964656e74697479"
                 "00000007616c6963652d31",
                 &len);
    {
        struct zmtp_metadata md;
        const struct zmtp_property *p;

        is_int(zmtp_ready_decode(body, len, &md, &err), ZMTP_OK, "libzmq READY");
        p = zmtp_metadata_find(&md, "socket-type");
        ok(p != NULL && p->value_len == 6 && memcmp(p->value, "DEALER", 6) == 0,
           "Socket-Type DEALER");
        p = zmtp_metadata_find(&md, "Identity");
        ok(p != NULL && p->value_len == 7, "Identity alice-1");
        builder_init(&b);
        zmtp_ready_encode(&b, "DEALER", true, "alice-1", 7);
        is_blob(b.data, b.len, body, len, "READY encodes as libzmq does");
        builder_free(&b);
        body[len - 8] = 0x08;
        is_int(zmtp_ready_decode(body, len, &md, &err), ZMTP_BAD_METADATA, "bad value length");
        is_string(err.text,
                  "bad READY metadata: property value: needs 8 bytes at offset 41, 7 left",
                  "value length reason names the offset in the body");
    }
    free(body);
}

static void test_wrapped_and_friends(void)
{
    struct zmtp_wrapped w;
    struct zmtp_error err;
    enum zmtp_subscription_kind kind;
    const unsigned char *topic, *context;
    size_t topic_len, context_len;
    uint16_t ttl;
    struct zmtp_wrap_header h;
    unsigned char *token;
    size_t len;

    is_int(zmtp_wrapped_decode((const unsigned char *)"", 0, &w, &err), ZMTP_BAD_WRAPPED,
           "zero-byte plaintext");
    is_int(zmtp_wrapped_decode((const unsigned char *)"\x01hello", 6, &w, &err), ZMTP_OK,
           "MORE part");
    ok(w.flags == ZMTP_WRAP_MORE && w.len == 5, "flags and body");
    is_int(zmtp_wrapped_decode((const unsigned char *)"\x40x", 2, &w, &err), ZMTP_BAD_WRAPPED,
           "unknown flag bit");

    is_int(zmtp_subscription_decode(0, (const unsigned char *)"\x01news", 5, &kind, &topic,
                                    &topic_len, &err),
           ZMTP_OK, "00 01 topic");
    ok(kind == ZMTP_SUBSCRIBE && topic_len == 4, "subscribe news");
    is_int(zmtp_subscription_decode(ZMTP_WRAP_COMMAND,
                                    (const unsigned char *)"\x06"
                                                           "CANCELab",
                                    9, &kind, &topic, &topic_len, &err),
           ZMTP_OK, "CANCEL command");
    ok(kind == ZMTP_CANCEL && topic_len == 2, "cancel ab");
    is_int(zmtp_subscription_decode(ZMTP_WRAP_SUBSCRIBE, (const unsigned char *)"t", 1, &kind,
                                    &topic, &topic_len, &err),
           ZMTP_OK, "SUBSCRIBE flag bit");
    is_int(zmtp_subscription_decode(0, (const unsigned char *)"\x02x", 2, &kind, &topic, &topic_len,
                                    &err),
           ZMTP_BAD_SUBSCRIPTION, "bad subscription byte");

    is_int(zmtp_ping_decode((const unsigned char *)"\x04PING\x00\x0a", 7, &ttl, &context,
                            &context_len, &err),
           ZMTP_OK, "PING from libzmq");
    ok(ttl == 10 && context_len == 0, "ttl 10, no context");

    token = unhex("050406ff00000000000000001877eaf6228df86d", &len);
    is_int(zmtp_wrap_header_decode(token, len, &h, &err), ZMTP_OK, "wrap token header");
    ok(h.flags == 6 && h.ec == 0 && h.rrc == 0 && h.snd_seq == 0x1877eaf6, "header fields");
    free(token);
}

/* 23/ZMTP sets no count limit on READY properties: 40 are fine (the last one still found);
 * the bound is the list's total size. */
static void test_many_properties(void)
{
    struct builder b;
    struct zmtp_metadata md;
    struct zmtp_property p;
    struct zmtp_error err;
    char name[16];

    builder_init(&b);
    zmtp_command_encode(&b, "READY", NULL, 0);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "X-P%d", i);
        zmtp_property_encode(&b, name, "v", 1);
    }
    zmtp_property_encode(&b, "Socket-Type", "DEALER", 6);
    is_int(zmtp_ready_decode(b.data, b.len, &md, &err), ZMTP_OK, "41 READY properties accepted");
    ok(md.total == 41 && md.count == ZMTP_PROPERTIES_MAX, "41 in all, %zu listed (%zu)", md.count,
       md.total);
    ok(zmtp_metadata_lookup(&md, "socket-type", &p) && p.value_len == 6 &&
           memcmp(p.value, "DEALER", 6) == 0,
       "the 41st property is found");
    ok(!zmtp_metadata_lookup(&md, "X-None", &p), "an absent one is not");
    builder_reset(&b);
    zmtp_command_encode(&b, "READY", NULL, 0);
    zmtp_property_encode(&b, "Socket-Type", "DEALER", 6);
    {
        static unsigned char big[ZMTP_METADATA_MAX];

        zmtp_property_encode(&b, "X-Big", big, sizeof(big) - 32); /* 22 + 10 + value = the bound */
    }
    is_int(zmtp_ready_decode(b.data, b.len, &md, &err), ZMTP_OK,
           "a property list of exactly the bound is accepted");
    builder_add_u8(&b, 1);
    is_int(zmtp_ready_decode(b.data, b.len, &md, &err), ZMTP_BAD_METADATA,
           "one octet more is refused");
    ok(strstr(err.text, "property list") != NULL, "and says so: %s", err.text);
    builder_free(&b);
}

int main(void)
{
    plan(61);
    test_greeting();
    test_frames();
    test_commands();
    test_wrapped_and_friends();
    test_many_properties();
    return 0;
}
