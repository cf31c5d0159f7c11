/*
 * Hexadecimal text (base 16, RFC 4648 section 8): decoding command-line and vector bytes, and
 * writing bytes as lowercase hex into JSON output.
 *
 * Ownership: hex_decode returns newly allocated bytes the caller frees; the other functions
 * only read their arguments and allocate nothing.
 */
#ifndef UTIL_HEX_H
#define UTIL_HEX_H

#include <stddef.h>
#include <stdio.h>

enum hex_status {
    HEX_OK = 0,
    HEX_ODD_LENGTH, /* an odd number of characters */
    HEX_BAD_DIGIT,  /* a character outside 0-9, a-f, A-F */
    HEX_NOMEM,
};

/* The value (0-15) of the hex digit C in either case, or -1 when C is not one. */
int hex_digit(int c);

/* Decode all of TEXT (an even number of hex digits, either case, nothing else). On HEX_OK *OUT
 * holds *LEN bytes in newly allocated memory the caller frees (never NULL, also for ""); on
 * failure *OUT is NULL, *LEN is untouched and nothing is allocated. */
enum hex_status hex_decode(const char *text, unsigned char **out, size_t *len);

/* Write the LEN bytes at DATA to F as lowercase hex digits, two a byte, nothing around them. */
void hex_put(FILE *f, const unsigned char *data, size_t len);

#endif
