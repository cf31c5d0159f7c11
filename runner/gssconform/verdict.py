"""Verdict rules: checks over observations, expectations from profiles, exit codes."""

from __future__ import annotations

import re
from typing import Any

from .candidate import Expectation
from .errors import EXIT_FAILURES, EXIT_HARNESS, EXIT_NO_CASE, EXIT_OK
from .process import EVENTS_CAP, LINE_CAP
from .scenario import Case, Check

VERDICTS = ("PASS", "FAIL", "NON-STRICT", "INFO", "UNIMPLEMENTED", "CRASH", "TIMEOUT", "ERROR",
            "SKIP", "XFAIL", "XPASS")
# Verdicts that make `run` exit 1 (ERROR makes it exit 2).
FAILING = ("FAIL", "CRASH", "TIMEOUT", "XPASS")
# Verdicts an xfail expectation turns into XFAIL.
UNWANTED = ("FAIL", "NON-STRICT", "CRASH", "TIMEOUT")
_MISSING = object()


def resolve(observations: dict, path: str) -> Any:
    """The value at a dotted path ('peer.event.done.0.verified'), or a missing marker."""
    value: Any = observations
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", part) and \
                -len(value) <= int(part) < len(value):
            value = value[int(part)]
        elif part == "count" and isinstance(value, (list, str, dict)):
            value = len(value)
        else:
            return _MISSING
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def evaluate(check: Check, observations: dict) -> tuple[bool, str]:
    """Apply one check; returns (passed, what was observed)."""
    value = resolve(observations, check.observe)
    op, want = check.operator, check.operand
    if op == "present":
        ok = (value is not _MISSING and value is not None) == want
        return ok, f"{check.observe} {'present' if value is not _MISSING else 'absent'}"
    if value is _MISSING:
        return False, f"{check.observe} was not observed"
    seen = f"{check.observe} = {_short(value)}"
    try:
        if op == "equals":
            ok = value == want
        elif op == "not_equals":
            ok = value != want
        elif op == "one_of":
            ok = value in want
        elif op == "contains":
            ok = want in value if isinstance(value, (str, list, dict)) else False
        elif op == "not_contains":
            ok = want not in value if isinstance(value, (str, list, dict)) else True
        elif op == "matches":
            ok = isinstance(value, str) and re.search(want, value) is not None
        elif op == "at_least":
            ok = value is not None and value >= want
        elif op == "at_most":
            ok = value is not None and value <= want
        elif op == "length":
            ok = hasattr(value, "__len__") and len(value) == want
        else:
            ok = False
    except TypeError:
        ok = False
    return ok, seen


def _level_verdict(level: str, strict: bool) -> str:
    if level == "harness":
        return "ERROR"  # a precondition the reference peer or the harness had to meet
    if level == "UNIMPLEMENTED":
        return "UNIMPLEMENTED"
    if level in ("MUST", "security"):
        return "FAIL"
    if level in ("SHOULD", "de-facto"):
        return "FAIL" if strict else "NON-STRICT"
    return "INFO"


