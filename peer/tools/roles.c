/* The zmtp-server and zmtp-client roles of gsspeer: see roles.h and docs/peer.md. */
#include "tools/roles.h"

#include "tools/contract.h"
#include "tools/deviations.h"
#include "tools/faults.h"
#include "tools/session.h"
#include "tools/transcript.h"
#include "util/gss.h"
#include "util/hex.h"
#include "util/jsonout.h"
#include "util/rfc4121.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The contract's exit statuses (tools/contract.h). */
enum exit_status {
    EXIT_OK = CONTRACT_EXIT_OK,
    EXIT_FAIL = CONTRACT_EXIT_FAIL,
    EXIT_INVALID = CONTRACT_EXIT_INVALID,
    EXIT_USAGE = CONTRACT_EXIT_USAGE,
};

enum {
    DEFAULT_TIMEOUT_MS = 10000,
    DEFAULT_HANDSHAKE_MS = 1500, /* a libzmq peer drops a failed handshake silently */
    DEFAULT_MAX_FRAME = 64 * 1024 * 1024 + 4096,
    AUTHZ_CMD_TIMEOUT_MS = 5000,
    DEFAULT_IDLE_MS = 60000,     /* server: a connection silent this long after READY is closed */
    LISTEN_BACKLOG = 4096,       /* the kernel caps it at net.core.somaxconn */
    MAX_CONNECTIONS = 4096,      /* held at once (fewer when RLIMIT_NOFILE is lower) */
    OUT_LIMIT = 4 * 1024 * 1024, /* a connection's unsent bytes before we stop reading it */
    STOP_DRAIN_MS = 250,         /* on SIGTERM: what the peers sent up to their FIN, this long */
    AUTHZ_POLL_STEP_MS = 5,      /* how often a running --authz-cmd is looked at */
    PUSH_BATCH = 64 * 1024,      /* PUSH client: queued bytes written together */
    HEAP_KEEP = 32 * 1024 * 1024, /* message buffers below this are reused from the heap, not
                                     mapped and unmapped (and faulted in) per message */
    VIEW_PARTS = 8,              /* parts of a delivered event described without allocating */
};

