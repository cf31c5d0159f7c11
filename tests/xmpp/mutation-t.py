#!/usr/bin/env python3
"""The XMPP server deviations of the mutation run (docs/mutation.md, "XMPP deviations"):
`gsspeer deviations` lists them, `gsspeer xmpp-server --deviate` refuses unknown names and
deviations of another role or protocol, and one bounded end-to-end run in which a known
deviation (admit-foreign-authzid) is killed by its case (xep0233/server/authz/foreign-authzid)
while the control gsspeer passes it.
"""

from __future__ import annotations

import unittest

import taptest
from mutationlib import deviation_rows, run_mutation
from mutationlib import gsspeer as run

SERVER_ARGS = ["xmpp-server", "--bind", "127.0.0.1:0", "--domain", "example.com",
               "--hostname", "auth42.example.com", "--tls", "off"]


class Table(unittest.TestCase):
    def test_server_rows_listed(self) -> None:
        server = [r for r in deviation_rows() if r["protocol"] == "xmpp" and r["roles"] == "server"]
        self.assertGreaterEqual(len(server), 9)
        names = {r["name"] for r in server}
        self.assertIn("admit-foreign-authzid", names)
        self.assertIn("hostbased-acceptor", names)
        for row in server:
            self.assertTrue(row["description"], row)

    def test_unknown_deviation_is_usage_error(self) -> None:
        proc = run(*SERVER_ARGS, "--deviate", "bogus")
        self.assertEqual(proc.returncode, 64)
        self.assertIn('unknown deviation "bogus"', proc.stderr)
        self.assertIn("known xmpp deviations:", proc.stderr)
        self.assertIn("admit-foreign-authzid", proc.stderr)

    def test_zmtp_deviation_is_usage_error(self) -> None:
        proc = run(*SERVER_ARGS, "--deviate", "ignore-allow")
        self.assertEqual(proc.returncode, 64)
        self.assertIn("a deviation of the other protocol", proc.stderr)

    def test_xmpp_server_deviation_refused_by_zmtp_server(self) -> None:
        proc = run("zmtp-server", "--bind", "tcp://127.0.0.1:0", "--deviate",
                   "admit-foreign-authzid")
        self.assertEqual(proc.returncode, 64)
        self.assertIn("a deviation of the other protocol", proc.stderr)


class EndToEnd(unittest.TestCase):
    def test_foreign_authzid_killed_by_its_case(self) -> None:
        r = run_mutation(["-j", "1", "--spec", "xep0233", "--deviation",
                          "admit-foreign-authzid", "--case",
                          "xep0233/server/authz/foreign-authzid"])
        m, proc = r.matrix, r.proc
        row = m["deviations"][0]
        self.assertEqual(row["deviation"], "admit-foreign-authzid")
        self.assertEqual(row["status"], "killed", row)
        self.assertEqual([(k["case"], k["verdict"]) for k in row["killed_by"]],
                         [("xep0233/server/authz/foreign-authzid", "FAIL")])
        self.assertTrue(row["killed_by"][0]["confirmed"], "a lone kill is run a second time")
        self.assertEqual(m["control_not_passed"], [])
        self.assertIn("KILLED    admit-foreign-authzid", proc.stdout)


if __name__ == "__main__":
    taptest.main()
