"""tap-billcom given what users get wrong: settings, state files, config files, environment
variables, dates, and data BILL should never send (an unmasked bank account number).

Each case runs the real executable; a bad setting or file ends with exit 2 and a message
naming it and the fix, never a traceback and never a secret's value.
"""

from __future__ import annotations

import json
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


def tap(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tap_billcom", *args],
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


_ = (pytest, config_secrets)
