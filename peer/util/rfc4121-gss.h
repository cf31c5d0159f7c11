/*
 * Keying the independent RFC 4121 implementation (util/rfc4121.h) from an established MIT
 * krb5 GSS-API context, through gss_krb5_export_lucid_sec_context.
 *
 * Ownership: the export consumes the GSS context: *HANDLE is GSS_C_NO_CONTEXT afterwards,
 * whatever the outcome (MIT deletes it); export a copy (gss_export_sec_context +
 * gss_import_sec_context) to keep using MIT. On success *CTX is set up and owned by the caller
 * (rfc4121_free); on failure it is freeable and *ERROR (if not NULL) is a newly allocated
 * one-line reason the caller frees.
 */
#ifndef UTIL_RFC4121_GSS_H
#define UTIL_RFC4121_GSS_H

#include "util/rfc4121.h"

#include <gssapi/gssapi.h>

/* Set up CTX from the context *HANDLE; false with *ERROR on a non-CFX (RFC 1964) context or
 * an enctype rfc4121 does not implement. *ENCTYPE (if not NULL) gets the key's enctype. */
bool rfc4121_from_gss(struct rfc4121_ctx *ctx, gss_ctx_id_t *handle, int *enctype, char **error);

#endif
