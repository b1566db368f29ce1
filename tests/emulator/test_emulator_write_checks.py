"""Refused writes over HTTP (BILL's error arrays, one error per problem), and writes among
the other requests: the request log, faults, limits, sync tokens and `updatedTime`."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from emulator_helpers import Api, codes, login_body, messages
from write_helpers import bill_body, body_for, ids, invoice_body, vendor_body

from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig, Fault
from bill_emulator.formats import parse_time_ms

# -- validation ----------------------------------------------------------------------------


def test_every_problem_of_a_bill_gets_its_own_error(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    body = bill_body(organization, description="x" * 4001, dueDate="2025-02-30")
    body["billLineItems"] = [{"amount": 0}, {"amount": 10.005}, {"description": "no amount"}]
    answer = api.post("/v3/bills", body)
    assert answer.status_code == 400
    assert set(messages(answer)) == {
        "dueDate: '2025-02-30' is not a valid calendar date",
        "description: is 4001 characters long (at most 4000)",
        "billLineItems[0].amount: 0 must be greater than 0",
        "billLineItems[1].amount: 10.005 has more than 2 decimals",
        "billLineItems[2].amount: is required",
    }
    errors = answer.json()
    assert {(e["severity"], e["category"]) for e in errors} == {("ERROR", "REQUEST")}
    assert all(e["timestamp"].endswith("+00:00") for e in errors)
    assert codes(answer).count("BDC_1117") == 1


@pytest.mark.parametrize(
    ("stream", "change", "message"),
    [
        ("vendors", {"name": None}, "name: is required"),
        ("vendors", {"name": "n" * 101}, "name: is 101 characters long (at most 100)"),
        ("vendors", {"balance": {"amount": 5}}, "balance: is not a field a vendor can be"),
        ("customers", {"email": None}, "email: is required"),
        ("bills", {"dueDate": "31/12/2025"}, "dueDate: '31/12/2025' is not a date like"),
        ("bills", {"billLineItems": []}, "billLineItems: must be a non-empty list"),
        ("bills", {"vendorId": "00902NOSUCHVENDOR000"}, "vendorId: 00902NOSUCHVENDOR000 does"),
        ("bills", {"payFromChartOfAccountId": "0ca02NOPE"}, "payFromChartOfAccountId: 0ca02NOPE"),
        ("bills", {"classifications": {"departmentId": "0de02X"}}, "classifications.departm"),
        ("invoices", {"customer": {"id": "0cu02NOPE"}}, "customer.id: 0cu02NOPE does not exist"),
        ("invoices", {"invoiceLineItems": [{"price": 5}]}, "invoiceLineItems[0].quantity: is"),
        # An invoice line's `amount` is accepted (BILL's "Replace an invoice" sends it): a bad
        # one is refused like a price.
        (
            "invoices",
            {"invoiceLineItems": [{"quantity": 1, "amount": 0}]},
            "invoiceLineItems[0].am",
        ),
        ("invoices", {"customer": "0cu02NOPE"}, "customer: Cannot construct instance of Invo"),
    ],
)
def test_invalid_creates_are_refused_naming_the_field(
    emulator: Emulator, api: Api, stream: str, change: dict[str, Any], message: str
) -> None:
    body = {**body_for(stream, emulator.organization()), **change}
    body = {k: v for k, v in body.items() if v is not None}
    answer = api.post(f"/v3/{stream}", body)
    assert answer.status_code == 400
    assert len(answer.json()) == 1, answer.text
    assert messages(answer)[0].startswith(message)


def test_references_must_exist_in_this_organization(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    other = emulator.add_organization(seeded=True)
    foreign_account = other.list("chart_of_accounts")[0]["id"]
    body = bill_body(organization)
    body["billLineItems"][1]["classifications"] = {"chartOfAccountId": foreign_account}
    answer = api.post("/v3/bills", body)
    assert (answer.status_code, codes(answer)) == (400, ["BDC_1119"])
    expected = (
        f"billLineItems[1].classifications.chartOfAccountId: {foreign_account} does not exist"
    )
    assert messages(answer) == [expected]
    own_account = ids(organization, "chart_of_accounts")[0]
    body["billLineItems"][1]["classifications"] = {"chartOfAccountId": own_account}
    assert api.post("/v3/bills", body).status_code == 201


def test_an_invoice_written_with_customer_id_gets_bills_message(
    emulator: Emulator, api: Api
) -> None:
    body = invoice_body(emulator.organization())
    body["customerId"] = body.pop("customer")["id"]
    answer = api.post("/v3/invoices", body)
    assert (answer.status_code, codes(answer)) == (400, ["BDC_1117"])
    assert messages(answer) == ["customer: The customer field is required"]
    invoice = api.post("/v3/invoices", invoice_body(emulator.organization())).json()
    patch = api.patch(f"/v3/invoices/{invoice['id']}", {"customerId": body["customerId"]})
    assert messages(patch) == ["customerId: is not a field an invoice can be written with"]


def test_bodies_that_are_not_json_or_of_the_wrong_type(api: Api) -> None:
    broken = api.send("POST", "/v3/vendors", b'{"name": "Acme",')
    assert (broken.status_code, codes(broken)) == (400, ["BDC_1122"])
    assert messages(broken)[0].startswith("Error Parsing Json Object")
    for path, body in (("/v3/vendors", [vendor_body()]), ("/v3/vendors/bulk", vendor_body())):
        answer = api.post(path, body)
        assert (answer.status_code, codes(answer)) == (400, ["BDC_1122"])
    not_a_number = api.send("POST", "/v3/vendors/bulk", b'[{"name": NaN}]')
    assert codes(not_a_number) == ["BDC_1122"]
    items = api.post("/v3/vendors/bulk", [vendor_body(), "Acme"])
    assert messages(items) == ["[1] must be a JSON object"]


def test_vendor_names_are_unique_among_active_vendors(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    active = next(v for v in organization.list("vendors") if not v["archived"])
    taken = api.post("/v3/vendors", vendor_body(f"  {active['name'].upper()} "))
    assert (taken.status_code, codes(taken)) == (400, ["BDC_1119"])
    assert messages(taken) == [f'name: a vendor named "  {active["name"].upper()} " already exists']
    archived = api.post("/v3/vendors", vendor_body("Old Name Inc.")).json()
    api.post(f"/v3/vendors/{archived['id']}/archive")
    assert api.post("/v3/vendors", vendor_body("old name inc.")).status_code == 201
    bulk = api.post("/v3/vendors/bulk", [vendor_body("Twin"), vendor_body("twin")])
    assert messages(bulk) == ['[1] name: a vendor named "twin" already exists']
    other = api.post("/v3/vendors", vendor_body("Unique Vendor")).json()
    renamed = api.patch(f"/v3/vendors/{other['id']}", {"name": active["name"]})
    assert renamed.status_code == 400
    same = api.patch(f"/v3/vendors/{active['id']}", {"name": active["name"], "phone": "1"})
    assert same.status_code == 200


def test_patch_is_validated_like_a_create(emulator: Emulator, api: Api) -> None:
    bill = api.post("/v3/bills", bill_body(emulator.organization())).json()
    path = f"/v3/bills/{bill['id']}"
    answer = api.patch(path, {"dueDate": None, "billLineItems": [{"id": "bli02NOPE", "amount": 1}]})
    assert set(messages(answer)) == {
        "dueDate: is required",
        "billLineItems[0].id: bli02NOPE does not exist",
    }
    assert messages(api.patch(path, {"id": "00n02OTHER"})) == [
        "id: is not a field a bill can be written with"
    ]
    assert api.get(path).json() == bill  # nothing changed


# -- writes among the other requests -------------------------------------------------------


def test_reset_after_on_a_bulk_create_stores_the_bills(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    before = len(organization.list("bills"))
    emulator.faults.add(Fault("reset_after", path_prefix="/v3/bills/bulk", method="POST"))
    bodies = [bill_body(organization, number=f"LOST-{n}") for n in range(3)]
    with pytest.raises(requests.ConnectionError):
        api.post("/v3/bills/bulk", bodies)
    assert len(organization.list("bills")) == before + 3
    found = api.get("/v3/bills", sort="updatedTime:desc", max=3).json()["results"]
    assert sorted(b["invoice"]["invoiceNumber"] for b in found) == ["LOST-0", "LOST-1", "LOST-2"]


def test_updated_time_strictly_increases_and_incremental_reads_see_every_write(
    emulator: Emulator, api: Api
) -> None:
    organization = emulator.organization()
    start = api.get("/v3/bills", sort="updatedTime:desc", max=1).json()["results"][0]
    vendor = api.post("/v3/vendors", vendor_body()).json()
    bill = api.post("/v3/bills", bill_body(organization)).json()
    answers = [
        vendor,
        bill,
        api.patch(f"/v3/vendors/{vendor['id']}", {"phone": "555"}).json(),
        api.put(f"/v3/bills/{bill['id']}", bill_body(organization)).json(),
        api.post(f"/v3/bills/{bill['id']}/archive").json(),
        api.post(f"/v3/bills/{bill['id']}/restore").json(),
        api.post("/v3/bills/bulk", [bill_body(organization)]).json()[0],
    ]
    stamps = [parse_time_ms(a["updatedTime"]) for a in answers]
    assert stamps == sorted(set(stamps))
    changed = api.get(
        "/v3/bills", filters=f'updatedTime:gt:"{start["updatedTime"]}"', sort="updatedTime:asc"
    ).json()["results"]
    assert [b["id"] for b in changed] == [bill["id"], answers[-1]["id"]]


def test_writes_appear_in_the_request_log(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    emulator.clear_requests()
    bill = api.post("/v3/bills", bill_body(organization)).json()
    api.patch(f"/v3/bills/{bill['id']}", {"description": "x"})
    api.put(f"/v3/bills/{bill['id']}", bill_body(organization))
    api.post("/v3/bills", {})
    logged = [(r.method, r.path, r.status, r.code) for r in emulator.requests]
    assert logged == [
        ("POST", "/v3/bills", 201, None),
        ("PATCH", f"/v3/bills/{bill['id']}", 200, None),
        ("PUT", f"/v3/bills/{bill['id']}", 200, None),
        ("POST", "/v3/bills", 400, "BDC_1117"),
    ]


def test_a_sync_token_session_may_write(emulator: Emulator, api: Api) -> None:
    token = login_body(
        username=DEMO_CREDENTIALS["sync_token_name"],
        password=DEMO_CREDENTIALS["sync_token_value"],
    )
    session = api.http.post(f"{api.base_url}/v3/login", json=token, timeout=5).json()
    api.http.headers["sessionId"] = session["sessionId"]
    vendor = api.post("/v3/vendors", vendor_body())
    assert vendor.status_code == 201
    assert api.patch(f"/v3/vendors/{vendor.json()['id']}", {"phone": "1"}).status_code == 200
    bill = api.post("/v3/bills", bill_body(emulator.organization()))
    assert bill.status_code == 201


def test_writes_count_toward_the_hourly_and_concurrency_limits() -> None:
    emulator = Emulator(EmulatorConfig(records=20, hourly_request_limit=6, latency_seconds=0.2))
    with emulator.serve() as base_url, requests.Session() as http:
        api = Api(base_url, http)
        api.login()  # request 1 of 6
        start = threading.Barrier(4)
        statuses: list[int] = []

        def create(n: int) -> None:
            start.wait()
            answer = requests.post(
                f"{base_url}/v3/vendors",
                json=vendor_body(f"Parallel {n}"),
                headers=dict(http.headers),
                timeout=10,
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 201, 201, 429]  # one refused: BDC_1322
        assert api.post("/v3/vendors", vendor_body("Sixth")).status_code == 201
        over = api.post("/v3/vendors", vendor_body("One too many"))
        assert (over.status_code, codes(over)) == (429, ["BDC_1144"])
    names = {v["name"] for v in emulator.organization().list("vendors")}
    assert len({f"Parallel {n}" for n in range(4)} & names) == 3
