#!/usr/bin/env python3
"""`gsspeer principal` and `gsspeer features` end to end: exit statuses, stdout and stderr.

The C tests check the rules vector by vector; this file checks the command-line contract
(0 printed / 1 no usable hostname / 2 invalid input / 64 usage), the --strict level, stdin
input, the krb5.conf realm policy, and that every vector gives the same answer through the
CLI as its expected outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import taptest

REPO = Path(taptest.REPO)
VECTORS = REPO / "vectors"
HOST, DOMAIN = "auth42.us.example.com", "example.com"
FEATURES = (
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>GSSAPI</mechanism>"
    "{inner}</mechanisms></stream:features>"
)
KRB5_CONF = """[libdefaults]
    default_realm = DEFAULT.TEST
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
[domain_realm]
    .corp.example = CORP.TEST
"""


class Cli:
    """Runs build/gsspeer with a private, empty krb5.conf unless told otherwise."""

    def __init__(self, krb5_conf: str) -> None:
        self.binary = os.path.join(taptest.build_dir(), "gsspeer")
        self.env = dict(os.environ, KRB5_CONFIG=krb5_conf, KRB5_TRACE="/dev/null")

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run gsspeer ARGS; bounded so a hang fails the test instead of stalling prove."""
        return subprocess.run(
            [self.binary, *args], input=stdin, capture_output=True, encoding="utf-8", env=self.env,
            timeout=20, check=False,
        )


class _Base(unittest.TestCase):
    tmp: tempfile.TemporaryDirectory[str]
    cli: Cli

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory(prefix="cli-t.")
        conf = Path(cls.tmp.name, "krb5.conf")
        conf.write_text(KRB5_CONF, encoding="utf-8")
        cls.cli = Cli(str(conf))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def assertOneLine(self, text: str, *needles: str) -> None:  # noqa: N802 (unittest style)
        """TEXT is one line (with its newline) containing every needle."""
        self.assertEqual(text.count("\n"), 1, text)
        for needle in needles:
            self.assertIn(needle, text)


