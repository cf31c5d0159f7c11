#!/usr/bin/env python3
"""Malformed scenario, profile, expectation and catalogue files give exit 3 and a message naming
file, line and key; bad command lines give exit 3; an empty selection gives exit 4."""

from __future__ import annotations

import os
import shutil

from fixturelib import FIXTURES, PEER, RunnerCase, candidate, taptest

GOOD_CASE = '''[[case]]
id = "fixture/x/one"
title = "one"
realm = false

[case.candidate]
role = "fixture-server"

[case.peer]
role = "fixture-client"

[[case.expect]]
observe = "peer.exit"
equals = 0
level = "MUST"
'''


class MalformedFiles(RunnerCase):
    """Each broken file names where it is broken."""

    def setUp(self) -> None:
        super().setUp()
        self.scenarios = os.path.join(self.runner.dir, "scenarios")
        os.makedirs(os.path.join(self.scenarios, "fixture"))

    def scenario(self, text: str) -> str:
        """Write the scenario file under test; returns its path."""
        path = os.path.join(self.scenarios, "fixture", "bad.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def run_on(self, profile: str | None = None, extra: tuple = ()) -> tuple[int, str]:
        """`gssconform run` on the scratch scenarios; returns (exit status, stderr)."""
        args = ["run", "--scenarios", self.scenarios, "--spec", "fixture", "--peer", PEER,
                "--candidate", profile or candidate("pass"),
                "--out", os.path.join(self.runner.dir, "out"), *extra]
        proc = self.runner.gssconform(args)
        return proc.returncode, proc.stderr

    def assert_input_error(self, text: str, path: str, line: int, key: str) -> None:
        """The scenario text is rejected with exit 3 naming path, line and key."""
        self.scenario(text)
        code, err = self.run_on()
        self.assertEqual(code, 3, err)
        self.assertIn(f"{path}:{line}: {key}:", err)

    def profile_rejected(self, text: str, after_pass: bool = False) -> tuple[str, str]:
        """Write a profile (TEXT, or the pass fixture's profile followed by TEXT), run on it,
        assert exit 3; returns (profile path, stderr)."""
        self.scenario(GOOD_CASE)
        profile = os.path.join(self.runner.dir, "profile.toml")
        if after_pass:
            shutil.copy(candidate("pass"), profile)
        with open(profile, "a" if after_pass else "w", encoding="utf-8") as handle:
            handle.write(text)
        code, err = self.run_on(profile)
        self.assertEqual(code, 3, err)
        return profile, err

    def test_toml_syntax_error(self) -> None:
        path = self.scenario(GOOD_CASE.replace('title = "one"', 'title = "one'))
        code, err = self.run_on()
        self.assertEqual(code, 3, err)
        self.assertIn(f"{path}:3: TOML syntax error", err)

    def test_unknown_key(self) -> None:
        path = os.path.join(self.scenarios, "fixture", "bad.toml")
        self.assert_input_error(GOOD_CASE.replace('realm = false', 'realm = false\ntimeout = 3'),
                                path, 5, "case[0].timeout")

    def test_bad_level_in_second_check(self) -> None:
        path = os.path.join(self.scenarios, "fixture", "bad.toml")
        text = GOOD_CASE + '\n[[case.expect]]\nobserve = "peer.exit"\nequals = 0\nlevel = "MOST"\n'
        self.assert_input_error(text, path, 20, "case[0].expect[1].level")

    def test_wrong_type(self) -> None:
        path = os.path.join(self.scenarios, "fixture", "bad.toml")
        self.assert_input_error(GOOD_CASE.replace("equals = 0", 'at_most = "x"'),
                                path, 14, "case[0].expect[0].at_most")

    def test_missing_required_key(self) -> None:
        path = os.path.join(self.scenarios, "fixture", "bad.toml")
        self.assert_input_error(GOOD_CASE.replace('role = "fixture-server"\n', ''), path, 6,
                                "case[0].candidate")

    def test_id_outside_spec(self) -> None:
        path = os.path.join(self.scenarios, "fixture", "bad.toml")
        self.assert_input_error(GOOD_CASE.replace('fixture/x/one', 'other/x/one'), path, 2,
                                "case[0].id")

    def test_profile_unknown_placeholder(self) -> None:
        profile, err = self.profile_rejected('[candidate]\nname = "x"\n\n[roles.fixture-server]\n'
                                             'command = ["prog", "--bind", "{endpiont}"]\n')
        self.assertIn(f"{profile}:5: roles.fixture-server.command: unknown placeholder "
                      "{endpiont}", err)

    def test_profile_bad_expectation(self) -> None:
        profile, err = self.profile_rejected('\n[[expectation]]\ncase = "fixture/*"\n', True)
        self.assertRegex(err, rf"{profile}:\d+: expectation\[0\]: needs exactly one of")

    def test_unknown_requirement_id(self) -> None:
        path = self.scenario(GOOD_CASE + '\n[[case.ref]]\ndoc = "X"\nsection = "1"\nquote = "q"\n'
                             'level = "MUST"\nrequirement = "nope/1"\n')
        os.makedirs(os.path.join(self.scenarios, "requirements"))
        shutil.copy(os.path.join(FIXTURES, "scenarios", "requirements", "fixture.toml"),
                    os.path.join(self.scenarios, "requirements"))
        code, err = self.run_on()
        self.assertEqual(code, 3, err)
        self.assertIn(f"{path}:22: case.ref[0].requirement: unknown requirement id", err)

    def test_case_args_unknown_placeholder(self) -> None:
        path = self.scenario(GOOD_CASE.replace('role = "fixture-server"\n',
                                               'role = "fixture-server"\nargs = ["{endpont}"]\n'))
        code, err = self.run_on()
        self.assertEqual(code, 3, err)
        self.assertIn(f"{path}:8: case[0].candidate.args: unknown placeholder {{endpont}}", err)

    def test_case_principal_not_declared(self) -> None:
        path = self.scenario(GOOD_CASE.replace("realm = false", 'principals = ["alice"]')
                             .replace('role = "fixture-server"\n',
                                      'role = "fixture-server"\nclient = "nobody"\n'))
        code, err = self.run_on()
        self.assertEqual(code, 3, err)
        self.assertIn(f"{path}:8: case[0].candidate.client: principal 'nobody' is not declared",
                      err)

    def test_case_bad_principal_spec(self) -> None:
        path = self.scenario(GOOD_CASE.replace("realm = false",
                                               'principals = ["alice:maxlife=zz"]'))
        code, err = self.run_on()
        self.assertEqual(code, 3, err)
        self.assertIn(f"{path}:1: principals: principal 'alice:maxlife=zz':", err)
        self.assertIn("maxlife", err)

    def test_case_role_nobody_plays(self) -> None:
        path = self.scenario(GOOD_CASE.replace('"fixture-server"', '"fixture-servr"'))
        code, err = self.run_on()
        self.assertEqual(code, 3, msg=f"a typo must not SKIP everywhere and exit 0: {err}")
        self.assertIn(f"{path}:1: candidate.role: role 'fixture-servr' is played by no", err)

    def test_expectation_unknown_role(self) -> None:
        profile, err = self.profile_rejected('\n[[expectation]]\ncase = "fixture/*"\n'
                                             'role = "fixture-servr"\nxfail = "x"\n', True)
        self.assertRegex(err, rf"{profile}:\d+: expectation\[0\].role: role 'fixture-servr' is "
                              "not one of this profile's roles")

    def test_missing_candidate_program(self) -> None:
        profile, err = self.profile_rejected(
            '[candidate]\nname = "x"\n\n[roles.fixture-server]\n'
            'command = ["/nonexistent/shim", "--bind", "{endpoint}"]\n')
        self.assertIn(f"{profile}:5: roles.fixture-server.command: program /nonexistent/shim "
                      "does not exist", err)

    def test_out_not_a_report_folder(self) -> None:
        self.scenario(GOOD_CASE)
        afile = os.path.join(self.runner.dir, "afile")
        open(afile, "w", encoding="utf-8").close()
        mine = os.path.join(self.runner.dir, "mine")
        os.makedirs(os.path.join(mine, "artifacts"))
        for out in (afile, mine):
            with self.subTest(out=out):
                code, err = self.run_on(extra=("--out", out))
                self.assertEqual(code, 3, err)
                self.assertIn(f"{out}: --out: ", err)
                self.assertNotIn("Traceback", err)
        self.assertTrue(os.path.isdir(os.path.join(mine, "artifacts")), "left as it was")

    def test_merge_bad_inputs(self) -> None:
        self.scenario(GOOD_CASE)
        shard = os.path.join(self.runner.dir, "shard1")
        code, err = self.run_on(extra=("--shard", "1/2", "--out", shard))
        self.assertEqual(code, 0, err)
        merged = os.path.join(self.runner.dir, "merged")
        proc = self.runner.gssconform(["merge", shard, "--out", merged])
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("incomplete shard set: missing shard 2/2", proc.stderr)
        broken = os.path.join(self.runner.dir, "broken")
        os.makedirs(broken)
        with open(os.path.join(broken, "results.json"), "w", encoding="utf-8") as handle:
            handle.write('{"format": "gssconform-results/1", "results": []}')
        proc = self.runner.gssconform(["merge", broken, "--out", merged])
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("results.json: meta: 'meta' is missing", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)

    def test_usage_errors(self) -> None:
        self.scenario(GOOD_CASE)
        for extra in (("--shard", "3/2"), ("-j", "0"), ("--deadline", "x"), ("--bogus",)):
            with self.subTest(extra=extra):
                code, err = self.run_on(extra=extra)
                self.assertEqual(code, 3, err)

    def test_unknown_candidate(self) -> None:
        self.scenario(GOOD_CASE)
        code, err = self.run_on("no-such-candidate")
        self.assertEqual(code, 3, err)
        self.assertIn("no candidate profile 'no-such-candidate'", err)

    def test_no_case_selected(self) -> None:
        self.scenario(GOOD_CASE)
        code, err = self.run_on(extra=("--case", "fixture/none/*"))
        self.assertEqual(code, 4, err)
        proc = self.runner.gssconform(["list", "--scenarios", self.scenarios, "--spec",
                                       "fixture", "--skip", "*"])
        self.assertEqual(proc.returncode, 4)

    def test_list(self) -> None:
        self.scenario(GOOD_CASE)
        proc = self.runner.gssconform(["list", "--scenarios", self.scenarios, "--spec",
                                       "fixture"])
        self.assertEqual((proc.returncode, proc.stdout), (0, "fixture/x/one\n"))


if __name__ == "__main__":
    taptest.main()
