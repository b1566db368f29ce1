"""Bad input and bad configuration: each gets its own clear error; the good records around
bad ones still land.

tests/test_target_inputs.py covers the first 17 kinds of bad records (missing name, unknown
vendor, bad amounts, ...); this file adds the rest, malformed Singer lines among them, all in
one run interleaved with good records, and the settings a runner can get wrong.

Malformed Singer lines: singer-sdk's reader ends the whole run at the first line it cannot
use (a blank line included), without writing or reporting the records buffered before it.
target-billcom reports each such line in the results file and goes on (see
target_billcom/singer_input.py for why), still exiting 1, and passes no STATE on.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bill_emulator import DEMO_CREDENTIALS, Emulator
from tests.taprun import run_tap
from tests.targetrun import run_target, write_calls

GOOD_VENDOR = "Good Vendor LLC"
#: A full bank account number: must never appear in any output.
ACCOUNT = "987654321"


def bank(**changes: Any) -> dict[str, Any]:
    account = {"nameOnAccount": "Payee", "accountNumber": ACCOUNT, "routingNumber": "074000010"}
    account.update(changes)
    name = f"Bank {next(_BANKS)}"  # a name per kind of bad details
    return {"name": name, "paymentInformation": {"bankAccount": account}}


_BANKS = itertools.count(1)


GOOD_CUSTOMER = "Good Customer Inc"
LONG = "x" * 4001


def bill(number: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "vendorName": GOOD_VENDOR,
        "dueDate": "2026-12-31",
        "invoice": {"invoiceNumber": number, "invoiceDate": "2026-11-30"},
        "billLineItems": [{"amount": "10.00", "description": "ok"}],
    }
    record.update(changes)
    return record


def invoice(number: Any, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "customerName": GOOD_CUSTOMER,
        "invoiceNumber": number,
        "invoiceLineItems": [{"quantity": 1, "price": "50.00"}],
    }
    record.update(changes)
    return record


#: Records that must land, whatever surrounds them (unicode and dates as ERPs send them).
GOOD: dict[str, list[dict[str, Any]]] = {
    "vendors": [
        {"name": GOOD_VENDOR, "email": "ap@good.example"},
        {"name": "Café Zoë 東京 ✓ Ltd", "email": "zoe@good.example"},
        {"name": "Ünïcödé & Söns 🚀", "email": "u@good.example", "address": {"city": "Zürich"}},
        {**bank(type="CHECKING"), "name": "Good Bank Vendor"},  # valid bank details
    ],
    "customers": [{"name": GOOD_CUSTOMER, "email": "billing@good.example"}],
    "bills": [
        bill("GOOD-1"),
        bill("GOOD-2", dueDate="2026-12-31T00:00:00Z"),  # a date sent as midnight date-time
        # Exact cents with trailing zeros, as numeric(p,4) and SQL Server money columns send.
        bill("GOOD-3", billLineItems=[{"amount": "12.500"}, {"amount": 12.5}]),
        bill("GOOD-4", billLineItems=[{"price": "4.2500", "quantity": 2}]),
    ],
    "invoices": [invoice("GOOD-AR-1"), invoice("GOOD-AR-2", dueDate="2027-01-15")],
}

#: (stream, record, what the results line must say): one kind of bad record each.
BAD_RECORDS: list[tuple[str, dict[str, Any], str]] = [
    ("vendors", {"name": "   ", "email": "blank@example.com"}, "name: is required"),
    ("vendors", {"name": None, "email": "null@example.com"}, "name: is required"),
    ("vendors", {"name": ["A", "list"]}, "name: must be text, not list"),
    ("vendors", {"name": "Numeric Email", "email": 42}, "email: must be text, not int"),
    ("vendors", {"name": "Long Email", "email": "e" * 256}, "email: is 256 characters long"),
    ("vendors", {"name": "Long Short", "shortName": "s" * 31}, "shortName: is 31 characters"),
    ("vendors", {"name": "東" * 101}, "name: is 101 characters long (at most 100)"),
    ("vendors", {"name": "Cut \ud83d Surrogate"}, "name: is not valid Unicode text"),
    ("vendors", {"name": "Address Text", "address": "1 Main St"}, "address: must be an object"),
    ("vendors", {"name": "Pay List", "paymentInformation": []}, "paymentInformation: must be"),
    # Bank details are checked before they are sent, and never echoed (they are secret).
    ("vendors", bank(accountNumber=int(ACCOUNT)), "bankAccount.accountNumber: must be text of"),
    ("vendors", bank(accountNumber="12-34"), "bankAccount.accountNumber: must be text of 4 to"),
    ("vendors", bank(routingNumber="123456789"), "is not a valid ABA routing number"),
    ("vendors", bank(routingNumber=74000010), "routingNumber: must be text of 9 digits"),
    ("vendors", bank(iban="DE89370400440532013000"), "bankAccount.iban: is not a bank account"),
    # Another source record (its own id) with the same match key: a conflict, not a version.
    (
        "vendors",
        {"id": "erp-v-9", "name": "  good vendor LLC ", "email": "dup@example.com"},
        "duplicate of an earlier, different record",
    ),
    ("customers", {"email": "nameless@example.com"}, "name: is required"),
    ("customers", {"name": "Addr C", "email": "a@x.com", "billingAddress": "x"}, "billingAddress"),
    ("customers", {"name": "Contact C", "email": "c@x.com", "contact": "Jo"}, "contact: must be"),
    ("customers", {"name": "Long C", "email": "l@x.com", "description": LONG}, "description: is"),
    ("customers", {"name": "Terms C", "email": "t@x.com", "paymentTermId": "0pt0"}, "0pt0"),
    ("bills", bill("B-01", dueDate="0000-00-00"), "dueDate: '0000-00-00' is not a valid"),
    ("bills", bill("B-02", dueDate=20261231), "dueDate: 20261231 is not a date like"),
    ("bills", bill("B-03", dueDate=None), "dueDate: is required"),
    ("bills", {**bill("B-04"), "invoice": "B-04"}, "invoice: must be an object, not str"),
    ("bills", bill("B-05", invoice={"invoiceNumber": "B-05", "invoiceDate": "2026-02-30"}), "30"),
    ("bills", bill("B-06", billLineItems=[{"amount": 0}]), "amount: 0 must be greater than 0"),
    ("bills", bill("B-07", billLineItems=[{"amount": True}]), "amount: True is not a number"),
    ("bills", bill("B-08", billLineItems=[{"amount": "1,000.00"}]), "is not a number"),
    ("bills", bill("B-09", billLineItems=["ten dollars"]), "billLineItems[0]: must be an object"),
    ("bills", bill("B-10", billLineItems={"amount": 5}), "billLineItems: must be a non-empty"),
    ("bills", bill("B-11", billLineItems=[{"description": "x"}]), "[0].amount: is required"),
    ("bills", bill("B-12", billLineItems=[{"amount": 1, "description": LONG}]), "4000"),
    ("bills", bill("B" * 101), "invoice.invoiceNumber: is 101 characters long"),
    ("bills", {**bill("B-14"), "vendorName": None, "vendorId": "00901NOSUCH"}, "does not exist"),
    (
        "bills",
        bill("B-15", billLineItems=[{"amount": 1, "classifications": {"departmentName": "R&D"}}]),
        "no department named 'R&D'",
    ),
    ("bills", bill("B-16", payFromChartOfAccountId="0ca0"), "payFromChartOfAccountId"),
    # A line's price is checked like its amount: one bad price must not sink a bulk call.
    ("bills", bill("B-17", billLineItems=[{"price": 7.333}]), "[0].price: 7.333 has more than"),
    ("bills", bill("B-18", billLineItems=[{"price": -5, "quantity": 2}]), "[0].price: -5 must"),
    ("bills", bill("B-19", billLineItems=[{"price": 5, "quantity": 0}]), "[0].quantity: 0 must"),
    ("bills", bill("B-20", billLineItems=[{"amount": "12.501"}]), "12.501 has more than 2"),
    ("invoices", invoice(1234), "invoiceNumber: must be text, not int"),
    ("invoices", invoice("I-02", invoiceLineItems=[{"quantity": 1, "price": -5}]), "-5 must be"),
    ("invoices", invoice("I-03", invoiceLineItems=[{"quantity": "two"}]), "'two' is not a number"),
    ("invoices", invoice("I-04", invoiceLineItems=None), "at least one line item is required"),
    ("invoices", invoice("I-05", dueDate="12/31/2026"), "not a date like 2026-12-31"),
    ("invoices", invoice(" good-ar-1 ", id="erp-i-9"), "duplicate of an earlier, different"),
    ("invoices", invoice("I-07", customerName="No Such Customer"), "no customer named"),
    ("invoices", invoice("I-08", salesTaxItemId="0ii0"), "salesTaxItemId"),
    # A nullable date declared with anyOf (as many taps declare them): checked per record.
    ("invoices", invoice("I-09", dueDate="0000-00-00"), "dueDate: '0000-00-00' is not a valid"),
]

#: (line, what the results line must say): one kind of unusable Singer line each.
BAD_LINES: list[tuple[str, str]] = [
    ("this is not JSON at all", "is not JSON"),
    ("[1, 2, 3]", "is JSON list, not a Singer message object"),
    ('"RECORD"', "is JSON str, not a Singer message object"),
    ('{"stream": "vendors", "record": {"name": "No Type"}}', 'has no "type"'),
    ('{"type": "RECORDS", "stream": "vendors"}', "unknown message type 'RECORDS'"),
    ('{"type": "RECORD", "stream": "vendors"}', 'RECORD message with no "record"'),
    ('{"type": "RECORD", "stream": "vendors", "record": [1]}', 'a non-dict "record"'),
    ('{"type": "RECORD", "record": {"name": "Streamless"}}', 'RECORD message with no "stream"'),
    ('{"type": "SCHEMA", "stream": "vendors"}', 'SCHEMA message with no "schema"'),
    ('{"type": "SCHEMA", "stream": "v2", "schema": {"type": "object"}}', 'no "properties"'),
    ('{"type": "STATE"}', 'STATE message with no "value"'),
    ('{"type": "RECORD", "stream": "purchase_orders", "record": {"id": 1}}', "before a"),
    ('{"type": "RECORD", "stream": "erp_customers", "record": {"name": "K"}}', "key_properties"),
]
#: The last line of the input, cut short as a crashed tap leaves it.
TRUNCATED = '{"type": "RECORD", "stream": "vendors", "record": {"name": "Cut'


def schema(stream: str, key_properties: list[str] | None = None, **properties: Any) -> str:
    message = {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": properties},
        "key_properties": key_properties or [],
    }
    return json.dumps(message)


def record(stream: str, value: dict[str, Any]) -> str:
    return json.dumps({"type": "RECORD", "stream": stream, "record": value}, default=str)


def bad_input() -> tuple[str, dict[int, str]]:
    """Good records, bad records and bad lines interleaved; line number -> expected text."""
    date = {"type": ["string", "null"], "format": "date"}
    NULL = {"type": "null"}  # noqa: N806
    lines = [
        schema("vendors"),
        schema("customers"),
        schema("bills", dueDate=date),
        schema("invoices", dueDate={"anyOf": [{"type": "string", "format": "date"}, NULL]}),
        schema("erp_customers", ["erp_id"]),
        "",  # blank lines carry no message: skipped, not reported
    ]
    expected_lines: dict[int, str] = {}
    bad_lines = iter(BAD_LINES)
    for stream, good in GOOD.items():
        records = [*good, *(r for s, r, _ in BAD_RECORDS if s == stream)]
        for number, value in enumerate(records):
            lines.append(record(stream, value))
            if number % 3 == 1:
                line, text = next(bad_lines, (None, ""))
                if line is not None:
                    lines.append(line)
                    expected_lines[len(lines)] = text
    for line, text in bad_lines:
        lines.append(line)
        expected_lines[len(lines)] = text
    lines.append(
        record("erp_customers", {"erp_id": "C-9", "name": "ERP Customer", "email": "e@x.c"})
    )
    lines.append(json.dumps({"type": "STATE", "value": {"bookmarks": {"erp": {"at": 9}}}}))
    lines.append(TRUNCATED)
    expected_lines[len(lines)] = "is not JSON"
    return "\n".join(lines), expected_lines  # no newline after the cut last line


def test_every_kind_of_bad_input_gets_its_own_error_and_the_good_records_land(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    assert len(BAD_RECORDS) + len(BAD_LINES) + 1 >= 30
    text, expected_lines = bad_input()
    tap_config["stream_aliases"] = {"erp_customers": "customers"}
    run = run_target(tap_config, text, emulator=emulator, secrets=[ACCOUNT])
    assert run.returncode == 1, run.stderr[-3000:]
    failed = run.failed()
    assert len(failed) == len(BAD_RECORDS) + len(expected_lines)

    # Unusable lines: named by line number, with what is wrong (never their content).
    by_line = {f["match_key"]: f["message"] for f in failed if f["match_key"].startswith("line ")}
    assert set(by_line) == {f"line {n}" for n in expected_lines}
    for number, text_expected in expected_lines.items():
        assert text_expected in by_line[f"line {number}"], (number, by_line[f"line {number}"])
    assert "Cut" not in json.dumps(by_line)
    assert "No Type" not in json.dumps(by_line)

    # Bad records: one failed line each, naming field and cause.
    per_stream: dict[str, list[str]] = defaultdict(list)
    for line in failed:
        if not line["match_key"].startswith("line "):
            per_stream[line["stream"]].append(line["message"])
    for stream in GOOD:
        wanted = [text for s, _, text in BAD_RECORDS if s == stream]
        assert len(per_stream[stream]) == len(wanted), stream
        left = list(per_stream[stream])  # (records whose reference is missing come last)
        for expected in wanted:
            message = next((m for m in left if expected in m), None)
            assert message is not None, (stream, expected, left)
            left.remove(message)

    # The good records around them landed, unicode intact; the midnight date-time is a date.
    organization = emulator.organization()
    vendors = {v["name"] for v in organization.list("vendors")}
    assert {v["name"] for v in GOOD["vendors"]} <= vendors
    customers = {c["name"] for c in organization.list("customers")}
    assert {GOOD_CUSTOMER, "ERP Customer"} <= customers
    bills = {b["invoice"]["invoiceNumber"]: b for b in organization.list("bills")}
    assert bills["GOOD-2"]["dueDate"] == "2026-12-31"
    assert {"GOOD-AR-1", "GOOD-AR-2"} <= {i["invoiceNumber"] for i in organization.list("invoices")}
    assert run.actions("vendors")["created"] == len(GOOD["vendors"])
    # Every bad record was refused before a call: one bulk call each, none halved.
    bulk = Counter(r.path for r in write_calls(emulator) if r.path.endswith("/bulk"))
    assert bulk == {"/v3/vendors/bulk": 1, "/v3/bills/bulk": 1}
    # STATE read after unusable lines is not passed on: the runner keeps its bookmark.
    assert run.states == []
    assert "STATE is not passed on" in run.stderr


def test_a_blank_line_alone_is_no_error_and_state_is_passed_on(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    text = "\n".join(
        [
            schema("vendors"),
            "",
            "   ",
            record("vendors", {"name": "Blank Line Vendor", "email": "b@x.com"}),
            json.dumps({"type": "STATE", "value": {"bookmarks": {"vendors": {"at": 1}}}}),
        ]
    )
    run = run_target(tap_config, text + "\n", emulator=emulator)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.actions() == {"created": 1}
    assert run.states == [{"bookmarks": {"vendors": {"at": 1}}}]


# -- bad configuration -------------------------------------------------------------------------

VENDOR_INPUT = "\n".join(
    [schema("vendors"), record("vendors", {"name": "Config Vendor", "email": "c@x.com"})]
)


def run_both(config: dict[str, Any], emulator: Emulator) -> list[tuple[str, int, str]]:
    tap = run_tap(config, streams=["vendors"], emulator=emulator)
    target = run_target(config, VENDOR_INPUT, emulator=emulator)
    return [("tap", tap.returncode, tap.stderr), ("target", target.returncode, target.stderr)]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"max_concurrent_requests": 0}, "`max_concurrent_requests` is 0. What to do: use 1, 2"),
        ({"max_retries": -1}, "`max_retries` is -1. What to do: use 0 or more"),
        ({"retry_initial_wait": -0.5}, "`retry_initial_wait` is -0.5. What to do: use 0 or"),
        ({"request_timeout": 0}, "`request_timeout` is 0. What to do: use a number above 0"),
        ({"request_timeout": -5}, "`request_timeout` is -5. What to do: use a number above 0"),
        ({"organization_id": "0ve02AAAAAAAAAAAAAAA"}, "does not start with 008. What to do"),
        ({"dev_key": "   "}, "Missing setting(s) `dev_key`. What to do: set them"),
    ],
    ids=["concurrency-0", "retries", "first-wait", "timeout-0", "timeout-negative", "org", "key"],
)
def test_a_setting_out_of_range_is_refused_by_tap_and_target_with_exit_2(
    emulator: Emulator, tap_config: dict[str, Any], override: dict[str, Any], expected: str
) -> None:
    """Values that used to be replaced quietly (0 meant "default") or misreported (a negative
    timeout surfaced as "malformed JSON in the answer") are refused before any request."""
    tap_config.update(override)
    for plugin, returncode, stderr in run_both(tap_config, emulator):
        assert returncode == 2, (plugin, stderr[-2000:])
        assert expected in stderr, (plugin, stderr[-2000:])
    assert not emulator.requests


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"remove": "username"}, "'username' is a required property"),
        ({"remove": "dev_key"}, "'dev_key' is a required property"),
        ({"max_retries": "many"}, "`max_retries` is not of type 'integer'"),
        ({"sync_token": "yes"}, "`sync_token` is not of type 'boolean'"),
        ({"match_keys": {"widgets": ["name"]}}, "`match_keys` names unknown stream(s) widgets"),
        ({"stream_aliases": {"erp": "widgets"}}, "`stream_aliases` maps 'erp' to 'widgets'"),
        # A typo in an alias for a stream that is not in this input is found at start too.
        ({"stream_aliases": {"erp_bills": "bils"}}, "`stream_aliases` maps 'erp_bills' to 'bils'"),
        # Secrets of the wrong type: the setting is named, the value never shown.
        ({"password": 12345678}, "`password` is not of type 'string' (value not shown)"),
        ({"dev_key": ["KEY-PART-ONE", "KEY-PART-TWO"]}, "`dev_key` is not of type 'string'"),
        ({"match_keys": {"vendors": "name"}}, "`match_keys.vendors` is not of type 'array'"),
        ({"results_path": ""}, "`results_path` is empty"),
    ],
    ids=[
        "no-username",
        "no-dev-key",
        "retries-text",
        "sync-token-text",
        "match-keys",
        "alias",
        "alias-unused",
        "password-number",
        "dev-key-list",
        "match-keys-text",
        "results-path-empty",
    ],
)
def test_the_target_names_a_missing_or_mistyped_setting_and_exits_2(
    emulator: Emulator, tap_config: dict[str, Any], change: dict[str, Any], expected: str
) -> None:
    tap_config.pop(change.pop("remove", ""), None)
    tap_config.update(change)
    text = "\n".join([VENDOR_INPUT, schema("erp"), record("erp", {"name": "Aliased"})])
    run = run_target(tap_config, text, emulator=emulator, secrets=["KEY-PART-ONE"])
    assert run.returncode == 2, run.stderr[-2000:]
    assert expected in run.stderr
    assert "What to do" in run.stderr
    assert "Traceback" not in run.stderr
    assert write_calls(emulator) == []
    assert not emulator.requests  # refused before signing in


def test_an_unwritable_results_path_stops_the_target_before_any_write(
    emulator: Emulator, tap_config: dict[str, Any], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    tap_config["results_path"] = str(blocker / "results.jsonl")
    run = run_target(tap_config, VENDOR_INPUT, emulator=emulator)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "`results_path`" in run.stderr
    assert "What to do: give a file path in a directory this user can write" in run.stderr
    assert write_calls(emulator) == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"password": "wrong-password-123"}, "BDC_1101"),
        ({"dev_key": DEMO_CREDENTIALS["other_environment_dev_key"]}, "environment=sandbox"),
        ({"organization_id": "00802ZZZZZZZZZZZZZZZ"}, "check `organization_id`"),
    ],
    ids=["password", "other-environment-key", "organization"],
)
def test_the_target_names_a_refused_sign_in_and_its_fix_and_exits_1(
    emulator: Emulator, tap_config: dict[str, Any], override: dict[str, str], expected: str
) -> None:
    tap_config.update(override, environment="sandbox")
    run = run_target(
        tap_config, VENDOR_INPUT, emulator=emulator, secrets=[override.get("password", "")]
    )
    assert run.returncode == 1, run.stderr[-2000:]
    assert expected in run.stderr
    assert "What to do" in run.stderr
    assert write_calls(emulator) == []
