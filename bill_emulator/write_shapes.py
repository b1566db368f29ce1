"""What BILL accepts when vendors, customers, bills and invoices are written: the emulator's
own reading of BILL's documentation (nothing here comes from the connectors).

Sources: the request bodies of BILL's Postman collection (reference/bill-v3/: "Create a
vendor", "Create a bill", "Replace an invoice", ...), https://developer.bill.com/docs/ap-vendors,
https://developer.bill.com/docs/ap-bills, https://developer.bill.com/docs/ar-customers,
https://developer.bill.com/docs/ar-invoices, https://developer.bill.com/hc/docs/createinvoice.
Limits BILL does not publish (text lengths, cents) are our assumptions, marked as such and
listed in bill_emulator/README.md.

`validate` checks one body on its own; `write_checks` adds what needs the organization.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

#: BILL's codes for missing data and invalid values (https://developersupport.bill.com/hc/
#: en-us/articles/208762056); which check answers which code is not documented.
MISSING = "BDC_1117"
INVALID = "BDC_1119"
#: A body whose JSON does not parse or has the wrong form.
MALFORMED = "BDC_1122"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Money has at most 2 decimals (assumption: BILL keeps cents).
CENTS = 2
#: Line descriptions and bill/customer descriptions (assumption: BILL publishes no limit).
LONG_TEXT = 4000


@dataclass(frozen=True)
class Problem:
    """One reason a body cannot be written, naming the field."""

    field: str
    message: str
    code: str = INVALID

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class WriteShape:
    stream: str
    #: Top-level fields a write may send.
    writable: frozenset[str]
    #: Dotted fields a create (and a PUT) must send.
    required: tuple[str, ...] = ()
    #: Top-level fields that are JSON objects.
    objects: frozenset[str] = frozenset()
    line_items: str | None = None
    line_writable: frozenset[str] = frozenset()
    #: What each line must have: `amount` (or `price`), `quantity`.
    line_required: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    #: Dotted field -> the stream its id belongs to.
    references: Mapping[str, str] = field(default_factory=dict)


_CLASSIFICATIONS = "classifications"
_ADDRESS = "address"

SHAPES: Mapping[str, WriteShape] = {
    # "Create a vendor" / "Update a vendor" in the Postman collection; ap-vendors.
    "vendors": WriteShape(
        stream="vendors",
        writable=frozenset(
            {"name", "shortName", "accountNumber", "accountType", "email", "phone", _ADDRESS}
            | {"paymentInformation", "additionalInfo", "billCurrency"}
        ),
        required=("name",),
        objects=frozenset({_ADDRESS, "paymentInformation", "additionalInfo"}),
        # Assumed limits: BILL publishes none for vendors.
        max_lengths={"name": 100, "shortName": 30, "email": 255},
    ),
    # "Create a customer"; https://developer.bill.com/docs/ar-customers: name and email.
    "customers": WriteShape(
        stream="customers",
        writable=frozenset(
            {"name", "companyName", "contact", "email", "phone", "fax", "description"}
            | {"invoiceCurrency", "accountType", "paymentTermId", "accountNumber"}
            | {"billingAddress", "shippingAddress"}
        ),
        required=("name", "email"),
        objects=frozenset({"contact", "billingAddress", "shippingAddress"}),
        max_lengths={"name": 100, "companyName": 100, "email": 255, "description": LONG_TEXT},
        references={"paymentTermId": "payment_terms"},
    ),
    # https://developer.bill.com/docs/ap-bills: vendorId, dueDate, invoice{invoiceNumber,
    # invoiceDate} and lines (each `amount`, or `quantity` and `price`) are required.
    "bills": WriteShape(
        stream="bills",
        writable=frozenset(
            {"vendorId", "dueDate", "invoice", "billLineItems", "description"}
            | {"payFromChartOfAccountId", _CLASSIFICATIONS, "purchaseOrderNumber"}
        ),
        required=("vendorId", "dueDate", "invoice.invoiceNumber", "invoice.invoiceDate"),
        objects=frozenset({"invoice"}),
        line_items="billLineItems",
        line_writable=frozenset({"id", "amount", "quantity", "price", "description"})
        | {_CLASSIFICATIONS},
        line_required=("amount",),
        dates=("dueDate", "invoice.invoiceDate"),
        max_lengths={"invoice.invoiceNumber": 100, "description": LONG_TEXT},
        references={"vendorId": "vendors", "payFromChartOfAccountId": "chart_of_accounts"},
    ),
    # https://developer.bill.com/hc/docs/createinvoice: `customer` ({id}) and lines with a
    # quantity; invoiceNumber (at most 100 characters) and the dates are optional. A line
    # may give `amount` instead of `price` (BILL's "Replace an invoice" example).
    "invoices": WriteShape(
        stream="invoices",
        writable=frozenset(
            {"customer", "invoiceNumber", "invoiceDate", "dueDate", "invoiceLineItems"}
            | {"payToChartOfAccountId", _CLASSIFICATIONS, "salesTaxItemId", "processingOptions"}
        ),
        required=("customer.id",),
        objects=frozenset({"processingOptions"}),
        line_items="invoiceLineItems",
        line_writable=frozenset({"id", "quantity", "price", "amount", "description"})
        | {_CLASSIFICATIONS},
        line_required=("quantity",),
        dates=("invoiceDate", "dueDate"),
        max_lengths={"invoiceNumber": 100},
        references={
            "customer.id": "customers",
            "payToChartOfAccountId": "chart_of_accounts",
            "salesTaxItemId": "items",
        },
    ),
}

#: `classifications` fields (top level and lines) and the streams their ids belong to
#: (the read shapes of bills and invoices in the Postman collection).
CLASSIFICATION_REFERENCES: Mapping[str, str] = {
    "chartOfAccountId": "chart_of_accounts",
    "accountingClassId": "accounting_classes",
    "departmentId": "departments",
    "employeeId": "employees",
    "itemId": "items",
    "jobId": "jobs",
    "locationId": "locations",
    "customerId": "customers",
}


def get_path(body: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path, or None."""
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def validate(shape: WriteShape, body: Mapping[str, Any], *, partial: bool = False) -> list[Problem]:
    """Problems of a create/PUT body (or, `partial`, a PATCH body) on its own; empty if none."""
    problems: list[Problem] = [*_text_problems(body, "")]
    for name in sorted(shape.objects):
        value = body.get(name)
        if value is not None and not isinstance(value, Mapping):
            problems.append(Problem(name, f"must be an object, not {type(value).__name__}"))
    if not partial:
        for path in shape.required:
            if _empty(get_path(body, path)):
                problems.append(Problem(path, "is required", MISSING))
    for path in shape.dates:
        problems.extend(_date(path, get_path(body, path)))
    for path, limit in shape.max_lengths.items():
        value = get_path(body, path)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(path, f"must be text, not {type(value).__name__}"))
        elif isinstance(value, str) and len(value) > limit:
            problems.append(Problem(path, f"is {len(value)} characters long (at most {limit})"))
    for name in ("name", "email", "invoiceNumber", "description"):
        value = body.get(name)
        if value is not None and name in shape.writable and not isinstance(value, str):
            problems.append(Problem(name, f"must be text, not {type(value).__name__}"))
    if shape.line_items:
        problems.extend(_lines(shape, body.get(shape.line_items), partial=partial))
    return list(dict.fromkeys(problems))  # one line per problem (two checks may agree)


