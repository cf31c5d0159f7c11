/*
 * Tests of the ZMTP GSSAPI mechanism (zmtp/mechanism.c): two in-process engines, a client and
 * a server, exchange frames over memory. Needs a realm: run from tests/zmtp/mechanism-t.py,
 * which starts one and sets KRB5_CONFIG, KRB5_CLIENT_KTNAME (alice) and KRB5_KTNAME
 * (zmq/localhost); skipped otherwise.
 */
#include "zmtp/mechanism.h"

#include "tests/tap.h"
#include "util/gss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A frame captured in transit, kept for replay/reflection tests. */
struct captured {
    uint8_t flags;
    unsigned char *body;
    size_t len;
};

struct pair {
    struct zmtp_mech *client, *server;
    gss_name_t target;
    char kinds[512]; /* "c:INITIATE s:INITIATE ..." */
    struct captured last_client, last_server;
    bool deny; /* the server's answer to the authorization question */
};

static void captured_set(struct captured *c, const struct zmtp_mech_frame *f)
{
    free(c->body);
    c->flags = f->flags;
    c->body = malloc(f->len + 1);
    if (c->body == NULL)
        bail("out of memory");
    memcpy(c->body, f->body, f->len);
    c->len = f->len;
}

/* Create both engines from C and S (the client's target is filled in here). */
static void pair_make(struct pair *p, struct zmtp_mech_config *c, struct zmtp_mech_config *s)
{
    struct zmtp_error err;
    OM_uint32 minor;

    memset(p, 0, sizeof(*p));
    if (GSS_ERROR(gssutil_import_name("zmq@localhost", NAMETYPE_HOSTBASED, &p->target, &minor)))
        bail("cannot import zmq@localhost");
    c->role = ZMTP_ROLE_CLIENT;
    c->target = p->target;
    s->role = ZMTP_ROLE_SERVER;
    if (zmtp_mech_new(c, &p->client, &err) != ZMTP_OK ||
        zmtp_mech_new(s, &p->server, &err) != ZMTP_OK)
        bail("zmtp_mech_new: %s", err.text);
}

/* Create both engines; CLIENT_TYPE / SERVER_TYPE socket types. */
static void pair_init(struct pair *p, const char *client_type, const char *server_type,
                      bool client_plain, bool server_plain)
{
    struct zmtp_mech_config c = {.plaintext = client_plain, .socket_type = client_type};
    struct zmtp_mech_config s = {.plaintext = server_plain, .socket_type = server_type};

    pair_make(p, &c, &s);
}

static void pair_free(struct pair *p)
{
    OM_uint32 minor;

    zmtp_mech_free(p->client);
    zmtp_mech_free(p->server);
    gss_release_name(&minor, &p->target);
    free(p->last_client.body);
    free(p->last_server.body);
}

/* Move every queued frame FROM -> TO; returns the receiver's status of the first failure. */
static enum zmtp_status pump(struct pair *p, bool from_client, struct zmtp_error *err)
{
    struct zmtp_mech *from = from_client ? p->client : p->server;
    struct zmtp_mech *to = from_client ? p->server : p->client;
    struct zmtp_mech_frame f;
    enum zmtp_status status = ZMTP_OK;

    while (zmtp_mech_next_frame(from, &f)) {
        size_t used = strlen(p->kinds);

        snprintf(p->kinds + used, sizeof(p->kinds) - used, "%s%c:%s/%u", used ? " " : "",
                 from_client ? 'c' : 's', f.kind, f.flags);
        captured_set(from_client ? &p->last_client : &p->last_server, &f);
        if (status == ZMTP_OK)
            status = zmtp_mech_receive(to, f.flags, f.body, f.len, NULL, err);
        /* The driver's part: answer the server's authorization question. */
        if (status == ZMTP_OK && from_client && zmtp_mech_awaiting_authorization(p->server))
            status = zmtp_mech_authorize(p->server, !p->deny, err);
        zmtp_mech_frame_free(&f);
    }
    return status;
}

/* Run the handshake to the end or the first failure. */
static enum zmtp_status handshake(struct pair *p, struct zmtp_error *err)
{
    enum zmtp_status status = zmtp_mech_start(p->client, err);

    if (status == ZMTP_OK)
        status = zmtp_mech_start(p->server, err);
    for (int round = 0; status == ZMTP_OK && round < 8; round++) {
        status = pump(p, true, err);
        if (status == ZMTP_OK)
            status = pump(p, false, err);
        if (zmtp_mech_ready(p->client) && zmtp_mech_ready(p->server))
            break;
    }
    return status;
}

