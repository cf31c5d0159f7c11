/* TLS with OpenSSL over a non-blocking descriptor: see tls.h. */
#include "tools/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tls_ctx {
    SSL_CTX *ssl;
};

struct tls_conn {
    SSL *ssl;
    int fd;
    char error[256];
};

int64_t tls_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The OpenSSL error queue's first entry (or WHAT alone) into BUF; the queue is cleared. */
static void ssl_reason(char *buf, size_t len, const char *what)
{
    unsigned long code = ERR_get_error();
    char text[200];

    if (code != 0) {
        ERR_error_string_n(code, text, sizeof(text));
        snprintf(buf, len, "%s: %s", what, text);
    } else {
        snprintf(buf, len, "%s", what);
    }
    ERR_clear_error();
}

static struct tls_ctx *ctx_new(bool server, char *err, size_t errlen)
{
    struct tls_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ctx->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx->ssl == NULL) {
        ssl_reason(err, errlen, "SSL_CTX_new");
        free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
    /* Writes may be retried with a moved buffer after WANT_WRITE. */
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

struct tls_ctx *tls_server_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
    struct tls_ctx *ctx = ctx_new(true, err, errlen);
    char what[600];

    if (ctx == NULL)
        return NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert) != 1) {
        snprintf(what, sizeof(what), "TLS certificate %s", cert);
        goto cleanup;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof(what), "TLS key %s", key);
        goto cleanup;
    }
    if (SSL_CTX_check_private_key(ctx->ssl) != 1) {
        snprintf(what, sizeof(what), "TLS key %s does not match certificate %s", key, cert);
        goto cleanup;
    }
    return ctx;
cleanup:
    ssl_reason(err, errlen, what);
    tls_ctx_free(ctx);
    return NULL;
}

struct tls_ctx *tls_client_ctx_new(const char *ca, char *err, size_t errlen)
{
    struct tls_ctx *ctx = ctx_new(false, err, errlen);
    char what[600];

    if (ctx == NULL)
        return NULL;
    if (ca != NULL) {
        if (SSL_CTX_load_verify_locations(ctx->ssl, ca, NULL) != 1) {
            snprintf(what, sizeof(what), "TLS CA %s", ca);
            ssl_reason(err, errlen, what);
            tls_ctx_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

struct tls_conn *tls_conn_new(struct tls_ctx *ctx, int fd, bool server, const char *host)
{
    struct tls_conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL)
        return NULL;
    conn->fd = fd;
    conn->ssl = SSL_new(ctx->ssl);
    if (conn->ssl == NULL || SSL_set_fd(conn->ssl, fd) != 1) {
        tls_conn_free(conn);
        return NULL;
    }
    if (server) {
        SSL_set_accept_state(conn->ssl);
    } else {
        SSL_set_connect_state(conn->ssl);
        if (host != NULL && (SSL_set_tlsext_host_name(conn->ssl, host) != 1 ||
                             SSL_set1_host(conn->ssl, host) != 1)) {
            tls_conn_free(conn);
            return NULL;
        }
    }
    return conn;
}

void tls_conn_free(struct tls_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->ssl != NULL) {
        if (SSL_is_init_finished(conn->ssl))
            SSL_shutdown(conn->ssl); /* one attempt; a non-blocking socket never waits */
        SSL_free(conn->ssl);
    }
    ERR_clear_error();
    free(conn);
}

/* Wait for the descriptor as OpenSSL asked (SSL_get_error's CODE) until the deadline.
 * Returns TLS_IO_OK to retry, TLS_IO_TIMEOUT, or TLS_IO_ERROR/CLOSED with the reason set. */
static enum tls_io wait_for(struct tls_conn *conn, int ret, const char *what, int64_t deadline)
{
    int code = SSL_get_error(conn->ssl, ret);
    struct pollfd pfd = {.fd = conn->fd};
    int64_t left;
    int rc;

    switch (code) {
    case SSL_ERROR_WANT_READ:
        pfd.events = POLLIN;
        break;
    case SSL_ERROR_WANT_WRITE:
        pfd.events = POLLOUT;
        break;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(conn->error, sizeof(conn->error), "%s: the peer closed TLS", what);
        return TLS_IO_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            if (ret == 0 || errno == 0) {
                snprintf(conn->error, sizeof(conn->error), "%s: the peer closed the connection",
                         what);
                return TLS_IO_CLOSED;
            }
            snprintf(conn->error, sizeof(conn->error), "%s: %s", what, strerror(errno));
            return TLS_IO_ERROR;
        }
        ssl_reason(conn->error, sizeof(conn->error), what);
        return TLS_IO_ERROR;
    default:
        ssl_reason(conn->error, sizeof(conn->error), what);
        return TLS_IO_ERROR;
    }
    for (;;) {
        left = deadline - tls_now_ms();
        if (left <= 0)
            return TLS_IO_TIMEOUT;
        rc = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (rc > 0)
            return TLS_IO_OK;
        if (rc < 0 && errno != EINTR) {
            snprintf(conn->error, sizeof(conn->error), "%s: poll: %s", what, strerror(errno));
            return TLS_IO_ERROR;
        }
        /* rc == 0 or EINTR: wait again until the deadline */
    }
}

enum tls_io tls_handshake(struct tls_conn *conn, int64_t deadline_ms)
{
    for (;;) {
        int ret;
        enum tls_io io;

        ERR_clear_error();
        errno = 0;
        ret = SSL_do_handshake(conn->ssl);
        if (ret == 1)
            return TLS_IO_OK;
        io = wait_for(conn, ret, "TLS handshake", deadline_ms);
        if (io != TLS_IO_OK)
            return io == TLS_IO_CLOSED ? TLS_IO_ERROR : io;
    }
}

enum tls_io tls_read(struct tls_conn *conn, void *buf, size_t len, size_t *n, int64_t deadline_ms)
{
    *n = 0;
    for (;;) {
        int ret;
        enum tls_io io;

        ERR_clear_error();
        errno = 0;
        ret = SSL_read_ex(conn->ssl, buf, len, n);
        if (ret == 1)
            return TLS_IO_OK;
        io = wait_for(conn, ret, "TLS read", deadline_ms);
        if (io != TLS_IO_OK)
            return io;
    }
}

enum tls_io tls_write_all(struct tls_conn *conn, const void *buf, size_t len, int64_t deadline_ms)
{
    const unsigned char *p = buf;

    while (len > 0) {
        size_t n = 0;
        int ret;
        enum tls_io io;

        ERR_clear_error();
        errno = 0;
        ret = SSL_write_ex(conn->ssl, p, len, &n);
        if (ret == 1) {
            p += n;
            len -= n;
            continue;
        }
        io = wait_for(conn, ret, "TLS write", deadline_ms);
        if (io != TLS_IO_OK)
            return io;
    }
    return TLS_IO_OK;
}

const char *tls_conn_version(const struct tls_conn *conn)
{
    return SSL_get_version(conn->ssl);
}

const char *tls_conn_error(const struct tls_conn *conn)
{
    return conn->error;
}

bool tls_mode_from_name(const char *name, enum tls_mode *mode)
{
    static const char *const names[] = {[TLS_REQUIRED] = "required",
                                        [TLS_OPTIONAL] = "optional",
                                        [TLS_OFF] = "off"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *mode = (enum tls_mode)i;
            return true;
        }
    }
    return false;
}
