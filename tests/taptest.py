"""Run the unittest cases of a test file and report them as TAP for prove.

A test file ends with::

    if __name__ == "__main__":
        taptest.main()

Every test method is one TAP point: "ok N - Class.method", "not ok" with the traceback as
"# " lines, or "ok N # skip reason". The exit status is 0 only when nothing failed.
"""

from __future__ import annotations

import os
import sys
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_dir() -> str:
    """The build directory of the peer (make passes it; default: build/)."""
    return os.environ.get("GSSCONFORM_BUILD") or os.path.join(REPO, "build")


def program(*parts: str) -> str:
    """The path of a program of the build (e.g. "peer", "tests", "util", "gss-roundtrip");
    AssertionError naming it and the make target when it was not built (plain `make` builds
    gsspeer and the shims, not the test helpers)."""
    path = os.path.join(build_dir(), *parts)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is not built: run `make test` (or `make check`)")
    return path


class _TapResult(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.number = 0
        self.failed = 0
        self.failed_ids: set[str] = set()

    def _emit(self, test: unittest.TestCase, status: str, detail: str = "") -> None:
        self.number += 1
        name = f"{type(test).__name__}.{test._testMethodName}"
        print(f"{status} {self.number} - {name}{detail}", flush=True)

    def addSuccess(self, test):  # noqa: N802 (unittest API)
        self._emit(test, "ok")

    def _fail(self, test, err) -> None:
        self.failed += 1
        self._emit(test, "not ok")
        for line in self._exc_info_to_string(err, test).rstrip().splitlines():
            print(f"# {line}", flush=True)

    def addFailure(self, test, err):  # noqa: N802
        self._fail(test, err)

    def addError(self, test, err):  # noqa: N802
        self._fail(test, err)

    def addSubTest(self, test, subtest, err):  # noqa: N802
        # A failing subtest fails its test method; successes are reported with the method.
        if err is not None:
            if test.id() not in self.failed_ids:
                self.failed_ids.add(test.id())
                self.failed += 1
                self._emit(test, "not ok")
            print(f"# subtest {subtest._subDescription()} failed:", flush=True)
            for line in self._exc_info_to_string(err, test).rstrip().splitlines():
                print(f"# {line}", flush=True)

    def addSkip(self, test, reason):  # noqa: N802
        self._emit(test, "ok", f" # skip {reason}")

    def addExpectedFailure(self, test, err):  # noqa: N802
        # TAP: a failing TODO point is "not ok ... # TODO"; prove counts it as expected.
        self._emit(test, "not ok", " # TODO expected failure")

    def addUnexpectedSuccess(self, test):  # noqa: N802
        self.failed += 1
        self._emit(test, "not ok", " # unexpected success")


def main(module: str = "__main__") -> None:
    """Load every TestCase of the module, print the TAP plan and results, exit."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module])
    print(f"1..{suite.countTestCases()}", flush=True)
    result = _TapResult()
    suite.run(result)
    sys.exit(1 if result.failed else 0)
