/* gsspeer xmpp-server, the reference XMPP server role: see xmpp-server.h and docs/peer.md. */
#include "tools/xmpp-server.h"

#include "tools/deviations.h"
#include "tools/tls.h"
#include "tools/xmpp-faults.h"
#include "util/base64.h"
#include "util/builder.h"
#include "util/gss.h"
#include "util/hex.h"
#include "util/jsonout.h"
#include "xmpp/features.h"
#include "xmpp/sasl.h"
#include "xmpp/stream.h"
#include "xmpp/xep0233.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum exit_status {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_INVALID = 2,
    EXIT_USAGE = 64,
};

enum {
    DEFAULT_TIMEOUT_MS = 10000,
    MAX_CHILDREN = 16,
    READ_CHUNK = 16384,
    STOP_GRACE_MS = 1000,
};

struct options {
    const char *bind;
    const char *domain;
    const char *hostname;
    enum tls_mode tls;
    const char *tls_cert;
    const char *tls_key;
    const char *transcript;
    long timeout_ms;
    struct xmpp_fault_set faults;
    struct xmpp_deviations dev; /* --deviate (docs/mutation.md); all false: conformant */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- events: one JSON object per line on stdout, written with one write() ---- */

static void event_write(struct builder *b)
{
    size_t len;
    unsigned char *line;

    builder_add_str(b, "}\n");
    line = builder_detach(b, &len);
    if (line == NULL)
        return;
    /* One write per line, so that lines of concurrent connections never interleave. */
    fflush(stdout);
    if (write(STDOUT_FILENO, line, len) < 0) {
        /* nothing to do: stdout is gone */
    }
    free(line);
}

/* Append "," KEY ":" and S as a JSON string (null when S is NULL). */
static void json_field(struct builder *b, const char *key, const char *s)
{
    builder_add_fmt(b, ",\"%s\":", key);
    if (s == NULL) {
        builder_add_str(b, "null");
        return;
    }
    builder_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            builder_add_fmt(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            builder_add_fmt(b, "\\u%04x", *p);
        else
            builder_add(b, p, 1);
    }
    builder_add(b, "\"", 1);
}

static void event_begin(struct builder *b, const char *name)
{
    builder_init(b);
    builder_add_fmt(b, "{\"event\":\"%s\"", name);
}

static void event_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void event_error(const char *fmt, ...)
{
    char reason[512];
    struct builder b;
    va_list args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    fprintf(stderr, "gsspeer: xmpp-server: %s\n", reason);
    event_begin(&b, "error");
    json_field(&b, "reason", reason);
    event_write(&b);
}

/* ---- one connection ---- */

enum sasl_state { SASL_IDLE, SASL_RUNNING, SASL_OK };

struct session {
    const struct options *opt;
    unsigned long id; /* connection number, from 1 */
    int fd;
    struct tls_ctx *tls_ctx;
    struct tls_conn *tls;
    struct xstream *xs;
    int64_t deadline;
    FILE *transcript;
    char peer[80];
    char stream_id[33];
    bool header_sent; /* our header of the current stream */
    bool tls_done;
    enum sasl_state sasl_state;
    struct sasl *sasl;
    struct sasl_faults sasl_faults;
    gss_cred_id_t acceptor;  /* deviation hostbased-acceptor: xmpp@<hostname>'s credential */
    unsigned exchanges;
    bool established_seen; /* the current exchange's context completed */
    bool layer_challenge_sent;
    bool layer_answered;     /* a <response/> came after our layer message */
    unsigned challenges_out; /* non-empty challenges of this connection */
    bool responses_in;       /* a <response/> came in this connection */
    unsigned empty_element;  /* <response/> with no text in this exchange (RFC 6120 §6.4.3) */
    unsigned empty_equals;   /* <response>=</response> in this exchange */
    char *client;            /* the authenticated client principal */
    char *target;            /* the service principal it authenticated to */
    char *bare_jid;          /* client's bare JID, from its principal and the domain */
    bool bound;
    bool fault_printed[XFAULT_COUNT];
    char reason[512]; /* why the connection ends */
};

/* How handling an event went. */
enum step { STEP_CONTINUE, STEP_CLOSE };

static const char *tls_mode_name(enum tls_mode m)
{
    return m == TLS_REQUIRED ? "required" : m == TLS_OPTIONAL ? "optional" : "off";
}

/* The fault event, once per connection and fault. */
static void fault_applied(struct session *s, enum xmpp_fault_id id, const char *detail)
{
    const struct xmpp_fault_spec *f = &xmpp_fault_catalogue[id];
    struct builder b;

    /* The deviation that behaves like the fault is no fault: it prints nothing. */
    if (s->fault_printed[id] || !s->opt->faults.on[id])
        return;
    s->fault_printed[id] = true;
    event_begin(&b, "fault");
    json_field(&b, "name", f->name);
    json_field(&b, "arg", s->opt->faults.arg[id] != NULL ? s->opt->faults.arg[id] : "");
    builder_add_fmt(&b, ",\"applied\":true,\"connection\":%lu", s->id);
    json_field(&b, "detail", detail);
    event_write(&b);
}

/* ---- transcript ---- */

/* Start a transcript line: {"time":...,"connection":N,"dir":DIR,"kind":KIND */
static FILE *tr_begin(struct session *s, const char *dir, const char *kind)
{
    struct timespec now;
    struct tm tm;
    char stamp[40];

    if (s->transcript == NULL)
        return NULL;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(s->transcript, "{\"time\":\"%s.%06ldZ\",\"connection\":%lu,\"dir\":", stamp,
            now.tv_nsec / 1000, s->id);
    json_put_string(s->transcript, dir);
    fputs(",\"kind\":", s->transcript);
    json_put_string(s->transcript, kind);
    return s->transcript;
}

static void tr_end(struct session *s)
{
    fputs("}\n", s->transcript);
    fflush(s->transcript);
}

/* A local line: {"dir":"local","kind":KIND,"reason":REASON} */
static void tr_local(struct session *s, const char *kind, const char *reason)
{
    FILE *f = tr_begin(s, "local", kind);

    if (f == NULL)
        return;
    fputs(",\"reason\":", f);
    json_put_string(f, reason);
    tr_end(s);
}

/* Extra decoded fields of a SASL element for the transcript. */
struct sasl_note {
    bool has_payload;
    const unsigned char *payload;
    size_t payload_len;
    const char *initial; /* auth: "absent", "empty" ("=") or NULL */
    bool layer_server;   /* payload is the server's wrapped layer message */
    bool layer_client;   /* payload is the client's wrapped layer reply */
    bool client_done;    /* ... and the engine accepted it */
};

/* One element line: the raw XML as text and what was decoded. */
static void tr_element(struct session *s, const char *dir, const char *kind, const char *xml,
                       size_t xml_len, const struct sasl_note *note)
{
    FILE *f = tr_begin(s, dir, kind);
    char *copy;

    if (f == NULL)
        return;
    fputs(",\"xml\":", f);
    copy = strndup(xml, xml_len);
    json_put_string(f, copy != NULL ? copy : "");
    free(copy);
    if (note != NULL && note->initial != NULL) {
        fputs(",\"initial_response\":", f);
        json_put_string(f, note->initial);
    }
    if (note != NULL && note->has_payload) {
        fprintf(f, ",\"payload_len\":%zu,\"payload\":", note->payload_len);
        json_put_hex(f, note->payload, note->payload_len);
    }
    if (note != NULL && (note->layer_server || note->layer_client) && s->sasl != NULL) {
        const struct rfc4752_outcome *o = rfc4752_outcome(s->sasl);

        if (note->layer_server) {
            /* The engine wraps exactly these octets (zero-padded or cut by layer-5-octets). */
            size_t octets = s->sasl_faults.layer_msg_len != 0 ? s->sasl_faults.layer_msg_len : 4;
            unsigned char plain[8] = {o->layers_offered, (unsigned char)(o->server_max_size >> 16),
                                      (unsigned char)(o->server_max_size >> 8),
                                      (unsigned char)o->server_max_size};

            fputs(",\"plain\":", f);
            json_put_hex(f, plain, octets < sizeof(plain) ? octets : sizeof(plain));
            fprintf(f, ",\"layer\":{\"layers\":%u,\"max_size\":%lu,\"octets\":%zu}",
                    o->layers_offered, (unsigned long)o->server_max_size, octets);
        } else {
            if (note->client_done) {
                /* A reply the engine accepted is exactly layer, max size, authzid. */
                struct builder plain;

                builder_init(&plain);
                builder_add_u8(&plain, o->layer);
                builder_add_u8(&plain, (uint8_t)(o->client_max_size >> 16));
                builder_add_u8(&plain, (uint8_t)(o->client_max_size >> 8));
                builder_add_u8(&plain, (uint8_t)o->client_max_size);
                if (o->authzid != NULL)
                    builder_add(&plain, o->authzid, o->authzid_len);
                if (builder_ok(&plain)) {
                    fputs(",\"plain\":", f);
                    json_put_hex(f, plain.data, plain.len);
                }
                builder_free(&plain);
            }
            fprintf(f, ",\"layer\":{\"layer\":%u,\"max_size\":%lu,\"authzid\":", o->layer,
                    (unsigned long)o->client_max_size);
            if (o->authzid != NULL)
                json_put_string(f, o->authzid);
            else
                fputs("null", f);
            putc('}', f);
        }
    }
    tr_end(s);
}

/* ---- I/O with the connection's deadline ---- */

/* Write all of DATA; false with s->reason set on failure. */
static bool send_bytes(struct session *s, const char *data, size_t len)
{
    if (s->tls != NULL) {
        enum tls_io io = tls_write_all(s->tls, data, len, s->deadline);

        if (io == TLS_IO_OK)
            return true;
        snprintf(s->reason, sizeof(s->reason), "%s",
                 io == TLS_IO_TIMEOUT ? "timed out writing to the client" : tls_conn_error(s->tls));
        return false;
    }
    while (len > 0) {
        ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);

        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
            int64_t left = s->deadline - tls_now_ms();

            if (left <= 0) {
                snprintf(s->reason, sizeof(s->reason), "timed out writing to the client");
                return false;
            }
            poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
            continue;
        }
        snprintf(s->reason, sizeof(s->reason), "write: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Send XML (a whole element, a header or a close) and record it as KIND. */
static bool send_xml(struct session *s, const char *kind, const char *xml,
                     const struct sasl_note *note)
{
    size_t len = strlen(xml);

    tr_element(s, "out", kind, xml, len, note);
    return send_bytes(s, xml, len);
}

/* Read some bytes into BUF; returns the count, 0 when the peer closed, -1 on error/timeout
 * (s->reason set). */
static ssize_t recv_bytes(struct session *s, char *buf, size_t len)
{
    if (s->tls != NULL) {
        size_t n = 0;
        enum tls_io io = tls_read(s->tls, buf, len, &n, s->deadline);

        if (io == TLS_IO_OK)
            return (ssize_t)n;
        if (io == TLS_IO_CLOSED)
            return 0;
        snprintf(s->reason, sizeof(s->reason), "%s",
                 io == TLS_IO_TIMEOUT ? "timed out waiting for the client"
                                      : tls_conn_error(s->tls));
        return -1;
    }
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, 0);
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int64_t left;

        if (n >= 0)
            return n;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(s->reason, sizeof(s->reason), "read: %s", strerror(errno));
            return -1;
        }
        left = s->deadline - tls_now_ms();
        if (left <= 0) {
            snprintf(s->reason, sizeof(s->reason), "timed out waiting for the client");
            return -1;
        }
        poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
    }
}

