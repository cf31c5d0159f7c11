/*
 * The SASL GSSAPI mechanism (RFC 4752) for both roles, sans I/O: the caller hands in the
 * decoded payload of each SASL element it receives and sends the payload the engine hands
 * back. It never touches a socket or XML; the RFC 6120 framing (<auth/>, <challenge/>,
 * <response/>, <success/>, base64, "=") belongs to the stream layer and the roles. GSS-API is
 * reached only through the struct gssops of the config, so tests and fuzzers run it without
 * a KDC.
 *
 * Exchange with mutual authentication (RFC 4752 §3.1, §3.2; the usual Kerberos case):
 *   C  initial response = first context token (AP-REQ)
 *   S  challenge = AP-REP                      (accept_sec_context COMPLETE with a token)
 *   C  response = empty                        (init_sec_context COMPLETE, no token)
 *   S  challenge = wrap(conf 0, layers(1) max-size(3, big-endian))
 *   C  response = wrap(conf 0, layer(1) max-size(3) [authzid])
 *   S  success
 *
 * Layer messages (RFC 4752 §3.3): exactly 4 octets from the server; at least 4 from the
 * client (the authzid follows). Bits: 1 none, 2 integrity, 4 confidentiality. A max size
 * must be 0 when only "none" is offered (server) or chosen (client).
 *
 * Misbehaviour for robustness cases is switched on through struct sasl_faults in the config
 * and nowhere else; all-zero faults give the conformant exchange. The planted deviations of
 * the mutation run (struct xmpp_deviations, borrowed like the rest of the config) likewise.
 *
 * Ownership: the engine borrows its config (and the strings and names in it) for its
 * lifetime. Payloads handed out are newly allocated and freed by the caller with free().
 * The outcome and the error text are owned by the engine and valid until rfc4752_free.
 */
#ifndef XMPP_SASL_H
#define XMPP_SASL_H

#include "util/gssops.h"
#include "xmpp/deviations.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sasl_role {
    SASL_ROLE_CLIENT,
    SASL_ROLE_SERVER,
};

/* RFC 4752 §3.3 security layer bits. */
enum {
    SASL_LAYER_NONE = 0x01,
    SASL_LAYER_INTEGRITY = 0x02,
    SASL_LAYER_CONFIDENTIALITY = 0x04,
};

/* RFC 6120 §6.5 failure conditions (the only ones a server may send). */
enum sasl_condition {
    SASL_COND_NONE = 0,
    SASL_COND_ABORTED,
    SASL_COND_ACCOUNT_DISABLED,
    SASL_COND_CREDENTIALS_EXPIRED,
    SASL_COND_ENCRYPTION_REQUIRED,
    SASL_COND_INCORRECT_ENCODING,
    SASL_COND_INVALID_AUTHZID,
    SASL_COND_INVALID_MECHANISM,
    SASL_COND_MALFORMED_REQUEST,
    SASL_COND_MECHANISM_TOO_WEAK,
    SASL_COND_NOT_AUTHORIZED,
    SASL_COND_TEMPORARY_AUTH_FAILURE,
};

/* The element name of CONDITION ("not-authorized"); "" for SASL_COND_NONE. */
const char *rfc4752_condition_name(enum sasl_condition condition);
/* Parse an element name into *CONDITION; false when it is not one of RFC 6120 §6.5's. */
bool rfc4752_condition_parse(const char *name, enum sasl_condition *condition);

enum sasl_status {
    SASL_CONTINUE, /* *out is the next payload to send (challenge / response) */
    SASL_DONE,     /* client: *out is the final response, success is expected next;
                      server: the exchange is complete and valid, the outcome is filled, the
                      driver authorizes (authzid) and sends <success/> or <failure/> */
    SASL_FAILED,   /* rfc4752_error() says why (one line); server: rfc4752_condition() to send */
};

/* Switches that make the engine misbehave on purpose (robustness cases of the other side). */
struct sasl_faults {
    /* server */
    bool omit_ap_rep;             /* never send the challenge carrying the AP-REP */
    bool extra_empty_challenge;   /* an empty challenge before the layer message */
    bool layer_maxsize_with_none; /* offer only "none" with a non-zero max size
                                     (server_max_size, or 65536 when that is 0) */
    bool layer_no_bit;            /* offer no layer at all (bitmask 00) */
    size_t layer_msg_len;         /* 0: the correct 4 octets; else pad with 00 / cut to this */
    /* client */
    bool layer_byte_set; /* send layer_byte as the chosen layer, whatever was offered */
    uint8_t layer_byte;
    bool client_maxsize_with_none; /* choose "none" but send a non-zero max size
                                      (client_max_size, or 65536 when that is 0) */
};

struct sasl_config {
    enum sasl_role role;
    const struct gssops *gss; /* NULL: &gssops_mit */
    gss_cred_id_t cred;       /* GSS_C_NO_CREDENTIAL: the default (ccache / keytabs) */
    /* client */
    gss_name_t target;         /* the service name to authenticate to (imported by the
                                  caller, e.g. the XEP-0233 principal or xmpp@host) */
    uint8_t layers_acceptable; /* layers the client would use; 0 means SASL_LAYER_NONE.
                                  It selects the strongest offered one (confidentiality,
                                  integrity, none); with SASL_LAYER_CONFIDENTIALITY here the
                                  context is requested with conf_req_flag too */
    uint32_t client_max_size;  /* sent when a layer other than "none" is chosen */
    const char *authzid;       /* NULL: none (RFC 6120 §6.3.8: only to act for another) */
    /* server */
    uint8_t layers_offered;           /* 0 means SASL_LAYER_NONE only; confidentiality is left
                                         out when the context has no GSS_C_CONF_FLAG */
    uint32_t server_max_size;         /* sent when a layer other than "none" is offered */
    const struct sasl_faults *faults; /* NULL: conformant */
    /* the planted deviations of `gsspeer --deviate` (docs/mutation.md); NULL: conformant.
       Server: no_empty_challenge, layer_maxsize_with_none, accept_layer_no_bit,
       accept_maxsize_with_none */
    const struct xmpp_deviations *deviations;
};

