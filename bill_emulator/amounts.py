"""Money on written lines and objects: exact Decimal arithmetic, rounded half-up to cents.

Amounts arrive as JSON numbers (or numeric text) and leave as JSON numbers whose shortest text
is the exact decimal (see formats.money).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ZERO = Decimal(0)
#: Numbers from 10**18 up are left unrounded: absurd for money, but valid JSON numbers.
HUGE = 18


def line_amount(stream: str, line: dict[str, Any], given: Mapping[str, Any]) -> None:
    """A line's money after a write. `given` is what the request said about the line (for a
    PATCH, only the changes).

    Bill lines: the given `amount`, else price * quantity (quantity 1 when left out); a line
    given only an amount is one unit at that price, as seeded lines are
    (https://developer.bill.com/docs/ap-bills: "amount, or quantity and price").

    Invoice lines are read as `price` and `quantity` (BILL's read shape has no `amount`), but
    a write may give `amount` instead of a price (BILL's "Replace an invoice" example sends
    `{amount, quantity}`): the price is then amount / quantity. A line giving both keeps its
    price (assumption: BILL's docs do not say which wins)."""
    for name in ("amount", "price", "quantity"):
        if isinstance(line.get(name), str):  # "12.50": the checks accept numbers as text
            line[name] = number(line[name])
    if stream == "invoices":
        amount, price = given.get("amount"), given.get("price")  # `given` may be `line`
        line.pop("amount", None)
        if amount is not None and price is None:
            line["price"] = unit_price(decimal(amount), decimal(line.get("quantity") or 1))
        return
    if given.get("amount") is not None:
        if given.get("price") is None and given.get("quantity") is None:
            line["quantity"], line["price"] = 1, line["amount"]
    elif given.get("price") is not None or given.get("quantity") is not None:
        line.setdefault("quantity", 1)
        if line.get("price") is not None:
            line["amount"] = as_json(cents(decimal(line["price"]) * decimal(line["quantity"])))


def line_total(line: Mapping[str, Any]) -> Decimal:
    """An invoice line's worth: price * quantity, to the cent."""
    return cents(decimal(line.get("price")) * decimal(line.get("quantity")))


def unit_price(amount: Decimal, quantity: Decimal) -> float:
    """amount / quantity to 6 decimals, so round(price * quantity) gives back the amount."""
    price = (amount / quantity).quantize(MICRO, rounding=ROUND_HALF_UP)
    return float(price.normalize())


def decimal(value: Any) -> Decimal:
    """A JSON number as an exact decimal (its shortest text), 0 when absent."""
    if value is None or isinstance(value, bool):
        return ZERO
    return Decimal(str(value))


def number(text: str) -> int | float:
    value = Decimal(text.strip())
    return int(value) if value == value.to_integral_value() and "." not in text else float(value)


def cents(value: Decimal) -> Decimal:
    if value.adjusted() >= HUGE:
        return value  # cents do not matter here (and would not fit Decimal's precision)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def total(values: Any) -> Decimal:
    return cents(sum(values, ZERO))


def as_json(value: Decimal) -> float:
    """Money as BILL's JSON number: cents are exact, and the float's shortest text is the
    decimal itself (see formats.money)."""
    return float(cents(value))
