"""What BILL's documentation and examples say, over HTTP: list parameters its examples send,
endpoints it has that the emulator does not, the invoice line `amount`, bank details, and the
switches for behaviour the docs leave open."""

from __future__ import annotations

import random
from typing import Any

import pytest
from emulator_helpers import Api, codes, messages
from write_helpers import ids, invoice_body, vendor_body

from bill_emulator import Emulator
from bill_emulator.bank_details import routing_number_valid

# -- lists ---------------------------------------------------------------------------------


def test_list_parameters_bills_examples_send_are_accepted(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    account = ids(organization, "chart_of_accounts")[0]
    newest = api.get("/v3/classifications/chart-of-accounts", sort="createdTime:desc").json()
    created = sorted((r["createdTime"], r["id"]) for r in organization.list("chart_of_accounts"))
    assert [r["id"] for r in newest["results"]] == [i for _, i in reversed(created)][:20]
    one = api.get("/v3/classifications/chart-of-accounts", filters=f"id:eq:{account}").json()
    assert [r["id"] for r in one["results"]] == [account]
    by_archived = api.get("/v3/recurringbills", sort="archived").json()["results"]
    assert [r["archived"] for r in by_archived] == sorted(r["archived"] for r in by_archived)
    bank = organization.list("bank_accounts")[1]["id"]
    found = api.get("/v3/funding-accounts/banks", filters=f"bankAccountId:eq:{bank}").json()
    assert [r["id"] for r in found["results"]] == [bank]


@pytest.mark.parametrize(
    "path",
    [
        "/v3/payments/options",
        "/v3/payments/exchange-rate",
        "/v3/funding-accounts/banks/users",
        "/v3/organizations/industries",
    ],
)
def test_bills_endpoints_the_emulator_lacks_are_not_read_as_ids(api: Api, path: str) -> None:
    answer = api.get(path)
    assert (answer.status_code, codes(answer)) == (404, ["BDC_1121"])
    assert messages(answer) == ["API not supported."]


def test_ids_still_reach_their_objects(emulator: Emulator, api: Api) -> None:
    payment = emulator.organization().list("payments")[0]["id"]
    assert api.get(f"/v3/payments/{payment}").json()["id"] == payment
    organization = emulator.organization().organization_id
    assert api.get(f"/v3/organizations/{organization}").status_code == 200


# -- switches ------------------------------------------------------------------------------


def first_token(api: Api, path: str, **params: Any) -> str:
    token: str = api.get(path, max=5, **params).json()["nextPage"]
    return token


def test_by_default_a_page_may_repeat_its_filters(api: Api) -> None:
    token = first_token(api, "/v3/bills", filters="archived:eq:false")
    again = api.get("/v3/bills", max=5, page=token, filters="archived:eq:false")
    assert again.status_code == 200
    assert api.get("/v3/bills", max=5, page=token).status_code == 200


@pytest.mark.parametrize("emulator", [{"refuse_filters_with_page": True}], indirect=True)
def test_with_the_switch_a_page_refuses_filters_and_its_token_carries_them(
    emulator: Emulator, api: Api
) -> None:
    token = first_token(api, "/v3/bills", filters="archived:eq:false")
    refused = api.get("/v3/bills", max=5, page=token, filters="archived:eq:false")
    assert (refused.status_code, codes(refused)) == (400, ["BDC_1129"])
    page = api.get("/v3/bills", max=100, page=token).json()["results"]
    assert page
    assert not any(r["archived"] for r in page)


UNDOCUMENTED = ["/v3/payments", "/v3/receivable-payments", "/v3/credit-memos", "/v3/users"]
DOCUMENTED = ["/v3/vendors", "/v3/customers", "/v3/bills", "/v3/invoices"]
SINCE = 'updatedTime:gte:"2026-03-01T00:00:00.000Z"'


@pytest.mark.parametrize("path", [*UNDOCUMENTED, "/v3/vendor-credits", *DOCUMENTED])
def test_by_default_every_incremental_list_filters_on_updated_time(api: Api, path: str) -> None:
    assert api.get(path, filters=SINCE, sort="updatedTime:asc").status_code == 200


@pytest.mark.parametrize(
    "emulator", [{"refuse_undocumented_updated_time_filter": True}], indirect=True
)
def test_with_the_switch_only_documented_lists_filter_on_updated_time(
    emulator: Emulator, api: Api
) -> None:
    for path in [*DOCUMENTED, "/v3/funding-accounts/banks"]:
        assert api.get(path, filters=SINCE).status_code == 200, path
    for path in [*UNDOCUMENTED, "/v3/vendor-credits"]:
        refused = api.get(path, filters=SINCE)
        assert (refused.status_code, codes(refused)) == (400, ["BDC_1130"]), path
        # Sorting by updatedTime is documented for them (sortable-fields).
        assert api.get(path, sort="updatedTime:asc").status_code == 200


# -- invoice lines -------------------------------------------------------------------------


def test_an_invoice_line_may_give_its_amount_instead_of_a_price(
    emulator: Emulator, api: Api
) -> None:
    """BILL's "Replace an invoice" example sends a line as `{amount, quantity}`."""
    invoice = api.post("/v3/invoices", invoice_body(emulator.organization())).json()
    lines = invoice["invoiceLineItems"]
    body = {
        "customer": {"id": invoice["customerId"]},
        "invoiceLineItems": [
            {"description": "Premium drummer gloves", "amount": 29.99, "quantity": 1},
            {"description": "Three sticks", "amount": 10, "quantity": 3},
            {"id": lines[1]["id"], "description": "Picks", "price": 50, "quantity": 1},
        ],
    }
    replaced = api.put(f"/v3/invoices/{invoice['id']}", body)
    assert replaced.status_code == 200, replaced.text
    shown = replaced.json()
    assert [(line["price"], line["quantity"]) for line in shown["invoiceLineItems"]] == [
        (29.99, 1),
        (3.333333, 3),
        (50, 1),
    ]
    assert all("amount" not in line for line in shown["invoiceLineItems"])
    assert shown["totalAmount"] == 89.99
    patched = api.patch(
        f"/v3/invoices/{invoice['id']}",
        {"invoiceLineItems": [{"id": lines[1]["id"], "amount": 120, "quantity": 2}]},
    ).json()
    assert patched["invoiceLineItems"][2]["price"] == 60
    assert patched["totalAmount"] == 159.99


# -- bank details --------------------------------------------------------------------------

#: BILL's own example (the "Create a vendor bank account" request).
EXAMPLE_ACCOUNT = {
    "nameOnAccount": "Bill Vendorson",
    "accountNumber": "111222333",
    "routingNumber": "074000010",
    "type": "CHECKING",
    "ownerType": "BUSINESS",
    "paymentCurrency": "USD",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accountNumber": 111222333}, "accountNumber: must be text (a string of digits)"),
        ({"accountNumber": "1112-22333"}, "accountNumber: must be a string of digits"),
        ({"accountNumber": None}, "accountNumber: is required"),
        ({"routingNumber": "074000011"}, "routingNumber: is not a valid US routing number"),
        ({"routingNumber": "7400001"}, "routingNumber: is not a valid US routing number"),
        ({"iban": "DE89370400440532013000"}, "iban: is not a bank account field"),
    ],
)
def test_bad_bank_details_are_refused_without_echoing_the_number(
    emulator: Emulator, api: Api, change: dict[str, Any], message: str
) -> None:
    account = {k: v for k, v in {**EXAMPLE_ACCOUNT, **change}.items() if v is not None}
    vendor = api.post("/v3/vendors", vendor_body("Banked")).json()
    direct = api.post(f"/v3/vendors/{vendor['id']}/bank-account", account)
    nested = api.post(
        "/v3/vendors", vendor_body("Banked Too", paymentInformation={"bankAccount": account})
    )
    for answer, prefix in ((direct, ""), (nested, "paymentInformation.bankAccount.")):
        assert (answer.status_code, codes(answer)[0]) in {(400, "BDC_1119"), (400, "BDC_1117")}
        assert messages(answer)[0].startswith(prefix + message), answer.text
        assert "111222333" not in answer.text
        assert "1112-22333" not in answer.text
    assert emulator.organization().find("vendors", vendor["id"]) is not None
    assert not [v for v in emulator.organization().list("vendors") if v["name"] == "Banked Too"]


