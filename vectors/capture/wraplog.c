/*
 * wraplog: an LD_PRELOAD interposer used only by zmtp-capture.py. It logs the plaintext given to
 * gss_wrap and returned by gss_unwrap (one line each, hex) to the file named by
 * ZMTP_CAPTURE_WRAPLOG, then calls the real function. It lets the capture show the inner flags
 * byte and body of every wrapped MESSAGE, which the wire alone cannot.
 *
 * Built by the capture tool at run time into its temporary directory; not part of the peer.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <stdio.h>
#include <stdlib.h>

typedef OM_uint32 (*wrap_fn)(OM_uint32 *, gss_ctx_id_t, int, gss_qop_t, gss_buffer_t, int *,
                             gss_buffer_t);
typedef OM_uint32 (*unwrap_fn)(OM_uint32 *, gss_ctx_id_t, gss_buffer_t, gss_buffer_t, int *,
                               gss_qop_t *);

/* The real function: the next definition, or the one in libgssapi_krb5 (Python loads libzmq
 * and with it the GSS library with RTLD_LOCAL, where RTLD_NEXT does not look). */
static void *real_symbol(const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL) {
        void *lib = dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_NOLOAD);
        if (lib == NULL)
            lib = dlopen("libgssapi_krb5.so.2", RTLD_NOW);
        if (lib != NULL)
            sym = dlsym(lib, name);
    }
    if (sym == NULL)
        abort();
    return sym;
}

/* Append "WHAT <hex>\n" to the log; errors are ignored (the capture notices missing lines). */
static void log_buffer(const char *what, const gss_buffer_t buf)
{
    const char *path = getenv("ZMTP_CAPTURE_WRAPLOG");
    if (path == NULL || buf == NULL)
        return;
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    fprintf(f, "%s ", what);
    for (size_t i = 0; i < buf->length; i++)
        fprintf(f, "%02x", ((const unsigned char *)buf->value)[i]);
    fputc('\n', f);
    fclose(f);
}

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
                   gss_buffer_t input, int *conf_state, gss_buffer_t output)
{
    wrap_fn real = (wrap_fn)real_symbol("gss_wrap");
    log_buffer("wrap", input);
    return real(minor, ctx, conf_req, qop, input, conf_state, output);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t input, gss_buffer_t output,
                     int *conf_state, gss_qop_t *qop)
{
    unwrap_fn real = (unwrap_fn)real_symbol("gss_unwrap");
    OM_uint32 major = real(minor, ctx, input, output, conf_state, qop);
    if (major == GSS_S_COMPLETE)
        log_buffer("unwrap", output);
    return major;
}
