"""The emulator's clock: real time plus an offset that tests move forward without sleeping."""

from __future__ import annotations

import threading
import time


class Clock:
    """Emulator time. Session expiry, hourly rate-limit windows and `updatedTime` read it.

    `advance(seconds)` jumps forward (a session idle for 35 minutes expires after
    `advance(2101)`; the next rate-limit hour starts after `advance(3600)`).
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            msg = "the emulator clock only moves forward"
            raise ValueError(msg)
        with self._lock:
            self._offset += seconds

    def time(self) -> float:
        """Seconds since the epoch (wall clock, for timestamps and hour windows)."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (for idle timeouts)."""
        return time.monotonic() + self._offset

    def now_ms(self) -> int:
        return int(self.time() * 1000)

    def hour(self) -> int:
        """Index of the current clock hour; BILL's hourly limits reset when it changes."""
        return int(self.time() // 3600)
