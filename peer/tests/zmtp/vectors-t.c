/*
 * Runs every vector of vectors/zmtp-gssapi.json through the ZMTP codec (zmtp/codec.h): one TAP
 * point per vector.
 *
 *   valid       the codec decodes it and every expected field matches
 *   acceptable  the codec either rejects it or decodes it to the expected fields
 *   invalid     the codec rejects it with the status the vector's field maps to and, except for
 *               input that merely ends early (ZMTP_NEED_MORE), names the vector's offset
 *
 * The file is found at $GSSCONFORM_VECTORS or vectors/zmtp-gssapi.json (prove runs in the
 * repository root). vectors/README.md describes the schema.
 */
#include "tests/tap.h"
#include "util/hex.h"
#include "util/jsonload.h"
#include "zmtp/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One vector, unpacked from the JSON tree (pointers into the tree; input is allocated). */
struct vector {
    const char *id;
    const char *result;
    const json_t *test;
    const json_t *expected;  /* NULL for invalid vectors */
    const char *error_field; /* NULL unless invalid */
    long long error_offset;
    bool truncated; /* the vector carries the Truncated flag */
    unsigned char *input;
    size_t len;
};

/* What one codec call made of a vector: its status, error text, and for an accepted input
 * whether the decoded fields match (MISMATCH holds the first difference). */
struct outcome {
    enum zmtp_status status;
    struct zmtp_error err;
    long long offset_bias; /* added to the reported offset (decoding started inside the input) */
    char mismatch[256];
};

/* Compare LEN bytes at GOT with the hex string WANT; on difference note FIELD in O. */
static void expect_hex(struct outcome *o, const char *field, const void *got, size_t len,
                       const char *want)
{
    unsigned char *bytes;
    size_t want_len;

    if (o->mismatch[0] != '\0')
        return;
    if (want == NULL || hex_decode(want, &bytes, &want_len) != HEX_OK) {
        snprintf(o->mismatch, sizeof(o->mismatch), "%s: the vector has no hex value", field);
        return;
    }
    if (want_len != len || (len > 0 && memcmp(bytes, got, len) != 0))
        snprintf(o->mismatch, sizeof(o->mismatch), "%s: %zu bytes differ from the %zu expected",
                 field, len, want_len);
    free(bytes);
}

/* Compare the integer GOT with the JSON integer (or boolean) member FIELD of the expected
 * fields. */
static void expect_int(struct outcome *o, const json_t *expected, const char *field, long long got)
{
    const json_t *v = json_object_get(expected, field);
    long long want;

    if (o->mismatch[0] != '\0')
        return;
    if (v != NULL && json_is_boolean(v))
        want = json_is_true(v);
    else if (!jsonload_integer(v, &want)) {
        snprintf(o->mismatch, sizeof(o->mismatch), "%s: missing in the vector", field);
        return;
    }
    if (got != want)
        snprintf(o->mismatch, sizeof(o->mismatch), "%s: got %lld, expected %lld", field, got, want);
}

/* Compare a name (not NUL-terminated) with the expected string member FIELD. */
static void expect_name(struct outcome *o, const json_t *expected, const char *field,
                        const char *got, size_t len)
{
    const char *want = json_string_value(json_object_get(expected, field));

    if (o->mismatch[0] != '\0')
        return;
    if (want == NULL || strlen(want) != len || memcmp(want, got, len) != 0)
        snprintf(o->mismatch, sizeof(o->mismatch), "%s: got \"%.*s\", expected \"%s\"", field,
                 (int)(len > 100 ? 100 : len), got, want == NULL ? "(none)" : want);
}

/* Check the optional "subscription" expectation: how a PUB reads FLAGS + BODY. */
static void expect_subscription(struct outcome *o, const json_t *expected, uint8_t flags,
                                const unsigned char *body, size_t len)
{
    const json_t *want = json_object_get(expected, "subscription");
    enum zmtp_subscription_kind kind;
    const unsigned char *topic;
    size_t topic_len;
    struct zmtp_error err;
    enum zmtp_status st;
    const char *want_kind;

    if (want == NULL || o->mismatch[0] != '\0')
        return;
    st = zmtp_subscription_decode(flags, body, len, &kind, &topic, &topic_len, &err);
    if (json_is_null(want)) {
        if (st == ZMTP_OK)
            snprintf(o->mismatch, sizeof(o->mismatch),
                     "subscription: decoded one where a PUB must see none");
        return;
    }
    if (st != ZMTP_OK) {
        snprintf(o->mismatch, sizeof(o->mismatch), "subscription: %.200s", err.text);
        return;
    }
    want_kind = json_string_value(json_object_get(want, "kind"));
    if (want_kind == NULL ||
        strcmp(want_kind, kind == ZMTP_SUBSCRIBE ? "subscribe" : "cancel") != 0) {
        snprintf(o->mismatch, sizeof(o->mismatch), "subscription: wrong kind");
        return;
    }
    expect_hex(o, "subscription topic", topic, topic_len,
               json_string_value(json_object_get(want, "topic")));
}

