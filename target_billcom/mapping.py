"""Pure mapping between records (BILL read shape, as tap-billcom emits it, or an ERP's) and
BILL write bodies, and the diff that decides update or unchanged. No HTTP here.

Read and write shapes differ (https://developer.bill.com/docs/ar-invoices): an invoice is read
with `customerId` but written with `customer: {id}`; read-only fields (`createdTime`,
`dueAmount`, `balance`, ...) are dropped; `None` means "not given", never "clear".
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from bill_core.writes import SHAPES, WriteShape, get_path, line_total

#: Reference fields that may name their object instead of giving its id.
NAME_REFERENCES = {
    "bills": {"vendorId": ("vendorName", "vendors")},
    "invoices": {"customer.id": ("customerName", "customers")},
}


@dataclass
class Incoming:
    """A record turned into a write body, before references are resolved."""

    stream: str
    body: dict[str, Any]
    #: The record's own `id` (maybe another organization's, maybe absent).
    given_id: str | None = None
    #: `_sdc_deleted_at` or `archived: true`: the object should end archived.
    archive: bool = False
    #: `_sdc_deleted_at`: the row was deleted at the source (nothing to do if BILL lacks it),
    #: unlike `archived: true`, a record that exists archived (an organization copy).
    deleted: bool = False
    #: Names given instead of ids, e.g. {"vendorId": "Acme"}.
    names: dict[str, str] = field(default_factory=dict)


def incoming(stream: str, record: Mapping[str, Any]) -> Incoming:
    shape = SHAPES[stream]
    deleted = bool(record.get("_sdc_deleted_at"))
    archive = deleted or record.get("archived") is True
    given_id = record.get("id")
    body: dict[str, Any] = {}
    for name, value in record.items():
        if name in shape.writable:
            body[name] = _plain(value)
    for name, keys in shape.nested_writable.items():
        if isinstance(body.get(name), Mapping):
            body[name] = {k: v for k, v in body[name].items() if k in keys}
    bank = get_path(body, "paymentInformation.bankAccount")
    if isinstance(bank, Mapping) and _masked(bank.get("accountNumber")):
        # BILL answers bank account numbers masked (xxxxxx1234): never write a mask back.
        body["paymentInformation"].pop("bankAccount")
    if stream == "invoices":
        customer = body.get("customer") if isinstance(body.get("customer"), Mapping) else {}
        customer_id = record.get("customerId") or (customer or {}).get("id")
        customer_name = (customer or {}).get("name") or record.get("customerName")
        body["customer"] = {"id": customer_id} if customer_id else {}
        names = {"customer.id": str(customer_name)} if customer_name else {}
    elif stream == "bills":
        vendor_name = record.get("vendorName")
        names = {"vendorId": str(vendor_name)} if vendor_name else {}
    else:
        names = {}
    if shape.line_items and isinstance(body.get(shape.line_items), list):
        body[shape.line_items] = [_line(shape, line) for line in body[shape.line_items]]
    for path in shape.dates:
        *parents, name = path.split(".")
        holder = get_path(body, ".".join(parents)) if parents else body
        if isinstance(holder, dict) and name in holder:
            holder[name] = _as_date(holder[name])
    return Incoming(
        stream=stream,
        body=_without_none(body),
        given_id=str(given_id) if given_id else None,
        archive=archive,
        deleted=deleted,
        names=names,
    )


def _line(shape: WriteShape, line: Any) -> Any:
    if not isinstance(line, Mapping):
        return line
    kept = {k: _plain(v) for k, v in line.items() if k in shape.line_writable}
    for name in (*shape.line_amounts, *shape.line_quantities, "amount", "price", "quantity"):
        if isinstance(kept.get(name), str):
            # Files often carry money as text to keep it exact; BILL takes JSON numbers.
            # Unparseable text is left as is: validation names the field.
            with contextlib.suppress(InvalidOperation):
                kept[name] = Decimal(kept[name].strip())
    return kept


def _as_date(value: Any) -> Any:
    """A date field given as a date-time at midnight (how many ERPs export dates) is that
    date; anything else is left as given for validation to name."""
    if not isinstance(value, str) or len(value.strip()) <= len("2026-12-31"):
        return value
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.date().isoformat() if parsed.time() == dt.time() else value


def _masked(value: Any) -> bool:
    return isinstance(value, str) and any(c in value for c in "xX*")


def for_create(stream: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A create body: line item ids belong to the object they came from, not a new one."""
    shape = SHAPES[stream]
    lines = body.get(shape.line_items or "")
    if not isinstance(lines, list):
        return dict(body)
    return {
        **body,
        shape.line_items or "": [
            {k: v for k, v in line.items() if k != "id"} if isinstance(line, Mapping) else line
            for line in lines
        ],
    }


