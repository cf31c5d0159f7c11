/*
 * skeleton-shim: the start of a C shim for the ZMTP shim contract (docs/candidates.md).
 *
 * Copy this file next to your binding, rename it, and fill in the two functions marked
 * BINDING: run_server() and run_client(). Everything else (the command line of the contract,
 * the exit statuses, the JSON events on stdout, the payload the contract defines, SIGTERM) is
 * done, and tests/candidates/skeleton-t.py holds it to the contract's option table
 * (`gsspeer contract --json`). It needs only libc and OpenSSL's libcrypto (for SHA-256):
 *
 *     cc -std=c11 -Wall -Wextra -O2 my-shim.c -o my-shim $(pkg-config --cflags --libs libcrypto)
 *
 * plus whatever your binding needs. Until the BINDING parts are written every role exits 69
 * ("cannot honour"), which the runner reports as UNIMPLEMENTED, never as a pass.
 *
 * Rules that keep verdicts right (docs/candidates.md, "Writing a shim"):
 *  - stdout carries the contract's JSON events and nothing else: a log line there makes the case
 *    ERROR. Point your library's logging at stderr.
 *  - an option you cannot honour: list it in UNHONOURED below (exit 69). Never ignore one: the
 *    case would judge a configuration you did not run.
 *  - any failure: event_error() (an `error` event plus the same line on stderr), exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define PROG "skeleton-shim"
#define VERSION "skeleton-shim 0.1 (no binding)"

/* Exit statuses of the shim contract. */
enum shim_exit {
    SHIM_OK = 0,           /* success; a server stopped by SIGTERM */
    SHIM_FAIL = 1,         /* protocol or exchange failure (error event, reason on stderr) */
    SHIM_INVALID = 2,      /* invalid input: a malformed option value */
    SHIM_USAGE = 64,       /* usage: unknown option, missing value, option of the other role */
    SHIM_UNAVAILABLE = 69  /* a contract option this binding cannot honour */
};

enum shim_role { ROLE_SERVER, ROLE_CLIENT };

/* The contract's options (docs/candidates.md). */
struct shim_options {
    enum shim_role role;
    const char *endpoint;           /* --bind (server) or --connect (client): tcp://HOST:PORT */
    const char *socket_type;        /* NULL: ROUTER (server), DEALER (client) */
    const char *service_principal;  /* client: target; server: own acceptor name (NULL: any) */
    const char *service_nametype;   /* hostbased (default), user, krb5 */
    const char *principal;          /* client: own principal (NULL: the environment's) */
    const char *nametype;
    bool plaintext;                 /* ZMQ_GSSAPI_PLAINTEXT */
    const char *allow[32];          /* server: admitted client principals (none: everyone) */
    size_t n_allow;
    unsigned long count, size, parts;
    const char *payload_hex;        /* fixed payload of every part (NULL: generated) */
    const char *subscribe;          /* SUB: the topic ("" = everything) */
    unsigned long timeout_ms;       /* overall bound (default 10000); on expiry exit 1 */
    unsigned long handshake_timeout_ms;  /* 0: the library's own */
    unsigned long interval_ms;
    unsigned long max_frame_size;   /* 0: no limit of the contract's own */
    const char *transcript;
};

/*
 * BINDING: the options your binding cannot honour, by name without the dashes. The runner
 * reports the cases that need them as UNIMPLEMENTED. A libzmq binding cannot write a frame
 * transcript (libzmq does not expose frames).
 */
static const char *const UNHONOURED[] = {"transcript", NULL};

/* Set by SIGTERM/SIGINT: a server ends its loop, prints `done` and exits 0. */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- events: one JSON object per line on stdout, flushed at once ---- */

/* Write S as a JSON string (quotes included) to stdout. */
static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* {"event":"listening","endpoint":E}: the server's readiness signal, after bind succeeded. */
static void event_listening(const char *endpoint)
{
    fputs("{\"event\":\"listening\",\"endpoint\":", stdout);
    json_string(endpoint);
    fputs("}\n", stdout);
    fflush(stdout);
}

