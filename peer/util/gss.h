/*
 * GSS-API helpers shared by every role of the peer: importing names of the three kinds the
 * protocols use, acquiring credentials, and turning major/minor status into text.
 *
 * Ownership: every gss_name_t / gss_cred_id_t returned through an out-parameter is owned by
 * the caller (gss_release_name / gss_release_cred); on failure the out-parameter is set to
 * GSS_C_NO_NAME / GSS_C_NO_CREDENTIAL and nothing is allocated. Strings returned as char *
 * are newly allocated and freed by the caller with free().
 */
#ifndef UTIL_GSS_H
#define UTIL_GSS_H

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdbool.h>

/* How a name given on the command line is imported (the same three kinds libzmq offers). */
enum nametype {
    NAMETYPE_HOSTBASED, /* "service" or "service@host" (GSS_C_NT_HOSTBASED_SERVICE) */
    NAMETYPE_USER,      /* "alice" (GSS_C_NT_USER_NAME) */
    NAMETYPE_KRB5,      /* full principal "a/b/c@REALM" (GSS_KRB5_NT_PRINCIPAL_NAME) */
};

/* Parse "hostbased", "user" or "krb5" into *TYPE; false for anything else. */
bool nametype_parse(const char *text, enum nametype *type);
/* The canonical word for TYPE ("hostbased", "user", "krb5"). */
const char *nametype_name(enum nametype type);

/* Import TEXT as a name of the given kind. Returns the GSS major status; *MINOR is set. */
OM_uint32 gssutil_import_name(const char *text, enum nametype type, gss_name_t *name,
                              OM_uint32 *minor);

/* Acquire credentials for NAME (GSS_C_NO_NAME: the default) for USAGE (GSS_C_INITIATE,
 * GSS_C_ACCEPT or GSS_C_BOTH) with the krb5 mechanism. Returns the major status. */
OM_uint32 gssutil_acquire_cred(gss_name_t name, gss_cred_usage_t usage, gss_cred_id_t *cred,
                               OM_uint32 *minor);

/* gss_display_name as a C string ("alice@REALM"); NULL on failure. */
char *gssutil_display_name(gss_name_t name);

/* "MAJOR-TEXT; MINOR-TEXT" for the status pair (every message of the chain, joined by "; "),
 * e.g. "Unspecified GSS failure.  Minor code may provide more information; Server
 * zmq/wrong@REALM not found in Kerberos database". Never NULL except on out of memory. */
char *gssutil_status_text(OM_uint32 major, OM_uint32 minor);

#endif
