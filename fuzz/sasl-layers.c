/*
 * Fuzz target: the RFC 4752 §3.3 layer-message parsers (xmpp/sasl.h), both directions.
 * Input: one octet, the offered bitmask for the client's reply, then the message.
 */
#include "xmpp/sasl.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sasl_layer_msg m;
    enum sasl_layer_status st;

    if (size < 1)
        return 0;
    st = rfc4752_layers_parse_server(data + 1, size - 1, &m);
    if (st == SASL_LAYER_OK && size - 1 != 4)
        abort();
    (void)rfc4752_layer_status_name(st);
    (void)rfc4752_layer_status_reason(st);
    st = rfc4752_layers_parse_client(data + 1, size - 1, data[0], &m);
    if (st == SASL_LAYER_OK) {
        if (m.max_size > 0xffffff || (m.layers & (m.layers - 1)) != 0 || !(m.layers & data[0]))
            abort();
        if (size - 1 > 4 && (m.authzid == NULL || m.authzid_len != size - 5))
            abort();
    }
    (void)rfc4752_layer_status_name(st);
    (void)rfc4752_layer_status_reason(st);
    return 0;
}
