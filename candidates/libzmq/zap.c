/*
 * ZAP handler thread of the libzmq candidate shim.
 */
#include "zap.h"

#include "tools/contract.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

/* 27/ZAP request: version, request id, domain, address, identity, mechanism, credentials. */
enum { ZAP_MAX_FRAMES = 16, ZAP_FRAME_MAX = 1024 };

struct zap_frame {
    char data[ZAP_FRAME_MAX + 1]; /* NUL-terminated copy (truncated past ZAP_FRAME_MAX) */
    size_t len;
};

static bool allowed(const struct zap_handler *h, const char *principal)
{
    for (size_t i = 0; i < h->allow_count; i++)
        if (strcmp(h->allow[i], principal) == 0)
            return true;
    return false;
}

/* Receive the rest of a multipart request into FRAMES; returns the number of frames or -1. */
static int receive_request(void *socket, struct zap_frame *frames)
{
    int n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, socket, 0) < 0) {
            zmq_msg_close(&msg);
            return -1;
        }
        if (n < ZAP_MAX_FRAMES) {
            size_t len = zmq_msg_size(&msg);
            frames[n].len = len;
            if (len > ZAP_FRAME_MAX)
                len = ZAP_FRAME_MAX;
            memcpy(frames[n].data, zmq_msg_data(&msg), len);
            frames[n].data[len] = '\0';
            n++;
        }
        more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
    }
    return n;
}

static void reply(void *socket, const char *request_id, const char *code, const char *text,
                  const char *user_id)
{
    const char *frames[] = {"1.0", request_id, code, text, user_id, ""};
    size_t n = sizeof(frames) / sizeof(frames[0]);
    for (size_t i = 0; i < n; i++)
        if (zmq_send(socket, frames[i], strlen(frames[i]), i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            fprintf(stderr, "libzmq-shim: ZAP reply: %s\n", zmq_strerror(errno));
}

static void answer(struct zap_handler *h)
{
    static struct zap_frame frames[ZAP_MAX_FRAMES];
    int n = receive_request(h->socket, frames);
    if (n < 0)
        return;
    const char *request_id = n > 1 ? frames[1].data : "";
    if (n < 7 || strcmp(frames[0].data, "1.0") != 0 || strcmp(frames[5].data, "GSSAPI") != 0) {
        fprintf(stderr, "libzmq-shim: ZAP: unexpected request (%d frames, mechanism '%s')\n", n,
                n > 5 ? frames[5].data : "");
        reply(h->socket, request_id, "400", "not a GSSAPI request", "");
        return;
    }
    const char *principal = frames[6].data;
    bool admit = allowed(h, principal);
    contract_event_authorized(principal, admit);
    if (admit)
        reply(h->socket, request_id, "200", "OK", principal);
    else
        reply(h->socket, request_id, "400", "principal not in --allow", "");
}

static void *run(void *arg)
{
    struct zap_handler *h = arg;
    while (!atomic_load(&h->stop)) {
        zmq_pollitem_t item = {h->socket, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, 100);
        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "libzmq-shim: ZAP poll: %s\n", zmq_strerror(errno));
            break;
        }
        if (rc > 0)
            answer(h);
    }
    return NULL;
}

enum zap_status zap_handler_start(struct zap_handler *h, void *ctx, const char **allow,
                                  size_t allow_count)
{
    sigset_t all, old;
    memset(h, 0, sizeof(*h));
    atomic_init(&h->stop, false);
    h->allow = allow;
    h->allow_count = allow_count;
    h->socket = zmq_socket(ctx, ZMQ_REP);
    if (h->socket == NULL || zmq_bind(h->socket, "inproc://zeromq.zap.01") != 0) {
        fprintf(stderr, "libzmq-shim: ZAP handler: %s\n", zmq_strerror(errno));
        zap_handler_stop(h);
        return ZAP_FAIL_ZMQ;
    }
    /* Signals (SIGTERM) go to the main thread, which owns the shutdown. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, run, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "libzmq-shim: ZAP handler thread: %s\n", strerror(rc));
        zap_handler_stop(h);
        return ZAP_FAIL_THREAD;
    }
    h->started = true;
    return ZAP_OK;
}

void zap_handler_stop(struct zap_handler *h)
{
    if (h->started) {
        atomic_store(&h->stop, true);
        pthread_join(h->thread, NULL);
        h->started = false;
    }
    if (h->socket != NULL) {
        int linger = 0;
        zmq_setsockopt(h->socket, ZMQ_LINGER, &linger, sizeof(linger));
        zmq_close(h->socket);
        h->socket = NULL;
    }
}
