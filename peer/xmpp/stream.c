/* The XML stream engine of RFC 6120 §4 on expat: see stream.h. */
#include "xmpp/stream.h"

#include "xmpp/features.h"

#include <expat.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* expat joins namespace and local name with this separator. */
#define NS_SEP ' '

const struct xstream_limits xstream_default_limits = {
    .max_depth = 32,
    .max_element = 256 * 1024,
    .max_total = 4 * 1024 * 1024,
};

struct xstream {
    struct xstream_limits limits;
    XML_Parser parser;
    bool failed; /* an ERROR event was queued; nothing more happens */
    bool closed; /* </stream:stream> came */
    bool header_seen;
    size_t depth;            /* open elements, the stream element included */
    struct xml_node **stack; /* open elements below the stream element (stack[0] = depth 2) */
    char *default_ns;        /* declared on the stream element */
    /* The bytes of this stream not yet handed out in an event: raw.data[0] is at index
     * raw_base of the parser's input. */
    struct builder raw;
    uint64_t raw_base;
    uint64_t fed;        /* bytes given to the parser since the (re)start */
    uint64_t elem_start; /* index where the open top-level element began */
    uint64_t tag_end;    /* index just past the last start tag */
    uint64_t done_end;   /* index just past the last event's bytes */
    /* UTF-8 check across feeds */
    unsigned utf8_need;
    unsigned char utf8_lo, utf8_hi;
    /* queued events */
    struct xstream_event *queue;
    size_t queue_len, queue_cap, queue_head;
};

/* ---- nodes ---- */

void xml_node_free(struct xml_node *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->attr_count; i++) {
        free(node->attrs[i].ns);
        free(node->attrs[i].name);
        free(node->attrs[i].value);
    }
    for (size_t i = 0; i < node->child_count; i++)
        xml_node_free(node->children[i]);
    free(node->attrs);
    free(node->children);
    free(node->ns);
    free(node->name);
    free(node->text);
    free(node);
}

const char *xml_node_attr(const struct xml_node *node, const char *ns, const char *name)
{
    for (size_t i = 0; node != NULL && i < node->attr_count; i++)
        if (strcmp(node->attrs[i].ns, ns) == 0 && strcmp(node->attrs[i].name, name) == 0)
            return node->attrs[i].value;
    return NULL;
}

bool xml_node_is(const struct xml_node *node, const char *ns, const char *name)
{
    return node != NULL && strcmp(node->ns, ns) == 0 && strcmp(node->name, name) == 0;
}

const struct xml_node *xml_node_child(const struct xml_node *node, const char *ns, const char *name)
{
    for (size_t i = 0; node != NULL && i < node->child_count; i++)
        if (xml_node_is(node->children[i], ns, name))
            return node->children[i];
    return NULL;
}

/* Split expat's "uri local" (or "local") into newly allocated *NS and *LOCAL. */
static bool split_name(const char *name, char **ns, char **local)
{
    const char *sep = strchr(name, NS_SEP);

    *ns = sep != NULL ? strndup(name, (size_t)(sep - name)) : strdup("");
    *local = strdup(sep != NULL ? sep + 1 : name);
    if (*ns == NULL || *local == NULL) {
        free(*ns);
        free(*local);
        *ns = *local = NULL;
        return false;
    }
    return true;
}

/* A node for the element NAME with ATTRS (expat's NULL-terminated name/value pairs). */
static struct xml_node *node_new(const char *name, const char **attrs)
{
    struct xml_node *node = calloc(1, sizeof(*node));
    size_t count = 0;

    if (node == NULL)
        return NULL;
    while (attrs[2 * count] != NULL)
        count++;
    node->text = strdup("");
    node->attrs = count > 0 ? calloc(count, sizeof(*node->attrs)) : NULL;
    if (node->text == NULL || (count > 0 && node->attrs == NULL) ||
        !split_name(name, &node->ns, &node->name))
        goto cleanup;
    for (size_t i = 0; i < count; i++) {
        struct xml_attr *a = &node->attrs[i];

        if (!split_name(attrs[2 * i], &a->ns, &a->name))
            goto cleanup;
        node->attr_count++;
        a->value = strdup(attrs[2 * i + 1]);
        if (a->value == NULL)
            goto cleanup;
    }
    return node;
cleanup:
    xml_node_free(node);
    return NULL;
}

