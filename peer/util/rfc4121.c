/*
 * RFC 4121 Wrap tokens on OpenSSL EVP (see rfc4121.h).
 *
 * Written from the RFCs' descriptions (paraphrased here, not quoted):
 *   RFC 3961 5.1 n-fold; 5.3 DK(Key, Constant) = random-to-key(DR(Key, Constant)), DR the
 *     concatenated blocks E(Key, n-fold(Constant)), E(Key, previous block), ...; the
 *     simplified profile's Ke/Ki/Kc use the constant usage | 0xAA / 0x55 / 0x99, and
 *     encryption is E(Ke, confounder | plaintext) | HMAC(Ki, confounder | plaintext)[1..h].
 *   RFC 3962: E is AES in CBC mode with ciphertext stealing (the last two blocks swapped, the
 *     last one truncated), zero initial cipher state; HMAC-SHA1, h = 96 bits.
 *   RFC 8009: keys from KDF-HMAC-SHA2 (SP 800-108 counter mode: HMAC(key, 00000001 | label |
 *     00 | k as 32-bit big-endian) truncated to k bits); encrypt-then-MAC, the HMAC over
 *     cipher state | ciphertext.
 *   RFC 4121 4.2.4-4.2.6: the 16-octet header (TOK_ID 05 04, Flags, FF, EC, RRC, SND_SEQ);
 *     with confidentiality the encrypted plaintext is data | EC filler octets | header (RRC
 *     of that copy zero); without, data | checksum, the checksum over data | header with EC
 *     and RRC zero and EC then set to the checksum length; everything after the header is
 *     rotated right by RRC octets.
 */
#include "util/rfc4121.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <string.h>

enum { BLOCK = 16, MAX_MAC = 64 };

enum { FLAG_SENT_BY_ACCEPTOR = 0x01, FLAG_SEALED = 0x02, FLAG_ACCEPTOR_SUBKEY = 0x04 };

const char *rfc4121_status_text(enum rfc4121_status status)
{
    switch (status) {
    case RFC4121_OK:
        return "ok";
    case RFC4121_ERR_ENCTYPE:
        return "unsupported enctype or key length";
    case RFC4121_ERR_CRYPTO:
        return "OpenSSL failure";
    case RFC4121_ERR_SPACE:
        return "output buffer too small";
    case RFC4121_ERR_ARGUMENT:
        return "length out of range";
    case RFC4121_ERR_SHORT:
        return "token too short";
    case RFC4121_ERR_TOKEN_ID:
        return "TOK_ID is not 05 04";
    case RFC4121_ERR_FILLER:
        return "filler octet is not FF";
    case RFC4121_ERR_DIRECTION:
        return "SentByAcceptor flag names the wrong sender";
    case RFC4121_ERR_SUBKEY:
        return "AcceptorSubkey flag disagrees with the context";
    case RFC4121_ERR_EC:
        return "EC of an integrity-only token is not the checksum length";
    case RFC4121_ERR_INTEGRITY:
        return "checksum mismatch";
    case RFC4121_ERR_HEADER:
        return "encrypted header copy differs from the token header";
    }
    return "unknown status";
}

static bool is_sha1(enum rfc4121_enctype e)
{
    return e == RFC4121_AES128_SHA1 || e == RFC4121_AES256_SHA1;
}

static const EVP_CIPHER *cbc(size_t key_len)
{
    return key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
}

static const char *digest_name(enum rfc4121_enctype e)
{
    return is_sha1(e) ? "SHA1" : e == RFC4121_AES128_SHA256 ? "SHA256" : "SHA384";
}

void rfc4121_nfold(const unsigned char *in, size_t in_len, unsigned char *out, size_t out_len)
{
    /* The input is repeated lcm(in, out) / in times, copy k rotated right by 13 * k bits; the
     * out_len-byte chunks of that string are added with end-around carry. Byte i of the
     * repeated string, counted from the end, comes from bit position msbit of the input. */
    size_t a = in_len, b = out_len, lcm;
    unsigned carry = 0;

    while (b != 0) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    lcm = in_len / a * out_len;
    memset(out, 0, out_len);
    for (size_t i = lcm; i-- > 0;) {
        size_t bits = in_len * 8;
        size_t msbit = (bits - 1 + (bits + 13) * (i / in_len) + (in_len - i % in_len) * 8) % bits;
        unsigned hi = in[(in_len - 1 - msbit / 8) % in_len];
        unsigned lo = in[(in_len - msbit / 8) % in_len];

        carry += ((hi << 8 | lo) >> (msbit % 8 + 1)) & 0xff;
        carry += out[i % out_len];
        out[i % out_len] = carry & 0xff;
        carry >>= 8;
    }
    for (size_t i = out_len; carry != 0 && i-- > 0;) {
        carry += out[i];
        out[i] = carry & 0xff;
        carry >>= 8;
    }
}

