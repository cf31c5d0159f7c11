"""What the vector generators gen-sasl.py and gen-xep0233.py share: the JSON text of a vector
file, and the command line that writes the files or, with --check, says which are stale.
The generators run as scripts from this folder, so Python finds this module beside them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable


def render(doc: dict[str, Any]) -> str:
    """Stable JSON text (UTF-8, not ASCII-escaped, so U-labels stay readable)."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str], outputs: Callable[[], dict[Path, str]]) -> int:
    """Write every file of OUTPUTS(), or with --check report whether they are current
    (exit 1, naming the stale ones); exit 64 for any other argument."""
    prog = Path(argv[0]).name
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(f"usage: {prog} [--check]", file=sys.stderr)
        return 64
    stale = []
    for path, text in outputs().items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)} (run vectors/{prog})", file=sys.stderr)
        return 1
    return 0
