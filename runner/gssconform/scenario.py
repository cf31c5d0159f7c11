"""Scenario files: loading and validating conformance cases (format: docs/scenarios.md)."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Any

from .candidate import check_placeholders
from .errors import InputError
from .tomlsrc import Doc, Node

KNOWN_SPECS = ("zmtp-gssapi", "xep0233")
LEVELS = ("MUST", "SHOULD", "MAY", "de-facto", "security", "INFO", "harness")
OPERATORS = ("equals", "not_equals", "one_of", "contains", "not_contains", "matches",
             "at_least", "at_most", "length", "present")
SIDES = ("candidate", "peer")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)+$")
_OBSERVE = re.compile(r"^(candidate|peer|kdc|case)(\.[A-Za-z0-9_-]+)+$")


@dataclass
class Reference:
    """Where a case's requirement is written, with the verbatim quote."""
    doc: str
    section: str
    quote: str
    level: str
    revision: str = ""
    requirement: str = ""
    line: int | None = None


@dataclass
class Check:
    """One declarative check over an observation; failing it costs its level."""
    observe: str
    operator: str
    operand: Any
    level: str
    message: str
    requirement: str = ""
    line: int | None = None


@dataclass
class Side:
    """How one participant (the candidate or the reference peer) takes part in a case."""
    role: str
    args: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    client: str | None = None
    acceptor: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Case:
    """One conformance case, as loaded from a scenario file."""
    id: str
    spec: str
    title: str
    file: str
    line: int | None
    candidate: Side
    peer: Side | None
    checks: list[Check]
    refs: list[Reference] = field(default_factory=list)
    description: str = ""
    features: list[str] = field(default_factory=list)
    principals: list[str] = field(default_factory=list)
    realm: bool = True
    deadline: float | None = None
    timeouts: str = "verdict"
    domain: str = "localhost"
    hostname: str = "localhost"
    server: str = "candidate"

    def requirement_ids(self) -> list[str]:
        """Catalogue ids this case covers (from its references and checks)."""
        ids = [r.requirement for r in self.refs if r.requirement]
        ids += [c.requirement for c in self.checks if c.requirement]
        return sorted(set(ids))

    def to_json(self) -> dict:
        """The case as stored in results.json (enough to render reports without the files)."""
        return {
            "id": self.id, "spec": self.spec, "title": self.title, "file": self.file,
            "line": self.line, "description": self.description,
            "role": self.candidate.role, "peer_role": self.peer.role if self.peer else None,
            "features": self.features,
            "refs": [{k: v for k, v in vars(r).items() if k != "line"} for r in self.refs],
            "checks": [{"observe": c.observe, c.operator: c.operand, "level": c.level,
                        "message": c.message, "requirement": c.requirement}
                       for c in self.checks],
            "requirements": self.requirement_ids(),
        }


def _side(node: Node) -> Side:
    node.keys({"role", "args", "faults", "client", "acceptor", "env"}, {"role"})
    env = node.get("env", dict, {})
    for key, value in env.items():
        if not isinstance(value, str):
            raise node.error(f"env value of {key} must be a string", "env")
    check_placeholders(node, "args", node.strings("args"))
    check_placeholders(node, "env", list(env.values()))
    return Side(role=node.get("role", str, required=True), args=node.strings("args"),
                faults=node.strings("faults"), client=node.get("client", str),
                acceptor=node.get("acceptor", str), env=dict(env))


def _check(node: Node) -> Check:
    node.keys({"observe", "level", "message", "requirement", *OPERATORS}, {"observe", "level"})
    observe = node.get("observe", str, required=True)
    if not _OBSERVE.match(observe):
        raise node.error("must be a dotted observation path starting with candidate., peer., "
                         "kdc. or case. (see docs/scenarios.md)", "observe")
    ops = [op for op in OPERATORS if op in node.value]
    if len(ops) != 1:
        raise node.error(f"needs exactly one operator of {', '.join(OPERATORS)} "
                         f"(found {len(ops) or 'none'})")
    op = ops[0]
    operand = node.value[op]
    if op in ("at_least", "at_most", "length"):
        node.get(op, (int, float))
    elif op in ("matches",):
        node.get(op, str)
        try:
            re.compile(operand)
        except re.error as err:
            raise node.error(f"invalid regular expression: {err}", op) from None
    elif op == "one_of":
        node.get(op, list)
    elif op == "present":
        node.get(op, bool)
    return Check(observe=observe, operator=op, operand=operand,
                 level=node.choice("level", LEVELS, required=True),
                 message=node.get("message", str, f"{observe} {op} {operand!r}"),
                 requirement=node.get("requirement", str, ""),
                 line=node.doc.line_of(node.path))