def _plain(value: Any) -> Any:
    """JSON-ready values: dates as yyyy-MM-dd (the SDK parses date-times into datetimes)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _without_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        cleaned = {k: _without_none(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in cleaned.items() if v != {}}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def write_view(stream: str, existing: Mapping[str, Any]) -> dict[str, Any]:
    """An existing object (read shape) seen as the write body that would recreate it."""
    return incoming(stream, existing).body


def same(wanted: Any, current: Any) -> bool:  # noqa: PLR0911 - one return per kind of value
    """Does the existing value already hold everything the input asks for?

    Objects compare on the keys the input gives (partial), lists item by item, numbers by
    exact decimal value (10 == 10.00), everything else by equality.
    """
    if isinstance(wanted, Mapping):
        if not isinstance(current, Mapping):
            return False
        return all(same(v, current.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(current, list) or len(wanted) != len(current):
            return False
        return all(same(w, c) for w, c in zip(wanted, current, strict=True))
    if isinstance(wanted, bool) or isinstance(current, bool):
        return wanted is current
    if isinstance(wanted, int | float | Decimal) and isinstance(current, int | float | Decimal):
        try:
            return Decimal(str(wanted)) == Decimal(str(current))
        except InvalidOperation:
            return False
    return bool(wanted == current)


def _with_line_totals(shape: WriteShape, current: dict[str, Any]) -> dict[str, Any]:
    """An invoice's lines are read with price and quantity, and may be written with their
    `amount` (total): each current line also shows its amount, so an input line given as
    {amount, quantity} compares with what BILL holds (only for the comparison)."""
    lines = current.get(shape.line_items or "")
    if shape.stream != "invoices" or not isinstance(lines, list):
        return current
    shown = []
    for line in lines:
        total = line_total(line) if isinstance(line, Mapping) and "amount" not in line else None
        shown.append(line if total is None else {**line, "amount": total})
    return {**current, shape.line_items or "": shown}


@dataclass(frozen=True)
class Change:
    """How to bring an existing object to the input: PATCH changed fields, or PUT it whole."""

    method: str
    body: dict[str, Any]
    fields: tuple[str, ...]


def diff(stream: str, body: Mapping[str, Any], existing: Mapping[str, Any]) -> Change | None:
    """None when nothing changed; else the smallest call that applies the input."""
    shape = SHAPES[stream]
    current = write_view(stream, existing)
    if stream == "vendors" and isinstance(body.get("paymentInformation"), Mapping):
        # A vendor's bank account is not changed by PATCH (BILL: delete and create it via
        # /vendors/{id}/bank-account); leave it out of the comparison.
        body = {
            **body,
            "paymentInformation": {
                k: v for k, v in body["paymentInformation"].items() if k != "bankAccount"
            },
        }
    if shape.line_items and isinstance(body.get(shape.line_items), list):
        # Lines keep their id only if it is one of this object's lines (ids from another
        # organization or object mean new lines), so a re-run compares like with like.
        own = {line.get("id") for line in current.get(shape.line_items) or []}
        body = {
            **body,
            shape.line_items: [
                line if line.get("id") in own else {k: v for k, v in line.items() if k != "id"}
                for line in body[shape.line_items]
            ],
        }
    compared = _with_line_totals(shape, current)
    changed = tuple(sorted(k for k, v in body.items() if not same(v, compared.get(k))))
    if not changed:
        return None
    if shape.line_items and shape.line_items in changed:
        # PATCH keeps line items by id; replacing them is PUT, which takes the whole object
        # (https://developer.bill.com/reference/replacebill). Lines without an id are new.
        return Change("PUT", {**current, **body}, changed)
    return Change("PATCH", {k: body[k] for k in changed}, changed)


#: Codes of a write BILL accepted but stored differently from the input (target-billcom's own).
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
LINES_MISMATCH = "LINES_MISMATCH"


def written_mismatch(stream: str, body: Mapping[str, Any], answer: Any) -> tuple[str, str] | None:
    """(code, message) when BILL's answer to a create or update does not hold what the input
    asked for: another number of lines, or another total (a bill's `amount`, an invoice's
    `totalAmount` less sales tax) than the input's lines add up to. None when it does, or
    when the input gives no lines."""
    shape = SHAPES[stream]
    lines = body.get(shape.line_items or "")
    if not shape.line_items or not isinstance(lines, list) or not isinstance(answer, Mapping):
        return None
    stored = answer.get(shape.line_items)
    if isinstance(stored, list) and len(stored) != len(lines):
        return LINES_MISMATCH, (
            f"BILL stored {len(stored)} line(s) for the {len(lines)} sent; the object is in "
            "BILL as stored: check it there"
        )
    name = "amount" if stream == "bills" else "totalAmount"
    total = answer.get(name)
    if total is None or isinstance(total, bool):
        return None
    held = Decimal(str(total)) - Decimal(str(answer.get("salesTaxTotal") or 0))
    totals = [line_total(line) if isinstance(line, Mapping) else None for line in lines]
    wanted = sum((t for t in totals if t is not None), Decimal(0))
    if held == wanted:
        return None
    return AMOUNT_MISMATCH, (
        f"BILL stored {name} {held} but the lines sent add up to {wanted}; the object is in "
        "BILL as stored: check its lines there (a field BILL ignored?)"
    )
