"""Writing every report of a results document, the one-screen summary, and merging shards."""

from __future__ import annotations

import json
import os
import shutil

from . import report_html, report_junit, report_requirements, report_tap
from .errors import InputError
from .verdict import FAILING, VERDICTS, counts, known_failures

FILES = ("results.json", "results.tap", "junit.xml", "index.html", "requirements.html",
         "requirements.json")
# Written while a run goes: a header line (meta, candidates, cases), then one {"result": ...}
# line per finished case, then {"end": true}. A run killed outright leaves it without the end.
STREAM = "results.jsonl"
STREAM_FORMAT = "gssconform-results-stream/1"


def read_stream(path: str) -> dict:
    """A results document rebuilt from a results.jsonl (InputError if it has no header line).
    Without its end line the run did not finish: meta.interrupted and meta.unfinished are set,
    and meta.planned keeps the number of cases it meant to run. A last line cut short is
    ignored (a line is written in one append, but a full disk can still cut one)."""
    doc = None
    ended = False
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                if number == 1 and record.get("format") == STREAM_FORMAT:
                    doc = {"format": "gssconform-results/1", "meta": record.get("meta", {}),
                           "candidates": record.get("candidates", []),
                           "cases": record.get("cases", {}), "results": []}
                elif doc is not None and isinstance(record.get("result"), dict):
                    doc["results"].append(record["result"])
                elif record.get("end") is True:
                    ended = True
    except OSError as err:
        raise InputError(f"cannot read results: {err}", path) from None
    if doc is None:
        raise InputError(f"not a gssconform results stream (no '{STREAM_FORMAT}' header)",
                         path, 1)
    if not ended:
        doc["meta"]["interrupted"] = True
        doc["meta"]["unfinished"] = True
    return doc


