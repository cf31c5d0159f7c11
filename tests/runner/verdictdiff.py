#!/usr/bin/env python3
"""Compare the verdicts of two results.json files per (case, candidate, role, repeat): prints
every difference and the counts; exit 0 when the verdicts are identical, 1 otherwise.

    tests/runner/verdictdiff.py BEFORE/results.json AFTER/results.json
"""

from __future__ import annotations

import json
import sys


def verdicts(path: str) -> dict[tuple, str]:
    """(case, candidate, role, repeat) -> verdict of one results.json."""
    with open(path, encoding="utf-8") as handle:
        results = json.load(handle)["results"]
    return {(r["case"], r["candidate"], r["role"], r["repeat"]): r["verdict"] for r in results}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    before, after = verdicts(argv[1]), verdicts(argv[2])
    differ = 0
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            differ += 1
            print(f"{' '.join(map(str, key))}: {before.get(key, 'absent')} -> "
                  f"{after.get(key, 'absent')}")
    print(f"{len(before)} results before, {len(after)} after, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
