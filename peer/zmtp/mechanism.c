/* The ZMTP GSSAPI mechanism state machine: see mechanism.h. */
#include "zmtp/mechanism.h"

#include "util/builder.h"
#include "util/gss.h"
#include "util/rfc4121-gss.h"
#include "util/rfc4121.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Violations and disagreements reported per connection; later ones are counted, not told. */
enum { MAX_CHECK_REPORTS = 8 };

enum mech_state {
    STATE_START,     /* before zmtp_mech_start */
    STATE_TOKEN,     /* waiting for the peer's INITIATE */
    STATE_EMPTY,     /* server: waiting for the client's empty command frame */
    STATE_AUTHORIZE, /* server: waiting for the driver's zmtp_mech_authorize */
    STATE_READY,     /* waiting for the peer's READY */
    STATE_DATA,      /* both READYs done */
    STATE_FAILED,
};

/* A growable FIFO of fixed-size items. */
struct queue {
    void *items;
    size_t item_size, head, count, cap;
};

struct zmtp_mech {
    struct zmtp_mech_config cfg;
    const struct gssops *gss;   /* cfg.gss or gssops_mit */
    struct zmtp_faults faults;  /* a copy of *cfg.faults, or all zero */
    struct zmtp_deviations dev; /* a copy of *cfg.deviations, or all zero */
    enum mech_state state;
    gss_ctx_id_t ctx;
    bool context_complete;
    char *peer_principal;
    char peer_socket_type[256];
    struct queue frames;       /* struct zmtp_mech_frame */
    struct queue events;       /* struct zmtp_event */
    struct zmtp_part *pending; /* parts of the message being received */
    unsigned char **pending_blocks; /* pending_cap entries: NULL, or the allocation that
                                       pending[i].data lies in (the part owns it, not data) */
    size_t pending_count, pending_cap;
    unsigned char *in_block;      /* zmtp_mech_receive_block: the caller's buffer, until a part
                                     takes it over; NULL otherwise */
    const unsigned char *in_body; /* the body being received (a part of it may take in_block) */
    unsigned char *note_plain; /* rfc4121's last unwrapped plaintext */
    size_t note_cap;           /* bytes allocated at note_plain */
    gss_buffer_desc mit_plain; /* gss_unwrap's last output, kept until the next (no copy) */
    unsigned char *plain;      /* the last unwrapped plaintext: note_plain or mit_plain's */
    struct zmtp_error failure;
    uint64_t peer_seq; /* SND_SEQ of the peer's last RFC 4121 wrap token */
    bool peer_seq_known;
    /* the independent RFC 4121 path (data path or second checker), keyed at context completion */
    enum zmtp_wrap_path path; /* the data path that runs: the config's, or MIT when unkeyed */
    struct rfc4121_ctx r4;
    bool r4_keyed;
    int enctype;
    unsigned check_reports;  /* violations and disagreements reported so far */
    unsigned char *scratch;  /* rfc4121 tokens being built or checked */
    size_t scratch_cap;
};

/* ---- queues ---- */

static bool queue_push(struct queue *q, const void *item)
{
    if (q->head + q->count == q->cap) {
        if (q->head > 0) {
            memmove(q->items, (char *)q->items + q->head * q->item_size, q->count * q->item_size);
            q->head = 0;
        }
        if (q->count == q->cap) {
            size_t cap = q->cap == 0 ? 8 : q->cap * 2;
            void *items = realloc(q->items, cap * q->item_size);

            if (items == NULL)
                return false;
            q->items = items;
            q->cap = cap;
        }
    }
    memcpy((char *)q->items + (q->head + q->count) * q->item_size, item, q->item_size);
    q->count++;
    return true;
}

static bool queue_pop(struct queue *q, void *item)
{
    if (q->count == 0)
        return false;
    memcpy(item, (char *)q->items + q->head * q->item_size, q->item_size);
    q->head++;
    q->count--;
    if (q->count == 0)
        q->head = 0;
    return true;
}

/* ---- helpers ---- */

/* Make *BUF (of *CAP bytes) hold at least NEED bytes; its contents are not kept. */
static bool reserve(unsigned char **buf, size_t *cap, size_t need)
{
    unsigned char *grown;

    if (need <= *cap && *buf != NULL)
        return true;
    if (need == 0)
        need = 1;
    grown = malloc(need);
    if (grown == NULL)
        return false;
    free(*buf);
    *buf = grown;
    *cap = need;
    return true;
}

/* Record a GSS failure of CALL as the mechanism's error. */
static enum zmtp_status call_failed(struct zmtp_error *err, const char *call, OM_uint32 major,
                                    OM_uint32 minor)
{
    char *text = gssutil_status_text(major, minor);
    enum zmtp_status status;

    status = zmtp_fail(err, ZMTP_GSS_FAILURE, "%s: %s", call, text != NULL ? text : "?");
    free(text);
    return status;
}

/* Queue a frame whose body is B's contents (B is emptied); PLAIN (may be NULL) is copied
 * unless the config says nobody reads it. */
static enum zmtp_status queue_frame(struct zmtp_mech *m, uint8_t flags, struct builder *b,
                                    const char *kind, const unsigned char *plain, size_t plain_len,
                                    struct zmtp_error *err)
{
    struct zmtp_mech_frame f = {.flags = flags, .kind = kind};

    f.body = builder_detach(b, &f.len);
    if (f.body == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory building %s", kind);
    if (plain != NULL && !m->cfg.no_frame_plain) {
        f.plain = malloc(plain_len > 0 ? plain_len : 1);
        if (f.plain == NULL) {
            free(f.body);
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
        }
        memcpy(f.plain, plain, plain_len);
        f.plain_len = plain_len;
    }
    if (!queue_push(&m->frames, &f)) {
        zmtp_mech_frame_free(&f);
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory queueing %s", kind);
    }
    return ZMTP_OK;
}

/* Queue PLAIN: wrapped in a MESSAGE (COMMAND_FRAME: in a command frame) when encrypting, else
 * PLAIN_FLAGS + the body after its flags byte as an ordinary frame. */
static enum zmtp_status queue_payload_conf(struct zmtp_mech *m, const unsigned char *plain,
                                           size_t plain_len, bool command_frame,
                                           uint8_t plain_flags, const char *kind, bool conf,
                                           struct zmtp_error *err)
{
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int conf_state = 0;
    struct builder b;
    enum zmtp_status status;