def test_a_vendor_bank_account_is_created_masked_and_deleted(emulator: Emulator, api: Api) -> None:
    vendor = api.post("/v3/vendors", vendor_body("Banked")).json()
    path = f"/v3/vendors/{vendor['id']}/bank-account"
    assert api.get(path).status_code == 404
    created = api.post(path, EXAMPLE_ACCOUNT)
    assert created.status_code == 200
    assert created.json()["accountNumber"] == "xxxxxx2333"
    assert created.json()["status"] == "PENDING"
    assert "111222333" not in created.text
    assert api.get(path).json() == created.json()
    shown = api.get(f"/v3/vendors/{vendor['id']}").json()
    assert shown["paymentInformation"]["bankAccount"]["accountNumber"] == "xxxxxx2333"
    second = api.post(path, EXAMPLE_ACCOUNT)
    assert (second.status_code, codes(second)) == (400, ["BDC_1119"])
    deleted = api.http.delete(f"{api.base_url}{path}", timeout=10)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert api.get(path).status_code == 404
    assert "bankAccount" not in api.get(f"/v3/vendors/{vendor['id']}").json()["paymentInformation"]
    assert api.post(path, EXAMPLE_ACCOUNT).status_code == 200  # delete, then create again


def test_every_8_digits_have_exactly_one_ninth_digit_that_makes_a_routing_number() -> None:
    draw = random.Random(11)
    for _ in range(2000):
        first = f"{draw.randrange(10**8):08d}"
        valid = [d for d in "0123456789" if routing_number_valid(first + d)]
        assert len(valid) == 1, first


#: "074000010" in fullwidth digits: str.isdigit() says True, a routing number it is not.
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "074000010")


def test_real_routing_numbers_pass_and_near_misses_fail() -> None:
    for number in ("074000010", "011000015", "021000021", "111000025"):
        assert routing_number_valid(number), number
    for number in ("074000011", "07400001", "0740000100", "07400001O", FULLWIDTH):
        assert not routing_number_valid(number), number
