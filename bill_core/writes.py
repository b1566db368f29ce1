"""Write shapes of the BILL objects target-billcom creates and updates, and their validation.

Written once, used twice: the emulator validates requests with these rules (as BILL would),
and target-billcom checks each record against them before any call, so a bad record gets its
own clear error without costing a request or failing a whole all-or-nothing bulk call.

Sources: request bodies of the official v3 Postman collection ("Create a vendor", "Create a
bill", "Create an invoice", ...), https://developer.bill.com/docs/ap-bills,
https://developer.bill.com/docs/ar-invoices, https://developer.bill.com/docs/ar-customers.
Limits BILL does not publish (string lengths, amount precision) are our assumptions, marked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

#: BILL's codes for validation failures (developersupport.bill.com error list): missing data,
#: invalid field value. Which code BILL uses for which validation is not documented.
MISSING = "BDC_1117"
INVALID = "BDC_1119"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Money has at most 2 decimals (assumption: BILL stores cents for USD amounts).
MONEY_DECIMALS = 2
_CENT = Decimal(1).scaleb(-MONEY_DECIMALS)
#: Amounts and quantities below 10**13 (assumption: BILL publishes no limit; 1e400 is valid
#: JSON, and no bill or invoice line is ten trillion).
MAX_DIGITS = 13
#: Above this many digits a quantize to cents exceeds Decimal's default precision.
_HUGE_DIGITS = 24


@dataclass(frozen=True)
class Problem:
    """One reason a record cannot be written, naming the field."""

    field: str
    message: str
    code: str = INVALID

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class WriteShape:
    """What BILL accepts when creating or updating one object type."""

    stream: str
    #: Top-level fields accepted on create/update (everything else in a read is read-only).
    writable: frozenset[str]
    #: Dotted paths that must be present on create.
    required: tuple[str, ...]
    #: Natural key used to match records to existing objects when no valid id is given.
    default_match_key: tuple[str, ...]
    #: The line-item array, and what each line needs.
    line_items: str | None = None
    line_required: tuple[str, ...] = ()
    line_writable: frozenset[str] = frozenset()
    #: Date-only fields (`yyyy-MM-dd`), dotted.
    dates: tuple[str, ...] = ()
    #: Money on each line (> 0, at most 2 decimals) and quantities (> 0).
    line_amounts: tuple[str, ...] = ()
    line_quantities: tuple[str, ...] = ()
    #: Longest accepted text per dotted field.
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    #: Dotted field -> stream it references.
    references: Mapping[str, str] = field(default_factory=dict)
    #: Writable keys inside nested objects whose read shape also holds read-only keys.
    nested_writable: Mapping[str, frozenset[str]] = field(default_factory=dict)


_ADDRESS_NOTE = "line1, line2, city, stateOrProvince, zipOrPostalCode, country"
_CLASSIFICATIONS = "classifications"

SHAPES: Mapping[str, WriteShape] = MappingProxyType(
    {
        "vendors": WriteShape(
            stream="vendors",
            writable=frozenset(
                {
                    "name",
                    "shortName",
                    "accountNumber",
                    "accountType",
                    "email",
                    "phone",
                    "address",
                    "paymentInformation",
                    "additionalInfo",
                    "billCurrency",
                }
            ),
            required=("name",),
            default_match_key=("name",),
            # Assumed limits (BILL publishes none for vendors).
            max_lengths=MappingProxyType({"name": 100, "shortName": 30, "email": 255}),
            # "Create a vendor" in the Postman collection; lastPaymentDate, virtualCard,
            # paymentTermId (an id of one organization) and the like are read-only here.
            nested_writable=MappingProxyType(
                {
                    "paymentInformation": frozenset({"payeeName", "email", "bankAccount"}),
                    "additionalInfo": frozenset(
                        {
                            "taxId",
                            "taxIdType",
                            "track1099",
                            "leadTimeInDays",
                            "combinePayments",
                            "companyName",
                            "paymentTermId",
                        }
                    ),
                }
            ),
            # A payment term is an id of one organization: translated like every reference.
            references=MappingProxyType({"additionalInfo.paymentTermId": "payment_terms"}),
        ),
        "customers": WriteShape(
            stream="customers",
            writable=frozenset(
                {
                    "name",
                    "companyName",
                    "contact",
                    "email",
                    "phone",
                    "fax",
                    "description",
                    "invoiceCurrency",
                    "accountType",
                    "paymentTermId",
                    "accountNumber",
                    "billingAddress",
                    "shippingAddress",
                }
            ),
            # https://developer.bill.com/docs/ar-customers: name and email are required.
            required=("name", "email"),
            default_match_key=("name",),
            max_lengths=MappingProxyType(
                {"name": 100, "companyName": 100, "email": 255, "description": 4000}
            ),
            references=MappingProxyType({"paymentTermId": "payment_terms"}),
        ),
        "bills": WriteShape(
            stream="bills",
            writable=frozenset(
                {
                    "vendorId",
                    "dueDate",
                    "invoice",
                    "billLineItems",
                    "description",
                    "payFromChartOfAccountId",
                    _CLASSIFICATIONS,
                    "purchaseOrderNumber",
                }
            ),
            # https://developer.bill.com/docs/ap-bills
            required=("vendorId", "dueDate", "invoice.invoiceNumber", "invoice.invoiceDate"),
            default_match_key=("vendorId", "invoice.invoiceNumber"),
            line_items="billLineItems",
            line_required=("amount",),
            line_writable=frozenset(
                {"id", "amount", "quantity", "price", "description", _CLASSIFICATIONS}
            ),
            dates=("dueDate", "invoice.invoiceDate"),
            # A line is "amount, or quantity and price" (https://developer.bill.com/docs/ap-bills):
            # each is checked when given, so a bad price fails alone, before a bulk call.
            line_amounts=("amount", "price"),
            line_quantities=("quantity",),
            max_lengths=MappingProxyType({"invoice.invoiceNumber": 100, "description": 4000}),
            references=MappingProxyType(
                {"vendorId": "vendors", "payFromChartOfAccountId": "chart_of_accounts"}
            ),
        ),
        "invoices": WriteShape(
            stream="invoices",
            writable=frozenset(
                {
                    "customer",
                    "invoiceNumber",
                    "invoiceDate",
                    "dueDate",
                    "invoiceLineItems",
                    "payToChartOfAccountId",
                    _CLASSIFICATIONS,
                    "salesTaxItemId",
                    "processingOptions",
                }
            ),
            # https://developer.bill.com/hc/docs/createinvoice: customer and line items
            # (each with a quantity); invoiceNumber is optional for BILL but it is our match
            # key, so the target requires it (see target_billcom).
            required=("customer.id",),
            default_match_key=("invoiceNumber",),
            line_items="invoiceLineItems",
            line_required=("quantity",),
            # `amount` is a line's total: BILL's own "Replace an invoice" example sends
            # {amount, quantity} (https://developer.bill.com/reference/replaceinvoice); its
            # answers carry price and quantity only.
            line_writable=frozenset(
                {"id", "amount", "quantity", "price", "description", _CLASSIFICATIONS}
            ),
            dates=("invoiceDate", "dueDate"),
            line_amounts=("price", "amount"),
            line_quantities=("quantity",),
            # https://developer.bill.com/hc/docs/createinvoice: invoiceNumber <= 100 characters.
            max_lengths=MappingProxyType({"invoiceNumber": 100}),
            references=MappingProxyType(
                {
                    "customer.id": "customers",
                    "payToChartOfAccountId": "chart_of_accounts",
                    "salesTaxItemId": "items",
                }
            ),
        ),
    }
)

#: Line-item classification fields and the streams they reference.
CLASSIFICATION_REFERENCES: Mapping[str, str] = MappingProxyType(
    {
        "chartOfAccountId": "chart_of_accounts",
        "accountingClassId": "accounting_classes",
        "departmentId": "departments",
        "employeeId": "employees",
        "itemId": "items",
        "jobId": "jobs",
        "locationId": "locations",
        "customerId": "customers",
    }
)


def get_path(body: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path, or None."""
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_date(path: str, value: Any) -> Iterator[Problem]:
    if value is None:
        return
    if not isinstance(value, str) or not _DATE.match(value):
        yield Problem(path, f"{value!r} is not a date like 2026-12-31")
        return
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        yield Problem(path, f"{value!r} is not a valid calendar date")


