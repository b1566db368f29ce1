"""Property-based tests (Hypothesis) of target-billcom's planning and matching.

Random ERP input: vendors and their bills, each record possibly sent several times in new
versions (a CDC feed, a tap re-sending what changed while it paged), names spelled in
different case and spacing, amounts as text, integers, floats or decimals, bills arriving
in batches before their vendors, deleted rows, and an archived twin already in BILL for some
names. The run is the target's own (`target_billcom.run.Run`, its planner, executor and
deferred records) against a served emulator, fed batch by batch as sinks would drain.

Invariants:
- every input record gets exactly one results line;
- BILL ends with exactly one active object per written record, holding its last version
  (a vendor's email, a bill's amount);
- nothing is lost: every record's last version is written, or its line says why not.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bill_core import catalog
from bill_core.client import clear_clients, get_client
from bill_core.settings import ConnectionSettings
from bill_core.writes import SHAPES
from bill_emulator import Emulator, EmulatorConfig
from target_billcom.run import Run
from tests.conftest import config_for

NAMES = ["Acme Supply", "Blue Harbor", "Cobalt Works"]
#: The target's default match keys (TargetBillcom.match_keys without settings).
MATCH_KEYS = {
    **{entry.stream: ("name",) for entry in catalog.OBJECTS},
    **{stream: shape.default_match_key for stream, shape in SHAPES.items()},
}
SPELLINGS = [lambda n: n, str.upper, lambda n: f"  {n.lower()} "]


@pytest.fixture(scope="module")
def served() -> Iterator[Emulator]:
    # Many examples, each signing in to its own organization: no hourly limits here.
    emulator = Emulator(
        EmulatorConfig(records=0, hourly_request_limit=10**9, hourly_login_limit=10**9)
    )
    with emulator.serve():
        yield emulator


def amount_values(cents: int) -> st.SearchStrategy[Any]:
    value = Decimal(cents) / 100
    return st.sampled_from(
        [str(value), f"{value:.2f}00", value, float(value)]
        + ([int(value)] if cents % 100 == 0 else [])
    )


@st.composite
def erp_input(draw: st.DrawFn) -> dict[str, Any]:
    """Versions of a few vendors and bills, in batches as a sink would drain them."""
    vendors = []
    for _ in range(draw(st.integers(1, 8))):
        erp_id = draw(st.integers(0, 3))
        name = NAMES[erp_id % len(NAMES)] if erp_id < len(NAMES) else NAMES[0]
        spelled = draw(st.sampled_from(SPELLINGS))(name)
        vendors.append(
            {
                "erp_id": erp_id,
                "name": spelled,
                "email": f"v{erp_id}-{draw(st.integers(0, 3))}@x.example",
                **({"_sdc_deleted_at": "2026-11-01"} if draw(st.integers(0, 9)) == 0 else {}),
            }
        )
    bills = []
    for _ in range(draw(st.integers(0, 8))):
        number = draw(st.integers(0, 3))
        cents = draw(st.integers(1, 99_999))
        bills.append(
            {
                "erp_id": f"B{number}",
                "vendorName": draw(st.sampled_from(SPELLINGS))(NAMES[number % len(NAMES)]),
                "dueDate": "2026-12-31",
                "invoice": {"invoiceNumber": f"INV-{number}", "invoiceDate": "2026-11-30"},
                "billLineItems": [{"amount": draw(amount_values(cents))}],
                "_cents": cents,
            }
        )
    batches = draw(st.integers(1, 3))
    return {
        "vendors": vendors,
        "bills": bills,
        "batches": batches,
        "bills_first": draw(st.booleans()),
        "twins": draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=2)),
    }


def chunks(records: list[dict[str, Any]], count: int) -> list[list[dict[str, Any]]]:
    size = max(1, -(-len(records) // count))
    return [records[n : n + size] for n in range(0, len(records), size)]


@settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=erp_input())
# Found by this test: an archived twin claimed (deleted) by one record, then restored by it
# in a later batch while another record of the same name created one: two active vendors.
@example(
    data={
        "vendors": [
            {"erp_id": 3, "name": "Acme Supply", "email": "a@x.example", "_sdc_deleted_at": "x"},
            {"erp_id": 0, "name": "Acme Supply", "email": "b@x.example"},
            {"erp_id": 3, "name": "Acme Supply", "email": "c@x.example"},
        ],
        "bills": [],
        "batches": 2,
        "bills_first": False,
        "twins": ["Acme Supply"],
    }
)
def test_every_record_one_line_and_bill_holds_each_last_version(
    served: Emulator, data: dict[str, Any]
) -> None:
    organization = served.add_organization(seeded=False)
    for name in data["twins"]:  # an archived vendor of the same name (BILL allows it)
        twin = organization.create("vendors", {"name": name, "email": "twin@x.example"})
        organization.archive("vendors", twin["id"])
    twins = {v["id"] for v in organization.list("vendors")}
    config = config_for(served.base_url or "", organization_id=organization.organization_id)
    clear_clients()
    with tempfile.TemporaryDirectory() as folder:
        results_path = str(Path(folder, "results.jsonl"))
        run = Run(
            None,  # type: ignore[arg-type]  # (the target only drains sinks; none here)
            get_client(ConnectionSettings.from_config(config)),
            match_keys=MATCH_KEYS,
            results_path=results_path,
            dry_run=False,
        )
        bills = [{k: v for k, v in b.items() if k != "_cents"} for b in data["bills"]]
        streams = [("bills", bills), ("vendors", data["vendors"])]
        if not data["bills_first"]:
            streams.reverse()
        for stream, records in streams:
            for batch in chunks(records, data["batches"]):
                run.write(stream, batch, ["erp_id"])
        run.finish(10_000)
        run.results.close()
        lines = [json.loads(line) for line in Path(results_path).read_text().splitlines()]
    clear_clients()

    # Every input record: exactly one results line.
    for stream, records in streams:
        assert sum(1 for line in lines if line["stream"] == stream) == len(records), stream
    assert not [line for line in lines if line["action"] == "not_written"]

    # Each record's last version is what BILL holds, on exactly one active object.
    vendors = {v["id"]: v for v in organization.list("vendors")}
    active = Counter(
        v["name"].strip().casefold() for v in vendors.values() if not v.get("archived")
    )
    assert all(count == 1 for count in active.values()), active
    last_vendor = {v["erp_id"]: v for v in data["vendors"]}
    outcome = {line["id"]: line for line in lines if line["stream"] == "vendors" and line.get("id")}
    for erp_id, version in last_vendor.items():
        key = version["name"].strip().casefold()
        held = [v for i, v in vendors.items() if i not in twins or i in outcome]
        found = [v for v in held if v["name"].strip().casefold() == key and not v.get("archived")]
        if version.get("_sdc_deleted_at"):
            continue  # archived, or never in BILL (unchanged): either way not active here
        owners = {v["erp_id"] for v in data["vendors"] if v["name"].strip().casefold() == key}
        if len(owners) == 1:  # one source record for this name: its last version won
            assert [v["email"] for v in found] == [version["email"]], (erp_id, found)
    bills = organization.list("bills")
    for number in {b["erp_id"] for b in data["bills"]}:
        version = [b for b in data["bills"] if b["erp_id"] == number][-1]
        held_bills = [
            b for b in bills if b["invoice"]["invoiceNumber"] == version["invoice"]["invoiceNumber"]
        ]
        assert len(held_bills) <= 1
        # Its vendor is in BILL by the end (whenever it arrived): the bill is written.
        vendor_key = version["vendorName"].strip().casefold()
        if any(v["name"].strip().casefold() == vendor_key for v in vendors.values()):
            assert held_bills, f"{number}: lost although its vendor is in BILL"
        line = [
            x
            for x in lines
            if x["stream"] == "bills"
            and x["match_key"].endswith(version["invoice"]["invoiceNumber"])
        ]
        if held_bills and line and line[-1]["action"] in ("created", "updated", "unchanged"):
            assert Decimal(str(held_bills[0]["amount"])) == Decimal(version["_cents"]) / 100
