/* Tests of xmpp/stream: a client stream parsed whole, split at every byte and fed byte by
 * byte gives the same events; hostile XML (DTDs, entities, PIs, comments, other encodings,
 * bad UTF-8) is refused with the right condition; limits; restart. */
#include "tests/tap.h"
#include "util/builder.h"
#include "xmpp/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A canonical text of NODE: {ns}name[{ns}attr=value...](text)<children>. */
static void dump_node(struct builder *b, const struct xml_node *node)
{
    builder_add_fmt(b, "{%s}%s[", node->ns, node->name);
    for (size_t i = 0; i < node->attr_count; i++)
        builder_add_fmt(b, "%s{%s}%s=%s", i > 0 ? " " : "", node->attrs[i].ns, node->attrs[i].name,
                        node->attrs[i].value);
    builder_add_fmt(b, "](%s)<", node->text);
    for (size_t i = 0; i < node->child_count; i++)
        dump_node(b, node->children[i]);
    builder_add_str(b, ">");
}

/* Every event fed so far, as text: one line per event (type, default ns, raw, tree). */
static void drain(struct xstream *xs, struct builder *out)
{
    struct xstream_event ev;

    while (xstream_next(xs, &ev)) {
        switch (ev.type) {
        case XSTREAM_HEADER:
            builder_add_fmt(out, "HEADER default=%s raw=%s tree=", ev.default_ns, ev.raw);
            dump_node(out, ev.node);
            break;
        case XSTREAM_ELEMENT:
            builder_add_fmt(out, "ELEMENT raw=%s tree=", ev.raw);
            dump_node(out, ev.node);
            break;
        case XSTREAM_CLOSE:
            builder_add_fmt(out, "CLOSE raw=%s", ev.raw);
            break;
        case XSTREAM_ERROR:
            builder_add_fmt(out, "ERROR %s", ev.condition);
            break;
        default:
            builder_add_str(out, "NONE");
        }
        builder_add_str(out, "\n");
        xstream_event_clear(&ev);
    }
}

/* Feed TEXT in pieces of at most STEP bytes (0: all at once; split > 0: two pieces at that
 * offset) and return the events as text (caller frees). */
static char *run(const char *text, size_t len, size_t step, size_t split,
                 const struct xstream_limits *limits)
{
    struct xstream *xs = xstream_new(limits);
    struct builder out;
    size_t n;

    if (xs == NULL)
        bail("xstream_new failed");
    builder_init(&out);
    if (split > 0) {
        xstream_feed(xs, text, split);
        drain(xs, &out);
        xstream_feed(xs, text + split, len - split);
    } else if (step == 0) {
        xstream_feed(xs, text, len);
    } else {
        for (size_t i = 0; i < len; i += step) {
            xstream_feed(xs, text + i, len - i < step ? len - i : step);
            drain(xs, &out);
        }
    }
    drain(xs, &out);
    xstream_free(xs);
    builder_add(&out, "", 1);
    return (char *)builder_detach(&out, &n);
}

/* The condition of the ERROR that TEXT ends in, or "none"; also split at every byte. */
static const char *error_of(const char *text, size_t len, const struct xstream_limits *limits,
                            char *buf, size_t buflen)
{
    char *events = run(text, len, 0, 0, limits);
    char *err = strstr(events, "ERROR ");
    char *nl;

    snprintf(buf, buflen, "%s", err != NULL ? err + 6 : "none");
    nl = strchr(buf, '\n');
    if (nl != NULL)
        *nl = '\0';
    free(events);
    return buf;
}

static const char CLIENT[] =
    "<?xml version='1.0' encoding='UTF-8'?>"
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.com' version='1.0' xml:lang='en'>\n"
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'>YWxp Y2U=</auth>"
    "  \r\n\t"
    "<iq type='set' id='b&amp;1'><b:bind xmlns:b='urn:ietf:params:xml:ns:xmpp-bind'>"
    "<b:resource>r&#233;&#x73;<![CDATA[<x>]]>\xc3\xa9</b:resource></b:bind></iq>"
    "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
    "<x:a xmlns:x='urn:a' x:k='v' k=\"&quot;&apos;&lt;&gt;\"><x:b/><c/></x:a>"
    "</stream:stream>";

