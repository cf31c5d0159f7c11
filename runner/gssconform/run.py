"""A whole run: select cases and candidates, start the realm, run the cases on worker threads
within their deadlines, show progress, stop everything (also on Ctrl-C), write the reports.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import VERSION, reports, verdict
from .candidate import Profile, bundled, load_expectation_file, load_profile, resolve
from .errors import EXIT_HARNESS, EXIT_NO_CASE, InputError
from .execute import Context, run_case
from .process import Proc, Registry
from .progress import Progress
from .realm import REPO, RunRealm, krbrealm_module
from .scenario import Case, load_spec, select

SPECS = ("zmtp-gssapi", "xep0233")
DEFAULT_DEADLINE = 5.0


@dataclass
class Settings:
    """What `gssconform run` was asked to do."""
    specs: list[str]
    candidates: list[str]
    include: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    jobs: int = 1
    shard: tuple[int, int] = (1, 1)
    repeat: int = 1
    deadline: float | None = None
    strict: bool = False
    out: str = "reports"
    scenarios: str = os.path.join(REPO, "scenarios")
    candidates_dir: str = os.path.join(REPO, "candidates")
    peer: str | None = None
    expectations: list[str] = field(default_factory=list)
    enctypes: tuple[str, ...] | None = None
    quiet: bool = False
    write_empty: bool = False  # write (empty) reports even when no case is selected
    summary: bool = True       # print the result counts and the report path at the end


def gsspeer_path() -> str:
    """The reference peer program: $GSSCONFORM_BUILD/gsspeer, else the checkout's peer/gsspeer,
    else an installed gsspeer on the PATH (`make install`)."""
    build = os.environ.get("GSSCONFORM_BUILD")
    if build and os.path.exists(os.path.join(build, "gsspeer")):
        return os.path.join(build, "gsspeer")
    local = os.path.join(REPO, "peer", "gsspeer")
    if os.path.exists(local):
        return local
    return shutil.which("gsspeer") or local


def build_dir() -> str:
    """The build folder ({build}): $GSSCONFORM_BUILD, else the folder of the last build that
    peer/gsspeer points at (make links it), else build/."""
    build = os.environ.get("GSSCONFORM_BUILD")
    if build:
        return build
    link = os.path.join(REPO, "peer", "gsspeer")
    if os.path.islink(link) and os.path.exists(link):
        return os.path.dirname(os.path.realpath(link))
    return os.path.join(REPO, "build")


def load_cases(settings: Settings) -> list[Case]:
    """All selected cases of the requested specs (InputError on any malformed file)."""
    cases: list[Case] = []
    for spec in settings.specs:
        cases += select(load_spec(settings.scenarios, spec), settings.include, settings.skip)
    return cases


def load_candidates(settings: Settings) -> list[Profile]:
    """The profiles of the requested candidates with the expectation files applied."""
    profiles = []
    for name in settings.candidates:
        profile = load_profile(resolve(name, settings.candidates_dir))
        for path in settings.expectations:
            load_expectation_file(path, profile)
        profiles.append(profile)
    names = [p.name for p in profiles]
    for name in names:
        if names.count(name) > 1:
            raise InputError(f"candidate name '{name}' given twice")
    return profiles


def bundled_profiles(settings: Settings, loaded: list[Profile]) -> list[Profile]:
    """The bundled candidates' profiles (those that load) beside the LOADED ones, for knowing
    which roles exist."""
    have = {os.path.abspath(p.path) for p in loaded}
    out = []
    for name in bundled(settings.candidates_dir):
        path = os.path.abspath(os.path.join(settings.candidates_dir, name, "profile.toml"))
        if path in have:
            continue
        try:
            out.append(load_profile(path))
        except InputError:
            continue  # only a selected candidate's profile errors are the user's concern
    return out


def check_roles(cases: list[Case], profiles: list[Profile], peer: Profile | None) -> None:
    """InputError for a case whose candidate role no profile plays (a typo would otherwise SKIP
    everywhere and exit 0), or whose peer role the reference peer lacks."""
    known = {role for p in profiles + ([peer] if peer else []) for role in p.roles}
    for case in cases:
        if case.candidate.role not in known:
            raise InputError(f"role '{case.candidate.role}' is played by no candidate profile "
                             f"(known roles: {', '.join(sorted(known))})", case.file, case.line,
                             "candidate.role")
        if case.peer is not None and peer is not None and case.peer.role not in peer.roles:
            raise InputError(f"the reference peer ({peer.path}) has no role '{case.peer.role}' "
                             f"(it has: {', '.join(sorted(peer.roles))})", case.file, case.line,
                             "peer.role")


def check_programs(items: list[tuple[Case, Profile, int]], peer: Profile | None) -> None:
    """InputError naming the profile line of a role whose program does not exist, before
    anything starts (it would otherwise be an ERROR in every case)."""
    values = {"gsspeer": gsspeer_path(), "build": build_dir()}
    wanted = {(profile.path, case.candidate.role): profile for case, profile, _ in items}
    wanted.update({(peer.path, case.peer.role): peer for case, _, _ in items
                   if case.peer and peer})
    for (_, role_name), profile in sorted(wanted.items(), key=lambda item: item[0]):
        role = profile.roles.get(role_name)
        if role is None:
            continue
        try:
            program = role.command[0].format_map(dict(values, dir=profile.folder))
        except KeyError:
            continue  # needs a per-case value: checked when the case starts
        found = os.access(program, os.X_OK) if os.sep in program else shutil.which(program)
        if not found:
            hint = " (run `make` to build the bundled programs)" if program.startswith(
                (REPO, values["build"])) else ""
            raise InputError(f"program {program} does not exist or is not executable{hint}",
                             profile.path, role.line, f"roles.{role_name}.command")


def plan(cases: list[Case], profiles: list[Profile], shard: tuple[int, int],
         repeat: int) -> list[tuple[Case, Profile, int]]:
    """The work items: case x candidate in a fixed order, this shard's share, repeated."""
    items = [(case, profile) for case in cases for profile in profiles]
    index, count = shard
    items = [item for number, item in enumerate(items) if number % count == index - 1]
    return [(case, profile, r) for case, profile in items for r in range(1, repeat + 1)]


