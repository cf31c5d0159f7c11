"""A whole run: select cases and candidates, start the realm, run the cases on worker threads
within their deadlines, show progress, stop everything (also on Ctrl-C), write the reports.
"""

from __future__ import annotations

import contextlib
import json
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
from .candidate import (Profile, bundled, check_expectation_file, check_features,
                        load_expectation_file, load_profile, resolve)
from .errors import EXIT_HARNESS, EXIT_NO_CASE, HarnessError, InputError
from .execute import Context, precheck, run_case
from .process import Guardian, Proc, Registry, become_subreaper
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
    build: str | None = None   # --build: the build folder (default $GSSCONFORM_BUILD, build/)
    force: bool = False        # --force: write into a folder that is no gssconform report


def build_choice(build: str | None = None, repo: str = REPO) -> tuple[str, str]:
    """The build folder ({build}) and how it was chosen: --build, else $GSSCONFORM_BUILD, else
    the checkout's build/. Never the folder peer/gsspeer happens to point at: after `make
    SANITIZE=1` that is build-san/, and a sanitized build must be asked for by name."""
    if build:
        return os.path.abspath(build), "--build"
    env = os.environ.get("GSSCONFORM_BUILD")
    if env:
        return os.path.abspath(env), "GSSCONFORM_BUILD"
    return os.path.join(repo, "build"), "default"


def build_dir(build: str | None = None) -> str:
    """The build folder ({build}) (see build_choice)."""
    return build_choice(build)[0]


def gsspeer_path(build: str | None = None) -> str:
    """The reference peer program: gsspeer in the build folder, else an installed gsspeer on the
    PATH (`make install`), else the build folder's path (check_programs reports it missing)."""
    local = os.path.join(build_dir(build), "gsspeer")
    if os.path.exists(local):
        return local
    return shutil.which("gsspeer") or local


def sanitized(program: str) -> bool:
    """Whether a program was built with AddressSanitizer (its ASan runtime symbol is linked in)."""
    try:
        with open(program, "rb") as handle:
            return b"__asan_init" in handle.read(64 << 20)
    except OSError:
        return False


def build_info(build: str | None = None) -> dict:
    """Which build the run used, for the report: folder, how chosen, gsspeer, sanitized."""
    folder, how = build_choice(build)
    program = gsspeer_path(build)
    return {"dir": folder, "chosen_by": how, "gsspeer": program,
            "sanitized": sanitized(program)}


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


def check_inputs(settings: Settings, cases: list[Case], profiles: list[Profile]) -> None:
    """Validate what would otherwise apply nothing in silence: expectation-file entries (role,
    candidate, case glob over every case of the tree, not only the selected ones) and the
    profiles' feature names."""
    specs = list(dict.fromkeys(list(settings.specs) + [
        spec for spec in SPECS if os.path.isdir(os.path.join(settings.scenarios, spec))]))
    tree = [case for spec in specs for case in load_spec(settings.scenarios, spec)]
    used = {feature for case in tree for feature in case.features}
    for profile in profiles:
        for warning in check_features(profile, used):
            print(f"gssconform: warning: {warning}", file=sys.stderr)
    ids = [case.id for case in tree]
    for path in settings.expectations:
        check_expectation_file(path, profiles, ids)


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


def check_programs(items: list[tuple[Case, Profile, int]], peer: Profile | None,
                   build: str | None = None) -> None:
    """InputError naming the profile line of a role whose program does not exist, before
    anything starts (it would otherwise be an ERROR in every case)."""
    values = {"gsspeer": gsspeer_path(build), "build": build_dir(build)}
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
            # `make` builds the bundled candidates and what lands in the build folder; a
            # program of the user's own profile is the user's to build.
            ours = os.path.abspath(profile.path).startswith(
                os.path.join(REPO, "candidates") + os.sep) or program.startswith(
                values["build"] + os.sep)
            hint = (" (run `make` to build the bundled programs)" if ours else
                    " (a program of your own profile: build it or fix the path; {dir} is the "
                    "profile's folder)")
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


