"""Fault injection for reliability tests: the failures a client meets on the internet.

A `Fault` applies to the next `times` matching API requests after skipping `after` of them.
Kinds:

- "error": answer `status` (default 500) with a BILL error body (`code`, default BDC_1001)
  without handling the request;
- "bdc": answer BILL error `code` with `status` (default: the emulator's status for it);
- "reset": close the connection without any response, before handling;
- "reset_after": handle the request (effects applied), then close without responding;
- "truncate": handle, send the full Content-Length but half the body, then close;
- "malformed": answer 200 with a body that is not JSON, without handling;
- "delay": sleep `seconds`, then handle (for client read timeouts);
- "empty_page": a list answers `{"results": [], "nextPage": <same offset>}`;
- "repeat_cursor": a list is answered normally but `nextPage` repeats the page token it got.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

KINDS = frozenset(
    {
        "error",
        "bdc",
        "reset",
        "reset_after",
        "truncate",
        "malformed",
        "delay",
        "empty_page",
        "repeat_cursor",
    }
)
#: Kinds that only make sense for list requests (they match nothing else).
LIST_KINDS = frozenset({"empty_page", "repeat_cursor"})


@dataclass
class Fault:
    kind: str
    path_prefix: str = "/v3/"
    method: str | None = None
    times: int = 1
    after: int = 0
    status: int | None = None
    code: str | None = None
    seconds: float = 0.0
    #: Matching requests seen so far (skipped ones included) and faults fired.
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            msg = f"unknown fault kind {self.kind!r}; known: {', '.join(sorted(KINDS))}"
            raise ValueError(msg)
        if self.kind == "bdc" and not self.code:
            msg = 'a "bdc" fault needs a code, e.g. Fault("bdc", code="BDC_1322")'
            raise ValueError(msg)

    def matches(self, method: str, path: str, is_list: bool) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.kind in LIST_KINDS and not is_list:
            return False
        return path.startswith(self.path_prefix)

    @property
    def exhausted(self) -> bool:
        return self.fired >= self.times


class FaultPlan:
    """The faults added to an emulator; thread-safe. Each request fires at most one fault."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """Faults that have not fired all their `times` yet."""
        with self._lock:
            return [fault for fault in self._faults if not fault.exhausted]

    def take(self, method: str, path: str, *, is_list: bool) -> Fault | None:
        """The fault this request triggers, if any (counting it as seen by every match)."""
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(method, path, is_list):
                    continue
                fault.seen += 1
                if chosen is None and fault.seen > fault.after:
                    fault.fired += 1
                    chosen = fault
        return chosen
