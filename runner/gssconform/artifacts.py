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


def _key(record: object) -> tuple[str, str] | None:
    if not isinstance(record, dict):
        return None
    return str(record.get("dir", "")), str(record.get("kind", ""))


def summarise(lines: list[bytes]) -> list[dict]:
    """The summary records of a transcript given as its lines (see the module docstring)."""
    records: list[object] = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"raw": line.decode("utf-8", "replace")[:LONG_KEEP]})
    seen = collections.Counter(_key(r) for r in records)
    bulk = {key for key, count in seen.items() if key is not None and count > BULK_KIND}
    out: list[dict] = []
    stretch: list[int] = []

    def flush() -> None:
        if not stretch:
            return
        kinds = collections.Counter(" ".join(_key(records[i])) for i in stretch)
        wire: dict[str, int] = collections.Counter()
        digest = hashlib.sha256()
        for i in stretch:
            record = records[i]
            wire[str(record.get("dir", ""))] += len(str(record.get("hex", ""))) // 2
            digest.update(lines[i].rstrip(b"\n") + b"\n")
        out.append({"kind": "elided", "records": len(stretch), "by_kind": dict(kinds),
                    "wire_bytes": dict(wire), "first_time": records[stretch[0]].get("time"),
                    "last_time": records[stretch[-1]].get("time"),
                    "sha256": digest.hexdigest()})
        stretch.clear()

    for index, record in enumerate(records):
        middle = HEAD <= index < len(records) - TAIL
        if middle and _key(record) in bulk:
            stretch.append(index)
            continue
        flush()
        out.append(_cut(record) if isinstance(record, dict) else {"value": record})
    flush()
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
