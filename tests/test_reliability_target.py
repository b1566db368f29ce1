"""target-billcom under faults: kills mid-write, lost answers, 5xx, BDC_1322, BDC_1144.

Each scenario feeds the ERP sample (8 vendors, 6 customers, 24 bills, 18 invoices) to the real
target process against a fresh emulator, injects its faults, and is judged on what BILL ends
up holding: exactly one object per input record (none lost, none duplicated), and exactly one
results line per record saying what happened to it. Scenarios that stop (SIGKILL, BDC_1144)
are judged after one re-run, as a scheduler would do it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest

from bill_core.writes import get_path
from bill_emulator import Emulator, EmulatorConfig, Fault
from target_billcom.target import EXIT_HOURLY_LIMIT
from tests.conftest import config_for
from tests.taprun import ROOT, assert_no_secret, config_secrets
from tests.targetrun import SAMPLE, TargetRun, messages_for, run_target, singer_lines, write_calls
from tests.test_reliability_tap import Scenario, Tally, assert_clean

SAMPLE_TEXT = SAMPLE.read_text()
INPUT: dict[str, list[dict[str, Any]]] = {}
for _line in SAMPLE_TEXT.splitlines():
    _message = json.loads(_line, parse_float=Decimal)
    if _message["type"] == "RECORD":
        INPUT.setdefault(_message["stream"], []).append(_message["record"])
#: How each stream's records are told apart in BILL.
KEYS = {
    "vendors": "name",
    "customers": "name",
    "bills": "invoice.invoiceNumber",
    "invoices": "invoiceNumber",
}


def key(stream: str, record: dict[str, Any]) -> str:
    return str(get_path(record, KEYS[stream]) or "").strip().casefold()


def census(
    tally: Tally, emulator: Emulator, *, expected_failures: Iterable[tuple[str, str]] = ()
) -> None:
    """One BILL object per input record: count the missing and the extra ones."""
    organization = emulator.organization()
    skipped = set(expected_failures)
    for stream, records in INPUT.items():
        wanted = {key(stream, r) for r in records} - {k for s, k in skipped if s == stream}
        held = Counter(key(stream, r) for r in organization.list(stream))
        lost = sorted(k for k in wanted if held[k] == 0)
        extra = sum(held[k] - 1 for k in wanted if held[k] > 1)
        tally.lost += len(lost)
        tally.duplicates += extra
        tally.expect(not lost, f"{stream}: {len(lost)} record(s) never written, e.g. {lost[:2]}")
        tally.expect(not extra, f"{stream}: {extra} duplicate object(s) in BILL")


def one_line_per_record(tally: Tally, run: TargetRun) -> None:
    for stream, records in INPUT.items():
        lines = sum(run.actions(stream).values())
        tally.expect(lines == len(records), f"{stream}: {lines} results lines, {len(records)} in")


def target(emulator: Emulator, text: str = SAMPLE_TEXT, **settings: Any) -> TargetRun:
    assert emulator.base_url is not None
    return run_target(config_for(emulator.base_url, **settings), text, emulator=emulator)


def ok(tally: Tally, run: TargetRun, what: str = "run", code: int = 0) -> None:
    failed = [f.get("message", "")[:120] for f in run.failed()[:3]]
    tally.expect(run.returncode == code, f"{what} exited {run.returncode}: {failed}")


# -- faults on writes and reads ------------------------------------------------------------


def with_faults(name: str, faults: Callable[[], list[Fault]], **settings: Any) -> Scenario:
    """One run with these faults; BILL must end with one object per record, all `created`."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=50))
        plan = faults()
        with emulator.serve():
            for fault in plan:
                emulator.faults.add(fault)
            run = target(emulator, **settings)
        tally.runs = 1
        tally.faults = sum(f.fired for f in plan)
        ok(tally, run)
        one_line_per_record(tally, run)
        tally.expect(
            run.actions() == {"created": sum(len(r) for r in INPUT.values())}, str(run.actions())
        )
        census(tally, emulator)

    return Scenario(name, body)


def post(path: str, **kwargs: Any) -> Fault:
    return Fault(path_prefix=path, method="POST", **kwargs)


