"""What already exists in BILL, read once per run: matching by id and by natural key.

Each object type is listed once (keyset-paged like the tap) into an index the first time a
batch needs it, never with one look-up per record. Objects the run creates or updates are put
back into the index, so later batches and re-runs within the run see them.

An index holds each object as compact JSON (money as exact numbers) and decodes it when a
record needs it: Python dicts of a bill take about four times its JSON, and an index holds a
whole organization's objects of one type.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from bill_core import catalog
from bill_core.client import BillClient, decode_json
from bill_core.paging import iter_objects, quoted
from bill_core.windows import WindowedReader
from bill_core.writes import get_path

Key = tuple[str, ...]

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def key_view(stream: str, record: Mapping[str, Any]) -> Mapping[str, Any]:
    """A record as seen by match keys: write shapes also answer to read-shape names, and
    people (employees) to "first last"."""
    if "name" not in record and (record.get("firstName") or record.get("lastName")):
        full = f"{record.get('firstName') or ''} {record.get('lastName') or ''}".strip()
        return {**record, "name": full}
    if stream == "invoices" and "customerId" not in record:
        customer = record.get("customer")
        if isinstance(customer, Mapping) and customer.get("id"):
            return {**record, "customerId": customer["id"]}
    return record


def normalize(value: Any) -> str | None:
    """Key values compare trimmed and case-insensitively; empty means no key."""
    if value is None:
        return None
    text = str(value).strip()
    return text.casefold() if text else None


def key_of(stream: str, record: Mapping[str, Any], fields: Sequence[str]) -> Key | None:
    view = key_view(stream, record)
    values = [normalize(get_path(view, f)) for f in fields]
    if any(v is None for v in values):
        return None
    return tuple(v for v in values if v is not None)


class ObjectIndex:
    """Existing objects of one type, by id and by natural key (thread-safe)."""

    def __init__(self, client: BillClient, stream: str, key_fields: Sequence[str]) -> None:
        self.client = client
        self.entry = catalog.get(stream)
        self.path = self.entry.path.format(organizationId=client.settings.organization_id)
        self.stream = stream
        self.key_fields = tuple(key_fields)
        self._lock = threading.Lock()
        self._by_id: dict[str, bytes] = {}
        self._by_key: dict[Key, list[str]] = defaultdict(list)
        self._loaded = False

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            workers = self.client.settings.max_concurrent_requests
            if self.entry.incremental and workers > 1:
                # Large indexes (every bill of the organization) are read by several
                # updatedTime windows in flight, like the tap reads them.
                records = WindowedReader(self.client, self.path, workers=workers).read(None)
            else:
                records = iter_objects(self.client, self.path, keyset=self.entry.incremental)
            for record in records:
                self._put(record)
            self._loaded = True

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, bill_id: object) -> bool:
        return bill_id in self._by_id

    def get(self, bill_id: str | None) -> dict[str, Any] | None:
        """The object with this id (a fresh copy), or None."""
        stored = self._by_id.get(bill_id) if bill_id else None
        return None if stored is None else decode_json(stored)

    def find(self, key: Key) -> list[dict[str, Any]]:
        with self._lock:
            return [decode_json(self._by_id[i]) for i in self._by_key.get(key, ())]

    def put(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            self._put(record)

    def _put(self, record: Mapping[str, Any]) -> None:
        bill_id = str(record["id"])
        previous = self._by_id.get(bill_id)
        if previous is not None:
            old_key = key_of(self.stream, decode_json(previous), self.key_fields)
            if old_key is not None and bill_id in self._by_key.get(old_key, []):
                self._by_key[old_key].remove(bill_id)
        self._by_id[bill_id] = _ENCODER.encode(record)
        key = key_of(self.stream, record, self.key_fields)
        if key is not None:
            self._by_key[key].append(bill_id)

    def lookup(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Ask BILL (not the index) for objects with this record's key: after a create whose
        answer was lost, this tells whether BILL stored it."""
        filters = self._narrowing_filters(record)
        key = key_of(self.stream, record, self.key_fields)
        found = [
            candidate
            for candidate in iter_objects(
                self.client, self.path, keyset=self.entry.incremental, filters=filters
            )
            if key is not None and key_of(self.stream, candidate, self.key_fields) == key
        ]
        for candidate in found:
            self.put(candidate)
        return found

    def _narrowing_filters(self, record: Mapping[str, Any]) -> list[str]:
        """Documented filters that shrink the look-up (name:eq, vendorId:eq, customerId:eq)."""
        view = key_view(self.stream, record)
        filters = []
        for field in ("vendorId", "customerId", "name"):
            value = view.get(field)
            operators = self.entry.filterable.get(field, frozenset())
            if field in self.key_fields and value and "eq" in operators and "," not in str(value):
                filters.append(f"{field}:eq:{quoted(str(value))}")
        return filters


class Indexes:
    """One lazily loaded index per object type for the whole run."""

    def __init__(self, client: BillClient, match_keys: Mapping[str, Sequence[str]]) -> None:
        self.client = client
        self.match_keys = match_keys
        self._lock = threading.Lock()
        self._indexes: dict[str, ObjectIndex] = {}

    def __getitem__(self, stream: str) -> ObjectIndex:
        with self._lock:
            index = self._indexes.get(stream)
            if index is None:
                index = self._indexes[stream] = ObjectIndex(
                    self.client, stream, self.match_keys.get(stream, ("name",))
                )
        index.load()
        return index

    def loaded(self) -> Iterable[ObjectIndex]:
        return list(self._indexes.values())
