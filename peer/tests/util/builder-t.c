/* Tests of util/builder: appends, growth, limit, failure, detach/free/reset, fmt. */
#include "tests/tap.h"
#include "util/builder.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Under ASan, let the huge allocations below fail with NULL as they do in a normal build
 * (ASan's documented hook; unused otherwise). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void test_appends(void)
{
    static const unsigned char want[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                         0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 'a',
                                         'b',  'c',  'x',  '=',  '4',  '2',  0xff};
    struct builder b;
    unsigned char *data, *p;
    size_t len;

    builder_init(&b);
    ok(b.data == NULL && b.len == 0 && builder_ok(&b), "a new builder is empty and ok");
    builder_add_u8(&b, 0x01);
    builder_add_u16be(&b, 0x0203);
    builder_add_u32be(&b, 0x04050607);
    builder_add_u64be(&b, UINT64_C(0x08090a0b0c0d0e0f));
    builder_add_str(&b, "abc");
    builder_add_fmt(&b, "%c=%d", 'x', 42);
    p = builder_reserve(&b, 1);
    ok(p != NULL, "reserve returns room");
    if (p != NULL)
        *p = 0xff;
    builder_add(&b, NULL, 0);
    ok(builder_ok(&b), "builder ok after appends");
    data = builder_detach(&b, &len);
    is_blob(data, len, want, sizeof(want), "every append in order, big-endian");
    ok(b.data == NULL && b.len == 0 && builder_ok(&b), "detach leaves the builder empty");
    free(data);
    builder_free(&b);
}

static void test_growth(void)
{
    struct builder b;
    unsigned char *data;
    size_t len;
    bool same = true;

    builder_init(&b);
    for (unsigned i = 0; i < 100000; i++)
        builder_add_u32be(&b, i);
    ok(builder_ok(&b), "100000 appends succeed");
    is_int((long long)b.len, 400000, "length after 100000 u32 appends");
    data = builder_detach(&b, &len);
    for (unsigned i = 0; i < 100000 && data != NULL; i++) {
        uint32_t v = (uint32_t)data[4 * i] << 24 | (uint32_t)data[4 * i + 1] << 16 |
                     (uint32_t)data[4 * i + 2] << 8 | data[4 * i + 3];
        if (v != i) {
            diag("value %u at index %u", v, i);
            same = false;
            break;
        }
    }
    ok(data != NULL && same, "contents survive growth");
    free(data);

    builder_init(&b);
    for (unsigned i = 0; i < 1000; i++)
        builder_add_fmt(&b, "%u,", i);
    ok(builder_ok(&b), "1000 formatted appends succeed");
    is_int((long long)b.len, 3890, "fmt appends without their NULs");
    ok(b.len >= 6 && memcmp(b.data, "0,1,2,", 6) == 0, "fmt contents in order");
    builder_free(&b);
}

static void test_limit(void)
{
    struct builder b;
    unsigned char *data;
    size_t len = 99;

    builder_init_limit(&b, 4);
    builder_add(&b, "abcd", 4);
    ok(builder_ok(&b), "exactly the limit is fine");
    builder_add_u8(&b, 'e');
    ok(!builder_ok(&b), "one byte past the limit fails");
    ok(b.data == NULL && b.len == 0, "failure frees the contents");
    builder_add_u8(&b, 'f');
    builder_add_str(&b, "later");
    builder_add_fmt(&b, "%s", "later");
    ok(builder_reserve(&b, 0) == NULL, "reserve on a failed builder is NULL");
    ok(b.data == NULL && b.len == 0 && !builder_ok(&b), "appends after failure are ignored");
    data = builder_detach(&b, &len);
    ok(data == NULL && len == 0, "detach of a failed builder is NULL with length 0");
    builder_free(&b);

    builder_init_limit(&b, 10);
    builder_add_fmt(&b, "%s", "0123456789");
    ok(builder_ok(&b), "fmt up to the limit (its NUL does not count)");
    builder_reset(&b);
    builder_add_fmt(&b, "%s", "0123456789a");
    ok(!builder_ok(&b), "fmt past the limit fails");
    builder_reset(&b);
    ok(builder_ok(&b) && b.len == 0, "reset clears the failure");
    builder_add_str(&b, "again");
    is_blob(b.data, b.len, "again", 5, "a reset builder appends again (limit kept)");
    builder_add_str(&b, "and more");
    ok(!builder_ok(&b), "the limit still applies after reset");
    builder_free(&b);
}

/* Sizes whose sum overflows size_t must fail, not wrap around. */
static void test_huge(void)
{
    struct builder b;

    builder_init(&b);
    builder_add_str(&b, "x");
    ok(builder_reserve(&b, SIZE_MAX) == NULL, "reserve(SIZE_MAX) fails");
    ok(!builder_ok(&b), "and marks the builder failed");
    builder_free(&b);

    builder_init(&b);
    ok(builder_reserve(&b, SIZE_MAX) == NULL, "reserve(SIZE_MAX) on an empty builder fails");
    builder_free(&b);

    builder_init(&b);
    ok(builder_reserve(&b, SIZE_MAX / 2 + 1) == NULL, "reserve(SIZE_MAX / 2 + 1) fails");
    ok(!builder_ok(&b), "out of memory is a sticky failure");
    builder_free(&b);
}

static void test_detach_free_reset(void)
{
    struct builder b;
    unsigned char *data, *kept;
    size_t len = 99;

    builder_init(&b);
    data = builder_detach(&b, &len);
    ok(data != NULL && len == 0, "detach of an empty builder is non-NULL with length 0");
    free(data);

    builder_init(&b);
    builder_add_str(&b, "hello");
    kept = b.data;
    builder_reset(&b);
    ok(b.len == 0 && b.data == kept && b.cap > 0, "reset keeps the memory");
    builder_add_str(&b, "hi");
    data = builder_detach(&b, &len);
    is_blob(data, len, "hi", 2, "content after reset");
    free(data);
    builder_add_str(&b, "reuse");
    is_blob(b.data, b.len, "reuse", 5, "a detached builder can be used again");
    builder_free(&b);
    ok(b.data == NULL && b.len == 0 && b.cap == 0, "free releases the contents");
    builder_free(&b);
    ok(b.data == NULL, "free twice is harmless");

    builder_init(&b);
    builder_add_fmt(&b, "%s", "");
    ok(builder_ok(&b) && b.len == 0, "an empty fmt adds nothing");
    builder_add_fmt(&b, "%08x|%-3s|%.2f", 0xbeefu, "a", 1.5);
    is_blob(b.data, b.len, "0000beef|a  |1.50", 17, "fmt conversions");
    builder_free(&b);
}

int main(void)
{
    plan_lazy();
    test_appends();
    test_growth();
    test_limit();
    test_huge();
    test_detach_free_reset();
    done_testing();
}
