/* The JSON-lines file under every transcript: see transcript-file.h. */
#include "tools/transcript-file.h"

#include "util/jsonout.h"

#include <time.h>

bool transcript_file_open(FILE **file, const char *path)
{
    *file = fopen(path, "w");
    return *file != NULL;
}

void transcript_file_close(FILE **file)
{
    if (*file != NULL)
        fclose(*file);
    *file = NULL;
}

void transcript_file_begin(FILE *f, const char *dir, const char *kind)
{
    struct timespec now;
    struct tm tm;
    char stamp[40];

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "{\"time\":\"%s.%06ldZ\",\"dir\":", stamp, now.tv_nsec / 1000);
    json_put_string(f, dir);
    fputs(",\"kind\":", f);
    json_put_string(f, kind);
}

void transcript_file_end(FILE *f)
{
    fputs("}\n", f);
    fflush(f);
}