def judge(case: Case, obs: dict, strict: bool) -> tuple[str, str, list[dict]]:
    """The verdict of a case that ran: (verdict, reason, check outcomes)."""
    cand, peer = obs["candidate"], obs.get("peer") or {}
    if peer.get("crash"):
        return "ERROR", f"reference peer crashed ({peer['crash']})", []
    if cand.get("crash"):
        return "CRASH", f"candidate crashed: {cand['crash']}", []
    for key, name, side in (("candidate", "candidate", cand), ("peer", "reference peer", peer)):
        readers = [c.observe for c in case.checks if c.observe.startswith(
            (f"{key}.event.", f"{key}.events"))]
        if side.get("events_dropped") and readers:
            # Events after the cap were never seen: a late 'done' would read as absent, a
            # 'nothing delivered' as true, a count as too small. Checks that do not read this
            # side's events are unaffected (many-messages prints 10,000 'delivered' events).
            return "ERROR", (f"the {name}'s event stream was cut: {side['events_dropped']} "
                             f"event lines beyond the first {EVENTS_CAP} (or longer than "
                             f"{LINE_CAP} bytes) were not read, so {readers[0]} cannot be "
                             "judged"), []
    if cand.get("violations"):
        # What the shim printed outside its contract was dropped from the events: a check that
        # finds "nothing delivered" would pass on a misspelt event name.
        return "ERROR", (f"shim contract violation: {cand['violations']} stdout line(s) outside "
                         f"the contract, first: {cand['violation_lines'][0]}"), []
    if cand.get("exit") in (64, 69):
        # The shim contract: 69 (EX_UNAVAILABLE) is an option the candidate recognises but
        # cannot honour; 64 is a usage error, i.e. the case or profile passed something the
        # contract does not define: the suite's fault, not the candidate's.
        lines = (cand.get("stderr") or "").strip().splitlines()
        line = lines[-1][:200] if lines else ""
        if cand["exit"] == 69:
            return "UNIMPLEMENTED", "candidate cannot honour this case (exit 69)" + (
                f": {line}" if line else ""), []
        return "ERROR", f"usage error: {line or 'exit 64 with nothing on stderr'}", []
    if case.timeouts == "verdict":
        server = cand if case.server == "candidate" else peer
        if case.peer and server.get("ready") is False:
            if case.server == "peer":
                return "ERROR", "reference peer never became ready", []
            if server.get("timed_out"):
                return "TIMEOUT", "candidate never became ready within the deadline", []
            return "FAIL", (f"candidate exited before it was ready (exit {server.get('exit')}"
                            f"{', ' + server['signal'] if server.get('signal') else ''})"), []
        if cand.get("timed_out"):
            return "TIMEOUT", "candidate did not finish within the deadline", []
        if peer.get("timed_out"):
            return "TIMEOUT", ("no reaction from the candidate within the deadline (the reference "
                               "peer was still waiting)"), []
    outcomes = []
    worst = None
    order = ("ERROR", "FAIL", "NON-STRICT", "UNIMPLEMENTED", "INFO")
    for check in case.checks:
        if check.when is not None:
            applies, guard_seen = evaluate(check.when, obs)
            if not applies:
                outcomes.append({"observe": check.observe, "level": check.level, "passed": None,
                                 "seen": f"not applicable: {guard_seen}",
                                 "message": check.message})
                continue
        ok, seen = evaluate(check, obs)
        outcomes.append({"observe": check.observe, "level": check.level, "passed": ok,
                         "seen": seen, "message": check.message})
        if not ok:
            verdict = _level_verdict(check.level, strict)
            if worst is None or order.index(verdict) < order.index(worst[0]):
                what = ("the reference peer or harness did not do its part, so the case proves "
                        "nothing: " if verdict == "ERROR" else f"{check.level}: ")
                worst = (verdict, f"{what}{check.message} ({seen})")
    if worst:
        return worst[0], worst[1], outcomes
    return "PASS", "all checks passed", outcomes


def expect(verdict: str, reason: str, exp: Expectation | None) -> tuple[str, str]:
    """Apply a profile xfail expectation (tlsfuzzer-style expected message)."""
    if exp is None or exp.xfail is None:
        return verdict, reason
    if verdict in UNWANTED:
        if exp.message and exp.message not in reason:
            return verdict, (f"{reason} [expected failure '{exp.xfail}' but the reason lacks "
                             f"'{exp.message}' ({exp.source})]")
        return "XFAIL", f"{reason} [expected: {exp.xfail}]"
    if verdict == "PASS":
        return "XPASS", f"passed but expected to fail: {exp.xfail} ({exp.source})"
    return verdict, reason


def exit_code(verdicts: list[str]) -> int:
    """The run's exit status from its verdicts (docs/ci.md: exit status)."""
    if not verdicts:
        return EXIT_NO_CASE
    if "ERROR" in verdicts:
        return EXIT_HARNESS
    if any(v in FAILING for v in verdicts):
        return EXIT_FAILURES
    return EXIT_OK


def counts(results: list[dict]) -> dict[str, dict[str, int]]:
    """Per candidate: verdict -> count."""
    table: dict[str, dict[str, int]] = {}
    for result in results:
        row = table.setdefault(result["candidate"], {v: 0 for v in VERDICTS})
        row[result["verdict"]] += 1
    return table


def label(result: dict) -> str:
    """'XFAIL (CRASH)' for a result a profile expectation changed (its case judged CRASH), else
    the verdict."""
    actual = result.get("actual_verdict")
    return f"{result['verdict']} ({actual})" if actual else result["verdict"]


def known_failures(results: list[dict]) -> dict[str, dict[str, int]]:
    """Per candidate, its XFAIL results counted by the verdict their case judged."""
    known: dict[str, dict[str, int]] = {}
    for result in results:
        if result["verdict"] == "XFAIL":
            judged = known.setdefault(result["candidate"], {})
            actual = result.get("actual_verdict", "unrecorded")
            judged[actual] = judged.get(actual, 0) + 1
    return {name: dict(sorted(j.items(), key=lambda kv: _verdict_rank(kv[0])))
            for name, j in known.items()}


def _verdict_rank(verdict: str) -> int:
    return VERDICTS.index(verdict) if verdict in VERDICTS else len(VERDICTS)
