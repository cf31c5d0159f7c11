"""TOML files with line numbers for error messages.

tomllib gives values but no positions, so the source text is scanned once for table headers and
key assignments to map a key path such as ("case", 1, "expect", 0, "level") to its line.
Values are read through `Node`, whose accessors raise InputError naming file, line and key.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any, Iterator

from .errors import InputError

_HEADER_AOT = re.compile(r"^\s*\[\[\s*(.+?)\s*\]\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[\s*([^\[].*?)\s*\]\s*(#.*)?$")
_NAME = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*=")
_PART = re.compile(r"""\s*([A-Za-z0-9_\-]+|"[^"]*"|'[^']*')\s*(?:\.|$)""")


def _split_dotted(text: str) -> list[str]:
    """Split a dotted TOML key ('a."b.c".d') into its parts without quotes."""
    parts = []
    for match in _PART.finditer(text):
        part = match.group(1)
        if part[:1] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return parts


def _locate(text: str) -> dict[tuple, int]:
    """Map every table header and key assignment of the source to its 1-based line."""
    lines: dict[tuple, int] = {}
    counts: dict[tuple, int] = {}
    arrays: set[tuple] = set()
    current: tuple = ()
    in_multiline = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        aot = _HEADER_AOT.match(line)
        header = None if aot else _HEADER.match(line)
        if aot or header:
            names = _split_dotted((aot or header).group(1))
            concrete: tuple = ()
            logical: tuple = ()
            for i, name in enumerate(names):
                logical += (name,)
                concrete += (name,)
                last = i == len(names) - 1
                if aot and last:
                    index = counts.get(concrete, 0)
                    counts[concrete] = index + 1
                    arrays.add(logical)
                    # a new element resets the counters of arrays nested inside it
                    for key in [k for k in counts if k[:len(concrete)] == concrete and
                                len(k) > len(concrete)]:
                        del counts[key]
                    concrete += (index,)
                elif logical in arrays:
                    concrete += (counts.get(concrete, 1) - 1,)
            current = concrete
            lines.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            path = current + tuple(_split_dotted(key.group(1)))
            lines.setdefault(path, number)
            rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return lines


class Doc:
    """One parsed TOML file: its data and the line of every key."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            match = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
            line = int(match.group(1)) if match else None
            raise InputError(f"TOML syntax error: {err}", path, line) from None
        self._lines = _locate(text)

    @classmethod
    def load(cls, path: str) -> "Doc":
        """Read and parse a TOML file; InputError if unreadable or not valid TOML."""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read: {err}", path) from None
        return cls(path, text)

    def line_of(self, path: tuple) -> int | None:
        """The line of the key path, or of its nearest enclosing key/table that has one."""
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

    def keyname(self, path: tuple) -> str:
        """The key path as error messages spell it (case[3].expect[1].level)."""
        return _keyname(path)

    def root(self) -> "Node":
        """The top-level table."""
        return Node(self, (), self.data)


class View:
    """A value assembled from several places of one Doc (a scenario template expanded into a
    case): each path of the assembled value is mapped back to where it was declared, so that
    Node errors and line numbers name the declaration, not the assembled value."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.path = doc.path
        self._origins: dict[tuple, tuple[tuple, bool]] = {}

    def origin(self, path: tuple, source: tuple, whole: bool = False) -> None:
        """Declare that PATH (and everything under it) comes from SOURCE in the Doc; with
        whole, keys under PATH all map to SOURCE itself (a check set's checks all come from the
        one entry that names the set)."""
        self._origins[path] = (source, whole)

    def source(self, path: tuple) -> tuple:
        """Where PATH of the assembled value was declared (the longest declared prefix wins)."""
        for size in range(len(path), -1, -1):
            if path[:size] in self._origins:
                source, whole = self._origins[path[:size]]
                return source if whole else source + path[size:]
        return path

    def line_of(self, path: tuple) -> int | None:
        """The line of the declaration of PATH."""
        return self.doc.line_of(self.source(path))

    def keyname(self, path: tuple) -> str:
        """The key of the declaration of PATH, as error messages spell it."""
        return _keyname(self.source(path))


def _keyname(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
          list: "an array", dict: "a table"}


class Node:
    """A value inside a Doc with typed accessors that report errors at the right line."""

    def __init__(self, doc: "Doc | View", path: tuple, value: Any) -> None:
        self.doc = doc
        self.path = path
        self.value = value

    def error(self, message: str, key: str | int | None = None) -> InputError:
        """An InputError at this node (or at its child key)."""
        path = self.path + ((key,) if key is not None else ())
        return InputError(message, self.doc.path, self.doc.line_of(path),
                          self.doc.keyname(path) or None)

    def keys(self, allowed: set[str], required: set[str] = frozenset()) -> None:
        """Reject unknown keys and report missing required ones."""
        for key in self.value:
            if key not in allowed:
                raise self.error(f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                                 key)
        for key in sorted(required):
            if key not in self.value:
                raise self.error(f"missing required key '{key}'")

    def get(self, key: str, kind: type | tuple, default: Any = None, required: bool = False) -> Any:
        """The child value, checked against kind (bool is never accepted as int)."""
        if key not in self.value:
            if required:
                raise self.error(f"missing required key '{key}'")
            return default
        value = self.value[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            want = " or ".join(_TYPES.get(k, k.__name__) for k in kinds)
            raise self.error(f"must be {want}, got {type(value).__name__} {value!r}", key)
        return value

    def child(self, key: str, required: bool = False) -> "Node | None":
        """The child table as a Node (None when absent and not required)."""
        value = self.get(key, dict, None, required)
        return None if value is None else Node(self.doc, self.path + (key,), value)

    def children(self, key: str) -> Iterator["Node"]:
        """The elements of an array of tables."""
        for index, value in enumerate(self.get(key, list, [])):
            if not isinstance(value, dict):
                raise self.error("must be an array of tables", key)
            yield Node(self.doc, self.path + (key, index), value)

    def strings(self, key: str, default: list | None = None, required: bool = False) -> list[str]:
        """An array of strings."""
        value = self.get(key, list, default if default is not None else [], required)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise Node(self.doc, self.path + (key,), value).error(
                    f"element {index} must be a string, got {item!r}")
        return list(value)

    def choice(self, key: str, choices: tuple, default: str | None = None,
               required: bool = False) -> str | None:
        """A string that must be one of choices."""
        value = self.get(key, str, default, required)
        if value is not None and value not in choices:
            raise self.error(f"must be one of {', '.join(choices)}, got {value!r}", key)
        return value
