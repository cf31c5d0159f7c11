/* Hexadecimal text: see hex.h. */
#include "util/hex.h"

#include <stdlib.h>
#include <string.h>

int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum hex_status hex_decode(const char *text, unsigned char **out, size_t *len)
{
    size_t n = strlen(text);
    unsigned char *bytes;

    *out = NULL;
    if (n % 2 != 0)
        return HEX_ODD_LENGTH;
    /* One spare byte so that "" still yields a pointer the caller can free. */
    bytes = malloc(n / 2 + 1);
    if (bytes == NULL)
        return HEX_NOMEM;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit((unsigned char)text[2 * i]);
        int lo = hex_digit((unsigned char)text[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            free(bytes);
            return HEX_BAD_DIGIT;
        }
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = bytes;
    *len = n / 2;
    return HEX_OK;
}

void hex_put(FILE *f, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        putc(digits[data[i] >> 4], f);
        putc(digits[data[i] & 15], f);
    }
}