static const char CLIENT_EVENTS[] =
    "HEADER default=jabber:client raw=<?xml version='1.0' encoding='UTF-8'?><stream:stream "
    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "
    "version='1.0' xml:lang='en'> tree={http://etherx.jabber.org/streams}stream[{}to=example.com "
    "{}version=1.0 {http://www.w3.org/XML/1998/namespace}lang=en]()<>\n"
    "ELEMENT raw=<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='GSSAPI'>YWxp "
    "Y2U=</auth> tree={urn:ietf:params:xml:ns:xmpp-sasl}auth[{}mechanism=GSSAPI](YWxp Y2U=)<>\n"
    "ELEMENT raw=<iq type='set' id='b&amp;1'><b:bind "
    "xmlns:b='urn:ietf:params:xml:ns:xmpp-bind'><b:resource>r&#233;&#x73;<![CDATA[<x>]]>\xc3\xa9"
    "</b:resource></b:bind></iq> tree={jabber:client}iq[{}type=set {}id=b&1]()<"
    "{urn:ietf:params:xml:ns:xmpp-bind}bind[]()<{urn:ietf:params:xml:ns:xmpp-bind}resource[]"
    "(r\xc3\xa9s<x>\xc3\xa9)<>>>\n"
    "ELEMENT raw=<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> "
    "tree={urn:ietf:params:xml:ns:xmpp-sasl}response[]()<>\n"
    "ELEMENT raw=<x:a xmlns:x='urn:a' x:k='v' k=\"&quot;&apos;&lt;&gt;\"><x:b/><c/></x:a> "
    "tree={urn:a}a[{urn:a}k=v {}k=\"'<>]()<{urn:a}b[]()<>{jabber:client}c[]()<>>\n"
    "CLOSE raw=</stream:stream>\n";

static void test_whole_and_split(void)
{
    size_t len = sizeof(CLIENT) - 1;
    char *events = run(CLIENT, len, 0, 0, NULL);
    size_t bad_split = 0, bad_bytes = 0;

    is_string(events, CLIENT_EVENTS, "a whole client stream: header, elements, close");
    free(events);
    for (size_t split = 1; split < len; split++) {
        events = run(CLIENT, len, 0, split, NULL);
        if (strcmp(events, CLIENT_EVENTS) != 0 && bad_split++ == 0)
            diag("split at %zu:\n%s", split, events);
        free(events);
    }
    is_int((long long)bad_split, 0, "split in two at every one of %zu offsets: same events",
           len - 1);
    for (size_t step = 1; step <= 7; step++) {
        events = run(CLIENT, len, step, 0, NULL);
        if (strcmp(events, CLIENT_EVENTS) != 0 && bad_bytes++ == 0)
            diag("step %zu:\n%s", step, events);
        free(events);
    }
    is_int((long long)bad_bytes, 0, "fed 1..7 bytes at a time: same events");
}

#define HDR                                                                                        \
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "        \
    "to='example.com' version='1.0'>"

struct hostile {
    const char *name;
    const char *xml;
    const char *condition;
};

