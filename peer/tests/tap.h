/*
 * A small TAP (Test Anything Protocol) emitter for the peer's C tests.
 *
 * A test program calls plan() (or plan_lazy() and ends with done_testing()), then one check
 * per test point. Each check prints "ok N - description" or "not ok N - description" plus
 * diagnostics on failure, and returns whether it passed. The process exit status is 0 only
 * when every planned point ran and passed, which is what prove checks.
 */
#ifndef TAP_H
#define TAP_H

#include <stdbool.h>
#include <stddef.h>

/* Announce N test points; prints "1..N". */
void plan(unsigned long n);
/* Announce the plan at the end instead (done_testing prints it). */
void plan_lazy(void);
/* Skip the whole file with a reason; exits 0. */
void skip_all(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print the lazy plan and exit with the right status. */
void done_testing(void) __attribute__((noreturn));

bool ok(bool passed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool is_string(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Compare byte strings; on mismatch prints both in hex and the first differing offset. */
bool is_blob(const void *got, size_t got_len, const void *want, size_t want_len, const char *fmt,
             ...) __attribute__((format(printf, 5, 6)));
/* Mark the next N points skipped with a reason. */
void skip(unsigned long n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A "# " comment line on stdout (shown by prove -v). */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Abort the test file: prints "Bail out! reason" and exits 255. */
void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
