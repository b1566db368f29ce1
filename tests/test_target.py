"""target-billcom end to end: Singer input -> the real target process -> the emulator -> tap."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest

from bill_emulator import Emulator, Fault
from tests.conftest import STRICT_BILL
from tests.taprun import run_tap
from tests.targetrun import SAMPLE, messages_for, run_target, singer_lines, write_calls

SAMPLE_TEXT = SAMPLE.read_text()
SAMPLE_RECORDS: dict[str, list[dict[str, Any]]] = {}
for _line in SAMPLE_TEXT.splitlines():
    _message = json.loads(_line, parse_float=Decimal)
    if _message["type"] == "RECORD":
        SAMPLE_RECORDS.setdefault(_message["stream"], []).append(_message["record"])


def by_name(records: list[dict[str, Any]], field: str = "name") -> dict[str, dict[str, Any]]:
    return {r[field]: r for r in records}


@pytest.mark.parametrize(
    "emulator", [{}, STRICT_BILL], indirect=True, ids=["plausible-bill", "strict-bill"]
)
def test_erp_sample_lands_in_bill_with_references_resolved_by_name(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    run = run_target(tap_config, SAMPLE_TEXT, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    counts = {s: len(r) for s, r in SAMPLE_RECORDS.items()}
    for stream, count in counts.items():
        assert run.actions(stream) == {"created": count}, stream
    # Bulk where BILL allows it: exactly ceil(v/20) + customers + ceil(b/100) + invoices.
    expected_calls = (
        math.ceil(counts["vendors"] / 20)
        + counts["customers"]
        + math.ceil(counts["bills"] / 100)
        + counts["invoices"]
    )
    assert len(write_calls(emulator)) == expected_calls
    # The log ends with the summary table and one line saying what happened.
    assert "Summary" in run.stderr
    total = sum(counts.values())
    assert f"4 streams, {total} records, {expected_calls} write calls" in run.stderr
    # Input STATE is passed on, after the records before it were written.
    assert run.states[-1] == {"bookmarks": {"customers": {"done": True}}}

    tapped = run_tap(
        tap_config, streams=["vendors", "customers", "bills", "invoices"], emulator=emulator
    )
    vendors = by_name(tapped.records["vendors"])
    accounts = {r["id"]: r["name"] for r in emulator.organization().list("chart_of_accounts")}
    bills = by_name([b for b in tapped.records["bills"] if b.get("invoice")], "description")
    for source in SAMPLE_RECORDS["bills"]:
        bill = bills[source["description"]]
        assert bill["vendorId"] == vendors[source["vendorName"]]["id"]
        assert bill["invoice"]["invoiceNumber"] == source["invoice"]["invoiceNumber"]
        assert [Decimal(str(line["amount"])) for line in bill["billLineItems"]] == [
            line["amount"] for line in source["billLineItems"]
        ]
        assert [
            accounts[line["classifications"]["chartOfAccountId"]] for line in bill["billLineItems"]
        ] == [line["classifications"]["chartOfAccountName"] for line in source["billLineItems"]]
    customers = by_name(tapped.records["customers"])
    invoices = by_name(tapped.records["invoices"], "invoiceNumber")
    for source in SAMPLE_RECORDS["invoices"]:
        invoice = invoices[source["invoiceNumber"]]
        assert invoice["customerId"] == customers[source["customerName"]]["id"]
        total = sum(line["price"] * line["quantity"] for line in source["invoiceLineItems"])
        assert Decimal(str(invoice["totalAmount"])) == total


def test_rerun_of_the_same_input_makes_zero_write_calls(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    first = run_target(tap_config, SAMPLE_TEXT, emulator=emulator)
    assert first.returncode == 0, first.stderr[-3000:]
    emulator.clear_requests()
    second = run_target(tap_config, SAMPLE_TEXT, emulator=emulator)
    assert second.returncode == 0, second.stderr[-3000:]
    assert write_calls(emulator) == []
    assert second.actions() == {"unchanged": sum(len(r) for r in SAMPLE_RECORDS.values())}
    # The index is read with list requests, never one look-up per record.
    reads = [r for r in emulator.requests if r.method == "GET"]
    assert len(reads) < 40


def test_changed_records_are_updated_with_only_the_changed_fields(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    assert run_target(tap_config, SAMPLE_TEXT, emulator=emulator).returncode == 0
    emulator.clear_requests()
    vendor = dict(SAMPLE_RECORDS["vendors"][0], phone="4085559999")
    bill = json.loads(json.dumps(SAMPLE_RECORDS["bills"][0], default=str))
    bill["billLineItems"][0]["amount"] = Decimal("1234.56")
    text = singer_lines(messages_for("vendors", [vendor]) + messages_for("bills", [bill]))
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.actions() == {"updated": 2}
    calls = write_calls(emulator)
    assert sorted(c.method for c in calls) == ["PATCH", "PUT"]  # lines are replaced by PUT
    stored = [v for v in emulator.organization().list("vendors") if v["name"] == vendor["name"]]
    assert stored[0]["phone"] == "4085559999"


def test_dry_run_plans_everything_and_writes_nothing(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    tap_config["dry_run"] = True
    run = run_target(tap_config, SAMPLE_TEXT, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert write_calls(emulator) == []
    assert all(line["dry_run"] for line in run.results)
    assert run.actions("bills") == {"created": len(SAMPLE_RECORDS["bills"])}
    assert "dry run (nothing written)" in run.stderr


def test_archived_input_archives_the_object(emulator: Emulator, tap_config: dict[str, Any]) -> None:
    vendor = emulator.organization().list("vendors")[0]
    assert vendor.get("archived") is not True
    record = {"id": vendor["id"], "name": vendor["name"], "_sdc_deleted_at": "2026-11-27T00:00:00Z"}
    run = run_target(tap_config, singer_lines(messages_for("vendors", [record])), emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert emulator.organization().get("vendors", vendor["id"])["archived"] is True


@pytest.mark.parametrize(
    "emulator",
    [{"refuse_duplicate_vendor_names": True}, {"refuse_duplicate_vendor_names": False}],
    indirect=True,
    ids=["unique-vendor-names", "names-may-repeat"],
)
def test_all_or_nothing_bulk_failure_isolates_the_bad_record(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """With BILL refusing duplicate vendor names (a switch: its docs state no such rule), a
    vendor someone else creates mid-run fails the bulk call, and only that record fails."""
    vendors = [
        {"name": f"Isolation Vendor {i:02d}", "email": f"v{i}@example.com"} for i in range(20)
    ]
    organization = emulator.organization()

    def someone_else_creates_vendor_07(request: Any) -> None:
        # Between the target's index read and its bulk call, another user adds vendor 07.
        taken = any(v["name"] == "Isolation Vendor 07" for v in organization.list("vendors"))
        if request.path == "/v3/vendors/bulk" and not taken:
            organization.create("vendors", {"name": "Isolation Vendor 07", "archived": False})

    emulator.on_request(someone_else_creates_vendor_07)
    run = run_target(tap_config, singer_lines(messages_for("vendors", vendors)), emulator=emulator)
    if not emulator.config.refuse_duplicate_vendor_names:
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.actions("vendors") == {"created": 20}
        return
    assert run.returncode == 1  # one record failed, allow_failures is false
    assert run.actions("vendors") == {"created": 19, "failed": 1}
    failed = run.failed()[0]
    assert failed["match_key"] == "Isolation Vendor 07"
    assert failed["code"] == "BDC_1119"
    assert "already exists" in failed["message"]
    names = [v["name"] for v in organization.list("vendors")]
    assert all(names.count(v["name"]) == 1 for v in vendors)


def test_a_lost_answer_to_a_bulk_create_is_looked_up_not_sent_twice(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    emulator.faults.add(Fault("reset_after", path_prefix="/v3/bills/bulk", method="POST"))
    run = run_target(tap_config, SAMPLE_TEXT, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    numbers = [b["invoice"]["invoiceNumber"] for b in emulator.organization().list("bills")]
    for source in SAMPLE_RECORDS["bills"]:
        assert numbers.count(source["invoice"]["invoiceNumber"]) == 1
    assert sum(1 for c in write_calls(emulator) if c.path == "/v3/bills/bulk") == 1
