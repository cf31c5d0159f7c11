/*
 * A growable byte builder with a sticky failure (after MIT krb5's k5-buf.h).
 *
 * Appends never fail visibly: on allocation failure (or when a LIMIT is set and would be
 * passed) the builder is marked failed, frees its memory and ignores later appends, so code
 * builds a whole message and checks builder_ok() once.
 *
 * Ownership: the builder owns its data until builder_detach() hands it to the caller (who
 * frees it with free()) or builder_free() releases it.
 */
#ifndef UTIL_BUILDER_H
#define UTIL_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct builder {
    unsigned char *data; /* NULL until the first append, and after failure */
    size_t len;
    size_t cap;
    size_t limit; /* 0 = no limit; otherwise the largest len allowed */
    bool failed;
};

/* An empty builder with no limit. */
void builder_init(struct builder *b);
/* An empty builder that fails once len would exceed LIMIT bytes. */
void builder_init_limit(struct builder *b, size_t limit);

/* Append LEN bytes copied from DATA (which must not point into the builder's own data). */
void builder_add(struct builder *b, const void *data, size_t len);
/* Append V as 1, 2, 4 or 8 bytes, most significant byte first. */
void builder_add_u8(struct builder *b, uint8_t v);
void builder_add_u16be(struct builder *b, uint16_t v);
void builder_add_u32be(struct builder *b, uint32_t v);
void builder_add_u64be(struct builder *b, uint64_t v);
/* Append a NUL-terminated string without its NUL. */
void builder_add_str(struct builder *b, const char *s);
/* Append formatted text (no NUL). */
void builder_add_fmt(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reserve LEN bytes at the end and return a pointer to them (NULL on failure); the pointer is
 * valid until the next append. */
unsigned char *builder_reserve(struct builder *b, size_t len);
/* Forget the contents but keep the memory, and clear the failure flag; the limit stays. */
void builder_reset(struct builder *b);

static inline bool builder_ok(const struct builder *b)
{
    return !b->failed;
}

/* Hand the contents to the caller: returns newly allocated memory (never NULL on success,
 * even when empty) that the caller frees, stores the length in *LEN, and leaves the builder
 * empty (limit kept). Returns NULL with *LEN = 0 (and frees everything, leaving an empty,
 * usable builder) when the builder failed or the 1-byte allocation for empty contents failed. */
unsigned char *builder_detach(struct builder *b, size_t *len);
/* Release the contents. The builder can be reused after builder_init. */
void builder_free(struct builder *b);

#endif
