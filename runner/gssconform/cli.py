"""The `gssconform` command line: run, list, merge, report, realm."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from . import VERSION, reports, requirements, verdict
from .candidate import bundled
from .errors import EXIT_HARNESS, EXIT_INPUT, EXIT_NO_CASE, EXIT_OK, HarnessError, InputError
from .realm import REPO, cli as realm_cli
from .run import SPECS, Run, Settings, check_out, clean_out, load_cases


# Cases mostly wait (observation windows, deadlines), so three workers suit two cores; `run`
# and `report` share the default so a CI job does not get the slow one.
JOBS = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        """Usage errors exit 3 (docs/ci.md: exit status), not argparse's 2 (a harness error)."""
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_INPUT)


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"shard must be I/N with 1 <= I <= N, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _positive(kind):
    def parse(text: str) -> int | float:
        """The positive number in text, or an argparse error."""
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value
    return parse


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def spec_names(scenarios: str = os.path.join(REPO, "scenarios")) -> list[str]:
    """The known specs, each marked "(no cases yet)" when its scenarios/ folder has no case
    file: help texts say what exists, not what is planned."""
    out = []
    for spec in SPECS:
        folder = os.path.join(scenarios, spec)
        has = os.path.isdir(folder) and any(name.endswith(".toml")
                                            for _, _, names in os.walk(folder) for name in names)
        out.append(spec if has else f"{spec} (no cases yet)")
    return out


def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", action="append", metavar="SPEC",
                        help=f"spec folder under scenarios/ ({', '.join(spec_names())}; "
                             "repeatable; default: every spec)")
    parser.add_argument("--case", action="append", metavar="GLOB",
                        help="run only case ids matching the glob (repeatable)")
    parser.add_argument("--skip", action="append", metavar="GLOB",
                        help="leave out case ids matching the glob (repeatable)")
    parser.add_argument("--scenarios", default=os.path.join(REPO, "scenarios"), metavar="DIR",
                        help="scenario tree (default: the checkout's scenarios/)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gssconform",
                     description="Conformance runner for ZMTP GSSAPI and XMPP XEP-0233.",
                     epilog="Exit status: 0 all passed or as expected, 1 conformance failures, "
                            "2 harness or realm error, 3 usage or input-file error, "
                            "4 no case selected.")
    parser.add_argument("--version", action="version", version=f"gssconform {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run cases against candidates")
    _selection(run)
    run.add_argument("--candidate", action="append", metavar="NAME|PROFILE",
                     help="bundled candidate folder name or profile path (repeatable, "
                          "comma-separated; default: every bundled candidate); +PROFILE adds "
                          "one to the others, e.g. --candidate +ci/profile.toml runs the "
                          "bundled candidates plus yours")
    run.add_argument("-j", "--jobs", type=_positive(int), default=JOBS, metavar="N",
                     help=f"parallel workers (default {JOBS}, as for report)")
    run.add_argument("--shard", type=_shard, default=(1, 1), metavar="I/N",
                     help="run only shard I of N (deterministic split by case index)")
    run.add_argument("--repeat", type=_positive(int), default=1, metavar="N",
                     help="run every case N times")
    run.add_argument("--deadline", type=_positive(float), metavar="S",
                     help="per-case deadline in seconds (default 5; bounds cases' own too)")
    run.add_argument("--strict", action="store_true",
                     help="SHOULD and de facto expectations count as failures (FAIL)")
    run.add_argument("--out", default="reports", metavar="DIR", help="report folder")
    run.add_argument("--force", action="store_true",
                     help="write into --out even if it does not look like a report folder")
    run.add_argument("--build", metavar="DIR",
                     help="build folder of gsspeer and the shims (default $GSSCONFORM_BUILD, "
                          "else build/; e.g. build-san for the sanitized build)")
    run.add_argument("--expectations", action="append", default=[], metavar="FILE",
                     help="extra [[expectation]] file (disabled/xfail per case)")
    run.add_argument("--peer", metavar="PROFILE",
                     help="profile of the reference peer (default candidates/gsspeer)")
    run.add_argument("--enctypes", metavar="E[,E]", help="realm enctypes")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress output; the failing cases are listed at the end")

    lister = sub.add_parser("list", help="print the selected case ids")
    _selection(lister)
    lister.add_argument("--long", action="store_true", help="add titles and references")

    merge = sub.add_parser("merge", help="merge shard report folders into one report")
    merge.add_argument("dirs", nargs="+", metavar="DIR")
    merge.add_argument("--out", default="reports", metavar="DIR")
    merge.add_argument("--force", action="store_true",
                       help="write into --out even if it does not look like a report folder")
    merge.add_argument("--scenarios", default=os.path.join(REPO, "scenarios"), metavar="DIR")

    report = sub.add_parser("report", help="both specs x every bundled candidate + summary")
    report.add_argument("--out", default="reports", metavar="DIR")
    report.add_argument("--force", action="store_true",
                        help="write into --out even if it does not look like a report folder")
    report.add_argument("--build", metavar="DIR", help="build folder (as for run)")
    report.add_argument("-j", "--jobs", type=_positive(int), default=JOBS, metavar="N",
                        help=f"parallel workers (default {JOBS})")
    report.add_argument("--deadline", type=_positive(float), metavar="S")

    realm = sub.add_parser("realm", help="throwaway realm: up|down|env|log|add (realm-setup)")
    realm.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _settings(args: argparse.Namespace, specs: list[str], candidates: list[str]) -> Settings:
    return Settings(specs=specs, candidates=candidates, include=_split(args.case),
                    skip=_split(args.skip), jobs=args.jobs, shard=args.shard,
                    repeat=args.repeat, deadline=args.deadline, strict=args.strict,
                    out=args.out, scenarios=args.scenarios, peer=args.peer,
                    expectations=args.expectations,
                    enctypes=tuple(_split([args.enctypes])) if args.enctypes else None,
                    quiet=args.quiet, build=args.build, force=args.force)