struct options {
    bool server;
    const char *endpoint;
    const char *socket_type;
    const char *service_principal;
    enum nametype service_nametype;
    const char *principal;
    enum nametype nametype;
    bool plaintext;
    const char **allow;
    size_t allow_count;
    const char *authz_cmd;
    unsigned long count;
    size_t size;
    size_t parts;
    unsigned char *payload; /* --payload-hex / --payload-file, or NULL: generated */
    size_t payload_len;
    bool payload_given;
    unsigned char *pattern; /* generated payloads: byte j is j & 0xff, --size + 255 bytes */
    const char *subscribe;
    long timeout_ms;
    long handshake_ms;
    long interval_ms; /* client: pause between messages (0: none) */
    long idle_ms;     /* server: idle bound after READY */
    const char *transcript;
    uint8_t as_server;
    bool as_server_given;
    uint64_t max_frame_size;
    bool bench; /* --bench: count deliveries, no `delivered` events */
    enum zmtp_wrap_path wrap_path; /* --wrap-path (default mit) */
    bool no_token_check;           /* --token-check off */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- events (tools/contract.h: one JSON object per line on stdout) ---- */

static void event_error(const char *reason)
{
    contract_event_error("gsspeer", reason);
}

/* Print the failure (stderr + error event) and return EXIT. */
static int fail(int exit_status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int exit_status, const char *fmt, ...)
{
    char reason[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    event_error(reason);
    return exit_status;
}

static void event_done(unsigned long sent, unsigned long received, unsigned long verified)
{
    contract_event_done(sent, received, verified);
}

/* The mechanism's second-checker reports (zmtp/mechanism.h), ARG the run's transcript: a
 * token-violation event for a token MIT accepted and RFC 4121 forbids, a token-check event for
 * the rest (which path checks, unchecked, disagreement), and a transcript note of each but the
 * default path's "checking". */
static void report_token_check(void *arg, const struct zmtp_token_check *c)
{
    const char *name = c->verdict == ZMTP_CHECK_VIOLATION ? "token-violation" : "token-check";

    contract_event_begin(name); /* gsspeer's own events */
    fputs(",\"verdict\":", stdout);
    json_put_string(stdout, zmtp_check_verdict_name(c->verdict));
    fputs(",\"wrap_path\":", stdout);
    json_put_string(stdout, zmtp_wrap_path_name(c->path));
    fputs(",\"checked_by\":", stdout);
    json_put_string(stdout, c->checker);
    printf(",\"enctype\":%d", c->enctype);
    if (c->kind != NULL) {
        fputs(",\"token\":", stdout);
        json_put_string(stdout, c->kind);
        printf(",\"seq\":%llu", (unsigned long long)c->seq);
    }
    if (c->header != NULL) {
        fputs(",\"header\":", stdout);
        json_put_hex(stdout, c->header, 16);
    }
    fputs(",\"detail\":", stdout);
    json_put_string(stdout, c->detail);
    contract_event_end();
    /* The transcript gets what is news: a routine "checking" on the default path would shift
     * the record positions the catalogue's checks index (peer.transcript.N). */
    if (c->verdict != ZMTP_CHECK_CHECKING || c->path != ZMTP_WRAP_MIT)
        transcript_event(arg, name, c->detail);
}

/* ---- options ---- */

static void usage(FILE *out, bool server)
{
    if (server)
        fputs("usage: gsspeer zmtp-server --bind tcp://HOST:PORT [options]\n"
              "\n"
              "A ZMTP 3.x GSSAPI server: ROUTER/REP/DEALER echo every message back unchanged,\n"
              "PULL only delivers, PUB publishes --count messages to its first subscriber.\n"
              "Many connections are served at once (one event loop) until SIGTERM or\n"
              "--timeout-ms.\n",
              out);
    else
        fputs("usage: gsspeer zmtp-client --connect tcp://HOST:PORT --service-principal NAME "
              "[options]\n"
              "\n"
              "A ZMTP 3.x GSSAPI client: DEALER/REQ send --count messages and verify each echo,\n"
              "PUSH only sends, SUB subscribes and verifies --count published messages.\n",
              out);
    fputs("\n"
          "Options:\n"
          "  --socket-type T          DEALER ROUTER REQ REP PUB SUB PUSH PULL\n"
          "                           (default: server ROUTER, client DEALER)\n"
          "  --service-principal N    client: the service to authenticate to (required);\n"
          "                           server: own acceptor name (default: any key in KRB5_KTNAME)\n"
          "  --service-nametype K     hostbased (default) | user | krb5\n"
          "  --principal N            own principal (client: initiator; server: acceptor when\n"
          "                           --service-principal is not given)\n"
          "  --nametype K             hostbased (default) | user | krb5\n"
          "  --plaintext              ZMQ_GSSAPI_PLAINTEXT: no wrapping after authentication\n"
          "  --allow PRINCIPAL        server: admit only these clients (repeatable)\n"
          "  --authz-cmd CMD          server: admit a client when `sh -c CMD sh PRINCIPAL`\n"
          "                           exits 0 (own process group, killed after 5 s)\n"
          "  --count N                messages to send/publish/receive (default 1)\n"
          "  --size S                 bytes per message part (default 16)\n"
          "  --parts P                parts per message (default 1)\n"
          "  --payload-hex HEX        fixed payload of every part instead of generated bytes\n"
          "  --payload-file FILE      fixed payload read from FILE\n"
          "  --subscribe TOPIC        SUB: subscription (default \"\": everything)\n"
          "  --interval-ms MS         client: pause between messages, the connection kept\n"
          "                           serviced (e.g. to outlive a short ticket; default 0)\n"
          "  --as-server B            greeting byte 32 to send (default: 1 server, 0 client)\n"
          "  --max-frame-size BYTES   refuse larger frames (default 64 MiB + 4 KiB)\n"
          "  --timeout-ms MS          bound on the whole run (default 10000)\n"
          "  --handshake-timeout-ms MS  bound on each handshake from connection (default 1500)\n"
          "  --idle-timeout-ms MS     server: close a connection silent this long after its\n"
          "                           handshake (default 60000)\n"
          "  --transcript FILE        JSON line per frame (docs/peer.md)\n"
          "  --fault NAME[:ARG]       inject a fault (repeatable; see `gsspeer faults`); the\n"
          "                           server then serves one connection\n"
          "  --observe-ms MS          after a fault, watch the peer this long (default 2000)\n"
          "  --bench                  no `delivered` events (no sha256): {\"received\":TOTAL}\n"
          "                           lines as bench/zmqperf prints them (bench/throughput's\n"
          "                           engine pairing; outside the shim contract)\n"
          "  --wrap-path P            mit (default) | rfc4121: who wraps and unwraps the data\n"
          "                           after MIT's handshake (docs/peer.md)\n"
          "  --token-check on|off     check the peer's wrap tokens with rfc4121 as well as\n"
          "                           MIT (default on; token-check/token-violation events)\n"
          "\n"
          "Kerberos comes from KRB5_CONFIG, KRB5_KTNAME, KRB5_CLIENT_KTNAME, KRB5CCNAME.\n"
          "Events: JSON lines on stdout (listening, authorized, delivered, sent, closed, done,\n"
          "error, token-check, token-violation); one-line reasons on stderr.\n"
          "\n"
          "Exit status: 0 success (server: stopped by SIGTERM/SIGINT); 1 protocol or exchange\n"
          "failure, missing credentials, timeout; 2 invalid input (bad value, unreadable file);\n"
          "64 usage error.\n",
          out);
}

static bool parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (text[0] == '\0' || text[0] == '-')
        return false;
    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

static bool read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct builder b;
    unsigned char chunk[8192];
    size_t n;

    if (f == NULL)
        return false;
    builder_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        builder_add(&b, chunk, n);
    if (ferror(f)) {
        fclose(f);
        builder_free(&b);
        return false;
    }
    fclose(f);
    *out = builder_detach(&b, len);
    return *out != NULL;
}

static void options_free(struct options *o)
{
    free(o->allow);
    free(o->payload);
    free(o->pattern);
}

/* Parse ARGV into *O. Returns -1 on success, else the exit status (reason printed). */
static int parse_options(int argc, char **argv, bool server, struct options *o)
{
    /* The contract's options (tools/contract.h), then gsspeer's own. */
    enum {
        OPT_AUTHZ_CMD = CONTRACT_OPT_END,
        OPT_PAYLOAD_FILE,
        OPT_AS_SERVER,
        OPT_IDLE_TIMEOUT_MS,
        OPT_BENCH,
        OPT_WRAP_PATH,
        OPT_TOKEN_CHECK,
        OPT_HELP,
    };
    static const struct option own[] = {
        {"authz-cmd", required_argument, NULL, OPT_AUTHZ_CMD},
        {"payload-file", required_argument, NULL, OPT_PAYLOAD_FILE},
        {"as-server", required_argument, NULL, OPT_AS_SERVER},
        {"idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT_MS},
        {"bench", no_argument, NULL, OPT_BENCH},
        {"wrap-path", required_argument, NULL, OPT_WRAP_PATH},
        {"token-check", required_argument, NULL, OPT_TOKEN_CHECK},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    struct option longopts[CONTRACT_OPT_COUNT_ALL + sizeof(own) / sizeof(own[0])];
    int c;
    unsigned long v;

    memset(o, 0, sizeof(*o));
    o->server = server;
    o->socket_type = server ? "ROUTER" : "DEALER";
    o->count = 1;
    o->size = 16;
    o->parts = 1;
    o->subscribe = "";
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
    o->handshake_ms = DEFAULT_HANDSHAKE_MS;
    o->idle_ms = DEFAULT_IDLE_MS;
    o->max_frame_size = DEFAULT_MAX_FRAME;
    if (!contract_longopts(own, longopts, sizeof(longopts) / sizeof(longopts[0]))) {
        fprintf(stderr, "gsspeer: internal error: option table too small\n");
        return EXIT_FAIL;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        const char *arg = optarg;

        switch (c) {
        case CONTRACT_OPT_BIND:
        case CONTRACT_OPT_CONNECT:
            if ((c == CONTRACT_OPT_BIND) != server) {
                fprintf(stderr, "gsspeer: --%s is for the %s\n",
                        c == CONTRACT_OPT_BIND ? "bind" : "connect",
                        c == CONTRACT_OPT_BIND ? "server" : "client");
                return EXIT_USAGE;
            }
            o->endpoint = arg;
            break;
        case CONTRACT_OPT_SOCKET_TYPE:
            o->socket_type = arg;
            break;
        case CONTRACT_OPT_SERVICE_PRINCIPAL:
            o->service_principal = arg;
            break;
        case CONTRACT_OPT_PRINCIPAL:
            o->principal = arg;
            break;
        case CONTRACT_OPT_SERVICE_NAMETYPE:
        case CONTRACT_OPT_NAMETYPE:
            if (!nametype_parse(arg,
                                c == CONTRACT_OPT_NAMETYPE ? &o->nametype : &o->service_nametype)) {
                fprintf(stderr, "gsspeer: --%s: \"%s\" is not hostbased, user or krb5\n",
                        c == CONTRACT_OPT_NAMETYPE ? "nametype" : "service-nametype", arg);
                return EXIT_INVALID;
            }
            break;
        case CONTRACT_OPT_PLAINTEXT:
            o->plaintext = true;
            break;
        case CONTRACT_OPT_ALLOW: {
            const char **allow = realloc(o->allow, (o->allow_count + 1) * sizeof(*allow));

            if (allow == NULL) {
                fprintf(stderr, "gsspeer: out of memory\n");
                return EXIT_FAIL;
            }
            o->allow = allow;
            o->allow[o->allow_count++] = arg;
            break;
        }
        case OPT_AUTHZ_CMD:
            o->authz_cmd = arg;
            break;
        case OPT_WRAP_PATH:
        case OPT_TOKEN_CHECK: {
            bool first = strcmp(arg, c == OPT_WRAP_PATH ? "mit" : "on") == 0;

            if (!first && strcmp(arg, c == OPT_WRAP_PATH ? "rfc4121" : "off") != 0) {
                fprintf(stderr, "gsspeer: --%s: \"%s\" is not %s\n",
                        c == OPT_WRAP_PATH ? "wrap-path" : "token-check", arg,
                        c == OPT_WRAP_PATH ? "mit or rfc4121" : "on or off");
                return EXIT_INVALID;
            }
            if (c == OPT_WRAP_PATH)
                o->wrap_path = first ? ZMTP_WRAP_MIT : ZMTP_WRAP_RFC4121;
            else
                o->no_token_check = !first;
            break;
        }
        case CONTRACT_OPT_COUNT:
        case CONTRACT_OPT_SIZE:
        case CONTRACT_OPT_PARTS:
        case CONTRACT_OPT_TIMEOUT_MS:
        case OPT_AS_SERVER:
        case CONTRACT_OPT_MAX_FRAME_SIZE:
        case CONTRACT_OPT_HANDSHAKE_TIMEOUT_MS:
        case CONTRACT_OPT_INTERVAL_MS:
        case OPT_IDLE_TIMEOUT_MS: {
            static const struct {
                int opt;
                const char *name;
                unsigned long min, max;
            } numbers[] = {
                {CONTRACT_OPT_COUNT, "count", 0, 100000000UL},
                {CONTRACT_OPT_SIZE, "size", 0, 1UL << 30},
                {CONTRACT_OPT_PARTS, "parts", 1, 4096},
                {CONTRACT_OPT_TIMEOUT_MS, "timeout-ms", 1, 86400000UL},
                {OPT_AS_SERVER, "as-server", 0, 255},
                {CONTRACT_OPT_MAX_FRAME_SIZE, "max-frame-size", 0, 1UL << 40},
                {CONTRACT_OPT_HANDSHAKE_TIMEOUT_MS, "handshake-timeout-ms", 1, 86400000UL},
                {CONTRACT_OPT_INTERVAL_MS, "interval-ms", 0, 600000UL},
                {OPT_IDLE_TIMEOUT_MS, "idle-timeout-ms", 1, 86400000UL},
            };
            size_t k = 0;

            while (numbers[k].opt != c)
                k++;
            if (!parse_ulong(arg, numbers[k].max, &v) || v < numbers[k].min) {
                fprintf(stderr, "gsspeer: --%s: \"%s\" is not a number in %lu..%lu\n",
                        numbers[k].name, arg, numbers[k].min, numbers[k].max);
                return EXIT_INVALID;
            }
            if (c == CONTRACT_OPT_COUNT)
                o->count = v;
            else if (c == CONTRACT_OPT_SIZE)
                o->size = v;
            else if (c == CONTRACT_OPT_PARTS)
                o->parts = v;
            else if (c == CONTRACT_OPT_TIMEOUT_MS)
                o->timeout_ms = (long)v;
            else if (c == CONTRACT_OPT_MAX_FRAME_SIZE)
                o->max_frame_size = v;
            else if (c == CONTRACT_OPT_HANDSHAKE_TIMEOUT_MS)
                o->handshake_ms = (long)v;
            else if (c == CONTRACT_OPT_INTERVAL_MS)
                o->interval_ms = (long)v;
            else if (c == OPT_IDLE_TIMEOUT_MS)
                o->idle_ms = (long)v;
            else {
                o->as_server = (uint8_t)v;
                o->as_server_given = true;
            }
            break;
        }
        case CONTRACT_OPT_PAYLOAD_HEX:
        case OPT_PAYLOAD_FILE:
            free(o->payload);
            o->payload = NULL;
            if (c == CONTRACT_OPT_PAYLOAD_HEX
                    ? hex_decode(arg, &o->payload, &o->payload_len) != HEX_OK
                    : !read_file(arg, &o->payload, &o->payload_len)) {
                if (c == CONTRACT_OPT_PAYLOAD_HEX)
                    fprintf(stderr, "gsspeer: --payload-hex: not an even number of hex digits\n");
                else
                    fprintf(stderr, "gsspeer: --payload-file: %s: %s\n", arg, strerror(errno));
                return EXIT_INVALID;
            }
            o->payload_given = true;
            break;
        case CONTRACT_OPT_SUBSCRIBE:
            o->subscribe = arg;
            break;
        case CONTRACT_OPT_TRANSCRIPT:
            o->transcript = arg;
            break;
        case OPT_BENCH:
            o->bench = true;
            break;
        case OPT_HELP:
            usage(stdout, server);
            return EXIT_OK;
        default:
            fprintf(stderr, "gsspeer: %s: unknown option or missing argument: %s\n", argv[0],
                    argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gsspeer: %s: unexpected argument \"%s\"\n", argv[0], argv[optind]);
        return EXIT_USAGE;
    }
    if (o->endpoint == NULL) {
        fprintf(stderr, "gsspeer: %s: --%s tcp://HOST:PORT is required\n", argv[0],
                server ? "bind" : "connect");
        return EXIT_USAGE;
    }
    if (!server && o->service_principal == NULL) {
        fprintf(stderr, "gsspeer: zmtp-client: --service-principal is required\n");
        return EXIT_USAGE;
    }
    if (!zmtp_socket_type_valid(o->socket_type)) {
        fprintf(stderr, "gsspeer: --socket-type: \"%s\" is not a ZMTP socket type\n",
                o->socket_type);
        return EXIT_INVALID;
    }
    {
        static const char *server_types[] = {"ROUTER", "REP", "DEALER", "PULL", "PUB", NULL};
        static const char *client_types[] = {"DEALER", "REQ", "PUSH", "SUB", NULL};
        const char **types = server ? server_types : client_types;
        bool found = false;

        for (size_t i = 0; types[i] != NULL; i++)
            found = found || strcmp(types[i], o->socket_type) == 0;
        if (!found) {
            fprintf(stderr, "gsspeer: %s: --socket-type %s is not offered in this role\n", argv[0],
                    o->socket_type);
            return EXIT_USAGE;
        }
    }
    if (!o->as_server_given)
        o->as_server = server ? 1 : 0;
    if (!o->payload_given) {
        /* Message k starts at byte (k*31) & 0xff of one pattern: a copy, not a loop per byte. */
        o->pattern = malloc(o->size + 255);
        if (o->pattern == NULL) {
            fprintf(stderr, "gsspeer: out of memory for --size %zu\n", o->size);
            return EXIT_FAIL;
        }
        for (size_t j = 0; j < o->size + 255; j++)
            o->pattern[j] = (unsigned char)(j & 0xff);
    }
    return -1;
}

/* ---- endpoints ---- */

/* Split "tcp://HOST:PORT" (HOST may be [v6]) into a socket address. */
static bool resolve_endpoint(const char *endpoint, bool passive, struct sockaddr_storage *addr,
                             socklen_t *addr_len, char *why, size_t why_len)
{
    char host[256];
    const char *rest, *colon;
    struct addrinfo hints, *res = NULL;
    int rc;

    if (strncmp(endpoint, "tcp://", 6) != 0) {
        snprintf(why, why_len, "endpoint \"%s\": only tcp://HOST:PORT is supported", endpoint);
        return false;
    }
    rest = endpoint + 6;
    colon = strrchr(rest, ':');
    if (colon == NULL || colon == rest || (size_t)(colon - rest) >= sizeof(host) ||
        colon[1] == '\0') {
        snprintf(why, why_len, "endpoint \"%s\": expected tcp://HOST:PORT", endpoint);
        return false;
    }
    if (rest[0] == '[' && colon[-1] == ']') {
        memcpy(host, rest + 1, (size_t)(colon - rest) - 2);
        host[colon - rest - 2] = '\0';
    } else {
        memcpy(host, rest, (size_t)(colon - rest));
        host[colon - rest] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    if (strcmp(host, "localhost") != 0)
        hints.ai_flags |= AI_NUMERICHOST;
    rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(why, why_len, "endpoint \"%s\": %s", endpoint, gai_strerror(rc));
        return false;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static void format_endpoint(const struct sockaddr_storage *addr, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;

        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, len, "tcp://[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;

        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, len, "tcp://%s:%u", host, ntohs(a->sin_port));
    }
}

/* Connect to ADDR before DEADLINE; returns the socket or -1 with WHY filled. */
static int connect_before(const struct sockaddr_storage *addr, socklen_t addr_len, int64_t deadline,
                          char *why, size_t why_len)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, soerr = 0;
    socklen_t soerr_len = sizeof(soerr);

    if (fd < 0) {
        snprintf(why, why_len, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)addr, addr_len) < 0 && errno != EINPROGRESS) {
        snprintf(why, why_len, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left = deadline - zmtp_now_ms();
        int n;

        if (left <= 0 || stop_requested) {
            snprintf(why, why_len, "connect: timed out");
            close(fd);
            return -1;
        }
        n = poll(&pfd, 1, left > 100 ? 100 : (int)left);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR) {
            snprintf(why, why_len, "poll: %s", strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) < 0 || soerr != 0) {
        snprintf(why, why_len, "connect: %s", strerror(soerr != 0 ? soerr : errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- credentials ---- */

struct creds {
    gss_cred_id_t cred;
    gss_name_t target;
};

static void creds_release(struct creds *c)
{
    OM_uint32 minor;

    if (c->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &c->cred);
    if (c->target != GSS_C_NO_NAME)
        gss_release_name(&minor, &c->target);
}

/* Import NAME and acquire a credential for USAGE (NAME NULL: the default). False with WHY. */
static bool acquire(const char *name, enum nametype type, gss_cred_usage_t usage,
                    gss_cred_id_t *cred, char *why, size_t why_len)
{
    gss_name_t gname = GSS_C_NO_NAME;
    OM_uint32 major, minor, minor2;
    char *text;

    if (name != NULL) {
        major = gssutil_import_name(name, type, &gname, &minor);
        if (GSS_ERROR(major)) {
            text = gssutil_status_text(major, minor);
            snprintf(why, why_len, "gss_import_name(%s, %s): %s", name, nametype_name(type),
                     text != NULL ? text : "?");
            free(text);
            return false;
        }
    }
    major = gssutil_acquire_cred(gname, usage, cred, &minor);
    if (gname != GSS_C_NO_NAME)
        gss_release_name(&minor2, &gname);
    if (GSS_ERROR(major)) {
        text = gssutil_status_text(major, minor);
        snprintf(why, why_len, "missing credentials: gss_acquire_cred(%s, %s): %s",
                 name != NULL ? name : "default", usage == GSS_C_ACCEPT ? "acceptor" : "initiator",
                 text != NULL ? text : "?");
        free(text);
        return false;
    }
    return true;
}

static bool creds_setup(const struct options *o, struct creds *c, char *why, size_t why_len)
{
    OM_uint32 major, minor;

    memset(c, 0, sizeof(*c));
    c->cred = GSS_C_NO_CREDENTIAL;
    c->target = GSS_C_NO_NAME;
    if (o->server) {
        const char *own = o->service_principal != NULL ? o->service_principal : o->principal;
        enum nametype type = o->service_principal != NULL ? o->service_nametype : o->nametype;

        return acquire(own, type, GSS_C_ACCEPT, &c->cred, why, why_len);
    }
    major = gssutil_import_name(o->service_principal, o->service_nametype, &c->target, &minor);
    if (GSS_ERROR(major)) {
        char *text = gssutil_status_text(major, minor);

        snprintf(why, why_len, "gss_import_name(%s, %s): %s", o->service_principal,
                 nametype_name(o->service_nametype), text != NULL ? text : "?");
        free(text);
        return false;
    }
    return acquire(o->principal, o->nametype, GSS_C_INITIATE, &c->cred, why, why_len);
}

/* ---- authorization ---- */

/* The server's policy (struct zmtp_authorizer): --authz-cmd runs as a child the session polls
 * while it keeps servicing the connection; otherwise the --allow list decides at once. */
struct authz {
    const struct options *opts;
    pid_t pid;        /* the running --authz-cmd, or 0 */
    int64_t deadline; /* when it is killed and the client denied */
};

static enum zmtp_authz authz_start(void *arg, const char *principal)
{
    struct authz *a = arg;
    const struct options *o = a->opts;

    if (o->authz_cmd != NULL) {
        a->deadline = zmtp_now_ms() + AUTHZ_CMD_TIMEOUT_MS;
        a->pid = fork();
        if (a->pid < 0) {
            a->pid = 0;
            return ZMTP_AUTHZ_DENY;
        }
        if (a->pid == 0) {
            /* Its own process group, so that everything it starts can be killed with it. */
            setpgid(0, 0);
            /* stdout carries our events: the command's output goes to stderr. */
            dup2(2, 1);
            execl("/bin/sh", "sh", "-c", o->authz_cmd, "sh", principal, (char *)NULL);
            _exit(127);
        }
        setpgid(a->pid, a->pid); /* both sides set it: no window where the group is not there */
        return ZMTP_AUTHZ_PENDING;
    }
    if (o->allow_count == 0)
        return ZMTP_AUTHZ_ALLOW;
    for (size_t i = 0; i < o->allow_count; i++)
        if (strcmp(o->allow[i], principal) == 0)
            return ZMTP_AUTHZ_ALLOW;
    return ZMTP_AUTHZ_DENY;
}

/* Kill the command's whole process group, then reap its leader (*WSTATUS). The leader is
 * still unreaped here (a zombie at worst), so its pid, and with it the group id, cannot have
 * been reused: the signal reaches only what the command started. */
static void authz_kill_group(struct authz *a, int *wstatus)
{
    kill(-a->pid, SIGKILL);
    while (waitpid(a->pid, wstatus, 0) < 0 && errno == EINTR)
        ;
    a->pid = 0;
}

/* Stop a running --authz-cmd and everything it started (safe when none runs). */
static void authz_cancel(struct authz *a)
{
    int wstatus;

    if (a->pid > 0)
        authz_kill_group(a, &wstatus);
    a->pid = 0;
}

static enum zmtp_authz authz_poll(void *arg)
{
    struct authz *a = arg;
    siginfo_t info;
    int wstatus = 0;

    if (a->pid <= 0)
        return ZMTP_AUTHZ_DENY;
    /* Look without reaping (WNOWAIT): the group is killed before the leader's pid is freed. */
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)a->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno != EINTR) {
        authz_cancel(a);
        return ZMTP_AUTHZ_DENY;
    }
    if (info.si_pid == a->pid) {
        /* Done: what it left running in the background goes with it. */
        authz_kill_group(a, &wstatus);
        return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 ? ZMTP_AUTHZ_ALLOW : ZMTP_AUTHZ_DENY;
    }
    if (zmtp_now_ms() > a->deadline) {
        authz_cancel(a);
        fprintf(stderr, "gsspeer: --authz-cmd did not finish within %d ms: denied\n",
                AUTHZ_CMD_TIMEOUT_MS);
        return ZMTP_AUTHZ_DENY;
    }
    return ZMTP_AUTHZ_PENDING;
}

/* ---- payloads ---- */

/* Fill PART with the payload of message K: --payload-* or byte i = (k*31 + i) & 0xff. */
static bool make_part(const struct options *o, unsigned long k, struct zmtp_part *part)
{
    size_t len = o->payload_given ? o->payload_len : o->size;

    part->len = len;
    part->data = malloc(len > 0 ? len : 1);
    if (part->data == NULL)
        return false;
    if (len > 0)
        memcpy(part->data, o->payload_given ? o->payload : o->pattern + ((k * 31) & 0xff), len);
    return true;
}

static void free_parts(struct zmtp_part *parts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(parts[i].data);
    free(parts);
}

/* The parts of message K (REQ: preceded by the empty delimiter). NULL when out of memory. */
static struct zmtp_part *make_message(const struct options *o, unsigned long k, size_t *count)
{
    bool req = strcmp(o->socket_type, "REQ") == 0;
    size_t n = o->parts + (req ? 1 : 0);
    struct zmtp_part *parts = calloc(n, sizeof(*parts));

    *count = 0;
    if (parts == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        bool ok = req && i == 0 ? (parts[i].data = malloc(1)) != NULL : make_part(o, k, &parts[i]);

        if (!ok) {
            free_parts(parts, n);
            return NULL;
        }
    }
    *count = n;
    return parts;
}

static bool same_message(const struct zmtp_part *a, size_t na, const struct zmtp_part *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].len != b[i].len || (a[i].len > 0 && memcmp(a[i].data, b[i].data, a[i].len) != 0))
            return false;
    return true;
}

/* The parts an application sees: REQ/REP strip the envelope up to the empty delimiter. */
static void application_parts(const char *socket_type, const struct zmtp_event *ev,
                              const struct zmtp_part **parts, size_t *count)
{
    *parts = ev->parts;
    *count = ev->count;
    if (strcmp(socket_type, "REQ") == 0 || strcmp(socket_type, "REP") == 0) {
        for (size_t i = 0; i < ev->count; i++) {
            if (ev->parts[i].len == 0) {
                *parts = ev->parts + i + 1;
                *count = ev->count - i - 1;
                return;
            }
        }
    }
}

/* ---- shared setup ---- */

struct run {
    struct options opts;
    struct creds creds;
    struct transcript transcript;
    struct zmtp_session_config cfg;
    int64_t deadline;
    struct fault_plan faults;
    struct zmtp_deviations deviations; /* --deviate (tools/deviations.h) */
    struct authz authz;
    struct zmtp_authorizer authorizer;
    unsigned long delivered, reported; /* --bench: messages delivered, the total last printed */
};

/* A delivered message: its `delivered` event, or with --bench only its count. */
static void event_delivered(struct run *r, const struct zmtp_part *parts, size_t count)
{
    struct contract_part few[VIEW_PARTS] = {{NULL, 0}};
    struct contract_part *view = few;

    if (r->opts.bench) {
        r->delivered++;
        return;
    }
    if (count > VIEW_PARTS)
        view = calloc(count, sizeof(*view));
    if (view == NULL) {
        fprintf(stderr, "gsspeer: out of memory for a delivered event\n");
        return;
    }
    for (size_t i = 0; i < count; i++)
        view[i] = (struct contract_part){parts[i].data, parts[i].len};
    contract_event_delivered(view, count);
    if (view != few)
        free(view);
}

/* Before waiting: write the events held back (the server's batched `delivered` lines; with
 * --bench the {"received":TOTAL} line, as bench/zmqperf prints it, when the total changed). */
static void events_flush(struct run *r)
{
    if (r->opts.bench && r->delivered != r->reported) {
        printf("{\"received\":%lu}\n", r->delivered);
        r->reported = r->delivered;
    }
    contract_events_flush();
}

/* The deviations that are a setting ignored (tools/deviations.h): they change the parsed
 * options; the rest are consulted by the mechanism and the session. */
static void apply_deviations(const struct zmtp_deviations *d, struct options *o)
{
    if (d->as_server_zero)
        o->as_server = 0;
    if (d->no_handshake_timeout)
        o->handshake_ms = o->timeout_ms;
    if (d->nametype_ignored)
        o->service_nametype = NAMETYPE_HOSTBASED;
    if (d->any_service)
        o->service_principal = NULL;
    if (d->ignore_allow)
        o->allow_count = 0;
    if (d->plaintext_ignored)
        o->plaintext = false;
    if (d->no_frame_limit)
        o->max_frame_size = 0;
}

/* Parse, acquire credentials, open the transcript. Returns -1 to go on, else the exit status. */
static int run_setup(struct run *r, int argc, char **argv, bool server)
{
    char why[512];
    int status;
    struct sigaction sa;

    memset(r, 0, sizeof(*r));
    status = faults_take_options(&r->faults, &argc, argv, server);
    if (status != -1)
        return status;
    status = deviations_take_options("zmtp", &r->deviations, sizeof(r->deviations), &argc, argv,
                                     server);
    if (status != -1)
        return status;
    status = parse_options(argc, argv, server, &r->opts);
    if (status != -1)
        return status;
    apply_deviations(&r->deviations, &r->opts);
    r->deadline = zmtp_now_ms() + r->opts.timeout_ms;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Large message buffers come back from the heap instead of fresh pages every message. */
    mallopt(M_MMAP_THRESHOLD, HEAP_KEEP);
    mallopt(M_TRIM_THRESHOLD, 2 * HEAP_KEEP);
    if (!r->opts.bench)
        contract_events_prepare(); /* OpenSSL's set-up before the handshake, not in a message */
    if (!creds_setup(&r->opts, &r->creds, why, sizeof(why)))
        return fail(EXIT_FAIL, "%s", why);
    if (r->opts.transcript != NULL && !transcript_open(&r->transcript, r->opts.transcript))
        return fail(EXIT_INVALID, "--transcript %s: %s", r->opts.transcript, strerror(errno));
    r->cfg.mech.role = server ? ZMTP_ROLE_SERVER : ZMTP_ROLE_CLIENT;
    r->cfg.mech.plaintext = r->opts.plaintext;
    r->cfg.mech.cred = r->creds.cred;
    r->cfg.mech.target = r->creds.target;
    r->cfg.mech.socket_type = r->opts.socket_type;
    r->cfg.mech.deviations = deviations_any("zmtp", &r->deviations) ? &r->deviations : NULL;
    r->cfg.mech.wrap_path = r->opts.wrap_path;
    r->cfg.mech.token_check = !r->opts.no_token_check;
    r->cfg.mech.report = report_token_check;
    r->cfg.mech.report_arg = r->opts.transcript != NULL ? &r->transcript : NULL;
    if (!r->opts.plaintext && (r->cfg.mech.token_check || r->opts.wrap_path != ZMTP_WRAP_MIT))
        rfc4121_warm_up(); /* OpenSSL's first-use cost now, not inside a handshake */
    r->authz.opts = &r->opts;
    r->authorizer.start = authz_start;
    r->authorizer.poll = authz_poll;
    r->authorizer.arg = &r->authz;
    r->cfg.authorizer = server ? &r->authorizer : NULL;
    r->cfg.as_server = r->opts.as_server;
    r->cfg.max_frame_size = r->opts.max_frame_size;
    r->cfg.transcript = r->opts.transcript != NULL ? &r->transcript : NULL;
    r->cfg.stop = &stop_requested;
    status = faults_configure(&r->faults, &r->cfg);
    /* the wrapped plaintext of each frame is for the transcript and the fault hooks only */
    r->cfg.mech.no_frame_plain = r->cfg.transcript == NULL && r->cfg.hooks == NULL;
    return status;
}

static void run_release(struct run *r)
{
    authz_cancel(&r->authz);
    transcript_close(&r->transcript);
    faults_release(&r->faults);
    creds_release(&r->creds);
    options_free(&r->opts);
}

/* The handshake deadline of a connection made now: --handshake-timeout-ms, within the run's. */
static int64_t handshake_deadline(const struct run *r)
{
    int64_t d = zmtp_now_ms() + r->opts.handshake_ms;

    return d < r->deadline ? d : r->deadline;
}

/* ---- server ---- */

struct counts {
    unsigned long sent, received, verified;
};

/* The "authorized" event of a server decision. */
static void report_authz(const struct zmtp_event *ev)
{
    contract_event_authorized(ev->principal != NULL ? ev->principal : "", ev->allowed);
}

static void event_closed(const char *peer, const char *reason)
{
    fprintf(stderr, "gsspeer: connection from %s closed: %s\n", peer, reason);
    contract_event_begin("closed"); /* gsspeer's own event */
    fputs(",\"peer\":", stdout);
    json_put_string(stdout, peer);
    fputs(",\"reason\":", stdout);
    json_put_string(stdout, reason);
    contract_event_end();
}

/* The topics a PUB's subscriber asked for (a topic may be there more than once). */
struct subscriptions {
    struct zmtp_part *topics; /* owned */
    size_t count;
};

static void subscriptions_free(struct subscriptions *subs)
{
    free_parts(subs->topics, subs->count);
    subs->topics = NULL;
    subs->count = 0;
}

/* Apply a SUBSCRIBE or CANCEL event; false when out of memory. */
static bool subscriptions_apply(struct subscriptions *subs, struct zmtp_event *ev)
{
    struct zmtp_part *topics;

    if (ev->type == ZMTP_EVENT_CANCEL) {
        for (size_t i = 0; i < subs->count; i++) {
            if (subs->topics[i].len == ev->topic_len &&
                memcmp(subs->topics[i].data, ev->topic, ev->topic_len) == 0) {
                free(subs->topics[i].data);
                subs->topics[i] = subs->topics[--subs->count];
                break;
            }
        }
        return true;
    }
    topics = realloc(subs->topics, (subs->count + 1) * sizeof(*topics));

    if (topics == NULL)
        return false;
    subs->topics = topics;
    /* The event's topic buffer moves into the list. */
    subs->topics[subs->count].data = ev->topic;
    subs->topics[subs->count].len = ev->topic_len;
    subs->count++;
    ev->topic = NULL;
    return true;
}

/* True when the first part of a message starts with one of the subscribed topics. */
static bool subscriptions_match(const struct subscriptions *subs, const struct zmtp_part *first)
{
    for (size_t i = 0; i < subs->count; i++)
        if (subs->topics[i].len <= first->len &&
            (subs->topics[i].len == 0 ||
             memcmp(subs->topics[i].data, first->data, subs->topics[i].len) == 0))
            return true;
    return false;
}

/* ---- the server's event loop ---- */

/* One connection of the server: its session, its deadlines, its authorization command and its
 * PUB state. Allocated one by one, so the authorizer's address stays put. */
struct conn {
    struct zmtp_session s;
    char peer[128];
    int64_t handshake_deadline;
    int64_t idle_deadline; /* after READY */
    bool ready;
    bool idle; /* closed by the idle bound (its reason is already complete) */
    struct authz authz;
    struct zmtp_authorizer authorizer;
    struct subscriptions subs;
    bool publishing;        /* PUB: the first subscription came */
    unsigned long pub_next; /* PUB: the next of the --count messages to look at */
};

struct server {
    struct run *r;
    struct counts n;
    struct conn **conns; /* open connections, count of them */
    size_t count, max;
    bool echo;
    bool stopping;         /* SIGTERM/SIGINT: draining until STOP_DRAIN_MS */
    bool round_delivered;  /* this poll round delivered a message (its first one is written) */
};

/* Serve a new connection FD from PEER; false when it could not be set up (reported). */
static bool server_open(struct server *sv, int fd, const char *peer)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct zmtp_session_config cfg = sv->r->cfg;
    struct zmtp_error err;

    if (c == NULL) {
        close(fd);
        event_closed(peer, "out of memory for a connection");
        return false;
    }
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->authz.opts = &sv->r->opts;
    c->authorizer = (struct zmtp_authorizer){authz_start, authz_poll, &c->authz};
    cfg.authorizer = &c->authorizer;
    c->handshake_deadline = handshake_deadline(sv->r);
    if (zmtp_session_open(&c->s, fd, &cfg, &err) != ZMTP_OK) {
        event_closed(peer, err.text);
        free(c);
        return false;
    }
    sv->conns[sv->count++] = c;
    return true;
}

/* Close connection I after STATUS (*ERR raw, as the session gave it): the reason goes to the
 * transcript and, unless the close is a normal one, to a "closed" event and stderr. */
static void server_close(struct server *sv, size_t i, enum zmtp_status status,
                         struct zmtp_error *err)
{
    struct conn *c = sv->conns[i];
    struct zmtp_event ev;
    char reason[sizeof(err->text) + 128];
    bool ready = c->s.mech != NULL && zmtp_mech_ready(c->s.mech);

    /* Report an authorization decision queued before the failure. */
    while (c->s.mech != NULL && zmtp_mech_next_event(c->s.mech, &ev)) {
        if (ev.type == ZMTP_EVENT_AUTHORIZED)
            report_authz(&ev);
        zmtp_event_free(&ev);
    }
    if (status == ZMTP_CLOSED && ready) {
        size_t partial = zmtp_session_partial(&c->s);

        if (c->s.peer_reset || partial > 0) {
            /* Not a clean end: the peer reset the connection or left a frame unfinished. */
            snprintf(reason, sizeof(reason), "%s after READY (%lu frames received%s)",
                     c->s.peer_reset ? "connection reset by peer"
                                     : "peer closed the connection in the middle of a frame",
                     c->s.conn.frames_in, partial > 0 ? ", then part of a frame" : "");
            if (partial > 0 && c->s.peer_reset)
                snprintf(reason, sizeof(reason),
                         "connection reset by peer after READY, in the middle of a frame (%lu "
                         "frames received, then %zu bytes of the next)",
                         c->s.conn.frames_in, partial);
            else if (partial > 0)
                snprintf(reason, sizeof(reason),
                         "peer closed the connection after READY in the middle of a frame (%lu "
                         "frames received, then %zu bytes of the next)",
                         c->s.conn.frames_in, partial);
            zmtp_session_close(&c->s, reason);
            event_closed(c->peer, reason);
        } else {
            zmtp_session_close(&c->s, "peer closed the connection");
        }
    } else if (sv->stopping) {
        zmtp_session_close(&c->s, "stopped by a signal");
    } else {
        if (!c->idle)
            zmtp_session_reason(&c->s, status, err,
                                ready ? "while waiting for a message" : "during the handshake");
        zmtp_session_close(&c->s, err->text);
        event_closed(c->peer, err->text);
    }
    authz_cancel(&c->authz);
    subscriptions_free(&c->subs);
    free(c);
    sv->conns[i] = sv->conns[--sv->count];
}

/* PUB: queue more of the --count messages whose first part matches a subscription (a PUB
 * filters on the sending side, as libzmq's does), a few at a time so that output stays bounded. */
static enum zmtp_status publish_more(struct server *sv, struct conn *c, struct zmtp_error *err)
{
    const struct options *o = &sv->r->opts;

    while (c->publishing && c->pub_next < o->count && c->s.out.len - c->s.out_off < OUT_LIMIT / 2) {
        size_t count;
        struct zmtp_part *parts = make_message(o, c->pub_next, &count);
        enum zmtp_status status = ZMTP_OK;

        if (parts == NULL)
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
        if (subscriptions_match(&c->subs, &parts[0])) {
            status = zmtp_mech_send(c->s.mech, parts, count, err);
            if (status == ZMTP_OK) {
                sv->n.sent++;
                status = zmtp_session_queue_output(&c->s, err);
            }
        }
        free_parts(parts, count);
        if (status != ZMTP_OK)
            return status;
        c->pub_next++;
    }
    return ZMTP_OK;
}

/* Handle the application events connection C produced: deliver, echo, subscribe. */
static enum zmtp_status server_events(struct server *sv, struct conn *c, struct zmtp_error *err)
{
    struct zmtp_event ev;
    enum zmtp_status status = ZMTP_OK;

    while (status == ZMTP_OK && zmtp_mech_next_event(c->s.mech, &ev)) {
        switch (ev.type) {
        case ZMTP_EVENT_AUTHORIZED:
            report_authz(&ev);
            break;
        case ZMTP_EVENT_AUTHORIZE: /* the session asks the authorizer */
            break;
        case ZMTP_EVENT_READY:
            c->ready = true;
            c->idle_deadline = zmtp_now_ms() + sv->r->opts.idle_ms;
            break;
        case ZMTP_EVENT_MESSAGE: {
            const struct zmtp_part *parts;
            size_t count;

            sv->n.received++;
            application_parts(sv->r->opts.socket_type, &ev, &parts, &count);
            event_delivered(sv->r, parts, count);
            if (!sv->round_delivered) {
                /* The first message of a round goes out at once (as bench/zmqperf reports the
                 * first after a pause): a reader sees when a burst began. */
                sv->round_delivered = true;
                events_flush(sv->r);
            }
            if (sv->echo) {
                status = zmtp_mech_send(c->s.mech, ev.parts, ev.count, err);
                if (status == ZMTP_OK)
                    sv->n.sent++;
            }
            break;
        }
        case ZMTP_EVENT_SUBSCRIBE:
        case ZMTP_EVENT_CANCEL:
            if (!subscriptions_apply(&c->subs, &ev))
                status = zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
            else if (ev.type == ZMTP_EVENT_SUBSCRIBE)
                c->publishing = true;
            break;
        }
        zmtp_event_free(&ev);
    }
    /* Echoes are written at once (a large one from where it is), except while stopping. */
    if (status == ZMTP_OK)
        status = sv->stopping ? zmtp_session_queue_output(&c->s, err)
                              : zmtp_session_queue_and_write(&c->s, err);
    if (status == ZMTP_OK)
        status = publish_more(sv, c, err);
    return status;
}

/* Accept what waits in the backlog while there is room. */
static void server_accept(struct server *sv, int lfd)
{
    int one = 1;

    while (sv->count < sv->max) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        char peer_text[128];
        int fd = accept(lfd, (struct sockaddr *)&peer, &peer_len);

        if (fd < 0)
            return; /* EAGAIN (nothing more), or a connection that went away meanwhile */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        format_endpoint(&peer, peer_text, sizeof(peer_text));
        server_open(sv, fd, peer_text);
    }
}

/* Close the connections whose deadline passed at NOW (the handshake's, the idle bound, or the
 * run's); returns the poll timeout to the nearest deadline left (at most 100 ms). */
static int server_deadlines(struct server *sv, int64_t now)
{
    int64_t next = now + 100;

    for (size_t i = sv->count; i-- > 0;) {
        struct conn *c = sv->conns[i];
        int64_t due = c->ready ? c->idle_deadline : c->handshake_deadline;
        struct zmtp_error err;

        if (sv->r->deadline < due)
            due = sv->r->deadline;
        if (now >= due) {
            c->idle = c->ready && now >= c->idle_deadline && now < sv->r->deadline;
            if (c->idle)
                zmtp_fail(&err, ZMTP_TIMEOUT,
                          "idle for %ld ms after the handshake "
                          "(--idle-timeout-ms)",
                          sv->r->opts.idle_ms);
            else
                zmtp_fail(&err, ZMTP_TIMEOUT, "no progress before the deadline");
            server_close(sv, i, ZMTP_TIMEOUT, &err);
            continue;
        }
        if (due < next)
            next = due;
        if (c->s.authz_pending && now + AUTHZ_POLL_STEP_MS < next)
            next = now + AUTHZ_POLL_STEP_MS; /* look at the running --authz-cmd */
    }
    return (int)(next - now);
}

/* Raise the soft limit on open files to the hard one; the connections it allows. */
static size_t connection_room(void)
{
    struct rlimit rl;
    size_t room = MAX_CONNECTIONS;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        /* Keep some for the transcript, credentials, the authorization commands' pipes. */
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)MAX_CONNECTIONS + 64)
            room = rl.rlim_cur > 128 ? (size_t)rl.rlim_cur - 64 : 64;
    }
    return room;
}

