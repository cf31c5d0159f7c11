/* The socket driver of one ZMTP GSSAPI connection: see session.h. */
#include "tools/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
    READ_CHUNK = 65536,
    READ_MAX = 8 * 1024 * 1024, /* the largest single read: a frame's announced rest, capped */
    STOP_CHECK_MS = 100,
    DRAIN_CHUNKS = 64,
    DRAIN_MS = 250,
    LINGER_MS = 3000,  /* deviation hang-on-error: the bound on the silent hang */
    AUTHZ_POLL_MS = 5, /* how often a pending authorization decision is looked at */
    DIRECT_MIN = 16384, /* a frame body at least this large may be sent from where it is */
    TAKE_MIN = 32768,   /* a received frame body at least this large may keep its input buffer */
};

int64_t zmtp_now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

enum zmtp_status zmtp_session_open(struct zmtp_session *s, int fd,
                                   const struct zmtp_session_config *cfg, struct zmtp_error *err)
{
    struct zmtp_greeting g;
    const struct zmtp_deviations *dev;
    enum zmtp_status status;
    int fl;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->cfg = *cfg;
    dev = cfg->mech.deviations;
    zmtp_connection_init(&s->conn, dev != NULL && dev->any_mechanism ? NULL : "GSSAPI",
                         cfg->max_frame_size);
    builder_init(&s->out);
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return zmtp_fail(err, ZMTP_SYSTEM, "fcntl O_NONBLOCK: %s", strerror(errno));
    }
    status = zmtp_mech_new(&cfg->mech, &s->mech, err);
    if (status != ZMTP_OK) {
        close(fd);
        return status;
    }
    s->fd = fd;
    /* The whole greeting goes out at once: we never wait for the peer's bytes before sending
     * ours, so a peer that sends its greeting in stages (libzmq: 10, then 1, then 53) works. */
    zmtp_greeting_init(&g, "GSSAPI", cfg->as_server);
    zmtp_greeting_encode(&s->out, &g);
    if (dev != NULL && dev->mechanism_space_padded && s->out.len >= 32)
        memset(s->out.data + 12 + 6, ' ', 14); /* deviation: "GSSAPI" padded with spaces */
    if (cfg->hooks != NULL && cfg->hooks->greeting != NULL)
        cfg->hooks->greeting(cfg->hooks->arg, &s->out);
    if (!builder_ok(&s->out)) {
        zmtp_session_close(s, NULL);
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    }
    transcript_greeting(cfg->transcript, "out", s->out.data, s->out.len);
    return ZMTP_OK;
}

/* Deviation hang-on-error: instead of closing after a failure, keep the connection open and
 * read silently until the peer gives up, LINGER_MS pass or the stop flag is set. */
static void linger(struct zmtp_session *s)
{
    int64_t until = zmtp_now_ms() + LINGER_MS;
    unsigned char sink[4096];

    while (!s->peer_closed && (s->cfg.stop == NULL || !*s->cfg.stop)) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int64_t left = until - zmtp_now_ms();
        ssize_t r;

        if (left <= 0)
            break;
        if (poll(&pfd, 1, left > STOP_CHECK_MS ? STOP_CHECK_MS : (int)left) <= 0)
            continue;
        r = recv(s->fd, sink, sizeof(sink), 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            s->peer_closed = true;
    }
}

void zmtp_session_close(struct zmtp_session *s, const char *reason)
{
    const struct zmtp_deviations *dev = s->cfg.mech.deviations;

    if (dev != NULL && dev->hang_on_error && s->fd >= 0 && !s->peer_closed &&
        (s->mech == NULL || !zmtp_mech_ready(s->mech) || zmtp_mech_failed(s->mech)))
        linger(s);
    if (reason != NULL)
        transcript_event(s->cfg.transcript, "close", reason);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    zmtp_mech_free(s->mech);
    s->mech = NULL;
    zmtp_connection_free(&s->conn);
    builder_free(&s->out);
}

/* Send frame F (header and body, from where they are) with one non-blocking sendmsg, and copy
 * what the socket did not take into the output. Only when nothing else is pending, so the
 * order on the wire stays; a failed send leaves everything to the ordinary write, which
 * reports the error. */