/* One raw AES block encryption of IN with KEY (CBC with a zero IV over one block). */
static bool aes_block(const unsigned char *key, size_t key_len, const unsigned char *in,
                      unsigned char *out)
{
    static const unsigned char zero[BLOCK];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c != NULL && EVP_EncryptInit_ex(c, cbc(key_len), NULL, key, zero) == 1 &&
              EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
              EVP_EncryptUpdate(c, out, &n, in, BLOCK) == 1 && n == BLOCK;

    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* RFC 3961 DK(KEY, usage | LAST) for the AES profiles: DR blocks, random-to-key = identity. */
static bool derive_dk(const unsigned char *key, size_t key_len, uint32_t usage, unsigned char last,
                      unsigned char *out)
{
    unsigned char constant[5] = {usage >> 24, usage >> 16, usage >> 8, usage, last};
    unsigned char block[BLOCK];

    rfc4121_nfold(constant, sizeof(constant), block, BLOCK);
    for (size_t done = 0; done < key_len; done += BLOCK) {
        if (!aes_block(key, key_len, block, block))
            return false;
        memcpy(out + done, block, key_len - done < BLOCK ? key_len - done : BLOCK);
    }
    return true;
}

/* One-shot HMAC of the N pieces with KEY; the full digest into OUT, its length returned (0 on
 * failure). */
static size_t hmac(const char *digest, const unsigned char *key, size_t key_len, size_t n,
                   const unsigned char *const *parts, const size_t *lens, unsigned char *out)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end()};
    size_t out_len = 0;
    bool ok = c != NULL && EVP_MAC_init(c, key, key_len, params) == 1;

    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(c, parts[i], lens[i]) == 1;
    if (!ok || EVP_MAC_final(c, out, &out_len, MAX_MAC) != 1)
        out_len = 0;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    return out_len;
}

/* RFC 8009 KDF-HMAC-SHA2(KEY, usage | LAST, BYTES * 8) into OUT. */
static bool derive_kdf(enum rfc4121_enctype e, const unsigned char *key, size_t key_len,
                       uint32_t usage, unsigned char last, size_t bytes, unsigned char *out)
{
    uint32_t bits = (uint32_t)bytes * 8;
    unsigned char counter[4] = {0, 0, 0, 1};
    unsigned char label[5] = {usage >> 24, usage >> 16, usage >> 8, usage, last};
    unsigned char sep = 0;
    unsigned char k[4] = {bits >> 24, bits >> 16, bits >> 8, bits};
    const unsigned char *parts[] = {counter, label, &sep, k};
    const size_t lens[] = {4, 5, 1, 4};
    unsigned char full[MAX_MAC];

    if (hmac(digest_name(e), key, key_len, 4, parts, lens, full) < bytes)
        return false;
    memcpy(out, full, bytes);
    return true;
}

/* An HMAC context keyed with KEY, reused for every message (EVP_MAC_init with a NULL key
 * restarts it with the same key). */
static EVP_MAC_CTX *mac_new(const char *digest, const unsigned char *key, size_t key_len)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end()};

    EVP_MAC_free(mac); /* the context holds its own reference */
    if (c != NULL && EVP_MAC_init(c, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(c);
        c = NULL;
    }
    return c;
}

static EVP_CIPHER_CTX *cipher_new(size_t key_len, const unsigned char *key, bool encrypt)
{
    static const unsigned char zero[BLOCK];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

    if (c != NULL && (EVP_CipherInit_ex(c, cbc(key_len), NULL, key, zero, encrypt) != 1 ||
                      EVP_CIPHER_CTX_set_padding(c, 0) != 1)) {
        EVP_CIPHER_CTX_free(c);
        c = NULL;
    }
    return c;
}

