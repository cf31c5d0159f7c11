/* XEP-0233 naming rules: see xep0233.h; the policies are argued in docs/xep0233.md. */
#include "xmpp/xep0233.h"

#include "util/builder.h"
#include "util/utf8.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(HOSTNAME_STATUS_COUNT <= 32, "findings is a 32-bit mask of statuses");

struct status_text {
    const char *name;
    const char *flag;
    const char *reason;
    const char *cite;
};

static const struct status_text hostname_texts[HOSTNAME_STATUS_COUNT] = {
    [HOSTNAME_OK] = {"HOSTNAME_OK", "Valid", "a fully-qualified host name", "XEP-0233 §2"},
    [HOSTNAME_WHITESPACE] = {"HOSTNAME_WHITESPACE", "SurroundingWhitespace",
                             "whitespace around the name (lenient: trimmed)",
                             "XEP-0233 §2 and §10 (xs:string keeps whitespace)"},
    [HOSTNAME_TRAILING_DOT] = {"HOSTNAME_TRAILING_DOT", "TrailingDot",
                               "absolute name with a trailing dot (lenient: dot removed)",
                               "RFC 1034 §3.1; RFC 7622 §3.2"},
    [HOSTNAME_UPPER_CASE] = {"HOSTNAME_UPPER_CASE", "UpperCase",
                             "upper-case letters; Kerberos compares names case-sensitively "
                             "(lenient: kept as provided)",
                             "XEP-0233 §3 ('as provided'); RFC 4343"},
    [HOSTNAME_U_LABEL] = {"HOSTNAME_U_LABEL", "ULabel",
                          "internationalized U-labels (lenient: converted to A-labels)",
                          "RFC 5890 §2.3.2; RFC 5891 §4"},
    [HOSTNAME_SINGLE_LABEL] = {"HOSTNAME_SINGLE_LABEL", "SingleLabel",
                               "a single label, not a fully-qualified name",
                               "XEP-0233 §2 ('fully-qualified name')"},
    [HOSTNAME_MISPLACED] = {"HOSTNAME_MISPLACED", "MisplacedInFeatures",
                            "<hostname/> is a direct child of <stream:features/>, not of "
                            "<mechanisms/> (lenient: used)",
                            "XEP-0233 §2; RFC 6120 §6.3.5 and A.4"},
    [HOSTNAME_REPEATED_SAME] = {"HOSTNAME_REPEATED_SAME", "RepeatedSame",
                                "<hostname/> appears more than once with the same name "
                                "(lenient: used)",
                                "XEP-0233 §2 ('this child element')"},
    [HOSTNAME_EXTRA_ATTR] = {"HOSTNAME_EXTRA_ATTR", "ExtraAttribute",
                             "attribute on <hostname/>, which the schema does not allow "
                             "(lenient: ignored)",
                             "XEP-0233 §10 (xs:string element)"},
    [HOSTNAME_BEFORE_MECHANISM] = {"HOSTNAME_BEFORE_MECHANISM", "BeforeMechanism",
                                   "<hostname/> precedes a <mechanism/> element; the schema "
                                   "puts other-namespace children last (lenient: used)",
                                   "RFC 6120 A.4 (xs:sequence)"},
    [HOSTNAME_ABSENT] = {"HOSTNAME_ABSENT", "Absent",
                         "no <hostname/> in the urn:xmpp:domain-based-name:1 namespace",
                         "XEP-0233 §2; RFC 4752 §3.1 (host-based fallback)"},
    [HOSTNAME_MISPLACED_DEEP] = {"HOSTNAME_MISPLACED_DEEP", "MisplacedDeep",
                                 "<hostname/> only nested inside another element",
                                 "XEP-0233 §2; RFC 6120 A.4"},
    [HOSTNAME_LEGACY_NS] = {"HOSTNAME_LEGACY_NS", "LegacyNamespace",
                            "<hostname/> only in a pre-1.0 namespace, whose principal rules "
                            "differ",
                            "XEP-0233 §9.2 (namespace versioning); revision history 0.2, 0.4"},
    [HOSTNAME_WRONG_NS] = {"HOSTNAME_WRONG_NS", "WrongNamespace",
                           "<hostname/> not in the urn:xmpp:domain-based-name:1 namespace",
                           "XEP-0233 §2; RFC 6120 A.4"},
    [HOSTNAME_REPEATED] = {"HOSTNAME_REPEATED", "RepeatedDifferent",
                           "<hostname/> appears more than once with different names",
                           "XEP-0233 §2 ('this child element')"},
    [HOSTNAME_CHILD_ELEMENT] = {"HOSTNAME_CHILD_ELEMENT", "ChildElement",
                                "markup inside <hostname/>", "XEP-0233 §10 (xs:string)"},
    [HOSTNAME_EMPTY] = {"HOSTNAME_EMPTY", "Empty", "no name in the character data", "XEP-0233 §2"},
    [HOSTNAME_EMPTY_LABEL] = {"HOSTNAME_EMPTY_LABEL", "EmptyLabel",
                              "empty label (leading dot, '..' or only '.')", "RFC 1035 §2.3.1"},
    [HOSTNAME_KRB5_META] = {"HOSTNAME_KRB5_META", "KerberosMetacharacter",
                            "'/', '@' or '\\' cannot appear in a host name and would need "
                            "escaping in a Kerberos name",
                            "RFC 1123 §2.1; RFC 1964 §2.1.1"},
    [HOSTNAME_INVALID_CHAR] = {"HOSTNAME_INVALID_CHAR", "InvalidCharacter",
                               "character not allowed in a host name", "RFC 1123 §2.1"},
    [HOSTNAME_HYPHEN] = {"HOSTNAME_HYPHEN", "HyphenAtLabelEdge", "label starts or ends with '-'",
                         "RFC 1123 §2.1; RFC 5891 §4.2.3.1"},
    [HOSTNAME_IP_LITERAL] = {"HOSTNAME_IP_LITERAL", "IpLiteral",
                             "IP address literal, not a host name",
                             "XEP-0233 §2 ('fully-qualified name'); RFC 1123 §2.1"},
    [HOSTNAME_NUMERIC_TLD] = {"HOSTNAME_NUMERIC_TLD", "NumericTld", "last label is all digits",
                              "RFC 3696 §2; RFC 1123 §2.1"},
    [HOSTNAME_TOO_LONG] = {"HOSTNAME_TOO_LONG", "TooLong", "longer than 253 octets",
                           "RFC 1035 §2.3.4; RFC 5890 §2.3.2.1"},
    [HOSTNAME_LABEL_TOO_LONG] = {"HOSTNAME_LABEL_TOO_LONG", "LabelTooLong",
                                 "a label longer than 63 octets", "RFC 1035 §2.3.4"},
    [HOSTNAME_BAD_A_LABEL] = {"HOSTNAME_BAD_A_LABEL", "InvalidALabel",
                              "'xn--' label that is not a valid A-label",
                              "RFC 5890 §2.3.2.1; RFC 5891 §5.4"},
    [HOSTNAME_BAD_U_LABEL] = {"HOSTNAME_BAD_U_LABEL", "InvalidULabel",
                              "non-ASCII label that is not a valid U-label",
                              "RFC 5890 §2.3.2.1; RFC 5892"},
};

