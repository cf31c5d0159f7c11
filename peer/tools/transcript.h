/*
 * The transcript of a ZMTP session: one JSON object per line and per frame (and per greeting,
 * and one for the close), written as the peer sent or saw it:
 *
 *   {"time":"2026-11-22T07:40:01.123456Z","dir":"out","kind":"INITIATE","flags":6,"size":723,
 *    "fields":{"command":"INITIATE","token_len":711},"hex":"0600...",
 *    "plain":"00055245...", "token":{"flags":6,"ec":0,"rrc":0,"snd_seq":410511094}}
 *
 * "plain" (hex) and "token" (the RFC 4121 Wrap token header) appear for wrapped payloads;
 * "fields" holds what the codec decoded (see docs/peer.md for every key).
 *
 * Ownership: a transcript owns its FILE; every function only reads its other arguments.
 */
#ifndef TOOLS_TRANSCRIPT_H
#define TOOLS_TRANSCRIPT_H

#include "zmtp/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct transcript {
    FILE *file;
};

/* Open PATH for writing (truncating it). Returns false with errno set on failure. */
bool transcript_open(struct transcript *t, const char *path);

/* Flush and close (safe when never opened or already closed). */
void transcript_close(struct transcript *t);

/* The greeting bytes sent or received (DIR "out"/"in"); LEN may be below 64 for a greeting
 * cut short. */
void transcript_greeting(struct transcript *t, const char *dir, const unsigned char *bytes,
                         size_t len);

/* One frame: FLAGS and BODY as on the wire, KIND what it is ("INITIATE", "READY", ...),
 * PLAIN the wrapped plaintext (NULL when not wrapped). */
void transcript_frame(struct transcript *t, const char *dir, uint8_t flags,
                      const unsigned char *body, size_t len, const char *kind,
                      const unsigned char *plain, size_t plain_len);

/* An event of the connection that is not a frame: KIND "close", "error", ... with REASON. */
void transcript_event(struct transcript *t, const char *kind, const char *reason);

#endif
