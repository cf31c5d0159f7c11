/*
 * `gsspeer xmpp-server`: the reference XMPP server role (RFC 6120 stream, STARTTLS, SASL
 * GSSAPI with the XEP-0233 <hostname/>, resource binding), serving logins until SIGTERM.
 * docs/peer.md describes the options, events, transcript and exit statuses.
 */
#ifndef TOOLS_XMPP_SERVER_H
#define TOOLS_XMPP_SERVER_H

/* The subcommand: ARGV[0] is "xmpp-server"; returns the exit status. */
int cmd_xmpp_server(int argc, char **argv);

#endif
