/*
 * The realm policy of XEP-0233 §3 ("determined according to the network policies in effect"):
 * the [domain_realm] mapping of the krb5.conf the environment names (KRB5_CONFIG), read with
 * libkrb5. This is the one piece of the naming rules that does I/O (it reads the profile),
 * kept apart from the sans-I/O xep0233 module.
 *
 * Ownership: on success with a mapping, *REALM is newly allocated and freed by the caller with
 * free(); otherwise *REALM is NULL.
 */
#ifndef XMPP_REALM_H
#define XMPP_REALM_H

#include <stddef.h>

enum realm_status {
    REALM_MAPPED = 0, /* the profile maps DOMAIN to *REALM */
    REALM_UNMAPPED,   /* no mapping: the caller applies its fallback (the upper-cased domain) */
    REALM_FAILED,     /* libkrb5 failed (unreadable profile, ...): ERROR says why */
};

/* Look DOMAIN up in [domain_realm] (exact name, then each parent ".suffix", as libkrb5's
 * krb5_get_host_realm does). On REALM_FAILED, ERROR (size LEN) holds one line. */
enum realm_status realm_for_domain(const char *domain, char **realm, char *error, size_t len);

/* The realm policy for DOMAIN as it goes into an XEP-0233 principal: realm_for_domain of the
 * name hostname_check (xep0233.h) makes of DOMAIN, or REALM_UNMAPPED (*REALM NULL) when
 * DOMAIN is no valid host name (principal_build then judges it). Same ownership as above. */
enum realm_status realm_for_principal_domain(const char *domain, char **realm, char *error,
                                             size_t len);

#endif
