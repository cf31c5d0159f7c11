/*
 * The transcript of gsspeer xmpp-client (--transcript FILE): one JSON object per line and per
 * XML element sent or received, plus "local" lines for what is not an element (TLS up, the
 * end of the run). docs/peer.md ("xmpp-client", Transcript) describes every key:
 *
 *   {"time":"2026-12-07T15:19:17.306426Z","dir":"in","kind":"challenge","xml":"<challenge ...",
 *    "sasl":{"len":32,"token":"050405ff...","layer":{"plain":"01000000","layers":1,
 *    "max_size":0,"status":"SASL_LAYER_OK"}}}
 *
 * Every function does nothing when the transcript is not open.
 * Ownership: a transcript owns its FILE; the functions only read their other arguments.
 */
#ifndef TOOLS_XMPP_CLIENT_TRANSCRIPT_H
#define TOOLS_XMPP_CLIENT_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct xct {
    FILE *file; /* NULL: not open */
};

/* A layer message (RFC 4752 §3.3) found inside a wrap token, for a SASL line. */
struct xct_layer {
    const unsigned char *plain;
    size_t len;
    bool from_server; /* judged as the server's offer, else as our reply */
};

/* Open PATH for writing (truncating it). False with errno set on failure. */
bool xct_open(struct xct *t, const char *path);
/* Flush and close (safe when never opened). */
void xct_close(struct xct *t);

/* An element or stream header: DIR "in"/"out", KIND what it is, XML its text (NULL: not
 * known, e.g. a header libstrophe did not report). */
void xct_element(struct xct *t, const char *dir, const char *kind, const char *xml);

/* A SASL element with its decoded payload (LEN octets, PAYLOAD may be NULL when 0) and, when
 * LAYER is not NULL, the layer message inside it. */
void xct_sasl(struct xct *t, const char *dir, const char *kind, const char *xml,
              const unsigned char *payload, size_t len, const struct xct_layer *layer);

/* A local line: KIND ("tls", "close") and a one-line REASON. */
void xct_local(struct xct *t, const char *kind, const char *reason);

#endif
