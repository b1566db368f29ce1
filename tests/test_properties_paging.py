"""Property-based tests (Hypothesis) of `bill_core.paging.ListCursor`: random shapes of
`updatedTime` (even, bunched, long blocks of one timestamp, gaps), ties, and records updated
or created while the list is being paged.

The list is played by a small in-test BILL list: `updatedTime:gte` filter, sort by
`updatedTime` (ties in a fixed order), `max`, and offset page tokens re-evaluated on every
request, the worst case for a client (an updated record moves to the end and every record
after it shifts one place down). Invariants, per listing:

- no record version (id, updatedTime) is emitted twice;
- every record is emitted in the version it holds when the listing ends (nothing lost,
  whatever changed while paging), or holds the listing's last timestamp, which the next run
  reads again (its bookmark, with `gte`);
- records come out in `updatedTime` order within what a keyset listing can promise
  (every emitted version is no older than the bookmark before it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bill_core.paging import format_time, iter_objects, parse_time

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
_SINCE = re.compile(r'updatedTime:(gte?):"([^"]+)"')


def stamp(ms: int) -> str:
    return format_time(EPOCH + dt.timedelta(milliseconds=ms))


@dataclass
class ListServer:
    """BILL's list endpoint for one object type, with changes between requests."""

    records: dict[str, int]
    #: Per request, the changes made just before it: ("update", id) or ("create", None).
    changes: list[list[tuple[str, int]]]
    page_size: int = 100
    order: list[str] = field(default_factory=list)
    requests: int = 0
    created: int = 0

    def __post_init__(self) -> None:
        self.order = list(self.records)

    def now(self, step: int) -> int:
        return max(self.records.values(), default=0) + step

    def apply(self, change: tuple[str, int]) -> None:
        kind, value = change
        if kind == "update" and self.records:
            record_id = self.order[value % len(self.order)]
            self.records[record_id] = self.now(value % 3)  # a step of 0 ties the newest
            self.order.remove(record_id)
            self.order.append(record_id)  # the newest version sorts last among its ties
        elif kind == "create":
            self.created += 1
            record_id = f"new-{self.created}"
            self.records[record_id] = self.now(value % 3)
            self.order.append(record_id)

    def call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, **_: Any
    ) -> Any:
        assert method == "GET"
        params = params or {}
        for change in self.changes[self.requests] if self.requests < len(self.changes) else []:
            self.apply(change)
        self.requests += 1
        assert self.requests < 10_000, "the listing does not end"
        # A page token carries the filters it was made with (a request that follows one sends
        # the token and `max` only), as BILL's tokens and the emulator's do.
        token = str(params.get("page") or "0|")
        offset_text, _, token_filters = token.partition("|")
        filters = str(params.get("filters", "")) if "page" not in params else token_filters
        found = _SINCE.search(filters)
        strict = bool(found) and found.group(1) == "gt"
        since = parse_time(found.group(2)) if found else None
        position = {record_id: n for n, record_id in enumerate(self.order)}

        def wanted(record_id: str) -> bool:
            if since is None:
                return True
            at = EPOCH + dt.timedelta(milliseconds=self.records[record_id])
            return at > since if strict else at >= since

        rows = sorted(filter(wanted, self.records), key=lambda r: (self.records[r], position[r]))
        offset = int(offset_text)
        size = min(int(params.get("max") or 100), self.page_size)  # pages as small as asked
        page = rows[offset : offset + size]
        answer: dict[str, Any] = {
            "results": [{"id": r, "updatedTime": stamp(self.records[r])} for r in page]
        }
        if offset + size < len(rows):
            answer["nextPage"] = f"{offset + size}|{filters}"
        return answer


#: Shapes of updatedTime: each draws a list of millisecond offsets.
even = st.integers(0, 10**9)
bunched = st.integers(0, 40)  # many ties
one_block = st.just(5_000)  # every record on one timestamp
shapes = st.one_of(
    st.lists(even, max_size=350),
    st.lists(bunched, max_size=350),
    st.lists(one_block, min_size=95, max_size=260),
    st.lists(st.one_of(bunched, one_block, even), max_size=350),
)
changes = st.lists(
    st.lists(st.tuples(st.sampled_from(["update", "create"]), st.integers(0, 10**6)), max_size=3),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(times=shapes, during=changes, page_size=st.sampled_from([1, 2, 7, 100]))
# A bulk import of 150 records in one millisecond, one of the first page updated while the
# block is read by page token: the record at the page boundary used to be lost.
@example(times=[5_000] * 150, during=[[], [], [("update", 1)]], page_size=100)
def test_keyset_listing_loses_nothing_and_emits_no_version_twice(
    times: list[int], during: list[list[tuple[str, int]]], page_size: int
) -> None:
    server = ListServer({f"r{n}": ms for n, ms in enumerate(times)}, during, page_size)
    emitted = [(r["id"], r["updatedTime"]) for r in iter_objects(server, "/v3/bills", keyset=True)]
    assert len(emitted) == len(set(emitted)), "a record version was emitted twice"
    final = {(r, stamp(ms)) for r, ms in server.records.items()}
    # A record that lands at the listing's last timestamp after that was read (created in
    # the same millisecond) is the next run's: its bookmark is that timestamp, read `gte`.
    bookmark = max((updated for _, updated in emitted), default="")
    missing = {(r, t) for r, t in final - set(emitted) if t < bookmark}
    assert not missing, f"{len(missing)} record(s) never emitted in their final version"
    bookmark = ""
    for _, updated in emitted:
        assert updated >= bookmark, "a record older than the bookmark before it"
        bookmark = updated


@settings(max_examples=100, deadline=None)
@given(times=shapes, page_size=st.sampled_from([1, 3, 100]))
def test_offset_listing_of_a_full_table_emits_each_record_once(
    times: list[int], page_size: int
) -> None:
    server = ListServer({f"r{n}": ms for n, ms in enumerate(times)}, [], page_size)
    ids = [record["id"] for record in iter_objects(server, "/v3/roles", keyset=False)]
    assert sorted(ids) == sorted(server.records)
