/*
 * cyrus-shim: Cyrus SASL (libsasl2 with its GSSAPI plugin, Debian libsasl2-modules-gssapi-mit)
 * behind the same stdin/stdout line protocol as the GNU SASL command line tool `gsasl`, so
 * that candidates/xmppfront/xmppfront.py drives both the same way (docs/candidates-bundled.md,
 * "The SASL line protocol").
 *
 *   cyrus-shim --client --mechanism GSSAPI --service xmpp --hostname H [--authorization-id J]
 *   cyrus-shim --server --mechanism GSSAPI --service xmpp --hostname H
 *   cyrus-shim --version
 *
 * stdout, as gsasl writes it: the mechanism name on the first line, then one base64 line per
 * output of the library (an empty line for empty output). stdin: one base64 line per input.
 * The server asks its authorization question the way gsasl does: "Authzid: A", "Display Name:
 * N", then the prompt "Validate GSS-API user? (y/n) " without a newline, answered by a line
 * "y" or "n". After the library's last output one more line is read (the data that came with
 * the outcome), then the program exits 0. Any library failure: a one-line reason on stderr,
 * exit 1. Usage errors exit 64. Diagnostics (the library's log) go to stderr.
 *
 * Both roles run with max_ssf 0: the XMPP stream is protected by TLS and the front carries no
 * SASL security layer after success, so only the "none" layer may be negotiated.
 */
#include <getopt.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum exit_status {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 64,
};

enum role {
    ROLE_NONE,
    ROLE_CLIENT,
    ROLE_SERVER,
};

/* How reading one input line ended. */
enum line_status {
    LINE_OK,     /* *data holds the decoded octets */
    LINE_EOF,    /* stdin ended */
    LINE_BADB64, /* the line is not base64 */
    LINE_NOMEM,
};

static const char *const VALIDATE_PROMPT = "Validate GSS-API user? (y/n) ";

/*
 * LeakSanitizer (SANITIZE=1 builds) reads this. Every client exchange of libsasl2 2.1.28's
 * GSSAPI plugin leaves one GSS-API credential (32 bytes from gss_acquire_cred_from, with about
 * 17 KiB of libkrb5 state under it) unfreed after sasl_dispose; this shim makes no GSS-API call
 * of its own, so the leak is the candidate's (docs/candidates-bundled.md). The system libraries
 * are stripped of frame pointers, so only their modules can be named. sasl_client_done and
 * sasl_server_done are not called for the same reason: they unload the plugins, after which a
 * leak's frames name no module at all; the process ends right after the exchange anyway.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libgssapi_krb5.so\nleak:libkrb5.so\n";
}

struct options {
    enum role role;
    const char *mechanism;
    const char *service;
    const char *hostname;
    const char *authzid; /* client; NULL: none */
    bool quiet;
};

/* One decoded input line; data is owned by the struct and freed with line_free. */
struct line {
    char *data;
    unsigned len;
};

static void line_free(struct line *line)
{
    free(line->data);
    line->data = NULL;
    line->len = 0;
}

/*
 * Read one line from stdin and decode it from base64 into LINE (newly allocated, freed with
 * line_free; an empty line gives len 0). A trailing "\r\n" or "\n" is not part of the data.
 */
static enum line_status read_b64_line(struct line *line)
{
    char *text = NULL;
    size_t cap = 0;
    ssize_t got = getline(&text, &cap, stdin);
    enum line_status status = LINE_OK;
    size_t len;

    line->data = NULL;
    line->len = 0;
    if (got < 0) {
        status = LINE_EOF;
        goto cleanup;
    }
    len = (size_t)got;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    line->data = malloc(len / 4 * 3 + 4);
    if (line->data == NULL) {
        status = LINE_NOMEM;
        goto cleanup;
    }
    if (len > 0 && sasl_decode64(text, (unsigned)len, line->data, (unsigned)(len / 4 * 3 + 4),
                                 &line->len) != SASL_OK) {
        status = LINE_BADB64;
        line_free(line);
    }
cleanup:
    free(text);
    return status;
}

/*
 * Write DATA (LEN octets, may be NULL when LEN is 0) to stdout as one base64 line, flushed.
 * Returns false when out of memory or the encoding fails.
 */
