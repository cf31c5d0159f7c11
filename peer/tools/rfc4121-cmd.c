/*
 * gsspeer rfc4121: the independent RFC 4121 path against MIT on a real context (see
 * rfc4121-cmd.h).
 */
#include "tools/rfc4121-cmd.h"

#include "util/gss.h"
#include "util/rfc4121-gss.h"
#include "util/rfc4121.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 64 };
enum { MAX_ROUNDS = 8, MAX_SIZES = 16, RANDOM_MAX = 65536, SLACK = 256 };
static const OM_uint32 wanted_flags = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
                                      GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG;

struct options {
    const char *service;
    bool bench;
    bool capture;
    size_t max;      /* --check: every size 0..max */
    unsigned random; /* --check: this many more random sizes */
    unsigned seed;
    size_t sizes[MAX_SIZES]; /* --bench */
    size_t nsizes;
    double seconds; /* --bench: time per measurement */
    unsigned rounds;
};

/* Both sides of one context: MIT's and rfc4121's copy. */
struct pair {
    gss_ctx_id_t mit_init, mit_acc;
    struct rfc4121_ctx ours_init, ours_acc;
    int enctype;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: gsspeer rfc4121 --service NAME [--check] [--max N] [--random N] [--seed S]\n"
        "       gsspeer rfc4121 --service NAME --bench [--sizes N,N,...] [--seconds S]\n"
        "                       [--rounds R]\n"
        "       gsspeer rfc4121 --service NAME --capture\n"
        "\n"
        "Compares the independent RFC 4121 implementation with MIT's gss_wrap/gss_unwrap on\n"
        "a context established in this process (initiator: default credentials, acceptor:\n"
        "KRB5_KTNAME; NAME is a host-based service such as zmq@localhost).\n"
        "--capture prints the context key and MIT's tokens of a few sizes as JSON (test\n"
        "data for peer/tests/util/rfc4121-t; the key is secret only for this throwaway realm).\n"
        "Exit status: 0 all agree (--check) or figures printed (--bench); 1 a disagreement\n"
        "or no context; 64 usage error.\n");
}

/* Parse an unsigned decimal number into *OUT; false when TEXT is not one. */
static bool parse_size(const char *text, size_t *out)
{
    char *end;
    unsigned long long v;

    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > (1ull << 26))
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_options(int argc, char **argv, struct options *opt)
{
    static const size_t default_sizes[] = {64, 1024, 16384, 65536, 1048576};

    memset(opt, 0, sizeof(*opt));
    opt->max = 4096;
    opt->random = 200;
    opt->seed = 4121;
    opt->seconds = 0.2;
    opt->rounds = 5;
    memcpy(opt->sizes, default_sizes, sizeof(default_sizes));
    opt->nsizes = sizeof(default_sizes) / sizeof(default_sizes[0]);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n = 0;

        if (strcmp(arg, "--check") == 0) {
            opt->bench = false;
            continue;
        }
        if (strcmp(arg, "--bench") == 0) {
            opt->bench = true;
            continue;
        }
        if (strcmp(arg, "--capture") == 0) {
            opt->capture = true;
            continue;
        }
        if (value == NULL) {
            fprintf(stderr, "gsspeer rfc4121: %s needs a value (see --help)\n", arg);
            return false;
        }
        i++;
        if (strcmp(arg, "--service") == 0) {
            opt->service = value;
        } else if (strcmp(arg, "--max") == 0 && parse_size(value, &n) && n <= RANDOM_MAX) {
            opt->max = n;
        } else if (strcmp(arg, "--random") == 0 && parse_size(value, &n) && n <= 100000) {
            opt->random = (unsigned)n;
        } else if (strcmp(arg, "--seed") == 0 && parse_size(value, &n)) {
            opt->seed = (unsigned)n;
        } else if (strcmp(arg, "--rounds") == 0 && parse_size(value, &n) && n >= 1 && n <= 100) {
            opt->rounds = (unsigned)n;
        } else if (strcmp(arg, "--seconds") == 0) {
            char *end;
            double s = strtod(value, &end);

            if (*end != '\0' || !(s > 0.0 && s <= 10.0)) {
                fprintf(stderr, "gsspeer rfc4121: --seconds '%s': want 0 < S <= 10\n", value);
                return false;
            }
            opt->seconds = s;
        } else if (strcmp(arg, "--sizes") == 0) {
            char *copy = strdup(value), *save = NULL;

            opt->nsizes = 0;
            for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
                 tok = strtok_r(NULL, ",", &save)) {
                if (opt->nsizes == MAX_SIZES || !parse_size(tok, &n) || n == 0) {
                    fprintf(stderr,
                            "gsspeer rfc4121: --sizes '%s': want up to %d sizes "
                            "1..67108864\n",
                            value, MAX_SIZES);
                    free(copy);
                    return false;
                }
                opt->sizes[opt->nsizes++] = n;
            }
            free(copy);
            if (opt->nsizes == 0) {
                fprintf(stderr, "gsspeer rfc4121: --sizes is empty\n");
                return false;
            }
        } else {
            fprintf(stderr, "gsspeer rfc4121: bad option or value: %s %s\n", arg, value);
            return false;
        }
    }
    if (opt->service == NULL) {
        fprintf(stderr, "gsspeer rfc4121: --service is required\n");
        return false;
    }
    return true;
}