/* ---- the stream ---- */

static void set_reason(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_reason(struct session *s, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(s->reason, sizeof(s->reason), fmt, args);
    va_end(args);
}

static bool send_header(struct session *s, const char *client_from)
{
    struct builder b;
    unsigned char id[16];
    char *xml;
    size_t len;
    bool sent;

    if (RAND_bytes(id, sizeof(id)) != 1)
        memset(id, 0x5a, sizeof(id));
    for (size_t i = 0; i < sizeof(id); i++)
        snprintf(s->stream_id + 2 * i, 3, "%02x", id[i]);
    builder_init(&b);
    builder_add_str(&b, "<?xml version='1.0'?><stream:stream xmlns='" XMPP_CLIENT_NS
                        "' xmlns:stream='" STREAMS_NS "' from='");
    xml_escape(&b, s->opt->domain);
    builder_add_fmt(&b, "' id='%s' version='1.0' xml:lang='en'", s->stream_id);
    if (client_from != NULL) {
        builder_add_str(&b, " to='");
        xml_escape(&b, client_from);
        builder_add_str(&b, "'");
    }
    builder_add_str(&b, ">");
    builder_add(&b, "", 1);
    xml = (char *)builder_detach(&b, &len);
    if (xml == NULL) {
        set_reason(s, "out of memory");
        return false;
    }
    s->header_sent = true;
    sent = send_xml(s, "stream:stream", xml, NULL);
    free(xml);
    return sent;
}

/* Send a stream error (with our header first when none went out) and the close; sets the
 * reason. Always returns STEP_CLOSE. */
static enum step stream_error(struct session *s, const char *condition, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum step stream_error(struct session *s, const char *condition, const char *fmt, ...)
{
    char text[400];
    struct builder b;
    va_list args;
    char *xml;
    size_t len;

    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);
    set_reason(s, "stream error %s: %s", condition, text);
    if (!s->header_sent && !send_header(s, NULL))
        return STEP_CLOSE;
    builder_init(&b);
    builder_add_fmt(&b,
                    "<stream:error><%s xmlns='" XMPP_STREAMS_ERR_NS
                    "'/><text xmlns='" XMPP_STREAMS_ERR_NS "'>",
                    condition);
    xml_escape(&b, text);
    builder_add_str(&b, "</text></stream:error>");
    builder_add(&b, "", 1);
    xml = (char *)builder_detach(&b, &len);
    if (xml != NULL) {
        char keep[sizeof(s->reason)];

        memcpy(keep, s->reason, sizeof(keep));
        if (send_xml(s, "stream:error", xml, NULL))
            send_xml(s, "/stream:stream", "</stream:stream>", NULL);
        memcpy(s->reason, keep, sizeof(keep));
    }
    free(xml);
    return STEP_CLOSE;
}

/* The <hostname/> element in namespace NS with TEXT ("" gives an empty element). */
static void add_hostname(struct builder *b, const char *ns, const char *text)
{
    builder_add_fmt(b, "<hostname xmlns='%s'", ns);
    if (text[0] == '\0') {
        builder_add_str(b, "/>");
        return;
    }
    builder_add_str(b, ">");
    xml_escape(b, text);
    builder_add_str(b, "</hostname>");
}

/* <mechanisms/> with the XEP-0233 <hostname/> as the faults make it (PRE_TLS: the extra
 * advertisement of hostname-before-tls). Misplaced hostnames go into *AFTER. */
static void add_mechanisms(struct session *s, struct builder *b, struct builder *after,
                           bool pre_tls)
{
    const struct xmpp_fault_set *fs = &s->opt->faults;
    const struct xmpp_deviations *dev = &s->opt->dev;
    const char *host = s->opt->hostname;

    builder_add_str(b, "<mechanisms xmlns='" SASL_NS "'><mechanism>GSSAPI</mechanism>");
    if (pre_tls) {
        const char *pre = fs->arg[XFAULT_HOSTNAME_BEFORE_TLS] != NULL
                              ? fs->arg[XFAULT_HOSTNAME_BEFORE_TLS]
                              : host;
        char detail[400];

        add_hostname(b, XEP0233_NS, pre);
        snprintf(detail, sizeof(detail), "<hostname>%s</hostname> in the features before TLS", pre);
        fault_applied(s, XFAULT_HOSTNAME_BEFORE_TLS, detail);
    } else if (fs->on[XFAULT_HOSTNAME_ABSENT] || dev->no_hostname) {
        fault_applied(s, XFAULT_HOSTNAME_ABSENT, "no <hostname/> in <mechanisms/>");
    } else if (fs->on[XFAULT_HOSTNAME_LEGACY_NS]) {
        const char *arg = fs->arg[XFAULT_HOSTNAME_LEGACY_NS];
        const char *ns = arg != NULL && strcmp(arg, "tmp") == 0 ? XEP0233_NS_TMP : XEP0233_NS_V0;
        char detail[200];

        add_hostname(b, ns, host);
        snprintf(detail, sizeof(detail), "<hostname/> in %s", ns);
        fault_applied(s, XFAULT_HOSTNAME_LEGACY_NS, detail);
    } else if (fs->on[XFAULT_HOSTNAME_MISPLACED] || dev->hostname_misplaced) {
        add_hostname(after, XEP0233_NS, host);
        fault_applied(s, XFAULT_HOSTNAME_MISPLACED,
                      "<hostname/> as a direct child of <stream:features/>");
    } else if (fs->on[XFAULT_HOSTNAME_REPEATED]) {
        const char *other =
            fs->arg[XFAULT_HOSTNAME_REPEATED] != NULL ? fs->arg[XFAULT_HOSTNAME_REPEATED] : host;
        char detail[600];

        add_hostname(b, XEP0233_NS, host);
        add_hostname(b, XEP0233_NS, other);
        snprintf(detail, sizeof(detail), "two <hostname/> elements: %s, %s", host, other);
        fault_applied(s, XFAULT_HOSTNAME_REPEATED, detail);
    } else if (fs->on[XFAULT_HOSTNAME_EMPTY]) {
        add_hostname(b, XEP0233_NS, "");
        fault_applied(s, XFAULT_HOSTNAME_EMPTY, "<hostname/> without text");
    } else {
        add_hostname(b, XEP0233_NS, host);
    }
    builder_add_str(b, "</mechanisms>");
}

static bool send_features(struct session *s)
{
    struct builder b, after;
    char *xml;
    size_t len;
    bool sent;

    builder_init(&b);
    builder_init(&after);
    builder_add_str(&b, "<stream:features>");
    if (s->sasl_state == SASL_OK) {
        builder_add_str(&b, "<bind xmlns='" XMPP_BIND_NS "'/><session xmlns='" XMPP_SESSION_NS
                            "'><optional/></session>");
    } else if (s->opt->tls != TLS_OFF && !s->tls_done) {
        builder_add_fmt(&b, "<starttls xmlns='" XMPP_TLS_NS "'>%s</starttls>",
                        s->opt->tls == TLS_REQUIRED ? "<required/>" : "");
        if (s->opt->faults.on[XFAULT_HOSTNAME_BEFORE_TLS] || s->opt->dev.hostname_before_tls)
            add_mechanisms(s, &b, &after, true);
        else if (s->opt->tls == TLS_OPTIONAL || s->opt->dev.sasl_before_tls)
            builder_add_str(&b, "<mechanisms xmlns='" SASL_NS "'><mechanism>GSSAPI</mechanism>"
                                "</mechanisms>");
    } else {
        add_mechanisms(s, &b, &after, false);
    }
    if (after.len > 0)
        builder_add(&b, after.data, after.len);
    builder_free(&after);
    builder_add_str(&b, "</stream:features>");
    builder_add(&b, "", 1);
    xml = (char *)builder_detach(&b, &len);
    if (xml == NULL) {
        set_reason(s, "out of memory");
        return false;
    }
    sent = send_xml(s, "stream:features", xml, NULL);
    free(xml);
    return sent;
}

/* The client's stream header: judge it, answer with ours and the features. */
static enum step on_header(struct session *s, const struct xstream_event *ev)
{
    const char *to = xml_node_attr(ev->node, "", "to");
    const char *version = xml_node_attr(ev->node, "", "version");
    const char *from = xml_node_attr(ev->node, "", "from");

    tr_element(s, "in", "stream:stream", ev->raw, ev->raw_len, NULL);
    s->header_sent = false;
    if (strcmp(ev->default_ns, XMPP_CLIENT_NS) != 0)
        return stream_error(s, "invalid-namespace", "the default namespace is '%s', not %s",
                            ev->default_ns, XMPP_CLIENT_NS);
    if (to != NULL && strcasecmp(to, s->opt->domain) != 0)
        return stream_error(s, "host-unknown", "'to' is '%s'; this server serves '%s'", to,
                            s->opt->domain);
    if (version == NULL || strncmp(version, "1.", 2) != 0)
        return stream_error(s, "unsupported-version", "version %s%s%s (1.x needed)",
                            version != NULL ? "'" : "", version != NULL ? version : "absent",
                            version != NULL ? "'" : "");
    if (!send_header(s, from) || !send_features(s))
        return STEP_CLOSE;
    return STEP_CONTINUE;
}

static enum step on_starttls(struct session *s, const struct xstream_event *ev)
{
    struct builder b;

    tr_element(s, "in", "starttls", ev->raw, ev->raw_len, NULL);
    if (s->opt->tls == TLS_OFF || s->tls_done) {
        set_reason(s, "<starttls/> %s",
                   s->tls_done ? "after TLS was already established"
                               : "but STARTTLS is not offered (--tls off)");
        if (send_xml(s, "failure", "<failure xmlns='" XMPP_TLS_NS "'/>", NULL))
            send_xml(s, "/stream:stream", "</stream:stream>", NULL);
        return STEP_CLOSE;
    }
    if (xstream_pending(s->xs) > 0) {
        /* Bytes sent in the clear after <starttls/> must not be taken into the TLS stream. */
        return stream_error(s, "policy-violation", "%zu bytes after <starttls/> before TLS",
                            xstream_pending(s->xs));
    }
    if (!send_xml(s, "proceed", "<proceed xmlns='" XMPP_TLS_NS "'/>", NULL))
        return STEP_CLOSE;
    s->tls = tls_conn_new(s->tls_ctx, s->fd, true, NULL);
    if (s->tls == NULL) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    switch (tls_handshake(s->tls, s->deadline)) {
    case TLS_IO_OK:
        break;
    case TLS_IO_TIMEOUT:
        set_reason(s, "timed out in the TLS handshake");
        tls_conn_free(s->tls);
        s->tls = NULL;
        return STEP_CLOSE;
    default:
        set_reason(s, "%s", tls_conn_error(s->tls));
        tls_conn_free(s->tls);
        s->tls = NULL;
        return STEP_CLOSE;
    }
    s->tls_done = true;
    s->header_sent = false; /* a new stream: an error before its header gets ours first */
    tr_local(s, "tls", tls_conn_version(s->tls));
    event_begin(&b, "tls");
    json_field(&b, "version", tls_conn_version(s->tls));
    builder_add_fmt(&b, ",\"connection\":%lu", s->id);
    event_write(&b);
    if (!xstream_restart(s->xs)) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    return STEP_CONTINUE;
}

/* The ret_flags of the accepted context as ,"flags":["mutual",...]: what the client's AP-REQ
 * asked for (RFC 4752 §3.1: integ_req_flag, mutual_req_flag), as the acceptor sees it. */
static void flags_field(struct builder *b, OM_uint32 flags)
{
    static const struct {
        OM_uint32 bit;
        const char *name;
    } names[] = {
        {GSS_C_DELEG_FLAG, "deleg"},   {GSS_C_MUTUAL_FLAG, "mutual"},
        {GSS_C_REPLAY_FLAG, "replay"}, {GSS_C_SEQUENCE_FLAG, "sequence"},
        {GSS_C_CONF_FLAG, "conf"},     {GSS_C_INTEG_FLAG, "integ"},
        {GSS_C_ANON_FLAG, "anon"},     {GSS_C_PROT_READY_FLAG, "prot_ready"},
        {GSS_C_TRANS_FLAG, "trans"},
    };
    const char *sep = "";

    builder_add_str(b, ",\"flags\":[");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((flags & names[i].bit) != 0) {
            builder_add_fmt(b, "%s\"%s\"", sep, names[i].name);
            sep = ",";
        }
    }
    builder_add_str(b, "]");
}

