/* The SASL GSSAPI mechanism (RFC 4752), both roles, sans I/O: see sasl.h. */
#include "xmpp/sasl.h"

#include "util/builder.h"
#include "util/gss.h"
#include "util/utf8.h"

#include <gssapi/gssapi_krb5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest value of the 3-octet max size field. */
enum { MAX_SIZE_LIMIT = 0xffffff };

/* What a fault sends as a non-zero max size when the config has none to offer. */
enum { FAULT_MAX_SIZE = 65536 };

/* The deviation switch MEMBER of the engine S (false when it has none). */
#define DEVIATES(s, member) ((s)->cfg.deviations != NULL && (s)->cfg.deviations->member)

enum sasl_state {
    STATE_START,   /* client: before rfc4752_client_start; server: before the initial response */
    STATE_CONTEXT, /* context tokens are being exchanged */
    STATE_EMPTY,   /* server: waiting for the empty response to the last context token (or
                      to the extra empty challenge of the fault) */
    STATE_LAYER,   /* client: waiting for the server's wrapped layer message;
                      server: waiting for the client's wrapped layer reply */
    STATE_DONE,
    STATE_FAILED,
};

struct sasl {
    struct sasl_config cfg;
    const struct gssops *gss;
    struct sasl_faults faults;
    enum sasl_state state;
    gss_ctx_id_t ctx;
    bool empty_challenge_sent; /* server: the empty challenge for a missing initial response */
    bool extra_empty_sent;     /* server: the fault's extra empty challenge went out */
    struct rfc4752_outcome outcome;
    enum sasl_condition condition;
    char error[512];
};

/* ---- RFC 6120 §6.5 conditions ---- */

static const struct {
    enum sasl_condition condition;
    const char *name;
} conditions[] = {
    {SASL_COND_ABORTED, "aborted"},
    {SASL_COND_ACCOUNT_DISABLED, "account-disabled"},
    {SASL_COND_CREDENTIALS_EXPIRED, "credentials-expired"},
    {SASL_COND_ENCRYPTION_REQUIRED, "encryption-required"},
    {SASL_COND_INCORRECT_ENCODING, "incorrect-encoding"},
    {SASL_COND_INVALID_AUTHZID, "invalid-authzid"},
    {SASL_COND_INVALID_MECHANISM, "invalid-mechanism"},
    {SASL_COND_MALFORMED_REQUEST, "malformed-request"},
    {SASL_COND_MECHANISM_TOO_WEAK, "mechanism-too-weak"},
    {SASL_COND_NOT_AUTHORIZED, "not-authorized"},
    {SASL_COND_TEMPORARY_AUTH_FAILURE, "temporary-auth-failure"},
};

const char *rfc4752_condition_name(enum sasl_condition condition)
{
    for (size_t i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++)
        if (conditions[i].condition == condition)
            return conditions[i].name;
    return "";
}

bool rfc4752_condition_parse(const char *name, enum sasl_condition *condition)
{
    for (size_t i = 0; name != NULL && i < sizeof(conditions) / sizeof(conditions[0]); i++) {
        if (strcmp(name, conditions[i].name) == 0) {
            *condition = conditions[i].condition;
            return true;
        }
    }
    return false;
}

/* ---- RFC 4752 §3.3 layer messages ---- */

static const struct {
    enum sasl_layer_status status;
    const char *name;
    const char *reason;
} layer_statuses[] = {
    {SASL_LAYER_OK, "SASL_LAYER_OK", "a valid layer message"},
    {SASL_LAYER_BAD_LENGTH, "SASL_LAYER_BAD_LENGTH",
     "RFC 4752 §3.1: the server's message is exactly 4 octets, the client's at least 4"},
    {SASL_LAYER_NO_BIT, "SASL_LAYER_NO_BIT", "RFC 4752 §3.3: the bit-mask names no security layer"},
    {SASL_LAYER_SEVERAL_BITS, "SASL_LAYER_SEVERAL_BITS",
     "RFC 4752 §3.1: the client's bit-mask names the one selected security layer"},
    {SASL_LAYER_NOT_OFFERED, "SASL_LAYER_NOT_OFFERED",
     "RFC 4752 §3.1: the client selected a security layer the server did not offer"},
    {SASL_LAYER_UNKNOWN_BITS, "SASL_LAYER_UNKNOWN_BITS",
     "RFC 4752 §3.3: only bits 1 (none), 2 (integrity) and 4 (confidentiality) are defined"},
    {SASL_LAYER_MAXSIZE_NONE, "SASL_LAYER_MAXSIZE_NONE",
     "RFC 4752 §3.1: the maximum size is 0 when no security layer is offered or selected"},
    {SASL_LAYER_BAD_AUTHZID, "SASL_LAYER_BAD_AUTHZID",
     "RFC 4752 §3.1: the authorization identity is UTF-8, not NUL-terminated (no NUL here)"},
};

