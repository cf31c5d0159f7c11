#!/usr/bin/env python3
"""Case templates ([case.as-server]/[case.as-client], here with the XMPP roles), named check
sets (scenarios/checks.toml) and references filled from the requirement catalogue: what a
declaration expands into, and the file:line:key error of each mistake, which names the
declaration that caused it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import taptest
from gssconform.errors import InputError
from gssconform.scenario import load_spec

CATALOGUE = '''[document]
id = "FIX"
title = "A fixture document"
revision = "r1"

[[requirement]]
id = "fix/1/must"
section = "1"
level = "MUST NOT"
quote = "A server MUST NOT answer twice."

[[requirement]]
id = "fix/2/statement"
section = "2"
level = "statement"
quote = "The server answers."
'''

CHECKS = '''[[set]]
name = "refused"
description = "a fixture set"

[set.params]
level = "MUST"
within_ms = 1000
requirement = ""

[[set.expect]]
observe = "peer.event.fault.0.applied"
equals = true
level = "MUST"
message = "applied"

[[set.expect]]
only = "as-client"
observe = "candidate.event.done"
present = false
level = "MUST"
message = "no success"

[[set.expect]]
observe = "peer.event.peer-closed.0.after_ms"
at_most = "{within_ms}"
level = "{level}"
message = "closed within {within_ms} ms"
requirement = "{requirement}"
'''

TEMPLATE = '''[[case]]
id = "fixture/t/rule"
principals = ["alice", "svc/localhost"]
features = ["f1"]

[[case.ref]]
requirement = "fix/1/must"

[[case.ref]]
only = "as-client"
requirement = "fix/2/statement"
level = "de-facto"

[case.peer]
faults = ["drop"]
args = ["--observe-ms", "1050"]

[[case.expect]]
set = "refused"
level = "security"
within_ms = 500

[[case.expect]]
only = "as-server"
observe = "candidate.exit"
equals = 0
level = "INFO"

[case.as-server]
title = "Candidate server refuses"
deadline = 3.0
candidate = { role = "xmpp-server", acceptor = "svc/localhost" }
peer = { role = "xmpp-client", client = "alice", args = ["--service", "svc@localhost"] }

[case.as-client]
title = "Candidate client refuses"
timeouts = "observe"
candidate = { role = "xmpp-client", client = "alice", args = ["--service", "svc@localhost"] }
peer = { role = "xmpp-server", acceptor = "svc/localhost" }
'''


class Tree:
    """A scratch scenario tree with the fixture catalogue and check sets."""

    def __init__(self, case_text: str, checks: str = CHECKS, catalogue: str = CATALOGUE) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="templates-t-")
        self.dir = self.tmp.name
        os.makedirs(os.path.join(self.dir, "fixture"))
        os.makedirs(os.path.join(self.dir, "requirements"))
        self.file = self.write("fixture/t.toml", case_text)
        self.write("requirements/fix.toml", catalogue)
        self.checks = self.write("checks.toml", checks)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def load(self) -> dict:
        """The expanded cases by id."""
        return {c.id: c for c in load_spec(self.dir, "fixture")}


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the NTH line of TEXT that starts with NEEDLE."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith(needle)]
    return hits[nth - 1]


class Expansion(unittest.TestCase):
    def setUp(self) -> None:
        self.tree = Tree(TEMPLATE)
        self.addCleanup(self.tree.tmp.cleanup)
        self.cases = self.tree.load()

    def test_one_case_per_direction_with_stable_ids(self) -> None:
        self.assertEqual(sorted(self.cases), ["fixture/t/rule/client", "fixture/t/rule/server"])
        server, client = self.cases["fixture/t/rule/server"], self.cases["fixture/t/rule/client"]
        self.assertEqual((server.title, client.title),
                         ("Candidate server refuses", "Candidate client refuses"))
        self.assertEqual((server.candidate.role, server.peer.role), ("xmpp-server", "xmpp-client"))
        self.assertEqual((client.candidate.role, client.peer.role), ("xmpp-client", "xmpp-server"))
        self.assertEqual((server.server, client.server), ("candidate", "peer"))

    def test_template_keys_shared_direction_keys_own(self) -> None:
        server, client = self.cases["fixture/t/rule/server"], self.cases["fixture/t/rule/client"]
        for case in (server, client):
            self.assertEqual(case.features, ["f1"])
            self.assertEqual(case.principals, ["alice", "svc/localhost"])
            self.assertEqual(case.peer.faults, ["drop"])
            self.assertEqual(case.line, 1, "a case's line is its template's")
        self.assertEqual((server.deadline, server.timeouts), (3.0, "verdict"))
        self.assertEqual((client.deadline, client.timeouts), (None, "observe"))

    def test_side_args_direction_first_then_template(self) -> None:
        server, client = self.cases["fixture/t/rule/server"], self.cases["fixture/t/rule/client"]
        self.assertEqual(server.peer.args, ["--service", "svc@localhost", "--observe-ms", "1050"])
        self.assertEqual(client.peer.args, ["--observe-ms", "1050"])
        self.assertEqual(client.candidate.args, ["--service", "svc@localhost"])
        self.assertEqual((server.candidate.acceptor, client.candidate.client),
                         ("svc/localhost", "alice"))

    def test_only_selects_refs_and_checks_in_order(self) -> None:
        server, client = self.cases["fixture/t/rule/server"], self.cases["fixture/t/rule/client"]
        self.assertEqual([r.requirement for r in server.refs], ["fix/1/must"])
        self.assertEqual([r.requirement for r in client.refs], ["fix/1/must", "fix/2/statement"])
        self.assertEqual([c.observe for c in server.checks],
                         ["peer.event.fault.0.applied", "peer.event.peer-closed.0.after_ms",
                          "candidate.exit"])
        self.assertEqual([c.observe for c in client.checks],
                         ["peer.event.fault.0.applied", "candidate.event.done",
                          "peer.event.peer-closed.0.after_ms"])

    def test_check_set_parameters_keep_their_type(self) -> None:
        closed = self.cases["fixture/t/rule/server"].checks[1]
        self.assertEqual((closed.operator, closed.operand, closed.level, closed.message,
                          closed.requirement),
                         ("at_most", 500, "security", "closed within 500 ms", ""))
        self.assertEqual(closed.line, line_of(TEMPLATE, 'set = "refused"') - 1,
                         "a set's checks have the line of the entry that names the set")

    def test_reference_filled_from_catalogue(self) -> None:
        ref = self.cases["fixture/t/rule/server"].refs[0]
        self.assertEqual((ref.doc, ref.revision, ref.section, ref.quote, ref.level),
                         ("FIX", "r1", "1", "A server MUST NOT answer twice.", "MUST"))
        stmt = self.cases["fixture/t/rule/client"].refs[1]
        self.assertEqual((stmt.quote, stmt.level), ("The server answers.", "de-facto"))

    def test_one_direction_and_plain_cases(self) -> None:
        text = TEMPLATE.split("[case.as-client]")[0] + textwrap.dedent('''
            [[case]]
            id = "fixture/t/plain/client"
            title = "plain"
            realm = false
            candidate = { role = "xmpp-client" }
            peer = { role = "xmpp-server" }

            [[case.expect]]
            set = "refused"
            ''')
        tree = Tree(text)
        self.addCleanup(tree.tmp.cleanup)
        cases = tree.load()
        self.assertEqual(sorted(cases), ["fixture/t/plain/client", "fixture/t/rule/server"])
        self.assertEqual([c.observe for c in cases["fixture/t/plain/client"].checks],
                         ["peer.event.fault.0.applied", "candidate.event.done",
                          "peer.event.peer-closed.0.after_ms"],
                         "a plain case's direction is its candidate role's")


class Errors(unittest.TestCase):
    """Each mistake names the file, line and key where it was written."""

    def assert_error(self, case_text: str, line: int, key: str, words: str,
                     checks: str = CHECKS) -> None:
        """Loading the tree fails naming LINE and KEY of the case file (of checks.toml when
        CHECKS is not the default) and saying WORDS."""
        tree = Tree(case_text, checks)
        self.addCleanup(tree.tmp.cleanup)
        with self.assertRaises(InputError) as caught:
            tree.load()
        path = tree.file if checks is CHECKS else tree.checks
        self.assertIn(f"{path}:{line}: {key}: ", str(caught.exception))
        self.assertIn(words, str(caught.exception))

    def test_key_in_template_and_direction(self) -> None:
        text = TEMPLATE.replace('timeouts = "observe"', 'timeouts = "observe"\nfeatures = ["f2"]')
        self.assert_error(text, line_of(text, "features", 2), "case[0].as-client.features",
                          f"also given in the [[case]] (line {line_of(text, 'features')})")

    def test_side_key_in_template_and_direction(self) -> None:
        text = TEMPLATE.replace('faults = ["drop"]', 'faults = ["drop"]\nrole = "xmpp-client"')
        self.assert_error(text, line_of(text, 'peer = { role = "xmpp-client"'),
                          "case[0].as-server.peer.role", "also given in [case.peer]")

    def test_principal_error_names_the_direction(self) -> None:
        text = TEMPLATE.replace('client = "alice", args = ["--service", "svc@localhost"] }\n'
                                'peer = { role = "xmpp-server"',
                                'client = "bob", args = ["--service", "svc@localhost"] }\n'
                                'peer = { role = "xmpp-server"')
        self.assert_error(text, line_of(text, 'candidate = { role = "xmpp-client"'),
                          "case[0].as-client.candidate.client", "principal 'bob' is not declared")

    def test_unknown_check_set(self) -> None:
        text = TEMPLATE.replace('set = "refused"', 'set = "refusd"')
        self.assert_error(text, line_of(text, "set = "), "case[0].expect[0].set",
                          "unknown check set 'refusd' (scenarios/checks.toml has: refused)")

    def test_unknown_parameter(self) -> None:
        text = TEMPLATE.replace("within_ms = 500", "within = 500")
        self.assert_error(text, line_of(text, "within = "), "case[0].expect[0].within",
                          "not a parameter of check set 'refused' (it has: level, requirement, "
                          "within_ms)")

    def test_parameter_of_wrong_type(self) -> None:
        text = TEMPLATE.replace("within_ms = 500", 'within_ms = "500"')
        self.assert_error(text, line_of(text, "within_ms = "), "case[0].expect[0].within_ms",
                          "must be an integer or a number")

    def test_parameter_making_a_bad_check(self) -> None:
        text = TEMPLATE.replace('level = "security"', 'level = "MOST"')
        self.assert_error(text, line_of(text, 'set = "refused"') - 1, "case[0].expect[0]",
                          "check set 'refused': must be one of MUST")

    def test_only_outside_a_template(self) -> None:
        text = ('[[case]]\nid = "fixture/t/p/server"\ntitle = "p"\nrealm = false\n'
                'candidate = { role = "xmpp-server" }\n\n[[case.expect]]\nonly = "as-server"\n'
                'observe = "candidate.exit"\nequals = 0\nlevel = "MUST"\n')
        self.assert_error(text, 8, "case[0].expect[0].only", "only applies to a template case")

    def test_bad_direction_name(self) -> None:
        text = TEMPLATE.replace('only = "as-client"\nrequirement', 'only = "client"\nrequirement')
        self.assert_error(text, line_of(text, 'only = "client"'), "case[0].ref[1].only",
                          "must be one of as-server, as-client")

    def test_reference_disagreeing_with_catalogue(self) -> None:
        text = TEMPLATE.replace('requirement = "fix/1/must"',
                                'requirement = "fix/1/must"\nsection = "7"')
        self.assert_error(text, line_of(text, 'section = "7"'), "case[0].ref[0].section",
                          "disagrees with the catalogue entry 'fix/1/must' ('1')")

    def test_statement_needs_a_level(self) -> None:
        text = TEMPLATE.replace('requirement = "fix/2/statement"\nlevel = "de-facto"',
                                'requirement = "fix/2/statement"')
        self.assert_error(text, line_of(text, "[[case.ref]]", 2), "case[0].ref[1]",
                          "missing required key 'level' (the catalogue entry 'fix/2/statement' "
                          "is a statement")

    def test_reference_to_unknown_id_without_quote(self) -> None:
        text = TEMPLATE.replace('requirement = "fix/1/must"', 'requirement = "fix/9/none"')
        self.assert_error(text, line_of(text, "[[case.ref]]"), "case[0].ref[0]",
                          "missing required key 'doc' (requirement 'fix/9/none' is not in the "
                          "catalogue")

    def test_duplicate_id_from_a_template(self) -> None:
        text = TEMPLATE + ('\n[[case]]\nid = "fixture/t/rule/client"\ntitle = "p"\nrealm = false\n'
                           'candidate = { role = "xmpp-client" }\n\n[[case.expect]]\n'
                           'observe = "candidate.exit"\nequals = 0\nlevel = "MUST"\n')
        self.assert_error(text, line_of(text, "[[case]]", 2), "id", "duplicate case id")

    def test_direction_without_title(self) -> None:
        text = TEMPLATE.replace('title = "Candidate client refuses"\n', '')
        self.assert_error(text, 1, "case[0]", "missing required key 'title' of the as-client "
                          "case (give it in the [[case]] or in [case.as-client])")

    def test_set_parameter_named_only(self) -> None:
        checks = CHECKS.replace('requirement = ""\n', 'requirement = ""\nonly = "x"\n', 1)
        self.assert_error(TEMPLATE, line_of(checks, 'only = "x"'), "set[0].params.only",
                          "neither 'set' nor 'only'", checks)

    def test_set_with_unknown_placeholder(self) -> None:
        checks = CHECKS.replace('message = "applied"', 'message = "applied {whom}"')
        self.assert_error(TEMPLATE, line_of(checks, "[[set.expect]]"), "set[0].expect[0]",
                          "uses {whom} but the set declares no such parameter", checks)

    def test_set_with_a_bad_check(self) -> None:
        checks = CHECKS.replace('equals = true', 'equal = true')
        self.assert_error(TEMPLATE, line_of(checks, "equal = true"), "set[0].expect[0].equal",
                          "unknown key", checks)


class CommandLine(unittest.TestCase):
    def test_list_reports_a_template_error_with_exit_3(self) -> None:
        text = TEMPLATE.replace('set = "refused"', 'set = "nope"')
        tree = Tree(text)
        self.addCleanup(tree.tmp.cleanup)
        proc = subprocess.run([sys.executable, os.path.join(taptest.REPO, "gssconform"), "list",
                               "--scenarios", tree.dir, "--spec", "fixture"],
                              capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn(f"{tree.file}:{line_of(text, 'set = ')}: case[0].expect[0].set: unknown "
                      "check set 'nope'", proc.stderr)


if __name__ == "__main__":
    taptest.main()