static bool node_add_child(struct xml_node *parent, struct xml_node *child)
{
    struct xml_node **grown =
        realloc(parent->children, (parent->child_count + 1) * sizeof(*parent->children));

    if (grown == NULL)
        return false;
    parent->children = grown;
    parent->children[parent->child_count++] = child;
    return true;
}

static bool node_add_text(struct xml_node *node, const char *text, size_t len)
{
    char *grown = realloc(node->text, node->text_len + len + 1);

    if (grown == NULL)
        return false;
    memcpy(grown + node->text_len, text, len);
    node->text_len += len;
    grown[node->text_len] = '\0';
    node->text = grown;
    return true;
}

void xml_escape(struct builder *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            builder_add_str(b, "&amp;");
            break;
        case '<':
            builder_add_str(b, "&lt;");
            break;
        case '>':
            builder_add_str(b, "&gt;");
            break;
        case '"':
            builder_add_str(b, "&quot;");
            break;
        case '\'':
            builder_add_str(b, "&apos;");
            break;
        default:
            builder_add(b, p, 1);
        }
    }
}

/* ---- the event queue ---- */

void xstream_event_clear(struct xstream_event *ev)
{
    xml_node_free(ev->node);
    free(ev->default_ns);
    free(ev->raw);
    memset(ev, 0, sizeof(*ev));
}

/* Queue a copy of *EV (ownership moves to the queue); false on out of memory (EV cleared). */
static bool queue_push(struct xstream *xs, struct xstream_event *ev)
{
    if (xs->queue_len == xs->queue_cap) {
        size_t cap = xs->queue_cap == 0 ? 8 : xs->queue_cap * 2;
        struct xstream_event *grown = realloc(xs->queue, cap * sizeof(*grown));

        if (grown == NULL) {
            xstream_event_clear(ev);
            return false;
        }
        xs->queue = grown;
        xs->queue_cap = cap;
    }
    xs->queue[xs->queue_len++] = *ev;
    memset(ev, 0, sizeof(*ev));
    return true;
}

bool xstream_next(struct xstream *xs, struct xstream_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (xs->queue_head == xs->queue_len)
        return false;
    *ev = xs->queue[xs->queue_head++];
    if (xs->queue_head == xs->queue_len)
        xs->queue_head = xs->queue_len = 0;
    return true;
}

static void queue_drop(struct xstream *xs)
{
    for (size_t i = xs->queue_head; i < xs->queue_len; i++)
        xstream_event_clear(&xs->queue[i]);
    xs->queue_head = xs->queue_len = 0;
}

/* ---- errors ---- */

/* Queue the one ERROR event (CONDITION, reason from FMT) and stop the parser. */
static void fail(struct xstream *xs, const char *condition, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct xstream *xs, const char *condition, const char *fmt, ...)
{
    struct xstream_event ev;
    int n = 0;
    va_list args;

    if (xs->failed)
        return;
    xs->failed = true;
    memset(&ev, 0, sizeof(ev));
    ev.type = XSTREAM_ERROR;
    ev.condition = condition;
    if (xs->parser != NULL && XML_GetCurrentLineNumber(xs->parser) > 0)
        n = snprintf(ev.reason, sizeof(ev.reason),
                     "line %lu, column %lu: ", (unsigned long)XML_GetCurrentLineNumber(xs->parser),
                     (unsigned long)XML_GetCurrentColumnNumber(xs->parser) + 1);
    if (n < 0 || (size_t)n >= sizeof(ev.reason))
        n = 0;
    va_start(args, fmt);
    vsnprintf(ev.reason + n, sizeof(ev.reason) - (size_t)n, fmt, args);
    va_end(args);
    /* On out of memory the error is still known through the failed flag. */
    queue_push(xs, &ev);
    if (xs->parser != NULL)
        XML_StopParser(xs->parser, XML_FALSE);
}

static void fail_nomem(struct xstream *xs)
{
    fail(xs, "internal-server-error", "out of memory");
}

/* ---- expat handlers ---- */

/* The current event's input index and byte count. */
static uint64_t cur_index(struct xstream *xs)
{
    XML_Index i = XML_GetCurrentByteIndex(xs->parser);

    return i < 0 ? xs->fed : (uint64_t)i;
}

/* A newly allocated NUL-terminated copy of input bytes [FROM, TO), which must still be in
 * the raw buffer; NULL on out of memory or when they are not. */
