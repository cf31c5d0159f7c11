"""Scenario files: loading and validating conformance cases (format: docs/scenarios.md)."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Any

from . import checksets, requirements
from .candidate import check_placeholders
from .errors import InputError
from .tomlsrc import Doc, Node, View

KNOWN_SPECS = ("zmtp-gssapi", "xep0233")
LEVELS = ("MUST", "SHOULD", "MAY", "de-facto", "security", "INFO")
# Check levels beyond a reference's: a failing UNIMPLEMENTED check marks an optional feature of
# the spec the candidate lacks (e.g. a client that ignores XEP-0233's <hostname/>): verdict
# UNIMPLEMENTED, not FAIL; a failing `harness` check is a precondition the reference peer or the
# harness had to meet: verdict ERROR, never blamed on the candidate.
CHECK_LEVELS = LEVELS + ("UNIMPLEMENTED", "harness")
OPERATORS = ("equals", "not_equals", "one_of", "contains", "not_contains", "matches",
             "at_least", "at_most", "length", "present")
SIDES = ("candidate", "peer")
# A [[case]] with these tables is a template: each table makes one case, the candidate in that
# role, whose id is the template's id plus the suffix.
DIRECTIONS = {"as-server": "server", "as-client": "client"}
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
    # Evaluated only when this guard check passes (else recorded as not applicable).
    when: "Check | None" = None


@dataclass
class Side:
    """How one participant (the candidate or the reference peer) takes part in a case."""
    role: str
    args: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    client: str | None = None
    acceptor: str | None = None
    # Further principals whose keys join the acceptor's keytab (KRB5_KTNAME), e.g. a reference
    # XMPP server that must accept both the XEP-0233 and the host-based name and record which.
    also_accept: list[str] = field(default_factory=list)
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
                        "message": c.message, "requirement": c.requirement,
                        **({"when": {"observe": c.when.observe, c.when.operator: c.when.operand}}
                           if c.when else {})}
                       for c in self.checks],
            "requirements": self.requirement_ids(),
        }


def _side(node: Node) -> Side:
    node.keys({"role", "args", "faults", "client", "acceptor", "also_accept", "env"}, {"role"})
    env = node.get("env", dict, {})
    for key, value in env.items():
        if not isinstance(value, str):
            raise node.error(f"env value of {key} must be a string", "env")
    check_placeholders(node, "args", node.strings("args"))
    check_placeholders(node, "env", list(env.values()))
    return Side(role=node.get("role", str, required=True), args=node.strings("args"),
                faults=node.strings("faults"), client=node.get("client", str),
                acceptor=node.get("acceptor", str), also_accept=node.strings("also_accept"),
                env=dict(env))


def _condition(node: Node) -> tuple[str, str, Any]:
    """The observation path, operator and operand of a check or of its `when` guard."""
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
    return observe, op, operand


def _check(node: Node) -> Check:
    node.keys({"observe", "level", "message", "requirement", "when", *OPERATORS},
              {"observe", "level"})
    observe, op, operand = _condition(node)
    when = None
    guard = node.child("when")
    if guard is not None:
        guard.keys({"observe", *OPERATORS}, {"observe"})
        g_observe, g_op, g_operand = _condition(guard)
        when = Check(observe=g_observe, operator=g_op, operand=g_operand, level="INFO",
                     message=f"{g_observe} {g_op} {g_operand!r}")
    return Check(observe=observe, operator=op, operand=operand,
                 level=node.choice("level", CHECK_LEVELS, required=True),
                 message=node.get("message", str, f"{observe} {op} {operand!r}"),
                 requirement=node.get("requirement", str, ""),
                 line=node.doc.line_of(node.path), when=when)


_REF_FILLED = ("doc", "revision", "section", "quote")


def _reference(node: Node, catalogue: dict) -> Reference:
    """A reference; with a catalogue id, what it leaves out comes from the catalogue and what it
    gives must agree with it (its level may differ: the case's own reading of it)."""
    node.keys({"doc", "revision", "section", "quote", "level", "requirement"})
    req_id = node.get("requirement", str, "")
    if req_id and req_id in catalogue:
        document, req = catalogue[req_id]
        known = {"doc": document.id, "revision": document.revision, "section": req.section,
                 "quote": req.quote}
        for key in _REF_FILLED:
            given = node.get(key, str)
            if given is not None and given != known[key]:
                raise node.error(f"disagrees with the catalogue entry {req_id!r} "
                                 f"({known[key]!r}): leave it out to take the catalogue's", key)
        level = node.choice("level", LEVELS, requirements.case_level(req.level))
        if level is None:
            raise node.error(f"missing required key 'level' (the catalogue entry {req_id!r} is a "
                             "statement, which has no level of its own)")
        return Reference(doc=known["doc"], revision=known["revision"], section=known["section"],
                         quote=known["quote"], level=level, requirement=req_id,
                         line=node.doc.line_of(node.path + ("requirement",)))
    for key in ("doc", "section", "quote", "level"):
        if key not in node.value:
            why = (f"(requirement {req_id!r} is not in the catalogue, scenarios/requirements/)"
                   if req_id else "(or a catalogue id in 'requirement')")
            raise node.error(f"missing required key '{key}' {why}")
    return Reference(doc=node.get("doc", str), revision=node.get("revision", str, ""),
                     section=node.get("section", str), quote=node.get("quote", str),
                     level=node.choice("level", LEVELS), requirement=req_id,
                     line=node.doc.line_of(node.path + ("requirement",)))


_CASE_KEYS = {"id", "title", "description", "features", "principals", "realm", "deadline",
              "timeouts", "domain", "hostname", "server", "ref", "candidate", "peer", "expect"}


def _case(node: Node, spec: str, catalogue: dict) -> Case:
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
        for key in ("client", "acceptor", "also_accept"):
            value = getattr(side, key, None) if side else None
            for name in value if isinstance(value, list) else [value]:
                if name and realm and name.split("@", 1)[0] not in declared:
                    raise node.child(side_name).error(
                        f"principal '{name}' is not declared in the case's principals "
                        f"({', '.join(principals) or 'none'})", key)
        if side and side.also_accept and not side.acceptor:
            raise node.child(side_name).error("needs an acceptor to add keys to", "also_accept")
    default_server = "peer" if candidate.role.endswith("client") and peer else "candidate"
    server = node.choice("server", SIDES, default_server)
    if server == "peer" and peer is None:
        raise node.error("is 'peer' but the case has no [case.peer]", "server")
    return Case(id=case_id, spec=spec, title=node.get("title", str, required=True),
                file=node.doc.path, line=node.doc.line_of(node.path), candidate=candidate,
                peer=peer, checks=checks, refs=[_reference(r, catalogue) for r in node.children("ref")],
                description=node.get("description", str, ""), features=node.strings("features"),
                principals=principals, realm=realm,
                deadline=float(deadline) if deadline is not None else None,
                timeouts=node.choice("timeouts", ("verdict", "observe"), "verdict"),
                domain=node.get("domain", str, "localhost"),
                hostname=node.get("hostname", str, "localhost"), server=server)


_LISTS = ("ref", "expect")


def _merge_side(view: View, case: Node, direction: Node, side: str) -> dict | None:
    """One side's table of an expanded case: the direction's table and the template's, args
    and faults concatenated (the direction's first), any other key given once."""
    common, own = case.child(side), direction.child(side)
    if common is None or own is None:
        source = common or own
        if source is None:
            return None
        view.origin(case.path + (side,), source.path)
        return dict(source.value)
    view.origin(case.path + (side,), own.path)
    merged: dict = {}
    for key in sorted(set(common.value) | set(own.value)):
        if key in ("args", "faults"):
            merged[key] = own.strings(key) + common.strings(key)
            source = own if key in own.value else common
        elif key == "env" and key in own.value and key in common.value:
            env = dict(common.get("env", dict))
            for name, value in own.get("env", dict).items():
                if name in env:
                    raise own.child("env").error(f"also set in [case.{side}].env; set it in one "
                                                 "place", name)
                env[name] = value
            merged[key] = env
            source = own
        elif key in own.value and key in common.value:
            raise own.error(f"also given in [case.{side}] (line "
                            f"{case.doc.line_of(common.path + (key,))}); give it in one place",
                            key)
        else:
            source = own if key in own.value else common
            merged[key] = source.value[key]
        view.origin(case.path + (side, key), source.path + (key,))
    return merged


def _expand_expects(view: View, path: tuple, entries: list[Node], direction: str,
                    sets: dict) -> list[dict]:
    """The checks of a case in DIRECTION: plain entries as they are, each `set = NAME` entry
    replaced by the set's checks (their errors point at the entry)."""
    out: list[dict] = []
    for entry in entries:
        if "set" not in entry.value:
            view.origin(path + (len(out),), entry.path)
            out.append(entry.value)
            continue
        name = entry.get("set", str)
        if name not in sets:
            raise entry.error(f"unknown check set {name!r} (scenarios/{checksets.FILE} has: "
                              f"{', '.join(sorted(sets)) or 'none'})", "set")
        chosen = sets[name]
        values = {}
        for key, value in entry.value.items():
            if key == "set":
                continue
            if key not in chosen.params:
                raise entry.error(f"not a parameter of check set {name!r} (it has: "
                                  f"{', '.join(sorted(chosen.params)) or 'none'})", key)
            default = chosen.params[key]
            kinds = (int, float) if type(default) in (int, float) else (type(default),)
            entry.get(key, kinds)
            values[key] = value
        for _source, check in chosen.instantiate(values, direction):
            view.origin(path + (len(out),), entry.path, whole=True)
            try:
                _check(Node(view, path + (len(out),), check))
            except InputError as err:
                raise InputError(f"check set {name!r}: {err.problem}", err.path, err.line,
                                 err.key) from None
            out.append(check)
    return out


def _for_direction(node: Node, key: str, template: bool, direction: str) -> list[Node]:
    """The entries of the array KEY that belong to DIRECTION ('only' left out of them)."""
    out = []
    for entry in node.children(key):
        only = entry.choice("only", tuple(DIRECTIONS))
        if only is not None and not template:
            raise entry.error("only applies to a template case (one with [case.as-server] or "
                              "[case.as-client])", "only")
        if only in (None, direction):
            out.append(Node(entry.doc, entry.path,
                            {k: v for k, v in entry.value.items() if k != "only"}))
    return out


def _expand(node: Node, spec: str, context: "_Context") -> list[Case]:
    """The cases of one [[case]]: itself, or one per direction table of a template."""
    node.keys(_CASE_KEYS | set(DIRECTIONS), {"id"})
    directions = [d for d in DIRECTIONS if d in node.value]
    if not directions:
        role = (node.value.get("candidate") or {}).get("role")
        direction = "as-client" if isinstance(role, str) and role.endswith("client") else \
            "as-server"
        return [_assemble(node, None, direction, spec, context)]
    node.get("id", str, required=True)
    return [_assemble(node, node.child(d), d, spec, context) for d in directions]


def _assemble(node: Node, own: Node | None, direction: str, spec: str,
              context: "_Context") -> Case:
    """One case from a [[case]] and, for a template, one of its direction tables."""
    view = View(node.doc)
    merged: dict = {}
    for key, value in node.value.items():
        if key not in DIRECTIONS and key not in SIDES and key not in _LISTS:
            merged[key] = value
    if own is not None:
        own.keys(set(_CASE_KEYS) - {"id", *_LISTS})
        merged["id"] = f"{node.value['id']}/{DIRECTIONS[direction]}"
        for key, value in own.value.items():
            if key in SIDES or key in _LISTS:
                continue
            if key in node.value:
                raise own.error(f"also given in the [[case]] (line "
                                f"{node.doc.line_of(node.path + (key,))}); give it in one place",
                                key)
            merged[key] = value
            view.origin(node.path + (key,), own.path + (key,))
        for side in SIDES:
            table = _merge_side(view, node, own, side)
            if table is not None:
                merged[side] = table
    else:
        for side in SIDES:
            if side in node.value:
                merged[side] = node.value[side]
    refs: list = []
    for ref in _for_direction(node, "ref", own is not None, direction):
        view.origin(node.path + ("ref", len(refs)), ref.path)
        refs.append(ref.value)
    if refs:
        merged["ref"] = refs
    if own is not None:
        for key in ("title", "candidate"):
            if key not in merged:
                raise node.error(f"missing required key '{key}' of the {direction} case (give "
                                 f"it in the [[case]] or in [case.{direction}])")
    if "expect" in node.value:
        merged["expect"] = _expand_expects(view, node.path + ("expect",),
                                           _for_direction(node, "expect", own is not None,
                                                          direction), direction, context.sets)
    return _case(Node(view, node.path, merged), spec, context.catalogue)


@dataclass
class _Context:
    """What a scenario file may refer to: the requirement catalogue and the check sets."""
    catalogue: dict = field(default_factory=dict)
    sets: dict = field(default_factory=dict)


def context(scenarios: str) -> _Context:
    """The catalogue and check sets of a scenario tree (InputError when one is malformed); the
    sets' checks are validated here, with their default parameters."""
    ctx = _Context(catalogue=requirements.index(requirements.load(scenarios)),
                   sets=checksets.load(scenarios))
    for chosen in ctx.sets.values():
        for path, check in chosen.instantiate({}, "as-server") + chosen.instantiate(
                {}, "as-client"):
            _check(Node(chosen.doc, path, check))
    return ctx


def load_file(path: str, spec: str, ctx: _Context | None = None) -> list[Case]:
    """Load every [[case]] of one scenario file (a template gives one case per direction);
    InputError names file, line and key."""
    doc = Doc.load(path)
    root = doc.root()
    root.keys({"case"}, {"case"})
    ctx = ctx or _Context()
    return [case for node in root.children("case") for case in _expand(node, spec, ctx)]


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
    ctx = context(scenarios)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".toml"):
                continue
            for case in load_file(os.path.join(dirpath, name), spec, ctx):
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
