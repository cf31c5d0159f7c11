/* The ZMTP shim contract: see contract.h and docs/candidates.md. */
#include "tools/contract.h"

#include "util/jsonout.h"

#include <openssl/evp.h>
#include <string.h>

const struct contract_option contract_options[CONTRACT_OPT_COUNT_ALL] = {
    {CONTRACT_OPT_BIND, "bind", true, "server"},
    {CONTRACT_OPT_CONNECT, "connect", true, "client"},
    {CONTRACT_OPT_SOCKET_TYPE, "socket-type", true, "both"},
    {CONTRACT_OPT_SERVICE_PRINCIPAL, "service-principal", true, "both"},
    {CONTRACT_OPT_SERVICE_NAMETYPE, "service-nametype", true, "both"},
    {CONTRACT_OPT_PRINCIPAL, "principal", true, "client"},
    {CONTRACT_OPT_NAMETYPE, "nametype", true, "client"},
    {CONTRACT_OPT_PLAINTEXT, "plaintext", false, "both"},
    {CONTRACT_OPT_ALLOW, "allow", true, "server"},
    {CONTRACT_OPT_COUNT, "count", true, "both"},
    {CONTRACT_OPT_SIZE, "size", true, "both"},
    {CONTRACT_OPT_PARTS, "parts", true, "both"},
    {CONTRACT_OPT_PAYLOAD_HEX, "payload-hex", true, "both"},
    {CONTRACT_OPT_SUBSCRIBE, "subscribe", true, "client"},
    {CONTRACT_OPT_TIMEOUT_MS, "timeout-ms", true, "both"},
    {CONTRACT_OPT_HANDSHAKE_TIMEOUT_MS, "handshake-timeout-ms", true, "both"},
    {CONTRACT_OPT_INTERVAL_MS, "interval-ms", true, "client"},
    {CONTRACT_OPT_MAX_FRAME_SIZE, "max-frame-size", true, "both"},
    {CONTRACT_OPT_TRANSCRIPT, "transcript", true, "both"},
};

const struct contract_option *contract_option_of(int id)
{
    if (id < CONTRACT_OPT_BIND || id >= CONTRACT_OPT_END)
        return NULL;
    return &contract_options[id - CONTRACT_OPT_BIND];
}

bool contract_longopts(const struct option *extra, struct option *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < CONTRACT_OPT_COUNT_ALL; i++) {
        if (n + 1 >= cap)
            return false;
        out[n++] =
            (struct option){contract_options[i].name,
                            contract_options[i].takes_value ? required_argument : no_argument, NULL,
                            (int)contract_options[i].id};
    }
    for (size_t i = 0; extra != NULL && extra[i].name != NULL; i++) {
        if (n + 1 >= cap)
            return false;
        out[n++] = extra[i];
    }
    out[n] = (struct option){NULL, 0, NULL, 0};
    return true;
}

int contract_unavailable(const char *prog, const char *name, const char *why)
{
    fprintf(stderr, "%s: --%s: %s\n", prog, name, why);
    return CONTRACT_EXIT_UNAVAILABLE;
}

int contract_command(int argc, char **argv, const char *const *unavailable)
{
    if (argc != 2 || strcmp(argv[1], "--json") != 0) {
        fprintf(stderr, "usage: %s --json (the ZMTP shim contract's options and exit statuses)\n",
                argv[0]);
        return CONTRACT_EXIT_USAGE;
    }
    printf("{\"contract\":\"zmtp\",\"exit\":{\"ok\":%d,\"fail\":%d,\"invalid\":%d,\"usage\":%d,"
           "\"unavailable\":%d},\"options\":[",
           CONTRACT_EXIT_OK, CONTRACT_EXIT_FAIL, CONTRACT_EXIT_INVALID, CONTRACT_EXIT_USAGE,
           CONTRACT_EXIT_UNAVAILABLE);
    for (size_t i = 0; i < CONTRACT_OPT_COUNT_ALL; i++) {
        printf("%s{\"name\":", i == 0 ? "" : ",");
        json_put_string(stdout, contract_options[i].name);
        printf(",\"value\":%s,\"roles\":", contract_options[i].takes_value ? "true" : "false");
        json_put_string(stdout, contract_options[i].roles);
        putchar('}');
    }
    fputs("],\"unavailable\":[", stdout);
    for (size_t i = 0; unavailable != NULL && unavailable[i] != NULL; i++) {
        if (i > 0)
            putchar(',');
        json_put_string(stdout, unavailable[i]);
    }
    fputs("]}\n", stdout);
    return fflush(stdout) == 0 ? CONTRACT_EXIT_OK : CONTRACT_EXIT_FAIL;
}

