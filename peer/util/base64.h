/*
 * Base64 (RFC 4648 §4, the standard alphabet with padding) as RFC 6120 §6.4.2 wants it in SASL
 * element payloads: an encoder, and a strict decoder that refuses anything but the canonical
 * encoding (padding required, no whitespace or line breaks, no character outside the alphabet,
 * pad bits zero).
 *
 * What is not this module's business: in RFC 6120 a payload of zero octets is sent as a single
 * "=" (and an element with no character data means "no payload", e.g. <auth/> without an
 * initial response). The roles map "=" to zero octets before calling base64_decode, and send
 * "=" themselves when base64_encode returns "" for zero octets; base64_decode refuses "="
 * (BASE64_BAD_LENGTH) and decodes "" to zero octets.
 *
 * Ownership: returned buffers are newly allocated and freed by the caller with free().
 */
#ifndef UTIL_BASE64_H
#define UTIL_BASE64_H

#include <stddef.h>

enum base64_status {
    BASE64_OK = 0,
    BASE64_BAD_LENGTH,       /* the length is not a multiple of 4 (padding missing or extra) */
    BASE64_WHITESPACE,       /* a space, tab, CR or LF (RFC 6120 §6.4.2: no whitespace) */
    BASE64_BAD_CHAR,         /* any other character outside the alphabet and "=" */
    BASE64_BAD_PADDING,      /* "=" anywhere but as the last one or two characters */
    BASE64_NONZERO_PAD_BITS, /* the bits the padding leaves over are not zero (not canonical) */
    BASE64_NO_MEMORY,
};

/* Encode LEN octets at DATA (DATA may be NULL when LEN is 0) into a NUL-terminated string
 * ("" for 0 octets). Returns NULL only when out of memory. */
char *base64_encode(const void *data, size_t len);

/*
 * Decode the LEN characters at TEXT (not necessarily NUL-terminated; NULL allowed when LEN is
 * 0). On BASE64_OK, *OUT is a new buffer (never NULL, also for 0 octets) of *OUT_LEN octets.
 * On any other status *OUT is NULL, *OUT_LEN 0, and *WHERE (when WHERE is not NULL) is the
 * offset of the offending character (for BASE64_BAD_LENGTH: LEN).
 */
enum base64_status base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len,
                                 size_t *where);

/* The enum name ("BASE64_BAD_CHAR") and a one-line reason. */
const char *base64_status_name(enum base64_status status);
const char *base64_status_reason(enum base64_status status);

#endif