/* Serve every connection on LFD until a stop signal or the run's deadline. Returns the exit
 * status (an error event printed when the run timed out). */
static int server_loop(struct server *sv, int lfd)
{
    struct pollfd *pfds = calloc(sv->max + 1, sizeof(*pfds));
    struct conn **polled = calloc(sv->max + 1, sizeof(*polled));
    int64_t stop_until = 0;
    int status = EXIT_OK;

    if (pfds == NULL || polled == NULL) {
        free(pfds);
        free(polled);
        return fail(EXIT_FAIL, "out of memory");
    }
    for (;;) {
        int64_t now = zmtp_now_ms();
        size_t n = 0;
        int timeout;

        if (stop_requested && !sv->stopping) {
            sv->stopping = true;
            stop_until = now + STOP_DRAIN_MS;
        }
        if (sv->stopping) {
            bool waiting = false;

            for (size_t i = 0; i < sv->count; i++)
                waiting = waiting || !sv->conns[i]->s.peer_closed;
            if (!waiting || now >= stop_until)
                break;
        } else if (now >= sv->r->deadline) {
            server_deadlines(sv, now); /* closes every connection with its reason */
            status = fail(EXIT_FAIL, "--timeout-ms %ld reached", sv->r->opts.timeout_ms);
            break;
        }
        timeout = sv->stopping ? (int)(stop_until - now) : server_deadlines(sv, now);
        if (!sv->stopping && sv->count < sv->max) {
            pfds[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
            polled[n++] = NULL;
        }
        for (size_t i = 0; i < sv->count; i++) {
            struct conn *c = sv->conns[i];
            short events = zmtp_session_poll_events(&c->s, OUT_LIMIT);

            if (sv->stopping) /* take what the peer sent up to its FIN; write nothing more */
                events &= POLLIN;
            pfds[n] = (struct pollfd){.fd = c->s.fd, .events = events};
            polled[n++] = c;
        }
        if (timeout < 0)
            timeout = 0;
        events_flush(sv->r); /* what this round delivered, before waiting again */
        sv->round_delivered = false;
        if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
            status = fail(EXIT_FAIL, "poll: %s", strerror(errno));
            break;
        }
        for (size_t k = 0; k < n; k++) {
            struct conn *c = polled[k];
            struct zmtp_error err;
            enum zmtp_status st;
            size_t i;

            if (c == NULL) {
                if (pfds[k].revents & POLLIN)
                    server_accept(sv, lfd);
                continue;
            }
            if (pfds[k].revents == 0 && !c->s.authz_pending)
                continue;
            st = zmtp_session_step(&c->s, pfds[k].revents, &err);
            if (st == ZMTP_OK)
                st = server_events(sv, c, &err);
            /* Write what the events produced (echoes) now, not a poll round later. */
            if (st == ZMTP_OK && !sv->stopping && (zmtp_session_poll_events(&c->s, 0) & POLLOUT))
                st = zmtp_session_step(&c->s, POLLOUT, &err);
            if (st == ZMTP_OK && c->ready && (pfds[k].revents & POLLIN))
                c->idle_deadline = zmtp_now_ms() + sv->r->opts.idle_ms;
            if (st == ZMTP_OK)
                continue;
            for (i = 0; i < sv->count && sv->conns[i] != c; i++)
                ;
            server_close(sv, i, st, &err);
        }
    }
    while (sv->count > 0) {
        struct zmtp_error err;

        zmtp_fail(&err, ZMTP_TIMEOUT, "stopped by a signal");
        server_close(sv, sv->count - 1, ZMTP_TIMEOUT, &err);
    }
    free(pfds);
    free(polled);
    return status;
}

