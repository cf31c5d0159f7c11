/*
 * Strict JSON reading, through jansson (libjansson-dev): the test vectors and anything else of
 * the project that reads JSON go through here, so every reader has the same strictness as the
 * hand-written reader this replaced:
 *
 *   - exactly one value (any type at the top) with only whitespace around it;
 *   - RFC 8259 syntax: no trailing commas, no leading zeros, no control characters or invalid
 *     UTF-8 in strings, \u escapes pairing surrogates correctly, numbers that fit a double;
 *   - object keys unique (JSON_REJECT_DUPLICATES);
 *   - nesting at most JSONLOAD_MAX_DEPTH deep (checked after parsing: jansson's own limit is
 *     2048);
 *   - and, stricter than before, no \u0000 inside strings (jansson's default).
 *
 * Ownership: a returned json_t * is the caller's (json_decref). WHY (WHY_LEN bytes, may be
 * NULL) receives a one-line reason naming the source, line, column and byte offset.
 */
#ifndef UTIL_JSONLOAD_H
#define UTIL_JSONLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { JSONLOAD_MAX_DEPTH = 64 };

/* Parse LEN bytes of TEXT; NULL with WHY filled when it is not strict JSON. */
json_t *jsonload_text(const char *text, size_t len, char *why, size_t why_len);

/* Read and parse the file at PATH like jsonload_text; WHY names the file. */
json_t *jsonload_file(const char *path, char *why, size_t why_len);

/* Store VALUE's integer in *OUT; false when VALUE is NULL or not an integer (a number written
 * with a fraction or exponent is not one). */
bool jsonload_integer(const json_t *value, long long *out);

#endif