static void run_greeting(const struct vector *v, struct outcome *o)
{
    struct zmtp_greeting g;

    o->status = zmtp_greeting_decode(v->input, v->len, "GSSAPI", &g, &o->err);
    if (o->status != ZMTP_OK || v->expected == NULL)
        return;
    expect_int(o, v->expected, "major", g.major);
    expect_int(o, v->expected, "minor", g.minor);
    expect_name(o, v->expected, "mechanism", g.mechanism, strlen(g.mechanism));
    expect_int(o, v->expected, "as_server", g.as_server);
    expect_hex(o, "padding", g.padding, sizeof(g.padding),
               json_string_value(json_object_get(v->expected, "padding")));
}

static void run_frame(const struct vector *v, struct outcome *o)
{
    struct zmtp_frame f;
    size_t consumed;

    o->status = zmtp_frame_decode(v->input, v->len, 0, &f, &consumed, &o->err);
    if (o->status != ZMTP_OK || v->expected == NULL)
        return;
    if (consumed != v->len)
        snprintf(o->mismatch, sizeof(o->mismatch), "consumed %zu of %zu bytes", consumed, v->len);
    expect_int(o, v->expected, "more", (f.flags & ZMTP_FLAG_MORE) != 0);
    expect_int(o, v->expected, "long", (f.flags & ZMTP_FLAG_LONG) != 0);
    expect_int(o, v->expected, "command", (f.flags & ZMTP_FLAG_COMMAND) != 0);
    expect_int(o, v->expected, "size", (long long)f.size);
    expect_hex(o, "body", f.body, (size_t)f.size,
               json_string_value(json_object_get(v->expected, "body")));
}

/* A command body, then the grammar of PING, PONG and ERROR when the name is one of those. */
static void run_command(const struct vector *v, struct outcome *o)
{
    struct zmtp_command c;
    const unsigned char *context;
    const char *reason;
    size_t context_len;
    uint16_t ttl;

    o->status = zmtp_command_decode(v->input, v->len, &c, &o->err);
    if (o->status != ZMTP_OK)
        return;
    if (zmtp_command_is(&c, "PING"))
        o->status = zmtp_ping_decode(v->input, v->len, &ttl, &context, &context_len, &o->err);
    else if (zmtp_command_is(&c, "PONG"))
        o->status = zmtp_pong_decode(v->input, v->len, &context, &context_len, &o->err);
    else if (zmtp_command_is(&c, "ERROR"))
        o->status = zmtp_error_decode(v->input, v->len, &reason, &context_len, &o->err);
    if (o->status != ZMTP_OK || v->expected == NULL)
        return;
    expect_name(o, v->expected, "name", c.name, c.name_len);
    expect_hex(o, "data", c.data, c.data_len,
               json_string_value(json_object_get(v->expected, "data")));
    expect_subscription(o, v->expected, ZMTP_WRAP_COMMAND, v->input, v->len);
}

static void run_metadata(const struct vector *v, struct outcome *o)
{
    struct zmtp_metadata md;
    const json_t *props;

    o->status = zmtp_metadata_decode(v->input, v->len, &md, &o->err);
    if (o->status != ZMTP_OK || v->expected == NULL)
        return;
    props = json_object_get(v->expected, "properties");
    if (props == NULL || !json_is_array(props) || json_array_size(props) != md.count) {
        snprintf(o->mismatch, sizeof(o->mismatch), "decoded %zu properties, expected %zu", md.count,
                 props == NULL ? 0 : json_array_size(props));
        return;
    }
    for (size_t i = 0; i < md.count && o->mismatch[0] == '\0'; i++) {
        const json_t *pair = json_array_get(props, i);
        const char *name;

        if (!json_is_array(pair) || json_array_size(pair) != 2) {
            snprintf(o->mismatch, sizeof(o->mismatch), "property %zu: not a [name, value]", i);
            return;
        }
        name = json_string_value(json_array_get(pair, 0));
        if (name == NULL || strlen(name) != md.props[i].name_len ||
            memcmp(name, md.props[i].name, md.props[i].name_len) != 0)
            snprintf(o->mismatch, sizeof(o->mismatch), "property %zu: name differs", i);
        expect_hex(o, "property value", md.props[i].value, md.props[i].value_len,
                   json_string_value(json_array_get(pair, 1)));
    }
}