def _keytab_groups(cases: list[Case]) -> list[list[str]]:
    """The acceptor keytabs of several principals the cases need (acceptor + also_accept)."""
    groups = {tuple([side.acceptor, *side.also_accept]) for case in cases if case.realm
              for side in (case.candidate, case.peer) if side and side.also_accept}
    return [list(group) for group in sorted(groups)]


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


REPORT_MARKS = ("results.json", "results.jsonl")
_PSEUDO_FS = ("/proc", "/sys", "/dev")


def check_out(out: str, force: bool = False) -> None:
    """InputError unless out can be a report folder, before anything starts: not a file, not
    under /proc, /sys or /dev, creatable and writable (tried), and either new, empty, or a
    folder an earlier run wrote (results.json or results.jsonl): a run deletes the reports and
    artifacts it finds there, so someone else's index.html or artifacts/ is refused unless
    force."""
    real = os.path.realpath(out)
    for top in _PSEUDO_FS:
        if real == top or real.startswith(top + os.sep):
            raise InputError(f"the report folder is under {top}, which holds no files",
                             out, None, "--out")
    if os.path.exists(out) and not os.path.isdir(out):
        raise InputError("the report folder is an existing file", out, None, "--out")
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".gssconform-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise InputError(f"cannot write the report folder: {err.strerror or err}", out, None,
                         "--out") from None
    if force or any(os.path.isfile(os.path.join(out, name)) for name in REPORT_MARKS):
        return
    for name in ("artifacts", "cases") + reports.FILES:
        if os.path.exists(os.path.join(out, name)):
            raise InputError(f"holds {name} but no results.json: not a gssconform report "
                             "folder, and a run would overwrite it (choose another --out, or "
                             "--force)", out, None, "--out")