static char *raw_copy(struct xstream *xs, uint64_t from, uint64_t to, size_t *len)
{
    char *copy;

    if (from < xs->raw_base || to < from || to - xs->raw_base > xs->raw.len)
        return NULL;
    copy = malloc((size_t)(to - from) + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, xs->raw.data + (from - xs->raw_base), (size_t)(to - from));
    copy[to - from] = '\0';
    *len = (size_t)(to - from);
    return copy;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct xstream *xs = data;
    uint64_t index = cur_index(xs);
    struct xml_node *node;

    if (xs->failed)
        return;
    xs->tag_end = index + (uint64_t)XML_GetCurrentByteCount(xs->parser);
    if (xs->depth >= xs->limits.max_depth) {
        fail(xs, "policy-violation", "elements nested deeper than %zu", xs->limits.max_depth);
        return;
    }
    node = node_new(name, attrs);
    if (node == NULL) {
        fail_nomem(xs);
        return;
    }
    if (xs->depth == 0) {
        struct xstream_event ev;

        if (strcmp(node->ns, STREAMS_NS) != 0) {
            fail(xs, "invalid-namespace", "the stream element's namespace is '%s', not %s",
                 node->ns, STREAMS_NS);
        } else if (strcmp(node->name, "stream") != 0) {
            fail(xs, "bad-format", "the root element is <%s/>, not <stream:stream>", node->name);
        } else {
            memset(&ev, 0, sizeof(ev));
            ev.type = XSTREAM_HEADER;
            ev.node = node;
            node = NULL;
            ev.default_ns = strdup(xs->default_ns != NULL ? xs->default_ns : "");
            ev.raw = raw_copy(xs, xs->done_end, xs->tag_end, &ev.raw_len);
            if (ev.default_ns == NULL || ev.raw == NULL) {
                xstream_event_clear(&ev);
                fail_nomem(xs);
            } else if (!queue_push(xs, &ev)) {
                fail_nomem(xs);
            } else {
                xs->header_seen = true;
                xs->done_end = xs->tag_end;
            }
        }
        xml_node_free(node);
        xs->depth++;
        return;
    }
    if (xs->depth == 1) {
        xs->elem_start = index;
    } else if (!node_add_child(xs->stack[xs->depth - 2], node)) {
        xml_node_free(node);
        fail_nomem(xs);
        return;
    }
    xs->stack[xs->depth - 1] = node;
    xs->depth++;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct xstream *xs = data;
    uint64_t index = cur_index(xs);
    int count = XML_GetCurrentByteCount(xs->parser);
    uint64_t end = count > 0 ? index + (uint64_t)count : xs->tag_end; /* <a/>: count is 0 */
    struct xstream_event ev;

    (void)name;
    if (xs->failed)
        return;
    memset(&ev, 0, sizeof(ev));
    xs->depth--;
    if (xs->depth == 0) {
        ev.type = XSTREAM_CLOSE;
        ev.raw = raw_copy(xs, index, end, &ev.raw_len);
        xs->closed = true;
    } else if (xs->depth == 1) {
        if (end - xs->elem_start > xs->limits.max_element) {
            xml_node_free(xs->stack[0]); /* depth 1 now: nobody else frees it */
            fail(xs, "policy-violation", "an element of more than %zu bytes",
                 xs->limits.max_element);
            return;
        }
        ev.type = XSTREAM_ELEMENT;
        ev.node = xs->stack[0];
        ev.raw = raw_copy(xs, xs->elem_start, end, &ev.raw_len);
    } else {
        return; /* a nested element: already attached to its parent */
    }
    if (ev.raw == NULL) {
        xstream_event_clear(&ev);
        fail_nomem(xs);
        return;
    }
    if (!queue_push(xs, &ev)) {
        fail_nomem(xs);
        return;
    }
    xs->done_end = end;
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len)
{
    struct xstream *xs = data;

    if (xs->failed || len <= 0)
        return;
    if (xs->depth == 1) {
        /* Between top-level elements only whitespace (keepalives) may come. */
        for (int i = 0; i < len; i++)
            if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
                fail(xs, "bad-format", "character data directly inside <stream:stream>");
                return;
            }
        return;
    }
    if (xs->depth >= 2 && !node_add_text(xs->stack[xs->depth - 2], text, (size_t)len))
        fail_nomem(xs);
}

static void XMLCALL on_ns_start(void *data, const XML_Char *prefix, const XML_Char *uri)
{
    struct xstream *xs = data;

    if (xs->failed || xs->depth != 0 || prefix != NULL)
        return;
    free(xs->default_ns);
    xs->default_ns = strdup(uri != NULL ? uri : "");
    if (xs->default_ns == NULL)
        fail_nomem(xs);
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(data, "restricted-xml", "a document type declaration (RFC 6120 §11.1)");
}