static void run_initiate(const struct vector *v, struct outcome *o)
{
    const unsigned char *token;
    size_t token_len;

    o->status = zmtp_initiate_decode(v->input, v->len, &token, &token_len, &o->err);
    if (o->status == ZMTP_OK && v->expected != NULL)
        expect_hex(o, "token", token, token_len,
                   json_string_value(json_object_get(v->expected, "token")));
}

static void run_message(const struct vector *v, struct outcome *o)
{
    const unsigned char *token;
    size_t token_len;

    o->status = zmtp_message_decode(v->input, v->len, &token, &token_len, &o->err);
    if (o->status == ZMTP_OK && v->expected != NULL)
        expect_hex(o, "token", token, token_len,
                   json_string_value(json_object_get(v->expected, "token")));
}

/* The flags octet, then the body as a command when COMMAND is set (offsets count from the
 * flags octet, so the command's are shifted by one). */
static void run_wrapped(const struct vector *v, struct outcome *o)
{
    struct zmtp_wrapped w;
    struct zmtp_command c;

    o->status = zmtp_wrapped_decode(v->input, v->len, &w, &o->err);
    if (o->status != ZMTP_OK)
        return;
    if (w.flags & ZMTP_WRAP_COMMAND) {
        o->status = zmtp_command_decode(w.body, w.len, &c, &o->err);
        o->offset_bias = 1;
        if (o->status != ZMTP_OK)
            return;
    }
    if (v->expected == NULL)
        return;
    expect_int(o, v->expected, "flags", w.flags);
    expect_int(o, v->expected, "more", (w.flags & ZMTP_WRAP_MORE) != 0);
    expect_int(o, v->expected, "command", (w.flags & ZMTP_WRAP_COMMAND) != 0);
    expect_hex(o, "body", w.body, w.len, json_string_value(json_object_get(v->expected, "body")));
    expect_subscription(o, v->expected, w.flags, w.body, w.len);
}

/* The status an invalid vector of group TYPE must get for its error FIELD. */
static enum zmtp_status status_for(const char *type, const struct vector *v)
{
    const char *f = v->error_field;

    if (v->truncated && (strcmp(type, "greeting") == 0 || strcmp(type, "frame") == 0))
        return ZMTP_NEED_MORE; /* stream decoders wait for the rest */
    if (strcmp(type, "greeting") == 0)
        return strcmp(f, "signature") == 0       ? ZMTP_BAD_SIGNATURE
               : strcmp(f, "version-major") == 0 ? ZMTP_BAD_VERSION
                                                 : ZMTP_BAD_MECHANISM;
    if (strcmp(f, "command-name") == 0)
        return ZMTP_BAD_COMMAND;
    if (strcmp(type, "frame") == 0)
        return ZMTP_BAD_FRAME;
    if (strcmp(type, "command") == 0)
        return strncmp(f, "ping-", 5) == 0 ? ZMTP_BAD_PING : ZMTP_BAD_ERROR;
    if (strcmp(type, "ready-metadata") == 0)
        return ZMTP_BAD_METADATA;
    if (strcmp(type, "initiate") == 0)
        return ZMTP_BAD_INITIATE;
    if (strcmp(type, "message") == 0)
        return ZMTP_BAD_MESSAGE;
    return ZMTP_BAD_WRAPPED;
}

/* The offset the error text names ("... at offset N ..."), or -1. */
static long long reported_offset(const char *text)
{
    const char *p = strstr(text, "offset ");
    const char *next;

    if (p == NULL)
        return -1;
    while ((next = strstr(p + 1, "offset ")) != NULL)
        p = next;
    return strtoll(p + strlen("offset "), NULL, 10);
}

