"""The catalog of BILL v3 objects: every fact about an object, written once.

The tap's streams, the target's sinks and the emulator all read from this module instead of
repeating paths, id prefixes, filterable fields or bulk limits.

Sources:
- paths and id prefixes: the official v3 Postman collection and
  https://developer.bill.com/docs/bill-generated-ids
- filterable fields: https://developer.bill.com/docs/filterable-fields
- sortable fields: https://developer.bill.com/docs/sortable-fields
- bulk limits: https://developer.bill.com/reference/createbulkvendor (20),
  /reference/createbulkbills (100)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

EQUALITY = frozenset({"eq", "ne", "in"})
FLAG = frozenset({"eq", "ne"})
RANGE = frozenset({"gt", "gte", "lt", "lte"})
SET = frozenset({"eq", "ne", "in", "nin"})
REFERENCE = frozenset({"eq", "in"})
ALL_OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "sw"})

#: The replication key of every incremental stream.
UPDATED_TIME = "updatedTime"


def _fields(**operators: frozenset[str]) -> Mapping[str, frozenset[str]]:
    """Filterable fields; dotted names are written with '__' in keyword arguments."""
    return MappingProxyType({name.replace("__", "."): ops for name, ops in operators.items()})


# Documented for vendors, customers, bills, invoices and bank accounts; assumed (as Nango's and
# PostHog's BILL clients do) for the other objects whose updatedTime is sortable.
_TIMES = {"createdTime": RANGE, "updatedTime": RANGE}
_CLASSIFICATION_FILTERS = {
    "classifications.accountingClassId": EQUALITY,
    "classifications.departmentId": EQUALITY,
    "classifications.locationId": EQUALITY,
    "classifications.itemId": EQUALITY,
}


@dataclass(frozen=True)
class BillObject:
    """One BILL v3 object type as the API exposes it."""

    #: Singer stream name (also the target's sink name where it writes the object).
    stream: str
    #: BILL's own name for one object, e.g. "vendor" (used in messages).
    noun: str
    #: List path relative to the gateway root; `{placeholders}` come from config or parent.
    path: str
    #: The three-character prefix of ids BILL generates for this object.
    id_prefix: str
    #: Field -> allowed filter operators (emulator validates; tap builds filters from it).
    filterable: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Fields accepted by `sort=`.
    sortable: frozenset[str] = frozenset()
    #: Incremental on `updatedTime` (filter gte + sort asc).
    incremental: bool = False
    #: The endpoint answers one object, not a list envelope.
    single: bool = False
    #: Child streams: the parent stream and the placeholder its id fills.
    parent: str | None = None
    parent_key: str | None = None
    #: Primary key of the Singer stream.
    key_properties: tuple[str, ...] = ("id",)
    #: Whether the object has an `archived` flag.
    archivable: bool = True
    #: Largest batch the bulk create endpoint takes (None: no bulk create).
    bulk_create_limit: int | None = None
    #: Key wrapping the bulk create response (None: a bare JSON array).
    bulk_response_key: str | None = None
    #: Selected by default in the tap's catalog.
    selected_by_default: bool = True
    #: One line for the README's streams table.
    description: str = ""

    @property
    def replication_key(self) -> str | None:
        return UPDATED_TIME if self.incremental else None

    @property
    def item_path(self) -> str:
        """Path of one object (`GET/PATCH .../{id}`)."""
        return f"{self.path}/{{id}}"


def _classification(
    stream: str, noun: str, segment: str, prefix: str, response_key: str
) -> BillObject:
    return BillObject(
        stream=stream,
        noun=noun,
        path=f"/v3/classifications/{segment}",
        id_prefix=prefix,
        filterable=_fields(id=EQUALITY, archived=FLAG, name=frozenset({"eq", "sw"})),
        sortable=frozenset({"archived", "name", "description"}),
        bulk_create_limit=50,
        bulk_response_key=response_key,
        description=f"General-ledger classification: {noun}s.",
    )


OBJECTS: tuple[BillObject, ...] = (
    BillObject(
        stream="vendors",
        noun="vendor",
        path="/v3/vendors",
        id_prefix="009",
        filterable=_fields(
            id=EQUALITY,
            archived=FLAG,
            name=frozenset({"eq", "sw"}),
            accountType=SET,
            address__country=FLAG,
            billCurrency=SET,
            paymentStatus=SET,
            **_TIMES,
        ),
        sortable=frozenset(
            {"archived", "name", "shortName", "email", "phone", "billCurrency"} | set(_TIMES)
        ),
        incremental=True,
        bulk_create_limit=20,
        bulk_response_key="vendors",
        description="Payees of bills (accounts payable).",
    ),
    BillObject(
        stream="customers",
        noun="customer",
        path="/v3/customers",
        id_prefix="0cu",
        filterable=_fields(
            id=EQUALITY,
            archived=FLAG,
            name=frozenset({"eq", "sw"}),
            accountType=SET,
            address__country=FLAG,
            invoiceCurrency=SET,
            paymentStatus=SET,
            **_TIMES,
        ),
        sortable=frozenset(
            {
                "archived",
                "name",
                "companyName",
                "email",
                "phone",
                "fax",
                "description",
                "invoiceCurrency",
            }
            | set(_TIMES)
        ),
        incremental=True,
        description="Payers of invoices (accounts receivable).",
    ),
    BillObject(
        stream="bills",
        noun="bill",
        path="/v3/bills",
        id_prefix="00n",
        filterable=_fields(
            id=EQUALITY,
            archived=FLAG,
            vendorId=REFERENCE,
            dueDate=RANGE,
            paymentStatus=EQUALITY,
            payFromChartOfAccountId=EQUALITY,
            classifications__chartOfAccountId=EQUALITY,
            **_CLASSIFICATION_FILTERS,
            **_TIMES,
        ),
        sortable=frozenset(
            {"archived", "fundingAmount", "exchangeRate", "description", "dueDate"} | set(_TIMES)
        ),
        incremental=True,
        bulk_create_limit=100,
        bulk_response_key=None,
        description="Payables, with line items.",
    ),
    BillObject(
        stream="invoices",
        noun="invoice",
        path="/v3/invoices",
        id_prefix="00e",
        filterable=_fields(
            id=EQUALITY,
            archived=FLAG,
            customerId=REFERENCE,
            payToChartOfAccountId=EQUALITY,
            **_CLASSIFICATION_FILTERS,
            **_TIMES,
        ),
        sortable=frozenset(
            {"archived", "invoiceNumber", "invoiceDate", "dueDate", "totalAmount"} | set(_TIMES)
        ),
        incremental=True,
        description="Receivables, with line items.",
    ),
    BillObject(
        stream="payments",
        noun="payment",
        path="/v3/payments",
        id_prefix="stp",
        filterable=_fields(id=EQUALITY, vendorId=REFERENCE, billId=REFERENCE, **_TIMES),
        sortable=frozenset(
            {
                "description",
                "processDate",
                "amount",
                "confirmationNumber",
                "onlinePayment",
                "disbursementStatus",
            }
            | set(_TIMES)
        ),
        incremental=True,
        archivable=False,
        description="Payments sent to vendors (AP).",
    ),
    BillObject(
        stream="receivable_payments",
        noun="received payment",
        path="/v3/receivable-payments",
        id_prefix="0rp",
        filterable=_fields(id=EQUALITY, customerId=REFERENCE, **_TIMES),
        sortable=frozenset({"amount"} | set(_TIMES)),
        incremental=True,
        archivable=False,
        description="Payments received from customers (AR).",
    ),
    BillObject(
        stream="credit_memos",
        noun="credit memo",
        path="/v3/credit-memos",
        id_prefix="ccr",
        filterable=_fields(id=EQUALITY, archived=FLAG, customerId=REFERENCE, **_TIMES),
        sortable=frozenset({"archived", "creditDate", "amount", "appliedAmount"} | set(_TIMES)),
        incremental=True,
        bulk_create_limit=50,
        bulk_response_key="creditMemos",
        description="Customer credits applicable to invoices (AR).",
    ),
    BillObject(
        stream="vendor_credits",
        noun="vendor credit",
        path="/v3/vendor-credits",
        id_prefix="vcr",
        filterable=_fields(id=EQUALITY, archived=FLAG, vendorId=REFERENCE, **_TIMES),
        sortable=frozenset({"archived", "creditDate", "amount", "appliedAmount"} | set(_TIMES)),
        incremental=True,
        bulk_create_limit=50,
        bulk_response_key="vendorCredits",
        description="Vendor credits applicable to bills (AP).",
    ),
    BillObject(
        stream="recurring_bills",
        noun="recurring bill",
        path="/v3/recurringbills",
        id_prefix="btp",
        # Documented filters: id, archived, vendorId only (no updatedTime): full table.
        filterable=_fields(id=EQUALITY, archived=FLAG, vendorId=REFERENCE),
        sortable=frozenset({"archived"}),
        description="Recurring bill templates (full table: BILL documents no updatedTime filter).",
    ),
    BillObject(
        stream="recurring_invoices",
        noun="recurring invoice",
        path="/v3/recurring-invoices",
        id_prefix="rit",
        filterable=_fields(id=EQUALITY, archived=FLAG, customerId=REFERENCE),
        sortable=frozenset({"archived"}),
        description="Recurring invoice templates (full table: no documented updatedTime filter).",
    ),
    _classification(
        "chart_of_accounts", "chart of accounts", "chart-of-accounts", "0ca", "chartOfAccounts"
    ),
    _classification(
        "accounting_classes", "accounting class", "accounting-classes", "cls", "accountingClasses"
    ),
    _classification("departments", "department", "departments", "0de", "departments"),
    _classification("employees", "employee", "employees", "emp", "employees"),
    _classification("items", "item", "items", "0ii", "items"),
    _classification("jobs", "job", "jobs", "job", "jobs"),
    _classification("locations", "location", "locations", "loc", "locations"),
    BillObject(
        stream="users",
        noun="user",
        path="/v3/users",
        id_prefix="006",
        filterable=_fields(id=EQUALITY, archived=FLAG, **_TIMES),
        sortable=frozenset({"archived", "firstName", "lastName"} | set(_TIMES)),
        incremental=True,
        description="Users of the organization.",
    ),
    BillObject(
        stream="roles",
        noun="user role",
        path="/v3/roles",
        id_prefix="0po",
        filterable=_fields(id=EQUALITY),
        sortable=frozenset({"description", *_TIMES}),
        archivable=False,
        description="User role profiles (full table: no client filters roles by updatedTime).",
    ),
    BillObject(
        stream="bank_accounts",
        noun="bank account",
        path="/v3/funding-accounts/banks",
        id_prefix="bac",
        filterable=_fields(
            id=EQUALITY,
            archived=FLAG,
            status=SET,
            type=FLAG,
            ownerType=FLAG,
            accessToAdmins=FLAG,
            **_TIMES,
        ),
        sortable=frozenset({"archived", "nameOnAccount", "bankName", "accessToAdmins", *_TIMES}),
        incremental=True,
        description="The organization's funding bank accounts (account numbers masked).",
    ),
    BillObject(
        stream="payment_terms",
        noun="payment term",
        path="/v3/organizations/{organizationId}/payment-terms",
        id_prefix="00p",
        filterable=_fields(id=EQUALITY),
        archivable=False,
        description="Payment terms (name, days due); cannot be archived.",
    ),
    BillObject(
        stream="organization",
        noun="organization",
        path="/v3/organizations/{organizationId}",
        id_prefix="008",
        single=True,
        archivable=False,
        description="The signed-in organization (one record).",
    ),
    # Child streams: one request per parent record, so not selected by default.
    BillObject(
        stream="vendor_bank_accounts",
        noun="vendor bank account",
        path="/v3/vendors/{vendorId}/bank-account",
        id_prefix="vba",
        single=True,
        parent="vendors",
        parent_key="vendorId",
        key_properties=("vendorId",),
        archivable=False,
        selected_by_default=False,
        description="Each vendor's bank account (one per vendor; account number masked).",
    ),
    BillObject(
        stream="customer_bank_accounts",
        noun="customer bank account",
        path="/v3/customers/{customerId}/bank-accounts",
        id_prefix="cba",
        parent="customers",
        parent_key="customerId",
        selected_by_default=False,
        description="Customers' bank accounts for charging (account numbers masked).",
    ),
    BillObject(
        stream="customer_contacts",
        noun="customer contact",
        path="/v3/customers/{customerId}/contacts",
        id_prefix="cpu",
        parent="customers",
        parent_key="customerId",
        selected_by_default=False,
        description="Contacts of each customer.",
    ),
    BillObject(
        stream="bill_documents",
        noun="bill document",
        path="/v3/documents/bills/{billId}",
        id_prefix="00h",
        parent="bills",
        parent_key="billId",
        archivable=False,
        selected_by_default=False,
        description="Metadata of documents attached to each bill (not the files).",
    ),
)

BY_STREAM: Mapping[str, BillObject] = MappingProxyType({o.stream: o for o in OBJECTS})
BY_PREFIX: Mapping[str, BillObject] = MappingProxyType({o.id_prefix: o for o in OBJECTS})

#: Length of every id BILL generates (prefix included), e.g. `00902BILKFECNEV2oji1`.
ID_LENGTH = 20
#: Prefix of organization ids; a setting that does not start with it is a typo.
ORGANIZATION_PREFIX = "008"


def get(stream: str) -> BillObject:
    """The catalog entry of a stream; a KeyError names the known streams."""
    try:
        return BY_STREAM[stream]
    except KeyError:
        known = ", ".join(sorted(BY_STREAM))
        msg = f"Unknown BILL object {stream!r}; known: {known}"
        raise KeyError(msg) from None
