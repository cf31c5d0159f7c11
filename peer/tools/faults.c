/* The fault catalogue of gsspeer's ZMTP roles: see faults.h and docs/peer.md. */
#include "tools/faults.h"

#include "tools/contract.h"
#include "tools/transcript.h"
#include "util/hex.h"
#include "util/jsonout.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    EXIT_OK = CONTRACT_EXIT_OK,
    EXIT_FAIL = CONTRACT_EXIT_FAIL,
    EXIT_USAGE = CONTRACT_EXIT_USAGE,
    SLICE_MS = 50,
    RECEIVED_EVENTS_MAX = 64,
    OVERSIZE_SENT_MAX = 4096,
    PING_TTL = 100, /* tenths of a second */
};

/* The payload of the data exchange: recognisable in an echo's head. */
static const char fault_payload[] = "gssconform-fault";
static const char ping_context[] = "gssconform-ping";

#define BOTH FAULT_ROLE_BOTH
#define CLIENT FAULT_ROLE_CLIENT
#define G FAULT_PHASE_GREETING
#define H FAULT_PHASE_HANDSHAKE
#define D FAULT_PHASE_DATA

const struct fault_spec fault_catalogue[] = {
    {FAULT_GREETING_MECHANISM, "greeting-mechanism", FAULT_ARG_NAME, "NAME", 0, 0, G, BOTH,
     "send NAME (e.g. NULL, PLAIN, CURVE, gssapi, GSSAPIX) in the greeting's mechanism field"},
    {FAULT_GREETING_ZMTP2, "greeting-zmtp2", FAULT_ARG_NONE, "", 0, 0, G, BOTH,
     "a ZMTP 2.0 greeting: signature, revision 01, socket type, empty identity"},
    {FAULT_GREETING_ZMTP1, "greeting-zmtp1", FAULT_ARG_NONE, "", 0, 0, G, BOTH,
     "a ZMTP 1.0 greeting: no 0x7F signature, just the empty identity frame 01 00"},
    {FAULT_GREETING_MINOR, "greeting-minor", FAULT_ARG_NUMBER, "N", 0, 255, G, BOTH,
     "minor version N (byte 11; a higher minor must be accepted)"},
    {FAULT_GREETING_MAJOR, "greeting-major", FAULT_ARG_NUMBER, "N", 0, 255, G, BOTH,
     "major version N (byte 10; 3 and above are ZMTP 3.x, below is refused)"},
    {FAULT_GREETING_AS_SERVER, "greeting-as-server", FAULT_ARG_NUMBER, "V", 0, 255, G, BOTH,
     "as-server byte 32 = V (libzmq ignores it)"},
    {FAULT_GREETING_PADDING, "greeting-padding", FAULT_ARG_NONE, "", 0, 0, G, BOTH,
     "non-zero padding bytes 1-8 (01..08; no meaning may be assigned)"},
    {FAULT_GREETING_STAGED, "greeting-staged", FAULT_ARG_NUMBER, "MS", 1, 60000, G, BOTH,
     "send the 10 signature bytes, wait for the peer's signature (at most MS), then the rest "
     "byte by byte with pauses bounded by MS in total"},
    {FAULT_HELLO_COMMAND, "hello-command", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "a HELLO command (same data) instead of our first INITIATE"},
    {FAULT_WELCOME_COMMAND, "welcome-command", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "a WELCOME command (same data) instead of our first INITIATE"},
    {FAULT_ERROR_COMMAND, "error-command", FAULT_ARG_TEXT, "[REASON]", 0, 0, H, BOTH,
     "an ERROR command with REASON (default \"fault injected\") instead of our first INITIATE"},
    {FAULT_UNKNOWN_COMMAND, "unknown-command", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "an unknown command FROBNICATE (same data) instead of our first INITIATE"},
    {FAULT_INITIATE_GARBAGE, "initiate-garbage", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "our first INITIATE carries random token bytes of the same length"},
    {FAULT_INITIATE_EMPTY, "initiate-empty", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "our first INITIATE carries a zero-length token"},
    {FAULT_INITIATE_TRUNCATED_LENGTH, "initiate-truncated-length", FAULT_ARG_NONE, "", 0, 0, H,
     BOTH, "our first INITIATE body ends inside the 4-byte token length (2 of 4 bytes)"},
    {FAULT_INITIATE_TRAILING, "initiate-trailing", FAULT_ARG_NUMBER, "N", 1, 65536, H, BOTH,
     "N extra bytes (AA) after the token of our first INITIATE"},
    {FAULT_INITIATE_SHORT, "initiate-short", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "our first INITIATE's token length claims 100 bytes more than present"},
    {FAULT_INITIATE_LONG_FRAME, "initiate-long-frame", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "our first INITIATE in a LONG frame even when small (valid)"},
    {FAULT_SKIP_EMPTY_FRAME, "skip-empty-frame", FAULT_ARG_NONE, "", 0, 0, H, CLIENT,
     "omit the empty command frame 04 00 after the context completed"},
    {FAULT_EARLY_READY, "early-ready", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "a plain READY command instead of our first INITIATE (before the handshake is done)"},
    {FAULT_EARLY_MESSAGE, "early-message", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "a MESSAGE command (random 64-byte token) instead of our first INITIATE"},
    {FAULT_STALL, "stall", FAULT_ARG_NONE, "", 0, 0, H, BOTH, "send nothing after the greeting"},
    {FAULT_OVERSIZE, "oversize", FAULT_ARG_NUMBER, "N", 256, 1ULL << 62, H, BOTH,
     "instead of our first INITIATE announce a LONG command frame of N bytes, send at most "
     "4096 of them"},
    {FAULT_EMPTY_FRAME_GARBAGE, "empty-frame-garbage", FAULT_ARG_NONE, "", 0, 0, H, CLIENT,
     "the empty command frame after the context carries 8 bytes (libzmq ignores content)"},
    {FAULT_READY_NAME_CASE, "ready-name-case", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "our READY spells its property names socket-type and IDENTITY (23/ZMTP: names are "
     "case-insensitive; valid)"},
    {FAULT_READY_SOCKET_TYPE, "ready-socket-type", FAULT_ARG_NAME, "TYPE", 0, 0, H, BOTH,
     "our READY claims Socket-Type TYPE (e.g. PUSH, PULL: incompatible with the peer's) while "
     "we keep our own role"},
    {FAULT_READY_PLAIN, "ready-plain", FAULT_ARG_NONE, "", 0, 0, H, BOTH,
     "our READY as a plain READY command although encryption is on (data stays wrapped)"},
    {FAULT_TAMPER_TOKEN, "tamper-token", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "flip one ciphertext bit of the first data wrap token"},
    {FAULT_TAMPER_LENGTH, "tamper-length", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "the first data MESSAGE's u32 token length is one less than the token"},
    {FAULT_TAMPER_NAME, "tamper-name", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "the first data MESSAGE command is named MESSAGF"},
    {FAULT_REPLAY_TOKEN, "replay-token", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "send the first data frame twice (same wrap token)"},
    {FAULT_REORDER_TOKENS, "reorder-tokens", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "send two data messages with their wrap tokens swapped"},
    {FAULT_REFLECT_TOKEN, "reflect-token", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "send the peer's own first wrap token (its READY) back to it as a data message"},
    {FAULT_INTEGRITY_ONLY, "integrity-only", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "wrap the data message with conf_req 0 (integrity only)"},
    {FAULT_ZERO_LENGTH_WRAP, "zero-length-wrap", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "a data MESSAGE wrapping zero bytes (no flags byte)"},
    {FAULT_UNWRAPPED_AFTER_READY, "unwrapped-after-ready", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "a plain, unwrapped message frame after READY"},
    {FAULT_TRAILING_BYTES, "trailing-bytes", FAULT_ARG_NUMBER, "N", 1, 65536, D, BOTH,
     "N bytes (AA) after the token inside the first data MESSAGE"},
    {FAULT_UNKNOWN_FLAGS, "unknown-flags", FAULT_ARG_HEX_BYTE, "HEX", 0, 0, D, BOTH,
     "the data message's inner flags byte is HEX (e.g. 10, 80: unknown bits)"},
    {FAULT_MESSAGE_IN_COMMAND_FRAME, "message-in-command-frame", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "the first data MESSAGE in a COMMAND frame (de facto valid)"},
    {FAULT_FRAME_RESERVED_FLAGS, "frame-reserved-flags", FAULT_ARG_HEX_BYTE, "HEX", 0, 0, D, BOTH,
     "the first data MESSAGE frame's flags octet has the reserved bits HEX set (08-F8, bits 7-3 "
     "only; 23/ZMTP: MUST be zero, the receiver's reaction is unspecified)"},
    {FAULT_PING, "ping", FAULT_ARG_NONE, "", 0, 0, D, BOTH,
     "a wrapped PING (ttl 10 s, context \"gssconform-ping\"); a wrapped PONG with the same "
     "context is expected"},
    {FAULT_WRAP_RRC, "wrap-rrc", FAULT_ARG_NUMBER, "N", 1, 65535, D, BOTH,
     "every wrap token (READY and data) from the rfc4121 path, rotated right by N octets with "
     "RRC N in its header (RFC 4121 §4.2.5; valid)"},
    {FAULT_WRAP_RRC_IN_COPY, "wrap-rrc-in-copy", FAULT_ARG_NUMBER, "N", 1, 65535, D, BOTH,
     "as wrap-rrc N, and the encrypted header copy carries RRC N too where RFC 4121 has 0 "
     "(MIT's gss_unwrap does not compare it)"},
    {0, NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

#undef BOTH
#undef CLIENT
#undef G
#undef H
#undef D

const char *fault_phase_name(enum fault_phase phase)
{
    static const char *const names[] = {"greeting", "handshake", "data"};

    return names[phase];
}

static void frame_in_hook(void *arg, uint8_t flags, const unsigned char *body, size_t len,
                          const struct zmtp_frame_note *note, const struct zmtp_error *err);
static bool has_fault(const struct fault_plan *plan, enum fault_id id);
static struct fault *find_fault(struct fault_plan *plan, enum fault_id id);

/* ready-name-case: the canonical names in another letter case. */
static const char ready_type_name_recased[] = "socket-type";
static const char ready_identity_name_recased[] = "IDENTITY";

/* ---- parsing ---- */

void faults_init(struct fault_plan *plan, bool server)
{
    memset(plan, 0, sizeof(*plan));
    plan->server = server;
    plan->observe_ms = FAULT_OBSERVE_DEFAULT_MS;
    plan->events = stdout;
    plan->socket_type = server ? "ROUTER" : "DEALER";
}

static bool parse_number(const char *text, unsigned long long *out)
{
    char *end;

    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return errno == 0 && *end == '\0';
}

bool faults_add(struct fault_plan *plan, const char *text, bool server, char *why, size_t why_len)
{
    const char *colon = strchr(text, ':');
    size_t name_len = colon != NULL ? (size_t)(colon - text) : strlen(text);
    const char *arg = colon != NULL ? colon + 1 : "";
    const struct fault_spec *spec;
    struct fault f = {NULL, arg, 0, false};

    for (spec = fault_catalogue; spec->name != NULL; spec++)
        if (strlen(spec->name) == name_len && strncmp(spec->name, text, name_len) == 0)
            break;
    if (spec->name == NULL) {
        snprintf(why, why_len, "--fault %s: unknown fault \"%.*s\" (see gsspeer faults)", text,
                 (int)name_len, text);
        return false;
    }
    f.spec = spec;
    if (!(spec->roles & (server ? FAULT_ROLE_SERVER : FAULT_ROLE_CLIENT))) {
        snprintf(why, why_len, "--fault %s: applies to the %s role only", text,
                 server ? "client" : "server");
        return false;
    }
    switch (spec->arg) {
    case FAULT_ARG_NONE:
        if (colon != NULL) {
            snprintf(why, why_len, "--fault %s: %s takes no argument", text, spec->name);
            return false;
        }
        break;
    case FAULT_ARG_NUMBER:
        if (!parse_number(arg, &f.number) || f.number < spec->min || f.number > spec->max) {
            snprintf(why, why_len, "--fault %s: %s needs %s, a number in %llu..%llu", text,
                     spec->name, spec->arg_syntax, spec->min, spec->max);
            return false;
        }
        break;
    case FAULT_ARG_NAME: {
        size_t n = strlen(arg);
        bool printable = n >= 1 && n <= ZMTP_MECHANISM_SIZE;

        for (size_t i = 0; printable && i < n; i++)
            printable = arg[i] > ' ' && arg[i] < 0x7f;
        if (!printable) {
            snprintf(why, why_len, "--fault %s: %s needs NAME, 1..20 printable characters", text,
                     spec->name);
            return false;
        }
        break;
    }
    case FAULT_ARG_HEX_BYTE:
        if (strlen(arg) != 2 || hex_digit(arg[0]) < 0 || hex_digit(arg[1]) < 0) {
            snprintf(why, why_len, "--fault %s: %s needs HEX, two hex digits (e.g. 10)", text,
                     spec->name);
            return false;
        }
        f.number = (unsigned long long)(hex_digit(arg[0]) * 16 + hex_digit(arg[1]));
        if (spec->id == FAULT_FRAME_RESERVED_FLAGS &&
            (f.number == 0 || (f.number & ~(unsigned long long)ZMTP_FLAG_RESERVED) != 0)) {
            snprintf(why, why_len, "--fault %s: %s needs HEX with only bits 7-3 set (08-F8)", text,
                     spec->name);
            return false;
        }
        break;
    case FAULT_ARG_TEXT:
        if (strlen(arg) > 255) {
            snprintf(why, why_len, "--fault %s: REASON is longer than 255 bytes", spec->name);
            return false;
        }
        break;
    }
    if (plan->count == FAULTS_MAX) {
        snprintf(why, why_len, "--fault %s: at most %d faults", text, FAULTS_MAX);
        return false;
    }
    plan->faults[plan->count++] = f;
    return true;
}

/* The value of option NAME at ARGV[*I] ("--name value" or "--name=value"), advancing *I past
 * it; NULL when ARGV[*I] is not that option. *MISSING is set when the value is absent. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[(*i)++] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        (*i)++;
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}

int faults_take_options(struct fault_plan *plan, int *argc, char **argv, bool server)
{
    int i = 1, kept = 1;
    char why[512];

    faults_init(plan, server);
    while (i < *argc) {
        bool missing = false;
        const char *value;
        int at = i;

        if (strcmp(argv[i], "--") == 0)
            break;
        value = option_value(*argc, argv, &i, "--fault", &missing);
        if (value != NULL) {
            if (!faults_add(plan, value, server, why, sizeof(why))) {
                fprintf(stderr, "gsspeer: %s\n", why);
                return EXIT_USAGE;
            }
            continue;
        }
        if (value == NULL && !missing)
            value = option_value(*argc, argv, &i, "--observe-ms", &missing);
        if (missing) {
            fprintf(stderr, "gsspeer: %s needs an argument\n", argv[at]);
            return EXIT_USAGE;
        }
        if (value != NULL) {
            unsigned long long ms;

            if (!parse_number(value, &ms) || ms < 1 || ms > 600000) {
                fprintf(stderr, "gsspeer: --observe-ms: \"%s\" is not a number in 1..600000\n",
                        value);
                return EXIT_USAGE;
            }
            plan->observe_ms = (long)ms;
            continue;
        }
        argv[kept++] = argv[i++];
    }
    while (i < *argc)
        argv[kept++] = argv[i++];
    *argc = kept;
    argv[kept] = NULL;
    return -1;
}

bool faults_active(const struct fault_plan *plan)
{
    return plan->count > 0;
}

int faults_configure(struct fault_plan *plan, struct zmtp_session_config *cfg)
{
    static const char *const types[] = {"ROUTER", "REP", "DEALER", "PULL", "REQ", "PUSH", NULL};
    bool ok = false;
    struct fault *f;

    if (!faults_active(plan))
        return -1;
    for (size_t i = 0; types[i] != NULL; i++)
        ok = ok || strcmp(types[i], cfg->mech.socket_type) == 0;
    if (!ok) {
        fprintf(stderr,
                "gsspeer: --fault works with ROUTER, REP, DEALER, PULL, REQ and PUSH, "
                "not --socket-type %s\n",
                cfg->mech.socket_type);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < plan->count; i++) {
        enum fault_id id = plan->faults[i].spec->id;

        if (cfg->mech.plaintext && plan->faults[i].spec->phase == FAULT_PHASE_DATA &&
            id != FAULT_UNWRAPPED_AFTER_READY && id != FAULT_PING) {
            fprintf(stderr, "gsspeer: --fault %s needs wrapping: not with --plaintext\n",
                    plan->faults[i].spec->name);
            return EXIT_USAGE;
        }
    }
    if (has_fault(plan, FAULT_READY_NAME_CASE)) {
        plan->mech_faults.ready_type_name = ready_type_name_recased;
        plan->mech_faults.ready_identity_name = ready_identity_name_recased;
    }
    if ((f = find_fault(plan, FAULT_READY_SOCKET_TYPE)) != NULL)
        plan->mech_faults.ready_socket_type = f->arg;
    if ((f = find_fault(plan, FAULT_WRAP_RRC)) != NULL ||
        (f = find_fault(plan, FAULT_WRAP_RRC_IN_COPY)) != NULL) {
        /* Only the rfc4121 path rotates; the first data token reports whether it did. */
        cfg->mech.wrap_path = ZMTP_WRAP_RFC4121;
        plan->mech_faults.wrap_rrc = (uint16_t)f->number;
        plan->mech_faults.wrap_rrc_in_copy = has_fault(plan, FAULT_WRAP_RRC_IN_COPY);
    }
    cfg->mech.faults = &plan->mech_faults;
    plan->socket_type = cfg->mech.socket_type;
    plan->hooks.greeting = faults_greeting_hook;
    plan->hooks.frame = faults_frame_hook;
    plan->hooks.frame_in = frame_in_hook;
    plan->hooks.arg = plan;
    cfg->hooks = &plan->hooks;
    return -1;
}

