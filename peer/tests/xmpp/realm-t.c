/* Tests of xmpp/realm: the [domain_realm] policy against a krb5.conf written into a temporary
 * directory (no KDC needed: libkrb5 only reads the profile). */
#include "tests/tap.h"
#include "xmpp/realm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char conf_text[] = "[libdefaults]\n"
                                "    default_realm = DEFAULT.TEST\n"
                                "    dns_lookup_realm = false\n"
                                "    dns_lookup_kdc = false\n"
                                "    dns_canonicalize_hostname = false\n"
                                "    rdns = false\n"
                                "[domain_realm]\n"
                                "    .corp.example = CORP.TEST\n"
                                "    example.org = ORG.TEST\n"
                                "    chat.example.net = CHAT.TEST\n";

/* Look DOMAIN up and compare with WANT (NULL: unmapped). */
static void expect(const char *domain, const char *want, const char *why)
{
    char *realm = NULL, error[200] = "";
    enum realm_status status = realm_for_domain(domain, &realm, error, sizeof(error));

    if (want == NULL) {
        ok(status == REALM_UNMAPPED && realm == NULL, "%s: unmapped (%s)", domain, why);
    } else {
        is_int(status, REALM_MAPPED, "%s: mapped (%s)", domain, why);
        is_string(realm, want, "%s -> %s", domain, want);
    }
    if (status == REALM_FAILED)
        diag("%s", error);
    free(realm);
}

int main(void)
{
    char dir[] = "/tmp/realm-t.XXXXXX", path[sizeof(dir) + 16];
    FILE *f;

    if (mkdtemp(dir) == NULL)
        bail("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/krb5.conf", dir);
    f = fopen(path, "w");
    if (f == NULL || fputs(conf_text, f) == EOF || fclose(f) != 0)
        bail("cannot write %s", path);
    setenv("KRB5_CONFIG", path, 1);

    plan_lazy();
    expect("chat.corp.example", "CORP.TEST", "a '.suffix' entry maps subdomains");
    expect("a.b.corp.example", "CORP.TEST", "at any depth");
    expect("example.org", "ORG.TEST", "an exact entry");
    expect("www.example.org", "ORG.TEST", "MIT also tries each parent name without its dot");
    expect("chat.example.net", "CHAT.TEST", "an exact host entry");
    expect("example.net", NULL, "a host entry does not map its parent");
    expect("unmapped.test", NULL, "no entry: the caller falls back to the upper-cased domain");
    expect("corp.example", NULL, "a '.suffix' entry does not map the bare suffix");

    unlink(path);
    rmdir(dir);
    done_testing();
}
