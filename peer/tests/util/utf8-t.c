/* Tests of util/utf8: each sequence length, and every kind of ill-formed sequence. */
#include "tests/tap.h"
#include "util/utf8.h"

#include <string.h>

/* The verdict on the bytes of S (without its NUL). */
static size_t length_of(const char *s)
{
    return utf8_sequence_length((const unsigned char *)s, strlen(s));
}

int main(void)
{
    plan_lazy();
    is_int((long long)length_of("a"), 1, "ASCII");
    is_int((long long)length_of("\xc3\xbc"), 2, "U+00FC in two octets");
    is_int((long long)length_of("\xe4\xbe\x8b"), 3, "U+4F8B in three");
    is_int((long long)length_of("\xf0\x9f\x98\x80"), 4, "U+1F600 in four");
    is_int((long long)length_of("\xf4\x8f\xbf\xbf"), 4, "U+10FFFF, the last code point");
    is_int((long long)length_of("\x80"), 0, "a stray continuation octet");
    is_int((long long)length_of("\xc3"), 0, "a truncated sequence");
    is_int((long long)length_of("\xc3\x28"), 0, "a lead octet without its continuation");
    is_int((long long)length_of("\xc0\xaf"), 0, "an overlong two-octet form");
    is_int((long long)length_of("\xe0\x80\xaf"), 0, "an overlong three-octet form");
    is_int((long long)length_of("\xf0\x80\x80\xaf"), 0, "an overlong four-octet form");
    is_int((long long)length_of("\xed\xa0\x80"), 0, "a surrogate (U+D800)");
    is_int((long long)length_of("\xf4\x90\x80\x80"), 0, "above U+10FFFF");
    is_int((long long)length_of("\xff"), 0, "an octet never used in UTF-8");
    is_int((long long)utf8_sequence_length((const unsigned char *)"\xe4\xbe\x8b", 2), 0,
           "LEFT bounds the sequence");
    done_testing();
}
