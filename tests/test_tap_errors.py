"""Wrong settings and refused sign-ins: each says what is wrong and what to do, without secrets."""

from __future__ import annotations

from typing import Any

import pytest

from bill_emulator import DEMO_CREDENTIALS, Emulator
from tests.taprun import run_tap


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"password": "wrong-password-123"}, ["BDC_1101", "check `username` and `password`"]),
        ({"username": "nobody@example.com"}, ["BDC_1101", "check `username` and `password`"]),
        ({"dev_key": "not-a-real-key-000"}, ["BDC_1102", "check `dev_key`"]),
        (
            {"dev_key": DEMO_CREDENTIALS["other_environment_dev_key"], "environment": "sandbox"},
            ["BDC_1102", "environment=sandbox", "a production key only with"],
        ),
        (
            {"organization_id": "00802ZZZZZZZZZZZZZZZ"},
            ["BDC_1123", "check `organization_id`"],
        ),
    ],
    ids=["password", "username", "dev_key", "other-environment", "organization"],
)
def test_refused_sign_in_names_the_cause_and_the_fix(
    emulator: Emulator, tap_config: dict[str, Any], override: dict[str, str], expected: list[str]
) -> None:
    tap_config.update(override)
    run = run_tap(
        tap_config,
        streams=["vendors"],
        emulator=emulator,
        secrets=[override.get("password", ""), override.get("dev_key", "")],
    )
    assert run.returncode != 0
    for text in expected:
        assert text in run.stderr, text
    assert not run.records


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"organization_id": "00602AAAAAAAAAAAAAAA"}, "does not start with 008"),
        ({"password": ""}, "Missing setting(s) `password`"),
        ({"environment": "staging"}, "`environment` is not one of ['production', 'sandbox']"),
        ({"base_url": "http://127.0.0.1:1/v3"}, "ends with /v3"),
        ({"max_concurrent_requests": 5}, "use 1, 2 or 3"),
        ({"mfa_remember_me_id": "abc-remember"}, "must be set together"),
    ],
)
def test_invalid_settings_are_refused_before_any_request(
    emulator: Emulator, tap_config: dict[str, Any], override: dict[str, Any], expected: str
) -> None:
    tap_config.update(override)
    run = run_tap(tap_config, streams=["vendors"], emulator=emulator)
    assert run.returncode == 2  # a setting to fix
    assert expected in run.stderr
    assert not emulator.requests


def test_api_access_not_enabled_explains_where_to_enable_it(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    emulator.organization().api_access_enabled = False
    run = run_tap(tap_config, streams=["vendors"], emulator=emulator)
    assert run.returncode != 0
    assert "BDC_1104" in run.stderr
    assert "Manage Developer Keys" in run.stderr