WRITE_FAULTS = [
    with_faults(
        "connection reset after BILL stored a create (ambiguous write)",
        lambda: [
            post("/v3/vendors/bulk", kind="reset_after"),
            post("/v3/customers", kind="reset_after", times=2),
            post("/v3/invoices", kind="reset_after", times=2, after=3),
        ],
    ),
    with_faults(
        "5xx on creates (bulk and single), twice in a row",
        lambda: [
            post("/v3/vendors/bulk", kind="error", status=503, times=2),
            post("/v3/customers", kind="error", status=500, times=3),
            post("/v3/bills/bulk", kind="error", status=502),
            post("/v3/invoices", kind="error", status=503, times=2, after=4),
        ],
    ),
    with_faults(
        "BDC_1322 on creates (bulk and single)",
        lambda: [
            post("/v3/vendors/bulk", kind="bdc", code="BDC_1322", times=2),
            post("/v3/bills/bulk", kind="bdc", code="BDC_1322", status=400),
            post("/v3/invoices", kind="bdc", code="BDC_1322", times=4),
        ],
    ),
    with_faults(
        "5xx, resets and cut answers on the reads that find existing objects",
        lambda: [
            Fault("error", path_prefix="/v3/vendors", method="GET", status=502, times=2),
            Fault("reset", path_prefix="/v3/bills", method="GET"),
            Fault("truncate", path_prefix="/v3/customers", method="GET"),
            Fault("error", path_prefix="/v3/classifications", method="GET", status=429),
        ],
    ),
]


def answer_held_after_handling(
    emulator: Emulator, method: str, path: str, until: threading.Event
) -> threading.Event:
    """BILL handles (stores) the first `method path` call, then holds its answer until
    `until` is set; the returned event is set once the call was handled."""
    handled = threading.Event()
    log = emulator.log  # called after handling, before the answer is written

    def log_then_hold(record: Any) -> None:
        log(record)
        if record.method == method and record.path == path and not handled.is_set():
            handled.set()
            until.wait(timeout=30)

    emulator.log = log_then_hold  # type: ignore[method-assign]
    return handled