/* Take the next event of M of TYPE (others skipped); false when none. */
static bool take_event(struct zmtp_mech *m, enum zmtp_event_type type, struct zmtp_event *ev)
{
    while (zmtp_mech_next_event(m, ev)) {
        if (ev->type == type)
            return true;
        zmtp_event_free(ev);
    }
    return false;
}

static void test_encrypted(void)
{
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;
    struct zmtp_part parts[3] = {{(unsigned char *)"one", 3}, {NULL, 0}, {NULL, 0}};
    unsigned char *big = malloc(70000);
    struct zmtp_mech_frame f;
    bool no_more = true;

    if (big == NULL)
        bail("out of memory");
    memset(big, 'x', 70000);
    parts[2].data = big;
    parts[2].len = 70000;
    pair_init(&p, "DEALER", "ROUTER", false, false);
    is_int(handshake(&p, &err), ZMTP_OK, "encrypted handshake completes");
    is_string(p.kinds, "c:INITIATE/4 s:INITIATE/4 c:empty/4 s:READY/4 c:READY/4",
              "layout: INITIATE loop, empty frame, READY server first, in command frames");
    is_string(zmtp_mech_peer_socket_type(p.server), "DEALER", "server saw Socket-Type DEALER");
    is_string(zmtp_mech_peer_principal(p.server), "alice@GSSCONFORM.TEST", "client principal");
    ok(take_event(p.server, ZMTP_EVENT_AUTHORIZED, &ev) && ev.allowed, "authorized event");
    zmtp_event_free(&ev);

    is_int(zmtp_mech_send(p.client, parts, 3, &err), ZMTP_OK, "send 3 parts");
    while (zmtp_mech_next_frame(p.client, &f)) {
        no_more = no_more && f.flags == 0 && f.plain != NULL;
        is_int(zmtp_mech_receive(p.server, f.flags, f.body, f.len, NULL, &err), ZMTP_OK,
               "server unwraps part (%s)", f.kind);
        captured_set(&p.last_client, &f);
        zmtp_mech_frame_free(&f);
    }
    ok(no_more, "parts travel in message frames without MORE on the wire");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 3 && ev.parts[0].len == 3 &&
           ev.parts[1].len == 0 && ev.parts[2].len == 70000 &&
           memcmp(ev.parts[2].data, big, 70000) == 0,
       "multipart message delivered intact");
    zmtp_event_free(&ev);

    is_int(zmtp_mech_ping(p.client, 10, "ctx", 3, &err), ZMTP_OK, "PING queued");
    is_int(pump(&p, true, &err), ZMTP_OK, "server takes the PING");
    p.kinds[0] = '\0';
    is_int(pump(&p, false, &err), ZMTP_OK, "client takes the PONG");
    is_string(p.kinds, "s:PONG/0", "PONG answered wrapped in a message frame");

    /* Replay: the last data token again. */
    is_int(zmtp_mech_receive(p.server, p.last_client.flags, p.last_client.body, p.last_client.len,
                             NULL, &err),
           ZMTP_GSS_FAILURE, "replayed token rejected");
    diag("%s", err.text);
    ok(zmtp_mech_receive(p.server, 0, (const unsigned char *)"", 0, NULL, &err) != ZMTP_OK,
       "mechanism stays failed");
    pair_free(&p);

    /* Reflection: the server's own READY token back to the server. */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    handshake(&p, &err);
    is_int(zmtp_mech_receive(p.server, p.last_server.flags, p.last_server.body, p.last_server.len,
                             NULL, &err),
           ZMTP_GSS_FAILURE, "token reflected to its sender rejected");
    diag("%s", err.text);
    pair_free(&p);
    free(big);
}

