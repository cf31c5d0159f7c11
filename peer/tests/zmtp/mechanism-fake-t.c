/*
 * Tests of the ZMTP GSSAPI mechanism (zmtp/mechanism.c) on a fake GSS-API table: no KDC, no
 * krb5 library call. A client and a server engine exchange frames over memory while the fake
 * table (struct gssops) plays Kerberos with fixed tokens ("AP-REQ", "AP-REP") and a reversible
 * "wrap" (a conf_state byte, then the plaintext XORed with 0x5a). Checks that every GSS call goes
 * through the table, and the authorization question the driver answers.
 */
#include "zmtp/mechanism.h"

#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake GSS-API ---- */

struct fake_ctx {
    bool initiator;
};

/* A fake name is a NUL-terminated string owned by the name "object". */
struct fake_name {
    char text[64];
};

static struct {
    unsigned init, accept, wrap, unwrap, display, inquire, released_names, deleted;
    bool fail_accept;
    bool expired;                /* inquire_context: GSS_S_CONTEXT_EXPIRED */
    unsigned names_when_expired; /* ... asked for names all the same (MIT leaks them) */
} calls;

static gss_name_t fake_name_new(const char *text)
{
    struct fake_name *n = calloc(1, sizeof(*n));

    if (n == NULL)
        bail("out of memory");
    snprintf(n->text, sizeof(n->text), "%s", text);
    return (gss_name_t)(void *)n;
}

static void set_buffer(gss_buffer_t out, const void *data, size_t len)
{
    out->length = len;
    out->value = NULL;
    if (len > 0) {
        out->value = malloc(len);
        if (out->value == NULL)
            bail("out of memory");
        memcpy(out->value, data, len);
    }
}

static bool buffer_is(const gss_buffer_t b, const char *text)
{
    return b != GSS_C_NO_BUFFER && b->length == strlen(text) &&
           memcmp(b->value, text, b->length) == 0;
}

