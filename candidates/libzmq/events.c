/*
 * JSON event lines of the libzmq candidate shim.
 */
#include "events.h"

#include "util/hex.h"

#include <openssl/evp.h>
#include <stdio.h>

/* Write S as a JSON string (quotes included); bytes >= 0x80 pass through as they are. */
static void put_json_string(const char *s)
{
    putc_unlocked('"', stdout);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            putc_unlocked('\\', stdout);
            putc_unlocked(*p, stdout);
        } else if (*p < 0x20) {
            fprintf(stdout, "\\u%04x", *p);
        } else {
            putc_unlocked(*p, stdout);
        }
    }
    putc_unlocked('"', stdout);
}

/* Every event is written between begin() and end() so lines from two threads never mix. */
static void begin(const char *name)
{
    flockfile(stdout);
    fprintf(stdout, "{\"event\":\"%s\"", name);
}

static void end(void)
{
    fputs("}\n", stdout);
    fflush(stdout);
    funlockfile(stdout);
}

void event_listening(const char *endpoint)
{
    begin("listening");
    fputs(",\"endpoint\":", stdout);
    put_json_string(endpoint);
    end();
}

void event_delivered(const struct event_part *parts, size_t n)
{
    begin("delivered");
    fputs(",\"parts\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        fprintf(stdout, "%s{\"len\":%zu,\"sha256\":\"", i == 0 ? "" : ",", parts[i].len);
        if (EVP_Digest(parts[i].data, parts[i].len, digest, &digest_len, EVP_sha256(), NULL) == 1)
            hex_put(stdout, digest, digest_len);
        fputs("\",\"head\":\"", stdout);
        hex_put(stdout, parts[i].data, parts[i].len < 32 ? parts[i].len : 32);
        fputs("\"}", stdout);
    }
    fputs("]", stdout);
    end();
}

void event_sent(unsigned long count)
{
    begin("sent");
    fprintf(stdout, ",\"count\":%lu", count);
    end();
}

void event_authorized(const char *principal, bool allowed)
{
    begin("authorized");
    fputs(",\"principal\":", stdout);
    put_json_string(principal);
    fprintf(stdout, ",\"allowed\":%s", allowed ? "true" : "false");
    end();
}

void event_done(unsigned long sent, unsigned long received, unsigned long verified)
{
    begin("done");
    fprintf(stdout, ",\"sent\":%lu,\"received\":%lu,\"verified\":%lu", sent, received, verified);
    end();
}

void event_error(const char *reason)
{
    fprintf(stderr, "libzmq-shim: %s\n", reason);
    begin("error");
    fputs(",\"reason\":", stdout);
    put_json_string(reason);
    end();
}
