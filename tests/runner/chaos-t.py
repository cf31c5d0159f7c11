#!/usr/bin/env python3
"""Chaos tests of the runner (issue 14): faults of the realm, of the harness and of hostile
candidates end as ERROR (never a candidate's FAIL), nothing a candidate starts outlives its case,
a runner killed outright leaves no process, no temporary folder and keeps its finished results,
and a bad --out is refused before anything starts. Every test is bounded (OUTER_TIMEOUT and
bounded polls) and kills what it started, also when it fails."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types

from fixturelib import (GSSCONFORM, OUTER_TIMEOUT, PEER, REPO, SCENARIOS, RunnerCase,
                        candidate, taptest)

sys.path.insert(0, os.path.join(REPO, "runner"))
from gssconform import process, realm, run, verdict  # noqa: E402
from gssconform.scenario import Case, Check, Side  # noqa: E402

REALM_CASES = os.path.join(os.path.dirname(SCENARIOS), "realmcases")


def _have_kdc() -> bool:
    return shutil.which("krb5kdc", path=os.environ.get("PATH", "") + ":/usr/sbin") is not None


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie does not count)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _wait_until(predicate, seconds: float) -> bool:
    """Poll predicate every 50 ms for at most seconds (a bound on waiting, not a timing check)."""
    stop = threading.Event()
    for _ in range(int(seconds / 0.05) + 1):
        if predicate():
            return True
        stop.wait(0.05)
    return predicate()


class Escape(RunnerCase):
    """A descendant started with `setsid env -i` is killed at the end of its case and recorded."""

    def test_setsid_env_i_descendant_is_killed_and_recorded(self) -> None:
        proc = self.runner.gssconform(self.runner.fixture_args(("escape",),
                                                               cases="fixture/echo/client"))
        with open(self.runner.pidfile + ".escape", encoding="ascii") as handle:
            escapees = [int(line) for line in handle]
        try:
            self.assertEqual(len(escapees), 1, (escapees, proc.stderr))
            escapee = escapees[0]
            self.assertFalse(_alive(escapee) and _cmdline(escapee) == ["sleep", "303"],
                             f"the setsid env -i descendant {escapee} outlived its case")
            result = self.runner.results()["results"][0]
            self.assertIn(escapee, result["observations"]["candidate"]["escaped"], result)
        finally:
            for pid in escapees:
                if _cmdline(pid) == ["sleep", "303"]:
                    os.kill(pid, signal.SIGKILL)


class EventFlood(RunnerCase):
    """More than 10,000 event lines: a late 'listening' still counts, a check that reads the
    cut side's events makes the case ERROR, and checks that do not read them are judged."""

    def test_cut_event_stream_is_error(self) -> None:
        proc = self.runner.gssconform(self.runner.fixture_args(("chatty",),
                                                               cases="fixture/echo/server"))
        result = self.runner.results()["results"][0]
        # fixture/echo/server reads candidate.event.hello, printed after 10,050 others.
        self.assertEqual(result["verdict"], "ERROR", result["reason"])
        self.assertIn("event stream was cut", result["reason"])
        self.assertTrue(result["observations"]["candidate"]["ready"])
        self.assertGreater(result["observations"]["candidate"]["events_dropped"], 0)
        self.assertEqual(proc.returncode, 2, proc.stderr)

    def test_cut_stream_no_check_reads(self) -> None:
        proc = self.runner.gssconform(self.runner.fixture_args(("chatty",),
                                                               cases="fixture/echo/client"))
        result = self.runner.results()["results"][0]
        # fixture/echo/client reads candidate.exit and the peer's events only.
        self.assertEqual(result["verdict"], "PASS", result["reason"])
        self.assertGreater(result["observations"]["candidate"]["events_dropped"], 0)
        self.assertEqual(proc.returncode, 0, proc.stderr)


