"""Paging through BILL lists without losing a record when data changes under the sync.

BILL's `nextPage` token behaves like an offset into the filtered, sorted result (the worst
case the emulator reproduces): when a record already read is updated, it moves to the end of an
`updatedTime`-sorted list and every later record shifts one place down, so the next offset page
silently skips one record. Keyset paging avoids that: each request restarts from the last
`updatedTime` seen (`filters=updatedTime:gte:"<t>"&sort=updatedTime:asc`), and the records
already emitted at exactly that timestamp are dropped by id. Only inside a page made entirely
of one timestamp (no keyset progress possible) does it follow BILL's page token.

Cost: each request after a full page re-reads the records at its boundary timestamp (usually
one), so a full sync makes ceil(N/99)-ish requests instead of ceil(N/100) (about 1% more) in
exchange for never skipping a record.

A request that follows a page token sends the token and `max` only: the token carries the
filters and sort it was made with, and a public report says BILL refuses `filters` beside
`page`. Filter times are sent in BILL's documented form, `2026-02-08T22:13:24.924Z`
(https://developer.bill.com/docs/search-op-with-lists), whatever form a record carried.

`updatedTime` filtering is documented only for vendors, customers, bills, invoices and bank
accounts (https://developer.bill.com/docs/filterable-fields). Where BILL refuses it
(`refuses_updated_time_filter`), a list is read unfiltered, sorted by `updatedTime`, following
page tokens, and what precedes the bookmark is dropped here (`ListCursor(filter_since=False)`,
resumed from `Resume.position()`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import msgspec

from bill_core.catalog import UPDATED_TIME
from bill_core.errors import BillError, BillTransientError

LOGGER = logging.getLogger("bill_core")

#: BILL's maximum page size (https://developer.bill.com/docs/search-op-with-lists).
PAGE_SIZE = 100
#: A page asked for again this often, still naming itself as `nextPage`, ends the listing
#: with an error (never silently: the records after it would be missing).
MAX_REPEATED_PAGES = 3
#: A block of records sharing one updatedTime, larger than a page, can only be read by page
#: token, and offsets shift when a record of the block already read is updated meanwhile
#: (it leaves the block): the record at the page boundary is skipped, and a keyset resumed
#: after the block would never see it. So a block is read again (dropping what was emitted)
#: until a reading finds nothing new, at most this many readings, then left with `gt`.
MAX_BLOCK_PASSES = 3


@dataclass(frozen=True)
class ListPosition:
    """Where the next list request starts."""

    #: Keyset lower bound on updatedTime (BILL's text form), None: from the beginning.
    since: str | None = None
    #: Ids already emitted whose updatedTime equals `since`.
    seen_at_since: frozenset[str] = field(default_factory=frozenset)
    #: BILL page token, used only for offset paging (full-table lists, tie blocks).
    page: str | None = None
    #: Ids an offset listing (no keyset) already emitted: a page token that repeats or
    #: points back never emits a record twice. Offset lists are the small ones.
    seen: frozenset[str] = field(default_factory=frozenset)
    #: Times in a row BILL answered this position's own page token as `nextPage`.
    repeats: int = 0
    #: Inside a block of records sharing `since` (a page full of one timestamp, read by
    #: page token): which reading of the block this is (1, 2, ...), 0 outside a block.
    block_pass: int = 0
    #: How many ids of the block had been emitted when this reading of it started.
    block_start: int = 0
    #: The block at `since` is done: the next request starts strictly after it (`gt`).
    after_block: bool = False


class RawPage(msgspec.Struct):
    """A list answer whose records are kept as their JSON text (`msgspec.Raw`, a view of
    the answer): what paging needs is read from each record, the rest is decoded only when
    the record is emitted (or never: see RawRow), so pages waiting in a buffer cost their
    size in bytes, not the several times more that Python objects take."""

    results: list[msgspec.Raw] = msgspec.field(default_factory=list)
    nextPage: str | None = None  # noqa: N815 (BILL's name)

    def rows(self, fields: RowFields | None = None) -> list[RawRow]:
        """The records as RawRows; with `fields`, each row also tells whether every field
        of its record is one of those (`described`)."""
        return (fields or _ANY_FIELDS).rows(self.results)


class RawRow(dict[str, Any]):
    """`id`, `updatedTime` (and `archived`, when present) of one listed record: all that
    paging, bookmarks and filters read; its JSON text in `raw`.

    `described`: every field of the record is one of the `RowFields` it was read with, so
    the record can be written out as BILL sent it, without decoding it into Python objects
    and encoding it again (the tap's fast path)."""

    __slots__ = ("described", "extracted", "raw")
    raw: msgspec.Raw
    described: bool
    #: When the page holding the record arrived (its Singer `time_extracted`).
    extracted: dt.datetime


class _Key(msgspec.Struct):
    id: Any = None
    updatedTime: Any = None  # noqa: N815 (BILL's name)
    archived: Any = None


class RowFields:
    """Reads RawRows, checking each record's field names against `names` in the same pass
    (a struct of raw fields that forbids unknown ones: about 1 us per record)."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        self._key = msgspec.json.Decoder(_Key)
        self._strict: msgspec.json.Decoder[Any] | None = None
        if names is not None:
            keys = _Key.__struct_fields__
            fields = [
                (name, Any, None) if name in keys else (name, msgspec.Raw, msgspec.UNSET)
                for name in sorted(set(names))
            ]
            strict = msgspec.defstruct(
                "DescribedRecord", fields, forbid_unknown_fields=True, kw_only=True
            )
            self._strict = msgspec.json.Decoder(strict)

    def rows(self, results: Iterable[msgspec.Raw]) -> list[RawRow]:
        rows = []
        extracted = dt.datetime.now(dt.timezone.utc)
        for raw in results:
            described = self._strict is not None
            try:
                key = (self._strict or self._key).decode(raw)
            except msgspec.ValidationError:  # a field outside `names`
                key, described = self._key.decode(raw), False
            row = RawRow(id=getattr(key, "id", None), updatedTime=getattr(key, "updatedTime", None))
            archived = getattr(key, "archived", None)
            if archived is not None:
                row["archived"] = archived
            row.raw, row.described, row.extracted = raw, described, extracted
            rows.append(row)
        return rows


_ANY_FIELDS = RowFields()


def parse_time(value: str) -> dt.datetime:
    """BILL timestamps (`2026-07-13T04:29:34.000+00:00`, `...Z`) as aware datetimes."""
    text = value.strip().replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def format_time(value: dt.datetime) -> str:
    """A filter value BILL documents: yyyy-MM-dd'T'HH:mm:ss.SSSX."""
    value = value.astimezone(dt.timezone.utc) if value.tzinfo else value
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def quoted(value: str) -> str:
    return f'"{value}"'


def filter_time(value: str) -> str:
    """A time for `filters`, in BILL's documented form (`...SS.SSSZ`), from any form BILL
    answers with (`...+00:00`)."""
    return format_time(parse_time(value))


@dataclass
class ListCursor:
    """Builds list request parameters and decides the next position from each answer."""

    keyset: bool
    base_filters: Sequence[str] = ()
    page_size: int = PAGE_SIZE
    #: False where BILL refuses an `updatedTime` filter: sorted by updatedTime still, paged by
    #: BILL's token, and records before `since` dropped here instead of by BILL.
    filter_since: bool = True

    @property
    def paged_by_keyset(self) -> bool:
        return self.keyset and self.filter_since

    def params(self, position: ListPosition) -> dict[str, Any]:
        params: dict[str, Any] = {"max": self.page_size}
        if position.page:
            # The token carries its filters and sort (see the module docstring).
            params["page"] = position.page
            return params
        filters = list(self.base_filters)
        if self.keyset:
            if position.since is not None and self.filter_since:
                operator = "gt" if position.after_block else "gte"
                filters.append(f"{UPDATED_TIME}:{operator}:{quoted(filter_time(position.since))}")
            params["sort"] = f"{UPDATED_TIME}:asc"
        if filters:
            params["filters"] = ",".join(filters)
        return params

    def fresh(self, position: ListPosition, records: Iterable[Mapping[str, Any]]) -> list[Any]:
        """Records not emitted yet (drops the boundary records seen on the previous page,
        for offset lists every record an earlier page of this listing emitted, and, reading
        unfiltered, every record before `since`)."""
        if position.seen:
            records = [r for r in records if r.get("id") not in position.seen]
        if position.since is None:
            return list(records)
        since = parse_time(position.since)
        if self.keyset and not self.filter_since:
            records = [r for r in records if (_time_of(r) or since) >= since]
        if position.block_pass:
            # Reading a block: only its records; what follows it is read once it is done.
            return [
                r
                for r in records
                if _time_of(r) == since and r.get("id") not in position.seen_at_since
            ]
        if not position.seen_at_since:
            return list(records)
        return [
            r
            for r in records
            if not (r.get("id") in position.seen_at_since and _time_of(r) == since)
        ]

    def next_position(
        self,
        position: ListPosition,
        records: Sequence[Mapping[str, Any]],
        next_page: str | None,
    ) -> ListPosition | None:
        """The position after this answer, or None when the list is exhausted."""
        if position.block_pass:
            return self._in_block(position, records, next_page)
        if not next_page:
            return None  # BILL omits nextPage on the last page.
        if next_page == position.page:
            # A cursor that does not move would loop forever; keyset can still move on.
            if self.paged_by_keyset and records and not self._stuck(position, records):
                LOGGER.warning("BILL repeated a page token; continuing from the last updatedTime")
                return self._after(position, records, next_page=None)
            return self._again(position, records)
        if not self.paged_by_keyset or not records:
            # Offset paging, or an empty page that still carries a cursor: follow the token.
            return ListPosition(
                position.since, position.seen_at_since, next_page, self._seen(position, records)
            )
        return self._after(position, records, next_page=next_page)

    def _seen(self, position: ListPosition, records: Sequence[Mapping[str, Any]]) -> frozenset[str]:
        if self.paged_by_keyset:
            return position.seen
        return position.seen | {str(r["id"]) for r in records if r.get("id") is not None}

    def _again(self, position: ListPosition, records: Sequence[Mapping[str, Any]]) -> ListPosition:
        """BILL named the page just read as the next one: ask for it again (what it already
        emitted is dropped by id), a few times, then fail loudly. Stopping quietly would end
        the sync with every later record missing."""
        if position.repeats >= MAX_REPEATED_PAGES:
            msg = (
                f"BILL answered the same page token {position.repeats + 1} times in a row; "
                "stopped this list to avoid an endless loop"
            )
            raise BillTransientError(
                msg, hint="run again later; the state saved so far is kept and resumes"
            )
        LOGGER.warning(
            "BILL repeated a page token; asking for the page again (%d/%d)",
            position.repeats + 1,
            MAX_REPEATED_PAGES,
        )
        seen_at_since = position.seen_at_since
        if self.paged_by_keyset and position.since is not None:
            since = parse_time(position.since)
            seen_at_since |= {str(r["id"]) for r in records if _time_of(r) == since}
        return replace(
            position,
            seen_at_since=seen_at_since,
            seen=self._seen(position, records),
            repeats=position.repeats + 1,
        )

    @staticmethod
    def _stuck(position: ListPosition, records: Sequence[Mapping[str, Any]]) -> bool:
        """The whole page sits at the keyset bound: only the page token can move on."""
        return position.since is not None and _time_of(records[-1]) == parse_time(position.since)

    def _after(
        self,
        position: ListPosition,
        records: Sequence[Mapping[str, Any]],
        *,
        next_page: str | None,
    ) -> ListPosition:
        last_text = str(records[-1][UPDATED_TIME])
        last = parse_time(last_text)
        # The page is sorted: the records at its last timestamp are the tail.
        tail = itertools.takewhile(lambda r: _time_of(r) == last, reversed(records))
        at_last = frozenset(str(r["id"]) for r in tail)
        if self._stuck(position, records):
            # A page full of one timestamp: follow BILL's token through the tie block.
            seen = position.seen_at_since | at_last
            return ListPosition(
                position.since,
                seen,
                next_page,
                block_pass=1,
                block_start=len(position.seen_at_since),
            )
        return ListPosition(since=last_text, seen_at_since=at_last, page=None)

    def _in_block(
        self, position: ListPosition, records: Sequence[Mapping[str, Any]], next_page: str | None
    ) -> ListPosition:
        """Inside a block of one timestamp: follow the token while pages hold only the block;
        at its end read it again if the last reading found something new (offsets shift
        when a record of the block is updated meanwhile), else go on strictly after it."""
        since = parse_time(position.since or "")
        block = frozenset(str(r["id"]) for r in records if _time_of(r) == since)
        seen = position.seen_at_since | block
        if next_page and next_page != position.page and self._stuck(position, records):
            return replace(position, seen_at_since=seen, page=next_page, repeats=0)
        if next_page and next_page == position.page:
            return self._again(position, records)
        # The first reading is always checked by a second; later ones only if they found
        # something (a reading that skipped a record cannot know it did).
        found_new = position.block_pass == 1 or len(seen) > position.block_start
        if found_new and position.block_pass < MAX_BLOCK_PASSES:
            LOGGER.debug("Reading the block of records at %s again", position.since)
            return ListPosition(
                position.since,
                seen,
                page=None,
                block_pass=position.block_pass + 1,
                block_start=len(seen),
            )
        return ListPosition(since=position.since, after_block=True)


#: BILL's codes for a filter field or operator a list does not take.
FILTER_REFUSED = frozenset({"BDC_1130", "BDC_1131"})


def refuses_updated_time_filter(error: BillError) -> bool:
    """Whether BILL refused a list request's `updatedTime` filter: BDC_1130/BDC_1131, or a
    400 whose message names the filter."""
    if error.code in FILTER_REFUSED:
        return True
    text = " ".join([str(error), *(str(d) for d in error.details)])
    return error.status == 400 and UPDATED_TIME in text


class Resume:
    """Where a sorted listing stands after the records emitted so far: the position a reading
    that broke off (BILL refused its filter) starts again from, losing and repeating nothing."""

    def __init__(self, start: ListPosition) -> None:
        self.since = start.since
        self.at_since = set(start.seen_at_since)
        self._last: dt.datetime | None = parse_time(start.since) if start.since else None

    def see(self, record: Mapping[str, Any]) -> None:
        moment = _time_of(record)
        if moment is None:
            return
        if self._last is None or moment > self._last:
            self._last, self.since, self.at_since = moment, str(record[UPDATED_TIME]), set()
        if moment == self._last:
            self.at_since.add(str(record.get("id")))

    def position(self) -> ListPosition:
        return ListPosition(since=self.since, seen_at_since=frozenset(self.at_since))


def _time_of(record: Mapping[str, Any]) -> dt.datetime | None:
    value = record.get(UPDATED_TIME)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return parse_time(value) if isinstance(value, str) and value else None


class _Caller(Protocol):
    def call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = ..., body: Any = ...
    ) -> Any: ...


def iter_objects(
    client: _Caller, path: str, *, keyset: bool, filters: Sequence[str] = ()
) -> Iterator[dict[str, Any]]:
    """Every object of a list endpoint, paged as the tap pages (for indexes and look-ups)."""
    cursor = ListCursor(keyset=keyset, base_filters=filters)
    position: ListPosition | None = ListPosition()
    while position is not None:
        body = client.call("GET", path, params=cursor.params(position)) or {}
        records = body.get("results") or []
        yield from cursor.fresh(position, records)
        position = cursor.next_position(position, records, body.get("nextPage") or None)