void faults_release(struct fault_plan *plan)
{
    zmtp_mech_frame_free(&plan->held);
    memset(&plan->held, 0, sizeof(plan->held));
    free(plan->peer_token);
    plan->peer_token = NULL;
}

/* ---- events ---- */

static void event_end(FILE *out)
{
    fputs("}\n", out);
    fflush(out);
}

/* Mark F applied now and print its "fault" event with DETAIL. */
static void applied(struct fault_plan *plan, struct fault *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void applied(struct fault_plan *plan, struct fault *f, const char *fmt, ...)
{
    char detail[256];
    va_list args;

    va_start(args, fmt);
    vsnprintf(detail, sizeof(detail), fmt, args);
    va_end(args);
    f->applied = true;
    if (plan->applied_at == 0)
        plan->applied_at = zmtp_now_ms();
    fputs("{\"event\":\"fault\",\"name\":", plan->events);
    json_put_string(plan->events, f->spec->name);
    fputs(",\"arg\":", plan->events);
    json_put_string(plan->events, f->arg);
    fprintf(plan->events,
            ",\"phase\":\"%s\",\"applied\":true,\"detail\":", fault_phase_name(f->spec->phase));
    json_put_string(plan->events, detail);
    event_end(plan->events);
    transcript_event(plan->transcript, "fault", detail);
}

/* Print what arrived after a fault: an echo, a PONG, or any other frame. */
static void report_received(struct fault_plan *plan, uint8_t flags, size_t len,
                            const struct zmtp_frame_note *note, const struct zmtp_error *err)
{
    if (plan->applied_at == 0 || plan->received_events >= RECEIVED_EVENTS_MAX)
        return;
    plan->received_events++;
    if (err == NULL && strcmp(note->kind, "MESSAGE") == 0 && note->plain_len >= 1) {
        size_t n = note->plain_len - 1;

        fprintf(plan->events, "{\"event\":\"received\",\"kind\":\"echo\",\"len\":%zu,\"head\":", n);
        json_put_hex(plan->events, note->plain + 1, n < 32 ? n : 32);
    } else if (err == NULL && strcmp(note->kind, "PONG") == 0 && note->plain_len >= 6) {
        fputs("{\"event\":\"received\",\"kind\":\"pong\",\"context\":", plan->events);
        json_put_hex(plan->events, note->plain + 6, note->plain_len - 6);
    } else {
        fprintf(plan->events, "{\"event\":\"received\",\"kind\":\"frame\",\"frame\":");
        json_put_string(plan->events, note->kind);
        fprintf(plan->events, ",\"flags\":%u,\"size\":%zu", flags, len);
        if (err != NULL) {
            fputs(",\"rejected\":", plan->events);
            json_put_string(plan->events, err->text);
        }
    }
    event_end(plan->events);
}

/* The session's frame_in hook: keep the peer's first wrapped token, report after a fault. */
static void frame_in_hook(void *arg, uint8_t flags, const unsigned char *body, size_t len,
                          const struct zmtp_frame_note *note, const struct zmtp_error *err)
{
    struct fault_plan *plan = arg;

    if (plan->peer_token == NULL && err == NULL && note->plain != NULL && len > 0) {
        plan->peer_token = malloc(len);
        if (plan->peer_token != NULL) {
            memcpy(plan->peer_token, body, len);
            plan->peer_token_len = len;
        }
    }
    report_received(plan, flags, len, note, err);
}

/* ---- the greeting ---- */

static const char *socket_type_codes[] = {"PAIR",   "PUB",    "SUB",  "REQ",  "REP",
                                          "DEALER", "ROUTER", "PULL", "PUSH", NULL};

void faults_greeting_hook(void *arg, struct builder *b)
{
    struct fault_plan *plan = arg;

    if (b->len < ZMTP_GREETING_SIZE)
        return;
    for (size_t i = 0; i < plan->count; i++) {
        struct fault *f = &plan->faults[i];

        switch (f->spec->id) {
        case FAULT_GREETING_MECHANISM:
            memset(b->data + 12, 0, ZMTP_MECHANISM_SIZE);
            memcpy(b->data + 12, f->arg, strlen(f->arg));
            applied(plan, f, "mechanism field (bytes 12-31) = \"%s\"", f->arg);
            break;
        case FAULT_GREETING_ZMTP2: {
            uint8_t code = 5;

            for (uint8_t k = 0; socket_type_codes[k] != NULL; k++)
                if (strcmp(socket_type_codes[k], plan->socket_type) == 0)
                    code = k;
            b->data[10] = 0x01;
            b->data[11] = code;
            b->data[12] = 0x00;
            b->data[13] = 0x00;
            b->len = 14;
            applied(plan, f,
                    "ZMTP 2.0 greeting: signature, revision 01, socket type %u, empty "
                    "identity (14 bytes)",
                    code);
            break;
        }
        case FAULT_GREETING_ZMTP1:
            b->data[0] = 0x01;
            b->data[1] = 0x00;
            b->len = 2;
            applied(plan, f, "ZMTP 1.0 greeting: identity frame 01 00, no signature");
            break;
        case FAULT_GREETING_MINOR:
            b->data[11] = (unsigned char)f->number;
            applied(plan, f, "minor version (byte 11) = %llu", f->number);
            break;
        case FAULT_GREETING_MAJOR:
            b->data[10] = (unsigned char)f->number;
            applied(plan, f, "major version (byte 10) = %llu", f->number);
            break;
        case FAULT_GREETING_AS_SERVER:
            b->data[32] = (unsigned char)f->number;
            applied(plan, f, "as-server (byte 32) = %llu", f->number);
            break;
        case FAULT_GREETING_PADDING:
            for (unsigned char k = 1; k <= 8; k++)
                b->data[k] = k;
            applied(plan, f, "padding (bytes 1-8) = 0102030405060708");
            break;
        case FAULT_STALL:
            applied(plan, f, "nothing will be sent after the greeting");
            break;
        default:
            break;
        }
    }
}

/* ---- outgoing frames ---- */

static void random_bytes(unsigned char *p, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);

        if (n <= 0)
            break;
        done += (size_t)n;
    }
    /* Without entropy the bytes still need to be garbage, not zeros. */
    for (size_t i = done; i < len; i++)
        p[i] = (unsigned char)(i * 167 + 13);
}

