"""The emulator judges the connectors, so it must not share their rules: what it accepts,
refuses and serves comes from BILL's documentation, read by the emulator itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from bill_core import catalog
from bill_emulator import shapes

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "bill_emulator"


def test_the_extract_of_bills_postman_examples_is_current() -> None:
    """bill_emulator/postman_examples.json is what the script makes of the vendored
    collection (re-run scripts/generate_emulator_shapes.py after replacing it)."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "generate_emulator_shapes.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_served_object_has_a_documented_shape() -> None:
    for entry in catalog.OBJECTS:
        fields = shapes.top_level_fields(entry.stream)
        assert fields, entry.stream
        assert "id" in fields or entry.single, entry.stream


def test_hand_written_additions_do_not_repeat_the_collection() -> None:
    """An object or field the collection now shows needs no hand-written entry (a newer
    collection makes these stale: drop them then)."""
    extracted = shapes.postman_extract()["objects"]
    assert not set(shapes.OBJECTS_ADDED) & set(extracted)
    for stream, fields in shapes.FIELDS_ADDED.items():
        assert not set(fields) & set(extracted.get(stream, {})), stream


#: Modules of the connectors the emulator must not read: their rules, shapes and mappings.
FORBIDDEN_MODULES = ("bill_core.writes", "bill_core.schemas", "tap_billcom", "target_billcom")
#: What bill_core.catalog may lend the emulator: object paths, id prefixes, names (the replay
#: of BILL's examples checks paths against BILL's). Filter/sort lists, bulk limits and the
#: like are rules: the emulator has its own.
FORBIDDEN_CATALOG = frozenset(
    {"filterable", "sortable", "bulk_create_limit", "bulk_response_key", "incremental"}
    | {"replication_key", "archivable", "key_properties", "selected_by_default"}
    | {"EQUALITY", "FLAG", "RANGE", "SET", "REFERENCE", "ALL_OPERATORS"}
)


#: The emulator's own modules holding names like the catalog's (`lists.RANGE`).
OWN_MODULES = frozenset({"lists", "shapes"})


def borrowed(source: str) -> list[str]:
    """What a module's source takes from the connectors, as `kind: name` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if node.module == "bill_core.catalog":
                found += [f"catalog: {a.name}" for a in node.names if a.name in FORBIDDEN_CATALOG]
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_CATALOG:
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in OWN_MODULES):
                found.append(f"attribute: {node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            dotted = node.value.replace("/", ".")
            found += [f"text: {node.value}" for m in FORBIDDEN_MODULES[:2] if m in dotted]
        found += [
            f"import: {name}"
            for name in names
            if any(name == m or name.startswith(f"{m}.") for m in FORBIDDEN_MODULES)
        ]
    return found


def test_no_emulator_module_borrows_the_connectors_rules() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 20
    found = {m.name: borrowed(m.read_text(encoding="utf-8")) for m in modules}
    assert not {name: what for name, what in found.items() if what}


def test_the_check_sees_each_way_of_borrowing() -> None:
    source = """
import tap_billcom.tap
from bill_core.writes import SHAPES
from bill_core import schemas
from bill_core.catalog import RANGE, get
from target_billcom import mapping
files = resources.files("bill_core.schemas")
allowed = catalog.get("bills").filterable
own = lists.RANGE
"""
    assert sorted(borrowed(source)) == sorted(
        [
            "import: tap_billcom.tap",
            "import: bill_core.writes",
            "import: bill_core.writes.SHAPES",
            "import: bill_core.schemas",
            "catalog: RANGE",
            "import: target_billcom",
            "import: target_billcom.mapping",
            "text: bill_core.schemas",
            "attribute: filterable",
        ]
    )