int cmd_zmtp_server(int argc, char **argv)
{
    struct run r;
    struct server sv;
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof(addr);
    char why[512], endpoint[128];
    int status, lfd = -1, one = 1;
    const char *type;

    memset(&sv, 0, sizeof(sv));
    contract_events_batch(true); /* `delivered` lines of one round written together */
    status = run_setup(&r, argc, argv, true);
    if (status != -1)
        goto cleanup;
    if (!resolve_endpoint(r.opts.endpoint, true, &addr, &addr_len, why, sizeof(why))) {
        status = fail(EXIT_INVALID, "%s", why);
        goto cleanup;
    }
    lfd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&addr, addr_len) < 0 || listen(lfd, LISTEN_BACKLOG) < 0) {
        status = fail(EXIT_FAIL, "bind %s: %s", r.opts.endpoint, strerror(errno));
        goto cleanup;
    }
    addr_len = sizeof(addr);
    getsockname(lfd, (struct sockaddr *)&addr, &addr_len);
    format_endpoint(&addr, endpoint, sizeof(endpoint));
    contract_event_listening(endpoint);
    if (faults_active(&r.faults)) {
        /* A fault plan serves exactly one connection, in order (tools/faults.c). */
        status = EXIT_OK;
        while (!stop_requested) {
            struct pollfd pfd = {.fd = lfd, .events = POLLIN};
            int64_t left = r.deadline - zmtp_now_ms();
            struct zmtp_session s;
            struct zmtp_error err;
            int fd;

            if (left <= 0) {
                status = fail(EXIT_FAIL, "--timeout-ms %ld reached", r.opts.timeout_ms);
                break;
            }
            if (poll(&pfd, 1, left > 100 ? 100 : (int)left) <= 0)
                continue;
            fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                continue;
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (zmtp_session_open(&s, fd, &r.cfg, &err) != ZMTP_OK) {
                status = fail(EXIT_FAIL, "%s", err.text);
                break;
            }
            status = faults_run(&r.faults, &s, handshake_deadline(&r), r.deadline, &stop_requested);
            zmtp_session_close(&s, "fault observed");
            break;
        }
        goto cleanup;
    }
    if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0) {
        status = fail(EXIT_FAIL, "listening socket: %s", strerror(errno));
        goto cleanup;
    }
    sv.r = &r;
    sv.max = connection_room();
    sv.conns = calloc(sv.max, sizeof(*sv.conns));
    type = r.opts.socket_type;
    sv.echo =
        strcmp(type, "ROUTER") == 0 || strcmp(type, "REP") == 0 || strcmp(type, "DEALER") == 0;
    if (sv.conns == NULL) {
        status = fail(EXIT_FAIL, "out of memory");
        goto cleanup;
    }
    status = server_loop(&sv, lfd);
    if (status == EXIT_OK)
        event_done(sv.n.sent, sv.n.received, sv.n.received);
