/*
 * The ZMTP GSSAPI roles of gsspeer: `gsspeer zmtp-server` (echo server, PULL sink or PUB) and
 * `gsspeer zmtp-client` (DEALER/REQ round trips, PUSH, SUB), following the shim contract
 * (docs/peer.md): JSON events on stdout, one-line reasons on stderr, exit statuses
 * 0 success, 1 protocol/exchange failure, 2 invalid input, 64 usage (tools/contract.h).
 */
#ifndef TOOLS_ROLES_H
#define TOOLS_ROLES_H

/* `gsspeer zmtp-server ...` (ARGV[0] is the subcommand name); returns the exit status. */
int cmd_zmtp_server(int argc, char **argv);

/* `gsspeer zmtp-client ...` (ARGV[0] is the subcommand name); returns the exit status. */
int cmd_zmtp_client(int argc, char **argv);

/* `gsspeer contract --json`: the ZMTP shim contract's table (tools/contract.h). */
int cmd_contract(int argc, char **argv);

#endif