def clean_out(out: str) -> None:
    """Remove the reports and artifacts a previous run left in the report folder."""
    for name in ("artifacts", "cases"):
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    for name in reports.FILES + (reports.STREAM,):
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
        self.stopped: str | None = None  # why the run stopped before its end (realm gone)
        self.cases = load_cases(settings)
        self.profiles = load_candidates(settings)
        check_inputs(settings, self.cases, self.profiles)
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
        check_out(settings.out, settings.force)
        self.items = plan(self.cases, self.profiles, settings.shard, settings.repeat)
        check_roles(self.cases, self.profiles + bundled_profiles(settings, self.profiles),
                    self.peer)
        check_programs(self.items, self.peer, settings.build)
        self.realm = RunRealm(_principal_specs(self.cases), settings.enctypes, self.registry,
                              _keytab_groups(self.cases))
        self._stream_fd: int | None = None

    def _on_signal(self, signum: int, frame) -> None:
        self.interrupted = True
        self.registry.kill_all()
        print(f"\ngssconform: {signal.Signals(signum).name}: stopping every process",
              file=sys.stderr, flush=True)

    def _stream(self, record: dict) -> None:
        """Append one line to results.jsonl in a single write (O_APPEND): a run killed at any
        moment leaves whole lines, which `gssconform merge` can still report."""
        if self._stream_fd is None:
            return
        line = (json.dumps(record, default=str) + "\n").encode("utf-8")
        try:
            os.write(self._stream_fd, line)
        except OSError as err:
            print(f"gssconform: warning: cannot append to {reports.STREAM}: {err}",
                  file=sys.stderr)

    def _meta(self, started: datetime, realm_info: dict, peer_version: str, build: dict) -> dict:
        s = self.settings
        return {"tool": "gssconform", "version": VERSION, "started": started.isoformat(
            timespec="seconds"), "finished": datetime.now(timezone.utc).isoformat(
            timespec="seconds"), "host": platform.node(), "python": platform.python_version(),
            "specs": [spec for spec in s.specs if any(c.spec == spec for c in self.cases)],
            "include": s.include, "skip": s.skip, "jobs": s.jobs,
            "shard": f"{s.shard[0]}/{s.shard[1]}", "repeat": s.repeat, "strict": s.strict,
            "deadline": s.deadline or DEFAULT_DEADLINE, "realm": realm_info,
            "build": build,
            "peer": {"profile": self.peer.path if self.peer else None,
                     "program": build["gsspeer"], "version": peer_version},
            "interrupted": self.interrupted, "planned": len(self.items)}

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
        # Orphaned descendants of candidates become ours (process.sweep finds them), and a
        # guardian cleans up if this process is killed outright.
        self.registry.subreaper = become_subreaper()
        guardian = Guardian(self.registry)
        guardian.start()
        tmp = tempfile.mkdtemp(prefix="gssconform-run-")
        guardian.remove_on_death(tmp)
        started = datetime.now(timezone.utc)
        results: list[dict | None] = [None] * len(self.items)
        build = build_info(s.build)
        candidates: list[dict] = []
        peer_version = ""
        try:
            self._stream_fd = os.open(os.path.join(s.out, reports.STREAM),
                                      os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
        except OSError as err:
            raise HarnessError(f"{s.out}: cannot write {reports.STREAM}: {err}") from None
        values = {"gsspeer": build["gsspeer"], "build": build["dir"]}
        setup = ThreadPoolExecutor(max_workers=4)
        try:
            if any(case.realm for case, _, _ in self.items):
                self.realm.start()
                if self.realm.tmp:
                    guardian.remove_on_death(self.realm.tmp)
            tls = {}
            if any("{tls_" in repr(p.roles) for p in self.profiles + [self.peer] if p):
                try:
                    tls = _tls_files(tmp)
                except (OSError, subprocess.SubprocessError) as err:
                    print(f"gssconform: warning: no TLS files: {err}", file=sys.stderr)
            # The version commands run side by side, but only after the realm's and the TLS
            # key's helper programs (kadmin.local, openssl) ended: a Proc's after-exit sweep
            # must never meet a helper before its exec completed, when /proc does not show the
            # runner's mark in its environment yet and it passes for an orphan.
            versions = [setup.submit(_version, p, dict(values, dir=p.folder), self.registry)
                        for p in self.profiles]
            peer_future = setup.submit(_version, self.peer, dict(values, dir=self.peer.folder),
                                       self.registry) if self.peer else None
            ctx = Context(out=os.path.abspath(s.out), registry=self.registry, realm=self.realm,
                          peer=self.peer, peer_error=self.peer_error, gsspeer=build["gsspeer"],
                          build=build["dir"], strict=s.strict,
                          deadline=s.deadline or DEFAULT_DEADLINE,
                          deadline_forced=s.deadline is not None, tls=tls)
            candidates = [{"name": p.name, "profile": p.path, "description": p.description,
                           "features": p.features, "roles": sorted(p.roles),
                           "version": version.result()}
                          for p, version in zip(self.profiles, versions)]
            peer_version = peer_future.result() if peer_future else ""
            self._stream({"format": reports.STREAM_FORMAT,
                          "meta": self._meta(started, self.realm.describe(), peer_version,
                                             build),
                          "candidates": candidates,
                          "cases": {case.id: case.to_json() for case in self.cases}})
            self._work(ctx, results)
        finally:
            setup.shutdown(wait=True, cancel_futures=True)
            self.registry.kill_all()
            realm_info = self.realm.describe()
            self.realm.close()
            shutil.rmtree(tmp, ignore_errors=True)
            guardian.close()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        done = [r for r in results if r is not None]
        doc = {
            "format": "gssconform-results/1",
            "meta": self._meta(started, realm_info, peer_version, build),
            "candidates": candidates,
            "cases": {case.id: case.to_json() for case in self.cases},
            "results": done,
        }
        if self.stopped:
            doc["meta"]["stopped"] = self.stopped
        try:
            paths = reports.write_all(doc, s.out, s.scenarios)
        except OSError as err:
            raise HarnessError(f"{s.out}: cannot write the reports: {err}") from None
        finally:
            self._stream({"end": True})
            os.close(self._stream_fd)
            self._stream_fd = None
        if self.stopped:
            print(f"gssconform: run stopped: {self.stopped}", file=sys.stderr)
        if s.summary:
            if s.quiet:
                # No progress lines named them: the failures are what a CI log must show.
                for line in reports.failed_lines(done):
                    print(f"gssconform: {line}", file=sys.stderr)
            print(f"gssconform: {reports.summary_line(done, len(self.items))}", file=sys.stderr)
            print(f"gssconform: report: {paths['index.html']}", file=sys.stderr)
            if build["sanitized"]:
                print(f"gssconform: note: the build used ({build['dir']}) is sanitized (ASan)",
                      file=sys.stderr)
        if self.interrupted or self.stopped:
            return EXIT_HARNESS
        if not self.items:
            return EXIT_NO_CASE
        return verdict.exit_code([r["verdict"] for r in done])

    def _realm_check(self, case: Case) -> str | None:
        """Before a case that needs the realm: None when the KDC is healthy (restarted if it
        was gone), else why not; a realm that cannot be brought back stops the run."""
        if not case.realm or self.realm.realm is None:
            return None
        problem = self.realm.ensure()
        if problem and not self.stopped:
            self.stopped = problem
            self.registry.closed = True  # no new case starts
        return problem

    def _work(self, ctx: Context, results: list) -> None:
        progress = Progress(len(self.items), quiet=self.settings.quiet)

        # A case that judges the KDC log sees every request naming its principals: two
        # candidates running the same case at once would see each other's. Such a case runs
        # for one candidate at a time, and work is handed out candidate by candidate so that the
        # same case rarely waits for itself.
        kdc_locks = {case.id: threading.Lock() for case, _, _ in self.items
                     if any(c.observe.startswith("kdc.") for c in case.checks)}
        # (Long cases are not moved to the front: data/many-messages, CPU-bound, would then run
        # three at a time and exceed its bounds under load.)
        names = list(dict.fromkeys(profile.name for _, profile, _ in self.items))
        order = sorted(range(len(self.items)),
                       key=lambda i: (names.index(self.items[i][1].name), i))

        def one(index: int) -> int:
            """Run work item index on a worker thread; -1 when the run is shutting down."""
            case, profile, repeat = self.items[index]
            if self.registry.closed:
                return -1
            decided = precheck(case, profile, repeat)
            if decided is not None:
                # Decided without starting anything: no realm check, no KDC lock.
                results[index] = decided
                self._stream({"result": decided})
                return index
            with kdc_locks.get(case.id, contextlib.nullcontext()):
                return _one(index, case, profile, repeat)

        def _one(index: int, case: Case, profile, repeat: int) -> int:
            try:
                problem = self._realm_check(case)
                if problem:
                    results[index] = {"case": case.id, "spec": case.spec,
                                      "candidate": profile.name, "role": case.candidate.role,
                                      "repeat": repeat, "verdict": "ERROR",
                                      "reason": f"realm: {problem}", "checks": [],
                                      "observations": {}, "artifacts": {}}
                    return index
                generation = self.realm.generation
                results[index] = run_case(ctx, case, profile, repeat, self.settings.repeat)
                if case.realm and results[index]["verdict"] not in ("SKIP", "UNIMPLEMENTED"):
                    broken = self.realm.broken_since(generation, results[index], ctx.out)
                    if broken:
                        # What the case saw without a KDC proves nothing about the candidate.
                        results[index].update(
                            verdict="ERROR", realm_failure=True,
                            reason=f"realm: {broken} (judged before that: "
                                   f"{results[index]['verdict']}: {results[index]['reason']})")
                if self.interrupted:
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
            self._stream({"result": results[index]})
            return index

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
                futures = [pool.submit(one, i) for i in order]
                for future in as_completed(futures):
                    if future.cancelled():
                        continue  # the run stopped before this item started
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
