#!/usr/bin/env python3
"""The ZMTP-GSSAPI conformance catalogue (scenarios/zmtp-gssapi): it lists at least 40 cases,
each with a spec reference whose quote is verbatim (from the requirement catalogue or the
project document it names), every file validates on its own, and a run of the whole catalogue
against the reference peer (gsspeer as candidate) breaks no MUST or security check."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from gssconform import observe, requirements, scenario, verdict
import taptest

GSSCONFORM = os.path.join(taptest.REPO, "gssconform")
SCENARIOS = os.path.join(taptest.REPO, "scenarios")
FOLDER = os.path.join(SCENARIOS, "zmtp-gssapi")
OUTER_TIMEOUT = 300  # bound on one gssconform invocation (not a timing assertion)
BAD = ("FAIL", "CRASH", "ERROR", "TIMEOUT", "XPASS")


def gssconform(*args: str) -> subprocess.CompletedProcess:
    """Run ./gssconform with the build under test."""
    env = dict(os.environ, GSSCONFORM_BUILD=taptest.build_dir())
    return subprocess.run([GSSCONFORM, *args], capture_output=True, text=True, env=env,
                          timeout=OUTER_TIMEOUT, check=False)


def _missing() -> str | None:
    """Why the catalogue cannot run here, or None."""
    for prog in ("krb5kdc", "kdb5_util", "kadmin.local"):
        if shutil.which(prog, path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
            return f"{prog} not installed"
    if not os.access(os.path.join(taptest.build_dir(), "gsspeer"), os.X_OK):
        return f"no gsspeer in {taptest.build_dir()}"
    return None


def _flat(text: str) -> str:
    """Text with every run of white space as one space (documents wrap their lines)."""
    return " ".join(text.split())


class Listing(unittest.TestCase):
    def test_at_least_40_cases_each_with_a_reference(self) -> None:
        result = gssconform("list", "--spec", "zmtp-gssapi", "--long")
        self.assertEqual(result.returncode, 0, result.stderr)
        blocks = re.split(r"^(?=zmtp-gssapi/)", result.stdout, flags=re.M)
        blocks = [b for b in blocks if b.strip()]
        self.assertGreaterEqual(len(blocks), 40)
        for block in blocks:
            with self.subTest(case=block.splitlines()[0]):
                self.assertRegex(block, r'\n    \S.*(MUST|SHOULD|MAY|de-facto|security|INFO): ".+"',
                                 "every case quotes at least one reference")

    def test_both_directions(self) -> None:
        cases = scenario.load_spec(SCENARIOS, "zmtp-gssapi")
        roles = {c.candidate.role for c in cases}
        self.assertEqual(roles, {"zmtp-server", "zmtp-client"})
        for case in cases:
            suffix = case.id.rsplit("/", 1)[1]
            with self.subTest(case=case.id):
                self.assertEqual(f"zmtp-{suffix}", case.candidate.role,
                                 "the id's last part names the candidate's role")


class Files(unittest.TestCase):
    def test_every_file_validates_alone(self) -> None:
        names = sorted(n for n in os.listdir(FOLDER) if n.endswith(".toml"))
        self.assertGreaterEqual(len(names), 5)
        with tempfile.TemporaryDirectory(prefix="catalogue-t-") as tmp:
            shutil.copytree(os.path.join(SCENARIOS, "requirements"),
                            os.path.join(tmp, "requirements"))
            shutil.copy(os.path.join(SCENARIOS, "checks.toml"), tmp)
            for name in names:
                spec = os.path.join(tmp, "zmtp-gssapi")
                shutil.rmtree(spec, ignore_errors=True)
                os.makedirs(spec)
                shutil.copy(os.path.join(FOLDER, name), spec)
                with self.subTest(file=name):
                    result = gssconform("list", "--spec", "zmtp-gssapi", "--scenarios", tmp)
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertTrue(result.stdout.strip(), f"{name} holds no case")

    def test_quotes_are_verbatim(self) -> None:
        catalogue = {r.id: r for d in requirements.load(SCENARIOS) for r in d.requirements}
        texts: dict[str, str] = {}
        for case in scenario.load_spec(SCENARIOS, "zmtp-gssapi"):
            for ref in case.refs:
                with self.subTest(case=case.id, quote=ref.quote[:40]):
                    if ref.requirement:
                        self.assertEqual(ref.quote, catalogue[ref.requirement].quote)
                    elif ref.doc.startswith("docs/"):
                        if ref.doc not in texts:
                            with open(os.path.join(taptest.REPO, ref.doc),
                                      encoding="utf-8") as handle:
                                texts[ref.doc] = _flat(handle.read())
                        self.assertTrue(_flat(ref.quote) in texts[ref.doc],
                                        f"not in {ref.doc}: {ref.quote!r}")
                    else:
                        self.fail(f"{ref.doc}: neither a catalogue id nor a project document")


SENTINEL = "5345435245542d53454e54494e454c2d3432"  # "SECRET-SENTINEL-42"
GREETING = "ff" + "00" * 8 + "7f03" + "01" + "475353415049" + "00" * 46  # 64 octets


def _transcript_checks(case_id: str, requirement: str | None = None) -> list:
    """The transcript checks of a case (only those citing REQUIREMENT, when given)."""
    case = next(c for c in scenario.load_spec(SCENARIOS, "zmtp-gssapi") if c.id == case_id)
    return [c for c in case.checks if c.observe.startswith("peer.transcript")
            and requirement in (None, c.requirement)]


def _judge(check, transcript: list) -> bool:
    """One check against a synthetic peer transcript."""
    obs = {"peer": observe.side(None, False, None, False, transcript), "candidate": {}}
    return verdict.evaluate(check, obs)[0]


def _wire_checks(case_id: str, transcript: list) -> list[bool]:
    """The outcome of every transcript check of a case against a synthetic peer transcript."""
    return [_judge(check, transcript) for check in _transcript_checks(case_id)]


class WireEvidence(unittest.TestCase):
    """Checks of the candidate's bytes judge what the reference received, never what it sent."""

    def test_plaintext_sentinel_must_come_from_the_candidate(self) -> None:
        own = [{"dir": "out", "hex": GREETING}, {"dir": "out", "hex": "001607" + SENTINEL},
               {"dir": "in", "hex": GREETING}, {"dir": "in", "hex": "0016074d45535341474500"}]
        for case_id in ("zmtp-gssapi/security/plaintext-visible/server",
                        "zmtp-gssapi/security/plaintext-visible/client"):
            with self.subTest(case=case_id):
                self.assertEqual(_wire_checks(case_id, own), [False])
                echoed = own + [{"dir": "in", "hex": "0014" + SENTINEL}]
                self.assertEqual(_wire_checks(case_id, echoed), [True])

    def test_confidentiality_needs_the_candidates_data_frames(self) -> None:
        wrapped_ready = "0440074d455353414745" + "00" * 50
        data = "0040074d455353414745" + "11" * 50
        for case_id in ("zmtp-gssapi/security/confidentiality/server",
                        "zmtp-gssapi/security/confidentiality/client"):
            with self.subTest(case=case_id):
                only_ours = [{"dir": "out", "hex": data}, {"dir": "in", "hex": wrapped_ready}]
                self.assertEqual(_wire_checks(case_id, only_ours), [False, True],
                                 "a wrapped READY command is no data frame of the candidate")
                clean = only_ours + [{"dir": "in", "hex": data}]
                self.assertEqual(_wire_checks(case_id, clean), [True, True])
                leaked = clean + [{"dir": "in", "hex": "0014" + SENTINEL}]
                self.assertEqual(_wire_checks(case_id, leaked), [True, False])

    def judged_on_every_received_frame(self, requirement: str, own: str, valid: list[str],
                                       bad_flags: list[str]) -> None:
        """The handshake/frames cases' one transcript check of REQUIREMENT passes the received
        VALID frames (hex) beside the reference's own frame OWN, and fails on any received
        frame with one of BAD_FLAGS."""
        ours = [{"dir": "out", "hex": GREETING}, {"dir": "out", "hex": own}]
        theirs = [{"dir": "in", "hex": GREETING}, {"dir": "in", "hex": "0600000000000000020102"},
                  {"dir": "in", "hex": "0400"}]
        theirs += [{"dir": "in", "hex": frame} for frame in valid]
        for case_id in ("zmtp-gssapi/handshake/frames/server",
                        "zmtp-gssapi/handshake/frames/client"):
            with self.subTest(case=case_id):
                checks = _transcript_checks(case_id, requirement)
                self.assertEqual(len(checks), 1, f"one transcript check of {requirement}")
                self.assertTrue(_judge(checks[0], ours + theirs),
                                f"valid frames pass; the reference's own {own} is no evidence")
                for flags in bad_flags:
                    self.assertFalse(_judge(checks[0], theirs + [{"dir": "in",
                                                                  "hex": flags + "00"}]),
                                     f"a received frame with flags {flags}")

    def test_reserved_frame_flags_are_judged_on_every_received_frame(self) -> None:
        self.judged_on_every_received_frame("23/framing/reserved-bits-zero", "0880",
                                            ["0003aabbcc"], ["08", "10", "84", "ff"])

    def test_more_on_commands_is_judged_on_every_received_frame(self) -> None:
        self.judged_on_every_received_frame(
            "23/framing/no-more-on-commands", "0500",
            ["0103aabbcc", "0300000000000000010a", "0003aabbcc"], ["05", "07", "0d", "ff"])


@unittest.skipIf(_missing(), _missing() or "")
class AgainstReference(unittest.TestCase):
    def test_gsspeer_breaks_no_must_or_security_check(self) -> None:
        with tempfile.TemporaryDirectory(prefix="catalogue-t-") as out:
            result = gssconform("run", "--spec", "zmtp-gssapi", "--candidate", "gsspeer",
                                "-j", "2", "-q", "--out", out)
            with open(os.path.join(out, "results.json"), encoding="utf-8") as handle:
                results = json.load(handle)["results"]
        self.assertGreaterEqual(len(results), 40, result.stderr)
        for entry in results:
            with self.subTest(case=entry["case"]):
                self.assertNotIn(entry["verdict"], BAD, entry["reason"])
                broken = [c for c in entry["checks"]
                          if c["level"] in ("MUST", "security") and not c["passed"]]
                self.assertEqual(broken, [], entry["reason"])
        self.assertIn(result.returncode, (0,), result.stderr[-2000:])


if __name__ == "__main__":
    taptest.main()
