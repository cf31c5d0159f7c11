/* Tests of the fault catalogue (tools/faults.c): option parsing and what each greeting and frame
 * fault does to the bytes, on buffers (the exchanges themselves are tests/zmtp/faults-t.py). */
#include "tools/faults.h"

#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh client (or SERVER) plan holding the one fault TEXT; events go to a scratch file. */
static void plan_with(struct fault_plan *p, const char *text, bool server, struct builder *out,
                      FILE *events)
{
    char why[256];

    faults_init(p, server);
    p->events = events;
    p->out = out;
    if (!faults_add(p, text, server, why, sizeof(why)))
        bail("fault %s: %s", text, why);
}

/* Our greeting (client, 3.1, GSSAPI) with fault TEXT applied; *LEN gets its length. */
static void greeting_with(const char *text, FILE *events, unsigned char *bytes, size_t *len)
{
    struct fault_plan p;
    struct builder b;
    struct zmtp_greeting g;

    builder_init(&b);
    plan_with(&p, text, false, NULL, events);
    zmtp_greeting_init(&g, "GSSAPI", 0);
    zmtp_greeting_encode(&b, &g);
    faults_greeting_hook(&p, &b);
    *len = b.len;
    memcpy(bytes, b.data, b.len);
    builder_free(&b);
    faults_release(&p);
}

static void test_parsing(void)
{
    struct fault_plan p;
    char why[256];
    char *argv[] = {"zmtp-client",
                    "--connect",
                    "tcp://h:1",
                    "--fault",
                    "tamper-token",
                    "--observe-ms=500",
                    "--fault=unknown-flags:80",
                    "--count",
                    "2",
                    NULL};
    int argc = 9;

    faults_init(&p, false);
    ok(!faults_add(&p, "no-such-fault", false, why, sizeof(why)), "unknown fault refused");
    is_string(why, "--fault no-such-fault: unknown fault \"no-such-fault\" (see gsspeer faults)",
              "the reason names it");
    ok(!faults_add(&p, "greeting-minor:x", false, why, sizeof(why)), "bad number refused");
    is_string(why, "--fault greeting-minor:x: greeting-minor needs N, a number in 0..255",
              "the reason names the ARG syntax");
    ok(!faults_add(&p, "greeting-minor:256", false, why, sizeof(why)), "out of range refused");
    ok(!faults_add(&p, "tamper-token:1", false, why, sizeof(why)), "ARG where none is taken");
    ok(!faults_add(&p, "unknown-flags:1", false, why, sizeof(why)), "HEX needs two digits");
    ok(!faults_add(&p, "frame-reserved-flags:04", false, why, sizeof(why)),
       "frame-reserved-flags: a defined bit refused");
    is_string(why,
              "--fault frame-reserved-flags:04: frame-reserved-flags needs HEX with only bits 7-3 "
              "set (08-F8)",
              "the reason names the reserved bits");
    ok(!faults_add(&p, "frame-reserved-flags:00", false, why, sizeof(why)),
       "frame-reserved-flags: no bit refused");
    ok(!faults_add(&p, "greeting-mechanism:", false, why, sizeof(why)), "empty NAME refused");
    ok(!faults_add(&p, "greeting-mechanism:ABCDEFGHIJKLMNOPQRSTU", false, why, sizeof(why)),
       "NAME over 20 characters refused");
    ok(!faults_add(&p, "skip-empty-frame", true, why, sizeof(why)), "client-only on a server");
    is_string(why, "--fault skip-empty-frame: applies to the client role only", "role named");
    is_int((long long)p.count, 0, "nothing added on failure");
    ok(faults_add(&p, "unknown-flags:8a", false, why, sizeof(why)), "hex flags");
    is_int((long long)p.faults[0].number, 0x8a, "HEX value");
    faults_release(&p);

    is_int(faults_take_options(&p, &argc, argv, false), -1, "take --fault and --observe-ms");
    is_int(argc, 5, "the other options are left");
    ok(strcmp(argv[3], "--count") == 0 && strcmp(argv[4], "2") == 0 && argv[5] == NULL,
       "in order, NULL-terminated");
    is_int((long long)p.count, 2, "two faults");
    is_int(p.observe_ms, 500, "--observe-ms=500");
    is_string(p.faults[1].spec->name, "unknown-flags", "second fault");
    faults_release(&p);

    {
        char *bad[] = {"zmtp-server", "--fault", NULL};
        int bad_argc = 2;

        is_int(faults_take_options(&p, &bad_argc, bad, true), 64, "--fault without a value");
    }
    {
        size_t n = 0;

        for (const struct fault_spec *f = fault_catalogue; f->name != NULL; f++)
            n++;
        ok(n >= 36, "the catalogue has %zu faults", n);
    }
}