/* The login event for the exchange that just ended with OUTCOME ("success", "failure",
 * "restarted"); CONDITION and REASON for a failure. */
static void login_event(struct session *s, const char *outcome, enum sasl_condition condition,
                        const char *reason)
{
    const struct rfc4752_outcome *o = s->sasl != NULL ? rfc4752_outcome(s->sasl) : NULL;
    struct builder b;

    event_begin(&b, "login");
    builder_add_fmt(&b, ",\"connection\":%lu,\"exchange\":%u", s->id, s->exchanges);
    if (o != NULL && o->target != NULL)
        json_field(&b, "target", o->target);
    if (o != NULL && o->initiator != NULL)
        json_field(&b, "client", o->initiator);
    if (o != NULL && o->target != NULL)
        flags_field(&b, o->flags);
    if (s->layer_challenge_sent)
        builder_add_fmt(&b, ",\"layer_answered\":%s", s->layer_answered ? "true" : "false");
    if (o != NULL && s->layer_challenge_sent && o->layer != 0) {
        builder_add_fmt(&b, ",\"layer\":%u,\"max_size\":%lu", o->layer,
                        (unsigned long)o->client_max_size);
        json_field(&b, "authzid", o->authzid);
    }
    builder_add_fmt(&b, ",\"empty_responses\":{\"element\":%u,\"equals\":%u}", s->empty_element,
                    s->empty_equals);
    json_field(&b, "outcome", outcome);
    if (condition != SASL_COND_NONE)
        json_field(&b, "condition", rfc4752_condition_name(condition));
    if (reason != NULL)
        json_field(&b, "reason", reason);
    event_write(&b);
}

