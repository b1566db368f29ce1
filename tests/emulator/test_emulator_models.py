"""Organization state and behaviour without HTTP: create, update, archive, views."""

from __future__ import annotations

import itertools
import threading

import pytest

from bill_emulator import Emulator, EmulatorConfig, Organization
from bill_emulator.errors import BillError
from bill_emulator.formats import parse_time_ms
from bill_emulator.views import present


@pytest.fixture
def emulator_model() -> Emulator:
    return Emulator(EmulatorConfig(seed=2, records=120))


@pytest.fixture
def organization(emulator_model: Emulator) -> Organization:
    return emulator_model.organization()


def latest_update(organization: Organization) -> int:
    return max(
        parse_time_ms(r["updatedTime"])
        for stream in organization.stores
        for r in organization.list(stream)
    )


def test_create_assigns_an_id_with_the_prefix_and_timestamps(organization: Organization) -> None:
    before = latest_update(organization)
    vendor = organization.create("vendors", {"name": "New Vendor LLC", "id": "ignored"})
    assert vendor["id"].startswith("00902")
    assert len(vendor["id"]) == 20
    assert vendor["createdTime"] == vendor["updatedTime"]
    assert parse_time_ms(vendor["updatedTime"]) > before
    assert vendor["archived"] is False
    assert organization.get("vendors", vendor["id"]) == vendor


def test_create_gives_line_items_ids_and_keeps_the_callers_dict_apart(
    organization: Organization,
) -> None:
    vendor_id = organization.list("vendors")[0]["id"]
    body = {"vendorId": vendor_id, "billLineItems": [{"amount": 10.5}, {"amount": 2}]}
    bill = organization.create("bills", body)
    assert [i["id"][:5] for i in bill["billLineItems"]] == ["bli02", "bli02"]
    body["billLineItems"][0]["amount"] = 999
    assert organization.get("bills", bill["id"])["billLineItems"][0]["amount"] == 10.5


def test_every_change_is_stamped_after_everything_before_it(organization: Organization) -> None:
    bills = organization.list("bills")
    stamps = []
    for bill in bills[:5]:
        stamps.append(organization.update("bills", bill["id"], {"description": "x"})["updatedTime"])
    for bill in bills[5:8]:
        stamps.append(organization.archive("bills", bill["id"])["updatedTime"])
    millis = [parse_time_ms(s) for s in stamps]
    assert all(b - a >= 1 for a, b in itertools.pairwise(millis))
    # Updated records move to the end of an updatedTime-ascending list.
    ordered = sorted(organization.list("bills"), key=lambda r: (r["updatedTime"], r["id"]))
    assert [r["id"] for r in ordered[-8:]] == [b["id"] for b in bills[:8]]


def test_update_merges_shallowly_and_keeps_identity_fields(organization: Organization) -> None:
    vendor = organization.list("vendors")[0]
    changed = organization.update(
        "vendors", vendor["id"], {"email": "new@example.com", "id": "x", "createdTime": "y"}
    )
    assert changed["email"] == "new@example.com"
    assert changed["id"] == vendor["id"]
    assert changed["createdTime"] == vendor["createdTime"]
    assert changed["name"] == vendor["name"]
    assert vendor["email"] != "new@example.com", "stored records are never changed in place"


def test_archive_and_restore_are_idempotent(organization: Organization) -> None:
    vendor = next(v for v in organization.list("vendors") if not v["archived"])
    archived = organization.archive("vendors", vendor["id"])
    assert archived["archived"] is True
    assert organization.archive("vendors", vendor["id"]) == archived  # a no-op, not a change
    restored = organization.restore("vendors", vendor["id"])
    assert restored["archived"] is False
    assert restored["updatedTime"] > archived["updatedTime"]


def test_objects_that_cannot_be_archived_say_so(organization: Organization) -> None:
    payment = organization.list("payments")[0]
    with pytest.raises(BillError) as refused:
        organization.archive("payments", payment["id"])
    assert refused.value.code == "BDC_1121"


