"""Errors of the runner and the exit codes they map to (docs/ci.md: exit status)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_HARNESS = 2
EXIT_INPUT = 3
EXIT_NO_CASE = 4


class InputError(Exception):
    """A user file (scenario, profile, expectation, catalogue) or a command line is invalid.

    The message names the file, the line and the key, as `file:line: key: problem`.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = message
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        keypart = f"{key}: " if key else ""
        super().__init__(f"{where}{keypart}{message}")


class HarnessError(Exception):
    """The harness or the realm failed (never the candidate's fault): verdict ERROR, exit 2."""