static bool write_b64_line(const char *data, unsigned len)
{
    unsigned cap = (len + 2) / 3 * 4 + 1;
    unsigned outlen = 0;
    char *text = malloc(cap);
    bool ok = false;

    if (text == NULL)
        goto cleanup;
    if (len > 0 && sasl_encode64(data, len, text, cap, &outlen) != SASL_OK)
        goto cleanup;
    text[outlen] = '\0';
    printf("%s\n", text);
    fflush(stdout);
    ok = true;
cleanup:
    free(text);
    return ok;
}

/* SASL_CB_LOG: every library log line to stderr. */
static int on_log(void *context, int level, const char *message)
{
    (void)context;
    fprintf(stderr, "cyrus-shim: libsasl2 log level %d: %s\n", level, message);
    return SASL_OK;
}

/* SASL_CB_USER (client): the authorization identity, "" for none. CONTEXT is the options. */
static int on_user(void *context, int id, const char **result, unsigned *len)
{
    const struct options *opts = context;

    if (id != SASL_CB_USER)
        return SASL_BADPARAM;
    *result = opts->authzid != NULL ? opts->authzid : "";
    if (len != NULL)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

/*
 * SASL_CB_PROXY_POLICY (server): ask the front, as gsasl's GSSAPI validation callback does:
 * print the requested (authorization) identity and the authenticated one, prompt, and read
 * the answer "y" (allowed) or anything else (refused). libsasl2 hands over the authorization
 * identity it settled on: the authentication identity itself when the client sent none.
 */
static int on_authorize(sasl_conn_t *conn, void *context, const char *requested_user, unsigned rlen,
                        const char *auth_identity, unsigned alen, const char *def_realm,
                        unsigned urlen, struct propctx *propctx)
{
    char *answer = NULL;
    size_t cap = 0;
    ssize_t got;
    int result = SASL_NOAUTHZ;

    (void)context;
    (void)def_realm;
    (void)urlen;
    (void)propctx;
    printf("Authzid: %.*s\nDisplay Name: %.*s\n%s", (int)rlen, requested_user ? requested_user : "",
           (int)alen, auth_identity ? auth_identity : "", VALIDATE_PROMPT);
    fflush(stdout);
    got = getline(&answer, &cap, stdin);
    if (got > 0 && (answer[0] == 'y' || answer[0] == 'Y') &&
        (got == 1 || answer[1] == '\n' || answer[1] == '\r')) {
        result = SASL_OK;
    } else {
        sasl_seterror(conn, 0, "the front refused authorization of %.*s as %.*s", (int)alen,
                      auth_identity ? auth_identity : "", (int)rlen,
                      requested_user ? requested_user : "");
    }
    free(answer);
    return result;
}

/* A usage error: REASON and the usage line on stderr. */
static void usage_error(const char *reason)
{
    fprintf(stderr, "cyrus-shim: %s\n", reason);
    fprintf(stderr, "usage: cyrus-shim --client|--server --mechanism M --service S --hostname H "
                    "[--authorization-id J] [-d] [--quiet] | --version\n");
}

/* Parse ARGV into OPTS; returns EXIT_OK, or EXIT_USAGE after printing the reason. */
static enum exit_status parse_options(int argc, char **argv, struct options *opts, bool *version)
{
    static const struct option longopts[] = {
        {"client", no_argument, NULL, 'c'},
        {"server", no_argument, NULL, 's'},
        {"mechanism", required_argument, NULL, 'm'},
        {"service", required_argument, NULL, 'S'},
        {"hostname", required_argument, NULL, 'H'},
        {"authorization-id", required_argument, NULL, 'z'},
        {"application-data", no_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(opts, 0, sizeof *opts);
    *version = false;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "csm:z:dqV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opts->role = ROLE_CLIENT;
            break;
        case 's':
            opts->role = ROLE_SERVER;
            break;
        case 'm':
            opts->mechanism = optarg;
            break;
        case 'S':
            opts->service = optarg;
            break;
        case 'H':
            opts->hostname = optarg;
            break;
        case 'z':
            opts->authzid = optarg;
            break;
        case 'd':
            break; /* gsasl's switch for application data: there is none here */
        case 'q':
            opts->quiet = true;
            break;
        case 'V':
            *version = true;
            return EXIT_OK;
        default:
            usage_error(optopt ? "an option is missing its value or unknown" : "unknown option");
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage_error("unexpected argument");
        return EXIT_USAGE;
    }
    if (opts->role == ROLE_NONE || opts->mechanism == NULL || opts->service == NULL ||
        opts->hostname == NULL) {
        usage_error("--client or --server, --mechanism, --service and --hostname are required");
        return EXIT_USAGE;
    }
    if (opts->role == ROLE_SERVER && opts->authzid != NULL) {
        usage_error("--authorization-id is a client option");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Security properties of both roles: no security layer (max_ssf 0), no buffer size. */
static void set_props(sasl_conn_t *conn)
{
    sasl_security_properties_t props;

    memset(&props, 0, sizeof props);
    props.min_ssf = 0;
    props.max_ssf = 0;
    props.maxbufsize = 0;
    sasl_setprop(conn, SASL_SEC_PROPS, &props);
}

/* A one-line failure reason on stderr: what failed, the libsasl2 code and its detail. */
static void report(sasl_conn_t *conn, const char *what, int result)
{
    fprintf(stderr, "cyrus-shim: %s: %s (%d): %s\n", what, sasl_errstring(result, NULL, NULL),
            result, conn != NULL ? sasl_errdetail(conn) : "");
}

/* Read the one line that follows the library's last output (data that came with the outcome). */
static enum exit_status read_final_line(void)
{
    struct line line;
    enum line_status status = read_b64_line(&line);
    enum exit_status exit_status = EXIT_OK;

    if (status == LINE_EOF) {
        fprintf(stderr, "cyrus-shim: stdin ended before the outcome line\n");
        exit_status = EXIT_FAIL;
    } else if (status != LINE_OK) {
        fprintf(stderr, "cyrus-shim: the outcome line is not base64\n");
        exit_status = EXIT_FAIL;
    } else if (line.len > 0) {
        fprintf(stderr,
                "cyrus-shim: %u octets of data came with the outcome after the "
                "mechanism had completed; ignored\n",
                line.len);
    }
    line_free(&line);
    return exit_status;
}

/* One step of a role: feed IN (INLEN octets), take the next output into *OUT / *OUTLEN. */
typedef int (*step_fn)(sasl_conn_t *conn, const char *in, unsigned inlen, const char **out,
                       unsigned *outlen);

static int client_step(sasl_conn_t *conn, const char *in, unsigned inlen, const char **out,
                       unsigned *outlen)
{
    sasl_interact_t *interact = NULL; /* no interaction: the callbacks answer everything */

    return sasl_client_step(conn, in, inlen, &interact, out, outlen);
}

static int server_step(sasl_conn_t *conn, const char *in, unsigned inlen, const char **out,
                       unsigned *outlen)
{
    return sasl_server_step(conn, in, inlen, out, outlen);
}

/*
 * The line loop of both roles, once their start call gave RESULT and OUT/OUTLEN: write each
 * output as a base64 line; after SASL_OK read the outcome line; otherwise read the peer's next
 * line and STEP it (STEP_NAME in reports). A client whose step completes with no output (the
 * line carried the outcome's data: END_ON_SILENT_OK) is done at once. Returns the exit status.
 */
static enum exit_status exchange(sasl_conn_t *conn, int result, const char *out, unsigned outlen,
                                 step_fn step, const char *step_name, bool end_on_silent_ok)
{
    struct line line = {NULL, 0};

    for (;;) {
        enum line_status ls;

        if (!write_b64_line(out, outlen)) {
            fprintf(stderr, "cyrus-shim: cannot encode the output\n");
            return EXIT_FAIL;
        }
        if (result == SASL_OK)
            return read_final_line();
        ls = read_b64_line(&line);
        if (ls != LINE_OK) {
            line_free(&line);
            fprintf(stderr, ls == LINE_EOF ? "cyrus-shim: stdin ended during the exchange\n"
                                           : "cyrus-shim: an input line is not base64\n");
            return EXIT_FAIL;
        }
        out = NULL;
        outlen = 0;
        result = step(conn, line.data, line.len, &out, &outlen);
        line_free(&line);
        if (end_on_silent_ok && result == SASL_OK && out == NULL)
            return EXIT_OK; /* the line was the data of the outcome and completed the exchange */
        if (result != SASL_OK && result != SASL_CONTINUE) {
            report(conn, step_name, result);
            return EXIT_FAIL;
        }
    }
}

/*
 * The client side of the line protocol: mechanism line, initial response, then one output line
 * per input line until libsasl2 says SASL_OK; then the outcome line. OPTS is borrowed (it is
 * the SASL_CB_USER context). Returns EXIT_OK when the exchange completed.
 */
static enum exit_status run_client(struct options *opts)
{
    sasl_callback_t callbacks[] = {
        {SASL_CB_LOG, (int (*)(void))(void (*)(void))on_log, NULL},
        {SASL_CB_USER, (int (*)(void))(void (*)(void))on_user, opts},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn = NULL;
    sasl_interact_t *interact = NULL;
    const char *out = NULL;
    const char *mech = NULL;
    unsigned outlen = 0;
    enum exit_status status = EXIT_FAIL;
    int result;

    result = sasl_client_init(callbacks);
    if (result != SASL_OK) {
        report(NULL, "sasl_client_init", result);
        goto cleanup;
    }
    result = sasl_client_new(opts->service, opts->hostname, NULL, NULL, callbacks, 0, &conn);
    if (result != SASL_OK) {
        report(conn, "sasl_client_new", result);
        goto cleanup;
    }
    set_props(conn);
    result = sasl_client_start(conn, opts->mechanism, &interact, &out, &outlen, &mech);
    if (result != SASL_OK && result != SASL_CONTINUE) {
        report(conn, "sasl_client_start", result);
        goto cleanup;
    }
    printf("%s\n", mech != NULL ? mech : opts->mechanism);
    status = exchange(conn, result, out, outlen, client_step, "sasl_client_step", true);
cleanup:
    if (conn != NULL)
        sasl_dispose(&conn);
    return status;
}

/*
 * The server side of the line protocol: mechanism line, the (empty) output for no input, then
 * one output line per input line; the authorization question comes from on_authorize during
 * the last step; after SASL_OK, the outcome line. OPTS is borrowed. Returns EXIT_OK when the
 * exchange completed and was authorized.
 */
static enum exit_status run_server(struct options *opts)
{
    sasl_callback_t callbacks[] = {
        {SASL_CB_LOG, (int (*)(void))(void (*)(void))on_log, NULL},
        {SASL_CB_PROXY_POLICY, (int (*)(void))(void (*)(void))on_authorize, opts},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    enum exit_status status = EXIT_FAIL;
    int result;

    result = sasl_server_init(callbacks, "gssconform-cyrus-shim");
    if (result != SASL_OK) {
        report(NULL, "sasl_server_init", result);
        goto cleanup;
    }
    result = sasl_server_new(opts->service, opts->hostname, NULL, NULL, NULL, callbacks, 0, &conn);
    if (result != SASL_OK) {
        report(conn, "sasl_server_new", result);
        goto cleanup;
    }
    set_props(conn);
    result = sasl_server_start(conn, opts->mechanism, NULL, 0, &out, &outlen);
    if (result != SASL_OK && result != SASL_CONTINUE) {
        report(conn, "sasl_server_start", result);
        goto cleanup;
    }
    printf("%s\n", opts->mechanism);
    status = exchange(conn, result, out, outlen, server_step, "sasl_server_step", false);
cleanup:
    if (conn != NULL)
        sasl_dispose(&conn);
    return status;
}

int main(int argc, char **argv)
{
    struct options opts;
    bool version;
    enum exit_status status = parse_options(argc, argv, &opts, &version);
    const char *implementation = NULL;
    const char *version_string = NULL;

    if (status != EXIT_OK)
        return status;
    if (version) {
        sasl_version_info(&implementation, &version_string, NULL, NULL, NULL, NULL);
        printf("%s %s\n", implementation ? implementation : "libsasl2",
               version_string ? version_string : "");
        return EXIT_OK;
    }
    if (!opts.quiet)
        fprintf(stderr, "cyrus-shim: %s %s, service %s, host %s\n",
                opts.role == ROLE_CLIENT ? "client" : "server", opts.mechanism, opts.service,
                opts.hostname);
    return opts.role == ROLE_CLIENT ? run_client(&opts) : run_server(&opts);
}
