"""A local BILL (formerly Bill.com) v3 API emulator for tests, demos and development.

    from bill_emulator import Emulator, EmulatorConfig, DEMO_CREDENTIALS

    emulator = Emulator(EmulatorConfig(records=1000))
    with emulator.serve() as base_url:   # "http://127.0.0.1:PORT"; API paths under /v3
        ...

Behaviour (models, queries, seeding, faults) is plain Python, tested without HTTP; `serve()`
puts a thin HTTP/1.1 layer in front of it.
"""

from bill_emulator.demo import DEMO_CREDENTIALS
from bill_emulator.emulator import Emulator, EmulatorConfig
from bill_emulator.faults import Fault
from bill_emulator.gateway import RequestRecord
from bill_emulator.models import Organization

__all__ = [
    "DEMO_CREDENTIALS",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "Organization",
    "RequestRecord",
]
