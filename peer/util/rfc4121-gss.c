/*
 * The lucid export of an MIT context into an rfc4121 context (see rfc4121-gss.h).
 */
#include "util/rfc4121-gss.h"

#include "util/gss.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* *ERROR = the formatted text, when ERROR is not NULL. */
static void set_error(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(char **error, const char *fmt, ...)
{
    va_list ap;
    char buf[512];

    if (error == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    *error = strdup(buf);
}

/* *ERROR = "CALL: <GSS status text>". */
static void set_gss_error(char **error, const char *call, OM_uint32 major, OM_uint32 minor)
{
    char *text = gssutil_status_text(major, minor);

    set_error(error, "%s: %s", call, text != NULL ? text : "?");
    free(text);
}

bool rfc4121_from_gss(struct rfc4121_ctx *ctx, const struct gssops *gss, gss_ctx_id_t *handle,
                      int *enctype, char **error)
{
    void *exported = NULL;
    gss_krb5_lucid_context_v1_t *lucid;
    const gss_krb5_lucid_key_t *key;
    OM_uint32 major, minor;
    enum rfc4121_status st;
    bool result = false;

    memset(ctx, 0, sizeof(*ctx));
    if (gss->krb5_export_lucid_sec_context == NULL || gss->krb5_free_lucid_sec_context == NULL) {
        set_error(error, "this GSS-API table has no lucid context export");
        goto cleanup;
    }
    major = gss->krb5_export_lucid_sec_context(&minor, handle, 1, &exported);
    if (GSS_ERROR(major)) {
        set_gss_error(error, "gss_krb5_export_lucid_sec_context", major, minor);
        goto cleanup;
    }
    lucid = exported;
    if (lucid->version != 1 || lucid->protocol != 1) {
        set_error(error, "lucid context version %u protocol %u: not an RFC 4121 context",
                  (unsigned)lucid->version, (unsigned)lucid->protocol);
        goto cleanup;
    }
    key = lucid->cfx_kd.have_acceptor_subkey ? &lucid->cfx_kd.acceptor_subkey
                                             : &lucid->cfx_kd.ctx_key;
    if (enctype != NULL)
        *enctype = (int)key->type;
    st = rfc4121_init(ctx, (enum rfc4121_enctype)key->type, key->data, key->length,
                      lucid->initiate != 0, lucid->cfx_kd.have_acceptor_subkey != 0,
                      lucid->send_seq, lucid->recv_seq);
    if (st != RFC4121_OK) {
        set_error(error, "enctype %u, key of %u bytes: %s", (unsigned)key->type,
                  (unsigned)key->length, rfc4121_status_text(st));
        goto cleanup;
    }
    result = true;

cleanup:
    if (exported != NULL)
        gss->krb5_free_lucid_sec_context(&minor, exported);
    if (*handle != GSS_C_NO_CONTEXT)
        gss->delete_sec_context(&minor, handle, GSS_C_NO_BUFFER);
    *handle = GSS_C_NO_CONTEXT;
    return result;
}

bool rfc4121_from_gss_copy(struct rfc4121_ctx *ctx, const struct gssops *gss,
                           gss_ctx_id_t *handle, int *enctype, char **error)
{
    gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t copy = GSS_C_NO_CONTEXT;
    OM_uint32 major, minor;
    bool result = false;

    memset(ctx, 0, sizeof(*ctx));
    if (gss->export_sec_context == NULL || gss->import_sec_context == NULL) {
        set_error(error, "this GSS-API table has no context export");
        return false;
    }
    major = gss->export_sec_context(&minor, handle, &token);
    if (GSS_ERROR(major)) {
        /* MIT deletes the context only once the export succeeded */
        set_gss_error(error, "gss_export_sec_context", major, minor);
        goto cleanup;
    }
    major = gss->import_sec_context(&minor, &token, handle);
    if (GSS_ERROR(major)) {
        *handle = GSS_C_NO_CONTEXT;
        set_gss_error(error, "gss_import_sec_context (the context itself is lost)", major,
                      minor);
        goto cleanup;
    }
    major = gss->import_sec_context(&minor, &token, &copy);
    if (GSS_ERROR(major)) {
        set_gss_error(error, "gss_import_sec_context of the copy", major, minor);
        goto cleanup;
    }
    result = rfc4121_from_gss(ctx, gss, &copy, enctype, error);

cleanup:
    gss->release_buffer(&minor, &token);
    if (copy != GSS_C_NO_CONTEXT)
        gss->delete_sec_context(&minor, &copy, GSS_C_NO_BUFFER);
    return result;
}