/* ---- events ---- */

enum {
    EVENT_BUFFER = 1 << 16, /* stdout's buffer while `delivered` lines are batched */
    HEAD_MAX = 32,          /* bytes of a part shown as "head" */
};

static bool events_batched;
static EVP_MD *sha256_md;      /* fetched once: EVP_sha256() fetches on every digest */
static EVP_MD_CTX *sha256_ctx; /* reused for every part */

bool contract_events_prepare(void)
{
    if (sha256_md == NULL)
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_ctx == NULL)
        sha256_ctx = EVP_MD_CTX_new();
    return sha256_md != NULL && sha256_ctx != NULL;
}

void contract_events_batch(bool on)
{
    /* glibc ignores the size unless it is given the buffer. */
    static char buffer[EVENT_BUFFER];

    if (on && !events_batched)
        setvbuf(stdout, buffer, _IOFBF, sizeof(buffer));
    events_batched = on;
}

void contract_events_flush(void)
{
    fflush(stdout);
}

void contract_event_begin(const char *name)
{
    flockfile(stdout);
    fputs("{\"event\":", stdout);
    json_put_string(stdout, name);
}

/* End the line; flush it unless it is a `delivered` line being batched. */
static void event_end(bool hold)
{
    fputs("}\n", stdout);
    if (!hold || !events_batched)
        fflush(stdout);
    funlockfile(stdout);
}

void contract_event_end(void)
{
    event_end(false);
}

/* The sha256 of LEN bytes at DATA into DIGEST; its length, 0 when it could not be computed. */
static unsigned int sha256(const unsigned char *data, size_t len,
                           unsigned char digest[EVP_MAX_MD_SIZE])
{
    unsigned int digest_len = 0;

    if (!contract_events_prepare() || EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(sha256_ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(sha256_ctx, digest, &digest_len) != 1)
        return 0;
    return digest_len;
}

/* Append LEN bytes at DATA as lowercase hex to OUT; the position after them. */
static char *put_hex(char *out, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        *out++ = digits[data[i] >> 4];
        *out++ = digits[data[i] & 15];
    }
    return out;
}

void contract_event_listening(const char *endpoint)
{
    contract_event_begin("listening");
    fputs(",\"endpoint\":", stdout);
    json_put_string(stdout, endpoint);
    contract_event_end();
}

void contract_event_delivered(const struct contract_part *parts, size_t n)
{
    static const unsigned char nothing[1];

    contract_event_begin("delivered");
    fputs(",\"parts\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        /* One part's member text is built here and written with one fwrite. */
        char text[64 + 2 * EVP_MAX_MD_SIZE + 2 * HEAD_MAX];
        unsigned char digest[EVP_MAX_MD_SIZE];
        const unsigned char *data = parts[i].data != NULL ? parts[i].data : nothing;
        unsigned int digest_len = sha256(data, parts[i].len, digest);
        int at = snprintf(text, sizeof(text), "%s{\"len\":%zu,\"sha256\":\"", i == 0 ? "" : ",",
                          parts[i].len);
        char *p = put_hex(text + at, digest, digest_len);

        memcpy(p, "\",\"head\":\"", 10);
        p += 10;
        p = put_hex(p, data, parts[i].len < HEAD_MAX ? parts[i].len : HEAD_MAX);
        memcpy(p, "\"}", 2);
        p += 2;
        fwrite(text, 1, (size_t)(p - text), stdout);
    }
    putchar(']');
    event_end(true);
}

void contract_event_sent(unsigned long count)
{
    contract_event_begin("sent");
    printf(",\"count\":%lu", count);
    contract_event_end();
}

void contract_event_authorized(const char *principal, bool allowed)
{
    contract_event_begin("authorized");
    fputs(",\"principal\":", stdout);
    json_put_string(stdout, principal);
    printf(",\"allowed\":%s", allowed ? "true" : "false");
    contract_event_end();
}

void contract_event_done(unsigned long sent, unsigned long received, unsigned long verified)
{
    contract_event_begin("done");
    printf(",\"sent\":%lu,\"received\":%lu,\"verified\":%lu", sent, received, verified);
    contract_event_end();
}

void contract_event_error(const char *prog, const char *reason)
{
    fprintf(stderr, "%s: %s\n", prog, reason);
    contract_event_begin("error");
    fputs(",\"reason\":", stdout);
    json_put_string(stdout, reason);
    contract_event_end();
}
