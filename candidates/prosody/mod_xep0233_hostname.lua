-- mod_xep0233_hostname: advertise the XEP-0233 host name in the SASL <mechanisms/> feature.
--
-- Written for gssconform (candidates/prosody). After mod_saslauth has added
-- <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> to a c2s session's stream
-- features, this appends
--     <hostname xmlns='urn:xmpp:domain-based-name:1'>H</hostname>
-- as its last child (after the <mechanism/> elements, as RFC 6120's schema orders
-- foreign elements), with H from the option `xep0233_hostname`. It does so only on a
-- connection that is already encrypted (after STARTTLS), never before TLS, and only when
-- SASL is offered at all. Without the option the module logs an error and adds nothing.
--
-- Diagnostic: with `xep0233_hostname_placement = "features"` the same element becomes a
-- direct child of <stream:features/> instead (after <mechanisms/>), the misplacement
-- docs/xep0233.md calls HOSTNAME_MISPLACED; it exists to observe clients that look there.

local xmlns_sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
local xmlns_dbn = "urn:xmpp:domain-based-name:1";

local st = require "util.stanza";

local advertised = module:get_option_string("xep0233_hostname");
local placement = module:get_option_string("xep0233_hostname_placement", "mechanisms");
if placement ~= "mechanisms" and placement ~= "features" then
	module:log("error", "xep0233_hostname_placement %q: expected mechanisms or features", placement);
	advertised = nil;
end
if not advertised or advertised == "" then
	module:log("error", "xep0233_hostname is not set: no <hostname/> will be advertised");
end

-- Runs after mod_saslauth's own stream-features handler (priority 0): lower runs later.
module:hook("stream-features", function(event)
	local session, features = event.origin, event.features;
	if not advertised or advertised == "" then return; end
	if session.type ~= "c2s_unauthed" then return; end
	if not session.encrypted then
		session.log("debug", "xep0233: not advertising <hostname/> before TLS");
		return;
	end
	local mechanisms = features:get_child("mechanisms", xmlns_sasl);
	if not mechanisms then return; end
	local element = st.stanza("hostname", { xmlns = xmlns_dbn }):text(advertised);
	if placement == "features" then
		features:add_direct_child(element);
	else
		mechanisms:add_direct_child(element);
	end
	session.log("debug", "xep0233: advertised <hostname/> %s in <%s/>", advertised, placement);
end, -10);
