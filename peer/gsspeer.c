/*
 * gsspeer: the reference peer of gssconform. Dispatches to one subcommand per role or tool.
 */
#include "commands.h"
#include "tools/deviations.h"
#include "tools/faults.h"
#include "tools/rfc4121-cmd.h"
#include "tools/roles.h"
#include "tools/xep0233-cmd.h"
#include "tools/xmpp-client.h"
#include "tools/xmpp-server.h"

#include <stdio.h>
#include <string.h>

/* Exit statuses shared by every subcommand; `gsspeer --help` documents them. */
enum { EXIT_USAGE = 64 };

const struct command gsspeer_commands[] = {
    {"principal", "XEP-0233 Kerberos principal / SSPI SPN of an XMPP server", cmd_principal},
    {"features", "the usable XEP-0233 <hostname/> of a stream features document", cmd_features},
    {"zmtp-server", "ZMTP GSSAPI server: echo, PULL sink or PUB (libzmq-compatible)",
     cmd_zmtp_server},
    {"zmtp-client", "ZMTP GSSAPI client: DEALER/REQ round trips, PUSH, SUB", cmd_zmtp_client},
    {"xmpp-server", "XMPP server: STARTTLS, SASL GSSAPI with XEP-0233 <hostname/>, binding",
     cmd_xmpp_server},
    {"xmpp-client", "XMPP client: one SASL GSSAPI login (XEP-0233 name), bind, close",
     cmd_xmpp_client},
    {"faults", "the fault catalogue of zmtp-server/zmtp-client --fault", cmd_faults},
    {"deviations", "the planted bugs of zmtp-server/zmtp-client --deviate (mutation runs)",
     cmd_deviations},
    {"contract", "the ZMTP shim contract's options and exit statuses (--json)", cmd_contract},
    {"rfc4121", "the independent RFC 4121 wrap tokens against MIT: --check, --bench", cmd_rfc4121},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gsspeer COMMAND [OPTIONS]\n"
            "       gsspeer COMMAND --help\n"
            "       gsspeer --version\n"
            "\n"
            "The reference peer of gssconform (ZMTP GSSAPI and XMPP XEP-0233).\n"
            "\n"
            "Commands:\n");
    for (const struct command *c = gsspeer_commands; c->name != NULL; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out, "\n"
                 "Kerberos comes from the standard environment: KRB5_CONFIG, KRB5_KTNAME,\n"
                 "KRB5_CLIENT_KTNAME, KRB5CCNAME, KRB5_TRACE.\n"
                 "\n"
                 "Exit status: 0 success; 1 the protocol exchange failed (reason on stderr);\n"
                 "2 invalid input; 64 usage error. Each command's --help adds its own.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gsspeer %s\n", GSSCONFORM_VERSION);
        return 0;
    }
    for (const struct command *c = gsspeer_commands; c->name != NULL; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "gsspeer: unknown command '%s' (see gsspeer --help)\n", argv[1]);
    return EXIT_USAGE;
}
