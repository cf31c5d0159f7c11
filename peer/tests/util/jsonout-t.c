/* Tests of util/jsonout: the one escaping rule (quotes, backslash, controls, DEL, UTF-8 copied,
 * other bytes as \u00XX) and hex strings. */
#include "tests/tap.h"
#include "util/jsonout.h"

#include <stdio.h>
#include <string.h>

/* What json_put_bytes (HEX false) or json_put_hex (HEX true) writes for LEN bytes, in BUF. */
static const char *written(const void *data, size_t len, bool hex, char *buf, size_t buf_len)
{
    FILE *f;

    memset(buf, 0, buf_len);
    f = fmemopen(buf, buf_len - 1, "w");
    if (f == NULL)
        bail("fmemopen failed");
    if (hex)
        json_put_hex(f, data, len);
    else
        json_put_bytes(f, data, len);
    fclose(f);
    return buf;
}

static const char *string_written(const char *s, char *buf, size_t buf_len)
{
    FILE *f;

    memset(buf, 0, buf_len);
    f = fmemopen(buf, buf_len - 1, "w");
    if (f == NULL)
        bail("fmemopen failed");
    json_put_string(f, s);
    fclose(f);
    return buf;
}

int main(void)
{
    char buf[128];
    static const unsigned char nul_inside[] = {'a', 0, 'b'};
    static const unsigned char hexbytes[] = {0x00, 0x7f, 0xab, 0xff};

    plan_lazy();
    is_string(string_written("", buf, sizeof(buf)), "\"\"", "empty string");
    is_string(string_written("alice@GSSCONFORM.TEST", buf, sizeof(buf)),
              "\"alice@GSSCONFORM.TEST\"", "printable ASCII unchanged");
    is_string(string_written("a\"b\\c", buf, sizeof(buf)), "\"a\\\"b\\\\c\"",
              "quote and backslash escaped");
    is_string(string_written("\t\n\x01\x1f", buf, sizeof(buf)), "\"\\u0009\\u000a\\u0001\\u001f\"",
              "control characters as \\u00XX");
    is_string(string_written("x\x7fy", buf, sizeof(buf)), "\"x\\u007fy\"", "DEL escaped");
    is_string(string_written("b\xc3\xbc"
                             "cher \xe2\x82\xac \xf0\x9f\x98\x80",
                             buf, sizeof(buf)),
              "\"b\xc3\xbc"
              "cher \xe2\x82\xac \xf0\x9f\x98\x80\"",
              "well-formed UTF-8 (2, 3 and 4 bytes) copied unchanged");
    is_string(string_written("\xff\x80", buf, sizeof(buf)), "\"\\u00ff\\u0080\"",
              "bytes that are not UTF-8 as \\u00XX");
    is_string(string_written("\xc3", buf, sizeof(buf)), "\"\\u00c3\"",
              "a truncated sequence at the end as \\u00XX");
    is_string(string_written("\xc0\xaf", buf, sizeof(buf)), "\"\\u00c0\\u00af\"",
              "an overlong form byte by byte");
    is_string(string_written("\xed\xa0\x80", buf, sizeof(buf)), "\"\\u00ed\\u00a0\\u0080\"",
              "an encoded surrogate byte by byte");
    is_string(written(nul_inside, sizeof(nul_inside), false, buf, sizeof(buf)), "\"a\\u0000b\"",
              "json_put_bytes: NUL inside");
    is_string(written("\xc3\xbc", 1, false, buf, sizeof(buf)), "\"\\u00c3\"",
              "json_put_bytes: a sequence cut by the length is not read past it");
    is_string(written(hexbytes, sizeof(hexbytes), true, buf, sizeof(buf)), "\"007fabff\"",
              "json_put_hex: lower-case digits");
    is_string(written(NULL, 0, true, buf, sizeof(buf)), "\"\"", "json_put_hex: nothing");
    done_testing();
}
