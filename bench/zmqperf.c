/*
 * zmqperf: libzmq engine to engine for bench/throughput, without the shim contract's per-message
 * sha256 and JSON event (candidates/libzmq's shim pays those, like gsspeer's CLI).
 *
 *   zmqperf server --bind tcp://127.0.0.1:0 --pattern echo|oneway --security S [--timeout-ms MS]
 *   zmqperf client --connect EP --pattern echo|oneway --security S --size N --count N
 *                  [--service NAME] [--timeout-ms MS]
 *
 * S: null (libzmq NULL mechanism, the ceiling), gssapi (encrypted), plaintext
 * (ZMQ_GSSAPI_PLAINTEXT). Kerberos from the environment as for the shims; the client's service
 * is host-based (default zmq@localhost).
 * Server: ROUTER echoing every message (echo) or PULL counting them (oneway); first line
 * {"event":"listening","endpoint":...}; in oneway mode {"received":TOTAL} every 64 messages and
 * whenever it falls idle for 1 ms (so a reader learns when a run's messages have all arrived).
 * Runs until SIGTERM or --timeout-ms (default 600000).
 * {"received":TOTAL} also for the first message after such a pause.
 * Client: DEALER sending COUNT messages of SIZE bytes, each echo awaited before the next
 * (echo; {"received":N} after the first and the last echo), or PUSH sending them all (oneway,
 * the socket closed with a bounded linger); prints {"event":"done","count":N}, exits 0.
 * Exit 1 on a libzmq failure or timeout (reason on stderr), 64 on a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 64 };
enum { REPORT_EVERY = 64, LINGER_MS = 10000 };

enum security { SEC_NULL, SEC_GSSAPI, SEC_PLAINTEXT };

struct options {
    bool server;
    const char *endpoint;
    bool echo;
    enum security security;
    const char *service;
    long size, count, timeout_ms;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: zmqperf server --bind EP --pattern echo|oneway "
                    "--security null|gssapi|plaintext [--timeout-ms MS]\n"
                    "       zmqperf client --connect EP --pattern echo|oneway "
                    "--security null|gssapi|plaintext --size N --count N [--service NAME] "
                    "[--timeout-ms MS]\n");
}

/* A decimal number in [MIN, MAX] into *OUT. */
static bool parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse(int argc, char **argv, struct options *o)
{
    bool have_pattern = false, have_security = false;

    memset(o, 0, sizeof(*o));
    o->service = "zmq@localhost";
    o->timeout_ms = 600000;
    o->size = -1;
    o->count = -1;
    if (argc < 2 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0))
        return false;
    o->server = strcmp(argv[1], "server") == 0;
    for (int i = 2; i < argc; i += 2) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

        if (value == NULL) {
            fprintf(stderr, "zmqperf: %s needs a value\n", arg);
            return false;
        }
        if (strcmp(arg, o->server ? "--bind" : "--connect") == 0) {
            o->endpoint = value;
        } else if (strcmp(arg, "--pattern") == 0 &&
                   (strcmp(value, "echo") == 0 || strcmp(value, "oneway") == 0)) {
            o->echo = strcmp(value, "echo") == 0;
            have_pattern = true;
        } else if (strcmp(arg, "--security") == 0) {
            have_security = true;
            if (strcmp(value, "null") == 0)
                o->security = SEC_NULL;
            else if (strcmp(value, "gssapi") == 0)
                o->security = SEC_GSSAPI;
            else if (strcmp(value, "plaintext") == 0)
                o->security = SEC_PLAINTEXT;
            else
                have_security = false;
        } else if (strcmp(arg, "--service") == 0) {
            o->service = value;
        } else if (strcmp(arg, "--size") == 0 && !o->server &&
                   parse_long(value, 0, 1L << 26, &o->size)) {
        } else if (strcmp(arg, "--count") == 0 && !o->server &&
                   parse_long(value, 1, 100000000L, &o->count)) {
        } else if (strcmp(arg, "--timeout-ms") == 0 &&
                   parse_long(value, 1, 3600000L, &o->timeout_ms)) {
        } else {
            fprintf(stderr, "zmqperf: bad option or value: %s %s\n", arg, value);
            return false;
        }
    }
    if (o->endpoint == NULL || !have_pattern || !have_security ||
        (!o->server && (o->size < 0 || o->count < 1))) {
        fprintf(stderr, "zmqperf: missing option (endpoint, --pattern, --security%s)\n",
                o->server ? "" : ", --size, --count");
        return false;
    }
    return true;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool setup_security(void *s, const struct options *o)
{
    int one = 1, hostbased = ZMQ_GSSAPI_NT_HOSTBASED;

    if (o->security == SEC_NULL)
        return true;
    if (o->server) {
        if (zmq_setsockopt(s, ZMQ_GSSAPI_SERVER, &one, sizeof(one)) != 0)
            return false;
    } else if (zmq_setsockopt(s, ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, &hostbased,
                              sizeof(hostbased)) != 0 ||
               zmq_setsockopt(s, ZMQ_GSSAPI_SERVICE_PRINCIPAL, o->service, strlen(o->service)) !=
                   0) {
        return false;
    }
    return o->security != SEC_PLAINTEXT ||
           zmq_setsockopt(s, ZMQ_GSSAPI_PLAINTEXT, &one, sizeof(one)) == 0;
}

