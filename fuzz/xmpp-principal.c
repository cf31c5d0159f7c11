/*
 * Fuzz target: principal construction (xmpp/xep0233.h principal_build) with a fuzzed hostname,
 * domain, realm, port and form. A usable result must be a principal of the stated shape.
 *
 * Input: one option octet (bit 0 SSPI form, bit 1 no hostname, bit 2 no realm), four octets of
 * port (a big-endian signed 32-bit number; -1 is PRINCIPAL_PORT_UNKNOWN), then hostname,
 * domain and realm separated by NUL octets.
 */
#include "xmpp/xep0233.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The next NUL-terminated piece of the input (a copy), advancing *D / *N. */
static char *piece(const uint8_t **d, size_t *n)
{
    const uint8_t *end = memchr(*d, '\0', *n);
    size_t len = end != NULL ? (size_t)(end - *d) : *n;
    char *s = malloc(len + 1);

    if (s == NULL)
        abort();
    memcpy(s, *d, len);
    s[len] = '\0';
    *d += len + (end != NULL);
    *n -= len + (end != NULL);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct principal_request req = {0};
    struct principal_result res;
    char *hostname, *domain, *realm;
    char buf[512];
    uint8_t opt;

    if (size < 5)
        return 0;
    opt = data[0];
    req.form = (opt & 1) ? PRINCIPAL_SSPI : PRINCIPAL_GSS;
    req.port = (long)(int32_t)((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
                               (uint32_t)data[3] << 8 | data[4]);
    data += 5, size -= 5;
    hostname = piece(&data, &size);
    domain = piece(&data, &size);
    realm = piece(&data, &size);
    req.hostname = (opt & 2) ? NULL : hostname;
    req.domain = domain;
    req.realm = (opt & 4) ? NULL : realm;

    principal_build(&req, &res);
    (void)principal_explain(&res, buf, sizeof(buf));
    (void)principal_status_name(res.status);
    (void)principal_status_flag(res.status);
    if (res.verdict != XEP0233_INVALID) {
        if (res.name == NULL || strncmp(res.name, "xmpp/", 5) != 0)
            abort();
        if (req.form == PRINCIPAL_GSS && strchr(res.name, '@') == NULL)
            abort();
    } else if (res.name != NULL) {
        abort();
    }
    principal_result_free(&res);
    free(hostname);
    free(domain);
    free(realm);
    return 0;
}
