"""First pages fetched ahead of time, so BILL's three request slots stay busy between streams.

The SDK syncs streams one after another; each small stream costs a full round trip during
which at most one request is in flight. The tap therefore asks, when the sync starts, for the
first page of every selected stream in the background (through the same client: same gate,
session and retries). When a stream later sends exactly that request, the answer is already
there. A prefetched page is used once; an error it met is raised when it is used.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests


def request_key(method: str, url: str, params: Mapping[str, Any] | None = None) -> str:
    """Method, path and sorted query: the same request however its URL was encoded."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(str(k), str(v)) for k, v in (params or {}).items()]
    return f"{method.upper()} {parts.path}?{urlencode(sorted(query))}"


class Prefetcher:
    """Background first-page requests, handed over once to the identical live request."""

    def __init__(self, workers: int) -> None:
        self._lock = threading.Lock()
        #: Pending answers by path, then by request key: most requests of a sync are not
        #: prefetched, and their path tells so without building their key.
        self._pending: dict[str, dict[str, Future[requests.Response]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bill-prefetch")
        self._local = threading.local()

    def add(self, session: requests.Session, url: str, params: Mapping[str, Any]) -> None:
        key = request_key("GET", url, params)
        with self._lock:
            pending = self._pending.setdefault(urlsplit(url).path, {})
            if key not in pending:
                pending[key] = self._pool.submit(self._get, session, url, dict(params))

    def _get(self, session: requests.Session, url: str, params: dict[str, Any]) -> Any:
        self._local.prefetching = True  # this thread's own request must not wait for itself
        stopped = getattr(session, "hourly_limit_reached", None)
        if stopped is not None:
            raise stopped  # BILL's hourly limit: send nothing more this run
        return session.get(url, params=params)

    def take(self, request: requests.PreparedRequest) -> requests.Response | None:
        """The prefetched answer to this exact request (waiting for it), or None."""
        if request.method != "GET" or getattr(self._local, "prefetching", False):
            return None
        pending = self._pending.get(urlsplit(request.url or "").path)
        if not pending:
            return None
        key = request_key("GET", request.url or "")
        with self._lock:
            future = pending.pop(key, None)
        return None if future is None else future.result()

    def close(self) -> None:
        with self._lock:
            pending = [f for by_key in self._pending.values() for f in by_key.values()]
            self._pending.clear()
        for future in pending:
            future.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