void rfc4121_usage_free(struct rfc4121_usage *u)
{
    EVP_CIPHER_CTX_free(u->enc);
    EVP_CIPHER_CTX_free(u->dec);
    EVP_MAC_CTX_free(u->mac_i);
    EVP_MAC_CTX_free(u->mac_c);
    u->enc = u->dec = u->mac_i = u->mac_c = NULL;
    OPENSSL_cleanse(u->ke, sizeof(u->ke));
    OPENSSL_cleanse(u->ki, sizeof(u->ki));
    OPENSSL_cleanse(u->kc, sizeof(u->kc));
    OPENSSL_cleanse(u->pool, sizeof(u->pool));
}

enum rfc4121_status rfc4121_usage_init(struct rfc4121_usage *u, enum rfc4121_enctype enctype,
                                       const unsigned char *key, size_t key_len, uint32_t usage)
{
    bool ok;

    memset(u, 0, sizeof(*u));
    u->pool_used = sizeof(u->pool); /* empty: the first confounder fills it */
    u->enctype = enctype;
    switch (enctype) {
    case RFC4121_AES128_SHA1:
    case RFC4121_AES128_SHA256:
        u->key_len = 16;
        break;
    case RFC4121_AES256_SHA1:
    case RFC4121_AES256_SHA384:
        u->key_len = 32;
        break;
    default:
        return RFC4121_ERR_ENCTYPE;
    }
    if (key_len != u->key_len)
        return RFC4121_ERR_ENCTYPE;
    if (is_sha1(enctype)) {
        u->mac_len = 12;
        u->ki_len = u->key_len;
        ok = derive_dk(key, key_len, usage, 0xAA, u->ke) &&
             derive_dk(key, key_len, usage, 0x55, u->ki) &&
             derive_dk(key, key_len, usage, 0x99, u->kc);
    } else {
        u->mac_len = u->ki_len = enctype == RFC4121_AES128_SHA256 ? 16 : 24;
        ok = derive_kdf(enctype, key, key_len, usage, 0xAA, u->key_len, u->ke) &&
             derive_kdf(enctype, key, key_len, usage, 0x55, u->ki_len, u->ki) &&
             derive_kdf(enctype, key, key_len, usage, 0x99, u->ki_len, u->kc);
    }
    if (!ok)
        return RFC4121_ERR_CRYPTO;
    u->enc = cipher_new(u->key_len, u->ke, true);
    u->dec = cipher_new(u->key_len, u->ke, false);
    u->mac_i = mac_new(digest_name(enctype), u->ki, u->ki_len);
    u->mac_c = mac_new(digest_name(enctype), u->kc, u->ki_len);
    if (u->enc == NULL || u->dec == NULL || u->mac_i == NULL || u->mac_c == NULL) {
        rfc4121_usage_free(u);
        return RFC4121_ERR_CRYPTO;
    }
    return RFC4121_OK;
}

size_t rfc4121_usage_cipher_len(const struct rfc4121_usage *u, size_t len)
{
    return RFC4121_CONFOUNDER + len + u->mac_len;
}

/* CBC over LEN bytes (a multiple of 16, > 0) with cipher state IV, IN to OUT (may be equal).
 * The EVP context is never re-initialised (in OpenSSL 3 that costs more than a 1 KiB
 * message): it chains from the last cipher block it saw, CHAIN, and the first block is
 * corrected by CHAIN ^ IV (before encryption, after decryption) to get the IV asked for. */
static bool cbc_run(EVP_CIPHER_CTX *c, unsigned char *chain, bool encrypt, const unsigned char *iv,
                    const unsigned char *in, size_t len, unsigned char *out)
{
    unsigned char fix[BLOCK], next_chain[BLOCK];
    unsigned char *start = out;
    int n = 0;

    for (int i = 0; i < BLOCK; i++)
        fix[i] = chain[i] ^ iv[i];
    if (encrypt) {
        unsigned char first[BLOCK];

        for (int i = 0; i < BLOCK; i++)
            first[i] = in[i] ^ fix[i];
        if (EVP_CipherUpdate(c, out, &n, first, BLOCK) != 1 || n != BLOCK)
            return false;
        in += BLOCK;
        out += BLOCK;
        len -= BLOCK;
    } else {
        memcpy(next_chain, in + len - BLOCK, BLOCK);
    }
    while (len > 0) {
        int chunk = len > (1u << 30) ? 1 << 30 : (int)len;

        if (EVP_CipherUpdate(c, out, &n, in, chunk) != 1 || n != chunk)
            return false;
        in += chunk;
        out += chunk;
        len -= (size_t)chunk;
    }
    if (encrypt) {
        memcpy(chain, out - BLOCK, BLOCK);
    } else {
        for (int i = 0; i < BLOCK; i++)
            start[i] ^= fix[i];
        memcpy(chain, next_chain, BLOCK);
    }
    return true;
}

