/*
 * A deterministic fake GSS-API table (struct gssops, util/gssops.h) for the fuzz targets: no
 * KDC, no krb5 call, every outcome decided by the bytes the engine hands in, so the fuzzer
 * can walk an engine through a whole handshake into its data phase.
 *
 *   init_sec_context    first call: token "AP-REQ", CONTINUE_NEEDED; later calls: an input
 *                       token starting with 'X' (or none) is DEFECTIVE_TOKEN, 'M' asks for one
 *                       more round (token "MORE"), anything else COMPLETE with no token
 *   accept_sec_context  an empty token or one starting with 'X' is DEFECTIVE_TOKEN; 'M' is
 *                       CONTINUE_NEEDED with token "MORE"; anything else COMPLETE with token
 *                       "AP-REP", and the initiator's name is the token's own bytes (so the
 *                       fuzzer chooses the principal, NULs and all)
 *   wrap                one octet conf_req (0/1), then the plaintext unchanged
 *   unwrap              the reverse: a first octet other than 0/1 (or none) is DEFECTIVE_TOKEN
 *   ret_flags           mutual, sequence, integrity and confidentiality
 *
 * fakegss_live() counts the names, contexts and buffers handed out and not yet released:
 * a target asserts it is 0 once its engine is freed, so a leak through the table is a finding
 * even where LeakSanitizer cannot see it.
 *
 * Ownership: as in RFC 2744; everything the table hands out is released through the table.
 */
#ifndef FUZZ_FAKEGSS_H
#define FUZZ_FAKEGSS_H

#include "util/gssops.h"

extern const struct gssops fakegss;

/* Objects handed out by fakegss and not released yet. */
long fakegss_live(void);

/* A new fake name holding LEN bytes of TEXT (released with fakegss.release_name). */
gss_name_t fakegss_name(const void *text, size_t len);

#endif