static void exchange_end(struct session *s)
{
    rfc4752_free(s->sasl);
    s->sasl = NULL;
    s->established_seen = s->layer_challenge_sent = s->layer_answered = false;
    s->empty_element = s->empty_equals = 0;
}

/* Send <failure><CONDITION/></failure>, the login event and the close. */
static enum step sasl_failure(struct session *s, enum sasl_condition condition, const char *fmt,
                              ...) __attribute__((format(printf, 3, 4)));

static enum step sasl_failure(struct session *s, enum sasl_condition condition, const char *fmt,
                              ...)
{
    char reason[400];
    char xml[256];
    va_list args;

    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    if (s->exchanges == 0)
        s->exchanges = 1;
    login_event(s, "failure", condition, reason);
    exchange_end(s);
    s->sasl_state = SASL_IDLE;
    set_reason(s, "SASL failure %s: %s", rfc4752_condition_name(condition), reason);
    /* The deviation puts a stream error's condition where RFC 6120 §6.5 has its list. */
    snprintf(xml, sizeof(xml), "<failure xmlns='" SASL_NS "'><%s/></failure>",
             s->opt->dev.undefined_condition ? "undefined-condition"
                                             : rfc4752_condition_name(condition));
    {
        char keep[sizeof(s->reason)];

        memcpy(keep, s->reason, sizeof(keep));
        /* One exchange per connection: after a failure the reference closes the stream. */
        if (send_xml(s, "failure", xml, NULL))
            send_xml(s, "/stream:stream", "</stream:stream>", NULL);
        memcpy(s->reason, keep, sizeof(keep));
    }
    return STEP_CLOSE;
}

/* The deviation lenient-base64: TEXT decoded the way a forgiving decoder does, skipping every
 * character outside the alphabet ("=" included) and dropping the bits left over at the end (a
 * lone sextet, non-zero pad bits). *OUT is new (never NULL on success); false when out of
 * memory. */
static bool base64_decode_lenient(const char *text, size_t text_len, unsigned char **out,
                                  size_t *len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t bits = 0;
    unsigned nbits = 0;

    *len = 0;
    *out = malloc(text_len / 4 * 3 + 3);
    if (*out == NULL)
        return false;
    for (size_t i = 0; i < text_len; i++) {
        const char *p = text[i] != '\0' ? strchr(alphabet, text[i]) : NULL;

        if (p == NULL)
            continue;
        bits = (bits << 6 | (uint32_t)(p - alphabet)) & 0xffffff;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            (*out)[(*len)++] = (unsigned char)(bits >> nbits);
        }
    }
    return true;
}

/* Decode the base64 text of a SASL element. "" gives no payload (*PRESENT false), "=" zero
 * octets. False on a malformed encoding, with the reason in ERR. */
static bool sasl_decode(const struct session *s, const struct xml_node *node, unsigned char **out,
                        size_t *len, bool *present, char *err, size_t errlen)
{
    size_t where = 0;
    enum base64_status st;

    *out = NULL;
    *len = 0;
    *present = node->text_len > 0;
    if (node->text_len == 0 || (node->text_len == 1 && node->text[0] == '=')) {
        *out = malloc(1);
        return *out != NULL;
    }
    if (s->opt->dev.lenient_base64) {
        if (base64_decode_lenient(node->text, node->text_len, out, len))
            return true;
        snprintf(err, errlen, "out of memory");
        return false;
    }
    st = base64_decode(node->text, node->text_len, out, len, &where);
    if (st != BASE64_OK) {
        snprintf(err, errlen, "<%s/> payload: %s at offset %zu", node->name,
                 base64_status_reason(st), where);
        return false;
    }
    return true;
}

static bool is_wrap_token(const unsigned char *p, size_t len)
{
    return len >= 2 && p[0] == 0x05 && p[1] == 0x04; /* RFC 4121 §4.2.6.2 Wrap token id */
}

/* Send the engine's payload as a <challenge/> (faults applied). */
static enum step send_challenge(struct session *s, const unsigned char *out, size_t out_len,
                                bool established_now)
{
    const struct xmpp_fault_set *fs = &s->opt->faults;
    const struct rfc4752_outcome *o = rfc4752_outcome(s->sasl);
    struct sasl_note note = {.has_payload = true, .payload = out, .payload_len = out_len};
    struct builder b;
    char *b64, *xml;
    size_t len;
    bool sent;

    /* Which challenge is this? After the context completed, a non-empty one is the layer
     * message, except for the AP-REP that completes mutual authentication. */
    if (s->established_seen && out_len > 0 &&
        !(established_now && !s->sasl_faults.omit_ap_rep && (o->flags & GSS_C_MUTUAL_FLAG) &&
          !is_wrap_token(out, out_len))) {
        note.layer_server = true;
        s->layer_challenge_sent = true;
        if (fs->on[XFAULT_NO_AP_REP])
            fault_applied(s, XFAULT_NO_AP_REP,
                          established_now ? "the layer message answers the AP-REQ directly"
                                          : "no AP-REP challenge was sent");
        if (fs->on[XFAULT_LAYER_MAXSIZE_WITH_NONE])
            fault_applied(s, XFAULT_LAYER_MAXSIZE_WITH_NONE,
                          "layer message: only 'none' with a non-zero max size");
        if (fs->on[XFAULT_LAYER_5_OCTETS])
            fault_applied(s, XFAULT_LAYER_5_OCTETS, "layer message of 5 octets");
        if (fs->on[XFAULT_LAYER_NO_BIT])
            fault_applied(s, XFAULT_LAYER_NO_BIT, "layer message with bitmask 00");
    }
    if (s->established_seen && out_len == 0 && fs->on[XFAULT_EXTRA_EMPTY_CHALLENGE])
        fault_applied(s, XFAULT_EXTRA_EMPTY_CHALLENGE, "an empty <challenge/> after the context");
    b64 = base64_encode(out, out_len);
    if (b64 == NULL) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    if (out_len > 0) {
        s->challenges_out++;
        if (fs->on[XFAULT_CHALLENGE_BAD_BASE64] && s->challenges_out == 1 && strlen(b64) > 1) {
            b64[1] = '!';
            fault_applied(s, XFAULT_CHALLENGE_BAD_BASE64,
                          "'!' at offset 1 of the first non-empty challenge");
        }
    }
    builder_init(&b);
    builder_add_str(&b, "<challenge xmlns='" SASL_NS "'");
    if (b64[0] == '\0')
        builder_add_str(&b, "/>");
    else
        builder_add_fmt(&b, ">%s</challenge>", b64);
    builder_add(&b, "", 1);
    free(b64);
    xml = (char *)builder_detach(&b, &len);
    if (xml == NULL) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    sent = send_xml(s, "challenge", xml, &note);
    free(xml);
    return sent ? STEP_CONTINUE : STEP_CLOSE;
}

