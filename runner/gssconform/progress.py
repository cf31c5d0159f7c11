"""Progress of a run on stderr: one live line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time


class Progress:
    """Counts finished cases and failures; prints as results arrive (thread-safe)."""

    def __init__(self, total: int, stream=None, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.failures = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self.start = time.monotonic()
        self._lock = threading.Lock()

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self.start)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def finished(self, result: dict, failing: bool) -> None:
        """Record one result and show it."""
        with self._lock:
            self.done += 1
            self.failures += failing
            if self.quiet:
                return
            label = f"{result['case']} [{result['candidate']} {result['role']}]"
            if self.tty:
                line = (f"\r\033[K[{self.done}/{self.total}] failures {self.failures} "
                        f"{self._elapsed()}  {result['verdict']:<13} {label}"[:200])
                if failing:
                    line += f"\n\033[K  {result['verdict']}: {label}: {result['reason']}"[:400] + "\n"
                self.stream.write(line)
            else:
                self.stream.write(f"[{self.done}/{self.total}] {result['verdict']:<13} {label}"
                                  f"{': ' + result['reason'] if failing else ''}\n")
            self.stream.flush()

    def close(self) -> None:
        """End the live line."""
        if self.tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
