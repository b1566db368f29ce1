"""Checks on the bank account details written to the emulator (a vendor's
`paymentInformation.bankAccount`, `POST /v3/vendors/{vendorId}/bank-account`).

Sources: BILL's "Create a vendor" and "Create a vendor bank account" requests in the Postman
collection (reference/bill-v3/): the fields are `nameOnAccount`, `accountNumber`,
`routingNumber` ("empty for an IBAN accountNumber"), `type`, `ownerType`, `paymentCurrency`,
and `bankCountry` for international vendors; https://developer.bill.com/docs/ap-vendors.
A US routing number is 9 digits whose ABA checksum holds (3, 7, 1 weights, sum divisible by
10: the American Bankers Association's routing number rule, which BILL's bank verification
relies on); a US account number is a string of digits. What BILL answers to bad details is
not documented: 400 BDC_1119 naming the field, like every refused write here (assumption).

A problem never repeats an account number: errors are logged by clients, account numbers
are secrets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bill_emulator.write_shapes import MISSING, Problem

#: Fields of a bank account in BILL's requests (above).
FIELDS = frozenset(
    {"nameOnAccount", "accountNumber", "routingNumber", "type", "ownerType"}
    | {"paymentCurrency", "bankCountry"}
)
_WEIGHTS = (3, 7, 1) * 3


def routing_number_valid(text: str) -> bool:
    """A 9-digit ABA routing number with a valid checksum."""
    if len(text) != 9 or not text.isascii() or not text.isdigit():
        return False
    return sum(int(d) * w for d, w in zip(text, _WEIGHTS, strict=True)) % 10 == 0


def problems(where: str, account: Any) -> Iterator[Problem]:
    """What BILL would refuse in these bank account details (`where`: their path, "" for a
    request body that is the account)."""
    if not isinstance(account, Mapping):
        yield Problem(where or "body", "must be an object")
        return

    def at(name: str) -> str:
        return f"{where}.{name}" if where else name

    for name in sorted(account):
        if name not in FIELDS:
            yield Problem(at(name), "is not a bank account field")
    number, routing = account.get("accountNumber"), account.get("routingNumber")
    if number is None or number == "":
        yield Problem(at("accountNumber"), "is required", MISSING)
    elif not isinstance(number, str):
        yield Problem(at("accountNumber"), "must be text (a string of digits)")
    elif routing not in (None, ""):
        if not (number.isascii() and number.isdigit()):
            yield Problem(at("accountNumber"), "must be a string of digits")
    elif not (number.isascii() and number.isalnum()):  # an IBAN: letters and digits
        yield Problem(at("accountNumber"), "must be digits (or an IBAN)")
    if routing not in (None, "") and not (
        isinstance(routing, str) and routing_number_valid(routing)
    ):
        yield Problem(
            at("routingNumber"), "is not a valid US routing number (9 digits, ABA checksum)"
        )
