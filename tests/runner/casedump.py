#!/usr/bin/env python3
"""Print the normalized form of every case a scenario tree expands into, as JSON: one object per
case with everything the runner uses (id, title, refs, both sides, checks with their levels,
deadline, ...) and nothing about where it was declared (file and line numbers left out).

Two trees, or one tree before and after a rewrite of its files, declare the same cases exactly
when their dumps are equal:

    PYTHONPATH=runner tests/runner/casedump.py [--scenarios DIR] [--spec SPEC] > cases.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from gssconform.errors import InputError
from gssconform.realm import REPO
from gssconform.scenario import KNOWN_SPECS, Case, load_spec


def normalized(case: Case) -> dict:
    """The case as a plain dict without file, line or the line of its refs and checks."""
    out = asdict(case)
    for key in ("file", "line"):
        out.pop(key)
    for item in out["refs"] + out["checks"]:
        item.pop("line")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default=os.path.join(REPO, "scenarios"))
    parser.add_argument("--spec", action="append", help="default: every known spec")
    args = parser.parse_args()
    try:
        cases = [normalized(c) for spec in args.spec or KNOWN_SPECS
                 for c in load_spec(args.scenarios, spec)]
    except InputError as err:
        print(f"casedump: {err}", file=sys.stderr)
        return 3
    json.dump(cases, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
