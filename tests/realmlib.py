"""Helpers of the tests that need a throwaway Kerberos realm (realm-setup/krbrealm.py):

    with TempRealm("my-t.", principals=("alice", "zmq/localhost")) as fx:
        env = {**kerberos_free_environ(), **fx.realm.env(client="alice")}

or, one realm for a whole TestCase class::

    class MyTests(realmlib.SharedRealmCase):
        realm_prefix = "my-t."
        realm_options = {"principals": ("alice", "zmq/localhost")}

The realm's KDC is stopped and its temporary directory removed on the way out, also when
starting it fails.
"""

from __future__ import annotations

import os
import tempfile
import unittest
from typing import Any, ClassVar

import krbrealm


def kerberos_free_environ() -> dict[str, str]:
    """A copy of os.environ without any KRB5* variable (the realm's own are added on top)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}


class TempRealm:
    """A krbrealm.Realm in directory "realm" of its own temporary directory (prefix PREFIX);
    a context manager that starts it and stops and removes it. OPTIONS go to krbrealm.Realm."""

    def __init__(self, prefix: str, **options: Any) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.realm = krbrealm.Realm(os.path.join(self.tmp.name, "realm"), **options)

    def __enter__(self) -> "TempRealm":
        try:
            self.realm.start()
        except BaseException:
            self.tmp.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.realm.stop()
        finally:
            self.tmp.cleanup()

    def path(self, name: str) -> str:
        """A file name inside the temporary directory (next to the realm's)."""
        return os.path.join(self.tmp.name, name)


class SharedRealmCase(unittest.TestCase):
    """A TestCase whose tests share one realm, started before the first test of the class and
    stopped after the last: set realm_prefix and realm_options (keyword arguments of
    krbrealm.Realm) in the subclass; the tests use self.realm and self.tmp."""

    realm_prefix: ClassVar[str] = "gssconform-realm-"
    realm_options: ClassVar[dict[str, Any]] = {}
    realm_fixture: ClassVar[TempRealm]
    realm: ClassVar[krbrealm.Realm]
    tmp: ClassVar[tempfile.TemporaryDirectory[str]]

    @classmethod
    def setUpClass(cls) -> None:
        cls.realm_fixture = TempRealm(cls.realm_prefix, **cls.realm_options).__enter__()
        cls.realm = cls.realm_fixture.realm
        cls.tmp = cls.realm_fixture.tmp

    @classmethod
    def tearDownClass(cls) -> None:
        cls.realm_fixture.__exit__(None, None, None)
