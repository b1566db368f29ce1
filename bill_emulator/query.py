"""List queries: `filters`, `sort`, `max` and `page`, as BILL v3 lists take them.

https://developer.bill.com/docs/search-op-with-lists: `filters=field:op:value,...` (comma =
AND; values may be double-quoted, and a quoted value may hold commas and colons),
`sort=field:asc|desc`, `max` 1..100 (default 20), `page` = a `nextPage`/`prevPage` token.

Page tokens encode an OFFSET into the filtered, sorted result and are re-evaluated on every
request: records that change between two page requests shift what the next page holds. We
do not know how BILL's tokens work; an offset is the worst case a client must survive
(a design choice: the connectors must survive it). Tokens carry the filters and sort they were
made with, so a page request needs nothing else (and with
`EmulatorConfig.refuse_filters_with_page` must send nothing else).

Which fields a list filters and sorts by: `lists` (BILL's documentation).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bill_emulator import lists, shapes
from bill_emulator.errors import BillError
from bill_emulator.formats import parse_filter_time
from bill_emulator.store import INDEXED_FIELDS, Record, RecordStore

DEFAULT_MAX = 20
MAX_MAX = 100
#: Sorting by several fields is not documented (https://developer.bill.com/docs/sortable-fields
#: shows one): one field only. BILL's examples also send a field alone (`sort=archived`):
#: ascending.
_SORT = re.compile(r"^(?P<field>[A-Za-z0-9_.]+)(?::(?P<direction>asc|desc))?$")
_HIGHEST = "\U0010ffff"


@dataclass(frozen=True)
class ListRules:
    """Behaviour BILL does not document, chosen per emulator (see EmulatorConfig)."""

    #: Refuse `filters` beside a `page` token (a public report says BILL does).
    refuse_filters_with_page: bool = False
    #: Refuse `updatedTime` filters on lists the docs do not document them for.
    documented_updated_time_only: bool = False


DEFAULT_RULES = ListRules()


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    kind: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool


@dataclass(frozen=True)
class ListQuery:
    path: str
    filters_text: str
    sort_text: str
    clauses: tuple[Clause, ...]
    sort: Sort | None
    max: int
    offset: int
    #: The `page` token this request carried ("" on a first page).
    page_token: str = ""


# -- parsing -------------------------------------------------------------------------------


def split_clauses(text: str) -> list[str]:
    """Split `filters` on commas outside double quotes."""
    clauses: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
    clauses.append("".join(current))
    return [clause for clause in clauses if clause.strip()]


def parse_filters(text: str, stream: str, rules: ListRules = DEFAULT_RULES) -> tuple[Clause, ...]:
    return tuple(_parse_clause(clause, stream, rules) for clause in split_clauses(text))


def _parse_clause(text: str, stream: str, rules: ListRules) -> Clause:
    parts = text.split(":", 2)
    if len(parts) != 3:
        raise BillError("BDC_1129", f"filters: {text}")
    field, op, raw = (part.strip() for part in parts)
    allowed = lists.filter_operators(
        stream, field, documented_updated_time_only=rules.documented_updated_time_only
    )
    field = lists.canonical(stream, field)
    if allowed is None:
        raise BillError("BDC_1130", field)
    if op not in allowed:
        raise BillError("BDC_1131", f"{op} for field {field}")
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    texts = [item.strip() for item in raw.split(",")] if op in ("in", "nin") else [raw]
    kind = shapes.field_kind(stream, field)
    try:
        values = tuple(_typed(kind, item) for item in texts)
    except ValueError:
        raise BillError("BDC_1129", f"filters: {field} value {raw}") from None
    return Clause(field, op, kind, values)


def _typed(kind: str, text: str) -> Any:
    if kind == shapes.TIME:
        return parse_filter_time(text)
    if kind == shapes.DATE:
        return date.fromisoformat(text).isoformat()
    if kind == shapes.BOOLEAN:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(text)
        return lowered == "true"
    if kind == shapes.NUMBER:
        return float(text)
    return text


def parse_sort(text: str, stream: str) -> Sort | None:
    if not text:
        return None
    match = _SORT.match(text.strip())
    if match is None:
        raise BillError("BDC_1129", f"sort: {text}")
    if match["field"] not in lists.fields_of(stream).sorts:
        raise BillError("BDC_1130", match["field"], message=f"Invalid sort field: {match['field']}")
    return Sort(match["field"], match["direction"] == "desc")


def parse_max(text: str) -> int:
    # BILL: 1..100 (every list description); out of range -> 400 (third-party live test).
    # The code BDC_1129 is our assumption.
    try:
        value = int(text)
    except ValueError:
        raise BillError("BDC_1129", f"max: {text}") from None
    if not 1 <= value <= MAX_MAX:
        raise BillError("BDC_1129", f"max: {text}")
    return value


def encode_token(query: ListQuery, offset: int) -> str:
    payload = {
        "p": query.path,
        "f": query.filters_text,
        "s": query.sort_text,
        "o": offset,
        "m": query.max,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict) or not isinstance(payload.get("o"), int):
            raise ValueError(token)
    except (ValueError, binascii.Error):
        raise BillError("BDC_1129", f"page: {token}") from None
    return payload


def build(
    params: Mapping[str, Sequence[str]], stream: str, path: str, rules: ListRules = DEFAULT_RULES
) -> ListQuery:
    """The query a list request asks for; BillError (400) for anything BILL would refuse."""

    def last(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    filters_text, sort_text, max_text = last("filters"), last("sort"), last("max")
    page = last("page") or ""
    if not page:
        return ListQuery(
            path=path,
            filters_text=filters_text or "",
            sort_text=sort_text or "",
            clauses=parse_filters(filters_text or "", stream, rules),
            sort=parse_sort(sort_text or "", stream),
            max=parse_max(max_text) if max_text is not None else DEFAULT_MAX,
            offset=0,
        )
    token = _decode_token(page)
    if token.get("p") != path:
        raise BillError("BDC_1129", f"page: {page}")
    clauses = parse_filters(str(token.get("f", "")), stream, rules)
    sort = parse_sort(str(token.get("s", "")), stream)
    # A page request may repeat the first request's filters and sort, or leave them out (the
    # token carries them); different ones cannot be honoured (our assumption). A public
    # report (an Odoo connector for BILL, 2025) says BILL refuses `filters` beside `page`:
    # that is the switch `refuse_filters_with_page`. `max` may change: an offset stays
    # meaningful with any page size.
    if filters_text is not None and rules.refuse_filters_with_page:
        raise BillError("BDC_1129", "filters: not allowed with page (the token carries them)")
    if filters_text is not None and parse_filters(filters_text, stream, rules) != clauses:
        raise BillError("BDC_1129", "filters: they differ from the page token's filters")
    if sort_text is not None and parse_sort(sort_text, stream) != sort:
        raise BillError("BDC_1129", "sort: it differs from the page token's sort")
    return ListQuery(
        path=path,
        filters_text=str(token.get("f", "")),
        sort_text=str(token.get("s", "")),
        clauses=clauses,
        sort=sort,
        max=parse_max(max_text) if max_text is not None else int(token.get("m", DEFAULT_MAX)),
        offset=max(int(token["o"]), 0),
        page_token=page,
    )


# -- running -------------------------------------------------------------------------------


def run(
    store: RecordStore, query: ListQuery, subset: list[Record] | None = None
) -> tuple[list[Record], int]:
    """The page of records and the total number of matches (call under the org lock)."""
    if subset is None:
        indexed = _run_indexed(store, query)
        if indexed is not None:
            return indexed
        candidates = store.in_created_order()
    else:
        candidates = sorted(subset, key=lambda r: (r["createdTime"], r["id"]))
    for clause in query.clauses:
        test = _predicate(clause)
        candidates = [record for record in candidates if test(record)]
    if query.sort is not None:
        key = _sort_key(query.sort.field)
        candidates.sort(key=lambda r: (key(r), r["id"]), reverse=query.sort.descending)
    return candidates[query.offset : query.offset + query.max], len(candidates)


def _run_indexed(store: RecordStore, query: ListQuery) -> tuple[list[Record], int] | None:
    """Bisect a createdTime/updatedTime index when every filter is a range on the sort field.

    This is the incremental sync's query (`updatedTime:gte` + `sort=updatedTime:asc`): a
    handful of bisections instead of a scan, whatever the stream's size.
    """
    sort = query.sort or Sort("createdTime", descending=False)
    if sort.field not in INDEXED_FIELDS:
        return None
    if any(c.field != sort.field or c.op not in lists.RANGE for c in query.clauses):
        return None
    index = store.indexes[sort.field]
    low, high = 0, len(index)
    for clause in query.clauses:
        bound = clause.values[0]
        if clause.op == "gte":
            low = max(low, bisect.bisect_left(index, (bound, "")))
        elif clause.op == "gt":
            low = max(low, bisect.bisect_right(index, (bound, _HIGHEST)))
        elif clause.op == "lte":
            high = min(high, bisect.bisect_right(index, (bound, _HIGHEST)))
        else:
            high = min(high, bisect.bisect_left(index, (bound, "")))
    total = max(high - low, 0)
    if sort.descending:
        end = high - query.offset
        keys = index[max(low, end - query.max) : max(end, low)][::-1]
    else:
        start = low + query.offset
        keys = index[start : min(high, start + query.max)]
    return store.resolve(keys), total


def _values(record: Record, parts: Sequence[str]) -> list[Any]:
    """Values at a dotted path; a list on the way yields one value per element."""
    current: list[Any] = [record]
    for part in parts:
        following: list[Any] = []
        for value in current:
            if isinstance(value, dict) and part in value:
                following.append(value[part])
            elif isinstance(value, list):
                following.extend(v[part] for v in value if isinstance(v, dict) and part in v)
        current = following
    return [v for value in current for v in (value if isinstance(value, list) else [value])]


def _normalise(kind: str, value: Any) -> Any:
    # Stored date-times are canonical (fixed width, UTC); anything else is read as a filter
    # value would be, so comparisons stay comparisons of instants.
    canonical = isinstance(value, str) and len(value) == 29 and value.endswith("+00:00")
    if kind == shapes.TIME and isinstance(value, str) and not canonical:
        try:
            return parse_filter_time(value)
        except ValueError:
            return value
    return value


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _predicate(clause: Clause) -> Callable[[Record], bool]:
    parts = clause.field.split(".")
    kind, op, values = clause.kind, clause.op, clause.values
    wanted = set(values)

    def matches(record: Record) -> bool:
        found = [_normalise(kind, v) for v in _values(record, parts) if v is not None]
        if op in ("eq", "in"):
            return any(v in wanted for v in found)
        if op in ("ne", "nin"):
            return not any(v in wanted for v in found)
        if op == "sw":
            return any(isinstance(v, str) and v.startswith(values[0]) for v in found)
        compare = _COMPARE[op]
        return any(_safe(compare, v, values[0]) for v in found)

    return matches


def _safe(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    try:
        return compare(left, right)
    except TypeError:
        return False


def _sort_key(field: str) -> Callable[[Record], tuple[int, Any]]:
    parts = field.split(".")

    def key(record: Record) -> tuple[int, Any]:
        found = _values(record, parts)
        if not found or found[0] is None:
            return (0, "")
        return (1, found[0])

    return key


def envelope(query: ListQuery, results: list[Any], total: int) -> dict[str, Any]:
    """`{nextPage, prevPage, results}`, leaving out a key when there is no such page.

    A recorded sandbox response has neither key on a single page: absent, not null or ""
    (https://github.com/NangoHQ/integration-templates, integrations/bill/mocks/nango/get/
    proxy/v3/users/users.json).
    """
    body: dict[str, Any] = {}
    if query.offset + query.max < total:
        body["nextPage"] = encode_token(query, query.offset + query.max)
    if query.offset > 0:
        body["prevPage"] = encode_token(query, max(query.offset - query.max, 0))
    body["results"] = results
    return body
