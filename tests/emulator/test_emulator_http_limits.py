"""Rate limits, latency and the request log, over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests
from emulator_helpers import Api, codes, login_body

from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig
from bill_emulator.gateway import RequestRecord

LATENCY = 0.3


def signed_in_headers(base_url: str) -> dict[str, str]:
    answer = requests.post(f"{base_url}/v3/login", json=login_body(), timeout=5)
    return {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": answer.json()["sessionId"]}


def parallel_gets(
    base_url: str, headers: dict[str, str], count: int
) -> list[tuple[float, requests.Response]]:
    """`count` requests released at the same moment; (seconds taken, answer) each."""
    start = threading.Barrier(count)
    answers: list[tuple[float, requests.Response]] = []
    lock = threading.Lock()

    def get() -> None:
        start.wait()
        began = time.monotonic()
        answer = requests.get(f"{base_url}/v3/vendors", headers=headers, timeout=10)
        with lock:
            answers.append((time.monotonic() - began, answer))

    threads = [threading.Thread(target=get) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_fourth_concurrent_request_is_refused_at_once_with_bdc_1322() -> None:
    emulator = Emulator(EmulatorConfig(records=20, latency_seconds=LATENCY))
    with emulator.serve() as base_url:
        answers = parallel_gets(base_url, signed_in_headers(base_url), 4)
    refused = [(took, a) for took, a in answers if a.status_code != 200]
    assert len(refused) == 1
    took, answer = refused[0]
    assert (answer.status_code, codes(answer)) == (429, ["BDC_1322"])
    assert (
        answer.json()[0]["message"] == "Max number of concurrent requests per organization reached."
    )
    assert took < LATENCY  # refused immediately, not after the latency
    assert all(took >= LATENCY for took, a in answers if a.status_code == 200)
    assert emulator.peak_in_flight == 3


def test_the_rate_limit_status_is_configurable() -> None:
    emulator = Emulator(
        EmulatorConfig(records=20, latency_seconds=LATENCY, max_in_flight=1, rate_limit_status=400)
    )
    with emulator.serve() as base_url:
        answers = parallel_gets(base_url, signed_in_headers(base_url), 2)
    assert sorted(a.status_code for _, a in answers) == [200, 400]
    assert emulator.peak_in_flight == 1


def test_the_limit_is_per_organization() -> None:
    emulator = Emulator(EmulatorConfig(records=20, latency_seconds=LATENCY, max_in_flight=1))
    other = emulator.add_organization()
    with emulator.serve() as base_url:
        first = signed_in_headers(base_url)
        second_session = requests.post(
            f"{base_url}/v3/login", json=login_body(organizationId=other.organization_id), timeout=5
        ).json()["sessionId"]
        second = {**first, "sessionId": second_session}
        results: list[int] = []

        def get(headers: dict[str, str]) -> None:
            results.append(
                requests.get(f"{base_url}/v3/vendors", headers=headers, timeout=5).status_code
            )

        threads = [threading.Thread(target=get, args=(h,)) for h in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [200, 200]


def test_hourly_request_limit_blocks_until_the_next_hour() -> None:
    emulator = Emulator(
        EmulatorConfig(records=20, hourly_request_limit=5, session_idle_seconds=7200)
    )
    with emulator.serve() as base_url:
        headers = signed_in_headers(base_url)  # the login is request 1 of 5
        statuses = [
            requests.get(f"{base_url}/v3/bills", headers=headers, timeout=5) for _ in range(6)
        ]
        assert [a.status_code for a in statuses] == [200] * 4 + [429, 429]
        [error] = statuses[-1].json()
        assert error == {
            **error,
            "code": "BDC_1144",
            "category": "DOWNSTREAM",
            "message": "Max number of allowed requests per hour reached: 5.",
        }
        emulator.clock.advance(3600)
        assert requests.get(f"{base_url}/v3/bills", headers=headers, timeout=5).status_code == 200


def test_the_request_log_records_what_came_in_and_what_went_out(
    emulator: Emulator, api: Api
) -> None:
    emulator.clear_requests()
    api.get("/v3/bills", max=5, filters="archived:eq:false")
    api.get("/v3/widgets")
    [listed, unknown] = emulator.requests
    assert (listed.method, listed.path, listed.status, listed.code) == (
        "GET",
        "/v3/bills",
        200,
        None,
    )
    assert listed.query == {"max": ["5"], "filters": ["archived:eq:false"]}
    assert listed.organization_id == DEMO_CREDENTIALS["organization_id"]
    assert listed.session_id == api.session_id
    assert listed.headers["sessionId"] == api.session_id
    assert listed.ended is not None
    assert listed.started <= listed.ended <= unknown.started
    assert (unknown.status, unknown.code, unknown.fault) == (404, "BDC_1121", None)
    assert api.session_id not in repr(listed)  # session ids stay out of reprs


def test_callbacks_run_before_each_request_and_may_change_records(
    emulator: Emulator, api: Api
) -> None:
    seen: list[RequestRecord] = []
    organization = emulator.organization()
    target = organization.list("vendors")[0]["id"]

    def rename(record: RequestRecord) -> None:
        seen.append(record)
        if record.path.startswith("/v3/vendors") and record.status is None:
            organization.update("vendors", target, {"name": f"Renamed {len(seen)}"})

    emulator.on_request(rename)
    answer = api.get(f"/v3/vendors/{target}")
    assert answer.json()["name"] == "Renamed 1"
    answer = api.get("/v3/vendors", max=100)
    assert {v["name"] for v in answer.json()["results"]} >= {"Renamed 2"}
    assert all(record.ended is not None for record in seen)  # the same records, completed


def test_latency_counts_as_in_flight(new_api: Callable[[str], Api]) -> None:
    emulator = Emulator(EmulatorConfig(records=20, latency_seconds=0.05))
    with emulator.serve() as base_url:
        api = new_api(base_url)
        api.login()
        began = time.monotonic()
        api.get("/v3/bills")
        assert time.monotonic() - began >= 0.05
    assert emulator.peak_in_flight == 1
    emulator.clear_requests()
    assert emulator.peak_in_flight == 0
    assert emulator.requests == []