def _check_amount(path: str, value: Any, *, quantity: bool = False) -> Iterator[Problem]:
    if value is None:
        return
    number = _money(value)
    if number is None:
        yield Problem(path, f"{value!r} is not a number")
    elif number <= 0:
        yield Problem(path, f"{value} must be greater than 0")
    elif number.adjusted() >= MAX_DIGITS:
        yield Problem(path, f"is too large (more than {MAX_DIGITS} digits before the point)")
    elif not quantity and not exact_cents(number):
        # "12.500" (numeric(p,4), SQL Server money) is 12.50: only real fractions of a cent fail.
        yield Problem(path, f"{value} has more than {MONEY_DECIMALS} decimals")


def exact_cents(number: Decimal) -> bool:
    """Exact at 2 decimals (trailing zeros allowed: 12.500 is 12.50)."""
    return number.adjusted() >= _HUGE_DIGITS or number == number.quantize(_CENT)


def cents(number: Decimal) -> Decimal:
    """Rounded half-up to cents (numbers too large for cents are left as they are)."""
    if number.adjusted() >= _HUGE_DIGITS:
        return number
    return number.quantize(_CENT, rounding=ROUND_HALF_UP)


#: Top-level fields BILL reads as JSON objects (an address given as one line of text is
#: refused by BILL's JSON mapping, BDC_1122 "Cannot construct instance"). `classifications`
#: is checked with its references by the emulator and resolved by the target.
OBJECT_FIELDS = frozenset(
    {
        "address",
        "additionalInfo",
        "billingAddress",
        "contact",
        "invoice",
        "paymentInformation",
        "processingOptions",
        "shippingAddress",
    }
)


