"""Creating and changing vendors, customers, bills and invoices (no HTTP here).

Requests come in BILL's WRITE shape (`write_shapes.SHAPES`): a bill's number is in
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
from typing import Any

from bill_emulator import amounts, words
from bill_emulator.errors import InvalidRequestError
from bill_emulator.models import Organization
from bill_emulator.store import Record
from bill_emulator.write_checks import Checker
from bill_emulator.write_shapes import MALFORMED, SHAPES, Problem, WriteShape, get_path

#: The streams BILL lets target-billcom write.
WRITABLE_STREAMS = tuple(SHAPES)
#: Accepted in a write, never part of the read shape: stored nowhere.
WRITE_ONLY = frozenset({"processingOptions", "customer"})
#: Written addresses (vendors, customers).
ADDRESSES = ("address", "billingAddress", "shippingAddress")


# -- operations ----------------------------------------------------------------------------


def create(
    organization: Organization,
    stream: str,
    body: Mapping[str, Any],
    *,
    unique_vendor_names: bool = False,
) -> Record:
    """`POST <path>`: check the body, store the new object, return it (read shape).
    `unique_vendor_names`: EmulatorConfig.refuse_duplicate_vendor_names."""
    return create_many(
        organization, stream, [body], bulk=False, unique_vendor_names=unique_vendor_names
    )[0]


def create_many(
    organization: Organization,
    stream: str,
    bodies: Sequence[Any],
    *,
    bulk: bool = True,
    unique_vendor_names: bool = False,
) -> list[Record]:
    """`POST <path>/bulk`: all or nothing. A refused request raises InvalidRequestError with
    one error per problem, prefixed with the item's position:
    `[3] invoice.invoiceNumber: is required` (assumption: BILL's docs say only that the whole
    request fails; positions count from 0 like the `billLineItems[0]` in field names)."""
    shape = SHAPES[stream]
    with organization.lock:
        checker = Checker(organization, shape, unique_vendor_names=unique_vendor_names)
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
    organization: Organization,
    stream: str,
    record_id: str,
    body: Mapping[str, Any],
    *,
    unique_vendor_names: bool = False,
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
        checker = Checker(organization, shape, unique_vendor_names=unique_vendor_names)
        _refuse(checker.update(body, effective, current, write_view(shape, record)))
        for line, given in patched.changed if patched is not None else ():
            amounts.line_amount(shape.stream, line, given)
        _derive(organization, shape, record)
        return organization.replace(stream, record_id, record)


def replace(
    organization: Organization,
    stream: str,
    record_id: str,
    body: Mapping[str, Any],
    *,
    unique_vendor_names: bool = False,
) -> Record:
    """`PUT <path>/{id}`: the body replaces every writable field (required ones as for
    create). Lines keep the ids they name, lines without an id are new, lines left out are
    removed (https://developer.bill.com/reference/replacebill). An invoice PUT without
    `invoiceNumber`, `invoiceDate` or `dueDate` keeps the current ones (assumption)."""
    shape = SHAPES[stream]
    with organization.lock:
        current = organization.get(stream, record_id)
        checker = Checker(organization, shape, unique_vendor_names=unique_vendor_names)
        _refuse(checker.replace(body, current))
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
    not even updatedTime: "There is no change when you archive an archived ..." in BILL's
    archive operations, https://developer.bill.com/reference/archivecustomercontact);
    otherwise updatedTime moves."""
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
        # New accounts wait for verification ("BILL requires 2 business days to complete a
        # one-time verification", BILL's "Create a vendor" request in the Postman collection).
        organization.create(
            "vendor_bank_accounts", {**account, "vendorId": created["id"], "status": "PENDING"}
        )
    return created


def _write_fields(
    shape: WriteShape, body: Mapping[str, Any], *, keep_line_ids: bool
) -> dict[str, Any]:
    """The body's fields as stored: write-only ones and nulls left out (BILL's answers omit
    unpopulated fields: reported from live tests by a third-party integration, unverified);
    on create, line ids are dropped (every line of a new object is new: assumption)."""
    record = {k: copy.deepcopy(v) for k, v in body.items() if k not in WRITE_ONLY and v is not None}
    lines = record.get(shape.line_items or "")
    if isinstance(lines, list):
        for line in lines:
            if not keep_line_ids:
                line.pop("id", None)
            amounts.line_amount(shape.stream, line, line)
    return record


def _from_write_shape(shape: WriteShape, record: dict[str, Any], body: Mapping[str, Any]) -> None:
    customer = body.get("customer")
    if shape.stream == "invoices" and isinstance(customer, Mapping) and "id" in customer:
        record["customerId"] = customer["id"]
    for name in WRITE_ONLY:
        record.pop(name, None)
    for name in ADDRESSES:
        address = record.get(name)
        if isinstance(address, dict) and "countryName" not in address:
            # BILL's answers name the country of a written code (its "Create a vendor"
            # example sends `country`, answers show `countryName` too); the emulator knows
            # the countries of its seeded addresses.
            country_name = words.COUNTRY_NAMES.get(str(address.get("country")))
            if country_name is not None:
                record[name] = {**address, "countryName": country_name}


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
        # No approval policy applies to a new bill (assumption; BILL's samples show
        # UNASSIGNED among the approval statuses).
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
        amount = amounts.total(
            amounts.decimal(line.get("amount")) for line in _lines(record, shape)
        )
        paid = amounts.decimal(record.get("paidAmount"))
        credit = amounts.decimal(record.get("creditAmount"))
        due = max(amount - paid - credit, amounts.ZERO)
        status = "UNPAID"
        if amount > 0 and due == 0:
            status = "PAID"
        elif paid > 0:
            status = "PARTIALLY_PAID"
        elif amounts.decimal(record.get("scheduledAmount")) > 0:
            status = "SCHEDULED"
        record.update(
            amount=amounts.as_json(amount),
            fundingAmount=amounts.as_json(amount),
            dueAmount=amounts.as_json(due),
            paymentStatus=status,
        )
    elif shape.stream == "invoices":
        total = amounts.total(
            amounts.cents(
                amounts.decimal(line.get("price")) * amounts.decimal(line.get("quantity"))
            )
            for line in _lines(record, shape)
        )
        paid = amounts.total(
            amounts.decimal(payment.get("amount"))
            for payment in record.get("payments") or []
            if isinstance(payment, Mapping) and payment.get("status") == "PAID"
        )
        due = max(total - paid - amounts.decimal(record.get("creditAmount")), amounts.ZERO)
        status = "OPEN"
        if total > 0 and due == 0:
            status = "PAID"
        elif paid > 0:
            status = "PARTIAL_PAYMENT"
        record.update(
            totalAmount=amounts.as_json(total), dueAmount=amounts.as_json(due), status=status
        )


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
