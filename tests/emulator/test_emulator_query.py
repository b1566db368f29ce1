"""List queries without HTTP: filters, sort, offset paging, validation, and the fast path."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from bill_core import catalog
from bill_emulator import Emulator, EmulatorConfig, Organization
from bill_emulator.errors import BillError
from bill_emulator.formats import format_time
from bill_emulator.query import build, encode_token, envelope, run
from bill_emulator.store import RecordStore


@pytest.fixture(scope="module")
def seeded() -> Emulator:
    return Emulator(EmulatorConfig(seed=3, records=600))


@pytest.fixture
def organization() -> Organization:
    """A fresh organization for tests that change records."""
    return Emulator(EmulatorConfig(seed=3, records=300)).organization()


def page(organization: Organization, stream: str, **params: Any) -> dict[str, Any]:
    path = catalog.get(stream).path
    query = build({k: [str(v)] for k, v in params.items()}, stream, path)
    with organization.lock:
        results, total = run(organization.stores[stream], query)
    return envelope(query, results, total)


def every(organization: Organization, stream: str, **params: Any) -> list[dict[str, Any]]:
    """All results of a query, following nextPage."""
    found: list[dict[str, Any]] = []
    answer = page(organization, stream, **params)
    found += answer["results"]
    while "nextPage" in answer:
        answer = page(organization, stream, page=answer["nextPage"], max=params.get("max", 20))
        found += answer["results"]
    return found


def error_code(organization: Organization, stream: str, **params: Any) -> str:
    with pytest.raises(BillError) as refused:
        page(organization, stream, **params)
    assert refused.value.status == 400
    return refused.value.code


# -- filters -------------------------------------------------------------------------------


def test_eq_ne_and_in_on_ids(seeded: Emulator) -> None:
    organization = seeded.organization()
    vendors = organization.list("vendors")
    first, second = vendors[0]["id"], vendors[1]["id"]
    assert [v["id"] for v in every(organization, "vendors", filters=f"id:eq:{first}")] == [first]
    found = every(organization, "vendors", filters=f'id:in:"{first},{second}"', max=100)
    assert {v["id"] for v in found} == {first, second}
    rest = every(organization, "vendors", filters=f"id:ne:{first}", max=100)
    assert len(rest) == len(vendors) - 1


def test_quoted_in_and_nin_lists_may_hold_commas(seeded: Emulator) -> None:
    organization = seeded.organization()
    customers = organization.list("customers")
    both = every(organization, "customers", filters='invoiceCurrency:in:"USD,CAD"', max=100)
    assert len(both) == len(customers)
    canadian = every(organization, "customers", filters='invoiceCurrency:nin:"USD"', max=100)
    assert canadian
    assert {c["invoiceCurrency"] for c in canadian} == {"CAD"}


def test_starts_with_booleans_and_dotted_fields(seeded: Emulator) -> None:
    organization = seeded.organization()
    vendors = organization.list("vendors")
    prefix = vendors[0]["name"][:4]
    named = every(organization, "vendors", filters=f'name:sw:"{prefix}"', max=100)
    assert named == [v for v in vendors if v["name"].startswith(prefix)]
    active = every(organization, "vendors", filters="archived:eq:false", max=100)
    assert active == [v for v in vendors if not v["archived"]]
    assert every(organization, "vendors", filters="archived:eq:TRUE", max=100) == [
        v for v in vendors if v["archived"]
    ]
    in_canada = every(organization, "vendors", filters="address.country:eq:CA", max=100)
    assert in_canada == [v for v in vendors if v["address"]["country"] == "CA"]


def test_several_clauses_are_and_ed(seeded: Emulator) -> None:
    organization = seeded.organization()
    bills = organization.list("bills")
    vendor = bills[0]["vendorId"]
    found = every(
        organization,
        "bills",
        filters=f"vendorId:eq:{vendor},archived:eq:false,dueDate:gte:2026-02-01",
    )
    expected = [
        b
        for b in bills
        if b["vendorId"] == vendor and not b["archived"] and b["dueDate"] >= "2026-02-01"
    ]
    assert found == expected


@pytest.mark.parametrize(
    "value",
    [
        '"2026-05-01T00:00:00.000Z"',
        '"2026-05-01T00:00:00.000+00:00"',
        '"2026-05-01T02:00:00.000+02:00"',
        '"2026-05-01T00:00:00.000"',
        '"2026-05-01T00:00:00"',
        '"2026-05-01T00:00"',
        '"2026-05-01"',
        "2026-05-01",
    ],
)
def test_date_time_filters_accept_every_documented_form_and_compare_instants(
    seeded: Emulator, value: str
) -> None:
    organization = seeded.organization()
    found = every(organization, "bills", filters=f"updatedTime:gte:{value}", max=100)
    expected = [b for b in organization.list("bills") if b["updatedTime"] >= "2026-05-01T00:00"]
    assert {b["id"] for b in found} == {b["id"] for b in expected}
    assert len(found) == len(expected)


def test_range_filters_on_both_ends(seeded: Emulator) -> None:
    organization = seeded.organization()
    low, high = "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"
    found = every(
        organization, "bills", filters=f'createdTime:gt:"{low}",createdTime:lt:"{high}"', max=100
    )
    assert found
    assert all("2026-03-01" < b["createdTime"] < "2026-04-01" for b in found)
    assert len(found) == sum(
        "2026-03-01T00:00:00.000" < b["createdTime"] < "2026-04-01"
        for b in organization.list("bills")
    )


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ("color:eq:blue", "BDC_1130"),
        ("dueDate:gt:2026-01-01", "BDC_1130"),  # a bill filter, not a vendor one
        ("name:gt:A", "BDC_1131"),
        ("archived:in:true", "BDC_1131"),
        ("name:like:A", "BDC_1131"),
        ("name", "BDC_1129"),
        ('createdTime:gt:"last week"', "BDC_1129"),
        ("archived:eq:maybe", "BDC_1129"),
    ],
)
def test_invalid_filters_are_refused_with_bills_codes(
    seeded: Emulator, filters: str, code: str
) -> None:
    assert error_code(seeded.organization(), "vendors", filters=filters) == code


# -- sort ----------------------------------------------------------------------------------


def test_default_order_is_created_time_ascending_with_id_tie_break(seeded: Emulator) -> None:
    organization = seeded.organization()
    found = every(organization, "bills", max=100)
    assert found == sorted(found, key=lambda b: (b["createdTime"], b["id"]))
    assert len(found) == len(organization.list("bills"))


@pytest.mark.parametrize(
    ("stream", "field"),
    [("vendors", "name"), ("bills", "dueDate"), ("bills", "updatedTime"), ("bills", "createdTime")],
)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_orders_by_the_field_with_ids_breaking_ties(
    seeded: Emulator, stream: str, field: str, direction: str
) -> None:
    organization = seeded.organization()
    found = every(organization, stream, sort=f"{field}:{direction}", max=100)
    expected = sorted(
        organization.list(stream), key=lambda r: (r[field], r["id"]), reverse=direction == "desc"
    )
    assert [r["id"] for r in found] == [r["id"] for r in expected]


@pytest.mark.parametrize(
    ("sort", "code"),
    [
        ("amount:asc", "BDC_1130"),
        ("name:up", "BDC_1129"),
        ("name:", "BDC_1129"),
        ("name:asc,email:desc", "BDC_1129"),
    ],
)
def test_invalid_sort_is_refused(seeded: Emulator, sort: str, code: str) -> None:
    assert error_code(seeded.organization(), "vendors", sort=sort) == code


# -- paging --------------------------------------------------------------------------------


def test_envelope_omits_next_and_previous_page_when_there_is_none(seeded: Emulator) -> None:
    organization = seeded.organization()
    single = page(organization, "roles", max=100)
    assert list(single) == ["results"]
    first = page(organization, "vendors", max=10)
    assert list(first) == ["nextPage", "results"]
    middle = page(organization, "vendors", page=first["nextPage"])
    assert list(middle) == ["nextPage", "prevPage", "results"]
    back = page(organization, "vendors", page=middle["prevPage"])
    assert back == first
    last = every(organization, "vendors", max=10)
    assert len(last) == len(organization.list("vendors"))
    tail = page(organization, "vendors", max=10, sort="name:asc")
    while "nextPage" in tail:
        tail = page(organization, "vendors", page=tail["nextPage"])
    assert list(tail) == ["prevPage", "results"]


def test_max_defaults_to_20_and_must_be_1_to_100(seeded: Emulator) -> None:
    organization = seeded.organization()
    assert len(page(organization, "bills")["results"]) == 20
    assert len(page(organization, "bills", max=1)["results"]) == 1
    assert len(page(organization, "bills", max=100)["results"]) == 100
    for bad in (0, 101, -5, "ten", ""):
        assert error_code(organization, "bills", max=bad) == "BDC_1129"


def test_a_page_token_carries_filters_and_sort_and_refuses_others(seeded: Emulator) -> None:
    organization = seeded.organization()
    filters, sort = "archived:eq:false", "name:desc"
    first = page(organization, "vendors", filters=filters, sort=sort, max=5)
    token = first["nextPage"]
    alone = page(organization, "vendors", page=token)
    repeated = page(organization, "vendors", page=token, filters=filters, sort=sort, max=5)
    assert alone == repeated
    assert {v["id"] for v in alone["results"]}.isdisjoint(v["id"] for v in first["results"])
    changed = error_code(organization, "vendors", page=token, filters="archived:eq:true")
    assert changed == "BDC_1129"
    assert error_code(organization, "vendors", page=token, sort="name:asc") == "BDC_1129"
    assert error_code(organization, "vendors", page="not-a-token") == "BDC_1129"
    assert error_code(organization, "customers", page=token) == "BDC_1129"


def test_offset_tokens_shift_when_a_record_changes_between_pages(
    organization: Organization,
) -> None:
    """BILL's worst case: an update between two page requests skips a record for a client
    that trusts the next page token (and a keyset client would not)."""
    params = {"filters": 'updatedTime:gte:"2026-01-01"', "sort": "updatedTime:asc", "max": 10}
    before = [b["id"] for b in every(organization, "bills", **params)]
    first = page(organization, "bills", **params)
    moved = first["results"][3]["id"]
    organization.update("bills", moved, {"description": "changed between pages"})
    second = page(organization, "bills", page=first["nextPage"])
    assert second["results"][0]["id"] == before[11]  # before[10] slid onto page one: skipped
    after = [b["id"] for b in every(organization, "bills", **params)]
    assert after[-1] == moved
    assert sorted(after) == sorted(before)


def test_archived_records_are_listed_unless_filtered_out(seeded: Emulator) -> None:
    organization = seeded.organization()
    listed = every(organization, "bills", max=100)
    assert any(b["archived"] for b in listed)


# -- the incremental query is fast at any size ---------------------------------------------


def synthetic_bills(count: int) -> RecordStore:
    store = RecordStore(catalog.get("bills"))
    start = 1_767_225_600_000
    store.load(
        {
            "id": f"00n02{i:015d}",
            "createdTime": format_time(start + i * 60_000),
            "updatedTime": format_time(start + i * 60_000 + (i % 7) * 500),
            "archived": False,
        }
        for i in range(count)
    )
    return store


def test_incremental_query_over_30000_bills_takes_well_under_5_ms_of_cpu() -> None:
    store = synthetic_bills(30_000)
    bills = catalog.get("bills")
    params = {
        "filters": ['updatedTime:gte:"2026-01-10T00:00:00.000Z"'],
        "sort": ["updatedTime:asc"],
        "max": ["100"],
    }
    timings = []
    for _ in range(30):
        started = time.process_time()
        query = build(params, "bills", bills.path)
        results, total = run(store, query)
        envelope(query, results, total)
        timings.append(time.process_time() - started)
    assert len(results) == 100
    assert total == sum(
        k >= ("2026-01-10T00:00:00.000+00:00", "") for k in store.indexes["updatedTime"]
    )
    assert statistics.median(timings) < 0.005


def test_the_indexed_path_agrees_with_a_full_scan() -> None:
    store = synthetic_bills(500)
    bills = catalog.get("bills")
    everything = sorted(store, key=lambda r: (r["updatedTime"], r["id"]))
    low, high = everything[100]["updatedTime"], everything[300]["updatedTime"]
    for filters in (
        f'updatedTime:gte:"{low}",updatedTime:lt:"{high}"',
        f'updatedTime:gt:"{low}",updatedTime:lte:"{high}"',
    ):
        for direction in ("asc", "desc"):
            query = build(
                {"filters": [filters], "sort": [f"updatedTime:{direction}"], "max": ["100"]},
                "bills",
                bills.path,
            )
            expected = [r for r in everything if _within(r["updatedTime"], filters)]
            if direction == "desc":
                expected.reverse()
            offset_query = build({"page": [encode_token(query, 50)]}, "bills", bills.path)
            assert run(store, query) == (expected[:100], len(expected))
            assert run(store, offset_query) == (expected[50:150], len(expected))


def _within(stamp: str, filters: str) -> bool:
    low_op, rest = filters.split(":", 2)[1], filters.split(",")[1]
    low = filters.split('"')[1]
    high_op, high = rest.split(":", 2)[1], rest.split('"')[1]
    above = stamp >= low if low_op == "gte" else stamp > low
    below = stamp < high if high_op == "lt" else stamp <= high
    return above and below
