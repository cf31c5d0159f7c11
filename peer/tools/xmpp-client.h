/*
 * gsspeer xmpp-client: the reference XMPP client role (docs/peer.md, "xmpp-client"; the XMPP
 * shim contract in docs/candidates.md). It logs in once to an XMPP server with SASL GSSAPI
 * (RFC 6120 §6, RFC 4752) over STARTTLS, building the service name from the server's
 * XEP-0233 <hostname/> (xmpp/xep0233.h, xmpp/features.h) or RFC 4752's host-based name, binds
 * a resource and exits.
 *
 * The stream runs on libstrophe in raw mode (the library's own SASL has no GSSAPI): TCP,
 * STARTTLS and XML parsing are the library's, the stream headers, SASL elements and the bind
 * IQ are ours, and the SASL GSSAPI exchange is the sans-I/O engine of xmpp/sasl.h. --fault
 * switches (tools/xmpp-client-faults.h) make it misbehave on purpose.
 *
 * Ownership: the command owns everything it creates; ARGV is only read.
 */
#ifndef TOOLS_XMPP_CLIENT_H
#define TOOLS_XMPP_CLIENT_H

/* `gsspeer xmpp-client ...`: returns the exit status (0 logged in and bound, or every fault
 * applied and the server's reaction observed; 1 exchange failure or timeout; 2 invalid input;
 * 64 usage). */
int cmd_xmpp_client(int argc, char **argv);

#endif