/* Replace FRAME's body with B's contents (B is emptied). */
static void set_body(struct zmtp_mech_frame *frame, struct builder *b)
{
    size_t len;
    unsigned char *body = builder_detach(b, &len);

    if (body == NULL)
        return;
    free(frame->body);
    frame->body = body;
    frame->len = len;
}

/* The token inside an INITIATE/MESSAGE body, or false when BODY is not such a command. */
static bool token_of(const struct zmtp_mech_frame *frame, size_t name_len,
                     const unsigned char **token, size_t *token_len)
{
    size_t at = 1 + name_len;

    if (frame->len < at + 4)
        return false;
    *token = frame->body + at + 4;
    *token_len = frame->len - at - 4;
    return true;
}

/* Rewrite our first INITIATE for handshake fault F; false drops the frame. */
static bool initiate_fault(struct fault_plan *plan, struct fault *f, struct zmtp_mech_frame *frame)
{
    const unsigned char *token;
    size_t token_len;
    struct builder b;
    bool keep = true;

    if (!token_of(frame, 8, &token, &token_len))
        return true;
    builder_init(&b);
    switch (f->spec->id) {
    case FAULT_HELLO_COMMAND:
        zmtp_command_encode(&b, "HELLO", frame->body + 9, frame->len - 9);
        applied(plan, f, "HELLO command (%zu bytes of INITIATE data) instead of INITIATE",
                frame->len - 9);
        break;
    case FAULT_WELCOME_COMMAND:
        zmtp_command_encode(&b, "WELCOME", frame->body + 9, frame->len - 9);
        applied(plan, f, "WELCOME command (%zu bytes of INITIATE data) instead of INITIATE",
                frame->len - 9);
        break;
    case FAULT_ERROR_COMMAND: {
        const char *reason = f->arg[0] != '\0' ? f->arg : "fault injected";

        zmtp_error_encode(&b, reason);
        applied(plan, f, "ERROR \"%s\" instead of INITIATE", reason);
        break;
    }
    case FAULT_UNKNOWN_COMMAND:
        zmtp_command_encode(&b, "FROBNICATE", frame->body + 9, frame->len - 9);
        applied(plan, f, "unknown command FROBNICATE instead of INITIATE");
        break;
    case FAULT_INITIATE_GARBAGE: {
        unsigned char *garbage = malloc(token_len > 0 ? token_len : 1);

        if (garbage == NULL)
            break;
        random_bytes(garbage, token_len);
        zmtp_initiate_encode(&b, garbage, token_len);
        free(garbage);
        applied(plan, f, "INITIATE with %zu random token bytes", token_len);
        break;
    }
    case FAULT_INITIATE_EMPTY:
        zmtp_initiate_encode(&b, NULL, 0);
        applied(plan, f, "INITIATE with a zero-length token (was %zu bytes)", token_len);
        break;
    case FAULT_INITIATE_TRUNCATED_LENGTH:
        builder_add(&b, frame->body, 9 + 2);
        applied(plan, f, "INITIATE body of 11 bytes: ends after 2 of the 4 length bytes");
        break;
    case FAULT_INITIATE_TRAILING:
        builder_add(&b, frame->body, frame->len);
        for (unsigned long long k = 0; k < f->number; k++)
            builder_add_u8(&b, 0xaa);
        applied(plan, f, "INITIATE with %llu bytes after its %zu-byte token", f->number, token_len);
        break;
    case FAULT_INITIATE_SHORT:
        builder_add(&b, frame->body, 9);
        builder_add_u32be(&b, (uint32_t)(token_len + 100));
        builder_add(&b, token, token_len);
        applied(plan, f, "INITIATE token length %zu, %zu bytes present", token_len + 100,
                token_len);
        break;
    case FAULT_INITIATE_LONG_FRAME:
        /* The frame goes out here with a LONG header; the engine's copy is dropped. */
        builder_add_u8(plan->out, frame->flags | ZMTP_FLAG_COMMAND | ZMTP_FLAG_LONG);
        builder_add_u64be(plan->out, frame->len);
        builder_add(plan->out, frame->body, frame->len);
        applied(plan, f, "INITIATE of %zu bytes in a LONG frame", frame->len);
        keep = false;
        break;
    case FAULT_EARLY_READY:
        zmtp_ready_encode(&b, plan->socket_type, zmtp_socket_type_has_identity(plan->socket_type),
                          NULL, 0);
        applied(plan, f, "plain READY (Socket-Type %s) instead of INITIATE", plan->socket_type);
        break;
    case FAULT_EARLY_MESSAGE: {
        unsigned char fake[64];

        random_bytes(fake, sizeof(fake));
        zmtp_message_encode(&b, fake, sizeof(fake));
        applied(plan, f, "MESSAGE command with a 64-byte random token instead of INITIATE");
        break;
    }
    case FAULT_OVERSIZE: {
        unsigned long long sent = f->number < OVERSIZE_SENT_MAX ? f->number : OVERSIZE_SENT_MAX;

        builder_add_u8(plan->out, ZMTP_FLAG_COMMAND | ZMTP_FLAG_LONG);
        builder_add_u64be(plan->out, f->number);
        builder_add(plan->out, frame->body, sent < frame->len ? sent : frame->len);
        for (unsigned long long k = frame->len; k < sent; k++)
            builder_add_u8(plan->out, 0);
        applied(plan, f, "LONG command frame announcing %llu bytes, %llu sent", f->number, sent);
        keep = false;
        break;
    }
    default:
        builder_free(&b);
        return true;
    }
    if (keep && b.len > 0)
        set_body(frame, &b);
    builder_free(&b);
    return keep;
}

