/* The tapping GSS call table: see gss-tap.h. */
#include "tools/gss-tap.h"

#include <string.h>

struct plain {
    unsigned char bytes[GSSTAP_MAX];
    size_t len;
    bool seen;
};

static struct plain sides[2];
static bool strip;
static int unwrap_conf = -1;
static struct gssops ops;

static void keep(struct plain *p, const gss_buffer_t buffer)
{
    p->len = buffer->length < sizeof(p->bytes) ? buffer->length : sizeof(p->bytes);
    if (p->len > 0)
        memcpy(p->bytes, buffer->value, p->len);
    p->seen = true;
}

static OM_uint32 tap_init(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx,
                          gss_name_t target, gss_OID mech, OM_uint32 flags, OM_uint32 time_req,
                          gss_channel_bindings_t cb, gss_buffer_t in, gss_OID *actual,
                          gss_buffer_t out, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    if (strip)
        flags &= ~(OM_uint32)(GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG);
    return gssops_mit.init_sec_context(minor, cred, ctx, target, mech, flags, time_req, cb, in,
                                       actual, out, ret_flags, time_rec);
}

static OM_uint32 tap_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf, gss_qop_t qop,
                          gss_buffer_t in, int *conf_state, gss_buffer_t out)
{
    keep(&sides[GSSTAP_WRAPPED], in);
    return gssops_mit.wrap(minor, ctx, conf, qop, in, conf_state, out);
}

static OM_uint32 tap_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
                            int *conf_state, gss_qop_t *qop)
{
    OM_uint32 major = gssops_mit.unwrap(minor, ctx, in, out, conf_state, qop);

    if (!GSS_ERROR(major)) {
        keep(&sides[GSSTAP_UNWRAPPED], out);
        unwrap_conf = conf_state != NULL ? (*conf_state != 0) : -1;
    }
    return major;
}

const struct gssops *gsstap_ops(void)
{
    ops = gssops_mit;
    ops.init_sec_context = tap_init;
    ops.wrap = tap_wrap;
    ops.unwrap = tap_unwrap;
    return &ops;
}

void gsstap_strip_integrity(bool on)
{
    strip = on;
}

int gsstap_unwrap_conf(void)
{
    return unwrap_conf;
}

bool gsstap_take(enum gsstap_side side, unsigned char *buf, size_t *len)
{
    struct plain *p = &sides[side];

    if (!p->seen)
        return false;
    p->seen = false;
    memcpy(buf, p->bytes, p->len);
    *len = p->len;
    return true;
}