/* Run vector V of group TYPE and emit its TAP point. */
static void check_vector(const char *type, const struct vector *v)
{
    static const struct {
        const char *type;
        void (*run)(const struct vector *, struct outcome *);
    } runners[] = {
        {"greeting", run_greeting},         {"frame", run_frame},       {"command", run_command},
        {"ready-metadata", run_metadata},   {"initiate", run_initiate}, {"message", run_message},
        {"wrapped-plaintext", run_wrapped},
    };
    struct outcome o;
    size_t i;

    memset(&o, 0, sizeof(o));
    for (i = 0; i < sizeof(runners) / sizeof(runners[0]); i++)
        if (strcmp(runners[i].type, type) == 0)
            break;
    if (i == sizeof(runners) / sizeof(runners[0])) {
        ok(false, "%s: unknown group type %s", v->id, type);
        return;
    }
    runners[i].run(v, &o);

    if (strcmp(v->result, "invalid") == 0) {
        enum zmtp_status want = status_for(type, v);
        long long at = reported_offset(o.err.text);

        if (o.status != want) {
            ok(false, "%s: invalid", v->id);
            diag("got %s (%s), expected %s", zmtp_status_text(o.status), o.err.text,
                 zmtp_status_text(want));
        } else if (want != ZMTP_NEED_MORE && (at < 0 || at + o.offset_bias != v->error_offset)) {
            ok(false, "%s: invalid at offset %lld", v->id, v->error_offset);
            diag("error text: %s", o.err.text);
        } else {
            ok(true, "%s: invalid (%s)", v->id, zmtp_status_text(want));
        }
        return;
    }
    if (o.status != ZMTP_OK) {
        bool allowed = strcmp(v->result, "acceptable") == 0;

        ok(allowed, "%s: %s%s", v->id, v->result, allowed ? ", rejected" : "");
        if (!allowed)
            diag("rejected: %s", o.err.text);
        return;
    }
    if (!ok(o.mismatch[0] == '\0', "%s: %s, decoded as expected", v->id, v->result))
        diag("%s", o.mismatch);
}

/* Unpack TEST into *V; false (with a failed point) when the vector itself is malformed. */
static bool unpack(const json_t *test, struct vector *v)
{
    const json_t *error, *flags;
    const char *input;

    memset(v, 0, sizeof(*v));
    v->test = test;
    v->id = json_string_value(json_object_get(test, "id"));
    v->result = json_string_value(json_object_get(test, "result"));
    v->expected = json_object_get(test, "expected");
    if (v->id == NULL || v->result == NULL) {
        ok(false, "a vector without id or result");
        return false;
    }
    input = json_string_value(json_object_get(test, "input"));
    if (input == NULL || hex_decode(input, &v->input, &v->len) != HEX_OK) {
        ok(false, "%s: input is not hex", v->id);
        return false;
    }
    error = json_object_get(test, "error");
    if (strcmp(v->result, "invalid") == 0) {
        v->error_field = json_string_value(json_object_get(error, "field"));
        if (v->error_field == NULL ||
            !jsonload_integer(json_object_get(error, "offset"), &v->error_offset)) {
            ok(false, "%s: invalid without error.field/offset", v->id);
            return false;
        }
    } else if (v->expected == NULL || !json_is_object(v->expected)) {
        ok(false, "%s: %s without expected fields", v->id, v->result);
        return false;
    }
    flags = json_object_get(test, "flags");
    for (size_t i = 0; flags != NULL && json_is_array(flags) && i < json_array_size(flags); i++) {
        const char *flag = json_string_value(json_array_get(flags, i));

        if (flag != NULL && strcmp(flag, "Truncated") == 0)
            v->truncated = true;
    }
    return true;
}

int main(void)
{
    const char *path = getenv("GSSCONFORM_VECTORS");
    json_t *doc = NULL;
    char why[512];
    const json_t *groups;
    long long declared = 0;
    size_t seen = 0;

    if (path == NULL)
        path = "vectors/zmtp-gssapi.json";
    if ((doc = jsonload_file(path, why, sizeof(why))) == NULL)
        bail("cannot read the vectors: %s (run from the repository root or set "
             "GSSCONFORM_VECTORS)",
             why);
    plan_lazy();
    groups = json_object_get(doc, "testGroups");
    if (groups == NULL || !json_is_array(groups))
        bail("%s: no testGroups array", path);
    for (size_t g = 0; g < json_array_size(groups); g++) {
        const char *type = json_string_value(json_object_get(json_array_get(groups, g), "type"));
        const json_t *tests = json_object_get(json_array_get(groups, g), "tests");

        if (type == NULL || tests == NULL || !json_is_array(tests))
            bail("%s: group %zu has no type or tests", path, g);
        for (size_t t = 0; t < json_array_size(tests); t++) {
            struct vector v;

            seen++;
            if (unpack(json_array_get(tests, t), &v))
                check_vector(type, &v);
            free(v.input);
        }
    }
    jsonload_integer(json_object_get(doc, "numberOfTests"), &declared);
    is_int((long long)seen, declared, "numberOfTests matches the vectors run");
    json_decref(doc);
    done_testing();
}
