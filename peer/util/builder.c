/* Growable byte builder with a sticky failure: see builder.h. */
#include "util/builder.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BUILDER_FIRST_CAP = 64 };

void builder_init(struct builder *b)
{
    builder_init_limit(b, 0);
}

void builder_init_limit(struct builder *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
    b->failed = false;
}

/* Mark the builder failed and release its memory; later appends are ignored. */
static void fail(struct builder *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = true;
}

/* Make room for ADD more content bytes plus EXTRA scratch bytes past them (the NUL that
 * vsnprintf writes); only the content counts against the limit. False (builder failed) when
 * the limit would be passed, the size overflows or memory runs out. */
static bool ensure(struct builder *b, size_t add, size_t extra)
{
    size_t need, cap;
    unsigned char *data;

    if (b->failed)
        return false;
    if (add > SIZE_MAX - b->len || extra > SIZE_MAX - b->len - add) {
        fail(b);
        return false;
    }
    if (b->limit != 0 && b->len + add > b->limit) {
        fail(b);
        return false;
    }
    need = b->len + add + extra;
    if (need <= b->cap && b->data != NULL)
        return true;
    cap = b->cap != 0 ? b->cap : BUILDER_FIRST_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    data = realloc(b->data, cap);
    if (data == NULL) {
        fail(b);
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

unsigned char *builder_reserve(struct builder *b, size_t len)
{
    unsigned char *p;

    if (!ensure(b, len, 0))
        return NULL;
    p = b->data + b->len;
    b->len += len;
    return p;
}

void builder_add(struct builder *b, const void *data, size_t len)
{
    unsigned char *p = builder_reserve(b, len);

    if (p != NULL && len > 0)
        memcpy(p, data, len);
}

void builder_add_u8(struct builder *b, uint8_t v)
{
    builder_add(b, &v, 1);
}

void builder_add_u16be(struct builder *b, uint16_t v)
{
    unsigned char bytes[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    builder_add(b, bytes, sizeof(bytes));
}

void builder_add_u32be(struct builder *b, uint32_t v)
{
    unsigned char bytes[4];

    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(v >> (8 * (sizeof(bytes) - 1 - i)));
    builder_add(b, bytes, sizeof(bytes));
}

void builder_add_u64be(struct builder *b, uint64_t v)
{
    unsigned char bytes[8];

    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(v >> (8 * (sizeof(bytes) - 1 - i)));
    builder_add(b, bytes, sizeof(bytes));
}

void builder_add_str(struct builder *b, const char *s)
{
    builder_add(b, s, strlen(s));
}

void builder_add_fmt(struct builder *b, const char *fmt, ...)
{
    va_list args;
    int n;

    if (b->failed)
        return;
    va_start(args, fmt);
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (n < 0) {
        fail(b);
        return;
    }
    if (!ensure(b, (size_t)n, 1))
        return;
    va_start(args, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, args);
    va_end(args);
    b->len += (size_t)n;
}

void builder_reset(struct builder *b)
{
    b->len = 0;
    b->failed = false;
}

unsigned char *builder_detach(struct builder *b, size_t *len)
{
    unsigned char *data;

    *len = 0;
    if (b->failed) {
        builder_init_limit(b, b->limit);
        return NULL;
    }
    data = b->data != NULL ? b->data : malloc(1);
    if (data == NULL)
        return NULL;
    *len = b->len;
    builder_init_limit(b, b->limit);
    return data;
}

void builder_free(struct builder *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
