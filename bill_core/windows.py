"""Read one large updatedTime-sorted list with several requests in flight, in order.

A keyset chain is sequential (each request starts where the last page ended), so one stream
alone would use one of BILL's three concurrent requests. This reader splits the stream's
updatedTime range into consecutive windows `[a, b)`, pages each window by keyset in its own
worker thread, and yields the windows strictly in order, so records stay sorted, the SDK's
bookmark stays resumable, and nothing is lost or repeated at window edges (each window is
`gte a` and `lt b`).

Windows come from the first page's density (records per second of updatedTime): about
`window_pages` pages each, the last one open-ended so records changed during the sync are
still read. Data is rarely spread evenly in time, so windows end unevenly; a worker with no
window left splits the window with the most estimated pages still to read at the middle of
its remaining range (`[at, b)` becomes `[at, m)` and `[m, b)`), so the end of a stream keeps
every request slot busy instead of waiting on one long window. Each split costs one partial
page. A page already in flight when its window shrinks is cut at the new end.

Memory is bounded by the prefetch depth, not the list: at most `2 x workers` windows are
started and not yet read, each buffers at most `buffer_pages` pages, and a buffered page is
kept as its JSON text (RawPage, about 230 KB for 100 bills). `read_rows` yields the records
as that text (RawRow; the tap writes most of them out as they are); `read` decodes each.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bill_core.client import decode_json
from bill_core.paging import (
    PAGE_SIZE,
    ListCursor,
    ListPosition,
    RawPage,
    RawRow,
    RowFields,
    format_time,
    parse_time,
    quoted,
)

LOGGER = logging.getLogger("bill_core")
_DONE = object()
#: A window is split only when it has about this many pages left (each split costs one
#: partial page, and halves of a page or less gain nothing).
MIN_SPLIT_PAGES = 2
#: Splits per list and worker at most: the estimate of pages left assumes records evenly
#: spread in time, and a list whose records are not must not pay for many empty halves.
SPLITS_PER_WORKER = 4


@dataclass(eq=False)
class Window:
    since: str
    #: Exclusive end (None: open-ended, the last window); a split moves it down.
    until: str | None
    seen: frozenset[str] = frozenset()
    pages: queue.Queue[Any] = field(default_factory=queue.Queue)
    #: The window read after this one (windows form a list in reading order).
    next: Window | None = None
    #: updatedTime the window's worker has reached, and records it has read so far.
    at: str | None = None
    fetched: int = 0
    #: Paging by BILL's page token through a block of one timestamp: not split meanwhile.
    tokens: bool = False
    done: bool = False


class WindowedReader:
    """Yields every record of `path` from `since` on, sorted by updatedTime."""

    def __init__(
        self,
        client: Any,
        path: str,
        *,
        base_filters: Sequence[str] = (),
        workers: int = 3,
        window_pages: int = 60,
        buffer_pages: int = 90,
        now: dt.datetime | None = None,
        on_idle: Callable[[], None] | None = None,
        fields: RowFields | None = None,
    ) -> None:
        self.client = client
        #: Rows are read with these (RawRow.described tells a record has no other field).
        self.fields = fields
        self.path = path
        self.base_filters = list(base_filters)
        self.workers = max(1, workers)
        self.window_pages = window_pages
        self.buffer_pages = buffer_pages
        self.now = now or dt.datetime.now(dt.timezone.utc)
        self.requests = 0
        self.splits = 0
        #: Records per second of updatedTime on the first page (until a window knows better).
        self.density = 0.0
        self._lock = threading.Lock()
        #: Notified when a window reads a page or ends (an idle worker may split then).
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._pending: deque[Window] = deque()
        self._active: list[Window] = []
        #: Called once, from a worker, when the first request slot this list cannot use
        #: comes free (the tap starts reading the next stream then).
        self.on_idle = on_idle
        self._idled = False
        self.since: str | None = None
        self._started = False
        self._first: list[RawRow] = []
        self._rest: tuple[ListCursor, ListPosition] | None = None
        self._windows: list[Window] = []
        self._error: BaseException | None = None
        # Windows started and not yet read (with `buffer_pages` each, this bounds the memory
        # of a read); fewer leaves workers waiting while the window being read finishes.
        self._ahead = threading.Semaphore(self.workers * 2)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[None]] = []

    def start(self, since: str | None) -> None:
        """Read the first page and plan; windows start fetching now, their pages waiting in
        bounded buffers until `read`. Errors are raised by `read`, in order."""
        if self._started:
            return
        self._started, self.since = True, since
        try:
            cursor = ListCursor(keyset=True, base_filters=self.base_filters)
            position = ListPosition(since=since)
            page = self._call(cursor.params(position))
            records = page.rows(self.fields)
            self._first = cursor.fresh(position, records)
            after = cursor.next_position(position, records, page.nextPage or None)
            if after is None:
                return
            windows = []
            if after.page is None and after.since is not None:
                windows = self._plan(records, after)
            if not windows:
                # A page full of one timestamp (no density to plan from) or a short list.
                self._rest = (cursor, after)
                return
            self._launch(windows)
        except Exception as error:
            self._error = error

    def read(self, since: str | None) -> Iterator[dict[str, Any]]:
        """Every record from `since` on, in updatedTime order."""
        for row in self.read_rows(since):
            yield decode_json(row.raw)

    def read_rows(self, since: str | None) -> Iterator[RawRow]:
        """Every record from `since` on, in updatedTime order, as RawRows (JSON text)."""
        self.start(since)
        try:
            if self._error is not None:
                raise self._error
            yield from self._first
            if self._rest is not None:
                yield from self._sequential(*self._rest)
            elif self._windows:
                yield from self._consume()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (a read that ended early, or a list started and never read)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
            started = list(self._active)
        for window in started:  # unblock workers waiting on a full buffer
            while not window.pages.empty():
                window.pages.get_nowait()
        self._ahead.release(self.workers * 2)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            futures, self._futures = self._futures, []
            for future in futures:
                future.result()

    # -- planning ------------------------------------------------------------------------

    def _plan(self, first_page: Sequence[dict[str, Any]], after: ListPosition) -> list[Window]:
        start = parse_time(str(after.since))
        first = parse_time(str(first_page[0]["updatedTime"]))
        seconds = max((start - first).total_seconds(), 0.001)
        self.density = len(first_page) / seconds
        remaining = max((self.now - start).total_seconds(), 0.0)
        pages = self.density * remaining / PAGE_SIZE
        # A multiple of the workers (so the first rounds keep them all busy) of at most
        # window_pages pages each (each window ends with one partial page, so smaller
        # windows cost requests; a window larger than its buffer would stall its worker);
        # lists of a few pages stay sequential.
        rounds = max(1, math.ceil(pages / (self.workers * self.window_pages)))
        count = 1 if pages < 2 * self.workers else min(self.workers * rounds, 10_000)
        if count == 1:
            return []
        span = remaining / count
        bounds = [str(after.since)] + [
            format_time(start + dt.timedelta(seconds=span * i)) for i in range(1, count)
        ]
        windows = [
            Window(
                bound,
                bounds[index + 1] if index + 1 < count else None,
                after.seen_at_since if index == 0 else frozenset(),
            )
            for index, bound in enumerate(bounds)
        ]
        for window, following in itertools.pairwise(windows):
            window.next = following
        return windows

    def _take(self) -> Window | None:
        """The next window to fetch: the first not started, else half of the window with the
        most pages left; waits while windows in progress may still become worth splitting,
        and gives None once every window is done (or the read stops)."""
        while True:
            with self._changed:
                if self._stop.is_set():
                    return None
                window = self._pending.popleft() if self._pending else self._split()
                if window is not None:
                    self._active.append(window)
                    return window
                finished = all(w.done for w in self._active)
                tell = self.on_idle is not None and not self._idled
                self._idled = True
                if not tell:
                    if finished:
                        return None
                    self._changed.wait(timeout=0.5)
                    continue
            try:
                if self.on_idle is not None:
                    self.on_idle()
            except Exception:  # reading ahead is an optimisation; this list goes on
                LOGGER.warning("Could not start reading the next list ahead", exc_info=True)

    def _split(self) -> Window | None:
        if self.splits >= SPLITS_PER_WORKER * self.workers:
            return None
        best, best_pages = None, float(MIN_SPLIT_PAGES)
        for window in self._active:
            if window.done or window.tokens:
                continue
            pages = self._pages_left(window)
            if pages >= best_pages:
                best, best_pages = window, pages
        if best is None:
            return None
        at, end = self._remaining(best)
        middle = format_time(at + (end - at) / 2)
        if not at < parse_time(middle) < end:
            return None
        return self._split_at(best, middle)

    def _split_at(self, window: Window, middle: str) -> Window:
        """`window` ends at `middle`; the returned window reads `[middle, old end)` right
        after it. Called with the lock held."""
        half = Window(middle, window.until, pages=queue.Queue(self.buffer_pages), next=window.next)
        window.until, window.next = middle, half
        self.splits += 1
        return half

    def _remaining(self, window: Window) -> tuple[dt.datetime, dt.datetime]:
        """The updatedTime range a window has still to read (an open end: until now)."""
        at = parse_time(window.at or window.since)
        return at, parse_time(window.until) if window.until else max(self.now, at)

    def _pages_left(self, window: Window) -> float:
        at, end = self._remaining(window)
        covered = (at - parse_time(window.since)).total_seconds()
        density = window.fetched / covered if window.fetched >= PAGE_SIZE and covered > 0 else 0.0
        return (density or self.density) * max((end - at).total_seconds(), 0.0) / PAGE_SIZE

    # -- fetching ------------------------------------------------------------------------

    def _launch(self, windows: list[Window]) -> None:
        for window in windows:
            window.pages = queue.Queue(maxsize=self.buffer_pages)
        self._windows = windows
        self._pending.extend(windows)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="bill-window")
        self._futures = [self._pool.submit(self._work) for _ in range(self.workers)]

    def _work(self) -> None:
        while not self._stop.is_set():
            self._ahead.acquire()
            window = self._take()
            if window is None:
                self._ahead.release()
                return
            self._fetch(window)

    def _consume(self) -> Iterator[RawRow]:
        current: Window | None = self._windows[0]
        while current is not None:
            while True:
                item = current.pages.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield from item
            self._ahead.release()
            with self._lock:
                current = current.next

    def _fetch(self, window: Window) -> None:
        position: ListPosition | None = ListPosition(window.since, window.seen)
        try:
            while position is not None and not self._stop.is_set():
                with self._lock:
                    until = window.until
                filters = list(self.base_filters)
                if until is not None:
                    filters.append(f"updatedTime:lt:{quoted(until)}")
                cursor = ListCursor(keyset=True, base_filters=filters)
                page = self._call(cursor.params(position))
                rows = page.rows(self.fields)
                with self._lock:  # a split sees either none or all of this page
                    cut = False
                    if window.until != until and window.until is not None:
                        # Split while this page was in flight: keep what precedes the new
                        # end; if the page reached past it, the window is complete (sorted).
                        end = parse_time(window.until)
                        kept = [r for r in rows if parse_time(str(r["updatedTime"])) < end]
                        cut, rows = len(kept) < len(rows), kept
                    fresh = cursor.fresh(position, rows)
                    position = (
                        None if cut else cursor.next_position(position, rows, page.nextPage or None)
                    )
                    window.fetched += len(fresh)
                    if position is None:
                        window.done = True
                    else:
                        window.at = position.since
                        window.tokens = position.page is not None
                    self._changed.notify_all()
                if fresh:
                    self._put(window, fresh)
            self._put(window, _DONE)
        except Exception as error:  # handed to the reader, raised in order
            with self._changed:
                window.done = True
                self._changed.notify_all()
            self._put(window, error)

    def _put(self, window: Window, item: Any) -> None:
        """Wait for room in the window's buffer (the reader frees it), unless stopping."""
        while not self._stop.is_set():
            try:
                window.pages.put(item, timeout=0.1)
            except queue.Full:
                continue
            return

    def _sequential(self, cursor: ListCursor, position: ListPosition | None) -> Iterator[RawRow]:
        while position is not None:
            page = self._call(cursor.params(position))
            records = page.rows(self.fields)
            yield from cursor.fresh(position, records)
            position = cursor.next_position(position, records, page.nextPage or None)

    def _call(self, params: dict[str, Any]) -> RawPage:
        """One list request."""
        with self._lock:
            self.requests += 1
        page: RawPage = self.client.call_page(self.path, params)
        return page