    builder_init(&b);
    if (m->cfg.plaintext) {
        builder_add(&b, plain + 1, plain_len - 1);
        return queue_frame(m, plain_flags, &b, kind, NULL, 0, err);
    }
    if (m->path == ZMTP_WRAP_RFC4121) {
        bool dev_rrc = m->dev.rrc_header_copy && m->faults.wrap_rrc == 0;
        struct rfc4121_wrap_opts o = {.conf = conf,
                                      .rrc = dev_rrc ? 12 : m->faults.wrap_rrc,
                                      .rrc_in_copy = m->faults.wrap_rrc_in_copy ||
                                                     m->dev.rrc_header_copy};
        size_t need = rfc4121_wrap_len(&m->r4, &o, plain_len), token_len = 0;
        enum rfc4121_status st;

        if (!reserve(&m->scratch, &m->scratch_cap, need))
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for a %zu-byte token", need);
        st = rfc4121_wrap(&m->r4, &o, plain, plain_len, m->scratch, m->scratch_cap, &token_len);
        if (st != RFC4121_OK)
            return zmtp_fail(err, ZMTP_GSS_FAILURE, "rfc4121 wrap: %s", rfc4121_status_text(st));
        zmtp_message_encode(&b, m->scratch, token_len);
        return queue_frame(m, command_frame ? ZMTP_FLAG_COMMAND : 0, &b, kind, plain, plain_len,
                           err);
    }
    in.value = (void *)plain;
    in.length = plain_len;
    /* 38/ZMTP-GSSAPI de facto: gss_wrap(conf_req=1, default QOP). */
    major = m->gss->wrap(&minor, m->ctx, conf, GSS_C_QOP_DEFAULT, &in, &conf_state, &out);
    if (major != GSS_S_COMPLETE)
        return call_failed(err, "gss_wrap", major, minor);
    zmtp_message_encode(&b, out.value, out.length);
    m->gss->release_buffer(&minor, &out);
    status = queue_frame(m, command_frame ? ZMTP_FLAG_COMMAND : 0, &b, kind, plain, plain_len, err);
    return status;
}

/* queue_payload_conf with confidentiality on, unless the wrap_integrity_only fault says not. */
static enum zmtp_status queue_payload(struct zmtp_mech *m, const unsigned char *plain,
                                      size_t plain_len, bool command_frame, uint8_t plain_flags,
                                      const char *kind, struct zmtp_error *err)
{
    return queue_payload_conf(m, plain, plain_len, command_frame, plain_flags, kind,
                              !m->faults.wrap_integrity_only && !m->dev.integrity_only, err);
}

static enum zmtp_status queue_event(struct zmtp_mech *m, struct zmtp_event *ev,
                                    struct zmtp_error *err)
{
    if (!queue_push(&m->events, ev)) {
        zmtp_event_free(ev);
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory queueing an event");
    }
    return ZMTP_OK;
}

/* ---- lifecycle ---- */

enum zmtp_status zmtp_mech_new(const struct zmtp_mech_config *cfg, struct zmtp_mech **mech,
                               struct zmtp_error *err)
{
    struct zmtp_mech *m;

    *mech = NULL;
    if (cfg->socket_type == NULL || !zmtp_socket_type_valid(cfg->socket_type))
        return zmtp_fail(err, ZMTP_SOCKET_MISMATCH, "socket type: \"%s\" is not a ZMTP type",
                         cfg->socket_type != NULL ? cfg->socket_type : "(none)");
    if (cfg->role == ZMTP_ROLE_CLIENT && cfg->target == GSS_C_NO_NAME)
        return zmtp_fail(err, ZMTP_GSS_FAILURE, "client: no service principal to authenticate to");
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    m->cfg = *cfg;
    m->gss = cfg->gss != NULL ? cfg->gss : &gssops_mit;
    if (cfg->faults != NULL)
        m->faults = *cfg->faults;
    if (cfg->deviations != NULL)
        m->dev = *cfg->deviations;
    if (m->dev.rrc_header_copy)
        m->cfg.wrap_path = ZMTP_WRAP_RFC4121; /* the deviant tokens come from that path only */
    m->ctx = GSS_C_NO_CONTEXT;
    m->frames.item_size = sizeof(struct zmtp_mech_frame);
    m->events.item_size = sizeof(struct zmtp_event);
    *mech = m;
    return ZMTP_OK;
}

/* Give MIT's last unwrapped plaintext back (m->plain no longer points into it). */
static void release_mit_plain(struct zmtp_mech *m)
{
    OM_uint32 minor;

    if (m->mit_plain.value != NULL)
        m->gss->release_buffer(&minor, &m->mit_plain);
    m->mit_plain.value = NULL;
    m->mit_plain.length = 0;
}

/* Free a received part's memory: BLOCK when it has one (DATA lies in it), else DATA. */
static void part_release(unsigned char *data, unsigned char *block)
{
    free(block != NULL ? block : data);
}

static void clear_pending(struct zmtp_mech *m)
{
    for (size_t i = 0; i < m->pending_count; i++)
        part_release(m->pending[i].data, m->pending_blocks[i]);
    m->pending_count = 0;
}

void zmtp_mech_free(struct zmtp_mech *m)
{
    struct zmtp_mech_frame f;
    struct zmtp_event ev;
    OM_uint32 minor;

    if (m == NULL)
        return;
    while (zmtp_mech_next_frame(m, &f))
        zmtp_mech_frame_free(&f);
    while (zmtp_mech_next_event(m, &ev))
        zmtp_event_free(&ev);
    free(m->frames.items);
    free(m->events.items);
    clear_pending(m);
    free(m->pending);
    free(m->pending_blocks);
    free(m->note_plain);
    release_mit_plain(m);
    free(m->scratch);
    rfc4121_free(&m->r4);
    free(m->peer_principal);
    if (m->ctx != GSS_C_NO_CONTEXT)
        m->gss->delete_sec_context(&minor, &m->ctx, GSS_C_NO_BUFFER);
    free(m);
}

bool zmtp_mech_next_frame(struct zmtp_mech *m, struct zmtp_mech_frame *frame)
{
    return queue_pop(&m->frames, frame);
}

void zmtp_mech_frame_free(struct zmtp_mech_frame *frame)
{
    free(frame->body);
    free(frame->plain);
    frame->body = NULL;
    frame->plain = NULL;
}

bool zmtp_mech_next_event(struct zmtp_mech *m, struct zmtp_event *event)
{
    return queue_pop(&m->events, event);
}

void zmtp_event_free(struct zmtp_event *ev)
{
    for (size_t i = 0; i < ev->count; i++)
        part_release(ev->parts[i].data, ev->blocks != NULL ? ev->blocks[i] : NULL);
    free(ev->parts);
    free(ev->blocks);
    free(ev->topic);
    free(ev->principal);
    memset(ev, 0, sizeof(*ev));
}

bool zmtp_mech_ready(const struct zmtp_mech *m)
{
    return m->state == STATE_DATA;
}

bool zmtp_mech_failed(const struct zmtp_mech *m)
{
    return m->state == STATE_FAILED;
}

const char *zmtp_mech_peer_socket_type(const struct zmtp_mech *m)
{
    return m->peer_socket_type;
}

const char *zmtp_mech_peer_principal(const struct zmtp_mech *m)
{
    return m->peer_principal;
}

const char *zmtp_wrap_path_name(enum zmtp_wrap_path path)
{
    return path == ZMTP_WRAP_RFC4121 ? "rfc4121" : "mit";
}

const char *zmtp_check_verdict_name(enum zmtp_check_verdict verdict)
{
    switch (verdict) {
    case ZMTP_CHECK_CHECKING:
        return "checking";
    case ZMTP_CHECK_UNCHECKED:
        return "unchecked";
    case ZMTP_CHECK_VIOLATION:
        return "rfc4121-violation";
    case ZMTP_CHECK_DISAGREEMENT:
        return "disagreement";
    }
    return "unknown";
}

/* ---- the independent RFC 4121 path ---- */

/* Fill in what every report says (path, checker, enctype) and hand REP to the driver; after
 * MAX_CHECK_REPORTS violations or disagreements the rest are only counted. */
static void report_check(struct zmtp_mech *m, struct zmtp_token_check *rep)
{
    if (rep->verdict == ZMTP_CHECK_VIOLATION || rep->verdict == ZMTP_CHECK_DISAGREEMENT) {
        if (m->check_reports >= MAX_CHECK_REPORTS)
            return;
        m->check_reports++;
    }
    rep->path = m->path;
    rep->checker = !m->r4_keyed                ? "mit"
                   : m->path == ZMTP_WRAP_MIT ? "mit+rfc4121"
                                               : "rfc4121";
    rep->enctype = m->enctype;
    if (m->cfg.report != NULL)
        m->cfg.report(m->cfg.report_arg, rep);
}

/* At context completion: key the rfc4121 path when it is wanted (data path or checker) and
 * report which path runs. Not being able to key it fails nothing: MIT goes on alone and the
 * report says "unchecked" (our limitation, not the peer's). Only losing the context itself in
 * the copy (rfc4121-gss.h) is fatal. */
static enum zmtp_status key_rfc4121(struct zmtp_mech *m, struct zmtp_error *err)
{
    struct zmtp_token_check rep = {.verdict = ZMTP_CHECK_CHECKING};
    char detail[512];
    char *why = NULL;

