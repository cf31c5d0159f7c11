/* The fuzz targets' fake GSS-API: see fakegss.h. */
#include "fakegss.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct fake_name {
    size_t len;
    unsigned char text[]; /* LEN bytes */
};

struct fake_ctx {
    int rounds;
    gss_name_t peer; /* acceptor: the initiator's name */
};

static long live;

static const OM_uint32 FLAGS =
    GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;

long fakegss_live(void)
{
    return live;
}

/* Out of memory is not what the fuzzer looks for: stop at once. */
static void *xmalloc(size_t len)
{
    void *p = malloc(len > 0 ? len : 1);

    if (p == NULL)
        abort();
    return p;
}

gss_name_t fakegss_name(const void *text, size_t len)
{
    struct fake_name *n = xmalloc(sizeof(*n) + len);

    n->len = len;
    if (len > 0)
        memcpy(n->text, text, len);
    live++;
    return (gss_name_t)(void *)n;
}

static void set_buffer(gss_buffer_t out, const void *data, size_t len)
{
    out->length = len;
    out->value = NULL;
    if (len > 0) {
        out->value = xmalloc(len);
        memcpy(out->value, data, len);
        live++;
    }
}

static OM_uint32 f_import_name(OM_uint32 *minor, gss_buffer_t in, gss_OID type, gss_name_t *out)
{
    (void)type;
    *minor = 0;
    *out = fakegss_name(in->value, in->length);
    return GSS_S_COMPLETE;
}

static OM_uint32 f_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t out, gss_OID *type)
{
    const struct fake_name *n = (const struct fake_name *)(void *)name;

    *minor = 0;
    if (type != NULL)
        *type = GSS_C_NO_OID;
    if (n == NULL)
        return GSS_S_BAD_NAME;
    set_buffer(out, n->text, n->len);
    return GSS_S_COMPLETE;
}

