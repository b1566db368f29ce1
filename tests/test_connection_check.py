"""`tap-billcom --test` and `target-billcom --test`: sign in, read one page, write nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bill_emulator import Emulator
from tests.taprun import ROOT, assert_no_secret
from tests.targetrun import write_calls


def check(package: str, config: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", package, "--config", str(path), "--test"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("package", ["tap_billcom", "target_billcom"])
def test_connection_check_signs_in_reads_one_page_and_writes_nothing(
    package: str, emulator: Emulator, tap_config: dict[str, Any], tmp_path: Path
) -> None:
    result = check(package, tap_config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Connection OK: signed in to BILL organization" in result.stderr
    assert tap_config["organization_id"] in result.stderr
    assert result.stdout == ""  # no Singer messages
    assert write_calls(emulator) == []
    paths = [r.path for r in emulator.requests]
    assert paths == ["/v3/login", "/v3/login/session", "/v3/vendors"]
    assert emulator.requests[-1].query["max"] == ["1"]
    assert_no_secret(
        result.stdout + result.stderr,
        [tap_config["password"], tap_config["dev_key"], *emulator.secret_values()],
    )


@pytest.mark.parametrize("package", ["tap_billcom", "target_billcom"])
def test_connection_check_failure_gives_the_actionable_error_and_exit_code(
    package: str, emulator: Emulator, tap_config: dict[str, Any], tmp_path: Path
) -> None:
    tap_config["password"] = "not-the-password"
    result = check(package, tap_config, tmp_path)
    assert result.returncode == 1
    assert "Connection check failed" in result.stderr
    assert "BDC_1101" in result.stderr
    assert "check `username` and `password`" in result.stderr
    assert "Traceback" not in result.stderr
    tap_config["organization_id"] = "00602NOTANORGID00000"
    result = check(package, tap_config, tmp_path)
    assert result.returncode == 2
    assert "does not start with 008" in result.stderr
