"""tap-billcom end to end: the real tap process against the BILL emulator over HTTP."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from bill_core import catalog
from bill_core.client import get_client
from bill_core.settings import ConnectionSettings
from bill_emulator import Emulator, EmulatorConfig
from tests.conftest import STRICT_BILL, config_for
from tests.taprun import run_tap

TOP_LEVEL = [o for o in catalog.OBJECTS if o.parent is None]
#: The end-to-end runs below happen against both readings of BILL's docs; 1,600 records make
#: vendors, customers, bills, invoices and payments (112) longer than one page.
BOTH_READINGS = pytest.mark.parametrize(
    "emulator",
    [{"records": 1600}, {"records": 1600, **STRICT_BILL}],
    indirect=True,
    ids=["plausible-bill", "strict-bill"],
)


def list_requests(emulator: Emulator, path: str) -> list[Any]:
    return [r for r in emulator.requests if r.method == "GET" and r.path == path]


def all_ids(emulator: Emulator, stream: str) -> set[str]:
    return {r["id"] for r in emulator.organization().list(stream)}


@BOTH_READINGS
def test_full_sync_emits_every_record_of_every_stream_once(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    run = run_tap(tap_config, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    refused = [line for line in run.stderr.splitlines() if "refused the updatedTime" in line]
    if emulator.config.refuse_undocumented_updated_time_filter:
        # Payments, the one undocumented list longer than a page here, asks for updatedTime
        # >= its first page's end, is refused, and reads on unfiltered: one warning.
        assert [line.split("'")[1] for line in refused] == ["payments"]
    else:
        assert not refused
    for entry in TOP_LEVEL:
        ids = run.ids(entry.stream)
        expected = all_ids(emulator, entry.stream)
        assert len(ids) == len(set(ids)), f"{entry.stream}: duplicates"
        assert set(ids) == expected, entry.stream
    # Child streams are not selected by default (one request per parent record).
    assert not {"vendor_bank_accounts", "customer_contacts", "bill_documents"} & set(run.records)
    # One sign-in for the whole run, shared by every stream.
    assert sum(1 for r in emulator.requests if r.path == "/v3/login") == 1


def test_each_stream_requests_its_documented_path_with_max_100_and_updated_time_order(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    tap_config["start_date"] = "2026-01-01T00:00:00Z"
    run = run_tap(tap_config, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    organization_id = tap_config["organization_id"]
    for entry in TOP_LEVEL:
        path = entry.path.format(organizationId=organization_id)
        requests = list_requests(emulator, path)
        assert requests, f"no request for {entry.stream} at {path}"
        first = requests[0]
        if entry.single:
            continue
        assert first.query["max"] == ["100"], entry.stream
        if entry.incremental:
            assert first.query["sort"] == ["updatedTime:asc"]
            assert first.query["filters"] == ['updatedTime:gte:"2026-01-01T00:00:00.000Z"']
        else:
            assert "sort" not in first.query
            assert "filters" not in first.query
        # Every call carries the session headers.
        assert first.headers.get("devKey")
        assert first.headers.get("sessionId")


def test_many_pages_cost_one_request_per_hundred_records_plus_the_boundary_overlap() -> None:
    emulator = Emulator(EmulatorConfig(records=2000))
    with emulator.serve() as base_url:
        # One request at a time: the fewest requests (concurrent windows cost at most one
        # partial page per window more; see test_tap_windows.py).
        config = config_for(base_url, max_concurrent_requests=1)
        run = run_tap(config, streams=["bills"], emulator=emulator)
    bills = len(all_ids(emulator, "bills"))
    assert bills == 1200  # 60% of the seeded records: 12 pages of 100
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(run.ids("bills")) == sorted(all_ids(emulator, "bills"))
    requests = list_requests(emulator, "/v3/bills")
    # Keyset paging re-reads the boundary record of each full page: 99 new records per
    # request after the first (see bill_core/paging.py), never a skipped record.
    assert math.ceil(bills / 100) <= len(requests) <= 1 + math.ceil((bills - 100) / 98)
    updated = [r["updatedTime"] for r in run.records["bills"]]
    assert updated == sorted(updated, key=lambda t: t)


def test_start_date_limits_the_first_run_to_records_updated_since(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    bills = sorted(emulator.organization().list("bills"), key=lambda r: r["updatedTime"])
    cut = bills[len(bills) // 2]["updatedTime"]
    tap_config["start_date"] = cut
    run = run_tap(tap_config, streams=["bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = {r["id"] for r in bills if r["updatedTime"] >= cut}
    assert set(run.ids("bills")) == expected
    assert run.bookmark("bills") == bills[-1]["updatedTime"]


@BOTH_READINGS
def test_second_run_resumes_from_state_and_costs_one_request_when_nothing_changed(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    first = run_tap(tap_config, streams=["vendors", "bills", "invoices"], emulator=emulator)
    assert first.returncode == 0, first.stderr[-3000:]
    emulator.clear_requests()
    second = run_tap(
        tap_config,
        state=first.last_state,
        streams=["vendors", "bills", "invoices"],
        emulator=emulator,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    for stream in ("vendors", "bills", "invoices"):
        # Only the record at the bookmark is re-sent (at-least-once), in one request.
        assert len(second.ids(stream)) <= 5, stream
        assert len(list_requests(emulator, f"/v3/{stream}")) == 1, stream
        assert second.bookmark(stream) == first.bookmark(stream)

    changed = emulator.organization().update("bills", first.ids("bills")[0], {"description": "x"})
    third = run_tap(tap_config, state=second.last_state, streams=["bills"], emulator=emulator)
    assert changed["id"] in third.ids("bills")
    assert third.bookmark("bills") == changed["updatedTime"]


def change_bills_on_third_page(emulator: Emulator) -> dict[str, list[str]]:
    """Between page 2 and 3 of /v3/bills: update, archive and create bills."""
    organization = emulator.organization()
    early = sorted(organization.list("bills"), key=lambda r: r["updatedTime"])[:40]
    changes: dict[str, list[str]] = {"updated": [], "archived": [], "created": []}
    pages = Counter[str]()

    def change_between_pages(request: Any) -> None:
        if request.method != "GET" or request.path != "/v3/bills":
            return
        pages["bills"] += 1
        if pages["bills"] != 3:
            return
        # Records already read move to the end: an offset page token now skips some.
        for bill in early[:20]:
            organization.update("bills", bill["id"], {"description": "changed mid-sync"})
            changes["updated"].append(bill["id"])
        for bill in early[20:25]:
            organization.archive("bills", bill["id"])
            changes["archived"].append(bill["id"])
        for _ in range(3):
            changes["created"].append(organization.create("bills", dict(early[30]))["id"])

    emulator.on_request(change_between_pages)
    return changes


def test_records_changed_created_and_archived_while_paging_are_not_lost() -> None:
    emulator = Emulator(EmulatorConfig(records=1000))
    changes = change_bills_on_third_page(emulator)
    with emulator.serve() as base_url:
        run = run_tap(config_for(base_url), streams=["bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(changes["updated"]) == 20  # the change really happened mid-sync
    emitted = set(run.ids("bills"))
    missing = all_ids(emulator, "bills") - emitted
    assert not missing, f"{len(missing)} bills never emitted"
    assert set(changes["created"]) <= emitted
    latest = {r["id"]: r for r in run.records["bills"]}  # the last version of each wins
    assert all(latest[i]["description"] == "changed mid-sync" for i in changes["updated"])
    assert all(latest[i]["archived"] is True for i in changes["archived"])
    # The next incremental run has nothing it missed: only records at the bookmark.
    assert run.bookmark("bills") == max(r["updatedTime"] for r in run.records["bills"])


def test_offset_paging_alone_would_lose_records_under_the_same_changes() -> None:
    """The emulator's page tokens behave like BILL's worst case: proof the keyset is needed."""
    emulator = Emulator(EmulatorConfig(records=1000))
    change_bills_on_third_page(emulator)
    seen: set[str] = set()
    with emulator.serve() as base_url:
        client = get_client(ConnectionSettings.from_config(config_for(base_url)))
        params: dict[str, Any] = {"max": 100, "sort": "updatedTime:asc"}
        while True:
            page = client.call("GET", "/v3/bills", params=params)
            seen.update(r["id"] for r in page["results"])
            if not page.get("nextPage"):
                break
            params = {**params, "page": page["nextPage"]}
    assert all_ids(emulator, "bills") - seen, "offset paging skipped nothing"


def test_long_syncs_log_progress_and_end_with_one_summary_line(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    tap_config["progress_interval"] = 0.000001
    run = run_tap(tap_config, streams=["vendors", "bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    progress = [line for line in run.stderr.splitlines() if "records so far" in line]
    assert any(
        "bills: " in line
        and "requests" in line
        and "records/s" in line
        and "at updatedTime 2026-" in line
        for line in progress
    )
    bills, vendors = len(run.ids("bills")), len(run.ids("vendors"))
    summary = [line for line in run.stderr.splitlines() if "tap-billcom finished in" in line]
    assert len(summary) == 1
    assert f"2 streams, {bills + vendors} records" in summary[0]
    assert "retries" in summary[0]