static OM_uint32 fake_import_name(OM_uint32 *minor, gss_buffer_t in, gss_OID type, gss_name_t *out)
{
    char text[64];

    (void)type;
    *minor = 0;
    snprintf(text, sizeof(text), "%.*s", (int)in->length, (const char *)in->value);
    *out = fake_name_new(text);
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t out,
                                   gss_OID *type)
{
    const struct fake_name *n = (const struct fake_name *)(void *)name;

    *minor = 0;
    calls.display++;
    if (type != NULL)
        *type = GSS_C_NO_OID;
    set_buffer(out, n->text, strlen(n->text));
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_release_name(OM_uint32 *minor, gss_name_t *name)
{
    *minor = 0;
    calls.released_names++;
    free((void *)*name);
    *name = GSS_C_NO_NAME;
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_release_buffer(OM_uint32 *minor, gss_buffer_t b)
{
    *minor = 0;
    free(b->value);
    b->value = NULL;
    b->length = 0;
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_init(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx,
                           gss_name_t target, gss_OID mech, OM_uint32 flags, OM_uint32 time_req,
                           gss_channel_bindings_t cb, gss_buffer_t in, gss_OID *actual,
                           gss_buffer_t out, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    (void)cred, (void)target, (void)mech, (void)flags, (void)time_req, (void)cb, (void)actual,
        (void)ret_flags, (void)time_rec;
    *minor = 0;
    calls.init++;
    set_buffer(out, NULL, 0);
    if (*ctx == GSS_C_NO_CONTEXT) {
        struct fake_ctx *c = calloc(1, sizeof(*c));

        if (c == NULL)
            bail("out of memory");
        c->initiator = true;
        *ctx = (gss_ctx_id_t)(void *)c;
        set_buffer(out, "AP-REQ", 6);
        return GSS_S_CONTINUE_NEEDED;
    }
    if (!buffer_is(in, "AP-REP"))
        return GSS_S_DEFECTIVE_TOKEN;
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_accept(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred,
                             gss_buffer_t in, gss_channel_bindings_t cb, gss_name_t *src,
                             gss_OID *mech, gss_buffer_t out, OM_uint32 *ret_flags,
                             OM_uint32 *time_rec, gss_cred_id_t *delegated)
{
    struct fake_ctx *c;

    (void)cred, (void)cb, (void)mech, (void)ret_flags, (void)time_rec, (void)delegated;
    *minor = 0;
    calls.accept++;
    set_buffer(out, NULL, 0);
    if (calls.fail_accept || !buffer_is(in, "AP-REQ"))
        return GSS_S_DEFECTIVE_TOKEN;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        bail("out of memory");
    *ctx = (gss_ctx_id_t)(void *)c;
    if (src != NULL)
        *src = fake_name_new("alice@FAKE.TEST");
    set_buffer(out, "AP-REP", 6);
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_inquire(OM_uint32 *minor, gss_ctx_id_t ctx, gss_name_t *src, gss_name_t *targ,
                              OM_uint32 *lifetime, gss_OID *mech, OM_uint32 *flags, int *initiator,
                              int *open)
{
    (void)ctx, (void)lifetime, (void)mech, (void)flags, (void)initiator, (void)open;
    *minor = 0;
    calls.inquire++;
    if (calls.expired) {
        /* MIT makes the names, then fails an expired context and never hands them out */
        if (src != NULL || targ != NULL)
            calls.names_when_expired++;
        return GSS_S_CONTEXT_EXPIRED;
    }
    if (src != NULL)
        *src = fake_name_new("alice@FAKE.TEST");
    if (targ != NULL)
        *targ = fake_name_new("zmq/fake@FAKE.TEST");
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_delete(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t token)
{
    (void)token;
    *minor = 0;
    calls.deleted++;
    free((void *)*ctx);
    *ctx = GSS_C_NO_CONTEXT;
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
                           gss_buffer_t in, int *conf_state, gss_buffer_t out)
{
    unsigned char *p;

    (void)ctx, (void)qop;
    *minor = 0;
    calls.wrap++;
    p = malloc(in->length + 1);
    if (p == NULL)
        bail("out of memory");
    p[0] = conf_req ? 1 : 0;
    for (size_t i = 0; i < in->length; i++)
        p[i + 1] = ((const unsigned char *)in->value)[i] ^ 0x5a;
    out->value = p;
    out->length = in->length + 1;
    if (conf_state != NULL)
        *conf_state = conf_req;
    return GSS_S_COMPLETE;
}

static OM_uint32 fake_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
                             int *conf_state, gss_qop_t *qop)
{
    const unsigned char *t = in->value;

    (void)ctx, (void)qop;
    *minor = 0;
    calls.unwrap++;
    set_buffer(out, NULL, 0);
    if (in->length < 1 || t[0] > 1)
        return GSS_S_DEFECTIVE_TOKEN;
    set_buffer(out, t + 1, in->length - 1);
    for (size_t i = 0; i < out->length; i++)
        ((unsigned char *)out->value)[i] ^= 0x5a;
    if (conf_state != NULL)
        *conf_state = t[0];
    return GSS_S_COMPLETE;
}

static const struct gssops fake = {
    .import_name = fake_import_name,
    .display_name = fake_display_name,
    .release_name = fake_release_name,
    .release_buffer = fake_release_buffer,
    .init_sec_context = fake_init,
    .accept_sec_context = fake_accept,
    .inquire_context = fake_inquire,
    .delete_sec_context = fake_delete,
    .wrap = fake_wrap,
    .unwrap = fake_unwrap,
};

/* ---- two engines over memory ---- */

struct pair {
    struct zmtp_mech *client, *server;
    gss_name_t target;
    char kinds[512]; /* "c:INITIATE s:INITIATE ..." */
};

/* Deviations of the next pair_init's client and server (NULL: none). */
static const struct zmtp_deviations *next_client_dev, *next_server_dev;
/* The next pair_init's PLAINTEXT and no_frame_plain settings (both sides). */
static bool next_plaintext, next_no_frame_plain;

static void pair_init(struct pair *p, const struct zmtp_faults *client_faults)
{
    struct zmtp_mech_config c = {0}, s = {0};
    struct zmtp_error err;

    memset(p, 0, sizeof(*p));
    p->target = fake_name_new("zmq@fake");
    c.role = ZMTP_ROLE_CLIENT;
    c.target = p->target;
    c.socket_type = "DEALER";
    c.gss = &fake;
    c.faults = client_faults;
    c.deviations = next_client_dev;
    s.deviations = next_server_dev;
    s.role = ZMTP_ROLE_SERVER;
    s.socket_type = "ROUTER";
    s.gss = &fake;
    c.plaintext = s.plaintext = next_plaintext;
    c.no_frame_plain = s.no_frame_plain = next_no_frame_plain;
    if (zmtp_mech_new(&c, &p->client, &err) != ZMTP_OK ||
        zmtp_mech_new(&s, &p->server, &err) != ZMTP_OK)
        bail("zmtp_mech_new: %s", err.text);
}

static void pair_free(struct pair *p)
{
    zmtp_mech_free(p->client);
    zmtp_mech_free(p->server);
    free((void *)p->target);
}

/* Move every queued frame FROM -> TO; the receiver's status of the first failure. */
static enum zmtp_status pump(struct pair *p, bool from_client, struct zmtp_error *err)
{
    struct zmtp_mech *from = from_client ? p->client : p->server;
    struct zmtp_mech *to = from_client ? p->server : p->client;
    struct zmtp_mech_frame f;
    enum zmtp_status status = ZMTP_OK;

    while (zmtp_mech_next_frame(from, &f)) {
        size_t used = strlen(p->kinds);

        snprintf(p->kinds + used, sizeof(p->kinds) - used, "%s%c:%s", used ? " " : "",
                 from_client ? 'c' : 's', f.kind);
        if (status == ZMTP_OK)
            status = zmtp_mech_receive(to, f.flags, f.body, f.len, NULL, err);
        zmtp_mech_frame_free(&f);
    }
    return status;
}

/* The next event of M of TYPE (others skipped); false when none. */
static bool take_event(struct zmtp_mech *m, enum zmtp_event_type type, struct zmtp_event *ev)
{
    while (zmtp_mech_next_event(m, ev)) {
        if (ev->type == type)
            return true;
        zmtp_event_free(ev);
    }
    return false;
}

/* Start both and run until the server asks its authorization question (or a failure). */
static enum zmtp_status up_to_authorization(struct pair *p, struct zmtp_error *err)
{
    enum zmtp_status status = zmtp_mech_start(p->client, err);

    if (status == ZMTP_OK)
        status = zmtp_mech_start(p->server, err);
    if (status == ZMTP_OK)
        status = pump(p, true, err); /* INITIATE(AP-REQ) */
    if (status == ZMTP_OK)
        status = pump(p, false, err); /* INITIATE(AP-REP) */
    if (status == ZMTP_OK)
        status = pump(p, true, err); /* empty */
    return status;
}

static void test_handshake_and_data(void)
{
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;
    struct zmtp_part part = {(unsigned char *)"hello", 5};

    memset(&calls, 0, sizeof(calls));
    pair_init(&p, NULL);
    is_int(up_to_authorization(&p, &err), ZMTP_OK, "fake handshake up to the empty frame");
    ok(zmtp_mech_awaiting_authorization(p.server), "the server waits for the driver's answer");
    ok(take_event(p.server, ZMTP_EVENT_AUTHORIZE, &ev) && ev.principal != NULL &&
           strcmp(ev.principal, "alice@FAKE.TEST") == 0,
       "AUTHORIZE event names the client principal from the table's display_name");
    zmtp_event_free(&ev);
    ok(strstr(p.kinds, "s:READY") == NULL, "no READY before the answer");
    is_int(zmtp_mech_authorize(p.server, true, &err), ZMTP_OK, "answer: allowed");
    ok(!zmtp_mech_awaiting_authorization(p.server), "question closed");
    ok(take_event(p.server, ZMTP_EVENT_AUTHORIZED, &ev) && ev.allowed &&
           strcmp(ev.principal, "alice@FAKE.TEST") == 0,
       "AUTHORIZED event with the answer");
    zmtp_event_free(&ev);
    is_int(pump(&p, false, &err), ZMTP_OK, "server READY accepted");
    is_int(pump(&p, true, &err), ZMTP_OK, "client READY accepted");
    ok(zmtp_mech_ready(p.client) && zmtp_mech_ready(p.server), "both ready");
    is_string(p.kinds, "c:INITIATE s:INITIATE c:empty s:READY c:READY", "frame order");
    is_string(zmtp_mech_peer_principal(p.client), "zmq/fake@FAKE.TEST",
              "client: server principal through inquire_context + display_name");
    is_string(zmtp_mech_peer_socket_type(p.client), "ROUTER", "client sees ROUTER");
    is_string(zmtp_mech_peer_socket_type(p.server), "DEALER", "server sees DEALER");
    is_int(zmtp_mech_send(p.client, &part, 1, &err), ZMTP_OK, "client sends");
    is_int(pump(&p, true, &err), ZMTP_OK, "server takes the MESSAGE");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 1 && ev.parts[0].len == 5 &&
           memcmp(ev.parts[0].data, "hello", 5) == 0,
       "the message arrives through fake wrap/unwrap");
    zmtp_event_free(&ev);
    ok(calls.init == 2 && calls.accept == 1, "GSS context calls went through the table (%u, %u)",
       calls.init, calls.accept);
    ok(calls.wrap == 3 && calls.unwrap == 3, "wraps: two READYs and a message (%u, %u)", calls.wrap,
       calls.unwrap);
    pair_free(&p);
    ok(calls.deleted == 2, "both contexts deleted through the table");
    ok(calls.released_names >= 2, "names released through the table");
}

static void test_denied(void)
{
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;

    pair_init(&p, NULL);
    is_int(up_to_authorization(&p, &err), ZMTP_OK, "up to the question");
    is_int(zmtp_mech_authorize(p.server, false, &err), ZMTP_DENIED, "answer: denied");
    ok(strstr(err.text, "alice@FAKE.TEST") != NULL, "the reason names the principal: %s", err.text);
    ok(take_event(p.server, ZMTP_EVENT_AUTHORIZED, &ev) && !ev.allowed, "AUTHORIZED false");
    zmtp_event_free(&ev);
    is_int(pump(&p, false, &err), ZMTP_OK, "nothing more from the server");
    ok(strstr(p.kinds, "s:READY") == NULL, "no READY after a denial");
    is_int(zmtp_mech_authorize(p.server, true, &err), ZMTP_UNEXPECTED,
           "a second answer is refused");
    pair_free(&p);
}

static void test_frame_before_answer(void)
{
    struct pair p;
    struct zmtp_error err;
    static const unsigned char ready[] = "\x05READY\x0bSocket-Type\0\0\0\x06"
                                         "DEALER";

    pair_init(&p, NULL);
    is_int(zmtp_mech_authorize(p.server, true, &err), ZMTP_UNEXPECTED,
           "an answer with no question pending is refused");
    is_int(up_to_authorization(&p, &err), ZMTP_OK, "up to the question");
    is_int(zmtp_mech_receive(p.server, ZMTP_FLAG_COMMAND, ready, sizeof(ready) - 1, NULL, &err),
           ZMTP_UNEXPECTED, "a frame before the answer is refused");
    ok(strstr(err.text, "authorization") != NULL, "and says why: %s", err.text);
    pair_free(&p);
}

static void test_gss_failure_and_fault(void)
{
    struct pair p;
    struct zmtp_error err;
    static const struct zmtp_faults integrity_only = {.wrap_integrity_only = true};

    pair_init(&p, NULL);
    calls.fail_accept = true;
    zmtp_mech_start(p.client, &err);
    zmtp_mech_start(p.server, &err);
    is_int(pump(&p, true, &err), ZMTP_GSS_FAILURE, "accept_sec_context failure from the table");
    ok(strstr(err.text, "gss_accept_sec_context") != NULL, "names the call: %s", err.text);
    calls.fail_accept = false;
    pair_free(&p);

    pair_init(&p, &integrity_only);
    is_int(up_to_authorization(&p, &err), ZMTP_OK, "integrity-only client: up to the question");
    is_int(zmtp_mech_authorize(p.server, true, &err), ZMTP_OK, "allowed");
    is_int(pump(&p, false, &err), ZMTP_OK, "server READY");
    is_int(pump(&p, true, &err), ZMTP_INTEGRITY_ONLY,
           "the wrap_integrity_only fault (struct zmtp_faults) reaches the wire");
    pair_free(&p);
}

/* A context that expired by the time the client completes it (the ticket-expiry cases under
 * load): the client must not ask inquire_context for names it would never get back. */
static void test_expired_context(void)
{
    struct pair p;
    struct zmtp_error err;

    memset(&calls, 0, sizeof(calls));
    pair_init(&p, NULL);
    calls.expired = true;
    is_int(up_to_authorization(&p, &err), ZMTP_OK, "expired: handshake up to authorization");
    is_int(calls.names_when_expired, 0, "expired: no names asked of an expired context");
    ok(zmtp_mech_peer_principal(p.client) == NULL, "expired: no server principal known");
    pair_free(&p);
}

/* An ERROR command during the handshake is the peer's fatal answer: its reason is reported
 * (docs/zmtp-gssapi.md 1.7), in every handshake state. */
static void test_error_in_handshake(void)
{
    struct pair p;
    struct zmtp_error err;
    struct zmtp_frame_note note;
    static const unsigned char error[] = "\x05"
                                         "ERROR"
                                         "\x0b"
                                         "no key here";

    pair_init(&p, NULL);
    zmtp_mech_start(p.client, &err);
    zmtp_mech_start(p.server, &err);
    is_int(zmtp_mech_receive(p.server, ZMTP_FLAG_COMMAND, error, sizeof(error) - 1, &note, &err),
           ZMTP_PEER_ERROR, "server waiting for INITIATE: ERROR is the peer's error");
    is_string(err.text, "peer sent ERROR: ERROR \"no key here\"", "with its reason");
    is_string(note.kind, "ERROR", "noted as ERROR");
    pair_free(&p);

    pair_init(&p, NULL);
    is_int(up_to_authorization(&p, &err), ZMTP_OK, "up to the question");
    is_int(zmtp_mech_authorize(p.server, true, &err), ZMTP_OK, "allowed");
    is_int(zmtp_mech_receive(p.client, ZMTP_FLAG_COMMAND, error, sizeof(error) - 1, &note, &err),
           ZMTP_PEER_ERROR, "client waiting for READY: ERROR is the peer's error");
    ok(strstr(err.text, "no key here") != NULL, "with its reason: %s", err.text);
    pair_free(&p);
}

/* Both sides through the handshake (server allowing); the first failing status. */
static enum zmtp_status handshake(struct pair *p, struct zmtp_error *err)
{
    enum zmtp_status status = up_to_authorization(p, err);

    if (status == ZMTP_OK)
        status = zmtp_mech_authorize(p->server, true, err);
    if (status == ZMTP_OK)
        status = pump(p, false, err);
    if (status == ZMTP_OK)
        status = pump(p, true, err);
    return status;
}

/* A few planted deviations (tools/deviations.c) on the fake table: what they change on the
 * wire, and that a conformant peer refuses it where it must. */
static void test_deviations(void)
{
    static const struct zmtp_deviations ready_unwrapped = {.ready_unwrapped = true};
    static const struct zmtp_deviations plain_ready = {.accept_plain_ready = true};
    static const struct zmtp_deviations drop_last = {.drop_last_part = true};
    static const struct zmtp_deviations more_missing = {.more_outside_wrap = true};
    static const struct zmtp_deviations swallow = {.swallow_error = true};
    static const unsigned char error_cmd[] = "\x05"
                                             "ERROR\x03"
                                             "bye";
    struct zmtp_part parts[2] = {{(unsigned char *)"ab", 2}, {(unsigned char *)"cd", 2}};
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;

    next_server_dev = &ready_unwrapped;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_UNEXPECTED, "ready-unwrapped: a conformant client refuses");
    ok(strstr(err.text, "plain READY") != NULL, "ready-unwrapped: because it is plain: %s",
       err.text);
    pair_free(&p);

    next_client_dev = &plain_ready;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "accept-plain-ready: the deviant client takes it");
    ok(zmtp_mech_ready(p.client), "accept-plain-ready: and goes on to data");
    pair_free(&p);
    next_client_dev = next_server_dev = NULL;

    next_server_dev = &drop_last;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "drop-last-part: handshake");
    zmtp_mech_send(p.client, parts, 2, &err);
    is_int(pump(&p, true, &err), ZMTP_OK, "drop-last-part: two parts sent");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 1,
       "drop-last-part: one part delivered");
    zmtp_event_free(&ev);
    pair_free(&p);
    next_server_dev = NULL;

    next_client_dev = &more_missing;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "wrap-more-missing: handshake");
    zmtp_mech_send(p.client, parts, 2, &err);
    is_int(pump(&p, true, &err), ZMTP_OK, "wrap-more-missing: two parts sent");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 1,
       "wrap-more-missing: the conformant server sees a one-part message");
    zmtp_event_free(&ev);
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 1,
       "wrap-more-missing: and a second one");
    zmtp_event_free(&ev);
    pair_free(&p);
    next_client_dev = NULL;

    next_server_dev = &swallow;
    pair_init(&p, NULL);
    zmtp_mech_start(p.server, &err);
    is_int(zmtp_mech_receive(p.server, ZMTP_FLAG_COMMAND, error_cmd, sizeof(error_cmd) - 1, NULL,
                             &err),
           ZMTP_OK, "swallow-error: an ERROR in the handshake is skipped");
    pair_free(&p);
    next_server_dev = NULL;
    pair_init(&p, NULL);
    zmtp_mech_start(p.server, &err);
    ok(zmtp_mech_receive(p.server, ZMTP_FLAG_COMMAND, error_cmd, sizeof(error_cmd) - 1, NULL,
                         &err) != ZMTP_OK &&
           zmtp_mech_failed(p.server),
       "without it the ERROR ends the handshake");
    pair_free(&p);
}