const char *rfc4752_layer_status_name(enum sasl_layer_status status)
{
    for (size_t i = 0; i < sizeof(layer_statuses) / sizeof(layer_statuses[0]); i++)
        if (layer_statuses[i].status == status)
            return layer_statuses[i].name;
    return "SASL_LAYER_UNKNOWN_STATUS";
}

const char *rfc4752_layer_status_reason(enum sasl_layer_status status)
{
    for (size_t i = 0; i < sizeof(layer_statuses) / sizeof(layer_statuses[0]); i++)
        if (layer_statuses[i].status == status)
            return layer_statuses[i].reason;
    return "unknown layer status";
}

static const uint8_t LAYERS_KNOWN =
    SASL_LAYER_NONE | SASL_LAYER_INTEGRITY | SASL_LAYER_CONFIDENTIALITY;

/* Read the layer octet and the 3-octet max size (LEN >= 4 checked by the caller). */
static void read_head(const unsigned char *msg, struct sasl_layer_msg *out)
{
    out->layers = msg[0];
    out->max_size = (uint32_t)msg[1] << 16 | (uint32_t)msg[2] << 8 | (uint32_t)msg[3];
}

enum sasl_layer_status rfc4752_layers_parse_server(const unsigned char *msg, size_t len,
                                                   struct sasl_layer_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (len >= 4)
        read_head(msg, out);
    if (len != 4)
        return SASL_LAYER_BAD_LENGTH;
    if (out->layers == 0)
        return SASL_LAYER_NO_BIT;
    /* Bits the reader does not know are negotiated off (the client never selects them); a
     * message offering nothing else offers nothing the client can select. */
    if ((out->layers & LAYERS_KNOWN) == 0)
        return SASL_LAYER_UNKNOWN_BITS;
    if ((out->layers & LAYERS_KNOWN) == SASL_LAYER_NONE && out->max_size != 0)
        return SASL_LAYER_MAXSIZE_NONE;
    return SASL_LAYER_OK;
}

/* Whether the LEN octets at S are UTF-8 without a NUL. */
static bool authzid_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t n;

        if (s[i] == 0)
            return false;
        n = utf8_sequence_length(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

enum sasl_layer_status rfc4752_layers_parse_client(const unsigned char *msg, size_t len,
                                                   uint8_t offered, struct sasl_layer_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 4)
        return SASL_LAYER_BAD_LENGTH;
    read_head(msg, out);
    if (len > 4) {
        out->authzid = msg + 4;
        out->authzid_len = len - 4;
    }
    if (out->layers == 0)
        return SASL_LAYER_NO_BIT;
    if ((out->layers & ~LAYERS_KNOWN) != 0)
        return SASL_LAYER_UNKNOWN_BITS;
    if ((out->layers & (out->layers - 1)) != 0)
        return SASL_LAYER_SEVERAL_BITS;
    if ((out->layers & offered) == 0)
        return SASL_LAYER_NOT_OFFERED;
    if (out->layers == SASL_LAYER_NONE && out->max_size != 0)
        return SASL_LAYER_MAXSIZE_NONE;
    if (out->authzid != NULL && !authzid_valid(out->authzid, out->authzid_len))
        return SASL_LAYER_BAD_AUTHZID;
    return SASL_LAYER_OK;
}

/* ---- engine helpers ---- */

