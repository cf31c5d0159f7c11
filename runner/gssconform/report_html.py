"""index.html (candidates x cases matrix, coloured by verdict, with filters) and one static page
per case (spec quotes, checks, decoded transcript, Kerberos trace, KDC lines, stderr).
No external assets: styles and the filter script are inline."""

from __future__ import annotations

import html
import json
import os
import shlex

from .artifacts import read_text
from .verdict import VERDICTS, counts, known_failures, label as _label

VERDICT_COLOURS = {"PASS": "#8fd18f", "FAIL": "#f08080", "NON-STRICT": "#f5d76e",
                   "INFO": "#b9d7f0", "UNIMPLEMENTED": "#d9c2ec", "CRASH": "#c0392b",
                   "TIMEOUT": "#f0a35e", "ERROR": "#9e9e9e", "SKIP": "#e6e6e6",
                   "XFAIL": "#c8e6c9", "XPASS": "#ff7043"}
STYLE = """
body{font-family:sans-serif;margin:1.2em;color:#222}
table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f0f0f0}
code,pre{font-family:monospace;font-size:90%}
td code{word-break:break-all}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.5em;overflow:auto;max-height:30em}
blockquote{margin:0;padding-left:.6em;border-left:3px solid #999;font-style:italic}
.v{display:inline-block;padding:0 .3em;margin:1px;border-radius:3px;font-size:85%}
td.cell a{color:#000;text-decoration:none;display:block}
.uncovered{background:#fff4f4}
.known{background:rgba(255,255,255,.8);padding:0 .2em;border-radius:2px}
.problem{color:#a00}
#filters label{margin-right:.6em;white-space:nowrap}
"""
ARTIFACT_CAP = 64 << 10
TRANSCRIPT_CAP = 16 << 20   # a transcript is read this far for its first and last records
TABLE_HEAD, TABLE_TAIL = 150, 50
BENCH_PAGE = "bench/index.html"   # written by `make bench` (bench/throughput --out reports/bench)
# A check's outcome: None when its `when` guard did not hold.
_OUTCOME = {True: "passed", False: "<b>failed</b>", None: "not applicable"}


def page_name(case_id: str, role: str) -> str:
    """The file name of a case page, relative to the cases/ folder."""
    return case_id.replace("/", "__") + f"--{role}.html"


def _cell_colour(verdict: str) -> str:
    return VERDICT_COLOURS.get(verdict, "#fff")


def _background(result: dict) -> str:
    """CSS background of a result: its verdict's colour, or for an XFAIL/XPASS stripes of the
    verdict the case judged, so a known failure still reads as the candidate's failure."""
    colour = _cell_colour(result["verdict"])
    actual = result.get("actual_verdict")
    if not actual:
        return colour
    other = _cell_colour(actual)
    return f"repeating-linear-gradient(135deg,{other} 0 4px,{colour} 4px 12px)"


def _label_html(result: dict, label: str | None = None) -> str:
    """The label escaped, on a light backing where the stripes of an XFAIL/XPASS lie under it."""
    text = html.escape(label if label is not None else _label(result))
    return f"<span class='known'>{text}</span>" if result.get("actual_verdict") else text