cleanup:
    free(sv.conns);
    if (lfd >= 0)
        close(lfd);
    run_release(&r);
    return status;
}

/* ---- client ---- */

/* Wait for the next MESSAGE event (other events are reported or skipped). */
static enum zmtp_status next_message(struct run *r, struct zmtp_session *s, struct zmtp_event *ev,
                                     struct zmtp_error *err)
{
    for (;;) {
        enum zmtp_status status = zmtp_session_next_event(s, ev, r->deadline, err);

        if (status != ZMTP_OK)
            return status;
        if (ev->type == ZMTP_EVENT_MESSAGE)
            return ZMTP_OK;
        zmtp_event_free(ev);
    }
}

/* --interval-ms: let the pause pass with the connection serviced; a message arriving meanwhile
 * is a failure (nothing is owed to us between an echo and our next message). */
static enum zmtp_status pause_between(struct run *r, struct zmtp_session *s, struct zmtp_error *err)
{
    int64_t until = zmtp_now_ms() + r->opts.interval_ms;

    if (until > r->deadline)
        until = r->deadline;
    for (;;) {
        struct zmtp_event ev;
        enum zmtp_status status = zmtp_session_next_event(s, &ev, until, err);

        if (status == ZMTP_TIMEOUT && zmtp_now_ms() >= until && !stop_requested)
            return until < r->deadline ? ZMTP_OK : status;
        if (status != ZMTP_OK)
            return status;
        if (ev.type == ZMTP_EVENT_MESSAGE) {
            zmtp_event_free(&ev);
            return zmtp_fail(err, ZMTP_UNEXPECTED, "a message arrived during --interval-ms");
        }
        zmtp_event_free(&ev);
    }
}

