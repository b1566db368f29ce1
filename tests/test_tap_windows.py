"""Large incremental streams, read by several updatedTime windows in flight (see
bill_core/windows.py)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bill_core.client import BillClient
from bill_core.paging import format_time, parse_time
from bill_core.settings import ConnectionSettings
from bill_core.windows import WindowedReader
from bill_emulator import Emulator, EmulatorConfig, Fault
from tap_billcom.tap import EXIT_HOURLY_LIMIT
from tests.conftest import config_for
from tests.taprun import run_tap


@pytest.fixture
def large() -> Iterator[Emulator]:
    """6,000 bills: 60 pages, so the bills stream is split into windows."""
    emulator = Emulator(EmulatorConfig(records=10_000, latency_seconds=0.01))
    with emulator.serve():
        yield emulator


def bill_ids(emulator: Emulator) -> set[str]:
    return {b["id"] for b in emulator.organization().list("bills")}


def bill_requests(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "GET" and r.path == "/v3/bills"]


def test_windows_fetch_concurrently_and_emit_every_record_once_in_order(large: Emulator) -> None:
    run = run_tap(config_for(large.base_url), streams=["bills"], emulator=large)
    assert run.returncode == 0, run.stderr[-3000:]
    ids = run.ids("bills")
    assert len(ids) == len(set(ids)) == len(bill_ids(large)) == 6000
    times = [r["updatedTime"] for r in run.records["bills"]]
    assert times == sorted(times)
    assert large.peak_in_flight == 3
    requests = bill_requests(large)
    windows = sum(1 for r in requests if "updatedTime:lt" in "".join(r.query.get("filters", [])))
    assert windows >= 2
    # One partial page per window on top of the keyset cost.
    assert len(requests) <= math.ceil(6000 / 99) + windows + 2
    assert run.bookmark("bills") == times[-1]


def test_records_changed_during_a_windowed_sync_are_not_lost(large: Emulator) -> None:
    organization = large.organization()
    early = sorted(organization.list("bills"), key=lambda b: b["updatedTime"])[:30]
    seen = {"pages": 0, "created": []}

    def change(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/bills":
            seen["pages"] += 1
            if seen["pages"] == 6:
                for bill in early[:15]:
                    organization.update("bills", bill["id"], {"description": "moved"})
                seen["created"].append(organization.create("bills", dict(early[20]))["id"])

    large.on_request(change)
    run = run_tap(config_for(large.base_url), streams=["bills"], emulator=large)
    assert run.returncode == 0, run.stderr[-3000:]
    assert seen["pages"] > 6
    assert bill_ids(large) <= set(run.ids("bills"))
    last = {r["id"]: r for r in run.records["bills"]}
    assert all(last[b["id"]]["description"] == "moved" for b in early[:15])


def test_hourly_limit_in_a_later_window_stops_with_a_resumable_prefix(large: Emulator) -> None:
    large.faults.add(Fault("bdc", path_prefix="/v3/bills", code="BDC_1144", after=20))
    config = config_for(large.base_url)
    first = run_tap(config, streams=["bills"], emulator=large)
    assert first.returncode == EXIT_HOURLY_LIMIT, first.stderr[-3000:]
    emitted = first.records["bills"]
    times = [r["updatedTime"] for r in emitted]
    assert times == sorted(times)
    # What was emitted is exactly the oldest records: no gap before the bookmark.
    everything = sorted(large.organization().list("bills"), key=lambda b: b["updatedTime"])
    bookmark = first.bookmark("bills")
    assert bookmark == times[-1]
    assert {r["id"] for r in emitted} == {
        b["id"] for b in everything if b["updatedTime"] <= bookmark
    }
    second = run_tap(config, state=first.last_state, streams=["bills"], emulator=large)
    assert second.returncode == 0, second.stderr[-3000:]
    assert set(first.ids("bills")) | set(second.ids("bills")) == bill_ids(large)


def test_a_session_expiring_under_concurrent_windows_signs_in_once_more(large: Emulator) -> None:
    calls = {"n": 0}

    def kill(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/bills":
            calls["n"] += 1
            if calls["n"] == 10:
                large.kill_sessions()

    large.on_request(kill)
    run = run_tap(config_for(large.base_url), streams=["bills"], emulator=large)
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.ids("bills")) == bill_ids(large)
    logins = [r for r in large.requests if r.path == "/v3/login" and r.status == 200]
    assert len(logins) == 2


@pytest.fixture
def reader(large: Emulator) -> Iterator[WindowedReader]:
    """The reader the tap and the target's index use, on a real client over HTTP."""
    with BillClient(ConnectionSettings.from_config(config_for(large.base_url))) as client:
        yield WindowedReader(client, "/v3/bills", workers=3)


def assert_every_bill_once_in_order(records: list[dict[str, Any]], emulator: Emulator) -> None:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == bill_ids(emulator)
    times = [parse_time(r["updatedTime"]) for r in records]
    assert times == sorted(times)