static void report_gss(const char *step, OM_uint32 major, OM_uint32 minor)
{
    char *text = gssutil_status_text(major, minor);

    fprintf(stderr, "gsspeer rfc4121: %s: %s\n", step, text != NULL ? text : "out of memory");
    free(text);
}

/* Establish a context to SERVICE in this process: *INIT and *ACC. */
static bool establish(const char *service, gss_ctx_id_t *init, gss_ctx_id_t *acc)
{
    gss_buffer_desc to_acc = GSS_C_EMPTY_BUFFER, to_init = GSS_C_EMPTY_BUFFER;
    OM_uint32 init_major = GSS_S_CONTINUE_NEEDED, acc_major = GSS_S_CONTINUE_NEEDED;
    OM_uint32 minor, ignored;
    gss_name_t target = GSS_C_NO_NAME;
    bool result = false;

    if (GSS_ERROR(init_major = gssutil_import_name(service, NAMETYPE_HOSTBASED, &target, &minor))) {
        report_gss("import --service", init_major, minor);
        return false;
    }
    init_major = GSS_S_CONTINUE_NEEDED;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        if (init_major == GSS_S_CONTINUE_NEEDED) {
            init_major = gss_init_sec_context(
                &minor, GSS_C_NO_CREDENTIAL, init, target, gss_mech_krb5, wanted_flags,
                GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, &to_init, NULL, &to_acc, NULL, NULL);
            gss_release_buffer(&ignored, &to_init);
            if (GSS_ERROR(init_major)) {
                report_gss("gss_init_sec_context", init_major, minor);
                goto cleanup;
            }
        }
        if (to_acc.length > 0) {
            acc_major = gss_accept_sec_context(&minor, acc, GSS_C_NO_CREDENTIAL, &to_acc,
                                               GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &to_init,
                                               NULL, NULL, NULL);
            gss_release_buffer(&ignored, &to_acc);
            if (GSS_ERROR(acc_major)) {
                report_gss("gss_accept_sec_context", acc_major, minor);
                goto cleanup;
            }
        }
        if (init_major == GSS_S_COMPLETE && acc_major == GSS_S_COMPLETE) {
            result = true;
            goto cleanup;
        }
    }
    fprintf(stderr, "gsspeer rfc4121: no context after %d rounds\n", MAX_ROUNDS);

cleanup:
    gss_release_buffer(&ignored, &to_acc);
    gss_release_buffer(&ignored, &to_init);
    gss_release_name(&ignored, &target);
    return result;
}

/* Replace *CTX by an imported copy of itself and key OURS from a second copy. */
static bool split(gss_ctx_id_t *ctx, struct rfc4121_ctx *ours, int *enctype)
{
    char *error = NULL;
    bool result = rfc4121_from_gss_copy(ours, &gssops_mit, ctx, enctype, &error);

    if (!result)
        fprintf(stderr, "gsspeer rfc4121: %s\n", error != NULL ? error : "out of memory");
    free(error);
    return result;
}

static void pair_free(struct pair *p)
{
    OM_uint32 minor;

    gss_delete_sec_context(&minor, &p->mit_init, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &p->mit_acc, GSS_C_NO_BUFFER);
    rfc4121_free(&p->ours_init);
    rfc4121_free(&p->ours_acc);
}

static bool pair_init(const char *service, struct pair *p)
{
    int acc_enctype = 0;

    memset(p, 0, sizeof(*p));
    p->mit_init = p->mit_acc = GSS_C_NO_CONTEXT;
    return establish(service, &p->mit_init, &p->mit_acc) &&
           split(&p->mit_init, &p->ours_init, &p->enctype) &&
           split(&p->mit_acc, &p->ours_acc, &acc_enctype);
}

/* Counters of --check. */
struct tally {
    unsigned long tokens, byte_equal, length_equal, failures;
};