static enum sasl_status fail(struct sasl *s, enum sasl_condition condition, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the failure (one line: any newline becomes a space) and stop the engine. */
static enum sasl_status fail(struct sasl *s, enum sasl_condition condition, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, args);
    va_end(args);
    for (char *p = s->error; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    s->condition = condition;
    s->state = STATE_FAILED;
    return SASL_FAILED;
}

/* A failed GSS call: not-authorized, with the library's text for the status pair. */
static enum sasl_status fail_gss(struct sasl *s, const char *what, const char *call,
                                 OM_uint32 major, OM_uint32 minor)
{
    char *text = gssutil_status_text(major, minor);
    enum sasl_status status;

    status = fail(s, SASL_COND_NOT_AUTHORIZED, "%s: %s failed (major 0x%08x, minor %u): %s", what,
                  call, (unsigned)major, (unsigned)minor, text != NULL ? text : "?");
    free(text);
    return status;
}

/* Hand LEN octets at DATA to the caller as a new allocation (never NULL, even for 0). */
static bool hand_out(const void *data, size_t len, unsigned char **out, size_t *out_len)
{
    *out = malloc(len > 0 ? len : 1);
    if (*out == NULL) {
        *out_len = 0;
        return false;
    }
    if (len > 0)
        memcpy(*out, data, len);
    *out_len = len;
    return true;
}

/* Hand out a GSS output buffer and release it through the table. */
static bool hand_out_buffer(struct sasl *s, gss_buffer_t buf, unsigned char **out, size_t *out_len)
{
    OM_uint32 minor;
    bool ok = hand_out(buf->value, buf->length, out, out_len);

    if (buf->value != NULL || buf->length != 0)
        s->gss->release_buffer(&minor, buf);
    return ok;
}

static void release_buffer(struct sasl *s, gss_buffer_t buf)
{
    OM_uint32 minor;

    if (buf->value != NULL || buf->length != 0)
        s->gss->release_buffer(&minor, buf);
}

/* gss display_name through the table as a new C string; NULL on failure. */
static char *display(struct sasl *s, gss_name_t name)
{
    gss_buffer_desc buf = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    char *text;

    major = s->gss->display_name(&minor, name, &buf, NULL);
    if (GSS_ERROR(major))
        return NULL;
    text = malloc(buf.length + 1);
    if (text != NULL) {
        if (buf.length > 0)
            memcpy(text, buf.value, buf.length);
        text[buf.length] = '\0';
    }
    release_buffer(s, &buf);
    return text;
}

/* Record the established context's names (initiator, target) in the outcome. */
static enum sasl_status record_names(struct sasl *s, const char *what)
{
    gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
    OM_uint32 major, minor;
    enum sasl_status status = SASL_CONTINUE;

    /* First without the names: MIT's gss_inquire_context fails an expired context
     * (GSS_S_CONTEXT_EXPIRED) after making them and never hands them back, a leak. */
    major = s->gss->inquire_context(&minor, s->ctx, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (!GSS_ERROR(major))
        major = s->gss->inquire_context(&minor, s->ctx, &src, &targ, NULL, NULL, NULL, NULL, NULL);
    if (GSS_ERROR(major))
        return fail_gss(s, what, "inquire_context", major, minor);
    free(s->outcome.initiator);
    free(s->outcome.target);
    s->outcome.initiator = src != GSS_C_NO_NAME ? display(s, src) : NULL;
    s->outcome.target = targ != GSS_C_NO_NAME ? display(s, targ) : NULL;
    if (s->outcome.initiator == NULL || s->outcome.target == NULL)
        status = fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE,
                      "%s: the established context's %s name cannot be displayed", what,
                      s->outcome.initiator == NULL ? "initiator" : "target");
    if (src != GSS_C_NO_NAME)
        s->gss->release_name(&minor, &src);
    if (targ != GSS_C_NO_NAME)
        s->gss->release_name(&minor, &targ);
    return status;
}

/* wrap(conf 0) the LEN octets at MSG into *OUT. */
static enum sasl_status wrap_out(struct sasl *s, const char *what, const unsigned char *msg,
                                 size_t len, unsigned char **out, size_t *out_len)
{
    gss_buffer_desc in = {len, (void *)msg}, wrapped = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int conf_state = 0;

    major = s->gss->wrap(&minor, s->ctx, 0, GSS_C_QOP_DEFAULT, &in, &conf_state, &wrapped);
    if (major != GSS_S_COMPLETE) {
        release_buffer(s, &wrapped);
        return fail_gss(s, what, "wrap", major, minor);
    }
    if (!hand_out_buffer(s, &wrapped, out, out_len))
        return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "%s: out of memory", what);
    return SASL_CONTINUE;
}

