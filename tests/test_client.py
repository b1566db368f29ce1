"""The shared BILL client (bill_core.client) against the emulator over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

from bill_core.client import BillClient, get_client
from bill_core.errors import (
    BillAmbiguousWriteError,
    BillPermissionError,
    BillRequestError,
)
from bill_core.settings import BASE_URLS, ConnectionSettings
from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig, Fault
from tests.conftest import config_for


def client_for(base_url: str, **overrides: Any) -> BillClient:
    return get_client(ConnectionSettings.from_config(config_for(base_url, **overrides)))


def logins(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.path == "/v3/login" and r.status == 200)


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_never_more_than_max_concurrent_requests_in_flight(limit: int) -> None:
    emulator = Emulator(EmulatorConfig(records=50, latency_seconds=0.05))
    with emulator.serve() as base_url:
        client = client_for(base_url, max_concurrent_requests=limit)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: client.call("GET", "/v3/vendors"), range(16)))
    assert all(a["results"] for a in answers)
    assert emulator.peak_in_flight == limit
    assert "BDC_1322" not in {r.code for r in emulator.requests}


def test_the_emulator_refuses_a_fourth_concurrent_request_so_the_gate_is_needed() -> None:
    emulator = Emulator(EmulatorConfig(records=50, latency_seconds=0.2))
    with emulator.serve() as base_url:
        session_id = client_for(base_url).bill_auth.current().session_id
        headers = {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": session_id}

        def raw(_: int) -> int:
            return requests.get(f"{base_url}/v3/vendors", headers=headers, timeout=10).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(raw, range(6)))
    assert statuses.count(200) == 3
    assert [r.code for r in emulator.requests].count("BDC_1322") == 3


def test_concurrent_callers_share_one_sign_in_and_one_renewal_per_expiry(
    emulator: Emulator,
) -> None:
    client = client_for(emulator.base_url)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: client.call("GET", "/v3/vendors"), range(12)))
    assert logins(emulator) == 1
    emulator.kill_sessions()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: client.call("GET", "/v3/customers"), range(12)))
    assert logins(emulator) == 2
    assert client.stats.relogins == 1


def test_money_is_read_as_exact_decimal(emulator: Emulator) -> None:
    answer = client_for(emulator.base_url).call("GET", "/v3/bills", params={"max": 5})
    amounts = [bill["amount"] for bill in answer["results"]]
    assert all(isinstance(a, Decimal) for a in amounts)
    stored = {b["id"]: b["amount"] for b in emulator.organization().list("bills")}
    assert all(Decimal(str(stored[b["id"]])) == b["amount"] for b in answer["results"])


def mfa_remember_me_id(base_url: str) -> str:
    """Go through BILL's MFA challenge with rememberMe, as a user would once."""
    client = client_for(base_url)
    challenge = client.call("POST", "/v3/mfa/challenge", body={})
    answer = client.call(
        "POST",
        "/v3/mfa/challenge/validate",
        body={
            "challengeId": challenge["challengeId"],
            "token": DEMO_CREDENTIALS["mfa_token"],
            "device": "ci-runner",
            "rememberMe": True,
        },
    )
    return str(answer["rememberMeId"])


def payment_body(emulator: Emulator) -> dict[str, Any]:
    bill = emulator.organization().list("bills")[0]
    account = emulator.organization().list("bank_accounts")[0]
    return {
        "vendorId": bill["vendorId"],
        "billId": bill["id"],
        "processDate": "2026-12-15",
        "fundingAccount": {"type": "BANK_ACCOUNT", "id": account["id"]},
        "amount": Decimal("10.00"),
    }


def test_mfa_trusted_session_may_pay_and_untrusted_one_is_told_how_to_become_trusted(
    emulator: Emulator,
) -> None:
    untrusted = client_for(emulator.base_url)
    with pytest.raises(BillPermissionError, match="mfa_remember_me_id") as refused:
        untrusted.call("POST", "/v3/payments", body=payment_body(emulator))
    assert refused.value.code == "BDC_1361"

    remember_me = mfa_remember_me_id(emulator.base_url)
    trusted = client_for(emulator.base_url, mfa_remember_me_id=remember_me, mfa_device="ci-runner")
    assert trusted.bill_auth.current().trusted
    payment = trusted.call("POST", "/v3/payments", body=payment_body(emulator))
    assert payment["id"].startswith("stp")