enum xep0233_verdict hostname_verdict(enum hostname_status status)
{
    if (status == HOSTNAME_OK)
        return XEP0233_VALID;
    return status <= HOSTNAME_LAST_ACCEPTABLE ? XEP0233_ACCEPTABLE : XEP0233_INVALID;
}

enum xep0233_verdict hostname_check_verdict(const struct hostname_check *check)
{
    if (hostname_verdict(check->status) == XEP0233_INVALID)
        return XEP0233_INVALID;
    return check->findings != 0 ? XEP0233_ACCEPTABLE : XEP0233_VALID;
}

static const struct status_text *hostname_text(enum hostname_status status)
{
    static const struct status_text unknown = {"HOSTNAME_?", "?", "unknown status", "-"};

    return (unsigned)status < HOSTNAME_STATUS_COUNT ? &hostname_texts[status] : &unknown;
}

const char *hostname_status_name(enum hostname_status status)
{
    return hostname_text(status)->name;
}

const char *hostname_status_flag(enum hostname_status status)
{
    return hostname_text(status)->flag;
}

const char *hostname_status_reason(enum hostname_status status)
{
    return hostname_text(status)->reason;
}

const char *hostname_status_cite(enum hostname_status status)
{
    return hostname_text(status)->cite;
}

bool hostname_status_parse(const char *text, enum hostname_status *status)
{
    for (int s = 0; s < HOSTNAME_STATUS_COUNT; s++)
        if (strcmp(text, hostname_texts[s].name) == 0 ||
            strcmp(text, hostname_texts[s].flag) == 0) {
            *status = (enum hostname_status)s;
            return true;
        }
    return false;
}

