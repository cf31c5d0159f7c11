/*
 * Tests of util/rfc4121 without a KDC:
 *   - n-fold against the examples of RFC 3961 appendix A.1;
 *   - the crypto layer against MIT's libk5crypto (krb5_c_encrypt/decrypt/make_checksum) for
 *     enctypes 17-20 with random keys: ours encrypts -> MIT decrypts, MIT encrypts -> ours
 *     decrypts, and the same checksum bytes, over lengths 0..70 plus larger ones;
 *   - Wrap tokens between two rfc4121 contexts (initiator and acceptor) with and without
 *     confidentiality, EC and RRC values, and each receiver check failing on its own defect;
 *   - every token of vectors/rfc4121-mit.json (MIT's gss_wrap with its key) opens, and the
 *     integrity-only ones are rebuilt byte for byte.
 * The differential tests against MIT's gss_wrap/gss_unwrap need a realm: see
 * tests/realm/rfc4121-t.py and `gsspeer rfc4121`.
 */
#include "tests/tap.h"
#include "tests/xmpp/vectors.h" /* each_vector: the vector-file walker shared by the tests */
#include "util/hex.h"
#include "util/rfc4121.h"

#include <krb5/krb5.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_nfold(const char *in, size_t bits, const char *want_hex)
{
    unsigned char out[64], *want = NULL;
    size_t want_len = 0;

    if (hex_decode(want_hex, &want, &want_len) != HEX_OK || want_len != bits / 8)
        bail("bad vector %s", want_hex);
    rfc4121_nfold((const unsigned char *)in, strlen(in), out, bits / 8);
    is_blob(out, bits / 8, want, want_len, "%zu-fold(\"%s\")", bits, in);
    free(want);
}

static krb5_cksumtype cksumtype(enum rfc4121_enctype e)
{
    switch (e) {
    case RFC4121_AES128_SHA1:
        return 15; /* hmac-sha1-96-aes128 */
    case RFC4121_AES256_SHA1:
        return 16; /* hmac-sha1-96-aes256 */
    case RFC4121_AES128_SHA256:
        return 19; /* hmac-sha256-128-aes128 */
    case RFC4121_AES256_SHA384:
        return 20; /* hmac-sha384-192-aes256 */
    }
    return 0;
}

/* Our crypto against MIT's for one enctype, random key, key usage USAGE; returns how many
 * lengths disagreed (each disagreement is also a failed test point). */
