"""Seeded data: deterministic, plausible, internally consistent, and faithful to the schemas."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from emulator_helpers import tap_schema

from bill_core import catalog
from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig, Organization
from bill_emulator.fill import REFERENCES
from bill_emulator.seed import counts

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")


@pytest.fixture(scope="module")
def organization() -> Organization:
    """1,000 records: enough that every optional shape occurs at least once."""
    return Emulator(EmulatorConfig(seed=1, records=1000)).organization()


def dump(organization: Organization) -> str:
    return json.dumps({o.stream: organization.list(o.stream) for o in catalog.OBJECTS})


def test_the_same_seed_and_size_give_the_same_organization() -> None:
    first = Emulator(EmulatorConfig(seed=5, records=200)).organization()
    second = Emulator(EmulatorConfig(seed=5, records=200)).organization()
    other = Emulator(EmulatorConfig(seed=6, records=200)).organization()
    assert dump(first) == dump(second)
    assert dump(first) != dump(other)


def test_records_are_spread_with_bills_dominant(organization: Organization) -> None:
    sizes = {o.stream: len(organization.list(o.stream)) for o in catalog.OBJECTS}
    assert {k: sizes[k] for k in counts(1000)} == counts(1000)
    assert sizes["bills"] == 600
    assert (sizes["invoices"], sizes["vendors"], sizes["payments"]) == (150, 50, 70)
    assert (sizes["chart_of_accounts"], sizes["users"], sizes["organization"]) == (12, 3, 1)
    assert 0.3 < sizes["vendor_bank_accounts"] / sizes["vendors"] < 0.7
    per_customer = Counter(r["customerId"] for r in organization.list("customer_contacts"))
    assert set(per_customer.values()) <= {1, 2}
    assert len(per_customer) == sizes["customers"]
    per_bill = Counter(r["billId"] for r in organization.list("bill_documents"))
    assert set(per_bill.values()) <= {1, 2}


def test_small_record_counts_still_seed_one_of_each() -> None:
    assert all(count >= 1 for count in counts(1).values())
    organization = Emulator(EmulatorConfig(records=1)).organization()
    assert len(organization.list("payments")) == 1


def test_ids_carry_the_catalog_prefix_and_timestamps_bills_format(
    organization: Organization,
) -> None:
    for bill_object in catalog.OBJECTS:
        records = organization.list(bill_object.stream)
        ids = [r["id"] for r in records]
        assert len(set(ids)) == len(ids)
        for record in records:
            assert len(record["id"]) == 20
            assert record["id"].startswith(bill_object.id_prefix + "02")
            assert TIMESTAMP.match(record["createdTime"])
            assert record["createdTime"] <= record["updatedTime"] < "2026-10-15"
    assert organization.list("organization")[0]["id"] == DEMO_CREDENTIALS["organization_id"]


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every field, arrays flattened (`billLineItems.amount`)."""
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else key
            yield child_path, child
            yield from walk(child, child_path)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, path)


def test_every_reference_points_at_a_real_record(organization: Organization) -> None:
    ids = {o.stream: {r["id"] for r in organization.list(o.stream)} for o in catalog.OBJECTS}
    checked = Counter[str]()
    for bill_object in catalog.OBJECTS:
        for record in organization.list(bill_object.stream):
            for path, value in walk(record):
                name = path.rsplit(".", 1)[-1]
                target = REFERENCES.get(name)
                if name.endswith("ChartOfAccountId"):
                    target = "chart_of_accounts"
                if target is not None and value is not None:
                    assert value in ids[target], (bill_object.stream, path, value)
                    checked[name] += 1
    assert min(checked["vendorId"], checked["customerId"], checked["chartOfAccountId"]) > 0


