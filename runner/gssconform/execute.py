"""Running one case against one candidate: start both sides per the shim contract, bound every
wait by the case deadline, stop every process group, collect observations and artifacts, judge.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from . import observe, verdict
from .artifacts import shrink
from .candidate import Profile, Role, expand
from .errors import HarnessError
from .process import Proc, Registry, free_port
from .realm import RunRealm
from .scenario import Case, Side

GRACE = 1.0          # seconds between SIGTERM and SIGKILL of a group at case end
PORT_ATTEMPTS = 3    # server starts tried when another process took the chosen port first
_IN_USE = re.compile(r"address already in use|EADDRINUSE|errno 98", re.I)


@dataclass
class Context:
    """What every case of a run shares."""
    out: str
    registry: Registry
    realm: RunRealm
    peer: Profile | None
    peer_error: str | None
    gsspeer: str
    build: str
    strict: bool
    deadline: float
    deadline_forced: bool
    tls: dict[str, str]


def artifact_dir(ctx: Context, case: Case, candidate: str, repeat: int, repeats: int) -> str:
    """The per-case artifact folder, relative to the report folder."""
    rel = os.path.join("artifacts", candidate, *case.id.split("/"), case.candidate.role)
    return os.path.join(rel, f"r{repeat}") if repeats > 1 else rel


def _values(ctx: Context, case: Case, side: Side, port: int, workdir: str, name: str,
            profile: Profile) -> dict[str, str]:
    values = {"gsspeer": ctx.gsspeer, "build": ctx.build, "dir": profile.folder,
              "endpoint": f"tcp://127.0.0.1:{port}", "host": "127.0.0.1", "port": str(port),
              "domain": case.domain, "hostname": case.hostname, "workdir": workdir,
              "transcript": os.path.join(workdir, f"{name}.transcript.jsonl")}
    values.update(ctx.tls)
    if case.realm:
        realm = ctx.realm.get()
        values["realm"] = realm.realm
        values["ccache"] = f"FILE:{os.path.join(workdir, name + '.ccache')}"
        if side.client:
            principal = realm.principal(side.client)
            values["principal"] = principal.name
            values["client_keytab"] = str(principal.keytab)
        if side.acceptor:
            values["service_principal"] = realm.principal(side.acceptor).name
            try:
                values["keytab"] = str(realm.keytab_for([side.acceptor, *side.also_accept]))
            except KeyError:
                raise
            except Exception as err:  # RealmError from kadmin.local
                raise HarnessError(f"realm: no acceptor keytab for {name}: {err}") from None
    return values


def _env(ctx: Context, case: Case, side: Side, role: Role, values: dict[str, str],
         workdir: str, name: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KRB5_TRACE", None)
    if case.realm:
        env.update(ctx.realm.get().env(client=side.client, acceptor=side.acceptor,
                                       also_accept=side.also_accept))
        env["KRB5CCNAME"] = values["ccache"]
        env["KRB5_TRACE"] = os.path.join(workdir, f"{name}.krb5trace")
    env.update({k: v.format_map(values) for k, v in role.env.items()})
    env.update({k: v.format_map(values) for k, v in side.env.items()})
    env.update({"GSSCONFORM_CASE": case.id, "GSSCONFORM_ROLE": role.name,
                "GSSCONFORM_SIDE": name, "GSSCONFORM_WORKDIR": workdir})
    return env


def _argv(profile: Profile, role: Role, side: Side, values: dict[str, str]) -> list[str]:
    argv = expand(role.command, values) + expand(side.args, values)
    for fault in side.faults:
        argv += expand(profile.fault_args, dict(values, fault=fault))
    return argv


def _result(case: Case, candidate: Profile, repeat: int, verdict_: str, reason: str,
            **extra) -> dict:
    out = {"case": case.id, "spec": case.spec, "candidate": candidate.name,
           "role": case.candidate.role, "repeat": repeat, "verdict": verdict_, "reason": reason,
           "checks": [], "observations": {}, "artifacts": {}}
    out.update(extra)
    return out


def precheck(case: Case, candidate: Profile, repeat: int) -> dict | None:
    """The result of a case x candidate that is decided without starting anything (SKIP:
    disabled or no such role; UNIMPLEMENTED: a feature not claimed), else None. Needs no
    realm, so a run asks it before the per-case realm check."""
    exp = candidate.expectation(case.id, case.candidate.role)
    if exp is not None and exp.disabled is not None:
        return _result(case, candidate, repeat, "SKIP", f"disabled: {exp.disabled} ({exp.source})")
    if case.candidate.role not in candidate.roles:
        return _result(case, candidate, repeat, "SKIP",
                       f"candidate has no role '{case.candidate.role}'")
    missing = [f for f in case.features if f not in candidate.features]
    if missing:
        return _result(case, candidate, repeat, "UNIMPLEMENTED",
                       f"candidate does not claim feature(s): {', '.join(missing)}")
    return None


def run_case(ctx: Context, case: Case, candidate: Profile, repeat: int, repeats: int) -> dict:
    """Run one case x candidate (one repetition) and return its result entry."""
    decided = precheck(case, candidate, repeat)
    if decided is not None:
        return decided
    exp = candidate.expectation(case.id, case.candidate.role)
    role = candidate.roles[case.candidate.role]
    deadline_s = ctx.deadline if ctx.deadline_forced or case.deadline is None else case.deadline
    if ctx.deadline_forced and case.deadline is not None:
        deadline_s = min(case.deadline, ctx.deadline)
    rel = artifact_dir(ctx, case, candidate.name, repeat, repeats)
    workdir = os.path.join(ctx.out, rel)
    os.makedirs(workdir, exist_ok=True)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.monotonic()
    try:
        verdict_, reason, checks, obs, artifacts = _run(ctx, case, candidate, role, workdir,
                                                        rel, deadline_s)
    except HarnessError as err:
        return _result(case, candidate, repeat, "ERROR", str(err), started=started_at,
                       deadline=deadline_s)
    judged = verdict_
    verdict_, reason = verdict.expect(verdict_, reason, exp)
    # An expected failure is still the candidate's finding: keep what the case judged.
    extra = {"actual_verdict": judged} if verdict_ != judged else {}
    return _result(case, candidate, repeat, verdict_, reason, checks=checks, **extra,
                   observations=observe.summary(obs), artifacts=artifacts, started=started_at,
                   elapsed=round(time.monotonic() - t0, 3), deadline=deadline_s)


def _run(ctx: Context, case: Case, candidate: Profile, role: Role, workdir: str, rel: str,
         deadline_s: float):
    peer_role = None
    if case.peer is not None:
        if ctx.peer is None:
            raise HarnessError(f"no reference peer: {ctx.peer_error}")
        peer_role = ctx.peer.roles.get(case.peer.role)
        if peer_role is None:
            raise HarnessError(f"the reference peer has no role '{case.peer.role}' "
                               f"({ctx.peer.path})")
    kdc_mark = ctx.realm.log().mark() if case.realm else 0
    deadline = time.monotonic() + deadline_s
    sides: dict[str, dict] = {}
    procs: dict[str, Proc] = {}
    ready: dict[str, bool | None] = {"candidate": None, "peer": None}
    timed_out = {"candidate": False, "peer": False}
    commands: dict[str, list[str]] = {}
    members = [("candidate", candidate, role, case.candidate)]
    if case.peer is not None:
        members.append(("peer", ctx.peer, peer_role, case.peer))
    if case.server == "peer":
        members.reverse()
    try:
        port = free_port()
        for attempt in range(PORT_ATTEMPTS):
            for name, profile, prole, side in members:
                try:
                    values = _values(ctx, case, side, port, workdir, name, profile)
                    argv = _argv(profile, prole, side, values)
                    env = _env(ctx, case, side, prole, values, workdir, name)
                except KeyError as err:
                    raise HarnessError(f"{name} command needs {err} which case {case.id} does "
                                       f"not provide ({case.file}:{case.line})") from None
                commands[name] = argv
                proc = Proc(name, argv, env, workdir, ctx.registry)
                try:
                    proc.start()
                except OSError as err:
                    raise HarnessError(f"cannot start {name} {argv[0]}: {err}") from None
                procs[name] = proc
                if name == case.server and len(members) > 1:
                    ready[name] = proc.wait_ready(prole.ready, port, deadline)
                    if not ready[name]:
                        timed_out[name] = not proc.exited
                        break
            server = procs.get(case.server)
            retry = (server is not None and ready.get(case.server) is False and server.exited
                     and _IN_USE.search(server.stderr.text()) and attempt + 1 < PORT_ATTEMPTS)
            if not retry:
                break
            for proc in procs.values():
                proc.stop(GRACE)
            procs.clear()
            port = free_port()
        client = members[-1][0] if len(members) > 1 else "candidate"
        if client in procs and (len(members) == 1 or ready.get(case.server)):
            if len(members) == 1 and role.ready != "none":
                ready[client] = procs[client].wait_ready(role.ready, port, deadline)
                timed_out[client] = not ready[client] and not procs[client].exited
            elif not procs[client].wait_exit(deadline):
                timed_out[client] = True
    finally:
        for name in reversed([m[0] for m in members]):
            if name in procs:
                procs[name].stop(GRACE)
    return _collect(ctx, case, procs, ready, timed_out, commands, workdir, rel, kdc_mark)


def _read_transcript(path: str) -> list:
    frames = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if len(frames) >= 5000:
                    break
                try:
                    frames.append(json.loads(line))
                except ValueError:
                    frames.append({"raw": line.rstrip("\n")[:2000]})
    except OSError:
        pass
    return frames


def _collect(ctx: Context, case: Case, procs: dict[str, Proc], ready: dict, timed_out: dict,
             commands: dict, workdir: str, rel: str, kdc_mark: int):
    obs: dict = {"case": {"id": case.id, "role": case.candidate.role}}
    artifacts: dict[str, str] = {}
    for name in ("candidate", "peer"):
        if name == "peer" and case.peer is None:
            continue
        proc = procs.get(name)
        transcript_path = os.path.join(workdir, f"{name}.transcript.jsonl")
        transcript = _read_transcript(transcript_path)
        obs[name] = observe.side(proc, proc is not None, ready[name], timed_out[name], transcript,
                                 observe.EVENTS.get(case.spec) if name == "candidate" else None)
        if proc is not None:
            for stream in ("stdout", "stderr"):
                path = os.path.join(workdir, f"{name}.{stream}")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(getattr(proc, stream).text())
                artifacts[f"{name}.{stream}"] = os.path.join(rel, f"{name}.{stream}")
        for suffix in ("transcript.jsonl", "krb5trace"):
            if os.path.exists(os.path.join(workdir, f"{name}.{suffix}")):
                artifacts[f"{name}.{suffix}"] = os.path.join(rel, f"{name}.{suffix}")
    if case.realm:
        realm = ctx.realm.get()
        lines = ctx.realm.log().since(kdc_mark)
        # Other cases may run concurrently: keep the requests that involve this case's principals.
        names = {realm.principal(n).name for side in (case.candidate, case.peer) if side
                 for n in (side.client, side.acceptor, *side.also_accept) if n}
        requests = [{"time": r.time, "kind": r.kind, "client": r.client, "server": r.server,
                     "outcome": r.outcome, "line": r.line} for r in lines
                    if not names or r.client in names or r.server in names]
        obs["kdc"] = {"requests": requests,
                      "tgs_servers": [r["server"] for r in requests if r["kind"] == "TGS_REQ"],
                      "as_clients": [r["client"] for r in requests if r["kind"] == "AS_REQ"]}
        with open(os.path.join(workdir, "kdc.log"), "w", encoding="utf-8") as handle:
            handle.writelines(r["line"] + "\n" for r in requests)
        artifacts["kdc.log"] = os.path.join(rel, "kdc.log")
    with open(os.path.join(workdir, "commands.json"), "w", encoding="utf-8") as handle:
        json.dump(commands, handle, indent=1)
    artifacts["commands.json"] = os.path.join(rel, "commands.json")
    verdict_, reason, checks = verdict.judge(case, obs, ctx.strict)
    with open(os.path.join(workdir, "observations.json"), "w", encoding="utf-8") as handle:
        json.dump(observe.summary(obs), handle, indent=1, default=str)
    artifacts["observations.json"] = os.path.join(rel, "observations.json")
    # Judged on the full files; now keep them small. Only a passed case's transcripts that no
    # check read may be summarised: everything else big is compressed whole.
    read = [c.observe for c in case.checks] + [c.when.observe for c in case.checks if c.when]
    summarisable = set()
    if verdict_ == "PASS":
        summarisable = {f"{side}.transcript.jsonl" for side in ("candidate", "peer")
                        if not any(path.startswith(f"{side}.transcript") for path in read)}
    shrink(workdir, rel, artifacts, summarisable)
    return verdict_, reason, checks, obs, artifacts