/* AES-CBC with ciphertext stealing (RFC 3962), zero IV, LEN >= 16 bytes, in place in BUF. */
static bool cts_encrypt(struct rfc4121_usage *u, unsigned char *buf, size_t len)
{
    static const unsigned char zero[BLOCK];
    size_t blocks = (len + BLOCK - 1) / BLOCK, tail = len - (blocks - 1) * BLOCK;
    unsigned char last[BLOCK] = {0}, saved[BLOCK];

    if (blocks == 1)
        return cbc_run(u->enc, u->enc_chain, true, zero, buf, BLOCK, buf);
    memcpy(last, buf + (blocks - 1) * BLOCK, tail);
    /* The chain continues from the first blocks into the zero-padded last one. */
    if (!cbc_run(u->enc, u->enc_chain, true, zero, buf, (blocks - 1) * BLOCK, buf))
        return false;
    memcpy(saved, buf + (blocks - 2) * BLOCK, BLOCK);
    if (!cbc_run(u->enc, u->enc_chain, true, saved, last, BLOCK, last))
        return false;
    memcpy(buf + (blocks - 2) * BLOCK, last, BLOCK);
    memcpy(buf + (blocks - 1) * BLOCK, saved, tail);
    return true;
}

/* The inverse of cts_encrypt, IN to OUT (may be equal). */
static bool cts_decrypt(struct rfc4121_usage *u, const unsigned char *in, size_t len,
                        unsigned char *out)
{
    static const unsigned char zero[BLOCK];
    size_t blocks = (len + BLOCK - 1) / BLOCK, tail = len - (blocks - 1) * BLOCK;
    unsigned char x[BLOCK], y[BLOCK], prev[BLOCK], d[BLOCK];

    if (blocks == 1)
        return cbc_run(u->dec, u->dec_chain, false, zero, in, BLOCK, out);
    memcpy(x, in + (blocks - 2) * BLOCK, BLOCK);
    memcpy(y, in + (blocks - 1) * BLOCK, tail);
    memcpy(prev, blocks > 2 ? in + (blocks - 3) * BLOCK : zero, BLOCK);
    if (blocks > 2 && !cbc_run(u->dec, u->dec_chain, false, zero, in, (blocks - 2) * BLOCK, out))
        return false;
    /* x decrypts to (last plaintext, zero padded) XOR the full second-to-last cipher block,
     * whose first TAIL bytes are y. */
    if (!cbc_run(u->dec, u->dec_chain, false, zero, x, BLOCK, d))
        return false;
    for (size_t i = 0; i < tail; i++)
        out[(blocks - 1) * BLOCK + i] = d[i] ^ y[i];
    memcpy(y + tail, d + tail, BLOCK - tail);
    return cbc_run(u->dec, u->dec_chain, false, prev, y, BLOCK, out + (blocks - 2) * BLOCK);
}

/* HMAC with the prepared context over the pieces, truncated to u->mac_len into OUT. */
static bool mac_run(const struct rfc4121_usage *u, EVP_MAC_CTX *c, size_t n,
                    const unsigned char *const *parts, const size_t *lens, unsigned char *out)
{
    unsigned char full[MAX_MAC];
    size_t full_len = 0;

    if (EVP_MAC_init(c, NULL, 0, NULL) != 1)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lens[i] > 0 && EVP_MAC_update(c, parts[i], lens[i]) != 1)
            return false;
    if (EVP_MAC_final(c, full, &full_len, sizeof(full)) != 1 || full_len < u->mac_len)
        return false;
    memcpy(out, full, u->mac_len);
    return true;
}

/* 16 fresh random bytes into OUT, from a pool refilled 4 KiB at a time (RAND_bytes per
 * message costs a getpid() system call and a DRBG lock in OpenSSL 3). */
static bool next_confounder(struct rfc4121_usage *u, unsigned char *out)
{
    if (u->pool_used + RFC4121_CONFOUNDER > sizeof(u->pool)) {
        if (RAND_bytes(u->pool, sizeof(u->pool)) != 1)
            return false;
        u->pool_used = 0;
    }
    memcpy(out, u->pool + u->pool_used, RFC4121_CONFOUNDER);
    OPENSSL_cleanse(u->pool + u->pool_used, RFC4121_CONFOUNDER);
    u->pool_used += RFC4121_CONFOUNDER;
    return true;
}