/* Move every queued client frame to the server through zmtp_mech_receive_block, each body at
 * offset 8 of its own block as a driver's input buffer would hold it; *TAKEN counts the blocks
 * a part took over, BODIES (up to 4) where the bodies were. */
static enum zmtp_status pump_blocks(struct pair *p, unsigned *taken, const unsigned char **bodies,
                                    struct zmtp_error *err)
{
    struct zmtp_mech_frame f;
    enum zmtp_status status = ZMTP_OK;
    unsigned n = 0;

    *taken = 0;
    while (zmtp_mech_next_frame(p->client, &f)) {
        unsigned char *block = malloc(8 + f.len);

        if (block == NULL)
            bail("out of memory");
        memset(block, 0xee, 8);
        memcpy(block + 8, f.body, f.len);
        if (n < 4)
            bodies[n++] = block + 8;
        if (status == ZMTP_OK)
            status = zmtp_mech_receive_block(p->server, f.flags, block + 8, f.len, &block, NULL,
                                             err);
        *taken += block == NULL;
        free(block);
        zmtp_mech_frame_free(&f);
    }
    return status;
}

/* The copies the data path leaves out: a PLAINTEXT part keeps the driver's buffer, a dropped or
 * wrapped one does not; frames carry no plaintext copy when nobody reads it. */
