"""Bank account numbers leave the tap masked, whatever BILL sends.

BILL answers account numbers masked to their last four digits (`xxxxxx1234`); the tap relies
on it, but one unmasked number (a number BILL stored as a JSON number, an API change) would
reach every target and log downstream. So the paths below are checked on every record of
their streams and masked the way BILL masks them, with one warning per stream that never
shows the value.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

LOGGER = logging.getLogger("bill_core")

#: Where each stream's records hold a bank account number (BILL's read shapes).
BANK_NUMBER_PATHS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "vendors": (("paymentInformation", "bankAccount", "accountNumber"),),
    "vendor_bank_accounts": (("accountNumber",),),
    "customer_bank_accounts": (("accountNumber",),),
    "bank_accounts": (("accountNumber",),),
}
#: Text that must be in a record's JSON for it to hold a number at all (a cheap first look).
MARKERS: Mapping[str, bytes] = {"vendors": b'"bankAccount"'}
VISIBLE_DIGITS = 4


def unmasked(value: Any) -> bool:
    """More than the last four digits readable, or not text at all."""
    if value is None:
        return False
    if not isinstance(value, str):
        return True
    return sum(c.isdigit() for c in value) > VISIBLE_DIGITS


def mask(value: Any) -> str:
    digits = "".join(c for c in str(value) if c.isdigit())
    return "x" * max(len(digits) - VISIBLE_DIGITS, 2) + digits[-VISIBLE_DIGITS:]


def may_hold_number(stream: str, raw: Any) -> bool:
    """Whether a record's JSON text (bytes, msgspec.Raw) must be looked at; False: it holds
    no account number."""
    if stream not in BANK_NUMBER_PATHS:
        return False
    return MARKERS.get(stream, b'"accountNumber"') in bytes(raw)


def masked(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record with every unmasked account number masked (the same dict when none)."""
    for path in BANK_NUMBER_PATHS.get(stream, ()):
        holder: Any = record
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, Mapping) else None
        if isinstance(holder, dict) and unmasked(holder.get(path[-1])):
            holder[path[-1]] = mask(holder[path[-1]])
            _warn(stream, ".".join(path))
    return record


_WARNED: set[str] = set()


def _warn(stream: str, path: str) -> None:
    if stream not in _WARNED:
        _WARNED.add(stream)
        LOGGER.warning(
            "BILL sent an unmasked bank account number in %s.%s; it was masked to its last "
            "four digits before leaving the tap",
            stream,
            path,
        )