static void XMLCALL on_entity_decl(void *data, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(data, "restricted-xml", "an entity declaration (RFC 6120 §11.1)");
}

static void XMLCALL on_notation_decl(void *data, const XML_Char *name, const XML_Char *base,
                                     const XML_Char *sysid, const XML_Char *pubid)
{
    (void)name;
    (void)base;
    (void)sysid;
    (void)pubid;
    fail(data, "restricted-xml", "a notation declaration (RFC 6120 §11.1)");
}

static void XMLCALL on_pi(void *data, const XML_Char *target, const XML_Char *pi_data)
{
    (void)target;
    (void)pi_data;
    fail(data, "restricted-xml", "a processing instruction (RFC 6120 §11.1)");
}

static void XMLCALL on_comment(void *data, const XML_Char *text)
{
    (void)text;
    fail(data, "restricted-xml", "a comment (RFC 6120 §11.1)");
}

static void XMLCALL on_xml_decl(void *data, const XML_Char *version, const XML_Char *encoding,
                                int standalone)
{
    struct xstream *xs = data;

    (void)standalone;
    if (version != NULL && strcmp(version, "1.0") != 0)
        fail(xs, "unsupported-version", "XML version '%s', not 1.0", version);
    else if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
        fail(xs, "unsupported-encoding", "encoding '%s' declared, XMPP is UTF-8 only", encoding);
}

static int XMLCALL on_external_entity(XML_Parser parser, const XML_Char *context,
                                      const XML_Char *base, const XML_Char *sysid,
                                      const XML_Char *pubid)
{
    (void)context;
    (void)base;
    (void)sysid;
    (void)pubid;
    fail(XML_GetUserData(parser), "restricted-xml", "an external entity (never fetched)");
    return XML_STATUS_ERROR;
}

/* ---- the engine ---- */

static bool parser_start(struct xstream *xs)
{
    xs->parser = XML_ParserCreateNS("UTF-8", NS_SEP);
    if (xs->parser == NULL)
        return false;
    XML_SetUserData(xs->parser, xs);
    XML_SetElementHandler(xs->parser, on_start, on_end);
    XML_SetCharacterDataHandler(xs->parser, on_text);
    XML_SetStartNamespaceDeclHandler(xs->parser, on_ns_start);
    XML_SetStartDoctypeDeclHandler(xs->parser, on_doctype);
    XML_SetEntityDeclHandler(xs->parser, on_entity_decl);
    XML_SetNotationDeclHandler(xs->parser, on_notation_decl);
    XML_SetProcessingInstructionHandler(xs->parser, on_pi);
    XML_SetCommentHandler(xs->parser, on_comment);
    XML_SetXmlDeclHandler(xs->parser, on_xml_decl);
    XML_SetExternalEntityRefHandler(xs->parser, on_external_entity);
    XML_SetParamEntityParsing(xs->parser, XML_PARAM_ENTITY_PARSING_NEVER);
    return true;
}

static void parser_reset_state(struct xstream *xs)
{
    if (xs->parser != NULL)
        XML_ParserFree(xs->parser);
    xs->parser = NULL;
    /* Open elements below the stream element are owned by the stack (or, for depth >= 3,
     * by their top-level ancestor). */
    if (xs->depth >= 2)
        xml_node_free(xs->stack[0]);
    xs->depth = 0;
    free(xs->default_ns);
    xs->default_ns = NULL;
    builder_reset(&xs->raw);
    xs->raw_base = xs->fed = xs->elem_start = xs->tag_end = xs->done_end = 0;
    xs->closed = xs->header_seen = false;
    xs->utf8_need = 0;
    queue_drop(xs);
}

struct xstream *xstream_new(const struct xstream_limits *limits)
{
    struct xstream *xs = calloc(1, sizeof(*xs));

    if (xs == NULL)
        return NULL;
    xs->limits = limits != NULL ? *limits : xstream_default_limits;
    if (xs->limits.max_depth < 2)
        xs->limits.max_depth = 2;
    builder_init(&xs->raw);
    xs->stack = calloc(xs->limits.max_depth, sizeof(*xs->stack));
    if (xs->stack == NULL || !parser_start(xs)) {
        xstream_free(xs);
        return NULL;
    }
    return xs;
}