def _list(args: argparse.Namespace) -> int:
    settings = Settings(specs=_split(args.spec) or list(SPECS), candidates=[],
                        include=_split(args.case), skip=_split(args.skip),
                        scenarios=args.scenarios)
    cases = load_cases(settings)
    requirements.check_references(cases, requirements.load(settings.scenarios))
    for case in cases:
        print(case.id)
        if args.long:
            peer = f", reference peer as {case.peer.role}" if case.peer else ""
            print(f"    {case.title} (candidate as {case.candidate.role}{peer})")
            for ref in case.refs:
                print(f"    {ref.doc} {ref.revision} \u00a7{ref.section} {ref.level}: "
                      f"\"{ref.quote}\"")
    if not cases:
        print("gssconform: no case selected", file=sys.stderr)
        return EXIT_NO_CASE
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    given = _split(args.candidate)
    added = [name[1:] for name in given if name.startswith("+")]
    chosen = [name for name in given if not name.startswith("+")]
    # "+PROFILE" adds to the default set: the bundled candidates plus mine.
    candidates = (chosen or bundled(os.path.join(REPO, "candidates"))) + added
    if not candidates:
        raise InputError("no candidate given and no bundled candidate found")
    run = Run(_settings(args, _split(args.spec) or list(SPECS), candidates))
    requirements.check_references(run.cases, requirements.load(args.scenarios))
    return run.execute()


def _report(args: argparse.Namespace) -> int:
    scenarios = os.path.join(REPO, "scenarios")
    specs = [s for s in SPECS if os.path.isdir(os.path.join(scenarios, s))]
    candidates = bundled(os.path.join(REPO, "candidates"))
    if not candidates:
        raise InputError("no bundled candidate found under candidates/")
    settings = Settings(specs=specs, candidates=candidates, jobs=args.jobs,
                        deadline=args.deadline, out=args.out, scenarios=scenarios,
                        write_empty=True, summary=False, build=args.build, force=args.force)
    run = Run(settings)
    requirements.check_references(run.cases, requirements.load(scenarios))
    print(f"gssconform report: {len(run.items)} runs ({len(run.cases)} cases of "
          f"{', '.join(specs) or 'no spec'} x {len(run.profiles)} candidates)", flush=True)
    code = run.execute()
    with open(os.path.join(args.out, "results.json"), encoding="utf-8") as handle:
        doc = json.load(handle)
    if code == EXIT_NO_CASE:
        print("gssconform report: no scenario cases yet: nothing ran")
    print(reports.summary_table(doc["results"], [c["name"] for c in doc["candidates"]]))
    print(f"requirements: {os.path.abspath(os.path.join(args.out, 'requirements.html'))}")
    print(f"report: {os.path.abspath(os.path.join(args.out, 'index.html'))}")
    # Findings in candidates are the product's output; only harness trouble fails `report`.
    return EXIT_HARNESS if code == EXIT_HARNESS else EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    for folder in args.dirs:
        if os.path.realpath(folder) == os.path.realpath(args.out):
            raise InputError("is also a folder being merged: the merge would delete what it "
                             "reads (choose another --out)", args.out, None, "--out")
    check_out(args.out, args.force)
    doc = reports.merge(args.dirs, args.out)
    os.makedirs(args.out, exist_ok=True)
    clean_out(args.out)
    try:
        reports.copy_artifacts(doc, args.out)
        reports.write_all(doc, args.out, args.scenarios)
    except OSError as err:
        raise HarnessError(f"{args.out}: cannot write the reports: {err}") from None
    for line in reports.failed_lines(doc["results"]):
        print(f"gssconform: {line}", file=sys.stderr)
    print(f"gssconform: merged {len(args.dirs)} folders: "
          f"{reports.summary_line(doc['results'], doc['meta'].get('planned'))}",
          file=sys.stderr)
    if doc["meta"].get("interrupted"):
        return EXIT_HARNESS
    return verdict.exit_code([r["verdict"] for r in doc["results"]])


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args)
        if args.command == "run":
            return _run(args)
        if args.command == "merge":
            return _merge(args)
        if args.command == "report":
            return _report(args)
        if args.command == "realm":
            return realm_cli(args.args)
    except InputError as err:
        print(f"gssconform: {err}", file=sys.stderr)
        return EXIT_INPUT
    except HarnessError as err:
        print(f"gssconform: {err}", file=sys.stderr)
        return EXIT_HARNESS
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_INPUT
