/* Tests of xmpp/xep0233: every vector of vectors/xep0233-principals.json, then the status
 * tables, explanations and the edges of hostname_check that vectors cannot express. */
#include "tests/tap.h"
#include "tests/xmpp/vectors.h"
#include "util/jsonload.h"
#include "xmpp/xep0233.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool run_vector(const json_t *group, const json_t *t)
{
    const char *type = json_string_value(json_object_get(group, "type"));
    struct principal_request req = {PRINCIPAL_GSS, NULL, NULL, NULL, PRINCIPAL_PORT_UNKNOWN};
    struct principal_result r;
    const json_t *expected = json_object_get(t, "expected");
    const char *want_result = json_string_value(json_object_get(t, "result"));
    const char *want_name = json_string_value(json_object_get(expected, "principal"));
    const char *want_status = json_string_value(json_object_get(expected, "status"));
    const char *got[2 * HOSTNAME_STATUS_COUNT + 2];
    const char *decisive = NULL;
    size_t ngot = 0;
    long long port;
    bool good = true;

    if (type == NULL || (strcmp(type, "gss") != 0 && strcmp(type, "sspi") != 0)) {
        diag("group type '%s' is neither gss nor sspi", type != NULL ? type : "(none)");
        return false;
    }
    req.form = strcmp(type, "sspi") == 0 ? PRINCIPAL_SSPI : PRINCIPAL_GSS;
    req.hostname = json_string_value(json_object_get(t, "hostname"));
    req.domain = json_string_value(json_object_get(t, "domain"));
    req.realm = json_string_value(json_object_get(t, "realm"));
    if (jsonload_integer(json_object_get(t, "port"), &port))
        req.port = (long)port;
    if (req.domain == NULL || want_result == NULL || want_status == NULL) {
        diag("vector lacks domain, result or expected.status");
        return false;
    }
    principal_build(&req, &r);
    if (strcmp(xep0233_verdict_name(r.verdict), want_result) != 0) {
        diag("result %s, want %s", xep0233_verdict_name(r.verdict), want_result);
        good = false;
    }
    if (strcmp(principal_status_name(r.status), want_status) != 0) {
        diag("status %s, want %s", principal_status_name(r.status), want_status);
        good = false;
    }
    if ((r.name == NULL) != (want_name == NULL) ||
        (r.name != NULL && strcmp(r.name, want_name) != 0)) {
        diag("principal '%s', want '%s'", r.name != NULL ? r.name : "(none)",
             want_name != NULL ? want_name : "(none)");
        good = false;
    }
    /* The two readings: strict uses only valid, lenient also acceptable. */
    if (xep0233_usable(r.verdict, XEP0233_STRICT) != (strcmp(want_result, "valid") == 0) ||
        xep0233_usable(r.verdict, XEP0233_LENIENT) != (strcmp(want_result, "invalid") != 0)) {
        diag("strict/lenient usability does not follow the result");
        good = false;
    }
    add_check_flags(&r.domain, got, &ngot);
    if (r.status != PRINCIPAL_BAD_DOMAIN && req.hostname != NULL)
        add_check_flags(&r.hostname, got, &ngot);
    if (r.status == PRINCIPAL_BAD_HOSTNAME)
        decisive = hostname_status_flag(r.hostname.status);
    else if (r.status == PRINCIPAL_BAD_DOMAIN)
        decisive = hostname_status_flag(r.domain.status);
    else if (r.status != PRINCIPAL_OK)
        got[ngot++] = principal_status_flag(r.status);
    if (r.verdict == XEP0233_INVALID && decisive == NULL)
        decisive = principal_status_flag(r.status);
    good &= flags_match(json_object_get(t, "flags"), got, ngot, decisive);
    principal_result_free(&r);
    return good;
}

static void test_tables(void)
{
    enum hostname_status parsed;
    bool complete = true, round_trip = true;

    for (int s = 0; s < HOSTNAME_STATUS_COUNT; s++) {
        enum hostname_status st = (enum hostname_status)s;

        complete &= strncmp(hostname_status_name(st), "HOSTNAME_", 9) == 0 &&
                    strcmp(hostname_status_flag(st), "?") != 0 &&
                    strlen(hostname_status_reason(st)) > 10 && strlen(hostname_status_cite(st)) > 4;
        round_trip &= hostname_status_parse(hostname_status_name(st), &parsed) && parsed == st &&
                      hostname_status_parse(hostname_status_flag(st), &parsed) && parsed == st;
    }
    ok(complete, "every hostname status has a name, flag, reason and citation");
    ok(round_trip, "names and flags parse back to their status");
    ok(!hostname_status_parse("NoSuchFlag", &parsed), "unknown flags do not parse");
    is_string(hostname_status_name(HOSTNAME_STATUS_COUNT), "HOSTNAME_?", "out-of-range status");
    is_int(hostname_verdict(HOSTNAME_OK), XEP0233_VALID, "OK is valid");
    is_int(hostname_verdict(HOSTNAME_TRAILING_DOT), XEP0233_ACCEPTABLE, "trailing dot");
    is_int(hostname_verdict(HOSTNAME_BEFORE_MECHANISM), XEP0233_ACCEPTABLE,
           "the last acceptable status");
    is_int(hostname_verdict(HOSTNAME_ABSENT), XEP0233_INVALID, "the first invalid status");
    ok(strstr(principal_status_reason(PRINCIPAL_PORT_KEPT), "SHOULD NOT") != NULL,
       "the SSPI port reason quotes the SHOULD NOT");
}

