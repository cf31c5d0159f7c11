/* Tests of xmpp/features: every vector of vectors/xep0233-features.json, then inputs the
 * vectors cannot carry (NUL bytes, depth, size). */
#include "tests/tap.h"
#include "tests/xmpp/vectors.h"
#include "util/jsonload.h"
#include "xmpp/features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool run_vector(const json_t *group, const json_t *t)
{
    struct features_result r;
    const json_t *expected = json_object_get(t, "expected");
    const char *xml = json_string_value(json_object_get(t, "xml"));
    const char *want_result = json_string_value(json_object_get(t, "result"));
    const char *want_status = json_string_value(json_object_get(expected, "status"));
    const char *want_host = json_string_value(json_object_get(expected, "hostname"));
    const json_t *offered = json_object_get(expected, "gssapiOffered");
    const char *got[HOSTNAME_STATUS_COUNT + 1];
    const char *status, *decisive = NULL;
    enum xep0233_verdict verdict = XEP0233_INVALID;
    size_t ngot = 0;
    bool good = true;

    (void)group;
    if (xml == NULL || want_result == NULL || want_status == NULL) {
        diag("vector lacks xml, result or expected.status");
        return false;
    }
    features_parse(xml, json_string_length(json_object_get(t, "xml")), &r);
    if (r.status == FEATURES_OK) {
        status = hostname_status_name(r.hostname.status);
        verdict = hostname_check_verdict(&r.hostname);
        add_check_flags(&r.hostname, got, &ngot);
        if (verdict == XEP0233_INVALID)
            decisive = hostname_status_flag(r.hostname.status);
    } else {
        status = features_status_name(r.status);
        decisive = "";
        if (strncmp(want_status, "FEATURES_", 9) == 0 && r.error[0] == '\0') {
            diag("no error text for %s", status);
            good = false;
        }
    }
    if (strcmp(status, want_status) != 0) {
        diag("status %s (%s), want %s", status, r.error, want_status);
        good = false;
    }
    if (strcmp(xep0233_verdict_name(verdict), want_result) != 0) {
        diag("result %s, want %s", xep0233_verdict_name(verdict), want_result);
        good = false;
    }
    if (want_host != NULL ? strcmp(r.hostname.name, want_host) != 0 : verdict != XEP0233_INVALID) {
        diag("hostname '%s', want '%s'", r.hostname.name, want_host ? want_host : "(none)");
        good = false;
    }
    if (offered != NULL &&
        (!json_is_boolean(offered) || json_is_true(offered) != r.gssapi_offered)) {
        diag("gssapiOffered %d, want the opposite", r.gssapi_offered);
        good = false;
    }
    if (decisive == NULL || decisive[0] != '\0')
        good &= flags_match(json_object_get(t, "flags"), got, ngot, decisive);
    return good;
}

#define STREAM "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
#define MECHS "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>GSSAPI</mechanism>"
#define HOST "<hostname xmlns='urn:xmpp:domain-based-name:1'>auth42.us.example.com</hostname>"

static void test_edges(void)
{
    static const char with_nul[] = STREAM MECHS HOST "</mechanisms>\0</stream:features>";
    struct features_result r;
    char deep[2048], *big;
    size_t n = 0, len;

    is_int(features_parse(with_nul, sizeof(with_nul) - 1, &r), FEATURES_MALFORMED,
           "a NUL byte makes the document malformed");
    ok(strstr(r.error, "line 1") != NULL, "the error names the position: %s", r.error);

    n += (size_t)snprintf(deep, sizeof(deep), STREAM);
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<x>");
    is_int(features_parse(deep, n, &r), FEATURES_NOT_FEATURES, "nesting deeper than 32 is refused");
    ok(strstr(r.error, "nested too deeply") != NULL, "and says so: %s", r.error);

    /* A 100 kB <hostname/> is cut at 4 kB and judged too long without growing unbounded. */
    len = strlen(STREAM MECHS) + 100000 + strlen(HOST) + 40;
    big = malloc(len);
    if (big == NULL)
        bail("out of memory");
    n = (size_t)snprintf(big, len, STREAM MECHS "<hostname xmlns='urn:xmpp:domain-based-name:1'>");
    memset(big + n, 'a', 100000);
    n += 100000;
    n += (size_t)snprintf(big + n, len - n, "</hostname></mechanisms></stream:features>");
    is_int(features_parse(big, n, &r), FEATURES_OK, "a huge <hostname/> parses");
    is_int(r.hostname.status, HOSTNAME_TOO_LONG, "and is too long");
    free(big);

    features_parse(STREAM MECHS HOST HOST "</mechanisms></stream:features>",
                   strlen(STREAM MECHS HOST HOST "</mechanisms></stream:features>"), &r);
    is_int(r.hostnames, 2, "both <hostname/> elements are counted");
    ok(r.gssapi_offered, "GSSAPI is offered");
}

int main(void)
{
    plan_lazy();
    each_vector("xep0233-features.json", "features", run_vector);
    test_edges();
    done_testing();
}
