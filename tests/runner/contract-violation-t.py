#!/usr/bin/env python3
"""Shim-contract violations on a candidate's stdout (issue 15): a line that is not a JSON object
or an event name the contract does not define makes the case ERROR with the line in the reason,
so a misspelt "delivered" cannot turn a "nothing reached the application" check into a PASS."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import taptest  # noqa: E402

sys.path.insert(0, os.path.join(taptest.REPO, "runner"))
from gssconform import observe, verdict  # noqa: E402
from gssconform.process import Proc, Registry  # noqa: E402
from gssconform.scenario import load_file  # noqa: E402

CASE = """
[[case]]
id = "zmtp-gssapi/contract/nothing-delivered"
title = "A refused client's message reaches nothing"
realm = false

[[case.ref]]
doc = "38/ZMTP-GSSAPI"
section = "Implementation"
quote = "x"
level = "MUST"

[case.candidate]
role = "zmtp-server"

[[case.expect]]
observe = "candidate.event.delivered"
present = false
level = "security"
"""


def observed(lines: str) -> dict:
    """The candidate-side observations of a real process that prints LINES and exits 0."""
    registry = Registry()
    with tempfile.TemporaryDirectory() as tmp:
        proc = Proc("candidate", [sys.executable, "-c", f"import sys; sys.stdout.write({lines!r})"],
                    dict(os.environ), tmp, registry)
        proc.start()
        if not proc.wait_exit(time.monotonic() + 60):
            proc.stop(0.5)
            raise AssertionError("the printing process did not exit")
        proc.stop(0.5)
        return observe.side(proc, True, None, False, [], observe.EVENTS["zmtp-gssapi"])


class Violations(unittest.TestCase):
    def setUp(self) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as handle:
            handle.write(CASE)
        self.addCleanup(os.unlink, handle.name)
        self.case = load_file(handle.name, "zmtp-gssapi")[0]

    def judge(self, lines: str) -> tuple[str, str]:
        verdict_, reason, _ = verdict.judge(self.case, {"candidate": observed(lines)}, False)
        return verdict_, reason

    def test_clean_stream_passes(self) -> None:
        self.assertEqual(self.judge('{"event":"listening","endpoint":"tcp://127.0.0.1:1"}\n'
                                    '{"event":"done","sent":0,"received":0,"verified":0}\n'),
                         ("PASS", "all checks passed"))

    def test_misspelt_event_is_error_not_pass(self) -> None:
        got, reason = self.judge('{"event":"listening","endpoint":"x"}\n'
                                 '{"event":"delivred","parts":[]}\n')
        self.assertEqual(got, "ERROR")
        self.assertIn("shim contract violation", reason)
        self.assertIn("stdout line 2: unknown event 'delivred'", reason)

    def test_log_line_on_stdout_is_error(self) -> None:
        got, reason = self.judge('I: connected to 127.0.0.1\n{"event":"done"}\n')
        self.assertEqual(got, "ERROR")
        self.assertIn("stdout line 1: not a JSON object: I: connected", reason)

    def test_non_object_json_and_missing_name(self) -> None:
        count, lines = observe.violations('[1]\n{"parts":1}\n\n{"event":"sent","count":1}\n',
                                          False, observe.EVENTS["zmtp-gssapi"])
        self.assertEqual(count, 2, lines)

    def test_truncated_tail_is_not_counted(self) -> None:
        text = '{"event":"sent","count":1}\n{"event":"se\n[gssconform: output truncated]\n'
        self.assertEqual(observe.violations(text, True, observe.EVENTS["zmtp-gssapi"])[0], 0)

    def test_contract_lists_match_the_docs(self) -> None:
        with open(os.path.join(taptest.REPO, "docs", "candidates.md"), encoding="utf-8") as doc:
            text = doc.read()
        zmtp, xmpp = text.split("## The shim contract (XMPP)", 1)
        for spec, part in (("zmtp-gssapi", zmtp), ("xep0233", xmpp)):
            block = part.split("events", 1)[1].split("```", 2)[1]
            named = set(__import__("re").findall(r'\{"event":"([a-z-]+)"', block))
            self.assertEqual(named, set(observe.EVENTS[spec]), spec)


if __name__ == "__main__":
    taptest.main()
