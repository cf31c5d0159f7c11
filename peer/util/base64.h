/*
 * Base64 (RFC 4648 §4, the standard alphabet with '=' padding), strict: the SASL payloads of
 * RFC 6120 §6.4 travel in it, and a reference peer must tell a malformed encoding apart.
 *
 * Strict decoding refuses: a length that is not a multiple of 4, any character outside the
 * alphabet (whitespace included), padding anywhere but at the end or more than two '=', and
 * non-zero bits in the unused part of the last symbol (RFC 4648 §3.5 allows refusing those).
 *
 * Ownership: base64_encode and base64_decode return newly allocated memory the caller frees
 * with free(); nothing is allocated on failure.
 */
#ifndef UTIL_BASE64_H
#define UTIL_BASE64_H

#include <stddef.h>

enum base64_status {
    BASE64_OK = 0,
    BASE64_BAD_LENGTH,  /* length not a multiple of 4 */
    BASE64_BAD_CHAR,    /* a character outside the alphabet (offset in *where) */
    BASE64_BAD_PADDING, /* '=' in the middle, or more than two */
    BASE64_NONZERO_BITS, /* unused bits of the last symbol are not zero */
    BASE64_NOMEM,
};

/* Encode LEN bytes of DATA as a NUL-terminated string ("" for LEN 0); NULL on out of memory. */
char *base64_encode(const unsigned char *data, size_t len);

/* Decode LEN characters of TEXT. On BASE64_OK *OUT holds *OUT_LEN bytes (never NULL, also for
 * empty input); on failure *OUT is NULL and *WHERE (if not NULL) is the offset of the fault. */
enum base64_status base64_decode(const char *text, size_t len, unsigned char **out,
                                 size_t *out_len, size_t *where);

/* A one-line reason for STATUS ("a character outside the base64 alphabet"). */
const char *base64_status_reason(enum base64_status status);

#endif