class KdcDeath(RunnerCase):
    """The KDC killed mid-run: the case that saw it is ERROR, the realm is restarted with the
    same principals and keytabs (the next case gets a ticket), the run exits 2."""

    def test_kdc_killed_mid_run(self) -> None:
        if not _have_kdc():
            self.skipTest("krb5kdc not installed")
        args = ["run", "--scenarios", REALM_CASES, "--spec", "fixture", "--peer", PEER,
                "--deadline", "20", "--out", os.path.join(self.runner.dir, "out"), "-j", "1",
                "--candidate", candidate("kdcgone"), "--candidate", candidate("kinit")]
        proc = self.runner.gssconform(args)
        doc = self.runner.results()
        by = {r["candidate"]: r for r in doc["results"]}
        self.assertEqual(by["fix-kdcgone"]["verdict"], "ERROR", by["fix-kdcgone"]["reason"])
        self.assertIn("realm", by["fix-kdcgone"]["reason"])
        self.assertEqual(by["fix-kinit"]["verdict"], "PASS", by["fix-kinit"]["reason"])
        self.assertEqual(len(doc["meta"]["realm"]["kdc_restarts"]), 1, doc["meta"]["realm"])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("restarting the KDC", proc.stderr)


class KdcLost(RunnerCase):
    """A KDC that keeps dying: after the allowed restarts the run stops with exit 2 and a
    reason, the unstarted work is counted as not run, and no traceback escapes."""

    def test_realm_lost_for_good(self) -> None:
        if not _have_kdc():
            self.skipTest("krb5kdc not installed")
        args = ["run", "--scenarios", REALM_CASES, "--spec", "fixture", "--peer", PEER,
                "--deadline", "20", "--out", os.path.join(self.runner.dir, "out"), "-j", "2",
                "--repeat", "8", "--candidate", candidate("kdcgone")]
        proc = self.runner.gssconform(args)
        self.assertEqual(proc.returncode, 2, proc.stderr[-2000:])
        self.assertNotIn("Traceback", proc.stderr)
        doc = self.runner.results()
        self.assertEqual({r["verdict"] for r in doc["results"]}, {"ERROR"})
        self.assertEqual(len(doc["meta"]["realm"]["kdc_restarts"]), 3)


class RunnerHelpers(RunnerCase):
    """A process the runner starts itself with subprocess (kadmin.local, a version command) is
    not an orphan of a case: a case's sweep neither kills it nor reaps it behind its Popen's
    back (a stolen status reads as exit 0)."""

    def test_sweep_spares_the_runners_own_children(self) -> None:
        registry = process.Registry()
        registry.subreaper = process.become_subreaper()
        if not registry.subreaper:
            self.skipTest("the kernel refused PR_SET_CHILD_SUBREAPER")
        alive = subprocess.Popen(["sleep", "2"])
        exited = subprocess.Popen(["sh", "-c", "exit 7"])
        deadline = time.monotonic() + 10
        while process.processes().get(exited.pid, (0, 0, 0, "R", 0))[3] != "Z":
            self.assertLess(time.monotonic(), deadline, "sh never exited")
            time.sleep(0.01)
        case = process.Proc("candidate", ["true"], dict(os.environ), self.runner.dir, registry)
        case.start()
        case.wait_exit(time.monotonic() + 10)
        case.stop(0.5)
        self.assertEqual(exited.wait(5), 7)
        self.assertEqual(alive.wait(5), 0)