def test_sync_token_signs_in_but_cannot_pay(emulator: Emulator) -> None:
    client = client_for(
        emulator.base_url,
        username=DEMO_CREDENTIALS["sync_token_name"],
        password=DEMO_CREDENTIALS["sync_token_value"],
        sync_token=True,
    )
    assert client.call("GET", "/v3/vendors", params={"max": 1})["results"]
    with pytest.raises(BillPermissionError, match="sync-token sessions cannot pay"):
        client.call("POST", "/v3/payments", body=payment_body(emulator))


def test_sync_token_falls_back_to_the_v2_login_when_v3_refuses_it() -> None:
    emulator = Emulator(EmulatorConfig(records=30, sync_token_v3_login=False))
    with emulator.serve() as base_url:
        client = client_for(
            base_url,
            username=DEMO_CREDENTIALS["sync_token_name"],
            password=DEMO_CREDENTIALS["sync_token_value"],
            sync_token=True,
        )
        assert client.call("GET", "/v3/vendors", params={"max": 1})["results"]
    assert [r.path for r in emulator.requests][:2] == ["/v3/login", "/v2/Login.json"]


def test_a_create_whose_answer_is_lost_is_not_sent_twice(emulator: Emulator) -> None:
    remember_me = mfa_remember_me_id(emulator.base_url)
    client = client_for(emulator.base_url, mfa_remember_me_id=remember_me, mfa_device="ci-runner")
    before = len(emulator.organization().list("payments"))
    emulator.faults.add(Fault("reset_after", path_prefix="/v3/payments", method="POST"))
    with pytest.raises(BillAmbiguousWriteError, match="look the object up"):
        client.call("POST", "/v3/payments", body=payment_body(emulator))
    # BILL stored it once; the client did not retry blindly.
    assert len(emulator.organization().list("payments")) == before + 1
    assert sum(1 for r in emulator.requests if r.method == "POST" and r.path == "/v3/payments") == 1


def test_a_create_refused_for_concurrency_is_retried_because_bill_never_processed_it(
    emulator: Emulator,
) -> None:
    remember_me = mfa_remember_me_id(emulator.base_url)
    client = client_for(emulator.base_url, mfa_remember_me_id=remember_me, mfa_device="ci-runner")
    before = len(emulator.organization().list("payments"))
    emulator.faults.add(Fault("bdc", path_prefix="/v3/payments", method="POST", code="BDC_1322"))
    client.call("POST", "/v3/payments", body=payment_body(emulator))
    assert len(emulator.organization().list("payments")) == before + 1


def test_unknown_filter_field_is_a_request_error_with_bills_code(emulator: Emulator) -> None:
    client = client_for(emulator.base_url)
    with pytest.raises(BillRequestError, match="BDC_1130") as error:
        client.call("GET", "/v3/vendors", params={"filters": "color:eq:blue"})
    assert error.value.status == 400


def test_tls_verification_is_always_on_for_bills_hosts() -> None:
    for environment, url in BASE_URLS.items():
        assert url.startswith("https://")
        settings = ConnectionSettings.from_config(
            {
                "username": "u",
                "password": "p",
                "organization_id": "00802AAAAAAAAAAAAAAA",
                "dev_key": "k",
                "environment": environment,
            }
        )
        assert settings.base_url == url
        assert BillClient(settings).verify is True


def test_settings_repr_hides_secrets() -> None:
    settings = ConnectionSettings.from_config(
        config_for("http://127.0.0.1:1", mfa_remember_me_id="remember-me-secret", mfa_device="d")
    )
    text = repr(settings)
    assert DEMO_CREDENTIALS["password"] not in text
    assert DEMO_CREDENTIALS["dev_key"] not in text
    assert "remember-me-secret" not in text
