/* The incoming side of a ZMTP connection: see connection.h. */
#include "zmtp/connection.h"

#include <string.h>

void zmtp_connection_init(struct zmtp_connection *c, const char *mechanism, uint64_t max_frame_size)
{
    memset(c, 0, sizeof(*c));
    builder_init(&c->in);
    c->mechanism = mechanism;
    c->max_frame_size = max_frame_size;
}

void zmtp_connection_free(struct zmtp_connection *c)
{
    builder_free(&c->in);
    c->in_off = 0;
}

bool zmtp_connection_add(struct zmtp_connection *c, const void *data, size_t len)
{
    builder_add(&c->in, data, len);
    return builder_ok(&c->in);
}

unsigned char *zmtp_connection_reserve(struct zmtp_connection *c, size_t len)
{
    return builder_reserve(&c->in, len);
}

void zmtp_connection_commit(struct zmtp_connection *c, size_t reserved, size_t got)
{
    c->in.len -= reserved - (got < reserved ? got : reserved);
}

size_t zmtp_connection_missing(const struct zmtp_connection *c)
{
    size_t have = c->in.len - c->in_off;
    struct zmtp_frame f;
    uint64_t whole;

    if (!c->greeting_done)
        return have < ZMTP_GREETING_SIZE ? ZMTP_GREETING_SIZE - have : 0;
    if (have == 0)
        return 0;
    if (zmtp_frame_header_decode(c->in.data + c->in_off, have, c->max_frame_size, &f, NULL) !=
        ZMTP_OK)
        return 0; /* no whole header yet, or a bad one that the next parse reports */
    whole = f.header_len + f.size;
    if (whole <= have || whole - have > SIZE_MAX)
        return 0;
    return (size_t)(whole - have);
}

size_t zmtp_connection_pending(const struct zmtp_connection *c)
{
    return c->in.len - c->in_off;
}

enum zmtp_status zmtp_connection_next(struct zmtp_connection *c, struct zmtp_item *item,
                                      struct zmtp_error *err)
{
    const unsigned char *data = c->in.data != NULL ? c->in.data + c->in_off : NULL;
    size_t len = c->in.len - c->in_off;
    enum zmtp_status status;

    memset(item, 0, sizeof(*item));
    item->bytes = data;
    item->len = len;
    if (!c->greeting_done) {
        item->kind = ZMTP_ITEM_GREETING;
        status = zmtp_greeting_decode(data, len, c->mechanism, &c->peer_greeting, err);
        if (status == ZMTP_OK) {
            item->len = ZMTP_GREETING_SIZE;
            item->used = ZMTP_GREETING_SIZE;
        }
        return status;
    }
    item->kind = ZMTP_ITEM_FRAME;
    status = zmtp_frame_decode(data, len, c->max_frame_size, &item->frame, &item->used, err);
    if (status == ZMTP_OK)
        item->len = item->used;
    return status;
}

void zmtp_connection_consume(struct zmtp_connection *c, const struct zmtp_item *item)
{
    c->in_off += item->used;
    if (item->kind == ZMTP_ITEM_GREETING)
        c->greeting_done = true;
    else
        c->frames_in++;
}

unsigned char *zmtp_connection_take(struct zmtp_connection *c, const struct zmtp_item *item)
{
    unsigned char *block;
    size_t len;

    if (item->kind != ZMTP_ITEM_FRAME || c->in.data == NULL || c->in_off + item->used != c->in.len)
        return NULL;
    zmtp_connection_consume(c, item);
    block = builder_detach(&c->in, &len); /* never NULL: the builder holds the frame */
    c->in_off = 0;
    return block;
}

void zmtp_connection_compact(struct zmtp_connection *c)
{
    if (c->in_off > 0 && c->in_off >= c->in.len / 2) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
}
