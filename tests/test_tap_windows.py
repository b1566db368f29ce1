"""Large incremental streams, read by several updatedTime windows in flight (see
bill_core/windows.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

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
