"""junit.xml: one <testsuite> per candidate, one <testcase> per case x role (x repeat)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .report_tap import test_name
from .verdict import label

_FAILURE = ("FAIL", "CRASH", "TIMEOUT", "XPASS")
_SKIPPED = ("SKIP", "UNIMPLEMENTED", "XFAIL")


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20 and ch not in
                   "\ufffe\uffff")


def render(doc: dict) -> bytes:
    """The JUnit XML bytes of a results document."""
    root = ET.Element("testsuites", name="gssconform")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    names = []
    for result in doc["results"]:
        if result["candidate"] not in names:
            names.append(result["candidate"])
    versions = {c["name"]: c.get("version", "") for c in doc.get("candidates", [])}
    total_time = 0.0
    for name in names:
        suite = ET.SubElement(root, "testsuite", name=name,
                              timestamp=doc["meta"].get("started", "")[:19],
                              hostname=doc["meta"].get("host", "localhost") or "localhost")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="version", value=_clean(versions.get(name, "")))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        for result in doc["results"]:
            if result["candidate"] != name:
                continue
            elapsed = float(result.get("elapsed") or 0.0)
            suite_time += elapsed
            case = ET.SubElement(suite, "testcase", name=_clean(test_name(result)),
                                 classname=f"{name}.{result['spec']}",
                                 time=f"{elapsed:.3f}")
            counts["tests"] += 1
            verdict = result["verdict"]
            message = _clean(f"{label(result)}: {result['reason']}")
            if verdict in _FAILURE:
                counts["failures"] += 1
                node = ET.SubElement(case, "failure", message=message, type=verdict)
                node.text = "\n".join(_clean(c["message"] + " (" + c["seen"] + ")")
                                      for c in result.get("checks", []) if c["passed"] is False)
            elif verdict == "ERROR":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=message, type=verdict)
            elif verdict in _SKIPPED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=message)
            out = ET.SubElement(case, "system-out")
            out.text = _clean("\n".join([f"verdict: {verdict}", f"reason: {result['reason']}"] +
                                        [f"{k}: {v}" for k, v in
                                         result.get("artifacts", {}).items()]))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{suite_time:.3f}")
        total_time += suite_time
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
