"""`python -m bill_emulator`: one line saying where it serves, then serve until a signal."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests

from bill_emulator import DEMO_CREDENTIALS


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