def _reference(node: Node) -> Reference:
    node.keys({"doc", "revision", "section", "quote", "level", "requirement"},
              {"doc", "section", "quote", "level"})
    return Reference(doc=node.get("doc", str), revision=node.get("revision", str, ""),
                     section=node.get("section", str), quote=node.get("quote", str),
                     level=node.choice("level", LEVELS),
                     requirement=node.get("requirement", str, ""),
                     line=node.doc.line_of(node.path + ("requirement",)))


_CASE_KEYS = {"id", "title", "description", "features", "principals", "realm", "deadline",
              "timeouts", "domain", "hostname", "server", "ref", "candidate", "peer", "expect"}


def _case(node: Node, spec: str) -> Case:
    node.keys(_CASE_KEYS, {"id", "title", "candidate", "expect"})
    case_id = node.get("id", str, required=True)
    if not _ID.match(case_id):
        raise node.error("must be a lower-case hierarchical id like 'spec/group/name'", "id")
    if case_id.split("/")[0] != spec:
        raise node.error(f"must start with the spec folder name '{spec}/'", "id")
    candidate = _side(node.child("candidate", required=True))
    peer_node = node.child("peer")
    peer = _side(peer_node) if peer_node else None
    checks = [_check(c) for c in node.children("expect")]
    if not checks:
        raise node.error("needs at least one [[case.expect]] check", "expect")
    for check in checks:
        if check.observe.startswith("peer.") and peer is None:
            raise node.error(f"check observes '{check.observe}' but the case has no [case.peer]",
                             "expect")
    deadline = node.get("deadline", float)
    if deadline is not None and not 0 < deadline <= 600:
        raise node.error("must be between 0 and 600 seconds", "deadline")
    principals = node.strings("principals")
    realm = node.get("realm", bool, True)
    declared = {spec.split(":", 1)[0].split("@", 1)[0] for spec in principals}
    for side_name, side in (("candidate", candidate), ("peer", peer)):
        for key in ("client", "acceptor"):
            name = getattr(side, key, None) if side else None
            if name and realm and name.split("@", 1)[0] not in declared:
                raise node.child(side_name).error(
                    f"principal '{name}' is not declared in the case's principals "
                    f"({', '.join(principals) or 'none'})", key)
    default_server = "peer" if candidate.role.endswith("client") and peer else "candidate"
    server = node.choice("server", SIDES, default_server)
    if server == "peer" and peer is None:
        raise node.error("is 'peer' but the case has no [case.peer]", "server")
    return Case(id=case_id, spec=spec, title=node.get("title", str, required=True),
                file=node.doc.path, line=node.doc.line_of(node.path), candidate=candidate,
                peer=peer, checks=checks, refs=[_reference(r) for r in node.children("ref")],
                description=node.get("description", str, ""), features=node.strings("features"),
                principals=principals, realm=realm,
                deadline=float(deadline) if deadline is not None else None,
                timeouts=node.choice("timeouts", ("verdict", "observe"), "verdict"),
                domain=node.get("domain", str, "localhost"),
                hostname=node.get("hostname", str, "localhost"), server=server)


def load_file(path: str, spec: str) -> list[Case]:
    """Load every [[case]] of one scenario file; InputError names file, line and key."""
    doc = Doc.load(path)
    root = doc.root()
    root.keys({"case"}, {"case"})
    return [_case(node, spec) for node in root.children("case")]


def spec_dir(scenarios: str, spec: str) -> str:
    """The folder of one spec's scenario files."""
    return os.path.join(scenarios, spec)


def load_spec(scenarios: str, spec: str) -> list[Case]:
    """Load all scenario files of a spec (sorted by path), rejecting duplicate ids."""
    folder = spec_dir(scenarios, spec)
    if not os.path.isdir(folder):
        if spec in KNOWN_SPECS:
            return []  # the spec's cases are not written yet
        raise InputError(f"no scenario folder for spec '{spec}'", folder)
    cases: list[Case] = []
    seen: dict[str, Case] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".toml"):
                continue
            for case in load_file(os.path.join(dirpath, name), spec):
                if case.id in seen:
                    other = seen[case.id]
                    raise InputError(f"duplicate case id (first defined at {other.file}:"
                                     f"{other.line})", case.file, case.line, "id")
                seen[case.id] = case
                cases.append(case)
    cases.sort(key=lambda c: c.id)
    return cases


def select(cases: list[Case], include: list[str], skip: list[str]) -> list[Case]:
    """Cases whose id matches any include glob (all when none) and no skip glob."""
    out = []
    for case in cases:
        if include and not any(fnmatch.fnmatchcase(case.id, g) for g in include):
            continue
        if any(fnmatch.fnmatchcase(case.id, g) for g in skip):
            continue
        out.append(case)
    return out
