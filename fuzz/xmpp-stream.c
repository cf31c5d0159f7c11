/*
 * Fuzz target: the XML stream engine (xmpp/stream.h). The bytes are fed in pieces, the
 * events taken after every feed, and a restart made after the first element (as after
 * STARTTLS). Small limits so that the policy paths run too.
 *
 * Input: one option octet (bits 0-3: N, pieces of 5 * N octets, 0: all at once; bit 4: small
 * limits; bit 5: restart after the first element), then the stream bytes.
 */
#include "util/builder.h"
#include "xmpp/stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Walk a tree the way the roles do; abort on a broken one. */
static void walk(const struct xml_node *n, int depth)
{
    if (n == NULL || n->name == NULL || n->ns == NULL || n->text == NULL ||
        strlen(n->text) != n->text_len || depth > 64)
        abort();
    (void)xml_node_attr(n, "", "to");
    (void)xml_node_child(n, XMPP_TLS_NS, "starttls");
    for (size_t i = 0; i < n->child_count; i++)
        walk(n->children[i], depth + 1);
}

static int drain(struct xstream *xs)
{
    struct xstream_event ev;
    int elements = 0;

    while (xstream_next(xs, &ev)) {
        if (ev.type == XSTREAM_HEADER || ev.type == XSTREAM_ELEMENT) {
            walk(ev.node, 0);
            if (ev.raw == NULL)
                abort();
            if (ev.type == XSTREAM_ELEMENT) {
                struct builder b;

                builder_init(&b);
                xml_escape(&b, ev.node->text);
                builder_free(&b);
                elements++;
            }
        } else if (ev.type == XSTREAM_ERROR && (ev.condition == NULL || ev.condition[0] == '\0')) {
            abort();
        }
        xstream_event_clear(&ev);
    }
    return elements;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct xstream_limits small = {4, 200, 2000};
    struct xstream *xs;
    size_t chunk, off;
    bool restarted = false;
    uint8_t opt;

    if (size < 1)
        return 0;
    opt = data[0];
    data++, size--;
    chunk = (size_t)(opt & 0x0f) * 5;
    if (chunk == 0)
        chunk = size > 0 ? size : 1;
    xs = xstream_new((opt & 0x10) ? &small : NULL);
    if (xs == NULL)
        abort();
    for (off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        bool ok = xstream_feed(xs, data + off, n);

        (void)xstream_pending(xs);
        if (drain(xs) > 0 && (opt & 0x20) && !restarted) {
            restarted = true;
            if (!xstream_restart(xs))
                abort();
            continue;
        }
        if (!ok)
            break;
    }
    drain(xs);
    xstream_free(xs);
    return 0;
}
