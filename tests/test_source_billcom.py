"""source-billcom as an Airbyte runner runs it: the console script as a separate process
against the emulator, every line it writes validated against Airbyte's protocol models
(tests/airbyte_messages.py) and scanned for secrets."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from bill_core import catalog
from bill_emulator import Emulator, EmulatorConfig, Fault
from scripts import plugin_about
from tap_billcom.tap import EXIT_BILL_ERROR, EXIT_CONFIG_ERROR, EXIT_HOURLY_LIMIT
from tests.airbyte_messages import (
    BackgroundSource,
    SourceRun,
    configured_catalog,
    parse_run,
    run_args,
    run_source,
    scan,
    source_command,
)
from tests.conftest import config_for

STREAMS = [o.stream for o in catalog.OBJECTS]
INCREMENTAL = {o.stream for o in catalog.OBJECTS if o.incremental}
CHILDREN = {o.stream: o.parent for o in catalog.OBJECTS if o.parent}
_EXACT = msgspec.json.Decoder(float_hook=Decimal)
#: What the SDK adds to every tap's settings (stream maps, flattening, batches): left out of
#: the Airbyte spec, as they would change streams behind the discovered catalog's back.
SDK_SETTINGS = [
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
]


def expected(emulator: Emulator, stream: str) -> list[str]:
    key = catalog.get(stream).key_properties[0]
    return sorted(r[key] for r in emulator.organization().list(stream))


def keys(run: SourceRun, stream: str) -> list[str]:
    key = catalog.get(stream).key_properties[0]
    return sorted(r[key] for r in run.records.get(stream, []))


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The discovered Airbyte catalog (discovery reads no data, so any base URL will do)."""
    run = run_source(
        tmp_path_factory.mktemp("discover"), "discover", config_for("http://127.0.0.1:9")
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert len(run.of("CATALOG")) == 1
    return dict(json.loads(run.stdout.splitlines()[-1])["catalog"])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


# -- spec, check, discover --------------------------------------------------------------------


def test_spec_is_the_taps_own_settings_with_secrets_marked(folder: Path) -> None:
    run = run_source(folder, "spec")
    assert run.returncode == 0
    [message] = run.messages
    assert message.spec is not None
    spec = message.spec.connectionSpecification
    about = plugin_about.about("tap_billcom")["settings"]
    own = [name for name in about["properties"] if name not in SDK_SETTINGS]
    assert set(SDK_SETTINGS) <= set(about["properties"])
    assert list(spec["properties"]) == own
    assert spec["required"] == about["required"]
    for name in own:
        assert spec["properties"][name]["description"] == about["properties"][name]["description"]
    secrets = {n for n, p in spec["properties"].items() if p.get("airbyte_secret")}
    assert secrets == {n for n, p in about["properties"].items() if p.get("secret")}
    assert secrets == {"password", "dev_key", "mfa_remember_me_id"}
    # Airbyte (and PyAirbyte before it runs anything) validates configs with this schema.
    jsonschema.Draft7Validator.check_schema(spec)
    jsonschema.Draft7Validator(spec).validate(config_for("http://127.0.0.1:9"))
    with pytest.raises(jsonschema.ValidationError, match="password"):
        jsonschema.Draft7Validator(spec).validate({"username": "u", "organization_id": "008x"})


def test_check_succeeds_with_the_taps_verdict(
    folder: Path, emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    run = run_source(folder, "check", tap_config, emulator=emulator)
    assert run.returncode == 0
    [status] = run.of("CONNECTION_STATUS")
    assert status.connectionStatus is not None
    assert status.connectionStatus.status.value == "SUCCEEDED"
    assert (status.connectionStatus.message or "").startswith("Connection OK: signed in")
    # One page read, as `tap-billcom --test` does; nothing written.
    assert [r.path for r in emulator.requests if r.method != "GET"] == ["/v3/login"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"password": "not-the-password"}, "BDC_1101"),
        ({"organization_id": "00601AAAAAAAAAAAAAAA"}, "does not start with 008"),
        ({"max_concurrent_requests": 9}, "BDC_1322"),
    ],
)
def test_check_fails_with_the_taps_actionable_message(
    folder: Path, emulator: Emulator, change: dict[str, Any], says: str
) -> None:
    config = {**config_for(emulator.base_url), **change}
    run = run_source(folder, "check", config, emulator=emulator)
    assert run.returncode == 0  # the protocol's answer is the status, not the exit code
    [status] = run.of("CONNECTION_STATUS")
    assert status.connectionStatus is not None
    assert status.connectionStatus.status.value == "FAILED"
    text = status.connectionStatus.message or ""
    assert says in text
    assert "What to do" in text
    assert "Traceback" not in run.stdout


