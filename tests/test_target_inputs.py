"""target-billcom with bad input, killed runs, and a round trip between two organizations."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson

from bill_core.writes import get_path
from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig
from target_billcom.index import key_view
from target_billcom.mapping import write_view
from target_billcom.target import REFERENCE_STREAMS
from tests.conftest import config_for
from tests.taprun import ROOT, run_tap
from tests.targetrun import SAMPLE, messages_for, run_target, singer_lines, write_calls

GOOD = {
    "vendors": {"name": "Good Vendor LLC", "email": "ap@good.example"},
    "customers": {"name": "Good Customer Inc", "email": "billing@good.example"},
    "bills": {
        "vendorName": "Good Vendor LLC",
        "dueDate": "2026-12-31",
        "invoice": {"invoiceNumber": "GOOD-1", "invoiceDate": "2026-11-30"},
        "billLineItems": [{"amount": Decimal("100.00"), "description": "ok"}],
    },
    "invoices": {
        "customerName": "Good Customer Inc",
        "invoiceNumber": "GOOD-AR-1",
        "invoiceLineItems": [{"quantity": 1, "price": Decimal("50.00")}],
    },
}


def bill(**changes: Any) -> dict[str, Any]:
    record = {
        "vendorName": "Good Vendor LLC",
        "dueDate": "2026-12-31",
        "invoice": {"invoiceNumber": changes.pop("number"), "invoiceDate": "2026-11-30"},
        "billLineItems": [{"amount": Decimal("10.00")}],
    }
    record.update(changes)
    return record


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("vendors", {"email": "no-name@example.com"}, "name"),
    ("vendors", {"name": "V" * 150}, "at most 100"),
    ("vendors", {"name": 12345}, "must be text"),
    ("vendors", {"id": "erp-2", "name": "Good Vendor LLC", "email": "2@example.com"}, "duplicate"),
    ("customers", {"name": "No Email Customer"}, "email: is required"),
    ("bills", bill(number="B-1", vendorName="Nobody Such Vendor"), "no vendor named"),
    ("bills", bill(number="B-2", dueDate="2026-13-45"), "not a valid calendar date"),
    ("bills", bill(number="B-3", dueDate="31/12/2026"), "not a date like"),
    ("bills", bill(number="B-4", billLineItems=[{"amount": Decimal("-5.00")}]), "greater than 0"),
    ("bills", bill(number="B-5", billLineItems=[{"amount": Decimal("1.234")}]), "decimals"),
    ("bills", bill(number="B-6", billLineItems=[{"amount": "abc"}]), "is not a number"),
    ("bills", bill(number="B-7", billLineItems=[]), "non-empty list"),
    ("bills", bill(number="GOOD-1", id="erp-b-2"), "duplicate"),
    (
        "bills",
        bill(
            number="B-8",
            billLineItems=[
                {"amount": 1, "classifications": {"chartOfAccountName": "No Such Account"}}
            ],
        ),
        "no chart of accounts named",
    ),
    (
        "invoices",
        {
            "customerId": "0cu02NOTINTHISORG01",
            "invoiceNumber": "X-1",
            "invoiceLineItems": [{"quantity": 1, "price": 5}],
        },
        "does not exist",
    ),
    (
        "invoices",
        {"customerName": "Good Customer Inc", "invoiceLineItems": [{"quantity": 1, "price": 5}]},
        "match key is missing",
    ),
    (
        "invoices",
        {
            "customerName": "Good Customer Inc",
            "invoiceNumber": "X-2",
            "invoiceLineItems": [{"quantity": 0, "price": 5}],
        },
        "greater than 0",
    ),
]


def test_each_bad_record_gets_its_own_error_and_the_good_ones_land(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    messages: list[Any] = []
    for stream in ("bills", "invoices", "vendors", "customers"):
        records = [GOOD[stream], *(r for s, r, _ in BAD if s == stream)]
        messages += messages_for(stream, records)
    run = run_target(tap_config, singer_lines(messages), emulator=emulator)
    assert run.returncode == 1
    for stream in GOOD:
        assert run.actions(stream)["created"] == 1, stream
    failed = run.failed()
    assert len(failed) == len(BAD)
    messages_by_stream = Counter(f["stream"] for f in failed)
    assert messages_by_stream == Counter(s for s, _, _ in BAD)
    for (stream, _, expected), line in zip(BAD, sorted_like(failed, BAD), strict=True):
        assert line["stream"] == stream
        assert expected in line["message"], (expected, line["message"])
    assert "record(s) failed" in run.stderr


def sorted_like(failed: list[dict[str, Any]], bad: list[Any]) -> list[dict[str, Any]]:
    """Failures in the order of `bad`: each expected text takes the first failure of its
    stream that says it (a record whose reference is missing is reported at end of input,
    after waiting for it)."""
    left = list(failed)
    ordered = []
    for stream, _, expected in bad:
        line = next(
            (f for f in left if f["stream"] == stream and expected in f["message"]),
            next(f for f in left if f["stream"] == stream),
        )
        left.remove(line)
        ordered.append(line)
    return ordered


def test_allow_failures_exits_zero_but_still_reports(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    tap_config["allow_failures"] = True
    text = singer_lines(messages_for("vendors", [GOOD["vendors"], {"email": "x@example.com"}]))
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 0
    assert run.actions("vendors") == {"created": 1, "failed": 1}


def test_malformed_singer_lines_and_unknown_streams_are_reported(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    text = singer_lines(
        messages_for("vendors", [GOOD["vendors"]])
        + messages_for("purchase_orders", [{"id": "PO-1", "name": "PO"}])
    )
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 1
    assert run.actions("vendors") == {"created": 1}
    assert "stream_aliases" in run.failed()[0]["message"]


def test_stream_aliases_and_stream_maps_rename_erp_streams_and_columns(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    tap_config["stream_aliases"] = {"erp_suppliers": "vendors"}
    tap_config["stream_maps"] = {
        "erp_suppliers": {"name": "record['supplier_name']", "supplier_name": None}
    }
    text = singer_lines(
        messages_for(
            "erp_suppliers",
            [{"supplier_name": "Mapped Supplier", "email": "m@example.com"}],
            supplier_name={"type": "string"},
            email={"type": "string"},
        )
    )
    run = run_target(tap_config, text, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert any(v["name"] == "Mapped Supplier" for v in emulator.organization().list("vendors"))


@pytest.mark.parametrize("kill_after_writes", [1, 4, 12])
def test_a_run_killed_at_any_point_then_rerun_leaves_exactly_one_object_per_record(
    kill_after_writes: int,
) -> None:
    emulator = Emulator(EmulatorConfig(records=50, latency_seconds=0.02))
    with emulator.serve() as base_url, tempfile.TemporaryDirectory() as folder:
        config = config_for(base_url, results_path=str(Path(folder, "r.jsonl")))
        config_path = Path(folder, "config.json")
        config_path.write_text(json.dumps(config))
        with SAMPLE.open() as sample_input:
            process = subprocess.Popen(
                [sys.executable, "-m", "target_billcom", "--config", str(config_path)],
                stdin=sample_input,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
            )
            deadline = time.monotonic() + 60
            while len(write_calls(emulator)) < kill_after_writes and time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                time.sleep(0.005)
            process.kill()
            process.wait(timeout=30)
        killed_at = len(write_calls(emulator))
        rerun = run_target(config, SAMPLE.read_text(), emulator=emulator)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    # The kill really came mid-run: some writes before it, the rest by the re-run.
    assert kill_after_writes <= killed_at < len(write_calls(emulator))
    organization = emulator.organization()
    vendor_names = Counter(v["name"] for v in organization.list("vendors"))
    numbers = Counter(get_path(b, "invoice.invoiceNumber") for b in organization.list("bills"))
    invoice_numbers = Counter(i["invoiceNumber"] for i in organization.list("invoices"))
    sample = SAMPLE.read_text()
    for name, count in vendor_names.items():
        if f'"{name}"' in sample:
            assert count == 1, name
    assert all(c == 1 for n, c in numbers.items() if str(n).startswith("AP-"))
    assert all(c == 1 for n, c in invoice_numbers.items() if str(n).startswith("AR-"))
    assert sum(1 for n in numbers if str(n).startswith("AP-")) == 24
    assert sum(1 for n in invoice_numbers if str(n).startswith("AR-")) == 18


def business(stream: str, record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """What a person compares between organizations: write fields, ids replaced by names."""
    view = write_view(stream, record)
    for line in view.get("billLineItems", []) + view.get("invoiceLineItems", []):
        line.pop("id", None)  # line ids are the organization's own, like object ids
    text = json_dumps(view)
    for bill_id, name in names.items():
        text = text.replace(bill_id, name)
    return {"archived": bool(record.get("archived")), **json.loads(text)}


def json_dumps(value: Any) -> str:
    return str(simplejson.dumps(value, use_decimal=True, sort_keys=True))


def test_round_trip_organization_a_to_b_equals_a_on_every_business_field() -> None:
    emulator = Emulator(EmulatorConfig(records=200))
    organization_b = emulator.add_organization(seeded=False)
    organization_a = emulator.organization()
    # B's books are set up with the same classifications (their own ids), as a company would.
    for stream in CLASSIFICATIONS:
        for record in organization_a.list(stream):
            kept = ("name", "firstName", "lastName", "type", "account", "daysDue")
            organization_b.create(stream, {k: record[k] for k in kept if k in record})
    # An archived vendor and an active one of the same name (BILL allows it), each with an
    # open bill: the copy keeps them apart.
    for vendor in organization_a.list("vendors")[:2]:
        twin = organization_a.create("vendors", {"name": vendor["name"], "email": "t@x.com"})
        organization_a.archive("vendors", twin["id"])
        for number, owner in enumerate((vendor, twin)):
            organization_a.create(
                "bills",
                {
                    "vendorId": owner["id"],
                    "vendorName": owner["name"],
                    "dueDate": "2026-12-31",
                    "invoice": {
                        "invoiceNumber": f"TWIN-{vendor['name']}-{number}",
                        "invoiceDate": "2026-12-01",
                    },
                    "billLineItems": [{"amount": 10.0, "quantity": 1, "price": 10.0}],
                },
            )
    terms = sum(
        1 for v in organization_a.list("vendors") if get_path(v, "additionalInfo.paymentTermId")
    )
    assert terms, "the seeded vendors carry payment terms"
    streams = [*CLASSIFICATIONS, "vendors", "customers", "bills", "invoices"]
    with emulator.serve() as base_url:
        config_a = config_for(base_url)
        config_b = config_for(base_url, organization_id=organization_b.organization_id)
        from_a = run_tap(config_a, streams=streams, emulator=emulator)
        assert from_a.returncode == 0, from_a.stderr[-2000:]
        loaded = run_target(config_b, from_a.stdout, emulator=emulator)
        assert loaded.returncode == 0, loaded.stderr[-3000:] + str(loaded.failed()[:3])
        from_b = run_tap(config_b, streams=streams, emulator=emulator)
        emulator.clear_requests()
        again = run_target(config_b, from_a.stdout, emulator=emulator)
        assert write_calls(emulator) == []
        assert again.returncode == 0
    names_a = _names(from_a.records)
    names_b = _names(from_b.records)
    # Every writable field, the vendor's payment term included (an id of each organization).
    term = "additionalInfo.paymentTermId"
    terms_a = sorted(names_a.get(get_path(v, term), "-") for v in from_a.records["vendors"])
    terms_b = sorted(names_b.get(get_path(v, term), "-") for v in from_b.records["vendors"])
    assert terms_a == terms_b
    for stream in ("vendors", "customers", "bills", "invoices"):
        a = sorted(json_dumps(business(stream, r, names_a)) for r in from_a.records[stream])
        b = sorted(json_dumps(business(stream, r, names_b)) for r in from_b.records[stream])
        assert a == b, stream
    assert DEMO_CREDENTIALS["organization_id"] == organization_a.organization_id


#: Classifications and payment terms: read by the target to translate ids, not written.
CLASSIFICATIONS = tuple(sorted(REFERENCE_STREAMS))


def _names(records: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    names = {}
    for stream in (*CLASSIFICATIONS, "vendors", "customers"):
        for record in records.get(stream, []):
            archived = ":archived" if record.get("archived") else ""
            names[record["id"]] = f"<{stream}:{key_view(stream, record)['name']}{archived}>"
    return names
