/* Strict base64 (RFC 4648 §4) for RFC 6120 payloads: see base64.h. */
#include "util/base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    size_t groups = len / 3 + (len % 3 != 0);
    char *text, *p;

    if (groups > (SIZE_MAX - 1) / 4)
        return NULL;
    text = malloc(groups * 4 + 1);
    if (text == NULL)
        return NULL;
    p = text;
    for (size_t i = 0; i < len; i += 3) {
        size_t left = len - i;
        uint32_t v = (uint32_t)in[i] << 16;

        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        *p++ = alphabet[v >> 18 & 63];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = left > 1 ? alphabet[v >> 6 & 63] : '=';
        *p++ = left > 2 ? alphabet[v & 63] : '=';
    }
    *p = '\0';
    return text;
}

/* The 6-bit value of C, or -1 when C is not in the alphabet. */
static int value_of(unsigned char c)
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

static enum base64_status refuse(enum base64_status status, size_t at, size_t *where)
{
    if (where != NULL)
        *where = at;
    return status;
}

enum base64_status base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len,
                                 size_t *where)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t pad = 0, n = 0;
    unsigned char *buf;

    *out = NULL;
    *out_len = 0;
    /* Characters first, so that a stray space is reported as such whatever the length. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];

        if (c == '=') {
            /* Only the last one or two characters of the whole text may be padding. */
            if (i + 2 < len || (i + 2 == len && in[i + 1] != '='))
                return refuse(BASE64_BAD_PADDING, i, where);
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            return refuse(BASE64_WHITESPACE, i, where);
        if (value_of(c) < 0)
            return refuse(BASE64_BAD_CHAR, i, where);
    }
    if (len % 4 != 0)
        return refuse(BASE64_BAD_LENGTH, len, where);
    if (len > 0 && in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    if (len > 0) {
        /* The last character carrying bits must leave the bits the padding drops zero. */
        size_t last = len - 1 - pad;
        int v = value_of(in[last]);

        if ((pad == 1 && (v & 0x03) != 0) || (pad == 2 && (v & 0x0f) != 0))
            return refuse(BASE64_NONZERO_PAD_BITS, last, where);
    }
    buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return refuse(BASE64_NO_MEMORY, 0, where);
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t chars = 4;

        for (size_t j = 0; j < 4; j++) {
            if (in[i + j] == '=') {
                chars = j;
                break;
            }
            v |= (uint32_t)value_of(in[i + j]) << (18 - 6 * j);
        }
        buf[n++] = (unsigned char)(v >> 16);
        if (chars > 2)
            buf[n++] = (unsigned char)(v >> 8);
        if (chars > 3)
            buf[n++] = (unsigned char)v;
    }
    *out = buf;
    *out_len = n;
    return BASE64_OK;
}

static const struct {
    enum base64_status status;
    const char *name;
    const char *reason;
} statuses[] = {
    {BASE64_OK, "BASE64_OK", "valid base64"},
    {BASE64_BAD_LENGTH, "BASE64_BAD_LENGTH",
     "RFC 4648 §4: the length is a multiple of 4 characters (padding is required)"},
    {BASE64_WHITESPACE, "BASE64_WHITESPACE",
     "RFC 6120 §6.4.2: no whitespace or line breaks inside the base64 data"},
    {BASE64_BAD_CHAR, "BASE64_BAD_CHAR", "RFC 4648 §4: a character outside the base64 alphabet"},
    {BASE64_BAD_PADDING, "BASE64_BAD_PADDING",
     "RFC 4648 §4: \"=\" only as the last one or two characters"},
    {BASE64_NONZERO_PAD_BITS, "BASE64_NONZERO_PAD_BITS",
     "RFC 4648 §3.5: the pad bits are zero in the canonical encoding"},
    {BASE64_NO_MEMORY, "BASE64_NO_MEMORY", "out of memory"},
};

const char *base64_status_name(enum base64_status status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].status == status)
            return statuses[i].name;
    return "BASE64_UNKNOWN_STATUS";
}

const char *base64_status_reason(enum base64_status status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].status == status)
            return statuses[i].reason;
    return "unknown base64 status";
}
