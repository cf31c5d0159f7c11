/*
 * The corpus of one fuzz target as a TAP test of the ordinary build (gcc, and ASan + UBSan under
 * make SANITIZE=1): build/fuzz/<target>-t runs LLVMFuzzerTestOneInput of fuzz/<target>.c once
 * on every file of fuzz/corpus/<target>/ (seeds and the regress-* inputs of past findings), so
 * a fixed finding stays fixed without clang. The target is named by the program's own name;
 * run from the top of the tree, as prove does.
 *
 * A crash or sanitizer report ends the program (prove reports it); a file that cannot be read
 * is "not ok".
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read PATH whole into *DATA / *LEN (caller frees); false with errno on failure. */
static bool read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, got = 0;
    bool ok = false;

    if (f == NULL)
        return false;
    for (;;) {
        size_t n;

        if (got == cap) {
            uint8_t *p = realloc(buf, cap = cap ? cap * 2 : 4096);

            if (p == NULL)
                goto cleanup;
            buf = p;
        }
        n = fread(buf + got, 1, cap - got, f);
        got += n;
        if (n == 0)
            break;
    }
    ok = !ferror(f);
cleanup:
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    *data = buf;
    *len = got;
    return true;
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
    char dir[512], path[1024];
    char **names = NULL;
    size_t count = 0, cap = 0;
    size_t blen = strlen(base);
    struct dirent *e;
    DIR *d;
    int failed = 0;

    (void)argc;
    if (blen < 3 || strcmp(base + blen - 2, "-t") != 0) {
        printf("Bail out! %s: the program name must be <target>-t\n", base);
        return 1;
    }
    snprintf(dir, sizeof(dir), "fuzz/corpus/%.*s", (int)(blen - 2), base);
    d = opendir(dir);
    if (d == NULL) {
        printf("Bail out! %s: %s (run from the top of the tree)\n", dir, strerror(errno));
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

            if (p == NULL) {
                printf("Bail out! out of memory\n");
                return 1;
            }
            names = p;
        }
        names[count] = strdup(e->d_name);
        if (names[count] == NULL) {
            printf("Bail out! out of memory\n");
            return 1;
        }
        count++;
    }
    closedir(d);
    if (count == 0) {
        printf("Bail out! %s: empty corpus\n", dir);
        return 1;
    }
    qsort(names, count, sizeof(*names), by_name);
    printf("1..%zu\n", count);
    for (size_t i = 0; i < count; i++) {
        uint8_t *data = NULL;
        size_t len = 0;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        printf("# %s\n", path); /* the input to blame when the next line never comes */
        fflush(stdout);
        if (!read_file(path, &data, &len)) {
            printf("not ok %zu - %s: %s\n", i + 1, path, strerror(errno));
            failed = 1;
        } else {
            LLVMFuzzerTestOneInput(data, len);
            printf("ok %zu - %s (%zu bytes)\n", i + 1, path, len);
        }
        free(data);
        free(names[i]);
    }
    free(names);
    return failed;
}
