"""source-billcom's translation, in process: the read plan (property-based), state in and
out, the Singer-to-Airbyte message translation, log records and failure typing. Every
message written is validated against Airbyte's protocol models."""

from __future__ import annotations

import io
import json
from functools import cache
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bill_core import catalog
from source_billcom import cli
from source_billcom.messages import Output
from source_billcom.reading import Translator
from source_billcom.tapprocess import TapExit, _translate_logs, format_exception
from source_billcom.translate import (
    InputError,
    ReadPlan,
    plan_read,
    read_state,
    singer_state,
)
from tests.airbyte_messages import validate
from tests.taprun import discovered_catalog

STREAMS = [o.stream for o in catalog.OBJECTS]
PARENTS = {o.stream: o.parent for o in catalog.OBJECTS}
INCREMENTAL = {o.stream for o in catalog.OBJECTS if o.incremental}


@cache
def singer() -> dict[str, Any]:
    return dict(json.loads(discovered_catalog()))


def configured(modes: dict[str, str]) -> dict[str, Any]:
    return {
        "streams": [
            {"stream": {"name": n, "json_schema": {}}, "sync_mode": m} for n, m in modes.items()
        ]
    }


def written(buffer: io.BytesIO) -> list[dict[str, Any]]:
    lines = buffer.getvalue().decode().splitlines()
    for line in lines:
        validate(line)
    return [json.loads(line) for line in lines]


# -- the read plan -------------------------------------------------------------------------------

modes = st.dictionaries(st.sampled_from(STREAMS), st.sampled_from(["full_refresh", "incremental"]))
bookmarks = st.dictionaries(
    st.sampled_from(STREAMS),
    st.builds(
        lambda value: {"replication_key": "updatedTime", "replication_key_value": value},
        st.datetimes().map(lambda d: d.isoformat()),
    ),
)


@settings(max_examples=200, deadline=None)
@given(modes=modes, states=bookmarks)
def test_the_plan_selects_what_is_configured_and_resumes_what_may(
    modes: dict[str, str], states: dict[str, Any]
) -> None:
    plan = plan_read(singer(), configured(modes), PARENTS)
    entries = {e["tap_stream_id"]: e for e in plan.singer_catalog["streams"]}
    assert sorted(plan.streams) == sorted(modes)
    for name, entry in entries.items():
        [root] = [m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == []]
        assert root["selected"] is (name in modes)
        if name in modes:
            wanted = (
                "INCREMENTAL"
                if modes[name] == "incremental" and name in INCREMENTAL
                else "FULL_TABLE"
            )
            assert entry["replication_method"] == wanted, name
    assert plan.incremental == {
        n for n, m in modes.items() if m == "incremental" and n in INCREMENTAL
    }
    # An incremental parent starts over exactly when a child of it is refreshed in full.
    refreshed_parents = {PARENTS[n] for n, m in modes.items() if m == "full_refresh" and PARENTS[n]}
    assert plan.fresh == plan.incremental & refreshed_parents
    # The tap resumes from the bookmarks of the streams that resume, as given (same text).
    raw = {n: msgspec.Raw(json.dumps(v).encode()) for n, v in states.items()}
    resumed = json.loads(singer_state(raw, plan))["bookmarks"]
    assert resumed == {n: v for n, v in states.items() if n in plan.incremental - plan.fresh}
    # The discovered catalog is left as it was.
    assert singer() == json.loads(discovered_catalog())


def test_unknown_or_malformed_configured_streams_are_refused() -> None:
    with pytest.raises(InputError, match="vendorz"):
        plan_read(singer(), configured({"vendorz": "incremental"}), PARENTS)
    with pytest.raises(InputError, match="sync_mode"):
        plan_read(singer(), configured({"vendors": "sometimes"}), PARENTS)
    with pytest.raises(InputError, match="`streams` list"):
        plan_read(singer(), {"streams": "all"}, PARENTS)
    twice = configured({"vendors": "incremental"})
    twice["streams"] *= 2
    with pytest.raises(InputError, match="twice"):
        plan_read(singer(), twice, PARENTS)


