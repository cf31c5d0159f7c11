"""Progress of a run on stderr: one live line on a terminal (redrawn every second, failures
printed above it), plain lines otherwise."""

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
        self.last = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.tty and not quiet:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self.start)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def _line(self) -> str:
        return (f"\r\033[K[{self.done}/{self.total}] failures {self.failures} "
                f"{self._elapsed()}  {self.last}")[:200]

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self.stream.write(self._line())
                self.stream.flush()

    def finished(self, result: dict, failing: bool) -> None:
        """Record one result and show it."""
        with self._lock:
            self.done += 1
            self.failures += failing
            if self.quiet:
                return
            label = f"{result['case']} [{result['candidate']} {result['role']}]"
            if self.tty:
                if failing:
                    self.stream.write(f"\r\033[K{result['verdict']}: {label}: "
                                      f"{result['reason']}"[:400] + "\n")
                self.last = f"{result['verdict']:<13} {label}"
                self.stream.write(self._line())
            else:
                self.stream.write(f"[{self.done}/{self.total}] {result['verdict']:<13} {label}"
                                  f"{': ' + result['reason'] if failing else ''}\n")
            self.stream.flush()

    def close(self) -> None:
        """Stop redrawing and end the live line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.tty and not self.quiet:
            with self._lock:
                self.stream.write("\n")
                self.stream.flush()
