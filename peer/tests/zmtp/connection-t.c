/* Tests of zmtp/connection: the peer's greeting and frames out of bytes that arrive in any
 * pieces, and the errors (wrong mechanism, reserved flags, a frame above the limit). */
#include "tests/tap.h"
#include "zmtp/connection.h"

#include <stdlib.h>
#include <string.h>

/* A GSSAPI greeting (as-server AS_SERVER) followed by a short and a long frame, in B. */
static void wire(struct builder *b, uint8_t as_server)
{
    struct zmtp_greeting g;
    unsigned char big[300];

    memset(big, 0xab, sizeof(big));
    zmtp_greeting_init(&g, "GSSAPI", as_server);
    zmtp_greeting_encode(b, &g);
    zmtp_frame_encode(b, ZMTP_FLAG_COMMAND, "\x08INITIATE", 9);
    zmtp_frame_encode(b, 0, big, sizeof(big));
    if (!builder_ok(b))
        bail("out of memory");
}

static void test_pieces(void)
{
    struct builder b;
    struct zmtp_connection c;
    struct zmtp_item item;
    struct zmtp_error err;
    size_t fed = 0;
    int greetings = 0, frames = 0;
    bool bad = false;

    builder_init(&b);
    wire(&b, 1);
    zmtp_connection_init(&c, "GSSAPI", 0);
    /* Feed one byte at a time: every item appears exactly when its last byte arrived. */
    while (fed < b.len) {
        enum zmtp_status st;

        zmtp_connection_add(&c, b.data + fed, 1);
        fed++;
        while ((st = zmtp_connection_next(&c, &item, &err)) == ZMTP_OK) {
            if (item.kind == ZMTP_ITEM_GREETING) {
                greetings++;
                bad |= fed != ZMTP_GREETING_SIZE;
            } else {
                frames++;
                bad |= frames == 1 && (item.frame.size != 9 || fed != 64 + 11);
                bad |= frames == 2 &&
                       (item.frame.size != 300 || fed != b.len || item.frame.body[299] != 0xab);
            }
            zmtp_connection_consume(&c, &item);
            zmtp_connection_compact(&c);
        }
        bad |= st != ZMTP_NEED_MORE;
    }
    ok(greetings == 1 && frames == 2 && !bad, "byte by byte: one greeting, two frames, on time");
    ok(c.greeting_done && c.frames_in == 2 && c.peer_greeting.as_server == 1,
       "greeting decoded, frames counted");
    is_int(zmtp_connection_pending(&c), 0, "everything consumed");
    zmtp_connection_free(&c);

    zmtp_connection_init(&c, "GSSAPI", 0);
    zmtp_connection_add(&c, b.data, b.len);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "all at once: greeting");
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "next without consume: the same");
    ok(item.kind == ZMTP_ITEM_GREETING && !c.greeting_done, "nothing consumed before consume");
    zmtp_connection_consume(&c, &item);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "first frame");
    ok(item.kind == ZMTP_ITEM_FRAME && item.used == 11 &&
           memcmp(item.frame.body, "\x08INIT", 5) == 0,
       "short frame body and size");
    zmtp_connection_free(&c);
    builder_free(&b);
}

static void test_errors(void)
{
    struct builder b;
    struct zmtp_connection c;
    struct zmtp_item item;
    struct zmtp_error err;
    static const unsigned char reserved[] = {0x08, 0x00};

    builder_init(&b);
    wire(&b, 0);
    zmtp_connection_init(&c, "CURVE", 0);
    zmtp_connection_add(&c, b.data, 64);
    ok(zmtp_connection_next(&c, &item, &err) != ZMTP_OK && item.kind == ZMTP_ITEM_GREETING &&
           item.len == 64,
       "another mechanism is refused, the greeting bytes kept for the report: %s", err.text);
    zmtp_connection_free(&c);

    zmtp_connection_init(&c, NULL, 0);
    zmtp_connection_add(&c, b.data, 64);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "mechanism NULL: any is taken");
    zmtp_connection_consume(&c, &item);
    zmtp_connection_add(&c, reserved, sizeof(reserved));
    ok(zmtp_connection_next(&c, &item, &err) != ZMTP_OK && item.kind == ZMTP_ITEM_FRAME &&
           item.len == 2 && item.bytes[0] == 0x08,
       "reserved flag bits refused, the bytes kept: %s", err.text);
    zmtp_connection_free(&c);

    zmtp_connection_init(&c, "GSSAPI", 100);
    zmtp_connection_add(&c, b.data, b.len);
    zmtp_connection_next(&c, &item, &err);
    zmtp_connection_consume(&c, &item);
    zmtp_connection_next(&c, &item, &err);
    zmtp_connection_consume(&c, &item);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_FRAME_TOO_LARGE,
           "a 300-byte frame over a 100-byte limit");
    zmtp_connection_free(&c);
    builder_free(&b);
}

