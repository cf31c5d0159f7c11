/*
 * Shared by the XEP-0233 vector tests (header-only: under peer/tests every .c is a program):
 * where the vector files are, and how a vector's flags are compared with a hostname check.
 *
 * Flags that name a status (hostname_status_parse, or a principal status flag) are compared;
 * other flags are informational and ignored here (tests/xmpp/vectors-t.py checks that every
 * flag has a note).
 */
#ifndef TESTS_XMPP_VECTORS_H
#define TESTS_XMPP_VECTORS_H

#include "tests/tap.h"
#include "util/json.h"
#include "xmpp/xep0233.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The vectors directory: $GSSCONFORM_VECTORS, else vectors/ (prove runs at the top). */
static inline void vector_path(char *buf, size_t len, const char *file)
{
    const char *dir = getenv("GSSCONFORM_VECTORS");

    snprintf(buf, len, "%s/%s", dir != NULL ? dir : "vectors", file);
}

/* Whether FLAG is one a principal status reports (as opposed to an informational flag). */
static inline bool principal_flag(const char *flag)
{
    for (int s = PRINCIPAL_PORT_KEPT; s <= PRINCIPAL_NOMEM; s++)
        if (s != PRINCIPAL_BAD_HOSTNAME && s != PRINCIPAL_BAD_DOMAIN &&
            strcmp(flag, principal_status_flag((enum principal_status)s)) == 0)
            return true;
    return false;
}

/* Add the flags a hostname check reports to SET (a small array of static strings). */
static inline void add_check_flags(const struct hostname_check *check, const char **set, size_t *n)
{
    for (int s = 1; s < HOSTNAME_STATUS_COUNT; s++)
        if (check->findings & (1u << s))
            set[(*n)++] = hostname_status_flag((enum hostname_status)s);
    if (hostname_verdict(check->status) == XEP0233_INVALID)
        set[(*n)++] = hostname_status_flag(check->status);
}

static inline bool in_set(const char *flag, const char **set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i], flag) == 0)
            return true;
    return false;
}

/* Compare the status flags of a vector with what was computed: equal sets for usable
 * results; for invalid ones the deciding flag must be listed and nothing listed that was not
 * found (the findings before the decisive one depend on the order of checks). */
static inline bool flags_match(const struct json_value *flags, const char **got, size_t ngot,
                               const char *decisive)
{
    enum hostname_status st;
    bool good = true;
    size_t listed = 0;

    for (size_t i = 0; i < flags->count; i++) {
        const char *flag = json_string(&flags->items[i]);

        if (flag == NULL || !(hostname_status_parse(flag, &st) || principal_flag(flag)))
            continue;
        listed++;
        if (!in_set(flag, got, ngot)) {
            diag("flag %s listed but not found", flag);
            good = false;
        }
    }
    if (decisive != NULL) {
        bool present = false;

        for (size_t i = 0; i < flags->count; i++)
            present |= json_string(&flags->items[i]) != NULL &&
                       strcmp(json_string(&flags->items[i]), decisive) == 0;
        if (!present) {
            diag("deciding flag %s not listed", decisive);
            good = false;
        }
    } else if (listed != ngot) {
        for (size_t i = 0; i < ngot; i++)
            diag("found flag %s", got[i]);
        diag("%zu status flags listed, %zu found", listed, ngot);
        good = false;
    }
    return good;
}

/* Run RUN on every test of the vector file FILE (in vectors/), one TAP point each named
 * "WHAT vector TCID ID", then check that numberOfTests tests ran. RUN gets the group (for its
 * type) and the test, prints diagnostics and returns whether the test passed. */
static inline void each_vector(const char *file, const char *what,
                               bool (*run)(const struct json_value *group,
                                           const struct json_value *test))
{
    struct json_value *doc = NULL;
    struct json_error err;
    const struct json_value *groups, *tests;
    char path[512];
    long long declared = 0, seen = 0, id;

    vector_path(path, sizeof(path), file);
    if (json_parse_file(path, &doc, &err) != JSON_OK)
        bail("%s", err.message);
    groups = json_get(doc, "testGroups");
    if (groups == NULL || groups->type != JSON_ARRAY)
        bail("%s: no testGroups array", path);
    for (size_t g = 0; g < groups->count; g++) {
        tests = json_get(&groups->items[g], "tests");
        if (tests == NULL || tests->type != JSON_ARRAY)
            bail("%s: group %zu has no tests array", path, g);
        for (size_t i = 0; i < tests->count; i++) {
            id = 0;
            json_integer(json_get(&tests->items[i], "tcId"), &id);
            ok(run(&groups->items[g], &tests->items[i]), "%s vector %lld %s", what, id,
               json_string(json_get(&tests->items[i], "id")));
            seen++;
        }
    }
    json_integer(json_get(doc, "numberOfTests"), &declared);
    is_int(seen, declared, "every one of numberOfTests %s vectors ran", what);
    json_free(doc);
}

#endif
