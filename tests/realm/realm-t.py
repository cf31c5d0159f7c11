#!/usr/bin/env python3
"""Tests of the throwaway realm (realm-setup/krbrealm.py and the krbrealm CLI).

Every test runs a real krb5kdc and real MIT clients (kinit, kvno, klist; python3-gssapi under
/usr/bin/python3 for an acceptor). Every KDC pid a test sees is recorded, and the last test
checks that none of them is still running.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

import krbrealm
import krbrealm_cli
import realmlib
import taptest

CLI = os.path.join(taptest.REPO, "realm-setup", "krbrealm")
SYSTEM_PYTHON = "/usr/bin/python3"
STARTED_PIDS: list[int] = []  # every KDC pid seen, checked by the last test
WAIT = 30.0  # bound of every wait for a child process in these tests

USER, SERVICE, SERVICE3 = "alice", "zmq/localhost", "xmpp/auth42.us.example.com/example.com"


def track(realm: krbrealm.Realm) -> krbrealm.Realm:
    """Record the realm's KDC pid for the final leftover check."""
    if realm.kdc_pid:
        STARTED_PIDS.append(realm.kdc_pid)
    return realm


def run(argv: list[str], env: dict[str, str] | None = None, stdin: str | None = None,
        extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command with os.environ + env (+ extra), C locale, bounded by WAIT."""
    full = dict(os.environ)
    full.pop("KRB5CCNAME", None)
    full.update(env or {})
    full.update(extra or {})
    full["LC_ALL"] = "C"
    return subprocess.run(argv, env=full, input=stdin, capture_output=True, text=True,
                          timeout=WAIT)


def kinit_keytab(realm: krbrealm.Realm, name: str) -> subprocess.CompletedProcess[str]:
    """A real AS exchange for name with its own keytab into its own ccache."""
    p = realm.principal(name)
    return run(["kinit", "-k", "-t", str(p.keytab), p.name], realm.env(client=name))


def klist_tickets(realm: krbrealm.Realm, name: str) -> dict[str, tuple[float, list[str]]]:
    """{server principal: (lifetime in seconds, [session etype, ticket etype])} of name's cache."""
    out = run(["klist", "-e"], realm.env(client=name)).stdout
    tickets: dict[str, tuple[float, list[str]]] = {}
    current = None
    for line in out.splitlines():
        m = re.match(r"^(\S+ \S+)\s+(\S+ \S+)\s+(\S+)$", line)
        if m and re.match(r"\d\d/\d\d/\d\d", m[1]):
            fmt = "%m/%d/%y %H:%M:%S"
            life = (datetime.datetime.strptime(m[2], fmt)
                    - datetime.datetime.strptime(m[1], fmt)).total_seconds()
            current = m[3]
            tickets[current] = (life, [])
        em = re.match(r"^\s+Etype \(skey, tkt\): (\S+), (\S+)\s*$", line)
        if em and current:
            tickets[current] = (tickets[current][0], [em[1], em[2]])
    return tickets


def pid_running(pid: int) -> bool:
    """True while pid runs (a zombie has exited and counts as gone)."""
    return krbrealm._alive(pid)


def wait_gone(pid: int) -> bool:
    """Wait (bounded) until pid has exited; True when it did."""
    return krbrealm._wait_gone(pid, WAIT)


def inside(path: str, directory: Path) -> bool:
    """True when path (possibly prefixed FILE:) lies inside directory."""
    path = path.split(":", 1)[1] if path.startswith("FILE:") else path
    return Path(path).resolve().is_relative_to(directory.resolve())


class TempDirCase(unittest.TestCase):
    """A test with a private temporary directory removed afterwards."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="realm-t-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)


class RealmUp(realmlib.SharedRealmCase):
    """One realm with principals of all three shapes plus a password user."""

    realm_prefix = "realm-t-up-"
    realm_options = {"principals": [USER, SERVICE, SERVICE3, "bob:password=pw-12345"]}

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        track(cls.realm)

    def test_kdc_answers_as_exchange(self) -> None:
        result = kinit_keytab(self.realm, USER)
        self.assertEqual(result.returncode, 0, result.stderr)
        tickets = klist_tickets(self.realm, USER)
        self.assertIn(f"krbtgt/{self.realm.realm}@{self.realm.realm}", tickets)

    def test_password_principal(self) -> None:
        result = run(["kinit", "bob"], self.realm.env(client="bob"), stdin="pw-12345\n")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_principals_of_all_shapes_have_keytabs(self) -> None:
        for name in (USER, SERVICE, SERVICE3, "bob"):
            p = self.realm.principal(name)
            self.assertEqual(p.name, f"{name}@{self.realm.realm}")
            out = run(["klist", "-k", str(p.keytab)], self.realm.env())
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(p.name, out.stdout)
        self.assertTrue(self.realm.principal(SERVICE3).is_service)
        self.assertFalse(self.realm.principal(USER).is_service)

    def test_env_and_paths_inside_directory(self) -> None:
        base = self.realm.env()
        self.assertEqual(set(base), {"KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5RCACHEDIR"})
        client = self.realm.env(client=USER)
        self.assertEqual(client["KRB5_CLIENT_KTNAME"], str(self.realm.principal(USER).keytab))
        self.assertTrue(client["KRB5CCNAME"].startswith("FILE:"))
        acceptor = self.realm.env(acceptor=SERVICE)
        self.assertEqual(acceptor["KRB5_KTNAME"], str(self.realm.principal(SERVICE).keytab))
        self.assertNotIn("KRB5CCNAME", acceptor)
        both = self.realm.env(client=USER, acceptor=SERVICE3)
        for key, value in both.items():
            self.assertTrue(inside(value, self.realm.directory), f"{key}={value}")
        keytabs = {p.keytab for p in self.realm.principals}
        self.assertEqual(len(keytabs), len(self.realm.principals), "one keytab per principal")
        with self.assertRaises(KeyError):
            self.realm.env(client="nobody")

    def test_profiles(self) -> None:
        conf = self.realm.krb5_conf.read_text()
        for line in ("default_realm = GSSCONFORM.TEST", "dns_lookup_kdc = false",
                     "dns_lookup_realm = false", "dns_canonicalize_hostname = false",
                     "rdns = false", "udp_preference_limit = 1",
                     f"kdc = 127.0.0.1:{self.realm.kdc_port}", ".example.com = GSSCONFORM.TEST",
                     "localhost = GSSCONFORM.TEST"):
            self.assertIn(line, conf)
        self.assertNotIn("clockskew", conf)
        self.assertNotIn("permitted_enctypes", conf)
        kdc = self.realm.kdc_conf.read_text()
        self.assertIn(f"kdc_listen = 127.0.0.1:{self.realm.kdc_port}", kdc)
        self.assertIn(f"kdc_tcp_listen = 127.0.0.1:{self.realm.kdc_port}", kdc)
        self.assertIn("supported_enctypes = aes256-cts-hmac-sha1-96:normal", kdc)
        for path in re.findall(r"(?:FILE:|= )(/\S+)", kdc):
            self.assertTrue(inside(path, self.realm.directory), path)

    def test_kdc_log_as_and_tgs(self) -> None:
        self.assertEqual(kinit_keytab(self.realm, USER).returncode, 0)
        env = self.realm.env(client=USER)
        full = f"{USER}@{self.realm.realm}"
        ok = run(["kvno", f"{SERVICE}@{self.realm.realm}"], env)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = run(["kvno", f"nosuch/localhost@{self.realm.realm}"], env)
        self.assertNotEqual(bad.returncode, 0)
        log = self.realm.kdc_log()
        self.assertTrue(all(r.line and r.pid == self.realm.kdc_pid for r in log))
        as_reqs = [r for r in log if r.kind == "AS_REQ" and r.client == full]
        self.assertTrue(as_reqs, log)
        self.assertEqual(as_reqs[-1].server, f"krbtgt/{self.realm.realm}@{self.realm.realm}")
        self.assertEqual(as_reqs[-1].outcome, "ISSUE")
        tgs = [r for r in log if r.kind == "TGS_REQ" and r.client == full]
        issued = [r for r in tgs if r.server == f"{SERVICE}@{self.realm.realm}"]
        self.assertTrue(issued, tgs)
        self.assertEqual(issued[-1].outcome, "ISSUE")
        self.assertEqual(issued[-1].ticket_etype, "aes256-cts-hmac-sha1-96")
        unknown = [r for r in tgs if r.server == f"nosuch/localhost@{self.realm.realm}"]
        self.assertTrue(unknown, tgs)
        self.assertEqual(unknown[-1].outcome, "Server not found in Kerberos database")
        self.assertEqual(unknown[-1].status, "LOOKING_UP_SERVER")

    def test_kdc_log_unknown_client(self) -> None:
        result = run(["kinit", "ghost"], self.realm.env(client=USER), stdin="x\n")
        self.assertNotEqual(result.returncode, 0)
        ghost = [r for r in self.realm.kdc_log() if r.client == f"ghost@{self.realm.realm}"]
        self.assertTrue(ghost)
        self.assertEqual(ghost[-1].kind, "AS_REQ")
        self.assertEqual(ghost[-1].outcome, "Client not found in Kerberos database")

    def test_add_principals_while_running(self) -> None:
        added = self.realm.add_principals(["carol:maxlife=900", "ldap/example.com"])
        self.assertEqual([p.name for p in added],
                         [f"carol@{self.realm.realm}", f"ldap/example.com@{self.realm.realm}"])
        result = kinit_keytab(self.realm, "carol")
        self.assertEqual(result.returncode, 0, result.stderr)
        with self.assertRaisesRegex(krbrealm.PrincipalSpecError, "exists already"):
            self.realm.add_principals(["carol"])

    def test_attach_sees_the_same_realm(self) -> None:
        other = krbrealm.Realm.attach(self.realm.directory)
        self.assertEqual((other.realm, other.kdc_port, other.kdc_pid),
                         (self.realm.realm, self.realm.kdc_port, self.realm.kdc_pid))
        self.assertEqual(other.principal(SERVICE3), self.realm.principal(SERVICE3))
        self.assertEqual(other.env(client=USER), self.realm.env(client=USER))


class Specs(unittest.TestCase):
    """Principal specs and realm settings are checked before anything is created."""

    def test_good_specs(self) -> None:
        parse = krbrealm.parse_principal_spec
        self.assertEqual(parse("alice", "R.TEST"), ("alice@R.TEST", None, None))
        self.assertEqual(parse("zmq/localhost@OTHER.TEST:maxlife=60,password=pw", "R.TEST"),
                         ("zmq/localhost@OTHER.TEST", 60, "pw"))

    def test_bad_specs_name_the_spec(self) -> None:
        for spec in ("", "a//b", "/x", "x/", "al ice", "alice:", "alice:maxlife=0",
                     "alice:maxlife=ten", "alice:colour=red", "alice:password=",
                     'alice:password=a"b', "alice@", "alice@BAD REALM", "a;b"):
            with self.assertRaises(krbrealm.PrincipalSpecError) as ctx:
                krbrealm.Realm("/nonexistent/never-created", principals=[spec])
            self.assertIn(repr(spec), str(ctx.exception))
        self.assertFalse(os.path.exists("/nonexistent/never-created"))

    def test_bad_settings(self) -> None:
        with self.assertRaisesRegex(krbrealm.RealmError, "des-cbc-crc"):
            krbrealm.Realm("/nonexistent/x", enctypes=["des-cbc-crc"])
        with self.assertRaisesRegex(krbrealm.RealmError, "max_life"):
            krbrealm.Realm("/nonexistent/x", max_life=0)
        with self.assertRaisesRegex(krbrealm.RealmError, "realm name"):
            krbrealm.Realm("/nonexistent/x", realm="A B")


class KdcLogLines(unittest.TestCase):
    """parse_kdc_log_line on line shapes krb5kdc 1.20 wrote in the runs above (shortened)."""

    PREFIX = "Nov 22 07:28:41 vm krb5kdc[9266](info): "

    def test_issue(self) -> None:
        r = krbrealm.parse_kdc_log_line(
            self.PREFIX + "TGS_REQ (2 etypes {aes256-cts-hmac-sha384-192(20), "
            "aes256-cts-hmac-sha1-96(18)}) 127.0.0.1: ISSUE: authtime 1795332521, etypes "
            "{rep=aes256-cts-hmac-sha384-192(20), tkt=aes256-cts-hmac-sha384-192(20), "
            "ses=aes256-cts-hmac-sha384-192(20)}, alice@R.TEST for zmq/localhost@R.TEST\n")
        assert r is not None
        self.assertEqual((r.time, r.kind, r.client, r.server, r.outcome, r.status, r.pid),
                         ("Nov 22 07:28:41", "TGS_REQ", "alice@R.TEST", "zmq/localhost@R.TEST",
                          "ISSUE", "ISSUE", 9266))
        self.assertEqual(r.requested_etypes,
                         ("aes256-cts-hmac-sha384-192", "aes256-cts-hmac-sha1-96"))
        self.assertEqual((r.ticket_etype, r.session_etype, r.address),
                         ("aes256-cts-hmac-sha384-192", "aes256-cts-hmac-sha384-192", "127.0.0.1"))
        self.assertFalse(r.line.endswith("\n"))

    def test_errors(self) -> None:
        r = krbrealm.parse_kdc_log_line(
            self.PREFIX + "TGS_REQ (1 etypes {aes256-cts-hmac-sha1-96(18)}) 127.0.0.1: "
            "LOOKING_UP_SERVER: authtime 0, etypes {rep=UNSUPPORTED:(0)} alice@R.TEST for "
            "xmpp/a.example.com/example.com@R.TEST, Server not found in Kerberos database")
        assert r is not None
        self.assertEqual((r.server, r.outcome, r.status, r.ticket_etype),
                         ("xmpp/a.example.com/example.com@R.TEST",
                          "Server not found in Kerberos database", "LOOKING_UP_SERVER", ""))
        r = krbrealm.parse_kdc_log_line(
            self.PREFIX + "AS_REQ (1 etypes {aes256-cts-hmac-sha1-96(18)}) 127.0.0.1: "
            "CLIENT_NOT_FOUND: ghost@R.TEST for krbtgt/R.TEST@R.TEST, "
            "Client not found in Kerberos database")
        assert r is not None
        self.assertEqual((r.kind, r.client, r.server, r.outcome),
                         ("AS_REQ", "ghost@R.TEST", "krbtgt/R.TEST@R.TEST",
                          "Client not found in Kerberos database"))

    def test_other_lines(self) -> None:
        self.assertIsNone(krbrealm.parse_kdc_log_line(self.PREFIX + "commencing operation"))
        self.assertIsNone(krbrealm.parse_kdc_log_line(self.PREFIX + "closing down fd 11"))
        odd = krbrealm.parse_kdc_log_line(self.PREFIX + "AS_REQ (something new) 127.0.0.1")
        assert odd is not None
        self.assertEqual((odd.kind, odd.outcome, odd.time), ("AS_REQ", "UNPARSED",
                                                            "Nov 22 07:28:41"))


class Errors(TempDirCase):
    """Failures are RealmErrors that name what failed; nothing is left behind."""

    def test_missing_binary_names_binary_and_package(self) -> None:
        with self.assertRaises(krbrealm.RealmError) as ctx:
            krbrealm.find_binary("krb5kdc-not-installed")
        self.assertIn("krb5kdc-not-installed", str(ctx.exception))
        # A process whose PATH and sbin list hold no krb5 binary at all.
        code = (f"import sys; sys.path.insert(0, {os.path.dirname(CLI)!r}); import krbrealm\n"
                "krbrealm.SBIN_DIRS = ()\n"
                "try:\n"
                f"    krbrealm.Realm({str(self.tmp / 'r')!r}).start()\n"
                "except krbrealm.RealmError as e:\n"
                "    print(e)\n")
        result = run([sys.executable, "-c", code], extra={"PATH": str(self.tmp)})
        self.assertRegex(result.stdout, r"kdb5_util not found.*krb5-kdc")
        self.assertFalse((self.tmp / "r").exists())

    def test_non_empty_directory_is_refused(self) -> None:
        (self.tmp / "r").mkdir()
        (self.tmp / "r" / "keep").write_text("x")
        with self.assertRaisesRegex(krbrealm.RealmError, "not an empty directory"):
            krbrealm.Realm(self.tmp / "r").start()
        self.assertTrue((self.tmp / "r" / "keep").exists())

    def test_attach_without_state(self) -> None:
        with self.assertRaisesRegex(krbrealm.RealmError, "realm.json"):
            krbrealm.Realm.attach(self.tmp)


class Enctypes(TempDirCase):
    """Non-default enctypes end up in the tickets the KDC really issues."""

    def check_enctype(self, enctypes: list[str]) -> None:
        with krbrealm.Realm(self.tmp / "r", enctypes=enctypes,
                            principals=[USER, SERVICE]) as realm:
            track(realm)
            self.assertEqual(kinit_keytab(realm, USER).returncode, 0)
            kvno = run(["kvno", SERVICE], realm.env(client=USER))
            self.assertEqual(kvno.returncode, 0, kvno.stderr)
            tickets = klist_tickets(realm, USER)
            self.assertEqual(tickets[f"{SERVICE}@{realm.realm}"][1], [enctypes[0]] * 2)
            self.assertEqual(tickets[f"krbtgt/{realm.realm}@{realm.realm}"][1], [enctypes[0]] * 2)
            tgs = [r for r in realm.kdc_log() if r.kind == "TGS_REQ"]
            self.assertEqual((tgs[-1].ticket_etype, tgs[-1].session_etype),
                             (enctypes[0], enctypes[0]))
            self.assertIn("permitted_enctypes = " + " ".join(enctypes),
                          realm.krb5_conf.read_text())

    def test_sha384(self) -> None:
        self.check_enctype(["aes256-cts-hmac-sha384-192"])

    def test_sha384_preferred_over_sha1(self) -> None:
        self.check_enctype(["aes256-cts-hmac-sha384-192", "aes256-cts-hmac-sha1-96"])

    def test_aes128(self) -> None:
        self.check_enctype(["aes128-cts-hmac-sha1-96"])

    def test_gss_exchange_with_sha384(self) -> None:
        with krbrealm.Realm(self.tmp / "r", enctypes=["aes256-cts-hmac-sha384-192"],
                            principals=[USER, SERVICE]) as realm:
            track(realm)
            result = gss_exchange(realm)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn(f"accepted {USER}@{realm.realm}", result.stdout)


GSS_EXCHANGE = """
import gssapi
target = gssapi.Name("zmq@localhost", gssapi.NameType.hostbased_service)
initiator = gssapi.SecurityContext(name=target, usage="initiate")
acceptor = gssapi.SecurityContext(usage="accept")
acceptor.step(initiator.step())
print("accepted", acceptor.initiator_name)
"""


def gss_exchange(realm: krbrealm.Realm, extra: dict[str, str] | None = None
                 ) -> subprocess.CompletedProcess[str]:
    """alice initiates to zmq/localhost with her client keytab; the acceptor uses its keytab
    and the realm's replay cache (python3-gssapi under /usr/bin/python3)."""
    env = {**realm.env(client=USER), **realm.env(acceptor=SERVICE)}
    return run([SYSTEM_PYTHON, "-c", GSS_EXCHANGE], env, extra=extra)


class Lifetimes(TempDirCase):
    """max_life, a principal's maxlife and clockskew reach the profiles and the tickets."""

    def test_max_life_and_clockskew(self) -> None:
        with krbrealm.Realm(self.tmp / "r", principals=[USER, f"{SERVICE}:maxlife=300"],
                            max_life=600, clockskew=45) as realm:
            track(realm)
            self.assertIn("clockskew = 45", realm.krb5_conf.read_text())
            self.assertIn("max_life = 600s", realm.kdc_conf.read_text())
            self.assertEqual(kinit_keytab(realm, USER).returncode, 0)
            self.assertEqual(run(["kvno", SERVICE], realm.env(client=USER)).returncode, 0)
            tickets = klist_tickets(realm, USER)
            self.assertEqual(tickets[f"krbtgt/{realm.realm}@{realm.realm}"][0], 600)
            self.assertEqual(tickets[f"{SERVICE}@{realm.realm}"][0], 300)


class Concurrency(TempDirCase):
    """Realms started at the same moment come up on different ports and all answer."""

    def test_four_realms_at_once(self) -> None:
        count = 4
        barrier = threading.Barrier(count)
        realms: list[krbrealm.Realm | None] = [None] * count
        errors: list[BaseException] = []

        def up(i: int) -> None:
            realm = krbrealm.Realm(self.tmp / f"r{i}", principals=[USER])
            barrier.wait(WAIT)
            try:
                realms[i] = track(realm.start())
            except BaseException as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=up, args=(i,)) for i in range(count)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(WAIT)
            self.assertEqual(errors, [])
            ports = {r.kdc_port for r in realms if r}
            self.assertEqual(len(ports), count)
            for realm in realms:
                assert realm is not None
                self.assertTrue(pid_running(realm.kdc_pid))
                self.assertEqual(kinit_keytab(realm, USER).returncode, 0)
                self.assertEqual(realm.kdc_log()[-1].pid, realm.kdc_pid)
        finally:
            for realm in realms:
                if realm:
                    realm.stop()

    def test_four_processes_at_once(self) -> None:
        dirs = [str(self.tmp / f"p{i}") for i in range(4)]
        ups = [subprocess.Popen([CLI, "up", d, "--json", "--principal", USER],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for d in dirs]
        described = []
        try:
            for up in ups:
                out, err = up.communicate(timeout=WAIT)
                self.assertEqual(up.returncode, 0, err)
                described.append(json.loads(out))
                STARTED_PIDS.append(described[-1]["kdc_pid"])
            self.assertEqual(len({d["kdc_port"] for d in described}), len(dirs))
            for d in dirs:
                realm = krbrealm.Realm.attach(d)
                self.assertEqual(kinit_keytab(realm, USER).returncode, 0)
        finally:
            for up in ups:
                if up.poll() is None:
                    up.kill()
                    up.communicate(timeout=WAIT)
            for d in dirs:
                if os.path.exists(os.path.join(d, "realm.json")):
                    krbrealm.Realm.attach(d).stop()
        for d in described:
            self.assertTrue(wait_gone(d["kdc_pid"]))

    def test_port_of_another_realm_is_not_shared(self) -> None:
        # krb5kdc binds with SO_REUSEPORT: without the port lock both KDCs would listen.
        with krbrealm.Realm(self.tmp / "a", principals=[USER]) as first:
            track(first)
            second = krbrealm.Realm(self.tmp / "b", principals=[USER])
            with second.start(port=first.kdc_port):
                track(second)
                self.assertNotEqual(second.kdc_port, first.kdc_port)
                self.assertIn(f"127.0.0.1:{second.kdc_port}", second.krb5_conf.read_text())
                for realm in (first, second):
                    self.assertEqual(kinit_keytab(realm, USER).returncode, 0)
                    self.assertEqual(realm.kdc_log()[-1].pid, realm.kdc_pid)

    def test_port_shared_through_reuseport_is_retried(self) -> None:
        with socket.socket() as squatter:  # software that knows nothing of the port lock
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            port = squatter.getsockname()[1]
            realm = krbrealm.Realm(self.tmp / "r", principals=[USER])
            with realm.start(port=port):
                track(realm)
                self.assertNotEqual(realm.kdc_port, port)
                # The first KDC did bind the shared port, was seen sharing it and replaced.
                self.assertEqual(realm.kdc_log_path.read_text().count("commencing operation"), 2)
                self.assertEqual(kinit_keytab(realm, USER).returncode, 0)

    def test_bound_port_is_retried(self) -> None:
        with socket.socket() as holder:  # no SO_REUSEPORT: the KDC's bind fails
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            realm = krbrealm.Realm(self.tmp / "r", principals=[USER])
            with realm.start(port=port):
                track(realm)
                self.assertNotEqual(realm.kdc_port, port)
                self.assertIn("Address already in use", realm.kdc_log_path.read_text())
                self.assertEqual(kinit_keytab(realm, USER).returncode, 0)


class Stop(TempDirCase):
    """stop() and the with-block leave no KDC, no port and no directory."""

    def test_kadmin_failure_during_kdc_start(self) -> None:
        # kadmin.local makes the principals while the KDC starts: when it fails, start() fails
        # with its words, and the KDC that came up meanwhile is stopped (a detached one, which
        # no parent-death signal would stop) and the directory removed.
        fake = self.tmp / "bin"
        fake.mkdir()
        (fake / "kadmin.local").write_text("#!/bin/sh\ncat >/dev/null\n"
                                           "echo 'kadmin.local: planted failure' >&2\nexit 1\n")
        (fake / "kadmin.local").chmod(0o755)
        d = self.tmp / "r"
        code = (f"import sys; sys.path.insert(0, {os.path.dirname(CLI)!r}); import krbrealm\n"
                f"krbrealm.Realm({str(d)!r}, principals=[{USER!r}]).start(detached=True)\n")
        result = run([sys.executable, "-c", code],
                     extra={"PATH": f"{fake}{os.pathsep}{os.environ.get('PATH', '')}"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("kadmin.local in", result.stderr)
        self.assertIn("planted failure", result.stderr)
        self.assertFalse(d.exists())
        profile = os.fsencode(str(d / "kdc.conf"))
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"KRB5_KDC_PROFILE=" + profile in environ:
                left.append(int(pid))
        STARTED_PIDS.extend(left)
        self.assertEqual(left, [], "the KDC outlived the failed start")

    def test_stop_leaves_nothing(self) -> None:
        realm = track(krbrealm.Realm(self.tmp / "r", principals=[USER]).start())
        pid, port = realm.kdc_pid, realm.kdc_port
        realm.stop()
        realm.stop()  # idempotent
        self.assertFalse(pid_running(pid))
        self.assertFalse((self.tmp / "r").exists())
        self.assertEqual(realm.kdc_pid, 0)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # the port is free again

    def test_exception_in_with_block(self) -> None:
        seen: list[int] = []
        with self.assertRaises(ZeroDivisionError):
            with krbrealm.Realm(self.tmp / "r") as realm:
                seen.append(track(realm).kdc_pid)
                1 / 0
        self.assertFalse(pid_running(seen[0]))
        self.assertFalse((self.tmp / "r").exists())
        self.assertIs(signal.getsignal(signal.SIGTERM), signal.SIG_DFL)

    def test_stop_keep_directory(self) -> None:
        realm = track(krbrealm.Realm(self.tmp / "r", principals=[USER]).start())
        pid = realm.kdc_pid
        realm.stop(remove=False)
        self.assertFalse(pid_running(pid))
        self.assertTrue((self.tmp / "r" / "kdc.log").exists())
        self.assertEqual(json.loads((self.tmp / "r" / "realm.json").read_text())["kdc_pid"], 0)


OWNER = """
import sys, time
sys.path.insert(0, {mod!r})
import krbrealm
with krbrealm.Realm({dir!r}, principals=["alice"]) as realm:
    print("READY", realm.kdc_pid, flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
"""


class OwnerKilled(TempDirCase):
    """The KDC of a process that dies while holding a realm does not outlive it."""

    def start_owner(self) -> tuple[subprocess.Popen[str], int]:
        code = OWNER.format(mod=os.path.dirname(CLI), dir=str(self.tmp / "r"))
        owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.reap, owner)
        ready, _, _ = select.select([owner.stdout], [], [], WAIT)
        self.assertTrue(ready, "owner did not report its realm")
        assert owner.stdout is not None
        line = owner.stdout.readline().split()
        self.assertEqual(line[:1], ["READY"], owner.stderr.read() if not line else line)
        pid = int(line[1])
        STARTED_PIDS.append(pid)
        state = json.loads((self.tmp / "r" / "realm.json").read_text())
        self.assertEqual(state["kdc_pid"], pid)
        self.assertTrue(pid_running(pid))
        return owner, pid

    @staticmethod
    def reap(owner: subprocess.Popen[str]) -> None:
        if owner.poll() is None:
            owner.kill()
        owner.wait(WAIT)
        for stream in (owner.stdout, owner.stderr):
            if stream:
                stream.close()

    def test_sigterm_of_owner(self) -> None:
        owner, pid = self.start_owner()
        owner.send_signal(signal.SIGTERM)
        self.assertEqual(owner.wait(WAIT), 128 + signal.SIGTERM)
        self.assertFalse(pid_running(pid))
        self.assertFalse((self.tmp / "r").exists())

    def test_sigint_of_owner(self) -> None:
        owner, pid = self.start_owner()
        owner.send_signal(signal.SIGINT)
        self.assertNotEqual(owner.wait(WAIT), 0)
        self.assertFalse(pid_running(pid))
        self.assertFalse((self.tmp / "r").exists())

    def test_sigterm_during_stop_waits_for_the_stop(self) -> None:
        code = (f"import os, signal, sys; sys.path.insert(0, {os.path.dirname(CLI)!r})\n"
                "import krbrealm\n"
                "class TermDuringStop(krbrealm.Realm):\n"
                "    def stop(self, remove=True):\n"
                "        os.kill(os.getpid(), signal.SIGTERM)\n"
                "        super().stop(remove)\n"
                "        print('STOPPED', flush=True)\n"
                f"with TermDuringStop({str(self.tmp / 'r')!r}) as realm:\n"
                "    print('READY', realm.kdc_pid, flush=True)\n"
                "print('NOT REACHED', flush=True)\n")
        result = run([sys.executable, "-c", code])
        lines = result.stdout.split()
        self.assertEqual(lines[0], "READY", result.stderr)
        STARTED_PIDS.append(int(lines[1]))
        self.assertEqual(lines[2:], ["STOPPED"])  # the stop finished, then SystemExit
        self.assertEqual(result.returncode, 128 + signal.SIGTERM)
        self.assertFalse(pid_running(int(lines[1])))
        self.assertFalse((self.tmp / "r").exists())

    def test_sigkill_of_owner(self) -> None:
        owner, pid = self.start_owner()
        owner.kill()
        owner.wait(WAIT)
        self.assertTrue(wait_gone(pid), "KDC outlived its SIGKILLed owner")


class Cli(TempDirCase):
    """The krbrealm command: up / env / add / log --json / down, exit codes."""

    def cli(self, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        return run([CLI, *args], env)

    def test_round_trip(self) -> None:
        d = str(self.tmp / "r")
        up = self.cli("up", d, "--principal", USER, "--principal", SERVICE, "--max-life", "900",
                      "--json")
        state = json.loads((self.tmp / "r" / "realm.json").read_text()) if up.stdout else {}
        pid = state.get("kdc_pid", 0)
        if pid:
            STARTED_PIDS.append(pid)
        try:
            self.assertEqual(up.returncode, 0, up.stderr)
            described = json.loads(up.stdout)
            self.assertEqual(described["kdc_pid"], pid)
            self.assertTrue(pid_running(pid))
            self.assertEqual(os.getsid(pid), pid, "detached KDC leads its own session")
            self.assertEqual(int((self.tmp / "r" / "kdc.pid").read_text()), pid)

            exports = self.cli("env", d, "--client", USER, "--acceptor", SERVICE)
            self.assertEqual(exports.returncode, 0, exports.stderr)
            env = dict(re.findall(r"^export (\w+)=(\S+)$", exports.stdout, re.M))
            self.assertEqual(set(env), {"KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5RCACHEDIR",
                                        "KRB5_CLIENT_KTNAME", "KRB5CCNAME", "KRB5_KTNAME"})
            as_json = json.loads(self.cli("env", d, "--client", USER, "--json").stdout)
            self.assertEqual(as_json["KRB5CCNAME"], env["KRB5CCNAME"])

            added = self.cli("add", d, "--principal", "dave")
            self.assertEqual(added.returncode, 0, added.stderr)
            self.assertIn("dave@GSSCONFORM.TEST", added.stdout)
            denv = json.loads(self.cli("env", d, "--client", "dave", "--json").stdout)
            kinit = run(["kinit", "-k", "-t", denv["KRB5_CLIENT_KTNAME"], "dave"], denv)
            self.assertEqual(kinit.returncode, 0, kinit.stderr)
            self.assertEqual(run(["kvno", SERVICE], denv).returncode, 0)

            log = self.cli("log", d, "--json")
            self.assertEqual(log.returncode, 0, log.stderr)
            requests = json.loads(log.stdout)
            self.assertEqual([(r["kind"], r["server"], r["outcome"]) for r in requests[-2:]],
                             [("AS_REQ", "krbtgt/GSSCONFORM.TEST@GSSCONFORM.TEST", "ISSUE"),
                              ("TGS_REQ", f"{SERVICE}@GSSCONFORM.TEST", "ISSUE")])
            self.assertTrue(all(r["line"] for r in requests))
            self.assertEqual(self.cli("env", d, "--client", "nobody").returncode, 3)
            self.assertEqual(self.cli("add", d, "--principal", "x//y").returncode, 3)
        finally:
            down = self.cli("down", d)
        self.assertEqual(down.returncode, 0, down.stderr)
        self.assertTrue(wait_gone(pid) and not pid_running(pid))
        self.assertFalse((self.tmp / "r").exists())

    def test_exit_codes(self) -> None:
        d = str(self.tmp / "r")
        self.assertEqual(self.cli().returncode, 3)
        self.assertEqual(self.cli("frobnicate", d).returncode, 3)
        self.assertEqual(self.cli("up").returncode, 3)
        self.assertEqual(self.cli("up", d, "--max-life", "soon").returncode, 3)
        self.assertEqual(self.cli("up", d, "--enctypes", "des-cbc-crc").returncode, 3)
        bad = self.cli("up", d, "--principal", "a//b")
        self.assertEqual(bad.returncode, 3)
        self.assertIn("'a//b'", bad.stderr)
        self.assertFalse(os.path.exists(d))
        missing = self.cli("down", d)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("realm.json", missing.stderr)
        (self.tmp / "r").mkdir()
        (self.tmp / "r" / "keep").write_text("x")
        self.assertEqual(self.cli("up", d).returncode, 2)
        self.assertEqual(self.cli("log", d, "--json").returncode, 2)
        self.assertTrue((self.tmp / "r" / "keep").exists())

    def test_plain_parser_agrees_with_argparse(self) -> None:
        # The CLI reads plain command lines without argparse (not imported on the hot path):
        # what it makes of one must be what argparse makes of it, and anything else is left
        # to argparse (help, abbreviations, bad values: test_exit_codes checks those).
        plain = [
            ["up", "d"], ["up", "--json", "d"], ["up", "d", "--realm=", "--realm", "R.TEST"],
            ["up", "d", "--principal", USER, f"--principal={SERVICE}:maxlife=60",
             "--principal", "bob:password=a=b", "--domain", "x.test", "--max-life", "900",
             "--clockskew=30", "--enctypes", "aes128-cts-hmac-sha1-96", "--json"],
            ["down", "d"], ["env", "d", "--client", USER, "--acceptor=" + SERVICE, "--json"],
            ["log", "d"], ["log", "d", "--json"], ["add", "--principal", USER, "d"],
        ]
        for argv in plain:
            with self.subTest(argv=argv):
                self.assertEqual(vars(krbrealm_cli._parse_plain(argv)),
                                 vars(krbrealm_cli._parse_argparse(argv)))
        left = [[], ["up"], ["frobnicate", "d"], ["up", "d", "--prin", USER], ["up", "d", "-h"],
                ["up", "d", "--max-life", "0"], ["up", "d", "--max-life", "-5"],
                ["up", "d", "--json=1"], ["up", "d", "--", "x"], ["up", "d", "e"],
                ["up", "d", "--realm"], ["env", "d", "--client", "-x"], ["add", "d"],
                ["down", "-", "d"]]
        for argv in left:
            with self.subTest(argv=argv):
                self.assertIsNone(krbrealm_cli._parse_plain(argv))

    def test_down_does_not_signal_a_foreign_pid(self) -> None:
        d = self.tmp / "r"
        up = self.cli("up", str(d), "--json")
        self.assertEqual(up.returncode, 0, up.stderr)
        pid = json.loads(up.stdout)["kdc_pid"]
        STARTED_PIDS.append(pid)
        sleeper = subprocess.Popen(["sleep", "60"])
        try:
            state = json.loads((d / "realm.json").read_text())
            state["kdc_pid"] = sleeper.pid  # as if the KDC died and its pid was reused
            (d / "realm.json").write_text(json.dumps(state))
            self.assertEqual(self.cli("down", str(d)).returncode, 0)
            self.assertIsNone(sleeper.poll(), "down signalled a process that is not its KDC")
        finally:
            sleeper.kill()
            sleeper.wait(WAIT)
            os.kill(pid, signal.SIGTERM)  # verified ours above: started by this test's `up`
            self.assertTrue(wait_gone(pid))


class NothingOutside(TempDirCase):
    """A realm and its clients write nothing outside DIR (HOME, TMPDIR, /var/tmp)."""

    def test_home_tmpdir_and_var_tmp_untouched(self) -> None:
        home, tmpdir = self.tmp / "home", self.tmp / "tmpdir"
        home.mkdir()
        tmpdir.mkdir()
        outside = {"HOME": str(home), "TMPDIR": str(tmpdir)}
        var_rcache = Path(f"/var/tmp/krb5_{os.geteuid()}.rcache2")
        before = var_rcache.stat().st_mtime_ns if var_rcache.exists() else None
        code = (f"import sys; sys.path.insert(0, {os.path.dirname(CLI)!r}); import krbrealm\n"
                f"r = krbrealm.Realm({str(self.tmp / 'r')!r}, principals={[USER, SERVICE]!r})\n"
                "r.start(detached=True); print(r.kdc_pid, flush=True)\n")
        started = run([sys.executable, "-c", code], extra=outside)
        self.assertEqual(started.returncode, 0, started.stderr)
        # A detached KDC outlives the process that started it: stop it through attach.
        realm = krbrealm.Realm.attach(self.tmp / "r")
        STARTED_PIDS.append(realm.kdc_pid)
        try:
            result = gss_exchange(realm, extra=outside)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("accepted alice@", result.stdout)
            self.assertEqual(run(["kvno", SERVICE], realm.env(client=USER),
                                 extra=outside).returncode, 0)
            rcaches = list((realm.rcache_dir).iterdir())
            self.assertEqual([p.name for p in rcaches], [var_rcache.name])
        finally:
            realm.stop()
        self.assertEqual(list(home.iterdir()), [])
        self.assertEqual(list(tmpdir.iterdir()), [])
        after = var_rcache.stat().st_mtime_ns if var_rcache.exists() else None
        self.assertEqual(before, after, f"{var_rcache} was written")


class ZzNoLeftovers(unittest.TestCase):
    """Runs last (classes load in name order): no KDC any test started is still running."""

    def test_no_kdc_left(self) -> None:
        self.assertTrue(STARTED_PIDS)
        left = [pid for pid in STARTED_PIDS if pid_running(pid)]
        for pid in left:  # stop them anyway so a failure does not leak
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"/usr/sbin/krb5kdc"):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.assertEqual(left, [])


if __name__ == "__main__":
    taptest.main()
