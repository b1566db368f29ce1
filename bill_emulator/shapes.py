"""The fields of each BILL object, as BILL documents them: the emulator's own reading.

Most objects come from the example responses of BILL's Postman collection, extracted into
`postman_examples.json` by scripts/generate_emulator_shapes.py (a test keeps it current).
Objects newer than the collection, and fields BILL added later, are written here by hand,
each with the developer.bill.com page it comes from. Nothing here comes from the connectors.

A shape is a mapping of field -> kind: `string`, `number`, `integer`, `boolean`, `date`,
`date-time`, `enum:A,B` (a string; a sample of BILL's values), `any`; a nested object is a
mapping, an array `[item]` (`[]`: item unknown).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

Shape = Mapping[str, Any]

#: Kinds of values a filter compares.
TIME, DATE, BOOLEAN, NUMBER, STRING = "time", "date", "boolean", "number", "string"

_DATE_TIME = "date-time"

#: Objects the Postman collection predates, from BILL's documentation.
OBJECTS_ADDED: Mapping[str, Shape] = {
    # https://developer.bill.com/docs/payment-terms (create fields and the sample response:
    # id, name, daysDue, createdTime, updatedTime); payment terms cannot be archived.
    "payment_terms": {
        "createdTime": _DATE_TIME,
        "daysDue": "integer",
        "id": "string",
        "name": "string",
        "updatedTime": _DATE_TIME,
    },
    # https://developer.bill.com/reference/createcustomerbankaccount (nameOnAccount, nickname,
    # routingNumber, accountNumber, type, ownerType), /reference/archivecustomerbankaccount
    # (`archived`), https://developer.bill.com/changelog/2025-12-05-new-endpoints-customer-bank-accounts.
    "customer_bank_accounts": {
        "accountNumber": "string",
        "archived": "boolean",
        "createdTime": _DATE_TIME,
        "id": "string",
        "nameOnAccount": "string",
        "nickname": "string",
        "ownerType": "enum:BUSINESS,PERSONAL",
        "routingNumber": "string",
        "type": "enum:CHECKING,SAVINGS",
        "updatedTime": _DATE_TIME,
    },
    # https://developer.bill.com/docs/customer-contacts (firstName, lastName, email, phone,
    # altPhone, alternateEmail), /reference/archivecustomercontact (`archived`).
    "customer_contacts": {
        "altPhone": "string",
        "alternateEmail": "string",
        "archived": "boolean",
        "createdTime": _DATE_TIME,
        "email": "string",
        "firstName": "string",
        "id": "string",
        "lastName": "string",
        "phone": "string",
        "updatedTime": _DATE_TIME,
    },
}

#: Fields BILL added to objects after the collection was published.
FIELDS_ADDED: Mapping[str, Shape] = {
    # https://developer.bill.com/docs/ar-charge-customer: `authorizedToCharge`.
    "customers": {"authorizedToCharge": "boolean"},
    # https://developer.bill.com/changelog/2026-05-21-vendor-bank-accounts-api-improvements:
    # vendor bank account answers carry the account's verification `status`.
    "vendor_bank_accounts": {"status": "string"},
}


@functools.cache
def postman_extract() -> Mapping[str, Any]:
    """postman_examples.json: `objects` (shapes) and `endpoints` of BILL's collection."""
    text = resources.files("bill_emulator").joinpath("postman_examples.json").read_text("utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


@functools.cache
def shape(stream: str) -> Shape | None:
    """The object's fields (sorted by name), or None for an object BILL does not describe."""
    documented = postman_extract()["objects"].get(stream) or OBJECTS_ADDED.get(stream) or {}
    fields: dict[str, Any] = dict(documented)
    fields.update(FIELDS_ADDED.get(stream, {}))
    return {name: fields[name] for name in sorted(fields)} if fields else None


def endpoints() -> frozenset[str]:
    """Every request of BILL's collection as `METHOD /v3/path/{}`."""
    return frozenset(postman_extract()["endpoints"])


@functools.cache
def top_level_fields(stream: str) -> frozenset[str] | None:
    fields = shape(stream)
    return None if fields is None else frozenset(fields)


def field_shape(stream: str, dotted: str) -> Any:
    """The kind (or nested shape) of a dotted field, looking through arrays; None if unknown."""
    node: Any = shape(stream)
    for part in dotted.split("."):
        while isinstance(node, list) and node:
            node = node[0]
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def field_kind(stream: str, dotted: str) -> str:
    """How to read a filter value for this field: from its documented kind, else its name."""
    kind = field_shape(stream, dotted)
    if isinstance(kind, str):
        if kind == _DATE_TIME:
            return TIME
        if kind in (DATE, BOOLEAN):
            return kind
        if kind in ("number", "integer"):
            return NUMBER
        if kind != "any":
            return STRING
    return _kind_by_name(dotted.rsplit(".", 1)[-1])


def _kind_by_name(name: str) -> str:
    if name.endswith("Time"):
        return TIME
    if name.endswith("Date"):
        return DATE
    if name in ("archived", "accessToAdmins") or name.startswith("is"):
        return BOOLEAN
    if name in ("amount", "totalAmount", "dueAmount", "fundingAmount", "appliedAmount"):
        return NUMBER
    return STRING


@functools.cache
def archivable(stream: str) -> bool:
    """Whether BILL's object has an `archived` flag (archive and restore apply to it)."""
    fields = top_level_fields(stream)
    return fields is not None and "archived" in fields
