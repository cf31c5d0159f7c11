/* The command line of gsspeer xmpp-client: see xmpp-client-options.h. */
#include "tools/xmpp-client-options.h"

#include "xmpp/xep0233.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_INVALID = 2, EXIT_USAGE = 64, DEFAULT_TIMEOUT_MS = 10000 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gsspeer xmpp-client --connect HOST:PORT --domain D --jid USER@D\n"
            "           [--tls required|optional|off] [--tls-ca FILE] [--authzid JID]\n"
            "           [--principal-form xep0233|hostbased|domain]\n"
            "           [--service-principal NAME] [--transcript FILE]\n"
            "           [--fault NAME]... [--deviate NAME]... [--timeout-ms MS]\n"
            "       gsspeer xmpp-client --list-faults [--json]\n"
            "\n"
            "Log in once to an XMPP server with SASL GSSAPI (RFC 6120, RFC 4752) over STARTTLS,\n"
            "bind a resource, close. The service name: xmpp/<hostname>/D@REALM (XEP-0233) when\n"
            "the server advertises a usable <hostname/>, else xmpp@D (host-based);\n"
            "--service-principal NAME: exactly this Kerberos principal name instead.\n"
            "--deviate NAME: behave like a non-conformant client (gsspeer deviations).\n"
            "Kerberos: KRB5_CONFIG, KRB5_CLIENT_KTNAME / KRB5CCNAME.\n"
            "\n"
            "Events (stdout): tls, features, principal, sasl, bound, done; with --fault also\n"
            "fault, stream-error, peer-closed, peer-open; error on failure.\n"
            "Exit status: 0 logged in and bound (with --fault: every fault applied and the\n"
            "server's reaction seen); 1 failure or timeout; 2 invalid input; 64 usage.\n");
}

static bool parse_connect(const char *text, struct xc_options *o)
{
    const char *colon = strrchr(text, ':');
    char *end;
    unsigned long port;
    static char host[256];

    if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof(host))
        return false;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port == 0 || port > 65535)
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = '\0';
    }
    o->host = host;
    o->port = (unsigned short)port;
    return true;
}

int xc_options_parse(int argc, char **argv, struct xc_options *o)
{
    static const struct option options[] = {
        {"connect", required_argument, NULL, 'c'},
        {"domain", required_argument, NULL, 'd'},
        {"jid", required_argument, NULL, 'j'},
        {"tls", required_argument, NULL, 't'},
        {"tls-ca", required_argument, NULL, 'a'},
        {"authzid", required_argument, NULL, 'z'},
        {"principal-form", required_argument, NULL, 'p'},
        {"service-principal", required_argument, NULL, 'S'},
        {"transcript", required_argument, NULL, 'T'},
        {"fault", required_argument, NULL, 'f'},
        {"timeout-ms", required_argument, NULL, 'm'},
        {"list-faults", no_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct xc_fault_spec *spec;
    bool list = false, json = false;
    const char *connect = NULL;
    char *end;
    int ch;

    o->tls = TLS_REQUIRED;
    o->form = FORM_XEP0233;
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (ch) {
        case 'c':
            connect = optarg;
            break;
        case 'd':
            o->domain = optarg;
            break;
        case 'j':
            o->jid = optarg;
            break;
        case 't':
            if (!tls_mode_from_name(optarg, &o->tls)) {
                fprintf(stderr,
                        "gsspeer: xmpp-client: --tls must be required, optional or "
                        "off, not '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'a':
            o->tls_ca = optarg;
            break;
        case 'z':
            o->authzid = optarg;
            break;
        case 'p':
            if (strcmp(optarg, "xep0233") == 0)
                o->form = FORM_XEP0233;
            else if (strcmp(optarg, "hostbased") == 0)
                o->form = FORM_HOSTBASED;
            else if (strcmp(optarg, "domain") == 0)
                o->form = FORM_DOMAIN;
            else {
                fprintf(stderr,
                        "gsspeer: xmpp-client: --principal-form must be xep0233, "
                        "hostbased or domain, not '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'S':
            if (optarg[0] == '\0' || strlen(optarg) >= 512) {
                fprintf(stderr,
                        "gsspeer: xmpp-client: --service-principal: '%s' is not a principal "
                        "name of 1-511 bytes\n",
                        optarg);
                return EXIT_INVALID;
            }
            o->service_principal = optarg;
            break;
        case 'T':
            o->transcript = optarg;
            break;
        case 'f':
            spec = xc_fault_find(optarg);
            if (spec == NULL) {
                fprintf(stderr, "gsspeer: xmpp-client: unknown fault '%s' (see --list-faults)\n",
                        optarg);
                return EXIT_USAGE;
            }
            if (!o->faults[spec->id])
                o->fault_count++;
            o->faults[spec->id] = true;
            break;
        case 'm':
            errno = 0;
            o->timeout_ms = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || o->timeout_ms < 1 ||
                o->timeout_ms > 3600000) {
                fprintf(stderr,
                        "gsspeer: xmpp-client: --timeout-ms: '%s' is not a number of "
                        "milliseconds in 1..3600000\n",
                        optarg);
                return EXIT_INVALID;
            }
            break;
        case 'l':
            list = true;
            break;
        case 'J':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            fprintf(stderr, "gsspeer: xmpp-client: unknown option or missing argument: %s\n",
                    argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (list) {
        xc_faults_list(stdout, json);
        return -1;
    }
    if (optind != argc || connect == NULL || o->domain == NULL || o->jid == NULL) {
        fprintf(stderr, "gsspeer: xmpp-client: %s\n",
                optind != argc ? "unexpected argument"
                               : "--connect, --domain and --jid are "
                                 "required");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!parse_connect(connect, o)) {
        fprintf(stderr, "gsspeer: xmpp-client: --connect: '%s' is not HOST:PORT (port 1-65535)\n",
                connect);
        return EXIT_INVALID;
    }
    return 0;
}

bool xc_options_check(const struct xc_options *o)
{
    struct hostname_check check;
    const char *at = strchr(o->jid, '@');
    char why[400];

    hostname_check(o->domain, strlen(o->domain), &check);
    if (hostname_check_verdict(&check) == XEP0233_INVALID) {
        hostname_explain(&check, "--domain", why, sizeof(why));
        fprintf(stderr, "gsspeer: xmpp-client: %s\n", why);
        return false;
    }
    if (at == NULL || at == o->jid || strcmp(at + 1, o->domain) != 0 ||
        strpbrk(o->jid, "/\"'<>&") != NULL) {
        fprintf(stderr, "gsspeer: xmpp-client: --jid '%s' is not a bare JID user@%s\n", o->jid,
                o->domain);
        return false;
    }
    if (o->tls_ca != NULL && access(o->tls_ca, R_OK) != 0) {
        fprintf(stderr, "gsspeer: xmpp-client: --tls-ca %s: %s\n", o->tls_ca, strerror(errno));
        return false;
    }
    if (o->authzid != NULL && strpbrk(o->authzid, "\"'<>&") != NULL) {
        fprintf(stderr, "gsspeer: xmpp-client: --authzid '%s' holds XML markup characters\n",
                o->authzid);
        return false;
    }
    return true;
}
