/*
 * Fuzz target: the SASL GSSAPI engine (xmpp/sasl.h), either role, on the fake GSS table
 * (fakegss.h): the input is the sequence of payloads the other side sends.
 *
 * Input: one option octet
 *   bit 0      role: 0 server (payloads are the client's), 1 client
 *   bits 1-3   layers: offered (server) / acceptable (client)
 *   bit 4      an authzid (client)
 *   bits 5-7   a fault switch (0: none)
 * then payloads, each one octet of length (0-255) and that many octets.
 */
#include "fakegss.h"
#include "xmpp/sasl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void faults_for(uint8_t which, struct sasl_faults *f)
{
    memset(f, 0, sizeof(*f));
    switch (which) {
    case 1:
        f->omit_ap_rep = true;
        break;
    case 2:
        f->extra_empty_challenge = true;
        break;
    case 3:
        f->layer_maxsize_with_none = true;
        break;
    case 4:
        f->layer_no_bit = true;
        break;
    case 5:
        f->layer_msg_len = 7;
        break;
    case 6:
        f->layer_byte_set = true, f->layer_byte = 0x06;
        break;
    case 7:
        f->client_maxsize_with_none = true;
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sasl_config cfg = {0};
    struct sasl_faults faults;
    struct sasl *s;
    gss_name_t target = GSS_C_NO_NAME;
    unsigned char *out = NULL;
    size_t out_len = 0;
    enum sasl_status st = SASL_CONTINUE;
    uint8_t opt;

    if (size < 1)
        return 0;
    opt = data[0];
    data++, size--;
    faults_for(opt >> 5, &faults);
    cfg.role = (opt & 1) ? SASL_ROLE_CLIENT : SASL_ROLE_SERVER;
    cfg.gss = &fakegss;
    cfg.faults = &faults;
    if (cfg.role == SASL_ROLE_CLIENT) {
        target = fakegss_name("xmpp@fake.test", 14);
        cfg.target = target;
        cfg.layers_acceptable = (opt >> 1) & 7;
        cfg.client_max_size = 65536;
        cfg.authzid = (opt & 0x10) ? "bob@fake.test" : NULL;
    } else {
        cfg.layers_offered = (opt >> 1) & 7;
        cfg.server_max_size = 4096;
    }
    s = rfc4752_new(&cfg);
    if (s == NULL)
        abort();
    if (cfg.role == SASL_ROLE_CLIENT) {
        st = rfc4752_client_start(s, &out, &out_len);
        free(out);
        out = NULL;
    }
    while (st == SASL_CONTINUE || (st == SASL_DONE && size > 0)) {
        size_t len;

        if (size < 1)
            break;
        len = data[0] < size - 1 ? data[0] : size - 1;
        st = rfc4752_step(s, len > 0 ? data + 1 : NULL, len, &out, &out_len);
        data += 1 + len, size -= 1 + len;
        if ((st == SASL_CONTINUE || (st == SASL_DONE && cfg.role == SASL_ROLE_CLIENT)) &&
            out == NULL)
            abort(); /* a payload to send is never NULL */
        if (st == SASL_FAILED && (out != NULL || rfc4752_error(s)[0] == '\0'))
            abort(); /* a failure has a reason and nothing to send */
        free(out);
        out = NULL;
    }
    if (cfg.role == SASL_ROLE_SERVER)
        (void)rfc4752_condition_name(rfc4752_condition(s));
    (void)rfc4752_outcome(s);
    rfc4752_free(s);
    if (target != GSS_C_NO_NAME) {
        OM_uint32 minor;

        fakegss.release_name(&minor, &target);
    }
    if (fakegss_live() != 0)
        abort(); /* a GSS object leaked through the table */
    return 0;
}
