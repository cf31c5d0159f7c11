/*
 * Fuzz target: the strict base64 decoder (util/base64.h). Whatever it accepts must be the
 * canonical encoding: encoding the octets again gives the input back; and any octets encode
 * to something it accepts.
 */
#include "util/base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *out = NULL, *back = NULL;
    size_t out_len = 0, back_len = 0, where = 0;
    char *text;
    enum base64_status st = base64_decode((const char *)data, size, &out, &out_len, &where);

    (void)base64_status_name(st);
    (void)base64_status_reason(st);
    if (st == BASE64_OK) {
        text = base64_encode(out, out_len);
        if (text == NULL || strlen(text) != size || memcmp(text, data, size) != 0)
            abort(); /* accepted but not canonical */
        free(text);
        free(out);
    } else if (out != NULL || out_len != 0 || (where > size)) {
        abort();
    }
    /* the other direction: the input as octets */
    text = base64_encode(data, size);
    if (text == NULL)
        abort();
    if (base64_decode(text, strlen(text), &back, &back_len, NULL) != BASE64_OK ||
        back_len != size || (size > 0 && memcmp(back, data, size) != 0))
        abort();
    free(back);
    free(text);
    return 0;
}