static void test_rejections(void)
{
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;
    struct zmtp_mech_config c = {0};
    struct zmtp_part part = {(unsigned char *)"x", 1};
    struct zmtp_mech_frame f;

    /* Unwrapped frame after READY. */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    handshake(&p, &err);
    is_int(zmtp_mech_receive(p.server, 0, (const unsigned char *)"hello", 5, NULL, &err),
           ZMTP_UNEXPECTED, "unwrapped frame after READY");
    pair_free(&p);

    /* Empty wrap token, trailing bytes after a token. */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    handshake(&p, &err);
    is_int(zmtp_mech_receive(p.server, 0, (const unsigned char *)"\x07MESSAGE\0\0\0\0", 12, NULL,
                             &err),
           ZMTP_BAD_MESSAGE, "empty wrap token");
    pair_free(&p);
    pair_init(&p, "DEALER", "ROUTER", false, false);
    handshake(&p, &err);
    zmtp_mech_send(p.client, &part, 1, &err);
    if (zmtp_mech_next_frame(p.client, &f)) {
        unsigned char *longer = malloc(f.len + 1);

        if (longer == NULL)
            bail("out of memory");
        memcpy(longer, f.body, f.len);
        longer[f.len] = 0;
        is_int(zmtp_mech_receive(p.server, 0, longer, f.len + 1, NULL, &err), ZMTP_BAD_MESSAGE,
               "trailing byte after the wrap token");
        diag("%s", err.text);
        free(longer);
        zmtp_mech_frame_free(&f);
    }
    pair_free(&p);

    /* Integrity-only wrap from the client. */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    zmtp_mech_free(p.client);
    c.role = ZMTP_ROLE_CLIENT;
    c.target = p.target;
    c.socket_type = "DEALER";
    {
        static const struct zmtp_faults integrity_only = {.wrap_integrity_only = true};

        c.faults = &integrity_only;
    }
    zmtp_mech_new(&c, &p.client, &err);
    is_int(handshake(&p, &err), ZMTP_INTEGRITY_ONLY, "integrity-only READY rejected");
    diag("%s", err.text);
    pair_free(&p);

    /* PLAINTEXT mismatch, both ways. */
    pair_init(&p, "DEALER", "ROUTER", true, false);
    is_int(handshake(&p, &err), ZMTP_UNEXPECTED, "PLAINTEXT client, encrypting server");
    diag("%s", err.text);
    pair_free(&p);
    pair_init(&p, "DEALER", "ROUTER", false, true);
    is_int(handshake(&p, &err), ZMTP_UNEXPECTED, "encrypting client, PLAINTEXT server");
    pair_free(&p);

    /* Socket types that cannot talk. */
    pair_init(&p, "PUSH", "ROUTER", false, false);
    is_int(handshake(&p, &err), ZMTP_SOCKET_MISMATCH, "PUSH cannot talk to ROUTER");
    pair_free(&p);

    /* Authorization refused: no READY leaves the server. */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    p.deny = true;
    is_int(handshake(&p, &err), ZMTP_DENIED, "denied client");
    ok(strstr(p.kinds, "s:READY") == NULL, "no READY from the server after a denial");
    ok(take_event(p.server, ZMTP_EVENT_AUTHORIZED, &ev) && !ev.allowed, "authorized=false event");
    zmtp_event_free(&ev);
    pair_free(&p);

    /* A READY where the empty frame belongs (client skipped it). */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    zmtp_mech_start(p.client, &err);
    zmtp_mech_start(p.server, &err);
    pump(&p, true, &err);
    pump(&p, false, &err);
    while (zmtp_mech_next_frame(p.client, &f))
        zmtp_mech_frame_free(&f);
    is_int(zmtp_mech_receive(p.server, ZMTP_FLAG_COMMAND,
                             (const unsigned char *)"\x05READY\x0bSocket-Type\0\0\0\x06"
                                                    "DEALER",
                             28, NULL, &err),
           ZMTP_UNEXPECTED, "READY instead of the empty frame");
    diag("%s", err.text);
    pair_free(&p);

    /* The same AP-REQ accepted twice (a second server): the replay cache refuses it. */
    pair_init(&p, "DEALER", "ROUTER", false, false);
    zmtp_mech_start(p.client, &err);
    zmtp_mech_start(p.server, &err);
    pump(&p, true, &err);
    {
        struct zmtp_mech *second;
        struct zmtp_mech_config s = {0};

        s.role = ZMTP_ROLE_SERVER;
        s.socket_type = "ROUTER";
        zmtp_mech_new(&s, &second, &err);
        zmtp_mech_start(second, &err);
        is_int(zmtp_mech_receive(second, p.last_client.flags, p.last_client.body, p.last_client.len,
                                 NULL, &err),
               ZMTP_GSS_FAILURE, "duplicate INITIATE token refused");
        diag("%s", err.text);
        zmtp_mech_free(second);
    }
    /* The client's own AP-REQ reflected back as the server's INITIATE. */
    is_int(zmtp_mech_receive(p.client, p.last_client.flags, p.last_client.body, p.last_client.len,
                             NULL, &err),
           ZMTP_GSS_FAILURE, "reflected INITIATE token refused");
    diag("%s", err.text);
    pair_free(&p);
}

