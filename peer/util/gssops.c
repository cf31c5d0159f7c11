/* The real GSS-API behind struct gssops (see gssops.h). */
#include "util/gssops.h"

#include <gssapi/gssapi_krb5.h>

const struct gssops gssops_mit = {
    .import_name = gss_import_name,
    .display_name = gss_display_name,
    .release_name = gss_release_name,
    .release_buffer = gss_release_buffer,
    .init_sec_context = gss_init_sec_context,
    .accept_sec_context = gss_accept_sec_context,
    .inquire_context = gss_inquire_context,
    .delete_sec_context = gss_delete_sec_context,
    .wrap = gss_wrap,
    .unwrap = gss_unwrap,
    .export_sec_context = gss_export_sec_context,
    .import_sec_context = gss_import_sec_context,
    .krb5_export_lucid_sec_context = gss_krb5_export_lucid_sec_context,
    .krb5_free_lucid_sec_context = gss_krb5_free_lucid_sec_context,
};
