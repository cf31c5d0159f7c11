/* Strict base64: see base64.h. */
#include "util/base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of C, or -1 when C is not in the alphabet ('=' included). */
static int symbol(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

char *base64_encode(const unsigned char *data, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;

        if (n > 1)
            v |= (uint32_t)data[i + 1] << 8;
        if (n > 2)
            v |= data[i + 2];
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
        out[o++] = n > 1 ? ALPHABET[(v >> 6) & 63] : '=';
        out[o++] = n > 2 ? ALPHABET[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

enum base64_status base64_decode(const char *text, size_t len, unsigned char **out,
                                 size_t *out_len, size_t *where)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t pad = 0, o = 0, at = 0;
    unsigned char *buf;
    enum base64_status status = BASE64_OK;

    *out = NULL;
    if (len % 4 != 0) {
        at = len;
        status = BASE64_BAD_LENGTH;
        goto cleanup;
    }
    while (pad < len && pad < 3 && in[len - 1 - pad] == '=')
        pad++;
    if (pad > 2) {
        at = len - pad;
        status = BASE64_BAD_PADDING;
        goto cleanup;
    }
    for (size_t i = 0; i < len - pad; i++) {
        if (symbol(in[i]) < 0) {
            at = i;
            status = in[i] == '=' ? BASE64_BAD_PADDING : BASE64_BAD_CHAR;
            goto cleanup;
        }
    }
    /* The unused low bits of the last symbol before the padding must be zero. */
    if ((pad == 1 && (symbol(in[len - 2]) & 0x03) != 0) ||
        (pad == 2 && (symbol(in[len - 3]) & 0x0f) != 0)) {
        at = len - pad - 1;
        status = BASE64_NONZERO_BITS;
        goto cleanup;
    }
    buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL) {
        status = BASE64_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;

        for (size_t k = 0; k < 4; k++)
            v = v << 6 | (in[i + k] == '=' ? 0 : (uint32_t)symbol(in[i + k]));
        buf[o++] = (unsigned char)(v >> 16);
        if (i + 4 < len || pad < 2)
            buf[o++] = (unsigned char)(v >> 8);
        if (i + 4 < len || pad < 1)
            buf[o++] = (unsigned char)v;
    }
    *out = buf;
    *out_len = o;
cleanup:
    if (where != NULL)
        *where = at;
    return status;
}

const char *base64_status_reason(enum base64_status status)
{
    switch (status) {
    case BASE64_OK:
        return "valid base64";
    case BASE64_BAD_LENGTH:
        return "base64 length is not a multiple of 4";
    case BASE64_BAD_CHAR:
        return "a character outside the base64 alphabet";
    case BASE64_BAD_PADDING:
        return "misplaced or excess '=' padding";
    case BASE64_NONZERO_BITS:
        return "non-zero unused bits before the padding";
    default:
        return "out of memory";
    }
}