def _candidate_summary(results: list[dict], candidates: list[str]) -> str:
    """One row per candidate: how many results of each verdict, expected failures split by
    the verdict their case judged."""
    esc = html.escape
    shown = [v for v in VERDICTS if any(r["verdict"] == v for r in results)]
    known = known_failures(results)
    table = counts(results)
    rows = ["<table id='summary'><tr><th>candidate</th>"
            + "".join(f"<th>{v}</th>" for v in shown)
            + "<th>total</th><th>known failures (xfail), as judged</th></tr>"]
    for name in candidates:
        row = table.get(name, {})
        rows.append(f"<tr><td>{esc(name)}</td>"
                    + "".join(f"<td>{row.get(v) or ''}</td>" for v in shown)
                    + f"<td>{sum(row.values())}</td><td>"
                    + ", ".join(f"{v} {n}" for v, n in known.get(name, {}).items())
                    + "</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _read(out: str, rel: str | None, cap: int = ARTIFACT_CAP) -> str | None:
    """The text of an artifact (plain or .gz), cut after cap bytes with a note."""
    if not rel:
        return None
    try:
        text = read_text(os.path.join(out, rel), cap + 1)
    except OSError:
        return None
    if len(text.encode("utf-8", "replace")) <= cap:
        return text
    return text[:cap] + "\n[... cut: see the artifact file]"


def _command_lines(text: str) -> str:
    try:
        commands = json.loads(text)
        return "\n".join(f"{side}: {shlex.join(argv)}" for side, argv in commands.items())
    except (ValueError, TypeError, AttributeError):
        return text


def _transcript_table(text: str) -> str:
    """The records of a transcript as a table: the first TABLE_HEAD and last TABLE_TAIL of a
    long one, with a row saying how many are not shown (the artifact file has them)."""
    lines = text.splitlines()
    hidden = max(0, len(lines) - TABLE_HEAD - TABLE_TAIL)
    if hidden:
        lines = lines[:TABLE_HEAD] + [json.dumps({"kind": f"[{hidden} records not shown: see "
                                                          "the artifact file]"})] \
            + lines[-TABLE_TAIL:]
    rows = []
    for line in lines:
        try:
            frame = json.loads(line)
        except ValueError:
            frame = {"raw": line}
        if not isinstance(frame, dict):
            frame = {"value": frame}
        rows.append(frame)
    if not rows:
        return "<p>(empty transcript)</p>"
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    esc = html.escape
    out = ["<table><tr>" + "".join(f"<th>{esc(k)}</th>" for k in keys) + "</tr>"]
    for row in rows:
        cells = []
        for key in keys:
            value = row.get(key, "")
            text = value if isinstance(value, str) else json.dumps(value)
            if len(text) > 200:
                text = text[:200] + "..."
            cells.append(f"<td><code>{esc(text)}</code></td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _case_page(doc: dict, case_id: str, role: str, results: list[dict], out: str) -> str:
    esc = html.escape
    case = doc.get("cases", {}).get(case_id, {"id": case_id, "title": "", "refs": [],
                                                "checks": []})
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{esc(case_id)} ({esc(role)})</title><style>{STYLE}</style></head><body>",
             "<p><a href='../index.html'>&larr; matrix</a></p>",
             f"<h1><code>{esc(case_id)}</code></h1><p>{esc(case.get('title', ''))}</p>",
             f"<p>candidate role <b>{esc(role)}</b>; reference peer role "
             f"<b>{esc(str(case.get('peer_role') or '-'))}</b>; defined in "
             f"<code>{esc(str(case.get('file', '')))}:{case.get('line') or ''}</code></p>"]
    if case.get("description"):
        parts.append(f"<p>{esc(case['description'])}</p>")
    if case.get("refs"):
        parts.append("<h2>Specification</h2>")
        for ref in case["refs"]:
            parts.append(f"<p><b>{esc(ref['doc'])}</b> {esc(ref.get('revision', ''))} "
                         f"&sect;{esc(ref['section'])} <span class='v' style='background:#eee'>"
                         f"{esc(ref['level'])}</span> {esc(ref.get('requirement', ''))}</p>"
                         f"<blockquote>{esc(ref['quote'])}</blockquote>")
    for result in results:
        anchor = esc(f"{result['candidate']}-{result.get('repeat', 1)}")
        parts.append(f"<h2 id='{anchor}'>{esc(result['candidate'])}"
                     f"{' #' + str(result['repeat']) if result.get('repeat', 1) > 1 else ''}: "
                     f"<span class='v' style='background:{_background(result)}'>"
                     f"{_label_html(result)}</span></h2>")
        if result.get("actual_verdict"):
            parts.append(f"<p>The case judged <b>{esc(result['actual_verdict'])}</b>; the "
                         f"candidate's profile expects it, so the run counts it as "
                         f"{esc(result['verdict'])}.</p>")
        parts.append(f"<p>{esc(result['reason'])}</p>")
        if result.get("checks"):
            parts.append("<table><tr><th>check</th><th>level</th><th>observed</th>"
                         "<th>outcome</th></tr>")
            for check in result["checks"]:
                parts.append(f"<tr><td>{esc(check['message'])}</td><td>{esc(check['level'])}"
                             f"</td><td><code>{esc(check['seen'])}</code></td><td>"
                             f"{_OUTCOME[check['passed']]}</td></tr>")
            parts.append("</table>")
        obs = result.get("observations", {})
        for side in ("candidate", "peer"):
            if side in obs:
                facts = {k: obs[side].get(k) for k in ("exit", "signal", "ready", "timed_out",
                                                       "stopped", "elapsed", "crash",
                                                       "truncated", "escaped")}
                parts.append(f"<p><b>{side}</b>: " + ", ".join(
                    f"{k}={esc(json.dumps(v))}" for k, v in facts.items() if v not in (None, [])
                ) + "</p>")
        artifacts = result.get("artifacts", {})
        sections = [("commands.json", "Command lines"),
                    ("peer.transcript.jsonl", "Reference peer transcript (decoded)"),
                    ("candidate.transcript.jsonl", "Candidate transcript"),
                    ("peer.krb5trace", "KRB5_TRACE of the reference peer"),
                    ("candidate.krb5trace", "KRB5_TRACE of the candidate"),
                    ("kdc.log", "KDC log lines of the case"),
                    ("candidate.stderr", "Candidate stderr"),
                    ("candidate.stdout", "Candidate stdout (events)"),
                    ("peer.stderr", "Reference peer stderr"),
                    ("peer.stdout", "Reference peer stdout (events)")]
        for key, title in sections:
            text = _read(out, artifacts.get(key),
                         TRANSCRIPT_CAP if key.endswith("transcript.jsonl") else ARTIFACT_CAP)
            if text is None:
                continue
            link = f"<a href='../{esc(artifacts[key])}'>{esc(key)}</a>"
            if key == "commands.json":
                text = _command_lines(text)
            if key.endswith("transcript.jsonl"):
                parts.append(f"<h3>{title} ({link})</h3>{_transcript_table(text)}")
            else:
                parts.append(f"<h3>{title} ({link})</h3><pre>{esc(text) or '(empty)'}</pre>")
    parts.append("</body></html>\n")
    return "".join(parts)


_SCRIPT = """
function applyFilters() {
  var boxes = document.querySelectorAll('#filters input[type=checkbox]');
  var shown = {};
  for (var i = 0; i < boxes.length; i++) { shown[boxes[i].value] = boxes[i].checked; }
  var text = document.getElementById('casefilter').value.toLowerCase();
  var rows = document.querySelectorAll('#matrix tbody tr');
  var visible = 0;
  for (var r = 0; r < rows.length; r++) {
    var row = rows[r];
    var idMatch = row.getAttribute('data-case').toLowerCase().indexOf(text) >= 0;
    var cells = row.querySelectorAll('td.cell');
    var any = false;
    for (var c = 0; c < cells.length; c++) {
      var verdicts = cells[c].getAttribute('data-verdicts').split(' ');
      for (var v = 0; v < verdicts.length; v++) { if (shown[verdicts[v]]) { any = true; } }
    }
    var show = idMatch && (any || cells.length === 0);
    row.style.display = show ? '' : 'none';
    if (show) { visible++; }
  }
  document.getElementById('visible').textContent = String(visible);
}
document.addEventListener('DOMContentLoaded', function () {
  var inputs = document.querySelectorAll('#filters input');
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener('input', applyFilters);
    inputs[i].addEventListener('change', applyFilters);
  }
  applyFilters();
});
"""


def _build_note(build) -> str:
    """', build DIR (how chosen)' for the index page, marking a sanitized build."""
    if not isinstance(build, dict):
        return ""
    san = ", <b>sanitized (ASan)</b>" if build.get("sanitized") else ""
    where, how = html.escape(str(build.get("dir", "?"))), html.escape(str(build.get("chosen_by")))
    return f", build {where} ({how}{san})"


BENCH_NOT_RUN = "benchmarks: not run (<code>make bench</code> writes them)"


def _bench_link(out: str) -> str:
    """The link to the benchmark report `make bench` writes into out/bench/, or 'not run'."""
    if os.path.isfile(os.path.join(out, BENCH_PAGE)):
        return f"<a href='{BENCH_PAGE}'>benchmarks</a>"
    return BENCH_NOT_RUN


def refresh_bench_link(out: str) -> bool:
    """After `make bench` wrote out/bench/ into a report folder whose index.html said 'not run'
    (the report was written first), turn that line into the link; whether index.html changed.
    A folder without an index, or one already linked, is left alone."""
    index = os.path.join(out, "index.html")
    try:
        with open(index, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return False
    linked = text.replace(BENCH_NOT_RUN, _bench_link(out))
    if linked == text:
        return False
    with open(index + ".partial", "w", encoding="utf-8") as handle:
        handle.write(linked)
    os.replace(index + ".partial", index)
    return True


def write(doc: dict, out: str) -> None:
    """Write index.html and cases/*.html into out."""
    esc = html.escape
    results = doc["results"]
    candidates = []
    for result in results:
        if result["candidate"] not in candidates:
            candidates.append(result["candidate"])
    rows: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for result in results:
        rows.setdefault((result["case"], result["role"]), {}).setdefault(
            result["candidate"], []).append(result)
    os.makedirs(os.path.join(out, "cases"), exist_ok=True)
    for (case_id, role), by_candidate in rows.items():
        flat = [r for name in candidates for r in by_candidate.get(name, [])]
        with open(os.path.join(out, "cases", page_name(case_id, role)), "w",
                  encoding="utf-8") as handle:
            handle.write(_case_page(doc, case_id, role, flat, out))
    meta = doc["meta"]
    versions = {c["name"]: c.get("version", "") for c in doc.get("candidates", [])}
    totals = {v: 0 for v in VERDICTS}
    for result in results:
        totals[result["verdict"]] += 1
    realm = meta.get("realm") or {}
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>gssconform results</title>", f"<style>{STYLE}</style>",
             f"<script>{_SCRIPT}</script></head><body>",
             "<h1>gssconform results</h1>",
             f"<p>gssconform {esc(str(meta.get('version', '')))}, specs "
             f"{esc(', '.join(meta.get('specs', [])))}, started {esc(str(meta.get('started')))}, "
             f"realm {esc(str(realm.get('realm', '-')))} "
             f"{esc(', '.join(realm.get('enctypes', []) or []))}, deadline "
             f"{esc(str(meta.get('deadline')))} s{', strict' if meta.get('strict') else ''}"
             f"{', <b>interrupted</b>' if meta.get('interrupted') else ''}"
             f"{_build_note(meta.get('build'))}. "
             f"<a href='requirements.html'>Requirement coverage</a> &middot; "
             f"<a href='results.json'>results.json</a> &middot; <a href='junit.xml'>junit.xml</a>"
             f" &middot; <a href='results.tap'>results.tap</a> &middot; {_bench_link(out)}</p>",
             "<p>" + " ".join(f"<span class='v' style='background:{_cell_colour(v)}'>{v} "
                              f"{n}</span>" for v, n in totals.items() if n) + "</p>",
             _candidate_summary(results, candidates),
             "<div id='filters'><b>show:</b> "]
    for verdict in VERDICTS:
        parts.append(f"<label><input type='checkbox' value='{verdict}' checked> "
                     f"<span class='v' style='background:{_cell_colour(verdict)}'>{verdict}"
                     f"</span></label>")
    parts.append(" <label>case <input type='text' id='casefilter' placeholder='id contains'>"
                 "</label> <span id='visible'></span> rows</div>")
    parts.append("<table id='matrix'><thead><tr><th>case</th><th>role</th>")
    for name in candidates:
        parts.append(f"<th title='{esc(versions.get(name, ''))}'>{esc(name)}<br><small>"
                     f"{esc(versions.get(name, '')[:40])}</small></th>")
    parts.append("</tr></thead><tbody>")
    for (case_id, role), by_candidate in rows.items():
        title = doc.get("cases", {}).get(case_id, {}).get("title", "")
        page = "cases/" + page_name(case_id, role)
        parts.append(f"<tr data-case='{esc(case_id)}'><td><a href='{esc(page)}' "
                     f"title='{esc(title)}'><code>{esc(case_id)}</code></a></td>"
                     f"<td>{esc(role)}</td>")
        for name in candidates:
            cell = by_candidate.get(name, [])
            if not cell:
                parts.append("<td></td>")
                continue
            verdicts = [r["verdict"] for r in cell]
            worst = cell[0]
            for result in cell:
                if worst["verdict"] == "PASS" and result["verdict"] != "PASS":
                    worst = result
            labels = [_label(r) for r in cell]
            label = " ".join(sorted(set(labels), key=labels.index))
            shown = " ".join(sorted(set(verdicts), key=verdicts.index))
            parts.append(f"<td class='cell' data-verdicts='{esc(shown)}' "
                         f"style='background:{_background(worst)}' "
                         f"title='{esc(cell[0]['reason'])}'>"
                         f"<a href='{esc(page)}#{esc(name)}-{cell[0].get('repeat', 1)}'>"
                         f"{_label_html(worst, label)}</a></td>")
        parts.append("</tr>")
    parts.append("</tbody></table></body></html>\n")
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as handle:
        handle.write("".join(parts))