static void crypto_vs_mit(krb5_context k5, enum rfc4121_enctype e, size_t key_len, uint32_t usage)
{
    static const size_t extra[] = {127, 128, 129, 1000, 1024, 4096, 65536};
    unsigned char key[32], *plain = malloc(65536), *ct = malloc(65536 + 64),
                           *back = malloc(65536 + 64);
    krb5_keyblock kb = {0};
    struct rfc4121_usage u;
    unsigned bad_ours = 0, bad_mit = 0, bad_cksum = 0, n = 0;

    if (plain == NULL || ct == NULL || back == NULL || RAND_bytes(key, sizeof(key)) != 1 ||
        RAND_bytes(plain, 65536) != 1)
        bail("setup");
    kb.enctype = e;
    kb.length = key_len;
    kb.contents = key;
    if (!is_int(rfc4121_usage_init(&u, e, key, key_len, usage), RFC4121_OK,
                "enctype %d usage %u: keys derived", e, usage))
        goto cleanup;
    for (size_t i = 0; i < 71 + sizeof(extra) / sizeof(extra[0]); i++) {
        size_t len = i < 71 ? i : extra[i - 71], clen = rfc4121_usage_cipher_len(&u, len);
        size_t mit_len = 0, back_len = 0;
        krb5_data in = {0, len, (char *)plain}, out = {0, 0, (char *)back};
        krb5_enc_data enc = {0};
        krb5_checksum sum = {0};
        const unsigned char *parts[] = {plain};
        unsigned char mine[64];

        n++;
        /* ours -> MIT */
        if (krb5_c_encrypt_length(k5, e, len, &mit_len) != 0 || mit_len != clen)
            bad_ours++;
        else if (rfc4121_usage_encrypt(&u, NULL, plain, len, ct) != RFC4121_OK)
            bad_ours++;
        else {
            enc.enctype = e;
            enc.ciphertext.length = clen;
            enc.ciphertext.data = (char *)ct;
            out.length = clen;
            if (krb5_c_decrypt(k5, &kb, usage, NULL, &enc, &out) != 0 || out.length != len ||
                memcmp(back, plain, len) != 0)
                bad_ours++;
        }
        /* MIT -> ours */
        enc.ciphertext.length = clen;
        enc.ciphertext.data = (char *)ct;
        if (krb5_c_encrypt(k5, &kb, usage, NULL, &in, &enc) != 0 ||
            rfc4121_usage_decrypt(&u, ct, clen, back, &back_len) != RFC4121_OK || back_len != len ||
            memcmp(back, plain, len) != 0)
            bad_mit++;
        /* the same checksum */
        if (krb5_c_make_checksum(k5, cksumtype(e), &kb, usage, &in, &sum) != 0 ||
            rfc4121_usage_checksum(&u, 1, parts, &len, mine) != RFC4121_OK ||
            sum.length != u.mac_len || memcmp(sum.contents, mine, u.mac_len) != 0)
            bad_cksum++;
        krb5_free_checksum_contents(k5, &sum);
    }
    is_int(bad_ours, 0, "enctype %d: ours encrypts, MIT decrypts (%u lengths 0..65536)", e, n);
    is_int(bad_mit, 0, "enctype %d: MIT encrypts, ours decrypts (%u lengths)", e, n);
    is_int(bad_cksum, 0, "enctype %d: checksums equal MIT's (%u lengths)", e, n);
    /* a flipped ciphertext bit is refused */
    {
        size_t back_len = 0, clen = rfc4121_usage_cipher_len(&u, 40);

        rfc4121_usage_encrypt(&u, NULL, plain, 40, ct);
        ct[20] ^= 1;
        is_int(rfc4121_usage_decrypt(&u, ct, clen, back, &back_len), RFC4121_ERR_INTEGRITY,
               "enctype %d: a flipped bit fails the integrity check", e);
    }
cleanup:
    rfc4121_usage_free(&u);
    free(plain);
    free(ct);
    free(back);
}

/* Wrap on FROM, unwrap on TO with OPTS over LEN bytes; true when the data comes back. */
static bool roundtrip(struct rfc4121_ctx *from, struct rfc4121_ctx *to,
                      const struct rfc4121_wrap_opts *opts, const unsigned char *data, size_t len)
{
    size_t cap = rfc4121_wrap_len(from, opts, len), tok_len = 0, out_len = 0;
    unsigned char *tok = malloc(cap), *out = malloc(cap);
    struct rfc4121_token_info info;
    bool ok = tok != NULL && out != NULL &&
              rfc4121_wrap(from, opts, data, len, tok, cap, &tok_len) == RFC4121_OK &&
              tok_len == cap &&
              rfc4121_unwrap(to, tok, tok_len, out, cap, &out_len, &info) == RFC4121_OK &&
              out_len == len && memcmp(out, data, len) == 0 && info.conf == opts->conf &&
              info.rrc == opts->rrc && info.in_sequence;

    free(tok);
    free(out);
    return ok;
}

/* A token from FROM with one defect made by MUTATE; the status TO's unwrap returns. */
static enum rfc4121_status defect(struct rfc4121_ctx *from, struct rfc4121_ctx *to, bool conf,
                                  size_t offset, unsigned char xor_mask)
{
    static const unsigned char data[] = "defective token payload";
    struct rfc4121_wrap_opts opts = {.conf = conf};
    unsigned char tok[256], out[256];
    size_t tok_len = 0, out_len = 0;
    struct rfc4121_token_info info;

    if (rfc4121_wrap(from, &opts, data, sizeof(data), tok, sizeof(tok), &tok_len) != RFC4121_OK)
        return RFC4121_ERR_CRYPTO;
    tok[offset] ^= xor_mask;
    return rfc4121_unwrap(to, tok, tok_len, out, sizeof(out), &out_len, &info);
}

