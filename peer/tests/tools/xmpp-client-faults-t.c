/* Tests of the xmpp-client fault catalogue: every enum value has its entry, in order, with a
 * unique name and a one-line description, and lookups find exactly the listed names. */
#include "tests/tap.h"
#include "tools/xmpp-client-faults.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    size_t count = 0;
    char buf[8192];
    FILE *f;

    plan_lazy();
    for (const struct xc_fault_spec *s = xc_fault_catalogue; s->name != NULL; s++, count++) {
        ok(s->id == (enum xc_fault)count, "%s is entry %zu of the enum", s->name, count);
        ok(s->summary != NULL && s->summary[0] != '\0' && strchr(s->summary, '\n') == NULL,
           "%s has a one-line description", s->name);
        ok(xc_fault_find(s->name) == s, "%s is found by name", s->name);
        for (const struct xc_fault_spec *t = s + 1; t->name != NULL; t++)
            if (strcmp(s->name, t->name) == 0)
                ok(false, "%s is listed twice", s->name);
    }
    is_int((long long)count, XC_FAULT_COUNT, "one entry per fault");
    ok(xc_fault_find("nosuch") == NULL, "an unknown name is not found");
    ok(xc_fault_find("ABORT") == NULL, "names are case-sensitive");
    ok(xc_fault_find("") == NULL, "the empty name is not found");

    memset(buf, 0, sizeof(buf));
    f = fmemopen(buf, sizeof(buf) - 1, "w");
    if (f == NULL)
        bail("fmemopen failed");
    xc_faults_list(f, true);
    fclose(f);
    ok(strstr(buf, "{\"name\":\"layer-several-bits\",\"roles\":\"client\",\"description\":") !=
           NULL,
       "--list-faults --json writes one object per fault");
    count = 0;
    for (const char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
        count++;
    is_int((long long)count, XC_FAULT_COUNT, "one line per fault");
    done_testing();
}