/* Rewrite one outgoing data MESSAGE (the N-th, from 1) for data fault F; false drops it. */
/* wrap-rrc, wrap-rrc-in-copy: faults_configure had the rfc4121 path rotate every token; the
 * first wrap token out (our READY) reports it. Unkeyed, MIT wrapped with RRC 0: not applied. */
static void rrc_fault(struct fault_plan *plan, struct fault *f, const struct zmtp_mech_frame *frame)
{
    const unsigned char *token;
    size_t token_len;
    unsigned rrc;

    if (!token_of(frame, 7, &token, &token_len) || token_len < 16)
        return;
    rrc = (unsigned)token[6] << 8 | token[7];
    if (rrc == f->number)
        applied(plan, f, "our %s token (%zu bytes) carries RRC %u in its header%s", frame->kind,
                token_len, rrc,
                f->spec->id == FAULT_WRAP_RRC_IN_COPY ? " and in its encrypted header copy" : "");
}

static bool data_fault(struct fault_plan *plan, struct fault *f, struct zmtp_mech_frame *frame,
                       unsigned long n)
{
    const unsigned char *token;
    size_t token_len;

    if (!token_of(frame, 7, &token, &token_len) || token_len < 17)
        return true;
    switch (f->spec->id) {
    case FAULT_TAMPER_TOKEN: {
        size_t at = 12 + 16 + (token_len - 16) / 2;

        if (n != 1)
            break;
        frame->body[at] ^= 0x01;
        applied(plan, f, "flipped bit 0 of token byte %zu (ciphertext) of a %zu-byte token",
                at - 12, token_len);
        break;
    }
    case FAULT_TAMPER_LENGTH:
        if (n != 1)
            break;
        frame->body[8] = (unsigned char)((token_len - 1) >> 24);
        frame->body[9] = (unsigned char)((token_len - 1) >> 16);
        frame->body[10] = (unsigned char)((token_len - 1) >> 8);
        frame->body[11] = (unsigned char)(token_len - 1);
        applied(plan, f, "MESSAGE token length %zu for a %zu-byte token", token_len - 1, token_len);
        break;
    case FAULT_TAMPER_NAME:
        if (n != 1)
            break;
        frame->body[7] = 'F';
        applied(plan, f, "command name MESSAGF");
        break;
    case FAULT_TRAILING_BYTES: {
        struct builder b;

        if (n != 1)
            break;
        builder_init(&b);
        builder_add(&b, frame->body, frame->len);
        for (unsigned long long k = 0; k < f->number; k++)
            builder_add_u8(&b, 0xaa);
        set_body(frame, &b);
        builder_free(&b);
        applied(plan, f, "%llu bytes after the %zu-byte token inside MESSAGE", f->number,
                token_len);
        break;
    }
    case FAULT_MESSAGE_IN_COMMAND_FRAME:
        if (n != 1)
            break;
        frame->flags |= ZMTP_FLAG_COMMAND;
        applied(plan, f, "data MESSAGE in a command frame");
        break;
    case FAULT_FRAME_RESERVED_FLAGS: {
        /* zmtp_frame_encode clears reserved bits, so the frame goes out here (the engine's copy
         * is dropped) and the bits are set on the flags octet it wrote. */
        size_t at = plan->out->len;

        if (n != 1)
            break;
        zmtp_frame_encode(plan->out, frame->flags, frame->body, frame->len);
        if (!builder_ok(plan->out))
            return false;
        plan->out->data[at] |= (uint8_t)f->number;
        applied(plan, f, "data MESSAGE frame with flags %02x (reserved bits %02x set)",
                plan->out->data[at], (unsigned)f->number);
        return false;
    }
    case FAULT_REPLAY_TOKEN:
        if (n != 1)
            break;
        zmtp_frame_encode(plan->out, frame->flags, frame->body, frame->len);
        applied(plan, f, "data MESSAGE (%zu-byte token) sent twice", token_len);
        break;
    case FAULT_REORDER_TOKENS:
        if (n == 1 && plan->held.body == NULL) {
            plan->held = *frame;
            memset(frame, 0, sizeof(*frame));
            return false;
        }
        if (n == 2 && plan->held.body != NULL) {
            struct zmtp_mech_frame second = *frame;

            /* The second goes out first, then the held first one in its place. */
            zmtp_frame_encode(plan->out, second.flags, second.body, second.len);
            *frame = plan->held;
            memset(&plan->held, 0, sizeof(plan->held));
            zmtp_mech_frame_free(&second);
            applied(plan, f, "the second data MESSAGE sent before the first");
        }
        break;
    default:
        break;
    }
    return true;
}

