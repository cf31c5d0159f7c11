"""Keeping a case's artifacts small without losing the evidence of its verdict.

After a case was judged (on the full files), every file of its artifact folder larger than BULK
is shrunk:

- a transcript (`*.transcript.jsonl`) of a case that passed, whose checks do not read that
  side's transcript, is summarised into `*.transcript.summary.jsonl`: a first record of kind
  `summary` (the original's size, record count and SHA-256), the first HEAD and the last TAIL
  records whole, and in between every record except the bulk ones, a bulk record being one whose
  (dir, kind) occurs more than BULK_KIND times (the data frames of a long exchange); each stretch
  of elided records becomes one record of kind `elided` (how many, by direction and kind, their
  wire bytes, first and last time, the SHA-256 of their lines). A string field longer than
  LONG_FIELD characters (the hex of a 1 MiB frame) keeps its first LONG_KEEP characters and says
  how long it was and its SHA-256;
- any other big file, and the transcript of any other case (a failure's evidence is never cut,
  nor the bytes a check searched), is compressed whole into `NAME.gz`.

The artifacts map of the result points at the new file under the same key; read_text() reads
either form, so the case pages and the realm's after-case look at stderr/krb5trace keep working.
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import json
import os
import re
import shutil

BULK = 256 << 10        # files above this size are shrunk
HEAD = 60               # transcript records kept whole at the start of a summary
TAIL = 40               # ... and at its end
BULK_KIND = 50          # a (dir, kind) seen more often than this is bulk data
LONG_FIELD = 4096       # a longer string field is cut in a summary
LONG_KEEP = 512         # characters of a cut field that are kept
TRANSCRIPT = ".transcript.jsonl"
SUMMARY = ".transcript.summary.jsonl"


def read_text(path: str, limit: int | None = None) -> str:
    """The text of an artifact file, gzip-compressed (`.gz`) or not, at most limit bytes
    (decoded with replacement); OSError as open() when it cannot be read."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        try:
            data = handle.read() if limit is None else handle.read(limit)
        except (EOFError, gzip.BadGzipFile) as err:  # a cut or corrupt .gz
            raise OSError(f"{path}: {err}") from None
    return data.decode("utf-8", "replace")


def _cut(value: object) -> object:
    """A copy of a transcript value whose long strings are cut (recursively)."""
    if isinstance(value, str) and len(value) > LONG_FIELD:
        digest = hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
        return (f"{value[:LONG_KEEP]}...[cut by gssconform: {len(value)} characters, "
                f"sha256 {digest}]")
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut(item) for item in value]
    return value


_DIR = re.compile(rb'"dir":\s*"([^"]*)"')
_KIND = re.compile(rb'"kind":\s*"([^"]*)"')
_HEX = re.compile(rb'"hex":\s*"')
KEY_SPAN = 512          # a record's dir and kind are looked for in its first bytes


def _key(line: bytes) -> tuple[str, str] | None:
    """(dir, kind) of a transcript line, read from its first KEY_SPAN bytes without parsing
    the whole record (a line of a bulk frame is mostly hex); None when they are not there."""
    found = _DIR.search(line, 0, KEY_SPAN), _KIND.search(line, 0, KEY_SPAN)
    if found[0] is None or found[1] is None or not line.lstrip().startswith(b"{"):
        return None
    return found[0][1].decode("utf-8", "replace"), found[1][1].decode("utf-8", "replace")


def _wire(line: bytes) -> int:
    """The wire bytes of a transcript line: half the length of its "hex" field."""
    found = _HEX.search(line)
    if found is None:
        return 0
    return max(0, line.find(b'"', found.end()) - found.end()) // 2


def _record(line: bytes) -> dict:
    try:
        record = json.loads(line)
    except ValueError:
        return {"raw": line.decode("utf-8", "replace")[:LONG_KEEP]}
    return record if isinstance(record, dict) else {"value": record}


def summarise(lines: list[bytes]) -> list[dict]:
    """The summary records of a transcript given as its lines (see the module docstring). Only
    the kept records are parsed: the elided ones are told apart by their dir and kind."""
    keys = [_key(line) for line in lines]
    seen = collections.Counter(keys)
    bulk = {key for key, count in seen.items() if key is not None and count > BULK_KIND}
    out: list[dict] = []
    first = None   # index of the first record of the current elided stretch

    def flush(end: int) -> None:
        if first is None:
            return
        stretch = range(first, end)
        wire: dict[str, int] = collections.Counter()
        for i in stretch:
            wire[keys[i][0]] += _wire(lines[i])
        out.append({"kind": "elided", "records": len(stretch),
                    "by_kind": dict(collections.Counter(" ".join(keys[i]) for i in stretch)),
                    "wire_bytes": dict(wire), "first_time": _record(lines[first]).get("time"),
                    "last_time": _record(lines[end - 1]).get("time"),
                    "sha256": hashlib.sha256(b"".join(lines[first:end])).hexdigest()})

    for index, line in enumerate(lines):
        if HEAD <= index < len(lines) - TAIL and keys[index] in bulk:
            if first is None:
                first = index
            continue
        flush(index)
        first = None
        out.append(_cut(_record(line)))
    flush(len(lines))
    return out


def _replace(path: str, target: str, write) -> str:
    """Write target with write(), then remove path; on failure remove the partial
    target and keep path (OSError)."""
    try:
        write()
    except OSError:
        try:
            os.unlink(target)
        except OSError:
            pass
        raise
    os.unlink(path)
    return target


def _gzip(path: str) -> str:
    target = path + ".gz"

    def write() -> None:
        with open(path, "rb") as source, gzip.open(target, "wb", compresslevel=6) as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    return _replace(path, target, write)


def _summary_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        lines = handle.readlines()
    for line in lines:
        digest.update(line)
    size = sum(len(line) for line in lines)
    target = path[:-len(TRANSCRIPT)] + SUMMARY
    header = {"kind": "summary", "of": os.path.basename(path), "bytes": size,
              "records": len(lines), "sha256": digest.hexdigest(),
              "note": f"records past the first {HEAD} and before the last {TAIL} whose "
                      f"(dir, kind) occurs more than {BULK_KIND} times are elided; strings "
                      f"over {LONG_FIELD} characters are cut"}
    records = [header] + summarise(lines)

    def write() -> None:
        with open(target, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in records)
    return _replace(path, target, write)


def shrink(workdir: str, rel: str, artifacts: dict[str, str], summarisable: set[str]) -> None:
    """Shrink every file over BULK under workdir (the folder of rel): transcripts whose artifact
    key is in summarisable are summarised, everything else gzip-compressed; artifacts (key ->
    path relative to the report folder) is updated to the new names."""
    by_path = {os.path.normpath(os.path.join(workdir, os.path.relpath(path, rel))): key
               for key, path in artifacts.items()}
    for folder, _dirs, files in os.walk(workdir):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if name.endswith(".gz") or os.path.getsize(path) <= BULK:
                    continue
            except OSError:
                continue
            key = by_path.get(os.path.normpath(path))
            try:
                if key in summarisable and name.endswith(TRANSCRIPT):
                    target = _summary_file(path)
                else:
                    target = _gzip(path)
            except OSError:
                continue  # left as it was: bigger, never lost
            if key is not None:
                artifacts[key] = os.path.join(rel, os.path.relpath(target, workdir))