static void test_explain(void)
{
    struct principal_request req = {PRINCIPAL_GSS, "192.0.2.1", "example.com", NULL,
                                    PRINCIPAL_PORT_UNKNOWN};
    struct principal_result r;
    char buf[300];

    principal_build(&req, &r);
    principal_explain(&r, buf, sizeof(buf));
    is_string(buf,
              "hostname: IP address literal, not a host name (XEP-0233 §2 ('fully-qualified "
              "name'); RFC 1123 §2.1)",
              "an invalid hostname is explained with its citation");
    req.hostname = "auth42.example.com.";
    principal_build(&req, &r);
    principal_explain(&r, buf, sizeof(buf));
    ok(strncmp(buf, "hostname: absolute name with a trailing dot", 43) == 0,
       "an acceptable hostname is explained: %s", buf);
    principal_result_free(&r);
    req.hostname = "auth42.example.com";
    req.domain = "example.com/x";
    principal_build(&req, &r);
    principal_explain(&r, buf, sizeof(buf));
    ok(strncmp(buf, "domain: '/', '@' or '\\'", 22) == 0, "a bad domain is named: %s", buf);
    req.domain = "example.com";
    req.hostname = NULL;
    principal_build(&req, &r);
    principal_explain(&r, buf, sizeof(buf));
    ok(strstr(buf, "RFC 4752") != NULL, "no hostname points at the RFC 4752 fallback");
    req.hostname = " b\xc3\xbc"
                   "cher.Example.";
    principal_build(&req, &r);
    principal_explain(&r, buf, sizeof(buf));
    ok(strstr(buf, "whitespace") != NULL && strstr(buf, "; also TrailingDot, UpperCase, ULabel"),
       "every repair is named: %s", buf);
    principal_result_free(&r);
    req.hostname = NULL;
    principal_build(&req, &r);
    principal_explain(&r, buf, 8);
    is_int((long long)strlen(buf), 7, "explanations are truncated to the buffer");
}

static void test_check_edges(void)
{
    struct hostname_check c;
    char big[2000];
    char idn[600];
    size_t n = 0;

    hostname_check("auth42.example.comXXXX", 18, &c);
    is_string(c.name, "auth42.example.com", "only LEN bytes are judged");
    hostname_check("auth42\0.example.com", 19, &c);
    is_int(c.status, HOSTNAME_INVALID_CHAR, "a NUL byte is an invalid character");
    hostname_check("auth42.\xff.example", 16, &c);
    is_int(c.status, HOSTNAME_INVALID_CHAR, "bytes that are not UTF-8 are invalid");
    ok(c.detail != NULL && strcmp(c.detail, "not UTF-8") == 0, "with the detail 'not UTF-8'");
    memset(big, 'a', sizeof(big));
    hostname_check(big, sizeof(big), &c);
    is_int(c.status, HOSTNAME_TOO_LONG, "2000 octets are too long, no overflow");
    /* 50 two-octet U-labels: 300 octets of UTF-8, each 'xn--tda' (7) in A-label form. */
    for (int i = 0; i < 50; i++) {
        memcpy(idn + n, "\xc3\xbc.", 3);
        n += 3;
    }
    memcpy(idn + n, "example", 7);
    n += 7;
    hostname_check(idn, n, &c);
    is_int(c.status, HOSTNAME_TOO_LONG, "U-labels that grow past 253 octets as A-labels");
    hostname_check(idn + 3 * 20, n - 3 * 20, &c);
    is_int(c.status, HOSTNAME_U_LABEL, "30 of them fit (30 * 8 + 7 = 247 octets)");
    is_int((long long)strlen(c.name), 247, "the A-label form is 247 octets");
    ok(strncmp(c.name, "xn--tda.xn--tda.", 16) == 0, "and starts with the A-labels");
    hostname_check("Auth42.Example.com.", 19, &c);
    ok(c.findings == ((1u << HOSTNAME_TRAILING_DOT) | (1u << HOSTNAME_UPPER_CASE)),
       "every acceptable finding is kept");
    is_int(c.status, HOSTNAME_TRAILING_DOT, "the status is the first finding");
    is_int(hostname_check_verdict(&c), XEP0233_ACCEPTABLE, "the verdict is acceptable");
}

int main(void)
{
    plan_lazy();
    each_vector("xep0233-principals.json", "principal", run_vector);
    test_tables();
    test_explain();
    test_check_edges();
    done_testing();
}
