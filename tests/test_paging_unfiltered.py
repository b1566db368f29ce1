"""Paging where BILL takes less than the tap would like (bill_core.paging), without HTTP:
page requests that carry only their token, lists read without an `updatedTime` filter, and
resuming a listing that broke off."""

from __future__ import annotations

import random
from typing import Any

from bill_core.errors import BillErrorDetail, BillRequestError
from bill_core.paging import (
    ListCursor,
    ListPosition,
    Resume,
    filter_time,
    refuses_updated_time_filter,
)


def record(record_id: str, second: int) -> dict[str, str]:
    return {"id": record_id, "updatedTime": f"2026-01-01T00:00:{second:02d}.000+00:00"}


def test_a_page_request_sends_its_token_and_max_only() -> None:
    """The token carries its filters and sort; a public report says BILL refuses `filters`
    beside `page`."""
    for cursor in (
        ListCursor(keyset=True, base_filters=["archived:eq:false"]),
        ListCursor(keyset=False, base_filters=["archived:eq:false"]),
        ListCursor(keyset=True, filter_since=False),
    ):
        position = ListPosition(since="2026-01-01T00:00:05.000+00:00", page="token")
        assert cursor.params(position) == {"max": 100, "page": "token"}


def test_filter_times_take_bills_documented_form() -> None:
    assert filter_time("2026-02-08T22:13:24.924+00:00") == "2026-02-08T22:13:24.924Z"
    assert filter_time("2026-02-08T23:13:24.924+01:00") == "2026-02-08T22:13:24.924Z"
    assert filter_time("2026-02-08T22:13:24.924Z") == "2026-02-08T22:13:24.924Z"


def test_unfiltered_reading_sorts_without_a_bound_and_drops_what_precedes_it() -> None:
    cursor = ListCursor(keyset=True, base_filters=["archived:eq:false"], filter_since=False)
    position = ListPosition(
        since="2026-01-01T00:00:05.000+00:00", seen_at_since=frozenset({"at-seen"})
    )
    assert cursor.params(position) == {
        "max": 100,
        "sort": "updatedTime:asc",
        "filters": "archived:eq:false",
    }
    page = [record("early", 1), record("at-seen", 5), record("at-new", 5), record("late", 9)]
    assert [r["id"] for r in cursor.fresh(position, page)] == ["at-new", "late"]
    after = cursor.next_position(position, page, "token-2")
    assert after is not None
    # It follows BILL's token (no filter to restart from) and keeps its lower bound.
    assert (after.page, after.since) == ("token-2", position.since)
    assert after.seen_at_since == {"at-seen"}
    assert cursor.params(after) == {"max": 100, "page": "token-2"}
    assert cursor.next_position(after, page, None) is None


def error(code: str | None, status: int, message: str = "", detail: str = "") -> BillRequestError:
    details = [BillErrorDetail(code=code, message=detail)] if detail else []
    return BillRequestError(message, code=code, status=status, details=details)


def test_a_refused_updated_time_filter_is_recognised() -> None:
    assert refuses_updated_time_filter(error("BDC_1130", 400, "Invalid list filter field"))
    assert refuses_updated_time_filter(error("BDC_1131", 400, "Invalid list filter operator"))
    assert refuses_updated_time_filter(error(None, 400, "", detail="updatedTime is not allowed"))
    assert not refuses_updated_time_filter(error("BDC_1129", 400, "max: 0"))
    assert not refuses_updated_time_filter(error(None, 500, "updatedTime"))


def test_resume_continues_after_the_last_record_emitted() -> None:
    resume = Resume(ListPosition(since="2026-01-01T00:00:02.000+00:00", seen_at_since={"a"}))
    assert resume.position() == ListPosition("2026-01-01T00:00:02.000+00:00", frozenset({"a"}))
    resume.see(record("b", 2))
    assert resume.position().seen_at_since == {"a", "b"}
    resume.see(record("c", 4))
    resume.see(record("d", 4))
    assert resume.position() == ListPosition("2026-01-01T00:00:04.000+00:00", frozenset("cd"))


def listing(records: list[dict[str, Any]], cursor: ListCursor, start: ListPosition) -> list[str]:
    """Read a sorted list the way BILL pages it (offset tokens), through the cursor."""
    ordered = sorted(records, key=lambda r: (r["updatedTime"], r["id"]))
    emitted: list[str] = []
    position: ListPosition | None = start
    while position is not None:
        offset = int(position.page or 0)
        page = ordered[offset : offset + 100]
        more = str(offset + 100) if offset + 100 < len(ordered) else None
        emitted += [r["id"] for r in cursor.fresh(position, page)]
        position = cursor.next_position(position, page, more)
    return emitted


def test_an_unfiltered_listing_resumed_anywhere_emits_each_later_record_once() -> None:
    """Invariant, over random lists with long runs of one timestamp: a listing broken off
    after any record and resumed unfiltered emits exactly the records after that one."""
    draw = random.Random(5)
    cursor = ListCursor(keyset=True, filter_since=False)
    for _ in range(40):
        seconds = sorted(draw.choice([draw.randrange(60), 30]) for _ in range(draw.randrange(350)))
        records = [record(f"r{index:03d}", second) for index, second in enumerate(seconds)]
        ordered = sorted(records, key=lambda r: (r["updatedTime"], r["id"]))
        cut = draw.randrange(len(ordered) + 1)
        resume = Resume(ListPosition())
        for emitted in ordered[:cut]:
            resume.see(emitted)
        rest = listing(records, cursor, resume.position())
        assert rest == [r["id"] for r in ordered[cut:]]