static void test_no_copy(void)
{
    static const struct zmtp_deviations drop_last = {.drop_last_part = true};
    static unsigned char big[40000];
    struct zmtp_part parts[2] = {{(unsigned char *)"ab", 2}, {big, sizeof(big)}};
    const unsigned char *bodies[4] = {NULL};
    struct zmtp_mech_frame f;
    struct zmtp_frame_note note;
    struct pair p;
    struct zmtp_error err;
    struct zmtp_event ev;
    unsigned taken;

    memset(big, 'x', sizeof(big));
    next_plaintext = true;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "plaintext: handshake");
    zmtp_mech_send(p.client, parts, 2, &err);
    is_int(pump_blocks(&p, &taken, bodies, &err), ZMTP_OK, "plaintext: two parts received");
    is_int(taken, 2, "plaintext: each part took its block over");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 2 && ev.blocks != NULL &&
           ev.parts[0].data == bodies[0] && ev.parts[1].data == bodies[1] &&
           ev.parts[1].len == sizeof(big) && memcmp(ev.parts[1].data, big, sizeof(big)) == 0,
       "plaintext: the parts are the received bodies, not copies");
    zmtp_event_free(&ev);
    pair_free(&p);

    next_server_dev = &drop_last;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "plaintext drop-last-part: handshake");
    zmtp_mech_send(p.client, parts, 2, &err);
    is_int(pump_blocks(&p, &taken, bodies, &err), ZMTP_OK, "plaintext drop-last-part: received");
    is_int(taken, 1, "plaintext drop-last-part: the dropped part's block stays the caller's");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.count == 1 &&
           ev.parts[0].data == bodies[0],
       "plaintext drop-last-part: one part delivered");
    zmtp_event_free(&ev);
    pair_free(&p);
    next_server_dev = NULL;
    next_plaintext = false;

    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "wrapped: handshake");
    zmtp_mech_send(p.client, parts, 1, &err);
    ok(zmtp_mech_next_frame(p.client, &f) && f.plain != NULL && f.plain_len == 3,
       "wrapped: a frame carries its plaintext by default");
    is_int(zmtp_mech_receive(p.server, f.flags, f.body, f.len, &note, &err), ZMTP_OK,
           "wrapped: received");
    ok(note.plain != NULL && note.plain_len == 3 && memcmp(note.plain, "\0ab", 3) == 0,
       "wrapped: the note shows the unwrapped plaintext");
    zmtp_mech_frame_free(&f);
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.blocks == NULL,
       "wrapped: delivered as a copy");
    zmtp_event_free(&ev);
    zmtp_mech_send(p.client, parts + 1, 1, &err);
    is_int(pump_blocks(&p, &taken, bodies, &err), ZMTP_OK, "wrapped: a large part received");
    is_int(taken, 0, "wrapped: the block stays the caller's (the part is the plaintext)");
    ok(take_event(p.server, ZMTP_EVENT_MESSAGE, &ev) && ev.blocks == NULL && ev.parts[0].len == sizeof(big) &&
           memcmp(ev.parts[0].data, big, sizeof(big)) == 0,
       "wrapped: delivered intact");
    zmtp_event_free(&ev);
    pair_free(&p);

    next_no_frame_plain = true;
    pair_init(&p, NULL);
    is_int(handshake(&p, &err), ZMTP_OK, "no_frame_plain: handshake");
    zmtp_mech_send(p.client, parts, 1, &err);
    ok(zmtp_mech_next_frame(p.client, &f) && f.plain == NULL && f.plain_len == 0,
       "no_frame_plain: the frame carries no plaintext");
    is_int(zmtp_mech_receive(p.server, f.flags, f.body, f.len, NULL, &err), ZMTP_OK,
           "no_frame_plain: and is received all the same");
    zmtp_mech_frame_free(&f);
    pair_free(&p);
    next_no_frame_plain = false;
}

int main(void)
{
    plan_lazy();
    test_handshake_and_data();
    test_denied();
    test_frame_before_answer();
    test_gss_failure_and_fault();
    test_expired_context();
    test_error_in_handshake();
    test_deviations();
    test_no_copy();
    done_testing();
}
