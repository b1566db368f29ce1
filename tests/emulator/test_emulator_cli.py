"""`python -m bill_emulator`: one line saying where it serves, then serve until a signal."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests

from bill_emulator import DEMO_CREDENTIALS, EmulatorConfig
from bill_emulator.__main__ import config_from, parse_args


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_cli_serves_until_interrupted_and_prints_no_secret(stop: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bill_emulator", "--port", "0", "--records", "20", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        assert DEMO_CREDENTIALS["organization_id"] in line
        assert DEMO_CREDENTIALS["username"] in line
        for secret in ("password", "dev_key", "sync_token_value", "other_environment_dev_key"):
            assert DEMO_CREDENTIALS[secret] not in line
        health = requests.get(f"{match[1]}/v3/health", timeout=5)
        assert health.json()["appEnv"] == "sandbox"
        process.send_signal(stop)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert not stdout


SWITCHES = (
    "refuse_duplicate_vendor_names",
    "refuse_filters_with_page",
    "refuse_undocumented_updated_time_filter",
)


def test_the_switches_default_to_the_plausible_reading_and_turn_on_from_the_cli() -> None:
    defaults = config_from(parse_args([]))
    assert not any(getattr(defaults, name) for name in SWITCHES)
    assert defaults == EmulatorConfig(records=1000)
    for name in SWITCHES:
        config = config_from(parse_args(["--" + name.replace("_", "-")]))
        assert {s for s in SWITCHES if getattr(config, s)} == {name}
    help_text = subprocess.run(
        [sys.executable, "-m", "bill_emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in SWITCHES:
        assert "--" + name.replace("_", "-") in help_text