static void fail(struct tally *t, const char *what, size_t len, const char *detail)
{
    t->failures++;
    if (t->failures <= 50)
        fprintf(stderr, "gsspeer rfc4121: %s, %zu bytes: %s\n", what, len, detail);
}

/* One message of LEN bytes from one side to the other, CONF or integrity only; VARIANT picks
 * the EC/RRC of rfc4121's token (0: MIT's choice, so the tokens are comparable). */
static void check_one(gss_ctx_id_t mit_from, gss_ctx_id_t mit_to, struct rfc4121_ctx *ours_from,
                      struct rfc4121_ctx *ours_to, const char *dir, bool conf,
                      const unsigned char *data, size_t len, unsigned variant, unsigned char *buf,
                      unsigned char *out, struct tally *t)
{
    static const uint16_t ecs[] = {0, 0, 1, 16, 0, 15};
    static const uint16_t rrcs[] = {0, 28, 0, 12, 60000, 16};
    struct rfc4121_wrap_opts opts = {.conf = conf, .ec = ecs[variant % 6], .rrc = rrcs[variant % 6]};
    gss_buffer_desc in = {len, (void *)data}, mit_tok = GSS_C_EMPTY_BUFFER,
                    back = GSS_C_EMPTY_BUFFER, ours_tok;
    struct rfc4121_token_info info;
    enum rfc4121_status st;
    OM_uint32 major, minor;
    int state = 0;
    size_t tok_len = 0, out_len = 0;
    char what[96];

    snprintf(what, sizeof(what), "%s %s EC %u RRC %u", dir, conf ? "conf" : "integ",
             (unsigned)opts.ec, (unsigned)opts.rrc);
    t->tokens++;
    /* MIT wraps, rfc4121 unwraps */
    major = gss_wrap(&minor, mit_from, conf, GSS_C_QOP_DEFAULT, &in, &state, &mit_tok);
    if (GSS_ERROR(major) || state != conf) {
        fail(t, what, len, "gss_wrap failed");
        goto cleanup;
    }
    st = rfc4121_unwrap(ours_to, mit_tok.value, mit_tok.length, out, len + SLACK, &out_len, &info);
    if (st != RFC4121_OK)
        fail(t, what, len, rfc4121_status_text(st));
    else if (out_len != len || memcmp(out, data, len) != 0 || info.conf != conf)
        fail(t, what, len, "MIT's token opened by rfc4121 to other data");
    else if (!info.in_sequence)
        fail(t, what, len, "MIT's token out of sequence for rfc4121");
    /* rfc4121 wraps, MIT unwraps */
    st = rfc4121_wrap(ours_from, &opts, data, len, buf, len + 2 * SLACK, &tok_len);
    if (st != RFC4121_OK) {
        fail(t, what, len, rfc4121_status_text(st));
        goto cleanup;
    }
    if (opts.ec == 0 && opts.rrc == 0) {
        if (tok_len == mit_tok.length)
            t->length_equal++;
        else
            fail(t, what, len, "token length differs from MIT's");
        if (!conf) {
            if (tok_len == mit_tok.length && memcmp(buf, mit_tok.value, tok_len) == 0)
                t->byte_equal++;
            else
                fail(t, what, len, "integrity-only token differs from MIT's byte for byte");
        }
    }
    ours_tok.length = tok_len;
    ours_tok.value = buf;
    state = -1;
    major = gss_unwrap(&minor, mit_to, &ours_tok, &back, &state, NULL);
    if (GSS_ERROR(major)) {
        char *text = gssutil_status_text(major, minor);

        fail(t, what, len, text != NULL ? text : "gss_unwrap failed");
        free(text);
    } else if (back.length != len || (len > 0 && memcmp(back.value, data, len) != 0) ||
               state != conf) {
        fail(t, what, len, "rfc4121's token opened by MIT to other data");
    }

cleanup:
    gss_release_buffer(&minor, &mit_tok);
    gss_release_buffer(&minor, &back);
}

