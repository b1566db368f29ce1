"""Keyset paging decisions (bill_core.paging), without HTTP."""

from __future__ import annotations

import datetime as dt

import pytest

from bill_core.errors import BillTransientError
from bill_core.paging import (
    MAX_REPEATED_PAGES,
    ListCursor,
    ListPosition,
    format_time,
    parse_time,
)


def record(record_id: str, second: int) -> dict[str, str]:
    return {"id": record_id, "updatedTime": f"2026-01-01T00:00:{second:02d}.000+00:00"}


def test_first_request_sorts_ascending_and_sends_max_100_without_a_bound() -> None:
    cursor = ListCursor(keyset=True)
    assert cursor.params(ListPosition()) == {"max": 100, "sort": "updatedTime:asc"}


def test_bound_is_a_quoted_gte_filter_after_the_base_filters_in_bills_time_form() -> None:
    """BILL documents filter times as 2026-02-08T22:13:24.924Z (search-op-with-lists), not
    in the +00:00 form its answers carry."""
    cursor = ListCursor(keyset=True, base_filters=["archived:eq:false"])
    params = cursor.params(ListPosition(since="2026-01-01T00:00:05.000+00:00"))
    assert params["filters"] == 'archived:eq:false,updatedTime:gte:"2026-01-01T00:00:05.000Z"'


def test_next_request_restarts_from_the_last_timestamp_not_the_page_token() -> None:
    cursor = ListCursor(keyset=True)
    page = [record("a", 1), record("b", 2), record("c", 2)]
    position = cursor.next_position(ListPosition(), page, "token-2")
    assert position == ListPosition(
        since="2026-01-01T00:00:02.000+00:00", seen_at_since=frozenset({"b", "c"})
    )


def test_records_seen_at_the_boundary_are_dropped_but_new_ones_at_it_are_kept() -> None:
    cursor = ListCursor(keyset=True)
    position = ListPosition(
        since="2026-01-01T00:00:02.000+00:00", seen_at_since=frozenset({"b", "c"})
    )
    page = [record("b", 2), record("c", 2), record("d", 2), record("e", 3)]
    assert [r["id"] for r in cursor.fresh(position, page)] == ["d", "e"]


def test_boundary_match_compares_instants_not_text() -> None:
    cursor = ListCursor(keyset=True)
    position = ListPosition(since="2026-01-01T00:00:02.000Z", seen_at_since=frozenset({"b"}))
    assert cursor.fresh(position, [record("b", 2)]) == []


def test_a_page_full_of_one_timestamp_follows_the_page_token_through_the_tie() -> None:
    cursor = ListCursor(keyset=True)
    since = "2026-01-01T00:00:02.000+00:00"
    position = ListPosition(since=since, seen_at_since=frozenset({"a"}))
    page = [record(f"t{i}", 2) for i in range(3)]
    following = cursor.next_position(position, page, "offset-100")
    block = frozenset({"a", "t0", "t1", "t2"})
    assert following == ListPosition(since, block, "offset-100", block_pass=1, block_start=1)
    # While the block is read, only its records are emitted (z comes after it).
    tail = [record("t3", 2), record("z", 9)]
    assert [r["id"] for r in cursor.fresh(following, tail)] == ["t3"]
    # Once the block ends, it is read again (offsets shift when one of its records is
    # updated meanwhile), dropping what was emitted ...
    again = cursor.next_position(following, tail, "offset-200")
    assert again == ListPosition(since, block | {"t3"}, block_pass=2, block_start=5)
    assert cursor.fresh(again, [record("t0", 2), record("t3", 2), record("z", 9)]) == []
    # ... and when a reading finds nothing new, keyset resumes strictly after the block.
    after = cursor.next_position(again, [record("t3", 2), record("z", 9)], None)
    assert after == ListPosition(since, after_block=True)
    assert cursor.params(after)["filters"] == 'updatedTime:gt:"2026-01-01T00:00:02.000Z"'
    assert [r["id"] for r in cursor.fresh(after, [record("z", 9)])] == ["z"]


def test_absent_or_empty_next_page_ends_the_list() -> None:
    cursor = ListCursor(keyset=True)
    assert cursor.next_position(ListPosition(), [record("a", 1)], None) is None
    assert cursor.next_position(ListPosition(), [record("a", 1)], "") is None


def test_empty_page_that_still_carries_a_cursor_continues() -> None:
    cursor = ListCursor(keyset=True)
    position = ListPosition(since="2026-01-01T00:00:01.000+00:00")
    assert cursor.next_position(position, [], "next") == ListPosition(position.since, page="next")


def test_repeated_cursor_moves_on_by_keyset_or_asks_again_then_fails_instead_of_looping() -> None:
    cursor = ListCursor(keyset=True)
    position = ListPosition(page="same")
    moved = cursor.next_position(position, [record("a", 4)], "same")
    assert moved == ListPosition(since="2026-01-01T00:00:04.000+00:00", seen_at_since={"a"})
    # No keyset progress possible: the same page is asked for again (never a silent stop,
    # which would lose every later record), a bounded number of times.
    again = cursor.next_position(position, [], "same")
    assert again == ListPosition(page="same", repeats=1)
    offset = ListCursor(keyset=False)
    position = offset.next_position(position, [record("a", 4)], "same")
    assert position == ListPosition(page="same", seen=frozenset({"a"}), repeats=1)
    assert offset.fresh(position, [record("a", 4), record("b", 5)]) == [record("b", 5)]
    for _ in range(MAX_REPEATED_PAGES - 1):
        position = offset.next_position(position, [], "same")
    with pytest.raises(BillTransientError, match="same page token"):
        offset.next_position(position, [], "same")


def test_full_table_lists_follow_the_page_token() -> None:
    cursor = ListCursor(keyset=False)
    assert cursor.params(ListPosition()) == {"max": 100}
    following = cursor.next_position(ListPosition(), [{"id": "x"}], "p2")
    assert following == ListPosition(page="p2", seen=frozenset({"x"}))
    assert cursor.params(ListPosition(page="p2")) == {"max": 100, "page": "p2"}


def test_time_formats_round_trip_in_the_documented_filter_form() -> None:
    instant = dt.datetime(2026, 7, 13, 4, 29, 34, 120000, tzinfo=dt.timezone.utc)
    assert format_time(instant) == "2026-07-13T04:29:34.120Z"
    assert parse_time("2026-07-13T04:29:34.120+00:00") == instant