static void tokens(enum rfc4121_enctype e, size_t key_len)
{
    unsigned char key[32], data[300];
    struct rfc4121_ctx ini, acc;
    static const uint16_t rrcs[] = {0, 1, 12, 16, 28, 60, 1000};
    static const uint16_t ecs[] = {0, 1, 15, 16};
    unsigned bad = 0, n = 0;

    RAND_bytes(key, sizeof(key));
    RAND_bytes(data, sizeof(data));
    if (rfc4121_init(&ini, e, key, key_len, true, true, 7, 1000) != RFC4121_OK ||
        rfc4121_init(&acc, e, key, key_len, false, true, 1000, 7) != RFC4121_OK)
        bail("rfc4121_init for enctype %d", e);
    for (int conf = 0; conf < 2; conf++)
        for (size_t r = 0; r < sizeof(rrcs) / sizeof(rrcs[0]); r++)
            for (size_t c = 0; c < (conf ? sizeof(ecs) / sizeof(ecs[0]) : 1); c++)
                for (size_t len = 0; len < sizeof(data); len += 37) {
                    struct rfc4121_wrap_opts opts = {.conf = conf != 0, .ec = ecs[c], .rrc = rrcs[r]};

                    n += 2;
                    bad += !roundtrip(&ini, &acc, &opts, data, len);
                    bad += !roundtrip(&acc, &ini, &opts, data, len);
                }
    is_int(bad, 0, "enctype %d: %u tokens both ways (conf/integ, EC, RRC) open intact", e, n);

    is_int(defect(&ini, &acc, true, 0, 0xff), RFC4121_ERR_TOKEN_ID, "enctype %d: bad TOK_ID", e);
    is_int(defect(&ini, &acc, true, 3, 0x01), RFC4121_ERR_FILLER, "enctype %d: filler not FF", e);
    is_int(defect(&ini, &acc, true, 2, 0x01), RFC4121_ERR_DIRECTION,
           "enctype %d: SentByAcceptor on an initiator's token", e);
    is_int(defect(&acc, &ini, false, 2, 0x04), RFC4121_ERR_SUBKEY,
           "enctype %d: AcceptorSubkey cleared", e);
    is_int(defect(&ini, &acc, false, 5, 0x01), RFC4121_ERR_EC,
           "enctype %d: integrity-only EC off by one", e);
    is_int(defect(&ini, &acc, false, 20, 0x80), RFC4121_ERR_INTEGRITY,
           "enctype %d: integrity-only data bit flipped", e);
    is_int(defect(&ini, &acc, false, 15, 0x01), RFC4121_ERR_INTEGRITY,
           "enctype %d: integrity-only SND_SEQ changed", e);
    is_int(defect(&ini, &acc, true, 15, 0x01), RFC4121_ERR_HEADER,
           "enctype %d: sealed token's outer SND_SEQ differs from the encrypted copy", e);
    is_int(defect(&ini, &acc, true, 40, 0x01), RFC4121_ERR_INTEGRITY,
           "enctype %d: sealed ciphertext bit flipped", e);
    is_int(defect(&ini, &acc, true, 2, 0x02), RFC4121_ERR_EC,
           "enctype %d: Sealed flag cleared (read as integrity-only)", e);
    rfc4121_free(&ini);
    rfc4121_free(&acc);
}

/* Decode the hex string member NAME of OBJ into newly allocated *OUT; false when absent/bad. */
static bool hex_member(const json_t *obj, const char *name, unsigned char **out, size_t *len)
{
    const char *text = json_string_value(json_object_get(obj, name));

    *out = NULL;
    return text != NULL && hex_decode(text, out, len) == HEX_OK;
}

