/* Finding and judging the XEP-0233 <hostname/> in stream features: see features.h. */
#include "xmpp/features.h"

#include "util/builder.h"
#include "util/utf8.h"

#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* expat joins namespace and local name with this separator. */
#define NS_SEP ' '
#define NAME(ns, local) ns " " local

enum { MAX_DEPTH = 32, MAX_TEXT = 4096 };

/* What an open element is, as far as the search cares. */
enum kind {
    K_OTHER,
    K_STREAM,     /* <stream:stream> root */
    K_FEATURES,   /* the <stream:features/> being searched */
    K_MECHANISMS, /* SASL <mechanisms/> directly inside it */
    K_MECHANISM,  /* <mechanism/> inside that */
    K_HOSTNAME,   /* a current-namespace <hostname/> inside the features */
};

enum placement { PLACE_MECHANISMS, PLACE_FEATURES, PLACE_DEEP };

/* The <hostname/> elements found at one placement. */
struct found {
    unsigned count;
    bool differ; /* two of them judge differently or name different hosts */
    bool child;  /* markup inside one of them */
    bool attr;   /* an attribute on one of them */
    bool early;  /* one of them came before a <mechanism/> */
    struct hostname_check first;
};

struct search {
    XML_Parser parser;
    struct features_result *result;
    int depth; /* open elements */
    enum kind stack[MAX_DEPTH + 1];
    int features_depth;       /* depth of <stream:features/> once open; 0 before */
    bool features_done;       /* its end tag was seen */
    bool stopped;             /* a handler stopped the parser and filled result->error */
    struct builder text;      /* character data of the open <hostname/> */
    struct builder mechanism; /* character data of the open <mechanism/> */
    enum placement place;     /* of the open <hostname/> */
    bool in_child;            /* markup inside the open <hostname/> */
    struct found found[3];    /* by placement */
    unsigned legacy, wrong_ns;
    bool hostname_in_mechanisms; /* a <hostname/> was seen in the open <mechanisms/> */
};

const char *features_status_name(enum features_status status)
{
    switch (status) {
    case FEATURES_OK:
        return "FEATURES_OK";
    case FEATURES_MALFORMED:
        return "FEATURES_MALFORMED";
    case FEATURES_NOT_FEATURES:
        return "FEATURES_NOT_FEATURES";
    default:
        return "FEATURES_NOMEM";
    }
}

/* Stop parsing with STATUS and a message at the current position. */
static void stop(struct search *s, enum features_status status, const char *what)
{
    if (s->stopped)
        return;
    s->stopped = true;
    s->result->status = status;
    snprintf(s->result->error, sizeof(s->result->error), "line %lu, column %lu: %s",
             (unsigned long)XML_GetCurrentLineNumber(s->parser),
             (unsigned long)XML_GetCurrentColumnNumber(s->parser) + 1, what);
    XML_StopParser(s->parser, XML_FALSE);
}

/* The local part of an expat "namespace local" name. */
static const char *local_name(const char *name)
{
    const char *sep = strchr(name, NS_SEP);

    return sep != NULL ? sep + 1 : name;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct search *s = data;
    enum kind parent = s->depth > 0 ? s->stack[s->depth] : K_OTHER;
    enum kind kind = K_OTHER;
    bool in_features = s->features_depth > 0 && !s->features_done;

    if (s->depth == MAX_DEPTH) {
        stop(s, FEATURES_NOT_FEATURES, "elements nested too deeply");
        return;
    }
    if (s->depth == 0) {
        if (strcmp(name, NAME(STREAMS_NS, "stream")) == 0) {
            kind = K_STREAM;
        } else if (strcmp(name, NAME(STREAMS_NS, "features")) == 0) {
            kind = K_FEATURES;
        } else {
            stop(s, FEATURES_NOT_FEATURES, "the root element is not <stream:features/>");
            return;
        }
    } else if (parent == K_STREAM && s->features_depth == 0 &&
               strcmp(name, NAME(STREAMS_NS, "features")) == 0) {
        kind = K_FEATURES;
    } else if (parent == K_FEATURES && strcmp(name, NAME(SASL_NS, "mechanisms")) == 0) {
        kind = K_MECHANISMS;
        s->hostname_in_mechanisms = false;
    } else if (parent == K_MECHANISMS && strcmp(name, NAME(SASL_NS, "mechanism")) == 0) {
        kind = K_MECHANISM;
        builder_reset(&s->mechanism);
        s->found[PLACE_MECHANISMS].early |= s->hostname_in_mechanisms;
    } else if (in_features && strcmp(local_name(name), "hostname") == 0) {
        if (parent == K_HOSTNAME) {
            s->in_child = true;
        } else if (strcmp(name, NAME(XEP0233_NS, "hostname")) == 0) {
            kind = K_HOSTNAME;
            s->place = parent == K_MECHANISMS ? PLACE_MECHANISMS
                       : parent == K_FEATURES ? PLACE_FEATURES
                                              : PLACE_DEEP;
            s->in_child = false;
            s->found[s->place].attr |= attrs[0] != NULL;
            s->hostname_in_mechanisms |= s->place == PLACE_MECHANISMS;
            s->result->hostnames++;
            builder_reset(&s->text);
        } else if (strcmp(name, NAME(XEP0233_NS_V0, "hostname")) == 0 ||
                   strcmp(name, NAME(XEP0233_NS_TMP, "hostname")) == 0) {
            s->legacy++;
        } else {
            s->wrong_ns++;
        }
    } else if (parent == K_HOSTNAME) {
        s->in_child = true;
    }
    s->depth++;
    s->stack[s->depth] = kind;
    if (kind == K_FEATURES)
        s->features_depth = s->depth;
}

