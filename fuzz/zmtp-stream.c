/*
 * Fuzz target: a peer's ZMTP byte stream into the sans-I/O connection engine
 * (zmtp/connection.h) and on into the GSSAPI mechanism (zmtp/mechanism.h) on the fake GSS
 * table (fakegss.h), the way the session driver (tools/session.c) joins them.
 *
 * Input: one option octet, then the bytes the peer sends.
 *   bit 0      our role: 0 server (the input is a client), 1 client
 *   bit 1      PLAINTEXT (no wrapping after the handshake)
 *   bit 2      the server refuses the client principal
 *   bit 3      socket types PUB/SUB (subscriptions) instead of ROUTER/DEALER
 *   bits 4-7   N: the bytes arrive in chunks of 7 * N octets (0: all at once)
 * Every READY we see is answered with a two-part message, every message is echoed, so the
 * data phase's sending side runs too; every frame we would send is encoded and decoded again.
 */
#include "fakegss.h"
#include "util/builder.h"
#include "zmtp/connection.h"
#include "zmtp/mechanism.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Encode every queued outgoing frame and decode it back: what we send must parse. */
static void drain_frames(struct zmtp_mech *mech)
{
    struct zmtp_mech_frame f;

    while (zmtp_mech_next_frame(mech, &f)) {
        struct builder b;
        struct zmtp_frame back;
        struct zmtp_error err;
        size_t used = 0;

        builder_init(&b);
        zmtp_frame_encode(&b, f.flags, f.body, f.len);
        if (builder_ok(&b) &&
            (zmtp_frame_decode(b.data, b.len, 0, &back, &used, &err) != ZMTP_OK || used != b.len ||
             back.size != f.len || (f.len > 0 && memcmp(back.body, f.body, f.len) != 0)))
            abort(); /* our own frame does not round-trip */
        builder_free(&b);
        zmtp_mech_frame_free(&f);
    }
}

/* Take every event; answer what needs an answer. False once the mechanism failed. */
static bool drain_events(struct zmtp_mech *mech, bool deny)
{
    struct zmtp_event ev;
    struct zmtp_error err;
    bool ok = true;

    while (ok && zmtp_mech_next_event(mech, &ev)) {
        switch (ev.type) {
        case ZMTP_EVENT_AUTHORIZE:
            ok = zmtp_mech_authorize(mech, !deny, &err) == ZMTP_OK;
            break;
        case ZMTP_EVENT_READY: {
            static const struct zmtp_part hello[2] = {
                {(unsigned char *)"hello", 5},
                {NULL, 0},
            };
            (void)zmtp_mech_send(mech, hello, 2, &err);
            (void)zmtp_mech_ping(mech, 10, "ctx", 3, &err);
            break;
        }
        case ZMTP_EVENT_MESSAGE:
            (void)zmtp_mech_send(mech, ev.parts, ev.count, &err);
            break;
        default:
            break;
        }
        zmtp_event_free(&ev);
        drain_frames(mech);
    }
    return ok;
}

/* Turn what the connection holds into items for the mechanism. False on any error. */
static bool pump(struct zmtp_connection *conn, struct zmtp_mech *mech, bool deny)
{
    for (;;) {
        struct zmtp_item item;
        struct zmtp_error err;
        enum zmtp_status status = zmtp_connection_next(conn, &item, &err);

        if (status == ZMTP_NEED_MORE)
            break;
        if (status != ZMTP_OK)
            return false;
        if (item.kind == ZMTP_ITEM_GREETING) {
            zmtp_connection_consume(conn, &item);
            if (zmtp_mech_start(mech, &err) != ZMTP_OK)
                return false;
        } else {
            struct zmtp_frame_note note;

            status = zmtp_mech_receive(mech, item.frame.flags, item.frame.body,
                                       (size_t)item.frame.size, &note, &err);
            zmtp_connection_consume(conn, &item);
            if (status != ZMTP_OK)
                return false;
        }
        drain_frames(mech);
        if (!drain_events(mech, deny))
            return false;
    }
    zmtp_connection_compact(conn);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zmtp_connection conn;
    struct zmtp_mech_config cfg = {0};
    struct zmtp_mech *mech = NULL;
    struct zmtp_error err;
    gss_name_t target = GSS_C_NO_NAME;
    uint8_t opt;
    size_t chunk, off;
    bool deny, pubsub;

    if (size < 1)
        return 0;
    opt = data[0];
    data++, size--;
    deny = opt & 4;
    pubsub = opt & 8;
    chunk = (size_t)(opt >> 4) * 7;
    if (chunk == 0)
        chunk = size > 0 ? size : 1;

    cfg.role = (opt & 1) ? ZMTP_ROLE_CLIENT : ZMTP_ROLE_SERVER;
    cfg.plaintext = opt & 2;
    cfg.gss = &fakegss;
    if (cfg.role == ZMTP_ROLE_CLIENT) {
        target = fakegss_name("zmq@fake.test", 13);
        cfg.target = target;
        cfg.socket_type = pubsub ? "SUB" : "DEALER";
        cfg.identity = "id";
        cfg.identity_len = 2;
    } else {
        cfg.socket_type = pubsub ? "PUB" : "ROUTER";
    }
    zmtp_connection_init(&conn, "GSSAPI", 1u << 20);
    if (zmtp_mech_new(&cfg, &mech, &err) != ZMTP_OK)
        abort(); /* a valid config must give a mechanism */
    if (pubsub && cfg.role == ZMTP_ROLE_CLIENT) {
        /* queued before READY is refused; the refusal itself is part of the run */
        (void)zmtp_mech_subscribe(mech, ZMTP_SUBSCRIBE, "t", 1, &err);
    }
    for (off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;

        if (!zmtp_connection_add(&conn, data + off, n))
            abort();
        if (!pump(&conn, mech, deny))
            break;
    }
    (void)zmtp_mech_ready(mech);
    (void)zmtp_mech_peer_socket_type(mech);
    (void)zmtp_mech_peer_principal(mech);
    zmtp_mech_free(mech);
    zmtp_connection_free(&conn);
    if (target != GSS_C_NO_NAME) {
        OM_uint32 minor;

        fakegss.release_name(&minor, &target);
    }
    if (fakegss_live() != 0)
        abort(); /* a GSS object leaked through the table */
    return 0;
}
