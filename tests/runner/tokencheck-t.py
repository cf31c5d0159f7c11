#!/usr/bin/env python3
"""The check set tokens-rfc4121 (scenarios/checks.toml) as the data cases use it: a
token-violation event of the reference peer is the candidate's FAIL; "unchecked" and a
disagreement of the reference's two RFC 4121 paths are never the candidate's fault; and the
events are part of the shim contract, so gsspeer as a candidate may print them."""

from __future__ import annotations

import dataclasses
import json
import os
import unittest

from gssconform import observe, scenario, verdict
import taptest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKING = {"event": "token-check", "verdict": "checking", "wrap_path": "mit",
            "checked_by": "mit+rfc4121", "enctype": 18, "detail": "..."}
VIOLATION = {"event": "token-violation", "verdict": "rfc4121-violation", "wrap_path": "mit",
             "checked_by": "mit+rfc4121", "enctype": 18, "token": "READY", "seq": 7,
             "header": "050406ff0000001c0000000000000007",
             "detail": "READY token of 102 octets (SND_SEQ 7): MIT's gss_unwrap accepted it, "
                       "RFC 4121 forbids it: encrypted header copy differs from the token header"}


def set_only(case: scenario.Case) -> scenario.Case:
    """CASE with only the checks the set contributed (the rest need a real run)."""
    checks = [c for c in case.checks if ".token-" in c.observe]
    return dataclasses.replace(case, checks=checks)


def judge(case: scenario.Case, *events: dict) -> tuple[str, str]:
    by_name: dict[str, list] = {}
    for event in events:
        by_name.setdefault(event["event"], []).append(event)
    obs = {"candidate": {"exit": 0}, "peer": {"ready": True, "events": list(events),
                                              "event": by_name}}
    v, reason, _ = verdict.judge(case, obs, strict=False)
    return v, reason


class TokensRfc4121(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cases = scenario.load_spec(os.path.join(REPO, "scenarios"), "zmtp-gssapi")
        cls.data = [c for c in cases if c.id.startswith(("zmtp-gssapi/data/",
                                                         "zmtp-gssapi/pubsub/"))]

    def test_every_data_case_carries_the_set(self) -> None:
        self.assertGreater(len(self.data), 10)
        for case in self.data:
            observed = [c.observe for c in case.checks]
            if case.id.startswith("zmtp-gssapi/data/many-messages/"):
                # 10,000 delivered events overflow the runner's event cap: a check that reads
                # the reference's events there is ERROR by design (verdict.judge)
                self.assertNotIn("peer.event.token-violation", observed, case.id)
                continue
            if case.id.startswith(("zmtp-gssapi/data/rrc-rotated/",
                                   "zmtp-gssapi/data/rrc-in-copy/")):
                # their fault puts the reference on the rfc4121 data path, where rfc4121 alone
                # opens the candidate's tokens and refuses a forbidden one: the cases judge
                # that refusal from the reference's output instead of the set's event
                self.assertIn("peer.stderr", observed, case.id)
                self.assertTrue(any(c.observe == "peer.stderr" and
                                    c.operator == "not_contains" and
                                    c.operand == "rfc4121 unwrap of the"
                                    for c in case.checks), case.id)
                continue
            self.assertIn("peer.event.token-violation", observed, case.id)

    def test_violation_is_the_candidates_fail(self) -> None:
        case = set_only(self.data[0])
        self.assertEqual(judge(case, CHECKING)[0], "PASS")
        v, reason = judge(case, CHECKING, VIOLATION)
        self.assertEqual(v, "FAIL")
        self.assertIn("MUST", reason)
        self.assertIn("token-violation", reason)

    def test_unchecked_and_disagreement_never_fail(self) -> None:
        case = set_only(self.data[0])
        unchecked = dict(CHECKING, verdict="unchecked", checked_by="mit")
        self.assertEqual(judge(case, unchecked)[0], "INFO", "shown, not blamed")
        disagreement = dict(CHECKING, verdict="disagreement", token="MESSAGE", seq=8)
        self.assertEqual(judge(case, CHECKING, disagreement)[0], "PASS")
        self.assertEqual(judge(case)[0], "PASS", "PLAINTEXT: no token to check")

    def test_events_are_in_the_contract(self) -> None:
        stdout = "\n".join(json.dumps(e) for e in (CHECKING, VIOLATION)) + "\n"
        self.assertEqual(observe.violations(stdout, False, observe.EVENTS["zmtp-gssapi"]),
                         (0, []))


if __name__ == "__main__":
    taptest.main()
