/* gsspeer principal / gsspeer features: see xep0233-cmd.h. */
#include "tools/xep0233-cmd.h"

#include "util/builder.h"
#include "xmpp/features.h"
#include "xmpp/realm.h"
#include "xmpp/xep0233.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_NONE_USABLE = 1, EXIT_INVALID = 2, EXIT_USAGE = 64 };

static void principal_usage(FILE *out)
{
    fprintf(out,
            "usage: gsspeer principal --hostname H --domain D [--realm R] [--form gss|sspi]\n"
            "                         [--port N] [--strict]\n"
            "\n"
            "Print the XEP-0233 name of an XMPP server: GSS-API 'xmpp/H/D@REALM' (RFC 5179\n"
            "order) or the SSPI SPN 'xmpp/H[:N]/D' (port omitted for 5222 or when not given;\n"
            "without --hostname: 'xmpp/D').\n"
            "REALM: --realm, else the [domain_realm] mapping of D in the krb5.conf named by\n"
            "KRB5_CONFIG, else D upper-cased.\n"
            "--strict refuses input that only the lenient reading accepts (trailing dot,\n"
            "whitespace, upper case, U-labels, single label, SSPI port); without it such input\n"
            "is repaired and a note goes to stderr.\n"
            "\n"
            "Exit status: 0 printed; 2 invalid input (one line on stderr); 64 usage error.\n");
}

int cmd_principal(int argc, char **argv)
{
    static const struct option options[] = {
        {"hostname", required_argument, NULL, 'H'}, {"domain", required_argument, NULL, 'd'},
        {"realm", required_argument, NULL, 'r'},    {"form", required_argument, NULL, 'f'},
        {"port", required_argument, NULL, 'p'},     {"strict", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct principal_request req = {PRINCIPAL_GSS, NULL, NULL, NULL, PRINCIPAL_PORT_UNKNOWN};
    struct principal_result result = {0};
    enum xep0233_level level = XEP0233_LENIENT;
    char *mapped = NULL, *end, why[400];
    const char *port_text = NULL;
    int c, status = EXIT_INVALID;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'H':
            req.hostname = optarg;
            break;
        case 'd':
            req.domain = optarg;
            break;
        case 'r':
            req.realm = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "gss") == 0) {
                req.form = PRINCIPAL_GSS;
            } else if (strcmp(optarg, "sspi") == 0) {
                req.form = PRINCIPAL_SSPI;
            } else {
                fprintf(stderr, "gsspeer principal: --form must be gss or sspi, not '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'p':
            port_text = optarg;
            break;
        case 's':
            level = XEP0233_STRICT;
            break;
        case 'h':
            principal_usage(stdout);
            return 0;
        default:
            principal_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || req.domain == NULL) {
        fprintf(stderr, "gsspeer principal: %s\n",
                optind != argc ? "unexpected argument" : "--domain is required");
        principal_usage(stderr);
        return EXIT_USAGE;
    }
    if (port_text != NULL) {
        errno = 0;
        req.port = strtol(port_text, &end, 10);
        /* A number out of range is judged by principal_build, like any other input. */
        if (errno != 0 || end == port_text || *end != '\0' || req.port < 0) {
            fprintf(stderr, "gsspeer principal: port: '%s' is not a port number (XEP-0233 §4)\n",
                    port_text);
            return EXIT_INVALID;
        }
    }
    if (req.form == PRINCIPAL_GSS && req.realm == NULL) {
        /* The realm policy needs the domain as it will appear in the principal. */
        if (realm_for_principal_domain(req.domain, &mapped, why, sizeof(why)) == REALM_FAILED) {
            fprintf(stderr, "gsspeer principal: realm: %s\n", why);
            goto cleanup;
        }
        req.realm = mapped; /* NULL when unmapped: principal_build's fallback */
    }
    principal_build(&req, &result);
    principal_explain(&result, why, sizeof(why));
    if (!xep0233_usable(result.verdict, level)) {
        fprintf(stderr, "gsspeer principal: %s%s\n",
                result.verdict == XEP0233_ACCEPTABLE ? "strict reading refuses: " : "", why);
        goto cleanup;
    }
    if (result.verdict == XEP0233_ACCEPTABLE)
        fprintf(stderr, "gsspeer principal: acceptable (lenient reading): %s\n", why);
    printf("%s\n", result.name);
    status = fflush(stdout) == 0 ? 0 : EXIT_INVALID;
cleanup:
    principal_result_free(&result);
    free(mapped);
    return status;
}

static void features_usage(FILE *out)
{
    fprintf(out,
            "usage: gsspeer features FILE|- [--strict]\n"
            "\n"
            "Read a <stream:features/> document (or a <stream:stream> header followed by one)\n"
            "and print the XEP-0233 <hostname/> a client would use for its Kerberos principal.\n"
            "--strict refuses what only the lenient reading accepts (see docs/xep0233.md).\n"
            "\n"
            "Exit status: 0 printed; 1 no usable hostname (reason on stderr); 2 malformed XML\n"
            "or unreadable input; 64 usage error.\n");
}

/* Read all of FILE ("-": stdin) into B, at most MAX bytes (more is EFBIG). False with errno
 * set on failure. */
static bool read_all(const char *path, struct builder *b, size_t max)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *chunk;
    size_t n;
    bool ok;
    int read_errno = 0;

    if (f == NULL)
        return false;
    do {
        chunk = builder_reserve(b, 4096);
        if (chunk == NULL)
            break;
        errno = 0;
        n = fread(chunk, 1, 4096, f);
        if (n < 4096 && ferror(f))
            read_errno = errno; /* the cause (EISDIR for a directory), reported as is */
        b->len -= 4096 - n;
        if (b->len > max) {
            read_errno = EFBIG;
            break;
        }
    } while (n == 4096);
    ok = builder_ok(b) && !ferror(f) && read_errno != EFBIG;
    if (!builder_ok(b))
        errno = ENOMEM;
    else if (!ok)
        errno = read_errno != 0 ? read_errno : EIO;
    if (f != stdin)
        fclose(f);
    return ok;
}

