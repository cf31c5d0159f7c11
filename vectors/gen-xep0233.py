#!/usr/bin/env python3
"""Write the XEP-0233 test vectors: vectors/xep0233-principals.json and xep0233-features.json.

Every vector is declared below by hand with its expected outcome (nothing is computed by the
implementation under test). The policy behind each outcome where XEP-0233 1.0.0 is silent is
argued in docs/xep0233.md; the JSON schema is described in vectors/README.md.

    vectors/gen-xep0233.py            rewrite both JSON files
    vectors/gen-xep0233.py --check    exit 1 when a committed file differs from this script

tests/xmpp/vectors-t.py runs --check; peer/tests/xmpp/*-t.c consume every vector.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import vectorgen  # beside this script

HERE = Path(__file__).resolve().parent
PRINCIPALS = HERE / "xep0233-principals.json"
FEATURES = HERE / "xep0233-features.json"

SCHEMA = "gssconform-vectors-1"

# --------------------------------------------------------------------------- flags

NOTES: dict[str, str] = {
    # informational
    "XepExample": "XEP-0233 §6 (Examples): service example.com on host auth42.us.example.com, "
                  "port 5222 -> 'xmpp/auth42.us.example.com/example.com@EXAMPLE.COM' (GSS-API) "
                  "and 'xmpp/auth42.us.example.com/example.com' (SSPI).",
    "ExplicitRealm": "XEP-0233 §3: the REALM 'SHOULD be determined according to the network "
                     "policies in effect'; an explicitly configured realm is used verbatim.",
    "DefaultRealm": "XEP-0233 §3: without a configured realm, the REALM is 'usually the domain "
                    "name, in an uppercase mapping' (ASCII upper-casing of the domain as it "
                    "appears in the principal, A-labels included).",
    "RealmIgnored": "XEP-0233 §4/§5: 'The SPN of the SSPI server does not specify a realm'; a "
                    "realm given for the SSPI form is ignored.",
    "PortIgnored": "XEP-0233 §5: 'The domain-based service name of GSS-API does not specify a "
                   "port'; a port given for the GSS-API form is ignored.",
    "DefaultPort": "XEP-0233 §4: the port 'should be omitted if the XMPP server uses the default "
                   "port of 5222'.",
    "NoPort": "XEP-0233 §4: 'The port is optional'; with no port known none is written.",
    "NoHostnameSpn": "No <hostname/> known: the SPN takes DsMakeSpn's form without an instance "
                     "name, 'xmpp/<service name>' (XEP-0233 §4 refers to the Microsoft SPN "
                     "format); a port has no host to attach to and is dropped.",
    "LengthLimit": "RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 255 octets on "
                   "the wire, i.e. 253 characters in text form without the trailing dot "
                   "(RFC 5890 §2.3.2.1 applies the same limits to A-label form).",
    "DomainInput": "The finding concerns the domain (the stream 'to', XEP-0233 §3 'canonical "
                   "name of the service'), judged by the same host-name rules as <hostname/>.",
    "IdnALabel": "RFC 5890 §2.3.2.1: an 'xn--' label is an A-label, valid when its Punycode "
                 "decodes to a valid U-label (RFC 5891 §5.4); it is already in DNS form.",
    "DigitLabel": "RFC 1123 §2.1 allows a label to start with (or be all) digits, except the "
                  "top-level label (RFC 3696 §2).",
    "StreamOpen": "The input is a <stream:stream> header followed by <stream:features/> with "
                  "the stream left open, as read from a live connection (RFC 6120 §4.3.2).",
    "NamespacePrefix": "Namespaces bind by URI, not prefix (Namespaces in XML 1.0 §3): prefixed "
                       "elements are the same elements.",
    "OtherFeatures": "Other stream features around <mechanisms/> do not matter "
                     "(RFC 6120 §4.3.2).",
    "GssapiNotOffered": "XEP-0233 §2 ties the <hostname/> to <mechanisms/>, not to a GSSAPI "
                        "entry: the element is judged on its own and whether GSSAPI is listed "
                        "is reported separately (gssapiOffered; RFC 6120 §6.3.3).",
    "CData": "A CDATA section is character data (XML 1.0 §2.7).",
    "CharacterReference": "Character references are expanded before the name is judged "
                          "(XML 1.0 §4.1): '&#x2F;' is '/'.",
    "CommentInside": "A comment inside <hostname/> is not character data (XML 1.0 §2.5); the "
                     "text around it is joined.",
    "LegacyIgnored": "A pre-1.0 <hostname/> next to a current one is ignored (XEP-0233 §9.2).",
    "OutsideFeatures": "A <hostname/> outside <stream:features/> is not part of the SASL "
                       "negotiation XEP-0233 §2 describes; it is ignored.",
    "Sasl2": "XEP-0388 (SASL2) advertises mechanisms in <authentication xmlns='urn:xmpp:sasl:2'/>; "
             "XEP-0233 1.0.0 only defines the <hostname/> inside RFC 6120 <mechanisms/>, so one "
             "inside the SASL2 feature is judged as nested elsewhere.",
    "MalformedXml": "Not well-formed XML (XML 1.0 §2.1) or a namespace error (Namespaces in XML "
                    "1.0 §5): the input is rejected before any <hostname/> is looked for; the "
                    "CLI exits 2.",
    "ForbiddenXml": "RFC 6120 §11.1: an XML stream MUST NOT contain a document type declaration "
                    "or processing instructions; they are rejected as malformed (this also keeps "
                    "entity expansion out).",
    "NotFeatures": "Well-formed, but the document has no <stream:features/> in the "
                   "http://etherx.jabber.org/streams namespace at the top (RFC 6120 §4.3.2).",
    # findings, one per implementation status (acceptable: lenient reading only)
    "SurroundingWhitespace": "XEP-0233 §2 makes 'the XML character data' the host name and §10 "
                             "types it xs:string, which keeps whitespace: a name with "
                             "surrounding whitespace is not a host name (strict); the lenient "
                             "reading trims XML whitespace (space, tab, CR, LF).",
    "TrailingDot": "An absolute DNS name ends with a dot (RFC 1034 §3.1); a Kerberos host "
                   "component never has it and RFC 7622 §3.2 strips it from domainparts: strict "
                   "refuses, lenient removes one trailing dot.",
    "UpperCase": "DNS names compare case-insensitively (RFC 4343), Kerberos names "
                 "case-sensitively, and host-based principals are registered in lower case "
                 "(MIT krb5_sname_to_principal lower-cases the host): strict refuses, lenient "
                 "keeps the name 'as provided' (XEP-0233 §3).",
    "ULabel": "An internationalized name in U-label form (RFC 5890 §2.3.2.1); Kerberos names "
              "and DNS use A-labels: strict refuses, lenient converts to A-labels with IDNA2008 "
              "(RFC 5891 §4, no UTS #46 mapping).",
    "SingleLabel": "XEP-0233 §2 calls the <hostname/> 'the fully-qualified name of the XMPP "
                   "server'; a name without a dot is not fully qualified: strict refuses, "
                   "lenient uses it.",
    "MisplacedInFeatures": "XEP-0233 §2: the server communicates its hostname 'in a child "
                           "element of the <mechanisms/> element' (RFC 6120 §6.3.5, A.4); a "
                           "direct child of <stream:features/> is misplaced: strict refuses, "
                           "lenient uses it (the intent is clear).",
    "RepeatedSame": "XEP-0233 §2 describes one <hostname/> child; several naming the same host "
                    "(after the lenient repairs) are refused by strict and used by lenient.",
    "ExtraAttribute": "XEP-0233 §10 types <hostname/> as xs:string, which has no attributes "
                      "(0.1 had mechanism='GSSAPI'); strict refuses, lenient ignores them.",
    "BeforeMechanism": "RFC 6120 A.4: <mechanisms/> is a sequence of <mechanism/> elements "
                       "followed by other-namespace elements; a <hostname/> before a "
                       "<mechanism/> breaks that order: strict refuses, lenient uses it.",
    "Absent": "No <hostname/> in urn:xmpp:domain-based-name:1: XEP-0233 gives no name; the "
              "client falls back to the RFC 4752 §3.1 host-based name 'xmpp@<host>'. The CLI "
              "exits 1.",
    "MisplacedDeep": "The only <hostname/> is nested inside another child (a <mechanism/>, "
                     "another feature): not where XEP-0233 §2 puts it, and no reading of the "
                     "XEP supports using it.",
    "LegacyNamespace": "The only <hostname/> is in urn:xmpp:tmp:domain-based-name (0.1) or "
                       "urn:xmpp:domain-based-name:0 (0.2-0.3): the namespace version changed "
                       "because the protocol changed (XEP-0233 §9.2), so it is not used.",
    "WrongNamespace": "A <hostname/> in another namespace (the SASL namespace it inherits "
                      "without xmlns, no namespace, or an unknown version) is not the XEP-0233 "
                      "element (XEP-0233 §2).",
    "RepeatedDifferent": "Several <hostname/> elements naming different hosts (or one of them "
                         "unusable): ambiguous, no reading can choose (XEP-0233 §2).",
    "ChildElement": "Markup inside <hostname/>: XEP-0233 §10 types it xs:string (text only).",
    "Empty": "No name: the element is empty or holds only whitespace (XEP-0233 §2 requires "
             "the fully-qualified name as its character data).",
    "EmptyLabel": "An empty label: a leading dot, '..', or only '.' (RFC 1035 §2.3.1).",
    "KerberosMetacharacter": "'/', '@' and '\\' cannot appear in a host name (RFC 1123 §2.1) "
                             "and are the separators of a Kerberos principal string (they "
                             "would need '\\' escapes, RFC 1964 §2.1.1): such a name could only "
                             "make a different principal than the server meant, so it is "
                             "refused rather than escaped.",
    "InvalidCharacter": "A character outside letters, digits, '-' and '.' (RFC 1123 §2.1; "
                        "RFC 5890 LDH), e.g. space, '_', ':', '&', control characters.",
    "HyphenAtLabelEdge": "A label starts or ends with '-' (RFC 1123 §2.1; RFC 5891 §4.2.3.1).",
    "IpLiteral": "An IPv4 or IPv6 address (with or without brackets) is not 'the "
                 "fully-qualified name of the XMPP server' (XEP-0233 §2) and no KDC registers "
                 "host principals by address.",
    "NumericTld": "The top-level label is all digits, which no host name has (RFC 3696 §2).",
    "TooLong": "Longer than 253 octets in A-label form (RFC 1035 §2.3.4).",
    "LabelTooLong": "A label longer than 63 octets in A-label form (RFC 1035 §2.3.4).",
    "InvalidALabel": "An 'xn--' label whose Punycode does not decode to a valid IDNA2008 U-label "
                     "(RFC 5891 §5.4; RFC 3492).",
    "InvalidULabel": "A non-ASCII label that is not a valid IDNA2008 U-label: not NFC, or with "
                     "characters IDNA2008 disallows such as upper-case letters (RFC 5891 §5.3, "
                     "RFC 5892); no UTS #46 mapping is applied.",
    "NoHostname": "The GSS-API form needs the <hostname/> (XEP-0233 §3 'MUST be the hostname "
                  "... as provided by the server'); without it there is no domain-based name "
                  "and the client uses RFC 4752's host-based name instead.",
    "BadRealm": "The realm is used verbatim in 'xmpp/<hostname>/<domain>@<REALM>'; an empty "
                "realm or one with whitespace, control characters, '/', '@' or '\\' is refused "
                "(domain-style and 'other' realms of RFC 4120 §6.1; X.500-style realms are not "
                "supported).",
    "SspiPort": "XEP-0233 §4 allows a port in the SPN ('xmpp/host:port/service'), but §5: "
                "'The port SHOULD NOT be used in any other scenarios' than SSPI-to-SSPI "
                "testing: acceptable (lenient keeps it, strict refuses).",
    "BadPort": "A port outside 1..65535 (XEP-0233 §4: a TCP port).",
}

HOST = "auth42.us.example.com"
DOMAIN = "example.com"
L63 = "a" * 63
# Exactly 253 octets: four labels of 61 and their dots (4*61 + 3 = 247) + ".examp" (6).
N253 = ".".join(["b" * 61] * 4) + ".examp"
assert len(N253) == 253
N254 = "c" + N253
assert len(N254) == 254

# --------------------------------------------------------------------------- principals


def p(
    ident: str,
    comment: str,
    hostname: str | None,
    result: str,
    flags: list[str],
    principal: str | None,
    status: str,
    *,
    domain: str = DOMAIN,
    realm: str | None = None,
    port: int | None = None,
) -> dict[str, Any]:
    """One principal vector."""
    return {
        "id": ident,
        "comment": comment,
        "hostname": hostname,
        "domain": domain,
        "realm": realm,
        "port": port,
        "result": result,
        "flags": flags,
        "expected": {"principal": principal, "status": status},
    }


def gss_name(host: str, domain: str = DOMAIN, realm: str | None = None) -> str:
    """xmpp/<host>/<domain>@<REALM> with the default realm rule."""
    return f"xmpp/{host}/{domain}@{realm if realm is not None else domain.upper()}"


GSS: list[dict[str, Any]] = [
    p("gss/xep-example", "XEP-0233 §6 example, GSS-API form", HOST, "valid",
      ["XepExample", "DefaultRealm"], gss_name(HOST), "PRINCIPAL_OK"),
    p("gss/explicit-realm", "a configured realm wins over the domain", HOST, "valid",
      ["ExplicitRealm"], gss_name(HOST, realm="CORP.EXAMPLE.NET"), "PRINCIPAL_OK",
      realm="CORP.EXAMPLE.NET"),
    p("gss/explicit-realm-lower-case", "a configured realm is used verbatim, even in lower case",
      HOST, "valid", ["ExplicitRealm"], gss_name(HOST, realm="example.com"), "PRINCIPAL_OK",
      realm="example.com"),
    p("gss/hostname-is-domain", "a single server named like its service", "example.com",
      "valid", ["DefaultRealm"], gss_name("example.com"), "PRINCIPAL_OK"),
    p("gss/subdomain-service", "service chat.example.org served by xmpp1.chat.example.org",
      "xmpp1.chat.example.org", "valid", ["DefaultRealm"],
      gss_name("xmpp1.chat.example.org", "chat.example.org"), "PRINCIPAL_OK",
      domain="chat.example.org"),
    p("gss/port-ignored", "a port has no place in the GSS-API name", HOST, "valid",
      ["PortIgnored", "DefaultRealm"], gss_name(HOST), "PRINCIPAL_OK", port=5223),
    p("gss/no-hostname", "no <hostname/>: no domain-based name", None, "invalid",
      ["NoHostname"], None, "PRINCIPAL_NO_HOSTNAME"),
    p("gss/realm-empty", "empty realm", HOST, "invalid", ["BadRealm"], None,
      "PRINCIPAL_BAD_REALM", realm=""),
    p("gss/realm-at", "'@' inside the realm", HOST, "invalid", ["BadRealm"], None,
      "PRINCIPAL_BAD_REALM", realm="EXAMPLE@COM"),
    p("gss/realm-slash", "'/' inside the realm (X.500 style)", HOST, "invalid", ["BadRealm"],
      None, "PRINCIPAL_BAD_REALM", realm="/C=US/O=EXAMPLE"),
    p("gss/realm-backslash", "'\\' inside the realm", HOST, "invalid", ["BadRealm"], None,
      "PRINCIPAL_BAD_REALM", realm="EXAMPLE\\COM"),
    p("gss/realm-space", "space inside the realm", HOST, "invalid", ["BadRealm"], None,
      "PRINCIPAL_BAD_REALM", realm="EXAMPLE COM"),
    p("gss/digits-and-hyphens", "digits and inner hyphens", "node-01.dc2.example.com", "valid",
      ["DigitLabel"], gss_name("node-01.dc2.example.com"), "PRINCIPAL_OK"),
    p("gss/all-digit-label", "an all-digit label that is not the last", "123.example.com",
      "valid", ["DigitLabel"], gss_name("123.example.com"), "PRINCIPAL_OK"),
    p("gss/one-letter-labels", "one-letter labels", "a.b.c", "valid", [],
      gss_name("a.b.c"), "PRINCIPAL_OK"),
    p("gss/label-63", "a label of exactly 63 octets", f"{L63}.example.com", "valid",
      ["LengthLimit"], gss_name(f"{L63}.example.com"), "PRINCIPAL_OK"),
    p("gss/label-64", "a label of 64 octets", f"{L63}a.example.com", "invalid",
      ["LabelTooLong"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/name-253", "a name of exactly 253 octets", N253, "valid", ["LengthLimit"],
      gss_name(N253), "PRINCIPAL_OK"),
    p("gss/name-254", "a name of 254 octets", N254, "invalid", ["TooLong"], None,
      "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/name-253-trailing-dot", "253 octets plus the trailing dot of the absolute form",
      N253 + ".", "acceptable", ["TrailingDot", "LengthLimit"], gss_name(N253), "PRINCIPAL_OK"),
    p("gss/trailing-dot", "absolute name", HOST + ".", "acceptable", ["TrailingDot"],
      gss_name(HOST), "PRINCIPAL_OK"),
    p("gss/two-trailing-dots", "two trailing dots leave an empty label", HOST + "..", "invalid",
      ["TrailingDot", "EmptyLabel"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/leading-dot", "leading dot", "." + HOST, "invalid", ["EmptyLabel"], None,
      "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/double-dot", "empty label in the middle", "auth42..example.com", "invalid",
      ["EmptyLabel"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/only-dot", "the root name", ".", "invalid", ["TrailingDot", "EmptyLabel"], None,
      "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/empty", "empty hostname", "", "invalid", ["Empty"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/whitespace-only", "only whitespace", " \t\n", "invalid", ["Empty"], None,
      "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/surrounding-spaces", "spaces around the name", f"  {HOST}  ", "acceptable",
      ["SurroundingWhitespace"], gss_name(HOST), "PRINCIPAL_OK"),
    p("gss/xep-listing-newline", "the XEP-0233 §6 listing as rendered: a line break before "
      "</hostname>", HOST + "\n", "acceptable", ["XepExample", "SurroundingWhitespace"],
      gss_name(HOST), "PRINCIPAL_OK"),
    p("gss/inner-space", "space inside the name", "auth42 .example.com", "invalid",
      ["InvalidCharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/inner-tab", "tab inside the name", "auth42\t.example.com", "invalid",
      ["InvalidCharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/control-character", "BEL control character", "auth42\u0007.example.com", "invalid",
      ["InvalidCharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/underscore", "underscore (SRV-style label)", "_xmpp-client.example.com", "invalid",
      ["InvalidCharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/host-with-port", "host:port given as the hostname", HOST + ":5222", "invalid",
      ["InvalidCharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/upper-case", "mixed case is kept as provided", "Auth42.US.Example.com", "acceptable",
      ["UpperCase"], gss_name("Auth42.US.Example.com"), "PRINCIPAL_OK"),
    p("gss/slash", "'/' would add a principal component", "auth42/admin.example.com",
      "invalid", ["KerberosMetacharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/at-sign", "'@' would start the realm", "auth42@EVIL.EXAMPLE", "invalid",
      ["KerberosMetacharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/backslash", "'\\' is the Kerberos escape character", "auth42\\.example.com",
      "invalid", ["KerberosMetacharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/ipv4", "IPv4 address", "192.0.2.10", "invalid", ["IpLiteral"], None,
      "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/ipv4-trailing-dot", "IPv4 address with a trailing dot", "192.0.2.10.", "invalid",
      ["TrailingDot", "IpLiteral"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/ipv6", "IPv6 address", "2001:db8::1", "invalid", ["IpLiteral"], None,
      "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/ipv6-brackets", "bracketed IPv6 literal", "[2001:db8::1]", "invalid", ["IpLiteral"],
      None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/ipv4-mapped-ipv6", "IPv4-mapped IPv6 address", "::ffff:192.0.2.1", "invalid",
      ["IpLiteral"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/numeric-tld", "all-digit top-level label", "host.123", "invalid", ["NumericTld"],
      None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/hyphen-start", "label starts with '-'", "-auth42.example.com", "invalid",
      ["HyphenAtLabelEdge"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/hyphen-end", "label ends with '-'", "auth42-.example.com", "invalid",
      ["HyphenAtLabelEdge"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/a-label", "an A-label is already DNS form", "xn--bcher-kva.example", "valid",
      ["IdnALabel"], gss_name("xn--bcher-kva.example"), "PRINCIPAL_OK"),
    p("gss/u-label", "U-label converted to its A-label", "b\u00fccher.example", "acceptable",
      ["ULabel"], gss_name("xn--bcher-kva.example"), "PRINCIPAL_OK"),
    p("gss/u-label-cjk", "CJK U-label", "\u4f8b\u3048.example", "acceptable", ["ULabel"],
      gss_name("xn--r8jz45g.example"), "PRINCIPAL_OK"),
    p("gss/u-label-upper-case", "IDNA2008 disallows upper case in a U-label", "B\u00fccher.example",
      "invalid", ["InvalidULabel"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/u-label-not-nfc", "decomposed u + combining diaeresis", "bu\u0308cher.example",
      "invalid", ["InvalidULabel"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/u-label-trailing-dot", "repairs combine: U-label and trailing dot",
      "b\u00fccher.example.", "acceptable", ["ULabel", "TrailingDot"],
      gss_name("xn--bcher-kva.example"), "PRINCIPAL_OK"),
    p("gss/a-label-bad-punycode", "Punycode that does not decode", "xn--bcher-kv.example",
      "invalid", ["InvalidALabel"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/a-label-disallowed", "Punycode decoding to a disallowed code point",
      "xn--a.example", "invalid", ["InvalidALabel"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/a-label-upper-case", "an A-label in upper case is kept as provided",
      "XN--BCHER-KVA.example", "acceptable", ["UpperCase", "IdnALabel"],
      gss_name("XN--BCHER-KVA.example"), "PRINCIPAL_OK"),
    p("gss/a-label-prefix-only", "'xn--' alone ends with a hyphen", "xn--.example", "invalid",
      ["HyphenAtLabelEdge"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("gss/single-label", "no dot", "auth42", "acceptable", ["SingleLabel"], gss_name("auth42"),
      "PRINCIPAL_OK"),
    p("gss/localhost", "localhost is a single label", "localhost", "acceptable",
      ["SingleLabel"], gss_name("localhost"), "PRINCIPAL_OK"),
    p("gss/domain-trailing-dot", "domain in absolute form: dot removed, realm from the result",
      HOST, "acceptable", ["DomainInput", "TrailingDot"], gss_name(HOST), "PRINCIPAL_OK",
      domain="example.com."),
    p("gss/domain-upper-case", "domain in upper case is kept as provided", HOST, "acceptable",
      ["DomainInput", "UpperCase"], gss_name(HOST, "EXAMPLE.COM"), "PRINCIPAL_OK",
      domain="EXAMPLE.COM"),
    p("gss/domain-u-label", "internationalized domain: A-label in the name and the realm",
      "xmpp.xn--bcher-kva.example", "acceptable", ["DomainInput", "ULabel"],
      gss_name("xmpp.xn--bcher-kva.example", "xn--bcher-kva.example"), "PRINCIPAL_OK",
      domain="b\u00fccher.example"),
    p("gss/domain-ip", "an IP address as the service name", HOST, "invalid",
      ["DomainInput", "IpLiteral"], None, "PRINCIPAL_BAD_DOMAIN", domain="192.0.2.1"),
    p("gss/domain-empty", "empty domain", HOST, "invalid", ["DomainInput", "Empty"], None,
      "PRINCIPAL_BAD_DOMAIN", domain=""),
    p("gss/domain-slash", "'/' in the domain", HOST, "invalid",
      ["DomainInput", "KerberosMetacharacter"], None, "PRINCIPAL_BAD_DOMAIN",
      domain="example.com/admin"),
    p("gss/domain-and-hostname-repairs", "both inputs repaired", HOST + ".", "acceptable",
      ["DomainInput", "TrailingDot", "SurroundingWhitespace"], gss_name(HOST), "PRINCIPAL_OK",
      domain=" example.com"),
]

SSPI: list[dict[str, Any]] = [
    p("sspi/xep-example", "XEP-0233 §6 example, SSPI form", HOST, "valid",
      ["XepExample", "NoPort"], f"xmpp/{HOST}/{DOMAIN}", "PRINCIPAL_OK"),
    p("sspi/xep-example-port-5222", "XEP-0233 §6 example with its port 5222 given", HOST,
      "valid", ["XepExample", "DefaultPort"], f"xmpp/{HOST}/{DOMAIN}", "PRINCIPAL_OK",
      port=5222),
    p("sspi/port-5223", "a second server on the same host", HOST, "acceptable", ["SspiPort"],
      f"xmpp/{HOST}:5223/{DOMAIN}", "PRINCIPAL_PORT_KEPT", port=5223),
    p("sspi/port-1", "lowest port", HOST, "acceptable", ["SspiPort"], f"xmpp/{HOST}:1/{DOMAIN}",
      "PRINCIPAL_PORT_KEPT", port=1),
    p("sspi/port-65535", "highest port", HOST, "acceptable", ["SspiPort"],
      f"xmpp/{HOST}:65535/{DOMAIN}", "PRINCIPAL_PORT_KEPT", port=65535),
    p("sspi/port-5269", "the server-to-server port is not the default either", HOST,
      "acceptable", ["SspiPort"], f"xmpp/{HOST}:5269/{DOMAIN}", "PRINCIPAL_PORT_KEPT",
      port=5269),
    p("sspi/port-0", "port 0", HOST, "invalid", ["BadPort"], None, "PRINCIPAL_BAD_PORT", port=0),
    p("sspi/port-65536", "port above 65535", HOST, "invalid", ["BadPort"], None,
      "PRINCIPAL_BAD_PORT", port=65536),
    p("sspi/no-hostname", "no <hostname/>: the service name alone", None, "valid",
      ["NoHostnameSpn", "NoPort"], f"xmpp/{DOMAIN}", "PRINCIPAL_OK"),
    p("sspi/no-hostname-port", "no <hostname/>: a port is dropped", None, "valid",
      ["NoHostnameSpn"], f"xmpp/{DOMAIN}", "PRINCIPAL_OK", port=5223),
    p("sspi/realm-ignored", "a realm has no place in the SPN", HOST, "valid",
      ["RealmIgnored", "NoPort"], f"xmpp/{HOST}/{DOMAIN}", "PRINCIPAL_OK",
      realm="EXAMPLE.COM"),
    p("sspi/bad-realm-ignored", "an unusable realm does not matter for the SPN", HOST, "valid",
      ["RealmIgnored", "NoPort"], f"xmpp/{HOST}/{DOMAIN}", "PRINCIPAL_OK", realm="A@B"),
    p("sspi/trailing-dot", "absolute host name", HOST + ".", "acceptable", ["TrailingDot"],
      f"xmpp/{HOST}/{DOMAIN}", "PRINCIPAL_OK"),
    p("sspi/trailing-dot-port", "repairs and the port together", HOST + ".", "acceptable",
      ["TrailingDot", "SspiPort"], f"xmpp/{HOST}:5223/{DOMAIN}", "PRINCIPAL_PORT_KEPT",
      port=5223),
    p("sspi/upper-case", "mixed case kept", "AUTH42.us.example.com", "acceptable", ["UpperCase"],
      f"xmpp/AUTH42.us.example.com/{DOMAIN}", "PRINCIPAL_OK"),
    p("sspi/u-label", "U-label converted", "b\u00fccher.example", "acceptable", ["ULabel"],
      f"xmpp/xn--bcher-kva.example/{DOMAIN}", "PRINCIPAL_OK"),
    p("sspi/ipv4", "IP literal host", "192.0.2.10", "invalid", ["IpLiteral"], None,
      "PRINCIPAL_BAD_HOSTNAME", port=5223),
    p("sspi/slash", "'/' would split the SPN", "auth42/x.example.com", "invalid",
      ["KerberosMetacharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("sspi/host-with-port", "the port belongs in the port field", HOST + ":5223", "invalid",
      ["InvalidCharacter"], None, "PRINCIPAL_BAD_HOSTNAME"),
    p("sspi/domain-trailing-dot", "absolute service name", HOST, "acceptable",
      ["DomainInput", "TrailingDot"], f"xmpp/{HOST}/{DOMAIN}", "PRINCIPAL_OK",
      domain="example.com."),
    p("sspi/domain-empty", "empty service name", None, "invalid", ["DomainInput", "Empty"],
      None, "PRINCIPAL_BAD_DOMAIN", domain=""),
]

# --------------------------------------------------------------------------- features

STREAM = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
END = "</stream:features>"
MECHS = "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
GSSAPI = "<mechanism>GSSAPI</mechanism><mechanism>DIGEST-MD5</mechanism>"


def hn(text: str, ns: str = "urn:xmpp:domain-based-name:1", attrs: str = "") -> str:
    """A <hostname/> element with TEXT."""
    return f"<hostname xmlns='{ns}'{attrs}>{text}</hostname>"


def feat(inner: str) -> str:
    """<stream:features/> around INNER."""
    return STREAM + inner + END


def mech(inner: str, mechanisms: str = GSSAPI) -> str:
    """A features document whose SASL <mechanisms/> holds MECHANISMS then INNER."""
    return feat(MECHS + mechanisms + inner + "</mechanisms>")


def f(
    ident: str,
    comment: str,
    xml: str,
    result: str,
    flags: list[str],
    hostname: str | None,
    status: str,
    gssapi: bool | None = True,
) -> dict[str, Any]:
    """One features vector."""
    expected: dict[str, Any] = {"hostname": hostname, "status": status}
    if gssapi is not None:
        expected["gssapiOffered"] = gssapi
    return {
        "id": ident,
        "comment": comment,
        "xml": xml,
        "result": result,
        "flags": flags,
        "expected": expected,
    }


XEP_LISTING = (
    STREAM + "\n"
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
    "  <mechanism>GSSAPI</mechanism>\n"
    "  <mechanism>DIGEST-MD5</mechanism>\n"
    "  <hostname xmlns='urn:xmpp:domain-based-name:1'>auth42.us.example.com\n"
    "  </hostname>\n"
    "</mechanisms>\n" + END
)
STREAM_HEADER = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' "
    "version='1.0' xml:lang='en'>"
)

FEATS: list[dict[str, Any]] = [
    f("placement/xep-example", "XEP-0233 §6 Listing 1 inside <stream:features/>",
      mech(hn(HOST)), "valid", ["XepExample"], HOST, "HOSTNAME_OK"),
    f("placement/xep-listing-as-rendered", "XEP-0233 §6 Listing 1 with its line breaks, "
      "including the one before </hostname>", XEP_LISTING, "acceptable",
      ["XepExample", "SurroundingWhitespace"], HOST, "HOSTNAME_WHITESPACE"),
    f("placement/stream-open", "features after a stream header, stream left open",
      STREAM_HEADER + mech(hn(HOST)), "valid", ["StreamOpen"], HOST, "HOSTNAME_OK"),
    f("placement/stream-closed", "features inside a complete stream document",
      STREAM_HEADER + mech(hn(HOST)) + "</stream:stream>", "valid", ["StreamOpen"], HOST,
      "HOSTNAME_OK"),
    f("placement/other-features", "starttls before and bind after the mechanisms",
      feat("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + MECHS + GSSAPI + hn(HOST)
           + "</mechanisms><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"),
      "valid", ["OtherFeatures"], HOST, "HOSTNAME_OK"),
    f("placement/prefixed-namespaces", "prefixed SASL and XEP-0233 elements",
      feat("<sasl:mechanisms xmlns:sasl='urn:ietf:params:xml:ns:xmpp-sasl'>"
           "<sasl:mechanism>GSSAPI</sasl:mechanism>"
           f"<d:hostname xmlns:d='urn:xmpp:domain-based-name:1'>{HOST}</d:hostname>"
           "</sasl:mechanisms>"),
      "valid", ["NamespacePrefix"], HOST, "HOSTNAME_OK"),
    f("placement/default-namespace-stream", "stream:features declared through a default "
      "namespace", "<features xmlns='http://etherx.jabber.org/streams'>" + MECHS + GSSAPI
      + hn(HOST) + "</mechanisms></features>", "valid", ["NamespacePrefix"], HOST,
      "HOSTNAME_OK"),
    f("placement/gssapi-not-offered", "hostname present, only PLAIN offered",
      mech(hn(HOST), "<mechanism>PLAIN</mechanism>"), "valid", ["GssapiNotOffered"], HOST,
      "HOSTNAME_OK", gssapi=False),
    f("placement/absent", "GSSAPI offered, no <hostname/>", mech(""), "invalid", ["Absent"],
      None, "HOSTNAME_ABSENT"),
    f("placement/absent-no-gssapi", "no GSSAPI, no <hostname/>",
      mech("", "<mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism>"), "invalid",
      ["Absent"], None, "HOSTNAME_ABSENT", gssapi=False),
    f("placement/no-mechanisms", "features without SASL", feat(
      "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"), "invalid", ["Absent"], None,
      "HOSTNAME_ABSENT", gssapi=False),
    f("placement/features-child", "direct child of <stream:features/>",
      feat(MECHS + GSSAPI + "</mechanisms>" + hn(HOST)), "acceptable", ["MisplacedInFeatures"],
      HOST, "HOSTNAME_MISPLACED"),
    f("placement/features-child-and-correct", "a correctly placed one wins over a misplaced one",
      feat(hn("other.example.com") + MECHS + GSSAPI + hn(HOST) + "</mechanisms>"), "valid", [],
      HOST, "HOSTNAME_OK"),
    f("placement/inside-mechanism", "nested inside <mechanism/>",
      mech("", f"<mechanism>GSSAPI{hn(HOST)}</mechanism>"), "invalid", ["MisplacedDeep"], None,
      "HOSTNAME_MISPLACED_DEEP"),
    f("placement/inside-other-feature", "nested inside <starttls/>",
      feat(f"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>{hn(HOST)}</starttls>" + MECHS
           + GSSAPI + "</mechanisms>"), "invalid", ["MisplacedDeep"], None,
      "HOSTNAME_MISPLACED_DEEP"),
    f("placement/sasl2", "inside XEP-0388 <authentication/>",
      feat("<authentication xmlns='urn:xmpp:sasl:2'><mechanism>GSSAPI</mechanism>" + hn(HOST)
           + "</authentication>"), "invalid", ["MisplacedDeep", "Sasl2"], None,
      "HOSTNAME_MISPLACED_DEEP", gssapi=False),
    f("placement/outside-features", "in the stream header before the features",
      STREAM_HEADER + hn(HOST) + mech(""), "invalid", ["Absent", "OutsideFeatures"], None,
      "HOSTNAME_ABSENT"),
    f("placement/before-mechanism", "<hostname/> before the <mechanism/> elements",
      mech("", hn(HOST) + GSSAPI), "acceptable", ["BeforeMechanism"], HOST,
      "HOSTNAME_BEFORE_MECHANISM"),
    f("namespace/legacy-v0", "0.2-0.3 namespace", mech(hn(HOST, "urn:xmpp:domain-based-name:0")),
      "invalid", ["LegacyNamespace"], None, "HOSTNAME_LEGACY_NS"),
    f("namespace/legacy-tmp", "0.1 namespace with its mechanism attribute",
      mech(hn(HOST, "urn:xmpp:tmp:domain-based-name", " mechanism='GSSAPI'")), "invalid",
      ["LegacyNamespace"], None, "HOSTNAME_LEGACY_NS"),
    f("namespace/legacy-and-current", "a current element next to a 0.2 one",
      mech(hn("old.example.com", "urn:xmpp:domain-based-name:0") + hn(HOST)), "valid",
      ["LegacyIgnored"], HOST, "HOSTNAME_OK"),
    f("namespace/mechanism-attribute", "current namespace with 0.1's mechanism attribute",
      mech(hn(HOST, attrs=" mechanism='GSSAPI'")), "acceptable", ["ExtraAttribute"], HOST,
      "HOSTNAME_EXTRA_ATTR"),
    f("namespace/xml-lang-attribute", "xml:lang on <hostname/>",
      mech(hn(HOST, attrs=" xml:lang='en'")), "acceptable", ["ExtraAttribute"], HOST,
      "HOSTNAME_EXTRA_ATTR"),
    f("namespace/inherited-sasl", "no xmlns: the element is in the SASL namespace",
      mech(f"<hostname>{HOST}</hostname>"), "invalid", ["WrongNamespace"], None,
      "HOSTNAME_WRONG_NS"),
    f("namespace/empty", "xmlns='': no namespace", mech(hn(HOST, "")), "invalid",
      ["WrongNamespace"], None, "HOSTNAME_WRONG_NS"),
    f("namespace/future-version", "an unknown version :2", mech(
      hn(HOST, "urn:xmpp:domain-based-name:2")), "invalid", ["WrongNamespace"], None,
      "HOSTNAME_WRONG_NS"),
    f("repeat/same", "the same name twice", mech(hn(HOST) + hn(HOST)), "acceptable",
      ["RepeatedSame"], HOST, "HOSTNAME_REPEATED_SAME"),
    f("repeat/same-after-repair", "the same host, once with a trailing dot",
      mech(hn(HOST) + hn(HOST + ".")), "acceptable", ["RepeatedSame", "TrailingDot"], HOST,
      "HOSTNAME_REPEATED_SAME"),
    f("repeat/different", "two different names", mech(hn(HOST) + hn("auth43.us.example.com")),
      "invalid", ["RepeatedDifferent"], None, "HOSTNAME_REPEATED"),
    f("repeat/one-empty", "a name and an empty element", mech(hn(HOST) + hn("")), "invalid",
      ["RepeatedDifferent"], None, "HOSTNAME_REPEATED"),
    f("repeat/two-misplaced-same", "twice as a direct child of the features, same name",
      feat(MECHS + GSSAPI + "</mechanisms>" + hn(HOST) + hn(HOST)), "acceptable",
      ["MisplacedInFeatures", "RepeatedSame"], HOST, "HOSTNAME_MISPLACED"),
    f("text/empty-element", "<hostname/> with no content",
      mech("<hostname xmlns='urn:xmpp:domain-based-name:1'/>"), "invalid", ["Empty"], None,
      "HOSTNAME_EMPTY"),
    f("text/whitespace-only", "only whitespace", mech(hn(" \n\t ")), "invalid", ["Empty"], None,
      "HOSTNAME_EMPTY"),
    f("text/trailing-dot", "absolute name", mech(hn(HOST + ".")), "acceptable", ["TrailingDot"],
      HOST, "HOSTNAME_TRAILING_DOT"),
    f("text/upper-case", "upper case kept as provided", mech(hn("AUTH42.us.example.com")),
      "acceptable", ["UpperCase"], "AUTH42.us.example.com", "HOSTNAME_UPPER_CASE"),
    f("text/single-label", "not fully qualified", mech(hn("auth42")), "acceptable",
      ["SingleLabel"], "auth42", "HOSTNAME_SINGLE_LABEL"),
    f("text/ipv4", "IPv4 address", mech(hn("192.0.2.10")), "invalid", ["IpLiteral"], None,
      "HOSTNAME_IP_LITERAL"),
    f("text/ipv6", "IPv6 address", mech(hn("2001:db8::5222")), "invalid", ["IpLiteral"], None,
      "HOSTNAME_IP_LITERAL"),
    f("text/u-label-utf8", "U-label as UTF-8 text", mech(hn("xmpp.b\u00fccher.example")),
      "acceptable", ["ULabel"], "xmpp.xn--bcher-kva.example", "HOSTNAME_U_LABEL"),
    f("text/u-label-char-ref", "U-label written with a character reference",
      mech(hn("xmpp.b&#xFC;cher.example")), "acceptable", ["ULabel", "CharacterReference"],
      "xmpp.xn--bcher-kva.example", "HOSTNAME_U_LABEL"),
    f("text/a-label", "A-label", mech(hn("xmpp.xn--bcher-kva.example")), "valid", ["IdnALabel"],
      "xmpp.xn--bcher-kva.example", "HOSTNAME_OK"),
    f("text/a-label-invalid", "Punycode that does not decode",
      mech(hn("xmpp.xn--bcher-kv.example")), "invalid", ["InvalidALabel"], None,
      "HOSTNAME_BAD_A_LABEL"),
    f("text/slash-char-ref", "'/' from a character reference",
      mech(hn("auth42&#x2F;admin.example.com")), "invalid",
      ["KerberosMetacharacter", "CharacterReference"], None, "HOSTNAME_KRB5_META"),
    f("text/at-sign", "'@' in the name", mech(hn("xmpp@auth42.example.com")), "invalid",
      ["KerberosMetacharacter"], None, "HOSTNAME_KRB5_META"),
    f("text/backslash", "'\\' in the name", mech(hn("auth42\\x.example.com")), "invalid",
      ["KerberosMetacharacter"], None, "HOSTNAME_KRB5_META"),
    f("text/ampersand", "'&' from &amp;", mech(hn("a&amp;b.example.com")), "invalid",
      ["InvalidCharacter"], None, "HOSTNAME_INVALID_CHAR"),
    f("text/cdata", "the name in a CDATA section", mech(hn(f"<![CDATA[{HOST}]]>")), "valid",
      ["CData"], HOST, "HOSTNAME_OK"),
    f("text/comment-inside", "a comment splits the text", mech(hn("auth42.us.<!-- c -->example.com")),
      "valid", ["CommentInside"], HOST, "HOSTNAME_OK"),
    f("text/child-element", "markup inside <hostname/>",
      mech(hn("auth42.<b>us</b>.example.com")), "invalid", ["ChildElement"], None,
      "HOSTNAME_CHILD_ELEMENT"),
    f("text/too-long", "a 254-octet name", mech(hn(N254)), "invalid", ["TooLong"], None,
      "HOSTNAME_TOO_LONG"),
    f("text/label-too-long", "a 64-octet label", mech(hn(f"{L63}a.example.com")), "invalid",
      ["LabelTooLong"], None, "HOSTNAME_LABEL_TOO_LONG"),
    f("text/whitespace-and-misplaced", "placement finding reported first, text finding kept",
      feat(MECHS + GSSAPI + "</mechanisms>" + hn(f" {HOST} ")), "acceptable",
      ["MisplacedInFeatures", "SurroundingWhitespace"], HOST, "HOSTNAME_MISPLACED"),
    f("xml/unclosed", "document ends inside the mechanisms", STREAM + MECHS + GSSAPI, "invalid",
      ["MalformedXml"], None, "FEATURES_MALFORMED", gssapi=None),
    f("xml/mismatched-tag", "end tag does not match", mech(
      "<hostname xmlns='urn:xmpp:domain-based-name:1'>x.example</host>"), "invalid",
      ["MalformedXml"], None, "FEATURES_MALFORMED", gssapi=None),
    f("xml/unbound-prefix", "stream: prefix not declared",
      "<stream:features>" + MECHS + GSSAPI + hn(HOST) + "</mechanisms></stream:features>",
      "invalid", ["MalformedXml"], None, "FEATURES_MALFORMED", gssapi=None),
    f("xml/empty-document", "no XML at all", "", "invalid", ["MalformedXml"], None,
      "FEATURES_MALFORMED", gssapi=None),
    f("xml/trailing-garbage", "text after the root element", mech(hn(HOST)) + "<x/>", "invalid",
      ["MalformedXml"], None, "FEATURES_MALFORMED", gssapi=None),
    f("xml/doctype", "a DTD declaring an entity", "<!DOCTYPE f [<!ENTITY h 'evil.example'>]>"
      + mech(hn("&h;")), "invalid", ["MalformedXml", "ForbiddenXml"], None,
      "FEATURES_MALFORMED", gssapi=None),
    f("xml/processing-instruction", "a processing instruction inside the features",
      feat("<?hostname auth42.us.example.com?>" + MECHS + GSSAPI + hn(HOST) + "</mechanisms>"),
      "invalid", ["MalformedXml", "ForbiddenXml"], None, "FEATURES_MALFORMED", gssapi=None),
    f("xml/not-features", "a stanza instead of features",
      "<message xmlns='jabber:client'><body>hi</body></message>", "invalid", ["NotFeatures"],
      None, "FEATURES_NOT_FEATURES", gssapi=None),
    f("xml/features-wrong-namespace", "<features/> in jabber:client",
      "<features xmlns='jabber:client'>" + MECHS + GSSAPI + hn(HOST) + "</mechanisms></features>",
      "invalid", ["NotFeatures"], None, "FEATURES_NOT_FEATURES", gssapi=None),
    f("xml/stream-without-features", "a stream that closes before any features",
      STREAM_HEADER + "</stream:stream>", "invalid", ["NotFeatures"], None,
      "FEATURES_NOT_FEATURES", gssapi=None),
]

# --------------------------------------------------------------------------- output


def number(tests: list[dict[str, Any]], first: int) -> list[dict[str, Any]]:
    """Give each test its tcId (in declaration order) as the first key."""
    return [{"tcId": first + i, **t} for i, t in enumerate(tests)]


def document(algorithm_header: str, groups: list[tuple[str, str, list[dict[str, Any]]]]) -> dict:
    """The whole file: header, the notes used, the groups."""
    used = sorted({flag for _, _, tests in groups for t in tests for flag in t["flags"]})
    unknown = [flag for flag in used if flag not in NOTES]
    if unknown:
        raise SystemExit(f"flags without a note: {unknown}")
    out_groups, n = [], 1
    for gtype, description, tests in groups:
        out_groups.append({"type": gtype, "description": description,
                           "tests": number(tests, n)})
        n += len(tests)
    ids = [t["id"] for _, _, tests in groups for t in tests]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate vector ids")
    return {
        "algorithm": "XEP-0233",
        "schema": SCHEMA,
        "numberOfTests": n - 1,
        "header": [algorithm_header, "Generated by vectors/gen-xep0233.py: edit that, not this "
                   "file. Policies: docs/xep0233.md; schema: vectors/README.md."],
        "notes": {flag: NOTES[flag] for flag in used},
        "testGroups": out_groups,
    }


def outputs() -> dict[Path, str]:
    """Both files' contents."""
    return {
        PRINCIPALS: vectorgen.render(document(
            "XEP-0233 1.0.0 §3/§4 principal construction: GSS-API "
            "'xmpp/<hostname>/<domain>@<REALM>' (RFC 5179 order) and SSPI "
            "'xmpp/<host>[:<port>]/<domain>'.",
            [("gss", "GSS-API domain-based service name (XEP-0233 §3)", GSS),
             ("sspi", "Windows SSPI service principal name (XEP-0233 §4)", SSPI)])),
        FEATURES: vectorgen.render(document(
            "XEP-0233 1.0.0 §2 <hostname/> extraction from <stream:features/> (RFC 6120 "
            "§4.3.2, §6.3.5, A.4).",
            [("features", "the usable <hostname/> of a stream features document", FEATS)])),
    }


def main(argv: list[str]) -> int:
    """Write both files, or with --check report whether they are current."""
    return vectorgen.main(argv, outputs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