static void send_direct(struct zmtp_session *s, const struct zmtp_mech_frame *f)
{
    unsigned char header[ZMTP_FRAME_HEADER_MAX];
    size_t header_len = zmtp_frame_header_encode(header, f->flags, f->len);
    struct iovec iov[2] = {{header, header_len}, {f->body, f->len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    size_t sent = w > 0 ? (size_t)w : 0;

    if (sent < header_len)
        builder_add(&s->out, header + sent, header_len - sent);
    sent = sent > header_len ? sent - header_len : 0;
    builder_add(&s->out, f->body + sent, f->len - sent);
}

/* Move the mechanism's frames into the output buffer, through the hook and the transcript.
 * WRITE_THROUGH (a caller that writes at once anyway): a large frame with nothing pending
 * before it is sent from the mechanism's buffer instead of being copied first. */
static enum zmtp_status collect_output(struct zmtp_session *s, bool write_through,
                                       struct zmtp_error *err)
{
    struct zmtp_mech_frame f;

    while (zmtp_mech_next_frame(s->mech, &f)) {
        bool keep = true;

        if (s->cfg.hooks != NULL && s->cfg.hooks->frame != NULL)
            keep = s->cfg.hooks->frame(s->cfg.hooks->arg, &f);
        if (keep) {
            if (write_through && f.len >= DIRECT_MIN && s->out_off == s->out.len &&
                !s->peer_closed)
                send_direct(s, &f);
            else
                zmtp_frame_encode(&s->out, f.flags, f.body, f.len);
            transcript_frame(s->cfg.transcript, "out", f.flags, f.body, f.len, f.kind, f.plain,
                             f.plain_len);
            s->frames_out++;
        }
        zmtp_mech_frame_free(&f);
    }
    if (!builder_ok(&s->out))
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for output");
    return ZMTP_OK;
}

/* Ask the authorizer (start, then poll while pending); none admits. */
static enum zmtp_authz authz_decision(struct zmtp_session *s)
{
    const struct zmtp_authorizer *a = s->cfg.authorizer;
    const char *who = zmtp_mech_peer_principal(s->mech);

    if (a == NULL)
        return ZMTP_AUTHZ_ALLOW;
    if (s->authz_pending)
        return a->poll(a->arg);
    s->authz_pending = true;
    return a->start(a->arg, who != NULL ? who : "");
}

enum zmtp_status zmtp_session_authorize(struct zmtp_session *s, bool wait, struct zmtp_error *err)
{
    enum zmtp_authz d;

    if (s->mech == NULL || !zmtp_mech_awaiting_authorization(s->mech))
        return ZMTP_OK;
    d = authz_decision(s);
    while (wait && d == ZMTP_AUTHZ_PENDING) {
        struct timespec pause = {0, AUTHZ_POLL_MS * 1000000L};

        nanosleep(&pause, NULL);
        d = authz_decision(s);
    }
    if (d == ZMTP_AUTHZ_PENDING)
        return ZMTP_OK;
    s->authz_pending = false;
    return zmtp_mech_authorize(s->mech, d == ZMTP_AUTHZ_ALLOW, err);
}

/* Parse what has arrived: the greeting, then whole frames fed to the mechanism (none while an
 * authorization question is open: they wait in the buffer for the answer). */
static enum zmtp_status process_input(struct zmtp_session *s, struct zmtp_error *err)
{
    enum zmtp_status status;

    for (;;) {
        struct zmtp_item item;
        struct zmtp_frame_note note;
        const struct zmtp_frame *f = &item.frame;
        unsigned char *block;
        bool taken;

        if (s->conn.greeting_done && zmtp_mech_awaiting_authorization(s->mech)) {
            status = zmtp_session_authorize(s, false, err);
            if (status != ZMTP_OK)
                return status;
            if (s->authz_pending)
                break;
        }
        status = zmtp_connection_next(&s->conn, &item, err);
        if (status == ZMTP_NEED_MORE)
            break;
        if (item.kind == ZMTP_ITEM_GREETING) {
            transcript_greeting(s->cfg.transcript, "in", item.bytes,
                                item.len < ZMTP_GREETING_SIZE ? item.len : ZMTP_GREETING_SIZE);
            if (status != ZMTP_OK)
                return status;
            /* 38/ZMTP-GSSAPI says roles come from as-server; libzmq sends 0 on both sides and
             * ignores it, so any value is accepted and roles come from our configuration. */
            zmtp_connection_consume(&s->conn, &item);
            status = zmtp_mech_start(s->mech, err);
            if (status != ZMTP_OK)
                return status;
            continue;
        }
        if (status != ZMTP_OK)
            return status;
        /* A large frame that ends where the input ends takes the input buffer with it: a
         * PLAINTEXT part keeps it as its memory instead of a copy (zmtp_mech_receive_block). */
        block = f->size >= TAKE_MIN ? zmtp_connection_take(&s->conn, &item) : NULL;
        taken = block != NULL;
        if (block != NULL)
            status = zmtp_mech_receive_block(s->mech, f->flags, f->body, (size_t)f->size, &block,
                                             &note, err);
        else
            status = zmtp_mech_receive(s->mech, f->flags, f->body, (size_t)f->size, &note, err);
        transcript_frame(s->cfg.transcript, "in", f->flags, f->body, (size_t)f->size, note.kind,
                         note.plain, note.plain_len);
        if (s->cfg.hooks != NULL && s->cfg.hooks->frame_in != NULL)
            s->cfg.hooks->frame_in(s->cfg.hooks->arg, f->flags, f->body, (size_t)f->size, &note,
                                   status == ZMTP_OK ? NULL : err);
        if (taken)
            free(block);
        else
            zmtp_connection_consume(&s->conn, &item);
        if (status != ZMTP_OK)
            return status;
    }
    zmtp_connection_compact(&s->conn);
    return collect_output(s, false, err);
}

/* One recv (non-blocking socket) and the parsing of what came. A FIN or reset marks the peer
 * closed. */
static enum zmtp_status receive(struct zmtp_session *s, struct zmtp_error *err)
{
    /* A large frame whose header came is read in one go, straight into the input buffer. */
    size_t want = zmtp_connection_missing(&s->conn);
    unsigned char *p;
    ssize_t r;

    want = want < READ_CHUNK ? READ_CHUNK : want > READ_MAX ? READ_MAX : want;
    p = zmtp_connection_reserve(&s->conn, want);
    if (p == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for input");
    r = recv(s->fd, p, want, 0);
    zmtp_connection_commit(&s->conn, want, r > 0 ? (size_t)r : 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        s->peer_closed = true;
        s->peer_reset = r < 0 && errno == ECONNRESET;
        if (r < 0)
            return zmtp_fail(err, ZMTP_CLOSED, "connection reset by peer (%s)", strerror(errno));
    }
    if (r <= 0)
        return ZMTP_OK;
    return process_input(s, err);
}

/* One non-blocking send of the pending output; the buffer is emptied (kept allocated) once all
 * of it went. */
static enum zmtp_status write_some(struct zmtp_session *s, struct zmtp_error *err)
{
    ssize_t w = send(s->fd, s->out.data + s->out_off, s->out.len - s->out_off, MSG_NOSIGNAL);

    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return zmtp_fail(err, ZMTP_CLOSED, "send: %s", strerror(errno));
    if (w > 0)
        s->out_off += (size_t)w;
    if (s->out_off == s->out.len) {
        s->out_off = 0;
        builder_reset(&s->out);
    }
    return ZMTP_OK;
}

/* Asked to stop (the runner's SIGTERM once the other side is done): first take what the peer
 * sent before it closed, up to its FIN, so messages that were on their way are still delivered
 * (a PULL server stopped right after its PUSH client exited). Bounded by DRAIN_MS and
 * DRAIN_CHUNKS reads. */
static enum zmtp_status drain(struct zmtp_session *s, struct zmtp_error *err)
{
    int64_t until = zmtp_now_ms() + DRAIN_MS;

    s->stop_drained = true;
    for (int i = 0; i < DRAIN_CHUNKS && !s->peer_closed; i++) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int64_t left = until - zmtp_now_ms();
        enum zmtp_status status;

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return ZMTP_OK;
        status = receive(s, err);
        if (status != ZMTP_OK)
            return status;
    }
    return ZMTP_OK;
}

/* One round of I/O bounded by DEADLINE: write what is pending, read what is there, parse it.
 * Returns ZMTP_OK after any progress. */
static enum zmtp_status io_round(struct zmtp_session *s, int64_t deadline, struct zmtp_error *err)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
    int64_t left = deadline - zmtp_now_ms();
    int n;

    if (s->out_off < s->out.len)
        pfd.events |= POLLOUT;
    if (s->peer_closed && !(pfd.events & POLLOUT))
        return zmtp_fail(err, ZMTP_CLOSED, "connection closed by peer");
    if (s->peer_closed)
        pfd.events &= (short)~POLLIN;
    if (s->cfg.stop != NULL && *s->cfg.stop)
        return s->stop_drained ? zmtp_fail(err, ZMTP_TIMEOUT, "stopped by a signal")
                               : drain(s, err);
    if (left <= 0)
        return zmtp_fail(err, ZMTP_TIMEOUT, "no progress before the deadline");
    if (s->authz_pending) {
        enum zmtp_status status = zmtp_session_authorize(s, false, err);

        if (status == ZMTP_OK && !s->authz_pending)
            status = process_input(s, err); /* the frames that waited for the answer */
        if (status != ZMTP_OK || !s->authz_pending)
            return status;
        if (left > AUTHZ_POLL_MS)
            left = AUTHZ_POLL_MS;
    }
    /* Short slices so a stop flag set just before poll is seen promptly. */
    n = poll(&pfd, 1, left > STOP_CHECK_MS ? STOP_CHECK_MS : (int)left);
    if (n < 0) {
        if (errno == EINTR)
            return ZMTP_OK;
        return zmtp_fail(err, ZMTP_SYSTEM, "poll: %s", strerror(errno));
    }
    if (n == 0)
        return ZMTP_OK;
    if (pfd.revents & POLLOUT) {
        enum zmtp_status status = write_some(s, err);

        if (status != ZMTP_OK)
            return status;
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        return receive(s, err);
    return ZMTP_OK;
}

/* Fail with a close reason that says where the peer closed. */
static enum zmtp_status closed(struct zmtp_session *s, enum zmtp_status status,
                               struct zmtp_error *err, const char *phase)
{
    if (status == ZMTP_CLOSED && !s->conn.greeting_done) {
        size_t got = zmtp_connection_pending(&s->conn);

        /* libzmq set up with another mechanism (NULL, PLAIN, CURVE) reads our greeting and
         * closes without an ERROR, before its own mechanism field has been sent. */
        return zmtp_fail(err, ZMTP_CLOSED,
                         "peer closed the connection %s after %zu of its 64 greeting octets%s",
                         phase, got,
                         got < 32 ? ", before its mechanism field: it refused our greeting (a "
                                    "libzmq peer with another security mechanism closes this way)"
                                  : "");
    }
    if (status == ZMTP_CLOSED)
        return zmtp_fail(err, ZMTP_CLOSED, "peer closed the connection %s (%lu frames received)",
                         phase, s->conn.frames_in);
    if (status == ZMTP_TIMEOUT && s->fd >= 0)
        return zmtp_fail(err, ZMTP_TIMEOUT, "%s: no complete %s before the deadline", phase,
                         s->conn.greeting_done ? "exchange" : "greeting");
    return status;
}

enum zmtp_status zmtp_session_handshake(struct zmtp_session *s, int64_t deadline,
                                        struct zmtp_error *err)
{
    enum zmtp_status status;

    for (;;) {
        if (zmtp_mech_ready(s->mech) && s->out_off == s->out.len)
            return ZMTP_OK;
        status = io_round(s, deadline, err);
        if (status != ZMTP_OK)
            return closed(s, status, err, "during the handshake");
    }
}

enum zmtp_status zmtp_session_next_event(struct zmtp_session *s, struct zmtp_event *ev,
                                         int64_t deadline, struct zmtp_error *err)
{
    enum zmtp_status status;

    for (;;) {
        if (zmtp_mech_next_event(s->mech, ev))
            return ZMTP_OK;
        status = io_round(s, deadline, err);
        if (status != ZMTP_OK)
            return closed(s, status, err, "while waiting for a message");
    }
}

/* Write pending output until at most KEEP bytes are left, before DEADLINE (reading meanwhile).
 * The socket is tried at once; poll only when it takes no more. */
static enum zmtp_status write_down_to(struct zmtp_session *s, size_t keep, int64_t deadline,
                                      struct zmtp_error *err)
{
    enum zmtp_status status = collect_output(s, true, err);

    if (status == ZMTP_OK && s->out.len - s->out_off > keep && !s->peer_closed)
        status = write_some(s, err);
    while (status == ZMTP_OK && s->out.len - s->out_off > keep)
        status = io_round(s, deadline, err);
    return closed(s, status, err, "while sending");
}

enum zmtp_status zmtp_session_flush(struct zmtp_session *s, int64_t deadline,
                                    struct zmtp_error *err)
{
    return write_down_to(s, 0, deadline, err);
}

enum zmtp_status zmtp_session_send(struct zmtp_session *s, const struct zmtp_part *parts,
                                   size_t count, int64_t deadline, struct zmtp_error *err)
{
    return zmtp_session_send_batched(s, parts, count, 0, deadline, err);
}

enum zmtp_status zmtp_session_send_batched(struct zmtp_session *s, const struct zmtp_part *parts,
                                           size_t count, size_t batch, int64_t deadline,
                                           struct zmtp_error *err)
{
    enum zmtp_status status = zmtp_mech_send(s->mech, parts, count, err);

    if (status != ZMTP_OK)
        return status;
    if (batch > 0) {
        status = collect_output(s, true, err);
        if (status != ZMTP_OK || s->out.len - s->out_off < batch)
            return status;
        return write_down_to(s, batch - 1, deadline, err);
    }
    return write_down_to(s, 0, deadline, err);
}

enum zmtp_status zmtp_session_subscribe(struct zmtp_session *s, enum zmtp_subscription_kind kind,
                                        const void *topic, size_t len, int64_t deadline,
                                        struct zmtp_error *err)
{
    enum zmtp_status status = zmtp_mech_subscribe(s->mech, kind, topic, len, err);

    if (status != ZMTP_OK)
        return status;
    return zmtp_session_flush(s, deadline, err);
}

enum zmtp_status zmtp_session_wait_close(struct zmtp_session *s, int64_t deadline,
                                         struct zmtp_error *err)
{
    enum zmtp_status status;

    for (;;) {
        status = io_round(s, deadline, err);
        if (status == ZMTP_CLOSED)
            return ZMTP_OK;
        if (status != ZMTP_OK)
            return status;
    }
}

/* ---- stepping ---- */

short zmtp_session_poll_events(const struct zmtp_session *s, size_t out_limit)
{
    short events = 0;
    size_t pending = s->out.len - s->out_off;

    if (pending > 0)
        events |= POLLOUT;
    if (!s->peer_closed && (out_limit == 0 || pending <= out_limit))
        events |= POLLIN;
    return events;
}

enum zmtp_status zmtp_session_step(struct zmtp_session *s, short revents, struct zmtp_error *err)
{
    enum zmtp_status status;

    if (s->authz_pending) {
        status = zmtp_session_authorize(s, false, err);
        if (status == ZMTP_OK && !s->authz_pending)
            status = process_input(s, err); /* the frames that waited for the answer */
        if (status != ZMTP_OK)
            return status;
    }
    if ((revents & POLLOUT) && s->out_off < s->out.len) {
        status = write_some(s, err);
        if (status != ZMTP_OK)
            return status;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !s->peer_closed) {
        status = receive(s, err);
        if (status != ZMTP_OK)
            return status;
    }
    if (s->peer_closed && s->out_off == s->out.len)
        return s->peer_reset ? zmtp_fail(err, ZMTP_CLOSED, "connection reset by peer")
                             : zmtp_fail(err, ZMTP_CLOSED, "connection closed by peer");
    return ZMTP_OK;
}

enum zmtp_status zmtp_session_queue_output(struct zmtp_session *s, struct zmtp_error *err)
{
    return collect_output(s, false, err);
}

enum zmtp_status zmtp_session_queue_and_write(struct zmtp_session *s, struct zmtp_error *err)
{
    enum zmtp_status status = collect_output(s, true, err);

    if (status == ZMTP_OK && s->out_off < s->out.len && !s->peer_closed)
        status = write_some(s, err);
    return status;
}

enum zmtp_status zmtp_session_reason(struct zmtp_session *s, enum zmtp_status status,
                                     struct zmtp_error *err, const char *phase)
{
    return closed(s, status, err, phase);
}

size_t zmtp_session_partial(const struct zmtp_session *s)
{
    return zmtp_connection_pending(&s->conn);
}