/* Receive one message into M (initialised by the caller), waiting at most until DEADLINE;
 * 1 got one, 0 nothing yet (IDLE_MS passed), -1 error or deadline or stop. */
static int recv_until(void *s, zmq_msg_t *m, double deadline, int idle_ms)
{
    for (;;) {
        zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
        double left = deadline - now();
        int wait = left <= 0 ? 0 : (int)(left * 1000) + 1;
        int rc;

        if (stopping || left <= 0)
            return -1;
        if (idle_ms >= 0 && idle_ms < wait)
            wait = idle_ms;
        rc = zmq_poll(&item, 1, wait);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc > 0 && zmq_msg_recv(m, s, ZMQ_DONTWAIT) >= 0)
            return 1;
        if (rc == 0 && idle_ms >= 0)
            return 0;
    }
}

static int run_server(void *ctx, const struct options *o)
{
    void *s = zmq_socket(ctx, o->echo ? ZMQ_ROUTER : ZMQ_PULL);
    char endpoint[256];
    size_t len = sizeof(endpoint);
    double deadline = now() + (double)o->timeout_ms / 1000;
    long total = 0, reported = 0;
    bool in_burst = false; /* a message arrived since the last idle millisecond */
    int result = EXIT_FAILED;

    if (s == NULL || !setup_security(s, o) || zmq_bind(s, o->endpoint) != 0 ||
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        fprintf(stderr, "zmqperf: server on %s: %s\n", o->endpoint, zmq_strerror(errno));
        goto cleanup;
    }
    printf("{\"event\":\"listening\",\"endpoint\":\"%s\"}\n", endpoint);
    fflush(stdout);
    while (!stopping) {
        zmq_msg_t m;
        int rc;

        zmq_msg_init(&m);
        rc = recv_until(s, &m, deadline, o->echo ? -1 : 1);
        if (rc < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (rc == 0) {
            zmq_msg_close(&m);
            if (total != reported) {
                printf("{\"received\":%ld}\n", total);
                fflush(stdout);
                reported = total;
            }
            in_burst = false;
            continue;
        }
        if (o->echo) {
            /* ROUTER: identity frame, then the body; send both back */
            int more = zmq_msg_more(&m);

            if (zmq_msg_send(&m, s, more ? ZMQ_SNDMORE : 0) < 0) {
                zmq_msg_close(&m);
                break;
            }
            continue;
        }
        zmq_msg_close(&m);
        /* the first message after a pause is reported at once: it starts a run */
        if (++total % REPORT_EVERY == 0 || !in_burst) {
            printf("{\"received\":%ld}\n", total);
            fflush(stdout);
            reported = total;
        }
        in_burst = true;
    }
    result = stopping ? EXIT_OK : EXIT_FAILED;
    if (!stopping)
        fprintf(stderr, "zmqperf: server: %s\n",
                now() >= deadline ? "--timeout-ms reached" : zmq_strerror(errno));

cleanup:
    if (s != NULL) {
        int zero = 0;

        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(s);
    }
    return result;
}

static int run_client(void *ctx, const struct options *o)
{
    void *s = zmq_socket(ctx, o->echo ? ZMQ_DEALER : ZMQ_PUSH);
    char *payload = calloc(1, o->size > 0 ? (size_t)o->size : 1);
    double deadline = now() + (double)o->timeout_ms / 1000;
    int linger = LINGER_MS, result = EXIT_FAILED;
    long k;

    if (s == NULL || payload == NULL || !setup_security(s, o) ||
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_connect(s, o->endpoint) != 0) {
        fprintf(stderr, "zmqperf: client to %s: %s\n", o->endpoint, zmq_strerror(errno));
        goto cleanup;
    }
    for (k = 0; k < o->count && !stopping; k++) {
        if (zmq_send(s, payload, (size_t)o->size, 0) < 0) {
            fprintf(stderr, "zmqperf: send: %s\n", zmq_strerror(errno));
            goto cleanup;
        }
        if (o->echo) {
            zmq_msg_t m;
            int rc;

            zmq_msg_init(&m);
            rc = recv_until(s, &m, deadline, -1);
            if (rc < 0 || zmq_msg_size(&m) != (size_t)o->size) {
                fprintf(stderr, "zmqperf: echo %ld: %s\n", k,
                        rc < 0 ? "no echo before --timeout-ms" : "wrong length");
                zmq_msg_close(&m);
                goto cleanup;
            }
            zmq_msg_close(&m);
            /* the first and the last echo, as they arrive (bench/throughput times them) */
            if (k == 0 || k + 1 == o->count) {
                printf("{\"received\":%ld}\n", k + 1);
                fflush(stdout);
            }
        }
    }
    printf("{\"event\":\"done\",\"count\":%ld}\n", k);
    result = EXIT_OK;

cleanup:
    free(payload);
    if (s != NULL)
        zmq_close(s);
    return result;
}

int main(int argc, char **argv)
{
    struct options o;
    struct sigaction sa;
    void *ctx;
    int result;

    if (!parse(argc, argv, &o)) {
        usage();
        return EXIT_USAGE;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    ctx = zmq_ctx_new();
    if (ctx == NULL) {
        fprintf(stderr, "zmqperf: zmq_ctx_new: %s\n", zmq_strerror(errno));
        return EXIT_FAILED;
    }
    result = o.server ? run_server(ctx, &o) : run_client(ctx, &o);
    zmq_ctx_term(ctx);
    return result;
}
