/*
 * The XML stream of RFC 6120 §4, sans-I/O, on expat with namespace processing: the driver
 * feeds the bytes it read (split anywhere) and takes events out: the stream header with its
 * attributes, each complete top-level element as a small tree with namespaces resolved, the
 * stream close, or one error with the RFC 6120 §4.9.3 stream error condition to send.
 *
 * Restricted XML (RFC 6120 §11.1, paraphrased: no comments, processing instructions, DTD
 * subsets or entity references other than the predefined ones) is enforced: a document type
 * declaration, an entity or notation declaration, a comment or a processing instruction stops
 * the parser with "restricted-xml" at once, before anything is declared or expanded; external
 * entities are never fetched. The input must be UTF-8 (checked on the bytes, across feeds;
 * "unsupported-encoding" otherwise, also for an XML declaration naming another encoding).
 * Limits on depth, on the size of one top-level element (or the header) and on the total of a
 * stream give "policy-violation".
 *
 * After an error every further feed is ignored and no further event comes. A restart
 * (after STARTTLS and after SASL success, RFC 6120 §5.4.3.3 and §6.4.6) drops the parser,
 * the queued events and any bytes not yet turned into an event, and starts a fresh stream.
 *
 * Ownership: the stream owns its parser and queue. xstream_next() hands an event to the
 * caller, who releases it with xstream_event_clear(). Nodes own their strings, attributes and
 * children; xml_node_free() releases a whole tree.
 */
#ifndef XMPP_STREAM_H
#define XMPP_STREAM_H

#include "util/builder.h"

#include <stdbool.h>
#include <stddef.h>

#define XMPP_CLIENT_NS "jabber:client"
#define XMPP_STREAMS_ERR_NS "urn:ietf:params:xml:ns:xmpp-streams"
#define XMPP_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"
#define XMPP_BIND_NS "urn:ietf:params:xml:ns:xmpp-bind"
#define XMPP_SESSION_NS "urn:ietf:params:xml:ns:xmpp-session"
#define XMPP_STANZAS_NS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XML_NS "http://www.w3.org/XML/1998/namespace"

struct xml_attr {
    char *ns;   /* namespace URI; "" for an unprefixed attribute */
    char *name; /* local name */
    char *value;
};

struct xml_node {
    char *ns;   /* namespace URI; "" when the element has none */
    char *name; /* local name */
    struct xml_attr *attrs;
    size_t attr_count;
    char *text; /* the character data directly inside, concatenated; never NULL */
    size_t text_len;
    struct xml_node **children;
    size_t child_count;
};

/* Release NODE and everything below it (NULL is ignored). */
void xml_node_free(struct xml_node *node);
/* The value of the attribute NAME in namespace NS ("" for none), or NULL. */
const char *xml_node_attr(const struct xml_node *node, const char *ns, const char *name);
/* The first child element NS/NAME, or NULL. */
const struct xml_node *xml_node_child(const struct xml_node *node, const char *ns,
                                      const char *name);
/* Whether NODE is the element NS/NAME. */
bool xml_node_is(const struct xml_node *node, const char *ns, const char *name);

enum xstream_event_type {
    XSTREAM_NONE = 0, /* no event queued */
    XSTREAM_HEADER,   /* <stream:stream ...>: node holds the attributes, no children */
    XSTREAM_ELEMENT,  /* a complete top-level element */
    XSTREAM_CLOSE,    /* </stream:stream> */
    XSTREAM_ERROR,    /* the stream is broken: condition and reason say how */
};

struct xstream_event {
    enum xstream_event_type type;
    struct xml_node *node; /* HEADER, ELEMENT: owned by the event */
    char *default_ns;      /* HEADER: the default namespace declared on it ("" if none) */
    char *raw;             /* HEADER, ELEMENT, CLOSE: the bytes as received, NUL-terminated */
    size_t raw_len;
    const char *condition; /* ERROR: RFC 6120 §4.9.3 element name ("not-well-formed") */
    char reason[240];      /* ERROR: one line, with the position ("line 1, column 9: ...") */
};

struct xstream_limits {
    size_t max_depth;   /* elements open at once, the stream element included */
    size_t max_element; /* bytes of one top-level element, of the header, or of text between */
    size_t max_total;   /* bytes of one stream (from its start or last restart) */
};

/* The defaults: depth 32, element 256 KiB, total 4 MiB. */
extern const struct xstream_limits xstream_default_limits;

struct xstream;

/* A new stream engine with LIMITS (NULL: the defaults; the struct is copied). NULL on out of
 * memory. */
struct xstream *xstream_new(const struct xstream_limits *limits);
void xstream_free(struct xstream *xs);

/* Feed LEN bytes. Returns false once the stream is in error (an ERROR event is then queued,
 * exactly once; markup after the close is such an error); true otherwise. */
bool xstream_feed(struct xstream *xs, const void *data, size_t len);

/* Take the next queued event into *EV (which the caller clears); false when none is queued
 * (EV->type is then XSTREAM_NONE). */
bool xstream_next(struct xstream *xs, struct xstream_event *ev);

/* Bytes fed that are not part of any event handed out or queued so far (a partial element,
 * or whitespace between elements): after <starttls/> or the last SASL element a well-behaved
 * client has sent nothing more. */
size_t xstream_pending(const struct xstream *xs);

/* Start a fresh stream (new parser, empty queue; bytes not yet in an event are dropped).
 * False on out of memory (the stream is then in error). */
bool xstream_restart(struct xstream *xs);

/* Release what EV owns and zero it. */
void xstream_event_clear(struct xstream_event *ev);

/* Append TEXT escaped for XML character data and attribute values ('&', '<', '>', '"', '\'')
 * to B (a sticky builder failure is the caller's to check). */
void xml_escape(struct builder *b, const char *text);

#endif
