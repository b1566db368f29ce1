"""Fixtures shared by every test: the BILL emulator on a free port and tap configs for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bill_core.client import clear_clients
from bill_emulator import DEMO_CREDENTIALS, Emulator
from bill_emulator.testing import emulator  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _fresh_clients() -> Iterator[None]:
    """Each test starts with no shared BILL session left over from another test."""
    clear_clients()
    yield
    clear_clients()


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
