/* gsspeer xmpp-client: see xmpp-client.h. */
#include "tools/xmpp-client.h"

#include "tools/deviations.h"
#include "tools/gss-tap.h"
#include "tools/xmpp-client-deviate.h"
#include "tools/xmpp-client-faults.h"
#include "tools/xmpp-client-options.h"
#include "tools/xmpp-client-transcript.h"
#include "util/base64.h"
#include "util/gss.h"
#include "util/gssops.h"
#include "util/jsonout.h"
#include "xmpp/features.h"
#include "xmpp/realm.h"
#include "xmpp/sasl.h"
#include "xmpp/xep0233.h"

#include <errno.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_CLIENT "jabber:client"
#define BIND_ID "gsspeer-bind"
#define BIND_RESOURCE "gsspeer"
#define UNKNOWN_MECHANISM "X-GSSCONFORM-UNKNOWN"

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_INVALID = 2,
    SLICE_MS = 20,        /* one xmpp_run_once at most this long */
    CLOSE_GRACE_MS = 500, /* after our </stream:stream>: wait this long for the server's */
    MAX_TEXT = 512,
};

/* Where the login stands (what we wait for). */
enum phase {
    PH_CONNECTING, /* TCP connect under way */
    PH_HEADER,     /* our stream header sent; the server's expected */
    PH_FEATURES,   /* <stream:features/> expected */
    PH_STARTTLS,   /* <starttls/> sent; <proceed/> expected */
    PH_SASL,       /* <auth/> sent; challenge / success / failure expected */
    PH_BIND,       /* bind IQ sent; its result expected */
    PH_CLOSING,    /* our </stream:stream> sent */
};

/* How a SASL element carries its payload. */
enum payload {
    PAYLOAD_BASE64,        /* base64; zero octets: "=" in <auth/>, the empty element otherwise */
    PAYLOAD_EQUALS,        /* the text "=" whatever the payload */
    PAYLOAD_EMPTY_ELEMENT, /* <x/> without text */
    PAYLOAD_BAD_BASE64,    /* text that is not base64 */
    PAYLOAD_BASE64_LINES,  /* base64 with a line feed after every 76 characters (a fault) */
    PAYLOAD_BASE64_NO_PAD, /* base64 without its '=' padding (a fault) */
};

/* Fault forms of TEXT, the base64 of a payload: NO_PAD cuts the padding in place, LINES
 * returns a new string (the caller frees it and TEXT) with a line feed after every 76
 * characters, NULL when out of memory. Any other form returns TEXT. */
static char *mangle_base64(char *text, enum payload form)
{
    size_t len = strlen(text), j = 0;
    char *lines;

    if (form == PAYLOAD_BASE64_NO_PAD)
        text[strcspn(text, "=")] = '\0';
    if (form != PAYLOAD_BASE64_LINES)
        return text;
    lines = malloc(len + len / 76 + 1);
    if (lines == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        lines[j++] = text[i];
        if ((i + 1) % 76 == 0 && i + 1 < len)
            lines[j++] = '\n';
    }
    lines[j] = '\0';
    return lines;
}

struct client {
    struct xc_options opt;
    struct xmpp_deviations dev; /* --deviate (planted deviations, docs/mutation.md) */
    char pre_tls_hostname[300]; /* deviation pre-tls-hostname: the pre-TLS <hostname/> */
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    struct xct transcript;
    enum phase phase;
    bool secured;       /* TLS is up */
    bool authenticated; /* <success/> came */
    bool finished;      /* the run's outcome is decided */
    int status;         /* exit status once finished */
    long long start_ms, deadline_ms, first_fault_ms;
    unsigned faults_applied;
    char server_header[MAX_TEXT]; /* the last stream header libstrophe logged */
    char log_error[MAX_TEXT];     /* the last error libstrophe logged */
    char tls_error[MAX_TEXT];     /* why the certificate was refused */
    /* SASL */
    gss_name_t target;
    gss_cred_id_t cred;
    struct sasl_config cfg;
    struct sasl_faults sasl_faults;
    struct sasl *sasl;
    struct sasl *second; /* second-auth: the engine of the fresh context */
    bool sasl_done;      /* the engine returned SASL_DONE (success is expected next) */
    bool second_sent;    /* second-auth: the new <auth/> went out */
    unsigned challenges;
    unsigned char *held; /* initial token held back (no/empty initial response faults) */
    size_t held_len;
    char foreign_authzid[300];
};

/* Process-wide state the C callbacks without user data need (one login per process). */
static struct client *active;
static char watchdog_line[700];
static size_t watchdog_len;

/* ------------------------------------------------------------------------------------------ */
/* time, events, transcript */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void event_begin(const char *name)
{
    printf("{\"event\":\"%s\"", name);
}

static void event_end(void)
{
    fputs("}\n", stdout);
    fflush(stdout);
}

static void event_str(const char *key, const char *value)
{
    printf(",\"%s\":", key);
    if (value == NULL)
        fputs("null", stdout);
    else
        json_put_string(stdout, value);
}

/* ------------------------------------------------------------------------------------------ */
/* finishing */

static void close_stream(struct client *c);

/* Decide the run: STATUS and (for a failure) a one-line reason, printed on stderr and as an
 * error event. The first decision wins. */
