"""Records of large lists go out as the JSON text BILL sent (bill_core.paging.RawRow): the
same Singer records as the SDK's decode-and-encode path, whatever BILL's layout, and records
with a field the schema lacks still lose that field."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from bill_emulator import Emulator, EmulatorConfig
from tests.conftest import config_for
from tests.taprun import TapRun, run_tap

_DECODER = msgspec.json.Decoder(float_hook=Decimal)


@pytest.fixture(scope="module")
def large() -> Iterator[Emulator]:
    """6,000 bills: read by windows (the path that writes records as sent)."""
    emulator = Emulator(EmulatorConfig(records=10_000))
    with emulator.serve():
        yield emulator


def exact_records(run: TapRun, stream: str) -> list[dict[str, Any]]:
    """The stream's records decoded from stdout with every number exact; every line of
    stdout must be one whole message."""
    records = []
    for line in run.stdout.splitlines():
        message = _DECODER.decode(line)
        if message["type"] == "RECORD" and message["stream"] == stream:
            assert message["time_extracted"].endswith("Z")
            records.append(message["record"])
    return records


def api_bills(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Every bill as the API answers it, numbers exact."""
    client_view = emulator.organization().list("bills")
    return {b["id"]: _DECODER.decode(msgspec.json.encode(b)) for b in client_view}


def test_records_as_sent_equal_the_sdk_path_and_the_api(large: Emulator) -> None:
    config = config_for(large.base_url)
    as_sent = run_tap(config, streams=["bills"], emulator=large)
    assert as_sent.returncode == 0, as_sent.stderr[-3000:]
    # A stream map (even one that only renames) sends records through the SDK's own path.
    mapped_config = {**config, "stream_maps": {"bills": {"__alias__": "bills_mapped"}}}
    mapped = run_tap(mapped_config, streams=["bills"], emulator=large)
    assert mapped.returncode == 0, mapped.stderr[-3000:]

    fast, sdk = exact_records(as_sent, "bills"), exact_records(mapped, "bills_mapped")
    assert len(fast) == 6000
    assert fast == sdk
    assert {r["id"]: r for r in fast} == api_bills(large)
    assert as_sent.last_state == mapped.last_state


def test_fields_outside_the_schema_are_left_out_with_one_warning(large: Emulator) -> None:
    organization = large.organization()
    store = organization.stores["bills"]
    changed = sorted(store.by_id.values(), key=lambda b: b["updatedTime"])[100:160]
    originals = {b["id"]: b for b in changed}
    try:
        for bill in changed:  # stored records are replaced, never changed in place
            store.by_id[bill["id"]] = {**bill, "lateAddedField": {"x": 1}, "another": True}
        run = run_tap(config_for(large.base_url), streams=["bills"], emulator=large)
    finally:
        for bill_id, bill in originals.items():
            store.by_id[bill_id] = bill
    assert run.returncode == 0, run.stderr[-3000:]
    records = {r["id"]: r for r in exact_records(run, "bills")}
    assert len(records) == 6000
    api = api_bills(large)
    # The changed records lost exactly the two fields; every other record is as BILL sent it.
    assert records == api
    warnings = [line for line in run.stderr.splitlines() if "schema does not describe" in line]
    assert len(warnings) == 1, warnings
    assert "another, lateAddedField" in warnings[0]


def test_indented_answers_still_give_one_message_per_line() -> None:
    emulator = Emulator(EmulatorConfig(records=10_000, json_indent=2))
    with emulator.serve():
        run = run_tap(config_for(emulator.base_url), streams=["bills"], emulator=emulator)
        assert run.returncode == 0, run.stderr[-3000:]
        records = exact_records(run, "bills")  # fails on any line that is not a message
        assert len(records) == 6000
        assert {r["id"]: r for r in records} == api_bills(emulator)