class Principal(_Base):
    def test_xep_example_gss(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, f"xmpp/{HOST}/{DOMAIN}@EXAMPLE.COM\n", ""))

    def test_xep_example_sspi(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--form", "sspi",
                         "--port", "5222")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, f"xmpp/{HOST}/{DOMAIN}\n", ""))

    def test_sspi_port_kept_with_note(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--form", "sspi",
                         "--port", "5223")
        self.assertEqual((r.returncode, r.stdout), (0, f"xmpp/{HOST}:5223/{DOMAIN}\n"))
        self.assertOneLine(r.stderr, "acceptable (lenient reading)", "SHOULD NOT", "§5")

    def test_sspi_port_refused_when_strict(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--form", "sspi",
                         "--port", "5223", "--strict")
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "strict reading refuses", "SHOULD NOT")

    def test_sspi_without_hostname(self) -> None:
        r = self.cli.run("principal", "--domain", DOMAIN, "--form", "sspi")
        self.assertEqual((r.returncode, r.stdout), (0, f"xmpp/{DOMAIN}\n"))

    def test_gss_without_hostname(self) -> None:
        r = self.cli.run("principal", "--domain", DOMAIN)
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "RFC 4752")

    def test_explicit_realm(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", "chat.corp.example",
                         "--realm", "OTHER.TEST")
        self.assertEqual(r.stdout, f"xmpp/{HOST}/chat.corp.example@OTHER.TEST\n")

    def test_realm_from_krb5_conf(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", "chat.corp.example")
        self.assertEqual((r.returncode, r.stdout), (0, f"xmpp/{HOST}/chat.corp.example@CORP.TEST\n"))

    def test_realm_fallback_upper_case(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", "unmapped.example")
        self.assertEqual(r.stdout, f"xmpp/{HOST}/unmapped.example@UNMAPPED.EXAMPLE\n")

    def test_invalid_hostname(self) -> None:
        r = self.cli.run("principal", "--hostname", "auth42/admin.example.com", "--domain", DOMAIN)
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "gsspeer principal: hostname:", "'/'", "RFC 1123")

    def test_invalid_domain(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", "192.0.2.1")
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, "domain: IP address literal")

    def test_bad_realm(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--realm", "A@B")
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, "realm")

    def test_huge_realm(self) -> None:
        """A realm is bounded (255 octets): 120 KB is refused with one line, 255 is fine."""
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN,
                         "--realm", "A" * 120000)
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "realm", "longer than 255 octets")
        self.assertLess(len(r.stderr), 1000)
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--realm", "A" * 255)
        self.assertEqual((r.returncode, r.stdout), (0, f"xmpp/{HOST}/{DOMAIN}@{'A' * 255}\n"))

    def test_port_not_a_number(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--form", "sspi",
                         "--port", "52x")
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, "'52x' is not a port number")

    def test_port_out_of_range(self) -> None:
        r = self.cli.run("principal", "--hostname", HOST, "--domain", DOMAIN, "--form", "sspi",
                         "--port", "70000")
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, "port outside 1..65535")

    def test_lenient_repair_and_strict_refusal(self) -> None:
        r = self.cli.run("principal", "--hostname", "b\u00fccher.example.", "--domain", DOMAIN)
        self.assertEqual((r.returncode, r.stdout),
                         (0, "xmpp/xn--bcher-kva.example/example.com@EXAMPLE.COM\n"))
        self.assertOneLine(r.stderr, "acceptable (lenient reading)")
        r = self.cli.run("principal", "--hostname", "b\u00fccher.example.", "--domain", DOMAIN,
                         "--strict")
        self.assertEqual((r.returncode, r.stdout), (2, ""))

    def test_usage_errors(self) -> None:
        for args in (["principal"], ["principal", "--hostname", HOST],
                     ["principal", "--domain", DOMAIN, "--form", "kerberos"],
                     ["principal", "--domain", DOMAIN, "extra"], ["principal", "--bogus"]):
            r = self.cli.run(*args)
            self.assertEqual((r.returncode, r.stdout), (64, ""), args)
            self.assertIn("gsspeer principal", r.stderr, args)

    def test_help(self) -> None:
        r = self.cli.run("principal", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Exit status", r.stdout)
        self.assertIn("principal", self.cli.run("--help").stdout)


class Features(_Base):
    def write(self, text: str, name: str = "features.xml") -> str:
        """A file holding TEXT in the class's temporary directory."""
        path = Path(self.tmp.name, name)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def test_file(self) -> None:
        path = self.write(FEATURES.format(
            inner=f"<hostname xmlns='urn:xmpp:domain-based-name:1'>{HOST}</hostname>"))
        r = self.cli.run("features", path)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, f"{HOST}\n", ""))

    def test_stdin(self) -> None:
        r = self.cli.run("features", "-", stdin=FEATURES.format(
            inner=f"<hostname xmlns='urn:xmpp:domain-based-name:1'>{HOST}</hostname>"))
        self.assertEqual((r.returncode, r.stdout), (0, f"{HOST}\n"))

    def test_absent_exits_1(self) -> None:
        r = self.cli.run("features", "-", stdin=FEATURES.format(inner=""))
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertOneLine(r.stderr, "HOSTNAME_ABSENT", "RFC 4752")

    def test_acceptable_and_strict(self) -> None:
        xml = FEATURES.format(inner=f"<hostname xmlns='urn:xmpp:domain-based-name:1'>{HOST}."
                                    "</hostname>")
        r = self.cli.run("features", "-", stdin=xml)
        self.assertEqual((r.returncode, r.stdout), (0, f"{HOST}\n"))
        self.assertOneLine(r.stderr, "acceptable (lenient reading)", "HOSTNAME_TRAILING_DOT")
        r = self.cli.run("features", "--strict", "-", stdin=xml)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertOneLine(r.stderr, "strict reading refuses", "HOSTNAME_TRAILING_DOT")

    def test_malformed_exits_2(self) -> None:
        r = self.cli.run("features", "-", stdin="<stream:features>")
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "FEATURES_MALFORMED", "line 1, column")

    def test_not_features_exits_2(self) -> None:
        r = self.cli.run("features", "-", stdin="<message xmlns='jabber:client'/>")
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, "FEATURES_NOT_FEATURES")

    def test_missing_file_exits_2(self) -> None:
        r = self.cli.run("features", str(Path(self.tmp.name, "missing.xml")))
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, "missing.xml", "No such file")

    def test_directory_names_the_cause(self) -> None:
        r = self.cli.run("features", self.tmp.name)
        self.assertEqual(r.returncode, 2)
        self.assertOneLine(r.stderr, self.tmp.name, "Is a directory")

    def test_endless_input_is_bounded(self) -> None:
        """/dev/zero is cut at the document bound (1 MiB) with one line, not read forever."""
        r = self.cli.run("features", "/dev/zero")
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "/dev/zero", "more than 1048576 bytes")

    def test_utf16_refused(self) -> None:
        """XMPP is UTF-8 only (RFC 6120 11.6): a UTF-16 document is malformed."""
        xml = FEATURES.format(
            inner=f"<hostname xmlns='urn:xmpp:domain-based-name:1'>{HOST}</hostname>")
        for encoding in ("utf-16", "utf-16-be"):
            path = Path(self.tmp.name, f"{encoding}.xml")
            path.write_bytes(("<?xml version='1.0' encoding='UTF-16'?>" + xml).encode(encoding))
            r = self.cli.run("features", str(path))
            self.assertEqual((r.returncode, r.stdout), (2, ""), encoding)
            self.assertOneLine(r.stderr, "FEATURES_MALFORMED", "UTF-8 only")

    def test_latin1_refused(self) -> None:
        """A Latin-1 declaration is refused even for ASCII text, and so are Latin-1 bytes."""
        xml = FEATURES.format(
            inner=f"<hostname xmlns='urn:xmpp:domain-based-name:1'>{HOST}</hostname>")
        path = Path(self.tmp.name, "latin1.xml")
        path.write_bytes(("<?xml version='1.0' encoding='ISO-8859-1'?>" + xml).encode("latin-1"))
        r = self.cli.run("features", str(path))
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "FEATURES_MALFORMED", "ISO-8859-1", "UTF-8 only")
        path.write_bytes(FEATURES.format(inner="<x>caf\u00e9</x>").encode("latin-1"))
        r = self.cli.run("features", str(path))
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertOneLine(r.stderr, "FEATURES_MALFORMED", "0xe9 is not UTF-8")
        path.write_bytes(("<?xml version='1.0' encoding='utf-8'?>" + xml).encode("utf-8"))
        r = self.cli.run("features", str(path))
        self.assertEqual((r.returncode, r.stdout), (0, f"{HOST}\n"), "a UTF-8 declaration is fine")

    def test_usage(self) -> None:
        for args in (["features"], ["features", "a", "b"], ["features", "--bogus", "-"]):
            self.assertEqual(self.cli.run(*args).returncode, 64, args)