/* DEALER / REQ: send each message and verify its echo; PUSH: only send. */
static int client_exchange(struct run *r, struct zmtp_session *s, struct counts *n)
{
    bool push = strcmp(r->opts.socket_type, "PUSH") == 0;
    /* PUSH without pauses: messages are queued and leave in large writes (as libzmq's I/O
     * thread batches them); each frame still passes the hooks and the transcript. */
    size_t batch = push && r->opts.interval_ms == 0 ? PUSH_BATCH : 0;
    struct zmtp_error err;

    for (unsigned long k = 0; k < r->opts.count; k++) {
        size_t count;
        struct zmtp_part *parts = make_message(&r->opts, k, &count);
        struct zmtp_event ev;
        enum zmtp_status status;

        if (parts == NULL)
            return fail(EXIT_FAIL, "out of memory");
        if (k > 0 && r->opts.interval_ms > 0 && pause_between(r, s, &err) != ZMTP_OK) {
            free_parts(parts, count);
            return fail(EXIT_FAIL, "before message %lu: %s", k, err.text);
        }
        status = zmtp_session_send_batched(s, parts, count, batch, r->deadline, &err);
        if (status != ZMTP_OK) {
            free_parts(parts, count);
            return fail(EXIT_FAIL, "message %lu: %s", k, err.text);
        }
        n->sent++;
        if (push) {
            free_parts(parts, count);
            continue;
        }
        status = next_message(r, s, &ev, &err);
        if (status != ZMTP_OK) {
            free_parts(parts, count);
            return fail(EXIT_FAIL, "echo of message %lu: %s", k, err.text);
        }
        n->received++;
        {
            const struct zmtp_part *app;
            size_t app_count;

            application_parts(r->opts.socket_type, &ev, &app, &app_count);
            event_delivered(r, app, app_count);
            if (r->opts.bench && (n->received == 1 || k + 1 == r->opts.count))
                events_flush(r); /* the first and the last echo, as bench/zmqperf */
        }
        if (!same_message(ev.parts, ev.count, parts, count)) {
            zmtp_event_free(&ev);
            free_parts(parts, count);
            return fail(EXIT_FAIL, "echo of message %lu differs from what was sent", k);
        }
        n->verified++;
        zmtp_event_free(&ev);
        free_parts(parts, count);
    }
    if (batch > 0 && zmtp_session_flush(s, r->deadline, &err) != ZMTP_OK)
        return fail(EXIT_FAIL, "after message %lu: %s", r->opts.count - 1, err.text);
    contract_event_sent(n->sent);
    return EXIT_OK;
}

