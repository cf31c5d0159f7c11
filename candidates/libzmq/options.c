/*
 * Command-line parsing of the libzmq candidate shim.
 */
#include "options.h"

#include "util/hex.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zmq.h>

/* libzmq's own spelling of --max-frame-size, accepted as well. */
enum { OPT_MAX_MSG_SIZE = CONTRACT_OPT_END };

static const struct option own_options[] = {
    {"max-msg-size", required_argument, NULL, OPT_MAX_MSG_SIZE},
    {NULL, 0, NULL, 0},
};

const char *const shim_unavailable[] = {"transcript", NULL};

static const struct {
    const char *name;
    int type;
} socket_types[] = {
    {"DEALER", ZMQ_DEALER}, {"ROUTER", ZMQ_ROUTER}, {"REQ", ZMQ_REQ},   {"REP", ZMQ_REP},
    {"PUB", ZMQ_PUB},       {"SUB", ZMQ_SUB},       {"PUSH", ZMQ_PUSH}, {"PULL", ZMQ_PULL},
};

static enum shim_exit usage_error(const char *what, const char *detail)
{
    fprintf(stderr, "libzmq-shim: %s: %s\n", what, detail);
    return SHIM_EXIT_USAGE;
}

static enum shim_exit invalid(const char *option, const char *value, const char *detail)
{
    fprintf(stderr, "libzmq-shim: --%s '%s': %s\n", option, value, detail);
    return SHIM_EXIT_INVALID;
}