bool xep0233_usable(enum xep0233_verdict verdict, enum xep0233_level level)
{
    return verdict == XEP0233_VALID || (verdict == XEP0233_ACCEPTABLE && level == XEP0233_LENIENT);
}

const char *xep0233_verdict_name(enum xep0233_verdict verdict)
{
    switch (verdict) {
    case XEP0233_VALID:
        return "valid";
    case XEP0233_ACCEPTABLE:
        return "acceptable";
    default:
        return "invalid";
    }
}

void hostname_check_note(struct hostname_check *check, enum hostname_status status)
{
    check->findings |= 1u << status;
    if (check->status == HOSTNAME_OK)
        check->status = status;
}

/* End the check with the invalid STATUS. */
static void reject(struct hostname_check *check, enum hostname_status status, const char *detail)
{
    check->status = status;
    check->detail = detail;
    check->name[0] = '\0';
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether the LEN bytes at S look like an IPv6 address (hex digits, ':' and a dotted tail). */
static bool looks_ipv6(const char *s, size_t len)
{
    size_t colons = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':')
            colons++;
        else if (!(is_digit(s[i]) || (lower(s[i]) >= 'a' && lower(s[i]) <= 'f') || s[i] == '.'))
            return false;
    }
    return colons >= 2;
}

/* Whether every label of the dotted name is all digits (an IPv4 literal in any of the forms
 * inet_aton accepts, like "192.0.2.1" or "3221225985"). */
static bool all_numeric(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]) && s[i] != '.')
            return false;
    return true;
}

/* Check one ASCII label (LEN > 0) of the repaired name. */
static enum hostname_status check_ascii_label(struct hostname_check *check, const char *label,
                                              size_t len, const char **detail)
{
    char lowered[HOSTNAME_LABEL_MAX + 1];
    char *decoded = NULL;
    int rc;

    for (size_t i = 0; i < len; i++) {
        if (!is_ldh(label[i]))
            return HOSTNAME_INVALID_CHAR;
        if (label[i] >= 'A' && label[i] <= 'Z')
            hostname_check_note(check, HOSTNAME_UPPER_CASE);
    }
    if (label[0] == '-' || label[len - 1] == '-')
        return HOSTNAME_HYPHEN;
    if (len > HOSTNAME_LABEL_MAX)
        return HOSTNAME_LABEL_TOO_LONG;
    if (len >= 4 && lower(label[0]) == 'x' && lower(label[1]) == 'n' && label[2] == '-' &&
        label[3] == '-') {
        /* An A-label must decode to a valid U-label (RFC 5891 §5.4); case is judged apart. */
        for (size_t i = 0; i < len; i++)
            lowered[i] = lower(label[i]);
        lowered[len] = '\0';
        rc = idn2_lookup_u8((const uint8_t *)lowered, (uint8_t **)&decoded, IDN2_NO_TR46);
        free(decoded);
        if (rc != IDN2_OK || len == 4) {
            *detail = rc != IDN2_OK ? idn2_strerror(rc) : "empty Punycode part";
            return HOSTNAME_BAD_A_LABEL;
        }
    }
    return HOSTNAME_OK;
}