def test_column_selection_deselects_fields_but_never_the_key_or_cursor() -> None:
    chosen = configured({"bills": "incremental"})
    chosen["streams"][0]["stream"]["json_schema"] = {"properties": {"amount": {}}}
    plan = plan_read(singer(), chosen, PARENTS)
    [bills] = [e for e in plan.singer_catalog["streams"] if e["tap_stream_id"] == "bills"]
    selected = {
        m["breadcrumb"][1]: m["metadata"].get("selected", True)
        for m in bills["metadata"]
        if len(m["breadcrumb"]) == 2
    }
    assert selected["amount"] is True
    assert selected["vendorId"] is False
    automatic = {
        m["breadcrumb"][1]
        for m in bills["metadata"]
        if len(m["breadcrumb"]) == 2 and m["metadata"].get("inclusion") == "automatic"
    }
    assert {"id", "updatedTime"} <= automatic
    assert all(selected[name] is not False for name in automatic)


# -- state in ------------------------------------------------------------------------------------

STATE = {"replication_key": "updatedTime", "replication_key_value": "2026-01-02T03:04:05+00:00"}


@pytest.mark.parametrize(
    "given_state",
    [
        [
            {
                "type": "STREAM",
                "stream": {"stream_descriptor": {"name": "bills"}, "stream_state": STATE},
            }
        ],
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "bills"}, "stream_state": STATE},
        },
        [
            {
                "type": "GLOBAL",
                "global": {
                    "stream_states": [
                        {"stream_descriptor": {"name": "bills"}, "stream_state": STATE}
                    ]
                },
            }
        ],
        [{"type": "LEGACY", "data": {"bookmarks": {"bills": STATE}}}],
        {"bookmarks": {"bills": STATE}},
    ],
    ids=["per-stream list", "one message", "global", "legacy message", "Singer state"],
)
def test_every_airbyte_state_form_gives_the_streams_bookmark(given_state: Any) -> None:
    states = read_state(json.dumps(given_state).encode())
    assert {n: json.loads(bytes(v)) for n, v in states.items()} == {"bills": STATE}


def test_a_state_is_handed_back_as_its_exact_text() -> None:
    state = b'{"n":1.10,"big":123456789012345678901234567890.5}'
    text = b'[{"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":%s}}]'
    assert bytes(read_state(text % state)["x"]) == state


@pytest.mark.parametrize(
    "empty",
    [
        b"[]",
        b"{}",
        b"null",
        b'[{"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":null}}]',
    ],
)
def test_no_state_reads_everything(empty: bytes) -> None:
    assert read_state(empty) == {}


@pytest.mark.parametrize("bad", [b"[1]", b"not json", b'[{"type":"STREAM","stream":{}}]'])
def test_state_that_is_not_airbyte_state_is_refused_with_the_fix(bad: bytes) -> None:
    with pytest.raises(InputError, match="What to do: pass the state the last `read` emitted"):
        read_state(bad)


# -- Singer messages -> Airbyte messages --------------------------------------------------------


def translate(
    plan: ReadPlan, lines: list[dict[str, Any] | bytes], states: dict[str, Any] | None = None
) -> tuple[Translator, io.BytesIO]:
    buffer = io.BytesIO()
    raw = {n: msgspec.Raw(json.dumps(v).encode()) for n, v in (states or {}).items()}
    translator = Translator(plan, raw, Output(buffer))
    for line in lines:
        translator(line if isinstance(line, bytes) else json.dumps(line).encode() + b"\n")
    translator.output.flush()
    return translator, buffer


def state_line(**bookmarks: Any) -> dict[str, Any]:
    return {"type": "STATE", "value": {"bookmarks": bookmarks}}


def record_line(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "RECORD",
        "stream": stream,
        "record": record,
        "time_extracted": "2026-01-01T00:00:00Z",
    }


