/*
 * A bounded reader over a byte buffer with a sticky first error (after MIT krb5's k5-input.h).
 *
 * A parser reads straight through with the getters and checks reader_ok() once at the end:
 * after the first error every getter returns zero/NULL and the error, the name of the field
 * being read and its offset are kept, so a message like
 *     "INITIATE token length: needs 4 bytes at offset 17, 2 left"
 * can be shown without the parser tracking positions itself.
 *
 * The reader never owns the buffer; the caller keeps it alive while reading.
 */
#ifndef UTIL_READER_H
#define UTIL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum reader_status {
    READER_OK = 0,
    READER_SHORT,    /* fewer bytes left than the field needs */
    READER_MISMATCH, /* reader_expect: bytes differ from the expected constant */
    READER_INVALID,  /* reader_fail: the caller judged a value invalid */
};

struct reader {
    const unsigned char *start; /* first byte of the whole buffer (for offsets) */
    const unsigned char *ptr;   /* next unread byte */
    size_t len;                 /* bytes left from ptr */
    enum reader_status status;  /* first error, or READER_OK */
    const char *field;          /* field being read at the first error (static string) */
    size_t offset;              /* offset of that field from start */
    char detail[160];           /* the first error as one line, "FIELD: DETAIL" (truncated to fit);
                                   what reader_error() returns */
};

/* Start reading LEN bytes at DATA (DATA may be NULL when LEN is 0). */
void reader_init(struct reader *r, const void *data, size_t len);

/* Getters: FIELD names what is read (a static string, kept for the error message).
 * On error (or after an earlier one) they return 0 / NULL and consume nothing. */
uint8_t reader_u8(struct reader *r, const char *field);
uint16_t reader_u16be(struct reader *r, const char *field);
uint32_t reader_u32be(struct reader *r, const char *field);
uint64_t reader_u64be(struct reader *r, const char *field);
/* Returns a pointer into the buffer to N bytes and consumes them; NULL on error
 * (a successful read of 0 bytes returns a non-NULL pointer). */
const unsigned char *reader_bytes(struct reader *r, size_t n, const char *field);
/* Consume N bytes equal to EXPECTED; READER_MISMATCH (nothing consumed) otherwise. */
bool reader_expect(struct reader *r, const void *expected, size_t n, const char *field);
/* Record an error found by the caller (e.g. an out-of-range value) at the current offset;
 * FMT gives the detail. Ignored when an error is already recorded. */
void reader_fail(struct reader *r, enum reader_status status, const char *field, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
/* Require that everything was consumed; otherwise READER_INVALID "N trailing bytes". */
bool reader_end(struct reader *r, const char *field);

static inline bool reader_ok(const struct reader *r)
{
    return r->status == READER_OK;
}
static inline size_t reader_remaining(const struct reader *r)
{
    return r->status == READER_OK ? r->len : 0;
}
static inline size_t reader_offset(const struct reader *r)
{
    return (size_t)(r->ptr - r->start);
}
/* The first error as one line (field, offset and detail), or "" when none. */
const char *reader_error(const struct reader *r);

#endif
