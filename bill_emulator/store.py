"""One object type's records with the indexes list queries need.

Records are immutable once stored (copy-on-write): an update stores a new dict, so a page
being serialised in one thread never sees another thread's change half-applied, and callers
holding a record keep a stable value.

Two sorted indexes of `(timestamp, id)` tuples serve the common list queries without a scan:
`createdTime` (the default order) and `updatedTime` (incremental syncs). `updatedTime` only
grows, so an updated record moves to the end of that index.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Any

from bill_core.catalog import BillObject

Record = dict[str, Any]
IndexKey = tuple[str, str]
INDEXED_FIELDS = ("createdTime", "updatedTime")


class RecordStore:
    def __init__(self, bill_object: BillObject) -> None:
        self.object = bill_object
        self.by_id: dict[str, Record] = {}
        self.indexes: dict[str, list[IndexKey]] = {name: [] for name in INDEXED_FIELDS}
        #: Parent id -> child ids in creation order (child streams only).
        self.by_parent: dict[str, list[str]] = {}
        #: Record id -> (the stored record, its JSON text as the API shows it); see
        #: views.present_text. Valid while that very record is stored (records are
        #: immutable), so a list page is a join of texts, not an encode of every value.
        self.texts: dict[str, tuple[Record, Any]] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def load(self, records: Iterable[Record]) -> None:
        """Bulk insert (seeding): append everything, sort each index once."""
        parent_key = self.object.parent_key
        for record in records:
            record_id = record["id"]
            self.by_id[record_id] = record
            for name, index in self.indexes.items():
                index.append((record[name], record_id))
            if parent_key is not None:
                self.by_parent.setdefault(record[parent_key], []).append(record_id)
        for index in self.indexes.values():
            index.sort()

    def add(self, record: Record) -> None:
        record_id = record["id"]
        if record_id in self.by_id:
            msg = f"duplicate id {record_id}"
            raise ValueError(msg)
        self.by_id[record_id] = record
        for name, index in self.indexes.items():
            bisect.insort(index, (record[name], record_id))
        if self.object.parent_key is not None:
            self.by_parent.setdefault(record[self.object.parent_key], []).append(record_id)

    def replace(self, record: Record) -> None:
        """Store a new version of a record (same id, same createdTime, later updatedTime)."""
        record_id = record["id"]
        old = self.by_id[record_id]
        index = self.indexes["updatedTime"]
        position = bisect.bisect_left(index, (old["updatedTime"], record_id))
        del index[position]
        bisect.insort(index, (record["updatedTime"], record_id))
        self.by_id[record_id] = record

    def remove(self, record_id: str) -> Record:
        """Forget a record (the few objects BILL deletes, e.g. a vendor's bank account)."""
        record = self.by_id.pop(record_id)
        for name, index in self.indexes.items():
            del index[bisect.bisect_left(index, (record[name], record_id))]
        if self.object.parent_key is not None:
            self.by_parent[record[self.object.parent_key]].remove(record_id)
        self.texts.pop(record_id, None)
        return record

    def get(self, record_id: str) -> Record | None:
        return self.by_id.get(record_id)

    def in_created_order(self) -> list[Record]:
        by_id = self.by_id
        return [by_id[record_id] for _, record_id in self.indexes["createdTime"]]

    def children(self, parent_id: str) -> list[Record]:
        by_id = self.by_id
        return [by_id[record_id] for record_id in self.by_parent.get(parent_id, ())]

    def resolve(self, keys: Iterable[IndexKey]) -> list[Record]:
        by_id = self.by_id
        return [by_id[record_id] for _, record_id in keys]

    def __iter__(self) -> Iterator[Record]:
        return iter(self.by_id.values())
