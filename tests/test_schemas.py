"""The stream schemas in bill_core/schemas: complete, valid, and reproducible by the generator.

The field lists are checked against reference/bill-v3/bill-v3-object-fields-from-postman.md,
a list derived independently from the same official BILL
v3 Postman collection the generator reads.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bill_core.catalog import OBJECTS, BillObject

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO_ROOT / "bill_core" / "schemas"
GENERATOR = REPO_ROOT / "scripts" / "generate_schemas.py"
REFERENCE = REPO_ROOT / "reference" / "bill-v3"
COLLECTION = REFERENCE / "bill-v3-postman-collection.json"
FIELDS_MD = REFERENCE / "bill-v3-object-fields-from-postman.md"

#: Object sections of the fields list -> the stream whose schema must hold their fields.
SECTION_STREAMS = {
    "vendor": "vendors",
    "vendorBankAccount": "vendor_bank_accounts",
    "customer": "customers",
    "bill": "bills",
    "invoice": "invoices",
    "payment": "payments",
    "receivablePayment": "receivable_payments",
    "creditMemo": "credit_memos",
    "vendorCredit": "vendor_credits",
    "recurringBill": "recurring_bills",
    "recurringInvoice": "recurring_invoices",
    "chartOfAccounts": "chart_of_accounts",
    "accountingClass": "accounting_classes",
    "department": "departments",
    "employee": "employees",
    "item": "items",
    "job": "jobs",
    "location": "locations",
    "user": "users",
    "role": "roles",
    "bankAccount (org funding)": "bank_accounts",
    "document": "bill_documents",
    "organization": "organization",
}
#: Sections describing objects no stream emits (write responses, other APIs).
SECTIONS_WITHOUT_STREAM = frozenset(
    {
        "recordArPayment",
        "recordApPayment",
        "bankAccountUser",
        "cardAccount",
        "attachment",
        "loginSession",
        "subscription",
        "eventNotification",
        "paymentOptions",
        "auditTrail",
    }
)
#: A type in the fields list -> (JSON types the schema may use, required string format).
MD_TYPES: dict[str, tuple[frozenset[str], str | None]] = {
    "string": (frozenset({"string"}), None),
    "string(date)": (frozenset({"string"}), "date"),
    "string(date-time)": (frozenset({"string"}), "date-time"),
    # The examples are floats; whole-number counts (e.g. approverOrder) are integers here.
    "number": (frozenset({"number", "integer"}), None),
    "integer": (frozenset({"integer"}), None),
    "boolean": (frozenset({"boolean"}), None),
    "object": (frozenset({"object"}), None),
    "array": (frozenset({"array"}), None),
}
STREAMS = [obj.stream for obj in OBJECTS]


def load(stream: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{stream}.json").read_text(encoding="utf-8"))


@cache
def md_sections() -> dict[str, list[tuple[str, str]]]:
    """Section title -> [(field path, type)] from the fields list."""
    sections: dict[str, list[tuple[str, str]]] = {}
    title = None
    in_block = False
    for line in FIELDS_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            sections[title] = []
        elif line.startswith("```"):
            in_block = not in_block
        elif in_block and title is not None and line.strip():
            path, kind, *_ = line.split()
            sections[title].append((path, kind))
    return sections


def resolve(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The sub-schema of a field path like 'billLineItems[].classifications.itemId'."""
    node = schema
    for part in path.split("."):
        name = part.removesuffix("[]")
        assert name in node.get("properties", {}), f"missing {name!r} (in {path})"
        node = node["properties"][name]
        for _ in range(part.count("[]")):
            assert "items" in node, f"{name!r} is not an array (in {path})"
            node = node["items"]
    return node


def types(node: dict[str, Any]) -> set[str]:
    kind = node["type"]
    return {kind} if isinstance(kind, str) else set(kind)


def test_every_catalog_stream_has_exactly_one_schema_file() -> None:
    committed = {path.stem for path in SCHEMA_DIR.glob("*.json")}
    assert committed == set(STREAMS)
    assert (SCHEMA_DIR / "__init__.py").exists()


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_draft_2020_12(stream: str) -> None:
    schema = load(stream)
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["properties"]
    assert not re.search(r'"enum"\s*:', json.dumps(schema)), "enum values are only samples"


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda obj: obj.stream)
def test_key_properties_are_required_non_nullable_strings(obj: BillObject) -> None:
    schema = load(obj.stream)
    assert schema["required"] == list(obj.key_properties)
    for key in obj.key_properties:
        assert schema["properties"][key]["type"] == "string"
    others = set(schema["properties"]) - set(obj.key_properties)
    for name in others:
        assert "null" in types(schema["properties"][name]), f"{name} should be nullable"


@pytest.mark.parametrize("obj", [o for o in OBJECTS if o.parent], ids=lambda obj: obj.stream)
def test_child_streams_carry_their_parent_id(obj: BillObject) -> None:
    assert obj.parent_key is not None
    assert types(load(obj.stream)["properties"][obj.parent_key]) >= {"string"}


@pytest.mark.parametrize("obj", [o for o in OBJECTS if o.incremental], ids=lambda obj: obj.stream)
def test_replication_key_is_a_date_time(obj: BillObject) -> None:
    assert obj.replication_key is not None
    node = load(obj.stream)["properties"][obj.replication_key]
    assert "string" in types(node)
    assert node["format"] == "date-time"


def test_fields_list_sections_are_all_mapped() -> None:
    sections = set(md_sections())
    assert set(SECTION_STREAMS) | SECTIONS_WITHOUT_STREAM == sections
    assert set(SECTION_STREAMS.values()) <= set(STREAMS)


@pytest.mark.parametrize(("section", "stream"), sorted(SECTION_STREAMS.items()))
def test_schema_has_every_field_of_the_postman_collection(section: str, stream: str) -> None:
    fields = md_sections()[section]
    assert fields, f"no fields parsed for {section}"
    schema = load(stream)
    for path, kind in fields:
        node = resolve(schema, path)
        allowed, fmt = MD_TYPES[kind]
        assert types(node) - {"null"} <= allowed, f"{stream}.{path}: {node} vs {kind}"
        if fmt:
            assert node.get("format") == fmt, f"{stream}.{path}: {node} vs {kind}"


def test_documented_types() -> None:
    """Spot checks of the conventions the tap and the emulator rely on."""
    bills = load("bills")["properties"]
    assert types(bills["amount"]) == {"number", "null"}
    assert resolve(load("bills"), "billLineItems[].quantity")["type"] == ["number", "null"]
    assert resolve(load("bills"), "approvers[].approverOrder")["type"] == ["integer", "null"]
    assert bills["dueDate"]["format"] == "date"
    assert load("payment_terms")["properties"]["daysDue"]["type"] == ["integer", "null"]
    schedule = resolve(load("recurring_bills"), "schedule")["properties"]
    assert schedule["frequency"]["type"] == ["integer", "null"]
    assert schedule["nextDueDate"]["format"] == "date"
    assert "Sample values:" in load("payments")["properties"]["status"]["description"]


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), str(COLLECTION), "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    generated = {path.name: path.read_bytes() for path in tmp_path.glob("*.json")}
    committed = {path.name: path.read_bytes() for path in SCHEMA_DIR.glob("*.json")}
    assert sorted(generated) == sorted(committed)
    for name, content in committed.items():
        assert generated[name] == content, f"{name} differs from the generator's output"


def test_generator_check_mode_accepts_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