static void test_plaintext_and_pubsub(void)
{
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;
    struct zmtp_part parts[2] = {{(unsigned char *)"a", 1}, {(unsigned char *)"bc", 2}};

    pair_init(&p, "DEALER", "ROUTER", true, true);
    is_int(handshake(&p, &err), ZMTP_OK, "PLAINTEXT handshake");
    is_string(p.kinds, "c:INITIATE/4 s:INITIATE/4 c:empty/4 s:READY/4 c:READY/4",
              "PLAINTEXT READY is a plain command");
    p.kinds[0] = '\0';
    zmtp_mech_send(p.client, parts, 2, &err);
    is_int(pump(&p, true, &err), ZMTP_OK, "plain parts");
    is_string(p.kinds, "c:MESSAGE/1 c:MESSAGE/0", "MORE on the wire in PLAINTEXT mode");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 2, "2 parts delivered");
    zmtp_event_free(&ev);
    pair_free(&p);

    pair_init(&p, "SUB", "PUB", false, false);
    is_int(handshake(&p, &err), ZMTP_OK, "SUB/PUB handshake");
    zmtp_mech_subscribe(p.client, ZMTP_SUBSCRIBE, "news", 4, &err);
    is_int(pump(&p, true, &err), ZMTP_OK, "PUB takes 00 01 news");
    ok(take_event(p.server, ZMTP_EVENT_SUBSCRIBE, &ev) && ev.topic_len == 4 &&
           memcmp(ev.topic, "news", 4) == 0,
       "subscription event");
    zmtp_event_free(&ev);
    pair_free(&p);
}

/* ---- the independent RFC 4121 path: data path and second checker ---- */

/* What one side's report callback saw. */
struct reports {
    int verdicts[4]; /* count per enum zmtp_check_verdict */
    char checker[32], path[16];
    int enctype;
    char violation[512]; /* the first violation's "TOKEN SEQ: detail" */
    unsigned char header[16];
};

static void record(void *arg, const struct zmtp_token_check *c)
{
    struct reports *r = arg;

    r->verdicts[c->verdict]++;
    snprintf(r->checker, sizeof(r->checker), "%s", c->checker);
    snprintf(r->path, sizeof(r->path), "%s", zmtp_wrap_path_name(c->path));
    r->enctype = c->enctype;
    if (c->verdict == ZMTP_CHECK_VIOLATION && r->violation[0] == '\0') {
        snprintf(r->violation, sizeof(r->violation), "%s %llu: %s", c->kind,
                 (unsigned long long)c->seq, c->detail);
        if (c->header != NULL)
            memcpy(r->header, c->header, 16);
    }
}

/* A DEALER/ROUTER pair with the given paths, both checking, reporting into RC / RS; the
 * client misbehaves as FAULTS says (NULL: not), the server uses the table SERVER_GSS (NULL:
 * MIT's). */
static void pair_paths(struct pair *p, enum zmtp_wrap_path client_path,
                       enum zmtp_wrap_path server_path, const struct zmtp_faults *faults,
                       const struct gssops *server_gss, struct reports *rc, struct reports *rs)
{
    struct zmtp_mech_config c = {.socket_type = "DEALER",
                                 .wrap_path = client_path,
                                 .token_check = true,
                                 .faults = faults,
                                 .report = record,
                                 .report_arg = rc};
    struct zmtp_mech_config s = {.socket_type = "ROUTER",
                                 .wrap_path = server_path,
                                 .token_check = true,
                                 .gss = server_gss,
                                 .report = record,
                                 .report_arg = rs};

    memset(rc, 0, sizeof(*rc));
    memset(rs, 0, sizeof(*rs));
    pair_make(p, &c, &s);
}

/* Client -> server -> client: one message of LEN bytes each way; true when both arrive
 * intact. */
