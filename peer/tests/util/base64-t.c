/* Tests of util/base64: every vector of vectors/sasl-base64.json (the decoder, its status and
 * offset, and the encoder on every valid text), then round trips and the status tables. */
#include "tests/tap.h"
#include "tests/xmpp/vectors.h"
#include "util/base64.h"
#include "util/hex.h"

#include <stdlib.h>
#include <string.h>

/* What a role does with the character data of a SASL element (base64.h): no text is no
 * payload, "=" is zero octets, anything else goes through the decoder. */
static enum base64_status payload_decode(const json_t *text, bool *present, unsigned char **out,
                                         size_t *out_len, size_t *where)
{
    *present = json_string_length(text) > 0;
    if (json_string_length(text) == 1 && json_string_value(text)[0] == '=') {
        *out = malloc(1);
        *out_len = 0;
        return *out != NULL ? BASE64_OK : BASE64_NO_MEMORY;
    }
    return base64_decode(json_string_value(text), json_string_length(text), out, out_len, where);
}

static bool run_vector(const json_t *group, const json_t *t)
{
    const char *type = json_string_value(json_object_get(group, "type"));
    const json_t *text = json_object_get(t, "text");
    const json_t *expected = json_object_get(t, "expected");
    const char *result = json_string_value(json_object_get(t, "result"));
    const char *want_status = json_string_value(json_object_get(expected, "status"));
    const char *want_hex = json_string_value(json_object_get(expected, "octets"));
    unsigned char *got = NULL, *want = NULL;
    size_t got_len = 0, want_len = 0, where = 12345;
    long long want_where = -1;
    enum base64_status st;
    bool payload, present = true, good = true;

    if (type == NULL || text == NULL || !json_is_string(text) || result == NULL ||
        want_status == NULL) {
        diag("vector lacks group type, text, result or expected.status");
        return false;
    }
    payload = strcmp(type, "payload") == 0;
    /* The decoder's own verdict on the text. */
    st = base64_decode(json_string_value(text), json_string_length(text), &got, &got_len, &where);
    if (strcmp(base64_status_name(st), want_status) != 0) {
        diag("base64_decode: %s, want %s", base64_status_name(st), want_status);
        good = false;
    }
    if (st != BASE64_OK) {
        jsonload_integer(json_object_get(json_object_get(t, "error"), "offset"), &want_where);
        if (got != NULL || got_len != 0) {
            diag("a refusal hands out a buffer");
            good = false;
        }
        if (want_where >= 0 && (long long)where != want_where) {
            diag("offset %zu, want %lld", where, want_where);
            good = false;
        }
    }
    if (payload) {
        free(got);
        got = NULL;
        st = payload_decode(text, &present, &got, &got_len, &where);
    }
    if ((st == BASE64_OK) != (strcmp(result, "invalid") != 0)) {
        diag("%s, but the result is %s", base64_status_name(st), result);
        good = false;
    }
    if (st == BASE64_OK) {
        const json_t *want_present = json_object_get(expected, "present");

        if (want_hex == NULL || hex_decode(want_hex, &want, &want_len) != HEX_OK) {
            diag("expected.octets is not hex");
            free(got);
            return false;
        }
        if (got_len != want_len || (want_len > 0 && memcmp(got, want, want_len) != 0)) {
            diag("decoded %zu octets, want %zu (%s)", got_len, want_len, want_hex);
            good = false;
        }
        if (payload && (!json_is_boolean(want_present) || json_is_true(want_present) != present)) {
            diag("present %d, want the opposite", present);
            good = false;
        }
        /* The encoder gives back the canonical text (the role writes "=" for zero octets). */
        if (!payload || got_len > 0) {
            char *enc = base64_encode(got, got_len);

            if (enc == NULL || strlen(enc) != json_string_length(text) ||
                memcmp(enc, json_string_value(text), json_string_length(text)) != 0) {
                diag("base64_encode gives '%s'", enc != NULL ? enc : "(null)");
                good = false;
            }
            free(enc);
        }
    }
    free(got);
    free(want);
    return good;
}

static void test_round_trips(void)
{
    unsigned char data[300];
    bool good = true;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(data); len++) {
        char *text = base64_encode(data, len);
        unsigned char *back = NULL;
        size_t back_len = 0;

        good &= text != NULL && strlen(text) == (len + 2) / 3 * 4 &&
                base64_decode(text, strlen(text), &back, &back_len, NULL) == BASE64_OK &&
                back_len == len && memcmp(back, data, len) == 0;
        free(text);
        free(back);
    }
    ok(good, "encode then decode gives every length 0..300 back");
}

static void test_edges(void)
{
    unsigned char *out = (unsigned char *)"x";
    size_t out_len = 7, where = 99;
    char *text;

    text = base64_encode(NULL, 0);
    is_string(text, "", "zero octets (NULL data) encode to \"\"");
    free(text);
    is_int(base64_decode(NULL, 0, &out, &out_len, &where), BASE64_OK, "NULL text of length 0");
    ok(out != NULL && out_len == 0, "gives a non-NULL buffer of zero octets");
    free(out);
    is_int(base64_decode("Zm9vYmFy", 4, &out, &out_len, NULL), BASE64_OK,
           "only LEN characters are read");
    is_blob(out, out_len, "foo", 3, "the first group");
    free(out);
    is_int(base64_decode("Zm9v\0mFy", 8, &out, &out_len, &where), BASE64_BAD_CHAR,
           "a NUL character is outside the alphabet");
    is_int((long long)where, 4, "at its offset");
    ok(out == NULL && out_len == 0, "a refusal leaves *OUT NULL and *OUT_LEN 0");
    is_int(base64_decode("=", 1, &out, &out_len, &where), BASE64_BAD_LENGTH,
           "the decoder refuses \"=\" (zero octets are the role's business)");
    is_int(base64_decode("Zm9v\x80", 5, &out, &out_len, &where), BASE64_BAD_CHAR,
           "an octet above 7f");
}

static void test_tables(void)
{
    bool named = true;

    for (int s = BASE64_OK; s <= BASE64_NO_MEMORY; s++)
        named &= strncmp(base64_status_name((enum base64_status)s), "BASE64_", 7) == 0 &&
                 strlen(base64_status_reason((enum base64_status)s)) > 5;
    ok(named, "every status has a name and a reason");
    is_string(base64_status_name((enum base64_status)99), "BASE64_UNKNOWN_STATUS",
              "an unknown status");
    ok(strstr(base64_status_reason(BASE64_WHITESPACE), "RFC 6120") != NULL,
       "the whitespace refusal cites RFC 6120");
}

int main(void)
{
    plan_lazy();
    each_vector("sasl-base64.json", "base64", run_vector);
    test_round_trips();
    test_edges();
    test_tables();
    done_testing();
}
