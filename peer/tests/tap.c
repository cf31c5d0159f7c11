/* TAP emitter: see tap.h. State is per process; tests are single-threaded. */
#include "tests/tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long planned;
static unsigned long current;
static unsigned long failed;
static bool lazy;

static void finish(void)
{
    fflush(stdout);
    if (!lazy && current != planned) {
        fprintf(stderr, "# planned %lu tests but ran %lu\n", planned, current);
        _exit(255);
    }
}

void plan(unsigned long n)
{
    planned = n;
    printf("1..%lu\n", n);
    fflush(stdout);
    atexit(finish);
}

void plan_lazy(void)
{
    lazy = true;
}

void skip_all(const char *fmt, ...)
{
    va_list args;

    printf("1..0 # skip ");
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    exit(0);
}

void done_testing(void)
{
    if (lazy)
        printf("1..%lu\n", current);
    fflush(stdout);
    exit(failed == 0 && (lazy || current == planned) ? 0 : 1);
}

static bool report(bool passed, const char *fmt, va_list args)
{
    current++;
    if (!passed)
        failed++;
    printf("%sok %lu - ", passed ? "" : "not ", current);
    vprintf(fmt, args);
    printf("\n");
    fflush(stdout);
    return passed;
}

bool ok(bool passed, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    report(passed, fmt, args);
    va_end(args);
    return passed;
}

bool is_int(long long got, long long want, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    report(got == want, fmt, args);
    va_end(args);
    if (got != want)
        diag("wanted: %lld\n#      got: %lld", want, got);
    return got == want;
}

bool is_string(const char *got, const char *want, const char *fmt, ...)
{
    va_list args;
    bool same;

    same = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
    va_start(args, fmt);
    report(same, fmt, args);
    va_end(args);
    if (!same)
        diag("wanted: %s%s%s\n#      got: %s%s%s", want ? "\"" : "", want ? want : "(null)",
             want ? "\"" : "", got ? "\"" : "", got ? got : "(null)", got ? "\"" : "");
    return same;
}

static void hexdump_line(const char *label, const unsigned char *data, size_t len)
{
    printf("# %s (%zu bytes):", label, len);
    for (size_t i = 0; i < len && i < 64; i++)
        printf(" %02x", data[i]);
    printf("%s\n", len > 64 ? " ..." : "");
}

bool is_blob(const void *got, size_t got_len, const void *want, size_t want_len, const char *fmt,
             ...)
{
    va_list args;
    bool same;

    same = got_len == want_len && (got_len == 0 || memcmp(got, want, got_len) == 0);
    va_start(args, fmt);
    report(same, fmt, args);
    va_end(args);
    if (!same) {
        const unsigned char *g = got, *w = want;
        size_t i = 0;

        while (i < got_len && i < want_len && g[i] == w[i])
            i++;
        printf("# first difference at offset %zu\n", i);
        hexdump_line("wanted", w, want_len);
        hexdump_line("   got", g, got_len);
    }
    return same;
}

void skip(unsigned long n, const char *fmt, ...)
{
    va_list args;

    for (unsigned long i = 0; i < n; i++) {
        current++;
        printf("ok %lu # skip ", current);
        va_start(args, fmt);
        vprintf(fmt, args);
        va_end(args);
        printf("\n");
    }
    fflush(stdout);
}

void diag(const char *fmt, ...)
{
    va_list args;

    printf("# ");
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
}

void bail(const char *fmt, ...)
{
    va_list args;

    printf("Bail out! ");
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
    _exit(255);
}
