/* Strict JSON reading through jansson: see jsonload.h. */
#include "util/jsonload.h"

#include <stdio.h>

/* The deepest nesting under VALUE (a scalar is 0, [] is 1), stopping once LIMIT is passed. */
static size_t depth_of(const json_t *value, size_t limit)
{
    size_t deepest = 0;

    if (limit == 0)
        return 1;
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value) && deepest <= limit; i++) {
            size_t d = depth_of(json_array_get(value, i), limit - 1);

            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_object(value)) {
        const char *key;
        json_t *member;

        json_object_foreach((json_t *)value, key, member)
        {
            size_t d = depth_of(member, limit - 1);

            (void)key;
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
        return deepest + 1;
    }
    return 0;
}

/* Apply the checks jansson does not make; VALUE is released on failure. */
static json_t *finish(json_t *value, const json_error_t *error, const char *source, char *why,
                      size_t why_len)
{
    if (value == NULL) {
        if (why != NULL)
            snprintf(why, why_len, "%s: line %d, column %d (offset %d): %s", source, error->line,
                     error->column, error->position, error->text);
        return NULL;
    }
    if (depth_of(value, JSONLOAD_MAX_DEPTH) > JSONLOAD_MAX_DEPTH) {
        if (why != NULL)
            snprintf(why, why_len, "%s: nesting deeper than %d", source, JSONLOAD_MAX_DEPTH);
        json_decref(value);
        return NULL;
    }
    return value;
}

json_t *jsonload_text(const char *text, size_t len, char *why, size_t why_len)
{
    json_error_t error;
    json_t *value = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);

    return finish(value, &error, "JSON text", why, why_len);
}

json_t *jsonload_file(const char *path, char *why, size_t why_len)
{
    json_error_t error;
    json_t *value = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);

    return finish(value, &error, path, why, why_len);
}

bool jsonload_integer(const json_t *value, long long *out)
{
    if (!json_is_integer(value))
        return false;
    *out = (long long)json_integer_value(value);
    return true;
}