static const struct hostile HOSTILE[] = {
    {"billion laughs DTD",
     "<?xml version='1.0'?><!DOCTYPE s [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>"
     "<!ENTITY c '&b;&b;&b;&b;&b;'>]>" HDR "<iq>&c;</iq>",
     "restricted-xml"},
    {"external DTD", "<!DOCTYPE s SYSTEM 'file:///etc/passwd'>" HDR, "restricted-xml"},
    {"internal subset after the header cannot come: markup declaration inside",
     HDR "<!ENTITY x 'y'>", "not-well-formed"},
    {"external entity reference", HDR "<iq>&xxe;</iq>", "not-well-formed"},
    {"processing instruction in the stream", HDR "<?evil data?>", "restricted-xml"},
    {"processing instruction in a stanza", HDR "<iq><?x y?></iq>", "restricted-xml"},
    {"processing instruction before the header", "<?x y?>" HDR, "restricted-xml"},
    {"comment", HDR "<!-- hello -->", "restricted-xml"},
    {"comment in a stanza", HDR "<iq><!-- x --></iq>", "restricted-xml"},
    {"ISO-8859-1 declared", "<?xml version='1.0' encoding='ISO-8859-1'?>" HDR,
     "unsupported-encoding"},
    {"UTF-16 declared", "<?xml version='1.0' encoding='UTF-16'?>" HDR, "unsupported-encoding"},
    {"byte 0xff", HDR "<iq>\xff</iq>", "unsupported-encoding"},
    {"overlong slash C0 AF", HDR "<iq>\xc0\xaf</iq>", "unsupported-encoding"},
    {"surrogate ED A0 80", HDR "<iq>\xed\xa0\x80</iq>", "unsupported-encoding"},
    {"above U+10FFFF", HDR "<iq>\xf4\x90\x80\x80</iq>", "unsupported-encoding"},
    {"truncated sequence then ASCII", HDR "<iq>\xe2\x82x</iq>", "unsupported-encoding"},
    {"UTF-16 byte order mark", "\xfe\xff", "unsupported-encoding"},
    {"control character", HDR "<iq>\x01</iq>", "not-well-formed"},
    {"unbound prefix", HDR "<foo:iq/>", "bad-namespace-prefix"},
    {"mismatched tag", HDR "<iq></message>", "not-well-formed"},
    {"wrong stream namespace",
     "<stream:stream xmlns:stream='http://example.com/streams' xmlns='jabber:client'>",
     "invalid-namespace"},
    {"root not a stream", "<iq xmlns='http://etherx.jabber.org/streams'/>", "bad-format"},
    {"text directly in the stream", HDR "hello", "bad-format"},
    {"XML 1.1", "<?xml version='1.1'?>" HDR, "unsupported-version"},
    {"markup after the close", HDR "</stream:stream><iq/>", "not-well-formed"},
};

static void test_hostile(void)
{
    char buf[64];

    for (size_t i = 0; i < sizeof(HOSTILE) / sizeof(HOSTILE[0]); i++) {
        const struct hostile *h = &HOSTILE[i];
        size_t len = strlen(h->xml);
        size_t wrong = 0;

        is_string(error_of(h->xml, len, NULL, buf, sizeof(buf)), h->condition, "%s", h->name);
        for (size_t split = 1; split < len; split++) {
            char *events = run(h->xml, len, 0, split, NULL);
            char *err = strstr(events, "ERROR ");

            if ((err == NULL || strncmp(err + 6, h->condition, strlen(h->condition)) != 0) &&
                wrong++ == 0)
                diag("split at %zu:\n%s", split, events);
            free(events);
        }
        is_int((long long)wrong, 0, "%s: the same error split at every byte", h->name);
    }
}

static void test_error_is_final(void)
{
    struct xstream *xs = xstream_new(NULL);
    struct xstream_event ev;
    static const char bad[] = HDR "<!-- x -->";
    int errors = 0;

    ok(!xstream_feed(xs, bad, sizeof(bad) - 1), "feed returns false on an error");
    ok(!xstream_feed(xs, "<iq/>", 5), "and for every later feed");
    while (xstream_next(xs, &ev)) {
        errors += ev.type == XSTREAM_ERROR;
        if (ev.type == XSTREAM_ERROR)
            ok(strstr(ev.reason, "line 1, column") != NULL && strstr(ev.reason, "comment"),
               "the reason names the position and what: %s", ev.reason);
        xstream_event_clear(&ev);
    }
    is_int(errors, 1, "exactly one ERROR event");
    xstream_free(xs);
}