void hostname_check(const char *text, size_t len, struct hostname_check *check)
{
    /* The lenient repairs build the name here first: U-labels may grow into A-labels. */
    char work[4 * HOSTNAME_MAX + 8];
    const char *s = text, *label, *detail = NULL;
    char *ascii = NULL;
    size_t n, wlen = 0, llen, i, orig_len = len;
    enum hostname_status st;
    bool has_dot = false;
    int rc;

    memset(check, 0, sizeof(*check));
    check->status = HOSTNAME_OK;
    if (len == 0) {
        reject(check, HOSTNAME_EMPTY, NULL);
        return;
    }
    while (len > 0 && is_xml_space(s[0]))
        s++, len--;
    while (len > 0 && is_xml_space(s[len - 1]))
        len--;
    if (len == 0) {
        reject(check, HOSTNAME_EMPTY, "only whitespace");
        return;
    }
    if (s != text || (size_t)(s - text) + len != orig_len)
        hostname_check_note(check, HOSTNAME_WHITESPACE);
    /* Literals first: their ':' or brackets would otherwise read as invalid characters. */
    if (s[0] == '[' || looks_ipv6(s, len) ||
        (all_numeric(s, len) && s[len - 1] != '.' && s[0] != '.')) {
        reject(check, HOSTNAME_IP_LITERAL, NULL);
        return;
    }
    for (i = 0; i < len; i += n) {
        n = utf8_sequence_length((const unsigned char *)s + i, len - i);
        if (n == 0) {
            reject(check, HOSTNAME_INVALID_CHAR, "not UTF-8");
            return;
        }
        if (s[i] == '/' || s[i] == '@' || s[i] == '\\') {
            reject(check, HOSTNAME_KRB5_META, NULL);
            return;
        }
        if (n == 1 && !is_ldh(s[i]) && s[i] != '.') {
            reject(check, HOSTNAME_INVALID_CHAR, NULL);
            return;
        }
    }
    if (len > sizeof(work) - 1) {
        reject(check, HOSTNAME_TOO_LONG, NULL);
        return;
    }
    if (s[len - 1] == '.') {
        len--;
        hostname_check_note(check, HOSTNAME_TRAILING_DOT);
        if (len == 0) {
            reject(check, HOSTNAME_EMPTY_LABEL, NULL);
            return;
        }
    }
    /* Label by label into WORK, converting U-labels to A-labels. */
    label = s;
    while (label <= s + len) {
        const char *end = memchr(label, '.', (size_t)(s + len - label));
        bool non_ascii = false;
        char one[4 * HOSTNAME_LABEL_MAX + 8];

        if (end == NULL)
            end = s + len;
        else
            has_dot = true;
        llen = (size_t)(end - label);
        if (llen == 0) {
            reject(check, HOSTNAME_EMPTY_LABEL, NULL);
            return;
        }
        for (i = 0; i < llen; i++)
            non_ascii |= (unsigned char)label[i] >= 0x80;
        if (non_ascii) {
            if (label[0] == '-' || label[llen - 1] == '-') {
                reject(check, HOSTNAME_HYPHEN, NULL);
                return;
            }
            if (llen >= sizeof(one)) {
                reject(check, HOSTNAME_LABEL_TOO_LONG, NULL);
                return;
            }
            memcpy(one, label, llen);
            one[llen] = '\0';
            rc = idn2_lookup_u8((const uint8_t *)one, (uint8_t **)&ascii, IDN2_NO_TR46);
            if (rc != IDN2_OK) {
                reject(check,
                       rc == IDN2_TOO_BIG_LABEL ? HOSTNAME_LABEL_TOO_LONG : HOSTNAME_BAD_U_LABEL,
                       idn2_strerror(rc));
                return;
            }
            hostname_check_note(check, HOSTNAME_U_LABEL);
            label = ascii;
            llen = strlen(ascii);
        }
        if (wlen + llen + 1 >= sizeof(work)) {
            free(ascii);
            reject(check, HOSTNAME_TOO_LONG, NULL);
            return;
        }
        memcpy(work + wlen, label, llen);
        free(ascii);
        ascii = NULL;
        st = check_ascii_label(check, work + wlen, llen, &detail);
        if (st != HOSTNAME_OK) {
            reject(check, st, detail);
            return;
        }
        wlen += llen;
        if (end == s + len)
            break;
        work[wlen++] = '.';
        label = end + 1;
        if (label == s + len) {
            reject(check, HOSTNAME_EMPTY_LABEL, NULL);
            return;
        }
    }
    work[wlen] = '\0';
    if (wlen > HOSTNAME_MAX) {
        reject(check, HOSTNAME_TOO_LONG, NULL);
        return;
    }
    /* The top-level label is never all digits (RFC 3696 §2). */
    label = strrchr(work, '.');
    label = label == NULL ? work : label + 1;
    if (all_numeric(label, strlen(label))) {
        reject(check, all_numeric(work, wlen) ? HOSTNAME_IP_LITERAL : HOSTNAME_NUMERIC_TLD, NULL);
        return;
    }
    if (!has_dot)
        hostname_check_note(check, HOSTNAME_SINGLE_LABEL);
    memcpy(check->name, work, wlen + 1);
}