/* One captured MIT token: the other side opens it; an integrity-only one is rebuilt. */
static bool run_mit_vector(const json_t *group, const json_t *t)
{
    const json_t *expected = json_object_get(t, "expected");
    const char *sender = json_string_value(json_object_get(expected, "sender"));
    unsigned char *key = NULL, *token = NULL, *plain = NULL, *out = NULL, *again = NULL;
    size_t key_len = 0, token_len = 0, plain_len = 0, out_len = 0, again_len = 0;
    long long enctype = 0, seq = 0;
    bool from_initiator, conf, subkey, good = false;
    struct rfc4121_ctx receiver = {0}, rebuilder = {0};
    struct rfc4121_token_info info;
    enum rfc4121_status st;

    if (!hex_member(group, "key", &key, &key_len) || !hex_member(t, "input", &token, &token_len) ||
        !hex_member(expected, "plaintext", &plain, &plain_len) || sender == NULL ||
        !jsonload_integer(json_object_get(group, "enctype"), &enctype) ||
        !jsonload_integer(json_object_get(expected, "seq"), &seq)) {
        diag("malformed vector");
        goto cleanup;
    }
    from_initiator = strcmp(sender, "initiator") == 0;
    conf = json_is_true(json_object_get(expected, "conf"));
    subkey = json_is_true(json_object_get(group, "acceptorSubkey"));
    out = malloc(token_len + 64);
    again = malloc(token_len + 64);
    if (out == NULL || again == NULL ||
        rfc4121_init(&receiver, (enum rfc4121_enctype)enctype, key, key_len, !from_initiator,
                     subkey, 0, (uint64_t)seq) != RFC4121_OK ||
        rfc4121_init(&rebuilder, (enum rfc4121_enctype)enctype, key, key_len, from_initiator,
                     subkey, (uint64_t)seq, 0) != RFC4121_OK) {
        diag("set-up failed");
        goto cleanup;
    }
    st = rfc4121_unwrap(&receiver, token, token_len, out, token_len + 64, &out_len, &info);
    if (st != RFC4121_OK) {
        diag("unwrap: %s", rfc4121_status_text(st));
        goto cleanup;
    }
    if (out_len != plain_len || memcmp(out, plain, plain_len) != 0 || info.conf != conf ||
        info.seq != (uint64_t)seq || !info.in_sequence) {
        diag("opened to other data, conf %d or seq %llu", info.conf, (unsigned long long)info.seq);
        goto cleanup;
    }
    {
        struct rfc4121_wrap_opts opts = {.conf = conf};

        st = rfc4121_wrap(&rebuilder, &opts, plain, plain_len, again, token_len + 64, &again_len);
    }
    if (st != RFC4121_OK || again_len != token_len ||
        (!conf && memcmp(again, token, token_len) != 0)) {
        diag("rebuilt token differs (%zu bytes against %zu)", again_len, token_len);
        goto cleanup;
    }
    good = true;

cleanup:
    rfc4121_free(&receiver);
    rfc4121_free(&rebuilder);
    free(key);
    free(token);
    free(plain);
    free(out);
    free(again);
    return good;
}

int main(void)
{
    krb5_context k5 = NULL;

    plan_lazy();

    /* RFC 3961 appendix A.1 */
    check_nfold("012345", 64, "be072631276b1955");
    check_nfold("password", 56, "78a07b6caf85fa");
    check_nfold("Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0");
    check_nfold("password", 168, "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e");
    check_nfold("MASSACHVSETTS INSTITVTE OF TECHNOLOGY", 192,
                "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b");
    check_nfold("Q", 168, "518a54a215a8452a518a54a215a8452a518a54a215");
    check_nfold("ba", 168, "fb25d531ae8974499f52fd92ea9857c4ba24cf297e");
    check_nfold("kerberos", 64, "6b65726265726f73");
    check_nfold("kerberos", 128, "6b65726265726f737b9b5b2b93132b93");
    check_nfold("kerberos", 168, "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4");
    check_nfold("kerberos", 256,
                "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4");

    if (krb5_init_context(&k5) != 0)
        bail("krb5_init_context");
    crypto_vs_mit(k5, RFC4121_AES128_SHA1, 16, 24);
    crypto_vs_mit(k5, RFC4121_AES256_SHA1, 32, 22);
    crypto_vs_mit(k5, RFC4121_AES128_SHA256, 16, 24);
    crypto_vs_mit(k5, RFC4121_AES256_SHA384, 32, 22);
    krb5_free_context(k5);

    each_vector("rfc4121-mit.json", "rfc4121 MIT", run_mit_vector);

    tokens(RFC4121_AES256_SHA1, 32);
    tokens(RFC4121_AES256_SHA384, 32);
    tokens(RFC4121_AES128_SHA1, 16);

    {
        struct rfc4121_usage u;
        unsigned char key[16] = {0};

        is_int(rfc4121_usage_init(&u, RFC4121_AES256_SHA1, key, 16, 24), RFC4121_ERR_ENCTYPE,
               "a 16-byte key for aes256 is refused");
        rfc4121_usage_free(&u);
        is_int(rfc4121_usage_init(&u, (enum rfc4121_enctype)23, key, 16, 24), RFC4121_ERR_ENCTYPE,
               "rc4-hmac (23) is not implemented");
        rfc4121_usage_free(&u);
    }
    done_testing();
}