/* A decimal integer in [MIN, MAX]; false for anything else. */
static bool parse_number(const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_nametype(const char *text, int *out)
{
    if (strcmp(text, "hostbased") == 0)
        *out = ZMQ_GSSAPI_NT_HOSTBASED;
    else if (strcmp(text, "user") == 0)
        *out = ZMQ_GSSAPI_NT_USER_NAME;
    else if (strcmp(text, "krb5") == 0)
        *out = ZMQ_GSSAPI_NT_KRB5_PRINCIPAL;
    else
        return false;
    return true;
}

/* Which socket types each role can play in the contract's behaviour. */
static bool role_supports(enum shim_role role, int type)
{
    if (role == SHIM_SERVER)
        return type != ZMQ_REQ;                   /* a REQ cannot echo: it must send first */
    return type != ZMQ_ROUTER && type != ZMQ_REP; /* these cannot send first */
}

static enum shim_exit check_combination(const struct shim_options *opts)
{
    bool server = opts->role == SHIM_SERVER;
    if (opts->endpoint == NULL)
        return usage_error(server ? "zmtp-server" : "zmtp-client",
                           server ? "--bind ENDPOINT is required"
                                  : "--connect ENDPOINT is required");
    if (!role_supports(opts->role, opts->socket_type))
        return usage_error(opts->socket_type_name, server ? "cannot be an echo server"
                                                          : "cannot be a client that sends first");
    if (!server && opts->service_principal == NULL)
        return usage_error("zmtp-client", "--service-principal is required (libzmq needs the "
                                          "target name to start GSSAPI)");
    if (server && opts->principal != NULL)
        return usage_error("zmtp-server", "--principal is a client option; a server names its "
                                          "own principal with --service-principal");
    if (!server && opts->allow_count > 0)
        return usage_error("zmtp-client", "--allow is a server option");
    return SHIM_EXIT_OK;
}

enum shim_exit shim_options_parse(int argc, char **argv, struct shim_options *opts)
{
    enum shim_exit status = SHIM_EXIT_OK;
    long long n = 0;
    struct option long_options[CONTRACT_OPT_COUNT_ALL + 4];
    bool server = strcmp(argv[0], "zmtp-server") == 0;

    memset(opts, 0, sizeof(*opts));
    opts->role = server ? SHIM_SERVER : SHIM_CLIENT;
    opts->socket_type = server ? ZMQ_ROUTER : ZMQ_DEALER;
    opts->socket_type_name = server ? "ROUTER" : "DEALER";
    opts->service_nametype = ZMQ_GSSAPI_NT_HOSTBASED;
    opts->nametype = ZMQ_GSSAPI_NT_HOSTBASED;
    opts->count = 1;
    opts->size = 16;
    opts->parts = 1;
    opts->subscribe = "";
    opts->timeout_ms = 10000;
    opts->handshake_timeout_ms = -1;
    opts->max_frame_size = -1;
    opts->allow = calloc((size_t)argc, sizeof(*opts->allow));
    if (opts->allow == NULL) {
        status = usage_error("memory", "out of memory");
        goto cleanup;
    }

    if (!contract_longopts(own_options, long_options,
                           sizeof(long_options) / sizeof(long_options[0]))) {
        status = usage_error("options", "internal error: option table too small");
        goto cleanup;
    }
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "", long_options, NULL);
        if (c == -1)
            break;
        switch (c) {
        case CONTRACT_OPT_BIND:
        case CONTRACT_OPT_CONNECT:
            if ((c == CONTRACT_OPT_BIND) != server) {
                status = usage_error(argv[0], server ? "a server binds (--bind)"
                                                     : "a client connects (--connect)");
                goto cleanup;
            }
            opts->endpoint = optarg;
            break;
        case CONTRACT_OPT_SOCKET_TYPE: {
            size_t i;
            for (i = 0; i < sizeof(socket_types) / sizeof(socket_types[0]); i++)
                if (strcasecmp(optarg, socket_types[i].name) == 0)
                    break;
            if (i == sizeof(socket_types) / sizeof(socket_types[0])) {
                status = usage_error("--socket-type", "expected DEALER, ROUTER, REQ, REP, PUB, "
                                                      "SUB, PUSH or PULL");
                goto cleanup;
            }
            opts->socket_type = socket_types[i].type;
            opts->socket_type_name = socket_types[i].name;
            break;
        }
        case CONTRACT_OPT_SERVICE_PRINCIPAL:
            opts->service_principal = optarg;
            break;
        case CONTRACT_OPT_PRINCIPAL:
            opts->principal = optarg;
            break;
        case CONTRACT_OPT_SERVICE_NAMETYPE:
        case CONTRACT_OPT_NAMETYPE:
            if (!parse_nametype(optarg, c == CONTRACT_OPT_NAMETYPE ? &opts->nametype
                                                                   : &opts->service_nametype)) {
                status =
                    usage_error(c == CONTRACT_OPT_NAMETYPE ? "--nametype" : "--service-nametype",
                                "expected hostbased, user or krb5");
                goto cleanup;
            }
            break;
        case CONTRACT_OPT_PLAINTEXT:
            opts->plaintext = true;
            break;
        case CONTRACT_OPT_ALLOW:
            opts->allow[opts->allow_count++] = optarg;
            break;
        case CONTRACT_OPT_COUNT:
            if (!parse_number(optarg, 0, LONG_MAX, &n)) {
                status = invalid("count", optarg, "expected a number >= 0");
                goto cleanup;
            }
            opts->count = (unsigned long)n;
            break;
        case CONTRACT_OPT_SIZE:
            if (!parse_number(optarg, 0, INT_MAX, &n)) {
                status = invalid("size", optarg, "expected a number of bytes >= 0");
                goto cleanup;
            }
            opts->size = (size_t)n;
            break;
        case CONTRACT_OPT_PARTS:
            if (!parse_number(optarg, 1, 1000000, &n)) {
                status = invalid("parts", optarg, "expected a number >= 1");
                goto cleanup;
            }
            opts->parts = (size_t)n;
            break;
        case CONTRACT_OPT_PAYLOAD_HEX:
            free(opts->payload);
            opts->payload = NULL;
            if (hex_decode(optarg, &opts->payload, &opts->payload_len) != HEX_OK) {
                status = invalid("payload-hex", optarg, "expected an even number of hex digits");
                goto cleanup;
            }
            break;
        case CONTRACT_OPT_SUBSCRIBE:
            opts->subscribe = optarg;
            break;
        case CONTRACT_OPT_TIMEOUT_MS:
            if (!parse_number(optarg, 1, INT_MAX, &n)) {
                status = invalid("timeout-ms", optarg, "expected milliseconds >= 1");
                goto cleanup;
            }
            opts->timeout_ms = (long)n;
            break;
        case CONTRACT_OPT_HANDSHAKE_TIMEOUT_MS:
            /* ZMQ_HANDSHAKE_IVL 0 would mean no deadline at all, which the contract excludes */
            if (!parse_number(optarg, 1, INT_MAX, &n)) {
                status = invalid("handshake-timeout-ms", optarg, "expected milliseconds >= 1");
                goto cleanup;
            }
            opts->handshake_timeout_ms = (int)n;
            break;
        case CONTRACT_OPT_INTERVAL_MS:
            if (!parse_number(optarg, 0, 600000, &n)) {
                status = invalid("interval-ms", optarg, "expected milliseconds 0..600000");
                goto cleanup;
            }
            opts->interval_ms = (long)n;
            break;
        case CONTRACT_OPT_MAX_FRAME_SIZE:
        case OPT_MAX_MSG_SIZE:
            if (!parse_number(optarg, 0, LLONG_MAX, &n)) {
                status = invalid("max-frame-size", optarg, "expected bytes >= 0");
                goto cleanup;
            }
            opts->max_frame_size = n;
            break;
        case CONTRACT_OPT_TRANSCRIPT:
            status = contract_unavailable("libzmq-shim", "transcript",
                                          "only gsspeer writes transcripts; libzmq does not "
                                          "expose its frames");
            goto cleanup;
        default:
            status = usage_error(argv[optind - 1] != NULL ? argv[optind - 1] : argv[0],
                                 "unknown option or missing argument (see the shim contract)");
            goto cleanup;
        }
    }
    if (optind < argc) {
        status = usage_error(argv[optind], "unexpected argument");
        goto cleanup;
    }
    status = check_combination(opts);

cleanup:
    if (status != SHIM_EXIT_OK)
        shim_options_free(opts);
    return status;
}

void shim_options_free(struct shim_options *opts)
{
    free(opts->allow);
    free(opts->payload);
    opts->allow = NULL;
    opts->payload = NULL;
    opts->allow_count = 0;
}