class KdcUnreachable(RunnerCase):
    """A case that did not pass and whose side says no KDC of the run's realm answered is ERROR
    even when the KDC looks healthy afterwards; another realm's KDC is the candidate's business."""

    def test_unreachable_text(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            run_realm = realm.RunRealm([])
            run_realm.realm = types.SimpleNamespace(realm="GSSCONFORM.TEST", kdc_pid=os.getpid(),
                                                    kdc_port=listener.getsockname()[1])
            result = {"verdict": "FAIL", "artifacts": {}, "observations": {"candidate": {
                "stderr_tail": "kinit: Cannot contact any KDC for realm 'GSSCONFORM.TEST' "
                               "while getting initial credentials\n"}}}
            why = run_realm.broken_since(0, result, self.runner.dir)
            self.assertIn("could not reach the KDC", why or "")
            result["observations"]["candidate"]["stderr_tail"] = \
                "Cannot contact any KDC for realm 'ELSEWHERE.TEST'\n"
            self.assertIsNone(run_realm.broken_since(0, result, self.runner.dir))
            self.assertIn("restarted", run_realm.broken_since(-1, result, self.runner.dir))


class RunnerKilled(RunnerCase):
    """kill -9 of the runner: no candidate, peer or KDC survives, no temporary folder stays,
    and the results of the cases that finished can still be merged into a report."""

    def test_sigkill_of_the_runner(self) -> None:
        tmp = os.path.join(self.runner.dir, "tmp")
        os.mkdir(tmp)
        out = os.path.join(self.runner.dir, "out")
        args = [sys.executable, GSSCONFORM] + self.runner.fixture_args(
            ("pass", "hang"), cases="fixture/echo/client", extra=("--deadline", "120"))
        env = dict(self.runner.env(), TMPDIR=tmp)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)

        def finished_one() -> bool:
            try:
                with open(os.path.join(out, "results.jsonl"), encoding="utf-8") as handle:
                    return any('"result"' in line for line in handle)
            except OSError:
                return False

        try:
            # The pass candidate's case is over and the hanging one runs with its peer.
            ready = _wait_until(lambda: proc.poll() is not None or (
                finished_one() and len(self.runner.survivors()) >= 2), 60)
            self.assertTrue(ready and proc.poll() is None, "the run never got to the hang")
            os.kill(proc.pid, signal.SIGKILL)
            _, err = proc.communicate(timeout=OUTER_TIMEOUT)
            gone = _wait_until(lambda: not self.runner.survivors() and not os.listdir(tmp), 20)
            self.assertTrue(gone, f"left running: {self.runner.survivors()}, left in TMPDIR: "
                                  f"{os.listdir(tmp)}; {err}")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        merged = self.runner.gssconform(["merge", out, "--out",
                                         os.path.join(self.runner.dir, "merged")])
        self.assertEqual(merged.returncode, 2, merged.stderr)
        doc = self.runner.results("merged")
        self.assertTrue(doc["meta"]["interrupted"])
        self.assertEqual([(r["candidate"], r["verdict"]) for r in doc["results"]],
                         [("fix-pass", "PASS")])


class PidReuse(RunnerCase):
    """Proc.stop() never signals a process group it no longer owns: after the leader exited,
    a new process that got the same pid (and so the same group id) is left alone."""

    def test_stop_after_exit_spares_a_reused_pid(self) -> None:
        if not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
            self.skipTest("cannot steer pid allocation (needs root and ns_last_pid)")
        registry = process.Registry()
        victim = None
        for _ in range(20):  # other processes on the machine may take the pid first
            proc = process.Proc("leader", ["true"], dict(os.environ), self.runner.dir, registry)
            proc.start()
            self.assertTrue(proc.wait_exit(proc.started + 30))
            # Give the pid back the way the old runner did (reaped as soon as it exited)...
            old_code_reaped = False
            try:
                os.waitpid(proc.popen.pid, os.WNOHANG)
            except ChildProcessError:
                old_code_reaped = True
            if not old_code_reaped:
                break  # the new runner keeps the exited leader unreaped: nothing to reuse
            with open("/proc/sys/kernel/ns_last_pid", "w", encoding="ascii") as handle:
                handle.write(str(proc.popen.pid - 1))
            victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
            if victim.pid == proc.popen.pid:
                break
            victim.kill()
            victim.wait()
            victim = None
            proc.stop(0.1)
        try:
            if victim is None:
                # The leader stayed unreaped, so its pid could not be handed out: the fix.
                self.assertTrue(proc.exited)
                proc.stop(0.1)
                return
            proc.stop(0.1)
            self.assertIsNone(victim.poll(), "stop() killed the process that reused the pid")
        finally:
            if victim is not None:
                victim.kill()
                victim.wait()


class HarnessChecks(RunnerCase):
    """A failing check of level 'harness' (a precondition the reference peer must meet, such as
    its own pacing) is ERROR, never the candidate's FAIL."""

    def test_harness_level_is_error(self) -> None:
        case = Case(id="fixture/pace/x", spec="fixture", title="t", file="f.toml", line=1,
                    candidate=Side(role="fixture-server"), peer=Side(role="fixture-client"),
                    checks=[Check("peer.elapsed", "at_least", 1.1, "harness",
                                  "the reference paced its messages")])
        obs = {"candidate": {"exit": 0}, "peer": {"exit": 0, "elapsed": 1.09}}
        got, reason, _ = verdict.judge(case, obs, False)
        self.assertEqual(got, "ERROR", reason)
        self.assertIn("reference peer", reason)