/* Encrypt in place: BUF holds confounder | plaintext (LEN bytes) and room for the MAC after. */
static enum rfc4121_status encrypt_in_place(struct rfc4121_usage *u, unsigned char *buf, size_t len)
{
    static const unsigned char zero[BLOCK];

    if (is_sha1(u->enctype)) {
        const unsigned char *parts[] = {buf};
        const size_t lens[] = {len};

        if (!mac_run(u, u->mac_i, 1, parts, lens, buf + len) || !cts_encrypt(u, buf, len))
            return RFC4121_ERR_CRYPTO;
    } else {
        const unsigned char *parts[] = {zero, buf};
        const size_t lens[] = {BLOCK, len};

        if (!cts_encrypt(u, buf, len) || !mac_run(u, u->mac_i, 2, parts, lens, buf + len))
            return RFC4121_ERR_CRYPTO;
    }
    return RFC4121_OK;
}

enum rfc4121_status rfc4121_usage_encrypt(struct rfc4121_usage *u, const unsigned char *confounder,
                                          const unsigned char *in, size_t len, unsigned char *out)
{
    if (confounder != NULL)
        memcpy(out, confounder, RFC4121_CONFOUNDER);
    else if (!next_confounder(u, out))
        return RFC4121_ERR_CRYPTO;
    if (len > 0)
        memcpy(out + RFC4121_CONFOUNDER, in, len);
    return encrypt_in_place(u, out, RFC4121_CONFOUNDER + len);
}

/* Constant-time comparison of two MACs. */
static bool mac_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
    unsigned char diff = 0;

    for (size_t i = 0; i < len; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* Verify and decrypt LEN bytes (ciphertext | MAC) at IN into OUT (confounder | plaintext). */
static enum rfc4121_status decrypt_raw(struct rfc4121_usage *u, const unsigned char *in, size_t len,
                                       unsigned char *out)
{
    static const unsigned char zero[BLOCK];
    unsigned char mac[MAX_MAC], got[MAX_MAC];
    size_t clen;

    if (len < RFC4121_CONFOUNDER + u->mac_len)
        return RFC4121_ERR_SHORT;
    clen = len - u->mac_len;
    memcpy(got, in + clen, u->mac_len);
    if (!is_sha1(u->enctype)) {
        const unsigned char *parts[] = {zero, in};
        const size_t lens[] = {BLOCK, clen};

        if (!mac_run(u, u->mac_i, 2, parts, lens, mac))
            return RFC4121_ERR_CRYPTO;
        if (!mac_equal(mac, got, u->mac_len))
            return RFC4121_ERR_INTEGRITY;
    }
    if (!cts_decrypt(u, in, clen, out))
        return RFC4121_ERR_CRYPTO;
    if (is_sha1(u->enctype)) {
        const unsigned char *parts[] = {out};
        const size_t lens[] = {clen};

        if (!mac_run(u, u->mac_i, 1, parts, lens, mac))
            return RFC4121_ERR_CRYPTO;
        if (!mac_equal(mac, got, u->mac_len))
            return RFC4121_ERR_INTEGRITY;
    }
    return RFC4121_OK;
}

enum rfc4121_status rfc4121_usage_decrypt(struct rfc4121_usage *u, const unsigned char *in,
                                          size_t len, unsigned char *out, size_t *out_len)
{
    enum rfc4121_status st = decrypt_raw(u, in, len, out);

    if (st != RFC4121_OK)
        return st;
    *out_len = len - RFC4121_CONFOUNDER - u->mac_len;
    memmove(out, out + RFC4121_CONFOUNDER, *out_len);
    return RFC4121_OK;
}

enum rfc4121_status rfc4121_usage_checksum(struct rfc4121_usage *u, size_t n,
                                           const unsigned char *const *parts, const size_t *lens,
                                           unsigned char *out)
{
    return mac_run(u, u->mac_c, n, parts, lens, out) ? RFC4121_OK : RFC4121_ERR_CRYPTO;
}

void rfc4121_free(struct rfc4121_ctx *ctx)
{
    rfc4121_usage_free(&ctx->send);
    rfc4121_usage_free(&ctx->recv);
}

enum rfc4121_status rfc4121_init(struct rfc4121_ctx *ctx, enum rfc4121_enctype enctype,
                                 const unsigned char *key, size_t key_len, bool initiator,
                                 bool acceptor_subkey, uint64_t send_seq, uint64_t recv_seq)
{
    enum rfc4121_status st;

    memset(ctx, 0, sizeof(*ctx));
    ctx->initiator = initiator;
    ctx->acceptor_subkey = acceptor_subkey;
    ctx->send_seq = send_seq;
    ctx->recv_seq = recv_seq;
    st = rfc4121_usage_init(&ctx->send, enctype, key, key_len,
                            initiator ? RFC4121_INITIATOR_SEAL : RFC4121_ACCEPTOR_SEAL);
    if (st == RFC4121_OK)
        st = rfc4121_usage_init(&ctx->recv, enctype, key, key_len,
                                initiator ? RFC4121_ACCEPTOR_SEAL : RFC4121_INITIATOR_SEAL);
    if (st != RFC4121_OK)
        rfc4121_free(ctx);
    return st;
}

void rfc4121_warm_up(void)
{
    static const enum rfc4121_enctype all[] = {RFC4121_AES128_SHA1, RFC4121_AES256_SHA1,
                                               RFC4121_AES128_SHA256, RFC4121_AES256_SHA384};
    static const unsigned char zero[RFC4121_MAX_KEY];

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        struct rfc4121_usage u;
        size_t len = all[i] == RFC4121_AES128_SHA1 || all[i] == RFC4121_AES128_SHA256 ? 16 : 32;

        rfc4121_usage_init(&u, all[i], zero, len, RFC4121_INITIATOR_SEAL);
        rfc4121_usage_free(&u);
    }
}

