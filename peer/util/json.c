/* Strict JSON reader into a tree: see json.h. */
#include "util/json.h"

#include "util/hex.h"
#include "util/utf8.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    int depth;
    struct json_error *err;
};

/* Record the first error at the current position; always returns false. */
static bool fail(struct parser *ps, enum json_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(struct parser *ps, enum json_status status, const char *fmt, ...)
{
    va_list ap;
    size_t offset = (size_t)(ps->p - ps->start);
    int n;

    if (ps->err == NULL || ps->err->status != JSON_OK)
        return false;
    ps->err->status = status;
    ps->err->offset = offset;
    n = snprintf(ps->err->message, sizeof(ps->err->message), "offset %zu: ", offset);
    if (n < 0 || (size_t)n >= sizeof(ps->err->message))
        return false;
    va_start(ap, fmt);
    vsnprintf(ps->err->message + n, sizeof(ps->err->message) - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

static void skip_space(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Free what VALUE owns (not VALUE itself). */
static void release(struct json_value *value)
{
    size_t i;

    switch (value->type) {
    case JSON_STRING:
        free(value->string);
        break;
    case JSON_ARRAY:
        for (i = 0; i < value->count; i++)
            release(&value->items[i]);
        free(value->items);
        break;
    case JSON_OBJECT:
        for (i = 0; i < value->count; i++) {
            free(value->members[i].key);
            release(&value->members[i].value);
        }
        free(value->members);
        break;
    default:
        break;
    }
}

static bool parse_value(struct parser *ps, struct json_value *out);

/* Read the 4 hex digits after "\u". */
static bool read_hex4(struct parser *ps, unsigned *out)
{
    unsigned v = 0;
    int d;

    if (ps->end - ps->p < 4)
        return fail(ps, JSON_SYNTAX, "\\u needs 4 hex digits");
    for (int i = 0; i < 4; i++) {
        d = hex_digit(ps->p[i]);
        if (d < 0) {
            ps->p += i;
            return fail(ps, JSON_SYNTAX, "invalid hex digit in \\u escape");
        }
        v = v * 16 + (unsigned)d;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static size_t utf8_encode(unsigned cp, unsigned char *buf)
{
    if (cp < 0x80) {
        buf[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (unsigned char)(0xc0 | (cp >> 6));
        buf[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (unsigned char)(0xe0 | (cp >> 12));
        buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    buf[0] = (unsigned char)(0xf0 | (cp >> 18));
    buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    buf[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parse a string starting at '"' into newly allocated *OUT (NUL-terminated) and *LEN. The
 * decoded text is never longer than the source, so one allocation of the source span does. */
static bool parse_string(struct parser *ps, char **out, size_t *len)
{
    const unsigned char *q;
    unsigned char *buf, *w;
    unsigned cp, low;
    size_t n;

    *out = NULL;
    *len = 0;
    ps->p++; /* opening quote */
    for (q = ps->p; q < ps->end && *q != '"'; q++)
        if (*q == '\\' && q + 1 < ps->end)
            q++;
    if (q >= ps->end)
        return fail(ps, JSON_SYNTAX, "unterminated string");
    buf = malloc((size_t)(q - ps->p) + 1);
    if (buf == NULL)
        return fail(ps, JSON_NOMEM, "out of memory");
    w = buf;
    while (*ps->p != '"') {
        if (*ps->p < 0x20) {
            free(buf);
            return fail(ps, JSON_SYNTAX, "control character 0x%02x in string", *ps->p);
        }
        if (*ps->p != '\\') {
            n = utf8_sequence_length(ps->p, (size_t)(ps->end - ps->p));
            if (n == 0) {
                free(buf);
                return fail(ps, JSON_SYNTAX, "invalid UTF-8 in string");
            }
            memcpy(w, ps->p, n);
            w += n;
            ps->p += n;
            continue;
        }
        ps->p++;
        switch (*ps->p++) {
        case '"':
            *w++ = '"';
            break;
        case '\\':
            *w++ = '\\';
            break;
        case '/':
            *w++ = '/';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u':
            if (!read_hex4(ps, &cp))
                goto bad;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail(ps, JSON_SYNTAX, "lone low surrogate \\u%04x", cp);
                goto bad;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    fail(ps, JSON_SYNTAX, "high surrogate \\u%04x without a low one", cp);
                    goto bad;
                }
                ps->p += 2;
                if (!read_hex4(ps, &low))
                    goto bad;
                if (low < 0xdc00 || low > 0xdfff) {
                    fail(ps, JSON_SYNTAX, "high surrogate followed by \\u%04x", low);
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
            w += utf8_encode(cp, w);
            break;
        default:
            ps->p--;
            fail(ps, JSON_SYNTAX, "invalid escape \\%c", *ps->p);
            goto bad;
        }
    }
    ps->p++; /* closing quote */
    *w = '\0';
    *out = (char *)buf;
    *len = (size_t)(w - buf);
    return true;
bad:
    free(buf);
    return false;
}

static bool parse_number(struct parser *ps, struct json_value *out)
{
    const unsigned char *s = ps->p;
    char text[64];
    bool integral = true;
    size_t n;

    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
        return fail(ps, JSON_SYNTAX, "expected a digit");
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            return fail(ps, JSON_SYNTAX, "leading zero in number");
    } else {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        integral = false;
        ps->p++;
        if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
            return fail(ps, JSON_SYNTAX, "expected a digit after '.'");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integral = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
            return fail(ps, JSON_SYNTAX, "expected a digit in exponent");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    n = (size_t)(ps->p - s);
    if (n >= sizeof(text)) {
        ps->p = s;
        return fail(ps, JSON_SYNTAX, "number longer than %zu characters", sizeof(text) - 1);
    }
    memcpy(text, s, n);
    text[n] = '\0';
    out->type = JSON_NUMBER;
    out->number = strtod(text, NULL);
    if (integral) {
        errno = 0;
        out->integer = strtoll(text, NULL, 10);
        out->is_integer = errno == 0;
    }
    if (!isfinite(out->number)) {
        ps->p = s;
        return fail(ps, JSON_SYNTAX, "number out of range");
    }
    return true;
}

static bool parse_literal(struct parser *ps, const char *word, struct json_value *out,
                          enum json_type type, bool boolean)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, JSON_SYNTAX, "invalid literal (expected %s)", word);
    ps->p += n;
    out->type = type;
    out->boolean = boolean;
    return true;
}

static bool parse_array(struct parser *ps, struct json_value *out)
{
    struct json_value *items;
    size_t cap = 0;

    out->type = JSON_ARRAY;
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return true;
    }
    for (;;) {
        if (out->count == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            items = realloc(out->items, cap * sizeof(*items));
            if (items == NULL)
                return fail(ps, JSON_NOMEM, "out of memory");
            out->items = items;
        }
        /* Counted before parsing, so a partly built item is released with the array. */
        memset(&out->items[out->count], 0, sizeof(*out->items));
        out->count++;
        if (!parse_value(ps, &out->items[out->count - 1]))
            return false;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return true;
        }
        return fail(ps, JSON_SYNTAX, "expected ',' or ']' in array");
    }
}

static bool parse_object(struct parser *ps, struct json_value *out)
{
    struct json_member *members, *m;
    size_t cap = 0;

    out->type = JSON_OBJECT;
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return true;
    }
    for (;;) {
        if (out->count == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            members = realloc(out->members, cap * sizeof(*members));
            if (members == NULL)
                return fail(ps, JSON_NOMEM, "out of memory");
            out->members = members;
        }
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != '"')
            return fail(ps, JSON_SYNTAX, "expected a string key in object");
        m = &out->members[out->count];
        memset(m, 0, sizeof(*m));
        if (!parse_string(ps, &m->key, &m->key_length))
            return false;
        for (size_t i = 0; i < out->count; i++)
            if (out->members[i].key_length == m->key_length &&
                memcmp(out->members[i].key, m->key, m->key_length) == 0) {
                free(m->key);
                return fail(ps, JSON_SYNTAX, "duplicate key \"%.40s\"", out->members[i].key);
            }
        out->count++;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':')
            return fail(ps, JSON_SYNTAX, "expected ':' after key");
        ps->p++;
        if (!parse_value(ps, &m->value))
            return false;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return true;
        }
        return fail(ps, JSON_SYNTAX, "expected ',' or '}' in object");
    }
}

/* Parse one value into OUT (zeroed by the caller); on failure OUT holds what was built so
 * far, which the caller releases. */
static bool parse_value(struct parser *ps, struct json_value *out)
{
    bool ok;

    skip_space(ps);
    if (ps->p >= ps->end)
        return fail(ps, JSON_SYNTAX, "expected a value, found the end");
    switch (*ps->p) {
    case '{':
    case '[':
        if (ps->depth >= JSON_MAX_DEPTH)
            return fail(ps, JSON_TOO_DEEP, "nesting deeper than %d", JSON_MAX_DEPTH);
        ps->depth++;
        ok = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
        ps->depth--;
        return ok;
    case '"':
        out->type = JSON_STRING;
        return parse_string(ps, &out->string, &out->length);
    case 't':
        return parse_literal(ps, "true", out, JSON_BOOL, true);
    case 'f':
        return parse_literal(ps, "false", out, JSON_BOOL, false);
    case 'n':
        return parse_literal(ps, "null", out, JSON_NULL, false);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps, out);
        return fail(ps, JSON_SYNTAX, "unexpected character '%c'",
                    *ps->p >= 0x20 && *ps->p < 0x7f ? *ps->p : '?');
    }
}

enum json_status json_parse(const char *text, size_t len, struct json_value **out,
                            struct json_error *err)
{
    struct json_error local;
    struct parser ps;
    struct json_value *value;

    *out = NULL;
    if (err == NULL)
        err = &local;
    memset(err, 0, sizeof(*err));
    ps.start = (const unsigned char *)text;
    ps.p = ps.start;
    ps.end = ps.start + len;
    ps.depth = 0;
    ps.err = err;
    value = calloc(1, sizeof(*value));
    if (value == NULL) {
        fail(&ps, JSON_NOMEM, "out of memory");
        return err->status;
    }
    if (parse_value(&ps, value)) {
        skip_space(&ps);
        if (ps.p != ps.end)
            fail(&ps, JSON_SYNTAX, "trailing characters after the value");
    }
    if (err->status != JSON_OK) {
        json_free(value);
        return err->status;
    }
    *out = value;
    return JSON_OK;
}

enum json_status json_parse_file(const char *path, struct json_value **out, struct json_error *err)
{
    struct json_error local;
    enum json_status status = JSON_IO;
    FILE *f = NULL;
    char *text = NULL, *grown;
    size_t len = 0, cap = 0, n;
    char message[sizeof(err->message)];

    *out = NULL;
    if (err == NULL)
        err = &local;
    memset(err, 0, sizeof(*err));
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err->message, sizeof(err->message), "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    for (;;) {
        if (len == cap) {
            cap = cap == 0 ? 4096 : cap * 2;
            grown = realloc(text, cap);
            if (grown == NULL) {
                status = JSON_NOMEM;
                snprintf(err->message, sizeof(err->message), "%s: out of memory", path);
                goto cleanup;
            }
            text = grown;
        }
        n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err->message, sizeof(err->message), "%s: read error", path);
        goto cleanup;
    }
    status = json_parse(text, len, out, err);
    if (status != JSON_OK) {
        memcpy(message, err->message, sizeof(message));
        snprintf(err->message, sizeof(err->message), "%.60s: %.97s", path, message);
    }
cleanup:
    err->status = status;
    if (f != NULL)
        fclose(f);
    free(text);
    return status;
}

void json_free(struct json_value *value)
{
    if (value == NULL)
        return;
    release(value);
    free(value);
}

const struct json_value *json_get(const struct json_value *object, const char *key)
{
    size_t n;

    if (object == NULL || object->type != JSON_OBJECT)
        return NULL;
    n = strlen(key);
    for (size_t i = 0; i < object->count; i++)
        if (object->members[i].key_length == n && memcmp(object->members[i].key, key, n) == 0)
            return &object->members[i].value;
    return NULL;
}

const char *json_string(const struct json_value *value)
{
    return value != NULL && value->type == JSON_STRING ? value->string : NULL;
}

bool json_integer(const struct json_value *value, long long *out)
{
    if (value == NULL || value->type != JSON_NUMBER || !value->is_integer)
        return false;
    *out = value->integer;
    return true;
}
