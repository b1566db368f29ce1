"""tap-billcom given what users get wrong: settings, state files, config files, environment
variables, dates, and data BILL should never send (an unmasked bank account number).

Each case runs the real executable; a bad setting or file ends with exit 2 and a message
naming it and the fix, never a traceback and never a secret's value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bill_core.masking import BANK_NUMBER_PATHS
from bill_emulator import Emulator
from tests.taprun import ROOT, assert_no_secret, config_secrets, run_tap

UNMASKED = 123456789012


def test_an_unmasked_bank_account_number_never_leaves_the_tap(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    """BILL masks account numbers (xxxxxx1234); one sent in full, as a JSON number or text,
    is masked by the tap before any target sees it, with a warning naming the field."""
    organization = emulator.organization()
    vendor = organization.list("vendors")[0]
    organization.update(
        "vendors",
        vendor["id"],
        {"paymentInformation": {"bankAccount": {"accountNumber": UNMASKED, "nameOnAccount": "N"}}},
    )
    account = organization.list("bank_accounts")[0]
    organization.update("bank_accounts", account["id"], {"accountNumber": UNMASKED})
    run = run_tap(
        tap_config,
        streams=["vendors", "bank_accounts", "vendor_bank_accounts"],
        emulator=emulator,
        secrets=[str(UNMASKED)],
    )
    assert run.returncode == 0, run.stderr[-2000:]
    numbers = []
    for stream in ("vendors", "bank_accounts"):
        for record in run.records[stream]:
            for path in BANK_NUMBER_PATHS[stream]:
                holder: Any = record
                for key in path:
                    holder = holder.get(key) if isinstance(holder, dict) else None
                numbers.append(holder)
    assert "xxxxxxxx9012" in numbers
    assert all(
        n is None or (isinstance(n, str) and sum(c.isdigit() for c in n) <= 4) for n in numbers
    )
    assert "unmasked bank account number in vendors.paymentInformation" in run.stderr


# -- settings, files, environment ----------------------------------------------------------


def cli(
    plugin: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", plugin, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


def write(folder: Path, name: str, value: Any) -> str:
    path = folder / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def assert_refused(
    result: subprocess.CompletedProcess[str], *expected: str, secrets: list[str] = ()
) -> None:  # type: ignore[assignment]
    """Exit 2, one clear message naming the cause, no traceback, no secret."""
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for text in expected:
        assert text in result.stderr, (text, result.stderr[-2000:])
    assert "What to do" in result.stderr or "fix" in result.stderr
    assert_no_secret(result.stderr, secrets, kind="tap stderr (logs, errors)")
    assert_no_secret(result.stdout, secrets, kind="tap stdout (records)")


SECRET_PASSWORD = 12345678


@pytest.mark.parametrize("plugin", ["tap_billcom", "target_billcom"])
@pytest.mark.parametrize("mode", [[], ["--test"]], ids=["run", "test"])
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"password": SECRET_PASSWORD}, "`password` is not of type 'string' (value not shown)"),
        ({"dev_key": ["KEY-ONE-PART", "KEY-TWO-PART"]}, "`dev_key` is not of type 'string'"),
        ({"max_retries": "eight"}, "`max_retries` is not of type 'integer'"),
    ],
    ids=["password-number", "dev-key-list", "retries-text"],
)
def test_a_mistyped_setting_is_named_never_shown_in_runs_and_connection_checks(  # noqa: PLR0917
    tap_config: dict[str, Any],
    tmp_path: Path,
    plugin: str,
    mode: list[str],
    change: dict[str, Any],
    expected: str,
) -> None:
    config = write(tmp_path, "config.json", {**tap_config, **change})
    result = cli(plugin, "--config", config, *mode)
    secrets = (*config_secrets(tap_config), str(SECRET_PASSWORD), "KEY-ONE-PART")
    assert_refused(result, expected, secrets=secrets)


@pytest.mark.parametrize("plugin", ["tap_billcom", "target_billcom"])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON (line 1, column 2)"),
        ("", "is empty"),
        ("[1, 2]", "holds a JSON list, not an object"),
    ],
    ids=["missing", "not-json", "empty", "list"],
)
def test_a_config_file_that_cannot_be_used_is_named(
    tmp_path: Path, plugin: str, content: str | None, expected: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    result = cli(plugin, "--config", str(path))
    assert_refused(result, f"Config file {str(path)!r} {expected}")


@pytest.mark.parametrize("plugin", ["tap_billcom", "target_billcom"])
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MAX_CONCURRENT_REQUESTS", "abc", "MAX_CONCURRENT_REQUESTS must be a whole number"),
        ("MAX_RETRIES", "3.5", "MAX_RETRIES must be a whole number"),
        ("STREAM_MAPS", "{oops", "STREAM_MAPS must be JSON"),
    ],
    ids=["concurrency", "retries", "stream-maps"],
)
def test_an_environment_variable_that_cannot_be_read_is_named(
    tap_config: dict[str, Any], plugin: str, variable: str, value: str, expected: str
) -> None:
    prefix = "TAP_BILLCOM_" if plugin == "tap_billcom" else "TARGET_BILLCOM_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    for name in ("username", "password", "organization_id", "dev_key", "base_url"):
        env[prefix + name.upper()] = str(tap_config[name])
    env[prefix + variable] = value
    result = cli(plugin, "--config", "ENV", env=env)
    assert_refused(result, prefix + expected, secrets=tuple(config_secrets(tap_config)))


@pytest.mark.parametrize("start", ["yesterday", "12/31/2025", "2026-13-45", "2026-01-01T25:00:00Z"])
def test_a_start_date_that_is_not_a_date_is_refused_before_signing_in(
    emulator: Emulator, tap_config: dict[str, Any], tmp_path: Path, start: str
) -> None:
    config = write(tmp_path, "config.json", {**tap_config, "start_date": start})
    for args in ([], ["--discover"]):
        result = cli("tap_billcom", "--config", config, *args)
        assert_refused(result, f"`start_date` {start!r} is not a date", "ISO 8601")
    assert not emulator.requests


BILLS = "bills"
GOOD_BOOKMARK = {"replication_key": "updatedTime", "replication_key_value": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty"),
        ("{corrupt", "is not valid JSON"),
        ("[]", "holds a JSON list, not an object"),
        ({"bookmarks": []}, "`bookmarks` is not an object"),
        ({"bookmarks": {BILLS: "2026-01-01"}}, "the bookmark of 'bills' is not an object"),
        (
            {"bookmarks": {BILLS: {"replication_key_value": "2026-01-01T00:00:00Z"}}},
            "has a replication_key_value but no replication_key",
        ),
        (
            {"bookmarks": {BILLS: {**GOOD_BOOKMARK, "replication_key_value": 1767225600}}},
            "replication_key_value that is a JSON int, not a date-time",
        ),
        (
            {"bookmarks": {BILLS: {**GOOD_BOOKMARK, "replication_key_value": "last tuesday"}}},
            "replication_key_value that is not a date-time",
        ),
        (
            {"bookmarks": {BILLS: {**GOOD_BOOKMARK, "replication_key": "createdTime"}}},
            "has replication_key 'createdTime', not 'updatedTime'",
        ),
    ],
    ids=[
        "empty",
        "corrupt",
        "list",
        "bookmarks-list",
        "bookmark-text",
        "no-key",
        "number",
        "not-a-date",
        "other-key",
    ],
)
def test_a_state_file_that_cannot_be_used_is_named_with_the_fix(
    emulator: Emulator, tap_config: dict[str, Any], tmp_path: Path, content: Any, expected: str
) -> None:
    config = write(tmp_path, "config.json", tap_config)
    state = write(tmp_path, "state.json", content)
    result = cli("tap_billcom", "--config", config, "--state", state)
    assert_refused(result, f"State file {state!r}", expected, "leave out --state")
    assert not emulator.requests


@pytest.mark.parametrize(
    "wrapper",
    [
        lambda state: {"value": state},
        lambda state: {"type": "STATE", "value": state},
        lambda state: {"singer_state": state},
    ],
    ids=["value", "state-message", "meltano"],
)
def test_a_wrapped_state_is_read_from_its_wrapper(
    emulator: Emulator, tap_config: dict[str, Any], wrapper: Any
) -> None:
    """A STATE message (or its value wrapper) or `meltano state get` output used as the
    state file: the bookmarks inside are used, not silently ignored."""
    every = sorted(emulator.organization().list(BILLS), key=lambda b: b["updatedTime"])
    middle = every[len(every) // 2]["updatedTime"]
    state = {"bookmarks": {BILLS: {**GOOD_BOOKMARK, "replication_key_value": middle}}}
    run = run_tap(tap_config, state=wrapper(state), streams=[BILLS], emulator=emulator)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "the state was read from its" in run.stderr
    assert 0 < len(run.records[BILLS]) < len(every)


def test_a_start_date_or_bookmark_in_the_future_is_warned_about(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    future = "2999-01-01T00:00:00Z"
    run = run_tap({**tap_config, "start_date": future}, streams=[BILLS], emulator=emulator)
    assert run.returncode == 0
    assert "`start_date` (2999-01-01T00:00:00+00:00) is in the future" in run.stderr
    assert BILLS not in run.records
    state = {"bookmarks": {BILLS: {**GOOD_BOOKMARK, "replication_key_value": future}}}
    run = run_tap(tap_config, state=state, streams=[BILLS], emulator=emulator)
    assert run.returncode == 0
    assert "the bookmark of 'bills' (2999-01-01T00:00:00+00:00) is in the future" in run.stderr
