/* The fault catalogue of gsspeer xmpp-client: see xmpp-client-faults.h. */
#include "tools/xmpp-client-faults.h"

#include "util/jsonout.h"

#include <string.h>

const struct xc_fault_spec xc_fault_catalogue[] = {
    {XC_FAULT_AUTH_BAD_BASE64, "auth-bad-base64",
     "<auth/> carries text that is not base64 (expected: failure incorrect-encoding)"},
    {XC_FAULT_UNKNOWN_MECHANISM, "unknown-mechanism",
     "<auth/> names mechanism X-GSSCONFORM-UNKNOWN (expected: failure invalid-mechanism)"},
    {XC_FAULT_ABORT, "abort",
     "send <abort/> instead of the response to the first challenge (expected: failure aborted)"},
    {XC_FAULT_SECOND_AUTH, "second-auth",
     "send a new <auth/> (a fresh context) instead of the response to the first challenge"},
    {XC_FAULT_LAYER_NO_BIT, "layer-no-bit",
     "choose no security layer: layer octet 00 (RFC 4752 §3.1: exactly one must be chosen)"},
    {XC_FAULT_LAYER_SEVERAL_BITS, "layer-several-bits",
     "choose all three layers at once: layer octet 07 (RFC 4752 §3.1)"},
    {XC_FAULT_MAXSIZE_WITH_NONE, "maxsize-with-none",
     "choose layer 'none' with a non-zero max size (RFC 4752 §3.1: must be 0)"},
    {XC_FAULT_FOREIGN_AUTHZID, "foreign-authzid",
     "send authzid mallory@DOMAIN, another user (expected: failure invalid-authzid)"},
    {XC_FAULT_EMPTY_RESPONSE_EQUALS, "empty-response-equals",
     "send the empty response after the AP-REP as <response>=</response> (RFC 6120 §6.4.2 "
     "reserves '=' for the initial response)"},
    {XC_FAULT_EMPTY_RESPONSE_ELEMENT, "empty-response-element",
     "send the empty response as the empty element <response/> (the conformant form, named "
     "so a case can state it)"},
    {XC_FAULT_SASL_BEFORE_TLS, "sasl-before-tls",
     "authenticate on the pre-TLS stream even when STARTTLS is offered (expected: failure "
     "encryption-required or a stream error when the server requires TLS)"},
    {XC_FAULT_NO_INTEGRITY, "no-integrity",
     "request neither integrity nor confidentiality from GSS-API (no INTEG/CONF flags, MIT "
     "NO_CI_FLAGS): the server cannot protect its layer message and must refuse"},
    {XC_FAULT_INITIAL_RESPONSE_EMPTY_EQUALS, "initial-response-empty-equals",
     "send an empty initial response '=' instead of the first token; on an empty challenge "
     "send the token as the response"},
    {XC_FAULT_NO_INITIAL_RESPONSE, "no-initial-response",
     "send <auth/> without initial response (valid, RFC 6120 §6.4.2); the token follows the "
     "server's empty challenge"},
    {XC_FAULT_AUTH_BASE64_WHITESPACE, "auth-base64-whitespace",
     "the initial response's base64 broken into lines of 76 characters by line feeds, MIME "
     "style (expected: failure incorrect-encoding)"},
    {XC_FAULT_RESPONSE_BASE64_UNPADDED, "response-base64-unpadded",
     "a response's base64 (the layer reply, AQAAAA==) without its '=' padding (expected: "
     "failure incorrect-encoding)"},
    {XC_FAULT_COUNT, NULL, NULL},
};

const struct xc_fault_spec *xc_fault_find(const char *name)
{
    for (const struct xc_fault_spec *f = xc_fault_catalogue; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

void xc_faults_list(FILE *out, bool json)
{
    for (const struct xc_fault_spec *f = xc_fault_catalogue; f->name != NULL; f++) {
        if (json) {
            fputs("{\"name\":", out);
            json_put_string(out, f->name);
            fputs(",\"roles\":\"client\",\"description\":", out);
            json_put_string(out, f->summary);
            fputs("}\n", out);
        } else {
            fprintf(out, "%-30s %s\n", f->name, f->summary);
        }
    }
}