/* SUB: subscribe, then receive and verify --count messages. */
static int client_subscribe(struct run *r, struct zmtp_session *s, struct counts *n)
{
    struct zmtp_error err;

    if (zmtp_session_subscribe(s, ZMTP_SUBSCRIBE, r->opts.subscribe, strlen(r->opts.subscribe),
                               r->deadline, &err) != ZMTP_OK)
        return fail(EXIT_FAIL, "subscribe: %s", err.text);
    for (unsigned long k = 0; k < r->opts.count; k++) {
        struct zmtp_event ev;
        size_t count;
        struct zmtp_part *want;
        bool same;

        if (next_message(r, s, &ev, &err) != ZMTP_OK)
            return fail(EXIT_FAIL, "published message %lu: %s", k, err.text);
        n->received++;
        event_delivered(r, ev.parts, ev.count);
        if (r->opts.bench && (n->received == 1 || k + 1 == r->opts.count))
            events_flush(r);
        want = make_message(&r->opts, k, &count);
        same = want != NULL && same_message(ev.parts, ev.count, want, count);
        free_parts(want, count);
        zmtp_event_free(&ev);
        if (!same)
            return fail(EXIT_FAIL, "published message %lu differs from the expected payload", k);
        n->verified++;
    }
    return EXIT_OK;
}

