"""Observations: what a process did, in a form verdict rules and reports can cite."""

from __future__ import annotations

import json
import re

from .process import Proc

# Text a crashing program leaves on stderr (sanitizers, libc, language runtimes).
_CRASH = re.compile(
    r"ERROR: (Address|Leak|Thread|Memory)Sanitizer"
    r"|\S+\.(c|cc|cpp|cxx|h):\d+:\d+: runtime error:"
    r"|Assertion [`'].*' failed"
    # libzmq's zmq_assert: "Assertion failed: rc == 0 (src/gssapi_mechanism_base.cpp:197)"
    r"|Assertion failed: .* \(\S+:\d+\)"
    r"|terminate called after throwing"
    r"|\*\*\* stack smashing detected"
    r"|double free or corruption|free\(\): invalid|malloc\(\): "
    r"|Fatal Python error"
    r"|thread '.*' panicked at"
    r"|Segmentation fault|Aborted \(core dumped\)")
# A wrapper shell reports a child's fatal signal N as exit 128+N.
_WRAPPED_SIGNALS = {128 + 4: "SIGILL", 128 + 6: "SIGABRT", 128 + 7: "SIGBUS", 128 + 8: "SIGFPE",
                    128 + 11: "SIGSEGV"}
TAIL = 4096

# The event names each shim contract defines (docs/candidates.md); anything else a candidate
# prints on stdout is a contract violation, so a misspelt "delivered" cannot make a "nothing
# reached the application" check pass.
EVENTS = {
    # token-check / token-violation: gsspeer's independent RFC 4121 checker (docs/peer.md)
    "zmtp-gssapi": frozenset({"listening", "delivered", "sent", "authorized", "closed", "done",
                              "error", "token-check", "token-violation"}),
    "xep0233": frozenset({"listening", "tls", "features", "principal", "login", "sasl", "bound",
                          "done", "closed", "security-layer", "layer-offer", "fault", "error"}),
}
VIOLATIONS_KEPT = 5


def violations(stdout: str, truncated: bool, allowed: frozenset) -> tuple[int, list[str]]:
    """Lines of a shim's stdout that break its contract (not a JSON object, or an event name
    not in ALLOWED): their count and the first few, each described in one line. A line cut by
    the runner's output cap (TRUNCATED) is not counted."""
    lines = stdout.split("\n")
    if truncated:
        lines = lines[:-3]  # the cut line and the runner's truncation note
    count, kept = 0, []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        problem = None
        try:
            event = json.loads(text)
        except ValueError:
            event = None
            problem = "not a JSON object"
        if problem is None and not isinstance(event, dict):
            problem = "not a JSON object"
        elif problem is None and event.get("event") not in allowed:
            problem = (f"unknown event {event.get('event')!r} (the contract's: "
                       f"{', '.join(sorted(allowed))})")
        if problem:
            count += 1
            if len(kept) < VIOLATIONS_KEPT:
                kept.append(f"stdout line {number}: {problem}: {text[:120]}")
    return count, kept


def crash(proc: Proc, stderr: str) -> str | None:
    """Why the process counts as crashed (signal it did not get from us, abort text), or None;
    the first assertion or sanitizer line of stderr is part of the reason whenever there is one,
    so "killed by SIGABRT" says which assertion."""
    line = None
    match = _CRASH.search(stderr)
    if match:
        line_start = stderr.rfind("\n", 0, match.start()) + 1
        line_end = stderr.find("\n", match.end())
        line = stderr[line_start:line_end if line_end >= 0 else None].strip()[:300]
    said = f": {line}" if line else ""
    sig = proc.signal
    if sig and not (proc.stopped_by_harness and sig in ("SIGTERM", "SIGKILL")):
        return f"killed by {sig}{said}"
    if proc.returncode in _WRAPPED_SIGNALS:
        return f"exit {proc.returncode} ({_WRAPPED_SIGNALS[proc.returncode]} in a child){said}"
    return f"stderr: {line}" if line else None


def transcript_hex(transcript: list, direction: str | None = None) -> str:
    """The raw bytes of a transcript as hex, one line per record that has them (greetings and
    frames; only those of one direction, "in" or "out", when given), so a check can search the
    wire for a payload's bytes."""
    return "\n".join(str(r["hex"]).lower() for r in transcript
                     if isinstance(r, dict) and isinstance(r.get("hex"), str)
                     and direction in (None, r.get("dir")))


def _wire(transcript: list) -> dict[str, str]:
    """transcript_hex of both directions, and of what the recording side received (in: the
    other side's bytes) and sent (out)."""
    return {"transcript_hex": transcript_hex(transcript),
            "transcript_hex_in": transcript_hex(transcript, "in"),
            "transcript_hex_out": transcript_hex(transcript, "out")}


def side(proc: Proc | None, started: bool, ready: bool | None, timed_out: bool,
         transcript: list | None = None, events: frozenset | None = None) -> dict:
    """The observations of one side (candidate or peer) of a case; with EVENTS (the contract's
    event names) the stdout lines that break the shim contract are counted too."""
    if proc is None or proc.popen is None:
        return {"started": started, "exit": None, "signal": None, "ready": ready,
                "timed_out": timed_out, "events": [], "event": {}, "stdout": "", "stderr": "",
                "crash": None, "stopped": False, "elapsed": None, "transcript": transcript or [],
                "violations": 0, "violation_lines": [], **_wire(transcript or [])}
    stderr = proc.stderr.text()
    by_name: dict[str, list] = {}
    for event in proc.stdout.events:
        by_name.setdefault(str(event.get("event")), []).append(event)
    exit_code = proc.returncode if proc.returncode is not None and proc.returncode >= 0 else None
    stdout = proc.stdout.text()
    bad, bad_lines = violations(stdout, proc.stdout.truncated, events) if events else (0, [])
    return {
        "started": True, "exit": exit_code, "signal": proc.signal, "ready": ready,
        "timed_out": timed_out, "stopped": proc.stopped_by_harness, "killed": proc.killed,
        "elapsed": proc.elapsed, "events": proc.stdout.events, "event": by_name,
        "stdout": stdout, "stderr": stderr, "crash": crash(proc, stderr),
        "violations": bad, "violation_lines": bad_lines,
        "stdout_bytes": proc.stdout.total, "stderr_bytes": proc.stderr.total,
        "truncated": proc.stdout.truncated or proc.stderr.truncated,
        "events_dropped": proc.stdout.events_dropped,
        "escaped": proc.leftovers, "transcript": transcript or [],
        **_wire(transcript or []),
    }


def summary(obs: dict) -> dict:
    """A compact copy for results.json (full texts live in the artifacts)."""
    out: dict = {}
    for name, value in obs.items():
        if name in ("candidate", "peer") and isinstance(value, dict):
            out[name] = {k: v for k, v in value.items()
                         if k not in ("stdout", "stderr", "events", "event", "transcript")
                         and not k.startswith("transcript_hex")}
            out[name]["events"] = value.get("events", [])[:20]
            out[name]["stderr_tail"] = value.get("stderr", "")[-TAIL:]
        elif name == "kdc" and isinstance(value, dict):
            out[name] = {k: v for k, v in value.items() if k != "requests"}
        else:
            out[name] = value
    return out