bool faults_frame_hook(void *arg, struct zmtp_mech_frame *frame)
{
    struct fault_plan *plan = arg;
    bool keep = true, initiate = strcmp(frame->kind, "INITIATE") == 0;
    bool data = strcmp(frame->kind, "MESSAGE") == 0;

    if (data)
        plan->data_frames++;
    for (size_t i = 0; i < plan->count && keep; i++) {
        struct fault *f = &plan->faults[i];

        if (f->spec->id == FAULT_STALL) {
            keep = false;
        } else if (f->spec->phase == FAULT_PHASE_HANDSHAKE && initiate && !f->applied) {
            keep = initiate_fault(plan, f, frame);
        } else if (f->spec->id == FAULT_SKIP_EMPTY_FRAME && strcmp(frame->kind, "empty") == 0 &&
                   !f->applied) {
            applied(plan, f, "empty command frame 04 00 not sent");
            keep = false;
        } else if (f->spec->id == FAULT_EMPTY_FRAME_GARBAGE && strcmp(frame->kind, "empty") == 0 &&
                   !f->applied) {
            struct builder b;

            builder_init(&b);
            builder_add_str(&b, "garbage!");
            set_body(frame, &b);
            builder_free(&b);
            applied(plan, f, "the empty command frame carries 8 bytes \"garbage!\"");
        } else if ((f->spec->id == FAULT_READY_NAME_CASE ||
                    f->spec->id == FAULT_READY_SOCKET_TYPE) &&
                   strcmp(frame->kind, "READY") == 0 && !f->applied) {
            /* faults_configure had the mechanism build this READY so; it is reported here. */
            if (f->spec->id == FAULT_READY_NAME_CASE)
                applied(plan, f, "READY property names \"%s\" and \"%s\"", ready_type_name_recased,
                        ready_identity_name_recased);
            else
                applied(plan, f, "READY claims Socket-Type %s (we are %s)", f->arg,
                        plan->socket_type);
        } else if (f->spec->id == FAULT_READY_PLAIN && strcmp(frame->kind, "READY") == 0 &&
                   frame->plain != NULL && frame->plain_len > 0 && !f->applied) {
            struct builder b;

            builder_init(&b);
            builder_add(&b, frame->plain + 1, frame->plain_len - 1);
            set_body(frame, &b);
            builder_free(&b);
            applied(plan, f, "READY sent as a plain command (%zu bytes), not wrapped", frame->len);
        } else if ((f->spec->id == FAULT_WRAP_RRC || f->spec->id == FAULT_WRAP_RRC_IN_COPY) &&
                   (data || strcmp(frame->kind, "READY") == 0)) {
            if (!f->applied)
                rrc_fault(plan, f, frame);
        } else if (f->spec->phase == FAULT_PHASE_DATA && data) {
            keep = data_fault(plan, f, frame, plan->data_frames);
        }
    }
    return keep;
}