/* One message part as the application received it (borrowed bytes). */
struct shim_part {
    const unsigned char *data;
    size_t len;
};

/* {"event":"delivered","parts":[{len,sha256,head}...]}: every message the application got. */
static void event_delivered(const struct shim_part *parts, size_t n)
{
    fputs("{\"event\":\"delivered\",\"parts\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        if (EVP_Digest(parts[i].data, parts[i].len, digest, &digest_len, EVP_sha256(), NULL) != 1)
            digest_len = 0;
        printf("%s{\"len\":%zu,\"sha256\":\"", i ? "," : "", parts[i].len);
        for (unsigned int k = 0; k < digest_len; k++)
            printf("%02x", digest[k]);
        fputs("\",\"head\":\"", stdout);
        for (size_t k = 0; k < parts[i].len && k < 32; k++)
            printf("%02x", parts[i].data[k]);
        fputs("\"}", stdout);
    }
    fputs("]}\n", stdout);
    fflush(stdout);
}

/* {"event":"sent","count":N}: a client, after all sends. */
static void event_sent(unsigned long count)
{
    printf("{\"event\":\"sent\",\"count\":%lu}\n", count);
    fflush(stdout);
}

/* {"event":"authorized","principal":P,"allowed":B}: a server, after the client authenticated. */
static void event_authorized(const char *principal, bool allowed)
{
    fputs("{\"event\":\"authorized\",\"principal\":", stdout);
    json_string(principal);
    printf(",\"allowed\":%s}\n", allowed ? "true" : "false");
    fflush(stdout);
}

/* {"event":"done","sent":S,"received":R,"verified":V}: the run ended well. */
static void event_done(unsigned long sent, unsigned long received, unsigned long verified)
{
    printf("{\"event\":\"done\",\"sent\":%lu,\"received\":%lu,\"verified\":%lu}\n", sent,
           received, verified);
    fflush(stdout);
}

/* "PROG: REASON" on stderr and {"event":"error","reason":REASON}; the caller then exits 1. */
static void event_error(const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", PROG, reason);
    fputs("{\"event\":\"error\",\"reason\":", stdout);
    json_string(reason);
    fputs("}\n", stdout);
    fflush(stdout);
}

/* Byte I of every part of message K when no --payload-hex is given (the contract's payload). */
static unsigned char payload_byte(unsigned long k, size_t i)
{
    return (unsigned char)((k * 31u + i) & 0xffu);
}

/* ---- BINDING: the two roles ---- */

/*
 * Run the server: bind O->endpoint with the GSSAPI mechanism as a server (acceptor keytab from
 * KRB5_KTNAME), print event_listening() once bound, then echo every multipart message (ROUTER,
 * REP, DEALER; PULL only delivers) and print event_delivered() for each, until stop_requested
 * (event_done, return SHIM_OK) or O->timeout_ms (event_error, return SHIM_FAIL). With --allow,
 * decide admission by the client principal (libzmq: a ZAP handler) and print
 * event_authorized(). Returns the exit status.
 */
static int run_server(const struct shim_options *o)
{
    (void)o;
    fprintf(stderr, "%s: the server role is not written yet (run_server)\n", PROG);
    return SHIM_UNAVAILABLE;
}

/*
 * Run the client: connect to O->endpoint with the GSSAPI mechanism as a client (target
 * O->service_principal of O->service_nametype; own credentials from KRB5_CLIENT_KTNAME or
 * KRB5CCNAME), send O->count messages of O->parts parts of O->size bytes (payload_byte() or
 * --payload-hex), wait for each echo (REQ, DEALER) and verify it byte for byte, pausing
 * O->interval_ms between messages; print event_sent() after the sends and event_done() at the
 * end (return SHIM_OK), or event_error() on the first failure (return SHIM_FAIL). Returns the
 * exit status.
 */
