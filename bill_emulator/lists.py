"""Which fields each BILL list can be filtered and sorted by: the emulator's own copy of
BILL's documentation, nothing taken from the connectors.

Sources:
- filters: https://developer.bill.com/docs/filterable-fields (vendors, customers, bills,
  invoices, recurring bills and bank accounts are listed field by field); operators as
  https://developer.bill.com/docs/search-op-with-lists names them;
- sorting: https://developer.bill.com/docs/sortable-fields;
- BILL's own example requests (the Postman collection, reference/bill-v3/): every list
  example sends `filters=id:eq:<id>`, most send `sort=createdTime:desc`; recurring bills and
  invoices send `sort=archived` (no direction: ascending); bank accounts filter on
  `bankAccountId:eq:<id>` (the bank account's own id).

Where the page is silent (payments, received payments, credit memos, vendor credits,
classifications, users, roles), the lists below are our assumption, like the clients that
filter those lists by `updatedTime` (Nango's and PostHog's BILL integrations). The strict
reading is a switch: `EmulatorConfig.refuse_undocumented_updated_time_filter` refuses an
`updatedTime` filter everywhere but the five lists the page documents it for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

EQUALITY = frozenset({"eq", "ne", "in"})
FLAG = frozenset({"eq", "ne"})
RANGE = frozenset({"gt", "gte", "lt", "lte"})
SET = frozenset({"eq", "ne", "in", "nin"})
REFERENCE = frozenset({"eq", "in"})
NAME = frozenset({"eq", "sw"})
TIMES = {"createdTime": RANGE, "updatedTime": RANGE}
#: https://developer.bill.com/docs/filterable-fields documents `updatedTime` for these only.
UPDATED_TIME_DOCUMENTED = frozenset({"vendors", "customers", "bills", "invoices", "bank_accounts"})


@dataclass(frozen=True)
class ListFields:
    """Filter fields (-> operators) and sort fields of one list."""

    filters: Mapping[str, frozenset[str]]
    sorts: frozenset[str]
    #: Filter names BILL's examples use for another field (`bankAccountId` -> `id`).
    aliases: Mapping[str, str] = field(default_factory=dict)


_PARTY = {"id": EQUALITY, "archived": FLAG, "name": NAME, "accountType": SET}
_LINE_CLASSIFICATIONS = {
    f"classifications.{name}": EQUALITY
    for name in ("accountingClassId", "departmentId", "locationId", "itemId")
}
_CREDIT_SORTS = frozenset({"archived", "creditDate", "amount", "appliedAmount", *TIMES})


def _classification(*sorts: str) -> ListFields:
    return ListFields(
        filters={"id": EQUALITY, "archived": FLAG, "name": NAME},
        sorts=frozenset({"archived", "name", "description", "createdTime", *sorts}),
    )


LISTS: Mapping[str, ListFields] = {
    "vendors": ListFields(
        filters={
            **_PARTY,
            "address.country": FLAG,
            "billCurrency": SET,
            "paymentStatus": SET,
            **TIMES,
        },
        sorts=frozenset({"archived", "name", "shortName", "email", "phone", "billCurrency"})
        | set(TIMES),
    ),
    "customers": ListFields(
        filters={
            **_PARTY,
            "address.country": FLAG,
            "invoiceCurrency": SET,
            "paymentStatus": SET,
            **TIMES,
        },
        sorts=frozenset(
            {"archived", "name", "companyName", "email", "phone", "fax", "description"}
            | {"invoiceCurrency", *TIMES}
        ),
    ),
    "bills": ListFields(
        filters={
            "id": EQUALITY,
            "archived": FLAG,
            "vendorId": REFERENCE,
            "dueDate": RANGE,
            "paymentStatus": EQUALITY,
            "payFromChartOfAccountId": EQUALITY,
            "classifications.chartOfAccountId": EQUALITY,
            **_LINE_CLASSIFICATIONS,
            **TIMES,
        },
        sorts=frozenset({"archived", "fundingAmount", "exchangeRate", "description", "dueDate"})
        | set(TIMES),
    ),
    "invoices": ListFields(
        filters={
            "id": EQUALITY,
            "archived": FLAG,
            "customerId": REFERENCE,
            "payToChartOfAccountId": EQUALITY,
            **_LINE_CLASSIFICATIONS,
            **TIMES,
        },
        sorts=frozenset({"archived", "invoiceNumber", "invoiceDate", "dueDate", "totalAmount"})
        | set(TIMES),
    ),
    # Not on the filterable-fields page: assumed (see the module docstring).
    "payments": ListFields(
        filters={"id": EQUALITY, "vendorId": REFERENCE, "billId": REFERENCE, **TIMES},
        sorts=frozenset(
            {"description", "processDate", "amount", "confirmationNumber", "onlinePayment"}
            | {"disbursementStatus", *TIMES}
        ),
    ),
    "receivable_payments": ListFields(
        filters={"id": EQUALITY, "customerId": REFERENCE, **TIMES},
        sorts=frozenset({"amount", *TIMES}),
    ),
    "credit_memos": ListFields(
        filters={"id": EQUALITY, "archived": FLAG, "customerId": REFERENCE, **TIMES},
        sorts=_CREDIT_SORTS,
    ),
    "vendor_credits": ListFields(
        filters={"id": EQUALITY, "archived": FLAG, "vendorId": REFERENCE, **TIMES},
        sorts=_CREDIT_SORTS,
    ),
    "recurring_bills": ListFields(
        filters={"id": EQUALITY, "archived": FLAG, "vendorId": REFERENCE},
        sorts=frozenset({"archived"}),
    ),
    # Recurring invoices: assumed like recurring bills (the page lists the latter only).
    "recurring_invoices": ListFields(
        filters={"id": EQUALITY, "archived": FLAG, "customerId": REFERENCE},
        sorts=frozenset({"archived"}),
    ),
    "chart_of_accounts": _classification(),
    "accounting_classes": _classification(),
    "departments": _classification(),
    "employees": _classification("firstName", "lastName"),
    "items": _classification(),
    "jobs": _classification(),
    "locations": _classification(),
    "users": ListFields(
        filters={"id": EQUALITY, "archived": FLAG, **TIMES},
        sorts=frozenset({"archived", "firstName", "lastName", *TIMES}),
    ),
    "roles": ListFields(filters={"id": EQUALITY}, sorts=frozenset({"description", *TIMES})),
    "bank_accounts": ListFields(
        filters={
            "id": EQUALITY,
            "archived": FLAG,
            "status": SET,
            "type": FLAG,
            "ownerType": FLAG,
            "accessToAdmins": FLAG,
            **TIMES,
        },
        sorts=frozenset({"archived", "nameOnAccount", "bankName", "accessToAdmins", *TIMES}),
        aliases={"bankAccountId": "id"},
    ),
    "payment_terms": ListFields(filters={"id": EQUALITY}, sorts=frozenset()),
}
#: Lists BILL documents no filter or sort for (children of another object).
_NONE = ListFields(filters={}, sorts=frozenset())


def fields_of(stream: str) -> ListFields:
    return LISTS.get(stream, _NONE)


def filter_operators(
    stream: str, name: str, *, documented_updated_time_only: bool = False
) -> frozenset[str] | None:
    """The operators a filter on `name` takes in this list; None: not a filter field."""
    listing = fields_of(stream)
    name = listing.aliases.get(name, name)
    strict = documented_updated_time_only and stream not in UPDATED_TIME_DOCUMENTED
    if strict and name == "updatedTime":
        return None
    return listing.filters.get(name)


def canonical(stream: str, name: str) -> str:
    """The record field a filter name reads (`bankAccountId` of a bank account is its id)."""
    return fields_of(stream).aliases.get(name, name)
