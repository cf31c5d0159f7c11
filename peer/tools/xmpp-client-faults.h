/*
 * The fault catalogue of `gsspeer xmpp-client --fault NAME`: each fault makes the reference
 * client break (or stretch) one rule of RFC 6120 §6 (SASL negotiation) or RFC 4752 (the
 * GSSAPI mechanism) on purpose, so a case can watch what the XMPP server under test does.
 * Faults that change what the SASL GSSAPI engine produces map to struct sasl_faults
 * (xmpp/sasl.h); the others act on the elements the client role sends.
 *
 * Ownership: static data only.
 */
#ifndef TOOLS_XMPP_CLIENT_FAULTS_H
#define TOOLS_XMPP_CLIENT_FAULTS_H

#include <stdbool.h>
#include <stdio.h>

enum xc_fault {
    XC_FAULT_AUTH_BAD_BASE64,
    XC_FAULT_UNKNOWN_MECHANISM,
    XC_FAULT_ABORT,
    XC_FAULT_SECOND_AUTH,
    XC_FAULT_LAYER_NO_BIT,
    XC_FAULT_LAYER_SEVERAL_BITS,
    XC_FAULT_MAXSIZE_WITH_NONE,
    XC_FAULT_FOREIGN_AUTHZID,
    XC_FAULT_EMPTY_RESPONSE_EQUALS,
    XC_FAULT_EMPTY_RESPONSE_ELEMENT,
    XC_FAULT_SASL_BEFORE_TLS,
    XC_FAULT_NO_INTEGRITY,
    XC_FAULT_INITIAL_RESPONSE_EMPTY_EQUALS,
    XC_FAULT_NO_INITIAL_RESPONSE,
    XC_FAULT_AUTH_BASE64_WHITESPACE,
    XC_FAULT_RESPONSE_BASE64_UNPADDED,
    XC_FAULT_COUNT
};

struct xc_fault_spec {
    enum xc_fault id;
    const char *name;
    const char *summary; /* one line: what the client does */
};

/* The catalogue, in enum order, terminated by an entry with a NULL name. */
extern const struct xc_fault_spec xc_fault_catalogue[];

/* The entry named NAME, or NULL. */
const struct xc_fault_spec *xc_fault_find(const char *name);

/* Print the catalogue to OUT: a table, or (JSON) one object per line with name and
 * description. */
void xc_faults_list(FILE *out, bool json);

#endif
