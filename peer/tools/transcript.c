/* JSON-lines transcript of a ZMTP session: see transcript.h. */
#include "tools/transcript.h"

#include "tools/transcript-file.h"
#include "util/hex.h"
#include "util/jsonout.h"

#include <stdint.h>
#include <string.h>

bool transcript_open(struct transcript *t, const char *path)
{
    return transcript_file_open(&t->file, path);
}

void transcript_close(struct transcript *t)
{
    transcript_file_close(&t->file);
}

void transcript_greeting(struct transcript *t, const char *dir, const unsigned char *bytes,
                         size_t len)
{
    struct zmtp_greeting g;
    struct zmtp_error err;

    if (t == NULL || t->file == NULL)
        return;
    transcript_file_begin(t->file, dir, "greeting");
    fprintf(t->file, ",\"size\":%zu", len);
    if (zmtp_greeting_decode(bytes, len, NULL, &g, &err) == ZMTP_OK) {
        fputs(",\"fields\":{\"padding\":", t->file);
        json_put_hex(t->file, g.padding, sizeof(g.padding));
        fprintf(t->file, ",\"major\":%u,\"minor\":%u,\"mechanism\":", g.major, g.minor);
        json_put_bytes(t->file, g.mechanism, strlen(g.mechanism));
        fprintf(t->file, ",\"as_server\":%u}", g.as_server);
    } else {
        fputs(",\"error\":", t->file);
        json_put_string(t->file, err.text);
    }
    fputs(",\"hex\":", t->file);
    json_put_hex(t->file, bytes, len);
    transcript_file_end(t->file);
}

/* "fields" of a command body (or of the command inside a wrapped plaintext). */
static void put_command_fields(FILE *f, const unsigned char *body, size_t len)
{
    struct zmtp_command c;
    struct zmtp_metadata md;
    const unsigned char *token, *context;
    size_t token_len, context_len;
    uint16_t ttl;

    if (len == 0) {
        fputs("\"command\":\"\",\"empty\":true", f);
        return;
    }
    if (zmtp_command_decode(body, len, &c, NULL) != ZMTP_OK) {
        fputs("\"command\":null", f);
        return;
    }
    fputs("\"command\":", f);
    json_put_bytes(f, c.name, c.name_len);
    if (zmtp_initiate_decode(body, len, &token, &token_len, NULL) == ZMTP_OK ||
        zmtp_message_decode(body, len, &token, &token_len, NULL) == ZMTP_OK) {
        fprintf(f, ",\"token_len\":%zu", token_len);
    } else if (zmtp_ready_decode(body, len, &md, NULL) == ZMTP_OK) {
        fputs(",\"properties\":{", f);
        for (size_t i = 0; i < md.count; i++) {
            if (i > 0)
                putc(',', f);
            json_put_bytes(f, md.props[i].name, md.props[i].name_len);
            putc(':', f);
            json_put_bytes(f, md.props[i].value, md.props[i].value_len);
        }
        putc('}', f);
    } else if (zmtp_ping_decode(body, len, &ttl, &context, &context_len, NULL) == ZMTP_OK) {
        fprintf(f, ",\"ttl\":%u,\"context\":", ttl);
        json_put_hex(f, context, context_len);
    } else {
        fprintf(f, ",\"data_len\":%zu", c.data_len);
    }
}

void transcript_frame(struct transcript *t, const char *dir, uint8_t flags,
                      const unsigned char *body, size_t len, const char *kind,
                      const unsigned char *plain, size_t plain_len)
{
    FILE *f;

    if (t == NULL || t->file == NULL)
        return;
    f = t->file;
    transcript_file_begin(t->file, dir, kind);
    if (len > ZMTP_SHORT_MAX)
        flags |= ZMTP_FLAG_LONG;
    fprintf(f, ",\"flags\":%u,\"size\":%zu,\"fields\":{", flags, len);
    if (flags & ZMTP_FLAG_COMMAND) {
        put_command_fields(f, body, len);
    } else {
        const unsigned char *token;
        size_t token_len;

        fprintf(f, "\"more\":%s", (flags & ZMTP_FLAG_MORE) ? "true" : "false");
        if (zmtp_message_decode(body, len, &token, &token_len, NULL) == ZMTP_OK)
            fprintf(f, ",\"command\":\"MESSAGE\",\"token_len\":%zu", token_len);
    }
    fputs("},\"hex\":", f);
    /* The frame as on the wire: header then body. */
    {
        unsigned char header[9];
        size_t header_len = 2;

        header[0] = flags;
        if (flags & ZMTP_FLAG_LONG) {
            for (int i = 0; i < 8; i++)
                header[1 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
            header_len = 9;
        } else {
            header[1] = (unsigned char)len;
        }
        fputc('"', f);
        hex_put(f, header, header_len);
        hex_put(f, body, len);
        fputc('"', f);
    }
    if (plain != NULL) {
        const unsigned char *token;
        size_t token_len;
        struct zmtp_wrap_header h;
        struct zmtp_wrapped w;

        fputs(",\"plain\":", f);
        json_put_hex(f, plain, plain_len);
        if (zmtp_wrapped_decode(plain, plain_len, &w, NULL) == ZMTP_OK) {
            fprintf(f, ",\"inner\":{\"flags\":%u,\"len\":%zu", w.flags, w.len);
            if (w.flags & ZMTP_WRAP_COMMAND || (w.len > 0 && strcmp(kind, "READY") == 0)) {
                putc(',', f);
                put_command_fields(f, w.body, w.len);
            }
            putc('}', f);
        }
        if (zmtp_message_decode(body, len, &token, &token_len, NULL) == ZMTP_OK &&
            zmtp_wrap_header_decode(token, token_len, &h, NULL) == ZMTP_OK)
            fprintf(f,
                    ",\"token\":{\"flags\":%u,\"ec\":%u,\"rrc\":%u,\"snd_seq\":%llu,"
                    "\"overhead\":%zu}",
                    h.flags, h.ec, h.rrc, (unsigned long long)h.snd_seq, token_len - plain_len);
    }
    transcript_file_end(t->file);
}

void transcript_event(struct transcript *t, const char *kind, const char *reason)
{
    if (t == NULL || t->file == NULL)
        return;
    transcript_file_begin(t->file, "local", kind);
    fputs(",\"reason\":", t->file);
    json_put_string(t->file, reason);
    transcript_file_end(t->file);
}