static void finish(struct client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish(struct client *c, int status, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;

    if (c->finished)
        return;
    c->finished = true;
    c->status = status;
    if (fmt == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    for (char *p = reason; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "gsspeer: xmpp-client: %s\n", reason);
    event_begin("error");
    event_str("reason", reason);
    event_end();
    xct_local(&c->transcript, "close", reason);
}

/* The server reacted to an applied fault (or closed): with faults, that is the observation
 * the run exists for (exit 0); without, a failure with REASON. */
static void observed_or_fail(struct client *c, const char *reason)
{
    if (c->opt.fault_count > 0 && c->faults_applied == c->opt.fault_count) {
        xct_local(&c->transcript, "close", reason);
        close_stream(c);
        finish(c, EXIT_OK, NULL);
        return;
    }
    if (c->opt.fault_count > 0)
        finish(c, EXIT_FAIL, "%s (before every fault could be applied)", reason);
    else
        finish(c, EXIT_FAIL, "%s", reason);
}

static void fault_applied(struct client *c, enum xc_fault id, const char *detail)
{
    if (!c->opt.faults[id])
        return;
    if (c->faults_applied == 0)
        c->first_fault_ms = now_ms();
    c->faults_applied++;
    event_begin("fault");
    event_str("name", xc_fault_catalogue[id].name);
    printf(",\"arg\":\"\",\"phase\":\"sasl\",\"applied\":true");
    event_str("detail", detail);
    event_end();
}

/* ------------------------------------------------------------------------------------------ */
/* sending */

/* Send XML as it is, after its transcript line (KIND). */
static void send_xml(struct client *c, const char *kind, const char *xml)
{
    xct_element(&c->transcript, "out", kind, xml);
    xmpp_send_raw_string(c->conn, "%s", xml);
}

static void close_stream(struct client *c)
{
    if (c->phase == PH_CLOSING || !xmpp_conn_is_connected(c->conn))
        return;
    c->phase = PH_CLOSING;
    send_xml(c, "stream-close", "</stream:stream>");
}

/* Open (or restart) the stream: to=D, version 1.0, jabber:client. */
static void open_stream(struct client *c)
{
    char *attrs[] = {
        "to",           (char *)c->opt.domain,
        "version",      "1.0",
        "xmlns",        NS_CLIENT,
        "xmlns:stream", "http://etherx.jabber.org/streams",
    };
    char xml[MAX_TEXT];

    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\"?><stream:stream to=\"%s\" version=\"1.0\" xmlns=\"%s\" "
             "xmlns:stream=\"http://etherx.jabber.org/streams\">",
             c->opt.domain, NS_CLIENT);
    xct_element(&c->transcript, "out", "stream-open", xml);
    c->phase = PH_HEADER;
    if (xmpp_conn_open_stream(c->conn, attrs, sizeof(attrs) / sizeof(attrs[0])) != XMPP_EOK)
        finish(c, EXIT_FAIL, "could not send the stream header (libstrophe refused)");
}

/* Send a SASL element NAME (auth, response) with LEN octets of DATA in FORM; MECH for
 * <auth/>. The transcript line carries the payload in hex. */
static void send_sasl(struct client *c, const char *name, const char *mech,
                      const unsigned char *data, size_t len, enum payload form)
{
    char *text = NULL, *mangled = NULL, *xml = NULL;
    const char *content = "";
    unsigned char plain[GSSTAP_MAX];
    struct xct_layer layer;
    size_t size;

    switch (form) {
    case PAYLOAD_BASE64:
    case PAYLOAD_BASE64_LINES:
    case PAYLOAD_BASE64_NO_PAD:
        text = base64_encode(data, len);
        mangled = text != NULL ? mangle_base64(text, form) : NULL;
        if (mangled == NULL) {
            free(text);
            finish(c, EXIT_FAIL, "out of memory");
            return;
        }
        content = len == 0 && strcmp(name, "auth") == 0 ? "=" : mangled;
        break;
    case PAYLOAD_EQUALS:
        content = "=";
        break;
    case PAYLOAD_EMPTY_ELEMENT:
        break;
    case PAYLOAD_BAD_BASE64:
        content = "*not*base64*";
        break;
    }
    size = strlen(content) + 200;
    xml = malloc(size);
    if (xml == NULL) {
        if (mangled != text)
            free(mangled);
        free(text);
        finish(c, EXIT_FAIL, "out of memory");
        return;
    }
    if (content[0] == '\0' && mech == NULL)
        snprintf(xml, size, "<%s xmlns=\"%s\"/>", name, SASL_NS);
    else if (content[0] == '\0')
        snprintf(xml, size, "<%s xmlns=\"%s\" mechanism=\"%s\"/>", name, SASL_NS, mech);
    else if (mech == NULL)
        snprintf(xml, size, "<%s xmlns=\"%s\">%s</%s>", name, SASL_NS, content, name);
    else
        snprintf(xml, size, "<%s xmlns=\"%s\" mechanism=\"%s\">%s</%s>", name, SASL_NS, mech,
                 content, name);
    layer.from_server = false;
    layer.plain = plain;
    xct_sasl(&c->transcript, "out", name, xml, data, text != NULL ? len : 0,
             gsstap_take(GSSTAP_WRAPPED, plain, &layer.len) ? &layer : NULL);
    xmpp_send_raw_string(c->conn, "%s", xml);
    free(xml);
    if (mangled != text)
        free(mangled);
    free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* features and the service name */

/* The XEP-0233 principal xmpp/HOST/DOMAIN@REALM into NAME (size LEN); false with WHY. */
static bool xep0233_name(struct client *c, const char *host, char *name, size_t len, char *why,
                         size_t why_len)
{
    struct principal_request req = {PRINCIPAL_GSS, host, c->opt.domain, NULL,
                                    PRINCIPAL_PORT_UNKNOWN};
    struct principal_result result = {0};
    char *mapped = NULL;
    bool ok = false;

    if (realm_for_principal_domain(c->opt.domain, &mapped, why, why_len) == REALM_FAILED)
        return false; /* nothing allocated */
    req.realm = mapped; /* NULL when unmapped: principal_build's fallback */
    principal_build(&req, &result);
    if (xep0233_usable(result.verdict, XEP0233_LENIENT) && xcd_principal_deviates(&c->dev)) {
        /* deviation: another name from the same parts (the conformant realm is the name's) */
        ok = xcd_principal(&c->dev, host, c->opt.domain, c->opt.port, strrchr(result.name, '@') + 1,
                           name, len);
        if (!ok)
            snprintf(why, why_len, "the deviant name does not fit in %zu octets", len);
    } else if (xep0233_usable(result.verdict, XEP0233_LENIENT)) {
        snprintf(name, len, "%s", result.name);
        ok = true;
    } else {
        principal_explain(&result, why, why_len);
    }
    principal_result_free(&result);
    free(mapped);
    return ok;
}

/* Walk the <mechanisms/> of FEATURES: print them as a JSON array to stdout; *GSSAPI when
 * GSSAPI is one of them; returns whether <mechanisms/> is there at all. */
static bool print_mechanisms(xmpp_stanza_t *features, bool *gssapi)
{
    xmpp_stanza_t *mechs = xmpp_stanza_get_child_by_name_and_ns(features, "mechanisms", SASL_NS);
    bool first = true;

    *gssapi = false;
    fputs(",\"mechanisms\":[", stdout);
    for (xmpp_stanza_t *m = mechs != NULL ? xmpp_stanza_get_children(mechs) : NULL; m != NULL;
         m = xmpp_stanza_get_next(m)) {
        const char *name = xmpp_stanza_get_name(m);
        char *text;

        if (name == NULL || strcmp(name, "mechanism") != 0)
            continue;
        text = xmpp_stanza_get_text(m);
        if (text == NULL)
            continue;
        if (!first)
            putchar(',');
        json_put_string(stdout, text);
        *gssapi |= strcmp(text, "GSSAPI") == 0;
        first = false;
        xmpp_free(active->ctx, text);
    }
    putchar(']');
    return mechs != NULL;
}

/* Start SASL GSSAPI on the current stream with what FEATURES_XML (the features as text)
 * says. */
static void start_sasl(struct client *c, xmpp_stanza_t *features, const char *features_xml)
{
    struct features_result fr;
    enum xep0233_verdict verdict = XEP0233_INVALID;
    bool gssapi = false, have_mechs;
    const char *hostname = NULL, *form;
    char target[600], why[600];
    enum nametype type;
    OM_uint32 major, minor;
    unsigned char *out = NULL;
    size_t out_len = 0;
    enum sasl_status st;

    if (features_parse(features_xml, strlen(features_xml), &fr) != FEATURES_OK) {
        finish(c, EXIT_FAIL, "stream features: %s: %s", features_status_name(fr.status), fr.error);
        return;
    }
    verdict = hostname_check_verdict(&fr.hostname);
    if (xep0233_usable(verdict, XEP0233_LENIENT))
        hostname = fr.hostname.name;
    if (c->dev.pre_tls_hostname && c->pre_tls_hostname[0] != '\0') {
        hostname = c->pre_tls_hostname; /* deviation: what the unprotected stream said */
        verdict = XEP0233_VALID;
    }
    hostname_explain(&fr.hostname, "hostname", why, sizeof(why));
    if (verdict == XEP0233_ACCEPTABLE)
        fprintf(stderr, "gsspeer: xmpp-client: acceptable (lenient reading): %s\n", why);

    event_begin("features");
    have_mechs = print_mechanisms(features, &gssapi);
    event_str("hostname", hostname);
    event_str("hostname_status", hostname_status_name(fr.hostname.status));
    event_str("hostname_verdict", xep0233_verdict_name(verdict));
    printf(",\"tls\":%s", c->secured ? "true" : "false");
    event_end();

    if (!gssapi && !c->opt.faults[XC_FAULT_SASL_BEFORE_TLS]) {
        finish(c, EXIT_FAIL, "the server does not offer SASL GSSAPI%s (RFC 6120 §6.4.1)",
               have_mechs ? "" : ": no <mechanisms/> in the stream features");
        return;
    }

    /* The service name (XEP-0233 §3, RFC 4752 §3.1), unless a case names it exactly. */
    if (c->opt.service_principal != NULL) {
        snprintf(target, sizeof(target), "%s", c->opt.service_principal);
        type = NAMETYPE_KRB5;
        form = "exact";
    } else if (c->dev.no_hostbased_fallback && c->opt.form == FORM_XEP0233 && hostname == NULL) {
        finish(c, EXIT_FAIL,
               "no usable <hostname/> to build the service name from: %s (deviation "
               "no-hostbased-fallback)",
               why);
        return;
    } else if (c->opt.form == FORM_HOSTBASED || (c->opt.form == FORM_XEP0233 && hostname == NULL)) {
        snprintf(target, sizeof(target), "%s@%s", XEP0233_SERVICE, c->opt.domain);
        type = NAMETYPE_HOSTBASED;
        form = "hostbased";
    } else if (hostname == NULL) {
        finish(c, EXIT_FAIL, "--principal-form domain needs a usable <hostname/>: %s", why);
        return;
    } else {
        if (!xep0233_name(c, hostname, target, sizeof(target), why, sizeof(why))) {
            finish(c, EXIT_FAIL, "XEP-0233 principal: %s", why);
            return;
        }
        type = NAMETYPE_KRB5;
        form = xcd_principal_deviates(&c->dev) ? "deviant" : "xep0233";
    }
    event_begin("principal");
    event_str("target", target);
    event_str("form", form);
    event_end();
    major = gssutil_import_name(target, type, &c->target, &minor);
    if (GSS_ERROR(major)) {
        char *text = gssutil_status_text(major, minor);

        finish(c, EXIT_FAIL, "importing %s: %s", target, text != NULL ? text : "GSS failure");
        free(text);
        return;
    }

    c->cfg.role = SASL_ROLE_CLIENT;
    c->cfg.gss = gsstap_ops();
    c->cfg.cred = c->cred;
    c->cfg.target = c->target;
    c->cfg.layers_acceptable = SASL_LAYER_NONE;
    c->cfg.authzid = c->opt.authzid;
    if (c->opt.faults[XC_FAULT_FOREIGN_AUTHZID]) {
        snprintf(c->foreign_authzid, sizeof(c->foreign_authzid), "mallory@%s", c->opt.domain);
        c->cfg.authzid = c->foreign_authzid;
    }
    c->sasl_faults.layer_byte_set =
        c->opt.faults[XC_FAULT_LAYER_NO_BIT] || c->opt.faults[XC_FAULT_LAYER_SEVERAL_BITS];
    c->sasl_faults.layer_byte = c->opt.faults[XC_FAULT_LAYER_SEVERAL_BITS] ? 0x07 : 0x00;
    c->sasl_faults.client_maxsize_with_none = c->opt.faults[XC_FAULT_MAXSIZE_WITH_NONE];
    c->cfg.faults = &c->sasl_faults;
    c->cfg.deviations = &c->dev;
    c->sasl = rfc4752_new(&c->cfg);
    if (c->sasl == NULL) {
        finish(c, EXIT_FAIL, "out of memory");
        return;
    }
    st = rfc4752_client_start(c->sasl, &out, &out_len);
    if (st == SASL_FAILED) {
        finish(c, EXIT_FAIL, "SASL GSSAPI: %s", rfc4752_error(c->sasl));
        free(out);
        return;
    }
    c->phase = PH_SASL;
    if (c->opt.faults[XC_FAULT_SASL_BEFORE_TLS] && !c->secured)
        fault_applied(c, XC_FAULT_SASL_BEFORE_TLS, "<auth/> on the stream before STARTTLS");
    if (c->opt.faults[XC_FAULT_AUTH_BAD_BASE64]) {
        fault_applied(c, XC_FAULT_AUTH_BAD_BASE64, "<auth>*not*base64*</auth>");
        send_sasl(c, "auth", "GSSAPI", out, out_len, PAYLOAD_BAD_BASE64);
    } else if (c->opt.faults[XC_FAULT_UNKNOWN_MECHANISM]) {
        fault_applied(c, XC_FAULT_UNKNOWN_MECHANISM, "mechanism='" UNKNOWN_MECHANISM "'");
        send_sasl(c, "auth", UNKNOWN_MECHANISM, out, out_len, PAYLOAD_BASE64);
    } else if (c->opt.faults[XC_FAULT_INITIAL_RESPONSE_EMPTY_EQUALS] ||
               c->opt.faults[XC_FAULT_NO_INITIAL_RESPONSE]) {
        bool equals = c->opt.faults[XC_FAULT_INITIAL_RESPONSE_EMPTY_EQUALS];

        fault_applied(
            c, equals ? XC_FAULT_INITIAL_RESPONSE_EMPTY_EQUALS : XC_FAULT_NO_INITIAL_RESPONSE,
            equals ? "<auth mechanism='GSSAPI'>=</auth>" : "<auth mechanism='GSSAPI'/>");
        c->held = out;
        c->held_len = out_len;
        out = NULL;
        send_sasl(c, "auth", "GSSAPI", NULL, 0, equals ? PAYLOAD_EQUALS : PAYLOAD_EMPTY_ELEMENT);
    } else if (c->opt.faults[XC_FAULT_AUTH_BASE64_WHITESPACE] && out_len > 57) {
        fault_applied(c, XC_FAULT_AUTH_BASE64_WHITESPACE,
                      "<auth/>'s base64 with a line feed after every 76 characters");
        send_sasl(c, "auth", "GSSAPI", out, out_len, PAYLOAD_BASE64_LINES);
    } else {
        send_sasl(c, "auth", "GSSAPI", out, out_len, PAYLOAD_BASE64);
    }
    if (c->opt.faults[XC_FAULT_NO_INTEGRITY])
        fault_applied(c, XC_FAULT_NO_INTEGRITY, "context requested without INTEG/CONF flags");
    if (c->opt.faults[XC_FAULT_FOREIGN_AUTHZID])
        fault_applied(c, XC_FAULT_FOREIGN_AUTHZID, c->foreign_authzid);
    free(out);
}

/* Deviation skip-starttls: whether FEATURES_XML lists the GSSAPI mechanism. */
static bool gssapi_listed(const char *features_xml)
{
    struct features_result fr;

    return features_parse(features_xml, strlen(features_xml), &fr) == FEATURES_OK &&
           fr.gssapi_offered;
}

/* Deviation pre-tls-hostname: keep the usable <hostname/> of the pre-TLS FEATURES_XML. */
static void remember_pre_tls_hostname(struct client *c, const char *features_xml)
{
    struct features_result fr;

    if (features_parse(features_xml, strlen(features_xml), &fr) == FEATURES_OK &&
        xep0233_usable(hostname_check_verdict(&fr.hostname), XEP0233_LENIENT))
        snprintf(c->pre_tls_hostname, sizeof(c->pre_tls_hostname), "%s", fr.hostname.name);
}

static void on_features(struct client *c, xmpp_stanza_t *stanza, const char *xml)
{
    bool starttls = xmpp_stanza_get_child_by_name_and_ns(stanza, "starttls", NS_TLS) != NULL;

    if (c->authenticated) {
        if (xmpp_stanza_get_child_by_name_and_ns(stanza, "bind", NS_BIND) == NULL) {
            finish(c, EXIT_FAIL,
                   "no resource binding offered after authentication (RFC 6120 "
                   "§7.2: <bind/> in the restarted stream's features)");
            return;
        }
        c->phase = PH_BIND;
        send_xml(c, "iq",
                 "<iq type=\"set\" id=\"" BIND_ID "\"><bind xmlns=\"" NS_BIND
                 "\"><resource>" BIND_RESOURCE "</resource></bind></iq>");
        return;
    }
    if (!c->secured && starttls && c->opt.tls != TLS_OFF &&
        !c->opt.faults[XC_FAULT_SASL_BEFORE_TLS] &&
        !(c->dev.skip_starttls && gssapi_listed(xml))) {
        if (c->dev.pre_tls_hostname)
            remember_pre_tls_hostname(c, xml);
        c->phase = PH_STARTTLS;
        send_xml(c, "starttls", "<starttls xmlns=\"" NS_TLS "\"/>");
        return;
    }
    if (!c->secured && !starttls && c->opt.tls == TLS_REQUIRED &&
        !c->opt.faults[XC_FAULT_SASL_BEFORE_TLS] && !c->dev.login_without_tls) {
        finish(c, EXIT_FAIL, "the server offers no STARTTLS and --tls is required");
        return;
    }
    if (c->opt.faults[XC_FAULT_SASL_BEFORE_TLS] && (c->secured || !starttls)) {
        finish(c, EXIT_FAIL,
               "sasl-before-tls: the server offers no STARTTLS on the first "
               "stream, so the fault cannot be applied");
        return;
    }
    start_sasl(c, stanza, xml);
}

/* ------------------------------------------------------------------------------------------ */
/* receiving */

/* The first child of S in namespace NS, other than <text/>; NULL when none. */
static const char *condition_of(xmpp_stanza_t *s, const char *ns)
{
    for (xmpp_stanza_t *k = xmpp_stanza_get_children(s); k != NULL; k = xmpp_stanza_get_next(k)) {
        const char *name = xmpp_stanza_get_name(k), *kns = xmpp_stanza_get_ns(k);

        if (name != NULL && strcmp(name, "text") != 0 && kns != NULL && strcmp(kns, ns) == 0)
            return name;
    }
    return NULL;
}

/* The <text/> of S in NS as a newly allocated string (xmpp_free), or NULL. */
static char *text_of(xmpp_stanza_t *s, const char *ns)
{
    xmpp_stanza_t *t = xmpp_stanza_get_child_by_name_and_ns(s, "text", ns);

    return t != NULL ? xmpp_stanza_get_text(t) : NULL;
}

/* Decode the base64 text of a SASL element: *OUT / *LEN (free()); false with the reason
 * already decided. An empty element and "=" are zero octets here; the caller judges
 * which is allowed where. */
static bool decode_payload(struct client *c, const char *element, const char *text,
                           unsigned char **out, size_t *len, bool *equals)
{
    size_t at = 0;
    enum base64_status st;

    *equals = text != NULL && strcmp(text, "=") == 0;
    if (text == NULL || *equals) {
        *out = malloc(1);
        *len = 0;
        return *out != NULL;
    }
    st = base64_decode(text, strlen(text), out, len, &at);
    if (st != BASE64_OK && c->dev.hang_on_bad_base64) {
        /* deviation: the element is dropped; nothing is answered and nothing is closed */
        fprintf(stderr, "gsspeer: xmpp-client: <%s/> is not base64, ignored (deviation)\n",
                element);
        return false;
    }
    if (st != BASE64_OK) {
        finish(c, EXIT_FAIL, "<%s/>: character data at offset %zu: %s (RFC 6120 §6.4)", element, at,
               base64_status_reason(st));
        return false;
    }
    return true;
}

static void tr_stanza(struct client *c, xmpp_stanza_t *stanza, const char *xml,
                      const unsigned char *payload, size_t len, bool sasl);

/* A challenge of LEN octets IN (its element STANZA / XML, for the transcript line, which is
 * written after the engine's step so it can carry the unwrapped layer message). */
static void on_challenge(struct client *c, xmpp_stanza_t *stanza, const char *xml,
                         const unsigned char *in, size_t len, bool equals)
{
    unsigned char *out = NULL, *copy;
    size_t out_len = 0;
    enum sasl_status st;

    c->challenges++;
    if (c->held != NULL ||
        (c->challenges == 1 && (c->opt.faults[XC_FAULT_ABORT] ||
                                (c->opt.faults[XC_FAULT_SECOND_AUTH] && !c->second_sent))))
        tr_stanza(c, stanza, xml, in, len, true);
    if (equals)
        fprintf(stderr, "gsspeer: xmpp-client: note: <challenge>=</challenge> (RFC 6120 §6.4.2 "
                        "reserves '=' for the initial response)\n");
    if (c->held != NULL) {
        /* no/empty initial response: the server's empty challenge asks for the token. */
        if (len != 0) {
            /* Observed (the faults that hold the token back are applied by now): e.g. a
             * SPNEGO NegTokenInit from an acceptor that took the empty input for a token. */
            char reason[MAX_TEXT];

            snprintf(reason, sizeof(reason),
                     "a challenge of %zu octets answered our %s; an empty challenge was expected "
                     "(RFC 4422 §5: a client-first mechanism without initial response)",
                     len,
                     c->opt.faults[XC_FAULT_NO_INITIAL_RESPONSE] ? "absent initial response"
                                                                 : "empty initial response");
            event_begin("unexpected-challenge");
            printf(",\"len\":%zu,\"head\":", len);
            json_put_hex(stdout, in, len < 32 ? len : 32);
            event_end();
            send_xml(c, "abort", "<abort xmlns=\"" SASL_NS "\"/>");
            observed_or_fail(c, reason);
            return;
        }
        send_sasl(c, "response", NULL, c->held, c->held_len, PAYLOAD_BASE64);
        free(c->held);
        c->held = NULL;
        return;
    }
    if (c->challenges == 1 && c->opt.faults[XC_FAULT_ABORT]) {
        fault_applied(c, XC_FAULT_ABORT, "<abort/> instead of the response");
        send_xml(c, "abort", "<abort xmlns=\"" SASL_NS "\"/>");
        return;
    }
    if (c->challenges == 1 && c->opt.faults[XC_FAULT_SECOND_AUTH] && !c->second_sent) {
        c->second_sent = true;
        c->second = rfc4752_new(&c->cfg);
        if (c->second == NULL || rfc4752_client_start(c->second, &out, &out_len) == SASL_FAILED) {
            finish(c, EXIT_FAIL, "second-auth: %s",
                   c->second != NULL ? rfc4752_error(c->second) : "out of memory");
            free(out);
            return;
        }
        fault_applied(c, XC_FAULT_SECOND_AUTH, "a new <auth/> with a fresh context token");
        send_sasl(c, "auth", "GSSAPI", out, out_len, PAYLOAD_BASE64);
        free(out);
        /* From now on the server talks to the fresh context, if it goes on at all. */
        rfc4752_free(c->sasl);
        c->sasl = c->second;
        c->second = NULL;
        c->challenges = 0;
        return;
    }
    /* The engine gets a copy: MIT's gss_unwrap may rewrite its input in place, and the
     * transcript wants the bytes as they came. */
    copy = malloc(len + 1);
    if (copy == NULL) {
        finish(c, EXIT_FAIL, "out of memory");
        return;
    }
    if (len > 0)
        memcpy(copy, in, len);
    st = rfc4752_step(c->sasl, copy, len, &out, &out_len);
    free(copy);
    tr_stanza(c, stanza, xml, in, len, true);
    switch (st) {
    case SASL_CONTINUE:
    case SASL_DONE:
        c->sasl_done = st == SASL_DONE;
        if (out_len == 0 && c->opt.faults[XC_FAULT_EMPTY_RESPONSE_EQUALS]) {
            fault_applied(c, XC_FAULT_EMPTY_RESPONSE_EQUALS, "<response>=</response>");
            send_sasl(c, "response", NULL, out, 0, PAYLOAD_EQUALS);
        } else if (out_len == 0) {
            fault_applied(c, XC_FAULT_EMPTY_RESPONSE_ELEMENT, "<response/>");
            send_sasl(c, "response", NULL, out, 0, PAYLOAD_EMPTY_ELEMENT);
        } else {
            if (st == SASL_DONE) {
                if (c->opt.faults[XC_FAULT_LAYER_NO_BIT])
                    fault_applied(c, XC_FAULT_LAYER_NO_BIT, "layer octet 00");
                if (c->opt.faults[XC_FAULT_LAYER_SEVERAL_BITS])
                    fault_applied(c, XC_FAULT_LAYER_SEVERAL_BITS, "layer octet 07");
                if (c->opt.faults[XC_FAULT_MAXSIZE_WITH_NONE])
                    fault_applied(c, XC_FAULT_MAXSIZE_WITH_NONE, "layer 'none' with max size");
            }
            if (c->opt.faults[XC_FAULT_RESPONSE_BASE64_UNPADDED] && out_len % 3 != 0) {
                fault_applied(c, XC_FAULT_RESPONSE_BASE64_UNPADDED,
                              "<response/>'s base64 without its '=' padding");
                send_sasl(c, "response", NULL, out, out_len, PAYLOAD_BASE64_NO_PAD);
            } else {
                send_sasl(c, "response", NULL, out, out_len, PAYLOAD_BASE64);
            }
        }
        break;
    case SASL_FAILED:
        /* Our side refuses what the server sent: abort the exchange (RFC 6120 §6.4.4). */
        send_xml(c, "abort", "<abort xmlns=\"" SASL_NS "\"/>");
        if (c->opt.fault_count > 0 && c->faults_applied == c->opt.fault_count) {
            /* e.g. no-integrity: the server went on where it should have refused. */
            char reason[MAX_TEXT * 2];

            snprintf(reason, sizeof(reason), "SASL GSSAPI: %s", rfc4752_error(c->sasl));
            event_begin("client-refused");
            event_str("reason", reason);
            event_end();
            observed_or_fail(c, reason);
        } else {
            finish(c, EXIT_FAIL, "SASL GSSAPI: %s", rfc4752_error(c->sasl));
        }
        break;
    }
    free(out);
}

static void on_success(struct client *c, size_t len)
{
    const struct rfc4752_outcome *o = rfc4752_outcome(c->sasl);

    event_begin("sasl");
    event_str("outcome", "success");
    if (o != NULL && c->sasl_done)
        printf(",\"layer\":%u,\"max_size\":%lu", o->layer, (unsigned long)o->client_max_size);
    event_end();
    if (!c->sasl_done) {
        observed_or_fail(c, "<success/> before the GSSAPI exchange was complete (RFC 4752 §3.1: "
                            "the security layer negotiation comes first)");
        return;
    }
    if (len != 0) {
        observed_or_fail(c, "<success/> carries additional data, but SASL GSSAPI has none after "
                            "the layer negotiation (RFC 4752 §3.1)");
        return;
    }
    c->authenticated = true;
    /* RFC 6120 §6.4.6: after success the initiating entity restarts the stream. */
    open_stream(c);
}

static void on_failure(struct client *c, xmpp_stanza_t *stanza)
{
    const char *condition = condition_of(stanza, SASL_NS);
    char *text = text_of(stanza, SASL_NS);
    enum sasl_condition parsed;
    char reason[MAX_TEXT * 2];

    bool defined = condition != NULL && rfc4752_condition_parse(condition, &parsed);

    event_begin("sasl");
    event_str("outcome", "failure");
    event_str("condition", condition);
    printf(",\"defined\":%s", defined ? "true" : "false");
    if (text != NULL)
        event_str("text", text);
    event_end();
    if (!defined)
        snprintf(reason, sizeof(reason),
                 "<failure/> without a defined condition%s%s (RFC 6120 §6.5)",
                 condition != NULL ? ": " : "", condition != NULL ? condition : "");
    else
        snprintf(reason, sizeof(reason), "the server refused the login: %s%s%s", condition,
                 text != NULL ? ": " : "", text != NULL ? text : "");
    if (text != NULL)
        xmpp_free(c->ctx, text);
    observed_or_fail(c, reason);
}

static void on_bind(struct client *c, xmpp_stanza_t *stanza)
{
    const char *type = xmpp_stanza_get_type(stanza);
    xmpp_stanza_t *bind = xmpp_stanza_get_child_by_name_and_ns(stanza, "bind", NS_BIND);
    xmpp_stanza_t *jid_el = bind != NULL ? xmpp_stanza_get_child_by_name(bind, "jid") : NULL;
    char *jid = jid_el != NULL ? xmpp_stanza_get_text(jid_el) : NULL;
    const char *want = c->opt.authzid != NULL ? c->opt.authzid : c->opt.jid;
    size_t n = strlen(want);

    if (type == NULL || strcmp(type, "result") != 0) {
        observed_or_fail(c, "resource binding refused (the bind IQ was not answered with a "
                            "result, RFC 6120 §7.6)");
    } else if (jid == NULL) {
        observed_or_fail(c, "the bind result carries no <jid/> (RFC 6120 §7.6.1)");
    } else if (strncmp(jid, want, n) != 0 || jid[n] != '/' || jid[n + 1] == '\0') {
        char reason[MAX_TEXT * 2];

        snprintf(reason, sizeof(reason), "bound JID %s is not a resource of %s", jid, want);
        observed_or_fail(c, reason);
    } else {
        event_begin("bound");
        event_str("jid", jid);
        event_end();
        close_stream(c);
        event_begin("done");
        event_end();
        finish(c, EXIT_OK, NULL);
    }
    if (jid != NULL)
        xmpp_free(c->ctx, jid);
}

/* The `layer-offer` event: the server's layer message PLAIN (LEN octets) as the engine
 * unwrapped it; the layers and max size when there are 4 octets or more. Once per run. */
static void event_layer_offer(const unsigned char *plain, size_t len)
{
    static bool reported;
    struct sasl_layer_msg msg;
    int conf = gsstap_unwrap_conf();

    if (reported)
        return;
    reported = true;
    event_begin("layer-offer");
    printf(",\"octets\":%zu,\"plain\":", len);
    json_put_hex(stdout, plain, len);
    if (len >= 4)
        printf(",\"layers\":%u,\"max_size\":%lu", plain[0],
               (unsigned long)plain[1] << 16 | (unsigned long)plain[2] << 8 | plain[3]);
    if (conf >= 0)
        printf(",\"conf\":%s", conf ? "true" : "false");
    event_str("status", rfc4752_layer_status_name(rfc4752_layers_parse_server(plain, len, &msg)));
    event_end();
}

/* The transcript line of a received stanza; SASL elements with their decoded payload and the
 * layer message the engine unwrapped from it (also the layer-offer event). */
static void tr_stanza(struct client *c, xmpp_stanza_t *stanza, const char *xml,
                      const unsigned char *payload, size_t len, bool sasl)
{
    const char *name = xmpp_stanza_get_name(stanza);
    unsigned char plain[GSSTAP_MAX];
    struct xct_layer layer = {plain, 0, true};

    if (name == NULL)
        name = "?";
    if (!sasl) {
        xct_element(&c->transcript, "in", name, xml);
        return;
    }
    if (gsstap_take(GSSTAP_UNWRAPPED, plain, &layer.len)) {
        event_layer_offer(plain, layer.len);
        xct_sasl(&c->transcript, "in", name, xml, payload, len, &layer);
    } else {
        xct_sasl(&c->transcript, "in", name, xml, payload, len, NULL);
    }
}

static int on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct client *c = userdata;
    const char *name = xmpp_stanza_get_name(stanza), *ns = xmpp_stanza_get_ns(stanza);
    char *xml = NULL;
    size_t xml_len = 0;
    unsigned char *payload = NULL;
    size_t len = 0;
    bool equals = false;

    (void)conn;
    if (c->finished || name == NULL)
        return 1;
    if (xmpp_stanza_to_text(stanza, &xml, &xml_len) != XMPP_EOK) {
        finish(c, EXIT_FAIL, "out of memory");
        return 1;
    }
    if (ns != NULL && strcmp(ns, SASL_NS) == 0 && c->phase == PH_SASL &&
        (strcmp(name, "challenge") == 0 || strcmp(name, "success") == 0)) {
        char *text = xmpp_stanza_get_text(stanza);
        bool ok = decode_payload(c, name, text, &payload, &len, &equals);

        if (text != NULL)
            xmpp_free(c->ctx, text);
        if (!ok) {
            tr_stanza(c, stanza, xml, NULL, 0, false);
            goto cleanup;
        }
        if (strcmp(name, "challenge") == 0) {
            on_challenge(c, stanza, xml, payload, len, equals);
        } else {
            tr_stanza(c, stanza, xml, payload, len, true);
            on_success(c, len);
        }
        goto cleanup;
    }
    tr_stanza(c, stanza, xml, NULL, 0, false);
    if (ns != NULL && strcmp(ns, "http://etherx.jabber.org/streams") == 0) {
        if (strcmp(name, "features") == 0 && c->phase == PH_FEATURES) {
            on_features(c, stanza, xml);
        } else if (strcmp(name, "error") == 0) {
            const char *condition = condition_of(stanza, NS_STREAM_ERRORS);
            char *text = text_of(stanza, NS_STREAM_ERRORS);
            char reason[MAX_TEXT * 2];

            event_begin("stream-error");
            event_str("condition", condition);
            if (text != NULL)
                event_str("text", text);
            event_end();
            snprintf(reason, sizeof(reason), "stream error %s%s%s",
                     condition != NULL ? condition : "(no condition)", text != NULL ? ": " : "",
                     text != NULL ? text : "");
            if (text != NULL)
                xmpp_free(c->ctx, text);
            observed_or_fail(c, reason);
        }
    } else if (ns != NULL && strcmp(ns, NS_TLS) == 0 && c->phase == PH_STARTTLS) {
        if (strcmp(name, "proceed") != 0) {
            finish(c, EXIT_FAIL, "STARTTLS refused: <%s/> instead of <proceed/> (RFC 6120 §5.4.2)",
                   name);
        } else if (xmpp_conn_tls_start(conn) != XMPP_EOK) {
            finish(c, EXIT_FAIL, "TLS handshake failed: %s",
                   c->tls_error[0] != '\0'   ? c->tls_error
                   : c->log_error[0] != '\0' ? c->log_error
                                             : "see libstrophe's report");
        } else {
            c->secured = true;
            xct_local(&c->transcript, "tls", "TLS established");
            event_begin("tls");
            event_end();
            open_stream(c);
        }
    } else if (ns != NULL && strcmp(ns, SASL_NS) == 0 && c->phase == PH_SASL &&
               strcmp(name, "failure") == 0) {
        on_failure(c, stanza);
    } else if (strcmp(name, "iq") == 0 && c->phase == PH_BIND) {
        const char *id = xmpp_stanza_get_id(stanza);

        if (id != NULL && strcmp(id, BIND_ID) == 0)
            on_bind(c, stanza);
    }
cleanup:
    free(payload);
    xmpp_free(c->ctx, xml);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* connection events, libstrophe's log and certificate verdicts */

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                    xmpp_stream_error_t *stream_error, void *userdata)
{
    struct client *c = userdata;
    char reason[MAX_TEXT * 2];

    (void)stream_error;
    switch (event) {
    case XMPP_CONN_RAW_CONNECT:
        open_stream(c);
        break;
    case XMPP_CONN_CONNECT:
        xct_element(&c->transcript, "in", "stream-open",
                    c->server_header[0] != '\0' ? c->server_header : NULL);
        if (c->phase == PH_HEADER)
            c->phase = PH_FEATURES;
        break;
    case XMPP_CONN_DISCONNECT:
    case XMPP_CONN_FAIL:
        if (c->finished)
            break;
        if (c->phase == PH_CONNECTING) {
            finish(c, EXIT_FAIL, "cannot connect to %s:%u: %s", c->opt.host, c->opt.port,
                   error != 0 ? strerror(error) : "connection refused or failed");
            break;
        }
        if (c->phase == PH_CLOSING) {
            finish(c, c->status, NULL);
            break;
        }
        snprintf(reason, sizeof(reason), "the server closed the connection while %s%s%s",
                 c->phase == PH_HEADER     ? "we waited for its stream header"
                 : c->phase == PH_FEATURES ? "we waited for stream features"
                 : c->phase == PH_STARTTLS ? "we waited for <proceed/>"
                 : c->phase == PH_SASL     ? "the SASL exchange was under way"
                                           : "we waited for the bind result",
                 c->log_error[0] != '\0' ? ": " : "", c->log_error);
        if (c->opt.fault_count > 0 && c->faults_applied == c->opt.fault_count) {
            event_begin("peer-closed");
            printf(",\"after_ms\":%lld", now_ms() - c->first_fault_ms);
            event_end();
        }
        observed_or_fail(c, reason);
        break;
    }
    (void)conn;
}

static void on_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
    struct client *c = userdata;

    if (strncmp(msg, "RECV: <stream:stream", 20) == 0)
        snprintf(c->server_header, sizeof(c->server_header), "%s", msg + 6);
    else if (level >= XMPP_LEVEL_ERROR || strncmp(msg, "parse error", 11) == 0)
        snprintf(c->log_error, sizeof(c->log_error), "%s: %s", area, msg);
}

