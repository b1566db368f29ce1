"""BILL's rate limits: requests and logins per developer key per clock hour, and requests in
flight per developer key per organization.

https://developer.bill.com/docs/api-rate-limits: 20,000 requests per devKey per hour
(BDC_1144, refused until the next hour starts), 200 logins per devKey per hour, 3 concurrent
requests per devKey per organization (BDC_1322, refused until one completes). BILL documents
no HTTP status for either code: the emulator answers `EmulatorConfig.rate_limit_status`
(429 by default), and clients should decide on the code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bill_emulator.clock import Clock
from bill_emulator.errors import BillError


class HourlyCounter:
    """Counts events per key in the current clock hour."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def count(self, key: str) -> int:
        """Count one event; returns the number of events this hour, this one included."""
        hour = self._clock.hour()
        with self._lock:
            counted_hour, count = self._counts.get(key, (hour, 0))
            count = count + 1 if counted_hour == hour else 1
            self._counts[key] = (hour, count)
            return count


class Limits:
    def __init__(
        self,
        clock: Clock,
        *,
        max_in_flight: int,
        hourly_request_limit: int,
        hourly_login_limit: int,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.hourly_request_limit = hourly_request_limit
        self.hourly_login_limit = hourly_login_limit
        self._requests = HourlyCounter(clock)
        self._logins = HourlyCounter(clock)
        self._in_flight: dict[tuple[str, str], int] = {}
        self._peak: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def count_request(self, dev_key: str) -> None:
        """BDC_1144 once the devKey made more than the hourly limit of requests this hour."""
        if self._requests.count(dev_key) > self.hourly_request_limit:
            raise BillError("BDC_1144", str(self.hourly_request_limit))

    def count_login(self, dev_key: str) -> None:
        # Same code as the request limit (assumption: BILL names no separate code), so a
        # client waits for the next hour either way.
        if self._logins.count(dev_key) > self.hourly_login_limit:
            raise BillError(
                "BDC_1144",
                message=f"Max number of allowed logins per hour reached: "
                f"{self.hourly_login_limit}.",
            )

    @contextmanager
    def admit(self, dev_key: str, organization_id: str) -> Iterator[None]:
        """Hold one of the (devKey, organization)'s in-flight slots, or BDC_1322 at once."""
        key = (dev_key, organization_id)
        with self._lock:
            current = self._in_flight.get(key, 0)
            if current >= self.max_in_flight:
                raise BillError("BDC_1322")
            self._in_flight[key] = current + 1
            self._peak[key] = max(self._peak.get(key, 0), current + 1)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[key] -= 1

    @property
    def peak_in_flight(self) -> int:
        with self._lock:
            return max(self._peak.values(), default=0)

    def reset_peak(self) -> None:
        with self._lock:
            self._peak.clear()
