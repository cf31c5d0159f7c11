/*
 * Tests of util/jsonload (jansson with the project's strictness). Every text the hand-written
 * reader it replaced refused is refused here too (the list below is that reader's test list,
 * kept as it was); the differences are stricter: \u0000 in a string and integers beyond
 * long long are refused as well.
 */
#include "tests/tap.h"
#include "util/jsonload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *parse(const char *text)
{
    return jsonload_text(text, strlen(text), NULL, 0);
}

/* TEXT (LEN bytes) must be refused with a one-line reason. */
static void rejects(const char *text, size_t len, const char *what)
{
    char why[256] = "";
    json_t *v = jsonload_text(text, len, why, sizeof(why));

    ok(v == NULL && why[0] != '\0' && strchr(why, '\n') == NULL, "refuses %s: %s", what, why);
    json_decref(v);
}

static void test_values(void)
{
    json_t *v;
    const json_t *m;
    long long n;

    v = parse(" {\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"n\": -12, \"f\": 2.5e1,"
              " \"t\": true, \"F\": false, \"z\": null, \"a\": [1, [], {}]} ");
    ok(json_is_object(v) && json_object_size(v) == 7, "an object of 7 members");
    is_string(json_string_value(json_object_get(v, "s")), "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80",
              "escapes, \\u and surrogate pairs decode to UTF-8");
    ok(jsonload_integer(json_object_get(v, "n"), &n) && n == -12, "negative integer");
    m = json_object_get(v, "f");
    ok(json_is_real(m) && json_real_value(m) == 25.0, "fraction and exponent give a real");
    ok(!jsonload_integer(m, &n), "jsonload_integer refuses a real");
    ok(json_is_true(json_object_get(v, "t")) && json_is_false(json_object_get(v, "F")),
       "true and false");
    ok(json_is_null(json_object_get(v, "z")), "null");
    m = json_object_get(v, "a");
    ok(json_is_array(m) && json_array_size(m) == 3 && json_is_array(json_array_get(m, 1)) &&
           json_is_object(json_array_get(m, 2)),
       "nested array and object");
    ok(json_object_get(v, "missing") == NULL && json_object_get(NULL, "s") == NULL,
       "absent keys are NULL");
    ok(json_string_value(json_object_get(v, "n")) == NULL, "a number is not a string");
    ok(!jsonload_integer(NULL, &n), "jsonload_integer(NULL) is false");
    json_decref(v);
    v = parse("\"\xe4\xbe\x8b\"");
    is_string(json_string_value(v), "\xe4\xbe\x8b", "a top-level string with raw UTF-8");
    json_decref(v);
    v = parse("9223372036854775807");
    ok(jsonload_integer(v, &n) && n == 9223372036854775807LL, "the largest long long");
    json_decref(v);
}

static void test_refusals(void)
{
    char deep[200];
    char nested[2 * (JSONLOAD_MAX_DEPTH + 1)];
    json_t *v;

    /* What the replaced reader refused. */
    rejects("", 0, "the end");
    rejects("{\"a\":1,}", 8, "a trailing comma in an object");
    rejects("[1,]", 4, "a trailing comma in an array");
    rejects("[1 2]", 5, "a missing comma");
    rejects("{\"a\" 1}", 7, "a missing colon");
    rejects("01", 2, "a leading zero");
    rejects("1.", 2, "nothing after '.'");
    rejects("1e", 2, "an empty exponent");
    rejects("-", 1, "a lone minus");
    rejects("1e999", 5, "a number out of range");
    rejects("tru", 3, "a cut literal");
    rejects("\"abc", 4, "an unterminated string");
    rejects("\"a\tb\"", 5, "a raw control character in a string");
    rejects("\"\\x\"", 4, "an invalid escape");
    rejects("\"\\u12G4\"", 8, "an invalid hex digit");
    rejects("\"\\udc00\"", 8, "a lone low surrogate");
    rejects("\"\\ud800x\"", 9, "a high surrogate without a low one");
    rejects("\"\\ud800\\u0041\"", 14, "a high surrogate followed by a non-surrogate");
    rejects("\"\xc3\x28\"", 4, "invalid UTF-8");
    rejects("\"\xed\xa0\x80\"", 5, "an encoded surrogate");
    rejects("\"\xc0\xaf\"", 4, "an overlong form");
    rejects("{\"k\":1,\"k\":2}", 13, "a duplicate key");
    rejects("{} {}", 5, "two values");
    rejects("[1]\0", 4, "a NUL after the value");
    memset(deep, '[', sizeof(deep));
    rejects(deep, sizeof(deep), "200 unclosed brackets");
    /* Stricter than the replaced reader. */
    rejects("\"\\u0000x\"", 9, "\\u0000 in a string");
    rejects("9223372036854775808", 19, "an integer beyond long long");
    /* The depth limit, on well-formed text. */
    memset(nested, '[', JSONLOAD_MAX_DEPTH + 1);
    memset(nested + JSONLOAD_MAX_DEPTH + 1, ']', JSONLOAD_MAX_DEPTH + 1);
    rejects(nested, sizeof(nested), "nesting one deeper than the limit");
    v = jsonload_text(nested + 1, sizeof(nested) - 2, NULL, 0);
    ok(v != NULL, "nesting exactly at the limit is accepted");
    json_decref(v);
}

static void test_file(void)
{
    char path[] = "/tmp/jsonload-t.XXXXXX";
    char why[512];
    json_t *v;
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (f == NULL)
        bail("cannot create a temporary file");
    fputs("{\"numberOfTests\": 3,\n \"x\": [1, 2, }", f);
    fclose(f);
    v = jsonload_file(path, why, sizeof(why));
    ok(v == NULL, "a broken file is refused");
    ok(strncmp(why, path, strlen(path)) == 0 && strstr(why, "line 2") != NULL,
       "the reason names the file and line: %s", why);
    f = fopen(path, "w");
    if (f == NULL)
        bail("cannot rewrite %s", path);
    fputs("{\"numberOfTests\": 3}", f);
    fclose(f);
    v = jsonload_file(path, why, sizeof(why));
    ok(v != NULL, "a good file parses");
    json_decref(v);
    unlink(path);
    v = jsonload_file(path, why, sizeof(why));
    ok(v == NULL && strstr(why, path) != NULL, "a missing file is refused: %s", why);
}

int main(void)
{
    plan_lazy();
    test_values();
    test_refusals();
    test_file();
    done_testing();
}
