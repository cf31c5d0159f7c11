/*
 * The shim's ZAP handler (27/ZAP): a thread with a REP socket bound to inproc://zeromq.zap.01
 * that admits only the principals given with --allow (status 200) and denies every other
 * (status 400), printing an `authorized` event for each request.
 *
 * libzmq asks the handler of the socket's context after the client's empty command frame and
 * before READY; the one credential frame is gss_display_name of the client ("alice@REALM").
 *
 * Ownership: the handler keeps ALLOW (the caller keeps it alive until zap_handler_stop) and owns
 * its socket and thread.
 */
#ifndef SHIM_ZAP_H
#define SHIM_ZAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum zap_status {
    ZAP_OK = 0,
    ZAP_FAIL_ZMQ,    /* socket or bind failed (errno-style reason on stderr) */
    ZAP_FAIL_THREAD, /* pthread_create failed */
};

struct zap_handler {
    void *socket;
    pthread_t thread;
    bool started;
    atomic_bool stop; /* set by zap_handler_stop; polled by the thread */
    const char **allow;
    size_t allow_count;
};

/* Bind the handler in CTX (before any server socket of CTX binds) and start its thread. On
 * failure nothing is left open and the reason is on stderr. */
enum zap_status zap_handler_start(struct zap_handler *h, void *ctx, const char **allow,
                                  size_t allow_count);

/* Stop the thread (within about 100 ms), wait for it and close the socket. Safe to call on a
 * handler whose start failed or that was zeroed. */
void zap_handler_stop(struct zap_handler *h);

#endif
