"""The requirement catalogue: every MUST/SHOULD of the specs, quoted, with a stable id
(scenarios/requirements/*.toml; format in docs/scenarios.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InputError
from .tomlsrc import Doc

if TYPE_CHECKING:
    from .scenario import Case

LEVELS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "statement")


@dataclass
class Requirement:
    """One quoted requirement of a document."""
    id: str
    doc: str
    section: str
    level: str
    quote: str
    note: str = ""


@dataclass
class Document:
    """A specification the catalogue quotes."""
    id: str
    title: str
    revision: str
    url: str
    requirements: list[Requirement]


def catalogue_dir(scenarios: str) -> str:
    """Where the catalogue lives for a scenario tree."""
    return os.path.join(scenarios, "requirements")


def load(scenarios: str) -> list[Document]:
    """Load every catalogue file (none when the folder is absent); InputError on bad input."""
    folder = catalogue_dir(scenarios)
    if not os.path.isdir(folder):
        return []
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".toml"):
            continue
        doc = Doc.load(os.path.join(folder, name))
        root = doc.root()
        root.keys({"document", "requirement"}, {"document", "requirement"})
        meta = root.child("document", required=True)
        meta.keys({"id", "title", "revision", "url"}, {"id", "title"})
        reqs = []
        for node in root.children("requirement"):
            node.keys({"id", "section", "level", "quote", "note"}, {"id", "section", "level",
                                                                   "quote"})
            req_id = node.get("id", str, required=True)
            where = f"{doc.path}:{doc.line_of(node.path)}"
            if req_id in seen:
                raise node.error(f"duplicate requirement id (first at {seen[req_id]})", "id")
            seen[req_id] = where
            reqs.append(Requirement(id=req_id, doc=meta.get("id", str), section=node.get(
                "section", str), level=node.choice("level", LEVELS), quote=node.get("quote", str),
                note=node.get("note", str, "")))
        docs.append(Document(id=meta.get("id", str), title=meta.get("title", str),
                             revision=meta.get("revision", str, ""), url=meta.get("url", str, ""),
                             requirements=reqs))
    return docs


def index(docs: list[Document]) -> dict[str, tuple[Document, Requirement]]:
    """Every requirement of the catalogue by id, with its document."""
    return {r.id: (d, r) for d in docs for r in d.requirements}


def case_level(level: str) -> str | None:
    """The case level a catalogue level stands for (MUST NOT is judged as MUST, SHOULD NOT as
    SHOULD); None for a statement, whose level a case must give itself."""
    return {"MUST": "MUST", "MUST NOT": "MUST", "SHOULD": "SHOULD",
            "SHOULD NOT": "SHOULD"}.get(level)


def check_references(cases: "list[Case]", docs: list[Document]) -> None:
    """Every requirement id a case cites must exist in the catalogue (when there is one)."""
    if not docs:
        return
    known = {r.id for d in docs for r in d.requirements}
    for case in cases:
        for index, ref in enumerate(case.refs):
            if ref.requirement and ref.requirement not in known:
                raise InputError(f"unknown requirement id {ref.requirement!r} (see "
                                 "scenarios/requirements/)", case.file, ref.line,
                                 f"case.ref[{index}].requirement")
        for check in case.checks:
            if check.requirement and check.requirement not in known:
                raise InputError(f"unknown requirement id {check.requirement!r}", case.file,
                                 check.line, "case.expect.requirement")
