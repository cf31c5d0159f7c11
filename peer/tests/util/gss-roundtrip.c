/*
 * gss-roundtrip: establish a krb5 GSS-API context between an initiator and an acceptor in ONE
 * process and check wrap/unwrap both ways. Driven by tests/realm/gss-roundtrip-t.py to prove
 * that the realm, the name import of each kind and util/gss work together.
 *
 *   gss-roundtrip [--client NAME --client-nametype K] --service NAME --service-nametype K
 *
 * Kerberos comes from the environment: KRB5_CONFIG, KRB5_CLIENT_KTNAME and KRB5CCNAME for the
 * initiator, KRB5_KTNAME for the acceptor. On success prints one JSON line on stdout and exits
 * 0; on failure prints one line "gss-roundtrip: STEP: STATUS TEXT" on stderr and exits 1;
 * usage errors exit 64. The JSON line:
 *   initiator        the authenticated initiator as the acceptor sees it ("alice@REALM")
 *   acceptor_target  the acceptor's gss_inquire_context target name, displayed
 *   enctype          the number of the context key's enctype (18: aes256-cts-hmac-sha1-96)
 *   enctype_ok       true when the context uses RFC 4121 tokens (AES or Camellia keys)
 *   flags            the context flags the initiator got (MUTUAL, REPLAY, SEQUENCE required)
 */
#include "util/builder.h"
#include "util/gss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 64 };

/* Context establishment takes one round trip for krb5 with mutual auth; a few more rounds
 * than that means something is wrong, not slow. */
enum { MAX_ROUNDS = 8 };

static const OM_uint32 wanted_flags = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG;

struct options {
    const char *client;
    enum nametype client_type;
    const char *service;
    enum nametype service_type;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: gss-roundtrip [--client NAME --client-nametype hostbased|user|krb5]\n"
                 "                     --service NAME --service-nametype hostbased|user|krb5\n");
}

/* Parse the command line into *OPT; false (after printing why) on a usage error. */
static bool parse_options(int argc, char **argv, struct options *opt)
{
    bool have_client_type = false, have_service_type = false;

    memset(opt, 0, sizeof(*opt));
    for (int i = 1; i < argc; i += 2) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

        if (value == NULL) {
            fprintf(stderr, "gss-roundtrip: %s needs a value\n", arg);
            return false;
        }
        if (strcmp(arg, "--client") == 0) {
            opt->client = value;
        } else if (strcmp(arg, "--service") == 0) {
            opt->service = value;
        } else if (strcmp(arg, "--client-nametype") == 0 ||
                   strcmp(arg, "--service-nametype") == 0) {
            bool client = arg[2] == 'c';

            if (!nametype_parse(value, client ? &opt->client_type : &opt->service_type)) {
                fprintf(stderr, "gss-roundtrip: %s: unknown name type '%s'\n", arg, value);
                return false;
            }
            *(client ? &have_client_type : &have_service_type) = true;
        } else {
            fprintf(stderr, "gss-roundtrip: unknown option '%s'\n", arg);
            return false;
        }
    }
    if (opt->service == NULL || !have_service_type) {
        fprintf(stderr, "gss-roundtrip: --service and --service-nametype are required\n");
        return false;
    }
    if ((opt->client == NULL) != !have_client_type) {
        fprintf(stderr, "gss-roundtrip: --client and --client-nametype go together\n");
        return false;
    }
    return true;
}

/* Print "gss-roundtrip: STEP: status text" on stderr. */
static void report_gss(const char *step, OM_uint32 major, OM_uint32 minor)
{
    char *text = gssutil_status_text(major, minor);

    fprintf(stderr, "gss-roundtrip: %s: %s\n", step, text != NULL ? text : "out of memory");
    free(text);
}

