/*
 * The XEP-0233 subcommands of gsspeer (see peer/commands.h for the calling convention).
 *
 *   gsspeer principal --hostname H --domain D [--realm R] [--form gss|sspi] [--port N] [--strict]
 *   gsspeer features FILE|- [--strict]
 */
#ifndef TOOLS_XEP0233_CMD_H
#define TOOLS_XEP0233_CMD_H

/* Print the principal (GSS-API) or SPN (SSPI) on stdout: exit 0; invalid input (or, with
 * --strict, input only the lenient reading accepts): exit 2 with one line on stderr;
 * usage errors: 64. */
int cmd_principal(int argc, char **argv);

/* Print the usable <hostname/> of a stream features document on stdout: exit 0; none usable:
 * exit 1 with the reason on stderr; malformed XML or unreadable input: exit 2; usage: 64. */
int cmd_features(int argc, char **argv);

#endif
