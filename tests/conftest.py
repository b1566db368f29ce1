"""Fixtures shared by every test: the BILL emulator on a free port and tap configs for it."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from bill_core.client import clear_clients
from bill_core.errors import BillError
from bill_emulator import DEMO_CREDENTIALS, Emulator
from bill_emulator.testing import emulator  # noqa: F401  (fixture)
from tests.meltanorun import meltano_executable
from tests.taprun import SCAN, assert_no_secret

#: Every emulator switch for behaviour BILL's docs leave open, on: the strict reading of BILL
#: (bill_emulator/README.md). End-to-end tests run under it and under the defaults.
STRICT_BILL: dict[str, Any] = {
    "refuse_duplicate_vendor_names": True,
    "refuse_filters_with_page": True,
    "refuse_undocumented_updated_time_filter": True,
}

# CI (CI=true) replays a fixed sequence of examples, so a run can be repeated; locally each
# run draws new ones (and Hypothesis replays the failures it found before).
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

#: Loggers of the code under test, recorded at every level while a test runs in-process.
PRODUCT_LOGGERS = ("bill_core", "tap_billcom", "tap-billcom", "target_billcom", "target-billcom")


@pytest.fixture(autouse=True)
def _fresh_clients() -> Iterator[None]:
    """Each test starts with no shared BILL session left over from another test."""
    clear_clients()
    yield
    clear_clients()


class InProcessOutput(logging.Handler):
    """What code under test logs (every level) and the text of every BillError it creates,
    inside the test process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.emulators: list[Emulator] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            self.lines += traceback.format_exception(record.exc_info[1])


@pytest.fixture(autouse=True)
def in_process_output(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessOutput]:
    """Scan what code under test logs or raises inside the test process (tests of the client,
    the SDK's standard tap tests) for secrets too, like every subprocess's output."""
    collector = InProcessOutput()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in PRODUCT_LOGGERS}
    for name in PRODUCT_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(collector)
    original_error_init = BillError.__init__
    original_emulator_init = Emulator.__init__

    def recording_error_init(self: BillError, *args: Any, **kwargs: Any) -> None:
        original_error_init(self, *args, **kwargs)
        collector.errors.append(str(self))

    def recording_emulator_init(self: Emulator, *args: Any, **kwargs: Any) -> None:
        original_emulator_init(self, *args, **kwargs)
        collector.emulators.append(self)

    monkeypatch.setattr(BillError, "__init__", recording_error_init)
    monkeypatch.setattr(Emulator, "__init__", recording_emulator_init)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    secrets = [value for instance in collector.emulators for value in instance.secret_values()]
    assert_no_secret("\n".join(collector.lines), secrets, kind="in-process log")
    assert_no_secret("\n".join(collector.errors), secrets, kind="in-process exception text")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Any secret found anywhere fails the run, even where a test forgot to assert."""
    if SCAN.hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCAN.hits:
        terminalreporter.write_line("SECRETS FOUND: the run fails. " + SCAN.summary(), red=True)
    else:
        terminalreporter.write_line(SCAN.summary())
    for hit in SCAN.hits[:20]:
        terminalreporter.write_line(f"  secret found in {hit}")


@pytest.fixture(scope="session")
def meltano_exe() -> Path:
    """Meltano from .venv-meltano (`make meltano`), created here when it is missing."""
    return meltano_executable()


def config_for(base_url: str, **overrides: Any) -> dict[str, Any]:
    """A tap/target config signing in to the emulator's demo organization."""
    config: dict[str, Any] = {
        "username": DEMO_CREDENTIALS["username"],
        "password": DEMO_CREDENTIALS["password"],
        "organization_id": DEMO_CREDENTIALS["organization_id"],
        "dev_key": DEMO_CREDENTIALS["dev_key"],
        "base_url": base_url,
        "retry_initial_wait": 0.01,
        "max_retries": 5,
        "request_timeout": 10,
    }
    config.update(overrides)
    return config


@pytest.fixture
def tap_config(emulator: Emulator) -> dict[str, Any]:  # noqa: F811
    return config_for(emulator.base_url)
