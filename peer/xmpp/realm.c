/* The krb5.conf [domain_realm] realm policy: see realm.h. */
#include "xmpp/realm.h"

#include "xmpp/xep0233.h"

#include <krb5/krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum realm_status realm_for_domain(const char *domain, char **realm, char *error, size_t len)
{
    krb5_context ctx = NULL;
    krb5_error_code code;
    char **realms = NULL;
    const char *msg;
    enum realm_status status = REALM_FAILED;

    *realm = NULL;
    code = krb5_init_context(&ctx);
    if (code != 0) {
        snprintf(error, len, "krb5_init_context: %s", error_message(code));
        return REALM_FAILED;
    }
    code = krb5_get_host_realm(ctx, domain, &realms);
    if (code != 0) {
        msg = krb5_get_error_message(ctx, code);
        snprintf(error, len, "krb5_get_host_realm(%s): %s", domain, msg);
        krb5_free_error_message(ctx, msg);
        goto cleanup;
    }
    /* An empty first realm is KRB5_REFERRAL_REALM: nothing in the profile maps the name. */
    if (realms == NULL || realms[0] == NULL || realms[0][0] == '\0') {
        status = REALM_UNMAPPED;
        goto cleanup;
    }
    *realm = strdup(realms[0]);
    if (*realm == NULL) {
        snprintf(error, len, "out of memory");
        goto cleanup;
    }
    status = REALM_MAPPED;
cleanup:
    if (realms != NULL)
        krb5_free_host_realm(ctx, realms);
    krb5_free_context(ctx);
    return status;
}

enum realm_status realm_for_principal_domain(const char *domain, char **realm, char *error,
                                             size_t len)
{
    struct hostname_check checked;

    *realm = NULL;
    hostname_check(domain, strlen(domain), &checked);
    if (hostname_check_verdict(&checked) == XEP0233_INVALID)
        return REALM_UNMAPPED;
    return realm_for_domain(checked.name, realm, error, len);
}
