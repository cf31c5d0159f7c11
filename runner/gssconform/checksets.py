"""Named check sets (scenarios/checks.toml): a group of checks declared once with parameters,
used by a case as one `[[case.expect]]` entry `set = "NAME"` plus the parameters it sets
(format: docs/scenarios.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from .tomlsrc import Doc, Node

FILE = "checks.toml"
DIRECTIONS = ("as-server", "as-client")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass
class CheckSet:
    """One named set: its parameters (with defaults) and its checks (with placeholders)."""
    name: str
    doc: Doc
    path: tuple
    params: dict[str, Any]
    expects: list[tuple[tuple, dict, str | None]] = field(default_factory=list)

    def instantiate(self, values: dict[str, Any], direction: str) -> list[tuple[tuple, dict]]:
        """The set's checks for a case in DIRECTION with the parameters VALUES (defaults for
        the rest): (the check's path in checks.toml, the check table with parameters filled)."""
        params = dict(self.params, **values)
        return [(path, _fill(table, params)) for path, table, only in self.expects
                if only in (None, direction)]


def _fill(value: Any, params: dict[str, Any]) -> Any:
    """VALUE with every {param} replaced: a string that is only "{p}" takes p's value with its
    type, any other string gets the text of the value."""
    if isinstance(value, dict):
        return {k: _fill(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, params) for v in value]
    if isinstance(value, str):
        whole = _PARAM.fullmatch(value)
        if whole:
            return params[whole.group(1)]
        return _PARAM.sub(lambda m: str(params[m.group(1)]), value)
    return value


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {p for v in value.values() for p in _placeholders(v)}
    if isinstance(value, list):
        return {p for v in value for p in _placeholders(v)}
    if isinstance(value, str):
        return set(_PARAM.findall(value))
    return set()


def load(scenarios: str) -> dict[str, CheckSet]:
    """The check sets of a scenario tree (none when it has no checks.toml); InputError names
    file, line and key of any mistake. The checks themselves are validated by the caller."""
    path = os.path.join(scenarios, FILE)
    if not os.path.exists(path):
        return {}
    doc = Doc.load(path)
    root = doc.root()
    root.keys({"set"}, {"set"})
    sets: dict[str, CheckSet] = {}
    for node in root.children("set"):
        node.keys({"name", "description", "params", "expect"}, {"name", "expect"})
        name = node.get("name", str, required=True)
        if not _NAME.match(name):
            raise node.error("must be lower-case letters, digits and hyphens", "name")
        if name in sets:
            raise node.error(f"duplicate check set name (first at {path}:"
                             f"{doc.line_of(sets[name].path)})", "name")
        node.get("description", str)
        params = node.get("params", dict, {})
        for key, value in params.items():
            if not _PARAM.fullmatch("{" + key + "}") or key in ("set", "only"):
                raise Node(doc, node.path + ("params",), params).error(
                    "a parameter name is lower-case letters, digits and _ (and neither 'set' "
                    "nor 'only')", key)
            if not isinstance(value, (str, int, float, bool)):
                raise Node(doc, node.path + ("params",), params).error(
                    "a default must be a string, number or boolean", key)
        entry = CheckSet(name=name, doc=doc, path=node.path, params=dict(params))
        for check in node.children("expect"):
            only = check.choice("only", DIRECTIONS)
            table = {k: v for k, v in check.value.items() if k != "only"}
            unknown = _placeholders(table) - set(params)
            if unknown:
                raise check.error(f"uses {{{sorted(unknown)[0]}}} but the set declares no such "
                                  "parameter in its params")
            entry.expects.append((check.path, table, only))
        if not entry.expects:
            raise node.error("needs at least one [[set.expect]] check", "expect")
        sets[name] = entry
    return sets
