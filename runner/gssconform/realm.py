"""The throwaway Kerberos realm of a run (one per run, shared by its workers).

Wraps realm-setup/krbrealm.py: every principal the selected cases name is created in one batch
at start; realm failures become HarnessError (verdict ERROR, exit 2), never a candidate verdict.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading

from .errors import HarnessError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REALM_SETUP = os.path.join(REPO, "realm-setup")


def krbrealm_module():
    """realm-setup/krbrealm.py as a module (HarnessError when it cannot be imported); the
    gssconform launcher and `make test` put realm-setup/ on the import path."""
    try:
        import krbrealm  # noqa: PLC0415 (lives outside the package, found at run time)
    except ImportError as err:
        raise HarnessError(f"cannot import realm-setup/krbrealm.py: {err} (is realm-setup/ on "
                           "PYTHONPATH?)") from None
    return krbrealm


class RunRealm:
    """A realm for one run: started on demand, stopped and removed by close()."""

    def __init__(self, principals: list[str], enctypes: tuple[str, ...] | None = None) -> None:
        self.specs = principals
        self.enctypes = enctypes
        self.realm = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._tmp: str | None = None

    def start(self) -> None:
        """Create the realm with all principals; on failure remember the error for every case."""
        with self._lock:
            if self.realm is not None or self.error is not None:
                return
            try:
                krbrealm = krbrealm_module()
                self._tmp = tempfile.mkdtemp(prefix="gssconform-realm-")
                kwargs = {"principals": self.specs}
                if self.enctypes:
                    kwargs["enctypes"] = self.enctypes
                realm = krbrealm.Realm(os.path.join(self._tmp, "realm"), **kwargs)
                realm.start()
                self.realm = realm
            except HarnessError as err:
                self.error = str(err)
            except Exception as err:  # RealmError, PrincipalSpecError, OSError
                self.error = f"realm failure: {err}"

    def get(self) -> "krbrealm.Realm":  # noqa: F821 (krbrealm is imported at run time)
        """The running krbrealm.Realm; HarnessError if it could not be started."""
        if self.realm is None:
            raise HarnessError(self.error or "realm not started")
        return self.realm

    def describe(self) -> dict:
        """Realm facts for the run metadata."""
        if self.realm is None:
            return {"started": False, "error": self.error}
        return {"started": True, "realm": self.realm.realm, "enctypes": list(self.realm.enctypes),
                "directory": str(self.realm.directory),
                "kdc_port": self.realm.kdc_port, "krb5": _krb5_version()}

    def close(self) -> None:
        """Stop the KDC and remove the realm directory."""
        with self._lock:
            if self.realm is not None:
                try:
                    self.realm.stop()
                except Exception as err:  # noqa: BLE001 (stopping must not mask the run)
                    print(f"gssconform: warning: stopping the realm: {err}", file=sys.stderr)
                self.realm = None
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None


def _krb5_version() -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libkrb5-3"],
                             capture_output=True, text=True, timeout=10, check=False)
        return f"MIT krb5 {out.stdout.strip()}" if out.stdout.strip() else "MIT krb5"
    except (OSError, subprocess.TimeoutExpired):
        return "MIT krb5"


def cli(argv: list[str]) -> int:
    """`gssconform realm up|down|env|log|add ...`: hand over to realm-setup/krbrealm."""
    tool = os.path.join(REALM_SETUP, "krbrealm")
    if not os.path.exists(tool):
        print("gssconform: realm-setup/krbrealm is missing", file=sys.stderr)
        return 2
    if len(argv) >= 1 and argv[0] in ("up", "down", "env", "log", "add") and \
            (len(argv) == 1 or argv[1].startswith("-")):
        argv = [argv[0], os.path.join(REPO, "realm")] + argv[1:]
    return subprocess.call([sys.executable, tool] + argv)
