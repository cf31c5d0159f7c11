/*
 * UTF-8 validation (RFC 3629), shared by the JSON reader and the host-name checks.
 * No allocation; the caller owns the bytes.
 */
#ifndef UTIL_UTF8_H
#define UTIL_UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed UTF-8 sequence starting at S, of which LEFT (> 0) bytes
 * are available; 0 when it is not well-formed: a stray continuation byte, a truncated sequence,
 * an overlong form, a surrogate (U+D800..U+DFFF) or a code point above U+10FFFF. */
size_t utf8_sequence_length(const unsigned char *s, size_t left);

#endif
