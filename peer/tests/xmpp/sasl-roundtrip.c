/*
 * sasl-roundtrip: run the SASL GSSAPI engine's client and server (peer/xmpp/sasl.h) against
 * each other in ONE process through the real GSS-API (gssops_mit). Driven by
 * tests/xmpp/sasl-roundtrip-t.py inside a throwaway realm.
 *
 *   sasl-roundtrip --service PRINCIPAL [--authzid ID] [--client-layers N] [--client-max N]
 *                  [--server-layers N] [--server-max N]
 *
 * PRINCIPAL is a full krb5 name ("xmpp/host.example.com/example.com@REALM"); the layer masks
 * and sizes are decimal numbers. Kerberos comes from the environment (KRB5_CONFIG,
 * KRB5_CLIENT_KTNAME / KRB5CCNAME for the client, KRB5_KTNAME for the server). On success
 * prints one JSON line and exits 0; on failure one line "sasl-roundtrip: ..." on stderr and
 * exit 1; usage errors exit 64. The JSON line:
 *   steps            the number of payloads exchanged (initial response included)
 *   server_target    the server outcome's target (what the client's ticket named)
 *   server_initiator the server outcome's initiator ("alice@REALM")
 *   client_target    the client outcome's target
 *   flags            the server's ret_flags
 *   layers_offered, server_max_size, layer, client_max_size   from the server's outcome
 *   authzid          the server's recorded authzid or null
 *   client_layer     the layer the client outcome says it chose
 */
#include "util/builder.h"
#include "util/gss.h"
#include "xmpp/sasl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 64 };

/* Kerberos with mutual authentication needs four payloads; a few more means a loop. */
enum { MAX_STEPS = 10 };

struct options {
    const char *service;
    const char *authzid;
    unsigned long client_layers, client_max, server_layers, server_max;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sasl-roundtrip --service PRINCIPAL [--authzid ID] [--client-layers N]\n"
                 "                      [--client-max N] [--server-layers N] [--server-max N]\n");
}

static bool parse_number(const char *arg, const char *value, unsigned long max, unsigned long *out)
{
    char *end;

    errno = 0;
    *out = strtoul(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || *out > max) {
        fprintf(stderr, "sasl-roundtrip: %s: '%s' is not a number up to %lu\n", arg, value, max);
        return false;
    }
    return true;
}

static bool parse_options(int argc, char **argv, struct options *opt)
{
    memset(opt, 0, sizeof(*opt));
    for (int i = 1; i < argc; i += 2) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool good = true;

        if (value == NULL) {
            fprintf(stderr, "sasl-roundtrip: %s needs a value\n", arg);
            return false;
        }
        if (strcmp(arg, "--service") == 0)
            opt->service = value;
        else if (strcmp(arg, "--authzid") == 0)
            opt->authzid = value;
        else if (strcmp(arg, "--client-layers") == 0)
            good = parse_number(arg, value, 255, &opt->client_layers);
        else if (strcmp(arg, "--client-max") == 0)
            good = parse_number(arg, value, 0xffffff, &opt->client_max);
        else if (strcmp(arg, "--server-layers") == 0)
            good = parse_number(arg, value, 255, &opt->server_layers);
        else if (strcmp(arg, "--server-max") == 0)
            good = parse_number(arg, value, 0xffffff, &opt->server_max);
        else {
            fprintf(stderr, "sasl-roundtrip: unknown option '%s'\n", arg);
            return false;
        }
        if (!good)
            return false;
    }
    if (opt->service == NULL) {
        fprintf(stderr, "sasl-roundtrip: --service is required\n");
        return false;
    }
    return true;
}

/* Append TEXT (NULL: null) as a JSON value. */
static void add_json_string(struct builder *b, const char *text)
{
    if (text == NULL) {
        builder_add_str(b, "null");
        return;
    }
    builder_add_u8(b, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            builder_add_fmt(b, "\\%c", *p);
        else if (*p < 0x20)
            builder_add_fmt(b, "\\u%04x", *p);
        else
            builder_add_u8(b, *p);
    }
    builder_add_u8(b, '"');
}

