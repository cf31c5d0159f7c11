/*
 * Fuzz target: the stream-features parser (xmpp/features.h) on a whole document, and the
 * hostname check (xmpp/xep0233.h) on the same bytes; every result is explained in text, as
 * the CLI does.
 */
#include "xmpp/features.h"
#include "xmpp/xep0233.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct features_result r;
    struct hostname_check c;
    char buf[512];

    if (features_parse((const char *)data, size, &r) == FEATURES_OK) {
        (void)hostname_explain(&r.hostname, "hostname", buf, sizeof(buf));
        if (memchr(buf, '\0', sizeof(buf)) == NULL)
            abort();
        if (hostname_check_verdict(&r.hostname) != XEP0233_INVALID && r.hostname.name[0] == '\0')
            abort(); /* a usable hostname has a name */
    } else if (memchr(r.error, '\0', sizeof(r.error)) == NULL) {
        abort();
    }
    (void)features_status_name(r.status);
    hostname_check((const char *)data, size, &c);
    (void)hostname_explain(&c, "domain", buf, sizeof(buf));
    if (hostname_check_verdict(&c) != XEP0233_INVALID &&
        (c.name[0] == '\0' || strlen(c.name) > HOSTNAME_MAX))
        abort();
    return 0;
}
