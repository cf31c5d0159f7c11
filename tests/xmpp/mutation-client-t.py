#!/usr/bin/env python3
"""The client role's planted XMPP deviations (docs/mutation.md, "XMPP deviations: the client
role"): the table rows, `gsspeer xmpp-client --deviate` usage errors, and one bounded end-to-end
mutation run in which layer-octet-zero (nbxmpp's reply) is killed by its case
(xep0233/client/layer/one-offered-bit) while the control gsspeer passes it.
"""

from __future__ import annotations

import unittest

import taptest
from mutationlib import deviation_rows, run_mutation
from mutationlib import gsspeer as run

CLIENT = ["xmpp-client", "--connect", "127.0.0.1:9", "--domain", "example.com",
          "--jid", "alice@example.com"]


class Table(unittest.TestCase):
    def test_client_rows(self) -> None:
        client = [r for r in deviation_rows() if r["protocol"] == "xmpp" and r["roles"] == "client"]
        self.assertGreaterEqual(len(client), 9, [r["name"] for r in client])
        for row in client:
            self.assertTrue(row["description"], row)
        self.assertIn("layer-octet-zero", {r["name"] for r in client})

    def test_zmtp_deviation_refused_by_xmpp_client(self) -> None:
        proc = run(*CLIENT, "--deviate", "accept-reorder")
        self.assertEqual(proc.returncode, 64)
        self.assertIn('a deviation of the other protocol, not "accept-reorder"', proc.stderr)
        self.assertIn("known xmpp deviations:", proc.stderr)
        self.assertIn("layer-octet-zero", proc.stderr)

    def test_xmpp_deviation_refused_by_zmtp_client(self) -> None:
        proc = run("zmtp-client", "--connect", "tcp://127.0.0.1:9", "--service-principal",
                   "zmq@localhost", "--deviate", "layer-octet-zero")
        self.assertEqual(proc.returncode, 64)
        self.assertIn("other protocol", proc.stderr)

    def test_deviate_without_name(self) -> None:
        proc = run(*CLIENT, "--deviate")
        self.assertEqual(proc.returncode, 64)
        self.assertIn("--deviate needs a deviation name", proc.stderr)


class EndToEnd(unittest.TestCase):
    def test_layer_octet_zero_killed_by_one_offered_bit(self) -> None:
        case = "xep0233/client/layer/one-offered-bit"
        r = run_mutation(["-j", "2", "--spec", "xep0233", "--deviation", "layer-octet-zero",
                          "--case", case], timeout=120)
        m, proc = r.matrix, r.proc
        row = m["deviations"][0]
        self.assertEqual(row["deviation"], "layer-octet-zero")
        self.assertEqual(row["status"], "killed", row)
        self.assertEqual([(k["case"], k["verdict"]) for k in row["killed_by"]],
                         [(case, "FAIL")])
        self.assertTrue(row["killed_by"][0]["confirmed"], "a lone kill is run a second time")
        self.assertEqual(m["control_not_passed"], [])
        self.assertIn("KILLED    layer-octet-zero", proc.stdout)


if __name__ == "__main__":
    taptest.main()