def test_check_of_an_unreadable_config_fails_plainly(folder: Path) -> None:
    args = source_command(folder, "check", {})
    (folder / "config.json").write_text("{not json")
    run = run_args(args, None)
    assert run.returncode == 0
    [status] = run.of("CONNECTION_STATUS")
    assert status.connectionStatus is not None
    assert status.connectionStatus.status.value == "FAILED"
    assert "is not JSON" in (status.connectionStatus.message or "")
    (folder / "config.json").unlink()
    run = run_args(args, None)
    assert "cannot be read" in (run.of("CONNECTION_STATUS")[0].connectionStatus.message or "")
    # discover and read answer the same with a TRACE config_error and exit status 2.
    run = run_args([args[0], "discover", *args[2:]], None)
    assert run.returncode == 2
    assert [e["failure_type"] for e in run.errors] == ["config_error"]
    assert "cannot be read" in run.errors[0]["message"]


def test_discover_lists_every_stream_with_keys_cursors_and_modes(
    discovered: dict[str, Any],
) -> None:
    streams = {s["name"]: s for s in discovered["streams"]}
    assert sorted(streams) == sorted(STREAMS)
    for name, stream in streams.items():
        bill_object = catalog.get(name)
        assert stream["source_defined_primary_key"] == [[k] for k in bill_object.key_properties]
        assert stream["json_schema"]["type"] == "object"
        if name in INCREMENTAL:
            assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
            assert stream["source_defined_cursor"] is True
            assert stream["default_cursor_field"] == ["updatedTime"]
        elif name in CHILDREN:
            # Incremental as the tap reads it: the children of the parents read in this run.
            assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
            assert "default_cursor_field" not in stream
        else:
            assert stream["supported_sync_modes"] == ["full_refresh"]
            assert "default_cursor_field" not in stream


# -- read ---------------------------------------------------------------------------------------


def test_read_everything_then_only_what_changed(
    folder: Path, emulator: Emulator, discovered: dict[str, Any]
) -> None:
    config = config_for(emulator.base_url)
    configured = configured_catalog(discovered, STREAMS)  # incremental wherever supported
    first = run_source(folder, "read", config, catalog=configured, emulator=emulator)
    assert first.returncode == 0, first.stdout[-3000:]
    assert not first.errors
    for stream in STREAMS:
        assert keys(first, stream) == expected(emulator, stream), stream
        assert first.statuses(stream)[0] == "STARTED"
        assert first.statuses(stream)[-1] == "COMPLETE"
        # Every record is vouched for by a STATE of its stream, with the right count.
        counted = sum(
            s["sourceStats"]["recordCount"]
            for s in first.states
            if s["stream"]["stream_descriptor"]["name"] == stream
        )
        assert counted == len(first.records.get(stream, [])), stream
    for stream in INCREMENTAL:
        newest = max(r["updatedTime"] for r in emulator.organization().list(stream))
        assert first.stream_state(stream)["replication_key_value"] == newest, stream
    for stream in set(STREAMS) - INCREMENTAL:
        assert first.stream_state(stream) == {}, stream
    # Records are the tap's: the API's values, money exact.
    api = {
        b["id"]: _EXACT.decode(msgspec.json.encode(b))
        for b in emulator.organization().list("bills")
    }
    exact = {
        r["record"]["data"]["id"]: r["record"]["data"]
        for r in map(_EXACT.decode, first.stdout.splitlines())
        if r["type"] == "RECORD" and r["record"]["stream"] == "bills"
    }
    assert exact == api

    organization = emulator.organization()
    changed = sorted(organization.list("bills"), key=lambda r: r["id"])[:3]
    for bill in changed:
        organization.update("bills", bill["id"], {"description": "changed after the first run"})
    second = run_source(
        folder, "read", config, catalog=configured, state=first.last_states(), emulator=emulator
    )
    assert second.returncode == 0, second.stdout[-3000:]
    assert {b["id"] for b in changed} <= set(second.ids("bills"))
    # Incremental streams re-read at most the records at their bookmark (BILL's filter is
    # `updatedTime:gte`), full-table streams everything.
    assert len(second.ids("bills")) <= len(changed) + 1
    for stream in INCREMENTAL - {"bills"}:
        assert len(second.records.get(stream, [])) <= 1, stream
    for stream in set(STREAMS) - INCREMENTAL - set(CHILDREN):
        assert keys(second, stream) == expected(emulator, stream), stream
    # Children follow their parent: only the changed (and boundary) bills' documents.
    assert {d["billId"] for d in second.records.get("bill_documents", [])} <= set(
        second.ids("bills")
    )
    newest = max(r["updatedTime"] for r in organization.list("bills"))
    assert second.stream_state("bills")["replication_key_value"] == newest
    assert sum(len(v) for v in second.records.values()) < sum(
        len(v) for v in first.records.values()
    )