def _text_problems(value: Any, path: str) -> Iterator[Problem]:
    """Text that cannot be sent as UTF-8 (a lone surrogate, e.g. a UTF-16 pair cut in two by
    the source system): named by field, never echoed."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            yield Problem(
                path,
                f"is not valid Unicode text (a lone surrogate at character {error.start + 1})",
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _text_problems(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _text_problems(item, f"{path}[{index}]")


def _object_problems(shape: WriteShape, body: Mapping[str, Any]) -> Iterator[Problem]:
    for name in sorted(OBJECT_FIELDS & shape.writable):
        value = body.get(name)
        if value is not None and not isinstance(value, Mapping):
            yield Problem(name, f"must be an object, not {type(value).__name__}")


def validate(shape: WriteShape, body: Mapping[str, Any], *, partial: bool = False) -> list[Problem]:
    """Problems of a create (or, with partial=True, an update) body; empty when valid."""
    problems: list[Problem] = [*_text_problems(body, ""), *_object_problems(shape, body)]
    if not partial:
        for path in shape.required:
            if _empty(get_path(body, path)):
                problems.append(Problem(path, "is required", MISSING))
    for path in shape.dates:
        problems.extend(_check_date(path, get_path(body, path)))
    for path, limit in shape.max_lengths.items():
        value = get_path(body, path)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem(path, f"must be text, not {type(value).__name__}"))
        elif len(value) > limit:
            problems.append(Problem(path, f"is {len(value)} characters long (at most {limit})"))
    for path in ("name", "email", "invoiceNumber", "description"):
        value = body.get(path)
        if value is not None and path in shape.writable and not isinstance(value, str):
            problems.append(Problem(path, f"must be text, not {type(value).__name__}"))
    if shape.line_items:
        problems.extend(_validate_lines(shape, body.get(shape.line_items), partial=partial))
    if "paymentInformation" in shape.writable and isinstance(
        body.get("paymentInformation"), Mapping
    ):
        problems.extend(_bank_problems(body))
    return list(dict.fromkeys(problems))  # one line per problem (two checks may agree)


def line_total(line: Mapping[str, Any]) -> Decimal | None:
    """What a line adds to its bill or invoice: `amount` when given, else price x quantity
    (quantity 1 when left out) rounded half-up to cents; None when neither is a number."""
    amount = _money(line.get("amount"))
    if amount is not None:
        return amount
    price = _money(line.get("price"))
    if price is None:
        return None
    quantity = _money(line.get("quantity"))
    product = price * (Decimal(1) if quantity is None else quantity)
    return (
        product.quantize(_CENT, rounding=ROUND_HALF_UP)
        if exact_cents_possible(product)
        else product
    )


def exact_cents_possible(number: Decimal) -> bool:
    return number.is_finite() and number.adjusted() < _HUGE_DIGITS


def line_total_problems(shape: WriteShape, body: Mapping[str, Any]) -> Iterator[Problem]:
    """Lines that give both their amount and their price must agree with themselves (checked
    on what the input sends; a PATCH merged into a stored line is another matter)."""
    lines = body.get(shape.line_items or "")
    for index, line in enumerate(lines if isinstance(lines, list) else []):
        if isinstance(line, Mapping):
            yield from _line_total_problems(f"{shape.line_items}[{index}]", line)


def _line_total_problems(where: str, line: Mapping[str, Any]) -> Iterator[Problem]:
    amount, price = _money(line.get("amount")), _money(line.get("price"))
    if amount is None or price is None or amount <= 0 or price <= 0:
        return
    computed = line_total({k: v for k, v in line.items() if k != "amount"})
    if computed is not None and computed != amount:
        yield Problem(
            f"{where}.amount",
            f"{amount} is not price x quantity ({computed}): give the amount or the price",
        )


#: A vendor's bank account as "Create a vendor" and "Create a vendor bank account" send it
#: (Postman collection; https://developer.bill.com/docs/ap-vendors).
BANK_ACCOUNT_FIELDS = frozenset(
    {"nameOnAccount", "accountNumber", "routingNumber", "type", "ownerType", "paymentCurrency"}
)
_ACCOUNT_NUMBER = re.compile(r"^[0-9]{4,17}$")
_ROUTING_NUMBER = re.compile(r"^[0-9]{9}$")


def aba_checksum_ok(routing: str) -> bool:
    """The ABA routing number check digit: 3, 7, 1 weights over the 9 digits, sum % 10 == 0
    (https://www.frbservices.org/, "Routing number" in the E-Payments Routing Directory)."""
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def _bank_problems(body: Mapping[str, Any]) -> Iterator[Problem]:
    """Bank details checked before they are sent: never echoes a value (they are secret)."""
    where = "paymentInformation.bankAccount"
    account = get_path(body, where)
    if account is None:  # (paymentInformation itself must be an object: _object_problems)
        return
    if not isinstance(account, Mapping):
        yield Problem(where, f"must be an object, not {type(account).__name__}")
        return
    for name in sorted(set(account) - BANK_ACCOUNT_FIELDS):
        yield Problem(f"{where}.{name}", "is not a bank account field")
    number = account.get("accountNumber")
    if number is not None and not (isinstance(number, str) and _ACCOUNT_NUMBER.match(number)):
        yield Problem(
            f"{where}.accountNumber",
            "must be text of 4 to 17 digits"
            + ("" if isinstance(number, str) else " (a JSON number loses leading zeros)"),
        )
    routing = account.get("routingNumber")
    if routing is not None:
        if not (isinstance(routing, str) and _ROUTING_NUMBER.match(routing)):
            yield Problem(f"{where}.routingNumber", "must be text of 9 digits")
        elif not aba_checksum_ok(routing):
            yield Problem(
                f"{where}.routingNumber", "is not a valid ABA routing number (check digit)"
            )


def _validate_lines(shape: WriteShape, lines: Any, *, partial: bool) -> Iterator[Problem]:
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
            if line.get(required) is None and not (
                required == "amount" and line.get("price") is not None
            ):
                yield Problem(f"{where}.{required}", "is required", MISSING)
        for amount in shape.line_amounts:
            yield from _check_amount(f"{where}.{amount}", line.get(amount))
        for quantity in shape.line_quantities:
            yield from _check_amount(f"{where}.{quantity}", line.get(quantity), quantity=True)
        description = line.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > 4000
        ):
            yield Problem(f"{where}.description", "must be text of at most 4000 characters")
