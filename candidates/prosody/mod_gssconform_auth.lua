-- mod_gssconform_auth: one log line per SASL outcome, for the gssconform shim to parse.
--
-- Written for gssconform (candidates/prosody). Prosody itself logs a success only as
-- "Authenticated as USER@HOST" and a refusal not at all (its <failure/> is logged by tag
-- name only), so this module hooks mod_saslauth's authentication-success and
-- authentication-failure events (fired while the session's SASL handler still exists)
-- and logs, at level info, one line:
--     gssconform-auth success user=USER authid=AUTHID
--     gssconform-auth failure condition=COND authid=AUTHID detail=TEXT
-- USER is Prosody's user name (Cyrus's SASL_USERNAME after mod_auth_cyrus's
-- canonicalisation to the part before '@'); AUTHID is Cyrus's authentication id
-- (cyrussasl.get_authname: for GSSAPI the client's Kerberos principal), "-" when Cyrus has
-- none; TEXT is the <text/> Prosody sends and, after " | ", Cyrus's error detail
-- (cyrussasl.get_message). Spaces inside values are kept; user and authid never hold any.

local ok_cyrus, cyrussasl = pcall(require, "cyrussasl");

local function one_line(text)
	return (tostring(text or ""):gsub("[\r\n]", " "));
end

-- A string property of the session's Cyrus connection, or "-".
local function cyrus_value(session, getter)
	local handler = session.sasl_handler;
	if not (ok_cyrus and handler and handler.cyrus and cyrussasl[getter]) then return "-"; end
	local ok, value = pcall(cyrussasl[getter], handler.cyrus);
	if not ok or value == nil or value == "" then return "-"; end
	return one_line(value);
end

module:hook("authentication-success", function(event)
	local session = event.session;
	session.log("info", "gssconform-auth success user=%s authid=%s",
		tostring(session.username or "-"), (cyrus_value(session, "get_authname"):gsub("%s", "_")));
end);

module:hook("authentication-failure", function(event)
	local session = event.session;
	local detail = one_line(event.text);
	local message = cyrus_value(session, "get_message");
	if message ~= "-" then detail = detail .. " | " .. message; end
	session.log("info", "gssconform-auth failure condition=%s authid=%s detail=%s",
		tostring(event.condition), (cyrus_value(session, "get_authname"):gsub("%s", "_")), detail);
end);