static void test_greeting(FILE *events)
{
    unsigned char g[ZMTP_GREETING_SIZE];
    size_t len;
    struct zmtp_greeting got;
    struct zmtp_error err;

    greeting_with("greeting-mechanism:NULL", events, g, &len);
    is_int(zmtp_greeting_decode(g, len, "NULL", &got, &err), ZMTP_OK, "mechanism NULL");
    ok(memcmp(g + 12, "NULL\0\0\0\0", 8) == 0, "NUL-padded in bytes 12-31");
    greeting_with("greeting-mechanism:GSSAPIX", events, g, &len);
    is_int(zmtp_greeting_decode(g, len, "GSSAPI", &got, &err), ZMTP_BAD_MECHANISM,
           "GSSAPIX is not GSSAPI");
    greeting_with("greeting-zmtp2", events, g, &len);
    is_int((long long)len, 14, "ZMTP 2.0 greeting: 14 bytes");
    ok(g[0] == 0xff && g[9] == 0x7f && g[10] == 0x01 && g[11] == 5 && g[12] == 0 && g[13] == 0,
       "signature, revision 01, DEALER (5), empty identity");
    is_int(zmtp_greeting_decode(g, len, "GSSAPI", &got, &err), ZMTP_BAD_VERSION, "refused as 2.0");
    greeting_with("greeting-zmtp1", events, g, &len);
    ok(len == 2 && g[0] == 0x01 && g[1] == 0x00, "ZMTP 1.0: 01 00");
    is_int(zmtp_greeting_decode(g, len, "GSSAPI", &got, &err), ZMTP_BAD_SIGNATURE, "no signature");
    greeting_with("greeting-minor:9", events, g, &len);
    ok(zmtp_greeting_decode(g, len, "GSSAPI", &got, &err) == ZMTP_OK && got.minor == 9,
       "minor 9 still decodes");
    greeting_with("greeting-major:2", events, g, &len);
    is_int(g[10], 2, "major 2");
    greeting_with("greeting-as-server:1", events, g, &len);
    is_int(g[32], 1, "as-server 1");
    greeting_with("greeting-padding", events, g, &len);
    ok(g[1] == 1 && g[8] == 8 && g[0] == 0xff && g[9] == 0x7f, "padding 01..08, signature kept");
    greeting_with("greeting-staged:100", events, g, &len);
    ok(len == 64 && g[12] == 'G', "staged: the bytes themselves are unchanged");
}

/* An outgoing frame of KIND whose body is a copy of BODY. */
static struct zmtp_mech_frame frame_of(const char *kind, uint8_t flags, const struct builder *body)
{
    struct zmtp_mech_frame f = {.flags = flags, .kind = kind};

    f.len = body->len;
    f.body = malloc(body->len > 0 ? body->len : 1);
    if (f.body == NULL)
        bail("out of memory");
    if (body->len > 0)
        memcpy(f.body, body->data, body->len);
    return f;
}

/* Apply fault TEXT to an INITIATE carrying a 20-byte token; *KEPT says whether the frame stays,
 * OUT receives what the fault writes itself. */
static struct zmtp_mech_frame initiate_with(const char *text, FILE *events, struct builder *out,
                                            bool *kept)
{
    struct fault_plan p;
    struct builder body;
    struct zmtp_mech_frame f;

    builder_init(&body);
    zmtp_initiate_encode(&body, "0123456789abcdefghij", 20);
    f = frame_of("INITIATE", ZMTP_FLAG_COMMAND, &body);
    builder_free(&body);
    plan_with(&p, text, false, out, events);
    *kept = faults_frame_hook(&p, &f);
    ok(p.faults[0].applied, "%s: applied", text);
    faults_release(&p);
    return f;
}

