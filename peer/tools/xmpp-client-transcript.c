/* The transcript of gsspeer xmpp-client: see xmpp-client-transcript.h. */
#include "tools/xmpp-client-transcript.h"

#include "tools/transcript-file.h"
#include "util/jsonout.h"
#include "xmpp/sasl.h"

#include <string.h>

bool xct_open(struct xct *t, const char *path)
{
    return transcript_file_open(&t->file, path);
}

void xct_close(struct xct *t)
{
    transcript_file_close(&t->file);
}

static void xml_field(struct xct *t, const char *xml)
{
    if (xml == NULL)
        return;
    fputs(",\"xml\":", t->file);
    json_put_string(t->file, xml);
}

void xct_element(struct xct *t, const char *dir, const char *kind, const char *xml)
{
    if (t->file == NULL)
        return;
    transcript_file_begin(t->file, dir, kind);
    xml_field(t, xml);
    transcript_file_end(t->file);
}

/* ,"layer":{"plain":HEX,"layers":N,"max_size":N[,"authzid":S],"status":NAME} */
static void layer_field(struct xct *t, const struct xct_layer *layer)
{
    const unsigned char *p = layer->plain;
    struct sasl_layer_msg msg;
    enum sasl_layer_status st;

    fputs(",\"layer\":{\"plain\":", t->file);
    json_put_hex(t->file, p, layer->len);
    /* Our reply is judged against every layer; the server's offer is in its own line. */
    st = layer->from_server ? rfc4752_layers_parse_server(p, layer->len, &msg)
                            : rfc4752_layers_parse_client(p, layer->len, 0x07, &msg);
    if (layer->len >= 4)
        fprintf(t->file, ",\"layers\":%u,\"max_size\":%lu", p[0],
                (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3]);
    if (!layer->from_server && layer->len > 4) {
        char authzid[300];
        size_t n = layer->len - 4 < sizeof(authzid) - 1 ? layer->len - 4 : sizeof(authzid) - 1;

        memcpy(authzid, p + 4, n);
        authzid[n] = '\0';
        fputs(",\"authzid\":", t->file);
        json_put_string(t->file, authzid);
    }
    fputs(",\"status\":", t->file);
    json_put_string(t->file, rfc4752_layer_status_name(st));
    fputc('}', t->file);
}

void xct_sasl(struct xct *t, const char *dir, const char *kind, const char *xml,
              const unsigned char *payload, size_t len, const struct xct_layer *layer)
{
    if (t->file == NULL)
        return;
    transcript_file_begin(t->file, dir, kind);
    xml_field(t, xml);
    fprintf(t->file, ",\"sasl\":{\"len\":%zu,\"token\":", len);
    json_put_hex(t->file, payload, len);
    if (layer != NULL)
        layer_field(t, layer);
    fputc('}', t->file);
    transcript_file_end(t->file);
}

void xct_local(struct xct *t, const char *kind, const char *reason)
{
    if (t->file == NULL)
        return;
    transcript_file_begin(t->file, "local", kind);
    fputs(",\"reason\":", t->file);
    json_put_string(t->file, reason);
    transcript_file_end(t->file);
}
