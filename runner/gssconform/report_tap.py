"""results.tap: TAP version 13, one test point per case x candidate (x role, x repeat),
with YAML diagnostics (reason, spec references, artifacts)."""

from __future__ import annotations

import json

# Verdict -> (TAP status, directive). XFAIL is "not ok # TODO" (an expected failure); SKIP and
# UNIMPLEMENTED are skips; NON-STRICT and INFO pass (they only fail under --strict, as FAIL).
_TAP = {"PASS": ("ok", ""), "INFO": ("ok", ""), "NON-STRICT": ("ok", ""),
        "SKIP": ("ok", "SKIP"), "UNIMPLEMENTED": ("ok", "SKIP"), "XFAIL": ("not ok", "TODO"),
        "FAIL": ("not ok", ""), "CRASH": ("not ok", ""), "TIMEOUT": ("not ok", ""),
        "ERROR": ("not ok", ""), "XPASS": ("not ok", "")}


def _yaml(value, indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            if not item:
                continue
            lines.append(f"{pad}{json.dumps(str(key))}:")
            lines += _yaml(item, indent + 2)
        elif isinstance(item, list):
            if not item:
                continue
            lines.append(f"{pad}{json.dumps(str(key))}:")
            for element in item:
                if isinstance(element, dict):
                    sub = _yaml(element, indent + 4)
                    if sub:
                        lines.append(f"{pad}  - {sub[0].lstrip()}")
                        lines += sub[1:]
                else:
                    lines.append(f"{pad}  - {json.dumps(element)}")
        else:
            lines.append(f"{pad}{json.dumps(str(key))}: {json.dumps(item)}")
    return lines


def test_name(result: dict) -> str:
    """The name of a result's test point."""
    name = f"{result['case']} [{result['candidate']} as {result['role']}]"
    return name + (f" #{result['repeat']}" if result.get("repeat", 1) > 1 else "")


def render(doc: dict) -> str:
    """The TAP 13 text of a results document."""
    results = doc["results"]
    lines = ["TAP version 13", f"1..{len(results)}"]
    for number, result in enumerate(results, start=1):
        status, directive = _TAP[result["verdict"]]
        name = test_name(result).replace("#", "\\#")
        tail = f" # {directive} {result['verdict']}: {result['reason']}" if directive else \
            f" - {result['verdict']}"
        lines.append(f"{status} {number} - {name}{tail.replace(chr(10), ' ')}")
        case = doc.get("cases", {}).get(result["case"], {})
        judged = {"actual_verdict": result["actual_verdict"]} if "actual_verdict" in result else {}
        diag = {"verdict": result["verdict"], **judged, "reason": result["reason"],
                "case": result["case"], "candidate": result["candidate"],
                "role": result["role"], "title": case.get("title", ""),
                "refs": [{k: r[k] for k in ("doc", "section", "level", "quote") if r.get(k)}
                         for r in case.get("refs", [])],
                "failed_checks": [c["message"] + " (" + c["seen"] + ")"
                                  for c in result.get("checks", []) if c["passed"] is False],
                "artifacts": result.get("artifacts", {})}
        lines.append("  ---")
        lines += _yaml(diag, 2)
        lines.append("  ...")
    return "\n".join(lines) + "\n"