/* Drive both engines until the server is done; returns the number of payloads or -1. */
static int exchange(struct sasl *client, struct sasl *server)
{
    unsigned char *to_server = NULL, *to_client = NULL;
    size_t to_server_len = 0, to_client_len = 0;
    enum sasl_status cs, ss;
    int steps = 0;

    cs = rfc4752_client_start(client, &to_server, &to_server_len);
    while (steps < MAX_STEPS) {
        if (cs == SASL_FAILED) {
            fprintf(stderr, "sasl-roundtrip: client: %s\n", rfc4752_error(client));
            break;
        }
        steps++;
        ss = rfc4752_step(server, to_server, to_server_len, &to_client, &to_client_len);
        free(to_server);
        to_server = NULL;
        if (ss == SASL_FAILED) {
            fprintf(stderr, "sasl-roundtrip: server (%s): %s\n",
                    rfc4752_condition_name(rfc4752_condition(server)), rfc4752_error(server));
            break;
        }
        if (ss == SASL_DONE) {
            if (cs != SASL_DONE) {
                fprintf(stderr, "sasl-roundtrip: server done before the client\n");
                break;
            }
            return steps;
        }
        if (cs == SASL_DONE) {
            fprintf(stderr, "sasl-roundtrip: client done but the server sent a challenge\n");
            break;
        }
        steps++;
        cs = rfc4752_step(client, to_client, to_client_len, &to_server, &to_server_len);
        free(to_client);
        to_client = NULL;
    }
    if (steps >= MAX_STEPS)
        fprintf(stderr, "sasl-roundtrip: no outcome after %d payloads\n", MAX_STEPS);
    free(to_server);
    free(to_client);
    return -1;
}

int main(int argc, char **argv)
{
    struct options opt;
    struct sasl_config ccfg = {0}, scfg = {0};
    struct sasl *client = NULL, *server = NULL;
    gss_name_t service = GSS_C_NO_NAME;
    const struct rfc4752_outcome *so, *co;
    OM_uint32 major, minor;
    unsigned char *json = NULL;
    size_t json_len;
    struct builder b;
    int steps, status = EXIT_FAILED;

    builder_init(&b);
    if (!parse_options(argc, argv, &opt)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    major = gssutil_import_name(opt.service, NAMETYPE_KRB5, &service, &minor);
    if (GSS_ERROR(major)) {
        char *text = gssutil_status_text(major, minor);

        fprintf(stderr, "sasl-roundtrip: importing the service name: %s\n", text ? text : "?");
        free(text);
        goto cleanup;
    }
    ccfg.role = SASL_ROLE_CLIENT;
    ccfg.target = service;
    ccfg.cred = GSS_C_NO_CREDENTIAL;
    ccfg.layers_acceptable = (uint8_t)opt.client_layers;
    ccfg.client_max_size = (uint32_t)opt.client_max;
    ccfg.authzid = opt.authzid;
    scfg.role = SASL_ROLE_SERVER;
    scfg.cred = GSS_C_NO_CREDENTIAL;
    scfg.layers_offered = (uint8_t)opt.server_layers;
    scfg.server_max_size = (uint32_t)opt.server_max;
    client = rfc4752_new(&ccfg);
    server = rfc4752_new(&scfg);
    if (client == NULL || server == NULL) {
        fprintf(stderr, "sasl-roundtrip: out of memory\n");
        goto cleanup;
    }
    steps = exchange(client, server);
    if (steps < 0)
        goto cleanup;
    so = rfc4752_outcome(server);
    co = rfc4752_outcome(client);
    builder_add_fmt(&b, "{\"steps\":%d,\"server_target\":", steps);
    add_json_string(&b, so->target);
    builder_add_str(&b, ",\"server_initiator\":");
    add_json_string(&b, so->initiator);
    builder_add_str(&b, ",\"client_target\":");
    add_json_string(&b, co->target);
    builder_add_fmt(&b,
                    ",\"flags\":%u,\"layers_offered\":%u,\"server_max_size\":%u,\"layer\":%u,"
                    "\"client_max_size\":%u,\"client_layer\":%u,\"authzid\":",
                    (unsigned)so->flags, so->layers_offered, (unsigned)so->server_max_size,
                    so->layer, (unsigned)so->client_max_size, co->layer);
    add_json_string(&b, so->authzid);
    builder_add_str(&b, "}\n");
    json = builder_detach(&b, &json_len);
    if (json == NULL) {
        fprintf(stderr, "sasl-roundtrip: out of memory\n");
        goto cleanup;
    }
    if (fwrite(json, 1, json_len, stdout) != json_len || fflush(stdout) != 0) {
        fprintf(stderr, "sasl-roundtrip: cannot write to stdout\n");
        goto cleanup;
    }
    status = EXIT_OK;

cleanup:
    free(json);
    builder_free(&b);
    rfc4752_free(client);
    rfc4752_free(server);
    gss_release_name(&minor, &service);
    return status;
}