def _principal_specs(cases: list[Case]) -> list[str]:
    specs: dict[str, tuple[str, Case]] = {}
    krbrealm = krbrealm_module() if any(case.realm and case.principals for case in cases) else None
    for case in cases:
        if not case.realm:
            continue
        for spec in case.principals:
            try:
                krbrealm.parse_principal_spec(spec, "REALM.TEST")
            except ValueError as err:
                raise InputError(f"principal {spec!r}: {err}", case.file, case.line,
                                 "principals") from None
            name = spec.split(":", 1)[0]
            if name in specs and specs[name][0] != spec:
                other = specs[name][1]
                raise InputError(f"principal {name} is declared as {spec!r} here and as "
                                 f"{specs[name][0]!r} in {other.file}:{other.line}",
                                 case.file, case.line, "principals")
            specs.setdefault(name, (spec, case))
    return [spec for spec, _ in specs.values()]


def _version(profile: Profile, values: dict, registry: Registry) -> str:
    if not profile.version_command:
        return ""
    try:
        argv = [part.format_map(values) for part in profile.version_command]
    except KeyError as err:
        return f"(version command needs {err})"
    with tempfile.TemporaryDirectory(prefix="gssconform-version-") as tmp:
        proc = Proc("version", argv, dict(os.environ), tmp, registry)
        try:
            proc.start()
        except OSError as err:
            return f"(version command failed: {err})"
        proc.wait_exit(time.monotonic() + 5.0)
        proc.stop(0.2)
    lines = proc.stdout.text().strip().splitlines()
    return lines[0][:200] if lines else ""


def _tls_files(directory: str) -> dict[str, str]:
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert,
                    "-addext", "subjectAltName=DNS:localhost,DNS:example.com,IP:127.0.0.1"],
                   capture_output=True, timeout=60, check=True)
    return {"tls_cert": cert, "tls_key": key, "tls_ca": cert}