static int on_certfail(const xmpp_tlscert_t *cert, const char *const errormsg)
{
    (void)cert;
    if (active != NULL)
        snprintf(active->tls_error, sizeof(active->tls_error),
                 "the server certificate is not trusted: %s%s", errormsg,
                 active->opt.tls_ca == NULL ? " (no --tls-ca given)" : "");
    return 0;
}

/* The hard bound behind every blocking call libstrophe or GSS-API makes (the TLS handshake
 * loops until the peer answers): the prepared error line, exit 1. */
static void on_watchdog(int sig)
{
    ssize_t ignored;

    (void)sig;
    ignored = write(STDOUT_FILENO, watchdog_line, watchdog_len);
    ignored = write(STDERR_FILENO, "gsspeer: xmpp-client: timeout (blocked in a call)\n", 50);
    (void)ignored;
    _exit(EXIT_FAIL);
}

/* Acquire the initiator credential for no-integrity and switch MIT's implied CONF/INTEG
 * flags off on it (GSS_KRB5_CRED_NO_CI_FLAGS_X); false with a reason already decided. */
static bool no_integrity_cred(struct client *c)
{
    gss_buffer_desc empty = {0, NULL};
    OM_uint32 major, minor;
    char *text;

    major = gssutil_acquire_cred(GSS_C_NO_NAME, GSS_C_INITIATE, &c->cred, &minor);
    if (!GSS_ERROR(major))
        major = gss_set_cred_option(&minor, &c->cred, GSS_KRB5_CRED_NO_CI_FLAGS_X, &empty);
    if (!GSS_ERROR(major)) {
        gsstap_strip_integrity(true);
        return true;
    }
    text = gssutil_status_text(major, minor);
    finish(c, EXIT_FAIL, "no-integrity: initiator credential: %s", text != NULL ? text : "");
    free(text);
    return false;
}