def plan_of(modes: dict[str, str]) -> ReadPlan:
    return plan_read(singer(), configured(modes), PARENTS)


def test_records_keep_every_digit_the_tap_wrote() -> None:
    data = b'{"id":"b1","amount":1234567890.123456789012,"rate":0.10,"n":1E+2}'
    text = b'{"type":"RECORD","stream":"bills","record":%s,"time_extracted":"2026"}\n' % data
    translator, buffer = translate(plan_of({"bills": "incremental"}), [text])
    [status_started, status_running, record] = written(buffer)
    assert (
        b'"data":{"id":"b1","amount":1234567890.123456789012,"rate":0.10,"n":1E+2},"emitted_at":'
        in buffer.getvalue()
    )
    assert record["record"]["stream"] == "bills"
    assert isinstance(record["record"]["emitted_at"], int)
    assert (
        status_started["trace"]["stream_status"]["status"],
        status_running["trace"]["stream_status"]["status"],
    ) == ("STARTED", "RUNNING")
    assert translator.pending["bills"] == 1


def test_a_stream_state_goes_out_when_its_bookmark_moves_with_its_record_count() -> None:
    old = {"replication_key": "updatedTime", "replication_key_value": "2026-01-01"}
    new = {"replication_key": "updatedTime", "replication_key_value": "2026-02-01"}
    lines: list[dict[str, Any] | bytes] = [
        state_line(bills=old, vendors={}),  # the tap's echo of the given state: not sent again
        {"type": "SCHEMA", "stream": "bills", "schema": {}, "key_properties": ["id"]},
        record_line("bills", {"id": "1"}),
        record_line("bills", {"id": "2"}),
        record_line("vendors", {"id": "v"}),  # a parent read for its children: not configured
        state_line(bills=new, vendors={"replication_key_value": "x"}),
        state_line(bills=new),  # unchanged: not sent
        b'{"type":"RECORD","stream":"bills","rec',  # cut short by a kill
    ]
    translator, buffer = translate(plan_of({"bills": "incremental"}), lines, {"bills": old})
    states = [m["state"] for m in written(buffer) if m["type"] == "STATE"]
    assert states == [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "bills"}, "stream_state": new},
            "sourceStats": {"recordCount": 2.0},
        }
    ]
    assert translator.unreadable == 1
    assert not [
        m for m in written(buffer) if m["type"] == "RECORD" and m["record"]["stream"] == "vendors"
    ]


def test_a_whole_sync_ends_every_stream_with_a_state_and_complete() -> None:
    plan = plan_of({"bills": "incremental", "roles": "full_refresh", "vendors": "incremental"})
    given = {"vendors": {"replication_key": "updatedTime", "replication_key_value": "v"}}
    translator, buffer = translate(plan, [record_line("roles", {"id": "r"})], given)
    translator.finish(complete=True)
    messages = written(buffer)
    states = {
        m["state"]["stream"]["stream_descriptor"]["name"]: m["state"]
        for m in messages
        if m["type"] == "STATE"
    }
    assert states["roles"]["stream"]["stream_state"] == {}
    assert states["roles"]["sourceStats"]["recordCount"] == 1.0
    assert states["vendors"]["stream"]["stream_state"] == given["vendors"]  # kept as given
    assert states["bills"]["stream"]["stream_state"] == {}  # no bookmark yet
    final = [m["trace"]["stream_status"] for m in messages if m["type"] == "TRACE"]
    assert [s["status"] for s in final if s["stream_descriptor"]["name"] == "bills"] == [
        "STARTED",
        "COMPLETE",
    ]


def test_an_unfinished_sync_marks_begun_streams_incomplete_and_sends_no_more_state() -> None:
    translator, buffer = translate(
        plan_of({"bills": "incremental", "roles": "full_refresh"}),
        [record_line("bills", {"id": "1"})],
    )
    translator.finish(complete=False)
    messages = written(buffer)
    assert not [m for m in messages if m["type"] == "STATE"]
    statuses = [
        (
            m["trace"]["stream_status"]["stream_descriptor"]["name"],
            m["trace"]["stream_status"]["status"],
        )
        for m in messages
        if m["type"] == "TRACE"
    ]
    assert statuses == [("bills", "STARTED"), ("bills", "RUNNING"), ("bills", "INCOMPLETE")]