/* unwrap IN into *PLAIN (released by the caller through release_buffer); refuses anything
 * but GSS_S_COMPLETE and a message wrapped with confidentiality (RFC 4752 §3.1: both layer
 * messages are wrapped with conf_flag FALSE). */
static enum sasl_status unwrap_in(struct sasl *s, const char *what, const unsigned char *in,
                                  size_t len, gss_buffer_t plain)
{
    OM_uint32 major, minor;
    int conf_state = 0;
    /* MIT's gss_unwrap decrypts (and rotates, RRC) its input in place: work on a copy, since IN
     * is the caller's const payload (the roles log it after this call). */
    void *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "%s: out of memory", what);
    if (len > 0)
        memcpy(copy, in, len);
    gss_buffer_desc token = {len, copy};

    major = s->gss->unwrap(&minor, s->ctx, &token, plain, &conf_state, NULL);
    free(copy);
    if (major != GSS_S_COMPLETE) {
        release_buffer(s, plain);
        return fail_gss(s, what, "unwrap", major, minor);
    }
    if (conf_state != 0) {
        release_buffer(s, plain);
        return fail(s, SASL_COND_MALFORMED_REQUEST,
                    "%s: wrapped with confidentiality (RFC 4752 §3.1: the layer messages are "
                    "wrapped with conf_flag FALSE)",
                    what);
    }
    return SASL_CONTINUE;
}

/* ---- lifecycle ---- */

struct sasl *rfc4752_new(const struct sasl_config *cfg)
{
    struct sasl *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    s->gss = cfg->gss != NULL ? cfg->gss : &gssops_mit;
    if (cfg->faults != NULL)
        s->faults = *cfg->faults;
    s->state = STATE_START;
    s->ctx = GSS_C_NO_CONTEXT;
    s->condition = SASL_COND_NONE;
    return s;
}

void rfc4752_free(struct sasl *s)
{
    OM_uint32 minor;

    if (s == NULL)
        return;
    if (s->ctx != GSS_C_NO_CONTEXT)
        s->gss->delete_sec_context(&minor, &s->ctx, GSS_C_NO_BUFFER);
    free(s->outcome.target);
    free(s->outcome.initiator);
    free(s->outcome.authzid);
    free(s);
}

const char *rfc4752_error(const struct sasl *s)
{
    return s->error;
}

enum sasl_condition rfc4752_condition(const struct sasl *s)
{
    return s->condition;
}

const struct rfc4752_outcome *rfc4752_outcome(const struct sasl *s)
{
    return &s->outcome;
}

/* ---- client ---- */

static OM_uint32 client_req_flags(const struct sasl *s)
{
    OM_uint32 flags = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG;
    uint8_t acceptable = s->cfg.layers_acceptable != 0 ? s->cfg.layers_acceptable : SASL_LAYER_NONE;

    if (acceptable & SASL_LAYER_CONFIDENTIALITY)
        flags |= GSS_C_CONF_FLAG;
    return flags;
}

