"""Sign-in, sessions, MFA and the MFA-gated payment, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from emulator_helpers import Api, codes, login_body

from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig


def payment_body(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    organization = emulator.organization()
    bill = next(b for b in organization.list("bills") if b["dueAmount"] > 0)
    body = {
        "vendorId": bill["vendorId"],
        "billId": bill["id"],
        "processDate": "2026-12-15",
        "fundingAccount": {
            "type": "BANK_ACCOUNT",
            "id": organization.list("bank_accounts")[0]["id"],
        },
        "amount": 10.25,
    }
    body.update(overrides)
    return body


def trust(api: Api, device: str = "laptop") -> str:
    """Go through an MFA challenge; returns the rememberMeId."""
    challenge = api.post("/v3/mfa/challenge", {})
    assert challenge.status_code == 200
    answer = api.post(
        "/v3/mfa/challenge/validate",
        {
            "challengeId": challenge.json()["challengeId"],
            "token": DEMO_CREDENTIALS["mfa_token"],
            "device": device,
            "rememberMe": True,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["rememberMeId"])


# -- login ---------------------------------------------------------------------------------


def test_login_opens_a_session(emulator: Emulator, new_api: Callable[[str], Api]) -> None:
    api = new_api(str(emulator.base_url))
    answer = api.login()
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"organizationId", "sessionId", "trusted", "userId"}
    assert body["organizationId"] == DEMO_CREDENTIALS["organization_id"]
    assert body["trusted"] is False
    assert body["userId"].startswith("006")
    login = emulator.requests[-1]
    assert (login.path, login.status, login.session_id) == ("/v3/login", 200, body["sessionId"])
    assert login.organization_id == DEMO_CREDENTIALS["organization_id"]
    assert api.get("/v3/vendors").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"password": "wrong"}, "BDC_1101", "User name and/or password do not match our records."),
        ({"username": "someone@example.com"}, "BDC_1101", "do not match"),
        ({"devKey": "not-a-key"}, "BDC_1102", "Developer key is invalid."),
        ({"devKey": DEMO_CREDENTIALS["other_environment_dev_key"]}, "BDC_1102", "invalid"),
        ({"organizationId": "00802AAAAAAAAAAAAAAA"}, "BDC_1123", "Invalid organization id."),
        ({"username": None}, "BDC_1108", "Missing parameter value for parameter: username"),
        ({"password": None}, "BDC_1108", "parameter: password"),
        ({"organizationId": None}, "BDC_1108", "parameter: organizationId"),
        ({"devKey": ""}, "BDC_1108", "parameter: devKey"),
    ],
)
def test_login_errors_carry_bills_codes(
    emulator: Emulator, overrides: dict[str, Any], code: str, message: str
) -> None:
    answer = requests.post(f"{emulator.base_url}/v3/login", json=login_body(**overrides), timeout=5)
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["code"] == code
    assert message in error["message"]
    assert (error["severity"], error["category"]) == ("ERROR", "REQUEST")
    assert error["timestamp"].endswith("+00:00")
    assert DEMO_CREDENTIALS["password"] not in answer.text


def test_login_to_an_organization_without_api_access_is_refused(emulator: Emulator) -> None:
    emulator.organization().api_access_enabled = False
    answer = requests.post(f"{emulator.base_url}/v3/login", json=login_body(), timeout=5)
    assert codes(answer) == ["BDC_1104"]


def test_login_body_must_be_json(emulator: Emulator) -> None:
    answer = requests.post(f"{emulator.base_url}/v3/login", data=b"{nope", timeout=5)
    assert (answer.status_code, codes(answer)) == (400, ["BDC_1122"])


def test_logins_are_limited_per_hour_until_the_next_hour() -> None:
    emulator = Emulator(EmulatorConfig(records=10, hourly_login_limit=3))
    with emulator.serve() as base_url:
        statuses = [
            requests.post(f"{base_url}/v3/login", json=login_body(), timeout=5) for _ in range(4)
        ]
        assert [a.status_code for a in statuses] == [200, 200, 200, 429]
        assert (
            statuses[-1].json()[0]["message"] == "Max number of allowed logins per hour reached: 3."
        )
        assert codes(statuses[-1]) == ["BDC_1144"]
        emulator.clock.advance(3600)
        again = requests.post(f"{base_url}/v3/login", json=login_body(), timeout=5)
        assert again.status_code == 200


def test_an_organization_added_later_is_open_to_the_demo_user(
    emulator: Emulator, new_api: Callable[[str], Api]
) -> None:
    added = emulator.add_organization()
    api = new_api(str(emulator.base_url))
    assert api.login(organizationId=added.organization_id).status_code == 200
    assert api.get("/v3/vendors").json() == {"results": []}
    assert (
        api.get(f"/v3/organizations/{added.organization_id}").json()["id"] == added.organization_id
    )


# -- sessions ------------------------------------------------------------------------------


def test_every_call_needs_a_live_session_for_its_dev_key(emulator: Emulator, api: Api) -> None:
    url = f"{emulator.base_url}/v3/vendors"
    for headers in (
        {},
        {"devKey": DEMO_CREDENTIALS["dev_key"]},
        {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": "made-up"},
        {"devKey": DEMO_CREDENTIALS["other_environment_dev_key"], "sessionId": api.session_id},
    ):
        answer = requests.get(url, headers=headers, timeout=5)
        assert answer.status_code == 401
        [error] = answer.json()
        assert (error["code"], error["message"]) == (
            "BDC_1109",
            "Session is invalid.  Please log in.",
        )
    assert api.get("/v3/vendors").status_code == 200
    assert (
        requests.get(
            url,
            headers={"DEVKEY": DEMO_CREDENTIALS["dev_key"], "sessionid": api.session_id},
            timeout=5,
        ).status_code
        == 200
    )


def test_sessions_expire_after_the_idle_time_and_each_call_resets_it(
    emulator: Emulator, api: Api
) -> None:
    for _ in range(3):
        emulator.clock.advance(2000)  # 35 minutes is 2100 s; each call resets the timer
        assert api.get("/v3/login/session").status_code == 200
    emulator.clock.advance(2101)
    answer = api.get("/v3/vendors")
    assert (answer.status_code, codes(answer)) == (401, ["BDC_1109"])
    assert api.get("/v3/vendors").status_code == 401  # gone for good: sign in again
    assert api.login().status_code == 200


def test_logout_ends_the_session_with_an_empty_200(api: Api) -> None:
    answer = api.post("/v3/logout")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["Content-Length"] == "0"
    assert api.get("/v3/vendors").status_code == 401


def test_kill_sessions_invalidates_every_session(emulator: Emulator, api: Api) -> None:
    emulator.kill_sessions()
    assert codes(api.get("/v3/bills")) == ["BDC_1109"]


def test_session_details(api: Api) -> None:
    answer = api.get("/v3/login/session").json()
    assert answer == {
        "organizationId": DEMO_CREDENTIALS["organization_id"],
        "userId": answer["userId"],
        "mfaStatus": "ENABLED",
        "mfaBypass": False,
    }


# -- MFA and payments ----------------------------------------------------------------------


def test_an_untrusted_session_cannot_pay(emulator: Emulator, api: Api) -> None:
    answer = api.post("/v3/payments", payment_body(emulator))
    assert (answer.status_code, codes(answer)) == (403, ["BDC_1361"])
    assert "Session is not trusted" in answer.json()[0]["message"]


def test_mfa_makes_the_session_trusted_and_it_may_pay(emulator: Emulator, api: Api) -> None:
    wrong = api.post(
        "/v3/mfa/challenge/validate",
        {"challengeId": api.post("/v3/mfa/challenge", {}).json()["challengeId"], "token": "000000"},
    )
    assert (wrong.status_code, codes(wrong)) == (400, ["BDC_1356"])
    trust(api)
    body = payment_body(emulator)
    bill_before = emulator.organization().get("bills", body["billId"])
    answer = api.post("/v3/payments", body)
    assert answer.status_code == 201, answer.text
    payment = answer.json()
    assert payment["id"].startswith("stp02")
    assert (payment["billId"], payment["amount"], payment["status"]) == (
        body["billId"],
        10.25,
        "SCHEDULED",
    )
    assert emulator.organization().get("payments", payment["id"])["amount"] == 10.25
    bill_after = emulator.organization().get("bills", body["billId"])
    assert bill_after["paymentStatus"] == "SCHEDULED"
    assert bill_after["updatedTime"] > bill_before["updatedTime"]


def test_payment_body_is_checked(emulator: Emulator, api: Api) -> None:
    trust(api)
    missing = api.post(
        "/v3/payments", {k: v for k, v in payment_body(emulator).items() if k != "billId"}
    )
    assert codes(missing) == ["BDC_1108"]
    unknown = api.post("/v3/payments", payment_body(emulator, billId="00n02AAAAAAAAAAAAAAA"))
    assert codes(unknown) == ["BDC_1119"]
    negative = api.post("/v3/payments", payment_body(emulator, amount=-1))
    assert codes(negative) == ["BDC_1119"]


def test_a_remembered_device_signs_in_trusted_and_can_step_up(
    emulator: Emulator, api: Api, new_api: Callable[[str], Api]
) -> None:
    remember_me = trust(api, device="ci-runner")
    trusted = new_api(str(emulator.base_url))
    assert trusted.login(rememberMeId=remember_me, device="ci-runner").json()["trusted"] is True
    other_device = new_api(str(emulator.base_url))
    assert other_device.login(rememberMeId=remember_me, device="phone").json()["trusted"] is False
    plain = new_api(str(emulator.base_url))
    plain.login()
    refused = plain.post("/v3/mfa/step-up", {"rememberMeId": "forged", "device": "ci-runner"})
    assert codes(refused) == ["BDC_1356"]
    stepped = plain.post("/v3/mfa/step-up", {"rememberMeId": remember_me, "device": "ci-runner"})
    assert stepped.json() == {"trusted": True}
    assert plain.post("/v3/payments", payment_body(emulator)).status_code == 201
    emulator.clock.advance(31 * 86400)  # rememberMeIds last 30 days
    late = new_api(str(emulator.base_url))
    assert late.login(rememberMeId=remember_me, device="ci-runner").json()["trusted"] is False


# -- sync tokens ---------------------------------------------------------------------------


def sync_token_login(**overrides: Any) -> dict[str, Any]:
    return login_body(
        username=DEMO_CREDENTIALS["sync_token_name"],
        password=DEMO_CREDENTIALS["sync_token_value"],
        **overrides,
    )


def test_a_sync_token_session_reads_lasts_48_hours_and_cannot_pay_or_use_mfa(
    emulator: Emulator, new_api: Callable[[str], Api]
) -> None:
    api = new_api(str(emulator.base_url))
    answer = api.http.post(f"{emulator.base_url}/v3/login", json=sync_token_login(), timeout=5)
    assert answer.status_code == 200
    api.http.headers.update(
        {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": answer.json()["sessionId"]}
    )
    assert api.get("/v3/bills").status_code == 200
    assert api.get("/v3/login/session").json()["mfaStatus"] == "DISABLED"
    assert codes(api.post("/v3/payments", payment_body(emulator))) == ["BDC_1361"]
    assert api.post("/v3/mfa/challenge", {}).status_code == 403
    emulator.clock.advance(47 * 3600)
    assert api.get("/v3/bills").status_code == 200
    emulator.clock.advance(48 * 3600 + 1)
    assert api.get("/v3/bills").status_code == 401


def v2_login(base_url: str, **fields: str) -> requests.Response:
    form = {
        "userName": DEMO_CREDENTIALS["sync_token_name"],
        "password": DEMO_CREDENTIALS["sync_token_value"],
        "orgId": DEMO_CREDENTIALS["organization_id"],
        "devKey": DEMO_CREDENTIALS["dev_key"],
    }
    form.update(fields)
    return requests.post(f"{base_url}/v2/Login.json", data=form, timeout=5)


def test_the_v2_login_answers_in_v2s_envelope_and_its_session_works_on_v3(
    emulator: Emulator,
) -> None:
    answer = v2_login(str(emulator.base_url))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["response_status"], body["response_message"]) == (0, "Success")
    data = body["response_data"]
    assert data["orgId"] == DEMO_CREDENTIALS["organization_id"]
    headers = {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": data["sessionId"]}
    assert requests.get(f"{emulator.base_url}/v3/vendors", headers=headers, timeout=5).ok


def test_v2_login_errors_are_http_200_with_the_code_inside(emulator: Emulator) -> None:
    wrong = v2_login(str(emulator.base_url), password="wrong")
    assert wrong.status_code == 200
    assert wrong.json() == {
        "response_status": 1,
        "response_message": "Error",
        "response_data": {
            "error_code": "BDC_1101",
            "error_message": "User name and/or password do not match our records.",
        },
    }
    missing = requests.post(f"{emulator.base_url}/v2/Login.json", data={"password": "x"}, timeout=5)
    assert missing.json()["response_data"]["error_message"].endswith("parameter: userName")
    assert emulator.requests[-1].code == "BDC_1108"


def test_v3_login_can_be_made_to_refuse_sync_tokens() -> None:
    emulator = Emulator(EmulatorConfig(records=10, sync_token_v3_login=False))
    with emulator.serve() as base_url:
        refused = requests.post(f"{base_url}/v3/login", json=sync_token_login(), timeout=5)
        assert codes(refused) == ["BDC_1101"]
        assert v2_login(base_url).json()["response_status"] == 0
        assert requests.post(f"{base_url}/v3/login", json=login_body(), timeout=5).ok


def test_health_needs_no_session_and_unknown_paths_are_not_supported(emulator: Emulator) -> None:
    health = requests.get(f"{emulator.base_url}/v3/health", timeout=5)
    assert health.json()["appEnv"] == "sandbox"
    for method, path in (("GET", "/v3/widgets"), ("DELETE", "/v3/vendors"), ("GET", "/")):
        answer = requests.request(method, f"{emulator.base_url}{path}", timeout=5)
        assert (answer.status_code, codes(answer)) == (404, ["BDC_1121"])
        assert answer.json()[0]["message"] == "API not supported."
