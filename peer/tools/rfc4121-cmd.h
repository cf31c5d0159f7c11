/*
 * gsspeer rfc4121: util/rfc4121 (the independent RFC 4121 Wrap tokens) against MIT's
 * gss_wrap/gss_unwrap on a real context (see peer/commands.h for the calling convention).
 *
 *   gsspeer rfc4121 --service NAME [--check] [--max N] [--random N] [--seed S]
 *   gsspeer rfc4121 --service NAME --bench [--sizes 64,1024,...] [--seconds S] [--rounds R]
 *
 * Establishes an initiator (default credentials: KRB5CCNAME / KRB5_CLIENT_KTNAME) and an
 * acceptor (KRB5_KTNAME) context in one process with MIT, copies each (export/import), keys
 * rfc4121 from the copies (lucid export) and then:
 *   --check  every size 0..N (default 4096) and --random more sizes up to 64 KiB, both
 *            directions, with and without confidentiality, with EC and RRC variations:
 *            MIT wraps -> rfc4121 unwraps, rfc4121 wraps -> MIT unwraps, and integrity-only
 *            tokens compared byte for byte. One JSON summary line on stdout; every
 *            disagreement one line on stderr. Exit 0 all agree, 1 any disagreement.
 *   --bench  wrap+unwrap throughput of MIT and of rfc4121, interleaved rounds per size; one
 *            JSON line per size and round on stdout. Figures, never a verdict: exit 0.
 * Exit 1 also when the context cannot be established (reason on stderr); usage errors 64.
 */
#ifndef TOOLS_RFC4121_CMD_H
#define TOOLS_RFC4121_CMD_H

int cmd_rfc4121(int argc, char **argv);

#endif