static void test_initiate(FILE *events)
{
    struct builder out;
    struct zmtp_mech_frame f;
    struct zmtp_command c;
    struct zmtp_metadata md;
    const unsigned char *token;
    size_t token_len;
    const char *reason;
    size_t reason_len;
    struct zmtp_error err;
    bool kept;

    builder_init(&out);
    f = initiate_with("hello-command", events, &out, &kept);
    ok(kept && zmtp_command_decode(f.body, f.len, &c, &err) == ZMTP_OK &&
           zmtp_command_is(&c, "HELLO") && c.data_len == 24,
       "HELLO with the INITIATE data");
    zmtp_mech_frame_free(&f);
    f = initiate_with("welcome-command", events, &out, &kept);
    ok(kept && zmtp_command_decode(f.body, f.len, &c, &err) == ZMTP_OK &&
           zmtp_command_is(&c, "WELCOME") && c.data_len == 24,
       "WELCOME with the INITIATE data");
    zmtp_mech_frame_free(&f);
    f = initiate_with("error-command:go away", events, &out, &kept);
    ok(zmtp_error_decode(f.body, f.len, &reason, &reason_len, &err) == ZMTP_OK && reason_len == 7 &&
           memcmp(reason, "go away", 7) == 0,
       "ERROR \"go away\"");
    zmtp_mech_frame_free(&f);
    f = initiate_with("unknown-command", events, &out, &kept);
    ok(zmtp_command_decode(f.body, f.len, &c, &err) == ZMTP_OK && zmtp_command_is(&c, "FROBNICATE"),
       "FROBNICATE");
    zmtp_mech_frame_free(&f);
    f = initiate_with("initiate-garbage", events, &out, &kept);
    ok(zmtp_initiate_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_OK &&
           token_len == 20 && memcmp(token, "0123456789abcdefghij", 20) != 0,
       "same length, other bytes");
    zmtp_mech_frame_free(&f);
    f = initiate_with("initiate-empty", events, &out, &kept);
    ok(zmtp_initiate_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_OK && token_len == 0,
       "zero-length token");
    zmtp_mech_frame_free(&f);
    f = initiate_with("initiate-truncated-length", events, &out, &kept);
    ok(f.len == 11 &&
           zmtp_initiate_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_BAD_INITIATE,
       "body ends inside the length");
    zmtp_mech_frame_free(&f);
    f = initiate_with("initiate-trailing:3", events, &out, &kept);
    ok(f.len == 36 && f.body[35] == 0xaa &&
           zmtp_initiate_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_BAD_INITIATE,
       "3 trailing bytes");
    zmtp_mech_frame_free(&f);
    f = initiate_with("initiate-short", events, &out, &kept);
    ok(f.len == 33 && f.body[12] == 120 &&
           zmtp_initiate_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_BAD_INITIATE,
       "length 120 for 20 bytes");
    zmtp_mech_frame_free(&f);
    f = initiate_with("early-ready", events, &out, &kept);
    ok(zmtp_ready_decode(f.body, f.len, &md, &err) == ZMTP_OK &&
           zmtp_metadata_find(&md, "Socket-Type") != NULL,
       "a plain READY");
    zmtp_mech_frame_free(&f);
    f = initiate_with("early-message", events, &out, &kept);
    ok(zmtp_message_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_OK && token_len == 64,
       "a MESSAGE with a 64-byte token");
    zmtp_mech_frame_free(&f);
    is_int((long long)out.len, 0, "nothing written aside so far");

    f = initiate_with("initiate-long-frame", events, &out, &kept);
    ok(!kept && out.len == 9 + 33 && out.data[0] == 0x06 && out.data[8] == 33,
       "LONG command frame of 33 bytes written instead");
    zmtp_mech_frame_free(&f);
    builder_reset(&out);
    f = initiate_with("oversize:1000000", events, &out, &kept);
    ok(!kept && out.len == 9 + 4096 && out.data[0] == 0x06 && out.data[6] == 0x0f &&
           out.data[7] == 0x42 && out.data[8] == 0x40,
       "LONG header announcing 1000000 bytes, 4096 sent");
    zmtp_mech_frame_free(&f);
    builder_free(&out);
}

/* Apply fault TEXT (client plan) to frame F; returns whether it is kept. */
static bool hook(const char *text, FILE *events, struct builder *out, struct zmtp_mech_frame *f)
{
    struct fault_plan p;
    bool kept;

    plan_with(&p, text, false, out, events);
    kept = faults_frame_hook(&p, f);
    ok(p.faults[0].applied, "%s: applied", text);
    faults_release(&p);
    return kept;
}

