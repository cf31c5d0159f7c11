/*
 * The GSS-API calls a sans-I/O engine makes, as a table of functions. Engines (the ZMTP
 * mechanism, the SASL GSSAPI exchange) call GSS-API only through a struct gssops, so unit
 * tests and fuzzers can hand them a fake table and run without a KDC; the roles pass
 * &gssops_mit, the real MIT krb5 library.
 *
 * Every member has exactly the signature of the RFC 2744 function it names, or (the krb5_*
 * members) of the MIT krb5 extension it names. The members after unwrap are optional: a table
 * without them (a fake) leaves them NULL, and what needs them (keying the independent RFC 4121
 * path, util/rfc4121-gss.h) reports that it could not run.
 * Ownership: as in RFC 2744 (output buffers released with release_buffer, names with
 * release_name, contexts with delete_sec_context, all through the same table).
 */
#ifndef UTIL_GSSOPS_H
#define UTIL_GSSOPS_H

#include <gssapi/gssapi.h>

struct gssops {
    OM_uint32 (*import_name)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
    OM_uint32 (*display_name)(OM_uint32 *, gss_name_t, gss_buffer_t, gss_OID *);
    OM_uint32 (*release_name)(OM_uint32 *, gss_name_t *);
    OM_uint32 (*release_buffer)(OM_uint32 *, gss_buffer_t);
    OM_uint32 (*init_sec_context)(OM_uint32 *, gss_cred_id_t, gss_ctx_id_t *, gss_name_t,
                                  gss_OID, OM_uint32, OM_uint32, gss_channel_bindings_t,
                                  gss_buffer_t, gss_OID *, gss_buffer_t, OM_uint32 *,
                                  OM_uint32 *);
    OM_uint32 (*accept_sec_context)(OM_uint32 *, gss_ctx_id_t *, gss_cred_id_t, gss_buffer_t,
                                    gss_channel_bindings_t, gss_name_t *, gss_OID *,
                                    gss_buffer_t, OM_uint32 *, OM_uint32 *, gss_cred_id_t *);
    OM_uint32 (*inquire_context)(OM_uint32 *, gss_ctx_id_t, gss_name_t *, gss_name_t *,
                                 OM_uint32 *, gss_OID *, OM_uint32 *, int *, int *);
    OM_uint32 (*delete_sec_context)(OM_uint32 *, gss_ctx_id_t *, gss_buffer_t);
    OM_uint32 (*wrap)(OM_uint32 *, gss_ctx_id_t, int, gss_qop_t, gss_buffer_t, int *,
                      gss_buffer_t);
    OM_uint32 (*unwrap)(OM_uint32 *, gss_ctx_id_t, gss_buffer_t, gss_buffer_t, int *,
                        gss_qop_t *);
    /* optional (NULL in a fake table) */
    OM_uint32 (*export_sec_context)(OM_uint32 *, gss_ctx_id_t *, gss_buffer_t);
    OM_uint32 (*import_sec_context)(OM_uint32 *, gss_buffer_t, gss_ctx_id_t *);
    OM_uint32 (*krb5_export_lucid_sec_context)(OM_uint32 *, gss_ctx_id_t *, OM_uint32, void **);
    OM_uint32 (*krb5_free_lucid_sec_context)(OM_uint32 *, void *);
};

/* The real GSS-API of the linked library (MIT krb5). */
extern const struct gssops gssops_mit;

#endif
