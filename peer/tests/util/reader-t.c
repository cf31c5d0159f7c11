/* Tests of util/reader: every getter, errors at every position, stickiness, reader_end. */
#include "tests/tap.h"
#include "util/reader.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned char sample[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                       0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
                                       0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17};

static void test_getters(void)
{
    struct reader r;
    const unsigned char *p;

    reader_init(&r, sample, sizeof(sample));
    is_int(reader_u8(&r, "u8"), 0x01, "u8");
    is_int(reader_u16be(&r, "u16"), 0x0203, "u16be is big-endian");
    is_int(reader_u32be(&r, "u32"), 0x04050607, "u32be is big-endian");
    ok(reader_u64be(&r, "u64") == UINT64_C(0x08090a0b0c0d0e0f), "u64be is big-endian");
    is_int((long long)reader_offset(&r), 15, "offset after 15 bytes");
    is_int((long long)reader_remaining(&r), 8, "8 bytes remaining");
    p = reader_bytes(&r, 3, "bytes");
    ok(p == sample + 15, "bytes points into the buffer");
    p = reader_bytes(&r, 0, "empty");
    ok(p != NULL, "a 0-byte read returns non-NULL");
    ok(reader_expect(&r, "\x13\x14", 2, "magic"), "expect matches");
    is_int((long long)reader_offset(&r), 20, "expect consumed 2 bytes");
    ok(!reader_end(&r, "message"), "end fails with bytes left");
    is_string(reader_error(&r), "message: 3 trailing bytes at offset 20", "trailing bytes named");
    is_int(r.status, READER_INVALID, "trailing bytes are READER_INVALID");

    reader_init(&r, sample, 2);
    reader_u16be(&r, "all");
    ok(reader_end(&r, "message") && reader_ok(&r), "end passes when everything was read");
    is_string(reader_error(&r), "", "no error text when ok");

    reader_init(&r, NULL, 0);
    ok(reader_bytes(&r, 0, "nothing") != NULL, "0-byte read of a NULL, empty buffer");
    ok(reader_end(&r, "empty") && reader_ok(&r), "empty NULL buffer is at its end");

    reader_init(&r, NULL, 5);
    ok(!reader_ok(&r), "NULL buffer with a length is an error");
    is_string(reader_error(&r), "buffer: NULL buffer given with 5 bytes at offset 0",
              "NULL buffer error text");
}

/* A getter that reads WIDTH bytes, so short reads can be tried for each one. */
struct getter {
    const char *name;
    size_t width;
    uint64_t (*read)(struct reader *r);
};

static uint64_t read_u8(struct reader *r)
{
    return reader_u8(r, "field");
}
static uint64_t read_u16(struct reader *r)
{
    return reader_u16be(r, "field");
}
static uint64_t read_u32(struct reader *r)
{
    return reader_u32be(r, "field");
}
static uint64_t read_u64(struct reader *r)
{
    return reader_u64be(r, "field");
}
static uint64_t read_bytes5(struct reader *r)
{
    return reader_bytes(r, 5, "field") != NULL;
}

static const struct getter getters[] = {
    {"u8", 1, read_u8},     {"u16be", 2, read_u16},       {"u32be", 4, read_u32},
    {"u64be", 8, read_u64}, {"bytes(5)", 5, read_bytes5},
};

/* For each getter, each buffer length shorter than the field and each starting offset: the
 * read fails with READER_SHORT, returns 0, consumes nothing and names the position. */
static void test_short_everywhere(void)
{
    for (size_t g = 0; g < sizeof(getters) / sizeof(getters[0]); g++) {
        const struct getter *get = &getters[g];
        bool all = true;

        for (size_t skip_n = 0; skip_n < 3; skip_n++) {
            for (size_t have = 0; have < get->width; have++) {
                struct reader r;
                char want[160];

                reader_init(&r, sample, skip_n + have);
                reader_bytes(&r, skip_n, "prefix");
                if (get->read(&r) != 0 || r.status != READER_SHORT || reader_offset(&r) != skip_n ||
                    reader_remaining(&r) != 0 || r.offset != skip_n ||
                    strcmp(r.field, "field") != 0)
                    all = false;
                snprintf(want, sizeof(want), "field: needs %zu bytes at offset %zu, %zu left",
                         get->width, skip_n, have);
                if (strcmp(reader_error(&r), want) != 0) {
                    diag("got \"%s\", wanted \"%s\"", reader_error(&r), want);
                    all = false;
                }
            }
        }
        ok(all, "%s: short at every offset and length fails cleanly", get->name);
    }
}