/* ---- driving ---- */

static bool has_fault(const struct fault_plan *plan, enum fault_id id)
{
    for (size_t i = 0; i < plan->count; i++)
        if (plan->faults[i].spec->id == id)
            return true;
    return false;
}

static struct fault *find_fault(struct fault_plan *plan, enum fault_id id)
{
    for (size_t i = 0; i < plan->count; i++)
        if (plan->faults[i].spec->id == id)
            return &plan->faults[i];
    return NULL;
}

/* The bound of the next wait: DEADLINE, and --observe-ms after the first fault. */
static int64_t bound(const struct fault_plan *plan, int64_t deadline)
{
    if (plan->applied_at != 0 && plan->applied_at + plan->observe_ms < deadline)
        return plan->applied_at + plan->observe_ms;
    return deadline;
}

static bool stopped(const volatile sig_atomic_t *stop)
{
    return stop != NULL && *stop;
}

/* Write LEN bytes to FD before DEADLINE (non-blocking socket). */
static bool write_all(int fd, const unsigned char *data, size_t len, int64_t deadline)
{
    while (len > 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left = deadline - zmtp_now_ms();
        ssize_t w;

        if (left <= 0 || poll(&pfd, 1, (int)(left > SLICE_MS ? SLICE_MS : left)) < 0)
            return false;
        w = send(fd, data, len, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
        if (w > 0) {
            data += w;
            len -= (size_t)w;
        }
    }
    return true;
}

/* greeting-staged: signature, the peer's signature (or MS), then byte by byte. */
static bool staged_greeting(struct fault_plan *plan, struct fault *f, struct zmtp_session *s,
                            int64_t deadline, char *why, size_t why_len)
{
    int64_t wait_until = zmtp_now_ms() + (int64_t)f->number;
    long pause = (long)(f->number / ZMTP_GREETING_SIZE);
    size_t total = s->out.len;
    bool seen = false;

    if (total > ZMTP_GREETING_SIZE)
        total = ZMTP_GREETING_SIZE;
    if (!write_all(s->fd, s->out.data, ZMTP_SIGNATURE_SIZE, deadline)) {
        snprintf(why, why_len, "staged greeting: cannot send the signature");
        return false;
    }
    while (!seen && zmtp_now_ms() < wait_until && zmtp_now_ms() < deadline) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        unsigned char peek[ZMTP_SIGNATURE_SIZE];

        if (poll(&pfd, 1, SLICE_MS) > 0) {
            ssize_t n = recv(s->fd, peek, sizeof(peek), MSG_PEEK);

            seen = n >= ZMTP_SIGNATURE_SIZE;
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (!seen)
                poll(NULL, 0, 1);
        }
    }
    applied(plan, f, "signature sent, %s, then %zu bytes one by one %ld ms apart",
            seen ? "the peer's signature arrived" : "no peer signature within MS",
            total - ZMTP_SIGNATURE_SIZE, pause);
    for (size_t k = ZMTP_SIGNATURE_SIZE; k < total; k++) {
        if (!write_all(s->fd, s->out.data + k, 1, deadline)) {
            snprintf(why, why_len, "staged greeting: send failed at byte %zu", k);
            return false;
        }
        if (pause > 0)
            poll(NULL, 0, (int)pause);
    }
    /* What follows the greeting in the buffer (nothing yet) stays for the session. */
    memmove(s->out.data, s->out.data + total, s->out.len - total);
    s->out.len -= total;
    return true;
}

