"""An organization's records and the changes made to them (no HTTP here).

Every change stamps `updatedTime` with the emulator clock, strictly later (by at least 1 ms)
than any `updatedTime` the organization issued before, so a changed record always moves to
the end of an `updatedTime`-ascending list: the case incremental syncs must not lose.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from bill_core import catalog
from bill_emulator import shapes
from bill_emulator.clock import Clock
from bill_emulator.errors import BillError
from bill_emulator.formats import format_date, format_time, new_id
from bill_emulator.store import Record, RecordStore

#: Id prefixes of line items, which bill_core.catalog does not describe (they are not
#: streams). `00f` (invoice line item) is documented at
#: https://developer.bill.com/docs/bill-generated-ids; `bli` and `vci` come from third-party
#: type definitions; the others are our assumption.
LINE_ITEM_PREFIXES: Mapping[str, str] = {
    "billLineItems": "bli",
    "invoiceLineItems": "00f",
    "creditMemoLineItems": "cml",
    "vendorCreditLineItems": "vci",
    "recurringBillLineItems": "rbl",
    "recurringInvoiceLineItems": "ril",
}
#: Ids of every sub-object that carries one: array name -> prefix. `blp` (bill pay) and `0ip`
#: (invoice pay) are documented (bill-generated-ids); `vdi` (void info) is our assumption.
NESTED_ID_PREFIXES: Mapping[str, str] = {
    **LINE_ITEM_PREFIXES,
    "billPayments": "blp",
    "payments": "0ip",
    "voidInfo": "vdi",
}
#: Fields a caller cannot set: the organization assigns them.
_SYSTEM_FIELDS = ("id", "createdTime", "updatedTime")


class Organization:
    """One BILL organization: a record store per catalog object, all behind one lock."""

    def __init__(
        self, organization_id: str, clock: Clock, rng: random.Random, name: str = ""
    ) -> None:
        self.organization_id = organization_id
        self.name = name
        #: False: logins to this organization answer BDC_1104 (our stand-in for "API access
        #: not enabled"; https://developersupport.bill.com/hc/en-us/articles/208762056).
        self.api_access_enabled = True
        self.lock = threading.RLock()
        self.stores: dict[str, RecordStore] = {
            obj.stream: RecordStore(obj) for obj in catalog.OBJECTS
        }
        self._clock = clock
        self._rng = rng
        self._last_time_ms = 0

    def __repr__(self) -> str:
        return f"Organization({self.organization_id!r})"

    # -- reading -------------------------------------------------------------------------

    def store(self, stream: str) -> RecordStore:
        catalog.get(stream)  # a KeyError naming the known streams
        return self.stores[stream]

    def list(self, stream: str) -> list[Record]:
        """All records in createdTime order, as stored (full account numbers; do not mutate)."""
        with self.lock:
            return self.store(stream).in_created_order()

    def find(self, stream: str, record_id: str) -> Record | None:
        with self.lock:
            return self.store(stream).get(record_id)

    def get(self, stream: str, record_id: str) -> Record:
        """The record, or BillError BDC_1120 (404) when this organization has no such id."""
        record = self.find(stream, record_id)
        if record is None:
            raise BillError("BDC_1120")
        return record

    def today(self) -> str:
        """The emulator clock's UTC date, `yyyy-MM-dd` (BILL's default invoice dates)."""
        return format_date(self._clock.now_ms())

    # -- changing ------------------------------------------------------------------------

    def create(self, stream: str, record: Mapping[str, Any]) -> Record:
        """Store a new record: a new id (catalog prefix), createdTime = updatedTime = now."""
        bill_object = catalog.get(stream)
        new = copy.deepcopy(dict(record))
        for name in _SYSTEM_FIELDS:
            new.pop(name, None)
        with self.lock:
            self._check_parent(bill_object, new)
            stamp = format_time(self._next_time_ms())
            system: Record = {
                "id": new_id(bill_object.id_prefix, self._rng),
                "createdTime": stamp,
                "updatedTime": stamp,
            }
            if shapes.archivable(stream):
                system["archived"] = new.pop("archived", False)
            new = {**system, **new}  # the seeded records' field order
            self._assign_nested_ids(new)
            self.stores[stream].add(new)
            return new

    def update(self, stream: str, record_id: str, changes: Mapping[str, Any]) -> Record:
        """Shallow-merge `changes` into the record and move its updatedTime."""
        with self.lock:
            return self.replace(stream, record_id, {**self.get(stream, record_id), **changes})

    def replace(self, stream: str, record_id: str, record: Mapping[str, Any]) -> Record:
        """Store `record` as the new version (fields it lacks are gone); same id and
        createdTime, a later updatedTime; line items without an id get one."""
        with self.lock:
            old = self.get(stream, record_id)
            new = copy.deepcopy(dict(record))
            for name in _SYSTEM_FIELDS:
                new[name] = old[name]
            new["updatedTime"] = format_time(self._next_time_ms())
            self._assign_nested_ids(new)
            self.stores[stream].replace(new)
            return new

    def delete(self, stream: str, record_id: str) -> Record:
        """Remove a record; BDC_1120 (404) when there is none."""
        with self.lock:
            self.get(stream, record_id)
            return self.stores[stream].remove(record_id)

    def archive(self, stream: str, record_id: str) -> Record:
        """Set `archived`; archiving an archived record changes nothing (BILL: a no-op 200)."""
        return self._set_archived(stream, record_id, archived=True)

    def restore(self, stream: str, record_id: str) -> Record:
        return self._set_archived(stream, record_id, archived=False)

    def _set_archived(self, stream: str, record_id: str, *, archived: bool) -> Record:
        if not shapes.archivable(stream):
            raise BillError("BDC_1121")
        with self.lock:
            record = self.get(stream, record_id)
            if record.get("archived") is archived:
                return record
            return self.update(stream, record_id, {"archived": archived})

    # -- seeding -------------------------------------------------------------------------

    def load(self, records_by_stream: Mapping[str, Sequence[Record]], last_time_ms: int) -> None:
        """Bulk-load seeded records; later changes are stamped after `last_time_ms`."""
        with self.lock:
            for stream, records in records_by_stream.items():
                self.stores[stream].load(records)
            self._last_time_ms = max(self._last_time_ms, last_time_ms)

    # -- internals -----------------------------------------------------------------------

    def _next_time_ms(self) -> int:
        self._last_time_ms = max(self._clock.now_ms(), self._last_time_ms + 1)
        return self._last_time_ms

    def _check_parent(self, bill_object: catalog.BillObject, record: Record) -> None:
        if bill_object.parent is None or bill_object.parent_key is None:
            return
        parent_id = record.get(bill_object.parent_key)
        if not isinstance(parent_id, str) or self.stores[bill_object.parent].get(parent_id) is None:
            raise BillError("BDC_1120")
        if bill_object.single and self.stores[bill_object.stream].by_parent.get(parent_id):
            # One bank account per vendor; BILL's update is delete + create (BILL's "Create a
            # vendor bank account" request in the Postman collection).
            detail = f"{bill_object.parent_key} already has a {bill_object.noun}"
            raise BillError("BDC_1119", detail)

    def _assign_nested_ids(self, record: Record) -> None:
        for field, prefix in NESTED_ID_PREFIXES.items():
            items = record.get(field)
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict) and not item.get("id"):
                        item["id"] = new_id(prefix, self._rng)