size_t rfc4121_wrap_len(const struct rfc4121_ctx *ctx, const struct rfc4121_wrap_opts *opts,
                        size_t len)
{
    if (opts->conf)
        return RFC4121_HEADER +
               rfc4121_usage_cipher_len(&ctx->send, len + opts->ec + RFC4121_HEADER);
    return RFC4121_HEADER + len + ctx->send.mac_len;
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = v & 0xff;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reverse BUF[0..LEN) in place. */
static void reverse(unsigned char *buf, size_t len)
{
    for (size_t i = 0, j = len; i + 1 < j; i++, j--) {
        unsigned char t = buf[i];
        buf[i] = buf[j - 1];
        buf[j - 1] = t;
    }
}

/* Rotate BUF (LEN bytes) right by N (the last N bytes come first), in place. */
static void rotate_right(unsigned char *buf, size_t len, size_t n)
{
    if (len == 0 || (n %= len) == 0)
        return;
    reverse(buf, len);
    reverse(buf, n);
    reverse(buf + n, len - n);
}

enum rfc4121_status rfc4121_wrap(struct rfc4121_ctx *ctx, const struct rfc4121_wrap_opts *opts,
                                 const unsigned char *in, size_t len, unsigned char *out,
                                 size_t cap, size_t *out_len)
{
    struct rfc4121_usage *u = &ctx->send;
    size_t total = rfc4121_wrap_len(ctx, opts, len);
    unsigned char *hdr = out, *body = out + RFC4121_HEADER;
    enum rfc4121_status st;

    if (cap < total)
        return RFC4121_ERR_SPACE;
    hdr[0] = 0x05;
    hdr[1] = 0x04;
    hdr[2] = (ctx->initiator ? 0 : FLAG_SENT_BY_ACCEPTOR) | (opts->conf ? FLAG_SEALED : 0) |
             (ctx->acceptor_subkey ? FLAG_ACCEPTOR_SUBKEY : 0);
    hdr[3] = 0xff;
    put16(hdr + 4, 0);
    put16(hdr + 6, 0);
    put64(hdr + 8, ctx->send_seq);
    if (opts->conf) {
        /* body: confounder | data | filler | header copy (EC set, RRC 0) | MAC */
        unsigned char *p = body + RFC4121_CONFOUNDER;

        put16(hdr + 4, opts->ec);
        if (!next_confounder(u, body))
            return RFC4121_ERR_CRYPTO;
        if (len > 0)
            memcpy(p, in, len);
        /* the filler octets are zero here (MIT itself sends EC 0) */
        memset(p + len, 0, opts->ec);
        memcpy(p + len + opts->ec, hdr, RFC4121_HEADER);
        if (opts->rrc_in_copy)
            put16(p + len + opts->ec + 6, opts->rrc);
        st = encrypt_in_place(u, body, RFC4121_CONFOUNDER + len + opts->ec + RFC4121_HEADER);
        if (st != RFC4121_OK)
            return st;
    } else {
        const unsigned char *parts[] = {in, hdr};
        const size_t lens[] = {len, RFC4121_HEADER};

        if (len > 0)
            memcpy(body, in, len);
        st = rfc4121_usage_checksum(u, 2, parts, lens, body + len);
        if (st != RFC4121_OK)
            return st;
        put16(hdr + 4, (uint16_t)u->mac_len);
    }
    put16(hdr + 6, opts->rrc);
    rotate_right(body, total - RFC4121_HEADER, opts->rrc);
    ctx->send_seq++;
    *out_len = total;
    return RFC4121_OK;
}

enum rfc4121_status rfc4121_unwrap(struct rfc4121_ctx *ctx, const unsigned char *token, size_t len,
                                   unsigned char *out, size_t cap, size_t *out_len,
                                   struct rfc4121_token_info *info)
{
    struct rfc4121_usage *u = &ctx->recv;
    size_t body_len, rrc;
    uint8_t flags;
    enum rfc4121_status st;

    memset(info, 0, sizeof(*info));
    if (len < RFC4121_HEADER)
        return RFC4121_ERR_SHORT;
    if (cap < len)
        return RFC4121_ERR_SPACE;
    info->flags = flags = token[2];
    info->conf = (flags & FLAG_SEALED) != 0;
    info->ec = get16(token + 4);
    info->rrc = get16(token + 6);
    info->seq = get64(token + 8);
    if (token[0] != 0x05 || token[1] != 0x04)
        return RFC4121_ERR_TOKEN_ID;
    if (token[3] != 0xff)
        return RFC4121_ERR_FILLER;
    if (((flags & FLAG_SENT_BY_ACCEPTOR) != 0) != ctx->initiator)
        return RFC4121_ERR_DIRECTION;
    if (((flags & FLAG_ACCEPTOR_SUBKEY) != 0) != ctx->acceptor_subkey)
        return RFC4121_ERR_SUBKEY;
    body_len = len - RFC4121_HEADER;
    /* Undo the rotation while copying: the body starts RRC bytes into the token's. */
    rrc = body_len > 0 ? info->rrc % body_len : 0;
    memcpy(out, token + RFC4121_HEADER + rrc, body_len - rrc);
    memcpy(out + body_len - rrc, token + RFC4121_HEADER, rrc);
    if (info->conf) {
        size_t plain_len;
        unsigned char copy[RFC4121_HEADER];

        if (body_len < RFC4121_CONFOUNDER + (size_t)info->ec + RFC4121_HEADER + u->mac_len)
            return RFC4121_ERR_SHORT;
        st = decrypt_raw(u, out, body_len, out);
        if (st != RFC4121_OK)
            return st;
        plain_len = body_len - u->mac_len - RFC4121_CONFOUNDER;
        /* The copy carries RRC 0 (it was encrypted before the rotation). */
        memcpy(copy, token, RFC4121_HEADER);
        put16(copy + 6, 0);
        if (memcmp(out + RFC4121_CONFOUNDER + plain_len - RFC4121_HEADER, copy, RFC4121_HEADER) !=
            0)
            return RFC4121_ERR_HEADER;
        *out_len = plain_len - RFC4121_HEADER - info->ec;
        memmove(out, out + RFC4121_CONFOUNDER, *out_len);
    } else {
        unsigned char hdr[RFC4121_HEADER], mac[MAX_MAC];
        const unsigned char *parts[] = {out, hdr};
        size_t lens[] = {0, RFC4121_HEADER};

        if (info->ec != u->mac_len)
            return RFC4121_ERR_EC;
        if (body_len < u->mac_len)
            return RFC4121_ERR_SHORT;
        lens[0] = body_len - u->mac_len;
        memcpy(hdr, token, RFC4121_HEADER);
        put16(hdr + 4, 0);
        put16(hdr + 6, 0);
        st = rfc4121_usage_checksum(u, 2, parts, lens, mac);
        if (st != RFC4121_OK)
            return st;
        if (!mac_equal(mac, out + lens[0], u->mac_len))
            return RFC4121_ERR_INTEGRITY;
        *out_len = lens[0];
    }
    info->in_sequence = info->seq == ctx->recv_seq;
    ctx->recv_seq = info->seq + 1;
    return RFC4121_OK;
}
