"""Every catalog object served at its documented path, with BILL's list semantics, over HTTP."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest
from emulator_helpers import Api, codes

from bill_core import catalog
from bill_emulator import DEMO_CREDENTIALS, Emulator

ORGANIZATION_ID = DEMO_CREDENTIALS["organization_id"]


def concrete_path(emulator: Emulator, bill_object: catalog.BillObject) -> str:
    """The object's path with placeholders filled from the seeded organization."""
    path = bill_object.path.replace("{organizationId}", ORGANIZATION_ID)
    if bill_object.parent_key:
        organization = emulator.organization()
        children = organization.list(bill_object.stream)
        path = path.replace(f"{{{bill_object.parent_key}}}", children[0][bill_object.parent_key])
    return path


@pytest.mark.parametrize("stream", [o.stream for o in catalog.OBJECTS])
def test_every_catalog_object_is_served_at_its_path(
    emulator: Emulator, api: Api, stream: str
) -> None:
    bill_object = catalog.get(stream)
    answer = api.get(concrete_path(emulator, bill_object), max=100)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    if bill_object.single:
        assert isinstance(body, dict)
        assert "results" not in body
        return
    assert body["results"]
    if bill_object.parent is None:
        first = body["results"][0]
        item = api.get(f"{concrete_path(emulator, bill_object)}/{first['id']}")
        assert item.json() == first


def test_lists_page_through_every_record_exactly_once(emulator: Emulator, api: Api) -> None:
    seen: list[str] = []
    answer = api.get("/v3/bills", max=37, sort="updatedTime:asc").json()
    seen += [b["id"] for b in answer["results"]]
    while "nextPage" in answer:
        answer = api.get("/v3/bills", page=answer["nextPage"]).json()
        seen += [b["id"] for b in answer["results"]]
    assert sorted(seen) == sorted(b["id"] for b in emulator.organization().list("bills"))
    assert set(answer) == {"prevPage", "results"}


def test_a_single_page_has_neither_next_nor_previous_page(api: Api) -> None:
    assert list(api.get("/v3/roles", max=100).json()) == ["results"]


@pytest.mark.parametrize("value", ["0", "101", "-1", "twenty"])
def test_max_outside_1_to_100_is_refused(api: Api, value: str) -> None:
    answer = api.get("/v3/vendors", max=value)
    assert (answer.status_code, codes(answer)) == (400, ["BDC_1129"])
    assert answer.json()[0]["message"] == f"Invalid parameter value for max: {value}"


def test_unknown_filter_fields_and_operators_are_refused(api: Api) -> None:
    field = api.get("/v3/vendors", filters="color:eq:blue")
    assert (field.status_code, codes(field)) == (400, ["BDC_1130"])
    assert field.json()[0]["message"] == "Invalid list filter field: color"
    operator = api.get("/v3/vendors", filters="name:gte:A")
    assert (operator.status_code, codes(operator)) == (400, ["BDC_1131"])
    assert operator.json()[0]["message"] == "Invalid list filter operator: gte for field name"
    sort = api.get("/v3/vendors", sort="balance:asc")
    assert codes(sort) == ["BDC_1130"]
    assert "balance" in sort.json()[0]["message"]


def test_incremental_query_over_http(emulator: Emulator, api: Api) -> None:
    bills = sorted(emulator.organization().list("bills"), key=lambda b: (b["updatedTime"], b["id"]))
    bookmark = bills[50]["updatedTime"]
    answer = api.get(
        "/v3/bills", filters=f'updatedTime:gte:"{bookmark}"', sort="updatedTime:asc", max=50
    ).json()
    assert [b["id"] for b in answer["results"]] == [b["id"] for b in bills[50:100]]
    changed_filters = api.get("/v3/bills", page=answer["nextPage"], filters="archived:eq:false")
    assert codes(changed_filters) == ["BDC_1129"]


def test_child_lists_need_an_existing_parent(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    customer = organization.list("customer_contacts")[0]["customerId"]
    contacts = api.get(f"/v3/customers/{customer}/contacts").json()["results"]
    assert {c["id"] for c in contacts} == {
        c["id"] for c in organization.list("customer_contacts") if c["customerId"] == customer
    }
    assert all("customerId" not in c for c in contacts)  # the tap adds the parent id
    missing = api.get("/v3/customers/0cu02AAAAAAAAAAAAAAA/contacts")
    assert (missing.status_code, codes(missing)) == (404, ["BDC_1120"])
    assert codes(api.get("/v3/documents/bills/00n02AAAAAAAAAAAAAAA")) == ["BDC_1120"]


def test_a_vendor_without_a_bank_account_has_none_to_show(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    with_account = {r["vendorId"] for r in organization.list("vendor_bank_accounts")}
    without = next(v["id"] for v in organization.list("vendors") if v["id"] not in with_account)
    answer = api.get(f"/v3/vendors/{without}/bank-account")
    assert (answer.status_code, codes(answer)) == (404, ["BDC_1120"])


def test_unknown_ids_and_other_organizations_are_refused(api: Api) -> None:
    assert codes(api.get("/v3/bills/00n02AAAAAAAAAAAAAAA")) == ["BDC_1120"]
    other = api.get("/v3/organizations/00802AAAAAAAAAAAAAAA/payment-terms")
    assert codes(other) == ["BDC_1123"]
    assert api.get(f"/v3/organizations/{ORGANIZATION_ID}").json()["id"] == ORGANIZATION_ID


def test_responses_mask_bank_account_numbers(emulator: Emulator, api: Api) -> None:
    stored = {r["id"]: r["accountNumber"] for r in emulator.organization().list("bank_accounts")}
    shown = api.get("/v3/funding-accounts/banks").json()["results"]
    assert [a["accountNumber"] for a in shown] == ["xxxxxx" + stored[a["id"]][-4:] for a in shown]
    text = api.get("/v3/vendors", max=100).text
    vendor_numbers = [
        r["accountNumber"] for r in emulator.organization().list("vendor_bank_accounts")
    ]
    assert vendor_numbers
    assert not [number for number in vendor_numbers if number in text]
    assert '"accountNumber":"xxxxxx' in text


def test_money_is_written_with_at_most_two_decimals(api: Api) -> None:
    text = api.get("/v3/bills", max=100).text
    assert re.search(r'"amount":\d+\.\d{1,2}[,}]', text)
    assert not re.search(r'[Aa]mount":-?\d+\.\d{3,}', text)


def test_connections_are_kept_alive(emulator: Emulator, api: Api) -> None:
    url = urlsplit(str(emulator.base_url))
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=5)
    headers = {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": api.session_id}
    try:
        for path in ("/v3/vendors?max=1", "/v3/widgets", "/v3/logout", "/v3/vendors"):
            method = "POST" if path == "/v3/logout" else "GET"
            connection.request(method, path, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            assert answer.getheader("Content-Length") == str(len(body))
            assert answer.version == 11
            if body:
                json.loads(body)
        assert answer.status == 401  # the same connection, still open after four requests
    finally:
        connection.close()
