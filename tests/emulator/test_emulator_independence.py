"""The emulator judges the connectors, so it must not share their rules: what it accepts,
refuses and serves comes from BILL's documentation, read by the emulator itself."""

from __future__ import annotations

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
