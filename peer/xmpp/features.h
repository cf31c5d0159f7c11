/*
 * Stream features, sans-I/O: find and judge the XEP-0233 <hostname/> in a <stream:features/>
 * element (RFC 6120 §4.3.2) with expat's namespace processing.
 *
 * The input is one XML document whose root is <stream:features/>, or a <stream:stream> header
 * followed by <stream:features/> (the stream itself may stay open). The <hostname/> belongs
 * inside <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> (XEP-0233 §2, RFC 6120 A.4);
 * placement, namespace, repetition and attributes are judged here, the character data by
 * hostname_check() (xmpp/xep0233.h), and both end up in one struct hostname_check.
 *
 * Ownership: the caller owns the result struct; nothing is allocated past the call.
 */
#ifndef XMPP_FEATURES_H
#define XMPP_FEATURES_H

#include "xmpp/xep0233.h"

#include <stdbool.h>
#include <stddef.h>

#define STREAMS_NS "http://etherx.jabber.org/streams"
#define SASL_NS "urn:ietf:params:xml:ns:xmpp-sasl"

enum features_status {
    FEATURES_OK = 0,       /* parsed; see hostname for the verdict */
    FEATURES_MALFORMED,    /* not well-formed XML, or XML that XMPP forbids (DTD, PI) */
    FEATURES_NOT_FEATURES, /* well-formed, but no <stream:features/> at the top */
    FEATURES_NOMEM,
};

struct features_result {
    enum features_status status;
    char error[200];     /* MALFORMED/NOT_FEATURES: "line 1, column 7: mismatched tag" */
    bool gssapi_offered; /* <mechanism>GSSAPI</mechanism> is listed */
    unsigned hostnames;  /* <hostname/> elements seen in the current namespace, any place */
    struct hostname_check hostname; /* HOSTNAME_ABSENT, a placement status, or the text's */
};

/* The largest document features_parse reads (a features element is a few hundred bytes). */
enum { FEATURES_MAX_SIZE = 1024 * 1024 };

/* Parse LEN bytes of XML into *RESULT (filled completely) and return RESULT->status. The
 * document must be UTF-8 (RFC 6120 §11.6): a byte order mark of UTF-16, bytes that are not
 * UTF-8, or a declared encoding other than UTF-8 are FEATURES_MALFORMED, and so is a document
 * longer than FEATURES_MAX_SIZE. */
enum features_status features_parse(const char *xml, size_t len, struct features_result *result);

/* The enum name of STATUS ("FEATURES_MALFORMED"). */
const char *features_status_name(enum features_status status);

#endif