static OM_uint32 f_release_name(OM_uint32 *minor, gss_name_t *name)
{
    *minor = 0;
    if (*name != GSS_C_NO_NAME) {
        free((void *)*name);
        live--;
    }
    *name = GSS_C_NO_NAME;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_release_buffer(OM_uint32 *minor, gss_buffer_t b)
{
    *minor = 0;
    if (b->value != NULL) {
        free(b->value);
        live--;
    }
    b->value = NULL;
    b->length = 0;
    return GSS_S_COMPLETE;
}

static struct fake_ctx *new_ctx(void)
{
    struct fake_ctx *c = xmalloc(sizeof(*c));

    memset(c, 0, sizeof(*c));
    live++;
    return c;
}

static bool starts(const gss_buffer_t in, char c)
{
    return in != GSS_C_NO_BUFFER && in->length > 0 && ((const char *)in->value)[0] == c;
}

static OM_uint32 f_init(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx, gss_name_t target,
                        gss_OID mech, OM_uint32 flags, OM_uint32 time_req,
                        gss_channel_bindings_t cb, gss_buffer_t in, gss_OID *actual,
                        gss_buffer_t out, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    (void)cred, (void)target, (void)mech, (void)flags, (void)time_req, (void)cb;
    *minor = 0;
    set_buffer(out, NULL, 0);
    if (actual != NULL)
        *actual = GSS_C_NO_OID;
    if (ret_flags != NULL)
        *ret_flags = FLAGS;
    if (time_rec != NULL)
        *time_rec = 3600;
    if (*ctx == GSS_C_NO_CONTEXT) {
        *ctx = (gss_ctx_id_t)(void *)new_ctx();
        set_buffer(out, "AP-REQ", 6);
        return GSS_S_CONTINUE_NEEDED;
    }
    if (in == GSS_C_NO_BUFFER || in->length == 0 || starts(in, 'X'))
        return GSS_S_DEFECTIVE_TOKEN;
    if (starts(in, 'M')) {
        set_buffer(out, "MORE", 4);
        return GSS_S_CONTINUE_NEEDED;
    }
    return GSS_S_COMPLETE;
}

static OM_uint32 f_accept(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred, gss_buffer_t in,
                          gss_channel_bindings_t cb, gss_name_t *src, gss_OID *mech,
                          gss_buffer_t out, OM_uint32 *ret_flags, OM_uint32 *time_rec,
                          gss_cred_id_t *delegated)
{
    struct fake_ctx *c = (struct fake_ctx *)(void *)*ctx;

    (void)cred, (void)cb;
    *minor = 0;
    set_buffer(out, NULL, 0);
    if (src != NULL)
        *src = GSS_C_NO_NAME;
    if (mech != NULL)
        *mech = GSS_C_NO_OID;
    if (ret_flags != NULL)
        *ret_flags = FLAGS;
    if (time_rec != NULL)
        *time_rec = 3600;
    if (delegated != NULL)
        *delegated = GSS_C_NO_CREDENTIAL;
    if (in == GSS_C_NO_BUFFER || in->length == 0 || starts(in, 'X'))
        return GSS_S_DEFECTIVE_TOKEN;
    if (c == NULL) {
        c = new_ctx();
        *ctx = (gss_ctx_id_t)(void *)c;
    }
    if (starts(in, 'M') && c->rounds < 4) {
        c->rounds++;
        set_buffer(out, "MORE", 4);
        return GSS_S_CONTINUE_NEEDED;
    }
    if (c->peer == GSS_C_NO_NAME)
        c->peer = fakegss_name(in->value, in->length < 256 ? in->length : 256);
    if (src != NULL)
        *src = fakegss_name(((struct fake_name *)(void *)c->peer)->text,
                            ((struct fake_name *)(void *)c->peer)->len);
    set_buffer(out, "AP-REP", 6);
    return GSS_S_COMPLETE;
}

static OM_uint32 f_inquire(OM_uint32 *minor, gss_ctx_id_t ctx, gss_name_t *src, gss_name_t *targ,
                           OM_uint32 *lifetime, gss_OID *mech, OM_uint32 *flags, int *initiator,
                           int *open)
{
    const struct fake_ctx *c = (const struct fake_ctx *)(void *)ctx;
    const struct fake_name *peer = c != NULL ? (const struct fake_name *)(void *)c->peer : NULL;

    *minor = 0;
    if (c == NULL)
        return GSS_S_NO_CONTEXT;
    if (src != NULL)
        *src = peer != NULL ? fakegss_name(peer->text, peer->len)
                            : fakegss_name("alice@FAKE.TEST", 15);
    if (targ != NULL)
        *targ = fakegss_name("xmpp/fake.test@FAKE.TEST", 24);
    if (lifetime != NULL)
        *lifetime = 3600;
    if (mech != NULL)
        *mech = GSS_C_NO_OID;
    if (flags != NULL)
        *flags = FLAGS;
    if (initiator != NULL)
        *initiator = peer == NULL;
    if (open != NULL)
        *open = 1;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_delete(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t token)
{
    struct fake_ctx *c = (struct fake_ctx *)(void *)*ctx;
    OM_uint32 m;

    *minor = 0;
    if (token != GSS_C_NO_BUFFER)
        set_buffer(token, NULL, 0);
    if (c != NULL) {
        f_release_name(&m, &c->peer);
        free(c);
        live--;
    }
    *ctx = GSS_C_NO_CONTEXT;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
                        gss_buffer_t in, int *conf_state, gss_buffer_t out)
{
    unsigned char *p;

    (void)qop;
    *minor = 0;
    set_buffer(out, NULL, 0);
    if (ctx == GSS_C_NO_CONTEXT)
        return GSS_S_NO_CONTEXT;
    p = xmalloc(in->length + 1);
    p[0] = conf_req ? 1 : 0;
    if (in->length > 0)
        memcpy(p + 1, in->value, in->length);
    out->value = p;
    out->length = in->length + 1;
    live++;
    if (conf_state != NULL)
        *conf_state = conf_req ? 1 : 0;
    return GSS_S_COMPLETE;
}

static OM_uint32 f_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
                          int *conf_state, gss_qop_t *qop)
{
    const unsigned char *t = in->value;

    *minor = 0;
    set_buffer(out, NULL, 0);
    if (qop != NULL)
        *qop = GSS_C_QOP_DEFAULT;
    if (ctx == GSS_C_NO_CONTEXT)
        return GSS_S_NO_CONTEXT;
    if (in->length < 1 || t[0] > 1)
        return GSS_S_DEFECTIVE_TOKEN;
    set_buffer(out, t + 1, in->length - 1);
    if (conf_state != NULL)
        *conf_state = t[0];
    return GSS_S_COMPLETE;
}

const struct gssops fakegss = {
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
