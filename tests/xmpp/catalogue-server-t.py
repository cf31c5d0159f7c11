#!/usr/bin/env python3
"""The server-side XEP-0233 catalogue (scenarios/xep0233/server-*.toml): at least 30 cases, each
quoting a reference verbatim, every file valid on its own, every case a candidate xmpp-server
against the reference xmpp-client; its checks turn synthetic observations into the verdicts the
catalogue promises (a refused layer message is INFO, not a FAIL of what came after; a server
without <hostname/> is UNIMPLEMENTED); and gsspeer xmpp-server, run as the candidate, passes
every case."""

from __future__ import annotations

import json
import os
import unittest

from cataloguelib import SCENARIOS
from gssconform import scenario, verdict
import cataloguelib
import taptest

FOLDER = os.path.join(SCENARIOS, "xep0233")
PREFIX = "xep0233/server/"
HOST, DOMAIN, REALM = "auth42.us.example.com", "example.com", "GSSCONFORM.TEST"
MISSING = cataloguelib.missing(("krb5kdc", "kdb5_util", "kadmin.local", "openssl"))


def server_cases() -> list:
    return [c for c in scenario.load_spec(SCENARIOS, "xep0233") if c.id.startswith(PREFIX)]


def server_files() -> list[str]:
    return sorted(n for n in os.listdir(FOLDER) if n.startswith("server-") and n.endswith(".toml"))


class Listing(unittest.TestCase):
    def test_at_least_30_cases_each_with_a_reference(self) -> None:
        cataloguelib.assert_listed_with_references(self, "xep0233", PREFIX, 30)

    def test_shape(self) -> None:
        cases = server_cases()
        self.assertGreaterEqual(len(cases), 30)
        for case in cases:
            with self.subTest(case=case.id):
                self.assertEqual(case.candidate.role, "xmpp-server")
                self.assertEqual(case.peer.role, "xmpp-client")
                self.assertEqual(case.peer.client, "alice")
                # the runner's TLS certificate names example.com
                self.assertEqual(case.domain, DOMAIN)
                self.assertTrue(case.hostname.endswith("." + DOMAIN), case.hostname)
                self.assertEqual(case.candidate.acceptor, f"xmpp/{case.hostname}/{DOMAIN}",
                                 "the acceptor is the XEP-0233 name of the advertised host")
                self.assertIn(f"xmpp/{case.hostname}", case.candidate.also_accept,
                              "the host-based name is in the keytab too (separate observation)")
                self.assertIn("--timeout-ms", case.peer.args, "the reference client is bounded")
                self.assertTrue(case.checks, "a case without checks judges nothing")


class Files(unittest.TestCase):
    def test_every_file_validates_alone(self) -> None:
        cataloguelib.assert_files_validate_alone(self, "xep0233", server_files(), 4)

    def test_quotes_are_verbatim(self) -> None:
        cataloguelib.assert_quotes_verbatim(self, server_cases())


def _obs(*events: dict, exit_status: int = 0, stderr: str = "") -> dict:
    """Observations of a case in which the reference client printed EVENTS."""
    by_name: dict[str, list] = {}
    for event in events:
        by_name.setdefault(event["event"], []).append(event)
    stdout = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    peer = {"exit": exit_status, "events": list(events), "event": by_name, "stdout": stdout,
            "stderr": stderr, "crash": None, "ready": None, "timed_out": False}
    cand = {"exit": 0, "crash": None, "ready": True, "timed_out": False, "event": {}}
    return {"candidate": cand, "peer": peer, "kdc": {"tgs_servers": [], "requests": []}}


FEATURES = {"event": "features", "mechanisms": ["GSSAPI"], "hostname": HOST,
            "hostname_status": "HOSTNAME_OK", "hostname_verdict": "valid", "tls": True}
NO_HOSTNAME = dict(FEATURES, hostname=None, hostname_status="HOSTNAME_ABSENT",
                   hostname_verdict="invalid")
OFFER = {"event": "layer-offer", "octets": 4, "plain": "01000000", "layers": 1, "max_size": 0,
         "conf": False, "status": "SASL_LAYER_OK"}
BAD_OFFER = dict(OFFER, plain="01ffffff", max_size=16777215, status="SASL_LAYER_MAXSIZE_NONE")
REFUSED = {"event": "client-refused", "reason": "SASL GSSAPI: client: server's layer message: "
                                                "SASL_LAYER_MAXSIZE_NONE (4 octets)"}
SUCCESS = {"event": "sasl", "outcome": "success", "layer": 1, "max_size": 0}
BOUND = {"event": "bound", "jid": f"alice@{DOMAIN}/gsspeer"}


