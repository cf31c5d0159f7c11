/*
 * The fault catalogue of gsspeer's ZMTP roles: `--fault NAME[:ARG]` makes the reference peer
 * break (or stretch) one rule of the protocol on purpose, and then watch what the peer under
 * test does (docs/peer.md, "Fault injection").
 *
 * Every fault is a small piece of code at the engine's seams (tools/session.h struct zmtp_hooks:
 * our greeting bytes, every outgoing frame, every received frame; zmtp_mech_queue_wrapped for
 * plaintexts the mechanism would never produce); the engine itself runs unchanged.
 *
 * Observations are JSON lines on stdout: "fault" when one is applied, "received" for what came
 * back afterwards (echo, pong, frame), then "peer-closed" (after_ms, how fin|reset, phase) or
 * "peer-open" (waited_ms, phase) once the peer closed or --observe-ms passed.
 *
 * Ownership: a struct fault_plan owns everything it holds (faults_release); it borrows the
 * session it drives and the strings of ARGV it was parsed from.
 */
#ifndef TOOLS_FAULTS_H
#define TOOLS_FAULTS_H

#include "tools/session.h"
#include "util/builder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fault_id {
    FAULT_GREETING_MECHANISM,
    FAULT_GREETING_ZMTP2,
    FAULT_GREETING_ZMTP1,
    FAULT_GREETING_MINOR,
    FAULT_GREETING_MAJOR,
    FAULT_GREETING_AS_SERVER,
    FAULT_GREETING_PADDING,
    FAULT_GREETING_STAGED,
    FAULT_HELLO_COMMAND,
    FAULT_WELCOME_COMMAND,
    FAULT_ERROR_COMMAND,
    FAULT_UNKNOWN_COMMAND,
    FAULT_INITIATE_GARBAGE,
    FAULT_INITIATE_EMPTY,
    FAULT_INITIATE_TRUNCATED_LENGTH,
    FAULT_INITIATE_TRAILING,
    FAULT_INITIATE_SHORT,
    FAULT_INITIATE_LONG_FRAME,
    FAULT_SKIP_EMPTY_FRAME,
    FAULT_EARLY_READY,
    FAULT_EARLY_MESSAGE,
    FAULT_STALL,
    FAULT_OVERSIZE,
    FAULT_EMPTY_FRAME_GARBAGE,
    FAULT_READY_NAME_CASE,
    FAULT_READY_SOCKET_TYPE,
    FAULT_TAMPER_TOKEN,
    FAULT_TAMPER_LENGTH,
    FAULT_TAMPER_NAME,
    FAULT_REPLAY_TOKEN,
    FAULT_REORDER_TOKENS,
    FAULT_REFLECT_TOKEN,
    FAULT_INTEGRITY_ONLY,
    FAULT_ZERO_LENGTH_WRAP,
    FAULT_UNWRAPPED_AFTER_READY,
    FAULT_TRAILING_BYTES,
    FAULT_UNKNOWN_FLAGS,
    FAULT_MESSAGE_IN_COMMAND_FRAME,
    FAULT_FRAME_RESERVED_FLAGS,
    FAULT_PING,
    FAULT_READY_PLAIN,
    FAULT_WRAP_RRC,
    FAULT_WRAP_RRC_IN_COPY,
};

enum fault_phase {
    FAULT_PHASE_GREETING,
    FAULT_PHASE_HANDSHAKE,
    FAULT_PHASE_DATA,
};

enum fault_arg_kind {
    FAULT_ARG_NONE,     /* no ARG allowed */
    FAULT_ARG_NUMBER,   /* decimal in min..max */
    FAULT_ARG_NAME,     /* 1..20 printable characters (a mechanism name) */
    FAULT_ARG_HEX_BYTE, /* two hex digits */
    FAULT_ARG_TEXT,     /* optional text, at most 255 bytes */
};

enum {
    FAULT_ROLE_CLIENT = 1,
    FAULT_ROLE_SERVER = 2,
    FAULT_ROLE_BOTH = 3,
    FAULTS_MAX = 8,
    FAULT_OBSERVE_DEFAULT_MS = 2000,
    FAULT_PROMPT_CLOSE_MS = 1000, /* "closed promptly" (docs/peer.md) */
};

