"""tap-billcom under BILL's failure modes: expiry, retries, the hourly limit."""

from __future__ import annotations

from typing import Any

import pytest

from bill_emulator import Emulator, Fault
from tap_billcom.tap import EXIT_HOURLY_LIMIT
from tests.taprun import run_tap

STREAMS = ["vendors", "bills"]


def expected(emulator: Emulator, stream: str) -> list[str]:
    return sorted(r["id"] for r in emulator.organization().list(stream))


def logins(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.path == "/v3/login" and r.status == 200)


def test_session_killed_mid_sync_signs_in_once_more_and_loses_nothing(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    calls = {"n": 0}

    def kill_before_second_bills_page(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/bills":
            calls["n"] += 1
            if calls["n"] == 2:
                emulator.kill_sessions()

    emulator.on_request(kill_before_second_bills_page)
    run = run_tap(tap_config, streams=STREAMS, emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(run.ids("bills")) == expected(emulator, "bills")
    assert len(run.ids("bills")) == len(set(run.ids("bills")))
    assert logins(emulator) == 2
    assert [r.code for r in emulator.requests].count("BDC_1109") == 1


def test_session_expired_by_idle_time_is_renewed(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    calls = {"n": 0}

    def idle_past_expiry(request: Any) -> None:
        if request.method == "GET" and request.path == "/v3/bills":
            calls["n"] += 1
            if calls["n"] == 2:
                emulator.clock.advance(36 * 60)  # BILL drops sessions after 35 idle minutes

    emulator.on_request(idle_past_expiry)
    run = run_tap(tap_config, streams=["bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(run.ids("bills")) == expected(emulator, "bills")
    assert logins(emulator) == 2


def test_a_session_rejected_again_and_again_fails_with_a_clear_error(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    emulator.faults.add(Fault("bdc", path_prefix="/v3/vendors", code="BDC_1109", times=10))
    run = run_tap(tap_config, streams=["vendors"], emulator=emulator)
    assert run.returncode != 0
    assert "BILL rejected every new session" in run.stderr
    assert logins(emulator) == 3  # the first sign-in and two renewals, not an endless loop


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("error", 500, None),
        ("error", 502, None),
        ("error", 503, None),
        ("error", 429, None),
        ("bdc", 429, "BDC_1322"),
        ("bdc", 400, "BDC_1322"),  # BILL documents no status: the code decides
        ("reset", None, None),
        ("truncate", None, None),
        ("malformed", None, None),
    ],
)
def test_transient_failures_are_retried_and_nothing_is_lost(
    emulator: Emulator, tap_config: dict[str, Any], kind: str, status: int | None, code: str | None
) -> None:
    emulator.faults.add(
        Fault(kind, path_prefix="/v3/bills", status=status, code=code, times=3, after=1)
    )
    run = run_tap(tap_config, streams=["bills"], emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(run.ids("bills")) == expected(emulator, "bills")
    assert len(run.ids("bills")) == len(set(run.ids("bills")))
    assert sum(1 for r in emulator.requests if r.fault) == 3
    assert "retry 3/5" in run.stderr


def test_retries_give_up_after_the_budget_with_the_cause(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    emulator.faults.add(Fault("error", path_prefix="/v3/bills", status=503, times=50))
    run = run_tap(tap_config, streams=["bills"], emulator=emulator)
    assert run.returncode != 0
    assert "failed after 5 retries (503" in run.stderr


def test_hourly_limit_stops_cleanly_with_state_and_the_next_run_resumes(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    emulator.faults.add(Fault("bdc", path_prefix="/v3/bills", code="BDC_1144", times=1, after=1))
    first = run_tap(tap_config, streams=["vendors", "bills", "invoices"], emulator=emulator)
    assert first.returncode == EXIT_HOURLY_LIMIT, first.stderr[-3000:]
    assert "hourly request limit" in first.stderr
    assert "resets at" in first.stderr
    assert first.ids("bills"), "records before the limit are emitted"
    assert "invoices" not in first.records
    # Nothing is sent once BILL has answered BDC_1144 (first pages may have been prefetched
    # before it).
    limit = next(r for r in emulator.requests if r.code == "BDC_1144")
    assert not [r for r in emulator.requests if r.started > limit.ended]
    bookmark = first.bookmark("bills")
    assert bookmark is not None

    second = run_tap(
        tap_config,
        state=first.last_state,
        streams=["vendors", "bills", "invoices"],
        emulator=emulator,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert set(first.ids("bills")) | set(second.ids("bills")) == set(expected(emulator, "bills"))
    # Only the records at the bookmark are read twice.
    overlap = set(first.ids("bills")) & set(second.ids("bills"))
    assert len(overlap) <= 5
    assert sorted(second.ids("invoices")) == expected(emulator, "invoices")
