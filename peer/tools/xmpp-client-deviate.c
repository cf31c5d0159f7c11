/* The deviant service names of gsspeer xmpp-client: see xmpp-client-deviate.h. */
#include "tools/xmpp-client-deviate.h"

#include <stdio.h>
#include <string.h>

enum { PART_MAX = 300 };

bool xcd_principal_deviates(const struct xmpp_deviations *dev)
{
    return dev->two_component_name || dev->swapped_components || dev->realm_from_hostname ||
           dev->port_in_name;
}

bool xcd_principal(const struct xmpp_deviations *dev, const char *host, const char *domain,
                   unsigned port, const char *realm, char *name, size_t len)
{
    char hostpart[PART_MAX], realmpart[PART_MAX];
    const char *dot = strchr(host, '.');
    int n;

    n = dev->port_in_name ? snprintf(hostpart, sizeof(hostpart), "%s:%u", host, port)
                          : snprintf(hostpart, sizeof(hostpart), "%s", host);
    if (n < 0 || (size_t)n >= sizeof(hostpart))
        return false;
    n = snprintf(realmpart, sizeof(realmpart), "%s",
                 !dev->realm_from_hostname ? realm
                 : dot != NULL             ? dot + 1
                                           : host);
    if (n < 0 || (size_t)n >= sizeof(realmpart))
        return false;
    if (dev->realm_from_hostname)
        for (char *p = realmpart; *p != '\0'; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
    if (dev->two_component_name)
        n = snprintf(name, len, "xmpp/%s@%s", domain, realmpart);
    else if (dev->swapped_components)
        n = snprintf(name, len, "xmpp/%s/%s@%s", domain, hostpart, realmpart);
    else
        n = snprintf(name, len, "xmpp/%s/%s@%s", hostpart, domain, realmpart);
    return n >= 0 && (size_t)n < len;
}