/* Append TEXT as a JSON string. */
static void add_json_string(struct builder *b, const char *text)
{
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

/* Wrap MESSAGE with confidentiality on FROM and unwrap it on TO; true when it arrives intact
 * and encrypted. STEP names the direction in error messages. */
static bool wrap_unwrap(gss_ctx_id_t from, gss_ctx_id_t to, const char *message, const char *step)
{
    gss_buffer_desc in = {strlen(message), (void *)message};
    gss_buffer_desc wrapped = GSS_C_EMPTY_BUFFER, unwrapped = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int conf = 0;
    bool result = false;

    major = gss_wrap(&minor, from, 1, GSS_C_QOP_DEFAULT, &in, &conf, &wrapped);
    if (GSS_ERROR(major)) {
        report_gss(step, major, minor);
        goto cleanup;
    }
    if (!conf) {
        fprintf(stderr, "gss-roundtrip: %s: gss_wrap did not encrypt\n", step);
        goto cleanup;
    }
    conf = 0;
    major = gss_unwrap(&minor, to, &wrapped, &unwrapped, &conf, NULL);
    if (GSS_ERROR(major)) {
        report_gss(step, major, minor);
        goto cleanup;
    }
    if (!conf || unwrapped.length != in.length ||
        memcmp(unwrapped.value, in.value, in.length) != 0) {
        fprintf(stderr, "gss-roundtrip: %s: unwrapped message differs or was not encrypted\n",
                step);
        goto cleanup;
    }
    result = true;

cleanup:
    gss_release_buffer(&minor, &wrapped);
    gss_release_buffer(&minor, &unwrapped);
    return result;
}

/* Exchange tokens until both sides are complete (or MAX_ROUNDS). */
static bool establish(gss_cred_id_t cred, gss_name_t target, gss_ctx_id_t *init_ctx,
                      gss_ctx_id_t *accept_ctx, OM_uint32 *ret_flags)
{
    gss_buffer_desc to_acceptor = GSS_C_EMPTY_BUFFER, to_initiator = GSS_C_EMPTY_BUFFER;
    OM_uint32 init_major = GSS_S_CONTINUE_NEEDED, accept_major = GSS_S_CONTINUE_NEEDED;
    OM_uint32 minor, ignored;
    bool result = false;

    for (int round = 0; round < MAX_ROUNDS; round++) {
        if (init_major == GSS_S_CONTINUE_NEEDED) {
            init_major = gss_init_sec_context(
                &minor, cred, init_ctx, target, gss_mech_krb5, wanted_flags, GSS_C_INDEFINITE,
                GSS_C_NO_CHANNEL_BINDINGS, &to_initiator, NULL, &to_acceptor, ret_flags, NULL);
            gss_release_buffer(&ignored, &to_initiator);
            if (GSS_ERROR(init_major)) {
                report_gss("gss_init_sec_context", init_major, minor);
                goto cleanup;
            }
        }
        if (to_acceptor.length > 0) {
            accept_major = gss_accept_sec_context(&minor, accept_ctx, GSS_C_NO_CREDENTIAL,
                                                  &to_acceptor, GSS_C_NO_CHANNEL_BINDINGS, NULL,
                                                  NULL, &to_initiator, NULL, NULL, NULL);
            gss_release_buffer(&ignored, &to_acceptor);
            if (GSS_ERROR(accept_major)) {
                report_gss("gss_accept_sec_context", accept_major, minor);
                goto cleanup;
            }
        }
        if (init_major == GSS_S_COMPLETE && accept_major == GSS_S_COMPLETE) {
            if (to_initiator.length > 0) {
                fprintf(stderr, "gss-roundtrip: acceptor sent a token after the initiator "
                                "completed\n");
                goto cleanup;
            }
            result = true;
            goto cleanup;
        }
        if (init_major == GSS_S_COMPLETE && to_initiator.length == 0 &&
            accept_major != GSS_S_COMPLETE) {
            fprintf(stderr, "gss-roundtrip: initiator complete but acceptor wants more\n");
            goto cleanup;
        }
    }
    fprintf(stderr, "gss-roundtrip: context not established after %d rounds\n", MAX_ROUNDS);

cleanup:
    gss_release_buffer(&ignored, &to_acceptor);
    gss_release_buffer(&ignored, &to_initiator);
    return result;
}

/* The session enctype and whether the context uses RFC 4121 tokens (AES/Camellia, not the
 * legacy RFC 1964 ones). Consumes *CTX (the lucid export invalidates it). */
static bool inspect_keys(gss_ctx_id_t *ctx, OM_uint32 *enctype, bool *rfc4121)
{
    gss_krb5_lucid_context_v1_t *lucid;
    void *exported = NULL;
    OM_uint32 major, minor;

    major = gss_krb5_export_lucid_sec_context(&minor, ctx, 1, &exported);
    if (GSS_ERROR(major)) {
        report_gss("gss_krb5_export_lucid_sec_context", major, minor);
        return false;
    }
    lucid = exported;
    *rfc4121 = lucid->protocol == 1;
    if (!*rfc4121)
        *enctype = lucid->rfc1964_kd.ctx_key.type;
    else if (lucid->cfx_kd.have_acceptor_subkey)
        *enctype = lucid->cfx_kd.acceptor_subkey.type;
    else
        *enctype = lucid->cfx_kd.ctx_key.type;
    gss_krb5_free_lucid_sec_context(&minor, exported);
    return true;
}

int main(int argc, char **argv)
{
    struct options opt;
    gss_name_t client = GSS_C_NO_NAME, service = GSS_C_NO_NAME;
    gss_name_t source = GSS_C_NO_NAME, target = GSS_C_NO_NAME;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_ctx_id_t init_ctx = GSS_C_NO_CONTEXT, accept_ctx = GSS_C_NO_CONTEXT;
    OM_uint32 major, minor, ret_flags = 0, enctype = 0;
    char *initiator_text = NULL, *target_text = NULL;
    unsigned char *json = NULL;
    struct builder b;
    size_t json_len;
    bool rfc4121 = false;
    int status = EXIT_FAILED;

    builder_init(&b);
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!parse_options(argc, argv, &opt)) {
        usage(stderr);
        return EXIT_USAGE;
    }

    if (opt.client != NULL) {
        major = gssutil_import_name(opt.client, opt.client_type, &client, &minor);
        if (GSS_ERROR(major)) {
            report_gss("importing the client name", major, minor);
            goto cleanup;
        }
    }
    major = gssutil_acquire_cred(client, GSS_C_INITIATE, &cred, &minor);
    if (GSS_ERROR(major)) {
        report_gss("acquiring initiator credentials", major, minor);
        goto cleanup;
    }
    major = gssutil_import_name(opt.service, opt.service_type, &service, &minor);
    if (GSS_ERROR(major)) {
        report_gss("importing the service name", major, minor);
        goto cleanup;
    }
    if (!establish(cred, service, &init_ctx, &accept_ctx, &ret_flags))
        goto cleanup;
    if ((ret_flags & wanted_flags) != wanted_flags) {
        fprintf(stderr, "gss-roundtrip: context flags 0x%x lack some of 0x%x\n",
                (unsigned)ret_flags, (unsigned)wanted_flags);
        goto cleanup;
    }

    /* What the acceptor saw: the authenticated initiator and the principal it was reached as. */
    major = gss_inquire_context(&minor, accept_ctx, &source, &target, NULL, NULL, NULL, NULL, NULL);
    if (GSS_ERROR(major)) {
        report_gss("gss_inquire_context", major, minor);
        goto cleanup;
    }
    initiator_text = gssutil_display_name(source);
    target_text = gssutil_display_name(target);
    if (initiator_text == NULL || target_text == NULL) {
        fprintf(stderr, "gss-roundtrip: cannot display the names of the context\n");
        goto cleanup;
    }

    if (!wrap_unwrap(init_ctx, accept_ctx, "initiator to acceptor", "wrap initiator->acceptor") ||
        !wrap_unwrap(accept_ctx, init_ctx, "acceptor to initiator", "wrap acceptor->initiator"))
        goto cleanup;
    if (!inspect_keys(&init_ctx, &enctype, &rfc4121))
        goto cleanup;

    builder_add_str(&b, "{\"initiator\":");
    add_json_string(&b, initiator_text);
    builder_add_str(&b, ",\"acceptor_target\":");
    add_json_string(&b, target_text);
    builder_add_fmt(&b, ",\"enctype\":%u,\"enctype_ok\":%s,\"flags\":%u}\n", (unsigned)enctype,
                    rfc4121 ? "true" : "false", (unsigned)ret_flags);
    json = builder_detach(&b, &json_len);
    if (json == NULL) {
        fprintf(stderr, "gss-roundtrip: out of memory\n");
        goto cleanup;
    }
    if (fwrite(json, 1, json_len, stdout) != json_len || fflush(stdout) != 0) {
        fprintf(stderr, "gss-roundtrip: cannot write to stdout\n");
        goto cleanup;
    }
    status = EXIT_OK;

cleanup:
    free(json);
    builder_free(&b);
    free(initiator_text);
    free(target_text);
    gss_delete_sec_context(&minor, &init_ctx, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &accept_ctx, GSS_C_NO_BUFFER);
    gss_release_name(&minor, &source);
    gss_release_name(&minor, &target);
    gss_release_name(&minor, &service);
    gss_release_name(&minor, &client);
    gss_release_cred(&minor, &cred);
    return status;
}