static int run_client(const struct shim_options *o)
{
    (void)o;
    fprintf(stderr, "%s: the client role is not written yet (run_client)\n", PROG);
    return SHIM_UNAVAILABLE;
}

/* ---- the command line of the contract ---- */

enum opt_roles { FOR_BOTH, FOR_SERVER, FOR_CLIENT };

struct opt_spec {
    const char *name;
    bool value;
    enum opt_roles roles;
};

/* The contract's option table, as `gsspeer contract --json` prints it. */
static const struct opt_spec OPTIONS[] = {
    {"bind", true, FOR_SERVER},
    {"connect", true, FOR_CLIENT},
    {"socket-type", true, FOR_BOTH},
    {"service-principal", true, FOR_BOTH},
    {"service-nametype", true, FOR_BOTH},
    {"principal", true, FOR_CLIENT},
    {"nametype", true, FOR_CLIENT},
    {"plaintext", false, FOR_BOTH},
    {"allow", true, FOR_SERVER},
    {"count", true, FOR_BOTH},
    {"size", true, FOR_BOTH},
    {"parts", true, FOR_BOTH},
    {"payload-hex", true, FOR_BOTH},
    {"subscribe", true, FOR_CLIENT},
    {"timeout-ms", true, FOR_BOTH},
    {"handshake-timeout-ms", true, FOR_BOTH},
    {"interval-ms", true, FOR_CLIENT},
    {"max-frame-size", true, FOR_BOTH},
    {"transcript", true, FOR_BOTH},
};

/* Parse TEXT as a whole non-negative decimal number into *OUT; false if it is not one. */
static bool parse_ulong(const char *text, unsigned long *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = value;
    return true;
}

/* Store option SPEC's VALUE in O; returns an exit status (SHIM_OK when stored). */
static int store(struct shim_options *o, const struct opt_spec *spec, const char *value)
{
    const char *n = spec->name;
    unsigned long *number = NULL;
    if (strcmp(n, "bind") == 0 || strcmp(n, "connect") == 0)
        o->endpoint = value;
    else if (strcmp(n, "socket-type") == 0)
        o->socket_type = value;
    else if (strcmp(n, "service-principal") == 0)
        o->service_principal = value;
    else if (strcmp(n, "service-nametype") == 0)
        o->service_nametype = value;
    else if (strcmp(n, "principal") == 0)
        o->principal = value;
    else if (strcmp(n, "nametype") == 0)
        o->nametype = value;
    else if (strcmp(n, "plaintext") == 0)
        o->plaintext = true;
    else if (strcmp(n, "allow") == 0) {
        if (o->n_allow == sizeof(o->allow) / sizeof(o->allow[0])) {
            fprintf(stderr, "%s: --allow: more than %zu principals\n", PROG, o->n_allow);
            return SHIM_INVALID;
        }
        o->allow[o->n_allow++] = value;
    } else if (strcmp(n, "payload-hex") == 0)
        o->payload_hex = value;
    else if (strcmp(n, "subscribe") == 0)
        o->subscribe = value;
    else if (strcmp(n, "transcript") == 0)
        o->transcript = value;
    else if (strcmp(n, "count") == 0)
        number = &o->count;
    else if (strcmp(n, "size") == 0)
        number = &o->size;
    else if (strcmp(n, "parts") == 0)
        number = &o->parts;
    else if (strcmp(n, "timeout-ms") == 0)
        number = &o->timeout_ms;
    else if (strcmp(n, "handshake-timeout-ms") == 0)
        number = &o->handshake_timeout_ms;
    else if (strcmp(n, "interval-ms") == 0)
        number = &o->interval_ms;
    else if (strcmp(n, "max-frame-size") == 0)
        number = &o->max_frame_size;
    if (number != NULL && !parse_ulong(value, number)) {
        fprintf(stderr, "%s: --%s: not a number: '%s'\n", PROG, n, value);
        return SHIM_INVALID;
    }
    return SHIM_OK;
}