/* What is still missing of the item being received, byte by byte: the greeting's rest, nothing
 * while a frame header is incomplete, then the rest of the frame it announces. */
static void test_missing(void)
{
    struct builder b;
    struct zmtp_connection c;
    struct zmtp_item item;
    struct zmtp_error err;
    size_t fed = 0, wrong = 0, first_wrong = 0;

    builder_init(&b);
    wire(&b, 1); /* greeting 0..63, short frame 64..74 (2 + 9), long frame 75..383 (9 + 300) */
    zmtp_connection_init(&c, "GSSAPI", 0);
    is_int(zmtp_connection_missing(&c), 64, "nothing yet: the whole greeting is missing");
    while (fed < b.len) {
        size_t want;

        zmtp_connection_add(&c, b.data + fed, 1);
        fed++;
        while (zmtp_connection_next(&c, &item, &err) == ZMTP_OK) {
            zmtp_connection_consume(&c, &item);
            zmtp_connection_compact(&c);
        }
        if (fed < 64)
            want = 64 - fed;
        else if (fed < 66 || fed == 75)
            want = 0; /* short header incomplete, or between frames */
        else if (fed < 75)
            want = 75 - fed;
        else if (fed < 84)
            want = 0; /* the 9 bytes of a long header */
        else
            want = b.len - fed;
        if (zmtp_connection_missing(&c) != want && wrong++ == 0)
            first_wrong = fed;
    }
    ok(wrong == 0, "byte by byte, the missing count is the announced rest (first wrong after %zu)",
       first_wrong);
    zmtp_connection_free(&c);

    zmtp_connection_init(&c, "GSSAPI", 100);
    zmtp_connection_add(&c, b.data, 75 + 9);
    while (zmtp_connection_next(&c, &item, &err) == ZMTP_OK)
        zmtp_connection_consume(&c, &item);
    is_int(zmtp_connection_missing(&c), 0, "a frame over the limit: nothing to read for it");
    zmtp_connection_free(&c);
    builder_free(&b);
}

/* zmtp_connection_take hands the input buffer over only with a frame that ends it. */
static void test_take(void)
{
    struct builder b;
    struct zmtp_connection c;
    struct zmtp_item item;
    struct zmtp_error err;
    unsigned char *block;
    const unsigned char *body;

    builder_init(&b);
    wire(&b, 1); /* greeting, a short frame, a long frame (300 bytes of 0xab) */
    zmtp_connection_init(&c, "GSSAPI", 0);
    zmtp_connection_add(&c, b.data, b.len);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "greeting");
    ok(zmtp_connection_take(&c, &item) == NULL, "a greeting is never taken");
    zmtp_connection_consume(&c, &item);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "short frame");
    ok(zmtp_connection_take(&c, &item) == NULL && zmtp_connection_pending(&c) == b.len - 64,
       "a frame with bytes after it is not taken, nothing consumed");
    zmtp_connection_consume(&c, &item);
    is_int(zmtp_connection_next(&c, &item, &err), ZMTP_OK, "long frame");
    body = item.frame.body;
    block = zmtp_connection_take(&c, &item);
    ok(block != NULL && body > block && body[0] == 0xab && body[299] == 0xab,
       "the last frame takes the buffer, its body inside it");
    ok(zmtp_connection_pending(&c) == 0 && c.frames_in == 2, "consumed and counted");
    free(block);
    zmtp_connection_add(&c, b.data + b.len - 309, 309);
    ok(zmtp_connection_next(&c, &item, &err) == ZMTP_OK && item.frame.size == 300,
       "the connection goes on with a fresh buffer");
    zmtp_connection_free(&c);
    builder_free(&b);
}

int main(void)
{
    plan_lazy();
    test_pieces();
    test_errors();
    test_missing();
    test_take();
    done_testing();
}
