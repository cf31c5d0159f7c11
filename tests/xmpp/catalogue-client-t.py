#!/usr/bin/env python3
"""The client-side XEP-0233 catalogue (scenarios/xep0233/client-*.toml): at least 30 cases, each
an xmpp-client case against gsspeer xmpp-server citing at least one catalogue requirement, with
verbatim quotes; every file validates on its own; each case's service principals are its own
(so KDC lines stay exact); the principal checks turn a host-based name into UNIMPLEMENTED, the
XEP-0233 name into PASS and a wrong domain-based name into FAIL; and gsspeer xmpp-client, the
reference client, passes every case."""

from __future__ import annotations

import glob
import os
import unittest

from cataloguelib import SCENARIOS
from gssconform import scenario, verdict
import cataloguelib
import taptest

FOLDER = os.path.join(SCENARIOS, "xep0233")
REALM = "GSSCONFORM.TEST"
SHARED = {"alice", "xmpp/example.com"}  # the client and the host-based name every case shares
MISSING = cataloguelib.missing(("krb5kdc", "kdb5_util", "kadmin.local", "openssl"))


def client_cases() -> list:
    return [c for c in scenario.load_spec(SCENARIOS, "xep0233")
            if c.id.startswith("xep0233/client/")]


def _case(case_id: str):
    return next(c for c in client_cases() if c.id == case_id)


class Shape(unittest.TestCase):
    def test_at_least_30_client_cases(self) -> None:
        cases = client_cases()
        self.assertGreaterEqual(len(cases), 30)
        self.assertEqual(len({c.id for c in cases}), len(cases), "ids are unique")

    def test_roles_and_peer(self) -> None:
        for case in client_cases():
            with self.subTest(case=case.id):
                self.assertEqual(case.candidate.role, "xmpp-client")
                self.assertEqual(case.peer.role, "xmpp-server")
                self.assertEqual(case.candidate.client, "alice")
                self.assertIn("xmpp/example.com", case.peer.also_accept,
                              "the reference also takes the host-based name")

    def test_every_case_cites_a_catalogue_requirement(self) -> None:
        for case in client_cases():
            with self.subTest(case=case.id):
                self.assertTrue(any(ref.requirement for ref in case.refs))

    def test_quotes_are_verbatim(self) -> None:
        cataloguelib.assert_quotes_verbatim(self, client_cases())

    def test_service_principals_are_the_cases_own(self) -> None:
        owner: dict[str, str] = {}
        for case in client_cases():
            for name in case.principals:
                if name in SHARED:
                    continue
                with self.subTest(case=case.id, principal=name):
                    self.assertNotIn(name, owner, f"also declared by {owner.get(name)}")
                    owner[name] = case.id

    def test_every_file_validates_alone(self) -> None:
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(FOLDER, "client-*.toml")))
        cataloguelib.assert_files_validate_alone(self, "xep0233", names, 4)


def _login(**fields) -> dict:
    """Synthetic observations: one login event of the reference with FIELDS."""
    return {"candidate": {"exit": 0, "event": {}},
            "peer": {"exit": 0, "event": {"login": [fields]}},
            "kdc": {"tgs_servers": [fields.get("target")]}}


class Judging(unittest.TestCase):
    """The principal and layer checks on synthetic observations of the reference server."""

    def judge(self, case_id: str, obs: dict) -> tuple[str, str]:
        verdict_, reason, _ = verdict.judge(_case(case_id), obs, False)
        return verdict_, reason

    def test_domain_based_name_passes(self) -> None:
        name = f"xmpp/p-domain.us.example.com/example.com@{REALM}"
        self.assertEqual(self.judge("xep0233/client/principal/domain-based",
                                    _login(target=name, outcome="success"))[0], "PASS")

    def test_hostbased_name_is_unimplemented_and_shown(self) -> None:
        verdict_, reason = self.judge("xep0233/client/principal/domain-based",
                                      _login(target=f"xmpp/example.com@{REALM}"))
        self.assertEqual(verdict_, "UNIMPLEMENTED")
        self.assertIn(f"xmpp/example.com@{REALM}", reason)

    def test_old_component_order_fails(self) -> None:
        name = f"xmpp/example.com/p-domain.us.example.com@{REALM}"
        self.assertEqual(self.judge("xep0233/client/principal/domain-based",
                                    _login(target=name))[0], "FAIL")

    def test_kdc_view_must_agree_with_the_acceptor(self) -> None:
        name = f"xmpp/p-kdc.us.example.com/example.com@{REALM}"
        obs = _login(target=name)
        self.assertEqual(self.judge("xep0233/client/principal/kdc-view", obs)[0], "PASS")
        obs["kdc"]["tgs_servers"] = [f"xmpp/example.com@{REALM}"]
        self.assertEqual(self.judge("xep0233/client/principal/kdc-view", obs)[0], "FAIL")

    def test_pre_tls_hostname_is_a_security_failure(self) -> None:
        obs = _login(target=f"xmpp/h-evil.attacker.example.net/example.com@{REALM}")
        obs["peer"]["event"]["fault"] = [{"applied": True}]
        obs["peer"]["event"]["tls"] = [{"version": "TLSv1.3"}]
        verdict_, reason = self.judge("xep0233/client/hostname/before-tls-only", obs)
        self.assertEqual(verdict_, "FAIL")
        self.assertIn("before TLS", reason)

    def test_layer_reply_without_a_bit_fails(self) -> None:
        obs = _login(target=f"xmpp/example.com@{REALM}", outcome="failure",
                     reason="server: client's layer reply: SASL_LAYER_NO_BIT (4 octets, layer 0x00)")
        verdict_, reason = self.judge("xep0233/client/layer/one-offered-bit", obs)
        self.assertEqual(verdict_, "FAIL")
        self.assertIn("SASL_LAYER_NO_BIT", reason)

    def test_unrequested_authzid_fails(self) -> None:
        obs = _login(target=f"xmpp/example.com@{REALM}", layer=1, max_size=0, authzid="alice")
        self.assertEqual(self.judge("xep0233/client/authzid/absent", obs)[0], "FAIL")
        obs = _login(target=f"xmpp/example.com@{REALM}", layer=1, max_size=0, authzid=None)
        self.assertEqual(self.judge("xep0233/client/authzid/absent", obs)[0], "PASS")


@unittest.skipIf(MISSING, MISSING or "")
class AgainstReference(unittest.TestCase):
    def test_gsspeer_xmpp_client_passes_every_case(self) -> None:
        cataloguelib.assert_reference_passes(self, "xep0233", "xep0233/client/*", 30)


if __name__ == "__main__":
    taptest.main()