static void test_handshake_frames(FILE *events)
{
    struct builder empty, out;
    struct zmtp_mech_frame f;
    struct fault_plan p;

    builder_init(&empty);
    builder_init(&out);
    f = frame_of("empty", ZMTP_FLAG_COMMAND, &empty);
    ok(!hook("skip-empty-frame", events, &out, &f), "the empty frame is dropped");
    ok(hook("empty-frame-garbage", events, &out, &f) && f.len == 8 &&
           memcmp(f.body, "garbage!", 8) == 0,
       "the empty frame carries 8 bytes");
    zmtp_mech_frame_free(&f);

    plan_with(&p, "stall", false, &out, events);
    {
        struct builder g;
        struct zmtp_greeting greeting;

        builder_init(&g);
        zmtp_greeting_init(&greeting, "GSSAPI", 0);
        zmtp_greeting_encode(&g, &greeting);
        faults_greeting_hook(&p, &g);
        ok(p.faults[0].applied && g.len == 64, "stall: applied once the greeting is out");
        builder_free(&g);
    }
    f = frame_of("INITIATE", ZMTP_FLAG_COMMAND, &empty);
    ok(!faults_frame_hook(&p, &f), "stall: INITIATE dropped");
    zmtp_mech_frame_free(&f);
    faults_release(&p);
    is_int((long long)out.len, 0, "nothing written aside");
    builder_free(&out);
    builder_free(&empty);
}

/* ready-name-case and ready-socket-type: faults_configure has the mechanism build a READY with
 * other names or another Socket-Type; the hook reports it when that READY goes out. */
static void test_ready(FILE *events)
{
    struct fault_plan p;
    struct zmtp_session_config cfg;
    struct builder ready;
    struct zmtp_mech_frame f;
    struct zmtp_metadata md;
    struct zmtp_error err;
    const struct zmtp_property *type;
    char why[256];

    memset(&cfg, 0, sizeof(cfg));
    cfg.mech.socket_type = "DEALER";
    plan_with(&p, "ready-name-case", false, NULL, events);
    ok(faults_add(&p, "ready-socket-type:PUSH", false, why, sizeof(why)), "both READY faults");
    is_int(faults_configure(&p, &cfg), -1, "configured");
    is_string(cfg.mech.faults->ready_type_name, "socket-type", "Socket-Type spelt in lower case");
    is_string(cfg.mech.faults->ready_identity_name, "IDENTITY", "Identity spelt in upper case");
    is_string(cfg.mech.faults->ready_socket_type, "PUSH", "the claimed Socket-Type");

    /* What the mechanism then encodes: a READY the case-insensitive decoder still reads. */
    builder_init(&ready);
    zmtp_ready_encode_named(&ready, cfg.mech.faults->ready_type_name,
                            cfg.mech.faults->ready_socket_type,
                            cfg.mech.faults->ready_identity_name, "", 0);
    ok(memcmp(ready.data + 6, "\x0bsocket-type\0\0\0\x04PUSH\x08IDENTITY", 29) == 0,
       "the names go on the wire as given");
    ok(zmtp_ready_decode(ready.data, ready.len, &md, &err) == ZMTP_OK &&
           (type = zmtp_metadata_find(&md, "Socket-Type")) != NULL && type->value_len == 4 &&
           memcmp(type->value, "PUSH", 4) == 0 && zmtp_metadata_find(&md, "identity") != NULL,
       "and are found whatever the case");

    f = frame_of("INITIATE", ZMTP_FLAG_COMMAND, &ready);
    ok(faults_frame_hook(&p, &f) && !p.faults[0].applied && !p.faults[1].applied,
       "not applied before READY");
    zmtp_mech_frame_free(&f);
    f = frame_of("READY", ZMTP_FLAG_COMMAND, &ready);
    ok(faults_frame_hook(&p, &f) && p.faults[0].applied && p.faults[1].applied,
       "applied (and kept) when the READY goes out");
    ok(f.len == ready.len && memcmp(f.body, ready.data, ready.len) == 0, "the READY unchanged");
    zmtp_mech_frame_free(&f);
    faults_release(&p);

    memset(&cfg, 0, sizeof(cfg));
    cfg.mech.socket_type = "ROUTER";
    plan_with(&p, "ready-socket-type:PULL", true, NULL, events);
    is_int(faults_configure(&p, &cfg), -1, "server: configured");
    ok(cfg.mech.faults->ready_type_name == NULL && cfg.mech.faults->ready_identity_name == NULL,
       "ready-socket-type alone keeps the canonical names");
    is_string(cfg.mech.faults->ready_socket_type, "PULL", "server: the claimed Socket-Type");
    faults_release(&p);
    builder_free(&ready);
}

/* A data MESSAGE frame with a 40-byte token 00 01 02 ... */
static struct zmtp_mech_frame data_frame(void)
{
    struct builder b;
    unsigned char token[40];
    struct zmtp_mech_frame f;

