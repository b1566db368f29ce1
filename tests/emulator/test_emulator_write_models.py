"""The write logic without HTTP: `bill_emulator.writes` on an Organization."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from emulator_helpers import tap_schema

from bill_emulator import Emulator, EmulatorConfig, Organization, writes
from bill_emulator.errors import BillError, InvalidRequestError
from bill_emulator.routes import find
from bill_emulator.views import present


@pytest.fixture
def organization() -> Organization:
    return Emulator(EmulatorConfig(seed=3, records=200)).organization()


def active(organization: Organization, stream: str) -> list[dict[str, Any]]:
    return [r for r in organization.list(stream) if not r.get("archived")]


def new_bill(organization: Organization, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return writes.create(
        organization,
        "bills",
        {
            "vendorId": active(organization, "vendors")[0]["id"],
            "dueDate": "2026-01-31",
            "invoice": {"invoiceNumber": "M-1", "invoiceDate": "2026-01-01"},
            "billLineItems": lines,
        },
    )


def refused(error: pytest.ExceptionInfo[BillError]) -> list[str]:
    assert isinstance(error.value, InvalidRequestError)
    return [message for _, message in error.value.errors]


def test_amounts_are_exact_decimal_sums_rounded_to_cents(organization: Organization) -> None:
    bill = new_bill(
        organization,
        [{"amount": 0.1}, {"amount": 0.2}, {"price": 19.99, "quantity": 2.5}, {"amount": "12.50"}],
    )
    assert [line["amount"] for line in bill["billLineItems"]] == [0.1, 0.2, 49.98, 12.5]
    assert [line["quantity"] for line in bill["billLineItems"]] == [1, 1, 2.5, 1]
    assert json.dumps(bill["amount"]) == "62.78"
    assert (bill["dueAmount"], bill["fundingAmount"], bill["paymentStatus"]) == (
        62.78,
        62.78,
        "UNPAID",
    )


def test_a_refused_bulk_create_stores_nothing_and_takes_no_time(
    organization: Organization,
) -> None:
    vendors = len(organization.list("vendors"))
    newest = max(r["updatedTime"] for r in organization.list("vendors"))
    with pytest.raises(BillError) as error:
        writes.create_many(
            organization, "vendors", [{"name": "A"}, {"name": "a"}, {}], unique_vendor_names=True
        )
    assert refused(error) == [
        '[1] name: a vendor named "a" already exists',
        "[2] name: is required",
    ]
    assert error.value.status == 400
    assert [e["message"] for e in error.value.body(0)] == refused(error)
    assert len(organization.list("vendors")) == vendors
    assert max(r["updatedTime"] for r in organization.list("vendors")) == newest


def test_patching_a_line_by_id_merges_it_and_recomputes_the_amounts(
    organization: Organization,
) -> None:
    bill = new_bill(organization, [{"price": 10, "quantity": 3}, {"amount": 5}])
    first, second = (line["id"] for line in bill["billLineItems"])
    patched = writes.update(
        organization,
        "bills",
        bill["id"],
        {"billLineItems": [{"id": first, "quantity": 4}, {"id": second, "description": "d"}]},
    )
    lines = patched["billLineItems"]
    assert [(line["id"], line["amount"]) for line in lines] == [(first, 40), (second, 5)]
    assert lines[1]["description"] == "d"
    assert patched["amount"] == 45
    one_unit = writes.update(
        organization, "bills", bill["id"], {"billLineItems": [{"id": first, "amount": 7.5}]}
    )
    assert one_unit["billLineItems"][0] == {"id": first, "amount": 7.5, "quantity": 1, "price": 7.5}


def test_patch_merges_nested_objects_and_null_removes(organization: Organization) -> None:
    bill = new_bill(organization, [{"amount": 1}])
    patched = writes.update(
        organization,
        "bills",
        bill["id"],
        {"invoice": {"invoiceDate": "2026-02-01"}, "purchaseOrderNumber": "PO-1"},
    )
    assert patched["invoice"] == {"invoiceNumber": "M-1", "invoiceDate": "2026-02-01"}
    cleared = writes.update(organization, "bills", bill["id"], {"purchaseOrderNumber": None})
    assert "purchaseOrderNumber" not in cleared
    with pytest.raises(BillError) as error:
        writes.update(organization, "bills", bill["id"], {"invoice": {"invoiceNumber": None}})
    assert refused(error) == ["invoice.invoiceNumber: is required"]


def test_patching_the_vendor_of_a_bill_renames_it_and_checks_it_exists(
    organization: Organization,
) -> None:
    bill = new_bill(organization, [{"amount": 1}])
    other = active(organization, "vendors")[1]
    patched = writes.update(organization, "bills", bill["id"], {"vendorId": other["id"]})
    assert (patched["vendorId"], patched["vendorName"]) == (other["id"], other["name"])
    with pytest.raises(BillError) as error:
        writes.update(organization, "bills", bill["id"], {"vendorId": "00902NOPE"})
    assert refused(error) == ["vendorId: 00902NOPE does not exist"]


def test_patch_keeps_a_vendors_bank_account(organization: Organization) -> None:
    bank = {"nameOnAccount": "V", "accountNumber": "123456789", "routingNumber": "011000138"}
    vendor = writes.create(
        organization,
        "vendors",
        {"name": "Banked Vendor", "paymentInformation": {"payeeName": "V", "bankAccount": bank}},
    )
    assert vendor["bankAccountStatus"] == "NO_NET_LINKED_ACCOUNT"
    [account] = organization.store("vendor_bank_accounts").children(vendor["id"])
    assert (account["accountNumber"], account["status"]) == ("123456789", "PENDING")
    patched = writes.update(
        organization,
        "vendors",
        vendor["id"],
        {"paymentInformation": {"payeeName": "W", "bankAccount": {"accountNumber": "999000111"}}},
    )
    assert patched["paymentInformation"] == {"payeeName": "W", "bankAccount": bank}


def test_an_invoice_customer_is_written_as_customer_and_read_as_customer_id(
    organization: Organization,
) -> None:
    first, second = (c["id"] for c in active(organization, "customers")[:2])
    invoice = writes.create(
        organization,
        "invoices",
        {"customer": {"id": first}, "invoiceLineItems": [{"quantity": 3, "price": 0.1}]},
    )
    assert (invoice["customerId"], invoice["totalAmount"]) == (first, 0.3)
    patched = writes.update(organization, "invoices", invoice["id"], {"customer": {"id": second}})
    assert patched["customerId"] == second
    assert "customer" not in patched
    with pytest.raises(BillError) as error:
        writes.update(organization, "invoices", invoice["id"], {"customer": {"id": None}})
    assert refused(error) == ["customer.id: is required"]


def test_put_keeps_an_invoices_number_and_dates_and_what_was_paid(
    organization: Organization,
) -> None:
    paid = next(i for i in organization.list("invoices") if i["payments"] and i["status"] == "PAID")
    paid_amount = sum(p["amount"] for p in paid["payments"])
    replaced = writes.replace(
        organization,
        "invoices",
        paid["id"],
        {
            "customer": {"id": paid["customerId"]},
            "invoiceLineItems": [{"quantity": 1, "price": paid["totalAmount"] + 100}],
        },
    )
    assert (replaced["invoiceNumber"], replaced["invoiceDate"]) == (
        paid["invoiceNumber"],
        paid["invoiceDate"],
    )
    assert replaced["payments"] == paid["payments"]
    due = round(paid["totalAmount"] + 100 - paid_amount - paid["creditAmount"], 2)
    assert (replaced["dueAmount"], replaced["status"]) == (due, "PARTIAL_PAYMENT")
    assert replaced["createdTime"] == paid["createdTime"]


def test_put_recomputes_what_is_due_on_a_partly_paid_bill(organization: Organization) -> None:
    bill = next(b for b in organization.list("bills") if b["paidAmount"] > 0)
    body = {
        "vendorId": bill["vendorId"],
        "dueDate": bill["dueDate"],
        "invoice": bill["invoice"],
        "billLineItems": [{"amount": bill["paidAmount"] + bill["creditAmount"]}],
    }
    replaced = writes.replace(organization, "bills", bill["id"], body)
    assert (replaced["dueAmount"], replaced["paymentStatus"]) == (0, "PAID")
    assert replaced["paidAmount"] == bill["paidAmount"]
    assert "description" not in replaced  # PUT replaces: fields left out are gone
    assert replaced.get("approvers") == bill.get("approvers")  # what BILL keeps stays


def test_archiving_twice_changes_nothing_the_second_time(organization: Organization) -> None:
    customer = active(organization, "customers")[0]
    archived = writes.archive(organization, "customers", customer["id"])
    assert archived["updatedTime"] > customer["updatedTime"]
    assert writes.archive(organization, "customers", customer["id"]) is archived
    restored = writes.restore(organization, "customers", customer["id"])
    assert restored["archived"] is False
    assert restored["updatedTime"] > archived["updatedTime"]


@pytest.mark.parametrize(
    ("method", "path", "handler"),
    [
        ("POST", "/v3/vendors", "create_record"),
        ("POST", "/v3/vendors/bulk", "create_bulk"),
        ("POST", "/v3/bills/bulk", "create_bulk"),
        ("PATCH", "/v3/customers/0cu02X", "update_record"),
        ("PUT", "/v3/invoices/00e02X", "replace_record"),
        ("POST", "/v3/bills/00n02X/archive", "archive_record"),
        ("POST", "/v3/invoices/00e02X/restore", "restore_record"),
    ],
)
def test_write_routes_come_from_the_catalog(method: str, path: str, handler: str) -> None:
    found = find(method, path)
    assert found is not None
    assert found[0].handler.__name__ == handler


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v3/customers/bulk"),  # BILL has no customer or invoice bulk create
        ("POST", "/v3/invoices/bulk"),
        ("PUT", "/v3/vendors/00902X"),  # vendors and customers are only PATCHed
        ("PUT", "/v3/customers/0cu02X"),
    ],
)
def test_writes_bill_does_not_offer_are_not_routed(method: str, path: str) -> None:
    assert find(method, path) is None


def test_created_objects_match_the_read_schemas(organization: Organization) -> None:
    account = active(organization, "chart_of_accounts")[0]["id"]
    term = organization.list("payment_terms")[0]["id"]
    bodies = {
        "vendors": {
            "name": "Schema Vendor",
            "address": {"line1": "1 Main St", "city": "San Jose", "country": "US"},
            "paymentInformation": {"payeeName": "Schema Vendor", "email": None},
            "billCurrency": "USD",
        },
        "customers": {"name": "Schema Customer", "email": "s@c.example", "paymentTermId": term},
        "bills": {
            "vendorId": active(organization, "vendors")[0]["id"],
            "dueDate": "2026-01-31",
            "invoice": {"invoiceNumber": "S-1", "invoiceDate": "2026-01-01"},
            "billLineItems": [{"amount": 5, "classifications": {"chartOfAccountId": account}}],
            "payFromChartOfAccountId": account,
        },
        "invoices": {
            "customer": {"id": active(organization, "customers")[0]["id"]},
            "invoiceDate": None,
            "invoiceLineItems": [{"quantity": 1, "price": 5, "description": "d"}],
            "payToChartOfAccountId": account,
        },
    }
    for stream, body in bodies.items():
        shown = present(stream, writes.create(organization, stream, body))
        schema = tap_schema(stream)
        assert schema is not None
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(shown)]
        assert not errors, (stream, errors)
        assert None not in shown.values()
        assert set(shown) <= set(schema["properties"]), stream
