"""target-billcom on input as real sources send it: the same record more than once, children
before their parents, archived twins, deleted rows, invoices given line amounts.

Each test runs the real target process against the emulator and judges what BILL holds and
what the results file says (one line per input record).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

import bill_emulator.writes
from bill_core.writes import get_path
from bill_emulator import Emulator, Fault
from tests.targetrun import messages_for, run_target, singer_lines


def keyed(stream: str, records: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """SCHEMA with key_properties, then the records."""
    messages = messages_for(stream, records)
    messages[0]["key_properties"] = list(keys)
    return messages


def active(emulator: Emulator, stream: str, **where: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.organization().list(stream)
        if all(get_path(r, k.replace("__", ".")) == v for k, v in where.items())
    ]


def bill(number: str, vendor: str = "Versioned Vendor", **changes: Any) -> dict[str, Any]:
    record = {
        "vendorName": vendor,
        "dueDate": "2026-12-31",
        "invoice": {"invoiceNumber": number, "invoiceDate": "2026-11-30"},
        "billLineItems": [{"amount": "10.00"}],
    }
    record.update(changes)
    return record


# -- the same record twice in one run ------------------------------------------------------


def test_the_last_version_of_a_record_wins_and_earlier_ones_are_superseded(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """A tap re-sends a record that changed while it paged (CDC feeds send every change):
    the newest version is written, each earlier one gets a `superseded` line."""
    versions = [
        {"erp_id": 7, "name": "Versioned Vendor", "email": "v1@example.com"},
        {"erp_id": 8, "name": "Other Vendor", "email": "other@example.com"},
        {"erp_id": 7, "name": "Versioned Vendor", "email": "v2@example.com"},
        {"erp_id": 7, "name": "Versioned Vendor Inc", "email": "v3@example.com"},  # renamed
    ]
    run = run_target(
        tap_config, singer_lines(keyed("vendors", versions, "erp_id")), emulator=emulator
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.actions("vendors") == {"superseded": 2, "created": 2}
    assert len(run.results) == len(versions)
    held = active(emulator, "vendors", email="v3@example.com")
    assert [v["name"] for v in held] == ["Versioned Vendor Inc"]
    assert not active(emulator, "vendors", name="Versioned Vendor")


def test_a_later_version_in_a_later_batch_updates_what_the_first_wrote(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """Versions split by a drain (a STATE, a full batch) land on one object, renamed or not."""
    first = keyed("vendors", [{"erp_id": 1, "name": "Split Vendor", "email": "a@x.com"}], "erp_id")
    later = {"erp_id": 1, "name": "Split Vendor Renamed", "email": "b@x.com"}
    text = singer_lines(
        [
            *first,
            *keyed("customers", [{"name": "Drain Now", "email": "d@x.com"}]),  # another stream
            {"type": "RECORD", "stream": "vendors", "record": later},
        ]
    )
    run = run_target({**tap_config, "batch_size_rows": 1}, text, emulator=emulator)
    assert run.returncode == 0, run.stderr[-2000:]
    assert Counter(line["action"] for line in run.results if line["stream"] == "vendors") == {
        "created": 1,
        "updated": 1,
    }
    assert [v["email"] for v in active(emulator, "vendors", name="Split Vendor Renamed")] == [
        "b@x.com"
    ]
    assert not active(emulator, "vendors", name="Split Vendor")


def test_two_different_records_on_one_bill_object_are_a_conflict(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """Different source keys, one match key: not versions; the later one fails."""
    records = [
        {"erp_id": 1, "name": "Shared Name", "email": "one@x.com"},
        {"erp_id": 2, "name": "shared name ", "email": "two@x.com"},
    ]
    run = run_target(
        tap_config, singer_lines(keyed("vendors", records, "erp_id")), emulator=emulator
    )
    assert run.returncode == 1
    assert run.actions("vendors") == {"created": 1, "failed": 1}
    assert "duplicate of an earlier, different record" in run.failed()[0]["message"]
    assert [v["email"] for v in active(emulator, "vendors", name="Shared Name")] == ["one@x.com"]


# -- references across batches -------------------------------------------------------------


def test_bills_before_their_vendors_across_batches_all_land(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """A sink drains every 10,000 records: bills drained before their vendors arrive wait
    for them (in a file) instead of failing "no vendor named"."""
    bills = [bill(f"LATE-{n:05d}", vendor=f"Late Vendor {n % 3}") for n in range(10_050)]
    vendors = [{"name": f"Late Vendor {n}", "email": f"l{n}@x.com"} for n in range(3)]
    text = singer_lines(
        [
            *messages_for("bills", bills),
            {"type": "STATE", "value": {"bookmarks": {"erp": 1}}},
            *messages_for("vendors", vendors),
            {"type": "STATE", "value": {"bookmarks": {"erp": 2}}},
        ]
    )
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 0, run.stderr[-2000:] + str(run.failed()[:2])
    assert "10000 bills wait for objects they reference" in run.stderr
    assert run.actions("bills") == {"created": len(bills)}
    assert run.actions("vendors") == {"created": 3}
    vendor_ids = {v["id"]: v["name"] for v in active(emulator, "vendors")}
    landed = [b for b in active(emulator, "bills") if b["invoice"]["invoiceNumber"] >= "LATE"]
    assert sorted(vendor_ids[b["vendorId"]] for b in landed) == sorted(
        b["vendorName"] for b in bills
    )
    # STATE is passed on once the waiting bills are written, never before them.
    assert run.states == [{"bookmarks": {"erp": 2}}]


def test_a_reference_that_never_comes_fails_at_the_end_and_a_newer_version_supersedes_it(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    waiting = bill("W-1", vendor="Nobody Ever")
    newer = bill("W-1", vendor="Nobody Ever", description="v2")
    text = singer_lines(
        [
            *keyed("bills", [{**waiting, "erp_id": 1}], "erp_id"),
            *keyed("vendors", [{"name": "Somebody", "email": "s@x.com"}]),
            {"type": "RECORD", "stream": "bills", "record": {**newer, "erp_id": 1}},
            {"type": "RECORD", "stream": "bills", "record": {**bill("W-2"), "erp_id": 2}},
        ]
    )
    run = run_target({**tap_config, "batch_size_rows": 1}, text, emulator=emulator)
    assert run.returncode == 1
    assert run.actions("bills") == {"superseded": 1, "failed": 2}
    assert all("no vendor named" in line["message"] for line in run.failed())
    assert run.states == []


# -- archived twins, deleted rows ----------------------------------------------------------


def test_an_active_and_an_archived_vendor_of_one_name_the_active_one_is_matched(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    organization = emulator.organization()
    vendor = next(v for v in organization.list("vendors") if not v.get("archived"))
    twin = organization.create("vendors", {"name": vendor["name"], "email": "old@x.com"})
    organization.archive("vendors", twin["id"])
    text = singer_lines(
        [
            *messages_for("vendors", [{"name": vendor["name"], "email": "new@x.com"}]),
            *messages_for("bills", [bill("TWIN-1", vendor=vendor["name"])]),
        ]
    )
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 0, run.stderr[-2000:] + str(run.failed())
    assert run.results[0]["id"] == vendor["id"]
    assert organization.get("vendors", vendor["id"])["email"] == "new@x.com"
    assert organization.get("vendors", twin["id"])["archived"] is True
    landed = active(emulator, "bills", invoice__invoiceNumber="TWIN-1")
    assert [b["vendorId"] for b in landed] == [vendor["id"]]


def test_a_deleted_row_that_bill_never_had_is_unchanged(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    deleted = {"name": "Never In BILL", "email": "n@x.com", "_sdc_deleted_at": "2026-11-01"}
    run = run_target(
        tap_config, singer_lines(messages_for("vendors", [deleted])), emulator=emulator
    )
    assert run.returncode == 0
    assert run.actions() == {"unchanged": 1}
    assert "not in BILL" in run.results[0]["message"]
    assert not active(emulator, "vendors", name="Never In BILL")


# -- invoices ------------------------------------------------------------------------------


def test_an_invoice_held_by_another_customer_is_refused_not_moved(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    organization = emulator.organization()
    first, second = organization.list("customers")[:2]
    invoice = organization.create(
        "invoices",
        {"customerId": first["id"], "invoiceNumber": "MOVE-1", "invoiceLineItems": []},
    )
    record = {
        "customerId": second["id"],
        "invoiceNumber": "MOVE-1",
        "invoiceLineItems": [{"quantity": 1, "price": 5}],
    }
    run = run_target(
        tap_config, singer_lines(messages_for("invoices", [record])), emulator=emulator
    )
    assert run.returncode == 1
    [line] = run.results
    assert (line["action"], line["code"]) == ("failed", "CUSTOMER_CONFLICT")
    assert organization.get("invoices", invoice["id"])["customerId"] == first["id"]
    # With the invoice's own BILL id the move is explicit, and made.
    run = run_target(
        tap_config,
        singer_lines(messages_for("invoices", [{**record, "id": invoice["id"]}])),
        emulator=emulator,
    )
    assert run.actions() == {"updated": 1}
    assert organization.get("invoices", invoice["id"])["customerId"] == second["id"]


def amount_invoice(number: str, customer: str, amount: str) -> dict[str, Any]:
    """BILL's own "Replace an invoice" line shape: {amount, quantity}."""
    lines = [{"amount": amount, "quantity": 1, "description": "Premium drummer gloves"}]
    return {"customerId": customer, "invoiceNumber": number, "invoiceLineItems": lines}


