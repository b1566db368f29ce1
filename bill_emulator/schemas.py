"""Read access to the JSON Schemas in `bill_core/schemas/<stream>.json`.

The schemas are the single description of each object's fields; the emulator generates
records from them and types filter values by them. A stream without a schema file still
works: records then carry only the fields the seeder sets itself, and filter values are typed
by field name.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

Schema = dict[str, Any]

#: Kinds of values a filter compares.
TIME, DATE, BOOLEAN, NUMBER, STRING = "time", "date", "boolean", "number", "string"


@functools.cache
def load(stream: str) -> Schema | None:
    """The stream's JSON Schema, or None when the file does not exist (yet)."""
    path = resources.files("bill_core.schemas") / f"{stream}.json"
    if not path.is_file():
        return None
    schema: Schema = json.loads(path.read_text(encoding="utf-8"))
    return schema


def resolve(node: Schema, root: Schema) -> Schema:
    """Follow a local `$ref` and collapse `anyOf`/`oneOf` to the first non-null branch."""
    while True:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        for key in ("anyOf", "oneOf", "allOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                chosen = next((b for b in branches if main_type(b) != "null"), branches[0])
                rest = {k: v for k, v in node.items() if k != key}
                node = {**rest, **chosen}
                break
        else:
            return node


def main_type(node: Schema) -> str | None:
    """The non-null JSON type of a node (`["string", "null"]` -> "string")."""
    declared = node.get("type")
    if isinstance(declared, list):
        non_null = [t for t in declared if t != "null"]
        return non_null[0] if non_null else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    return None


def property_schema(stream: str, dotted: str) -> Schema | None:
    """The schema node of a (dotted) field, looking through arrays; None if unknown."""
    root = load(stream)
    if root is None:
        return None
    node: Schema = resolve(root, root)
    for part in dotted.split("."):
        while main_type(node) == "array" and isinstance(node.get("items"), dict):
            node = resolve(node["items"], root)
        properties = node.get("properties")
        if not isinstance(properties, dict) or part not in properties:
            return None
        node = resolve(properties[part], root)
    return node


def field_kind(stream: str, dotted: str) -> str:
    """How to read a filter value for this field: from the schema, else from its name."""
    node = property_schema(stream, dotted)
    if node is not None:
        kind = _kind_of(node)
        if kind is not None:
            return kind
    return _kind_by_name(dotted.rsplit(".", 1)[-1])


def _kind_of(node: Schema) -> str | None:
    declared = main_type(node)
    if declared == "string":
        return {"date-time": TIME, "date": DATE}.get(node.get("format", ""), STRING)
    if declared == "boolean":
        return BOOLEAN
    if declared in ("number", "integer"):
        return NUMBER
    return None


def _kind_by_name(name: str) -> str:
    if name.endswith("Time"):
        return TIME
    if name.endswith("Date"):
        return DATE
    if name in ("archived", "accessToAdmins") or name.startswith("is"):
        return BOOLEAN
    if name in ("amount", "totalAmount", "dueAmount", "fundingAmount", "appliedAmount"):
        return NUMBER
    return STRING


def top_level_properties(stream: str) -> frozenset[str] | None:
    root = load(stream)
    if root is None:
        return None
    properties = resolve(root, root).get("properties")
    return frozenset(properties) if isinstance(properties, dict) else None