int cmd_zmtp_client(int argc, char **argv)
{
    struct run r;
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof(addr);
    struct zmtp_session s;
    struct zmtp_error err;
    struct counts n = {0, 0, 0};
    char why[512];
    int status, fd;
    bool open = false;

    status = run_setup(&r, argc, argv, false);
    if (status != -1)
        goto cleanup;
    if (!resolve_endpoint(r.opts.endpoint, false, &addr, &addr_len, why, sizeof(why))) {
        status = fail(EXIT_INVALID, "%s", why);
        goto cleanup;
    }
    fd = connect_before(&addr, addr_len, r.deadline, why, sizeof(why));
    if (fd < 0) {
        status = fail(EXIT_FAIL, "%s: %s", r.opts.endpoint, why);
        goto cleanup;
    }
    if (zmtp_session_open(&s, fd, &r.cfg, &err) != ZMTP_OK) {
        status = fail(EXIT_FAIL, "%s", err.text);
        goto cleanup;
    }
    open = true;
    if (faults_active(&r.faults)) {
        status = faults_run(&r.faults, &s, handshake_deadline(&r), r.deadline, &stop_requested);
        goto cleanup;
    }
    if (zmtp_session_handshake(&s, handshake_deadline(&r), &err) != ZMTP_OK) {
        status = fail(EXIT_FAIL, "handshake with %s: %s", r.opts.endpoint, err.text);
        goto cleanup;
    }
    if (strcmp(r.opts.socket_type, "SUB") == 0)
        status = client_subscribe(&r, &s, &n);
    else
        status = client_exchange(&r, &s, &n);
    if (status == EXIT_OK)
        event_done(n.sent, n.received, n.verified);
cleanup:
    if (open)
        zmtp_session_close(&s, status == EXIT_OK ? "done" : "failed");
    run_release(&r);
    return status;
}

int cmd_contract(int argc, char **argv)
{
    return contract_command(argc, argv, NULL); /* gsspeer honours every contract option */
}
