"""requirements.json / requirements.html: every catalogued MUST/SHOULD with the cases that cover
it and the coverage percentage per document (in the spirit of s2n-tls's duvet report)."""

from __future__ import annotations

import html
import os

from . import requirements
from .errors import InputError
from .report_html import STYLE, VERDICT_COLOURS
from .scenario import load_spec


def _all_cases(doc: dict, scenarios: str) -> tuple[dict[str, list[str]], list[str]]:
    """requirement id -> covering case ids, from every scenario file and the run's cases."""
    covering: dict[str, set[str]] = {}
    problems = []
    if os.path.isdir(scenarios):
        for spec in sorted(os.listdir(scenarios)):
            if spec == "requirements" or not os.path.isdir(os.path.join(scenarios, spec)):
                continue
            try:
                for case in load_spec(scenarios, spec):
                    for req in case.requirement_ids():
                        covering.setdefault(req, set()).add(case.id)
            except InputError as err:
                problems.append(str(err))
    for case in doc.get("cases", {}).values():
        for req in case.get("requirements", []):
            covering.setdefault(req, set()).add(case["id"])
    return {k: sorted(v) for k, v in covering.items()}, problems


def coverage(doc: dict, scenarios: str) -> dict:
    """The coverage document: documents with counts, requirements with cases and verdicts."""
    try:
        docs = requirements.load(scenarios)
        problems: list[str] = []
    except InputError as err:
        docs, problems = [], [str(err)]
    covering, more = _all_cases(doc, scenarios)
    problems += more
    verdicts: dict[str, list[dict]] = {}
    for result in doc.get("results", []):
        verdicts.setdefault(result["case"], []).append(
            {"candidate": result["candidate"], "role": result["role"],
             "verdict": result["verdict"]})
    out_docs, out_reqs = [], []
    for document in docs:
        covered = 0
        for req in document.requirements:
            cases = covering.get(req.id, [])
            covered += bool(cases)
            out_reqs.append({"id": req.id, "doc": document.id, "section": req.section,
                             "level": req.level, "quote": req.quote, "note": req.note,
                             "cases": cases,
                             "results": [dict(v, case=c) for c in cases
                                         for v in verdicts.get(c, [])]})
        total = len(document.requirements)
        out_docs.append({"id": document.id, "title": document.title,
                         "revision": document.revision, "url": document.url,
                         "requirements": total, "covered": covered,
                         "percent": round(100.0 * covered / total, 1) if total else 0.0})
    total = sum(d["requirements"] for d in out_docs)
    covered = sum(d["covered"] for d in out_docs)
    return {"format": "gssconform-requirements/1", "documents": out_docs,
            "requirements": out_reqs, "problems": problems,
            "total": {"requirements": total, "covered": covered,
                      "percent": round(100.0 * covered / total, 1) if total else 0.0}}


def render_html(cov: dict) -> str:
    """A static page: per document a table of requirements, quotes, covering cases."""
    esc = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>gssconform: requirement coverage</title>", f"<style>{STYLE}</style>",
             "</head><body><h1>Requirement coverage</h1>",
             f"<p><a href='index.html'>results matrix</a> &middot; overall "
             f"{cov['total']['covered']}/{cov['total']['requirements']} requirements covered "
             f"({cov['total']['percent']}%)</p>"]
    for problem in cov.get("problems", []):
        parts.append(f"<p class='problem'>{esc(problem)}</p>")
    parts.append("<table><tr><th>document</th><th>requirements</th><th>covered</th>"
                 "<th>coverage</th></tr>")
    for document in cov["documents"]:
        parts.append(f"<tr><td><a href='#{esc(document['id'])}'>{esc(document['id'])}</a> "
                     f"{esc(document['title'])}</td><td>{document['requirements']}</td>"
                     f"<td>{document['covered']}</td><td>{document['percent']}%</td></tr>")
    parts.append("</table>")
    for document in cov["documents"]:
        link = f" (<a href='{esc(document['url'])}'>source</a>)" if document["url"] else ""
        parts.append(f"<h2 id='{esc(document['id'])}'>{esc(document['id'])}: "
                     f"{esc(document['title'])} {esc(document['revision'])}{link}</h2>")
        parts.append("<table><tr><th>id</th><th>section</th><th>level</th><th>quote</th>"
                     "<th>cases</th></tr>")
        for req in cov["requirements"]:
            if req["doc"] != document["id"]:
                continue
            cells = []
            for case in req["cases"]:
                marks = "".join(
                    f"<span class='v' style='background:{VERDICT_COLOURS[r['verdict']]}' "
                    f"title='{esc(r['candidate'])} as {esc(r['role'])}'>"
                    f"{esc(r['verdict'])}</span>" for r in req["results"] if r["case"] == case)
                cells.append(f"<code>{esc(case)}</code> {marks}")
            cls = "" if req["cases"] else " class='uncovered'"
            note = f"<br><em>{esc(req['note'])}</em>" if req["note"] else ""
            parts.append(f"<tr{cls}><td><code>{esc(req['id'])}</code></td>"
                         f"<td>{esc(req['section'])}</td><td>{esc(req['level'])}</td>"
                         f"<td><blockquote>{esc(req['quote'])}</blockquote>{note}</td>"
                         f"<td>{'<br>'.join(cells) or 'not covered'}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
