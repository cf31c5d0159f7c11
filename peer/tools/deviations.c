/* The deviation table of gsspeer's ZMTP and XMPP roles: see deviations.h and docs/mutation.md. */
#include "tools/deviations.h"

#include "tools/contract.h"
#include "util/jsonout.h"

#include <stdio.h>
#include <string.h>

/* The XMPP rows' imitates: WHAT as recorded in docs/candidates-bundled.md. */
#define BUNDLED(what) what " (docs/candidates-bundled.md)"
#define DEV(field) offsetof(struct zmtp_deviations, field)
#define XDEV(field) offsetof(struct xmpp_deviations, field)
#define LIBZMQ "libzmq 4.3.4 (candidates/libzmq/profile.toml)"
#define PROSODY_CYRUS BUNDLED("Prosody 0.12.3 + Cyrus SASL 2.1.28")
#define PLAIN_PROSODY BUNDLED("Prosody 0.12.3 without mod_xep0233_hostname, ejabberd 23.01")
#define CYRUS_GSASL BUNDLED("Cyrus SASL 2.1.28, GNU SASL 2.2.0, Prosody 0.12.3")

const struct deviation_spec deviation_table[] = {
    /* greeting */
    {"as-server-zero", "zmtp", DEVIATION_ROLE_SERVER, DEV(as_server_zero),
     "the server's greeting says as-server 0 (octet 32) instead of 1",
     LIBZMQ ": 0 on every socket, roles from ZMQ_GSSAPI_SERVER"},
    {"mechanism-space-padded", "zmtp", DEVIATION_ROLE_BOTH, DEV(mechanism_space_padded),
     "the greeting's mechanism field is \"GSSAPI\" padded with spaces instead of NULs", ""},
    {"any-mechanism", "zmtp", DEVIATION_ROLE_BOTH, DEV(any_mechanism),
     "a peer greeting naming any mechanism (NULL, PLAIN, CURVE, gssapi) is taken", ""},
    /* handshake */
    {"no-mutual", "zmtp", DEVIATION_ROLE_CLIENT, DEV(no_mutual),
     "gss_init_sec_context without GSS_C_MUTUAL_FLAG: no AP-REP is asked for or awaited", ""},
    {"skip-empty-frame", "zmtp", DEVIATION_ROLE_CLIENT, DEV(skip_empty_frame),
     "the client never sends the empty command frame after its context completed", ""},
    {"ready-unwrapped", "zmtp", DEVIATION_ROLE_BOTH, DEV(ready_unwrapped),
     "our READY is a plain command although encryption is on", ""},
    {"accept-plain-ready", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_plain_ready),
     "a plain READY is taken while encryption is on (a PLAINTEXT mismatch goes unnoticed)", ""},
    {"swallow-error", "zmtp", DEVIATION_ROLE_BOTH, DEV(swallow_error),
     "an ERROR command during the handshake is skipped instead of ending the connection", ""},
    {"skip-unknown-commands", "zmtp", DEVIATION_ROLE_BOTH, DEV(skip_unknown_commands),
     "HELLO, WELCOME or an unknown command during the handshake is skipped, not refused", ""},
    {"initiate-lenient", "zmtp", DEVIATION_ROLE_BOTH, DEV(initiate_lenient),
     "an INITIATE is read up to its token length; octets after the token are ignored", ""},
    {"metadata-name-case", "zmtp", DEVIATION_ROLE_BOTH, DEV(metadata_name_case),
     "READY property names compared case-sensitively; a READY whose Socket-Type is spelt "
     "otherwise is taken unchecked",
     LIBZMQ},
    {"socket-type-unchecked", "zmtp", DEVIATION_ROLE_BOTH, DEV(socket_type_unchecked),
     "the peer's Socket-Type is never checked against ours (PUSH talks to a ROUTER)", ""},
    {"no-handshake-timeout", "zmtp", DEVIATION_ROLE_BOTH, DEV(no_handshake_timeout),
     "--handshake-timeout-ms is ignored: a stalled handshake holds the connection until "
     "--timeout-ms",
     ""},
    {"hang-on-error", "zmtp", DEVIATION_ROLE_BOTH, DEV(hang_on_error),
     "after a failure the connection stays open and silent (up to 3 s) instead of closing",
     LIBZMQ ": failed handshakes are never signalled before ZMQ_HANDSHAKE_IVL"},
    {"nametype-ignored", "zmtp", DEVIATION_ROLE_CLIENT, DEV(nametype_ignored),
     "--service-nametype is ignored: the service name is always imported as host-based", ""},
    {"any-service", "zmtp", DEVIATION_ROLE_SERVER, DEV(any_service),
     "--service-principal is ignored: a ticket for any key of the keytab is accepted", ""},
    {"ignore-allow", "zmtp", DEVIATION_ROLE_SERVER, DEV(ignore_allow),
     "--allow is ignored: every authenticated client is admitted",
     LIBZMQ ": a ZAP denial is ignored"},
    {"plaintext-ignored", "zmtp", DEVIATION_ROLE_BOTH, DEV(plaintext_ignored),
     "--plaintext is ignored: the session encrypts anyway", ""},
    /* data */
    {"integrity-only", "zmtp", DEVIATION_ROLE_BOTH, DEV(integrity_only),
     "gss_wrap with conf_req 0: READY and data with integrity only, no confidentiality", ""},
    {"accept-integrity-only", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_integrity_only),
     "a wrap token with conf_state 0 (integrity only) is delivered", ""},
    {"accept-unwrapped", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_unwrapped),
     "a plain message frame after READY is delivered although encryption is on", ""},
    {"ignore-bad-token", "zmtp", DEVIATION_ROLE_BOTH, DEV(ignore_bad_token),
     "a wrap token gss_unwrap refuses (a MIC failure) is dropped and the connection goes on", ""},
    {"accept-replay", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_replay),
     "a wrap token gss_unwrap flags as duplicate or old is delivered", ""},
    {"accept-reorder", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_reorder),
     "no sequence check: out-of-order wrap tokens are delivered",
     LIBZMQ ": no GSS_C_SEQUENCE_FLAG, so MIT krb5 delivers them"},
    {"wrap-more-missing", "zmtp", DEVIATION_ROLE_BOTH, DEV(more_outside_wrap),
     "the MORE bit is never set inside the wrap: a multipart message leaves as single parts", ""},
    {"drop-last-part", "zmtp", DEVIATION_ROLE_BOTH, DEV(drop_last_part),
     "the last part of a received multipart message is lost", ""},
    {"accept-trailing", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_trailing),
     "octets after the wrap token inside a MESSAGE are ignored", ""},
    {"accept-unknown-flags", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_unknown_flags),
     "unknown bits of the wrapped flags octet are ignored", LIBZMQ},
    {"accept-zero-length", "zmtp", DEVIATION_ROLE_BOTH, DEV(accept_zero_length),
     "a wrap of zero octets (no flags octet) is delivered as an empty message", ""},
    {"rrc-header-copy", "zmtp", DEVIATION_ROLE_BOTH, DEV(rrc_header_copy),
     "wrap tokens (rfc4121 path, forced) rotated by RRC 12 with that RRC in the encrypted "
     "header copy too, where RFC 4121 wants 0 (MIT's gss_unwrap does not compare it)",
     ""},
    {"no-pong", "zmtp", DEVIATION_ROLE_BOTH, DEV(no_pong), "a PING is never answered", ""},
    {"subscribe-no-byte", "zmtp", DEVIATION_ROLE_CLIENT, DEV(subscribe_no_byte),
     "a SUB's wrapped subscription is 00 topic: the subscribe octet is lost", LIBZMQ},
    {"no-frame-limit", "zmtp", DEVIATION_ROLE_BOTH, DEV(no_frame_limit),
     "--max-frame-size is ignored: a larger frame is taken and delivered", ""},
    /* XMPP (xmpp-server, xmpp-client): members of struct xmpp_deviations */
    /* xmpp-server */
    {"hostname-before-tls", "xmpp", DEVIATION_ROLE_SERVER, XDEV(hostname_before_tls),
     "the features before STARTTLS already carry <mechanisms/> with <hostname/>", ""},
    {"no-hostname", "xmpp", DEVIATION_ROLE_SERVER, XDEV(no_hostname),
     "no <hostname/> in the features at all", PLAIN_PROSODY},
    {"hostname-misplaced", "xmpp", DEVIATION_ROLE_SERVER, XDEV(hostname_misplaced),
     "<hostname/> as a direct child of <stream:features/>, not of <mechanisms/>", ""},
    {"sasl-before-tls", "xmpp", DEVIATION_ROLE_SERVER, XDEV(sasl_before_tls),
     "TLS required, yet <mechanisms/> is offered and an <auth/> served before STARTTLS", ""},
    {"hostbased-acceptor", "xmpp", DEVIATION_ROLE_SERVER, XDEV(hostbased_acceptor),
     "the acceptor takes only xmpp@<hostname>: the advertised XEP-0233 name is refused",
     CYRUS_GSASL ": acceptor credential for the host-based name"},
    {"lenient-base64", "xmpp", DEVIATION_ROLE_SERVER, XDEV(lenient_base64),
     "SASL payloads decoded leniently: characters outside the alphabet skipped, missing "
     "padding taken",
     BUNDLED("Prosody 0.12.3") ": util.encodings skips line feeds, takes unpadded text"},
    {"no-empty-challenge", "xmpp", DEVIATION_ROLE_SERVER, XDEV(no_empty_challenge),
     "<auth/> without initial response: no empty challenge; the empty input goes to "
     "gss_accept_sec_context, whose SPNEGO NegTokenInit goes out as the challenge",
     PROSODY_CYRUS ": the empty input reaches the acceptor"},
    {"layer-maxsize-with-none", "xmpp", DEVIATION_ROLE_SERVER, XDEV(layer_maxsize_with_none),
     "the layer message offers only \"none\" with max size 0xffffff (01 ffffff)",
     "GNU SASL 2.2.0 (docs/candidates-bundled.md)"},
    {"accept-layer-no-bit", "xmpp", DEVIATION_ROLE_SERVER, XDEV(accept_layer_no_bit),
     "a layer reply choosing no layer (octet 00) is taken", PROSODY_CYRUS},
    {"accept-maxsize-with-none", "xmpp", DEVIATION_ROLE_SERVER, XDEV(accept_maxsize_with_none),
     "a layer reply choosing \"none\" with a non-zero max size is taken", PROSODY_CYRUS},
    {"undefined-condition", "xmpp", DEVIATION_ROLE_SERVER, XDEV(undefined_condition),
     "every SASL <failure/> carries <undefined-condition/>, not an RFC 6120 §6.5 condition",
     PROSODY_CYRUS ": for the 07 layer reply"},
    {"admit-foreign-authzid", "xmpp", DEVIATION_ROLE_SERVER, XDEV(admit_foreign_authzid),
     "any authzid is authorized: alice may act as mallory", ""},
    {"refuse-empty-element", "xmpp", DEVIATION_ROLE_SERVER, XDEV(refuse_empty_element),
     "an empty <response/> is refused (malformed-request); only <response>=</response> is taken",
     ""},
    {"success-with-data", "xmpp", DEVIATION_ROLE_SERVER, XDEV(success_with_data),
     "<success/> carries data although GSSAPI has none to send", ""},
    {"no-stream-restart", "xmpp", DEVIATION_ROLE_SERVER, XDEV(no_stream_restart),
     "after <success/> the stream is not restarted: the client's new header is not answered",
     ""},
    /* xmpp-client */
    {"two-component-name", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(two_component_name),
     "the service name is xmpp/<domain>@REALM although the server advertised <hostname/>",
     BUNDLED("slixmpp 1.8.3, nbxmpp 4.2.2, GNU SASL 2.2.0, Cyrus SASL 2.1.28")},
    {"swapped-components", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(swapped_components),
     "the service name is xmpp/<domain>/<hostname>@REALM (the old drafts' order)", ""},
    {"realm-from-hostname", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(realm_from_hostname),
     "the realm is the <hostname/>'s parent domain upper-cased, not krb5.conf's [domain_realm]",
     ""},
    {"port-in-name", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(port_in_name),
     "the service name carries the port: xmpp/<hostname>:<port>/<domain>@REALM (SSPI's form)", ""},
    {"pre-tls-hostname", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(pre_tls_hostname),
     "the <hostname/> of the features before STARTTLS is used, not the one after TLS", ""},
    {"login-without-tls", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(login_without_tls),
     "with --tls required and no STARTTLS offered, the client logs in on the clear stream",
     BUNDLED("slixmpp 1.8.3") ": force_starttls stored, never read"},
    {"skip-starttls", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(skip_starttls),
     "when GSSAPI is offered before TLS, the client authenticates there and skips STARTTLS", ""},
    {"no-hostbased-fallback", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(no_hostbased_fallback),
     "without a usable <hostname/> the client gives up instead of asking for xmpp@<domain>", ""},
    {"hang-on-bad-base64", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(hang_on_bad_base64),
     "a <challenge/> that is not base64 is dropped: no abort, no close, the client waits",
     BUNDLED("slixmpp 1.8.3") ": binascii.Error in _handle_challenge"},
    {"layer-octet-zero", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(layer_octet_zero),
     "the layer reply's first octet is 00: no security layer chosen", BUNDLED("nbxmpp 4.2.2")},
    {"maxsize-echoed", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(maxsize_echoed),
     "a 'none'-only offer with a non-zero max size is taken and that max size echoed with 'none'",
     BUNDLED("slixmpp 1.8.3, GNU SASL 2.2.0")},
    {"answer-bad-layer", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(answer_bad_layer),
     "a malformed layer message (length, no bit, max size) is answered with 01 000000",
     BUNDLED("GNU SASL 2.2.0, nbxmpp 4.2.2") ": a fixed reply whatever the offer"},
    {"authzid-initiator", "xmpp", DEVIATION_ROLE_CLIENT, XDEV(authzid_initiator),
     "the layer reply always carries an authzid: the Kerberos initiator name (alice@REALM)",
     BUNDLED("nbxmpp 4.2.2")},
    {NULL, NULL, 0, 0, NULL, NULL},
};