int cmd_features(int argc, char **argv)
{
    static const struct option options[] = {
        {"strict", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum xep0233_level level = XEP0233_LENIENT;
    struct features_result result;
    struct builder input;
    enum xep0233_verdict verdict;
    char why[400];
    int c, status = EXIT_INVALID;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's':
            level = XEP0233_STRICT;
            break;
        case 'h':
            features_usage(stdout);
            return 0;
        default:
            features_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        features_usage(stderr);
        return EXIT_USAGE;
    }
    builder_init(&input);
    if (!read_all(argv[optind], &input, FEATURES_MAX_SIZE)) {
        if (errno == EFBIG)
            fprintf(stderr,
                    "gsspeer features: %s: more than %d bytes (the bound of a features "
                    "document)\n",
                    argv[optind], FEATURES_MAX_SIZE);
        else
            fprintf(stderr, "gsspeer features: %s: %s\n", argv[optind], strerror(errno));
        goto cleanup;
    }
    if (features_parse(input.len > 0 ? (const char *)input.data : "", input.len, &result) !=
        FEATURES_OK) {
        fprintf(stderr, "gsspeer features: %s: %s: %s\n", argv[optind],
                features_status_name(result.status), result.error);
        goto cleanup;
    }
    verdict = hostname_check_verdict(&result.hostname);
    hostname_explain(&result.hostname, hostname_status_name(result.hostname.status), why,
                     sizeof(why));
    if (!xep0233_usable(verdict, level)) {
        fprintf(stderr, "gsspeer features: %s%s\n",
                verdict == XEP0233_ACCEPTABLE ? "strict reading refuses: " : "", why);
        status = EXIT_NONE_USABLE;
        goto cleanup;
    }
    if (verdict == XEP0233_ACCEPTABLE)
        fprintf(stderr, "gsspeer features: acceptable (lenient reading): %s\n", why);
    printf("%s\n", result.hostname.name);
    status = fflush(stdout) == 0 ? 0 : EXIT_INVALID;
cleanup:
    builder_free(&input);
    return status;
}