class Build(RunnerCase):
    """The build is build/ unless asked otherwise, whatever peer/gsspeer points at, and the
    report says which build it used."""

    def test_default_build_ignores_the_sanitized_link(self) -> None:
        repo = self.runner.dir
        for folder in ("build", "build-san", "peer"):
            os.makedirs(os.path.join(repo, folder))
        for folder in ("build", "build-san"):
            with open(os.path.join(repo, folder, "gsspeer"), "w", encoding="ascii") as handle:
                handle.write("#!/bin/sh\n")
        os.symlink("../build-san/gsspeer", os.path.join(repo, "peer", "gsspeer"))
        saved = os.environ.pop("GSSCONFORM_BUILD", None)
        try:
            self.assertEqual(run.build_choice(None, repo), (os.path.join(repo, "build"),
                                                            "default"))
            self.assertEqual(run.build_choice(os.path.join(repo, "build-san"), repo),
                             (os.path.join(repo, "build-san"), "--build"))
            os.environ["GSSCONFORM_BUILD"] = os.path.join(repo, "build-san")
            self.assertEqual(run.build_choice(None, repo)[1], "GSSCONFORM_BUILD")
        finally:
            os.environ.pop("GSSCONFORM_BUILD", None)
            if saved is not None:
                os.environ["GSSCONFORM_BUILD"] = saved

    def test_report_names_the_build(self) -> None:
        build = os.path.join(self.runner.dir, "somebuild")
        os.mkdir(build)
        proc = self.runner.gssconform(self.runner.fixture_args(
            ("pass",), cases="fixture/echo/client", extra=("--build", build)))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        meta = self.runner.results()["meta"]
        self.assertEqual(meta["build"]["dir"], build)
        self.assertEqual(meta["build"]["chosen_by"], "--build")
        self.assertFalse(meta["build"]["sanitized"])
        with open(os.path.join(self.runner.dir, "out", "index.html"), encoding="utf-8") as page:
            self.assertIn(f"build {build} (--build)", page.read())


class BadOut(RunnerCase):
    """A report folder that cannot be one is refused with exit 3 before any case starts."""

    def refused(self, out: str, needle: str, extra: tuple = ()) -> None:
        args = self.runner.fixture_args(("pass",), cases="fixture/echo/client", extra=extra)
        args[args.index("--out") + 1] = out
        proc = self.runner.gssconform(args)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertIn(needle, proc.stderr)
        self.assertEqual(self.runner.recorded_pids(), [], "a case ran before the refusal")

    def test_out_is_a_file(self) -> None:
        path = os.path.join(self.runner.dir, "afile")
        with open(path, "w", encoding="ascii") as handle:
            handle.write("x\n")
        self.refused(path, "existing file")

    def test_out_below_a_file(self) -> None:
        path = os.path.join(self.runner.dir, "afile")
        with open(path, "w", encoding="ascii") as handle:
            handle.write("x\n")
        self.refused(os.path.join(path, "reports"), "cannot write the report folder")

    def test_out_under_proc(self) -> None:
        self.refused("/proc/self/reports", "under /proc")

    def test_someone_elses_index_html(self) -> None:
        folder = os.path.join(self.runner.dir, "site")
        os.mkdir(folder)
        with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as handle:
            handle.write("<p>my home page</p>\n")
        self.refused(folder, "not a gssconform report folder")
        with open(os.path.join(folder, "index.html"), encoding="utf-8") as handle:
            self.assertEqual(handle.read(), "<p>my home page</p>\n")
        args = self.runner.fixture_args(("pass",), cases="fixture/echo/client",
                                        extra=("--force",))
        args[args.index("--out") + 1] = folder
        self.assertEqual(self.runner.gssconform(args).returncode, 0)

    def test_merge_into_its_own_input(self) -> None:
        self.assertEqual(self.runner.gssconform(self.runner.fixture_args(
            ("pass",), cases="fixture/echo/client")).returncode, 0)
        out = os.path.join(self.runner.dir, "out")
        proc = self.runner.gssconform(["merge", out, "--out", out])
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(out, "results.json")))

    def test_stream_written(self) -> None:
        self.assertEqual(self.runner.gssconform(self.runner.fixture_args(
            ("pass",), cases="fixture/echo/client")).returncode, 0)
        with open(os.path.join(self.runner.dir, "out", "results.jsonl"),
                  encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle]
        self.assertEqual(lines[0]["format"], "gssconform-results-stream/1")
        self.assertEqual([line["result"]["verdict"] for line in lines[1:-1]], ["PASS"])
        self.assertEqual(lines[-1], {"end": True})


if __name__ == "__main__":
    taptest.main()