def lost_answer_after_a_timeout(tally: Tally) -> None:
    """BILL stores an invoice, but its answer comes after the client's timeout. The target
    must look it up (and find it), not create it again."""
    emulator = Emulator(EmulatorConfig(records=50))
    looked = threading.Event()
    handled = answer_held_after_handling(emulator, "POST", "/v3/invoices", looked)

    def lookup(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/invoices" and handled.is_set():
            looked.set()

    emulator.on_request(lookup)
    with emulator.serve():
        run = target(emulator, request_timeout=1)
    tally.runs = 1
    tally.faults = int(handled.is_set())
    tally.expect(looked.is_set(), "the target never looked the invoice up")
    ok(tally, run)
    recovered = [r for r in run.results if "found in BILL" in (r.get("message") or "")]
    tally.expect(len(recovered) == 1, f"{len(recovered)} records found after a lost answer")
    one_line_per_record(tally, run)
    census(tally, emulator)


def updates_under_faults(tally: Tally) -> None:
    """PATCH, PUT and archive calls meeting 5xx and lost answers are sent again (a PATCH
    that sets fields and a PUT are safe to repeat; archive is idempotent in BILL)."""
    emulator = Emulator(EmulatorConfig(records=50))
    changed = {
        "vendors": [dict(r, phone="4085559876") for r in INPUT["vendors"][:4]],
        "bills": [json.loads(json.dumps(INPUT["bills"][0], default=str))],
        "customers": [dict(INPUT["customers"][0], _sdc_deleted_at="2026-11-27T00:00:00Z")],
    }
    changed["bills"][0]["billLineItems"][0]["amount"] = "99.00"
    text = singer_lines([m for s, r in changed.items() for m in messages_for(s, r)])
    plan = [
        Fault("error", path_prefix="/v3/vendors/", method="PATCH", status=503, times=2),
        Fault("reset_after", path_prefix="/v3/vendors/", method="PATCH", after=2),
        Fault("error", path_prefix="/v3/bills/", method="PUT", status=502),
        post("/v3/customers/", kind="error", status=500),
    ]
    with emulator.serve():
        first = target(emulator)
        ok(tally, first, "the first load")
        for fault in plan:
            emulator.faults.add(fault)
        run = target(emulator, text)
    tally.runs = 2
    tally.faults = sum(f.fired for f in plan)
    ok(tally, run)
    tally.expect(run.actions() == {"updated": 5, "archived": 1}, str(run.actions()))
    phones = [v.get("phone") for v in emulator.organization().list("vendors")]
    tally.expect(phones.count("4085559876") == 4, "a vendor update was lost")
    census(tally, emulator)


def bad_records_in_a_bulk_call(tally: Tally) -> None:
    """BILL refuses two bills of a bulk call for a reason the target cannot see beforehand:
    the batch is halved until each stands alone; the 22 good bills are still written."""
    emulator = Emulator(EmulatorConfig(records=50))
    messages = [json.loads(line) for line in SAMPLE_TEXT.splitlines()]
    bills = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "bills"]
    refused = []
    for number in (5, 17):
        bills[number]["classifications"] = "not an object"
        refused.append(("bills", key("bills", bills[number])))
    text = singer_lines(messages)
    with emulator.serve():
        run = target(emulator, text)
    tally.runs = 1
    tally.faults = 2
    ok(tally, run, code=1)
    tally.expect(run.actions("bills") == {"created": 22, "failed": 2}, str(run.actions("bills")))
    tally.expect(
        all("BDC_1119" in (f.get("code") or "") for f in run.failed()), "not BILL's own error"
    )
    bulk_calls = sum(1 for c in write_calls(emulator) if c.path == "/v3/bills/bulk")
    # Halving costs about two calls per level for each bad record: 1 + 2 x 2 x log2(24).
    tally.expect(bulk_calls <= 21, f"{bulk_calls} bulk calls to isolate 2 bad bills")
    one_line_per_record(tally, run)
    census(tally, emulator, expected_failures=refused)


# -- stops: BDC_1144 and SIGKILL --------------------------------------------------------------


def hourly_limit(name: str, faults: Callable[[], list[Fault]]) -> Scenario:
    """BDC_1144 mid-run: exit 3, `not_written` for exactly the records BILL does not hold,
    no STATE passed on; the re-run writes the rest and duplicates nothing."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=50))
        plan = faults()
        for fault in plan:
            emulator.faults.add(fault)
        with emulator.serve():
            first = target(emulator)
            held = {
                s: {key(s, r) for r in emulator.organization().list(s)} for s in INPUT
            }  # what BILL holds after the stop
            emulator.faults.clear()
            second = target(emulator)
        tally.runs = 2
        tally.faults = sum(f.fired for f in plan)
        ok(tally, first, "the stopped run", code=EXIT_HOURLY_LIMIT)
        tally.expect(first.states == [], f"STATE passed on after the stop: {first.states}")
        one_line_per_record(tally, first)
        for stream, records in INPUT.items():
            unwritten = {key(stream, r) for r in records} - held[stream]
            marked = {
                line["match_key"]
                for line in first.results
                if line["stream"] == stream and line["action"] == "not_written"
            }
            tally.expect(
                len(marked) == len(unwritten),
                f"{stream}: {len(marked)} not_written lines for "
                f"{len(unwritten)} records BILL does not hold",
            )
        ok(tally, second, "the re-run")
        census(tally, emulator)

    return Scenario(name, body)


def killed_during(path: str) -> Callable[[Tally], None]:
    """SIGKILL the target while its call to `path` is with BILL (BILL stores what it was
    sent; the target never hears back), then run the same input again."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=50))
        killed_it = threading.Event()
        handled = answer_held_after_handling(emulator, "POST", path, killed_it)
        with emulator.serve() as base_url, tempfile.TemporaryDirectory() as folder:
            config = config_for(base_url, results_path=str(Path(folder, "killed.jsonl")))
            with SAMPLE.open() as sample_input:
                killed = start_target(Path(folder), config, sample_input)
                tally.expect(handled.wait(timeout=60), f"the target never called {path}")
                killed.kill()
                stdout, stderr = killed.communicate(timeout=30)
            killed_it.set()
            secrets = [*config_secrets(config), *emulator.secret_values()]
            assert_no_secret(stdout, secrets, kind="target stdout (STATE)")
            assert_no_secret(stderr, secrets, kind="target stderr (logs, errors)")
            rerun = target(emulator)
        tally.runs = 2
        tally.faults = 1
        tally.expect(killed.returncode == -9, f"the target ended with {killed.returncode}")
        ok(tally, rerun, "the re-run")
        tally.expect(rerun.actions().get("unchanged", 0) > 0, "nothing of the killed run found")
        one_line_per_record(tally, rerun)
        census(tally, emulator)

    return body


