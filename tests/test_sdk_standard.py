"""The Meltano SDK's standard tap tests, run against the BILL emulator over HTTP.

The SDK builds the test class from a config at import time, so this module starts its own
emulator (on a free port) when it is imported and stops it when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from bill_core.catalog import OBJECTS
from bill_emulator import Emulator, EmulatorConfig
from tap_billcom.tap import TapBillcom
from tests.conftest import config_for
from tests.taprun import catalog_selecting

_EMULATOR = Emulator(EmulatorConfig(records=300))
_SERVING = contextlib.ExitStack()
_BASE_URL = _SERVING.enter_context(_EMULATOR.serve())
atexit.register(_SERVING.close)

# Every stream, child streams included (they are not selected by default).
TestTapBillcom = get_tap_test_class(
    TapBillcom,
    config=config_for(_BASE_URL, start_date="2026-01-01T00:00:00Z"),
    suite_config=SuiteConfig(max_records_limit=150),
    catalog=catalog_selecting(o.stream for o in OBJECTS),
)
