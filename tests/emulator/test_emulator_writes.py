"""The write side over HTTP: create, bulk create, PATCH, PUT, archive and restore of vendors,
customers, bills and invoices, read back as a client would."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, codes, messages
from write_helpers import PREFIXES, bill_body, body_for, ids, invoice_body, vendor_body

from bill_emulator import Emulator

# -- create and read back ------------------------------------------------------------------


@pytest.mark.parametrize("stream", list(PREFIXES))
def test_a_created_object_reads_back_the_same_by_id_and_in_lists(
    emulator: Emulator, api: Api, stream: str
) -> None:
    answer = api.post(f"/v3/{stream}", body_for(stream, emulator.organization()))
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["id"].startswith(PREFIXES[stream] + "02")
    assert len(created["id"]) == 20
    assert created["createdTime"] == created["updatedTime"]
    assert created["archived"] is False
    assert api.get(f"/v3/{stream}/{created['id']}").json() == created
    listed = api.get(f"/v3/{stream}", filters=f'id:eq:"{created["id"]}"').json()["results"]
    assert listed == [created]
    newest = api.get(f"/v3/{stream}", sort="updatedTime:desc", max=1).json()["results"]
    assert newest == [created]


def test_a_created_bill_has_the_fields_bill_derives(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    body = bill_body(organization)
    body["billLineItems"].append({"price": 19.99, "quantity": 3})
    bill = api.post("/v3/bills", body).json()
    vendor = organization.get("vendors", body["vendorId"])
    assert bill["vendorName"] == vendor["name"]
    assert bill["invoice"] == {"invoiceNumber": "202501", "invoiceDate": "2025-12-01"}
    assert [line["amount"] for line in bill["billLineItems"]] == [149, 79.99, 59.97]
    assert all(line["id"].startswith("bli02") for line in bill["billLineItems"])
    assert (bill["amount"], bill["dueAmount"], bill["paidAmount"]) == (288.96, 288.96, 0)
    assert (bill["paymentStatus"], bill["approvalStatus"]) == ("UNPAID", "UNASSIGNED")
    assert '"amount":288.96' in api.get(f"/v3/bills/{bill['id']}").text  # an exact number


def test_a_created_invoice_is_read_with_customer_id_and_bill_defaults(
    emulator: Emulator, api: Api
) -> None:
    organization = emulator.organization()
    body = invoice_body(organization)
    del body["invoiceNumber"], body["dueDate"]
    invoice = api.post("/v3/invoices", body).json()
    assert "customer" not in invoice
    assert "processingOptions" not in invoice
    assert invoice["customerId"] == body["customer"]["id"]
    assert (invoice["totalAmount"], invoice["dueAmount"]) == (79.98, 79.98)
    assert invoice["status"] == "OPEN"
    today = organization.today()
    assert (invoice["invoiceDate"], invoice["dueDate"]) == (today, today)
    assert invoice["invoiceNumber"].startswith("INV-")
    numbers = [r["invoiceNumber"] for r in organization.list("invoices")]
    assert numbers.count(invoice["invoiceNumber"]) == 1
    assert all(line["id"].startswith("00f02") for line in invoice["invoiceLineItems"])


def test_created_vendors_and_customers_start_with_a_zero_balance(api: Api) -> None:
    vendor = api.post("/v3/vendors", vendor_body(address={"line1": "1 Main St"})).json()
    assert vendor["balance"] == {"amount": 0}
    assert vendor["address"] == {"line1": "1 Main St"}
    customer = api.post("/v3/customers", {"name": "Drum Club", "email": "c@d.example"}).json()
    assert customer["balance"] == {"amount": 0}


def test_a_vendor_bank_account_given_on_create_is_masked_and_readable_alone(
    emulator: Emulator, api: Api
) -> None:
    bank = {
        "nameOnAccount": "Bill Vendorson",
        "accountNumber": "111222333",
        "routingNumber": "074000010",
    }
    body = vendor_body(paymentInformation={"payeeName": "Happy", "bankAccount": bank})
    vendor = api.post("/v3/vendors", body).json()
    assert vendor["paymentInformation"]["bankAccount"]["accountNumber"] == "xxxxxx2333"
    account = api.get(f"/v3/vendors/{vendor['id']}/bank-account").json()
    assert (account["accountNumber"], account["status"]) == ("xxxxxx2333", "PENDING")
    assert "111222333" in emulator.secret_values()


# -- bulk ----------------------------------------------------------------------------------


def test_bulk_vendors_take_20_and_refuse_21(emulator: Emulator, api: Api) -> None:
    before = len(emulator.organization().list("vendors"))
    answer = api.post("/v3/vendors/bulk", [vendor_body(f"Bulk Vendor {n}") for n in range(20)])
    assert answer.status_code == 201, answer.text
    created = answer.json()["vendors"]
    assert [v["name"] for v in created] == [f"Bulk Vendor {n}" for n in range(20)]
    refused = api.post("/v3/vendors/bulk", [vendor_body(f"More {n}") for n in range(21)])
    assert (refused.status_code, codes(refused)) == (400, ["BDC_1129"])
    assert messages(refused) == ["at most 20 vendors per request"]
    empty = api.post("/v3/vendors/bulk", [])
    assert (empty.status_code, codes(empty)) == (400, ["BDC_1129"])
    assert len(emulator.organization().list("vendors")) == before + 20


def test_bulk_bills_are_all_or_nothing(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    before = len(organization.list("bills"))
    bodies = [bill_body(organization, number=f"B-{n}") for n in range(5)]
    del bodies[3]["invoice"]["invoiceNumber"]
    bodies[4]["vendorId"] = "00902NOSUCHVENDOR000"
    answer = api.post("/v3/bills/bulk", bodies)
    assert answer.status_code == 400
    assert messages(answer) == [
        "[3] invoice.invoiceNumber: is required",
        "[4] vendorId: 00902NOSUCHVENDOR000 does not exist",
    ]
    assert codes(answer) == ["BDC_1117", "BDC_1119"]
    assert len(organization.list("bills")) == before  # nothing stored
    bodies[3]["invoice"]["invoiceNumber"] = "B-3"
    bodies[4]["vendorId"] = bodies[0]["vendorId"]
    created = api.post("/v3/bills/bulk", bodies)
    assert created.status_code == 201
    assert [b["invoice"]["invoiceNumber"] for b in created.json()] == [f"B-{n}" for n in range(5)]
    assert len(organization.list("bills")) == before + 5


def test_bulk_bills_take_100_and_refuse_101(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    bodies = [bill_body(organization, number=f"B-{n}") for n in range(101)]
    refused = api.post("/v3/bills/bulk", bodies)
    assert messages(refused) == ["at most 100 bills per request"]
    assert api.post("/v3/bills/bulk", bodies[:100]).status_code == 201


# -- PATCH and PUT -------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_keeps_line_ids(
    emulator: Emulator, api: Api
) -> None:
    bill = api.post("/v3/bills", bill_body(emulator.organization())).json()
    first, second = (line["id"] for line in bill["billLineItems"])
    answer = api.patch(
        f"/v3/bills/{bill['id']}",
        {
            "description": "Studio gear",
            "billLineItems": [{"id": second, "amount": 80.01}, {"amount": 10}],
        },
    )
    assert answer.status_code == 200, answer.text
    patched = answer.json()
    assert patched["description"] == "Studio gear"
    assert patched["invoice"] == bill["invoice"]
    assert [line["id"] for line in patched["billLineItems"]][:2] == [first, second]
    assert [line["amount"] for line in patched["billLineItems"]] == [149, 80.01, 10]
    assert patched["billLineItems"][2]["id"].startswith("bli02")
    assert (patched["amount"], patched["dueAmount"]) == (239.01, 239.01)
    assert patched["updatedTime"] > bill["updatedTime"]
    assert patched["createdTime"] == bill["createdTime"]
    assert api.get(f"/v3/bills/{bill['id']}").json() == patched


def test_put_replaces_the_lines_keeping_named_ids(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    bill = api.post("/v3/bills", bill_body(organization)).json()
    first, second = (line["id"] for line in bill["billLineItems"])
    body = bill_body(organization)
    body["billLineItems"] = [
        {"amount": 29.99, "description": "Drummer gloves"},
        {"id": second, "amount": 79.99, "description": "Drum foot pedal"},
    ]
    del body["invoice"]["invoiceDate"]
    missing = api.put(f"/v3/bills/{bill['id']}", body)
    assert (missing.status_code, messages(missing)) == (400, ["invoice.invoiceDate: is required"])
    body["invoice"]["invoiceDate"] = "2025-12-02"
    replaced = api.put(f"/v3/bills/{bill['id']}", body).json()
    line_ids = [line["id"] for line in replaced["billLineItems"]]
    assert line_ids[1] == second
    assert first not in line_ids
    assert line_ids[0] not in (first, second)
    assert line_ids[0].startswith("bli02")
    assert (replaced["amount"], replaced["invoice"]["invoiceDate"]) == (109.98, "2025-12-02")
    foreign = api.put(
        f"/v3/bills/{bill['id']}", {**body, "billLineItems": [{"id": first, "amount": 1}]}
    )
    assert messages(foreign) == [f"billLineItems[0].id: {first} does not exist"]


def test_put_replaces_an_invoice_and_vendors_have_no_put(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    invoice = api.post("/v3/invoices", invoice_body(organization)).json()
    body = invoice_body(organization, invoiceLineItems=[{"quantity": 3, "price": 10}])
    replaced = api.put(f"/v3/invoices/{invoice['id']}", body).json()
    assert (replaced["totalAmount"], len(replaced["invoiceLineItems"])) == (30, 1)
    vendor_id = ids(organization, "vendors")[0]
    answer = api.put(f"/v3/vendors/{vendor_id}", vendor_body())
    assert (answer.status_code, codes(answer)) == (404, ["BDC_1121"])


def test_writes_to_an_unknown_id_answer_404(api: Api) -> None:
    for answer in (
        api.patch("/v3/vendors/00902NOSUCHVENDOR000", {"name": "x"}),
        api.put("/v3/bills/00n02NOSUCHBILL00000", {}),
        api.post("/v3/invoices/00e02NOSUCHINVOICE00/archive"),
        api.post("/v3/customers/0cu02NOSUCHCUSTOMER0/restore"),
    ):
        assert (answer.status_code, codes(answer)) == (404, ["BDC_1120"])


# -- archive and restore -------------------------------------------------------------------


@pytest.mark.parametrize("stream", list(PREFIXES))
def test_archive_and_restore_are_idempotent(emulator: Emulator, api: Api, stream: str) -> None:
    created = api.post(f"/v3/{stream}", body_for(stream, emulator.organization())).json()
    path = f"/v3/{stream}/{created['id']}"
    archived = api.post(f"{path}/archive")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert archived.json()["updatedTime"] > created["updatedTime"]
    again = api.post(f"{path}/archive")
    assert (again.status_code, again.json()) == (200, archived.json())  # updatedTime kept
    restored = api.post(f"{path}/restore").json()
    assert restored["archived"] is False
    assert restored["updatedTime"] > archived.json()["updatedTime"]
    assert api.post(f"{path}/restore").json() == restored
    assert api.get(path).json() == restored
