/*
 * A small strict JSON reader (RFC 8259) that parses a whole document into a tree of values.
 *
 * Strict means: exactly one value with only whitespace around it, no trailing commas, no
 * leading zeros, no control characters or invalid UTF-8 in strings, \u escapes must pair
 * surrogates correctly, object keys are unique, nesting is at most JSON_MAX_DEPTH deep.
 * Used by the tests that consume vectors/ files, and by anything else that reads JSON.
 *
 * Ownership: json_parse returns a tree the caller releases with json_free(); every string,
 * array and object inside belongs to the tree. Getters return pointers into the tree (valid
 * until json_free) and never allocate.
 */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum { JSON_MAX_DEPTH = 64 };

enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

enum json_status {
    JSON_OK = 0,
    JSON_SYNTAX,   /* the text is not JSON (message and offset say where and why) */
    JSON_TOO_DEEP, /* nesting beyond JSON_MAX_DEPTH */
    JSON_NOMEM,
    JSON_IO, /* json_parse_file: the file could not be read */
};

struct json_member;

struct json_value {
    enum json_type type;
    bool boolean;      /* JSON_BOOL */
    double number;     /* JSON_NUMBER */
    bool is_integer;   /* JSON_NUMBER written without fraction/exponent and fits in long long */
    long long integer; /* JSON_NUMBER when is_integer */
    char *string;      /* JSON_STRING: the decoded UTF-8, NUL-terminated (may hold \u0000) */
    size_t length;     /* JSON_STRING: bytes in string without the final NUL */
    size_t count;      /* JSON_ARRAY: items; JSON_OBJECT: members */
    struct json_value *items;    /* JSON_ARRAY */
    struct json_member *members; /* JSON_OBJECT, in document order */
};

struct json_member {
    char *key; /* decoded, NUL-terminated */
    size_t key_length;
    struct json_value value;
};

struct json_error {
    enum json_status status;
    size_t offset;     /* byte offset of the error in the text */
    char message[160]; /* one line: "offset 17: expected ',' or '}' in object" */
};

/* Parse LEN bytes of TEXT. On success *OUT is a new tree the caller frees with json_free();
 * on failure *OUT is NULL, nothing is allocated and *ERR (if not NULL) says what and where. */
enum json_status json_parse(const char *text, size_t len, struct json_value **out,
                            struct json_error *err);

/* Read the file at PATH and parse it like json_parse; ERR->message names the file. */
enum json_status json_parse_file(const char *path, struct json_value **out, struct json_error *err);

/* Release a tree returned by json_parse (NULL is ignored). */
void json_free(struct json_value *value);

/* The member KEY of OBJECT, or NULL when OBJECT is NULL, not an object or has no such key. */
const struct json_value *json_get(const struct json_value *object, const char *key);
/* The string of VALUE, or NULL when VALUE is NULL or not a string. */
const char *json_string(const struct json_value *value);
/* Store VALUE's integer in *OUT; false when VALUE is NULL or not an integral number. */
bool json_integer(const struct json_value *value, long long *out);

#endif