/* One init_sec_context call with the challenge IN (NULL/0 for the first call). */
static enum sasl_status client_context(struct sasl *s, const unsigned char *in, size_t len,
                                       unsigned char **out, size_t *out_len)
{
    gss_buffer_desc input = {len, (void *)in}, output = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor, ret_flags = 0;
    enum sasl_status status;

    major = s->gss->init_sec_context(
        &minor, s->cfg.cred, &s->ctx, s->cfg.target, (gss_OID)gss_mech_krb5, client_req_flags(s), 0,
        GSS_C_NO_CHANNEL_BINDINGS, s->state == STATE_START ? GSS_C_NO_BUFFER : &input, NULL,
        &output, &ret_flags, NULL);
    if (GSS_ERROR(major)) {
        release_buffer(s, &output);
        return fail_gss(s,
                        s->state == STATE_START ? "client: initial context token"
                                                : "client: server's context token",
                        "init_sec_context", major, minor);
    }
    if (major & GSS_S_CONTINUE_NEEDED) {
        s->state = STATE_CONTEXT;
        if (!hand_out_buffer(s, &output, out, out_len))
            return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "client: out of memory");
        return SASL_CONTINUE;
    }
    /* GSS_S_COMPLETE: any last token goes out as the response; with Kerberos there is none
     * and the response is empty (RFC 4752 §3.1). */
    s->outcome.flags = ret_flags;
    if (!(ret_flags & GSS_C_INTEG_FLAG)) {
        release_buffer(s, &output);
        return fail(s, SASL_COND_MECHANISM_TOO_WEAK,
                    "client: the established context has no integrity (ret_flags 0x%x): "
                    "RFC 4752 §3.1 requires integ_req_flag and the layer messages are wrapped",
                    (unsigned)ret_flags);
    }
    status = record_names(s, "client: established context");
    if (status == SASL_FAILED) {
        release_buffer(s, &output);
        return status;
    }
    s->state = STATE_LAYER;
    if (!hand_out_buffer(s, &output, out, out_len))
        return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "client: out of memory");
    return SASL_CONTINUE;
}

/* The layer the client selects from OFFERED: the strongest acceptable one. 0 when none. */
static uint8_t client_choose(const struct sasl *s, uint8_t offered)
{
    uint8_t acceptable = s->cfg.layers_acceptable != 0 ? s->cfg.layers_acceptable : SASL_LAYER_NONE;
    uint8_t both = offered & acceptable;

    if (both & SASL_LAYER_CONFIDENTIALITY)
        return SASL_LAYER_CONFIDENTIALITY;
    if (both & SASL_LAYER_INTEGRITY)
        return SASL_LAYER_INTEGRITY;
    if (both & SASL_LAYER_NONE)
        return SASL_LAYER_NONE;
    return 0;
}

/* The server's wrapped layer message: judge it, answer with the wrapped choice. */
static enum sasl_status client_layer(struct sasl *s, const unsigned char *in, size_t len,
                                     unsigned char **out, size_t *out_len)
{
    const char *what = "client: server's layer message", *authzid;
    gss_buffer_desc plain = GSS_C_EMPTY_BUFFER;
    struct sasl_layer_msg msg;
    enum sasl_layer_status ls;
    enum sasl_status status;
    struct builder b;
    unsigned char *reply = NULL;
    size_t reply_len = 0;
    size_t plain_len;
    uint8_t layer;
    uint32_t max_size;

    status = unwrap_in(s, what, in, len, &plain);
    if (status == SASL_FAILED)
        return status;
    plain_len = plain.length;
    ls = rfc4752_layers_parse_server(plain.value, plain.length, &msg);
    release_buffer(s, &plain);
    if (ls == SASL_LAYER_MAXSIZE_NONE && DEVIATES(s, maxsize_echoed))
        ls = SASL_LAYER_OK; /* deviation: the offer is taken, its max size echoed below */
    if (ls != SASL_LAYER_OK && DEVIATES(s, answer_bad_layer)) {
        ls = SASL_LAYER_OK; /* deviation: a malformed offer read as "none" only */
        msg.layers = SASL_LAYER_NONE;
        msg.max_size = 0;
    }
    if (ls != SASL_LAYER_OK)
        return fail(s, SASL_COND_MALFORMED_REQUEST,
                    "%s: %s (%zu octets, bit-mask 0x%02x, max size %u): %s", what,
                    rfc4752_layer_status_name(ls), plain_len, msg.layers, (unsigned)msg.max_size,
                    rfc4752_layer_status_reason(ls));
    s->outcome.layers_offered = msg.layers;
    s->outcome.server_max_size = msg.max_size;

    layer = client_choose(s, msg.layers);
    if (layer == 0 && !s->faults.layer_byte_set && !s->faults.client_maxsize_with_none)
        return fail(s, SASL_COND_MECHANISM_TOO_WEAK,
                    "%s: offers layers 0x%02x, none of which the client accepts (0x%02x)", what,
                    msg.layers,
                    s->cfg.layers_acceptable != 0 ? s->cfg.layers_acceptable : SASL_LAYER_NONE);
    max_size = layer == SASL_LAYER_NONE ? 0 : s->cfg.client_max_size;
    if (max_size > MAX_SIZE_LIMIT)
        max_size = MAX_SIZE_LIMIT;
    if (s->faults.client_maxsize_with_none) {
        layer = SASL_LAYER_NONE;
        max_size = s->cfg.client_max_size != 0 ? s->cfg.client_max_size : FAULT_MAX_SIZE;
        if (max_size > MAX_SIZE_LIMIT)
            max_size = MAX_SIZE_LIMIT;
    }
    if (s->faults.layer_byte_set)
        layer = s->faults.layer_byte;
    if (DEVIATES(s, maxsize_echoed) && layer == SASL_LAYER_NONE)
        max_size = msg.max_size;
    if (DEVIATES(s, layer_octet_zero))
        layer = 0;
    authzid = DEVIATES(s, authzid_initiator) ? s->outcome.initiator : s->cfg.authzid;
    s->outcome.layer = layer;
    s->outcome.client_max_size = max_size;

    builder_init(&b);
    builder_add_u8(&b, layer);
    builder_add_u8(&b, (uint8_t)(max_size >> 16));
    builder_add_u16be(&b, (uint16_t)(max_size & 0xffff));
    if (authzid != NULL)
        builder_add_str(&b, authzid);
    reply = builder_detach(&b, &reply_len);
    if (reply == NULL)
        return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "client: out of memory");
    if (authzid != NULL) {
        free(s->outcome.authzid);
        s->outcome.authzid = strdup(authzid);
        s->outcome.authzid_len = strlen(authzid);
        if (s->outcome.authzid == NULL) {
            free(reply);
            return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "client: out of memory");
        }
    }
    status = wrap_out(s, "client: layer reply", reply, reply_len, out, out_len);
    free(reply);
    if (status == SASL_FAILED)
        return status;
    s->state = STATE_DONE;
    return SASL_DONE;
}

