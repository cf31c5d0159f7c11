/*
 * XEP-0233 (1.0.0) naming rules, sans-I/O: judging the <hostname/> character data (and the
 * stream 'to' domain) as a host name, and building the Kerberos principal of an XMPP server
 * in the GSS-API form "xmpp/<hostname>/<domain>@<REALM>" (RFC 5179 order) and the SSPI SPN
 * form "xmpp/<host>[:<port>]/<domain>".
 *
 * Every finding is a status with a verdict, a one-line reason and the spec section it rests
 * on (all static strings). The verdict has three levels: VALID (the strict reading accepts
 * it), ACCEPTABLE (only the lenient reading uses it, after the repair the reason names) and
 * INVALID (unusable). docs/xep0233.md explains each policy choice where the XEP is silent.
 *
 * Ownership: results are plain structs the caller owns; the only heap memory is the principal
 * string of struct principal_result, freed with principal_result_free().
 */
#ifndef XMPP_XEP0233_H
#define XMPP_XEP0233_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The namespaces of the <hostname/> element, current and historical. */
#define XEP0233_NS "urn:xmpp:domain-based-name:1"
#define XEP0233_NS_V0 "urn:xmpp:domain-based-name:0"
#define XEP0233_NS_TMP "urn:xmpp:tmp:domain-based-name"
#define XEP0233_SERVICE "xmpp"
#define XEP0233_DEFAULT_PORT 5222

enum xep0233_verdict {
    XEP0233_VALID,      /* both readings accept it */
    XEP0233_ACCEPTABLE, /* only the lenient reading accepts it */
    XEP0233_INVALID,    /* neither reading can use it */
};

enum xep0233_level {
    XEP0233_STRICT,  /* only VALID is usable */
    XEP0233_LENIENT, /* VALID and ACCEPTABLE are usable */
};

/* What was found about a hostname (or domain). Statuses up to HOSTNAME_LAST_ACCEPTABLE are
 * acceptable findings that can occur together (see struct hostname_check's findings); the
 * rest are invalid and the first one found ends the check. */
enum hostname_status {
    HOSTNAME_OK = 0,
    /* acceptable (lenient reading only) */
    HOSTNAME_WHITESPACE,       /* surrounding XML whitespace, trimmed */
    HOSTNAME_TRAILING_DOT,     /* absolute form "host.example.", dot removed */
    HOSTNAME_UPPER_CASE,       /* upper-case ASCII letters, kept as provided */
    HOSTNAME_U_LABEL,          /* internationalized labels, converted to A-labels */
    HOSTNAME_SINGLE_LABEL,     /* no dot: not a fully-qualified name */
    HOSTNAME_MISPLACED,        /* element is a direct child of <stream:features/> */
    HOSTNAME_REPEATED_SAME,    /* several elements, all with the same name */
    HOSTNAME_EXTRA_ATTR,       /* attributes on the element (e.g. 0.1's mechanism='GSSAPI') */
    HOSTNAME_BEFORE_MECHANISM, /* <hostname/> before a <mechanism/> (RFC 6120 A.4 order) */
    HOSTNAME_LAST_ACCEPTABLE = HOSTNAME_BEFORE_MECHANISM,
    /* invalid */
    HOSTNAME_ABSENT,         /* no <hostname/> in the current namespace */
    HOSTNAME_MISPLACED_DEEP, /* only inside another child (e.g. a <mechanism/>) */
    HOSTNAME_LEGACY_NS,      /* only in the 0.1 or 0.2-0.3 namespace */
    HOSTNAME_WRONG_NS,       /* a <hostname/> in the SASL namespace or none */
    HOSTNAME_REPEATED,       /* several elements with different names */
    HOSTNAME_CHILD_ELEMENT,  /* markup inside <hostname/> (schema: xs:string) */
    HOSTNAME_EMPTY,          /* no character data (or only whitespace) */
    HOSTNAME_EMPTY_LABEL,    /* ".." or a leading dot, or only "." */
    HOSTNAME_KRB5_META,      /* '/', '@' or '\' (Kerberos name metacharacters) */
    HOSTNAME_INVALID_CHAR,   /* any other character outside letters, digits, '-', '.' */
    HOSTNAME_HYPHEN,         /* label starting or ending with '-' */
    HOSTNAME_IP_LITERAL,     /* IPv4 dotted quad, IPv6 or "[...]" literal */
    HOSTNAME_NUMERIC_TLD,    /* last label all digits */
    HOSTNAME_TOO_LONG,       /* more than 253 octets (in A-label form) */
    HOSTNAME_LABEL_TOO_LONG, /* a label of more than 63 octets */
    HOSTNAME_BAD_A_LABEL,    /* "xn--" label that is not a valid IDNA2008 A-label */
    HOSTNAME_BAD_U_LABEL,    /* non-ASCII label that is not a valid IDNA2008 U-label */
    HOSTNAME_STATUS_COUNT
};

enum { HOSTNAME_MAX = 253, HOSTNAME_LABEL_MAX = 63 };