/* One catalogue entry (static data). */
struct fault_spec {
    enum fault_id id;
    const char *name;
    enum fault_arg_kind arg;
    const char *arg_syntax; /* "" when no ARG */
    unsigned long long min, max;
    enum fault_phase phase;
    unsigned roles; /* FAULT_ROLE_* bits */
    const char *summary;
};

/* The catalogue, terminated by an entry with a NULL name. */
extern const struct fault_spec fault_catalogue[];

/* "greeting", "handshake" or "data". */
const char *fault_phase_name(enum fault_phase phase);

/* One requested fault. */
struct fault {
    const struct fault_spec *spec;
    const char *arg;           /* borrowed from argv; "" when none */
    unsigned long long number; /* FAULT_ARG_NUMBER / FAULT_ARG_HEX_BYTE value */
    bool applied;
};

struct fault_plan {
    struct fault faults[FAULTS_MAX];
    size_t count;
    long observe_ms;
    bool server;
    const char *socket_type; /* borrowed: ours, for the ZMTP 2.0 greeting */
    FILE *events;            /* borrowed: where the events go (stdout) */
    struct zmtp_hooks hooks;
    struct zmtp_faults mech_faults; /* what the mechanism itself does wrong (config points here) */
    /* Set while driving: the output buffer and transcript of the session (borrowed). */
    struct builder *out;
    struct transcript *transcript;
    int64_t applied_at; /* zmtp_now_ms() of the first application, 0 before */
    unsigned long data_frames;
    unsigned long received_events;
    struct zmtp_mech_frame held; /* reorder-tokens: the first data frame, held back */
    unsigned char *peer_token;   /* reflect-token: body of the peer's first MESSAGE (READY) */
    size_t peer_token_len;
};

/*
 * Parse one `--fault` value "NAME" or "NAME:ARG" for the role (SERVER) into PLAN. ARG must
 * stay valid as long as PLAN. On failure returns false with WHY (one line naming the fault and
 * what is wrong) and PLAN unchanged.
 */
bool faults_add(struct fault_plan *plan, const char *text, bool server, char *why, size_t why_len);

/* An empty plan for the role (no faults, default --observe-ms). */
void faults_init(struct fault_plan *plan, bool server);

/*
 * Take every `--fault NAME[:ARG]` and `--observe-ms MS` (also `--opt=value`) out of ARGV,
 * shifting the rest down and lowering *ARGC, into PLAN (initialised here). Returns -1 on
 * success, else 64 after printing the reason on stderr.
 */
int faults_take_options(struct fault_plan *plan, int *argc, char **argv, bool server);

/* True when PLAN holds at least one fault. */
bool faults_active(const struct fault_plan *plan);

/*
 * Plug PLAN into CFG (hooks; CFG keeps pointing at PLAN, which must outlive the sessions).
 * Returns -1, or 64 after printing why when a fault cannot work with CFG's socket type.
 */
int faults_configure(struct fault_plan *plan, struct zmtp_session_config *cfg);

/* The hooks themselves, public for unit tests: PLAN->out must point at a builder for the
 * frame hook (the frames it adds go there). */
void faults_greeting_hook(void *plan, struct builder *greeting);
bool faults_frame_hook(void *plan, struct zmtp_mech_frame *frame);

/*
 * Drive session S (opened with a config given to faults_configure) through the faulty exchange:
 * greeting, handshake, one data exchange, then watch the peer. Every wait ends at DEADLINE (the
 * run's bound), the handshake at HANDSHAKE_DEADLINE, and everything after the first fault at
 * --observe-ms from it. STOP (may be NULL) ends the waits when set. Returns 0 when every fault
 * was applied and the outcome observed, 1 (with an "error" event and stderr line) otherwise.
 * S stays open; the caller closes it.
 */
int faults_run(struct fault_plan *plan, struct zmtp_session *s, int64_t handshake_deadline,
               int64_t deadline, const volatile sig_atomic_t *stop);

/* Free what PLAN holds (safe on an initialised plan). */
void faults_release(struct fault_plan *plan);

/* `gsspeer faults`: print the catalogue. */
int cmd_faults(int argc, char **argv);

#endif
