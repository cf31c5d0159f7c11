/* The fault catalogue of gsspeer xmpp-server: see xmpp-faults.h and docs/peer.md. */
#include "tools/xmpp-faults.h"

#include "zmtp/transcript.h" /* json_put_string */

#include <string.h>

const struct xmpp_fault_spec xmpp_fault_catalogue[] = {
    {XFAULT_HOSTNAME_ABSENT, "hostname-absent", "",
     "no <hostname/> in the SASL <mechanisms/> (XEP-0233 not offered)"},
    {XFAULT_HOSTNAME_LEGACY_NS, "hostname-legacy-ns", "[0|tmp]",
     "<hostname/> in urn:xmpp:domain-based-name:0 (default) or urn:xmpp:tmp:domain-based-name "
     "instead of :1"},
    {XFAULT_HOSTNAME_MISPLACED, "hostname-misplaced", "",
     "<hostname/> as a direct child of <stream:features/>, not of <mechanisms/>"},
    {XFAULT_HOSTNAME_REPEATED, "hostname-repeated", "[HOST]",
     "two <hostname/> elements in <mechanisms/>: --hostname, then HOST (default: the same)"},
    {XFAULT_HOSTNAME_EMPTY, "hostname-empty", "", "an empty <hostname/> element"},
    {XFAULT_HOSTNAME_BEFORE_TLS, "hostname-before-tls", "[HOST]",
     "before STARTTLS, features also carry <mechanisms/> with <hostname>HOST</hostname> "
     "(default --hostname); a client must use only the one sent after TLS"},
    {XFAULT_NO_AP_REP, "no-ap-rep", "",
     "never send the challenge carrying the AP-REP: the layer message comes at once"},
    {XFAULT_EXTRA_EMPTY_CHALLENGE, "extra-empty-challenge", "",
     "an extra empty <challenge/> before the layer message"},
    {XFAULT_LAYER_MAXSIZE_WITH_NONE, "layer-maxsize-with-none", "",
     "layer message offers only 'none' with a non-zero max size (RFC 4752 §3.3: must be 0)"},
    {XFAULT_LAYER_5_OCTETS, "layer-5-octets", "",
     "layer message of 5 octets instead of 4 (a 00 appended before wrapping)"},
    {XFAULT_LAYER_NO_BIT, "layer-no-bit", "", "layer message offers no layer (bitmask 00)"},
    {XFAULT_CHALLENGE_BAD_BASE64, "challenge-bad-base64", "",
     "the first non-empty <challenge/> has '!' (outside the base64 alphabet) at offset 1"},
    {XFAULT_FAILURE_MID_EXCHANGE, "failure-mid-exchange", "",
     "answer the client's first <response/> with <failure><not-authorized/></failure>"},
    {XFAULT_SUCCESS_WITH_DATA, "success-with-data", "",
     "<success/> carries additional data (base64 of \"gssconform\"), which GSSAPI never has"},
    {XFAULT_COUNT, NULL, NULL, NULL},
};

bool xmpp_fault_any(const struct xmpp_fault_set *set)
{
    for (int i = 0; i < XFAULT_COUNT; i++)
        if (set->on[i])
            return true;
    return false;
}

bool xmpp_fault_parse(const char *text, struct xmpp_fault_set *set, char *err, size_t len)
{
    const char *colon = strchr(text, ':');
    size_t name_len = colon != NULL ? (size_t)(colon - text) : strlen(text);
    const char *arg = colon != NULL ? colon + 1 : NULL;

    for (const struct xmpp_fault_spec *f = xmpp_fault_catalogue; f->name != NULL; f++) {
        if (strlen(f->name) != name_len || strncmp(f->name, text, name_len) != 0)
            continue;
        if (arg != NULL && f->arg_syntax[0] == '\0') {
            snprintf(err, len, "fault %s takes no argument", f->name);
            return false;
        }
        if (arg != NULL && arg[0] == '\0') {
            snprintf(err, len, "fault %s: empty argument", f->name);
            return false;
        }
        if (f->id == XFAULT_HOSTNAME_LEGACY_NS && arg != NULL && strcmp(arg, "0") != 0 &&
            strcmp(arg, "tmp") != 0) {
            snprintf(err, len, "fault %s: argument must be 0 or tmp, not \"%s\"", f->name, arg);
            return false;
        }
        if (arg != NULL && strlen(arg) > 253) {
            snprintf(err, len, "fault %s: argument longer than 253 octets", f->name);
            return false;
        }
        set->on[f->id] = true;
        set->arg[f->id] = arg;
        return true;
    }
    snprintf(err, len, "unknown fault \"%.*s\" (see gsspeer xmpp-server --list-faults)",
             (int)(name_len > 60 ? 60 : name_len), text);
    return false;
}

void xmpp_fault_list(FILE *out, bool json)
{
    if (!json)
        fprintf(out, "%-32s %s\n", "NAME[:ARG]", "DESCRIPTION");
    for (const struct xmpp_fault_spec *f = xmpp_fault_catalogue; f->name != NULL; f++) {
        char name[80];

        if (json) {
            fputs("{\"name\":", out);
            json_put_string(out, f->name);
            fputs(",\"arg\":", out);
            json_put_string(out, f->arg_syntax);
            fputs(",\"roles\":\"xmpp-server\",\"description\":", out);
            json_put_string(out, f->summary);
            fputs("}\n", out);
            continue;
        }
        snprintf(name, sizeof(name), "%s%s%s", f->name, f->arg_syntax[0] != '\0' ? ":" : "",
                 f->arg_syntax);
        fprintf(out, "%-32s %s\n", name, f->summary);
    }
}
