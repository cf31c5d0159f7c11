/*
 * Tests of xmpp/sasl (RFC 4752) without a KDC: a fake struct gssops whose tokens are readable
 * strings ("AP-REQ", "AP-REP") and whose wrap is "W" + conf octet + plaintext drives both
 * roles through every state, every fault switch and every layer-message rule; each GSS call is
 * made to fail in turn, and the fake counts its live objects so a leak shows (ASan too under
 * make SANITIZE=1). Then every vector of vectors/sasl-layers.json, through the pure parsers
 * and through the engines. The real GSS-API round trip is tests/xmpp/sasl-roundtrip-t.py.
 */
#include "tests/tap.h"
#include "tests/xmpp/vectors.h"
#include "util/hex.h"
#include "xmpp/sasl.h"

#include <gssapi/gssapi_krb5.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake GSS-API ---- */

enum call {
    CALL_NONE,
    CALL_INIT,
    CALL_ACCEPT,
    CALL_INQUIRE,
    CALL_DISPLAY,
    CALL_WRAP,
    CALL_UNWRAP,
    CALL_COUNT,
};

static const char *const call_names[CALL_COUNT] = {
    "none", "init_sec_context", "accept_sec_context", "inquire_context", "display_name",
    "wrap", "unwrap",
};

struct fake_ctx {
    bool initiator;
};

struct fake_name {
    char *text;
};

static struct {
    long live;             /* contexts, names and buffers handed out and not yet released */
    int calls[CALL_COUNT]; /* calls made of each kind */
    enum call fail;        /* the call to fail ... */
    int fail_nth;          /* ... on its Nth occurrence (1-based) */
    OM_uint32 init_flags, accept_flags; /* ret_flags at COMPLETE */
    int accept_rounds;     /* extra MORE / MORE-REPLY rounds before the acceptor completes */
    bool accept_no_token;  /* the acceptor completes without an output token */
    bool init_final_token; /* the initiator completes with a last token "FINAL" */
    /* what the engine passed */
    OM_uint32 req_flags, time_req;
    gss_channel_bindings_t bindings;
    gss_OID mech;
    gss_cred_id_t init_cred, accept_cred;
    gss_name_t target;
    int wrap_conf_req;
    bool expired;           /* inquire_context: GSS_S_CONTEXT_EXPIRED */
    int names_when_expired; /* ... asked for names all the same (MIT leaks them) */
} fake;

static void fake_reset(void)
{
    memset(&fake, 0, sizeof(fake));
    fake.init_flags = fake.accept_flags =
        GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;
    fake.wrap_conf_req = -1;
}

/* Count the call; true when it is the one to fail. */
static bool fake_fails(enum call c)
{
    fake.calls[c]++;
    return fake.fail == c && fake.calls[c] == fake.fail_nth;
}

static void set_buffer(gss_buffer_t buf, const void *data, size_t len)
{
    buf->length = len;
    buf->value = NULL;
    if (len > 0) {
        buf->value = malloc(len);
        if (buf->value == NULL)
            bail("out of memory");
        memcpy(buf->value, data, len);
        fake.live++;
    }
}

static bool buffer_is(const gss_buffer_t buf, const char *text)
{
    return buf != GSS_C_NO_BUFFER && buf->length == strlen(text) &&
           memcmp(buf->value, text, buf->length) == 0;
}

static OM_uint32 f_import_name(OM_uint32 *minor, gss_buffer_t in, gss_OID type, gss_name_t *out)
{
    (void)in;
    (void)type;
    *minor = 0;
    *out = GSS_C_NO_NAME;
    return GSS_S_FAILURE; /* the engine never imports names */
}

static gss_name_t new_name(const char *text)
{
    struct fake_name *n = malloc(sizeof(*n));

    if (n == NULL || (n->text = strdup(text)) == NULL)
        bail("out of memory");
    fake.live++;
    return (gss_name_t)n;
}

static OM_uint32 f_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t out, gss_OID *type)
{
    struct fake_name *n = (struct fake_name *)name;

    *minor = 0;
    if (type != NULL)
        *type = GSS_C_NO_OID;
    if (fake_fails(CALL_DISPLAY))
        return GSS_S_BAD_NAME;
    set_buffer(out, n->text, strlen(n->text));
    return GSS_S_COMPLETE;
}

