#!/usr/bin/env python3
"""The mutation run (docs/mutation.md): `gsspeer deviations`, `--deviate` usage errors, the kill
matrix built from results, and one bounded end-to-end run in which a known deviation
(ignore-allow) is killed by its case (zmtp-gssapi/authz/deny/server) while the control passes.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import unittest

import taptest
from gssconform import mutation
from mutationlib import run_mutation


def gsspeer() -> str:
    return taptest.program("gsspeer")


def result(candidate: str, case: str, verdict: str, role: str = "zmtp-server") -> dict:
    return {"candidate": candidate, "case": case, "role": role, "verdict": verdict,
            "reason": f"{verdict} reason"}


DEVS = [{"name": "a", "protocol": "zmtp", "roles": "server", "description": "A",
         "imitates": ""},
        {"name": "b", "protocol": "zmtp", "roles": "both", "description": "B", "imitates": ""},
        {"name": "c", "protocol": "zmtp", "roles": "both", "description": "C", "imitates": ""}]


class Table(unittest.TestCase):
    def test_deviations_json(self) -> None:
        proc = subprocess.run([gsspeer(), "deviations", "--json"], capture_output=True,
                              text=True, timeout=10, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertGreaterEqual(len(rows), 25)
        for row in rows:
            self.assertEqual(set(row), {"name", "protocol", "roles", "description", "imitates"})
            self.assertIn(row["roles"], ("client", "server", "both"))
        self.assertIn("accept-reorder", {r["name"] for r in rows})

    def test_unknown_deviation_is_usage_error_with_list(self) -> None:
        proc = subprocess.run([gsspeer(), "zmtp-client", "--connect", "tcp://127.0.0.1:9",
                               "--service-principal", "zmq@localhost", "--deviate", "bogus"],
                              capture_output=True, text=True, timeout=10, check=False)
        self.assertEqual(proc.returncode, 64)
        self.assertIn('unknown deviation "bogus"', proc.stderr)
        self.assertIn("known zmtp deviations: as-server-zero", proc.stderr)
        self.assertIn("accept-reorder", proc.stderr)

    def test_role_mismatch_is_usage_error(self) -> None:
        proc = subprocess.run([gsspeer(), "zmtp-client", "--connect", "tcp://127.0.0.1:9",
                               "--service-principal", "zmq@localhost",
                               "--deviate", "ignore-allow"],
                              capture_output=True, text=True, timeout=10, check=False)
        self.assertEqual(proc.returncode, 64)
        self.assertIn("not offered in the client role", proc.stderr)

    def test_notes_name_real_deviations(self) -> None:
        names = {json.loads(line)["name"] for line in subprocess.run(
            [gsspeer(), "deviations", "--json"], capture_output=True, text=True, timeout=10,
            check=True).stdout.splitlines()}
        for name in mutation.load_notes():
            self.assertIn(name, names)


class Matrix(unittest.TestCase):
    def test_kills_survivors_and_control(self) -> None:
        results = {"results": [
            result("gsspeer", "x/1/server", "PASS"),
            result("gsspeer", "x/2/server", "FAIL"),
            result("deviant-a", "x/1/server", "FAIL"),
            result("deviant-a", "x/2/server", "FAIL"),      # control failed: not counted
            result("deviant-b", "x/1/server", "PASS"),
            result("deviant-b", "x/2/server", "SKIP"),
            result("deviant-c", "x/1/server", "ERROR"),
        ]}
        m = mutation.matrix(results, DEVS, {"c": "cannot be seen"})
        rows = {r["deviation"]: r for r in m["deviations"]}
        self.assertEqual(rows["a"]["status"], "killed")
        self.assertEqual([k["case"] for k in rows["a"]["killed_by"]], ["x/1/server"])
        self.assertEqual([k["case"] for k in rows["a"]["not_counted"]], ["x/2/server"])
        self.assertEqual(rows["b"]["status"], "survived")
        self.assertEqual(rows["b"]["cases_run"], 1)
        self.assertEqual(rows["c"]["status"], "unobservable")
        self.assertEqual(rows["c"]["errors"][0]["case"], "x/1/server")
        self.assertEqual(m["control_not_passed"], ["x/2/server"])
        self.assertEqual(m["summary"], {"killed": 1, "unobservable": 1, "survived": 1})

    def test_a_kill_that_does_not_happen_again_is_flaky(self) -> None:
        results = {"results": [
            result("gsspeer", "x/1/server", "PASS"),
            result("gsspeer", "x/2/server", "PASS"),
            result("deviant-a", "x/1/server", "FAIL"),
            result("deviant-a", "x/2/server", "TIMEOUT"),
            result("deviant-b", "x/2/server", "FAIL"),
        ]}
        self.assertEqual(mutation.kills_of(results),
                         {"a": {"x/1/server": "FAIL", "x/2/server": "TIMEOUT"},
                          "b": {"x/2/server": "FAIL"}})
        m = mutation.matrix(results, DEVS, {}, {"a": {"x/1/server": "FAIL"}, "b": {}})
        rows = {r["deviation"]: r for r in m["deviations"]}
        self.assertEqual([k["case"] for k in rows["a"]["killed_by"]], ["x/1/server"])
        self.assertTrue(rows["a"]["killed_by"][0]["confirmed"])
        self.assertEqual([k["case"] for k in rows["a"]["flaky"]], ["x/2/server"])
        self.assertEqual(rows["b"]["status"], "survived")
        self.assertEqual(rows["b"]["flaky"][0]["verdict"], "FAIL")

    def test_profile_has_only_the_deviations_roles(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = mutation.write_profile(tmp, DEVS[0])
            text = open(path, encoding="utf-8").read()
        self.assertIn('name = "deviant-a"', text)
        self.assertIn("[roles.zmtp-server]", text)
        self.assertNotIn("[roles.zmtp-client]", text)
        self.assertIn('"--deviate", "a"]', text)


class EndToEnd(unittest.TestCase):
    def test_ignore_allow_killed_by_deny_case(self) -> None:
        r = run_mutation(["-j", "1", "--deviation", "ignore-allow",
                          "--case", "zmtp-gssapi/authz/deny/*"])
        m, proc, index = r.matrix, r.proc, r.index_html
        self.assertTrue(r.has_html)
        row = m["deviations"][0]
        self.assertEqual(row["deviation"], "ignore-allow")
        self.assertEqual(row["status"], "killed", row)
        self.assertEqual([(k["case"], k["verdict"]) for k in row["killed_by"]],
                         [("zmtp-gssapi/authz/deny/server", "FAIL")])
        self.assertTrue(row["killed_by"][0]["confirmed"], "a lone kill is run a second time")
        self.assertEqual(m["control_not_passed"], [])
        self.assertIn("KILLED    ignore-allow", proc.stdout)
        self.assertIn("mutation.html", index)


if __name__ == "__main__":
    taptest.main()