void xstream_free(struct xstream *xs)
{
    if (xs == NULL)
        return;
    parser_reset_state(xs);
    builder_free(&xs->raw);
    free(xs->queue);
    free(xs->stack);
    free(xs);
}

bool xstream_restart(struct xstream *xs)
{
    parser_reset_state(xs);
    xs->failed = false;
    if (!parser_start(xs)) {
        fail_nomem(xs);
        return false;
    }
    return true;
}

size_t xstream_pending(const struct xstream *xs)
{
    return (size_t)(xs->fed - xs->done_end);
}

/* The length of the longest prefix of DATA that continues valid UTF-8 (a sequence may stay
 * open at the end); LEN when all of it does. */
static size_t utf8_check(struct xstream *xs, const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char b = data[i];

        if (xs->utf8_need > 0) {
            if (b < xs->utf8_lo || b > xs->utf8_hi)
                return i;
            xs->utf8_lo = 0x80;
            xs->utf8_hi = 0xbf;
            xs->utf8_need--;
            continue;
        }
        xs->utf8_lo = 0x80;
        xs->utf8_hi = 0xbf;
        if (b < 0x80)
            continue;
        if (b >= 0xc2 && b <= 0xdf)
            xs->utf8_need = 1;
        else if (b >= 0xe0 && b <= 0xef)
            xs->utf8_need = 2;
        else if (b >= 0xf0 && b <= 0xf4)
            xs->utf8_need = 3;
        else
            return i;
        if (b == 0xe0)
            xs->utf8_lo = 0xa0; /* no overlong forms */
        else if (b == 0xed)
            xs->utf8_hi = 0x9f; /* no surrogates */
        else if (b == 0xf0)
            xs->utf8_lo = 0x90;
        else if (b == 0xf4)
            xs->utf8_hi = 0x8f; /* nothing above U+10FFFF */
    }
    return len;
}

/* Parse LEN bytes (valid UTF-8 so far) and enforce the size limits. */
static void parse(struct xstream *xs, const char *data, size_t len)
{
    uint64_t keep_from;

    builder_add(&xs->raw, data, len);
    if (!builder_ok(&xs->raw)) {
        fail_nomem(xs);
        return;
    }
    xs->fed += len;
    if (xs->fed > xs->limits.max_total) {
        fail(xs, "policy-violation", "the stream exceeds %zu bytes", xs->limits.max_total);
        return;
    }
    if (XML_Parse(xs->parser, data, (int)len, XML_FALSE) == XML_STATUS_ERROR) {
        enum XML_Error code = XML_GetErrorCode(xs->parser);
        const char *condition =
            code == XML_ERROR_UNBOUND_PREFIX ? "bad-namespace-prefix"
            : code == XML_ERROR_INCORRECT_ENCODING || code == XML_ERROR_UNKNOWN_ENCODING
                ? "unsupported-encoding"
                : "not-well-formed";

        fail(xs, condition, "%s", XML_ErrorString(code));
        return;
    }
    if (xs->failed)
        return;
    /* One element (or the header, or text between elements) may not grow without bound. */
    keep_from = xs->depth >= 2 ? xs->elem_start : xs->done_end;
    if (xs->fed - keep_from > xs->limits.max_element) {
        fail(xs, "policy-violation", "an element of more than %zu bytes", xs->limits.max_element);
        return;
    }
    /* Drop the bytes no event will need. */
    if (keep_from > xs->raw_base) {
        size_t drop = (size_t)(keep_from - xs->raw_base);

        memmove(xs->raw.data, xs->raw.data + drop, xs->raw.len - drop);
        xs->raw.len -= drop;
        xs->raw_base = keep_from;
    }
}

bool xstream_feed(struct xstream *xs, const void *data, size_t len)
{
    const char *bytes = data;
    size_t valid;

    if (xs->failed)
        return false;
    while (len > 0) {
        /* expat takes an int length; feed in bounded pieces. */
        size_t piece = len > 65536 ? 65536 : len;

        valid = utf8_check(xs, (const unsigned char *)bytes, piece);
        if (valid > 0)
            parse(xs, bytes, valid);
        if (xs->failed)
            return false;
        if (valid < piece) {
            fail(xs, "unsupported-encoding", "byte %llu of the stream (0x%02x) is not UTF-8",
                 (unsigned long long)(xs->fed), (unsigned char)bytes[valid]);
            return false;
        }
        bytes += piece;
        len -= piece;
    }
    return !xs->failed;
}
