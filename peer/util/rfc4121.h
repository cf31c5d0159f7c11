/*
 * RFC 4121 Wrap tokens (section 4.2.6.2) on OpenSSL EVP, independent of MIT's libk5crypto:
 * an in-process second implementation of the per-message tokens of the Kerberos V5 GSS-API
 * mechanism, for the AES enctypes of RFC 3962 (aes128/aes256-cts-hmac-sha1-96, 17 and 18) and
 * RFC 8009 (aes128-cts-hmac-sha256-128, aes256-cts-hmac-sha384-192, 19 and 20).
 *
 * Sans-I/O: bytes in, bytes out. The key comes from an established context (see
 * rfc4121-gss.h for the MIT lucid export); nothing here talks to a KDC or a socket.
 *
 * Two layers:
 *   - the RFC 3961 simplified-profile / RFC 8009 crypto of one key usage (rfc4121_usage_*):
 *     key derivation, encrypt/decrypt with an explicit confounder, checksum;
 *   - the Wrap token of one context (rfc4121_wrap / rfc4121_unwrap): header, EC filler,
 *     encrypted header copy, RRC rotation, sequence numbers, and every check RFC 4121 asks of
 *     a receiver, each failing with its own status so a checker can name what was wrong.
 *
 * Ownership: a struct rfc4121_ctx / rfc4121_usage owns OpenSSL contexts; release them with
 * rfc4121_free / rfc4121_usage_free (safe on a zeroed or failed struct, and twice). Every
 * output buffer is the caller's; nothing returned needs freeing.
 */
#ifndef UTIL_RFC4121_H
#define UTIL_RFC4121_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kerberos enctype numbers (RFC 3962, RFC 8009). */
enum rfc4121_enctype {
    RFC4121_AES128_SHA1 = 17,
    RFC4121_AES256_SHA1 = 18,
    RFC4121_AES128_SHA256 = 19,
    RFC4121_AES256_SHA384 = 20,
};

/* Key usage numbers of RFC 4121 section 2 (wrap tokens use SEAL, MIC tokens SIGN). */
enum rfc4121_keyusage {
    RFC4121_ACCEPTOR_SEAL = 22,
    RFC4121_ACCEPTOR_SIGN = 23,
    RFC4121_INITIATOR_SEAL = 24,
    RFC4121_INITIATOR_SIGN = 25,
};

enum rfc4121_status {
    RFC4121_OK = 0,
    RFC4121_ERR_ENCTYPE,   /* enctype not one of the four, or key of the wrong length */
    RFC4121_ERR_CRYPTO,    /* OpenSSL refused (out of memory or no such algorithm) */
    RFC4121_ERR_SPACE,     /* the output buffer is smaller than the size functions say */
    RFC4121_ERR_ARGUMENT,  /* a length out of range (EC > 65535, input too short to decrypt) */
    RFC4121_ERR_SHORT,     /* token shorter than its header plus what EC/checksum imply */
    RFC4121_ERR_TOKEN_ID,  /* TOK_ID is not 05 04 */
    RFC4121_ERR_FILLER,    /* octet 3 is not FF */
    RFC4121_ERR_DIRECTION, /* SentByAcceptor says the token came from our own side */
    RFC4121_ERR_SUBKEY,    /* AcceptorSubkey flag disagrees with the context */
    RFC4121_ERR_EC,        /* integrity-only token whose EC is not the checksum length */
    RFC4121_ERR_INTEGRITY, /* checksum or HMAC mismatch */
    RFC4121_ERR_HEADER,    /* the encrypted header copy differs from the token header */
};

/* One line of English for STATUS ("bad TOK_ID", ...); never NULL. */
const char *rfc4121_status_text(enum rfc4121_status status);

/* Largest derived key (Ki of aes256-sha384 is 24 bytes, Ke 32). */
enum { RFC4121_MAX_KEY = 32, RFC4121_CONFOUNDER = 16, RFC4121_HEADER = 16 };

/* The keys of one (base key, key usage) pair, and the OpenSSL state they are loaded into. */
struct rfc4121_usage {
    enum rfc4121_enctype enctype;
    size_t key_len; /* 16 or 32: the AES key size, Ke */
    size_t mac_len; /* h: bytes of HMAC kept (12, 16 or 24) */
    size_t ki_len;  /* Ki/Kc length: key_len for SHA-1, 16/24 for SHA-2 */
    unsigned char ke[RFC4121_MAX_KEY], ki[RFC4121_MAX_KEY], kc[RFC4121_MAX_KEY];
    void *enc;                                  /* EVP_CIPHER_CTX, AES-CBC encrypt with Ke */
    void *dec;                                  /* EVP_CIPHER_CTX, AES-CBC decrypt with Ke */
    void *mac_i;                                /* EVP_MAC_CTX, HMAC keyed with Ki */
    void *mac_c;                                /* EVP_MAC_CTX, HMAC keyed with Kc */
    unsigned char enc_chain[16], dec_chain[16]; /* last cipher block each EVP context saw */
    unsigned char pool[4096]; /* random bytes for confounders, used from pool_used on */
    size_t pool_used;
};

/* Derive Ke, Ki, Kc of USAGE from the base KEY (KEY_LEN bytes) of ENCTYPE (RFC 3961 DK with
 * n-fold for SHA-1, RFC 8009 KDF-HMAC-SHA2 otherwise) and set up OpenSSL. On failure *U is
 * left freeable. */