def test_invoice_lines_given_amount_are_carried_and_a_change_is_written(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    organization = emulator.organization()
    customer = organization.list("customers")[0]["id"]
    record = amount_invoice("AMT-1", customer, "29.99")
    run = run_target(
        tap_config, singer_lines(messages_for("invoices", [record])), emulator=emulator
    )
    assert run.actions() == {"created": 1}, run.results
    [held] = active(emulator, "invoices", invoiceNumber="AMT-1")
    assert Decimal(str(held["totalAmount"])) == Decimal("29.99")
    again = run_target(
        tap_config, singer_lines(messages_for("invoices", [record])), emulator=emulator
    )
    assert again.actions() == {"unchanged": 1}
    changed = amount_invoice("AMT-1", customer, "39.99")
    run = run_target(
        tap_config, singer_lines(messages_for("invoices", [changed])), emulator=emulator
    )
    assert run.actions() == {"updated": 1}
    assert Decimal(str(organization.get("invoices", held["id"])["totalAmount"])) == Decimal("39.99")


@pytest.mark.parametrize(
    ("fault", "code"),
    [("amount", "AMOUNT_MISMATCH"), ("line", "LINES_MISMATCH")],
    ids=["amount-dropped", "line-dropped"],
)
def test_a_write_bill_stores_differently_is_failed_never_created(
    emulator: Emulator,
    tap_config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    code: str,
) -> None:
    """BILL answers 201 but holds less than was sent (a field it ignores, a line lost): the
    answer's total and line count are compared with the input after every write."""
    original = bill_emulator.writes._write_fields

    def storing_less(*args: Any, **kwargs: Any) -> dict[str, Any]:
        record = original(*args, **kwargs)
        lines = record.get("invoiceLineItems") or record.get("billLineItems") or []
        if fault == "amount":
            for line in lines:
                line.pop("price", None)
                line.pop("amount", None)
        elif lines:
            lines.pop()
        return record

    monkeypatch.setattr(bill_emulator.writes, "_write_fields", storing_less)
    customer = emulator.organization().list("customers")[0]["id"]
    invoice = amount_invoice("AMT-X", customer, "29.99")
    invoice["invoiceLineItems"].append({"quantity": 2, "price": "5.00"})
    vendor = {"name": "Mismatch Vendor", "email": "m@x.com"}
    text = singer_lines(
        [
            *messages_for("invoices", [invoice]),
            *messages_for("vendors", [vendor]),
            *messages_for("bills", [bill("MIS-1", vendor="Mismatch Vendor")]),
        ]
    )
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 1
    for stream in ("invoices", "bills"):
        [line] = [r for r in run.results if r["stream"] == stream]
        assert (line["action"], line["code"]) == ("failed", code), line
        assert line["id"]  # the object is in BILL, as stored


# -- STATE after failures a retry could fix ------------------------------------------------


def test_state_is_withheld_when_records_failed_for_a_reason_a_retry_could_fix(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """A 503 outage on every invoice create: an incremental ERP tap must send them again,
    so STATE is not passed on. A record BILL refuses for its content does not hold it."""
    customer = emulator.organization().list("customers")[0]["id"]
    invoices = [amount_invoice(f"OUT-{n}", customer, "5.00") for n in range(4)]
    state = {"type": "STATE", "value": {"bookmarks": {"erp": 4}}}
    emulator.faults.add(
        Fault("error", path_prefix="/v3/invoices", method="POST", status=503, times=1000)
    )
    run = run_target(
        {**tap_config, "max_retries": 1},
        singer_lines([*messages_for("invoices", invoices), state]),
        emulator=emulator,
    )
    assert run.actions() == {"failed": 4}
    assert run.states == []
    assert "failed for a reason a retry could fix" in run.stderr
    emulator.faults.clear()
    refused = {"name": "Refused By Content", "email": "r@x.com", "shortName": "s" * 31}
    run = run_target(
        tap_config, singer_lines([*messages_for("vendors", [refused]), state]), emulator=emulator
    )
    assert run.actions() == {"failed": 1}
    assert run.states == [state["value"]]


# -- found by trying it from outside (issue 12, item 4) ---------------------------------------


def test_records_without_a_complete_match_key_are_not_versions_of_each_other(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """Two bad records lacking an invoice number were taken for versions of one record (the
    first reported `superseded`, its own problems never); each gets its own failure."""
    records = [
        {"vendorName": "X", "billLineItems": [{"amount": "1.00"}]},
        {"vendorName": "X", "billLineItems": [{"amount": "1e400"}]},
    ]
    run = run_target(tap_config, singer_lines(messages_for("bills", records)), emulator=emulator)
    assert run.actions() == {"failed": 2}
    assert "amount: is too large" in run.results[1]["message"]


def test_a_row_deleted_at_the_source_archives_the_active_twin_not_the_archived_one(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    organization = emulator.organization()
    vendor = next(v for v in organization.list("vendors") if not v.get("archived"))
    twin = organization.create("vendors", {"name": vendor["name"], "email": "old@x.com"})
    organization.archive("vendors", twin["id"])
    deleted = {"name": vendor["name"], "_sdc_deleted_at": "2026-11-01T00:00:00Z"}
    run = run_target(
        tap_config, singer_lines(messages_for("vendors", [deleted])), emulator=emulator
    )
    assert run.actions() == {"archived": 1}, run.results
    assert run.results[0]["id"] == vendor["id"]
    assert organization.get("vendors", vendor["id"])["archived"] is True
