#!/usr/bin/env python3
"""The ZMTP-GSSAPI conformance catalogue (scenarios/zmtp-gssapi): it lists at least 40 cases,
each with a spec reference whose quote is verbatim (from the requirement catalogue or the
project document it names), every file validates on its own, and a run of the whole catalogue
against the reference peer (gsspeer as candidate) breaks no MUST or security check."""

from __future__ import annotations

import os
import unittest

from cataloguelib import SCENARIOS
from gssconform import observe, scenario, verdict
import cataloguelib
import taptest

FOLDER = os.path.join(SCENARIOS, "zmtp-gssapi")
BAD = ("FAIL", "CRASH", "ERROR", "TIMEOUT", "XPASS")
MISSING = cataloguelib.missing()


class Listing(unittest.TestCase):
    def test_at_least_40_cases_each_with_a_reference(self) -> None:
        cataloguelib.assert_listed_with_references(self, "zmtp-gssapi", "zmtp-gssapi/", 40)

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
        cataloguelib.assert_files_validate_alone(self, "zmtp-gssapi", names, 5)

    def test_quotes_are_verbatim(self) -> None:
        cataloguelib.assert_quotes_verbatim(self, scenario.load_spec(SCENARIOS, "zmtp-gssapi"))


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


@unittest.skipIf(MISSING, MISSING or "")
class AgainstReference(unittest.TestCase):
    def test_gsspeer_breaks_no_must_or_security_check(self) -> None:
        result, results = cataloguelib.run_reference("zmtp-gssapi")
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