/* The bare JID that belongs to PRINCIPAL ("alice@REALM" -> "alice@DOMAIN"). */
static char *bare_jid_of(const char *principal, const char *domain)
{
    const char *at = strrchr(principal, '@');
    size_t local = at != NULL ? (size_t)(at - principal) : strlen(principal);
    char *jid = malloc(local + 1 + strlen(domain) + 1);

    if (jid != NULL)
        sprintf(jid, "%.*s@%s", (int)local, principal, domain);
    return jid;
}

/* The exchange completed in the engine: authorize, send <success/>, restart. */
static enum step sasl_done(struct session *s)
{
    const struct rfc4752_outcome *o = rfc4752_outcome(s->sasl);
    const char *data = "";
    char xml[256];

    free(s->bare_jid);
    s->bare_jid = bare_jid_of(o->initiator != NULL ? o->initiator : "", s->opt->domain);
    if (s->bare_jid == NULL) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    /* RFC 6120 §6.3.8 (paraphrased): an authzid is sent only to act for another entity; the
     * reference serves nobody else, so only the client's own bare JID is authorized. */
    if (o->authzid != NULL && !s->opt->dev.admit_foreign_authzid &&
        (strlen(o->authzid) != o->authzid_len || strcmp(o->authzid, s->bare_jid) != 0))
        return sasl_failure(s, SASL_COND_INVALID_AUTHZID,
                            "authzid '%s' is not the client's own bare JID %s", o->authzid,
                            s->bare_jid);
    if (xstream_pending(s->xs) > 0)
        return stream_error(s, "policy-violation",
                            "%zu bytes after the last SASL response, before <success/>",
                            xstream_pending(s->xs));
    if (s->opt->faults.on[XFAULT_SUCCESS_WITH_DATA] || s->opt->dev.success_with_data) {
        data = "Z3NzY29uZm9ybQ=="; /* "gssconform" */
        fault_applied(s, XFAULT_SUCCESS_WITH_DATA, "<success/> carries \"gssconform\"");
    }
    snprintf(xml, sizeof(xml), "<success xmlns='" SASL_NS "'%s%s%s", data[0] ? ">" : "/>", data,
             data[0] ? "</success>" : "");
    free(s->client);
    free(s->target);
    s->client = strdup(o->initiator != NULL ? o->initiator : "");
    s->target = strdup(o->target != NULL ? o->target : "");
    login_event(s, "success", SASL_COND_NONE, NULL);
    exchange_end(s);
    s->sasl_state = SASL_OK;
    if (!send_xml(s, "success", xml, NULL))
        return STEP_CLOSE;
    if (s->opt->dev.no_stream_restart)
        return STEP_CONTINUE; /* the old stream goes on: the new header is not one */
    s->header_sent = false;
    if (!xstream_restart(s->xs)) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    return STEP_CONTINUE;
}

/* One engine step with the decoded payload IN (copied first: MIT's gss_unwrap works in place
 * on its input, and the transcript shows the payload as received). */
static enum sasl_status sasl_feed(struct session *s, const unsigned char *in, size_t len,
                                  unsigned char **out, size_t *out_len, bool *established_now)
{
    unsigned char *copy = malloc(len + 1);
    bool was_established = s->established_seen;
    enum sasl_status st;

    *out = NULL;
    *out_len = 0;
    if (len > 0 && copy != NULL)
        memcpy(copy, in, len);
    /* Out of memory for the copy: the engine gets NULL with a length, and fails. */
    st = rfc4752_step(s->sasl, copy, copy != NULL ? len : 1, out, out_len);
    free(copy);
    if (rfc4752_outcome(s->sasl)->initiator != NULL)
        s->established_seen = true;
    *established_now = s->established_seen && !was_established;
    return st;
}

/* Act on the engine's answer ST (OUT its payload, freed here). */
static enum step sasl_act(struct session *s, enum sasl_status st, unsigned char *out,
                          size_t out_len, bool established_now)
{
    enum step next;

    switch (st) {
    case SASL_CONTINUE:
        next = send_challenge(s, out, out_len, established_now);
        free(out);
        return next;
    case SASL_DONE:
        free(out);
        return sasl_done(s);
    default:
        free(out);
        return sasl_failure(s, rfc4752_condition(s->sasl), "%s", rfc4752_error(s->sasl));
    }
}

static enum step sasl_run(struct session *s, const unsigned char *in, size_t len)
{
    unsigned char *out = NULL;
    size_t out_len = 0;
    bool established_now = false;
    enum sasl_status st = sasl_feed(s, in, len, &out, &out_len, &established_now);

    return sasl_act(s, st, out, out_len, established_now);
}

/* The deviation hostbased-acceptor: the acceptor credential of xmpp@<hostname> alone, as
 * Cyrus SASL and GNU SASL acquire it, into s->acceptor (once per connection). False with the
 * reason in WHY. */
static bool acceptor_hostbased(struct session *s, char *why, size_t why_len)
{
    char name[270];
    gss_name_t gname = GSS_C_NO_NAME;
    OM_uint32 major, minor, minor2;
    char *text;

    if (s->acceptor != GSS_C_NO_CREDENTIAL)
        return true;
    snprintf(name, sizeof(name), "xmpp@%s", s->opt->hostname);
    major = gssutil_import_name(name, NAMETYPE_HOSTBASED, &gname, &minor);
    if (!GSS_ERROR(major)) {
        major = gssutil_acquire_cred(gname, GSS_C_ACCEPT, &s->acceptor, &minor);
        gss_release_name(&minor2, &gname);
    }
    if (!GSS_ERROR(major))
        return true;
    text = gssutil_status_text(major, minor);
    snprintf(why, why_len, "acceptor credential for %s: %s", name, text != NULL ? text : "?");
    free(text);
    return false;
}

static bool exchange_start(struct session *s)
{
    struct sasl_config cfg = {
        .role = SASL_ROLE_SERVER,
        .cred = s->acceptor, /* GSS_C_NO_CREDENTIAL: any key of KRB5_KTNAME, both name forms
                                log in */
        .layers_offered = SASL_LAYER_NONE,
        .faults = &s->sasl_faults,
        .deviations = &s->opt->dev,
    };

    s->sasl = rfc4752_new(&cfg);
    s->exchanges++;
    s->established_seen = s->layer_challenge_sent = s->layer_answered = false;
    s->empty_element = s->empty_equals = 0;
    return s->sasl != NULL;
}

static enum step on_auth(struct session *s, const struct xstream_event *ev)
{
    const char *mech = xml_node_attr(ev->node, "", "mechanism");
    struct sasl_note note = {0};
    unsigned char *in = NULL;
    size_t len = 0;
    bool present = false;
    char err[200];
    enum step next;

