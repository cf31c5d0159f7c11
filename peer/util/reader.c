/* Bounded reader with a sticky first error: see reader.h. */
#include "util/reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Gives a NULL buffer of length 0 a valid address, so offsets and 0-byte reads stay defined. */
static const unsigned char empty_buffer[1];

void reader_init(struct reader *r, const void *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->start = data != NULL ? data : empty_buffer;
    r->ptr = r->start;
    r->len = data != NULL ? len : 0;
    r->status = READER_OK;
    if (data == NULL && len > 0)
        reader_fail(r, READER_INVALID, "buffer", "NULL buffer given with %zu bytes", len);
}

/* Record the first error: the whole line "FIELD: DETAIL" goes into r->detail, so
 * reader_error() can return it from a const reader. Ignored after an earlier error. */
static void record(struct reader *r, enum reader_status status, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static void record(struct reader *r, enum reader_status status, const char *field, const char *fmt,
                   ...)
{
    va_list args;
    int n = 0;

    if (r->status != READER_OK)
        return;
    r->status = status;
    r->field = field;
    r->offset = reader_offset(r);
    if (field != NULL)
        n = snprintf(r->detail, sizeof(r->detail), "%s: ", field);
    if (n < 0 || (size_t)n >= sizeof(r->detail))
        return;
    va_start(args, fmt);
    vsnprintf(r->detail + n, sizeof(r->detail) - (size_t)n, fmt, args);
    va_end(args);
}

void reader_fail(struct reader *r, enum reader_status status, const char *field, const char *fmt,
                 ...)
{
    char text[sizeof(r->detail)];
    va_list args;

    if (r->status != READER_OK)
        return;
    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);
    /* A caller passing READER_OK still means "this is an error". */
    record(r, status == READER_OK ? READER_INVALID : status, field, "%s at offset %zu", text,
           reader_offset(r));
}

/* Check that N more bytes can be read; compares N with what is left (never ptr + n, which
 * could overflow). Returns the bytes and consumes them, or NULL after recording the error. */
static const unsigned char *take(struct reader *r, size_t n, const char *field)
{
    const unsigned char *p;

    if (r->status != READER_OK)
        return NULL;
    if (n > r->len) {
        record(r, READER_SHORT, field, "needs %zu bytes at offset %zu, %zu left", n,
               reader_offset(r), r->len);
        return NULL;
    }
    p = r->ptr;
    r->ptr += n;
    r->len -= n;
    return p;
}

uint8_t reader_u8(struct reader *r, const char *field)
{
    const unsigned char *p = take(r, 1, field);

    return p != NULL ? p[0] : 0;
}

uint16_t reader_u16be(struct reader *r, const char *field)
{
    const unsigned char *p = take(r, 2, field);

    if (p == NULL)
        return 0;
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t reader_u32be(struct reader *r, const char *field)
{
    const unsigned char *p = take(r, 4, field);

    if (p == NULL)
        return 0;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t reader_u64be(struct reader *r, const char *field)
{
    const unsigned char *p = take(r, 8, field);
    uint64_t v = 0;

    if (p == NULL)
        return 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

const unsigned char *reader_bytes(struct reader *r, size_t n, const char *field)
{
    return take(r, n, field);
}

bool reader_expect(struct reader *r, const void *expected, size_t n, const char *field)
{
    const unsigned char *want = expected;
    size_t i = 0;

    if (r->status != READER_OK)
        return false;
    if (n > r->len) {
        take(r, n, field);
        return false;
    }
    while (i < n && r->ptr[i] == want[i])
        i++;
    if (i < n) {
        record(r, READER_MISMATCH, field,
               "%zu bytes at offset %zu differ from the expected value (byte %zu is 0x%02x, "
               "expected 0x%02x)",
               n, reader_offset(r), i, r->ptr[i], want[i]);
        return false;
    }
    take(r, n, field);
    return true;
}

bool reader_end(struct reader *r, const char *field)
{
    if (r->status != READER_OK)
        return false;
    if (r->len > 0) {
        record(r, READER_INVALID, field, "%zu trailing bytes at offset %zu", r->len,
               reader_offset(r));
        return false;
    }
    return true;
}

const char *reader_error(const struct reader *r)
{
    return r->status == READER_OK ? "" : r->detail;
}
