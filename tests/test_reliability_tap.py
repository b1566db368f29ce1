"""tap-billcom under every fault the emulator can inject, each measured the same way.

Each scenario runs the real tap (a separate process) against a fresh emulator, injects its
faults, and is judged on what a warehouse would end up with: every record in the emulator
emitted in its current version, none missing, none emitted twice within a run, at most one
page re-sent when a stopped sync resumes, and bookmarks at the newest `updatedTime`. A
scenario may use one follow-up incremental run (a resume, or to pick up records changed after
the sync began), as a scheduler would.

`scripts/reliability_report.py` runs these same scenarios (and the single-fault ones that
tests/test_tap_faults.py asserts) to print the README's reliability table.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bill_core import catalog
from bill_core.paging import parse_time
from bill_emulator import Emulator, EmulatorConfig, Fault
from tap_billcom.tap import EXIT_HOURLY_LIMIT
from tests.conftest import config_for
from tests.taprun import (
    SCAN,
    TapRun,
    discovered_catalog,
    kill,
    parse_messages,
    run_tap,
    scan_tap_run,
    start_tap,
)

STREAMS = ("vendors", "bills", "invoices")
PAGE = 100
#: Records at the bookmark's exact updatedTime are read again on resume (at-least-once).
BOUNDARY = 5


@dataclass
class Tally:
    """What one scenario did and what it left: a row of the reliability table."""

    scenario: str
    faults: int = 0
    lost: int = 0
    duplicates: int = 0
    resent: int = 0
    secrets: int = 0
    runs: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def survived(self) -> int:
        return self.faults if not self.problems else 0

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            self.problems.append(what)


@dataclass(frozen=True)
class Scenario:
    name: str
    body: Callable[[Tally], None]

    def run(self) -> Tally:
        """Run it; a leaked secret or an unexpected error is a problem of the scenario."""
        tally = Tally(self.name)
        hits = len(SCAN.hits)
        try:
            self.body(tally)
        except AssertionError as error:
            tally.problems.append(str(error).splitlines()[0])
        tally.secrets = len(SCAN.hits) - hits
        return tally


def assert_clean(tally: Tally) -> None:
    assert not tally.problems, tally.problems
    assert tally.faults > 0, "no fault fired: the scenario proves nothing"
    assert (tally.lost, tally.duplicates, tally.secrets) == (0, 0, 0)


# -- judging a sync ----------------------------------------------------------------------------


def judge(
    tally: Tally,
    emulator: Emulator,
    runs: Sequence[TapRun],
    streams: Iterable[str],
    *,
    page: int = PAGE,
) -> None:
    """Every record emitted (its current version last), none twice in one run, at most one
    page re-sent across a resume, bookmarks at the newest updatedTime."""
    tally.runs += len(runs)
    organization = emulator.organization()
    final_state = runs[-1].last_state
    for stream in streams:
        current = {r["id"]: r for r in organization.list(stream)}
        latest: dict[str, Any] = {}
        for run in runs:
            # The same version twice is a duplicate; a record changed while the sync ran is
            # emitted again in its new version, which is how the warehouse learns the change.
            versions = [(r["id"], r.get("updatedTime")) for r in run.records.get(stream, [])]
            twice = sum(n - 1 for n in Counter(versions).values())
            tally.duplicates += twice
            tally.expect(twice == 0, f"{stream}: {twice} record(s) emitted twice in one run")
            latest.update({r["id"]: r for r in run.records.get(stream, [])})
        for before, after in itertools.pairwise(runs):
            again = len(set(before.ids(stream)) & set(after.ids(stream)))
            tally.resent += again
            excess = max(0, again - page - BOUNDARY)
            tally.duplicates += excess
            tally.expect(excess == 0, f"{stream}: {again} records re-sent after a resume")
        missing = set(current) - set(latest)
        tally.lost += len(missing)
        tally.expect(not missing, f"{stream}: {len(missing)} record(s) never emitted")
        stale = [i for i in current if i in latest and not same_version(latest[i], current[i])]
        tally.lost += len(stale)
        tally.expect(not stale, f"{stream}: {len(stale)} record(s) emitted only in an old version")
        if catalog.get(stream).incremental and current:
            newest = max(r["updatedTime"] for r in current.values())
            bookmark = final_state.get("bookmarks", {}).get(stream, {})
            value = bookmark.get("replication_key_value")
            tally.expect(value == newest, f"{stream}: bookmark {value}, newest {newest}")


def same_version(emitted: dict[str, Any], stored: dict[str, Any]) -> bool:
    return emitted.get("updatedTime") == stored.get("updatedTime") or (
        "updatedTime" not in stored and emitted.get("id") == stored.get("id")
    )


def fired(emulator: Emulator, *faults: Fault) -> int:
    return sum(f.fired for f in faults) or sum(1 for r in emulator.requests if r.fault)


def logins(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.path == "/v3/login" and r.status == 200)


def sync(
    emulator: Emulator,
    streams: Sequence[str] = STREAMS,
    *,
    state: dict[str, Any] | None = None,
    **settings: Any,
) -> TapRun:
    assert emulator.base_url is not None
    return run_tap(
        config_for(emulator.base_url, **settings),
        state=state,
        streams=streams,
        emulator=emulator,
    )


def ok(tally: Tally, run: TapRun, what: str = "sync") -> None:
    tally.expect(run.returncode == 0, f"{what} exited {run.returncode}: {run.stderr[-300:]}")


# -- scenarios: faults the emulator injects ----------------------------------------------------


def with_faults(
    name: str,
    faults: Callable[[], list[Fault]],
    *,
    streams: Sequence[str] = STREAMS,
    records: int = 600,
    extra_accounts: int = 0,
    **settings: Any,
) -> Scenario:
    """One sync with these faults; it must end as if nothing had happened."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=records))
        add_accounts(emulator, extra_accounts)
        plan = faults()
        with emulator.serve():
            for fault in plan:
                emulator.faults.add(fault)
            run = sync(emulator, streams, **settings)
        tally.faults = fired(emulator, *plan)
        ok(tally, run)
        judge(tally, emulator, [run], streams)

    return Scenario(name, body)


