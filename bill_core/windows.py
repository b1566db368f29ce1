"""Read one large updatedTime-sorted list with several requests in flight, in order.

A keyset chain is sequential (each request starts where the last page ended), so one stream
alone would use one of BILL's three concurrent requests. This reader splits the stream's
updatedTime range into consecutive windows `[a, b)`, pages each window by keyset in its own
worker thread, and yields the windows strictly in order, so records stay sorted, the SDK's
bookmark stays resumable, and nothing is lost or repeated at window edges (each window is
`gte a` and `lt b`). Memory is bounded: workers stay at most `ahead` windows in front of
the consumer and each window buffers at most `buffer_pages` pages.

Windows come from the first page's density (records per second of updatedTime): about
`window_pages` pages each, the last one open-ended so records changed during the sync are
still read.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bill_core.paging import (
    PAGE_SIZE,
    ListCursor,
    ListPosition,
    format_time,
    parse_time,
    quoted,
)

_DONE = object()


@dataclass
class Window:
    index: int
    since: str
    until: str | None
    seen: frozenset[str] = frozenset()
    pages: queue.Queue[Any] = field(default_factory=queue.Queue)


class WindowedReader:
    """Yields every record of `path` from `since` on, sorted by updatedTime."""

    def __init__(
        self,
        client: Any,
        path: str,
        *,
        base_filters: Sequence[str] = (),
        workers: int = 3,
        window_pages: int = 20,
        buffer_pages: int = 40,
        now: dt.datetime | None = None,
    ) -> None:
        self.client = client
        self.path = path
        self.base_filters = list(base_filters)
        self.workers = max(1, workers)
        self.window_pages = window_pages
        self.buffer_pages = buffer_pages
        self.now = now or dt.datetime.now(dt.timezone.utc)
        self.requests = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def read(self, since: str | None) -> Iterator[dict[str, Any]]:
        cursor = ListCursor(keyset=True, base_filters=self.base_filters)
        position = ListPosition(since=since)
        body = self._call(cursor.params(position))
        records = body.get("results") or []
        yield from cursor.fresh(position, records)
        after = cursor.next_position(position, records, body.get("nextPage") or None)
        if after is None:
            return
        if after.page is not None or after.since is None:
            # A page full of one timestamp: no density to plan windows from.
            yield from self._sequential(cursor, after)
            return
        windows = self._plan(records, after)
        yield from self._parallel(windows)

    # -- planning ------------------------------------------------------------------------

    def _plan(self, first_page: Sequence[dict[str, Any]], after: ListPosition) -> list[Window]:
        start = parse_time(str(after.since))
        first = parse_time(str(first_page[0]["updatedTime"]))
        seconds = max((start - first).total_seconds(), 0.001)
        density = len(first_page) / seconds  # records per second of updatedTime
        remaining = max((self.now - start).total_seconds(), 0.0)
        pages = density * remaining / PAGE_SIZE
        # A multiple of the workers (so the last round keeps them all busy) of about
        # window_pages pages each (each window ends with one partial page, so smaller
        # windows cost requests); lists of a few pages stay sequential.
        rounds = max(1, round(pages / (self.workers * self.window_pages)))
        count = 1 if pages < 2 * self.workers else min(self.workers * rounds, 10_000)
        if count == 1:
            return [Window(0, str(after.since), None, after.seen_at_since)]
        span = remaining / count
        bounds = [str(after.since)] + [
            format_time(start + dt.timedelta(seconds=span * i)) for i in range(1, count)
        ]
        return [
            Window(
                index,
                bound,
                bounds[index + 1] if index + 1 < count else None,
                after.seen_at_since if index == 0 else frozenset(),
            )
            for index, bound in enumerate(bounds)
        ]

    # -- fetching ------------------------------------------------------------------------

    def _parallel(self, windows: list[Window]) -> Iterator[dict[str, Any]]:
        for window in windows:
            window.pages = queue.Queue(maxsize=self.buffer_pages)
        consumed = threading.Semaphore(self.workers * 2)  # windows allowed ahead of the reader
        next_window = iter(windows)

        def work() -> None:
            while not self._stop.is_set():
                with self._lock:
                    window = next(next_window, None)
                if window is None:
                    return
                consumed.acquire()
                self._fetch(window)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="bill-window") as pool:
            futures = [pool.submit(work) for _ in range(self.workers)]
            try:
                for window in windows:
                    while True:
                        item = window.pages.get()
                        if item is _DONE:
                            break
                        if isinstance(item, BaseException):
                            raise item
                        yield from item
                    consumed.release()
            finally:
                self._stop.set()
                for window in windows:  # unblock workers waiting on a full buffer
                    while not window.pages.empty():
                        window.pages.get_nowait()
                consumed.release(self.workers * 2)
                for future in futures:
                    future.result()

    def _fetch(self, window: Window) -> None:
        filters = list(self.base_filters)
        if window.until is not None:
            filters.append(f"updatedTime:lt:{quoted(window.until)}")
        cursor = ListCursor(keyset=True, base_filters=filters)
        position: ListPosition | None = ListPosition(window.since, window.seen)
        try:
            while position is not None and not self._stop.is_set():
                body = self._call(cursor.params(position))
                records = body.get("results") or []
                fresh = cursor.fresh(position, records)
                if fresh:
                    self._put(window, fresh)
                position = cursor.next_position(position, records, body.get("nextPage") or None)
            self._put(window, _DONE)
        except Exception as error:  # handed to the reader, raised in order
            self._put(window, error)

    def _put(self, window: Window, item: Any) -> None:
        """Wait for room in the window's buffer (the reader frees it), unless stopping."""
        while not self._stop.is_set():
            try:
                window.pages.put(item, timeout=0.1)
            except queue.Full:
                continue
            return

    def _sequential(self, cursor: ListCursor, position: ListPosition | None) -> Iterator[Any]:
        while position is not None:
            body = self._call(cursor.params(position))
            records = body.get("results") or []
            yield from cursor.fresh(position, records)
            position = cursor.next_position(position, records, body.get("nextPage") or None)

    def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests += 1
        return self.client.call("GET", self.path, params=params) or {}
