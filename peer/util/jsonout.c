/* The JSON string writer: see jsonout.h. */
#include "util/jsonout.h"

#include "util/hex.h"
#include "util/utf8.h"

#include <string.h>

void json_put_bytes(FILE *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;

    putc('"', f);
    while (i < len) {
        size_t n = utf8_sequence_length(p + i, len - i);

        if (p[i] == '"' || p[i] == '\\') {
            putc('\\', f);
            putc(p[i], f);
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7f || n == 0) {
            fprintf(f, "\\u%04x", p[i]);
            i++;
        } else {
            fwrite(p + i, 1, n, f);
            i += n;
        }
    }
    putc('"', f);
}

void json_put_string(FILE *f, const char *s)
{
    json_put_bytes(f, s, strlen(s));
}

void json_put_hex(FILE *f, const unsigned char *data, size_t len)
{
    putc('"', f);
    hex_put(f, data, len);
    putc('"', f);
}
