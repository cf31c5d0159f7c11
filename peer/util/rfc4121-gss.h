/*
 * Keying the independent RFC 4121 implementation (util/rfc4121.h) from an established MIT
 * krb5 GSS-API context, through gss_krb5_export_lucid_sec_context, called through a struct
 * gssops (util/gssops.h) so an engine keeps using the table it was given.
 *
 * MIT's lucid export consumes the context it is handed (it is deleted, the handle becomes
 * GSS_C_NO_CONTEXT), and so does gss_export_sec_context. rfc4121_from_gss_copy therefore
 * exports the context, imports it back into the caller's handle and once more as a throwaway
 * copy, and lucid-exports the copy: the caller's context keeps its keys and sequence state.
 *
 * Ownership: on success *CTX is set up and owned by the caller (rfc4121_free); on failure it
 * is freeable and *ERROR (if not NULL) is a newly allocated one-line reason the caller frees.
 */
#ifndef UTIL_RFC4121_GSS_H
#define UTIL_RFC4121_GSS_H

#include "util/gssops.h"
#include "util/rfc4121.h"

#include <gssapi/gssapi.h>

/* Set up CTX from the context *HANDLE, which is consumed: *HANDLE is GSS_C_NO_CONTEXT
 * afterwards, whatever the outcome. false with *ERROR on a non-CFX (RFC 1964) context or an
 * enctype rfc4121 does not implement. *ENCTYPE (if not NULL) gets the key's enctype. */
bool rfc4121_from_gss(struct rfc4121_ctx *ctx, const struct gssops *gss, gss_ctx_id_t *handle,
                      int *enctype, char **error);

/* Set up CTX from a copy of the established context *HANDLE, which stays usable (it is
 * replaced by its re-imported self). false with *ERROR when GSS lacks the optional members
 * (a fake table), an export or import failed, or as rfc4121_from_gss. In one case the caller's
 * context is gone: the export worked but importing it back did not; *HANDLE is then
 * GSS_C_NO_CONTEXT, which the caller must check. */
bool rfc4121_from_gss_copy(struct rfc4121_ctx *ctx, const struct gssops *gss,
                           gss_ctx_id_t *handle, int *enctype, char **error);

#endif