    for (size_t i = 0; i < sizeof(token); i++)
        token[i] = (unsigned char)i;
    builder_init(&b);
    zmtp_message_encode(&b, token, sizeof(token));
    f = frame_of("MESSAGE", 0, &b);
    builder_free(&b);
    return f;
}

static void test_data_frames(FILE *events)
{
    struct builder out;
    struct zmtp_mech_frame f, original = data_frame(), second;
    const unsigned char *token;
    size_t token_len, diffs = 0;
    struct zmtp_error err;
    struct zmtp_command c;
    struct fault_plan p;

    builder_init(&out);
    f = data_frame();
    ok(hook("tamper-token", events, &out, &f), "tamper-token keeps the frame");
    for (size_t i = 0; i < f.len; i++)
        diffs += f.body[i] != original.body[i] ? 1 : 0;
    ok(diffs == 1 && f.body[12 + 16 + 12] == (original.body[12 + 16 + 12] ^ 1),
       "one bit flipped, inside the ciphertext");
    zmtp_mech_frame_free(&f);

    f = data_frame();
    hook("tamper-length", events, &out, &f);
    ok(zmtp_message_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_BAD_MESSAGE &&
           f.body[11] == 39,
       "length 39 for 40 bytes");
    zmtp_mech_frame_free(&f);

    f = data_frame();
    hook("tamper-name", events, &out, &f);
    ok(zmtp_command_decode(f.body, f.len, &c, &err) == ZMTP_OK && zmtp_command_is(&c, "MESSAGF"),
       "MESSAGF");
    zmtp_mech_frame_free(&f);

    f = data_frame();
    hook("trailing-bytes:5", events, &out, &f);
    ok(f.len == original.len + 5 &&
           zmtp_message_decode(f.body, f.len, &token, &token_len, &err) == ZMTP_BAD_MESSAGE,
       "5 bytes after the token");
    zmtp_mech_frame_free(&f);

    f = data_frame();
    hook("message-in-command-frame", events, &out, &f);
    is_int(f.flags, ZMTP_FLAG_COMMAND, "COMMAND flag set");
    zmtp_mech_frame_free(&f);

    f = data_frame();
    ok(!hook("frame-reserved-flags:88", events, &out, &f), "frame-reserved-flags drops the frame");
    ok(out.len == 2 + original.len && out.data[0] == 0x88 && out.data[1] == original.len &&
           memcmp(out.data + 2, original.body, original.len) == 0,
       "and writes it with flags 88 itself");
    zmtp_mech_frame_free(&f);
    builder_reset(&out);

    is_int((long long)out.len, 0, "nothing written aside so far");
    f = data_frame();
    ok(hook("replay-token", events, &out, &f), "replay-token keeps the frame");
    ok(out.len == 2 + original.len && memcmp(out.data + 2, original.body, original.len) == 0,
       "and writes the same frame before it");
    zmtp_mech_frame_free(&f);
    builder_reset(&out);

    plan_with(&p, "reorder-tokens", false, &out, events);
    f = data_frame();
    ok(!faults_frame_hook(&p, &f), "reorder: the first data frame is held back");
    second = data_frame();
    second.body[20] = 0xee;
    ok(faults_frame_hook(&p, &second) && p.faults[0].applied, "reorder: the second releases it");
    ok(out.len == 2 + original.len && out.data[2 + 20] == 0xee, "the second goes out first");
    ok(second.len == original.len && memcmp(second.body, original.body, original.len) == 0,
       "then the first in its place");
    zmtp_mech_frame_free(&second);
    zmtp_mech_frame_free(&f);
    faults_release(&p);

    zmtp_mech_frame_free(&original);
    builder_free(&out);
}

static void test_events(FILE *events)
{
    char line[512] = "";

    rewind(events);
    ok(fgets(line, sizeof(line), events) != NULL, "events were written");
    is_string(line,
              "{\"event\":\"fault\",\"name\":\"greeting-mechanism\",\"arg\":\"NULL\","
              "\"phase\":\"greeting\",\"applied\":true,"
              "\"detail\":\"mechanism field (bytes 12-31) = \\\"NULL\\\"\"}\n",
              "the first fault event");
}

int main(void)
{
    FILE *events = tmpfile();

    if (events == NULL)
        bail("tmpfile failed");
    plan_lazy();
    test_parsing();
    test_greeting(events);
    test_initiate(events);
    test_handshake_frames(events);
    test_ready(events);
    test_data_frames(events);
    test_events(events);
    fclose(events);
    done_testing();
}