    if (m->cfg.plaintext || (m->cfg.wrap_path == ZMTP_WRAP_MIT && !m->cfg.token_check))
        return ZMTP_OK;
    if (rfc4121_from_gss_copy(&m->r4, m->gss, &m->ctx, &m->enctype, &why)) {
        m->r4_keyed = true;
        m->path = m->cfg.wrap_path;
        snprintf(detail, sizeof(detail), "enctype %d: the peer's wrap tokens are opened by %s",
                 m->enctype,
                 m->path == ZMTP_WRAP_MIT ? "MIT's gss_unwrap and checked by rfc4121 as well"
                                          : "rfc4121 alone (MIT did the handshake)");
    } else {
        if (m->ctx == GSS_C_NO_CONTEXT) {
            enum zmtp_status status = zmtp_fail(err, ZMTP_GSS_FAILURE,
                                                "keying the rfc4121 path: %s",
                                                why != NULL ? why : "out of memory");
            free(why);
            return status;
        }
        m->path = ZMTP_WRAP_MIT;
        rep.verdict = ZMTP_CHECK_UNCHECKED;
        snprintf(detail, sizeof(detail),
                 "the rfc4121 path could not be keyed (%s): MIT alone %s the peer's tokens",
                 why != NULL ? why : "out of memory",
                 m->cfg.wrap_path == ZMTP_WRAP_MIT ? "checks" : "wraps and checks");
        free(why);
    }
    rep.detail = detail;
    report_check(m, &rep);
    return ZMTP_OK;
}

/* Copy LEN bytes of plaintext into m->note_plain, which becomes m->plain. */
static enum zmtp_status keep_plain(struct zmtp_mech *m, const void *plain, size_t len,
                                   struct zmtp_error *err)
{
    if (!reserve(&m->note_plain, &m->note_cap, len))
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for a %zu-byte plaintext", len);
    if (len > 0)
        memcpy(m->note_plain, plain, len);
    m->plain = m->note_plain;
    return ZMTP_OK;
}

/* The second checker's look at one token, taken before MIT's gss_unwrap sees it: MIT
 * unrotates a token with RRC != 0 in the caller's buffer (and zeroes its RRC field), so the
 * token is only pristine before. */
struct precheck {
    bool tried;                    /* false: no memory, the token is not judged */
    enum rfc4121_status st;        /* rfc4121_unwrap's verdict */
    struct rfc4121_token_info info;
    uint64_t expected;             /* the SND_SEQ rfc4121 expected */
    size_t len, plain_len;         /* token and (on RFC4121_OK) plaintext in m->scratch */
    unsigned char header[RFC4121_HEADER];
};

/* Open the peer's token (LEN octets at TOKEN) with rfc4121 into m->scratch. */
static void check_before(struct zmtp_mech *m, const unsigned char *token, size_t len,
                         struct precheck *pc)
{
    memset(pc, 0, sizeof(*pc));
    if (!reserve(&m->scratch, &m->scratch_cap, len))
        return;
    pc->tried = true;
    pc->len = len;
    pc->expected = m->r4.recv_seq;
    memcpy(pc->header, token, len < RFC4121_HEADER ? len : RFC4121_HEADER);
    pc->st = rfc4121_unwrap(&m->r4, token, len, m->scratch, m->scratch_cap, &pc->plain_len,
                            &pc->info);
}

/* Compare what rfc4121 found (PC) with MIT's verdict on the KIND token (MIT_MAJOR, its
 * plaintext MIT_OUT) and report where the two part ways. Never fails the connection: MIT
 * stays the judge of record. */
static void check_after(struct zmtp_mech *m, const char *kind, const struct precheck *pc,
                        OM_uint32 mit_major, const gss_buffer_desc *mit_out)
{
    /* MIT "accepts" only with a plain complete: a supplementary bit (duplicate, old, gap)
     * means MIT noticed the token's sequence number itself */
    bool mit_ok = mit_major == GSS_S_COMPLETE;
    OM_uint32 routine = GSS_ROUTINE_ERROR(mit_major);
    unsigned long long seq = (unsigned long long)pc->info.seq;
    enum zmtp_check_verdict verdict = ZMTP_CHECK_VIOLATION;
    char detail[512];

    if (!pc->tried)
        return;
    if (mit_ok && pc->st != RFC4121_OK) {
        snprintf(detail, sizeof(detail),
                 "%s token of %zu octets (SND_SEQ %llu): MIT's gss_unwrap accepted it, RFC 4121 "
                 "forbids it: %s",
                 kind, pc->len, seq, rfc4121_status_text(pc->st));
    } else if (mit_ok && !pc->info.in_sequence) {
        snprintf(detail, sizeof(detail),
                 "%s token of %zu octets: SND_SEQ %llu where %llu was the peer's next sequence "
                 "number (MIT's gss_unwrap accepted it)",
                 kind, pc->len, seq, (unsigned long long)pc->expected);
    } else if (mit_ok && (pc->plain_len != mit_out->length ||
                          (pc->plain_len > 0 &&
                           memcmp(m->scratch, mit_out->value, pc->plain_len) != 0))) {
        verdict = ZMTP_CHECK_DISAGREEMENT;
        snprintf(detail, sizeof(detail),
                 "%s token of %zu octets (SND_SEQ %llu): MIT and rfc4121 opened it to different "
                 "plaintexts (%zu and %zu octets)",
                 kind, pc->len, seq, mit_out->length, pc->plain_len);
    } else if (!mit_ok && pc->st == RFC4121_OK && pc->info.in_sequence &&
               (routine == GSS_S_BAD_SIG || routine == GSS_S_DEFECTIVE_TOKEN)) {
        /* only refusals about the token itself (not an expired context, say) */
        char *text = gssutil_status_text(mit_major, 0);

        verdict = ZMTP_CHECK_DISAGREEMENT;
        snprintf(detail, sizeof(detail),
                 "%s token of %zu octets (SND_SEQ %llu): MIT's gss_unwrap refused it (%s), "
                 "rfc4121 accepts it",
                 kind, pc->len, seq, text != NULL ? text : "?");
        free(text);
    } else {
        return;
    }
    {
        struct zmtp_token_check rep = {.verdict = verdict, .kind = kind, .seq = pc->info.seq};

        rep.header = pc->len >= RFC4121_HEADER ? pc->header : NULL;
        rep.detail = detail;
        report_check(m, &rep);
    }
}

/* The rfc4121 data path: open the peer's KIND token into m->note_plain (*PLAIN_LEN bytes),
 * *CONF its Sealed flag. A refusal (any RFC 4121 check, or a sequence number not the next one
 * unless a deviation tolerates it) fails like a gss_unwrap failure. */
static enum zmtp_status rfc4121_open(struct zmtp_mech *m, const char *kind,
                                     const unsigned char *token, size_t len, size_t *plain_len,
                                     int *conf, struct zmtp_error *err)
{
    struct rfc4121_token_info info;
    uint64_t expected = m->r4.recv_seq;
    enum rfc4121_status st;

    if (!reserve(&m->note_plain, &m->note_cap, len))
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for a %zu-byte token", len);
    m->plain = m->note_plain;
    st = rfc4121_unwrap(&m->r4, token, len, m->note_plain, m->note_cap, plain_len, &info);
    if (st != RFC4121_OK)
        return zmtp_fail(err, ZMTP_GSS_FAILURE,
                         "rfc4121 unwrap of the %s token at offset 12 (SND_SEQ %llu): %s", kind,
                         (unsigned long long)info.seq, rfc4121_status_text(st));
    if (!info.in_sequence && !m->dev.accept_reorder && !m->dev.accept_replay)
        return zmtp_fail(err, ZMTP_UNEXPECTED,
                         "%s token at offset 12: SND_SEQ %llu, expected %llu (replayed, "
                         "reordered or missing token)",
                         kind, (unsigned long long)info.seq, (unsigned long long)expected);
    *conf = info.conf;
    return ZMTP_OK;
}

/* The MIT data path: gss_unwrap the peer's KIND token into m->mit_plain (*PLAIN_LEN bytes at
 * m->plain, kept there until the next unwrap rather than copied), *CONF its conf_state, *MAJOR
 * gss_unwrap's status; the second checker looks at it too. */
static enum zmtp_status mit_open(struct zmtp_mech *m, const char *kind, const unsigned char *token,
                                 size_t len, size_t *plain_len, int *conf, OM_uint32 *major,
                                 struct zmtp_error *err)
{
    gss_buffer_desc in = {len, (void *)token};
    gss_buffer_desc *out = &m->mit_plain;
    OM_uint32 minor;
    enum zmtp_status status = ZMTP_OK;
    bool checking = m->r4_keyed && m->cfg.token_check;
    struct precheck pc;