enum sasl_status rfc4752_client_start(struct sasl *s, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (s->cfg.role != SASL_ROLE_CLIENT)
        return fail(s, SASL_COND_ABORTED, "rfc4752_client_start called on a server engine");
    if (s->state != STATE_START)
        return fail(s, SASL_COND_ABORTED, "client: started twice (or after a failure)");
    if (s->cfg.target == GSS_C_NO_NAME)
        return fail(s, SASL_COND_ABORTED, "client: no service name to authenticate to");
    return client_context(s, NULL, 0, out, out_len);
}

static enum sasl_status client_step(struct sasl *s, const unsigned char *in, size_t len,
                                    unsigned char **out, size_t *out_len)
{
    switch (s->state) {
    case STATE_START:
        return fail(s, SASL_COND_ABORTED, "client: a challenge before rfc4752_client_start");
    case STATE_CONTEXT:
        return client_context(s, in, len, out, out_len);
    case STATE_LAYER:
        return client_layer(s, in, len, out, out_len);
    default:
        return fail(s, SASL_COND_ABORTED,
                    "client: a challenge after the exchange ended (RFC 4752 §3.1: the layer "
                    "reply is the client's last message)");
    }
}

/* ---- server ---- */

/* The layer message the server sends (faults applied) into *OUT, wrapped. */
static enum sasl_status server_send_layers(struct sasl *s, unsigned char **out, size_t *out_len)
{
    uint8_t offered = s->cfg.layers_offered != 0 ? s->cfg.layers_offered : SASL_LAYER_NONE;
    unsigned char msg[4];
    unsigned char *body = NULL;
    size_t body_len = 4;
    uint32_t max_size;
    enum sasl_status status;

