/* Tests of the deviant service names of gsspeer xmpp-client (tools/xmpp-client-deviate.c): each
 * principal deviation alone, two combined, the host without a parent domain, and a name that
 * does not fit. Their effect on the wire is the mutation run's (tests/xmpp/mutation-client-t.py).
 */
#include "tests/tap.h"
#include "tools/xmpp-client-deviate.h"

#include <string.h>

#define HOST "auth42.us.example.com"
#define DOMAIN "example.com"
#define REALM "GSSCONFORM.TEST"

/* The name DEV makes of HOST, DOMAIN, port 5269 and REALM ("" when it does not fit in LEN). */
static const char *build(const struct xmpp_deviations *dev, const char *host, size_t len)
{
    static char name[600];

    if (len > sizeof(name) || !xcd_principal(dev, host, DOMAIN, 5269, REALM, name, len))
        return "";
    return name;
}

int main(void)
{
    struct xmpp_deviations none = {0}, two = {0}, swapped = {0}, realm = {0}, port = {0},
                           both = {0}, other = {0};

    plan_lazy();
    two.two_component_name = true;
    swapped.swapped_components = true;
    realm.realm_from_hostname = true;
    port.port_in_name = true;
    both.swapped_components = both.port_in_name = true;
    other.authzid_initiator = other.pre_tls_hostname = true;

    ok(!xcd_principal_deviates(&none), "no switch: the conformant name");
    ok(!xcd_principal_deviates(&other), "switches that are not about the name: conformant name");
    ok(xcd_principal_deviates(&two) && xcd_principal_deviates(&swapped) &&
           xcd_principal_deviates(&realm) && xcd_principal_deviates(&port),
       "each principal deviation is one");
    is_string(build(&two, HOST, 600), "xmpp/" DOMAIN "@" REALM, "two-component-name");
    is_string(build(&swapped, HOST, 600), "xmpp/" DOMAIN "/" HOST "@" REALM, "swapped-components");
    is_string(build(&realm, HOST, 600), "xmpp/" HOST "/" DOMAIN "@US.EXAMPLE.COM",
              "realm-from-hostname: the parent domain, upper-cased");
    is_string(build(&realm, "Auth42", 600), "xmpp/Auth42/" DOMAIN "@AUTH42",
              "realm-from-hostname: a single label is its own realm");
    is_string(build(&port, HOST, 600), "xmpp/" HOST ":5269/" DOMAIN "@" REALM, "port-in-name");
    is_string(build(&both, HOST, 600), "xmpp/" DOMAIN "/" HOST ":5269@" REALM,
              "swapped and port together");
    is_string(build(&port, HOST, strlen("xmpp/" HOST ":5269/" DOMAIN "@" REALM) + 1),
              "xmpp/" HOST ":5269/" DOMAIN "@" REALM, "a name that just fits");
    is_string(build(&port, HOST, strlen("xmpp/" HOST ":5269/" DOMAIN "@" REALM)), "",
              "one octet short: refused, not cut");
    done_testing();
}