def write_all(doc: dict, out: str, scenarios: str) -> dict[str, str]:
    """Write results.json, results.tap, junit.xml, index.html (+ case pages) and the
    requirement coverage reports into out; returns their paths."""
    os.makedirs(out, exist_ok=True)
    paths = {name: os.path.join(out, name) for name in FILES}
    with open(paths["results.json"], "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=1, default=str)
        handle.write("\n")
    with open(paths["results.tap"], "w", encoding="utf-8") as handle:
        handle.write(report_tap.render(doc))
    with open(paths["junit.xml"], "wb") as handle:
        handle.write(report_junit.render(doc))
    coverage = report_requirements.coverage(doc, scenarios)
    with open(paths["requirements.json"], "w", encoding="utf-8") as handle:
        json.dump(coverage, handle, indent=1)
        handle.write("\n")
    with open(paths["requirements.html"], "w", encoding="utf-8") as handle:
        handle.write(report_requirements.render_html(coverage))
    report_html.write(doc, out)
    return paths


def summary_line(results: list[dict], planned: int | None = None) -> str:
    """'N results: 3 PASS, 1 FAIL' over all candidates; with PLANNED (the cases the run meant
    to run) and fewer results, how many were not run."""
    total: dict[str, int] = {}
    for result in results:
        total[result["verdict"]] = total.get(result["verdict"], 0) + 1
    parts = [f"{total[v]} {v}" for v in VERDICTS if total.get(v)]
    line = f"{len(results)} results: {', '.join(parts) or 'none'}"
    if planned is not None and planned > len(results):
        line += f"; {planned - len(results)} of {planned} planned cases not run"
    return line


def failed_lines(results: list[dict]) -> list[str]:
    """One line per result that fails the run (FAIL, CRASH, TIMEOUT, XPASS, ERROR): verdict,
    case, candidate and role, and the reason."""
    return [f"{r['verdict']}: {r['case']} [{r['candidate']} {r['role']}"
            f"{' #' + str(r['repeat']) if r.get('repeat', 1) != 1 else ''}]: "
            f"{r.get('reason', '')}"[:400]
            for r in results if r["verdict"] in FAILING or r["verdict"] == "ERROR"]


def summary_table(results: list[dict], names: list[str] = ()) -> str:
    """The one-screen summary of `gssconform report`: one row per candidate with a column for
    every verdict and the row's total (names lists candidates that have no result yet)."""
    labels = {"NON-STRICT": "nonstrict", "UNIMPLEMENTED": "unimpl"}
    shown = [(v, labels.get(v, v.lower())) for v in VERDICTS] + [("total", "total")]
    header = f"{'candidate':<14}" + "".join(f"{label:>{len(label) + 1}}" for _, label in shown)
    lines = [header, "-" * len(header)]
    table = counts(results)
    for name in names:
        table.setdefault(name, {v: 0 for v in VERDICTS})
    for name, row in sorted(table.items()):
        row = dict(row, total=sum(row.values()))
        lines.append(f"{name[:14]:<14}" + "".join(f"{row[v]:>{len(label) + 1}}"
                                                   for v, label in shown))
    for name, judged in sorted(known_failures(results).items()):
        lines.append(f"{name}: {sum(judged.values())} known failures (xfail in its profile), "
                     "judged " + ", ".join(f"{n} {v}" for v, n in judged.items()))
    return "\n".join(lines)


def _order(result: dict) -> tuple:
    return (result["case"], result["candidate"], result["role"], result.get("repeat", 1))


def merge(dirs: list[str], out: str) -> dict:
    """Combine the results.json of shard folders into one document whose artifact paths are
    relative to out, where copy_artifacts puts the shards' files: the merged folder is then
    self-contained (a CI artifact of it alone has no dead link)."""
    copies: list[tuple[str, str]] = []
    merged: dict = {"format": "gssconform-results/1", "meta": {}, "candidates": [], "cases": {},
                    "results": []}
    shards = []
    planned = []
    seen = set()
    for folder in dirs:
        path = os.path.join(folder, "results.json")
        stream = os.path.join(folder, STREAM)
        try:
            if not os.path.exists(path) and os.path.exists(stream):
                path, doc = stream, read_stream(stream)  # a run that was killed
            else:
                with open(path, encoding="utf-8") as handle:
                    doc = json.load(handle)
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read results: {err}", path) from None
        if not isinstance(doc, dict) or doc.get("format") != "gssconform-results/1":
            raise InputError("not a gssconform results file", path, None, "format")
        _check_shape(doc, path)
        if not merged["meta"]:
            merged["meta"] = dict(doc["meta"])
        elif doc["meta"].get("strict") != merged["meta"].get("strict"):
            raise InputError("was run with a different --strict setting than "
                             f"{shards[0]['dir']}: its verdicts do not mix", path, None,
                             "meta.strict")
        planned.append(int(doc["meta"].get("planned") or len(doc["results"])))
        shards.append({"dir": folder, "shard": doc["meta"].get("shard"),
                       "started": doc["meta"].get("started"),
                       "interrupted": doc["meta"].get("interrupted", False)})
        names = {c["name"] for c in merged["candidates"]}
        merged["candidates"] += [c for c in doc["candidates"] if c["name"] not in names]
        merged["cases"].update(doc["cases"])
        for result in doc["results"]:
            key = _order(result)
            if key in seen:
                raise InputError(f"result {key} appears in more than one shard", path)
            seen.add(key)
            result = dict(result)
            artifacts = {}
            for name, rel in result.get("artifacts", {}).items():
                # Items are unique across shards and an artifact path names its item, so the
                # shard's relative path is free in the merged folder too.
                dest = os.path.normpath(rel)
                if os.path.isabs(dest) or dest.startswith(os.pardir):
                    dest = os.path.join("artifacts", "outside", str(len(copies)), name)
                copies.append((os.path.join(folder, rel), dest))
                artifacts[name] = dest
            result["artifacts"] = artifacts
            merged["results"].append(result)
    merged["results"].sort(key=_order)
    _check_shards(shards)
    merged["meta"]["planned"] = sum(planned)
    merged["meta"]["shard"] = "merged"
    merged["meta"]["shards"] = shards
    merged["meta"]["interrupted"] = any(s["interrupted"] for s in shards)
    merged["_copies"] = copies
    return merged


def copy_artifacts(doc: dict, out: str) -> None:
    """Copy the shard artifact files merge() recorded into out (after out was cleaned); a file
    a shard no longer has stays a link the case page marks as missing, as in the shard."""
    for source, dest in doc.pop("_copies", []):
        target = os.path.join(out, dest)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise InputError(f"cannot copy an artifact into the merged report: {err}",
                             source) from None


def _check_shape(doc: dict, path: str) -> None:
    """InputError naming the first part of a results document merge cannot use."""
    for key, kind in (("meta", dict), ("candidates", list), ("cases", dict), ("results", list)):
        if not isinstance(doc.get(key), kind):
            raise InputError(f"'{key}' is missing or not a{'n' if kind is dict else ''} "
                             f"{'object' if kind is dict else 'array'}", path, None, key)
    for number, result in enumerate(doc["results"]):
        missing = [k for k in ("case", "candidate", "role", "verdict", "reason")
                   if not isinstance(result, dict) or k not in result]
        if missing:
            raise InputError(f"lacks {', '.join(missing)}", path, None, f"results[{number}]")


def _check_shards(shards: list[dict]) -> None:
    """InputError unless the sharded folders form whole sets: for every N, shards 1/N to N/N
    each exactly once (a missing shard would silently drop its results)."""
    by_count: dict[int, list[int]] = {}
    for shard in shards:
        try:
            index, count = (int(part) for part in str(shard["shard"]).split("/"))
        except ValueError:
            continue  # an already merged report
        by_count.setdefault(count, []).append(index)
    for count, indexes in by_count.items():
        if count > 1 and sorted(indexes) != list(range(1, count + 1)):
            missing = sorted(set(range(1, count + 1)) - set(indexes))
            twice = sorted({i for i in indexes if indexes.count(i) > 1})
            problem = (f"missing shard {', '.join(f'{i}/{count}' for i in missing)}" if missing
                       else f"shard {', '.join(f'{i}/{count}' for i in twice)} given twice")
            raise InputError(f"incomplete shard set: {problem}", shards[0]["dir"])