def test_payments_and_credits_belong_to_the_party_of_what_they_settle(
    organization: Organization,
) -> None:
    bills = {r["id"]: r for r in organization.list("bills")}
    invoices = {r["id"]: r for r in organization.list("invoices")}
    for payment in organization.list("payments"):
        assert bills[payment["billId"]]["vendorId"] == payment["vendorId"]
    for received in organization.list("receivable_payments"):
        for applied in received["invoicePayments"]:
            assert invoices[applied["invoiceId"]]["customerId"] == received["customerId"]
    for credit in organization.list("vendor_credits"):
        assert all(bills[u["billId"]]["vendorId"] == credit["vendorId"] for u in credit["usage"])
    for memo in organization.list("credit_memos"):
        assert all(
            invoices[u["invoiceId"]]["customerId"] == memo["customerId"] for u in memo["usage"]
        )


def exact(amount: float) -> Decimal:
    value = Decimal(str(amount))
    assert value.as_tuple().exponent >= -2, amount  # type: ignore[operator]
    return value


def test_amounts_add_up(organization: Organization) -> None:
    for bill in organization.list("bills"):
        assert exact(bill["amount"]) == sum(exact(i["amount"]) for i in bill["billLineItems"])
        for item in bill["billLineItems"]:
            if "quantity" in item:
                assert exact(item["amount"]) == item["quantity"] * exact(item["price"])
        due = exact(bill["amount"]) - exact(bill["paidAmount"]) - exact(bill["creditAmount"])
        assert exact(bill["dueAmount"]) == due
        assert 0 <= due <= exact(bill["amount"])
    for invoice in organization.list("invoices"):
        lines = invoice["invoiceLineItems"]
        assert exact(invoice["totalAmount"]) == sum(
            exact(i["price"]) * i["quantity"] for i in lines
        )
        assert 0 <= exact(invoice["dueAmount"]) <= exact(invoice["totalAmount"])
    statuses = Counter(b["paymentStatus"] for b in organization.list("bills"))
    assert min(statuses["PAID"], statuses["UNPAID"], statuses["SCHEDULED"]) > 0


def test_vendor_balances_are_what_is_due_on_their_bills(organization: Organization) -> None:
    due = Counter[str]()
    for bill in organization.list("bills"):
        if not bill["archived"]:
            due[bill["vendorId"]] += round(bill["dueAmount"] * 100)
    for vendor in organization.list("vendors"):
        assert round(vendor["balance"]["amount"] * 100) == due[vendor["id"]]


def test_about_five_percent_share_an_updated_time_in_small_groups(
    organization: Organization,
) -> None:
    bills = organization.list("bills")
    groups = Counter(r["updatedTime"] for r in bills)
    tied = [size for size in groups.values() if size > 1]
    assert tied
    assert max(tied) <= 5
    assert 0.02 <= sum(tied) / len(bills) <= 0.09
    archived = [
        r["archived"] for o in catalog.OBJECTS if o.archivable for r in organization.list(o.stream)
    ]
    assert 0.02 <= sum(archived) / len(archived) <= 0.09


def schema_paths(node: dict[str, Any], path: str = "") -> Iterator[str]:
    for key, child in node.get("properties", {}).items():
        child_path = f"{path}.{key}" if path else key
        yield child_path
        items = child.get("items", {})
        yield from schema_paths(child, child_path)
        yield from schema_paths(items, child_path)


@pytest.mark.parametrize("stream", [o.stream for o in catalog.OBJECTS])
def test_every_documented_field_appears_and_records_match_their_schema(
    organization: Organization, stream: str
) -> None:
    schema = tap_schema(stream)
    assert schema is not None, f"bill_core/schemas/{stream}.json is missing"
    records = organization.list(stream)
    seen = {path for record in records for path, _ in walk(record)}
    missing = sorted(set(schema_paths(schema)) - seen)
    assert not missing, f"{stream}: never generated: {missing}"
    validator = jsonschema.Draft7Validator(schema)
    for record in records:
        errors = [e.message for e in validator.iter_errors(record)]
        assert not errors, (stream, record["id"], errors[:3])