def _fault(name: str) -> dict:
    return {"event": "fault", "name": name, "arg": "", "phase": "sasl", "applied": True}


def _failure(condition: str, defined: bool = True) -> dict:
    return {"event": "sasl", "outcome": "failure", "condition": condition, "defined": defined}


def _verdict(case_id: str, obs: dict) -> str:
    case = next(c for c in server_cases() if c.id == PREFIX + case_id)
    return verdict.judge(case, obs, False)[0]


class Judging(unittest.TestCase):
    """The checks of a few cases against synthetic observations of the reference client."""

    def test_invalid_layer_choice(self) -> None:
        principal = {"event": "principal", "target": f"xmpp/{HOST}@{REALM}", "form": "exact"}
        head = (FEATURES, principal)
        fault = _fault("layer-no-bit")
        self.assertEqual(_verdict("layer/layer-no-bit", _obs(
            *head, OFFER, fault, _failure("malformed-request"), exit_status=0)), "PASS")
        self.assertEqual(_verdict("layer/layer-no-bit", _obs(
            *head, OFFER, fault, SUCCESS, BOUND, {"event": "done"})), "FAIL",
            "a server that logs the client in after layer octet 00 fails")
        self.assertEqual(_verdict("layer/layer-no-bit", _obs(
            *head, OFFER, fault, _failure("undefined-condition", False))), "FAIL",
            "a refusal outside RFC 6120 §6.5's conditions fails")
        self.assertEqual(_verdict("layer/layer-no-bit", _obs(
            *head, BAD_OFFER, fault, REFUSED, exit_status=1)), "INFO",
            "when the client must refuse the server's own layer message, the case judges "
            "nothing after it (that message is layer-message/*'s finding)")

    def test_maxsize_of_the_layer_message(self) -> None:
        self.assertEqual(_verdict("layer-message/maxsize-zero-with-none", _obs(FEATURES, OFFER)),
                         "PASS")
        self.assertEqual(_verdict("layer-message/maxsize-zero-with-none",
                                  _obs(FEATURES, BAD_OFFER, REFUSED, exit_status=1)), "FAIL")
        self.assertEqual(_verdict("layer-message/maxsize-zero-with-none",
                                  _obs(FEATURES, exit_status=1)), "INFO",
                         "no layer message at all (ticket refused): not this case's finding")

    def test_domain_based_name(self) -> None:
        target = {"event": "principal", "target": f"xmpp/{HOST}/{DOMAIN}@{REALM}",
                  "form": "xep0233"}
        case = "principal/domain-based-accepted"
        self.assertEqual(_verdict(case, _obs(FEATURES, target, OFFER, SUCCESS, BOUND)), "PASS")
        self.assertEqual(_verdict(case, _obs(FEATURES, target, _failure("not-authorized"),
                                             exit_status=1)), "FAIL")
        self.assertEqual(_verdict(case, _obs(FEATURES, target, BAD_OFFER, REFUSED,
                                             exit_status=1)), "PASS",
                         "the acceptor took the ticket; the layer message is judged elsewhere")
        self.assertEqual(_verdict(case, _obs(NO_HOSTNAME, exit_status=1)), "UNIMPLEMENTED",
                         "no <hostname/>: XEP-0233 is not implemented, nothing failed")

    def test_hostname_before_tls(self) -> None:
        plain = dict(NO_HOSTNAME, tls=False, mechanisms=[])
        self.assertEqual(_verdict("hostname/after-tls-only", _obs(plain, exit_status=1)), "PASS")
        leaked = dict(FEATURES, tls=False)
        self.assertEqual(_verdict("hostname/after-tls-only", _obs(leaked, exit_status=1)),
                         "FAIL")

    def test_unknown_key(self) -> None:
        target = {"event": "principal", "target": f"xmpp/nokey.us.example.com@{REALM}",
                  "form": "exact"}
        case = "principal/unknown-key"
        self.assertEqual(_verdict(case, _obs(FEATURES, target, _failure("not-authorized"),
                                             exit_status=1)), "PASS")
        hung = {"event": "error", "reason": "timeout after 3000 ms"}
        self.assertEqual(_verdict(case, _obs(FEATURES, target, hung, exit_status=1)), "FAIL",
                         "no <failure/> within the client's bound is a hang")


@unittest.skipIf(MISSING, MISSING or "")
class AgainstReference(unittest.TestCase):
    def test_gsspeer_passes_every_server_case(self) -> None:
        result = cataloguelib.assert_reference_passes(self, "xep0233", PREFIX + "*", 30)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])


if __name__ == "__main__":
    taptest.main()