def add_accounts(emulator: Emulator, count: int) -> None:
    """More chart-of-accounts entries than one page: a full-table list paged by BILL's token
    (the offset-like paging whose faults keyset paging cannot step around)."""
    organization = emulator.organization()
    template = organization.list("chart_of_accounts")[0]
    kept = {k: v for k, v in template.items() if k not in ("id", "createdTime", "updatedTime")}
    for number in range(count):
        organization.create("chart_of_accounts", {**kept, "name": f"Reliability {number:04d}"})


ACCOUNTS = ("chart_of_accounts",)

FAULT_SCENARIOS = [
    with_faults(
        "BDC_1322 burst on every stream (5 in a row)",
        lambda: [Fault("bdc", code="BDC_1322", times=5, after=2)],
    ),
    with_faults(
        "read timeouts (answer slower than request_timeout)",
        lambda: [Fault("delay", path_prefix="/v3/bills", seconds=0.8, times=2, after=1)],
        request_timeout=0.25,
    ),
    with_faults(
        "connection reset after BILL answered a read",
        lambda: [Fault("reset_after", path_prefix="/v3/bills", times=2, after=1)],
    ),
    with_faults(
        "empty page carrying nextPage, mid-list",
        lambda: [Fault("empty_page", path_prefix="/v3/bills", after=2)],
    ),
    with_faults(
        "empty page carrying nextPage, first page twice",
        lambda: [Fault("empty_page", path_prefix="/v3/bills", times=2)],
    ),
    with_faults(
        "empty page carrying nextPage, full-table list",
        lambda: [Fault("empty_page", path_prefix="/v3/classifications", after=1)],
        streams=ACCOUNTS,
        extra_accounts=250,
    ),
    with_faults(
        "repeated page token, incremental list",
        lambda: [Fault("repeat_cursor", path_prefix="/v3/bills", times=3, after=1)],
    ),
    with_faults(
        "repeated page token, full-table list",
        lambda: [Fault("repeat_cursor", path_prefix="/v3/classifications", after=1)],
        streams=ACCOUNTS,
        extra_accounts=250,
    ),
    with_faults(
        "page token pointing back to the first page",
        lambda: [Fault("repeat_cursor", path_prefix="/v3/classifications")],
        streams=ACCOUNTS,
        extra_accounts=250,
    ),
    with_faults(
        "every transient fault at once (5xx, 429, resets, cut and bad bodies)",
        lambda: [
            Fault("error", path_prefix="/v3/vendors", status=500, after=0),
            Fault("error", path_prefix="/v3/bills", status=502, after=1),
            Fault("error", path_prefix="/v3/bills", status=503, after=3),
            Fault("error", path_prefix="/v3/invoices", status=429),
            Fault("reset", path_prefix="/v3/bills", after=5),
            Fault("truncate", path_prefix="/v3/invoices", after=1),
            Fault("malformed", path_prefix="/v3/bills", after=6),
            Fault("bdc", path_prefix="/v3/invoices", code="BDC_1322", status=400, after=2),
        ],
    ),
]