const struct deviation_spec *deviation_find(const char *name)
{
    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

const char *deviation_roles_name(unsigned roles)
{
    return roles == DEVIATION_ROLE_BOTH     ? "both"
           : roles == DEVIATION_ROLE_CLIENT ? "client"
                                            : "server";
}

static void list_names(FILE *out, const char *protocol)
{
    fprintf(out, "gsspeer: known %s deviations:", protocol);
    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++)
        if (strcmp(d->protocol, protocol) == 0)
            fprintf(out, " %s", d->name);
    fputs(" (gsspeer deviations)\n", out);
}

int deviations_take_options(const char *protocol, void *dev, size_t dev_size, int *argc,
                            char **argv, bool server)
{
    int i = 1, kept = 1;

    memset(dev, 0, dev_size);
    while (i < *argc) {
        const char *value = NULL;
        const struct deviation_spec *d;

        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--deviate") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "gsspeer: --deviate needs a deviation name\n");
                list_names(stderr, protocol);
                return CONTRACT_EXIT_USAGE;
            }
            value = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--deviate=", 10) == 0) {
            value = argv[i] + 10;
            i++;
        } else {
            argv[kept++] = argv[i++];
            continue;
        }
        d = deviation_find(value);
        if (d == NULL || strcmp(d->protocol, protocol) != 0) {
            fprintf(stderr, "gsspeer: --deviate: %s \"%s\"\n",
                    d == NULL ? "unknown deviation" : "a deviation of the other protocol, not",
                    value);
            list_names(stderr, protocol);
            return CONTRACT_EXIT_USAGE;
        }
        if (!(d->roles & (server ? DEVIATION_ROLE_SERVER : DEVIATION_ROLE_CLIENT))) {
            fprintf(stderr, "gsspeer: --deviate %s: a %s deviation, not offered in the %s role\n",
                    value, deviation_roles_name(d->roles), server ? "server" : "client");
            return CONTRACT_EXIT_USAGE;
        }
        *(bool *)((char *)dev + d->member) = true;
    }
    while (i < *argc)
        argv[kept++] = argv[i++];
    *argc = kept;
    argv[kept] = NULL;
    return -1;
}