def _lines(shape: WriteShape, lines: Any, *, partial: bool) -> Iterator[Problem]:
    name = shape.line_items or ""
    if lines is None:
        if not partial:
            yield Problem(name, "at least one line item is required", MISSING)
        return
    if not isinstance(lines, list) or not lines:
        yield Problem(name, "must be a non-empty list of line items")
        return
    for index, line in enumerate(lines):
        where = f"{name}[{index}]"
        if not isinstance(line, Mapping):
            yield Problem(where, "must be an object")
            continue
        for required in shape.line_required:
            # A bill line takes `amount`, or `quantity` and `price` (ap-bills).
            if line.get(required) is None and not (
                required == "amount" and line.get("price") is not None
            ):
                yield Problem(f"{where}.{required}", "is required", MISSING)
        for money in ("amount", "price"):
            if money in shape.line_writable:
                yield from _amount(f"{where}.{money}", line.get(money))
        if "quantity" in shape.line_writable:
            yield from _amount(f"{where}.quantity", line.get("quantity"), quantity=True)
        description = line.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > LONG_TEXT
        ):
            yield Problem(f"{where}.description", f"must be text of at most {LONG_TEXT} characters")


def decimal(value: Any) -> Decimal | None:
    """A JSON number (or numeric text) as an exact Decimal; None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _amount(path: str, value: Any, *, quantity: bool = False) -> Iterator[Problem]:
    if value is None:
        return
    number = decimal(value)
    if number is None:
        yield Problem(path, f"{value!r} is not a number")
    elif number <= 0:
        yield Problem(path, f"{value} must be greater than 0")
    elif not quantity and -number.as_tuple().exponent > CENTS:  # type: ignore[operator]
        yield Problem(path, f"{value} has more than {CENTS} decimals")


def _date(path: str, value: Any) -> Iterator[Problem]:
    if value is None:
        return
    if not isinstance(value, str) or not _DATE.match(value):
        yield Problem(path, f"{value!r} is not a date like 2026-12-31")
        return
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        yield Problem(path, f"{value!r} is not a valid calendar date")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_problems(value: Any, path: str) -> Iterator[Problem]:
    """Text that is not valid Unicode (a lone surrogate from a `\\ud800` escape) cannot be
    stored or answered: named by field, never echoed."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            yield Problem(
                path, f"is not valid Unicode text (a lone surrogate at character {error.start + 1})"
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _text_problems(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _text_problems(item, f"{path}[{index}]")
