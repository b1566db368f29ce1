"""Sign-in and first contact, with every stream selected and 3 requests in flight.

A refused sign-in is sent once per process: the prefetch, the window workers and the sinks
all wait for the one session, and all get that one refusal (BILL locks a login after
repeated failures, BDC_1110). A BILL that cannot be reached at all on the first contact is
reported after one more try, naming the URL and the likely fix, instead of minutes of
backoff; once BILL has answered, network faults keep their retries (tests/test_tap_faults.py).
Attempts are counted in the emulator's request log and the log lines, never timed.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from bill_emulator import Emulator, Fault
from tests.taprun import discovered_catalog, run_tap
from tests.targetrun import messages_for, run_target, singer_lines

EVERY_STREAM = [entry["tap_stream_id"] for entry in json.loads(discovered_catalog())["streams"]]
TARGET_INPUT = singer_lines(
    [
        *messages_for("chart_of_accounts", [{"id": "0ca01", "name": "Office"}]),
        *messages_for("bills", [{"vendorName": "V", "invoice": {"invoiceNumber": "1"}}]),
        *messages_for("invoices", [{"customerName": "C", "invoiceNumber": "2"}]),
        *messages_for("vendors", [{"name": "V", "email": "v@x.com"}]),
        *messages_for("customers", [{"name": "C", "email": "c@x.com"}]),
    ]
)


def refuse(emulator: Emulator, config: dict[str, Any], how: str) -> str:
    """Make BILL refuse this sign-in; returns the BDC code it answers."""
    if how == "password":
        config["password"] = "not-the-password"
        return "BDC_1101"
    if how == "dev_key":
        config["dev_key"] = "NOT-A-DEVKEY"
        return "BDC_1102"
    if how == "organization":
        config["organization_id"] = "00802NOSUCHORGANIZATI"
        return "BDC_1123"
    if how == "api_access":
        emulator.organization().api_access_enabled = False
        return "BDC_1104"
    emulator.faults.add(Fault("bdc", path_prefix="/v3/login", code=how, status=400, times=99))
    return how


def sign_ins(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.path.endswith(("/v3/login", "/Login.json")))


REFUSALS = ["password", "dev_key", "organization", "api_access", "BDC_1107", "BDC_1110"]


@pytest.mark.parametrize("how", REFUSALS)
def test_a_refused_sign_in_is_sent_once_by_the_tap_with_every_stream_selected(
    emulator: Emulator, tap_config: dict[str, Any], how: str
) -> None:
    code = refuse(emulator, tap_config, how)
    config = {**tap_config, "max_concurrent_requests": 3, "max_retries": 8}
    run = run_tap(config, streams=EVERY_STREAM, emulator=emulator)
    assert run.returncode == 1, run.stderr[-2000:]
    assert sign_ins(emulator) == 1
    assert code in run.stderr
    assert "What to do" in run.stderr
    assert not [m for m in run.messages if m["type"] == "RECORD"]


@pytest.mark.parametrize("how", ["password", "BDC_1110"])
def test_a_refused_sign_in_is_sent_once_by_the_target(
    emulator: Emulator, tap_config: dict[str, Any], how: str
) -> None:
    code = refuse(emulator, tap_config, how)
    run = run_target({**tap_config, "max_concurrent_requests": 3}, TARGET_INPUT, emulator=emulator)
    assert run.returncode == 1, run.stderr[-2000:]
    assert sign_ins(emulator) == 1
    assert code in run.stderr
    # Every record is accounted for: not written, with BILL's code; STATE is not passed on.
    written = [line for line in run.results if line["action"] != "reference"]
    assert [(line["action"], line["code"]) for line in written] == [("not_written", code)] * 4
    assert run.states == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe closes


@pytest.mark.parametrize("plugin", ["tap", "target"])
@pytest.mark.parametrize(
    ("where", "failure", "fix"),
    [
        ("refused", "the connection was refused", "is the port right"),
        ("dns", "the host name does not resolve", "a typo in the host name"),
        ("tls", "the TLS handshake failed", "https:// for a server that speaks plain HTTP"),
    ],
)
def test_an_unreachable_bill_is_reported_on_first_contact_after_one_more_try(  # noqa: PLR0917
    emulator: Emulator, tap_config: dict[str, Any], plugin: str, where: str, failure: str, fix: str
) -> None:
    assert emulator.base_url is not None
    url = {
        "refused": f"http://127.0.0.1:{closed_port()}",
        "dns": "https://gateway.no-such-host.invalid/connect",
        "tls": emulator.base_url.replace("http://", "https://"),
    }[where]
    config = {**tap_config, "base_url": url, "max_retries": 8, "retry_initial_wait": 0.01}
    if plugin == "tap":
        run = run_tap(config, streams=EVERY_STREAM, emulator=emulator)
        stderr, returncode = run.stderr, run.returncode
    else:
        target = run_target(config, TARGET_INPUT, emulator=emulator)
        stderr, returncode = target.stderr, target.returncode
    assert returncode == 1, stderr[-2000:]
    reported = [line for line in stderr.splitlines() if "Cannot reach BILL at" in line]
    assert reported, stderr[-2000:]
    assert failure in reported[-1]
    assert fix in reported[-1]
    assert "check `base_url`" in reported[-1]
    # Two attempts in all (one retry), once for the whole process, not 8 retries per thread.
    assert stderr.count("retry 1/1") == 1, stderr[-3000:]
    assert "retry 2/" not in stderr