enum rfc4121_status rfc4121_usage_init(struct rfc4121_usage *u, enum rfc4121_enctype enctype,
                                       const unsigned char *key, size_t key_len, uint32_t usage);
void rfc4121_usage_free(struct rfc4121_usage *u);

/* Ciphertext length of an encryption of LEN plaintext bytes (confounder + LEN + h). */
size_t rfc4121_usage_cipher_len(const struct rfc4121_usage *u, size_t len);

/* Encrypt LEN bytes at IN with the 16-byte CONFOUNDER into OUT (rfc4121_usage_cipher_len
 * bytes; OUT may not overlap IN). The RFC 3961/8009 "encryption function" with a zero cipher
 * state. CONFOUNDER NULL: fresh random bytes. */
enum rfc4121_status rfc4121_usage_encrypt(struct rfc4121_usage *u, const unsigned char *confounder,
                                          const unsigned char *in, size_t len, unsigned char *out);

/* Decrypt and verify LEN ciphertext bytes at IN into OUT (LEN - 16 - h plaintext bytes
 * without the confounder, *OUT_LEN; OUT may equal IN, otherwise no overlap). */
enum rfc4121_status rfc4121_usage_decrypt(struct rfc4121_usage *u, const unsigned char *in,
                                          size_t len, unsigned char *out, size_t *out_len);

/* The keyed checksum (HMAC with Kc, truncated to h) of the concatenation of the N pieces
 * PARTS[i] of LENS[i] bytes, into OUT (h bytes). */
enum rfc4121_status rfc4121_usage_checksum(struct rfc4121_usage *u, size_t n,
                                           const unsigned char *const *parts, const size_t *lens,
                                           unsigned char *out);

/* n-fold of RFC 3961 section 5.1: IN (IN_LEN bytes) folded into OUT_LEN bytes. Exposed for
 * the unit tests. */
void rfc4121_nfold(const unsigned char *in, size_t in_len, unsigned char *out, size_t out_len);

/* One side of an established context. */
struct rfc4121_ctx {
    bool initiator;       /* we are the initiator: we seal with 24, the peer with 22 */
    bool acceptor_subkey; /* the context key is the acceptor's subkey (flag 0x04) */
    uint64_t send_seq;    /* SND_SEQ of our next token */
    uint64_t recv_seq;    /* SND_SEQ expected in the peer's next token */
    struct rfc4121_usage send, recv;
};

/* Set up CTX for one side: KEY is the context key the tokens use (the acceptor subkey when
 * ACCEPTOR_SUBKEY, else the initiator subkey or session key). On failure CTX is freeable. */
enum rfc4121_status rfc4121_init(struct rfc4121_ctx *ctx, enum rfc4121_enctype enctype,
                                 const unsigned char *key, size_t key_len, bool initiator,
                                 bool acceptor_subkey, uint64_t send_seq, uint64_t recv_seq);
void rfc4121_free(struct rfc4121_ctx *ctx);

/* Set up, once per process, the OpenSSL algorithms the four enctypes use (a throwaway
 * rfc4121_init of each key size and digest). The first rfc4121_init of a process otherwise pays
 * for OpenSSL's provider and algorithm fetch set-up, measured at 3-44 ms on a loaded machine
 * against 0.02 ms after: a driver calls this before it starts serving, so no handshake waits on
 * it. Optional; harmless more than once. */
void rfc4121_warm_up(void);

/* How a token is built; zero means what MIT sends (EC 0 with confidentiality, RRC 0). */
struct rfc4121_wrap_opts {
    bool conf;    /* confidentiality (Sealed) or integrity only */
    uint16_t ec;  /* filler octets with confidentiality (ignored without) */
    uint16_t rrc; /* right rotation count */
    /* Fault injection (a sender bug a test needs; MIT's receiver does not notice it): the
     * encrypted header copy carries RRC instead of zero. */
    bool rrc_in_copy;
};

/* Length of the token for LEN bytes of data with OPTS. */
size_t rfc4121_wrap_len(const struct rfc4121_ctx *ctx, const struct rfc4121_wrap_opts *opts,
                        size_t len);

/* Build the Wrap token of LEN bytes at IN into OUT (CAP bytes, at least rfc4121_wrap_len;
 * no overlap), *OUT_LEN its length; uses and advances ctx->send_seq. */
enum rfc4121_status rfc4121_wrap(struct rfc4121_ctx *ctx, const struct rfc4121_wrap_opts *opts,
                                 const unsigned char *in, size_t len, unsigned char *out,
                                 size_t cap, size_t *out_len);

/* What rfc4121_unwrap saw in a token (filled as far as parsing got, also on failure). */
struct rfc4121_token_info {
    uint8_t flags;
    bool conf;
    uint16_t ec, rrc;
    uint64_t seq;
    bool in_sequence; /* seq equalled ctx->recv_seq (which then advanced) */
};

/* Check and open the peer's Wrap token of LEN bytes at TOKEN into OUT (CAP bytes, at least
 * LEN; no overlap): the data, *OUT_LEN bytes. Sequence numbers are reported in INFO, not
 * enforced (the caller decides about replay and gaps); recv_seq becomes seq + 1. */
enum rfc4121_status rfc4121_unwrap(struct rfc4121_ctx *ctx, const unsigned char *token, size_t len,
                                   unsigned char *out, size_t cap, size_t *out_len,
                                   struct rfc4121_token_info *info);

#endif