static void test_limits(void)
{
    struct xstream_limits small = {.max_depth = 4, .max_element = 200, .max_total = 1000};
    char buf[64];
    char big[2048];
    char *events;

    is_string(error_of(HDR "<a><b><c/></b></a>", strlen(HDR "<a><b><c/></b></a>"), &small, buf,
                       sizeof(buf)),
              "none", "depth 4 (stream + 3) is within a limit of 4");
    is_string(error_of(HDR "<a><b><c><d/></c></b></a>", strlen(HDR "<a><b><c><d/></c></b></a>"),
                       &small, buf, sizeof(buf)),
              "policy-violation", "depth 5 is refused");
    snprintf(big, sizeof(big), HDR "<iq>%0250d</iq>", 0);
    is_string(error_of(big, strlen(big), &small, buf, sizeof(buf)), "policy-violation",
              "an element over 200 bytes is refused");
    snprintf(big, sizeof(big), HDR "<iq a='%0250d", 0);
    is_string(error_of(big, strlen(big), &small, buf, sizeof(buf)), "policy-violation",
              "an unfinished start tag over 200 bytes is refused before it ends");
    snprintf(big, sizeof(big), "<stream:stream a='%0250d'", 0);
    is_string(error_of(big, strlen(big), &small, buf, sizeof(buf)), "policy-violation",
              "a header over 200 bytes is refused");
    big[0] = '\0';
    strcat(big, HDR);
    for (int i = 0; i < 250; i++)
        strcat(big, "<a/>");
    is_string(error_of(big, strlen(big), &small, buf, sizeof(buf)), "policy-violation",
              "a stream over 1000 bytes in small elements is refused");
    events = run(big, 900, 0, 0, &small);
    ok(strstr(events, "ERROR") == NULL && strstr(events, "ELEMENT raw=<a/>") != NULL,
       "the first 900 bytes of it are fine");
    free(events);
}

static void test_restart(void)
{
    struct xstream *xs = xstream_new(NULL);
    struct builder out;
    static const char first[] = HDR "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    static const char second[] = HDR "<iq/>";
    char *events;
    size_t n;

    builder_init(&out);
    xstream_feed(xs, first, sizeof(first) - 1);
    is_int((long long)xstream_pending(xs), 0, "nothing pending after <starttls/>");
    xstream_feed(xs, "<x", 2);
    is_int((long long)xstream_pending(xs), 2, "two bytes pending after it");
    drain(xs, &out);
    ok(xstream_restart(xs), "restart");
    is_int((long long)xstream_pending(xs), 0, "nothing pending after the restart");
    xstream_feed(xs, "<?xml version='1.0'?>", 21);
    xstream_feed(xs, second, sizeof(second) - 1);
    drain(xs, &out);
    builder_add(&out, "", 1);
    events = (char *)builder_detach(&out, &n);
    ok(strstr(events, "ELEMENT raw=<starttls") != NULL, "the first stream's element");
    ok(strstr(events, "ELEMENT raw=<iq/>") != NULL, "the restarted stream's element");
    ok(strstr(events, "HEADER default=jabber:client raw=<?xml version='1.0'?><stream:stream") !=
           NULL,
       "a second header with its XML declaration (allowed again after a restart)");
    ok(strstr(events, "ERROR") == NULL, "no error in either stream");
    free(events);
    /* A restart also clears an error and a half-open element. */
    xstream_feed(xs, "<iq><a>", 7);
    xstream_feed(xs, "<!-- -->", 8);
    ok(xstream_restart(xs), "restart after an error, with elements open");
    ok(xstream_feed(xs, second, sizeof(second) - 1), "the fresh stream parses");
    xstream_free(xs);
}

static void test_escape(void)
{
    struct builder b;
    char *s;
    size_t n;

    builder_init(&b);
    xml_escape(&b, "a<b>&\"c'\xc3\xa9");
    builder_add(&b, "", 1);
    s = (char *)builder_detach(&b, &n);
    is_string(s, "a&lt;b&gt;&amp;&quot;c&apos;\xc3\xa9", "xml_escape");
    free(s);
}

int main(void)
{
    plan_lazy();
    test_whole_and_split();
    test_hostile();
    test_error_is_final();
    test_limits();
    test_restart();
    test_escape();
    done_testing();
}