/* The phase of the connection as gsspeer sees it now. */
static const char *phase_now(const struct zmtp_session *s, bool greeting_done)
{
    if (!greeting_done)
        return "greeting";
    if (s->mech == NULL || !zmtp_mech_ready(s->mech))
        return "handshake";
    return "data";
}

/* Queue the data fault (or the plain message) of this role and write it out. */
static enum zmtp_status data_step(struct fault_plan *plan, struct zmtp_session *s,
                                  const struct zmtp_event *request, int64_t deadline,
                                  struct zmtp_error *err)
{
    bool req = strcmp(plan->socket_type, "REQ") == 0;
    struct zmtp_part parts[2];
    size_t count = 0;
    unsigned char *plain;
    enum zmtp_status status = ZMTP_OK;
    struct fault *f;
    const unsigned char *payload = (const unsigned char *)fault_payload;
    size_t payload_len = sizeof(fault_payload) - 1;

    /* Server: the faulty message carries the client's last part, as its echo would. */
    if (request != NULL && request->count > 0 && request->parts[request->count - 1].len > 0) {
        payload = request->parts[request->count - 1].data;
        payload_len = request->parts[request->count - 1].len;
    }
    if (req)
        parts[count++] = (struct zmtp_part){(unsigned char *)"", 0};
    parts[count++] = (struct zmtp_part){(unsigned char *)payload, payload_len};
    plain = malloc(1 + payload_len);
    if (plain == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    memcpy(plain + 1, payload, payload_len);
    if ((f = find_fault(plan, FAULT_INTEGRITY_ONLY)) != NULL) {
        plain[0] = 0;
        status = zmtp_mech_queue_wrapped(s->mech, plain, 1 + payload_len, false, err);
        if (status == ZMTP_OK)
            applied(plan, f, "data message wrapped with conf_req 0");
    } else if ((f = find_fault(plan, FAULT_ZERO_LENGTH_WRAP)) != NULL) {
        status = zmtp_mech_queue_wrapped(s->mech, plain, 0, true, err);
        if (status == ZMTP_OK)
            applied(plan, f, "MESSAGE wrapping zero bytes");
    } else if ((f = find_fault(plan, FAULT_UNKNOWN_FLAGS)) != NULL) {
        plain[0] = (unsigned char)f->number;
        status = zmtp_mech_queue_wrapped(s->mech, plain, 1 + payload_len, true, err);
        if (status == ZMTP_OK)
            applied(plan, f, "inner flags byte %02x", plain[0]);
    } else if ((f = find_fault(plan, FAULT_UNWRAPPED_AFTER_READY)) != NULL) {
        zmtp_frame_encode(&s->out, 0, payload, payload_len);
        applied(plan, f, "plain message frame of %zu bytes after READY", payload_len);
    } else if ((f = find_fault(plan, FAULT_REFLECT_TOKEN)) != NULL) {
        if (plan->peer_token == NULL) {
            free(plain);
            return zmtp_fail(err, ZMTP_UNEXPECTED, "reflect-token: no wrapped token received");
        }
        zmtp_frame_encode(&s->out, 0, plan->peer_token, plan->peer_token_len);
        applied(plan, f, "the peer's own READY MESSAGE (%zu bytes) sent back as data",
                plan->peer_token_len);
    } else {
        /* Server: the echo of the client's message; client: our own message. */
        const struct zmtp_part *message = request != NULL ? request->parts : parts;
        size_t message_count = request != NULL ? request->count : count;

        /* ping: the PING goes first, then the exchange goes on as usual. */
        if ((f = find_fault(plan, FAULT_PING)) != NULL) {
            status = zmtp_mech_ping(s->mech, PING_TTL, ping_context, sizeof(ping_context) - 1, err);
            if (status == ZMTP_OK)
                applied(plan, f, "wrapped PING ttl %d context \"%s\"", PING_TTL, ping_context);
        }
        if (status == ZMTP_OK)
            status = zmtp_mech_send(s->mech, message, message_count, err);
        if (status == ZMTP_OK && has_fault(plan, FAULT_REORDER_TOKENS))
            status = zmtp_mech_send(s->mech, message, message_count, err);
    }
    free(plain);
    if (status != ZMTP_OK)
        return status;
    return zmtp_session_send(s, NULL, 0, deadline, err);
}

/* Watch the connection after the fault until the peer closes or the bound; print the outcome. */
static void observe(struct fault_plan *plan, struct zmtp_session *s, int64_t deadline,
                    const volatile sig_atomic_t *stop)
{
    struct zmtp_connection in; /* any mechanism: whatever the peer sends is reported */
    bool raw = false;
    const char *how = NULL;
    int64_t until = bound(plan, deadline);

    zmtp_connection_init(&in, NULL, s->cfg.max_frame_size);
    in.greeting_done = s->conn.greeting_done;
    if (zmtp_connection_pending(&s->conn) > 0)
        zmtp_connection_add(&in, s->conn.in.data + s->conn.in_off,
                            zmtp_connection_pending(&s->conn));
    if (s->peer_closed)
        how = s->peer_reset ? "reset" : "fin";
    for (;;) {
        /* Parse what arrived: frames go through the mechanism while it still accepts them. */
        while (!raw && builder_ok(&in.in)) {
            struct zmtp_item item;
            struct zmtp_frame_note note;
            struct zmtp_error e;
            struct zmtp_event ev;
            struct zmtp_mech_frame out;
            const struct zmtp_frame *fr = &item.frame;
            enum zmtp_status st = zmtp_connection_next(&in, &item, &e);

            if (st == ZMTP_NEED_MORE)
                break;
            if (item.kind == ZMTP_ITEM_GREETING) {
                note = (struct zmtp_frame_note){"greeting", NULL, 0};
                report_received(plan, 0,
                                item.len < ZMTP_GREETING_SIZE ? item.len : ZMTP_GREETING_SIZE,
                                &note, st == ZMTP_OK ? NULL : &e);
                if (st != ZMTP_OK) {
                    raw = true;
                    break;
                }
                zmtp_connection_consume(&in, &item);
                continue;
            }
            if (st != ZMTP_OK) {
                note = (struct zmtp_frame_note){"bytes", NULL, 0};
                report_received(plan, item.bytes[0], item.len, &note, &e);
                raw = true;
                break;
            }
            st = zmtp_mech_receive(s->mech, fr->flags, fr->body, (size_t)fr->size, &note, &e);
            if (st == ZMTP_OK)
                st = zmtp_session_authorize(s, true, &e);
            transcript_frame(s->cfg.transcript, "in", fr->flags, fr->body, (size_t)fr->size,
                             note.kind, note.plain, note.plain_len);
            report_received(plan, fr->flags, (size_t)fr->size, &note, st == ZMTP_OK ? NULL : &e);
            while (zmtp_mech_next_event(s->mech, &ev))
                zmtp_event_free(&ev);
            while (zmtp_mech_next_frame(s->mech, &out))
                zmtp_mech_frame_free(&out);
            zmtp_connection_consume(&in, &item);
        }
        if (how != NULL)
            break;
        {
            struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
            int64_t left = until - zmtp_now_ms();
            /* Stopping: one last look, so a close that already arrived is still reported
             * (the runner stops the server as soon as the client it watches has exited). */
            bool last = stopped(stop);
            unsigned char *p;
            ssize_t r;

            if (left <= 0)
                break;
            if (poll(&pfd, 1, last ? 0 : (int)(left > SLICE_MS ? SLICE_MS : left)) <= 0) {
                if (last)
                    break;
                continue;
            }
            p = zmtp_connection_reserve(&in, 65536);
            if (p == NULL)
                break;
            r = recv(s->fd, p, 65536, 0);
            zmtp_connection_commit(&in, 65536, r > 0 ? (size_t)r : 0);
            if (r == 0)
                how = "fin";
            else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                how = "reset";
        }
    }
    if (how != NULL)
        fprintf(plan->events,
                "{\"event\":\"peer-closed\",\"after_ms\":%lld,\"how\":\"%s\",\"phase\":\"%s\"}\n",
                (long long)(zmtp_now_ms() - plan->applied_at), how, phase_now(s, in.greeting_done));
    else
        fprintf(plan->events, "{\"event\":\"peer-open\",\"waited_ms\":%lld,\"phase\":\"%s\"}\n",
                (long long)(zmtp_now_ms() - plan->applied_at), phase_now(s, in.greeting_done));
    fflush(plan->events);
    transcript_event(s->cfg.transcript, how != NULL ? "peer-closed" : "peer-open",
                     how != NULL ? how : "bound reached");
    zmtp_connection_free(&in);
}

/* Print the failure (stderr + error event); returns 1. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    char reason[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    contract_event_error("gsspeer", reason);
    return EXIT_FAIL;
}

/* Run session steps in slices until STEP says done, the bound, or an error. */
static enum zmtp_status handshake(struct fault_plan *plan, struct zmtp_session *s, int64_t deadline,
                                  const volatile sig_atomic_t *stop, struct zmtp_error *err)
{
    for (;;) {
        int64_t until = bound(plan, deadline), slice = zmtp_now_ms() + SLICE_MS;
        enum zmtp_status status;

        status = zmtp_session_handshake(s, slice < until ? slice : until, err);
        if (status != ZMTP_TIMEOUT || zmtp_now_ms() >= until || stopped(stop))
            return status;
    }
}

/* Server: wait for the client's first message (in slices, as above). */
static enum zmtp_status first_message(struct fault_plan *plan, struct zmtp_session *s,
                                      int64_t deadline, const volatile sig_atomic_t *stop,
                                      struct zmtp_event *ev, struct zmtp_error *err)
{
    for (;;) {
        int64_t until = bound(plan, deadline), slice = zmtp_now_ms() + SLICE_MS;
        enum zmtp_status status;

        status = zmtp_session_next_event(s, ev, slice < until ? slice : until, err);
        if (status == ZMTP_OK && ev->type != ZMTP_EVENT_MESSAGE) {
            zmtp_event_free(ev);
            continue;
        }
        if (status != ZMTP_TIMEOUT || zmtp_now_ms() >= until || stopped(stop))
            return status;
    }
}

int faults_run(struct fault_plan *plan, struct zmtp_session *s, int64_t handshake_deadline,
               int64_t deadline, const volatile sig_atomic_t *stop)
{
    struct zmtp_error err = {ZMTP_OK, ""};
    enum zmtp_status status = ZMTP_OK;
    struct fault *staged = find_fault(plan, FAULT_GREETING_STAGED);
    char why[256];
    struct zmtp_event request;
    bool have_request = false;

    plan->out = &s->out;
    plan->transcript = s->cfg.transcript;
    if (staged != NULL && !staged_greeting(plan, staged, s, deadline, why, sizeof(why)))
        return fail("%s", why);
    status = handshake(plan, s, handshake_deadline < deadline ? handshake_deadline : deadline, stop,
                       &err);
    if (status == ZMTP_OK && plan->server) {
        status = first_message(plan, s, deadline, stop, &request, &err);
        have_request = status == ZMTP_OK;
    }
    if (status == ZMTP_OK) {
        status = data_step(plan, s, have_request ? &request : NULL, deadline, &err);
    }
    if (have_request)
        zmtp_event_free(&request);
    if (plan->applied_at == 0)
        return fail("the exchange ended before the fault could be applied: %s",
                    status != ZMTP_OK ? err.text : "no frame it applies to was sent");
    observe(plan, s, deadline, stop);
    for (size_t i = 0; i < plan->count; i++)
        if (!plan->faults[i].applied)
            return fail("fault %s was not applied: %s", plan->faults[i].spec->name,
                        status != ZMTP_OK ? err.text : "no frame it applies to was sent");
    return EXIT_OK;
}

/* ---- gsspeer faults ---- */

int cmd_faults(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;

    if (argc > 1 && !json) {
        if (strcmp(argv[1], "--help") == 0) {
            puts("usage: gsspeer faults [--json]\n\n"
                 "List the faults of `gsspeer zmtp-server|zmtp-client --fault NAME[:ARG]`.");
            return EXIT_OK;
        }
        fprintf(stderr, "gsspeer: faults: unexpected argument \"%s\"\n", argv[1]);
        return EXIT_USAGE;
    }
    if (!json)
        printf("%-26s %-9s %-10s %s\n", "NAME[:ARG]", "PHASE", "ROLES", "DESCRIPTION");
    for (const struct fault_spec *f = fault_catalogue; f->name != NULL; f++) {
        const char *roles = f->roles == FAULT_ROLE_BOTH     ? "both"
                            : f->roles == FAULT_ROLE_CLIENT ? "client"
                                                            : "server";
        char name[64];

        if (json) {
            fputs("{\"name\":", stdout);
            json_put_string(stdout, f->name);
            fputs(",\"arg\":", stdout);
            json_put_string(stdout, f->arg_syntax);
            printf(",\"phase\":\"%s\",\"roles\":\"%s\",\"description\":",
                   fault_phase_name(f->phase), roles);
            json_put_string(stdout, f->summary);
            puts("}");
            continue;
        }
        snprintf(name, sizeof(name), "%s%s%s", f->name, f->arg_syntax[0] != '\0' ? ":" : "",
                 f->arg_syntax);
        printf("%-26s %-9s %-10s %s\n", name, fault_phase_name(f->phase), roles, f->summary);
    }
    if (!json)
        printf("\nEvents: fault, received (echo|pong|frame), peer-closed (after_ms, fin|reset, "
               "phase) or peer-open (waited_ms, phase) after --observe-ms (default %d).\n"
               "\"Closed promptly\" means after_ms <= %d.\n",
               FAULT_OBSERVE_DEFAULT_MS, FAULT_PROMPT_CLOSE_MS);
    return EXIT_OK;
}
