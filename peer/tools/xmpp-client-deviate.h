/*
 * The service names of gsspeer xmpp-client's planted principal deviations (`--deviate
 * two-component-name|swapped-components|realm-from-hostname|port-in-name`, docs/mutation.md):
 * the wrong Kerberos names real clients build from an advertised <hostname/>. Pure string
 * work, no GSS-API, no file.
 *
 * Ownership: plain values; the caller owns every buffer.
 */
#ifndef TOOLS_XMPP_CLIENT_DEVIATE_H
#define TOOLS_XMPP_CLIENT_DEVIATE_H

#include "xmpp/deviations.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether DEV holds a deviation of the service name (then xcd_principal builds it). */
bool xcd_principal_deviates(const struct xmpp_deviations *dev);

/*
 * The deviant service name for the usable <hostname/> HOST, the stream domain DOMAIN, the port
 * PORT the client connected to and REALM (the conformant realm: krb5.conf's mapping of DOMAIN
 * or DOMAIN upper-cased) into NAME (LEN octets, NUL-terminated). Deviations combine:
 *   two-component-name   xmpp/DOMAIN@REALM (the host is left out)
 *   swapped-components   xmpp/DOMAIN/HOST@REALM
 *   port-in-name         HOST becomes HOST:PORT
 *   realm-from-hostname  REALM becomes HOST without its first label (HOST itself when it has
 *                        one label), ASCII upper-cased
 * False when the result does not fit in LEN.
 */
bool xcd_principal(const struct xmpp_deviations *dev, const char *host, const char *domain,
                   unsigned port, const char *realm, char *name, size_t len);

#endif
