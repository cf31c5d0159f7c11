/*
 * The one JSON string writer of the project: every event line, transcript and table gsspeer
 * and the C shims print goes through these functions, so there is one escaping rule:
 *
 *   - '"' and '\' are written as \" and \\;
 *   - control characters (below 0x20) and DEL (0x7f) as \u00XX;
 *   - well-formed UTF-8 sequences (util/utf8.h) are copied unchanged;
 *   - any other byte (a stray continuation byte, a truncated or overlong sequence, ...) is
 *     written as \u00XX with XX its value, so arbitrary bytes from the wire always produce a
 *     valid JSON string and a reader can still see which byte it was.
 *
 * Ownership: nothing is allocated or kept; every function only reads its arguments and writes
 * to F (errors are left in F's error indicator, as with stdio).
 */
#ifndef UTIL_JSONOUT_H
#define UTIL_JSONOUT_H

#include <stddef.h>
#include <stdio.h>

/* Write the NUL-terminated S as a JSON string literal (quotes included) to F. */
void json_put_string(FILE *f, const char *s);

/* Write LEN bytes of DATA (may hold NUL) as a JSON string literal to F. */
void json_put_bytes(FILE *f, const void *data, size_t len);

/* Write LEN bytes of DATA as a JSON string of lower-case hex digits to F. */
void json_put_hex(FILE *f, const unsigned char *data, size_t len);

#endif