static int run_check(const struct options *opt, struct pair *p)
{
    unsigned char *data = malloc(RANDOM_MAX), *buf = malloc(RANDOM_MAX + 2 * SLACK),
                  *out = malloc(RANDOM_MAX + 2 * SLACK);
    struct tally t = {0};
    unsigned long sizes = 0;
    unsigned variant = 0;
    int result = EXIT_FAILED;

    if (data == NULL || buf == NULL || out == NULL) {
        fprintf(stderr, "gsspeer rfc4121: out of memory\n");
        goto cleanup;
    }
    srand(opt->seed);
    for (size_t i = 0; i < RANDOM_MAX; i++)
        data[i] = (unsigned char)rand();
    for (size_t i = 0; i <= opt->max + opt->random; i++) {
        size_t len = i <= opt->max ? i : (size_t)rand() % (RANDOM_MAX + 1);

        sizes++;
        for (int conf = 0; conf < 2; conf++) {
            check_one(p->mit_init, p->mit_acc, &p->ours_init, &p->ours_acc, "initiator->acceptor",
                      conf, data, len, variant, buf, out, &t);
            check_one(p->mit_acc, p->mit_init, &p->ours_acc, &p->ours_init, "acceptor->initiator",
                      conf, data, len, variant, buf, out, &t);
        }
        variant++;
    }
    printf("{\"enctype\": %d, \"sizes\": %lu, \"max\": %zu, \"random\": %u, \"seed\": %u, "
           "\"tokens\": %lu, \"length_equal\": %lu, \"byte_equal\": %lu, \"failures\": %lu}\n",
           p->enctype, sizes, opt->max, opt->random, opt->seed, t.tokens, t.length_equal,
           t.byte_equal, t.failures);
    result = t.failures == 0 ? EXIT_OK : EXIT_FAILED;

cleanup:
    free(data);
    free(buf);
    free(out);
    return result;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wrap+unwrap LEN bytes with confidentiality through MIT for about SECONDS; bytes/s, or -1. */
static double bench_mit(struct pair *p, const unsigned char *data, size_t len, double seconds)
{
    gss_buffer_desc in = {len, (void *)data}, tok, back;
    OM_uint32 minor;
    unsigned long n = 0;
    double start = now(), elapsed;

    do {
        for (int k = 0; k < 8; k++, n++) {
            int state = 0;

            tok = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
            back = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
            if (GSS_ERROR(gss_wrap(&minor, p->mit_init, 1, GSS_C_QOP_DEFAULT, &in, &state, &tok)) ||
                GSS_ERROR(gss_unwrap(&minor, p->mit_acc, &tok, &back, &state, NULL)) ||
                back.length != len) {
                gss_release_buffer(&minor, &tok);
                gss_release_buffer(&minor, &back);
                return -1;
            }
            gss_release_buffer(&minor, &tok);
            gss_release_buffer(&minor, &back);
        }
        elapsed = now() - start;
    } while (elapsed < seconds);
    return (double)n * (double)len / elapsed;
}

/* The same through rfc4121 (buffers allocated once, as a data path would). */
static double bench_ours(struct pair *p, const unsigned char *data, size_t len, double seconds,
                         unsigned char *tok, unsigned char *out)
{
    struct rfc4121_wrap_opts opts = {.conf = true};
    struct rfc4121_token_info info;
    unsigned long n = 0;
    double start = now(), elapsed;

    do {
        for (int k = 0; k < 8; k++, n++) {
            size_t tok_len = 0, out_len = 0;

            if (rfc4121_wrap(&p->ours_init, &opts, data, len, tok, len + SLACK, &tok_len) !=
                    RFC4121_OK ||
                rfc4121_unwrap(&p->ours_acc, tok, tok_len, out, len + SLACK, &out_len, &info) !=
                    RFC4121_OK ||
                out_len != len)
                return -1;
        }
        elapsed = now() - start;
    } while (elapsed < seconds);
    return (double)n * (double)len / elapsed;
}

static int run_bench(const struct options *opt, struct pair *p)
{
    size_t largest = 0;
    unsigned char *data, *tok, *out;
    int result = EXIT_FAILED;

    for (size_t i = 0; i < opt->nsizes; i++)
        largest = opt->sizes[i] > largest ? opt->sizes[i] : largest;
    data = calloc(1, largest);
    tok = malloc(largest + SLACK);
    out = malloc(largest + SLACK);
    if (data == NULL || tok == NULL || out == NULL) {
        fprintf(stderr, "gsspeer rfc4121: out of memory\n");
        goto cleanup;
    }
    for (unsigned r = 0; r < opt->rounds; r++)
        for (size_t i = 0; i < opt->nsizes; i++) {
            size_t len = opt->sizes[i];
            double mit, ours;

            /* Alternate which goes first, so a drift of the machine hits both alike. */
            if (r % 2 == 0) {
                mit = bench_mit(p, data, len, opt->seconds);
                ours = bench_ours(p, data, len, opt->seconds, tok, out);
            } else {
                ours = bench_ours(p, data, len, opt->seconds, tok, out);
                mit = bench_mit(p, data, len, opt->seconds);
            }
            if (mit < 0 || ours < 0) {
                fprintf(stderr, "gsspeer rfc4121: %s wrap/unwrap failed at %zu bytes\n",
                        mit < 0 ? "MIT" : "rfc4121", len);
                goto cleanup;
            }
            printf("{\"enctype\": %d, \"size\": %zu, \"round\": %u, \"mit_bytes_per_s\": %.0f, "
                   "\"rfc4121_bytes_per_s\": %.0f, \"ratio\": %.3f}\n",
                   p->enctype, len, r + 1, mit, ours, ours / mit);
            fflush(stdout);
        }
    result = EXIT_OK;

cleanup:
    free(data);
    free(tok);
    free(out);
    return result;
}

static void put_hex(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        printf("%02x", p[i]);
}

/* The key of the context *CTX (replaced by an imported copy of itself), from the lucid export
 * of another copy, as a JSON fragment; false with a reason on stderr. */
static bool print_key(gss_ctx_id_t *ctx)
{
    gss_buffer_desc token = GSS_C_EMPTY_BUFFER;
    gss_ctx_id_t copy = GSS_C_NO_CONTEXT;
    void *exported = NULL;
    OM_uint32 major, minor;
    bool result = false;

    major = gss_export_sec_context(&minor, ctx, &token);
    if (!GSS_ERROR(major))
        major = gss_import_sec_context(&minor, &token, ctx);
    if (!GSS_ERROR(major))
        major = gss_import_sec_context(&minor, &token, &copy);
    if (!GSS_ERROR(major))
        major = gss_krb5_export_lucid_sec_context(&minor, &copy, 1, &exported);
    if (GSS_ERROR(major)) {
        report_gss("capture: context copy", major, minor);
        goto cleanup;
    } else {
        const gss_krb5_lucid_context_v1_t *l = exported;
        const gss_krb5_lucid_key_t *k =
            l->cfx_kd.have_acceptor_subkey ? &l->cfx_kd.acceptor_subkey : &l->cfx_kd.ctx_key;

        printf("\"enctype\": %u, \"key\": \"", (unsigned)k->type);
        put_hex(k->data, k->length);
        printf("\", \"acceptorSubkey\": %s, \"initiatorSendSeq\": %" PRIu64
               ", \"acceptorSendSeq\": %" PRIu64,
               l->cfx_kd.have_acceptor_subkey ? "true" : "false", l->send_seq, l->recv_seq);
    }
    result = true;

cleanup:
    if (exported != NULL)
        gss_krb5_free_lucid_sec_context(&minor, exported);
    gss_release_buffer(&minor, &token);
    gss_delete_sec_context(&minor, &copy, GSS_C_NO_BUFFER);
    return result;
}

/* MIT's tokens of a few sizes, both senders, conf and integrity-only, with the key. */
static int run_capture(struct pair *p)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 64, 1000};
    unsigned char data[1000];
    int n = 0;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 31 + 7);
    printf("{");
    if (!print_key(&p->mit_init))
        return EXIT_FAILED;
    printf(", \"tokens\": [");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (int sender = 0; sender < 2; sender++)
            for (int conf = 1; conf >= 0; conf--) {
                gss_buffer_desc in = {sizes[i], data}, tok = GSS_C_EMPTY_BUFFER;
                OM_uint32 major, minor;
                int state = 0;

                major = gss_wrap(&minor, sender == 0 ? p->mit_init : p->mit_acc, conf,
                                 GSS_C_QOP_DEFAULT, &in, &state, &tok);
                if (GSS_ERROR(major)) {
                    report_gss("capture: gss_wrap", major, minor);
                    printf("]}\n");
                    return EXIT_FAILED;
                }
                printf("%s\n  {\"sender\": \"%s\", \"conf\": %s, \"plaintext\": \"", n++ ? "," : "",
                       sender == 0 ? "initiator" : "acceptor", conf ? "true" : "false");
                put_hex(data, sizes[i]);
                printf("\", \"token\": \"");
                put_hex(tok.value, tok.length);
                printf("\"}");
                gss_release_buffer(&minor, &tok);
            }
    printf("]}\n");
    return EXIT_OK;
}

int cmd_rfc4121(int argc, char **argv)
{
    struct options opt;
    struct pair p;
    int result = EXIT_FAILED;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
    if (!parse_options(argc, argv, &opt))
        return EXIT_USAGE;
    if (pair_init(opt.service, &p))
        result = opt.capture ? run_capture(&p)
                 : opt.bench ? run_bench(&opt, &p)
                             : run_check(&opt, &p);
    pair_free(&p);
    return result;
}