/* ---- principals ---- */

static const struct status_text principal_texts[] = {
    [PRINCIPAL_OK] = {"PRINCIPAL_OK", "Valid", "principal built", "XEP-0233 §3, §4"},
    [PRINCIPAL_PORT_KEPT] = {"PRINCIPAL_PORT_KEPT", "SspiPort",
                             "SPN keeps a non-default port, which SHOULD NOT be used outside "
                             "SSPI-to-SSPI testing",
                             "XEP-0233 §4, §5"},
    [PRINCIPAL_NO_HOSTNAME] = {"PRINCIPAL_NO_HOSTNAME", "NoHostname",
                               "the GSS-API form needs the <hostname/> (fallback: RFC 4752 "
                               "host-based name)",
                               "XEP-0233 §3; RFC 4752 §3.1"},
    [PRINCIPAL_BAD_HOSTNAME] = {"PRINCIPAL_BAD_HOSTNAME", "BadHostname", "unusable hostname",
                                "XEP-0233 §3, §4"},
    [PRINCIPAL_BAD_DOMAIN] = {"PRINCIPAL_BAD_DOMAIN", "BadDomain", "unusable domain",
                              "XEP-0233 §3; RFC 6120 §4.7.2"},
    [PRINCIPAL_BAD_REALM] = {"PRINCIPAL_BAD_REALM", "BadRealm",
                             "realm empty, longer than 255 octets, or with whitespace, control "
                             "characters, '/', '@' or '\\'",
                             "XEP-0233 §3; RFC 4120 §6.1"},
    [PRINCIPAL_BAD_PORT] = {"PRINCIPAL_BAD_PORT", "BadPort", "port outside 1..65535",
                            "XEP-0233 §4"},
    [PRINCIPAL_NOMEM] = {"PRINCIPAL_NOMEM", "NoMemory", "out of memory", "-"},
};

static const struct status_text *principal_text(enum principal_status status)
{
    static const struct status_text unknown = {"PRINCIPAL_?", "?", "unknown status", "-"};

    return (unsigned)status < sizeof(principal_texts) / sizeof(principal_texts[0])
               ? &principal_texts[status]
               : &unknown;
}

const char *principal_status_name(enum principal_status status)
{
    return principal_text(status)->name;
}

const char *principal_status_reason(enum principal_status status)
{
    return principal_text(status)->reason;
}

const char *principal_status_flag(enum principal_status status)
{
    return principal_text(status)->flag;
}

/* A realm usable in a principal string without escapes: printable ASCII without '/', '@',
 * '\' or space (domain-style and "other" realms of RFC 4120 §6.1; X.500 style is refused). */
static bool realm_ok(const char *realm)
{
    if (realm[0] == '\0' || strlen(realm) > PRINCIPAL_REALM_MAX)
        return false;
    for (const char *p = realm; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '/' || *p == '@' ||
            *p == '\\')
            return false;
    return true;
}

