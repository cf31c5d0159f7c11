/*
 * The ZMTP shim contract (docs/candidates.md) in one place, for every C program that speaks
 * it (gsspeer's zmtp-server / zmtp-client, candidates/libzmq): the option table, the exit
 * statuses, and the JSON event lines on stdout. candidates/pyzmq/shim.py keeps its own Python
 * copy; tests/zmtp/contract-t.py checks that the three programs print the same table.
 *
 * Ownership: nothing is allocated; the table is static, event functions only read their
 * arguments. Event lines are written whole under flockfile(stdout), so two threads (libzmq's
 * ZAP handler and the main thread) never mix their lines.
 */
#ifndef TOOLS_CONTRACT_H
#define TOOLS_CONTRACT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses of the contract. */
enum contract_exit {
    CONTRACT_EXIT_OK = 0,
    CONTRACT_EXIT_FAIL = 1,         /* protocol / exchange failure, timeout */
    CONTRACT_EXIT_INVALID = 2,      /* an option value is malformed, a file cannot be read */
    CONTRACT_EXIT_USAGE = 64,       /* unknown option, missing argument, wrong combination */
    CONTRACT_EXIT_UNAVAILABLE = 69, /* a contract option this implementation cannot honour
                                       (EX_UNAVAILABLE): the runner says UNIMPLEMENTED */
};

/* The contract's options, as getopt_long values (above any short option character). */
enum contract_opt {
    CONTRACT_OPT_BIND = 256,
    CONTRACT_OPT_CONNECT,
    CONTRACT_OPT_SOCKET_TYPE,
    CONTRACT_OPT_SERVICE_PRINCIPAL,
    CONTRACT_OPT_SERVICE_NAMETYPE,
    CONTRACT_OPT_PRINCIPAL,
    CONTRACT_OPT_NAMETYPE,
    CONTRACT_OPT_PLAINTEXT,
    CONTRACT_OPT_ALLOW,
    CONTRACT_OPT_COUNT,
    CONTRACT_OPT_SIZE,
    CONTRACT_OPT_PARTS,
    CONTRACT_OPT_PAYLOAD_HEX,
    CONTRACT_OPT_SUBSCRIBE,
    CONTRACT_OPT_TIMEOUT_MS,
    CONTRACT_OPT_HANDSHAKE_TIMEOUT_MS,
    CONTRACT_OPT_INTERVAL_MS,
    CONTRACT_OPT_MAX_FRAME_SIZE,
    CONTRACT_OPT_TRANSCRIPT,
    CONTRACT_OPT_END, /* an implementation's own options take values from here on */
};

enum { CONTRACT_OPT_COUNT_ALL = CONTRACT_OPT_END - CONTRACT_OPT_BIND };

struct contract_option {
    enum contract_opt id;
    const char *name;  /* without the leading "--" */
    bool takes_value;  /* --name VALUE, else a flag */
    const char *roles; /* "server", "client" or "both" */
};

/* The table, in the order of enum contract_opt. */
extern const struct contract_option contract_options[CONTRACT_OPT_COUNT_ALL];

/* The entry of ID, or NULL when ID is not a contract option. */
const struct contract_option *contract_option_of(int id);

/*
 * Fill OUT (room for CAP entries) with a getopt_long table: every contract option (its val is
 * its enum contract_opt), then the implementation's own EXTRA options (NULL, or terminated by
 * an entry with a NULL name; their val must be >= CONTRACT_OPT_END), then the terminator.
 * False when CAP is too small.
 */
bool contract_longopts(const struct option *extra, struct option *out, size_t cap);

/* Print "PROG: --NAME: WHY" on stderr for a contract option PROG recognises but cannot honour
 * and return CONTRACT_EXIT_UNAVAILABLE. */
int contract_unavailable(const char *prog, const char *name, const char *why);

/*
 * `PROG contract --json`: print the table as one JSON object on stdout,
 *   {"contract":"zmtp","exit":{"ok":0,...,"unavailable":69},
 *    "options":[{"name":"bind","value":true,"roles":"server"},...],"unavailable":[...]}
 * UNAVAILABLE (NULL-terminated, may be NULL) names the options PROG cannot honour. ARGV[0] is
 * "contract". Returns the exit status.
 */
int contract_command(int argc, char **argv, const char *const *unavailable);

/* ---- events: one JSON object per line on stdout, flushed at once ----
 *
 * "At once" means before the program waits for anything: a driver that handles several
 * received messages in one round may hold their `delivered` lines (contract_events_batch) and
 * write them with one contract_events_flush before it blocks again. Every other event flushes
 * itself (and what was held before it, in order). */

/* Load the digest the `delivered` events use (sha256), so that the first event does not pay
 * for OpenSSL's provider set-up; called once early. Safe to skip (the first event loads it).
 * Returns false when sha256 is unavailable (events then carry an empty digest). */
bool contract_events_prepare(void);

/* Hold `delivered` lines in a large stdout buffer until contract_events_flush or any other
 * event (ON), or flush each at once (the default). Call before the first output. */
void contract_events_batch(bool on);

/* Write every held event line now (before blocking in poll). */
void contract_events_flush(void);

/* One part of a delivered message (borrowed). */
struct contract_part {
    const unsigned char *data; /* may be NULL when len is 0 */
    size_t len;
};

/* Begin an event line {"event":NAME (stdout locked until contract_event_end); an
 * implementation's own events add their members between the two. */
void contract_event_begin(const char *name);
void contract_event_end(void);

/* {"event":"listening","endpoint":ENDPOINT} */
void contract_event_listening(const char *endpoint);
/* {"event":"delivered","parts":[{"len":N,"sha256":HEX,"head":HEX of <= 32 bytes},...]} */
void contract_event_delivered(const struct contract_part *parts, size_t n);
/* {"event":"sent","count":COUNT} */
void contract_event_sent(unsigned long count);
/* {"event":"authorized","principal":PRINCIPAL,"allowed":ALLOWED} */
void contract_event_authorized(const char *principal, bool allowed);
/* {"event":"done","sent":S,"received":R,"verified":V} */
void contract_event_done(unsigned long sent, unsigned long received, unsigned long verified);
/* "PROG: REASON" on stderr, then {"event":"error","reason":REASON}. */
void contract_event_error(const char *prog, const char *reason);

#endif