    if (s->faults.extra_empty_challenge && !s->extra_empty_sent) {
        s->extra_empty_sent = true;
        s->state = STATE_EMPTY;
        if (!hand_out(NULL, 0, out, out_len))
            return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "server: out of memory");
        return SASL_CONTINUE;
    }
    /* No confidentiality layer without confidentiality in the context (RFC 4752 §3.1). */
    if (!(s->outcome.flags & GSS_C_CONF_FLAG))
        offered &= (uint8_t)~SASL_LAYER_CONFIDENTIALITY;
    if (offered == 0)
        return fail(s, SASL_COND_MECHANISM_TOO_WEAK,
                    "server: the configured layers 0x%02x need confidentiality, which the "
                    "context (ret_flags 0x%x) does not provide",
                    s->cfg.layers_offered, (unsigned)s->outcome.flags);
    max_size = offered == SASL_LAYER_NONE ? 0 : s->cfg.server_max_size;
    if (s->faults.layer_maxsize_with_none) {
        offered = SASL_LAYER_NONE;
        max_size = s->cfg.server_max_size != 0 ? s->cfg.server_max_size : FAULT_MAX_SIZE;
    }
    if (DEVIATES(s, layer_maxsize_with_none)) {
        offered = SASL_LAYER_NONE;
        max_size = MAX_SIZE_LIMIT;
    }
    if (s->faults.layer_no_bit)
        offered = 0;
    if (max_size > MAX_SIZE_LIMIT)
        max_size = MAX_SIZE_LIMIT;
    msg[0] = offered;
    msg[1] = (unsigned char)(max_size >> 16);
    msg[2] = (unsigned char)(max_size >> 8);
    msg[3] = (unsigned char)max_size;
    s->outcome.layers_offered = offered;
    s->outcome.server_max_size = max_size;
    if (s->faults.layer_msg_len != 0)
        body_len = s->faults.layer_msg_len;
    body = calloc(1, body_len);
    if (body == NULL)
        return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "server: out of memory");
    memcpy(body, msg, body_len < 4 ? body_len : 4);
    status = wrap_out(s, "server: layer message", body, body_len, out, out_len);
    free(body);
    if (status == SASL_FAILED)
        return status;
    s->state = STATE_LAYER;
    return SASL_CONTINUE;
}

/* One accept_sec_context call with the client's token. */
static enum sasl_status server_context(struct sasl *s, const unsigned char *in, size_t len,
                                       unsigned char **out, size_t *out_len)
{
    gss_buffer_desc input = {len, (void *)in}, output = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor, ret_flags = 0;
    const char *what = s->ctx == GSS_C_NO_CONTEXT ? "server: client's initial context token"
                                                  : "server: client's context token";
    enum sasl_status status;

    major =
        s->gss->accept_sec_context(&minor, &s->ctx, s->cfg.cred, &input, GSS_C_NO_CHANNEL_BINDINGS,
                                   NULL, NULL, &output, &ret_flags, NULL, NULL);
    if (GSS_ERROR(major)) {
        release_buffer(s, &output);
        return fail_gss(s, what, "accept_sec_context", major, minor);
    }
    s->state = STATE_CONTEXT;
    if (major & GSS_S_CONTINUE_NEEDED) {
        if (!hand_out_buffer(s, &output, out, out_len))
            return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "server: out of memory");
        return SASL_CONTINUE;
    }
    s->outcome.flags = ret_flags;
    status = record_names(s, "server: established context");
    if (status == SASL_FAILED) {
        release_buffer(s, &output);
        return status;
    }
    if (!(ret_flags & GSS_C_INTEG_FLAG)) {
        release_buffer(s, &output);
        return fail(s, SASL_COND_MECHANISM_TOO_WEAK,
                    "server: the client's context has no integrity (ret_flags 0x%x): RFC 4752 "
                    "§3.1 requires the client to request integrity",
                    (unsigned)ret_flags);
    }
    if (output.length > 0 && !s->faults.omit_ap_rep) {
        /* The last context token (the AP-REP) as a challenge; the empty response follows. */
        s->state = STATE_EMPTY;
        if (!hand_out_buffer(s, &output, out, out_len))
            return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "server: out of memory");
        return SASL_CONTINUE;
    }
    release_buffer(s, &output);
    return server_send_layers(s, out, out_len);
}

/* The deviations that take an invalid layer reply set right in the unwrapped REPLY (LEN
 * octets, changed in place) what they overlook, so that the judgement sees only the rest: a
 * choice of no layer (00) read as "none", the max size of "none" read as 0. */
static void overlook(const struct sasl *s, unsigned char *reply, size_t len)
{
    if (len < 4)
        return;
    if (reply[0] == 0 && DEVIATES(s, accept_layer_no_bit))
        reply[0] = SASL_LAYER_NONE;
    if (reply[0] == SASL_LAYER_NONE && DEVIATES(s, accept_maxsize_with_none))
        reply[1] = reply[2] = reply[3] = 0;
}