static bool echo(struct pair *p, size_t len, struct zmtp_error *err)
{
    unsigned char *data = malloc(len > 0 ? len : 1);
    struct zmtp_part part = {data, len};
    struct zmtp_event ev;
    bool there = false, back = false;

    if (data == NULL)
        bail("out of memory");
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7 + len);
    if (zmtp_mech_send(p->client, &part, 1, err) == ZMTP_OK && pump(p, true, err) == ZMTP_OK &&
        take_event(p->server, ZMTP_EVENT_MESSAGE, &ev)) {
        there = ev.count == 1 && ev.parts[0].len == len &&
                (len == 0 || memcmp(ev.parts[0].data, data, len) == 0);
        zmtp_event_free(&ev);
    }
    if (there && zmtp_mech_send(p->server, &part, 1, err) == ZMTP_OK &&
        pump(p, false, err) == ZMTP_OK && take_event(p->client, ZMTP_EVENT_MESSAGE, &ev)) {
        back = ev.count == 1 && ev.parts[0].len == len &&
               (len == 0 || memcmp(ev.parts[0].data, data, len) == 0);
        zmtp_event_free(&ev);
    }
    free(data);
    return there && back;
}

static void test_rfc4121_paths(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 1000, 70000};
    static const struct {
        enum zmtp_wrap_path client, server;
        const char *name;
    } combos[] = {
        {ZMTP_WRAP_MIT, ZMTP_WRAP_MIT, "mit/mit"},
        {ZMTP_WRAP_RFC4121, ZMTP_WRAP_MIT, "rfc4121/mit"},
        {ZMTP_WRAP_MIT, ZMTP_WRAP_RFC4121, "mit/rfc4121"},
        {ZMTP_WRAP_RFC4121, ZMTP_WRAP_RFC4121, "rfc4121/rfc4121"},
    };
    struct zmtp_faults rotated = {.wrap_rrc = 28};
    struct gssops no_export = gssops_mit;
    struct pair p;
    struct reports rc, rs;
    struct zmtp_error err;
    bool all = true;

    for (size_t k = 0; k < sizeof(combos) / sizeof(combos[0]); k++) {
        pair_paths(&p, combos[k].client, combos[k].server, NULL, NULL, &rc, &rs);
        is_int(handshake(&p, &err), ZMTP_OK, "%s: handshake", combos[k].name);
        all = true;
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            all = echo(&p, sizes[i], &err) && all;
        ok(all, "%s: messages of 0..70000 bytes both ways", combos[k].name);
        is_string(rc.path, zmtp_wrap_path_name(combos[k].client), "%s: client path reported",
                  combos[k].name);
        is_string(rs.checker,
                  combos[k].server == ZMTP_WRAP_MIT ? "mit+rfc4121" : "rfc4121",
                  "%s: server checker reported", combos[k].name);
        ok(rc.verdicts[ZMTP_CHECK_CHECKING] == 1 && rs.verdicts[ZMTP_CHECK_CHECKING] == 1 &&
               rs.enctype >= 17 && rs.enctype <= 20,
           "%s: one 'checking' report per side (enctype %d)", combos[k].name, rs.enctype);
        ok(rc.verdicts[ZMTP_CHECK_VIOLATION] + rc.verdicts[ZMTP_CHECK_DISAGREEMENT] +
                   rs.verdicts[ZMTP_CHECK_VIOLATION] + rs.verdicts[ZMTP_CHECK_DISAGREEMENT] ==
               0,
           "%s: no violation, no disagreement", combos[k].name);
        pair_free(&p);
    }

    /* A legal right rotation (RRC 28, as Windows sends) passes both checkers. */
    pair_paths(&p, ZMTP_WRAP_RFC4121, ZMTP_WRAP_MIT, &rotated, NULL, &rc, &rs);
    is_int(handshake(&p, &err), ZMTP_OK, "RRC 28: handshake");
    ok(echo(&p, 100, &err), "RRC 28: MIT opens rotated tokens");
    is_int(rs.verdicts[ZMTP_CHECK_VIOLATION], 0, "RRC 28: no violation");
    pair_free(&p);

    /* A replayed token on the rfc4121 data path. */
    pair_paths(&p, ZMTP_WRAP_MIT, ZMTP_WRAP_RFC4121, NULL, NULL, &rc, &rs);
    handshake(&p, &err);
    ok(echo(&p, 10, &err), "rfc4121 server: one echo");
    is_int(zmtp_mech_receive(p.server, p.last_client.flags, p.last_client.body, p.last_client.len,
                             NULL, &err),
           ZMTP_UNEXPECTED, "rfc4121 server: replayed token refused");
    diag("%s", err.text);
    pair_free(&p);

    /* A tampered token on the rfc4121 data path. */
    pair_paths(&p, ZMTP_WRAP_MIT, ZMTP_WRAP_RFC4121, NULL, NULL, &rc, &rs);
    handshake(&p, &err);
    {
        struct zmtp_part part = {(unsigned char *)"tamper", 6};
        struct zmtp_mech_frame f;

        zmtp_mech_send(p.client, &part, 1, &err);
        if (!zmtp_mech_next_frame(p.client, &f))
            bail("no frame");
        f.body[f.len - 1] ^= 1;
        is_int(zmtp_mech_receive(p.server, f.flags, f.body, f.len, NULL, &err), ZMTP_GSS_FAILURE,
               "rfc4121 server: tampered token refused");
        diag("%s", err.text);
        zmtp_mech_frame_free(&f);
    }
    pair_free(&p);

    /* No context export in the table: "unchecked", MIT alone, the session unharmed. */
    no_export.export_sec_context = NULL;
    pair_paths(&p, ZMTP_WRAP_MIT, ZMTP_WRAP_RFC4121, NULL, &no_export, &rc, &rs);
    is_int(handshake(&p, &err), ZMTP_OK, "no export: handshake");
    ok(echo(&p, 100, &err), "no export: messages flow on MIT");
    ok(rs.verdicts[ZMTP_CHECK_UNCHECKED] == 1 && rs.verdicts[ZMTP_CHECK_CHECKING] == 0,
       "no export: reported unchecked");
    is_string(rs.path, "mit", "no export: the rfc4121 path asked for, MIT reported running");
    is_string(rs.checker, "mit", "no export: checked by MIT only");
    pair_free(&p);
}

