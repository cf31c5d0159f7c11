/* Tests of util/hex: digits in both cases, decoding and its failures, and encoding. */
#include "tests/tap.h"
#include "util/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What hex_put writes for LEN bytes at DATA, in BUF (room for 2 * LEN + 1). */
static const char *encoded(const unsigned char *data, size_t len, char *buf, size_t buf_len)
{
    FILE *f;

    memset(buf, 0, buf_len); /* fmemopen need not write a NUL when nothing is written */
    f = fmemopen(buf, buf_len, "w");
    if (f == NULL)
        bail("fmemopen failed");
    hex_put(f, data, len);
    fclose(f);
    return buf;
}

int main(void)
{
    unsigned char *bytes = NULL;
    size_t len = 99;
    char buf[64];
    static const unsigned char all_nibbles[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

    plan_lazy();

    is_int(hex_digit('0'), 0, "digit 0");
    is_int(hex_digit('9'), 9, "digit 9");
    is_int(hex_digit('a'), 10, "digit a");
    is_int(hex_digit('F'), 15, "digit F (upper case)");
    is_int(hex_digit('g'), -1, "g is not a hex digit");
    is_int(hex_digit('x'), -1, "x is not a hex digit");
    is_int(hex_digit(' '), -1, "a space is not a hex digit");
    is_int(hex_digit(0xc3), -1, "a byte >= 0x80 is not a hex digit");

    is_int(hex_decode("0123456789abcdefABCDEF", &bytes, &len), HEX_OK, "decode both cases");
    is_blob(bytes, len, "\x01\x23\x45\x67\x89\xab\xcd\xef\xab\xcd\xef", 11, "decoded bytes");
    free(bytes);

    len = 99;
    is_int(hex_decode("", &bytes, &len), HEX_OK, "decode the empty string");
    ok(bytes != NULL && len == 0, "empty: zero bytes in a pointer the caller frees");
    free(bytes);

    len = 99;
    is_int(hex_decode("abc", &bytes, &len), HEX_ODD_LENGTH, "an odd length is refused");
    ok(bytes == NULL && len == 99, "odd length: nothing allocated, length untouched");
    is_int(hex_decode("0g", &bytes, &len), HEX_BAD_DIGIT, "a bad low digit is refused");
    ok(bytes == NULL && len == 99, "bad digit: nothing allocated, length untouched");
    is_int(hex_decode("g0", &bytes, &len), HEX_BAD_DIGIT, "a bad high digit is refused");
    is_int(hex_decode("0x10", &bytes, &len), HEX_BAD_DIGIT, "a 0x prefix is refused");
    is_int(hex_decode(" 1", &bytes, &len), HEX_BAD_DIGIT, "leading white space is refused");
    is_int(hex_decode("+1", &bytes, &len), HEX_BAD_DIGIT, "a sign is refused");

    is_string(encoded(all_nibbles, sizeof(all_nibbles), buf, sizeof(buf)), "0123456789abcdef",
              "encode every nibble, lower case");
    is_string(encoded((const unsigned char *)"\x00\xff", 2, buf, sizeof(buf)), "00ff",
              "encode 00 and ff");
    is_string(encoded(all_nibbles, 0, buf, sizeof(buf)), "", "encode nothing");

    done_testing();
}
