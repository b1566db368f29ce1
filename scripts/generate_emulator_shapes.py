"""Extract, for the BILL emulator, what BILL's Postman collection shows about its answers.

Writes ``bill_emulator/postman_examples.json``: the emulator's own reading of the official
"BILL v3 API" Postman collection (``reference/bill-v3/bill-v3-postman-collection.json``,
published at https://developer.bill.com/docs/bill-v3-api-postman-collection), so the records
it serves have the fields BILL's example responses have, and so it knows every endpoint BILL
documents (those it does not implement answer 404 BDC_1121 instead of being read as ids).

This is deliberately separate from ``scripts/generate_schemas.py`` (the tap's schemas): the
emulator judges the connectors, so it reads BILL's examples itself.

- ``objects``: per object, the union of the fields of every 200/201 example response of its
  endpoints (list, get, create). A field is
  written as its kind: ``string``, ``number``, ``integer``, ``boolean``, ``date``,
  ``date-time``, ``enum:A,B`` (a string whose examples are all UPPER_SNAKE codes: a random
  sample of BILL's values, not the full list), ``any`` (only null seen); an object as a
  mapping of its fields, an array as ``[item]`` (``[]``: only empty arrays seen).
- ``endpoints``: every request of the collection as ``METHOD /v3/path/{}``.

Usage::

    .venv/bin/python scripts/generate_emulator_shapes.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTION = REPO_ROOT / "reference" / "bill-v3" / "bill-v3-postman-collection.json"
OUTPUT = REPO_ROOT / "bill_emulator" / "postman_examples.json"

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
#: Postman's filler for strings: says nothing about the value.
FILLER = frozenset({"", "string"})
#: Endpoints of an object outside its own path (the emulator serves the object there too).
EXTRA: Mapping[str, tuple[str, ...]] = {"bill_documents": ("GET /v3/documents/{}",)}


def requests_of(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        if "item" in item:
            yield from requests_of(item["item"])
        else:
            yield item


def template(path: list[str]) -> str:
    return "/" + "/".join("{}" if part.startswith(":") else part for part in path)


def endpoints_of(path: str, single: bool) -> set[str]:
    """The requests whose example answers show the object at catalog path `path`: list, get
    and create (the answers of updates, archive and restore show the same fields; the replay
    of BILL's examples checks them, tests/emulator/test_emulator_postman_replay.py)."""
    base = re.sub(r"\{[^}]+\}", "{}", path)
    shown = {f"GET {base}", f"POST {base}"}
    if not single:
        shown.add(f"GET {base}/{{}}")
    return shown


def records(body: Any) -> list[Any]:
    """Objects in an answer: a list envelope's results, a bare array, a bulk answer's one
    wrapped array, or the object itself."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        if isinstance(body.get("results"), list):
            return list(body["results"])
        if len(body) == 1:
            (only,) = body.values()
            if isinstance(only, list) and all(isinstance(v, dict) for v in only):
                return only
    return [body]


class Kinds:
    """What the examples show about one value."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.strings: set[str] = set()
        self.fields: dict[str, Kinds] = {}
        self.items: Kinds | None = None

    def see(self, value: Any) -> None:
        if isinstance(value, dict):
            self.kinds.add("object")
            for key, item in value.items():
                self.fields.setdefault(key, Kinds()).see(item)
        elif isinstance(value, list):
            self.kinds.add("array")
            self.items = self.items or Kinds()
            for item in value:
                self.items.see(item)
        elif isinstance(value, bool):
            self.kinds.add("boolean")
        elif isinstance(value, int):
            self.kinds.add("integer")
        elif isinstance(value, float):
            self.kinds.add("number")
        elif isinstance(value, str):
            self.kinds.add("string")
            self.strings.add(value)

    def shape(self, where: str) -> Any:
        name = where.rsplit(".", 1)[-1].removesuffix("[]")
        kinds = self.kinds
        if kinds == {"integer", "number"}:
            kinds = {"number"}
        if not kinds:
            return "any"
        if len(kinds) > 1:
            msg = f"{where}: examples of several kinds: {sorted(kinds)}"
            raise SystemExit(msg)
        (kind,) = kinds
        if kind == "object":
            return {k: v.shape(f"{where}.{k}") for k, v in sorted(self.fields.items())}
        if kind == "array":
            return (
                []
                if self.items is None or not self.items.kinds
                else [self.items.shape(f"{where}[]")]
            )
        return _string(name, self.strings) if kind == "string" else kind


def _string(name: str, strings: set[str]) -> str:
    told = strings - FILLER
    if not told:  # Postman's filler: BILL's names tell times and dates apart
        return _by_name(name)
    for kind, pattern in (("date-time", DATE_TIME), ("date", DATE)):
        if all(pattern.match(v) for v in told):
            return kind
    if all(CODE.match(v) for v in told):
        return "enum:" + ",".join(sorted(told))
    return "string"


def _by_name(name: str) -> str:
    if name.endswith("Time"):
        return "date-time"
    return "date" if name.endswith("Date") else "string"


def extract(collection: Mapping[str, Any]) -> dict[str, Any]:
    sys.path.insert(0, str(REPO_ROOT))
    from bill_core.catalog import OBJECTS  # object paths are shared with the connectors

    examples: dict[str, list[Any]] = {}
    endpoints = set()
    for request in requests_of(collection["item"]):
        method = request["request"]["method"]
        endpoint = f"{method} {template(request['request']['url']['path'])}"
        endpoints.add(endpoint)
        for response in request.get("response", []):
            if response.get("code") in (200, 201) and response.get("body"):
                examples.setdefault(endpoint, []).append(json.loads(response["body"]))
    objects = {}
    for obj in OBJECTS:
        kinds = Kinds()
        wanted = endpoints_of(obj.path, obj.single) | set(EXTRA.get(obj.stream, ()))
        for endpoint in sorted(wanted):
            for body in examples.get(endpoint, []):
                for record in records(body):
                    kinds.see(record)
        if kinds.kinds:
            objects[obj.stream] = kinds.shape(obj.stream)
    return {"endpoints": sorted(endpoints), "objects": objects}


def render(collection_bytes: bytes) -> str:
    data = extract(json.loads(collection_bytes))
    document = {
        "about": (
            "Generated by scripts/generate_emulator_shapes.py from "
            "reference/bill-v3/bill-v3-postman-collection.json; do not edit by hand."
        ),
        "collection_sha256": hashlib.sha256(collection_bytes).hexdigest(),
        **data,
    }
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render(COLLECTION.read_bytes())
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
    if args.check:
        if current != text:
            print(f"{OUTPUT} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{OUTPUT.name} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