def test_unknown_ids_and_parents_are_no_data_found(organization: Organization) -> None:
    with pytest.raises(BillError) as missing:
        organization.get("bills", "00n02AAAAAAAAAAAAAAA")
    assert (missing.value.code, missing.value.status) == ("BDC_1120", 404)
    with pytest.raises(BillError) as orphan:
        organization.create("customer_contacts", {"customerId": "0cu02AAAAAAAAAAAAAAA"})
    assert orphan.value.code == "BDC_1120"
    with pytest.raises(KeyError, match="known"):
        organization.list("widgets")


def test_a_vendor_has_one_bank_account(organization: Organization) -> None:
    owner = organization.list("vendor_bank_accounts")[0]["vendorId"]
    with pytest.raises(BillError) as refused:
        organization.create("vendor_bank_accounts", {"vendorId": owner, "accountNumber": "1"})
    assert refused.value.code == "BDC_1119"


def test_clock_advance_moves_change_stamps(emulator_model: Emulator) -> None:
    organization = emulator_model.organization()
    first = organization.create("departments", {"name": "Now"})
    emulator_model.clock.advance(7200)
    later = organization.create("departments", {"name": "Later"})
    assert parse_time_ms(later["createdTime"]) - parse_time_ms(first["createdTime"]) >= 7_200_000


def test_bank_account_numbers_are_stored_in_full_and_shown_masked(
    organization: Organization,
) -> None:
    for stream in ("bank_accounts", "vendor_bank_accounts", "customer_bank_accounts"):
        stored = organization.list(stream)[0]
        shown = present(stream, stored)
        assert stored["accountNumber"].isdigit()
        assert shown["accountNumber"] == "xxxxxx" + stored["accountNumber"][-4:]
    vendor = next(
        v for v in organization.list("vendors") if "bankAccount" in v["paymentInformation"]
    )
    shown = present("vendors", vendor)
    number = vendor["paymentInformation"]["bankAccount"]["accountNumber"]
    assert shown["paymentInformation"]["bankAccount"]["accountNumber"] == "xxxxxx" + number[-4:]
    assert vendor["paymentInformation"]["bankAccount"]["accountNumber"] == number
    assert shown["accountNumber"] == vendor["accountNumber"]  # not a bank account number


def test_views_leave_out_what_bill_does_not_send(organization: Organization) -> None:
    account = present("vendor_bank_accounts", organization.list("vendor_bank_accounts")[0])
    assert "vendorId" not in account  # the tap adds the parent id
    assert "id" not in account  # BILL's vendor bank account has no id
    document = present("bill_documents", organization.list("bill_documents")[0])
    assert "billId" not in document
    assert "updatedTime" not in document
    assert "id" in document


def test_an_added_organization_is_empty_but_for_itself(emulator_model: Emulator) -> None:
    added = emulator_model.add_organization()
    assert added.organization_id.startswith("00802")
    assert emulator_model.organization(added.organization_id) is added
    assert [r["id"] for r in added.list("organization")] == [added.organization_id]
    assert not added.list("vendors")
    copied = added.create("vendors", emulator_model.organization().list("vendors")[0])
    assert copied["id"] != emulator_model.organization().list("vendors")[0]["id"]
    seeded = emulator_model.add_organization(seeded=True)
    assert len(seeded.list("bills")) == len(emulator_model.organization().list("bills"))


def test_concurrent_changes_keep_updated_times_unique(organization: Organization) -> None:
    bills = organization.list("bills")[:40]

    def touch(start: int) -> None:
        for bill in bills[start::4]:
            organization.update("bills", bill["id"], {"description": "parallel"})

    threads = [threading.Thread(target=touch, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [organization.get("bills", b["id"])["updatedTime"] for b in bills]
    assert len(set(stamps)) == len(stamps)