struct hostname_check {
    enum hostname_status status; /* the invalid finding, else the first acceptable, else OK */
    uint32_t findings;           /* bit (1u << s) for every acceptable status s found */
    const char *detail;          /* static extra text (e.g. libidn2's message), or NULL */
    char name[HOSTNAME_MAX + 1]; /* the name to use (lenient repairs applied); "" if invalid */
};

/* The verdict of a status (acceptable statuses are ACCEPTABLE, OK is VALID). */
enum xep0233_verdict hostname_verdict(enum hostname_status status);
/* The verdict of a whole check: INVALID if its status is, else ACCEPTABLE if any finding. */
enum xep0233_verdict hostname_check_verdict(const struct hostname_check *check);
/* Static texts: the enum name ("HOSTNAME_TRAILING_DOT"), the vector flag ("TrailingDot"),
 * a one-line reason and the spec citation ("XEP-0233 §2; RFC 1123 §2.1"). */
const char *hostname_status_name(enum hostname_status status);
const char *hostname_status_flag(enum hostname_status status);
const char *hostname_status_reason(enum hostname_status status);
const char *hostname_status_cite(enum hostname_status status);
/* The status whose name or flag is TEXT; false when none is. */
bool hostname_status_parse(const char *text, enum hostname_status *status);

/* Judge LEN bytes of TEXT (the <hostname/> character data, or a stream 'to' domain) as a
 * fully-qualified host name. Fills *CHECK completely; never allocates. */
void hostname_check(const char *text, size_t len, struct hostname_check *check);

/* Add the acceptable finding STATUS to CHECK (raising its status if it was OK). */
void hostname_check_note(struct hostname_check *check, enum hostname_status status);

/* Whether a verdict is usable at LEVEL. */
bool xep0233_usable(enum xep0233_verdict verdict, enum xep0233_level level);
const char *xep0233_verdict_name(enum xep0233_verdict verdict); /* "valid", ... */

enum principal_form {
    PRINCIPAL_GSS,  /* xmpp/<hostname>/<domain>@<REALM> (XEP-0233 §3) */
    PRINCIPAL_SSPI, /* xmpp/<host>[:<port>]/<domain> (XEP-0233 §4) */
};

enum principal_status {
    PRINCIPAL_OK = 0,
    PRINCIPAL_PORT_KEPT,   /* acceptable: SSPI port kept, SHOULD NOT outside SSPI-SSPI (§5) */
    PRINCIPAL_NO_HOSTNAME, /* GSS-API form needs the <hostname/> (§3) */
    PRINCIPAL_BAD_HOSTNAME,
    PRINCIPAL_BAD_DOMAIN,
    PRINCIPAL_BAD_REALM,
    PRINCIPAL_BAD_PORT,
    PRINCIPAL_NOMEM,
};

enum {
    PRINCIPAL_PORT_UNKNOWN = -1,
    PRINCIPAL_REALM_MAX = 255, /* octets of an explicit realm (a domain-style realm is a DNS
                                  name); longer is PRINCIPAL_BAD_REALM */
};

struct principal_request {
    enum principal_form form;
    const char *hostname; /* the <hostname/> text; NULL when none is known */
    const char *domain;   /* the stream 'to' (canonical service name) */
    const char *realm;    /* GSS-API only: explicit realm; NULL: the upper-cased domain */
    long port;            /* SSPI only: the server's port; PRINCIPAL_PORT_UNKNOWN if not known */
};

struct principal_result {
    enum principal_status status;
    enum xep0233_verdict verdict; /* of the whole result, inputs included */
    struct hostname_check hostname;
    struct hostname_check domain;
    char *name; /* the principal or SPN when verdict is not INVALID; caller frees (result_free) */
};

/* Build the principal for REQ into *RESULT (filled completely; RESULT->name is NULL unless
 * the verdict is VALID or ACCEPTABLE). Acceptable inputs are repaired as the lenient reading
 * says; the caller decides with xep0233_usable() whether to use an ACCEPTABLE result. */
void principal_build(const struct principal_request *req, struct principal_result *result);
/* Free RESULT->name and set it to NULL. */
void principal_result_free(struct principal_result *result);

/* Static texts for a principal status. */
const char *principal_status_name(enum principal_status status);
const char *principal_status_reason(enum principal_status status);
/* The vector flag of STATUS ("SspiPort"); PRINCIPAL_BAD_HOSTNAME/DOMAIN defer to the
 * hostname flags. */
const char *principal_status_flag(enum principal_status status);

/* A one-line explanation of RESULT into BUF (size LEN, always NUL-terminated), e.g.
 * "hostname: IP literal, not a host name (XEP-0233 §2 ...)". Returns BUF. */
char *principal_explain(const struct principal_result *result, char *buf, size_t len);
/* The same for a hostname check; WHAT names the input ("hostname", "domain"). A usable check
 * lists its other findings by flag: "...; also TrailingDot, ULabel". */
char *hostname_explain(const struct hostname_check *check, const char *what, char *buf, size_t len);

#endif