class Vectors(_Base):
    """Every vector through the CLI: the same verdicts as the C tests, via exit statuses.

    Mismatches are collected and reported together, one line per vector id.
    """

    def test_principal_vectors(self) -> None:
        doc = json.loads((VECTORS / "xep0233-principals.json").read_text(encoding="utf-8"))
        wrong: list[str] = []
        for group in doc["testGroups"]:
            for t in group["tests"]:
                # The CLI takes argv strings: a NUL cannot be passed, and none is in the vectors.
                args = ["principal", "--domain", t["domain"], "--form", group["type"]]
                if t["hostname"] is not None:
                    args += ["--hostname", t["hostname"]]
                if t["realm"] is not None:
                    args += ["--realm", t["realm"]]
                if t["port"] is not None:
                    args += ["--port", str(t["port"])]
                lenient = self.cli.run(*args)
                strict = self.cli.run(*args, "--strict")
                want = t["expected"]["principal"]
                if t["result"] == "invalid":
                    good = (lenient.returncode, lenient.stdout) == (2, "")
                    good &= lenient.stderr.count("\n") == 1
                else:
                    good = (lenient.returncode, lenient.stdout) == (0, want + "\n")
                good &= strict.returncode == (0 if t["result"] == "valid" else 2)
                if not good:
                    wrong.append(f"{t['id']}: lenient {lenient.returncode} {lenient.stdout!r} "
                                 f"{lenient.stderr!r}, strict {strict.returncode}")
        self.assertEqual(wrong, [])

    def test_features_vectors(self) -> None:
        doc = json.loads((VECTORS / "xep0233-features.json").read_text(encoding="utf-8"))
        wrong: list[str] = []
        for group in doc["testGroups"]:
            for t in group["tests"]:
                status = t["expected"]["status"]
                lenient = self.cli.run("features", "-", stdin=t["xml"])
                strict = self.cli.run("features", "--strict", "-", stdin=t["xml"])
                if status.startswith("FEATURES_"):
                    good = (lenient.returncode, strict.returncode) == (2, 2)
                    good &= status in lenient.stderr
                elif t["result"] == "invalid":
                    good = (lenient.returncode, strict.returncode) == (1, 1)
                    good &= status in lenient.stderr
                else:
                    good = (lenient.returncode, lenient.stdout) == (
                        0, t["expected"]["hostname"] + "\n")
                    good &= strict.returncode == (0 if t["result"] == "valid" else 1)
                if not good:
                    wrong.append(f"{t['id']}: lenient {lenient.returncode} {lenient.stdout!r} "
                                 f"{lenient.stderr!r}, strict {strict.returncode}")
        self.assertEqual(wrong, [])


if __name__ == "__main__":
    taptest.main()