/* Record the <hostname/> just closed, with its text in s->text. */
static void close_hostname(struct search *s)
{
    struct found *f = &s->found[s->place];
    struct hostname_check check;
    size_t len = s->text.len;

    if (!builder_ok(&s->text) || len > MAX_TEXT) {
        memset(&check, 0, sizeof(check));
        check.status = HOSTNAME_TOO_LONG;
    } else {
        hostname_check(len > 0 ? (const char *)s->text.data : "", len, &check);
    }
    f->child |= s->in_child;
    /* Repeats agree when all name the same host after the lenient repairs. */
    if (f->count == 0)
        f->first = check;
    else if (hostname_check_verdict(&check) == XEP0233_INVALID ||
             strcmp(check.name, f->first.name) != 0)
        f->differ = true;
    else
        f->first.findings |= check.findings;
    f->count++;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct search *s = data;
    enum kind kind = s->stack[s->depth];

    (void)name;
    /* expat may still report the end of the element whose start stopped it. */
    if (s->stopped)
        return;
    if (kind == K_HOSTNAME) {
        close_hostname(s);
    } else if (kind == K_MECHANISM) {
        if (builder_ok(&s->mechanism) && s->mechanism.len == 6 &&
            memcmp(s->mechanism.data, "GSSAPI", 6) == 0)
            s->result->gssapi_offered = true;
    } else if (kind == K_FEATURES) {
        s->features_done = true;
    }
    s->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len)
{
    struct search *s = data;
    enum kind kind = s->stack[s->depth];

    if (s->stopped)
        return;
    /* Both are capped: one byte past the limit is enough to know it was passed. */
    if (kind == K_HOSTNAME || kind == K_MECHANISM) {
        struct builder *b = kind == K_HOSTNAME ? &s->text : &s->mechanism;

        if (b->len + (size_t)len > MAX_TEXT + 1)
            len = (int)(MAX_TEXT + 1 - b->len);
        builder_add(b, text, (size_t)len);
    }
}

/* spec: RFC 6120 §11.1 level: MUST -- an XML stream MUST NOT contain DTDs or processing
 * instructions; refusing the DTD also keeps entity expansion out. */
static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    stop(data, FEATURES_MALFORMED, "document type declaration (RFC 6120 §11.1 forbids it)");
}

/* RFC 6120 §11.6 (paraphrase): XMPP is UTF-8 only; a declaration naming another encoding is
 * refused, not honoured. */
static void XMLCALL on_xmldecl(void *data, const XML_Char *version, const XML_Char *encoding,
                               int standalone)
{
    struct search *s = data;
    char what[120];

    (void)version;
    (void)standalone;
    if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0) {
        snprintf(what, sizeof(what),
                 "encoding \"%.40s\" declared: XMPP is UTF-8 only (RFC 6120 "
                 "§11.6)",
                 encoding);
        stop(s, FEATURES_MALFORMED, what);
    }
}

static void XMLCALL on_pi(void *data, const XML_Char *target, const XML_Char *pidata)
{
    (void)target, (void)pidata;
    stop(data, FEATURES_MALFORMED, "processing instruction (RFC 6120 §11.1 forbids it)");
}

/* Turn what was found into the verdict, best placement first. */
static void decide(struct search *s)
{
    struct hostname_check *h = &s->result->hostname;
    struct found *f = NULL;
    enum hostname_status text_status;

    memset(h, 0, sizeof(*h));
    if (s->found[PLACE_MECHANISMS].count > 0)
        f = &s->found[PLACE_MECHANISMS];
    else if (s->found[PLACE_FEATURES].count > 0)
        f = &s->found[PLACE_FEATURES];
    if (f == NULL) {
        h->status = s->found[PLACE_DEEP].count > 0 ? HOSTNAME_MISPLACED_DEEP
                    : s->legacy > 0                ? HOSTNAME_LEGACY_NS
                    : s->wrong_ns > 0              ? HOSTNAME_WRONG_NS
                                                   : HOSTNAME_ABSENT;
        return;
    }
    if (f->child) {
        h->status = HOSTNAME_CHILD_ELEMENT;
        return;
    }
    if (f->differ) {
        h->status = HOSTNAME_REPEATED;
        return;
    }
    *h = f->first;
    if (hostname_verdict(h->status) == XEP0233_INVALID)
        return;
    /* Placement findings rank before the text's own in the reported status. */
    text_status = h->status;
    h->status = HOSTNAME_OK;
    if (f == &s->found[PLACE_FEATURES])
        hostname_check_note(h, HOSTNAME_MISPLACED);
    if (f->count > 1)
        hostname_check_note(h, HOSTNAME_REPEATED_SAME);
    if (f->attr)
        hostname_check_note(h, HOSTNAME_EXTRA_ATTR);
    if (f->early)
        hostname_check_note(h, HOSTNAME_BEFORE_MECHANISM);
    if (h->status == HOSTNAME_OK)
        h->status = text_status;
}