# -- the tap's log records ------------------------------------------------------------------------


def test_log_records_become_log_messages_and_errors_are_kept() -> None:
    buffer = io.BytesIO()
    output = Output(buffer, secrets=["hunter2-secret"])
    exception = {
        "type": "BillAuthError",
        "module": "bill_core.errors",
        "message": "refused",
        "traceback": [{"filename": "x.py", "function": "f", "lineno": 3, "line": "raise X\n"}],
    }
    lines = [
        {"level": "info", "message": "Connection OK: fine"},
        {"level": "warning", "message": "careful"},
        {
            "level": "error",
            "message": "BDC_1101: refused. What to do: check",
            "exception": exception,
        },
        {
            "level": "info",
            "message": "METRIC",
            "metric_info": {"metric": "record_count", "value": 3},
        },
        {"level": "info", "message": "a leaked hunter2-secret"},
    ]
    stream = io.BytesIO(
        b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        + b"Traceback (most recent call last):\n"
    )
    result = TapExit(returncode=1)
    _translate_logs(stream, output, result)
    logs = [m["log"] for m in written(buffer)]
    assert [log["level"] for log in logs] == ["INFO", "WARN", "ERROR", "DEBUG", "INFO", "WARN"]
    assert logs[2]["stack_trace"].endswith("bill_core.errors.BillAuthError: refused")
    assert 'File "x.py", line 3, in f' in logs[2]["stack_trace"]
    assert logs[3]["message"] == 'METRIC: {"metric":"record_count","value":3}'
    assert logs[4]["message"] == "a leaked ***"
    assert result.errors == ["BDC_1101: refused. What to do: check"]
    assert list(result.infos) == ["Connection OK: fine", "a leaked hunter2-secret"]
    assert result.traces[-1] == "Traceback (most recent call last):"


def test_chained_exceptions_print_their_cause_first() -> None:
    cause = {"type": "OSError", "module": "builtins", "message": "down"}
    text = format_exception(
        {"type": "BillError", "module": "bill_core.errors", "message": "failed", "cause": cause}
    )
    assert text.index("builtins.OSError: down") < text.index("bill_core.errors.BillError: failed")


# -- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returncode", "errors", "signals", "failure_type", "status"),
    [
        (2, ["Setting problem: 'password' is a required property"], [], "config_error", 2),
        (3, ["hourly request limit"], [], "transient_error", 3),
        (1, ["BILL answered 400: BDC_1101: no. What to do: check"], [], "config_error", 1),
        (1, ["BILL answered 403: BDC_1361: untrusted"], [], "config_error", 1),
        (1, ["failed after 5 retries (503)"], [], "system_error", 1),
        (1, ["BDC_1322 too many"], [], "system_error", 1),
        (0, [], [15], "transient_error", 143),
        (-15, [], [15], "transient_error", 143),
        (-9, [], [], "system_error", 137),
    ],
)
def test_the_taps_ending_is_typed_for_airbyte(
    returncode: int, errors: list[str], signals: list[int], failure_type: str, status: int
) -> None:
    result = TapExit(returncode=returncode, signals=signals, errors=errors)
    assert cli.failure_type(result) == failure_type
    assert cli.exit_status(result) == status
    text = cli.failure_text(result, "The sync")
    if signals:
        assert text == (
            "The sync was stopped by SIGTERM before it finished. Everything before the last "
            "STATE message is saved; the next run resumes."
        )
        assert cli.failure_text(result, "Discovery") == (
            "Discovery was stopped by SIGTERM before it finished."
        )
    elif errors:
        assert text == "\n".join(errors)
    else:
        assert text == f"The sync failed: tap-billcom exited with status {returncode}"
