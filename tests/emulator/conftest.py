"""Fixtures for the emulator's own tests: a signed-in HTTP client for the `emulator` fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from emulator_helpers import Api

from bill_emulator import Emulator
from bill_emulator.testing import emulator  # noqa: F401  (pytest fixture)


@pytest.fixture
def new_api() -> Iterator[Callable[[str], Api]]:
    """Make unsigned-in clients for a base URL (closed at the end of the test)."""
    sessions: list[requests.Session] = []

    def make(base_url: str) -> Api:
        http = requests.Session()
        sessions.append(http)
        return Api(base_url, http)

    yield make
    for http in sessions:
        http.close()


@pytest.fixture
def api(emulator: Emulator, new_api: Callable[[str], Api]) -> Api:  # noqa: F811
    """The demo user, signed in to the seeded organization of the `emulator` fixture."""
    assert emulator.base_url is not None
    client = new_api(emulator.base_url)
    assert client.login().status_code == 200
    return client
