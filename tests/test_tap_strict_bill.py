"""tap-billcom against a BILL that takes less than its docs leave open (the emulator's
switches, bill_emulator/README.md): no `filters` beside a `page` token, and `updatedTime`
filters only where https://developer.bill.com/docs/filterable-fields documents them. Every
record is still read, once, and filter times go out in BILL's documented form."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bill_emulator import Emulator, EmulatorConfig
from bill_emulator.formats import SeedRandom, new_id
from tests.conftest import config_for
from tests.taprun import run_tap

UNDOCUMENTED = ["payments", "receivable_payments", "credit_memos", "vendor_credits", "users"]
#: BILL's documented form of a filter time (https://developer.bill.com/docs/search-op-with-lists).
DOCUMENTED_TIME = re.compile(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"')


def ids(emulator: Emulator, stream: str, **where: Any) -> set[str]:
    return {
        r["id"]
        for r in emulator.organization().list(stream)
        if all(r.get(k) == v for k, v in where.items())
    }


def add_copies(emulator: Emulator, stream: str, count: int, **fields: Any) -> list[str]:
    """`count` copies of a record of `stream` with new ids and the given fields (times
    included: bulk-loaded, so many may share one updatedTime)."""
    organization = emulator.organization()
    model = organization.list(stream)[0]
    draw = SeedRandom(f"copies:{stream}")
    copies = [
        {**model, **fields, "id": new_id(model["id"][:3], draw), "archived": index % 3 == 0}
        for index in range(count)
    ]
    organization.load({stream: copies}, 0)
    return [c["id"] for c in copies]


def page_requests(emulator: Emulator, path: str) -> list[Any]:
    return [r for r in emulator.requests if r.path == path and "page" in r.query]


@pytest.mark.parametrize("workers", [1, 3])
def test_a_block_of_250_bills_at_one_updated_time_is_read_through_page_tokens_alone(
    workers: int,
) -> None:
    emulator = Emulator(EmulatorConfig(records=300, refuse_filters_with_page=True))
    stamp = "2026-05-05T05:05:05.505+00:00"
    block = add_copies(emulator, "bills", 250, createdTime=stamp, updatedTime=stamp)
    with emulator.serve() as base_url:
        config = config_for(base_url, max_concurrent_requests=workers)
        run = run_tap(config, streams=["bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    emitted = run.ids("bills")
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == ids(emulator, "bills")
    assert set(block) <= set(emitted)
    tokens = page_requests(emulator, "/v3/bills")
    assert tokens  # the block was crossed by BILL's page token
    assert all("filters" not in r.query and "sort" not in r.query for r in tokens)
    assert all(r.status == 200 for r in emulator.requests)


@pytest.mark.parametrize("refuse", [True, False], ids=["strict-bill", "plausible-bill"])
def test_a_full_table_list_without_archived_records_reads_every_page(refuse: bool) -> None:
    emulator = Emulator(EmulatorConfig(records=300, refuse_filters_with_page=refuse))
    add_copies(emulator, "departments", 260)
    with emulator.serve() as base_url:
        config = config_for(base_url, include_archived=False)
        run = run_tap(config, streams=["departments"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    emitted = run.ids("departments")
    assert sorted(emitted) == sorted(ids(emulator, "departments", archived=False))
    assert len(emitted) > 150
    first = next(r for r in emulator.requests if r.path == "/v3/classifications/departments")
    assert first.query["filters"] == ["archived:eq:false"]
    assert page_requests(emulator, "/v3/classifications/departments")


@pytest.mark.parametrize("refuse", [True, False], ids=["strict-bill", "plausible-bill"])
def test_an_incremental_run_reads_undocumented_lists_without_the_filter_if_refused(
    refuse: bool,
) -> None:
    emulator = Emulator(
        EmulatorConfig(
            records=3000,
            refuse_undocumented_updated_time_filter=refuse,
            refuse_filters_with_page=refuse,
        )
    )
    organization = emulator.organization()
    with emulator.serve() as base_url:
        config = config_for(base_url)
        first = run_tap(config, streams=[*UNDOCUMENTED, "vendors"], emulator=emulator)
        assert first.returncode == 0, first.stderr[-3000:]
        for stream in (*UNDOCUMENTED, "vendors"):
            assert sorted(first.ids(stream)) == sorted(ids(emulator, stream)), stream
        changed = {
            stream: organization.update(stream, organization.list(stream)[1]["id"], {})["id"]
            for stream in UNDOCUMENTED
        }
        emulator.clear_requests()
        second = run_tap(
            config, state=first.last_state, streams=[*UNDOCUMENTED, "vendors"], emulator=emulator
        )
    assert second.returncode == 0, second.stderr[-3000:]
    refused = [line for line in second.stderr.splitlines() if "refused the updatedTime" in line]
    assert len(refused) == (len(UNDOCUMENTED) if refuse else 0)
    for stream in UNDOCUMENTED:
        emitted = second.ids(stream)
        # The changed record, and the record(s) at the old bookmark again (at least once).
        assert changed[stream] in emitted, stream
        assert len(emitted) <= 6, (stream, len(emitted))
        assert second.bookmark(stream) == organization.get(stream, changed[stream])["updatedTime"]
    # Vendors (documented) still filter, and nothing changed there: one request.
    assert len([r for r in emulator.requests if r.path == "/v3/vendors"]) == 1
    payments = [r for r in emulator.requests if r.path == "/v3/payments"]
    if refuse:  # the whole list is read again: about a page per 100 payments
        assert len(payments) >= 1 + len(ids(emulator, "payments")) // 100
    else:
        assert len(payments) == 1


def test_every_filter_time_goes_out_in_bills_documented_form(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """Records and bookmarks hold BILL's answer form (`...+00:00`); the filters of follow-on
    pages, windows and later runs use the documented `...Z`."""
    tap_config["max_concurrent_requests"] = 1
    first = run_tap(tap_config, streams=["bills", "vendors", "payments"], emulator=emulator)
    assert first.returncode == 0, first.stderr[-3000:]
    assert str(first.bookmark("bills")).endswith("+00:00")
    assert len(first.ids("bills")) > 100  # a follow-on page starts from a record's time
    tap_config["max_concurrent_requests"] = 3
    second = run_tap(
        tap_config, state=first.last_state, streams=["bills", "vendors"], emulator=emulator
    )
    assert second.returncode == 0, second.stderr[-3000:]
    filters = [f for r in emulator.requests for f in r.query.get("filters", [])]
    assert filters
    times = [t for f in filters for t in re.findall(r'"[^"]*"', f)]
    assert times
    assert all(DOCUMENTED_TIME.fullmatch(t) for t in times), times