def test_full_refresh_ignores_the_state_and_reads_the_parent_of_a_full_child(
    folder: Path, emulator: Emulator, discovered: dict[str, Any]
) -> None:
    config = config_for(emulator.base_url)
    incremental = configured_catalog(discovered, ["vendors", "bills"])
    first = run_source(folder, "read", config, catalog=incremental, emulator=emulator)
    assert first.returncode == 0, first.stdout[-3000:]
    modes = {"vendors": "full_refresh", "bills": "incremental", "bill_documents": "full_refresh"}
    second = run_source(
        folder,
        "read",
        config,
        catalog=configured_catalog(discovered, modes),
        state=first.last_states(),
        emulator=emulator,
    )
    assert second.returncode == 0, second.stdout[-3000:]
    assert keys(second, "vendors") == expected(emulator, "vendors")
    assert second.stream_state("vendors") == {}
    # A full refresh of bill_documents reads every bill (bills' records come again).
    assert keys(second, "bill_documents") == expected(emulator, "bill_documents")
    assert keys(second, "bills") == expected(emulator, "bills")
    assert any(
        "A full refresh of bill_documents needs every bills record" in m for m in second.logs()
    )
    assert second.stream_state("bills") == first.stream_state("bills")


def test_column_selection_reaches_the_tap(
    folder: Path, emulator: Emulator, discovered: dict[str, Any]
) -> None:
    configured = configured_catalog(discovered, ["vendors"])
    schema = configured["streams"][0]["stream"]["json_schema"]
    schema["properties"] = {k: schema["properties"][k] for k in ("id", "name", "updatedTime")}
    run = run_source(folder, "read", config_for(emulator.base_url), catalog=configured)
    assert run.returncode == 0, run.stdout[-3000:]
    assert {frozenset(r) for r in run.records["vendors"]} == {
        frozenset({"id", "name", "updatedTime"})
    }


# -- failures -------------------------------------------------------------------------------------