/* Parse ARGV (after the role) into O; returns an exit status (SHIM_OK to go on). */
static int parse(int argc, char **argv, struct shim_options *o)
{
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const struct opt_spec *spec = NULL;
        if (strncmp(arg, "--", 2) == 0)
            for (size_t k = 0; k < sizeof(OPTIONS) / sizeof(OPTIONS[0]); k++)
                if (strcmp(arg + 2, OPTIONS[k].name) == 0)
                    spec = &OPTIONS[k];
        if (spec == NULL) {
            fprintf(stderr, "%s: unknown option '%s'\n", PROG, arg);
            return SHIM_USAGE;
        }
        if ((spec->roles == FOR_SERVER && o->role != ROLE_SERVER) ||
            (spec->roles == FOR_CLIENT && o->role != ROLE_CLIENT)) {
            fprintf(stderr, "%s: %s is not an option of %s\n", PROG, arg, argv[1]);
            return SHIM_USAGE;
        }
        const char *value = NULL;
        if (spec->value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", PROG, arg);
                return SHIM_USAGE;
            }
            value = argv[++i];
        }
        for (const char *const *u = UNHONOURED; *u != NULL; u++)
            if (strcmp(*u, spec->name) == 0) {
                fprintf(stderr, "%s: %s: cannot honour this option\n", PROG, arg);
                return SHIM_UNAVAILABLE;
            }
        int status = store(o, spec, value);
        if (status != SHIM_OK)
            return status;
    }
    if (o->endpoint == NULL) {
        fprintf(stderr, "%s: %s needs %s\n", PROG, argv[1],
                o->role == ROLE_SERVER ? "--bind" : "--connect");
        return SHIM_USAGE;
    }
    if (o->count == 0 || o->parts == 0) {
        fprintf(stderr, "%s: --count and --parts must be at least 1\n", PROG);
        return SHIM_INVALID;
    }
    return SHIM_OK;
}

/*
 * `PROG sample-events`: one event of each kind for message 0 of the default payload (2 parts of
 * 40 bytes), so the event writers can be checked without a binding (tests/candidates/
 * skeleton-t.py compares them with the runner's contract). Keep it: it costs nothing.
 */
static int sample_events(void)
{
    unsigned char data[40];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = payload_byte(0, i);
    struct shim_part parts[2] = {{data, sizeof(data)}, {data, sizeof(data)}};
    event_listening("tcp://127.0.0.1:5555");
    event_authorized("alice@GSSCONFORM.TEST", true);
    event_delivered(parts, 2);
    event_sent(1);
    event_done(1, 1, 1);
    event_error("sample \"reason\" with a\ttab");
    return SHIM_OK;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        puts(VERSION);
        return SHIM_OK;
    }
    if (argc == 2 && strcmp(argv[1], "sample-events") == 0)
        return sample_events();
    struct shim_options o = {.count = 1, .size = 16, .parts = 1, .timeout_ms = 10000,
                             .subscribe = ""};
    if (argc >= 2 && strcmp(argv[1], "zmtp-server") == 0)
        o.role = ROLE_SERVER;
    else if (argc >= 2 && strcmp(argv[1], "zmtp-client") == 0)
        o.role = ROLE_CLIENT;
    else {
        fprintf(stderr, "usage: %s zmtp-server --bind tcp://HOST:PORT [options]\n"
                        "       %s zmtp-client --connect tcp://HOST:PORT [options]\n"
                        "       %s --version\n(options: docs/candidates.md, the shim contract)\n",
                PROG, PROG, PROG);
        return SHIM_USAGE;
    }
    int status = parse(argc, argv, &o);
    if (status != SHIM_OK)
        return status;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return o.role == ROLE_SERVER ? run_server(&o) : run_client(&o);
}
