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
#include "util/jsonload.h"
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
static inline bool flags_match(const json_t *flags, const char **got, size_t ngot,
                               const char *decisive)
{
    enum hostname_status st;
    bool good = true;
    size_t listed = 0;

    for (size_t i = 0; i < json_array_size(flags); i++) {
        const char *flag = json_string_value(json_array_get(flags, i));

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

        for (size_t i = 0; i < json_array_size(flags); i++)
            present |= json_string_value(json_array_get(flags, i)) != NULL &&
                       strcmp(json_string_value(json_array_get(flags, i)), decisive) == 0;
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
                               bool (*run)(const json_t *group, const json_t *test))
{
    json_t *doc = NULL;
    char why[512];
    const json_t *groups, *tests;
    char path[512];
    long long declared = 0, seen = 0, id;

    vector_path(path, sizeof(path), file);
    if ((doc = jsonload_file(path, why, sizeof(why))) == NULL)
        bail("%s", why);
    groups = json_object_get(doc, "testGroups");
    if (groups == NULL || !json_is_array(groups))
        bail("%s: no testGroups array", path);
    for (size_t g = 0; g < json_array_size(groups); g++) {
        tests = json_object_get(json_array_get(groups, g), "tests");
        if (tests == NULL || !json_is_array(tests))
            bail("%s: group %zu has no tests array", path, g);
        for (size_t i = 0; i < json_array_size(tests); i++) {
            id = 0;
            jsonload_integer(json_object_get(json_array_get(tests, i), "tcId"), &id);
            ok(run(json_array_get(groups, g), json_array_get(tests, i)), "%s vector %lld %s", what,
               id, json_string_value(json_object_get(json_array_get(tests, i), "id")));
            seen++;
        }
    }
    jsonload_integer(json_object_get(doc, "numberOfTests"), &declared);
    is_int(seen, declared, "every one of numberOfTests %s vectors ran", what);
    json_decref(doc);
}

#endif
