"""pytest fixture: a seeded emulator served on a free port, one per test.

Use it from a conftest.py with::

    from bill_emulator.testing import emulator  # noqa: F401  (pytest fixture)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bill_emulator.emulator import Emulator, EmulatorConfig

#: Enough records for several pages of every large stream, small enough to seed in ~30 ms.
FIXTURE_RECORDS = 300


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """`Emulator(EmulatorConfig(records=300))`, serving; its URL is `emulator.base_url`."""
    instance = Emulator(EmulatorConfig(records=FIXTURE_RECORDS))
    with instance.serve():
        yield instance
