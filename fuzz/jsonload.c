/*
 * Fuzz target: strict JSON reading (util/jsonload.h), the reader of the test vectors. What it
 * accepts is a value no deeper than JSONLOAD_MAX_DEPTH; what it refuses comes with a reason.
 */
#include "util/jsonload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The depth of V (a scalar is 1). */
static size_t depth(const json_t *v)
{
    size_t best = 0;

    if (json_is_object(v)) {
        const char *key;
        const json_t *item;

        json_object_foreach((json_t *)v, key, item)
        {
            size_t d = depth(item);

            (void)key;
            if (d > best)
                best = d;
        }
        return best + 1;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            size_t d = depth(json_array_get(v, i));

            if (d > best)
                best = d;
        }
        return best + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    long long n;
    json_t *v;

    why[0] = '\0';
    v = jsonload_text((const char *)data, size, why, sizeof(why));
    if (v == NULL) {
        if (why[0] == '\0' || memchr(why, '\0', sizeof(why)) == NULL)
            abort(); /* a refusal says why, in one bounded line */
        return 0;
    }
    if (depth(v) > JSONLOAD_MAX_DEPTH + 1)
        abort();
    (void)jsonload_integer(v, &n);
    json_decref(v);
    return 0;
}