def test_idle_workers_split_the_longest_window(large: Emulator, reader: WindowedReader) -> None:
    # The seeded bills end in October; the last window runs to now, so it ends early and
    # its worker splits what is left of a longer one instead of idling.
    records = list(reader.read(None))
    assert_every_bill_once_in_order(records, large)
    assert reader.splits >= 1
    requests = bill_requests(large)
    assert len(requests) == reader.requests
    assert large.peak_in_flight <= 3
    # Keyset cost, one partial page per planned window (3 here) and one per split.
    assert len(requests) <= math.ceil(6000 / 99) + 3 + reader.splits + 1
    # Each split's second half starts exactly where the first half now ends.
    bounds = {f for r in requests for f in "".join(r.query.get("filters", [])).split(",")}
    ends = {f.split(":", 2)[2] for f in bounds if f.startswith("updatedTime:lt:")}
    starts = {f.split(":", 2)[2] for f in bounds if f.startswith("updatedTime:gte:")}
    assert ends <= starts


def test_a_page_in_flight_when_its_window_is_split_is_cut_at_the_new_end(
    large: Emulator, reader: WindowedReader
) -> None:
    everything = sorted(
        large.organization().list("bills"), key=lambda b: parse_time(b["updatedTime"])
    )
    split: dict[str, Any] = {}

    def split_while_in_flight(request: Any) -> None:
        """Before BILL answers a window's page, split the window at the 50th record that
        page will hold (what an idle worker does when its estimate of pages left is off)."""
        filters = "".join(request.query.get("filters", []))
        if split or request.path != "/v3/bills" or "updatedTime:lt" not in filters:
            return
        with reader._changed:
            window = next(
                (w for w in reader._active if not w.done and w.at and w.until in filters), None
            )
            if window is None or window.at is None or window.until is None:
                return
            at, until = parse_time(window.at), parse_time(window.until)
            upcoming = [b for b in everything if at <= parse_time(b["updatedTime"]) < until]
            middle = parse_time(upcoming[50]["updatedTime"])
            if len(upcoming) < 120 or not at < middle:
                return
            split["old_end"], split["middle"] = window.until, format_time(middle)
            reader._pending.appendleft(reader._split_at(window, split["middle"]))

    large.on_request(split_while_in_flight)
    records = list(reader.read(None))
    assert split, "no window page was split in flight"
    assert_every_bill_once_in_order(records, large)
    filters = ["".join(r.query.get("filters", [])) for r in bill_requests(large)]
    # The cut window asked for nothing more; its second half started at the cut.
    assert not any(f'updatedTime:lt:"{split["middle"]}"' in f for f in filters)
    assert any(f'updatedTime:gte:"{split["middle"]}"' in f for f in filters)


def test_the_next_large_stream_starts_while_the_last_windows_of_one_finish(
    large: Emulator,
) -> None:
    # BILL is slow on the last bills pages: the other workers run out of work meanwhile,
    # and their request slots go to the next stream rather than waiting.
    newest = sorted(parse_time(b["updatedTime"]) for b in large.organization().list("bills"))

    def slow_end(request: Any) -> None:
        filters = "".join(request.query.get("filters", []))
        if request.path == "/v3/bills" and "updatedTime:gte:" in filters:
            since = filters.split("updatedTime:gte:", 1)[1].split('"')[1]
            if parse_time(since) >= newest[-150]:
                time.sleep(0.5)

    large.on_request(slow_end)
    run = run_tap(config_for(large.base_url), streams=["bills", "invoices"], emulator=large)
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.ids("bills")) == bill_ids(large)
    invoice_ids = {i["id"] for i in large.organization().list("invoices")}
    assert len(run.ids("invoices")) == len(invoice_ids)
    assert set(run.ids("invoices")) == invoice_ids
    for stream in ("bills", "invoices"):
        times = [r["updatedTime"] for r in run.records[stream]]
        assert times == sorted(times)
        assert run.bookmark(stream) == times[-1]
    # Invoices were being read before the last bills answer came back, never more than
    # BILL's three requests in flight in all.
    lists = [r for r in large.requests if r.method == "GET" and r.path != "/v3/login"]
    last_bills_answer = max(r.ended for r in lists if r.path == "/v3/bills" and r.ended)
    invoices_after_first_page = [r for r in lists if r.path == "/v3/invoices"][1:]
    assert min(r.started for r in invoices_after_first_page) < last_bills_answer
    assert large.peak_in_flight == 3


def test_a_stream_read_ahead_but_never_synced_is_stopped_at_exit(large: Emulator) -> None:
    # BILL's hourly limit stops the bills stream after the invoices stream has started
    # reading ahead: the tap ends (exit 3, state saved) without waiting on those workers,
    # and the next run reads both streams whole.
    large.faults.add(Fault("bdc", path_prefix="/v3/bills", code="BDC_1144", after=50))
    config = config_for(large.base_url)
    first = run_tap(config, streams=["bills", "invoices"], emulator=large, timeout=60)
    assert first.returncode == EXIT_HOURLY_LIMIT, first.stderr[-3000:]
    assert "invoices" not in first.records
    large.faults.clear()
    second = run_tap(config, state=first.last_state, streams=["bills", "invoices"], emulator=large)
    assert second.returncode == 0, second.stderr[-3000:]
    assert set(first.ids("bills")) | set(second.ids("bills")) == bill_ids(large)
    assert len(second.ids("invoices")) == len(large.organization().list("invoices"))