bool deviations_any(const char *protocol, const void *dev)
{
    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++)
        if (strcmp(d->protocol, protocol) == 0 && *(const bool *)((const char *)dev + d->member))
            return true;
    return false;
}

int cmd_deviations(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;

    if (argc > 1 && !json) {
        if (strcmp(argv[1], "--help") == 0) {
            puts("usage: gsspeer deviations [--json]\n\n"
                 "List the planted deviations of `gsspeer zmtp-server|zmtp-client|xmpp-server|"
                 "xmpp-client --deviate NAME`\n(docs/mutation.md): each makes gsspeer itself "
                 "non-conformant.");
            return CONTRACT_EXIT_OK;
        }
        fprintf(stderr, "gsspeer: deviations: unexpected argument \"%s\"\n", argv[1]);
        return CONTRACT_EXIT_USAGE;
    }
    if (argc > 2) {
        fprintf(stderr, "gsspeer: deviations: unexpected argument \"%s\"\n", argv[2]);
        return CONTRACT_EXIT_USAGE;
    }
    if (!json)
        printf("%-26s %-4s %-7s %s\n", "NAME", "PROT", "ROLES",
               "WHAT GSSPEER THEN DOES WRONG [IMITATES]");
    for (const struct deviation_spec *d = deviation_table; d->name != NULL; d++) {
        if (json) {
            fputs("{\"name\":", stdout);
            json_put_string(stdout, d->name);
            printf(",\"protocol\":\"%s\",\"roles\":\"%s\",\"description\":", d->protocol,
                   deviation_roles_name(d->roles));
            json_put_string(stdout, d->summary);
            fputs(",\"imitates\":", stdout);
            json_put_string(stdout, d->imitates);
            puts("}");
            continue;
        }
        printf("%-26s %-4s %-7s %s%s%s%s\n", d->name, d->protocol, deviation_roles_name(d->roles),
               d->summary,
               d->imitates[0] != '\0' ? " [" : "", d->imitates, d->imitates[0] != '\0' ? "]" : "");
    }
    return CONTRACT_EXIT_OK;
}