    if (s->sasl_state == SASL_OK) {
        tr_element(s, "in", "auth", ev->raw, ev->raw_len, NULL);
        return stream_error(s, "policy-violation", "<auth/> after authentication succeeded");
    }
    if (s->sasl != NULL) {
        /* RFC 6120 §6.4 (paraphrased): a new <auth/> during an exchange starts over. */
        login_event(s, "restarted", SASL_COND_NONE, "a new <auth/> started the exchange over");
        exchange_end(s);
    }
    if (!sasl_decode(s, ev->node, &in, &len, &present, err, sizeof(err))) {
        tr_element(s, "in", "auth", ev->raw, ev->raw_len, NULL);
        s->exchanges++;
        return sasl_failure(s, SASL_COND_INCORRECT_ENCODING, "%s", err);
    }
    note.has_payload = present;
    note.payload = in;
    note.payload_len = len;
    note.initial = !present ? "absent" : len == 0 ? "empty" : NULL;
    tr_element(s, "in", "auth", ev->raw, ev->raw_len, &note);
    if (s->opt->tls == TLS_REQUIRED && !s->tls_done && !s->opt->dev.sasl_before_tls) {
        free(in);
        s->exchanges++;
        return sasl_failure(s, SASL_COND_ENCRYPTION_REQUIRED,
                            "<auth/> before STARTTLS, which this server requires");
    }
    if (mech == NULL || strcmp(mech, "GSSAPI") != 0) {
        free(in);
        s->exchanges++;
        return sasl_failure(s, SASL_COND_INVALID_MECHANISM, "mechanism %s%s%s not offered",
                            mech != NULL ? "'" : "", mech != NULL ? mech : "attribute absent",
                            mech != NULL ? "'" : "");
    }
    if (s->opt->dev.hostbased_acceptor && !acceptor_hostbased(s, s->reason, sizeof(s->reason))) {
        free(in);
        s->exchanges++;
        return sasl_failure(s, SASL_COND_NOT_AUTHORIZED, "%s", s->reason);
    }
    if (!exchange_start(s)) {
        free(in);
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    s->sasl_state = SASL_RUNNING;
    next = sasl_run(s, in, len);
    free(in);
    return next;
}

static enum step on_response(struct session *s, const struct xstream_event *ev)
{
    struct sasl_note note = {0};
    unsigned char *in = NULL;
    size_t len = 0;
    bool present = false;
    char err[200];
    enum step next;

    if (s->sasl == NULL) {
        tr_element(s, "in", "response", ev->raw, ev->raw_len, NULL);
        s->exchanges++;
        return sasl_failure(s, SASL_COND_MALFORMED_REQUEST, "<response/> outside an exchange");
    }
    if (!sasl_decode(s, ev->node, &in, &len, &present, err, sizeof(err))) {
        tr_element(s, "in", "response", ev->raw, ev->raw_len, NULL);
        return sasl_failure(s, SASL_COND_INCORRECT_ENCODING, "%s", err);
    }
    note.has_payload = present;
    note.payload = in;
    note.payload_len = len;
    if (!present)
        s->empty_element++;
    else if (len == 0)
        s->empty_equals++;
    if (!present && s->opt->dev.refuse_empty_element) {
        tr_element(s, "in", "response", ev->raw, ev->raw_len, &note);
        free(in);
        return sasl_failure(s, SASL_COND_MALFORMED_REQUEST,
                            "<response/> without text (only '=' is taken as empty here)");
    }
    if (s->opt->faults.on[XFAULT_FAILURE_MID_EXCHANGE] && !s->responses_in) {
        s->responses_in = true;
        tr_element(s, "in", "response", ev->raw, ev->raw_len, &note);
        free(in);
        fault_applied(s, XFAULT_FAILURE_MID_EXCHANGE,
                      "<failure><not-authorized/></failure> for the first <response/>");
        return sasl_failure(s, SASL_COND_NOT_AUTHORIZED, "fault failure-mid-exchange");
    }
    s->responses_in = true;
    if (s->layer_challenge_sent)
        s->layer_answered = true;
    if (s->layer_challenge_sent && is_wrap_token(in, len)) {
        /* Judge it first so that the transcript line shows what the engine decoded. */
        unsigned char *out = NULL;
        size_t out_len = 0;
        bool established_now = false;
        enum sasl_status st = sasl_feed(s, in, len, &out, &out_len, &established_now);

        note.layer_client = true;
        note.client_done = st == SASL_DONE;
        tr_element(s, "in", "response", ev->raw, ev->raw_len, &note);
        free(in);
        return sasl_act(s, st, out, out_len, established_now);
    }
    tr_element(s, "in", "response", ev->raw, ev->raw_len, &note);
    next = sasl_run(s, in, len);
    free(in);
    return next;
}

static enum step on_iq(struct session *s, const struct xstream_event *ev)
{
    const char *type = xml_node_attr(ev->node, "", "type");
    const char *id = xml_node_attr(ev->node, "", "id");
    const struct xml_node *bind = xml_node_child(ev->node, XMPP_BIND_NS, "bind");
    const struct xml_node *session = xml_node_child(ev->node, XMPP_SESSION_NS, "session");
    struct builder b;
    char *xml;
    size_t len;
    bool sent;

    tr_element(s, "in", "iq", ev->raw, ev->raw_len, NULL);
    if (type == NULL || (strcmp(type, "result") == 0 || strcmp(type, "error") == 0))
        return STEP_CONTINUE;
    builder_init(&b);
    builder_add_str(&b, "<iq type='");
    if (bind != NULL && strcmp(type, "set") == 0 && !s->bound) {
        const struct xml_node *res = xml_node_child(bind, XMPP_BIND_NS, "resource");
        char generated[32];
        const char *resource = res != NULL && res->text_len > 0 ? res->text : generated;
        struct builder jid;
        char *full;
        size_t full_len;
        struct builder e;

        snprintf(generated, sizeof(generated), "gsspeer-%lu", s->id);
        builder_init(&jid);
        builder_add_fmt(&jid, "%s/%s", s->bare_jid, resource);
        builder_add(&jid, "", 1);
        full = (char *)builder_detach(&jid, &full_len);
        if (full == NULL) {
            builder_free(&b);
            set_reason(s, "out of memory");
            return STEP_CLOSE;
        }
        builder_add_str(&b, "result'");
        if (id != NULL) {
            builder_add_str(&b, " id='");
            xml_escape(&b, id);
            builder_add_str(&b, "'");
        }
        builder_add_str(&b, "><bind xmlns='" XMPP_BIND_NS "'><jid>");
        xml_escape(&b, full);
        builder_add_str(&b, "</jid></bind></iq>");
        s->bound = true;
        event_begin(&e, "bound");
        json_field(&e, "jid", full);
        builder_add_fmt(&e, ",\"connection\":%lu", s->id);
        event_write(&e);
        free(full);
    } else if (session != NULL && strcmp(type, "set") == 0) {
        builder_add_str(&b, "result'");
        if (id != NULL) {
            builder_add_str(&b, " id='");
            xml_escape(&b, id);
            builder_add_str(&b, "'");
        }
        builder_add_str(&b, "/>");
    } else {
        /* Anything else gets an error, so that no client waits for an answer. */
        builder_add_str(&b, "error'");
        if (id != NULL) {
            builder_add_str(&b, " id='");
            xml_escape(&b, id);
            builder_add_str(&b, "'");
        }
        builder_add_str(&b, "><error type='cancel'><service-unavailable xmlns='" XMPP_STANZAS_NS
                            "'/></error></iq>");
    }
    builder_add(&b, "", 1);
    xml = (char *)builder_detach(&b, &len);
    if (xml == NULL) {
        set_reason(s, "out of memory");
        return STEP_CLOSE;
    }
    sent = send_xml(s, "iq", xml, NULL);
    free(xml);
    return sent ? STEP_CONTINUE : STEP_CLOSE;
}

static enum step on_element(struct session *s, const struct xstream_event *ev)
{
    const struct xml_node *n = ev->node;