/* The client's wrapped layer reply: judge it and record it. */
static enum sasl_status server_layer(struct sasl *s, const unsigned char *in, size_t len)
{
    const char *what = "server: client's layer reply";
    gss_buffer_desc plain = GSS_C_EMPTY_BUFFER;
    struct sasl_layer_msg msg;
    enum sasl_layer_status ls;
    enum sasl_status status;
    size_t plain_len;
    unsigned char sent[4] = {0, 0, 0, 0};

    status = unwrap_in(s, what, in, len, &plain);
    if (status == SASL_FAILED)
        return status;
    plain_len = plain.length;
    if (plain_len >= 4)
        memcpy(sent, plain.value, 4);
    overlook(s, plain.value, plain_len);
    ls = rfc4752_layers_parse_client(plain.value, plain.length, s->outcome.layers_offered, &msg);
    if (ls == SASL_LAYER_OK || ls == SASL_LAYER_BAD_AUTHZID) {
        /* what the client sent, also where a deviation overlooked it */
        s->outcome.layer = sent[0];
        s->outcome.client_max_size = (uint32_t)sent[1] << 16 | (uint32_t)sent[2] << 8 | sent[3];
    }
    if (ls == SASL_LAYER_OK && msg.authzid != NULL) {
        s->outcome.authzid = malloc(msg.authzid_len + 1);
        if (s->outcome.authzid == NULL) {
            release_buffer(s, &plain);
            return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "server: out of memory");
        }
        memcpy(s->outcome.authzid, msg.authzid, msg.authzid_len);
        s->outcome.authzid[msg.authzid_len] = '\0';
        s->outcome.authzid_len = msg.authzid_len;
    }
    release_buffer(s, &plain);
    if (ls != SASL_LAYER_OK)
        return fail(s,
                    ls == SASL_LAYER_BAD_AUTHZID ? SASL_COND_INVALID_AUTHZID
                                                 : SASL_COND_MALFORMED_REQUEST,
                    "%s: %s (%zu octets, layer 0x%02x, max size %u, offered 0x%02x): %s", what,
                    rfc4752_layer_status_name(ls), plain_len, msg.layers, (unsigned)msg.max_size,
                    s->outcome.layers_offered, rfc4752_layer_status_reason(ls));
    s->state = STATE_DONE;
    return SASL_DONE;
}

static enum sasl_status server_step(struct sasl *s, const unsigned char *in, size_t len,
                                    unsigned char **out, size_t *out_len)
{
    switch (s->state) {
    case STATE_START:
        if (len == 0 && !s->empty_challenge_sent && !DEVIATES(s, no_empty_challenge)) {
            /* No initial response (or an empty one): RFC 4422 §5 has the server send an
             * empty challenge, and the client's first token comes as a response. */
            s->empty_challenge_sent = true;
            if (!hand_out(NULL, 0, out, out_len))
                return fail(s, SASL_COND_TEMPORARY_AUTH_FAILURE, "server: out of memory");
            return SASL_CONTINUE;
        }
        return server_context(s, in, len, out, out_len);
    case STATE_CONTEXT:
        return server_context(s, in, len, out, out_len);
    case STATE_EMPTY:
        if (len != 0)
            return fail(s, SASL_COND_MALFORMED_REQUEST,
                        "server: a %zu-octet response where an empty one was due (RFC 4752 "
                        "§3.1: the context is complete, the client answers the last context "
                        "token with no data)",
                        len);
        return server_send_layers(s, out, out_len);
    case STATE_LAYER:
        return server_layer(s, in, len);
    default:
        return fail(s, SASL_COND_ABORTED, "server: a response after the exchange ended");
    }
}

enum sasl_status rfc4752_step(struct sasl *s, const unsigned char *in, size_t len,
                              unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (in == NULL && len != 0)
        return fail(s, SASL_COND_ABORTED, "rfc4752_step: NULL payload of %zu octets", len);
    if (s->state == STATE_FAILED)
        return SASL_FAILED; /* the first failure's reason and condition stay */
    if (s->cfg.role == SASL_ROLE_CLIENT)
        return client_step(s, in, len, out, out_len);
    return server_step(s, in, len, out, out_len);
}