/* What the exchange established, for the role's login event and the transcript. */
struct rfc4752_outcome {
    char *target;           /* the service principal the context is for (server: from
                               inquire_context, i.e. what the client's ticket named) */
    char *initiator;        /* the client principal ("alice@REALM") */
    OM_uint32 flags;        /* ret_flags of the established context */
    uint8_t layers_offered; /* as in the server's layer message */
    uint32_t server_max_size;
    uint8_t layer; /* the octet the client sent as its choice */
    uint32_t client_max_size;
    char *authzid; /* NULL when none was sent (NUL-terminated, authzid_len octets) */
    size_t authzid_len;
};

struct sasl;

/* Create an engine for CFG. Returns NULL on out of memory. */
struct sasl *rfc4752_new(const struct sasl_config *cfg);
void rfc4752_free(struct sasl *sasl);

/* Client: the initial response (first context token) into *OUT / *OUT_LEN. */
enum sasl_status rfc4752_client_start(struct sasl *sasl, unsigned char **out, size_t *out_len);

/*
 * Feed the decoded payload of one received element: a challenge (client) or the initial
 * response / a response (server). IN may be NULL when LEN is 0. On CONTINUE (and on the
 * client's DONE) *OUT / *OUT_LEN hold the payload to send (possibly zero octets, never NULL);
 * otherwise *OUT is NULL and *OUT_LEN 0.
 * Server: a first payload of zero octets (no initial response) is answered once with an empty
 * challenge (RFC 4422 §5); the client's first token then comes as a response.
 * After SASL_FAILED or either role's SASL_DONE every further call fails; after SASL_FAILED the
 * first failure's reason and condition stay.
 */
enum sasl_status rfc4752_step(struct sasl *sasl, const unsigned char *in, size_t len,
                              unsigned char **out, size_t *out_len);

/* The one-line reason of the last failure ("" when none). */
const char *rfc4752_error(const struct sasl *sasl);
/* Server: the RFC 6120 condition that goes with the failure (SASL_COND_NONE when none):
 *   not-authorized          a GSS call failed (accept_sec_context, inquire_context, wrap,
 *                           unwrap); the error text carries the GSS major/minor text
 *   malformed-request       a layer reply that breaks an RFC 4752 §3.3 rule, one wrapped with
 *                           confidentiality, or a non-empty response where an empty one was due
 *   invalid-authzid         the reply's authzid is not UTF-8 or holds a NUL
 *   mechanism-too-weak      the context lacks integrity (RFC 4752 §3.1), or the configured
 *                           layers need confidentiality the context lacks
 *   temporary-auth-failure  out of memory, or a context name that cannot be displayed
 *   aborted                 misuse: a call after the end, NULL with a length
 * Whether the authzid is authorized is the driver's decision, not the engine's. The client's
 * condition is informative only (a client sends none). */
enum sasl_condition rfc4752_condition(const struct sasl *sasl);
/* What was established so far (fields stay NULL/0 until known). */
const struct rfc4752_outcome *rfc4752_outcome(const struct sasl *sasl);

/* ---- RFC 4752 §3.3 layer messages, pure (vectors in vectors/sasl-layers.json) ---- */

enum sasl_layer_status {
    SASL_LAYER_OK = 0,
    SASL_LAYER_BAD_LENGTH,   /* server message not exactly 4 octets / client's under 4 */
    SASL_LAYER_NO_BIT,       /* no layer bit set */
    SASL_LAYER_SEVERAL_BITS, /* client: more than one bit chosen */
    SASL_LAYER_NOT_OFFERED,  /* client: chose a layer the server did not offer */
    SASL_LAYER_UNKNOWN_BITS, /* client: a bit other than 1, 2, 4; server: only such bits
                                (alongside a defined bit they are negotiated off: OK) */
    SASL_LAYER_MAXSIZE_NONE, /* non-zero max size with only "none" */
    SASL_LAYER_BAD_AUTHZID,  /* authzid not UTF-8 or contains NUL */
};

struct sasl_layer_msg {
    uint8_t layers;               /* bitmask (server) / the chosen bit (client) */
    uint32_t max_size;            /* 24 bits */
    const unsigned char *authzid; /* client only; borrowed from the input, NULL when absent */
    size_t authzid_len;
};

/* Judge the server's unwrapped layer message. OUT is filled as far as the message goes
 * (zeroes when it is shorter than 4 octets), also when the status is not OK. */
enum sasl_layer_status rfc4752_layers_parse_server(const unsigned char *msg, size_t len,
                                                   struct sasl_layer_msg *out);
/* Judge the client's unwrapped reply against the OFFERED bitmask; checks in the order of the
 * enum (length, no bit, unknown bits, several bits, not offered, max size, authzid). An
 * authzid is present when the reply is longer than 4 octets. */
enum sasl_layer_status rfc4752_layers_parse_client(const unsigned char *msg, size_t len,
                                                   uint8_t offered, struct sasl_layer_msg *out);
/* The enum name ("SASL_LAYER_BAD_LENGTH") and a one-line reason citing RFC 4752 §3.3. */
const char *rfc4752_layer_status_name(enum sasl_layer_status status);
const char *rfc4752_layer_status_reason(enum sasl_layer_status status);

#endif