void principal_build(const struct principal_request *req, struct principal_result *result)
{
    struct builder b;
    bool acceptable = false;
    size_t len;

    memset(result, 0, sizeof(*result));
    result->status = PRINCIPAL_OK;
    result->verdict = XEP0233_INVALID;
    result->hostname.status = HOSTNAME_ABSENT;
    builder_init(&b);

    hostname_check(req->domain, strlen(req->domain), &result->domain);
    if (hostname_check_verdict(&result->domain) == XEP0233_INVALID) {
        result->status = PRINCIPAL_BAD_DOMAIN;
        goto cleanup;
    }
    acceptable |= result->domain.findings != 0;
    if (req->hostname != NULL) {
        hostname_check(req->hostname, strlen(req->hostname), &result->hostname);
        if (hostname_check_verdict(&result->hostname) == XEP0233_INVALID) {
            result->status = PRINCIPAL_BAD_HOSTNAME;
            goto cleanup;
        }
        acceptable |= result->hostname.findings != 0;
    }

    builder_add_str(&b, XEP0233_SERVICE "/");
    if (req->form == PRINCIPAL_GSS) {
        /* spec: XEP-0233 §3 level: MUST -- "service/hostname/domain@REALM" (RFC 5179) */
        if (req->hostname == NULL) {
            result->status = PRINCIPAL_NO_HOSTNAME;
            goto cleanup;
        }
        if (req->realm != NULL && !realm_ok(req->realm)) {
            result->status = PRINCIPAL_BAD_REALM;
            goto cleanup;
        }
        builder_add_fmt(&b, "%s/%s@", result->hostname.name, result->domain.name);
        if (req->realm != NULL) {
            builder_add_str(&b, req->realm);
        } else {
            /* spec: XEP-0233 §3 level: SHOULD -- "usually the domain name, in an uppercase
             * mapping" */
            for (const char *p = result->domain.name; *p != '\0'; p++)
                builder_add_u8(&b, (uint8_t)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
        }
    } else {
        /* spec: XEP-0233 §4 level: MUST -- "service class/host:port/service name" */
        if (req->port != PRINCIPAL_PORT_UNKNOWN && (req->port < 1 || req->port > 65535)) {
            result->status = PRINCIPAL_BAD_PORT;
            goto cleanup;
        }
        if (req->hostname != NULL) {
            builder_add_str(&b, result->hostname.name);
            /* spec: XEP-0233 §4 level: SHOULD -- "should be omitted if the XMPP server uses
             * the default port of 5222" */
            if (req->port != PRINCIPAL_PORT_UNKNOWN && req->port != XEP0233_DEFAULT_PORT) {
                builder_add_fmt(&b, ":%ld", req->port);
                result->status = PRINCIPAL_PORT_KEPT;
                acceptable = true;
            }
            builder_add_u8(&b, '/');
        }
        /* No instance known: DsMakeSpn's "class/service-name" form. */
        builder_add_str(&b, result->domain.name);
    }
    builder_add_u8(&b, '\0');
    result->name = (char *)builder_detach(&b, &len);
    if (result->name == NULL) {
        result->status = PRINCIPAL_NOMEM;
        goto cleanup;
    }
    result->verdict = acceptable ? XEP0233_ACCEPTABLE : XEP0233_VALID;
cleanup:
    builder_free(&b);
}

void principal_result_free(struct principal_result *result)
{
    free(result->name);
    result->name = NULL;
}

char *hostname_explain(const struct hostname_check *check, const char *what, char *buf, size_t len)
{
    enum hostname_status st = check->status;
    size_t n;
    int w;

    w = snprintf(buf, len, "%s: %s%s%s (%s)", what, hostname_status_reason(st),
                 check->detail != NULL ? ": " : "", check->detail != NULL ? check->detail : "",
                 hostname_status_cite(st));
    /* The other findings by flag, so one line still names every repair. */
    for (int s = 1;
         s <= HOSTNAME_LAST_ACCEPTABLE && w >= 0 && hostname_verdict(st) != XEP0233_INVALID; s++) {
        n = (size_t)w;
        if (s == (int)st || !(check->findings & (1u << s)) || n >= len)
            continue;
        w += snprintf(buf + n, len - n, "%s%s", strstr(buf, "; also ") ? ", " : "; also ",
                      hostname_status_flag((enum hostname_status)s));
    }
    return buf;
}

char *principal_explain(const struct principal_result *result, char *buf, size_t len)
{
    const struct status_text *t = principal_text(result->status);

    switch (result->status) {
    case PRINCIPAL_BAD_HOSTNAME:
        return hostname_explain(&result->hostname, "hostname", buf, len);
    case PRINCIPAL_BAD_DOMAIN:
        return hostname_explain(&result->domain, "domain", buf, len);
    default:
        break;
    }
    if (result->status == PRINCIPAL_OK && result->verdict == XEP0233_ACCEPTABLE) {
        if (result->hostname.findings != 0)
            return hostname_explain(&result->hostname, "hostname", buf, len);
        return hostname_explain(&result->domain, "domain", buf, len);
    }
    snprintf(buf, len, "%s (%s)", t->reason, t->cite);
    return buf;
}
