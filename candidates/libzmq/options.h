/*
 * The command line of the libzmq candidate shim parsed into one struct with libzmq's values
 * (ZMQ_* socket and name types). The option table and the exit statuses are the shared ones of
 * the shim contract (tools/contract.h); only the mapping to libzmq lives here.
 *
 * Ownership: every string in struct shim_options points into argv (nothing is allocated except
 * the allow list and the decoded payload, released by shim_options_free).
 */
#ifndef SHIM_OPTIONS_H
#define SHIM_OPTIONS_H

#include "tools/contract.h"

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of the contract (tools/contract.h). */
enum shim_exit {
    SHIM_EXIT_OK = CONTRACT_EXIT_OK,
    SHIM_EXIT_FAIL = CONTRACT_EXIT_FAIL,
    SHIM_EXIT_INVALID = CONTRACT_EXIT_INVALID,
    SHIM_EXIT_USAGE = CONTRACT_EXIT_USAGE,
    SHIM_EXIT_UNAVAILABLE = CONTRACT_EXIT_UNAVAILABLE,
};

/* The contract options libzmq cannot honour (NULL-terminated): they exit
 * SHIM_EXIT_UNAVAILABLE. */
extern const char *const shim_unavailable[];

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
 * Returns SHIM_EXIT_OK, or SHIM_EXIT_USAGE / SHIM_EXIT_INVALID / SHIM_EXIT_UNAVAILABLE after
 * printing a one-line reason on stderr. On failure nothing stays allocated. On success the caller
 * calls shim_options_free.
 */
enum shim_exit shim_options_parse(int argc, char **argv, struct shim_options *opts);

/* Release what shim_options_parse allocated (safe on a zeroed struct). */
void shim_options_free(struct shim_options *opts);

#endif