FAILURES = {
    "wrong password": ({"password": "not-the-password"}, EXIT_BILL_ERROR, "BDC_1101"),
    "bad setting": ({"max_retries": -1}, EXIT_CONFIG_ERROR, "`max_retries` is -1"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_read_ends_with_the_taps_message_as_a_config_error(
    folder: Path, emulator: Emulator, discovered: dict[str, Any], case: str
) -> None:
    change, status, says = FAILURES[case]
    failure_type = "config_error"
    config = {**config_for(emulator.base_url), **change}
    configured = configured_catalog(discovered, ["vendors"])
    run = run_source(folder, "read", config, catalog=configured, emulator=emulator)
    assert run.returncode == status
    [error] = run.errors
    assert error["failure_type"] == failure_type
    assert says in error["message"]
    assert "What to do" in error["message"]
    assert error["internal_message"] == f"tap-billcom exited with status {status}"
    assert run.raw[-1]["type"] == "TRACE"


def test_bad_catalog_and_state_files_are_config_errors(
    folder: Path, discovered: dict[str, Any]
) -> None:
    config = config_for("http://127.0.0.1:9")
    bogus = configured_catalog(discovered, ["vendors"])
    bogus["streams"][0]["stream"]["name"] = "vendorz"
    run = run_source(folder, "read", config, catalog=bogus)
    assert run.returncode == 2
    assert [e["failure_type"] for e in run.errors] == ["config_error"]
    assert "vendorz" in run.errors[0]["message"]
    run = run_source(
        folder, "read", config, catalog=configured_catalog(discovered, ["vendors"]), state=[1]
    )
    assert run.returncode == 2
    assert "The state file is not Airbyte state" in run.errors[0]["message"]


def test_hourly_limit_is_a_transient_error_after_the_state_and_the_next_run_resumes(
    folder: Path, emulator: Emulator, discovered: dict[str, Any]
) -> None:
    emulator.faults.add(Fault("bdc", path_prefix="/v3/bills", code="BDC_1144", times=1, after=1))
    config = config_for(emulator.base_url, max_concurrent_requests=1)
    configured = configured_catalog(discovered, ["vendors", "bills", "invoices"])
    first = run_source(folder, "read", config, catalog=configured, emulator=emulator)
    assert first.returncode == EXIT_HOURLY_LIMIT
    [error] = first.errors
    assert error["failure_type"] == "transient_error"
    assert "hourly request limit" in error["message"]
    assert first.ids("bills"), "records before the limit are sent"
    assert first.stream_state("bills")["replication_key_value"]
    assert "INCOMPLETE" in first.statuses("bills")
    assert "COMPLETE" not in first.statuses("bills")
    second = run_source(
        folder, "read", config, catalog=configured, state=first.last_states(), emulator=emulator
    )
    assert second.returncode == 0, second.stdout[-3000:]
    assert set(first.ids("bills")) | set(second.ids("bills")) == set(expected(emulator, "bills"))
    assert keys(second, "invoices") == expected(emulator, "invoices")


@pytest.fixture
def held() -> Iterator[tuple[Emulator, threading.Event, threading.Event]]:
    """600 bills (6 pages); the request for the 3rd page is held until the test lets it go."""
    emulator = Emulator(EmulatorConfig(records=1000))
    reached, release = threading.Event(), threading.Event()
    pages = Counter[str]()

    def hold(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/bills":
            pages["bills"] += 1
            if pages["bills"] == 3:
                reached.set()
                release.wait(timeout=60)

    emulator.on_request(hold)
    with emulator.serve():
        try:
            yield emulator, reached, release
        finally:
            release.set()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_read_stops_the_tap_and_the_next_run_resumes(
    folder: Path,
    held: tuple[Emulator, threading.Event, threading.Event],
    discovered: dict[str, Any],
    signum: signal.Signals,
) -> None:
    emulator, reached, release = held
    config = config_for(emulator.base_url, max_concurrent_requests=1)
    configured = configured_catalog(discovered, ["bills"])
    source = BackgroundSource(source_command(folder, "read", config, catalog=configured))
    assert reached.wait(timeout=60), "the tap never asked for the 3rd page"
    taps = source.tap_pids()
    assert len(taps) == 1
    source.signal(signum)
    release.set()  # the tap may finish the page in flight before it stops
    returncode, stdout, stderr = source.finish()
    assert not Path(f"/proc/{taps[0]}").exists(), "the source ended before the tap"
    scan(stdout, stderr, config, emulator)
    first = parse_run(returncode, stdout, stderr)
    assert returncode == 128 + signum
    [error] = first.errors
    assert error["failure_type"] == "transient_error"
    assert f"stopped by {signum.name}" in error["message"]
    assert first.statuses("bills")[-1] == "INCOMPLETE"
    bookmark = first.stream_state("bills")["replication_key_value"]
    assert len(first.ids("bills")) >= 100
    assert max(r["updatedTime"] for r in first.records["bills"]) >= bookmark

    second = run_source(
        folder, "read", config, catalog=configured, state=first.last_states(), emulator=emulator
    )
    assert second.returncode == 0, second.stdout[-3000:]
    assert set(first.ids("bills")) | set(second.ids("bills")) == set(expected(emulator, "bills"))
    assert min(r["updatedTime"] for r in second.records["bills"]) >= bookmark
