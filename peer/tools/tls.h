/*
 * TLS on a connected socket with OpenSSL, for the XMPP roles' STARTTLS (RFC 6120 §5): a
 * server context from a PEM certificate and key, a client context that verifies the server
 * against a PEM CA, and a connection over a non-blocking descriptor whose reads, writes and
 * handshake the caller drives with deadlines.
 *
 * Ownership: a context and a connection are owned by the caller (tls_ctx_free,
 * tls_conn_free). A connection borrows its context (which must outlive it) and its
 * descriptor (never closed here). Error texts are owned by the connection or written into the
 * caller's buffer.
 */
#ifndef TOOLS_TLS_H
#define TOOLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_ctx;
struct tls_conn;

/* The --tls setting of the XMPP roles: STARTTLS required, used when offered, or never. */
enum tls_mode { TLS_REQUIRED, TLS_OPTIONAL, TLS_OFF };

/* NAME ("required", "optional" or "off") as *MODE; false, *MODE untouched, for any other
 * text. Reads NAME only. */
bool tls_mode_from_name(const char *name, enum tls_mode *mode);

/* A server context with the certificate chain in CERT and the private key in KEY (PEM files),
 * TLS 1.2 or later. NULL with a one-line reason in ERR (size ERRLEN) on failure. */
struct tls_ctx *tls_server_ctx_new(const char *cert, const char *key, char *err, size_t errlen);
/* A client context that verifies the server's certificate against the PEM CA file CA (NULL:
 * no verification, for tests of other things). NULL with a reason in ERR on failure. */
struct tls_ctx *tls_client_ctx_new(const char *ca, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

/* A connection over the connected, non-blocking descriptor FD; HOST (client only, may be NULL)
 * is sent as SNI and checked against the certificate. NULL on out of memory. */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, int fd, bool server, const char *host);
/* Send a close_notify (best effort, without waiting) and free the connection. */
void tls_conn_free(struct tls_conn *conn);

enum tls_io {
    TLS_IO_OK,      /* done (*N bytes moved, N > 0 for reads and writes) */
    TLS_IO_TIMEOUT, /* the deadline passed first */
    TLS_IO_CLOSED,  /* the peer closed (close_notify or EOF) */
    TLS_IO_ERROR,   /* a TLS or socket error: tls_conn_error() says which */
};

/* Run the handshake until complete or the CLOCK_MONOTONIC deadline DEADLINE_MS passes. */
enum tls_io tls_handshake(struct tls_conn *conn, int64_t deadline_ms);
/* Read at most LEN bytes (at least one) before the deadline; *N the count. */
enum tls_io tls_read(struct tls_conn *conn, void *buf, size_t len, size_t *n, int64_t deadline_ms);
/* Write all LEN bytes before the deadline. */
enum tls_io tls_write_all(struct tls_conn *conn, const void *buf, size_t len, int64_t deadline_ms);

/* "TLSv1.3" once the handshake is done. */
const char *tls_conn_version(const struct tls_conn *conn);
/* The one-line reason of the last TLS_IO_ERROR ("" when none). */
const char *tls_conn_error(const struct tls_conn *conn);

/* Milliseconds of CLOCK_MONOTONIC (the clock of every deadline here). */
int64_t tls_now_ms(void);

#endif