static void test_sticky(void)
{
    struct reader r;

    reader_init(&r, "\x00\x00\x00\x2a\x01\x02", 6);
    reader_u16be(&r, "first");
    reader_u64be(&r, "INITIATE token length");
    is_string(reader_error(&r), "INITIATE token length: needs 8 bytes at offset 2, 4 left",
              "first error text");
    /* Every later getter returns 0/NULL, consumes nothing and keeps the first error. */
    is_int(reader_u8(&r, "later"), 0, "u8 after error is 0");
    is_int(reader_u16be(&r, "later"), 0, "u16be after error is 0");
    is_int(reader_u32be(&r, "later"), 0, "u32be after error is 0");
    ok(reader_u64be(&r, "later") == 0, "u64be after error is 0");
    ok(reader_bytes(&r, 0, "later") == NULL, "bytes(0) after error is NULL");
    ok(!reader_expect(&r, "", 0, "later"), "expect after error fails");
    ok(!reader_end(&r, "later"), "end after error fails");
    reader_fail(&r, READER_INVALID, "later", "should be ignored");
    is_int((long long)reader_offset(&r), 2, "nothing consumed after the error");
    is_int((long long)reader_remaining(&r), 0, "remaining is 0 after an error");
    is_int(r.status, READER_SHORT, "status is the first error");
    is_string(r.field, "INITIATE token length", "field is the first error's");
    is_int((long long)r.offset, 2, "offset is the first error's");
    is_string(reader_error(&r), "INITIATE token length: needs 8 bytes at offset 2, 4 left",
              "error text unchanged");
}

static void test_expect_and_fail(void)
{
    struct reader r;

    reader_init(&r, "\xffGSSAPI", 7);
    reader_u8(&r, "signature");
    ok(!reader_expect(&r, "GSSAPX", 6, "mechanism"), "expect mismatch fails");
    is_int(r.status, READER_MISMATCH, "mismatch status");
    is_int((long long)reader_offset(&r), 1, "mismatch consumes nothing");
    is_string(reader_error(&r),
              "mechanism: 6 bytes at offset 1 differ from the expected value (byte 5 is 0x49, "
              "expected 0x58)",
              "mismatch names the differing byte");

    reader_init(&r, "GSS", 3);
    ok(!reader_expect(&r, "GSSAPI", 6, "mechanism"), "expect longer than the buffer fails");
    is_int(r.status, READER_SHORT, "which is READER_SHORT");
    is_string(reader_error(&r), "mechanism: needs 6 bytes at offset 0, 3 left",
              "short expect text");

    reader_init(&r, "\x05", 1);
    is_int(reader_u8(&r, "version"), 5, "read version");
    reader_fail(&r, READER_INVALID, "version", "%d is not supported", 5);
    is_int(r.status, READER_INVALID, "reader_fail records its status");
    is_string(reader_error(&r), "version: 5 is not supported at offset 1", "reader_fail text");

    reader_init(&r, "", 0);
    reader_fail(&r, READER_OK, NULL, "no field");
    ok(!reader_ok(&r), "reader_fail with READER_OK still records an error");
    is_int(r.status, READER_INVALID, "as READER_INVALID");
    is_string(reader_error(&r), "no field at offset 0", "NULL field gives no prefix");
}

/* Sizes near SIZE_MAX must be rejected by comparing with what is left, not by ptr + n. */
static void test_huge_sizes(void)
{
    struct reader r;
    char want[160];

    reader_init(&r, sample, 4);
    reader_u8(&r, "x");
    ok(reader_bytes(&r, SIZE_MAX, "huge") == NULL, "bytes(SIZE_MAX) fails");
    snprintf(want, sizeof(want), "huge: needs %zu bytes at offset 1, 3 left", (size_t)SIZE_MAX);
    is_string(reader_error(&r), want, "SIZE_MAX error text");
    is_int((long long)reader_offset(&r), 1, "nothing consumed");

    reader_init(&r, sample, 4);
    reader_u8(&r, "x");
    ok(reader_bytes(&r, SIZE_MAX - 1, "huge") == NULL, "bytes(SIZE_MAX - 1) fails");
    reader_init(&r, sample, 4);
    ok(reader_bytes(&r, 5, "one too many") == NULL, "bytes(len + 1) fails");
    reader_init(&r, sample, 4);
    ok(!reader_expect(&r, sample, SIZE_MAX, "huge"), "expect(SIZE_MAX) fails");
    is_int(r.status, READER_SHORT, "as READER_SHORT");
}

/* A long field name is cut to fit detail rather than overflowing it. */
static void test_long_field(void)
{
    char field[400];
    struct reader r;

    memset(field, 'f', sizeof(field) - 1);
    field[sizeof(field) - 1] = '\0';
    reader_init(&r, "", 0);
    reader_u8(&r, field);
    is_int((long long)strlen(reader_error(&r)), (long long)sizeof(r.detail) - 1,
           "error text truncated to the detail buffer");
}

int main(void)
{
    plan_lazy();
    test_getters();
    test_short_everywhere();
    test_sticky();
    test_expect_and_fail();
    test_huge_sizes();
    test_long_field();
    done_testing();
}
