"""Injected faults, each observed the way a client would meet it."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import Api, codes

from bill_emulator import Emulator, Fault


def faults_fired(emulator: Emulator) -> list[str | None]:
    return [r.fault for r in emulator.requests if r.fault]


def test_error_answers_the_status_with_a_bill_error_body_without_handling(
    emulator: Emulator, api: Api
) -> None:
    emulator.faults.add(Fault("error", path_prefix="/v3/bills", status=503, times=2, after=1))
    statuses = [api.get("/v3/bills").status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    emulator.faults.add(Fault("error", path_prefix="/v3/bills", status=502, code="BDC_1002"))
    answer = api.get("/v3/bills")
    assert (answer.status_code, codes(answer)) == (502, ["BDC_1002"])
    assert faults_fired(emulator) == ["error"] * 3
    assert api.get("/v3/vendors").status_code == 200  # other paths never matched


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("BDC_1322", None, 429),
        ("BDC_1144", None, 429),
        ("BDC_1109", None, 401),
        ("BDC_1322", 400, 400),
        ("BDC_1361", None, 403),
    ],
)
def test_bdc_answers_a_bill_error_code(
    emulator: Emulator, api: Api, code: str, status: int | None, expected: int
) -> None:
    emulator.faults.add(Fault("bdc", path_prefix="/v3/vendors", code=code, status=status))
    answer = api.get("/v3/vendors")
    assert (answer.status_code, codes(answer)) == (expected, [code])
    assert emulator.requests[-1].code == code
    assert api.get("/v3/vendors").status_code == 200


def test_reset_closes_the_connection_before_handling(emulator: Emulator, api: Api) -> None:
    emulator.faults.add(Fault("reset", path_prefix="/v3/login/session"))
    with pytest.raises(requests.ConnectionError):
        api.get("/v3/login/session")
    assert api.get("/v3/login/session").status_code == 200  # a new connection works
    reset = next(r for r in emulator.requests if r.fault)
    assert (reset.fault, reset.status) == ("reset", None)


def test_reset_after_applies_the_request_but_loses_the_answer(emulator: Emulator, api: Api) -> None:
    organization = emulator.organization()
    emulator.faults.add(Fault("reset_after", path_prefix="/v3/logout", method="POST"))
    with pytest.raises(requests.ConnectionError):
        api.post("/v3/logout")
    assert api.get("/v3/vendors").status_code == 401  # the logout happened
    assert organization.list("vendors")
    assert faults_fired(emulator) == ["reset_after"]


def test_truncate_sends_half_the_body_then_hangs_up(emulator: Emulator, api: Api) -> None:
    emulator.faults.add(Fault("truncate", path_prefix="/v3/bills"))
    with pytest.raises(requests.RequestException):
        api.get("/v3/bills", max=50)
    assert api.get("/v3/bills").ok


def test_malformed_answers_200_with_a_body_that_is_not_json(emulator: Emulator, api: Api) -> None:
    emulator.faults.add(Fault("malformed", path_prefix="/v3/bills"))
    answer = api.get("/v3/bills")
    assert answer.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        answer.json()


def test_delay_makes_a_client_time_out(emulator: Emulator, api: Api) -> None:
    emulator.faults.add(Fault("delay", path_prefix="/v3/bills", seconds=0.5))
    with pytest.raises(requests.Timeout):
        api.http.get(f"{api.base_url}/v3/bills", timeout=0.1)
    assert api.get("/v3/vendors").status_code == 200


def test_empty_page_keeps_the_cursor_where_it_was(emulator: Emulator, api: Api) -> None:
    first = api.get("/v3/bills", max=10).json()
    emulator.faults.add(Fault("empty_page", path_prefix="/v3/bills"))
    api.get(f"/v3/bills/{first['results'][0]['id']}")  # not a list: the fault waits
    empty = api.get("/v3/bills", page=first["nextPage"]).json()
    assert empty["results"] == []
    assert "nextPage" in empty
    resumed = api.get("/v3/bills", page=empty["nextPage"]).json()
    assert resumed == api.get("/v3/bills", page=first["nextPage"]).json()
    assert faults_fired(emulator) == ["empty_page"]


def test_repeat_cursor_hands_back_the_token_it_was_given(emulator: Emulator, api: Api) -> None:
    emulator.faults.add(Fault("repeat_cursor", path_prefix="/v3/bills", times=3))
    first = api.get("/v3/bills", max=10).json()
    again = api.get("/v3/bills", page=first["nextPage"]).json()
    assert again["results"] == first["results"]  # nextPage pointed at the first page
    third = api.get("/v3/bills", page=again["nextPage"]).json()
    assert third["nextPage"] == again["nextPage"]
    assert third["results"] == again["results"]


def test_method_and_after_narrow_what_a_fault_hits(emulator: Emulator, api: Api) -> None:
    emulator.faults.add(Fault("error", path_prefix="/v3/", method="POST", status=500))
    assert api.get("/v3/vendors").status_code == 200
    assert api.post("/v3/mfa/challenge", {}).status_code == 500
    assert emulator.faults.pending == []
    login_fault = emulator.faults.add(
        Fault("bdc", path_prefix="/v3/login", code="BDC_1144", after=1)
    )
    assert api.login().status_code == 200
    assert codes(api.login()) == ["BDC_1144"]
    assert login_fault.fired == 1
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")