    if (xml_node_is(n, XMPP_TLS_NS, "starttls"))
        return on_starttls(s, ev);
    if (xml_node_is(n, SASL_NS, "auth"))
        return on_auth(s, ev);
    if (xml_node_is(n, SASL_NS, "response"))
        return on_response(s, ev);
    if (xml_node_is(n, SASL_NS, "abort")) {
        tr_element(s, "in", "abort", ev->raw, ev->raw_len, NULL);
        return sasl_failure(s, SASL_COND_ABORTED, "the client sent <abort/>");
    }
    if (strcmp(n->ns, XMPP_CLIENT_NS) == 0 &&
        (strcmp(n->name, "iq") == 0 || strcmp(n->name, "message") == 0 ||
         strcmp(n->name, "presence") == 0)) {
        if (s->sasl_state != SASL_OK || s->sasl != NULL) {
            tr_element(s, "in", n->name, ev->raw, ev->raw_len, NULL);
            return stream_error(s, "not-authorized", "<%s/> before authentication", n->name);
        }
        if (strcmp(n->name, "iq") == 0)
            return on_iq(s, ev);
        tr_element(s, "in", n->name, ev->raw, ev->raw_len, NULL);
        return STEP_CONTINUE;
    }
    tr_element(s, "in", n->name, ev->raw, ev->raw_len, NULL);
    return stream_error(s, "unsupported-stanza-type", "<%s xmlns='%s'/> is not handled here",
                        n->name, n->ns);
}

/* Serve one connection to its end; the reason is in s->reason. */
static void serve(struct session *s)
{
    char buf[READ_CHUNK];

    for (;;) {
        struct xstream_event ev;
        enum step next = STEP_CONTINUE;

        while (next == STEP_CONTINUE && xstream_next(s->xs, &ev)) {
            switch (ev.type) {
            case XSTREAM_HEADER:
                next = on_header(s, &ev);
                break;
            case XSTREAM_ELEMENT:
                if (!s->header_sent)
                    next = stream_error(s, "bad-format", "an element before the header");
                else
                    next = on_element(s, &ev);
                break;
            case XSTREAM_CLOSE:
                tr_element(s, "in", "/stream:stream", ev.raw, ev.raw_len, NULL);
                set_reason(s, "the client closed the stream%s",
                           s->sasl != NULL ? " during the SASL exchange" : "");
                send_xml(s, "/stream:stream", "</stream:stream>", NULL);
                next = STEP_CLOSE;
                break;
            case XSTREAM_ERROR:
                next = stream_error(s, ev.condition, "%s", ev.reason);
                break;
            default:
                break;
            }
            xstream_event_clear(&ev);
        }
        if (next == STEP_CLOSE)
            return;
        {
            ssize_t n = recv_bytes(s, buf, sizeof(buf));

            if (n < 0)
                return;
            if (n == 0) {
                set_reason(s, "the client closed the connection without </stream:stream>%s",
                           s->sasl != NULL ? " during the SASL exchange" : "");
                return;
            }
            xstream_feed(s->xs, buf, (size_t)n);
        }
    }
}

/* ---- the connection process ---- */

static int run_connection(const struct options *opt, struct tls_ctx *tls_ctx, int fd,
                          unsigned long id, const char *peer)
{
    struct session s;
    struct builder b;

    memset(&s, 0, sizeof(s));
    s.opt = opt;
    s.id = id;
    s.fd = fd;
    s.tls_ctx = tls_ctx;
    s.deadline = tls_now_ms() + opt->timeout_ms;
    snprintf(s.peer, sizeof(s.peer), "%s", peer);
    s.sasl_faults.omit_ap_rep = opt->faults.on[XFAULT_NO_AP_REP];
    s.sasl_faults.extra_empty_challenge = opt->faults.on[XFAULT_EXTRA_EMPTY_CHALLENGE];
    s.sasl_faults.layer_maxsize_with_none = opt->faults.on[XFAULT_LAYER_MAXSIZE_WITH_NONE];
    s.sasl_faults.layer_no_bit = opt->faults.on[XFAULT_LAYER_NO_BIT];
    s.sasl_faults.layer_msg_len = opt->faults.on[XFAULT_LAYER_5_OCTETS] ? 5 : 0;
    if (opt->transcript != NULL) {
        int tfd = open(opt->transcript, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

        s.transcript = tfd >= 0 ? fdopen(tfd, "a") : NULL;
        if (s.transcript != NULL)
            setvbuf(s.transcript, NULL, _IOFBF, 1 << 20); /* one write per flushed line */
    }
    s.xs = xstream_new(NULL);
    if (s.xs == NULL)
        set_reason(&s, "out of memory");
    else
        serve(&s);
    /* An exchange still open (closed, timed out, stream error) gets its login event too. */
    if (s.sasl != NULL)
        login_event(&s, "failure", SASL_COND_NONE, s.reason);
    tr_local(&s, "close", s.reason);
    fprintf(stderr, "gsspeer: xmpp-server: connection %lu from %s: %s\n", id, peer, s.reason);
    event_begin(&b, "closed");
    builder_add_fmt(&b, ",\"connection\":%lu", id);
    json_field(&b, "peer", peer);
    json_field(&b, "reason", s.reason);
    event_write(&b);
    if (s.tls != NULL)
        tls_conn_free(s.tls);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    exchange_end(&s);
    if (s.acceptor != GSS_C_NO_CREDENTIAL) {
        OM_uint32 minor;

        gss_release_cred(&minor, &s.acceptor);
    }
    xstream_free(s.xs);
    free(s.client);
    free(s.target);
    free(s.bare_jid);
    if (s.transcript != NULL)
        fclose(s.transcript);
    return EXIT_OK;
}

/* ---- options ---- */

static void usage(FILE *out)
{
    fputs(
        "usage: gsspeer xmpp-server --bind HOST:PORT --domain D --hostname H [options]\n"
        "       gsspeer xmpp-server --list-faults [--json]\n"
        "\n"
        "The reference XMPP server: stream, STARTTLS, SASL GSSAPI (RFC 4752) with the\n"
        "XEP-0233 <hostname/>, resource binding. Serves logins until SIGTERM, several\n"
        "connections at once (one process each); the acceptor takes any key in KRB5_KTNAME,\n"
        "so xmpp/D@REALM and xmpp/H/D@REALM both log in.\n"
        "\n"
        "Options:\n"
        "  --bind HOST:PORT        127.0.0.1 or [::1]; PORT 0 picks a free port\n"
        "  --domain D              the XMPP service domain (stream 'from', JID domain)\n"
        "  --hostname H            advertised in <hostname xmlns='urn:xmpp:domain-based-name:1'/>\n"
        "  --tls MODE              required (default) | optional | off\n"
        "  --tls-cert F, --tls-key F  PEM certificate and key (needed unless --tls off)\n"
        "  --transcript FILE       JSON line per XML element in and out (appended)\n"
        "  --fault NAME[:ARG]      misbehave on purpose (repeatable; --list-faults)\n"
        "  --deviate NAME          be a non-conformant server (repeatable; gsspeer deviations)\n"
        "  --timeout-ms MS         bound on each connection, every wait included (default "
        "10000)\n"
        "\n"
        "Events (stdout, JSON lines): listening, tls, login, bound, fault, closed, error.\n"
        "Exit status: 0 stopped by SIGTERM/SIGINT; 1 cannot serve (bind, TLS files);\n"
        "2 invalid option value; 64 usage error.\n",
        out);
}

static int parse_options(int argc, char **argv, struct options *o, bool *list, bool *json)
{
    enum {
        O_BIND = 1,
        O_DOMAIN,
        O_HOSTNAME,
        O_TLS,
        O_CERT,
        O_KEY,
        O_TRANSCRIPT,
        O_FAULT,
        O_TIMEOUT,
        O_LIST,
        O_JSON,
        O_HELP
    };
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, O_BIND},
        {"domain", required_argument, NULL, O_DOMAIN},
        {"hostname", required_argument, NULL, O_HOSTNAME},
        {"tls", required_argument, NULL, O_TLS},
        {"tls-cert", required_argument, NULL, O_CERT},
        {"tls-key", required_argument, NULL, O_KEY},
        {"transcript", required_argument, NULL, O_TRANSCRIPT},
        {"fault", required_argument, NULL, O_FAULT},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"list-faults", no_argument, NULL, O_LIST},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    char err[200];

