"""Creating and changing vendors, customers, bills and invoices (no HTTP here).

Requests come in BILL's WRITE shape (`bill_core.writes.SHAPES`): a bill's number is in
`invoice.invoiceNumber`, an invoice names its customer as `customer: {"id": ...}`. Records are
stored in the READ shape, with every field a seeded record has that follows from the request:
ids, timestamps, `vendorName`, `customerId`, amounts and statuses.

Checks come first and nothing is stored unless every body passes, so a bulk create is
all-or-nothing as BILL documents (https://developer.bill.com/reference/createbulkvendor,
/reference/createbulkbills). Money is summed in Decimal and rounded to cents.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bill_core.writes import SHAPES, Problem, WriteShape, get_path
from bill_emulator.errors import InvalidRequestError
from bill_emulator.models import Organization
from bill_emulator.store import Record
from bill_emulator.write_checks import MALFORMED, Checker

#: The streams BILL lets target-billcom write.
WRITABLE_STREAMS = tuple(SHAPES)
#: Accepted in a write, never part of the read shape: stored nowhere.
WRITE_ONLY = frozenset({"processingOptions", "customer"})
_CENT = Decimal("0.01")
_ZERO = Decimal(0)
#: Numbers from 10**18 up are left unrounded: absurd for money, but valid JSON numbers.
_HUGE = 18


# -- operations ----------------------------------------------------------------------------


def create(organization: Organization, stream: str, body: Mapping[str, Any]) -> Record:
    """`POST <path>`: check the body, store the new object, return it (read shape)."""
    return create_many(organization, stream, [body], bulk=False)[0]


def create_many(
    organization: Organization, stream: str, bodies: Sequence[Any], *, bulk: bool = True
) -> list[Record]:
    """`POST <path>/bulk`: all or nothing. A refused request raises InvalidRequestError with
    one error per problem, prefixed with the item's position:
    `[3] invoice.invoiceNumber: is required` (assumption: BILL's docs say only that the whole
    request fails; positions count from 0 like the `billLineItems[0]` in field names)."""
    shape = SHAPES[stream]
    with organization.lock:
        checker = Checker(organization, shape)
        errors: list[tuple[str, str]] = []
        for index, body in enumerate(bodies):
            if not isinstance(body, Mapping):
                errors.append((MALFORMED, f"[{index}] must be a JSON object"))
                continue
            prefix = f"[{index}] " if bulk else ""
            errors.extend((p.code, f"{prefix}{p}") for p in checker.create(body))
        if errors:
            raise InvalidRequestError(errors)
        return [_insert(organization, shape, body) for body in bodies]


def update(
    organization: Organization, stream: str, record_id: str, body: Mapping[str, Any]
) -> Record:
    """`PATCH <path>/{id}`: change the given writable fields.

    Nested objects are merged (a `null` removes a field), as JSON merge patch does
    (assumption: BILL documents PATCH only as a partial update). A line item naming an `id`
    updates that line; one without an id is added (assumption); lines not mentioned stay.
    A vendor's bank account is not changed by PATCH (https://developer.bill.com/docs/ap-vendors:
    use the vendor bank account endpoints), so `paymentInformation.bankAccount` is ignored.
    """
    shape = SHAPES[stream]
    with organization.lock:
        current = organization.get(stream, record_id)
        patched = _patch_lines(shape, current, body)
        effective = dict(body)
        record = copy.deepcopy(current)
        for name, value in body.items():
            if name == shape.line_items and patched is not None:
                record[name], effective[name] = patched.lines, patched.effective
            elif name == "paymentInformation" and isinstance(value, Mapping):
                kept = {k: v for k, v in value.items() if k != "bankAccount"}
                record[name] = _merge(record.get(name), kept)
            elif value is None:
                record.pop(name, None)
            else:
                record[name] = _merge(record.get(name), value)
        _from_write_shape(shape, record, body)
        checker = Checker(organization, shape)
        _refuse(checker.update(body, effective, current, write_view(shape, record)))
        for line, given in patched.changed if patched is not None else ():
            _line_amount(shape, line, given)
        _derive(organization, shape, record)
        return organization.replace(stream, record_id, record)


def replace(
    organization: Organization, stream: str, record_id: str, body: Mapping[str, Any]
) -> Record:
    """`PUT <path>/{id}`: the body replaces every writable field (required ones as for
    create). Lines keep the ids they name, lines without an id are new, lines left out are
    removed (https://developer.bill.com/reference/replacebill). An invoice PUT without
    `invoiceNumber`, `invoiceDate` or `dueDate` keeps the current ones (assumption)."""
    shape = SHAPES[stream]
    with organization.lock:
        current = organization.get(stream, record_id)
        _refuse(Checker(organization, shape).replace(body, current))
        record = {k: copy.deepcopy(v) for k, v in current.items() if k not in shape.writable}
        for name in ("invoiceNumber", "invoiceDate", "dueDate"):
            if stream == "invoices" and body.get(name) is None and name in current:
                record[name] = current[name]
        record.update(_write_fields(shape, body, keep_line_ids=True))
        _from_write_shape(shape, record, body)
        _derive(organization, shape, record)
        return organization.replace(stream, record_id, record)


def archive(organization: Organization, stream: str, record_id: str) -> Record:
    """`POST <path>/{id}/archive`: idempotent (archiving an archived object changes nothing,
    not even updatedTime; bill-api.md §4); otherwise updatedTime moves."""
    return organization.archive(stream, record_id)


def restore(organization: Organization, stream: str, record_id: str) -> Record:
    """`POST <path>/{id}/restore`: idempotent like archive."""
    return organization.restore(stream, record_id)


def write_view(shape: WriteShape, record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the write body that would recreate it."""
    view = {k: v for k, v in record.items() if k in shape.writable}
    if shape.stream == "invoices":
        view["customer"] = {"id": record.get("customerId")}
    return view


# -- building records ----------------------------------------------------------------------


def _insert(organization: Organization, shape: WriteShape, body: Mapping[str, Any]) -> Record:
    record = _write_fields(shape, body, keep_line_ids=False)
    _from_write_shape(shape, record, body)
    _defaults(organization, shape.stream, record)
    _derive(organization, shape, record)
    created = organization.create(shape.stream, record)
    account = get_path(created, "paymentInformation.bankAccount")
    if shape.stream == "vendors" and isinstance(account, Mapping):
        # The vendor's bank account is also its `/bank-account` record, as in seeded data.
        # New accounts wait for verification (bill-api.md §4: two business days).
        organization.create(
            "vendor_bank_accounts", {**account, "vendorId": created["id"], "status": "PENDING"}
        )
    return created


def _write_fields(
    shape: WriteShape, body: Mapping[str, Any], *, keep_line_ids: bool
) -> dict[str, Any]:
    """The body's fields as stored: write-only ones and nulls left out (BILL's answers omit
    unpopulated fields, bill-api.md §5.2); on create, line ids are dropped (every line of a
    new object is new: assumption)."""
    record = {k: copy.deepcopy(v) for k, v in body.items() if k not in WRITE_ONLY and v is not None}
    lines = record.get(shape.line_items or "")
    if isinstance(lines, list):
        for line in lines:
            if not keep_line_ids:
                line.pop("id", None)
            _line_amount(shape, line, line)
    return record


def _from_write_shape(shape: WriteShape, record: dict[str, Any], body: Mapping[str, Any]) -> None:
    customer = body.get("customer")
    if shape.stream == "invoices" and isinstance(customer, Mapping) and "id" in customer:
        record["customerId"] = customer["id"]
    for name in WRITE_ONLY:
        record.pop(name, None)


def _defaults(organization: Organization, stream: str, record: dict[str, Any]) -> None:
    """Fields a new object gets from BILL rather than from the request."""
    if stream == "vendors":
        has_bank = isinstance(get_path(record, "paymentInformation.bankAccount"), Mapping)
        record["balance"] = {"amount": 0.0}
        record["bankAccountStatus"] = "NO_NET_LINKED_ACCOUNT" if has_bank else "NO_ACCOUNT"
        record["networkStatus"] = "NOT_CONNECTED"
        record["recurringPayments"] = False
    elif stream == "customers":
        record["balance"] = {"amount": 0.0}
        record["authorizedToCharge"] = False
    elif stream == "bills":
        record.update(paidAmount=0.0, creditAmount=0.0, scheduledAmount=0.0, exchangeRate=1.0)
        # No approval policy applies to a new bill (bill-api.md §5.5 samples).
        record["approvalStatus"] = "UNASSIGNED"
    elif stream == "invoices":
        # invoiceNumber is generated and both dates default to today when absent
        # (https://developer.bill.com/hc/docs/createinvoice).
        today = organization.today()
        record.setdefault("invoiceDate", today)
        record.setdefault("dueDate", today)
        record.setdefault("invoiceNumber", _next_invoice_number(organization))
        record.update(creditAmount=0.0, scheduledAmount=0.0, exchangeRate=1.0, payments=[])
        record.update(salesTaxTotal=0.0, salesTaxPercentage=0.0)


def _derive(organization: Organization, shape: WriteShape, record: dict[str, Any]) -> None:
    """Fields that follow from others: names of referenced objects, amounts, statuses."""
    if shape.stream == "bills":
        vendor = organization.find("vendors", str(record.get("vendorId")))
        if vendor is not None:
            record["vendorName"] = vendor.get("name")
        amount = _sum(_decimal(line.get("amount")) for line in _lines(record, shape))
        paid = _decimal(record.get("paidAmount"))
        credit = _decimal(record.get("creditAmount"))
        due = max(amount - paid - credit, _ZERO)
        status = "UNPAID"
        if amount > 0 and due == 0:
            status = "PAID"
        elif paid > 0:
            status = "PARTIALLY_PAID"
        elif _decimal(record.get("scheduledAmount")) > 0:
            status = "SCHEDULED"
        record.update(
            amount=_json(amount),
            fundingAmount=_json(amount),
            dueAmount=_json(due),
            paymentStatus=status,
        )
    elif shape.stream == "invoices":
        total = _sum(
            _cents(_decimal(line.get("price")) * _decimal(line.get("quantity")))
            for line in _lines(record, shape)
        )
        paid = _sum(
            _decimal(payment.get("amount"))
            for payment in record.get("payments") or []
            if isinstance(payment, Mapping) and payment.get("status") == "PAID"
        )
        due = max(total - paid - _decimal(record.get("creditAmount")), _ZERO)
        status = "OPEN"
        if total > 0 and due == 0:
            status = "PAID"
        elif paid > 0:
            status = "PARTIAL_PAYMENT"
        record.update(totalAmount=_json(total), dueAmount=_json(due), status=status)


def _line_amount(shape: WriteShape, line: dict[str, Any], given: Mapping[str, Any]) -> None:
    """A bill line's `amount`: the given amount, else price * quantity (quantity 1 when left
    out). A line given only an amount is one unit at that price, as seeded lines are.
    `given` is what the request said about the line (for a PATCH, only the changes)."""
    for name in ("amount", "price", "quantity"):
        if isinstance(line.get(name), str):  # "12.50": the checks accept numbers as text
            line[name] = _number(line[name])
    if shape.stream != "bills":
        # An invoice line is read with price and quantity only (bill-api.md §5.6), but
        # written with `amount` too ("Replace an invoice" in BILL's Postman collection):
        # the line's total, so price = amount / quantity (assumption: the docs show no answer).
        amount = line.pop("amount", None)
        if amount is not None and given.get("price") is None:
            quantity = _decimal(line.get("quantity")) or Decimal(1)
            line["price"] = float(_decimal(amount) / quantity)
        return
    if given.get("amount") is not None:
        if given.get("price") is None and given.get("quantity") is None:
            line["quantity"], line["price"] = 1, line["amount"]
    elif given.get("price") is not None or given.get("quantity") is not None:
        line.setdefault("quantity", 1)
        if line.get("price") is not None:
            line["amount"] = _json(_cents(_decimal(line["price"]) * _decimal(line["quantity"])))


@dataclass
class _PatchedLines:
    #: The object's lines after the patch.
    lines: list[dict[str, Any]]
    #: The patch's lines, each merged into the line it names (what the checks look at).
    effective: list[Any]
    #: (line after the patch, what the patch said about it), for the amounts.
    changed: list[tuple[dict[str, Any], Mapping[str, Any]]]


def _patch_lines(
    shape: WriteShape, current: Record, body: Mapping[str, Any]
) -> _PatchedLines | None:
    """The line items after a PATCH, or None when it sends no line list."""
    field = shape.line_items
    patch = body.get(field) if field else None
    if field is None or not isinstance(patch, list):
        return None
    result = _PatchedLines(copy.deepcopy(_lines(current, shape)), [], [])
    position = {line.get("id"): index for index, line in enumerate(result.lines)}
    for given in patch:
        if not isinstance(given, Mapping):
            result.effective.append(given)
            continue
        line_id = given.get("id")
        index = position.get(line_id) if isinstance(line_id, str) else None
        if index is None:  # a new line (an unknown id is refused by the checks)
            line = {k: copy.deepcopy(v) for k, v in given.items() if k != "id"}
            result.lines.append(line)
            result.effective.append(given)
        else:
            line = _merge(result.lines[index], given)
            result.lines[index] = line
            result.effective.append(line)
        result.changed.append((line, given))
    return result


# -- small helpers -------------------------------------------------------------------------


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise InvalidRequestError([(p.code, str(p)) for p in problems])


def _merge(old: Any, new: Any) -> Any:
    """JSON merge patch: objects merge key by key, `null` removes, anything else replaces."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return copy.deepcopy(new)
    merged = dict(old)
    for key, value in new.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(old.get(key), value)
    return merged


def _next_invoice_number(organization: Organization) -> str:
    taken = {str(r.get("invoiceNumber")) for r in organization.list("invoices")}
    number = len(taken) + 1
    while f"INV-{number:06d}" in taken:
        number += 1
    return f"INV-{number:06d}"


def _lines(record: Mapping[str, Any], shape: WriteShape) -> list[dict[str, Any]]:
    lines = record.get(shape.line_items or "")
    return [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []


def _decimal(value: Any) -> Decimal:
    """A JSON number as an exact decimal (its shortest text), 0 when absent."""
    if value is None or isinstance(value, bool):
        return _ZERO
    return Decimal(str(value))


def _number(text: str) -> int | float:
    value = Decimal(text.strip())
    return int(value) if value == value.to_integral_value() and "." not in text else float(value)


def _cents(value: Decimal) -> Decimal:
    if value.adjusted() >= _HUGE:
        return value  # cents do not matter here (and would not fit Decimal's precision)
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _sum(values: Any) -> Decimal:
    return _cents(sum(values, _ZERO))


def _json(value: Decimal) -> float:
    """Money as BILL's JSON number: cents are exact, and the float's shortest text is the
    decimal itself (see formats.money)."""
    return float(_cents(value))
