#!/usr/bin/env python3
"""xmppfront: a thin XMPP front for SASL programs, so that SASL libraries can be candidates.

It plays `xmpp-server` or `xmpp-client` of the XMPP shim contract (docs/candidates.md): stream
header, STARTTLS, the SASL elements, <success/>, the stream restart and resource binding. The
SASL exchange itself is done by an external program that speaks the line protocol of the GNU
SASL command line tool (`gsasl --client|--server`): the front carries every payload, base64,
one per line, between the XMPP elements and the program's stdin/stdout, and never looks inside
a payload. The library decides; the front only frames.

    xmppfront.py xmpp-server --sasl-program CMD --bind 127.0.0.1:PORT --domain D --hostname H [...]
    xmppfront.py xmpp-client --sasl-program CMD --connect 127.0.0.1:PORT --domain D --jid J [...]

CMD is the SASL program with its arguments, one string split like a shell command line (so
that a case's arguments, which the runner appends to the command, stay the front's). It gets
`--hostname=HOST` appended (the host part of the GSS-API host-based service name
the library builds, see --sasl-host) and, for a client with --authzid, `--authorization-id=J`.

The line protocol (as `gsasl` 2.2 speaks it; candidates/cyrus/cyrus-shim speaks the same):
  - first stdout line: the mechanism name;
  - then one base64 stdout line per output of the library (empty line: empty output), and one
    stdin line per input;
  - a server program asks for authorization with the stdout lines "Authzid: A" ("(null)" when
    none came) and "Display Name: N" followed by the prompt "Validate GSS-API user? (y/n) "
    without a newline; the front answers "y" or "n". The line after the prompt is the library's
    last output (the data of <success/>), which is how the front knows the exchange completed;
  - after its last output the program reads one more line (the data that came with the
    outcome) and exits: 0 when the library accepted the exchange, non-zero otherwise.

Authorization (server; the front is the XMPP server application here): the authenticated
identity N maps to the JID localpart@D (localpart = N up to its first '@'); the requested
authorization identity A is granted when absent, equal to N, or equal to that bare JID;
otherwise the front answers "n" and sends <invalid-authzid/>.

XMPP framing is the front's own work and is checked by it: base64 of the elements
(<incorrect-encoding/>), the mechanism name (<invalid-mechanism/>), SASL before TLS
(<encryption-required/>), <abort/> (<aborted/>). Catalogue cases about those judge the front,
not the library (docs/candidates-bundled.md). Python standard library only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import secrets
import shlex
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, NoReturn
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
# The shim contract's exit statuses (64 a usage error, 69 an option recognised but not
# honoured), its event lines and the stderr lines, as every Python shim has them.
from xmppshim import EXIT_FAIL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, STOP_SIGNALS  # noqa: E402
from xmppshim import EXIT_CANNOT as EXIT_UNAVAILABLE  # noqa: E402
from xmppshim import emit, set_name  # noqa: E402
from xmppshim import say as note  # noqa: E402

set_name("xmppfront")

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_HOSTNAME = "urn:xmpp:domain-based-name:1"
MECHANISM = "GSSAPI"
SERVICE = "xmpp"
RESOURCE = "xmppfront"
VALIDATE_PROMPT = b"Validate GSS-API user? (y/n) "
READ_CHUNK = 65536
MAX_STANZA = 1 << 20  # octets of one top-level element (bounded buffering)
PROGRAM_EXIT_S = 5.0  # bound on the SASL program exiting after its last line

_programs_lock = threading.Lock()
_programs: set["SaslProgram"] = set()  # running SASL programs, killed when a server stops


class FrontError(Exception):
    """The exchange cannot go on: a one-line reason, and the exit status it means."""

    def __init__(self, reason: str, status: int = EXIT_FAIL) -> None:
        super().__init__(reason)
        self.status = status


class StreamClosed(FrontError):
    """The peer closed the stream (</stream:stream>) or the connection."""


def b64_out(data: bytes) -> str:
    """Element text for DATA: base64, empty for no data."""
    return base64.b64encode(data).decode("ascii")


def b64_in(text: str | None, where: str) -> bytes:
    """The octets of an element's base64 TEXT ("=" and no text: none); FrontError when it is not
    base64 (RFC 4648, no whitespace)."""
    text = (text or "").strip()
    if text in ("", "="):
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FrontError(f"{where}: not base64: {text[:40]!r}") from None


# ------------------------------------------------------------------ the XML stream


def _markup_allowed(head: bytes) -> bool:
    """Whether "<!" markup starting with HEAD (up to 9 octets) may be fed to the parser: a
    CDATA section or a comment, or too short yet to tell."""
    cdata, comment = b"<![CDATA[", b"<!--"
    return cdata.startswith(head) or comment.startswith(head) or head.startswith(comment)


class XmlStream:
    """One XMPP stream over a socket (plain or TLS): a pull parser fed from the socket, with a
    guard against DTDs (RFC 6120 forbids them; refusing them also keeps entities out)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.restart()

    def restart(self) -> None:
        """A new stream on the same connection (after STARTTLS and after SASL success)."""
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.root: ET.Element | None = None
        self.carry = b""
        self.buffered = 0
        self.pending: list[tuple[str, ET.Element]] = []

    def send(self, text: str) -> None:
        """Send TEXT (UTF-8); FrontError when the connection is gone."""
        try:
            self.sock.sendall(text.encode("utf-8"))
        except OSError as err:
            raise StreamClosed(f"send failed: {err}") from None

    def _feed(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FrontError("timeout waiting for the peer")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(READ_CHUNK)
        except (socket.timeout, TimeoutError):
            raise FrontError("timeout waiting for the peer") from None
        except OSError as err:
            raise StreamClosed(f"receive failed: {err}") from None
        if not chunk:
            raise StreamClosed("the peer closed the connection")
        window = self.carry + chunk
        at = window.find(b"<!")
        while at >= 0:
            if not _markup_allowed(window[at:at + 9]):
                raise FrontError("the peer sent a document type declaration (refused: RFC 6120 "
                                 "restricted XML)")
            at = window.find(b"<!", at + 2)
        self.carry = window[-8:]  # a "<!" cut at the chunk's end is checked with the next one
        self.buffered += len(chunk)
        if self.buffered > MAX_STANZA:
            raise FrontError(f"more than {MAX_STANZA} octets without a complete element")
        try:
            self.parser.feed(chunk)
            self.pending.extend(self.parser.read_events())
        except ET.ParseError as err:
            raise FrontError(f"the peer sent XML that is not well-formed: {err}") from None

    def _next_event(self) -> tuple[str, ET.Element]:
        while not self.pending:
            self._feed()
        return self.pending.pop(0)

    def read_header(self) -> ET.Element:
        """Read until the <stream:stream> start tag; return it (attributes only)."""
        while self.root is None:
            kind, elem = self._next_event()
            if kind == "start":
                if elem.tag != f"{{{NS_STREAM}}}stream":
                    raise FrontError(f"expected a stream header, got <{elem.tag}>")
                self.root = elem
                self.depth = 1
        return self.root

    def read_element(self) -> ET.Element:
        """The next complete top-level element of the stream; StreamClosed at its end."""
        self.read_header()
        while True:
            kind, elem = self._next_event()
            if kind == "start":
                self.depth += 1
                continue
            self.depth -= 1
            if self.depth == 0:
                raise StreamClosed("the peer closed the stream")
            if self.depth == 1:
                assert self.root is not None
                self.root.remove(elem)
                self.buffered = 0
                return elem


def local(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag."""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def sasl_element(name: str, text: str = "", child: str | None = None) -> str:
    """A SASL element (challenge, response, success, failure with a condition child...)."""
    inner = f"<{child}/>" if child else escape(text)
    if not inner:
        return f"<{name} xmlns='{NS_SASL}'/>"
    return f"<{name} xmlns='{NS_SASL}'>{inner}</{name}>"


# ------------------------------------------------------------------ the SASL program


class SaslProgram:
    """The external SASL program: its stdout read line by line against a deadline, its stderr
    copied to ours (the last line kept as the library's reason)."""

    def __init__(self, argv: list[str], deadline: float, tag: str) -> None:
        self.deadline = deadline
        self.tag = tag
        self.buffer = b""
        self.last_error = ""
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
        except OSError as err:
            raise FrontError(f"cannot start the SASL program {argv[0]}: {err}",
                             EXIT_INVALID) from None
        note(f"{tag}: started {' '.join(argv)} (pid {self.proc.pid})")
        with _programs_lock:
            _programs.add(self)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.stderr_thread = threading.Thread(target=self._copy_stderr, daemon=True)
        self.stderr_thread.start()

    def _copy_stderr(self) -> None:
        for raw in self.proc.stderr:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                self.last_error = text.strip()
            note(f"{self.tag}: program stderr: {text}")

    def reason(self) -> str:
        """The program's last non-empty stderr line, for failure reasons."""
        self.stderr_thread.join(timeout=0.5)
        return self.last_error or "no reason on stderr"

    def _fill(self) -> bool:
        """Read more stdout; False at EOF."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout.fileno(), selectors.EVENT_READ)
            left = self.deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise FrontError(f"timeout waiting for the SASL program ({self.tag})")
        chunk = os.read(self.proc.stdout.fileno(), READ_CHUNK)
        if not chunk:
            return False
        self.buffer += chunk
        if len(self.buffer) > MAX_STANZA:
            raise FrontError("the SASL program wrote an overlong line")
        return True

    def read_line(self) -> bytes | None:
        """The next stdout line without its end; None at EOF."""
        while b"\n" not in self.buffer:
            if not self._fill():
                if self.buffer:
                    note(f"{self.tag}: program> (partial, then EOF) {self.buffer!r}")
                    self.buffer = b""
                return None
        line, _, self.buffer = self.buffer.partition(b"\n")
        line = line.rstrip(b"\r")
        note(f"{self.tag}: program> {line.decode('utf-8', 'replace')}")
        return line

    def read_prompt(self, prompt: bytes) -> bool:
        """Consume PROMPT (written without a newline) from stdout; False at EOF first."""
        while len(self.buffer) < len(prompt):
            if not self._fill():
                return False
        if not self.buffer.startswith(prompt):
            raise FrontError(f"the SASL program wrote {self.buffer[:40]!r} where its "
                             f"authorization prompt was expected")
        self.buffer = self.buffer[len(prompt):]
        return True

    def write_line(self, text: str) -> None:
        """One stdin line (a program that already ended is noticed at its next read)."""
        note(f"{self.tag}: program< {text}")
        try:
            self.proc.stdin.write(text.encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def finish(self) -> int:
        """Close stdin and wait for the exit (bounded; killed after that)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout=max(0.1, min(PROGRAM_EXIT_S,
                                                       self.deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            self.kill()
            raise FrontError(f"the SASL program did not exit after its last line ({self.tag})")

    def kill(self) -> None:
        """Stop the program now (if it still runs) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        with _programs_lock:
            _programs.discard(self)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def start_exchange(self) -> None:
        """Check the first line: the mechanism name."""
        line = self.read_line()
        if line is None:
            raise FrontError(f"the SASL program ended before naming its mechanism: "
                             f"{self.reason()}")
        if line.decode("utf-8", "replace") != MECHANISM:
            raise FrontError(f"the SASL program names mechanism {line[:40]!r}, not {MECHANISM}")


# ------------------------------------------------------------------ options


@dataclass
class Options:
    server: bool
    host: str
    port: int
    domain: str
    hostname: str | None
    jid: str | None
    tls: str
    tls_cert: str | None
    tls_key: str | None
    tls_ca: str | None
    authzid: str | None
    principal_form: str
    sasl_host: str
    timeout_ms: int
    program: list[str]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise FrontError(message, EXIT_USAGE)


def parse_options(argv: list[str]) -> Options:
    """The contract's options and --sasl-program; FrontError(64) on bad usage."""
    if not argv or argv[0] not in ("xmpp-server", "xmpp-client"):
        raise FrontError("usage: xmppfront.py xmpp-server|xmpp-client --sasl-program CMD "
                         "[options]", EXIT_USAGE)
    role, rest = argv[0], argv[1:]
    p = _Parser(prog=f"xmppfront.py {role}", add_help=False)
    p.add_argument("--sasl-program", required=True)
    p.add_argument("--bind")
    p.add_argument("--connect")
    p.add_argument("--domain", required=True)
    p.add_argument("--hostname")
    p.add_argument("--jid")
    p.add_argument("--tls", choices=("required", "optional", "off"), default="required")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-ca")
    p.add_argument("--authzid")
    p.add_argument("--principal-form", choices=("xep0233", "hostbased", "domain"),
                   default="xep0233")
    p.add_argument("--sasl-host", choices=("hostname", "domain", "advertised"))
    p.add_argument("--timeout-ms", default="10000")
    a = p.parse_args(rest)
    try:
        program = shlex.split(a.sasl_program)
    except ValueError as err:
        raise FrontError(f"--sasl-program {a.sasl_program!r}: {err}", EXIT_INVALID) from None
    if not program:
        raise FrontError("--sasl-program: empty", EXIT_INVALID)
    server = role == "xmpp-server"
    address = a.bind if server else a.connect
    if address is None:
        raise FrontError(f"{role}: --{'bind' if server else 'connect'} HOST:PORT is required",
                         EXIT_USAGE)
    if (a.connect if server else a.bind) is not None:
        raise FrontError(f"{role}: a server binds (--bind), a client connects (--connect)",
                         EXIT_USAGE)
    host, _, port_text = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 address: [::1]:PORT
    if not host or not port_text.isdigit() or int(port_text) > 65535:
        raise FrontError(f"--{'bind' if server else 'connect'} {address!r}: expected HOST:PORT",
                         EXIT_INVALID)
    if not a.timeout_ms.isdigit() or int(a.timeout_ms) < 1:
        raise FrontError(f"--timeout-ms {a.timeout_ms!r}: expected a number >= 1", EXIT_INVALID)
    if server:
        for name in ("jid", "authzid", "tls_ca"):
            if getattr(a, name) is not None:
                raise FrontError(f"xmpp-server: --{name.replace('_', '-')} is a client option",
                                 EXIT_USAGE)
        if a.hostname is None:
            raise FrontError("xmpp-server: --hostname H is required", EXIT_USAGE)
        if a.tls != "off" and (a.tls_cert is None or a.tls_key is None):
            raise FrontError("xmpp-server: --tls-cert and --tls-key are required unless --tls off",
                             EXIT_USAGE)
        if a.sasl_host == "advertised":
            raise FrontError("xmpp-server: --sasl-host advertised is a client choice", EXIT_USAGE)
    else:
        for name in ("hostname", "tls_cert", "tls_key"):
            if getattr(a, name) is not None:
                raise FrontError(f"xmpp-client: --{name.replace('_', '-')} is a server option",
                                 EXIT_USAGE)
        if a.jid is None:
            raise FrontError("xmpp-client: --jid J is required", EXIT_USAGE)
        if a.principal_form == "domain":
            raise FrontError("--principal-form domain: the SASL library builds only a host-based "
                             "service name (service@host), never xmpp/<hostname>/<domain>",
                             EXIT_UNAVAILABLE)
        if a.sasl_host == "hostname":
            raise FrontError("xmpp-client: --sasl-host is domain or advertised", EXIT_USAGE)
        if a.tls != "off" and a.tls_ca is None:
            raise FrontError("xmpp-client: --tls-ca is required unless --tls off", EXIT_USAGE)
    return Options(server=server, host=host, port=int(port_text), domain=a.domain,
                   hostname=a.hostname, jid=a.jid, tls=a.tls, tls_cert=a.tls_cert,
                   tls_key=a.tls_key, tls_ca=a.tls_ca, authzid=a.authzid,
                   principal_form=a.principal_form,
                   sasl_host=a.sasl_host or ("hostname" if server else "domain"),
                   timeout_ms=int(a.timeout_ms), program=program)


# ------------------------------------------------------------------ server


def stream_header(attrs: str) -> str:
    return (f"<?xml version='1.0'?><stream:stream xmlns='{NS_CLIENT}' "
            f"xmlns:stream='{NS_STREAM}' version='1.0' {attrs}>")


class ServerConnection:
    """One client connection of the server role."""

    def __init__(self, opts: Options, sock: socket.socket, number: int, deadline: float,
                 tls_context: ssl.SSLContext | None) -> None:
        self.opts = opts
        self.sock = sock
        self.tag = f"connection {number}"
        self.deadline = deadline
        self.tls_context = tls_context
        self.stream = XmlStream(sock, deadline)
        self.secure = False
        self.jid: str | None = None  # bare JID after SASL success

    def send_header_and_features(self) -> None:
        self.stream.read_header()
        self.stream.send(stream_header(f"from={quoteattr(self.opts.domain)} "
                                       f"id='{secrets.token_hex(8)}' xml:lang='en'"))
        features = []
        if self.jid is not None:
            features.append(f"<bind xmlns='{NS_BIND}'/>")
        else:
            if not self.secure and self.opts.tls != "off":
                required = "<required/>" if self.opts.tls == "required" else ""
                features.append(f"<starttls xmlns='{NS_TLS}'>{required}</starttls>")
            if self.secure or self.opts.tls != "required":
                # <hostname/> only where an attacker cannot have altered it: on the TLS
                # stream, or with --tls off, where no other stream will come
                hostname = ""
                if self.secure or self.opts.tls == "off":
                    hostname = (f"<hostname xmlns='{NS_HOSTNAME}'>"
                                f"{escape(self.opts.hostname or '')}</hostname>")
                features.append(
                    f"<mechanisms xmlns='{NS_SASL}'><mechanism>{MECHANISM}</mechanism>"
                    f"{hostname}</mechanisms>")
        self.stream.send(f"<stream:features>{''.join(features)}</stream:features>")

    def run(self) -> None:
        self.send_header_and_features()
        while True:
            elem = self.stream.read_element()
            ns, name = local(elem.tag)
            if ns == NS_TLS and name == "starttls" and not self.secure and self.opts.tls != "off":
                self.stream.send(f"<proceed xmlns='{NS_TLS}'/>")
                self.start_tls()
            elif ns == NS_SASL and name == "auth" and self.jid is None:
                if not self.secure and self.opts.tls == "required":
                    self.stream.send(sasl_element("failure", child="encryption-required"))
                    emit("login", outcome="failure", condition="encryption-required",
                         reason="<auth/> before TLS")
                    continue
                if self.sasl_exchange(elem):
                    self.stream.restart()
                    self.send_header_and_features()
            elif ns == NS_CLIENT and name == "iq" and self.jid is not None:
                self.bind(elem)
            else:
                note(f"{self.tag}: unexpected <{name} xmlns='{ns}'>; closing the stream")
                self.stream.send("<stream:error><unsupported-stanza-type "
                                 "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                                 "</stream:stream>")
                return

    def start_tls(self) -> None:
        assert self.tls_context is not None
        self.sock.settimeout(max(0.01, self.deadline - time.monotonic()))
        try:
            self.sock = self.tls_context.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as err:
            raise FrontError(f"TLS handshake failed: {err}") from None
        self.secure = True
        emit("tls", version=self.sock.version())
        self.stream = XmlStream(self.sock, self.deadline)
        self.send_header_and_features()

    def sasl_exchange(self, auth: ET.Element) -> bool:
        """One SASL exchange from its <auth/>; True after <success/> was sent."""
        mechanism = auth.get("mechanism", "")
        if mechanism != MECHANISM:
            self.stream.send(sasl_element("failure", child="invalid-mechanism"))
            emit("login", outcome="failure", condition="invalid-mechanism",
                 reason=f"mechanism {mechanism!r} is not offered")
            return False
        try:
            initial = None if not (auth.text or "").strip() else b64_in(auth.text, "<auth/>")
        except FrontError as err:
            return self.fail("incorrect-encoding", str(err))
        argv = self.opts.program + [
            f"--hostname={self.opts.domain if self.opts.sasl_host == 'domain' else self.opts.hostname}"]
        program = SaslProgram(argv, self.deadline, self.tag)
        try:
            return self._exchange(program, initial)
        finally:
            program.kill()

    def fail(self, condition: str, reason: str) -> bool:
        self.stream.send(sasl_element("failure", child=condition))
        emit("login", outcome="failure", condition=condition, reason=reason)
        return False

    def _exchange(self, program: SaslProgram, initial: bytes | None) -> bool:
        try:
            program.start_exchange()
        except FrontError as err:
            return self.fail("temporary-auth-failure", str(err))
        first = program.read_line()
        if first is None:
            return self.fail("temporary-auth-failure",
                             f"the SASL library could not start: {program.reason()}")
        if initial is None:
            to_program = self._challenge(first)
            if to_program is None:
                return False
        elif first:
            return self.fail("temporary-auth-failure",
                             "the SASL program wants to send first but the client sent an "
                             "initial response")
        else:
            to_program = b64_out(initial)
        while True:
            program.write_line(to_program)
            line = program.read_line()
            if line is None:
                return self.fail("not-authorized", f"the SASL library refused: "
                                 f"{program.reason()}")
            if line.startswith(b"Authzid: "):
                return self._authorize(program, line)
            to_program = self._challenge(line)
            if to_program is None:
                return False

    def _challenge(self, payload: bytes) -> str | None:
        """Send PAYLOAD (a base64 line) as a challenge; the client's response as a base64 line,
        or None after the exchange ended (failure sent)."""
        try:
            text = b64_out(b64_in(payload.decode("ascii", "replace"), "the SASL program's "
                                  "output"))
        except FrontError as err:
            self.fail("temporary-auth-failure", str(err))
            return None
        self.stream.send(sasl_element("challenge", text))
        elem = self.stream.read_element()
        ns, name = local(elem.tag)
        if ns == NS_SASL and name == "response":
            try:
                return b64_out(b64_in(elem.text, "<response/>"))
            except FrontError as err:
                self.fail("incorrect-encoding", str(err))
                return None
        if ns == NS_SASL and name == "abort":
            self.fail("aborted", "the client sent <abort/>")
            return None
        self.fail("malformed-request", f"<{name} xmlns='{ns}'> during the SASL exchange")
        return None

    def _authorize(self, program: SaslProgram, first: bytes) -> bool:
        authzid = first[len(b"Authzid: "):].decode("utf-8", "replace")
        line = program.read_line()
        if line is None or not line.startswith(b"Display Name: "):
            return self.fail("temporary-auth-failure", "the SASL program's authorization "
                             "question is incomplete")
        client = line[len(b"Display Name: "):].decode("utf-8", "replace")
        if not program.read_prompt(VALIDATE_PROMPT):
            return self.fail("temporary-auth-failure", "the SASL program ended at its "
                             "authorization question")
        localpart = client.split("@", 1)[0]
        bare = f"{localpart}@{self.opts.domain}"
        requested = None if authzid in ("(null)", "") else authzid
        allowed = requested in (None, client, bare)
        program.write_line("y" if allowed else "n")
        data = program.read_line()
        fields: dict[str, Any] = {"client": client}
        if requested != client:  # equal: the library reports the authentication identity
            fields["authzid"] = requested  # itself when none came (libsasl2); not knowable
        if data is None or not allowed:
            condition = "invalid-authzid" if not allowed else "not-authorized"
            self.stream.send(sasl_element("failure", child=condition))
            emit("login", **fields, outcome="failure", condition=condition,
                 reason=(f"authorization identity {requested!r} is not {bare!r}" if not allowed
                         else f"the SASL library refused: {program.reason()}"))
            return False
        program.write_line("")
        status = program.finish()
        if status != 0:
            return self.fail("not-authorized", f"the SASL program exited {status} after its "
                             f"last output: {program.reason()}")
        self.stream.send(sasl_element("success", b64_out(b64_in(data.decode("ascii", "replace"),
                                                                "success data"))))
        emit("login", **fields, outcome="success")
        self.jid = bare
        return True

    def bind(self, iq: ET.Element) -> None:
        request = iq.find(f"{{{NS_BIND}}}bind")
        iq_id = iq.get("id", "")
        if iq.get("type") != "set" or request is None:
            self.stream.send(f"<iq type='error' id={quoteattr(iq_id)}><error type='cancel'>"
                             f"<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                             f"</error></iq>")
            return
        resource = (request.findtext(f"{{{NS_BIND}}}resource") or "").strip() or RESOURCE
        full = f"{self.jid}/{resource}"
        self.stream.send(f"<iq type='result' id={quoteattr(iq_id)}><bind xmlns='{NS_BIND}'>"
                         f"<jid>{escape(full)}</jid></bind></iq>")


def run_server(opts: Options) -> int:
    deadline = time.monotonic() + opts.timeout_ms / 1000
    terminated = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        terminated.set()

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_term)
    tls_context = None
    if opts.tls != "off":
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            tls_context.load_cert_chain(opts.tls_cert, opts.tls_key)
        except (OSError, ssl.SSLError) as err:
            raise FrontError(f"--tls-cert/--tls-key: {err}", EXIT_INVALID) from None
    try:
        listener = socket.create_server((opts.host, opts.port), family=(
            socket.AF_INET6 if ":" in opts.host else socket.AF_INET))
    except OSError as err:
        raise FrontError(f"--bind {opts.host}:{opts.port}: {err}") from None
    listener.settimeout(0.1)
    shown = f"[{opts.host}]" if ":" in opts.host else opts.host
    emit("listening", endpoint=f"{shown}:{listener.getsockname()[1]}")
    try:
        return accept_loop(opts, listener, deadline, terminated, tls_context)
    finally:
        listener.close()
        with _programs_lock:
            running = list(_programs)
        for program in running:
            program.kill()


def accept_loop(opts: Options, listener: socket.socket, deadline: float,
                terminated: threading.Event, tls_context: ssl.SSLContext | None) -> int:
    """Serve connections, each in its own thread, until SIGTERM (0) or the deadline (1)."""
    number = 0
    while not terminated.is_set():
        if time.monotonic() >= deadline:
            emit("error", reason=f"timeout after {opts.timeout_ms} ms")
            note(f"timeout after {opts.timeout_ms} ms")
            return EXIT_FAIL
        try:
            sock, _ = listener.accept()
        except (socket.timeout, TimeoutError, InterruptedError):
            continue
        number += 1
        threading.Thread(target=serve, args=(opts, sock, number, deadline, tls_context),
                         daemon=True).start()
    return EXIT_OK


def serve(opts: Options, sock: socket.socket, number: int, deadline: float,
          tls_context: ssl.SSLContext | None) -> None:
    conn = ServerConnection(opts, sock, number, deadline, tls_context)
    try:
        conn.run()
    except StreamClosed as err:
        note(f"connection {number}: {err}")
        try:
            conn.stream.send("</stream:stream>")
        except FrontError:
            pass
    except FrontError as err:
        note(f"connection {number}: {err}")
        try:
            conn.stream.send("</stream:stream>")
        except FrontError:
            pass
    finally:
        try:
            conn.sock.close()
        except OSError:
            pass


# ------------------------------------------------------------------ client


def run_client(opts: Options) -> int:
    deadline = time.monotonic() + opts.timeout_ms / 1000
    try:
        sock = socket.create_connection((opts.host, opts.port),
                                        timeout=max(0.01, deadline - time.monotonic()))
    except OSError as err:
        raise FrontError(f"connect to {opts.host}:{opts.port}: {err}") from None
    program: SaslProgram | None = None
    try:
        stream = XmlStream(sock, deadline)
        header = stream_header(f"to={quoteattr(opts.domain)} xml:lang='en'")
        stream.send(header)
        features = read_features(stream)
        if features.find(f"{{{NS_TLS}}}starttls") is not None and opts.tls != "off":
            stream.send(f"<starttls xmlns='{NS_TLS}'/>")
            answer = stream.read_element()
            if local(answer.tag) != (NS_TLS, "proceed"):
                raise FrontError(f"STARTTLS refused: <{local(answer.tag)[1]}/>")
            context = ssl.create_default_context(cafile=opts.tls_ca)
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                sock = context.wrap_socket(sock, server_hostname=opts.domain)
            except (ssl.SSLError, OSError) as err:
                raise FrontError(f"TLS handshake failed: {err}") from None
            emit("tls", version=sock.version())
            stream = XmlStream(sock, deadline)
            stream.send(header)
            features = read_features(stream)
        elif opts.tls == "required":
            raise FrontError("the server offers no STARTTLS (--tls required)")
        mechanisms_el = features.find(f"{{{NS_SASL}}}mechanisms")
        if mechanisms_el is None:
            raise FrontError("the server offers no SASL mechanisms")
        mechanisms = [(m.text or "").strip() for m in mechanisms_el.findall(f"{{{NS_SASL}}}mechanism")]
        hostname_el = mechanisms_el.find(f"{{{NS_HOSTNAME}}}hostname")
        hostname = None if hostname_el is None else (hostname_el.text or "")
        emit("features", mechanisms=mechanisms, hostname=hostname)
        if MECHANISM not in mechanisms:
            raise FrontError(f"the server does not offer {MECHANISM}")
        host = hostname if opts.sasl_host == "advertised" and hostname is not None else opts.domain
        emit("principal", target=f"{SERVICE}@{host}", form="hostbased")
        argv = opts.program + [f"--hostname={host}"]
        if opts.authzid is not None:
            argv.append(f"--authorization-id={opts.authzid}")
        program = SaslProgram(argv, deadline, "client")
        program.start_exchange()
        initial = program.read_line()
        if initial is None:
            raise FrontError(f"the SASL library gave no initial response: {program.reason()}")
        initial_text = b64_out(b64_in(initial.decode("ascii", "replace"), "initial response"))
        stream.send(f"<auth xmlns='{NS_SASL}' mechanism='{MECHANISM}'>{initial_text or '='}"
                    f"</auth>")
        while True:
            elem = stream.read_element()
            ns, name = local(elem.tag)
            if ns == NS_SASL and name == "challenge":
                try:
                    program.write_line(b64_out(b64_in(elem.text, "<challenge/>")))
                except FrontError:
                    stream.send(sasl_element("abort"))
                    raise
                line = program.read_line()
                if line is None:
                    reason = program.reason()
                    stream.send(sasl_element("abort"))
                    raise FrontError(f"the SASL library gave up: {reason}")
                stream.send(sasl_element("response", b64_out(b64_in(
                    line.decode("ascii", "replace"), "the SASL program's output"))))
            elif ns == NS_SASL and name == "success":
                emit("sasl", outcome="success")
                program.write_line(b64_out(b64_in(elem.text, "<success/>")))
                status = program.finish()
                if status != 0:
                    raise FrontError(f"the SASL library did not accept the outcome (exit "
                                     f"{status}): {program.reason()}")
                break
            elif ns == NS_SASL and name == "failure":
                condition = next((local(c.tag)[1] for c in elem
                                  if local(c.tag) != (NS_SASL, "text")), "")
                emit("sasl", outcome="failure", condition=condition)
                raise FrontError(f"the server sent <failure/> ({condition})")
            else:
                raise FrontError(f"unexpected <{name} xmlns='{ns}'> during the SASL exchange")
        program.kill()
        program = None
        stream.restart()
        stream.send(header)
        features = read_features(stream)
        if features.find(f"{{{NS_BIND}}}bind") is None:
            raise FrontError("the server offers no resource binding after SASL")
        stream.send(f"<iq type='set' id='bind1'><bind xmlns='{NS_BIND}'><resource>{RESOURCE}"
                    f"</resource></bind></iq>")
        reply = stream.read_element()
        jid = reply.findtext(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
        if local(reply.tag) != (NS_CLIENT, "iq") or reply.get("type") != "result" or not jid:
            raise FrontError("resource binding failed")
        emit("bound", jid=jid)
        stream.send("</stream:stream>")
        emit("done")
        return EXIT_OK
    finally:
        if program is not None:
            program.kill()
        try:
            sock.close()
        except OSError:
            pass


def read_features(stream: XmlStream) -> ET.Element:
    stream.read_header()
    features = stream.read_element()
    if features.tag != f"{{{NS_STREAM}}}features":
        raise FrontError(f"expected <stream:features/>, got <{local(features.tag)[1]}>")
    return features


def main(argv: list[str]) -> int:
    try:
        opts = parse_options(argv)
        return run_server(opts) if opts.server else run_client(opts)
    except FrontError as err:
        note(str(err))
        if err.status not in (EXIT_USAGE, EXIT_UNAVAILABLE):
            emit("error", reason=str(err))
        return err.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