    memset(o, 0, sizeof(*o));
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;

        switch (c) {
        case O_BIND:
            o->bind = optarg;
            break;
        case O_DOMAIN:
            o->domain = optarg;
            break;
        case O_HOSTNAME:
            o->hostname = optarg;
            break;
        case O_TLS:
            if (!tls_mode_from_name(optarg, &o->tls)) {
                event_error("--tls: \"%s\" is not required, optional or off", optarg);
                return EXIT_INVALID;
            }
            break;
        case O_CERT:
            o->tls_cert = optarg;
            break;
        case O_KEY:
            o->tls_key = optarg;
            break;
        case O_TRANSCRIPT:
            o->transcript = optarg;
            break;
        case O_FAULT:
            if (!xmpp_fault_parse(optarg, &o->faults, err, sizeof(err))) {
                event_error("--fault: %s", err);
                return EXIT_USAGE;
            }
            break;
        case O_TIMEOUT:
            errno = 0;
            o->timeout_ms = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || o->timeout_ms < 1 ||
                o->timeout_ms > 86400000L) {
                event_error("--timeout-ms: \"%s\" is not a number of milliseconds (1..86400000)",
                            optarg);
                return EXIT_INVALID;
            }
            break;
        case O_LIST:
            *list = true;
            break;
        case O_JSON:
            *json = true;
            break;
        case O_HELP:
            usage(stdout);
            return -1;
        default:
            event_error("unknown option or missing argument: %s (see --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        event_error("unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    if (*list)
        return EXIT_OK;
    if (o->bind == NULL || o->domain == NULL || o->hostname == NULL) {
        event_error("--bind, --domain and --hostname are required (see --help)");
        return EXIT_USAGE;
    }
    if (o->tls == TLS_OFF && o->faults.on[XFAULT_HOSTNAME_BEFORE_TLS]) {
        event_error("--fault hostname-before-tls needs --tls required or optional");
        return EXIT_USAGE;
    }
    if (o->tls != TLS_OFF && (o->tls_cert == NULL || o->tls_key == NULL)) {
        event_error("--tls %s needs --tls-cert and --tls-key", tls_mode_name(o->tls));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Parse "127.0.0.1:PORT" or "[::1]:PORT" into ADDR. */
static bool parse_bind(const char *text, struct sockaddr_storage *addr, socklen_t *len)
{
    const char *colon = strrchr(text, ':');
    char host[64];
    char *end;
    long port;
    size_t host_len;

    if (colon == NULL)
        return false;
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == colon + 1 || port < 0 || port > 65535)
        return false;
    host_len = (size_t)(colon - text);
    if (host_len >= sizeof(host))
        return false;
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    memset(addr, 0, sizeof(*addr));
    if (host_len > 2 && host[0] == '[' && host[host_len - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;

        host[host_len - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return false;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
        return true;
    }
    {
        struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

        if (strcmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return false;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof(*a4);
        return true;
    }
}

/* "127.0.0.1:PORT" / "[::1]:PORT" of ADDR. */
static void format_addr(const struct sockaddr_storage *addr, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;

        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
        snprintf(buf, len, "[%s]:%u", host, ntohs(a6->sin6_port));
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;

        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
        snprintf(buf, len, "%s:%u", host, ntohs(a4->sin_port));
    }
}

/* ---- the listener ---- */

struct children {
    pid_t pid[MAX_CHILDREN];
    size_t count;
};

static void reap(struct children *c, bool block)
{
    for (size_t i = 0; i < c->count;) {
        pid_t r = waitpid(c->pid[i], NULL, block ? 0 : WNOHANG);

        if (r == c->pid[i] || (r < 0 && errno == ECHILD)) {
            c->pid[i] = c->pid[--c->count];
            continue;
        }
        i++;
    }
}

/* SIGTERM every connection process, wait up to the grace, then SIGKILL the rest. */
static void stop_children(struct children *c)
{
    int64_t until = tls_now_ms() + STOP_GRACE_MS;

    for (size_t i = 0; i < c->count; i++)
        kill(c->pid[i], SIGTERM);
    while (c->count > 0 && tls_now_ms() < until) {
        struct timespec pause = {0, 10 * 1000 * 1000};

        reap(c, false);
        nanosleep(&pause, NULL);
    }
    for (size_t i = 0; i < c->count; i++)
        kill(c->pid[i], SIGKILL);
    reap(c, true);
}

int cmd_xmpp_server(int argc, char **argv)
{
    struct options opt;
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    struct tls_ctx *tls_ctx = NULL;
    struct children children = {.count = 0};
    struct sigaction sa;
    bool list = false, json = false;
    char endpoint[80], err[700];
    struct builder b;
    unsigned long next_id = 1;
    int lfd = -1, one = 1, rc;

    {
        struct xmpp_deviations dev;

        rc = deviations_take_options("xmpp", &dev, sizeof(dev), &argc, argv, true);
        if (rc >= 0)
            return rc;
        rc = parse_options(argc, argv, &opt, &list, &json);
        if (rc != EXIT_OK)
            return rc < 0 ? EXIT_OK : rc;
        opt.dev = dev;
    }
    if (list) {
        xmpp_fault_list(stdout, json);
        return EXIT_OK;
    }
    if (!parse_bind(opt.bind, &addr, &addr_len)) {
        event_error("--bind: \"%s\" is not HOST:PORT (127.0.0.1:PORT or [::1]:PORT)", opt.bind);
        return EXIT_INVALID;
    }
    if (opt.tls != TLS_OFF) {
        tls_ctx = tls_server_ctx_new(opt.tls_cert, opt.tls_key, err, sizeof(err));
        if (tls_ctx == NULL) {
            event_error("%s", err);
            return EXIT_FAIL;
        }
    }
    if (opt.transcript != NULL) {
        int tfd = open(opt.transcript, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (tfd < 0) {
            event_error("--transcript %s: %s", opt.transcript, strerror(errno));
            tls_ctx_free(tls_ctx);
            return EXIT_INVALID;
        }
        close(tfd);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lfd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&addr, addr_len) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &addr_len) < 0) {
        event_error("--bind %s: %s", opt.bind, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        tls_ctx_free(tls_ctx);
        return EXIT_FAIL;
    }
    format_addr(&addr, endpoint, sizeof(endpoint));
    event_begin(&b, "listening");
    json_field(&b, "endpoint", endpoint);
    event_write(&b);
    while (!stop_requested) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        struct sockaddr_storage peer_addr;
        socklen_t peer_len = sizeof(peer_addr);
        char peer[80];
        pid_t pid;
        int fd;

        reap(&children, false);
        if (children.count == MAX_CHILDREN || poll(&pfd, 1, 100) <= 0) {
            if (children.count == MAX_CHILDREN) {
                struct timespec pause = {0, 10 * 1000 * 1000};

                nanosleep(&pause, NULL);
            }
            continue;
        }
        fd = accept(lfd, (struct sockaddr *)&peer_addr, &peer_len);
        if (fd < 0)
            continue;
        format_addr(&peer_addr, peer, sizeof(peer));
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
            int flags = fcntl(fd, F_GETFL);

            close(lfd);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            fcntl(fd, F_SETFL, flags | O_NONBLOCK);
            rc = run_connection(&opt, tls_ctx, fd, next_id, peer);
            tls_ctx_free(tls_ctx);
            exit(rc); /* exit, not _exit: flushes, and lets LeakSanitizer check */
        }
        if (pid < 0)
            event_error("fork: %s", strerror(errno));
        else
            children.pid[children.count++] = pid;
        close(fd);
        next_id++;
    }
    close(lfd);
    stop_children(&children);
    tls_ctx_free(tls_ctx);
    return EXIT_OK;
}