/* XMPP is UTF-8 only (RFC 6120 §11.6, paraphrase): a UTF-16/32 byte order mark or any byte
 * sequence that is not UTF-8 makes the document malformed. False with RESULT filled. */
static bool check_utf8(const unsigned char *xml, size_t len, struct features_result *result)
{
    size_t line = 1;

    if (len >= 2 && ((xml[0] == 0xfe && xml[1] == 0xff) || (xml[0] == 0xff && xml[1] == 0xfe))) {
        result->status = FEATURES_MALFORMED;
        snprintf(result->error, sizeof(result->error),
                 "UTF-16 byte order mark: XMPP is UTF-8 only (RFC 6120 §11.6)");
        return false;
    }
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence_length(xml + i, len - i);

        if (n == 0) {
            result->status = FEATURES_MALFORMED;
            snprintf(result->error, sizeof(result->error),
                     "line %zu, byte offset %zu: 0x%02x is not UTF-8 (XMPP is UTF-8 only, RFC "
                     "6120 §11.6)",
                     line, i, xml[i]);
            return false;
        }
        line += xml[i] == '\n';
        i += n;
    }
    return true;
}

enum features_status features_parse(const char *xml, size_t len, struct features_result *result)
{
    struct search s;
    enum XML_Status rc;

    memset(result, 0, sizeof(*result));
    memset(&s, 0, sizeof(s));
    s.result = result;
    builder_init(&s.text);
    builder_init(&s.mechanism);
    result->status = FEATURES_OK;
    result->hostname.status = HOSTNAME_ABSENT;
    if (len > FEATURES_MAX_SIZE) {
        result->status = FEATURES_MALFORMED;
        snprintf(result->error, sizeof(result->error),
                 "document of %zu bytes, more than the bound of %d", len, FEATURES_MAX_SIZE);
        goto cleanup;
    }
    if (!check_utf8((const unsigned char *)xml, len, result))
        goto cleanup;
    /* UTF-8 imposed: expat neither honours a declared encoding nor guesses one from a BOM. */
    s.parser = XML_ParserCreateNS("UTF-8", NS_SEP);
    if (s.parser == NULL) {
        result->status = FEATURES_NOMEM;
        snprintf(result->error, sizeof(result->error), "out of memory");
        goto cleanup;
    }
    XML_SetUserData(s.parser, &s);
    XML_SetElementHandler(s.parser, on_start, on_end);
    XML_SetCharacterDataHandler(s.parser, on_text);
    XML_SetStartDoctypeDeclHandler(s.parser, on_doctype);
    XML_SetProcessingInstructionHandler(s.parser, on_pi);
    XML_SetXmlDeclHandler(s.parser, on_xmldecl);

    /* Not final first: a <stream:stream> root may stay open after the features. */
    rc = XML_Parse(s.parser, xml, (int)len, XML_FALSE);
    if (rc != XML_STATUS_ERROR && !(s.features_done && s.stack[1] == K_STREAM))
        rc = XML_Parse(s.parser, NULL, 0, XML_TRUE);
    if (s.stopped)
        goto cleanup;
    if (rc == XML_STATUS_ERROR) {
        result->status = FEATURES_MALFORMED;
        snprintf(result->error, sizeof(result->error), "line %lu, column %lu: %s",
                 (unsigned long)XML_GetCurrentLineNumber(s.parser),
                 (unsigned long)XML_GetCurrentColumnNumber(s.parser) + 1,
                 XML_ErrorString(XML_GetErrorCode(s.parser)));
        goto cleanup;
    }
    if (!s.features_done) {
        result->status = FEATURES_NOT_FEATURES;
        snprintf(result->error, sizeof(result->error), "no complete <stream:features/>");
        goto cleanup;
    }
    decide(&s);
cleanup:
    if (s.parser != NULL)
        XML_ParserFree(s.parser);
    builder_free(&s.text);
    builder_free(&s.mechanism);
    if (result->status != FEATURES_OK) {
        memset(&result->hostname, 0, sizeof(result->hostname));
        result->hostname.status = HOSTNAME_ABSENT;
    }
    return result->status;
}