    release_mit_plain(m);
    if (checking)
        check_before(m, token, len, &pc);
    *major = m->gss->unwrap(&minor, m->ctx, &in, out, conf, NULL);
    if (checking)
        check_after(m, kind, &pc, *major, out);
    /* Supplementary bits (duplicate, old, unsequenced token) are failures too: a replayed or
     * reordered token must not be delivered. */
    if (*major != GSS_S_COMPLETE && !(m->dev.accept_replay && !GSS_ERROR(*major)))
        status = call_failed(err, "gss_unwrap of the MESSAGE token at offset 12", *major, minor);
    else if (out->length == 0 || out->value == NULL)
        status = keep_plain(m, NULL, 0, err); /* an empty plaintext, never a NULL one */
    else
        m->plain = out->value;
    *plain_len = out->length;
    if (status != ZMTP_OK || m->plain != out->value)
        release_mit_plain(m);
    return status;
}

/* ---- handshake ---- */

/* gss_display_name of NAME through the table, as a new C string; NULL on failure. */
static char *display_name(const struct zmtp_mech *m, gss_name_t name)
{
    gss_buffer_desc buffer = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor;
    char *text = NULL;

    if (GSS_ERROR(m->gss->display_name(&minor, name, &buffer, NULL)))
        return NULL;
    text = malloc(buffer.length + 1);
    if (text != NULL) {
        if (buffer.length > 0)
            memcpy(text, buffer.value, buffer.length);
        text[buffer.length] = '\0';
    }
    m->gss->release_buffer(&minor, &buffer);
    return text;
}

/* Remember the peer's principal once the context is complete. */
static void note_peer_principal(struct zmtp_mech *m, gss_name_t source)
{
    OM_uint32 minor;
    gss_name_t name = source;

    if (m->peer_principal != NULL)
        return;
    /* Ask for the name only of a context still valid: MIT's gss_inquire_context fails an
     * expired one (GSS_S_CONTEXT_EXPIRED) after making the names and never hands them out,
     * a leak LeakSanitizer reported in the ticket-expiry cases. */
    if (name == GSS_C_NO_NAME && (GSS_ERROR(m->gss->inquire_context(
                                      &minor, m->ctx, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) ||
                                  GSS_ERROR(m->gss->inquire_context(&minor, m->ctx, NULL, &name,
                                                                    NULL, NULL, NULL, NULL, NULL))))
        return;
    m->peer_principal = display_name(m, name);
    if (name != source)
        m->gss->release_name(&minor, &name);
}

/* Queue the token GSS produced: INITIATE(token), or the empty command frame when there is
 * none (38/ZMTP-GSSAPI de facto: the client, once, after its context completes). */
static enum zmtp_status queue_token(struct zmtp_mech *m, const gss_buffer_desc *token,
                                    struct zmtp_error *err)
{
    struct builder b;

    builder_init(&b);
    if (token->length == 0 && m->dev.skip_empty_frame && m->cfg.role == ZMTP_ROLE_CLIENT)
        return ZMTP_OK; /* deviation: the empty command frame is never sent */
    if (token->length == 0)
        return queue_frame(m, ZMTP_FLAG_COMMAND, &b, "empty", NULL, 0, err);
    zmtp_initiate_encode(&b, token->value, token->length);
    return queue_frame(m, ZMTP_FLAG_COMMAND, &b, "INITIATE", NULL, 0, err);
}

/* Client: one gss_init_sec_context step with INPUT (NULL for the first). */
static enum zmtp_status client_step(struct zmtp_mech *m, const unsigned char *input, size_t len,
                                    struct zmtp_error *err)
{
    gss_buffer_desc in = {len, (void *)input}, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor, minor2;
    enum zmtp_status status;

    /* libzmq: default mechanism, MUTUAL | REPLAY, no channel bindings. */
    major = m->gss->init_sec_context(&minor, m->cfg.cred, &m->ctx, m->cfg.target, GSS_C_NO_OID,
                                     (m->dev.no_mutual ? 0 : GSS_C_MUTUAL_FLAG) | GSS_C_REPLAY_FLAG,
                                     0, GSS_C_NO_CHANNEL_BINDINGS,
                                     input != NULL ? &in : GSS_C_NO_BUFFER, NULL, &out, NULL, NULL);
    if (GSS_ERROR(major)) {
        m->gss->release_buffer(&minor2, &out);
        return call_failed(err, "gss_init_sec_context", major, minor);
    }
    status = queue_token(m, &out, err);
    m->gss->release_buffer(&minor2, &out);
    if (status != ZMTP_OK)
        return status;
    if (major == GSS_S_COMPLETE) {
        m->context_complete = true;
        note_peer_principal(m, GSS_C_NO_NAME);
        status = key_rfc4121(m, err);
        if (status != ZMTP_OK)
            return status;
        m->state = STATE_READY;
    } else {
        m->state = STATE_TOKEN;
    }
    return ZMTP_OK;
}

/* Queue our READY: wrapped (00 "05 READY" props) in a command frame, or a plain READY; the
 * ready_* faults change its names or Socket-Type value. */
static enum zmtp_status queue_ready(struct zmtp_mech *m, struct zmtp_error *err)
{
    struct builder b;
    unsigned char *plain;
    size_t plain_len;
    enum zmtp_status status;
    const struct zmtp_mech_config *c = &m->cfg;
    const struct zmtp_faults *f = &m->faults;
    const char *type_name = f->ready_type_name != NULL ? f->ready_type_name : "Socket-Type";
    const char *identity_name =
        f->ready_identity_name != NULL ? f->ready_identity_name : "Identity";

    if (!zmtp_socket_type_has_identity(c->socket_type))
        identity_name = NULL;
    builder_init(&b);
    builder_add_u8(&b, 0);
    zmtp_ready_encode_named(&b, type_name,
                            f->ready_socket_type != NULL ? f->ready_socket_type : c->socket_type,
                            identity_name, c->identity, c->identity_len);
    plain = builder_detach(&b, &plain_len);
    if (plain == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory building READY");
    if (m->dev.ready_unwrapped && !c->plaintext) {
        /* deviation: a plain READY command although encryption is on */
        builder_add(&b, plain + 1, plain_len - 1);
        free(plain);
        return queue_frame(m, ZMTP_FLAG_COMMAND, &b, "READY", NULL, 0, err);
    }
    status = queue_payload(m, plain, plain_len, true, ZMTP_FLAG_COMMAND, "READY", err);
    free(plain);
    return status;
}

enum zmtp_status zmtp_mech_start(struct zmtp_mech *m, struct zmtp_error *err)
{
    enum zmtp_status status = ZMTP_OK;

    if (m->state != STATE_START)
        return zmtp_fail(err, ZMTP_UNEXPECTED, "mechanism already started");
    if (m->cfg.role == ZMTP_ROLE_CLIENT)
        status = client_step(m, NULL, 0, err);
    else
        m->state = STATE_TOKEN;
    if (status != ZMTP_OK)
        m->state = STATE_FAILED;
    return status;
}

/* Server: one gss_accept_sec_context step with the client's token. */
static enum zmtp_status server_step(struct zmtp_mech *m, const unsigned char *input, size_t len,
                                    struct zmtp_error *err)
{
    gss_buffer_desc in = {len, (void *)input}, out = GSS_C_EMPTY_BUFFER;
    gss_name_t client = GSS_C_NO_NAME;
    OM_uint32 major, minor, minor2;
    enum zmtp_status status;

    major = m->gss->accept_sec_context(&minor, &m->ctx, m->cfg.cred, &in, GSS_C_NO_CHANNEL_BINDINGS,
                                       &client, NULL, &out, NULL, NULL, NULL);
    if (GSS_ERROR(major)) {
        m->gss->release_buffer(&minor2, &out);
        if (client != GSS_C_NO_NAME)
            m->gss->release_name(&minor2, &client);
        return call_failed(err, "gss_accept_sec_context", major, minor);
    }
    status = queue_token(m, &out, err);
    m->gss->release_buffer(&minor2, &out);
    if (status == ZMTP_OK && major == GSS_S_COMPLETE) {
        m->context_complete = true;
        note_peer_principal(m, client);
        status = key_rfc4121(m, err);
        m->state = STATE_EMPTY;
    }
    if (client != GSS_C_NO_NAME)
        m->gss->release_name(&minor2, &client);
    return status;
}

/* Server, after the empty frame: ask the driver whether the client may in. */
static enum zmtp_status server_ask_authorization(struct zmtp_mech *m, struct zmtp_error *err)
{
    struct zmtp_event ev = {.type = ZMTP_EVENT_AUTHORIZE};
    enum zmtp_status status;

    ev.principal = strdup(m->peer_principal != NULL ? m->peer_principal : "");
    if (ev.principal == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    status = queue_event(m, &ev, err);
    if (status == ZMTP_OK)
        m->state = STATE_AUTHORIZE;
    return status;
}

bool zmtp_mech_awaiting_authorization(const struct zmtp_mech *m)
{
    return m->state == STATE_AUTHORIZE;
}

/* The answer: record it as an event, then send READY first (allowed) or fail. */
enum zmtp_status zmtp_mech_authorize(struct zmtp_mech *m, bool allowed, struct zmtp_error *err)
{
    struct zmtp_event ev = {.type = ZMTP_EVENT_AUTHORIZED, .allowed = allowed};
    const char *who = m->peer_principal != NULL ? m->peer_principal : "";
    enum zmtp_status status;

    if (m->state != STATE_AUTHORIZE)
        return zmtp_fail(err, ZMTP_UNEXPECTED, "no authorization question is pending");
    ev.principal = strdup(who);
    if (ev.principal == NULL)
        status = zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    else
        status = queue_event(m, &ev, err);
    if (status == ZMTP_OK && !allowed)
        status = zmtp_fail(err, ZMTP_DENIED, "client principal %s is not allowed", who);
    if (status == ZMTP_OK)
        status = queue_ready(m, err);
    if (status != ZMTP_OK) {
        m->failure = *err;
        m->state = STATE_FAILED;
        return status;
    }
    m->state = STATE_READY;
    return ZMTP_OK;
}

/* Deviations initiate_lenient / accept_trailing: the token of a NAME command (one length
 * octet, NAME, u32 token length, token) taken up to its length, whatever follows it. */
static bool lenient_token(const unsigned char *body, size_t len, const char *name,
                          const unsigned char **token, size_t *token_len)
{
    size_t n = strlen(name), at = 1 + n + 4;
    uint32_t claimed;

    if (len < at || body[0] != n || memcmp(body + 1, name, n) != 0)
        return false;
    claimed = (uint32_t)body[at - 4] << 24 | (uint32_t)body[at - 3] << 16 |
              (uint32_t)body[at - 2] << 8 | body[at - 1];
    if (claimed == 0 || claimed > len - at)
        return false;
    *token = body + at;
    *token_len = claimed;
    return true;
}

/* Unwrap the token of the peer's KIND ("READY", "MESSAGE") MESSAGE body with the data path
 * that runs; on success m->plain holds the plaintext. */
static enum zmtp_status unwrap_message(struct zmtp_mech *m, const char *kind,
                                       const unsigned char *body, size_t len, size_t *plain_len,
                                       struct zmtp_error *err)
{
    const unsigned char *token;
    size_t token_len;
    OM_uint32 major = GSS_S_COMPLETE;
    int conf_state = 0;
    enum zmtp_status status;

    status = zmtp_message_decode(body, len, &token, &token_len, err);
    if (status != ZMTP_OK && m->dev.accept_trailing &&
        lenient_token(body, len, "MESSAGE", &token, &token_len))
        status = ZMTP_OK;
    if (status != ZMTP_OK)
        return status;
    if (m->path == ZMTP_WRAP_RFC4121)
        status = rfc4121_open(m, kind, token, token_len, plain_len, &conf_state, err);
    else
        status = mit_open(m, kind, token, token_len, plain_len, &conf_state, &major, err);
    if (status != ZMTP_OK)
        return status;
    if (!conf_state && !m->dev.accept_integrity_only)
        return zmtp_fail(err, ZMTP_INTEGRITY_ONLY,
                         "MESSAGE token at offset 12: conf_state 0 (integrity only) while "
                         "encryption is on");
    {
        /* libzmq asks for no SEQUENCE, so MIT delivers reordered tokens; the reference does
         * not: each RFC 4121 token must carry the peer's next sequence number. */
        struct zmtp_wrap_header h;

        bool check = !m->dev.accept_reorder && major == GSS_S_COMPLETE;

        if (zmtp_wrap_header_decode(token, token_len, &h, NULL) == ZMTP_OK) {
            if (check && m->peer_seq_known && h.snd_seq != m->peer_seq + 1)
                return zmtp_fail(err, ZMTP_UNEXPECTED,
                                 "MESSAGE token at offset 12: SND_SEQ %llu, expected %llu "
                                 "(reordered or missing token)",
                                 (unsigned long long)h.snd_seq,
                                 (unsigned long long)(m->peer_seq + 1));
            m->peer_seq = h.snd_seq;
            m->peer_seq_known = true;
        }
    }
    return ZMTP_OK;
}

/* Check the peer's READY properties (body "05 READY" props) and remember its Socket-Type. */
static enum zmtp_status process_ready(struct zmtp_mech *m, const unsigned char *body, size_t len,
                                      struct zmtp_error *err)
{
    struct zmtp_metadata md;
    struct zmtp_property found;
    const struct zmtp_property *type = &found;
    enum zmtp_status status;

    status = zmtp_ready_decode(body, len, &md, err);
    if (status != ZMTP_OK)
        return status;
    if (!zmtp_metadata_lookup(&md, "Socket-Type", &found))
        return zmtp_fail(err, ZMTP_SOCKET_MISMATCH, "READY: no Socket-Type property");
    if (m->dev.metadata_name_case &&
        (type->name_len != 11 || memcmp(type->name, "Socket-Type", 11) != 0))
        return ZMTP_OK; /* deviation: names compared case-sensitively, the type never checked */
    if (m->dev.socket_type_unchecked && type->value_len >= sizeof(m->peer_socket_type))
        return zmtp_fail(err, ZMTP_SOCKET_MISMATCH, "READY Socket-Type: %zu octets",
                         type->value_len);
    if (!m->dev.socket_type_unchecked &&
        !zmtp_socket_types_compatible(m->cfg.socket_type, (const char *)type->value,
                                      type->value_len))
        return zmtp_fail(err, ZMTP_SOCKET_MISMATCH,
                         "READY Socket-Type: peer %.*s cannot talk to our %s",
                         (int)(type->value_len < 64 ? type->value_len : 64),
                         (const char *)type->value, m->cfg.socket_type);
    memcpy(m->peer_socket_type, type->value, type->value_len);
    m->peer_socket_type[type->value_len] = '\0';
    return ZMTP_OK;
}

/* The peer's READY frame in STATE_READY. */
static enum zmtp_status receive_ready(struct zmtp_mech *m, const unsigned char *body, size_t len,
                                      struct zmtp_frame_note *note, struct zmtp_error *err)
{
    struct zmtp_command c;
    struct zmtp_event ev = {.type = ZMTP_EVENT_READY};
    enum zmtp_status status;

    status = zmtp_command_decode(body, len, &c, err);
    if (status != ZMTP_OK)
        return status;
    if (m->cfg.plaintext) {
        if (zmtp_command_is(&c, "MESSAGE"))
            return zmtp_fail(err, ZMTP_UNEXPECTED,
                             "READY expected: peer sent a wrapped MESSAGE but PLAINTEXT is on "
                             "here (PLAINTEXT mismatch)");
        if (!zmtp_command_is(&c, "READY"))
            return zmtp_fail(err, ZMTP_UNEXPECTED, "READY expected: got %.*s command",
                             (int)c.name_len, c.name);
        note->kind = "READY";
        status = process_ready(m, body, len, err);
    } else {
        struct zmtp_wrapped w;
        size_t plain_len = 0;

        if (zmtp_command_is(&c, "READY") && m->dev.accept_plain_ready) {
            note->kind = "READY"; /* deviation: a plain READY taken while encrypting */
            status = process_ready(m, body, len, err);
            goto ready_done;
        }
        if (zmtp_command_is(&c, "READY"))
            return zmtp_fail(err, ZMTP_UNEXPECTED,
                             "READY expected wrapped in MESSAGE: peer sent a plain READY "
                             "(PLAINTEXT mismatch)");
        if (!zmtp_command_is(&c, "MESSAGE"))
            return zmtp_fail(err, ZMTP_UNEXPECTED, "READY expected: got %.*s command",
                             (int)c.name_len, c.name);
        status = unwrap_message(m, "READY", body, len, &plain_len, err);
        if (status != ZMTP_OK)
            return status;
        note->kind = "READY";
        note->plain = m->plain;
        note->plain_len = plain_len;
        status = zmtp_wrapped_decode(m->plain, plain_len, &w, err);
        if (status != ZMTP_OK)
            return status;
        if (w.flags & ZMTP_WRAP_MORE)
            return zmtp_fail(err, ZMTP_BAD_WRAPPED, "wrapped flags: MORE set on READY (0x%02x)",
                             w.flags);
        status = process_ready(m, w.body, w.len, err);
    }
ready_done:
    if (status != ZMTP_OK)
        return status;
    if (m->cfg.role == ZMTP_ROLE_CLIENT) {
        /* READY order: the server's first, then ours. */
        status = queue_ready(m, err);
        if (status != ZMTP_OK)
            return status;
    }
    m->state = STATE_DATA;
    return queue_event(m, &ev, err);
}

/* The peer's ERROR command (BODY): fatal, its reason becomes the close reason. */
static enum zmtp_status peer_error(const unsigned char *body, size_t len,
                                   struct zmtp_frame_note *note, struct zmtp_error *err)
{
    const char *reason;
    size_t reason_len;
    enum zmtp_status status;

    note->kind = "ERROR";
    status = zmtp_error_decode(body, len, &reason, &reason_len, err);
    if (status != ZMTP_OK)
        return status;
    return zmtp_fail(err, ZMTP_PEER_ERROR, "ERROR \"%.*s\"", (int)reason_len, reason);
}

/* ---- data phase ---- */

static enum zmtp_status queue_subscription_event(struct zmtp_mech *m,
                                                 enum zmtp_subscription_kind kind,
                                                 const unsigned char *topic, size_t len,
                                                 struct zmtp_error *err)
{
    struct zmtp_event ev = {.type =
                                kind == ZMTP_SUBSCRIBE ? ZMTP_EVENT_SUBSCRIBE : ZMTP_EVENT_CANCEL};

    ev.topic = malloc(len > 0 ? len : 1);
    if (ev.topic == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    if (len > 0)
        memcpy(ev.topic, topic, len);
    ev.topic_len = len;
    return queue_event(m, &ev, err);
}

static bool is_publisher(const struct zmtp_mech *m)
{
    return strcmp(m->cfg.socket_type, "PUB") == 0 || strcmp(m->cfg.socket_type, "XPUB") == 0;
}

/* A command inside the data phase (PING, PONG, SUBSCRIBE, CANCEL); FLAGS as for
 * zmtp_subscription_decode. */
static enum zmtp_status data_command(struct zmtp_mech *m, uint8_t flags, const unsigned char *body,
                                     size_t len, struct zmtp_frame_note *note,
                                     struct zmtp_error *err)
{
    struct zmtp_command c;
    enum zmtp_status status;

    status = zmtp_command_decode(body, len, &c, err);
    if (status != ZMTP_OK)
        return status;
    if (zmtp_command_is(&c, "PING")) {
        const unsigned char *context;
        size_t context_len;
        uint16_t ttl;
        struct builder b;
        unsigned char *plain;
        size_t plain_len;

        note->kind = "PING";
        status = zmtp_ping_decode(body, len, &ttl, &context, &context_len, err);
        if (status != ZMTP_OK || m->dev.no_pong)
            return status;
        builder_init(&b);
        builder_add_u8(&b, ZMTP_WRAP_COMMAND);
        zmtp_pong_encode(&b, context, context_len);
        plain = builder_detach(&b, &plain_len);
        if (plain == NULL)
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
        status = queue_payload(m, plain, plain_len, false, ZMTP_FLAG_COMMAND, "PONG", err);
        free(plain);
        return status;
    }
    if (zmtp_command_is(&c, "PONG")) {
        const unsigned char *context;
        size_t context_len;

        note->kind = "PONG";
        return zmtp_pong_decode(body, len, &context, &context_len, err);
    }
    if ((zmtp_command_is(&c, "SUBSCRIBE") || zmtp_command_is(&c, "CANCEL")) && is_publisher(m)) {
        enum zmtp_subscription_kind kind;
        const unsigned char *topic;
        size_t topic_len;

        note->kind = zmtp_command_is(&c, "SUBSCRIBE") ? "SUBSCRIBE" : "CANCEL";
        status = zmtp_subscription_decode(flags, body, len, &kind, &topic, &topic_len, err);
        if (status != ZMTP_OK)
            return status;
        return queue_subscription_event(m, kind, topic, topic_len, err);
    }
    if (zmtp_command_is(&c, "ERROR"))
        return peer_error(body, len, note, err);
    return zmtp_fail(err, ZMTP_UNEXPECTED, "%.*s command after READY", (int)c.name_len, c.name);
}

/* One data part with MORE; a PUB reads every part as a subscription. */
static enum zmtp_status data_part(struct zmtp_mech *m, uint8_t flags, bool more,
                                  const unsigned char *data, size_t len,
                                  struct zmtp_frame_note *note, struct zmtp_error *err)
{
    struct zmtp_event ev = {.type = ZMTP_EVENT_MESSAGE};
    struct zmtp_part *part;
    bool dropped;

    if (is_publisher(m)) {
        enum zmtp_subscription_kind kind;
        const unsigned char *topic;
        size_t topic_len;
        enum zmtp_status status;

        note->kind = "subscription";
        status = zmtp_subscription_decode(flags, data, len, &kind, &topic, &topic_len, err);
        if (status != ZMTP_OK)
            return status;
        return queue_subscription_event(m, kind, topic, topic_len, err);
    }
    if (m->pending_count == m->pending_cap) {
        size_t cap = m->pending_cap == 0 ? 4 : m->pending_cap * 2;
        struct zmtp_part *parts = realloc(m->pending, cap * sizeof(*parts));
        unsigned char **blocks;

        if (parts == NULL)
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
        m->pending = parts;
        blocks = realloc(m->pending_blocks, cap * sizeof(*blocks));
        if (blocks == NULL)
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
        m->pending_blocks = blocks;
        m->pending_cap = cap;
    }
    part = &m->pending[m->pending_count];
    dropped = !more && m->dev.drop_last_part && m->pending_count > 0;
    if (m->in_block != NULL && data == m->in_body && len > 0 && !dropped) {
        /* the received frame's body as it lies in the caller's buffer: no copy */
        part->data = (unsigned char *)data;
        m->pending_blocks[m->pending_count] = m->in_block;
        m->in_block = NULL;
    } else {
        part->data = malloc(len > 0 ? len : 1);
        if (part->data == NULL)
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for a %zu-byte part", len);
        if (len > 0)
            memcpy(part->data, data, len);
        m->pending_blocks[m->pending_count] = NULL;
    }
    part->len = len;
    m->pending_count++;
    if (more)
        return ZMTP_OK;
    if (dropped) {
        m->pending_count--; /* deviation: the last part of a multipart message is lost */
        part_release(part->data, m->pending_blocks[m->pending_count]);
    }
    ev.parts = malloc(m->pending_count * sizeof(*ev.parts));
    if (ev.parts == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    memcpy(ev.parts, m->pending, m->pending_count * sizeof(*ev.parts));
    ev.count = m->pending_count;
    for (size_t i = 0; i < m->pending_count && ev.blocks == NULL; i++) {
        if (m->pending_blocks[i] == NULL)
            continue;
        ev.blocks = malloc(m->pending_count * sizeof(*ev.blocks));
        if (ev.blocks == NULL) {
            free(ev.parts);
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
        }
        memcpy(ev.blocks, m->pending_blocks, m->pending_count * sizeof(*ev.blocks));
    }
    m->pending_count = 0;
    return queue_event(m, &ev, err);
}

static enum zmtp_status receive_data(struct zmtp_mech *m, uint8_t flags, const unsigned char *body,
                                     size_t len, struct zmtp_frame_note *note,
                                     struct zmtp_error *err)
{
    struct zmtp_command c;
    struct zmtp_wrapped w;
    size_t plain_len = 0;
    enum zmtp_status status;

    if (m->cfg.plaintext) {
        note->kind = "data";
        if (flags & ZMTP_FLAG_COMMAND)
            return data_command(m, ZMTP_WRAP_COMMAND, body, len, note, err);
        return data_part(m, 0, (flags & ZMTP_FLAG_MORE) != 0, body, len, note, err);
    }
    /* Encryption on: every frame is a MESSAGE (libzmq accepts it in a command frame too). */
    status = zmtp_command_decode(body, len, &c, NULL);
    if ((status != ZMTP_OK || !zmtp_command_is(&c, "MESSAGE")) && m->dev.accept_unwrapped &&
        !(flags & ZMTP_FLAG_COMMAND)) {
        note->kind = "data"; /* deviation: unwrapped data delivered while encrypting */
        return data_part(m, 0, (flags & ZMTP_FLAG_MORE) != 0, body, len, note, err);
    }
    if (status != ZMTP_OK || !zmtp_command_is(&c, "MESSAGE"))
        return zmtp_fail(err, ZMTP_UNEXPECTED,
                         "%s frame of %zu bytes after READY is not a wrapped MESSAGE (unwrapped "
                         "data while encryption is on)",
                         (flags & ZMTP_FLAG_COMMAND) ? "command" : "message", len);
    status = unwrap_message(m, "MESSAGE", body, len, &plain_len, err);
    if (status == ZMTP_GSS_FAILURE && m->dev.ignore_bad_token) {
        note->kind = "MESSAGE"; /* deviation: a token GSS refused is dropped, not fatal */
        return ZMTP_OK;
    }
    if (status != ZMTP_OK)
        return status;
    note->kind = "MESSAGE";
    note->plain = m->plain;
    note->plain_len = plain_len;
    if (plain_len == 0 && m->dev.accept_zero_length)
        return data_part(m, 0, false, NULL, 0, note, err); /* deviation: an empty part */
    if (plain_len > 0 && m->dev.accept_unknown_flags)
        m->plain[0] &= ZMTP_WRAP_KNOWN; /* deviation: unknown flag bits ignored */
    status = zmtp_wrapped_decode(m->plain, plain_len, &w, err);
    if (status != ZMTP_OK)
        return status;
    if (w.flags & ZMTP_WRAP_COMMAND)
        return data_command(m, w.flags, w.body, w.len, note, err);
    if (w.flags & (ZMTP_WRAP_SUBSCRIBE | ZMTP_WRAP_CANCEL)) {
        if (!is_publisher(m))
            return zmtp_fail(err, ZMTP_UNEXPECTED,
                             "wrapped flags: subscription bits 0x%02x sent to a %s", w.flags,
                             m->cfg.socket_type);
        return data_part(m, w.flags, false, w.body, w.len, note, err);
    }
    return data_part(m, 0, (w.flags & ZMTP_WRAP_MORE) != 0, w.body, w.len, note, err);
}

enum zmtp_status zmtp_mech_receive(struct zmtp_mech *m, uint8_t flags, const unsigned char *body,
                                   size_t len, struct zmtp_frame_note *note, struct zmtp_error *err)
{
    struct zmtp_frame_note scratch;
    enum zmtp_status status = ZMTP_OK;
    const unsigned char *token;
    size_t token_len;
    bool command = (flags & ZMTP_FLAG_COMMAND) != 0;

    if (note == NULL)
        note = &scratch;
    memset(note, 0, sizeof(*note));
    note->kind = command ? "command" : "message";
    if (m->state == STATE_FAILED) {
        *err = m->failure;
        return err->status;
    }
    if (m->state != STATE_DATA && !command) {
        status = zmtp_fail(err, ZMTP_UNEXPECTED,
                           "message frame of %zu bytes during the handshake (commands only)", len);
        goto done;
    }
    if (command && len > 0 && m->state != STATE_DATA && m->state != STATE_START &&
        (m->dev.swallow_error || m->dev.skip_unknown_commands)) {
        struct zmtp_command c;

        if (zmtp_command_decode(body, len, &c, NULL) == ZMTP_OK) {
            bool error = zmtp_command_is(&c, "ERROR");
            bool known = error || zmtp_command_is(&c, "INITIATE") || zmtp_command_is(&c, "READY") ||
                         zmtp_command_is(&c, "MESSAGE");

            /* deviations: an ERROR, or a command this mechanism does not know, is skipped */
            if ((error && m->dev.swallow_error) || (!known && m->dev.skip_unknown_commands)) {
                note->kind = error ? "ERROR" : "command";
                return ZMTP_OK;
            }
        }
    }
    if (m->state != STATE_DATA && command) {
        /* 23/ZMTP: ERROR is the peer's fatal answer during the handshake; report its reason,
         * not "unexpected frame" (docs/zmtp-gssapi.md 1.7). */
        struct zmtp_command c;

        if (len > 0 && zmtp_command_decode(body, len, &c, NULL) == ZMTP_OK &&
            zmtp_command_is(&c, "ERROR")) {
            status = peer_error(body, len, note, err);
            goto done;
        }
    }
    switch (m->state) {
    case STATE_START:
        status = zmtp_fail(err, ZMTP_UNEXPECTED, "frame before the mechanism started");
        break;
    case STATE_TOKEN: {
        struct zmtp_command c;

        if (len == 0) {
            note->kind = "empty";
            status = zmtp_fail(err, ZMTP_UNEXPECTED,
                               "INITIATE expected: got the empty command frame before the GSS "
                               "context completed");
            break;
        }
        status = zmtp_command_decode(body, len, &c, err);
        if (status != ZMTP_OK)
            break;
        if (!zmtp_command_is(&c, "INITIATE")) {
            status = zmtp_fail(err, ZMTP_UNEXPECTED, "INITIATE expected: got %.*s command",
                               (int)c.name_len, c.name);
            break;
        }
        note->kind = "INITIATE";
        status = zmtp_initiate_decode(body, len, &token, &token_len, err);
        if (status != ZMTP_OK && m->dev.initiate_lenient &&
            lenient_token(body, len, "INITIATE", &token, &token_len))
            status = ZMTP_OK;
        if (status != ZMTP_OK)
            break;
        if (token_len == 0) {
            status = zmtp_fail(err, ZMTP_BAD_INITIATE, "INITIATE token length: 0 at offset 9");
            break;
        }
        if (m->cfg.role == ZMTP_ROLE_CLIENT)
            status = client_step(m, token, token_len, err);
        else
            status = server_step(m, token, token_len, err);
        break;
    }
    case STATE_EMPTY:
        /* libzmq's server takes any one frame here; the reference wants exactly 04 00. */
        if (len != 0) {
            struct zmtp_command c;

            if (zmtp_command_decode(body, len, &c, NULL) == ZMTP_OK)
                status = zmtp_fail(err, ZMTP_UNEXPECTED,
                                   "empty command frame expected after the GSS context "
                                   "completed: got %.*s command",
                                   (int)c.name_len, c.name);
            else
                status = zmtp_fail(err, ZMTP_UNEXPECTED,
                                   "empty command frame expected after the GSS context "
                                   "completed: got %zu bytes",
                                   len);
            break;
        }
        note->kind = "empty";
        status = server_ask_authorization(m, err);
        break;
    case STATE_AUTHORIZE:
        status = zmtp_fail(err, ZMTP_UNEXPECTED,
                           "%s frame of %zu bytes before the authorization decision (the driver "
                           "answers with zmtp_mech_authorize first)",
                           command ? "command" : "message", len);
        break;
    case STATE_READY:
        if (len == 0) {
            note->kind = "empty";
            status = zmtp_fail(err, ZMTP_UNEXPECTED, "READY expected: got an empty command frame");
            break;
        }
        status = receive_ready(m, body, len, note, err);
        break;
    case STATE_DATA:
        status = receive_data(m, flags, body, len, note, err);
        break;
    case STATE_FAILED:
        break;
    }
done:
    if (status != ZMTP_OK) {
        m->failure = *err;
        m->state = STATE_FAILED;
    }
    return status;
}

enum zmtp_status zmtp_mech_receive_block(struct zmtp_mech *m, uint8_t flags,
                                         const unsigned char *body, size_t len,
                                         unsigned char **block, struct zmtp_frame_note *note,
                                         struct zmtp_error *err)
{
    enum zmtp_status status;

    m->in_block = *block;
    m->in_body = body;
    status = zmtp_mech_receive(m, flags, body, len, note, err);
    *block = m->in_block; /* NULL when a part took it over */
    m->in_block = NULL;
    m->in_body = NULL;
    return status;
}

/* ---- sending ---- */

enum zmtp_status zmtp_mech_send(struct zmtp_mech *m, const struct zmtp_part *parts, size_t count,
                                struct zmtp_error *err)
{
    struct builder b;

    if (m->state != STATE_DATA)
        return zmtp_fail(err, ZMTP_UNEXPECTED, "send before the handshake completed");
    builder_init(&b);
    for (size_t i = 0; i < count; i++) {
        bool more = i + 1 < count;
        unsigned char *plain;
        size_t plain_len;
        enum zmtp_status status;

        builder_reset(&b);
        if (m->cfg.plaintext) { /* the part is the frame body: one copy, no wrapped form */
            builder_add(&b, parts[i].data, parts[i].len);
            status = queue_frame(m, more ? ZMTP_FLAG_MORE : 0, &b, "MESSAGE", NULL, 0, err);
            if (status != ZMTP_OK)
                return status;
            continue;
        }
        zmtp_wrapped_encode(&b, more && !m->dev.more_outside_wrap ? ZMTP_WRAP_MORE : 0,
                            parts[i].data, parts[i].len);
        plain = builder_detach(&b, &plain_len);
        if (plain == NULL)
            return zmtp_fail(err, ZMTP_SYSTEM, "out of memory for a %zu-byte part", parts[i].len);
        status =
            queue_payload(m, plain, plain_len, false, more ? ZMTP_FLAG_MORE : 0, "MESSAGE", err);
        free(plain);
        if (status != ZMTP_OK)
            return status;
    }
    return ZMTP_OK;
}

enum zmtp_status zmtp_mech_subscribe(struct zmtp_mech *m, enum zmtp_subscription_kind kind,
                                     const void *topic, size_t len, struct zmtp_error *err)
{
    struct builder b;
    unsigned char *plain;
    size_t plain_len;
    enum zmtp_status status;

    if (m->state != STATE_DATA)
        return zmtp_fail(err, ZMTP_UNEXPECTED, "subscribe before the handshake completed");
    builder_init(&b);
    builder_add_u8(&b, 0);
    if (m->dev.subscribe_no_byte && !m->cfg.plaintext)
        builder_add(&b, topic, len); /* deviation: 00 topic, the subscribe octet lost */
    else
        zmtp_subscription_encode(&b, kind, topic, len);
    plain = builder_detach(&b, &plain_len);
    if (plain == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    status = queue_payload(m, plain, plain_len, false, 0,
                           kind == ZMTP_SUBSCRIBE ? "SUBSCRIBE" : "CANCEL", err);
    free(plain);
    return status;
}

enum zmtp_status zmtp_mech_ping(struct zmtp_mech *m, uint16_t ttl, const void *context, size_t len,
                                struct zmtp_error *err)
{
    struct builder b;
    unsigned char *plain;
    size_t plain_len;
    enum zmtp_status status;

    if (m->state != STATE_DATA)
        return zmtp_fail(err, ZMTP_UNEXPECTED, "PING before the handshake completed");
    if (len > 16)
        return zmtp_fail(err, ZMTP_BAD_PING, "ping context: %zu bytes (at most 16)", len);
    builder_init(&b);
    builder_add_u8(&b, ZMTP_WRAP_COMMAND);
    zmtp_ping_encode(&b, ttl, context, len);
    plain = builder_detach(&b, &plain_len);
    if (plain == NULL)
        return zmtp_fail(err, ZMTP_SYSTEM, "out of memory");
    status = queue_payload(m, plain, plain_len, false, ZMTP_FLAG_COMMAND, "PING", err);
    free(plain);
    return status;
}

enum zmtp_status zmtp_mech_queue_wrapped(struct zmtp_mech *m, const void *plain, size_t len,
                                         bool conf, struct zmtp_error *err)
{
    if (m->state != STATE_DATA || m->cfg.plaintext)
        return zmtp_fail(err, ZMTP_UNEXPECTED,
                         "a wrapped MESSAGE needs an encrypting session after READY");
    return queue_payload_conf(m, plain, len, false, 0, "MESSAGE", conf, err);
}