def start_target(folder: Path, config: dict[str, Any], stdin: IO[str]) -> subprocess.Popen[str]:
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [sys.executable, "-m", "target_billcom", "--config", str(config_path)],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


SCENARIOS = [
    *WRITE_FAULTS,
    Scenario("timeout after BILL stored a create (ambiguous write)", lost_answer_after_a_timeout),
    Scenario("5xx and lost answers on PATCH, PUT and archive", updates_under_faults),
    Scenario("all-or-nothing bulk call refused for 2 of 24 bills", bad_records_in_a_bulk_call),
    hourly_limit(
        "BDC_1144 mid-run (invoices)",
        lambda: [post("/v3/invoices", kind="bdc", code="BDC_1144", after=3)],
    ),
    hourly_limit(
        "BDC_1144 while isolating a refused bulk call",
        lambda: [
            post("/v3/vendors/bulk", kind="error", status=400),
            post("/v3/vendors/bulk", kind="bdc", code="BDC_1144", after=2),
        ],
    ),
    Scenario("SIGKILL during a vendors bulk call, then re-run", killed_during("/v3/vendors/bulk")),
    Scenario("SIGKILL during a bills bulk call, then re-run", killed_during("/v3/bills/bulk")),
    Scenario("SIGKILL during a single create, then re-run", killed_during("/v3/invoices")),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_target_leaves_one_bill_object_per_record_under(scenario: Scenario) -> None:
    assert_clean(scenario.run())


# -- signals, versions, late references, outages -------------------------------------------


def stopped_by_signal(signum: int) -> Callable[[Tally], None]:
    """SIGTERM/SIGINT mid-run: calls in flight finish, nothing new is sent, every record not
    written gets a not_written line, no STATE; the re-run writes the rest."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=50, latency_seconds=0.02))
        creates = threading.Event()
        seen = Counter[str]()

        def watch(request: Any) -> None:
            if request.method == "POST" and request.path == "/v3/invoices":
                seen["invoices"] += 1
                if seen["invoices"] == 3:
                    creates.set()

        emulator.on_request(watch)
        with emulator.serve() as base_url, tempfile.TemporaryDirectory() as folder:
            config = config_for(base_url, results_path=str(Path(folder, "stopped.jsonl")))
            with SAMPLE.open() as sample_input:
                process = start_target(Path(folder), config, sample_input)
                tally.expect(creates.wait(timeout=60), "the target never created invoices")
                process.send_signal(signum)
                stdout, stderr = process.communicate(timeout=60)
            lines = [json.loads(x) for x in Path(folder, "stopped.jsonl").read_text().splitlines()]
            secrets = [*config_secrets(config), *emulator.secret_values()]
            assert_no_secret(stdout, secrets, kind="target stdout (STATE)")
            assert_no_secret(stderr, secrets, kind="target stderr (logs, errors)")
            stopped = TargetRun(process.returncode, stdout, stderr, lines)
            rerun = target(emulator)
        tally.runs, tally.faults = 2, 1
        tally.expect(process.returncode == 128 + signum, f"exit {process.returncode}")
        tally.expect(stdout == "", "STATE passed on after the stop")
        one_line_per_record(tally, stopped)
        tally.expect(stopped.actions().get("not_written", 0) > 0, "nothing was left unwritten")
        ok(tally, rerun, "the re-run")
        census(tally, emulator)

    return body


def versions_in_one_run(tally: Tally) -> None:
    """Every record sent twice, the second time changed (a tap re-sending what changed while
    it paged): BILL holds one object per record, in its last version."""
    emulator = Emulator(EmulatorConfig(records=50))
    messages = [json.loads(line) for line in SAMPLE_TEXT.splitlines()]
    again = []
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] in ("vendors", "customers"):
            changed = {**message["record"], "phone": "4085550100"}
            again.append({**message, "record": changed})
    with emulator.serve():
        run = target(emulator, singer_lines([*messages, *again]))
    tally.runs, tally.faults = 1, len(again)
    ok(tally, run)
    superseded = sum(1 for line in run.results if line["action"] == "superseded")
    tally.expect(superseded == len(again), f"{superseded} superseded lines for {len(again)}")
    organization = emulator.organization()
    for stream in ("vendors", "customers"):
        held = [
            r
            for r in organization.list(stream)
            if key(stream, r) in {key(stream, i) for i in INPUT[stream]}
        ]
        stale = [r for r in held if r.get("phone") != "4085550100"]
        tally.lost += len(stale)
        tally.expect(not stale, f"{stream}: {len(stale)} held in an earlier version")
    census(tally, emulator)


def children_before_parents(tally: Tally) -> None:
    """Bills and invoices first, their vendors and customers last, in batches of 10 (a sink
    drains every batch_size_rows): the children wait for their parents, all land."""
    emulator = Emulator(EmulatorConfig(records=50))
    messages = [json.loads(line) for line in SAMPLE_TEXT.splitlines()]
    order = {"bills": 0, "invoices": 1, "vendors": 2, "customers": 3}
    messages.sort(key=lambda m: (order.get(m.get("stream", ""), 4), m["type"] != "SCHEMA"))
    with emulator.serve():
        run = target(emulator, singer_lines(messages), batch_size_rows=10)
    waited = run.stderr.count("wait for objects they reference")
    tally.runs, tally.faults = 1, waited
    ok(tally, run)
    one_line_per_record(tally, run)
    tally.expect(waited > 0, "no record had to wait")
    census(tally, emulator)


def outage_then_rerun(tally: Tally) -> None:
    """503 on every invoice create until the retries run out: the invoices fail, STATE is
    not passed on (an incremental ERP tap sends them again), the re-run writes them."""
    emulator = Emulator(EmulatorConfig(records=50))
    outage = Fault("error", path_prefix="/v3/invoices", method="POST", status=503, times=10_000)
    emulator.faults.add(outage)
    text = singer_lines(
        [*map(json.loads, SAMPLE_TEXT.splitlines()), {"type": "STATE", "value": {"erp": 1}}]
    )
    with emulator.serve():
        first = target(emulator, text, max_retries=1)
        outage.times = outage.fired  # the outage is over
        second = target(emulator, text)
    tally.runs, tally.faults = 2, outage.fired
    ok(tally, first, "the run during the outage", code=1)
    tally.expect(first.states == [], f"STATE passed on: {first.states}")
    tally.expect(
        first.actions("invoices") == {"failed": len(INPUT["invoices"])}, str(first.actions())
    )
    ok(tally, second, "the re-run")
    tally.expect(second.states == [{"erp": 1}], "STATE not passed on by the clean re-run")
    census(tally, emulator)


NEW_SCENARIOS = [
    Scenario("SIGTERM during invoice creates, then re-run", stopped_by_signal(15)),
    Scenario("SIGINT during invoice creates, then re-run", stopped_by_signal(2)),
    Scenario("every vendor and customer sent twice in one run, changed", versions_in_one_run),
    Scenario("bills and invoices before their parents, batches of 10", children_before_parents),
    Scenario("503 on every invoice create: STATE withheld, re-run", outage_then_rerun),
]


@pytest.mark.parametrize("scenario", NEW_SCENARIOS, ids=[s.name for s in NEW_SCENARIOS])
def test_target_accounts_for_every_record_under(scenario: Scenario) -> None:
    assert_clean(scenario.run())
