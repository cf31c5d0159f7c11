/*
 * The file under every transcript gsspeer writes (--transcript FILE): JSON lines that each
 * begin with when, which way and what, and end with a newline and a flush, so that a reader
 * sees every whole line even when the run is killed:
 *
 *   {"time":"2026-12-07T15:19:17.306426Z","dir":"in","kind":"challenge", ... }
 *
 * The ZMTP transcript (tools/transcript.h) and the xmpp-client one
 * (tools/xmpp-client-transcript.h) put their own fields between begin and end.
 *
 * Ownership: the caller owns the FILE pointer variable; open sets it, close closes the file
 * and clears it. Nothing else is allocated or kept.
 */
#ifndef TOOLS_TRANSCRIPT_FILE_H
#define TOOLS_TRANSCRIPT_FILE_H

#include <stdbool.h>
#include <stdio.h>

/* Open PATH for writing (truncating it) into *FILE. False with errno set (and *FILE NULL)
 * on failure. */
bool transcript_file_open(FILE **file, const char *path);

/* Flush and close *FILE and set it to NULL (safe when never opened or already closed). */
void transcript_file_close(FILE **file);

/* Start a line on the open F: {"time":"<UTC now, microseconds>Z","dir":DIR,"kind":KIND
 * (DIR and KIND NUL-terminated, JSON-escaped). */
void transcript_file_begin(FILE *f, const char *dir, const char *kind);

/* End the line begun by transcript_file_begin on F ("}" and a newline) and flush it. */
void transcript_file_end(FILE *f);

#endif