/* The point of the second checker: a token MIT's gss_unwrap accepts although RFC 4121
 * forbids it becomes a report. The client (rfc4121 path) puts the RRC into the encrypted
 * header copy, where RFC 4121 4.2.4 wants zero; MIT compares only TOK_ID, flags, filler and
 * SND_SEQ of the copy. */
static void test_rfc4121_violation(void)
{
    struct zmtp_faults bad_copy = {.wrap_rrc = 28, .wrap_rrc_in_copy = true};
    struct pair p;
    struct reports rc, rs;
    struct zmtp_error err;

    pair_paths(&p, ZMTP_WRAP_RFC4121, ZMTP_WRAP_MIT, &bad_copy, NULL, &rc, &rs);
    is_int(handshake(&p, &err), ZMTP_OK, "RRC in the header copy: MIT accepts the READY");
    ok(echo(&p, 100, &err), "RRC in the header copy: MIT delivers the message");
    is_int(rs.verdicts[ZMTP_CHECK_VIOLATION], 2, "two violations reported (READY, MESSAGE)");
    diag("%s", rs.violation);
    ok(strncmp(rs.violation, "READY ", 6) == 0 &&
           strstr(rs.violation, "encrypted header copy differs") != NULL,
       "the READY token named, with what is wrong");
    ok(rs.header[0] == 0x05 && rs.header[1] == 0x04 && rs.header[3] == 0xff &&
           rs.header[6] == 0 && rs.header[7] == 28,
       "the header octets reported (RRC 28)");
    is_int(rc.verdicts[ZMTP_CHECK_VIOLATION], 0, "the server's own tokens are clean");
    pair_free(&p);

    /* The same with the checker off: nothing is reported. */
    {
        struct zmtp_mech_config c = {.socket_type = "DEALER",
                                     .wrap_path = ZMTP_WRAP_RFC4121,
                                     .faults = &bad_copy};
        struct zmtp_mech_config s = {.socket_type = "ROUTER", .report = record, .report_arg = &rs};

        memset(&rs, 0, sizeof(rs));
        pair_make(&p, &c, &s);
        is_int(handshake(&p, &err), ZMTP_OK, "checker off: handshake");
        ok(echo(&p, 100, &err), "checker off: delivered");
        ok(rs.verdicts[0] + rs.verdicts[1] + rs.verdicts[2] + rs.verdicts[3] == 0,
           "checker off: no report at all");
        pair_free(&p);
    }
}

int main(void)
{
    if (getenv("KRB5_CONFIG") == NULL || getenv("KRB5_KTNAME") == NULL)
        skip_all("needs a realm (run by tests/zmtp/mechanism-t.py)");
    plan_lazy();
    test_encrypted();
    test_rejections();
    test_plaintext_and_pubsub();
    test_rfc4121_paths();
    test_rfc4121_violation();
    done_testing();
}