static OM_uint32 f_release_name(OM_uint32 *minor, gss_name_t *name)
{
    struct fake_name *n = (struct fake_name *)*name;

    *minor = 0;
    if (n != NULL) {
        free(n->text);
        free(n);
        fake.live--;
    }
    *name = GSS_C_NO_NAME;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_release_buffer(OM_uint32 *minor, gss_buffer_t buf)
{
    *minor = 0;
    if (buf->value != NULL) {
        free(buf->value);
        fake.live--;
    }
    buf->value = NULL;
    buf->length = 0;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_init(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx, gss_name_t target,
                        gss_OID mech, OM_uint32 req_flags, OM_uint32 time_req,
                        gss_channel_bindings_t bindings, gss_buffer_t input, gss_OID *actual_mech,
                        gss_buffer_t output, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    *minor = 0;
    output->length = 0;
    output->value = NULL;
    if (actual_mech != NULL)
        *actual_mech = mech;
    if (time_rec != NULL)
        *time_rec = 0;
    fake.init_cred = cred;
    fake.target = target;
    fake.mech = mech;
    fake.req_flags = req_flags;
    fake.time_req = time_req;
    fake.bindings = bindings;
    if (fake_fails(CALL_INIT))
        return GSS_S_FAILURE;
    if (*ctx == GSS_C_NO_CONTEXT) {
        struct fake_ctx *c;

        if (input != GSS_C_NO_BUFFER && input->length != 0)
            return GSS_S_DEFECTIVE_TOKEN;
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            bail("out of memory");
        c->initiator = true;
        fake.live++;
        *ctx = (gss_ctx_id_t)c;
        set_buffer(output, "AP-REQ", 6);
        return GSS_S_CONTINUE_NEEDED;
    }
    if (buffer_is(input, "MORE")) {
        set_buffer(output, "MORE-REPLY", 10);
        return GSS_S_CONTINUE_NEEDED;
    }
    if (!buffer_is(input, "AP-REP"))
        return GSS_S_DEFECTIVE_TOKEN;
    if (ret_flags != NULL)
        *ret_flags = fake.init_flags;
    if (fake.init_final_token)
        set_buffer(output, "FINAL", 5);
    return GSS_S_COMPLETE;
}

static OM_uint32 f_accept(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred,
                          gss_buffer_t input, gss_channel_bindings_t bindings, gss_name_t *src,
                          gss_OID *mech, gss_buffer_t output, OM_uint32 *ret_flags,
                          OM_uint32 *time_rec, gss_cred_id_t *delegated)
{
    *minor = 0;
    output->length = 0;
    output->value = NULL;
    if (src != NULL)
        *src = GSS_C_NO_NAME;
    if (mech != NULL)
        *mech = GSS_C_NO_OID;
    if (time_rec != NULL)
        *time_rec = 0;
    if (delegated != NULL)
        *delegated = GSS_C_NO_CREDENTIAL;
    fake.accept_cred = cred;
    fake.bindings = bindings;
    if (fake_fails(CALL_ACCEPT))
        return GSS_S_FAILURE;
    if (*ctx == GSS_C_NO_CONTEXT) {
        struct fake_ctx *c;

        if (!buffer_is(input, "AP-REQ"))
            return GSS_S_DEFECTIVE_TOKEN;
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            bail("out of memory");
        fake.live++;
        *ctx = (gss_ctx_id_t)c;
    } else if (!buffer_is(input, "MORE-REPLY")) {
        return GSS_S_DEFECTIVE_TOKEN;
    }
    if (fake.accept_rounds > 0) {
        fake.accept_rounds--;
        set_buffer(output, "MORE", 4);
        return GSS_S_CONTINUE_NEEDED;
    }
    if (ret_flags != NULL)
        *ret_flags = fake.accept_flags;
    if (!fake.accept_no_token)
        set_buffer(output, "AP-REP", 6);
    return GSS_S_COMPLETE;
}

static const char TARGET[] = "xmpp/host.example.com/example.com@FAKE.TEST";
static const char INITIATOR[] = "alice@FAKE.TEST";

static OM_uint32 f_inquire(OM_uint32 *minor, gss_ctx_id_t ctx, gss_name_t *src, gss_name_t *targ,
                           OM_uint32 *lifetime, gss_OID *mech, OM_uint32 *flags, int *local,
                           int *open)
{
    (void)ctx;
    *minor = 0;
    if (lifetime != NULL)
        *lifetime = 0;
    if (mech != NULL)
        *mech = GSS_C_NO_OID;
    if (flags != NULL)
        *flags = 0;
    if (local != NULL)
        *local = 0;
    if (open != NULL)
        *open = 1;
    if (fake_fails(CALL_INQUIRE))
        return GSS_S_NO_CONTEXT;
    if (fake.expired) {
        /* MIT makes the names, then fails an expired context and never hands them out */
        if (src != NULL || targ != NULL)
            fake.names_when_expired++;
        return GSS_S_CONTEXT_EXPIRED;
    }
    if (src != NULL)
        *src = new_name(INITIATOR);
    if (targ != NULL)
        *targ = new_name(TARGET);
    return GSS_S_COMPLETE;
}

static OM_uint32 f_delete(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t token)
{
    (void)token;
    *minor = 0;
    if (*ctx != GSS_C_NO_CONTEXT) {
        free(*ctx);
        fake.live--;
    }
    *ctx = GSS_C_NO_CONTEXT;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
                        gss_buffer_t in, int *conf_state, gss_buffer_t out)
{
    unsigned char *buf;

    (void)ctx;
    (void)qop;
    *minor = 0;
    out->length = 0;
    out->value = NULL;
    fake.wrap_conf_req = conf_req;
    if (fake_fails(CALL_WRAP))
        return GSS_S_FAILURE;
    buf = malloc(in->length + 2);
    if (buf == NULL)
        bail("out of memory");
    buf[0] = 'W';
    buf[1] = conf_req ? 1 : 0;
    if (in->length > 0)
        memcpy(buf + 2, in->value, in->length);
    set_buffer(out, buf, in->length + 2);
    free(buf);
    if (conf_state != NULL)
        *conf_state = conf_req ? 1 : 0;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
                          int *conf_state, gss_qop_t *qop)
{
    const unsigned char *p = in->value;

    (void)ctx;
    *minor = 0;
    out->length = 0;
    out->value = NULL;
    if (qop != NULL)
        *qop = 0;
    if (fake_fails(CALL_UNWRAP))
        return GSS_S_FAILURE;
    if (in->length < 2 || p[0] != 'W' || p[1] > 1)
        return GSS_S_DEFECTIVE_TOKEN;
    if (conf_state != NULL)
        *conf_state = p[1];
    set_buffer(out, p + 2, in->length - 2);
    /* MIT decrypts and rotates the token in place: do the same to catch a caller that lends
     * its own (const) payload. */
    memset(in->value, 'X', in->length);
    return GSS_S_COMPLETE;
}

static const struct gssops fake_ops = {
    .import_name = f_import_name,
    .display_name = f_display_name,
    .release_name = f_release_name,
    .release_buffer = f_release_buffer,
    .init_sec_context = f_init,
    .accept_sec_context = f_accept,
    .inquire_context = f_inquire,
    .delete_sec_context = f_delete,
    .wrap = f_wrap,
    .unwrap = f_unwrap,
};

/* ---- driving ---- */

/* A name the client is configured with; the fake never dereferences it. */
static struct fake_name target_name = {(char *)TARGET};
static int cred_marker;

struct peer {
    struct sasl *sasl;
    unsigned char *out;
    size_t out_len;
    enum sasl_status status;
};

static void client_config(struct sasl_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = SASL_ROLE_CLIENT;
    cfg->gss = &fake_ops;
    cfg->target = (gss_name_t)&target_name;
    cfg->cred = (gss_cred_id_t)&cred_marker;
}

static void server_config(struct sasl_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = SASL_ROLE_SERVER;
    cfg->gss = &fake_ops;
}

static void peer_new(struct peer *p, const struct sasl_config *cfg)
{
    memset(p, 0, sizeof(*p));
    p->sasl = rfc4752_new(cfg);
    if (p->sasl == NULL)
        bail("rfc4752_new: out of memory");
}

static void peer_free(struct peer *p)
{
    free(p->out);
    rfc4752_free(p->sasl);
    memset(p, 0, sizeof(*p));
}

static enum sasl_status start(struct peer *c)
{
    free(c->out);
    c->status = rfc4752_client_start(c->sasl, &c->out, &c->out_len);
    return c->status;
}

/* Feed FROM's last output to TO. */
/* Payloads rfc4752_step wrote into although the caller lent them as const (must stay 0). */
static unsigned inputs_changed;

static enum sasl_status pass(const struct peer *from, struct peer *to)
{
    unsigned char *in = NULL;
    size_t len = from->out_len;
    enum sasl_status st;

    if (from->out != NULL) {
        in = malloc(len > 0 ? len : 1);
        if (in == NULL)
            bail("out of memory");
        memcpy(in, from->out, len);
    }
    free(to->out);
    st = rfc4752_step(to->sasl, in, len, &to->out, &to->out_len);
    if (in != NULL && memcmp(in, from->out, len) != 0)
        inputs_changed++;
    free(in);
    to->status = st;
    return st;
}

/* Feed LEN octets at DATA to P. */
static enum sasl_status feed(struct peer *p, const void *data, size_t len)
{
    free(p->out);
    p->status = rfc4752_step(p->sasl, data, len, &p->out, &p->out_len);
    return p->status;
}

/* Feed "W" CONF + the LEN octets at DATA (a fake wrap token) to P. */
static enum sasl_status feed_wrapped(struct peer *p, int conf, const void *data, size_t len)
{
    unsigned char *tok = malloc(len + 2);
    enum sasl_status st;

    if (tok == NULL)
        bail("out of memory");
    tok[0] = 'W';
    tok[1] = (unsigned char)conf;
    if (len > 0)
        memcpy(tok + 2, data, len);
    st = feed(p, tok, len + 2);
    free(tok);
    return st;
}

static bool out_is(const struct peer *p, const void *want, size_t want_len)
{
    return p->out != NULL && p->out_len == want_len &&
           (want_len == 0 || memcmp(p->out, want, want_len) == 0);
}

/* Whether the last output is the fake wrap (conf 0) of the LEN octets at WANT. */
static bool out_wraps(const struct peer *p, const void *want, size_t want_len)
{
    return p->out != NULL && p->out_len == want_len + 2 && p->out[0] == 'W' && p->out[1] == 0 &&
           (want_len == 0 || memcmp(p->out + 2, want, want_len) == 0);
}

static bool one_line(const char *text)
{
    return text[0] != '\0' && strchr(text, '\n') == NULL && strchr(text, '\r') == NULL;
}

/* Run client C and server S up to the point where S has sent its layer message (C has not
 * read it). False (with diagnostics) when the exchange goes otherwise. */
static bool to_layer_message(struct peer *c, struct peer *s)
{
    if (start(c) != SASL_CONTINUE || pass(c, s) != SASL_CONTINUE || pass(s, c) != SASL_CONTINUE ||
        pass(c, s) != SASL_CONTINUE) {
        diag("exchange to the layer message: client '%s', server '%s'", rfc4752_error(c->sasl),
             rfc4752_error(s->sasl));
        return false;
    }
    return true;
}

/* ---- tests ---- */

static void test_conformant(void)
{
    static const unsigned char none[4] = {1, 0, 0, 0};
    struct sasl_config ccfg, scfg;
    struct sasl_faults zero = {0};
    struct peer c, s;
    const struct rfc4752_outcome *so, *co;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    ccfg.faults = &zero;
    scfg.faults = &zero;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    is_int(start(&c), SASL_CONTINUE, "client: the initial response");
    ok(out_is(&c, "AP-REQ", 6), "is the first context token");
    is_int(fake.req_flags, GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG,
           "req_flags MUTUAL|SEQUENCE|INTEG (no CONF: only 'none' is acceptable)");
    ok(fake.bindings == GSS_C_NO_CHANNEL_BINDINGS, "no channel bindings (RFC 4752 §3.1)");
    ok(fake.mech != GSS_C_NO_OID && fake.mech->length == gss_mech_krb5->length &&
           memcmp(fake.mech->elements, gss_mech_krb5->elements, fake.mech->length) == 0,
       "the krb5 mechanism OID");
    ok(fake.target == (gss_name_t)&target_name, "the configured target");
    ok(fake.init_cred == (gss_cred_id_t)&cred_marker, "the configured credential");
    is_int(pass(&c, &s), SASL_CONTINUE, "server: accepts the initial response");
    ok(out_is(&s, "AP-REP", 6), "and sends the AP-REP as a challenge");
    ok(fake.accept_cred == GSS_C_NO_CREDENTIAL, "with the config's credential (none: any key)");
    is_string(rfc4752_outcome(s.sasl)->target, TARGET,
              "server: the target is recorded at COMPLETE");
    is_string(rfc4752_outcome(s.sasl)->initiator, INITIATOR, "and the initiator");
    is_int(pass(&s, &c), SASL_CONTINUE, "client: completes on the AP-REP");
    ok(out_is(&c, "", 0), "and answers with an empty response");
    is_int(pass(&c, &s), SASL_CONTINUE, "server: takes the empty response");
    ok(out_wraps(&s, none, 4), "and sends wrap(conf 0, 01 000000)");
    is_int(fake.wrap_conf_req, 0, "wrapped with conf_req 0");
    is_int(pass(&s, &c), SASL_DONE, "client: done after the layer message");
    ok(out_wraps(&c, none, 4), "with wrap(conf 0, 01 000000), no authzid");
    is_int(pass(&c, &s), SASL_DONE, "server: done");
    ok(s.out == NULL && s.out_len == 0, "server: nothing to send with DONE");
    so = rfc4752_outcome(s.sasl);
    co = rfc4752_outcome(c.sasl);
    ok(so->layers_offered == 1 && so->server_max_size == 0 && so->layer == 1 &&
           so->client_max_size == 0 && so->authzid == NULL && so->authzid_len == 0,
       "server outcome: offered 01/0, chose 01/0, no authzid");
    is_int(so->flags, fake.accept_flags, "server outcome: the accept ret_flags");
    ok(co->layers_offered == 1 && co->layer == 1 && co->flags == fake.init_flags &&
           co->target != NULL && strcmp(co->target, TARGET) == 0,
       "client outcome: offered, chosen, flags, target");
    is_string(rfc4752_error(s.sasl), "", "no error on success");
    is_int(rfc4752_condition(s.sasl), SASL_COND_NONE, "no condition on success");
    is_int(feed(&s, "", 0), SASL_FAILED, "server: a call after DONE fails");
    is_int(rfc4752_condition(s.sasl), SASL_COND_ABORTED, "as aborted");
    is_int(feed(&c, "", 0), SASL_FAILED, "client: a call after DONE fails");
    peer_free(&c);
    peer_free(&s);
    is_int(fake.live, 0, "conformant exchange: every GSS object released");
}

/* One exchange with CLIENT_LAYERS acceptable and SERVER_LAYERS offered. */
static void check_layers(uint8_t acceptable, uint32_t client_max, uint8_t offered,
                         uint32_t server_max, OM_uint32 flags, enum sasl_status want,
                         uint8_t want_offered, uint8_t want_layer, uint32_t want_max,
                         const char *what)
{
    struct sasl_config ccfg, scfg;
    struct peer c, s;
    bool good;

    fake_reset();
    fake.accept_flags = fake.init_flags = flags;
    client_config(&ccfg);
    server_config(&scfg);
    ccfg.layers_acceptable = acceptable;
    ccfg.client_max_size = client_max;
    scfg.layers_offered = offered;
    scfg.server_max_size = server_max;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    good = to_layer_message(&c, &s);
    if (good && want == SASL_DONE) {
        good = pass(&s, &c) == SASL_DONE && pass(&c, &s) == SASL_DONE &&
               rfc4752_outcome(s.sasl)->layers_offered == want_offered &&
               rfc4752_outcome(s.sasl)->layer == want_layer &&
               rfc4752_outcome(s.sasl)->client_max_size == want_max;
        if (!good)
            diag("client '%s', server '%s', offered %02x, layer %02x, max %u",
                 rfc4752_error(c.sasl), rfc4752_error(s.sasl),
                 rfc4752_outcome(s.sasl)->layers_offered, rfc4752_outcome(s.sasl)->layer,
                 (unsigned)rfc4752_outcome(s.sasl)->client_max_size);
    } else if (good) {
        good = pass(&s, &c) == SASL_FAILED &&
               rfc4752_condition(c.sasl) == SASL_COND_MECHANISM_TOO_WEAK &&
               strstr(rfc4752_error(c.sasl), "none of which the client accepts") != NULL;
        if (!good)
            diag("client '%s'", rfc4752_error(c.sasl));
    }
    ok(good, "layers: %s", what);
    peer_free(&c);
    peer_free(&s);
    good = fake.live == 0;
    if (!good)
        ok(false, "layers: %s: %ld GSS objects leaked", what, fake.live);
}

static void test_layer_choice(void)
{
    const OM_uint32 all =
        GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;
    const OM_uint32 no_conf = all & ~(OM_uint32)GSS_C_CONF_FLAG;
    struct sasl_config ccfg;
    struct peer c;

    check_layers(0, 0, 7, 65536, all, SASL_DONE, 7, 1, 0,
                 "default acceptable ('none') picks none from 07, max size 0");
    check_layers(7, 4096, 7, 65536, all, SASL_DONE, 7, 4, 4096,
                 "all acceptable, all offered: confidentiality with the client's max size");
    check_layers(3, 4096, 7, 65536, all, SASL_DONE, 7, 2, 4096,
                 "none+integrity acceptable: integrity");
    check_layers(7, 0x1000000, 3, 65536, all, SASL_DONE, 3, 2, 0xffffff,
                 "integrity offered, a max size above 24 bits is capped");
    check_layers(7, 100, 7, 65536, no_conf, SASL_DONE, 3, 2, 100,
                 "a context without CONF: the server leaves confidentiality out");
    check_layers(0, 0, 6, 65536, all, SASL_FAILED, 6, 0, 0,
                 "'none' acceptable but only integrity/confidentiality offered: refused");
    check_layers(1, 0, 2, 65536, all, SASL_FAILED, 2, 0, 0, "none vs integrity: refused");

    fake_reset();
    client_config(&ccfg);
    ccfg.layers_acceptable = SASL_LAYER_NONE | SASL_LAYER_CONFIDENTIALITY;
    peer_new(&c, &ccfg);
    start(&c);
    is_int(fake.req_flags,
           GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG,
           "CONF is requested when a confidentiality layer is acceptable");
    peer_free(&c);

    {
        struct sasl_config scfg;
        struct peer cc, s;

        fake_reset();
        fake.accept_flags &= ~(OM_uint32)GSS_C_CONF_FLAG;
        client_config(&ccfg);
        server_config(&scfg);
        scfg.layers_offered = SASL_LAYER_CONFIDENTIALITY;
        peer_new(&cc, &ccfg);
        peer_new(&s, &scfg);
        start(&cc);
        pass(&cc, &s);
        pass(&s, &cc);
        is_int(pass(&cc, &s), SASL_FAILED,
               "server: only confidentiality configured, the context has none: refused");
        is_int(rfc4752_condition(s.sasl), SASL_COND_MECHANISM_TOO_WEAK, "as mechanism-too-weak");
        peer_free(&cc);
        peer_free(&s);
    }
    is_int(fake.live, 0, "nothing leaked");
}

static void test_authzid(void)
{
    static const unsigned char want[] = "\x01\x00\x00\x00"
                                        "bob@example.com";
    struct sasl_config ccfg, scfg;
    struct peer c, s;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    ccfg.authzid = "bob@example.com";
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    is_int(pass(&s, &c), SASL_DONE, "authzid: client done");
    ok(out_wraps(&c, want, sizeof(want) - 1), "the authzid follows the 4 octets, no NUL");
    is_int(pass(&c, &s), SASL_DONE, "server done");
    is_string(rfc4752_outcome(s.sasl)->authzid, "bob@example.com", "server records the authzid");
    is_int((long long)rfc4752_outcome(s.sasl)->authzid_len, 15, "with its length");
    is_string(rfc4752_outcome(c.sasl)->authzid, "bob@example.com", "client records what it sent");
    peer_free(&c);
    peer_free(&s);

    /* An empty authzid configured is sent as zero octets: the reply is 4 octets, none. */
    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    ccfg.authzid = "";
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    pass(&s, &c);
    is_int(pass(&c, &s), SASL_DONE, "an empty authzid: done");
    ok(rfc4752_outcome(s.sasl)->authzid == NULL, "the server sees none");
    peer_free(&c);
    peer_free(&s);
    is_int(fake.live, 0, "nothing leaked");
}

static void test_context_shapes(void)
{
    static const unsigned char none[4] = {1, 0, 0, 0};
    struct sasl_config ccfg, scfg;
    struct peer c, s;

    /* Two extra rounds before the acceptor completes. */
    fake_reset();
    fake.accept_rounds = 2;
    client_config(&ccfg);
    server_config(&scfg);
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    start(&c);
    is_int(pass(&c, &s), SASL_CONTINUE, "multi-round: server continues");
    ok(out_is(&s, "MORE", 4), "with a further context token");
    ok(rfc4752_outcome(s.sasl)->target == NULL, "no target before COMPLETE");
    pass(&s, &c);
    ok(out_is(&c, "MORE-REPLY", 10), "the client answers it");
    pass(&c, &s);
    pass(&s, &c);
    pass(&c, &s);
    ok(out_is(&s, "AP-REP", 6), "the acceptor completes on the second reply");
    pass(&s, &c);
    pass(&c, &s);
    is_int(pass(&s, &c), SASL_DONE, "client done");
    is_int(pass(&c, &s), SASL_DONE, "server done");
    peer_free(&c);
    peer_free(&s);

    /* The acceptor completes without a token: the layer message is the first challenge. */
    fake_reset();
    fake.accept_no_token = true;
    server_config(&scfg);
    peer_new(&s, &scfg);
    is_int(feed(&s, "AP-REQ", 6), SASL_CONTINUE, "no AP-REP: server continues");
    ok(out_wraps(&s, none, 4), "with the layer message at once");
    peer_free(&s);

    /* The initiator completes with a last token: it goes out as the response. */
    fake_reset();
    fake.init_final_token = true;
    client_config(&ccfg);
    peer_new(&c, &ccfg);
    start(&c);
    is_int(feed(&c, "AP-REP", 6), SASL_CONTINUE, "final token: client continues");
    ok(out_is(&c, "FINAL", 5), "sending the last context token");
    peer_free(&c);

    /* No initial response: an empty challenge first, once. */
    fake_reset();
    server_config(&scfg);
    peer_new(&s, &scfg);
    is_int(feed(&s, NULL, 0), SASL_CONTINUE, "no initial response: server continues");
    ok(out_is(&s, "", 0), "with an empty challenge");
    is_int(feed(&s, "AP-REQ", 6), SASL_CONTINUE, "the token then comes as a response");
    ok(out_is(&s, "AP-REP", 6), "and is accepted");
    peer_free(&s);
    peer_new(&s, &scfg);
    feed(&s, NULL, 0);
    is_int(feed(&s, "", 0), SASL_FAILED, "a second empty payload goes to accept_sec_context");
    is_int(rfc4752_condition(s.sasl), SASL_COND_NOT_AUTHORIZED, "and fails as not-authorized");
    peer_free(&s);

    /* A non-empty response where the empty one is due. */
    fake_reset();
    server_config(&scfg);
    peer_new(&s, &scfg);
    feed(&s, "AP-REQ", 6);
    is_int(feed(&s, "x", 1), SASL_FAILED, "server: a non-empty response after the AP-REP");
    is_int(rfc4752_condition(s.sasl), SASL_COND_MALFORMED_REQUEST, "is malformed-request");
    ok(strstr(rfc4752_error(s.sasl), "1-octet response where an empty one was due") != NULL,
       "named: %s", rfc4752_error(s.sasl));
    peer_free(&s);
    is_int(fake.live, 0, "nothing leaked");
}

static void test_flags_refused(void)
{
    struct sasl_config ccfg, scfg;
    struct peer c, s;

    fake_reset();
    fake.accept_flags = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG;
    server_config(&scfg);
    peer_new(&s, &scfg);
    is_int(feed(&s, "AP-REQ", 6), SASL_FAILED, "server: a context without INTEG is refused");
    is_int(rfc4752_condition(s.sasl), SASL_COND_MECHANISM_TOO_WEAK, "as mechanism-too-weak");
    ok(strstr(rfc4752_error(s.sasl), "no integrity") != NULL && one_line(rfc4752_error(s.sasl)),
       "named on one line: %s", rfc4752_error(s.sasl));
    peer_free(&s);

    fake_reset();
    fake.init_flags = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG;
    client_config(&ccfg);
    peer_new(&c, &ccfg);
    start(&c);
    is_int(feed(&c, "AP-REP", 6), SASL_FAILED, "client: a context without INTEG is refused");
    ok(strstr(rfc4752_error(c.sasl), "no integrity") != NULL, "named: %s", rfc4752_error(c.sasl));
    peer_free(&c);
    is_int(fake.live, 0, "nothing leaked");
}

static void test_conf_wrapped(void)
{
    static const unsigned char none[4] = {1, 0, 0, 0};
    struct sasl_config ccfg, scfg;
    struct peer c, s;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    is_int(feed_wrapped(&c, 1, none, 4), SASL_FAILED,
           "client: a layer message wrapped with confidentiality is refused");
    ok(strstr(rfc4752_error(c.sasl), "conf_flag FALSE") != NULL, "named: %s",
       rfc4752_error(c.sasl));
    is_int(feed_wrapped(&s, 1, none, 4), SASL_FAILED,
           "server: a layer reply wrapped with confidentiality is refused");
    is_int(rfc4752_condition(s.sasl), SASL_COND_MALFORMED_REQUEST, "as malformed-request");
    peer_free(&c);
    peer_free(&s);

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    is_int(feed(&c, "garbage", 7), SASL_FAILED, "client: an unwrap failure is fatal");
    ok(strstr(rfc4752_error(c.sasl), "unwrap failed") != NULL, "named: %s", rfc4752_error(c.sasl));
    is_int(feed(&s, "garbage", 7), SASL_FAILED, "server: an unwrap failure is fatal");
    is_int(rfc4752_condition(s.sasl), SASL_COND_NOT_AUTHORIZED, "as not-authorized");
    peer_free(&c);
    peer_free(&s);
    is_int(fake.live, 0, "nothing leaked");
}

/* ---- faults ---- */

static void test_server_faults(void)
{
    static const unsigned char none[4] = {1, 0, 0, 0};
    struct sasl_config ccfg, scfg;
    struct sasl_faults f;
    struct peer c, s;
    unsigned char buf[8] = {0};

    /* omit_ap_rep */
    fake_reset();
    memset(&f, 0, sizeof(f));
    f.omit_ap_rep = true;
    client_config(&ccfg);
    server_config(&scfg);
    scfg.faults = &f;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    start(&c);
    is_int(pass(&c, &s), SASL_CONTINUE, "omit_ap_rep: server continues");
    ok(out_wraps(&s, none, 4), "with the layer message instead of the AP-REP");
    is_int(pass(&s, &c), SASL_FAILED, "our client fails: init_sec_context on a wrap token");
    ok(strstr(rfc4752_error(c.sasl), "init_sec_context failed") != NULL, "named: %s",
       rfc4752_error(c.sasl));
    peer_free(&c);
    peer_free(&s);

    /* extra_empty_challenge */
    fake_reset();
    memset(&f, 0, sizeof(f));
    f.extra_empty_challenge = true;
    client_config(&ccfg);
    server_config(&scfg);
    scfg.faults = &f;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    start(&c);
    pass(&c, &s);
    pass(&s, &c);
    is_int(pass(&c, &s), SASL_CONTINUE, "extra_empty_challenge: server continues");
    ok(out_is(&s, "", 0), "with an empty challenge");
    is_int(pass(&s, &c), SASL_FAILED, "our client refuses the empty challenge (unwrap fails)");
    ok(strstr(rfc4752_error(c.sasl), "unwrap failed") != NULL, "named: %s", rfc4752_error(c.sasl));
    is_int(feed(&s, "", 0), SASL_CONTINUE, "an empty response to it");
    ok(out_wraps(&s, none, 4), "brings the layer message");
    is_int(feed(&s, "", 0), SASL_FAILED, "only one extra empty challenge: then unwrap");
    peer_free(&c);
    peer_free(&s);

    /* layer_maxsize_with_none, with and without a configured max size */
    for (int i = 0; i < 2; i++) {
        fake_reset();
        memset(&f, 0, sizeof(f));
        f.layer_maxsize_with_none = true;
        client_config(&ccfg);
        server_config(&scfg);
        scfg.faults = &f;
        scfg.layers_offered = 7;
        scfg.server_max_size = i == 0 ? 0 : 1000;
        peer_new(&c, &ccfg);
        peer_new(&s, &scfg);
        to_layer_message(&c, &s);
        /* 01, then 65536 (the fault's own size) or the configured 1000, big-endian */
        buf[0] = 1;
        buf[1] = i == 0 ? 0x01 : 0x00;
        buf[2] = i == 0 ? 0x00 : 0x03;
        buf[3] = i == 0 ? 0x00 : 0xe8;
        ok(out_wraps(&s, buf, 4), "layer_maxsize_with_none (max %u): 01 and a non-zero size",
           (unsigned)scfg.server_max_size);
        is_int(pass(&s, &c), SASL_FAILED, "our client refuses it");
        ok(strstr(rfc4752_error(c.sasl), "SASL_LAYER_MAXSIZE_NONE") != NULL, "named: %s",
           rfc4752_error(c.sasl));
        peer_free(&c);
        peer_free(&s);
    }

    /* layer_no_bit */
    fake_reset();
    memset(&f, 0, sizeof(f));
    f.layer_no_bit = true;
    client_config(&ccfg);
    server_config(&scfg);
    scfg.faults = &f;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    memset(buf, 0, sizeof(buf));
    ok(out_wraps(&s, buf, 4), "layer_no_bit: 00 000000");
    is_int(pass(&s, &c), SASL_FAILED, "our client refuses it");
    ok(strstr(rfc4752_error(c.sasl), "SASL_LAYER_NO_BIT") != NULL, "named: %s",
       rfc4752_error(c.sasl));
    peer_free(&c);
    peer_free(&s);

    /* layer_msg_len: cut and padded */
    for (size_t len = 1; len <= 6; len++) {
        if (len == 4)
            continue;
        fake_reset();
        memset(&f, 0, sizeof(f));
        f.layer_msg_len = len;
        client_config(&ccfg);
        server_config(&scfg);
        scfg.faults = &f;
        peer_new(&c, &ccfg);
        peer_new(&s, &scfg);
        to_layer_message(&c, &s);
        memset(buf, 0, sizeof(buf));
        buf[0] = 1;
        ok(out_wraps(&s, buf, len), "layer_msg_len %zu: 01 000000 cut or padded with 00", len);
        is_int(pass(&s, &c), SASL_FAILED, "our client refuses %zu octets", len);
        ok(strstr(rfc4752_error(c.sasl), "SASL_LAYER_BAD_LENGTH") != NULL, "named: %s",
           rfc4752_error(c.sasl));
        peer_free(&c);
        peer_free(&s);
    }
    is_int(fake.live, 0, "server faults: nothing leaked");
}

/* Server with DEV: to the layer message, then the client's reply REPLY (4 octets) fed to it. */
static enum sasl_status server_takes_reply(const struct xmpp_deviations *dev,
                                           const unsigned char reply[4], struct peer *s)
{
    struct sasl_config ccfg, scfg;
    struct peer c;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    scfg.deviations = dev;
    peer_new(&c, &ccfg);
    peer_new(s, &scfg);
    to_layer_message(&c, s);
    peer_free(&c);
    return feed_wrapped(s, 0, reply, 4);
}

static void test_server_deviations(void)
{
    static const unsigned char no_bit[4] = {0, 0, 0, 0}, no_bit_size[4] = {0, 0, 0, 9};
    static const unsigned char none_size[4] = {1, 1, 0, 0}, three[4] = {7, 0, 0, 0};
    static const unsigned char maxsize[4] = {1, 0xff, 0xff, 0xff};
    struct xmpp_deviations d;
    struct sasl_config ccfg, scfg;
    struct peer c, s;

    memset(&d, 0, sizeof(d));
    is_int(server_takes_reply(&d, no_bit, &s), SASL_FAILED, "no deviation: 00 refused");
    peer_free(&s);
    d.accept_layer_no_bit = true;
    is_int(server_takes_reply(&d, no_bit, &s), SASL_DONE, "accept_layer_no_bit: 00 taken");
    is_int(rfc4752_outcome(s.sasl)->layer, 0, "the outcome keeps the octet sent (00)");
    peer_free(&s);
    is_int(server_takes_reply(&d, no_bit_size, &s), SASL_FAILED,
           "accept_layer_no_bit alone: 00 with a max size still refused");
    ok(strstr(rfc4752_error(s.sasl), "SASL_LAYER_MAXSIZE_NONE") != NULL, "named: %s",
       rfc4752_error(s.sasl));
    peer_free(&s);
    memset(&d, 0, sizeof(d));
    d.accept_maxsize_with_none = true;
    is_int(server_takes_reply(&d, none_size, &s), SASL_DONE,
           "accept_maxsize_with_none: 01 010000 taken");
    is_int((long long)rfc4752_outcome(s.sasl)->client_max_size, 65536,
           "the outcome keeps the max size sent");
    peer_free(&s);
    is_int(server_takes_reply(&d, three, &s), SASL_FAILED,
           "accept_maxsize_with_none: 07 still refused");
    peer_free(&s);

    /* layer_maxsize_with_none: GNU SASL's 01 ffffff, whatever is configured */
    memset(&d, 0, sizeof(d));
    d.layer_maxsize_with_none = true;
    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    scfg.deviations = &d;
    scfg.layers_offered = 7;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    ok(out_wraps(&s, maxsize, 4), "layer_maxsize_with_none: 01 ffffff");
    peer_free(&c);
    peer_free(&s);

    /* no_empty_challenge: the empty input reaches accept_sec_context (the fake refuses it) */
    memset(&d, 0, sizeof(d));
    fake_reset();
    server_config(&scfg);
    peer_new(&s, &scfg);
    is_int(feed(&s, "", 0), SASL_CONTINUE, "no deviation: no initial response, a challenge");
    ok(out_is(&s, "", 0) && fake.calls[CALL_ACCEPT] == 0, "empty, and no acceptor call");
    peer_free(&s);
    d.no_empty_challenge = true;
    scfg.deviations = &d;
    peer_new(&s, &scfg);
    is_int(feed(&s, "", 0), SASL_FAILED, "no_empty_challenge: the empty input goes to the acceptor");
    ok(fake.calls[CALL_ACCEPT] == 1, "one accept_sec_context call");
    is_int(rfc4752_condition(s.sasl), SASL_COND_NOT_AUTHORIZED, "which fails: not-authorized");
    peer_free(&s);
    is_int(fake.live, 0, "server deviations: nothing leaked");
}

static void test_client_faults(void)
{
    struct sasl_config ccfg, scfg;
    struct sasl_faults f;
    struct peer c, s;
    static const struct {
        uint8_t byte;
        const char *status;
    } bytes[] = {{0x00, "SASL_LAYER_NO_BIT"},
                 {0x03, "SASL_LAYER_SEVERAL_BITS"},
                 {0x02, "SASL_LAYER_NOT_OFFERED"},
                 {0x08, "SASL_LAYER_UNKNOWN_BITS"},
                 {0x07, "SASL_LAYER_SEVERAL_BITS"}};

    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        unsigned char want[4] = {bytes[i].byte, 0, 0, 0};

        fake_reset();
        memset(&f, 0, sizeof(f));
        f.layer_byte_set = true;
        f.layer_byte = bytes[i].byte;
        client_config(&ccfg);
        server_config(&scfg);
        ccfg.faults = &f;
        peer_new(&c, &ccfg);
        peer_new(&s, &scfg);
        to_layer_message(&c, &s);
        is_int(pass(&s, &c), SASL_DONE, "layer_byte %02x: the client sends it", bytes[i].byte);
        ok(out_wraps(&c, want, 4), "as the layer octet, max size 0");
        is_int(pass(&c, &s), SASL_FAILED, "our server refuses it");
        is_int(rfc4752_condition(s.sasl), SASL_COND_MALFORMED_REQUEST, "as malformed-request");
        ok(strstr(rfc4752_error(s.sasl), bytes[i].status) != NULL &&
               one_line(rfc4752_error(s.sasl)),
           "naming %s: %s", bytes[i].status, rfc4752_error(s.sasl));
        peer_free(&c);
        peer_free(&s);
    }

    for (int i = 0; i < 2; i++) {
        unsigned char want[4] = {1, 0, 0x10, 0};

        fake_reset();
        memset(&f, 0, sizeof(f));
        f.client_maxsize_with_none = true;
        client_config(&ccfg);
        server_config(&scfg);
        ccfg.faults = &f;
        ccfg.layers_acceptable = i == 0 ? 0 : 7;
        ccfg.client_max_size = i == 0 ? 0 : 4096;
        scfg.layers_offered = 7;
        scfg.server_max_size = 65536;
        if (i == 0) {
            want[1] = 1;
            want[2] = 0;
        }
        peer_new(&c, &ccfg);
        peer_new(&s, &scfg);
        to_layer_message(&c, &s);
        is_int(pass(&s, &c), SASL_DONE, "client_maxsize_with_none (%s): sent",
               i == 0 ? "no max configured" : "max 4096");
        ok(out_wraps(&c, want, 4), "as 01 with a non-zero max size");
        is_int(pass(&c, &s), SASL_FAILED, "our server refuses it");
        ok(strstr(rfc4752_error(s.sasl), "SASL_LAYER_MAXSIZE_NONE") != NULL, "named: %s",
           rfc4752_error(s.sasl));
        peer_free(&c);
        peer_free(&s);
    }
    is_int(fake.live, 0, "client faults: nothing leaked");
}

/* ---- the client's planted deviations (cfg.deviations, docs/mutation.md) ---- */

/* Client C (deviations DEV) against a server with faults SF: the client's answer to the layer
 * message. The reply it wrapped is left in C->out for the caller; the engines stay open. */
static enum sasl_status deviant_answer(struct peer *c, struct peer *s,
                                       const struct xmpp_deviations *dev,
                                       const struct sasl_faults *sf)
{
    struct sasl_config ccfg, scfg;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    ccfg.deviations = dev;
    scfg.faults = sf;
    peer_new(c, &ccfg);
    peer_new(s, &scfg);
    to_layer_message(c, s);
    return pass(s, c);
}

/* WHAT: the server's layer message under faults SF, which the conformant client refuses, is
 * answered with WANT (4 octets) by a client with deviations DEV. */
static void tolerated(const char *what, const struct xmpp_deviations *dev,
                      const struct sasl_faults *sf, const unsigned char want[4])
{
    struct xmpp_deviations conformant = {0};
    struct peer c, s;

    is_int(deviant_answer(&c, &s, dev, sf), SASL_DONE, "%s: taken", what);
    ok(out_wraps(&c, want, 4), "%s: answered %02x %02x%02x%02x", what, want[0], want[1], want[2],
       want[3]);
    peer_free(&c);
    peer_free(&s);
    is_int(fake.live, 0, "%s: nothing leaked", what);
    is_int(deviant_answer(&c, &s, &conformant, sf), SASL_FAILED, "%s: refused without it", what);
    peer_free(&c);
    peer_free(&s);
}

static void test_client_deviations(void)
{
    static const unsigned char zero[4] = {0, 0, 0, 0}, none[4] = {1, 0, 0, 0},
                               echoed[4] = {1, 0x01, 0x00, 0x00};
    struct xmpp_deviations dev;
    struct sasl_faults sf;
    struct peer c, s;
    unsigned char want[300];
    const char *initiator;

    memset(&dev, 0, sizeof(dev));
    dev.layer_octet_zero = true;
    memset(&sf, 0, sizeof(sf));
    is_int(deviant_answer(&c, &s, &dev, &sf), SASL_DONE, "layer-octet-zero: the client answers");
    ok(out_wraps(&c, zero, 4), "with 00 000000");
    is_int(pass(&c, &s), SASL_FAILED, "our server refuses it");
    ok(strstr(rfc4752_error(s.sasl), "SASL_LAYER_NO_BIT") != NULL, "as %s", rfc4752_error(s.sasl));
    peer_free(&c);
    peer_free(&s);

    tolerated("maxsize-echoed: none with max size 65536",
              &(struct xmpp_deviations){.maxsize_echoed = true},
              &(struct sasl_faults){.layer_maxsize_with_none = true}, echoed);
    tolerated("answer-bad-layer: an offer of no layer",
              &(struct xmpp_deviations){.answer_bad_layer = true},
              &(struct sasl_faults){.layer_no_bit = true}, none);
    tolerated("answer-bad-layer: a 5-octet message",
              &(struct xmpp_deviations){.answer_bad_layer = true},
              &(struct sasl_faults){.layer_msg_len = 5}, none);

    memset(&dev, 0, sizeof(dev));
    dev.authzid_initiator = true;
    memset(&sf, 0, sizeof(sf));
    is_int(deviant_answer(&c, &s, &dev, &sf), SASL_DONE, "authzid-initiator: the client answers");
    initiator = rfc4752_outcome(c.sasl)->initiator;
    if (initiator == NULL || strlen(initiator) + 4 > sizeof(want))
        bail("the fake's initiator name is missing or long");
    memcpy(want, none, 4);
    memcpy(want + 4, initiator, strlen(initiator));
    ok(out_wraps(&c, want, 4 + strlen(initiator)), "01 000000 then the initiator name %s",
       initiator);
    is_int(pass(&c, &s), SASL_DONE, "the server takes the reply");
    is_string(rfc4752_outcome(s.sasl)->authzid, initiator, "and sees that authzid");
    peer_free(&c);
    peer_free(&s);
    is_int(fake.live, 0, "client deviations: nothing leaked");
}

/* ---- a context that expired before its names were asked for ---- */

/* Both engines see GSS_S_CONTEXT_EXPIRED from inquire_context: they fail, and never ask an
 * expired context for names (MIT would make them and leak them). */
static void test_expired_context(void)
{
    struct sasl_config ccfg, scfg;
    struct peer c, s;
    int steps = 0;

    fake_reset();
    fake.expired = true;
    client_config(&ccfg);
    server_config(&scfg);
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    start(&c);
    while (c.status != SASL_FAILED && s.status != SASL_FAILED && steps++ < 10) {
        if (pass(&c, &s) != SASL_CONTINUE)
            break;
        if (pass(&s, &c) == SASL_FAILED)
            break;
    }
    is_int(s.status, SASL_FAILED, "expired: the server fails");
    is_int(rfc4752_condition(s.sasl), SASL_COND_NOT_AUTHORIZED, "expired: not-authorized");
    is_int(fake.names_when_expired, 0, "expired: no names asked of an expired context");
    peer_free(&c);
    peer_free(&s);
    is_int(fake.live, 0, "expired: nothing leaked");
}

/* ---- every GSS call failing ---- */

struct failure_case {
    enum call call;
    int nth;
    bool server; /* which engine fails */
    enum sasl_condition condition;
};

static void test_gss_failures(void)
{
    static const struct failure_case cases[] = {
        {CALL_INIT, 1, false, SASL_COND_NOT_AUTHORIZED},
        {CALL_INIT, 2, false, SASL_COND_NOT_AUTHORIZED},
        {CALL_ACCEPT, 1, true, SASL_COND_NOT_AUTHORIZED},
        /* the server inquires first (without names, then with), then the client */
        {CALL_INQUIRE, 1, true, SASL_COND_NOT_AUTHORIZED},
        {CALL_INQUIRE, 2, true, SASL_COND_NOT_AUTHORIZED},
        {CALL_INQUIRE, 3, false, SASL_COND_NOT_AUTHORIZED},
        {CALL_INQUIRE, 4, false, SASL_COND_NOT_AUTHORIZED},
        {CALL_DISPLAY, 1, true, SASL_COND_TEMPORARY_AUTH_FAILURE},
        {CALL_DISPLAY, 2, true, SASL_COND_TEMPORARY_AUTH_FAILURE},
        {CALL_DISPLAY, 3, false, SASL_COND_TEMPORARY_AUTH_FAILURE},
        {CALL_WRAP, 1, true, SASL_COND_NOT_AUTHORIZED},
        {CALL_WRAP, 2, false, SASL_COND_NOT_AUTHORIZED},
        {CALL_UNWRAP, 1, false, SASL_COND_NOT_AUTHORIZED},
        {CALL_UNWRAP, 2, true, SASL_COND_NOT_AUTHORIZED},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct failure_case *fc = &cases[i];
        struct sasl_config ccfg, scfg;
        struct peer c, s;
        const struct peer *failed;
        bool good = true;
        int steps = 0;

        fake_reset();
        fake.fail = fc->call;
        fake.fail_nth = fc->nth;
        client_config(&ccfg);
        server_config(&scfg);
        ccfg.authzid = "bob";
        peer_new(&c, &ccfg);
        peer_new(&s, &scfg);
        /* Drive until someone fails (bounded). */
        start(&c);
        while (c.status != SASL_FAILED && s.status != SASL_FAILED && steps++ < 10) {
            if (pass(&c, &s) != SASL_CONTINUE)
                break;
            if (pass(&s, &c) == SASL_FAILED)
                break;
        }
        failed = fc->server ? &s : &c;
        if (failed->status != SASL_FAILED) {
            diag("client %d '%s', server %d '%s'", c.status, rfc4752_error(c.sasl), s.status,
                 rfc4752_error(s.sasl));
            good = false;
        } else {
            const char *err = rfc4752_error(failed->sasl);

            if (fc->call != CALL_DISPLAY && strstr(err, call_names[fc->call]) == NULL) {
                diag("error does not name %s: %s", call_names[fc->call], err);
                good = false;
            }
            if (fc->call != CALL_DISPLAY && strstr(err, "failed (major 0x") == NULL) {
                diag("error lacks the GSS status: %s", err);
                good = false;
            }
            if (!one_line(err)) {
                diag("not one line: %s", err);
                good = false;
            }
            if (fc->server && rfc4752_condition(s.sasl) != fc->condition) {
                diag("condition %s", rfc4752_condition_name(rfc4752_condition(s.sasl)));
                good = false;
            }
            /* A failed engine stays failed with its first reason. */
            {
                char first[600];
                struct peer *f = fc->server ? &s : &c;

                snprintf(first, sizeof(first), "%s", err);
                if (feed(f, "", 0) != SASL_FAILED || strcmp(rfc4752_error(f->sasl), first) != 0) {
                    diag("a call after the failure changed the state or the reason");
                    good = false;
                }
            }
        }
        peer_free(&c);
        peer_free(&s);
        if (fake.live != 0) {
            diag("%ld GSS objects leaked", fake.live);
            good = false;
        }
        ok(good, "%s call %d of %s fails: refused, named, nothing leaked",
           fc->server ? "server" : "client", fc->nth, call_names[fc->call]);
    }
}

static void test_misuse(void)
{
    struct sasl_config ccfg, scfg;
    struct peer c, s;
    unsigned char *out = (unsigned char *)"x";
    size_t len = 3;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    peer_new(&c, &ccfg);
    is_int(feed(&c, "AP-REP", 6), SASL_FAILED, "client: a challenge before the start fails");
    peer_free(&c);
    peer_new(&c, &ccfg);
    start(&c);
    is_int(start(&c), SASL_FAILED, "client: a second start fails");
    peer_free(&c);
    peer_new(&s, &scfg);
    is_int(rfc4752_client_start(s.sasl, &out, &len), SASL_FAILED,
           "rfc4752_client_start on a server");
    ok(out == NULL && len == 0, "leaves *out NULL and *out_len 0");
    peer_free(&s);
    peer_new(&s, &scfg);
    is_int(rfc4752_step(s.sasl, NULL, 3, &out, &len), SASL_FAILED, "NULL with a length fails");
    peer_free(&s);
    ccfg.target = GSS_C_NO_NAME;
    peer_new(&c, &ccfg);
    is_int(start(&c), SASL_FAILED, "a client without a target fails");
    ok(strstr(rfc4752_error(c.sasl), "no service name") != NULL, "named: %s",
       rfc4752_error(c.sasl));
    peer_free(&c);
    rfc4752_free(NULL);
    ok(true, "rfc4752_free(NULL) is harmless");
    is_int(fake.live, 0, "nothing leaked");
}

/* ---- pure helpers ---- */

static void test_conditions(void)
{
    enum sasl_condition parsed;
    bool round_trip = true;

    for (int cnd = SASL_COND_ABORTED; cnd <= SASL_COND_TEMPORARY_AUTH_FAILURE; cnd++)
        round_trip &=
            rfc4752_condition_parse(rfc4752_condition_name((enum sasl_condition)cnd), &parsed) &&
            parsed == (enum sasl_condition)cnd;
    ok(round_trip, "every RFC 6120 §6.5 condition name parses back");
    is_string(rfc4752_condition_name(SASL_COND_NOT_AUTHORIZED), "not-authorized", "not-authorized");
    is_string(rfc4752_condition_name(SASL_COND_NONE), "", "SASL_COND_NONE has no name");
    is_string(rfc4752_condition_name((enum sasl_condition)99), "", "nor an unknown value");
    ok(!rfc4752_condition_parse("bad-request", &parsed), "a stanza error is not a SASL condition");
    ok(!rfc4752_condition_parse("", &parsed), "\"\" is not a condition");
    ok(!rfc4752_condition_parse(NULL, &parsed), "NULL is not a condition");
    ok(!rfc4752_condition_parse("Not-Authorized", &parsed), "names are case-sensitive");
}

static void test_layer_statuses(void)
{
    bool named = true;

    for (int st = SASL_LAYER_OK; st <= SASL_LAYER_BAD_AUTHZID; st++)
        named &=
            strncmp(rfc4752_layer_status_name((enum sasl_layer_status)st), "SASL_LAYER_", 11) ==
                0 &&
            (st == SASL_LAYER_OK || strstr(rfc4752_layer_status_reason((enum sasl_layer_status)st),
                                           "RFC 4752 §3.") != NULL);
    ok(named, "every layer status has a name and a reason citing RFC 4752");
    is_string(rfc4752_layer_status_name((enum sasl_layer_status)99), "SASL_LAYER_UNKNOWN_STATUS",
              "an unknown status");
}

/* ---- vectors ---- */

/* The layer octet and max size of a reply carrying the vector's input, for the engine run. */
static bool vector_through_server(const unsigned char *msg, size_t len, long long offered,
                                  bool want_ok, const char *want_status)
{
    struct sasl_config ccfg, scfg;
    struct peer c, s;
    bool good = true;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    scfg.layers_offered = (uint8_t)offered;
    scfg.server_max_size = 4096;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    if (rfc4752_outcome(s.sasl)->layers_offered != offered) {
        diag("the server offered %02x, not %02llx", rfc4752_outcome(s.sasl)->layers_offered,
             offered);
        good = false;
    }
    feed_wrapped(&s, 0, msg, len);
    if ((s.status == SASL_DONE) != want_ok) {
        diag("server engine: %s", s.status == SASL_DONE ? "DONE" : rfc4752_error(s.sasl));
        good = false;
    }
    if (!want_ok) {
        enum sasl_condition want = strcmp(want_status, "SASL_LAYER_BAD_AUTHZID") == 0
                                       ? SASL_COND_INVALID_AUTHZID
                                       : SASL_COND_MALFORMED_REQUEST;

        if (rfc4752_condition(s.sasl) != want ||
            strstr(rfc4752_error(s.sasl), want_status) == NULL) {
            diag("server engine: condition %s, error '%s'",
                 rfc4752_condition_name(rfc4752_condition(s.sasl)), rfc4752_error(s.sasl));
            good = false;
        }
    }
    peer_free(&c);
    peer_free(&s);
    return good && fake.live == 0;
}

static bool vector_through_client(const unsigned char *msg, size_t len, bool want_ok,
                                  const char *want_status)
{
    struct sasl_config ccfg, scfg;
    struct peer c, s;
    bool good = true;

    fake_reset();
    client_config(&ccfg);
    server_config(&scfg);
    ccfg.layers_acceptable = 7;
    peer_new(&c, &ccfg);
    peer_new(&s, &scfg);
    to_layer_message(&c, &s);
    feed_wrapped(&c, 0, msg, len);
    if ((c.status == SASL_DONE) != want_ok) {
        diag("client engine: %s", c.status == SASL_DONE ? "DONE" : rfc4752_error(c.sasl));
        good = false;
    }
    if (!want_ok && strstr(rfc4752_error(c.sasl), want_status) == NULL) {
        diag("client engine error '%s'", rfc4752_error(c.sasl));
        good = false;
    }
    if (want_ok &&
        (c.out_len < 6 || (c.out[2] & ~msg[0] & 7) != 0 || (c.out[2] & (c.out[2] - 1)) != 0)) {
        diag("client engine chose a layer not offered");
        good = false;
    }
    peer_free(&c);
    peer_free(&s);
    return good && fake.live == 0;
}

static bool run_layer_vector(const json_t *group, const json_t *t)
{
    const char *type = json_string_value(json_object_get(group, "type"));
    const json_t *expected = json_object_get(t, "expected");
    const char *result = json_string_value(json_object_get(t, "result"));
    const char *input = json_string_value(json_object_get(t, "input"));
    const char *want_status = json_string_value(json_object_get(expected, "status"));
    struct sasl_layer_msg msg;
    enum sasl_layer_status st;
    unsigned char *bytes = NULL;
    size_t len = 0;
    long long offered = 0, want_layers = -1, want_max = -1;
    bool server, good = true;

    if (type == NULL || result == NULL || input == NULL || want_status == NULL ||
        hex_decode(input, &bytes, &len) != HEX_OK) {
        diag("vector lacks type, result, status or hex input");
        return false;
    }
    server = strcmp(type, "server-layers") == 0;
    if (!server && (strcmp(type, "client-layers") != 0 ||
                    !jsonload_integer(json_object_get(t, "offered"), &offered))) {
        diag("group type '%s' or offered", type);
        free(bytes);
        return false;
    }
    st = server ? rfc4752_layers_parse_server(bytes, len, &msg)
                : rfc4752_layers_parse_client(bytes, len, (uint8_t)offered, &msg);
    if (strcmp(rfc4752_layer_status_name(st), want_status) != 0) {
        diag("status %s, want %s", rfc4752_layer_status_name(st), want_status);
        good = false;
    }
    if ((st == SASL_LAYER_OK) != (strcmp(result, "invalid") != 0)) {
        diag("status %s but result %s", rfc4752_layer_status_name(st), result);
        good = false;
    }
    if (st == SASL_LAYER_OK) {
        const json_t *authzid = json_object_get(expected, "authzid");

        jsonload_integer(json_object_get(expected, server ? "layers" : "layer"), &want_layers);
        jsonload_integer(json_object_get(expected, "maxSize"), &want_max);
        if (msg.layers != want_layers || msg.max_size != want_max) {
            diag("layers %02x max %u, want %02llx %lld", msg.layers, (unsigned)msg.max_size,
                 want_layers, want_max);
            good = false;
        }
        if (!server) {
            bool want_none = authzid == NULL || json_is_null(authzid);

            if (want_none
                    ? msg.authzid != NULL
                    : (msg.authzid == NULL || msg.authzid_len != json_string_length(authzid) ||
                       memcmp(msg.authzid, json_string_value(authzid),
                              json_string_length(authzid)) != 0)) {
                diag("authzid differs");
                good = false;
            }
        }
    }
    /* The same message through the engine that reads it. */
    if (server)
        good &= vector_through_client(bytes, len, st == SASL_LAYER_OK, want_status);
    else
        good &= vector_through_server(bytes, len, offered, st == SASL_LAYER_OK, want_status);
    free(bytes);
    return good;
}

int main(void)
{
    plan_lazy();
    test_conformant();
    test_layer_choice();
    test_authzid();
    test_context_shapes();
    test_flags_refused();
    test_conf_wrapped();
    test_server_faults();
    test_server_deviations();
    test_client_faults();
    test_client_deviations();
    test_gss_failures();
    test_expired_context();
    test_misuse();
    test_conditions();
    test_layer_statuses();
    each_vector("sasl-layers.json", "layers", run_layer_vector);
    is_int((int)inputs_changed, 0,
           "no payload lent to rfc4752_step was written into (MIT's unwrap "
           "works in place)");
    done_testing();
}
