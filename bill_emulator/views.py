"""How stored records look in API responses: bank account numbers masked, and the fields the
emulator keeps for itself left out.

Stored records keep full account numbers (tests and the write side compare them); responses
never show more than the last 4 digits (see `formats.mask_account_number`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import msgspec

from bill_core import catalog
from bill_emulator import shapes
from bill_emulator.formats import mask_account_number
from bill_emulator.store import Record, RecordStore

#: Paths (from the record) of bank account numbers, per stream. A vendor's top-level
#: `accountNumber` is the vendor's account with the payer, not a bank account: not masked.
MASKED: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "bank_accounts": (("accountNumber",),),
    "vendor_bank_accounts": (("accountNumber",),),
    "customer_bank_accounts": (("accountNumber",),),
    "vendors": (("paymentInformation", "bankAccount", "accountNumber"),),
}
#: Fields every stored record carries for the emulator's own use.
_INTERNAL = ("id", "createdTime", "updatedTime", "archived")


@functools.cache
def hidden_fields(stream: str) -> frozenset[str]:
    """Fields stored for indexing but not part of BILL's response for this object.

    A child's parent id (`vendorId` of a vendor bank account, ...) is in the path, not in
    BILL's answer; internal fields BILL's examples do not show (a vendor bank account has no
    `id` or timestamps in BILL's answer, see `shapes`) are left out too.
    """
    bill_object = catalog.get(stream)
    hidden = {bill_object.parent_key} if bill_object.parent_key else set()
    documented = shapes.top_level_fields(stream)
    if documented is not None:
        hidden |= {name for name in _INTERNAL if name not in documented}
    return frozenset(hidden)


#: Compact UTF-8 JSON, as json.dumps(separators=(",", ":"), ensure_ascii=False) writes it,
#: about five times faster (a 100-bill page: 0.25 ms instead of 1.2 ms). Every answer and
#: every record's text (present_text) is encoded by it.
ENCODER = msgspec.json.Encoder()


def present_text(stream: str, store: RecordStore, record: Record) -> msgspec.Raw:
    """`present(stream, record)` as JSON text, kept in the store until the record is
    replaced: at zero latency the encoding of every value of every page set the pace of a
    sync, and pages of a large organization are far apart in memory."""
    cached = store.texts.get(record["id"])
    if cached is not None and cached[0] is record:
        text: msgspec.Raw = cached[1]
        return text
    text = msgspec.Raw(ENCODER.encode(present(stream, record)))
    store.texts[record["id"]] = (record, text)
    return text


def present(stream: str, record: Record) -> Record:
    """The record as the API answers it (a copy only when something must change)."""
    hidden = hidden_fields(stream)
    paths = MASKED.get(stream, ())
    if not hidden and not paths:
        return record
    shown = {key: value for key, value in record.items() if key not in hidden}
    for path in paths:
        _mask(shown, path)
    return shown


def _mask(record: Record, path: tuple[str, ...]) -> None:
    parent = record
    for key in path[:-1]:
        child = parent.get(key)
        if not isinstance(child, dict):
            return
        child = dict(child)  # copy on the way down: the stored record stays intact
        parent[key] = child
        parent = child
    number = parent.get(path[-1])
    if isinstance(number, str) and number:
        parent[path[-1]] = mask_account_number(number)
