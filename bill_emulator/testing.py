"""pytest fixture: a seeded emulator served on a free port, one per test.

Use it from a conftest.py with::

    from bill_emulator.testing import emulator  # noqa: F401  (pytest fixture)

Other settings (the switches for behaviour BILL does not document, ...) by indirect
parametrization, with EmulatorConfig's field names::

    @pytest.mark.parametrize("emulator", [{"refuse_filters_with_page": True}], indirect=True)
    def test_something(emulator): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bill_emulator.emulator import Emulator, EmulatorConfig

#: Enough records for several pages of every large stream, small enough to seed in ~30 ms.
FIXTURE_RECORDS = 300


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """`Emulator(EmulatorConfig(records=300))`, serving; its URL is `emulator.base_url`. An
    indirect parameter (a dict) sets other EmulatorConfig fields."""
    settings: dict[str, Any] = {"records": FIXTURE_RECORDS, **getattr(request, "param", {})}
    instance = Emulator(EmulatorConfig(**settings))
    with instance.serve():
        yield instance