# -- scenarios: the session ends at each position of a sync -----------------------------------


@cache
def bills_requests(records: int) -> int:
    """How many list requests a fault-free sync of bills makes (same seed, same answer)."""
    emulator = Emulator(EmulatorConfig(records=records))
    with emulator.serve() as base_url:
        run = run_tap(config_for(base_url), streams=["bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-2000:]
    return sum(1 for r in emulator.requests if r.method == "GET" and r.path == "/v3/bills")


def session_expiry(name: str, position: str, *, records: int = 1000) -> Scenario:
    """BILL ends the session (401 BDC_1109) right before the request at `position`."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=records))
        middle = bills_requests(records) // 2 + 1
        # The request for the last page is the one starting at or after the 100th newest bill
        # (how many requests come before it varies: idle window workers split windows).
        times = sorted(parse_time(b["updatedTime"]) for b in emulator.organization().list("bills"))
        tail = times[-100]
        seen: Counter[str] = Counter()
        lock = threading.Lock()

        def last_page(request: Any) -> bool:
            filters = "".join(request.query.get("filters", []))
            if request.path != "/v3/bills" or "updatedTime:gte:" not in filters:
                return False
            return parse_time(filters.split("updatedTime:gte:", 1)[1].split('"')[1]) >= tail

        def expire(request: Any) -> None:
            if request.method != "GET" or "/login" in request.path:
                return
            with lock:
                first_of_path = request.path not in seen
                seen[request.path] += 1
                at_last_page = last_page(request) and not seen["last page"]
                seen["last page"] += at_last_page
                if position == "between streams":
                    # The first request of another stream once the last bills page was asked
                    # for (the first pages of all streams are prefetched when the sync
                    # starts, so it is a later page).
                    after = request.path != "/v3/bills" and seen["last page"] > 0
                    hit = after and not tally.faults
                elif position == "in every stream":
                    hit = first_of_path or at_last_page
                elif position == "last page":
                    hit = at_last_page
                else:
                    number = seen[request.path]
                    hit = request.path == "/v3/bills" and number == {"first page": 1}.get(
                        position, middle
                    )
                if hit:
                    tally.faults += 1
                    emulator.kill_sessions()

        emulator.on_request(expire)
        with emulator.serve():
            run = sync(emulator)
        ok(tally, run)
        judge(tally, emulator, [run], STREAMS)
        # One sign-in per expiry at most (requests in flight share it), never one per request.
        signed_in = logins(emulator)
        tally.expect(
            1 < signed_in <= 1 + tally.faults, f"{signed_in} sign-ins, {tally.faults} ends"
        )

    return Scenario(name, body)


SESSION_SCENARIOS = [
    session_expiry(f"session expired ({position})", position)
    for position in ("first page", "middle page", "last page", "between streams")
] + [session_expiry("session expired again and again (4 times in one sync)", "in every stream")]


# -- scenarios: stops and resumes ------------------------------------------------------------


def hourly_limit(name: str, where: str) -> Scenario:
    """BILL's hourly limit (BDC_1144) stops the sync cleanly; the next run resumes."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=1000))
        if where == "sign-in":
            fault = Fault("bdc", path_prefix="/v3/login", code="BDC_1144")
        else:
            fault = Fault("bdc", path_prefix="/v3/invoices", code="BDC_1144")
        emulator.faults.add(fault)
        with emulator.serve():
            first = sync(emulator)
            tally.expect(
                first.returncode == EXIT_HOURLY_LIMIT, f"first run exited {first.returncode}"
            )
            tally.expect("resets at" in first.stderr, "the log does not say when the hour resets")
            second = sync(emulator, state=first.last_state)
        tally.faults = fault.fired
        ok(tally, second, "the next run")
        judge(tally, emulator, [first, second], STREAMS)

    return Scenario(name, body)


def endless_page_token(tally: Tally) -> None:
    """A page token repeated forever: the sync fails loudly (never a silent, short success)
    and the next run completes from the state saved so far."""
    emulator = Emulator(EmulatorConfig(records=300))
    add_accounts(emulator, 250)
    fault = Fault("repeat_cursor", path_prefix="/v3/classifications", times=50, after=1)
    emulator.faults.add(fault)
    streams = ["vendors", "chart_of_accounts"]
    with emulator.serve():
        first = sync(emulator, streams)
        tally.expect(first.returncode == 1, f"first run exited {first.returncode}")
        tally.expect("same page token" in first.stderr, "the error does not name the cause")
        emulator.faults.clear()
        second = sync(emulator, streams, state=first.last_state)
    tally.faults = fault.fired
    ok(tally, second, "the next run")
    # The full-table stream is read again in full by the next run: judge that run alone.
    judge(tally, emulator, [second], ["chart_of_accounts"])
    judge(tally, emulator, [first, second], ["vendors"])


def changes_while_paging(tally: Tally) -> None:
    """Records created, updated and archived between pages, with a 503 and an expired
    session in the same sync; one follow-up incremental run picks up what changed after the
    sync began."""
    emulator = Emulator(EmulatorConfig(records=1000))
    organization = emulator.organization()
    early = sorted(organization.list("bills"), key=lambda r: r["updatedTime"])[:40]
    pages = Counter[str]()

    def change(request: Any) -> None:
        if request.method != "GET" or request.path != "/v3/bills":
            return
        pages["bills"] += 1
        if pages["bills"] == 3:
            tally.faults += 1
            for bill in early[:20]:
                organization.update("bills", bill["id"], {"description": "changed mid-sync"})
            for bill in early[20:25]:
                organization.archive("bills", bill["id"])
            for _ in range(3):
                organization.create("bills", dict(early[30]))
            emulator.kill_sessions()

    emulator.on_request(change)
    error = emulator.faults.add(Fault("error", path_prefix="/v3/bills", status=503, after=4))
    with emulator.serve():
        first = sync(emulator)
        second = sync(emulator, state=first.last_state)
    tally.faults += error.fired
    ok(tally, first)
    ok(tally, second, "the follow-up run")
    tally.expect(pages["bills"] >= 3, "the changes never happened")
    judge(tally, emulator, [first, second], STREAMS)


def killed_mid_stream(after_states: int) -> Callable[[Tally], None]:
    """SIGKILL the tap once it has written `after_states` STATE messages, then start it again
    from the last STATE it wrote, as a scheduler would."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=1000, latency_seconds=0.03))
        with emulator.serve() as base_url, tempfile.TemporaryDirectory() as folder:
            config = config_for(base_url)
            tap = start_tap(Path(folder), config, streams=STREAMS)
            reached = tap.wait_for(after_states, "STATE")
            killed = kill(tap, config, emulator=emulator)
            second = sync(emulator, state=killed.last_state)
        tally.faults = 1
        tally.expect(reached and killed.returncode == -9, "the tap ended before the kill")
        total = sum(len(emulator.organization().list(s)) for s in STREAMS)
        emitted = sum(len(killed.ids(s)) for s in STREAMS)
        tally.expect(0 < emitted < total, f"killed after {emitted} of {total} records")
        ok(tally, second, "the restarted run")
        judge(tally, emulator, [killed, second], STREAMS)

    return body


STOP_SCENARIOS = [
    hourly_limit("BDC_1144 at the start of a stream", "stream"),
    hourly_limit("BDC_1144 at sign-in", "sign-in"),
    Scenario("page token repeated forever", endless_page_token),
    Scenario("records created, updated and archived while paging", changes_while_paging),
    Scenario("SIGKILL mid-stream (2nd STATE), restart from last STATE", killed_mid_stream(2)),
    Scenario("SIGKILL mid-stream (6th STATE), restart from last STATE", killed_mid_stream(6)),
]

SCENARIOS = [*SESSION_SCENARIOS, *FAULT_SCENARIOS, *STOP_SCENARIOS]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_tap_emits_every_record_once_with_correct_bookmarks_under(scenario: Scenario) -> None:
    assert_clean(scenario.run())


# -- single faults that tests/test_tap_faults.py asserts (rows of the report only) ----------


def single_fault(kind: str, status: int | None = None, code: str | None = None) -> Scenario:
    label = code or (str(status) if status else kind)
    return with_faults(
        f"{label} on bills ({kind}, 3 times)",
        lambda: [Fault(kind, path_prefix="/v3/bills", status=status, code=code, times=3, after=1)],
        streams=["bills"],
    )


COVERED_ELSEWHERE = [
    single_fault("error", 429),
    single_fault("error", 500),
    single_fault("error", 502),
    single_fault("error", 503),
    single_fault("bdc", 429, "BDC_1322"),
    single_fault("reset"),
    single_fault("truncate"),
    single_fault("malformed"),
]


# -- stops by signal, sign-in, first contact, blocks of one timestamp --------------------------


def stopped_by_signal(signum: int) -> Callable[[Tally], None]:
    """SIGTERM/SIGINT the tap mid-stream: it writes the last STATE, exits 128+signal, and a run
    restarted from that STATE loses nothing."""

    def body(tally: Tally) -> None:
        emulator = Emulator(EmulatorConfig(records=1000, latency_seconds=0.03))
        with emulator.serve() as base_url, tempfile.TemporaryDirectory() as folder:
            config = config_for(base_url)
            tap = start_tap(Path(folder), config, streams=STREAMS)
            reached = tap.wait_for(3, "STATE")
            tap.process.send_signal(signum)
            tap.process.wait(timeout=60)
            stdout, stderr = tap.output()
            stopped = TapRun(tap.process.returncode, stdout, stderr, parse_messages(stdout))
            scan_tap_run(stopped, config, emulator=emulator)
            second = sync(emulator, state=stopped.last_state)
        tally.faults = 1
        tally.expect(reached, "the tap ended before the signal")
        tally.expect(stopped.returncode == 128 + signum, f"exit {stopped.returncode}")
        tally.expect(stopped.messages[-1]["type"] == "STATE", "the last STATE was not flushed")
        ok(tally, second, "the restarted run")
        judge(tally, emulator, [stopped, second], STREAMS)

    return body


def refused_sign_in(tally: Tally) -> None:
    """A wrong password with every stream selected and 3 in flight: one sign-in attempt."""
    emulator = Emulator(EmulatorConfig(records=300))
    with emulator.serve():
        run = sync(emulator, EVERY_STREAM, password="wrong-password", max_concurrent_requests=3)
    attempts = sum(1 for r in emulator.requests if r.path == "/v3/login")
    tally.runs, tally.faults = 1, 1
    tally.expect(run.returncode == 1, f"exit {run.returncode}")
    tally.expect(attempts == 1, f"{attempts} sign-in attempts")
    tally.expect("BDC_1101" in run.stderr, "the refusal is not named")


def unreachable(tally: Tally) -> None:
    """BILL cannot be reached (nothing listens at base_url): reported after 2 attempts."""
    emulator = Emulator(EmulatorConfig(records=10))
    with emulator.serve() as base_url:
        pass  # served once, closed: its port now refuses connections
    run = run_tap({**config_for(base_url), "max_retries": 8}, streams=EVERY_STREAM)
    tally.runs, tally.faults = 1, 1
    tally.expect(run.returncode == 1, f"exit {run.returncode}")
    tally.expect(run.stderr.count("retry 1/1") == 1, "not exactly one retry")
    tally.expect(f"Cannot reach BILL at {base_url}" in run.stderr, "the URL is not named")


def block_updated_while_paging(tally: Tally) -> None:
    """250 bills of one updatedTime (a bulk import), read by page token; one of the first
    page is updated while the block is read, shifting BILL's offsets."""
    emulator = Emulator(EmulatorConfig(records=600))
    demo = emulator.organization()
    block = emulator.add_organization(seeded=False)
    stamp = "2026-03-01T10:00:00.000+00:00"
    bills = [{**b, "createdTime": stamp, "updatedTime": stamp} for b in demo.list("bills")[:250]]
    block.load({"bills": bills}, parse_ms(stamp))
    pages = Counter[str]()

    def change(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/bills":
            pages["bills"] += 1
            if pages["bills"] == 3:
                tally.faults += 1
                block.update("bills", bills[1]["id"], {"description": "changed mid-block"})

    emulator.on_request(change)
    with emulator.serve() as base_url:
        config = config_for(base_url, organization_id=block.organization_id)
        first = run_tap(config, streams=["bills"], emulator=emulator)
    ok(tally, first)
    tally.expect(pages["bills"] >= 3, "the change never happened")
    tally.runs = 1
    current = {b["id"]: b["updatedTime"] for b in block.list("bills")}
    emitted = Counter((r["id"], r["updatedTime"]) for r in first.records.get("bills", []))
    missing = set(current.items()) - set(emitted)
    tally.lost = len(missing)
    tally.duplicates = sum(n - 1 for n in emitted.values())
    tally.expect(not missing, f"{len(missing)} bill(s) never emitted in their current version")


def parse_ms(text: str) -> int:
    return int(parse_time(text).timestamp() * 1000)


@cache
def every_stream() -> list[str]:
    return [entry["tap_stream_id"] for entry in json.loads(discovered_catalog())["streams"]]


EVERY_STREAM = every_stream()

NEW_SCENARIOS = [
    Scenario("SIGTERM mid-stream, restart from the flushed STATE", stopped_by_signal(15)),
    Scenario("SIGINT mid-stream, restart from the flushed STATE", stopped_by_signal(2)),
    Scenario("wrong password, every stream, 3 in flight: sign-in attempts", refused_sign_in),
    Scenario("BILL unreachable on first contact (connection refused)", unreachable),
    Scenario("block of 250 equal updatedTimes, one updated while read", block_updated_while_paging),
]


@pytest.mark.parametrize("scenario", NEW_SCENARIOS, ids=[s.name for s in NEW_SCENARIOS])
def test_tap_stops_signs_in_and_pages_blocks_cleanly_under(scenario: Scenario) -> None:
    assert_clean(scenario.run())
