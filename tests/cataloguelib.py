"""What the catalogue tests share (tests/xmpp/catalogue-*-t.py, tests/zmtp/catalogue-t.py):
running ./gssconform on the build under test, the reasons a catalogue cannot run here, and
the checks every catalogue passes the same way (a reference in every listed case, quotes
verbatim, every file valid on its own, a run against gsspeer as the candidate). Each check
takes the unittest.TestCase it asserts in, so a failure is reported as that test's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from typing import Any, Iterable

from gssconform import requirements
import taptest

GSSCONFORM = os.path.join(taptest.REPO, "gssconform")
SCENARIOS = os.path.join(taptest.REPO, "scenarios")
OUTER_TIMEOUT = 300  # bound on one gssconform invocation (not a timing assertion)
# A listed case's reference line: indented, a level, then the quote.
REFERENCE_LINE = r'\n    \S.*(MUST|SHOULD|MAY|de-facto|security|INFO): ".+"'


def gssconform(*args: str) -> subprocess.CompletedProcess:
    """Run ./gssconform with the build under test."""
    env = dict(os.environ, GSSCONFORM_BUILD=taptest.build_dir())
    return subprocess.run([GSSCONFORM, *args], capture_output=True, text=True, env=env,
                          timeout=OUTER_TIMEOUT, check=False)


def missing(programs: Iterable[str] = ("krb5kdc", "kdb5_util", "kadmin.local")) -> str | None:
    """Why a catalogue run cannot happen here (one of PROGRAMS or gsspeer absent), or None."""
    for prog in programs:
        if shutil.which(prog, path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
            return f"{prog} not installed"
    if not os.access(os.path.join(taptest.build_dir(), "gsspeer"), os.X_OK):
        return f"no gsspeer in {taptest.build_dir()}"
    return None


def flat(text: str) -> str:
    """Text with every run of white space as one space (documents wrap their lines)."""
    return " ".join(text.split())


def assert_listed_with_references(test: unittest.TestCase, spec: str, prefix: str,
                                  at_least: int) -> None:
    """`gssconform list --long` of SPEC shows at least AT_LEAST cases whose id starts with
    PREFIX, each with at least one quoted reference."""
    result = gssconform("list", "--spec", spec, "--long")
    test.assertEqual(result.returncode, 0, result.stderr)
    blocks = re.split(f"^(?={re.escape(spec)}/)", result.stdout, flags=re.M)
    blocks = [b for b in blocks if b.startswith(prefix)]
    test.assertGreaterEqual(len(blocks), at_least)
    for block in blocks:
        with test.subTest(case=block.splitlines()[0]):
            test.assertRegex(block, REFERENCE_LINE, "every case quotes at least one reference")


def assert_quotes_verbatim(test: unittest.TestCase, cases: Iterable[Any]) -> None:
    """Every reference of CASES quotes its catalogue requirement exactly, or else a project
    document (docs/...) in which the quote stands, white space aside."""
    catalogue = {r.id: r for d in requirements.load(SCENARIOS) for r in d.requirements}
    texts: dict[str, str] = {}
    for case in cases:
        for ref in case.refs:
            with test.subTest(case=case.id, quote=ref.quote[:40]):
                if ref.requirement:
                    test.assertEqual(ref.quote, catalogue[ref.requirement].quote)
                elif ref.doc.startswith("docs/"):
                    if ref.doc not in texts:
                        with open(os.path.join(taptest.REPO, ref.doc),
                                  encoding="utf-8") as handle:
                            texts[ref.doc] = flat(handle.read())
                    test.assertTrue(flat(ref.quote) in texts[ref.doc],
                                    f"not in {ref.doc}: {ref.quote!r}")
                else:
                    test.fail(f"{ref.doc}: neither a catalogue id nor a project document")


def assert_files_validate_alone(test: unittest.TestCase, spec: str, names: list[str],
                                at_least: int) -> None:
    """There are at least AT_LEAST NAMES (files of scenarios/SPEC), and each one, alone in a
    copy of the scenario tree (with the requirement catalogue and checks.toml), lists
    without error and holds a case."""
    test.assertGreaterEqual(len(names), at_least)
    folder = os.path.join(SCENARIOS, spec)
    with tempfile.TemporaryDirectory(prefix="catalogue-") as tmp:
        shutil.copytree(os.path.join(SCENARIOS, "requirements"),
                        os.path.join(tmp, "requirements"))
        shutil.copy(os.path.join(SCENARIOS, "checks.toml"), tmp)
        for name in names:
            target = os.path.join(tmp, spec)
            shutil.rmtree(target, ignore_errors=True)
            os.makedirs(target)
            shutil.copy(os.path.join(folder, name), target)
            with test.subTest(file=name):
                result = gssconform("list", "--spec", spec, "--scenarios", tmp)
                test.assertEqual(result.returncode, 0, result.stderr)
                test.assertTrue(result.stdout.strip(), f"{name} holds no case")


def run_reference(spec: str, case_glob: str | None = None
                  ) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run SPEC's catalogue (only CASE_GLOB when given) against gsspeer as the candidate;
    the gssconform process and the entries of its results.json."""
    selection = [] if case_glob is None else ["--case", case_glob]
    with tempfile.TemporaryDirectory(prefix="catalogue-") as out:
        result = gssconform("run", "--spec", spec, *selection, "--candidate", "gsspeer",
                            "-j", "2", "-q", "--out", out)
        with open(os.path.join(out, "results.json"), encoding="utf-8") as handle:
            return result, json.load(handle)["results"]


def assert_reference_passes(test: unittest.TestCase, spec: str, case_glob: str,
                            at_least: int) -> subprocess.CompletedProcess:
    """gsspeer as the candidate gets PASS in every case of SPEC matching CASE_GLOB, of
    which there are at least AT_LEAST; the gssconform process."""
    result, results = run_reference(spec, case_glob)
    test.assertGreaterEqual(len(results), at_least, result.stderr)
    for entry in results:
        with test.subTest(case=entry["case"]):
            test.assertEqual(entry["verdict"], "PASS", entry["reason"])
    return result