int cmd_xmpp_client(int argc, char **argv)
{
    static struct client client;
    struct client *c = &client;
    xmpp_log_t log = {on_log, c};
    struct itimerval watchdog = {{0, 0}, {0, 0}};
    int rc;
    OM_uint32 minor;

    memset(c, 0, sizeof(*c));
    rc = deviations_take_options("xmpp", &c->dev, sizeof(c->dev), &argc, argv, false);
    if (rc >= 0)
        return rc;
    rc = xc_options_parse(argc, argv, &c->opt);
    if (rc != 0)
        return rc < 0 ? EXIT_OK : rc;
    if (!xc_options_check(&c->opt))
        return EXIT_INVALID;
    active = c;
    c->status = EXIT_FAIL;
    c->target = GSS_C_NO_NAME;
    c->cred = GSS_C_NO_CREDENTIAL;
    if (c->opt.transcript != NULL) {
        if (!xct_open(&c->transcript, c->opt.transcript)) {
            fprintf(stderr, "gsspeer: xmpp-client: --transcript %s: %s\n", c->opt.transcript,
                    strerror(errno));
            return EXIT_INVALID;
        }
    }
    watchdog_len = (size_t)snprintf(watchdog_line, sizeof(watchdog_line),
                                    "{\"event\":\"error\",\"reason\":\"timeout after %ld ms "
                                    "(blocked in a TLS or GSS-API call)\"}\n",
                                    c->opt.timeout_ms);
    /* A server that closes right after its <failure/> must not kill us when our
     * </stream:stream> goes out: the write fails with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_watchdog);
    /* The loop below checks the deadline; the watchdog only catches blocking calls. */
    watchdog.it_value.tv_sec = (c->opt.timeout_ms + 250) / 1000;
    watchdog.it_value.tv_usec = (c->opt.timeout_ms + 250) % 1000 * 1000;
    setitimer(ITIMER_REAL, &watchdog, NULL);
    c->start_ms = now_ms();
    c->deadline_ms = c->start_ms + c->opt.timeout_ms;

    if (c->opt.faults[XC_FAULT_NO_INTEGRITY] && !no_integrity_cred(c))
        goto cleanup;
    xmpp_initialize();
    c->ctx = xmpp_ctx_new(NULL, &log);
    c->conn = c->ctx != NULL ? xmpp_conn_new(c->ctx) : NULL;
    if (c->conn == NULL) {
        finish(c, EXIT_FAIL, "out of memory");
        goto cleanup;
    }
    xmpp_conn_set_jid(c->conn, c->opt.jid);
    xmpp_conn_set_flags(c->conn, XMPP_CONN_FLAG_DISABLE_SM |
                                     (c->opt.tls == TLS_OFF ? XMPP_CONN_FLAG_DISABLE_TLS : 0));
    if (c->opt.tls_ca != NULL)
        xmpp_conn_set_cafile(c->conn, c->opt.tls_ca);
    xmpp_conn_set_certfail_handler(c->conn, on_certfail);
    /* One handler for every stanza (NULL namespace, name and type): dispatch is ours. */
    xmpp_handler_add(c->conn, on_stanza, NULL, NULL, NULL, c);
    c->phase = PH_CONNECTING;
    if (xmpp_connect_raw(c->conn, c->opt.host, c->opt.port, on_conn, c) != XMPP_EOK) {
        finish(c, EXIT_FAIL, "cannot connect to %s:%u", c->opt.host, c->opt.port);
        goto cleanup;
    }
    while (!c->finished) {
        long long left = c->deadline_ms - now_ms();

        if (left <= 0) {
            if (c->opt.fault_count > 0 && c->faults_applied == c->opt.fault_count) {
                event_begin("peer-open");
                printf(",\"waited_ms\":%lld", now_ms() - c->first_fault_ms);
                event_end();
                xct_local(&c->transcript, "close", "the server neither answered nor closed");
                finish(c, EXIT_OK, NULL);
            } else {
                finish(c, EXIT_FAIL, "timeout after %ld ms while %s", c->opt.timeout_ms,
                       c->phase == PH_CONNECTING ? "connecting"
                       : c->phase == PH_HEADER   ? "waiting for the server's stream header"
                       : c->phase == PH_FEATURES ? "waiting for stream features"
                       : c->phase == PH_STARTTLS ? "waiting for <proceed/>"
                       : c->phase == PH_SASL     ? "in the SASL exchange"
                       : c->phase == PH_BIND     ? "waiting for the bind result"
                                                 : "closing");
            }
            break;
        }
        xmpp_run_once(c->ctx, (unsigned long)(left < SLICE_MS ? left : SLICE_MS));
    }
    /* Let what we queued (</stream:stream>, <abort/>) go out, briefly and bounded. */
    for (long long until = now_ms() + CLOSE_GRACE_MS;
         xmpp_conn_is_connected(c->conn) && now_ms() < until && now_ms() < c->deadline_ms;) {
        if (xmpp_conn_send_queue_len(c->conn) == 0 && c->phase != PH_CLOSING)
            break;
        xmpp_run_once(c->ctx, SLICE_MS);
    }
cleanup:
    watchdog.it_value.tv_sec = 0;
    watchdog.it_value.tv_usec = 0;
    setitimer(ITIMER_REAL, &watchdog, NULL);
    if (c->conn != NULL) {
        c->finished = true; /* the disconnect event of the release is no news */
        xmpp_conn_release(c->conn);
    }
    if (c->ctx != NULL) {
        xmpp_ctx_free(c->ctx);
        xmpp_shutdown();
    }
    rfc4752_free(c->sasl);
    rfc4752_free(c->second);
    free(c->held);
    if (c->target != GSS_C_NO_NAME)
        gss_release_name(&minor, &c->target);
    if (c->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &c->cred);
    xct_close(&c->transcript);
    active = NULL;
    return c->status;
}
