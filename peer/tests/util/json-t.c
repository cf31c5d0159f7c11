/* Tests of util/json: values of every type, escapes, strictness, error offsets, files. */
#include "tests/tap.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct json_value *parse(const char *text)
{
    struct json_value *v = NULL;

    json_parse(text, strlen(text), &v, NULL);
    return v;
}

/* TEXT must fail with STATUS at OFFSET, and the message must contain WHAT. */
static void rejects(const char *text, size_t len, enum json_status status, size_t offset,
                    const char *what)
{
    struct json_value *v = (struct json_value *)1;
    struct json_error err;

    ok(json_parse(text, len, &v, &err) == status && v == NULL && err.offset == offset &&
           strstr(err.message, what) != NULL,
       "rejects %s: %s", what, err.message);
}

static void test_values(void)
{
    struct json_value *v;
    const struct json_value *m;
    long long n;

    v = parse(" {\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"n\": -12, \"f\": 2.5e1,"
              " \"t\": true, \"F\": false, \"z\": null, \"a\": [1, [], {}], \"u\": \"\\u0000x\"} ");
    ok(v != NULL && v->type == JSON_OBJECT && v->count == 8, "an object of 8 members");
    is_string(json_string(json_get(v, "s")), "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80",
              "escapes, \\u and surrogate pairs decode to UTF-8");
    ok(json_integer(json_get(v, "n"), &n) && n == -12, "negative integer");
    m = json_get(v, "f");
    ok(m != NULL && m->type == JSON_NUMBER && !m->is_integer && m->number == 25.0,
       "fraction and exponent give a non-integer number");
    ok(!json_integer(m, &n), "json_integer refuses a non-integer");
    ok(json_get(v, "t")->boolean && json_get(v, "t")->type == JSON_BOOL, "true");
    ok(!json_get(v, "F")->boolean && json_get(v, "F")->type == JSON_BOOL, "false");
    is_int(json_get(v, "z")->type, JSON_NULL, "null");
    m = json_get(v, "a");
    ok(m->type == JSON_ARRAY && m->count == 3 && m->items[1].type == JSON_ARRAY &&
           m->items[2].type == JSON_OBJECT,
       "nested array and object");
    m = json_get(v, "u");
    ok(m->length == 2 && m->string[0] == '\0' && m->string[1] == 'x', "\\u0000 keeps the length");
    ok(json_get(v, "missing") == NULL && json_get(NULL, "s") == NULL, "absent keys are NULL");
    ok(json_string(json_get(v, "n")) == NULL, "json_string refuses a number");
    ok(strcmp(v->members[0].key, "s") == 0 && strcmp(v->members[7].key, "u") == 0,
       "members keep document order");
    json_free(v);
    v = parse("\"\xe4\xbe\x8b\"");
    is_string(json_string(v), "\xe4\xbe\x8b", "a top-level string with raw UTF-8");
    json_free(v);
    v = parse("9223372036854775807");
    ok(json_integer(v, &n) && n == 9223372036854775807LL, "the largest long long");
    json_free(v);
    v = parse("9223372036854775808");
    ok(v != NULL && !json_integer(v, &n), "one more is a number but not an integer");
    json_free(v);
}

static void test_errors(void)
{
    char deep[200];

    rejects("", 0, JSON_SYNTAX, 0, "found the end");
    rejects("{\"a\":1,}", 8, JSON_SYNTAX, 7, "string key");
    rejects("[1,]", 4, JSON_SYNTAX, 3, "unexpected character ']'");
    rejects("[1 2]", 5, JSON_SYNTAX, 3, "expected ',' or ']'");
    rejects("{\"a\" 1}", 7, JSON_SYNTAX, 5, "expected ':'");
    rejects("01", 2, JSON_SYNTAX, 1, "leading zero");
    rejects("1.", 2, JSON_SYNTAX, 2, "after '.'");
    rejects("1e", 2, JSON_SYNTAX, 2, "exponent");
    rejects("-", 1, JSON_SYNTAX, 1, "expected a digit");
    rejects("1e999", 5, JSON_SYNTAX, 0, "out of range");
    rejects("tru", 3, JSON_SYNTAX, 0, "expected true");
    rejects("\"abc", 4, JSON_SYNTAX, 1, "unterminated");
    rejects("\"a\tb\"", 5, JSON_SYNTAX, 2, "control character 0x09");
    rejects("\"\\x\"", 4, JSON_SYNTAX, 2, "invalid escape \\x");
    rejects("\"\\u12G4\"", 8, JSON_SYNTAX, 5, "invalid hex digit");
    rejects("\"\\udc00\"", 8, JSON_SYNTAX, 7, "lone low surrogate");
    rejects("\"\\ud800x\"", 9, JSON_SYNTAX, 7, "without a low one");
    rejects("\"\\ud800\\u0041\"", 14, JSON_SYNTAX, 13, "followed by \\u0041");
    rejects("\"\xc3\x28\"", 4, JSON_SYNTAX, 1, "invalid UTF-8");
    rejects("\"\xed\xa0\x80\"", 5, JSON_SYNTAX, 1, "invalid UTF-8");
    rejects("\"\xc0\xaf\"", 4, JSON_SYNTAX, 1, "invalid UTF-8");
    rejects("{\"k\":1,\"k\":2}", 13, JSON_SYNTAX, 10, "duplicate key \"k\"");
    rejects("{} {}", 5, JSON_SYNTAX, 3, "trailing characters");
    rejects("[1]\0", 4, JSON_SYNTAX, 3, "trailing characters");
    memset(deep, '[', sizeof(deep));
    rejects(deep, sizeof(deep), JSON_TOO_DEEP, 64, "nesting deeper than 64");
}

static void test_file(void)
{
    char path[] = "/tmp/json-t.XXXXXX";
    struct json_value *v = NULL;
    struct json_error err;
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (f == NULL)
        bail("cannot create a temporary file");
    fputs("{\"numberOfTests\": 3,\n \"x\": [1, 2, }", f);
    fclose(f);
    is_int(json_parse_file(path, &v, &err), JSON_SYNTAX, "a broken file is a syntax error");
    ok(strncmp(err.message, path, strlen(path)) == 0 && strstr(err.message, "offset 34") != NULL,
       "the message names the file and offset: %s", err.message);
    f = fopen(path, "w");
    if (f == NULL)
        bail("cannot rewrite %s", path);
    fputs("{\"numberOfTests\": 3}", f);
    fclose(f);
    is_int(json_parse_file(path, &v, &err), JSON_OK, "a good file parses");
    json_free(v);
    unlink(path);
    is_int(json_parse_file(path, &v, &err), JSON_IO, "a missing file is an I/O error");
    ok(strstr(err.message, "No such file") != NULL, "named with the system error: %s", err.message);
    json_free(NULL);
    ok(true, "json_free(NULL) is harmless");
}

int main(void)
{
    plan_lazy();
    test_values();
    test_errors();
    test_file();
    done_testing();
}