def check_out(out: str) -> None:
    """InputError unless out can be a report folder: a folder (or nothing yet) whose artifacts/
    and cases/, if any, an earlier run wrote (clean_out deletes them)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise InputError("the report folder is an existing file", out, None, "--out")
    if os.path.isfile(os.path.join(out, "results.json")):
        return
    for name in ("artifacts", "cases"):
        if os.path.exists(os.path.join(out, name)):
            raise InputError(f"holds {name}/ but no results.json: not a gssconform report "
                             "folder, and a run would delete it (choose another --out)", out,
                             None, "--out")


def clean_out(out: str) -> None:
    """Remove the reports and artifacts a previous run left in the report folder."""
    for name in ("artifacts", "cases"):
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    for name in reports.FILES:
        try:
            os.unlink(os.path.join(out, name))
        except FileNotFoundError:
            pass


class Run:
    """One invocation of `gssconform run`: owns its realm, processes and report folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Registry()
        self.interrupted = False
        self.cases = load_cases(settings)
        self.profiles = load_candidates(settings)
        peer_path = settings.peer or os.path.join(settings.candidates_dir, "gsspeer",
                                                  "profile.toml")
        self.peer_error = None
        self.peer: Profile | None = None
        if settings.peer:
            self.peer = load_profile(peer_path)
        elif os.path.isfile(peer_path):
            self.peer = load_profile(peer_path)
        else:
            self.peer_error = f"reference peer profile {peer_path} is missing"
        check_out(settings.out)
        self.items = plan(self.cases, self.profiles, settings.shard, settings.repeat)
        check_roles(self.cases, self.profiles + bundled_profiles(settings, self.profiles),
                    self.peer)
        check_programs(self.items, self.peer)
        self.realm = RunRealm(_principal_specs(self.cases), settings.enctypes)

    def _on_signal(self, signum: int, frame) -> None:
        self.interrupted = True
        self.registry.kill_all()
        print(f"\ngssconform: {signal.Signals(signum).name}: stopping every process",
              file=sys.stderr, flush=True)

    def execute(self) -> int:
        """Run every item and write the reports; returns the exit code."""
        s = self.settings
        if not self.items and not s.write_empty:
            print("gssconform: no case selected", file=sys.stderr)
            return EXIT_NO_CASE
        os.makedirs(s.out, exist_ok=True)
        clean_out(s.out)
        handlers = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                handlers[signum] = signal.signal(signum, self._on_signal)
        tmp = tempfile.mkdtemp(prefix="gssconform-run-")
        started = datetime.now(timezone.utc)
        results: list[dict | None] = [None] * len(self.items)
        try:
            if any(case.realm for case, _, _ in self.items):
                self.realm.start()
            tls = {}
            if any("{tls_" in repr(p.roles) for p in self.profiles + [self.peer] if p):
                try:
                    tls = _tls_files(tmp)
                except (OSError, subprocess.SubprocessError) as err:
                    print(f"gssconform: warning: no TLS files: {err}", file=sys.stderr)
            build = build_dir()
            gsspeer = gsspeer_path()
            values = {"gsspeer": gsspeer, "build": build}
            ctx = Context(out=os.path.abspath(s.out), registry=self.registry, realm=self.realm,
                          peer=self.peer, peer_error=self.peer_error, gsspeer=gsspeer,
                          build=build, strict=s.strict,
                          deadline=s.deadline or DEFAULT_DEADLINE,
                          deadline_forced=s.deadline is not None, tls=tls)
            candidates = [{"name": p.name, "profile": p.path, "description": p.description,
                           "features": p.features, "roles": sorted(p.roles),
                           "version": _version(p, dict(values, dir=p.folder), self.registry)}
                          for p in self.profiles]
            peer_version = _version(self.peer, dict(values, dir=self.peer.folder),
                                    self.registry) if self.peer else ""
            self._work(ctx, results)
        finally:
            self.registry.kill_all()
            realm_info = self.realm.describe()
            self.realm.close()
            shutil.rmtree(tmp, ignore_errors=True)
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        done = [r for r in results if r is not None]
        doc = {
            "format": "gssconform-results/1",
            "meta": {"tool": "gssconform", "version": VERSION, "started": started.isoformat(
                timespec="seconds"), "finished": datetime.now(timezone.utc).isoformat(
                timespec="seconds"), "host": platform.node(), "python": platform.python_version(),
                "specs": [spec for spec in s.specs if any(c.spec == spec for c in self.cases)],
                "include": s.include, "skip": s.skip, "jobs": s.jobs,
                "shard": f"{s.shard[0]}/{s.shard[1]}", "repeat": s.repeat, "strict": s.strict,
                "deadline": s.deadline or DEFAULT_DEADLINE, "realm": realm_info,
                "peer": {"profile": self.peer.path if self.peer else None,
                         "program": gsspeer_path(), "version": peer_version},
                "interrupted": self.interrupted, "planned": len(self.items)},
            "candidates": candidates,
            "cases": {case.id: case.to_json() for case in self.cases},
            "results": done,
        }
        paths = reports.write_all(doc, s.out, s.scenarios)
        if s.summary:
            print(f"gssconform: {reports.summary_line(done)}", file=sys.stderr)
            print(f"gssconform: report: {paths['index.html']}", file=sys.stderr)
        if self.interrupted:
            return EXIT_HARNESS
        if not self.items:
            return EXIT_NO_CASE
        return verdict.exit_code([r["verdict"] for r in done])

    def _work(self, ctx: Context, results: list) -> None:
        progress = Progress(len(self.items), quiet=self.settings.quiet)

        def one(index: int) -> int:
            """Run work item index on a worker thread; -1 when the run is shutting down."""
            case, profile, repeat = self.items[index]
            if self.registry.closed:
                return -1
            try:
                results[index] = run_case(ctx, case, profile, repeat, self.settings.repeat)
                if self.registry.closed:
                    # The harness killed this case's processes: what they did proves nothing.
                    results[index].update(
                        verdict="ERROR", interrupted=True,
                        reason="interrupted: the run was stopped while this case ran "
                               f"(judged before that: {results[index]['verdict']})")
            except Exception as err:  # noqa: BLE001 (a harness bug must not hide other results)
                results[index] = {"case": case.id, "spec": case.spec, "candidate": profile.name,
                                  "role": case.candidate.role, "repeat": repeat,
                                  "verdict": "ERROR", "reason": f"harness error: "
                                  f"{type(err).__name__}: {err}", "checks": [],
                                  "observations": {}, "artifacts": {}}
            return index

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
                futures = [pool.submit(one, i) for i in range(len(self.items))]
                for future in as_completed(futures):
                    index = future.result()
                    if index >= 0 and results[index] is not None:
                        result = results[index]
                        progress.finished(result, result["verdict"] in verdict.FAILING or
                                          result["verdict"] == "ERROR")
                    if self.registry.closed:
                        for other in futures:
                            other.cancel()
        finally:
            progress.close()

