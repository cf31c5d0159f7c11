/*
 * The fault catalogue of `gsspeer xmpp-server --fault NAME[:ARG]`: each fault makes the
 * reference XMPP server break one rule of XEP-0233 or of the SASL GSSAPI exchange (RFC 6120
 * §6, RFC 4752) on purpose, so a case can watch what the client under test does. Faults in
 * the SASL engine itself map to struct sasl_faults (xmpp/sasl.h); the others act where the
 * server writes its features and SASL elements. Every applied fault prints
 * {"event":"fault","name":...,"arg":...,"applied":true,"detail":...} on stdout.
 *
 * Ownership: the catalogue is static; a struct xmpp_fault_set is a plain value that borrows
 * the ARG strings of argv.
 */
#ifndef TOOLS_XMPP_FAULTS_H
#define TOOLS_XMPP_FAULTS_H

#include <stdbool.h>
#include <stdio.h>

enum xmpp_fault_id {
    XFAULT_HOSTNAME_ABSENT,
    XFAULT_HOSTNAME_LEGACY_NS,
    XFAULT_HOSTNAME_MISPLACED,
    XFAULT_HOSTNAME_REPEATED,
    XFAULT_HOSTNAME_EMPTY,
    XFAULT_HOSTNAME_BEFORE_TLS,
    XFAULT_NO_AP_REP,
    XFAULT_EXTRA_EMPTY_CHALLENGE,
    XFAULT_LAYER_MAXSIZE_WITH_NONE,
    XFAULT_LAYER_5_OCTETS,
    XFAULT_LAYER_NO_BIT,
    XFAULT_CHALLENGE_BAD_BASE64,
    XFAULT_FAILURE_MID_EXCHANGE,
    XFAULT_SUCCESS_WITH_DATA,
    XFAULT_COUNT
};

struct xmpp_fault_spec {
    enum xmpp_fault_id id;
    const char *name;
    const char *arg_syntax; /* "" when the fault takes no ARG */
    const char *summary;    /* one line */
};

/* The catalogue, in enum order, ended by an entry with a NULL name. */
extern const struct xmpp_fault_spec xmpp_fault_catalogue[];

/* The faults switched on for a run, and their ARGs (NULL when none was given). */
struct xmpp_fault_set {
    bool on[XFAULT_COUNT];
    const char *arg[XFAULT_COUNT];
};

/* Parse one NAME[:ARG] into SET. False with a one-line reason in ERR (size LEN) for an unknown
 * name or an ARG the fault does not take / a malformed one. */
bool xmpp_fault_parse(const char *text, struct xmpp_fault_set *set, char *err, size_t len);

/* Print the catalogue to OUT: a table, or with JSON one object per line (name, arg,
 * description). */
void xmpp_fault_list(FILE *out, bool json);

/* Whether any fault is on. */
bool xmpp_fault_any(const struct xmpp_fault_set *set);

#endif
