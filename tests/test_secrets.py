"""Secrets never leave memory: the session-wide scan is real, and TLS stays on.

Every helper that runs the tap or the target (run_tap, run_target, kill, assert_no_secret)
and the in-process collector in conftest.py scan what they saw (stdout with records and
STATE, stderr with logs and exception text, results files, in-process logs and BillError
texts) for the password, developer keys, sync-token value, session ids, MFA remember-me ids
and full bank account numbers, and report to `tests.taprun.SCAN`. conftest.py prints the
totals at the end of the run and fails the session on any hit. The tests here prove that
scan cannot pass vacuously: it finds a planted value in every kind of artifact, and the
values it looks for are the real ones that crossed the wire.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from bill_core.client import BillClient
from bill_core.errors import BillConfigError
from bill_core.settings import BASE_URLS, ConnectionSettings
from bill_emulator import Emulator
from tests.conftest import InProcessOutput, config_for
from tests.taprun import ROOT, SCAN, STATIC_SECRETS, SecretScan, assert_no_secret, run_tap
from tests.targetrun import messages_for, run_target, singer_lines
from tests.test_client import mfa_remember_me_id

CANARY = "canary-7f3a9c-planted"


def test_the_scan_finds_a_planted_value_in_every_kind_of_artifact(
    emulator: Emulator, tap_config: dict[str, Any], in_process_output: InProcessOutput
) -> None:
    """A value the session scan does not know (so no hit is recorded) is planted where each
    kind of artifact carries text from the input; a scanner that knows it finds it."""
    organization = emulator.organization()
    vendor = organization.list("vendors")[0]
    organization.update("vendors", vendor["id"], {"name": f"Vendor {CANARY}"})
    tap = run_tap(tap_config, streams=["vendors"], emulator=emulator)
    assert tap.returncode == 0, tap.stderr[-2000:]
    artifacts = {"tap stdout (records)": SCAN.last["tap stdout (records)"]}
    refused = run_tap({**tap_config, "base_url": f"http://127.0.0.1:9/{CANARY}"}, streams=["bills"])
    assert refused.returncode != 0
    artifacts["tap stderr (logs, errors)"] = SCAN.last["tap stderr (logs, errors)"]
    text = singer_lines(
        [
            *messages_for(
                "vendors",
                [
                    {"name": f"Target {CANARY}", "email": "c@x.com"},
                    {"name": f"Failing {CANARY} {'x' * 100}"},  # its failure is logged
                ],
            ),
            {"type": "STATE", "value": {"bookmarks": {"erp": CANARY}}},
        ]
    )
    target = run_target(tap_config, text, emulator=emulator)
    assert target.actions() == {"created": 1, "failed": 1}, target.stderr[-2000:]
    logging.getLogger("bill_core").warning("planted %s", CANARY)
    with pytest.raises(BillConfigError):
        ConnectionSettings.from_config(config_for(emulator.base_url or "", organization_id=CANARY))

    planted = SecretScan()
    artifacts.update(
        {kind: SCAN.last[kind] for kind in SCAN.last if kind.startswith(("target", "results"))}
    )
    artifacts["in-process log"] = "\n".join(in_process_output.lines)
    artifacts["in-process exception text"] = "\n".join(in_process_output.errors)
    kinds = [
        "tap stdout (records)",
        "tap stderr (logs, errors)",
        "target stdout (STATE)",
        "target stderr (logs, errors)",
        "results file",
        "in-process log",
        "in-process exception text",
    ]
    for kind in kinds:
        assert planted.scan(kind, artifacts[kind], [CANARY]) == [CANARY], kind
    assert CANARY not in SCAN.values  # the session scan was not told: no hit recorded


def test_the_values_scanned_for_are_the_ones_that_crossed_the_wire(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """Tap and target runs with an MFA-trusted session and vendor bank accounts: the session
    ids, remember-me id, password, key and full account numbers were really used (they are
    in the emulator's request log and store), and are in the set the scan looked for."""
    remember_me = mfa_remember_me_id(emulator.base_url)
    config = {**tap_config, "mfa_remember_me_id": remember_me, "mfa_device": "ci-runner"}
    bank = {"accountNumber": "987654321012", "routingNumber": "011000015", "type": "CHECKING"}
    vendors = [
        {"name": "Banked Vendor", "email": "b@x.com", "paymentInformation": {"bankAccount": bank}},
        {"name": 7, "paymentInformation": {"bankAccount": {**bank, "accountNumber": "55501234"}}},
    ]
    before = sum(SCAN.artifacts.values())

    tap = run_tap(config, streams=["vendors", "vendor_bank_accounts"], emulator=emulator)
    state = {"type": "STATE", "value": {"bookmarks": {"erp": {"at": 1}}}}
    text = singer_lines([*messages_for("vendors", vendors), state])
    target = run_target(config, text, emulator=emulator, secrets=["55501234"])

    assert tap.returncode == 0, tap.stderr[-2000:]
    assert target.actions("vendors") == {"created": 1, "failed": 1}
    assert sum(SCAN.artifacts.values()) - before == 6  # tap: stdout, STATE, stderr; target: 3
    sent_sessions = {r.headers.get("sessionId") for r in emulator.requests} - {None}
    stored_numbers = set(emulator.secret_values()) - sent_sessions - {remember_me}
    assert sent_sessions
    assert "987654321012" in stored_numbers  # the target really wrote the full number
    assert tap.records["vendor_bank_accounts"]  # ... and the tap read the accounts back, masked
    for value in [*sent_sessions, remember_me, *stored_numbers, "55501234", *STATIC_SECRETS]:
        assert value in SCAN.values
    assert len(stored_numbers) >= 5


def test_the_session_scan_has_scanned_real_output_and_found_nothing() -> None:
    assert sum(SCAN.artifacts.values()) > 0
    assert SCAN.scanned_characters > 0
    assert not SCAN.hits, SCAN.hits


class Recording(HTTPAdapter):
    """Answers like BILL without a network and records each request's TLS `verify`."""

    def __init__(self) -> None:
        super().__init__()
        self.verify: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.verify.append(kwargs.get("verify"))
        response = requests.Response()
        response.status_code = 200
        response.url = request.url or ""
        response.request = request
        answer = {"sessionId": "s", "trusted": False} if "login" in response.url else {}
        response._content = json.dumps({**answer, "results": []}).encode()
        return response


@pytest.mark.parametrize("environment", sorted(BASE_URLS))
def test_tls_verification_stays_on_against_bills_hosts_whatever_the_caller_asks(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    settings = ConnectionSettings.from_config(
        {
            "username": "u",
            "password": "p-not-secret",
            "organization_id": "00802AAAAAAAAAAAAAAA",
            "dev_key": "k-not-secret",
            "environment": environment,
        }
    )
    adapter = Recording()
    with BillClient(settings) as client:
        client.mount("https://", adapter)
        client.call("GET", "/v3/vendors")
        client.request("GET", client.url("/v3/vendors"), verify=False)
        client.request("GET", client.url("/v3/vendors"), verify="/etc/ssl/certs/ca-bundle.pem")
    assert settings.base_url.startswith("https://")
    # Sign-in, a call, a call asking for verify=False, a call with a CA bundle of its own.
    assert adapter.verify == [True, True, True, "/etc/ssl/certs/ca-bundle.pem"]


SECRET_SETTINGS = ("password", "dev_key", "mfa_remember_me_id")


@pytest.mark.parametrize("plugin", ["tap_billcom", "target_billcom"])
@pytest.mark.parametrize("setting", SECRET_SETTINGS)
@pytest.mark.parametrize(
    "wrong", [987654321, ["SECRET-PART-ONE", "SECRET-PART-TWO"], {"k": "SECRET-IN-OBJECT"}]
)
def test_a_secret_setting_of_the_wrong_type_is_never_shown_in_any_mode(
    tap_config: dict[str, Any], tmp_path: Path, plugin: str, setting: str, wrong: Any
) -> None:
    """Every message added for bad settings names the setting, never its value: the run,
    `--test` and `--discover` (tap) alike, whatever the wrong type."""
    config = {**tap_config, setting: wrong}
    if setting == "mfa_remember_me_id":
        config["mfa_device"] = "ci-runner"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    secrets = [json.dumps(wrong), str(wrong), "SECRET-PART-ONE", "SECRET-IN-OBJECT", "987654321"]
    modes = [[], ["--test"], *([["--discover"]] if plugin == "tap_billcom" else [])]
    for mode in modes:
        result = subprocess.run(
            [sys.executable, "-m", plugin, "--config", str(path), *mode],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if mode != ["--discover"]:  # discovery needs no valid settings
            assert result.returncode == 2, (mode, result.stderr[-2000:])
            assert f"`{setting}` is not of type 'string'" in result.stderr
            assert "(value not shown)" in result.stderr
        assert_no_secret(result.stderr, secrets, kind=f"{plugin} stderr (logs, errors)")
        assert_no_secret(result.stdout, secrets, kind=f"{plugin} stdout")
