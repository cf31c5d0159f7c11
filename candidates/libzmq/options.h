/*
 * The command line of the libzmq candidate shim: the options every ZMTP endpoint of gssconform
 * accepts (docs/candidates-bundled.md, the shim contract), parsed into one struct.
 *
 * Ownership: every string in struct shim_options points into argv (nothing is allocated except
 * the allow list and the decoded payload, released by shim_options_free).
 */
#ifndef SHIM_OPTIONS_H
#define SHIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of the contract. */
enum shim_exit {
    SHIM_EXIT_OK = 0,
    SHIM_EXIT_FAIL = 1,    /* protocol / exchange failure or timeout */
    SHIM_EXIT_INVALID = 2, /* an option value is malformed */
    SHIM_EXIT_USAGE = 64,  /* unknown option, missing argument, or something we cannot honour */
};

enum shim_role { SHIM_SERVER, SHIM_CLIENT };

struct shim_options {
    enum shim_role role;
    const char *endpoint;          /* --bind or --connect */
    int socket_type;               /* ZMQ_ROUTER, ZMQ_DEALER, ... */
    const char *socket_type_name;  /* as given (upper case) */
    const char *service_principal; /* NULL: not set */
    int service_nametype;          /* ZMQ_GSSAPI_NT_* */
    const char *principal;         /* NULL: not set */
    int nametype;                  /* ZMQ_GSSAPI_NT_* */
    bool plaintext;
    const char **allow; /* --allow values (allocated array of argv pointers) */
    size_t allow_count;
    unsigned long count;
    size_t size;
    size_t parts;
    unsigned char *payload; /* --payload-hex decoded (allocated), NULL when not given */
    size_t payload_len;
    const char *subscribe; /* SUB topic ("" = everything) */
    long timeout_ms;
    int handshake_timeout_ms; /* ZMQ_HANDSHAKE_IVL; -1: libzmq's default (30 s) */
    long long max_frame_size; /* ZMQ_MAXMSGSIZE, which libzmq applies to each received frame
                               * body (a wrapped MESSAGE under GSSAPI); -1: no limit */
    long interval_ms;         /* client: pause between messages (0: none) */
};

/*
 * Parse ARGV (argv[0] is the subcommand "zmtp-server" or "zmtp-client") into *OPTS.
 * Returns SHIM_EXIT_OK, or SHIM_EXIT_USAGE / SHIM_EXIT_INVALID after printing a one-line reason
 * on stderr. On failure nothing stays allocated. On success the caller calls shim_options_free.
 */
enum shim_exit shim_options_parse(int argc, char **argv, struct shim_options *opts);

/* Release what shim_options_parse allocated (safe on a zeroed struct). */
void shim_options_free(struct shim_options *opts);

#endif
