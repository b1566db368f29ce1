"""What the replay of BILL's examples (`replay`) fills in and leaves out.

`Placeholders` gives the collection's `{{variables}}` real values of the seeded organization;
`OMITTED` lists, once, the keys of BILL's example answers that BILL leaves out when they are
unset, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bill_emulator.demo import DEMO_CREDENTIALS, DEMO_USER_ID
from bill_emulator.models import Organization
from bill_emulator.store import Record

#: Device names the replay uses for MFA (any text BILL would take).
DEVICE = "bill-emulator-replay"


def _active(organization: Organization, stream: str) -> list[Record]:
    return [r for r in organization.list(stream) if not r.get("archived")]


class Placeholders:
    """Values for the collection's `{{variables}}`, from the seeded organization: the ids of
    records that fit each example (a bill with two lines for "Replace a bill", a vendor
    without a bank account for "Create a vendor bank account", ...)."""

    def __init__(self, organization: Organization) -> None:
        bills = [b for b in _active(organization, "bills") if len(b["billLineItems"]) >= 2]
        invoices = [i for i in _active(organization, "invoices") if len(i["invoiceLineItems"]) >= 2]
        bill, invoice = bills[0], invoices[0]
        banked = {r["vendorId"] for r in organization.list("vendor_bank_accounts")}
        vendors = _active(organization, "vendors")
        documented = {r["billId"] for r in organization.list("bill_documents")}

        def first(stream: str, *wanted: str) -> str:
            """The first active record, preferring one whose `wanted` fields are not empty
            (so the answer shows them: a payment with a void request, ...)."""
            records = _active(organization, stream)
            full = [r for r in records if all(r.get(name) for name in wanted)]
            record_id: str = (full or records)[0]["id"]
            return record_id

        self.values: dict[str, str] = {
            "organization_id": organization.organization_id,
            "username": DEMO_CREDENTIALS["username"],
            "password": DEMO_CREDENTIALS["password"],
            "developer_key": DEMO_CREDENTIALS["dev_key"],
            "mfa_token": DEMO_CREDENTIALS["mfa_token"],
            "mfa_device_name": DEVICE,
            "mfa_machine_name": DEVICE,
            "bill_id": bill["id"],
            "bill_id01": bills[1]["id"],
            "bill_id02": bills[2]["id"],
            "bill_line_item_id01": bill["billLineItems"][0]["id"],
            "bill_line_item_id02": bill["billLineItems"][1]["id"],
            "vendor_id": bill["vendorId"],
            "invoice_id": invoice["id"],
            "invoice_line_item_id01": invoice["invoiceLineItems"][0]["id"],
            "invoice_line_item_id02": invoice["invoiceLineItems"][1]["id"],
            "customer_id": invoice["customerId"],
            "org_bank_account_id": first("bank_accounts"),
            "org_user_id": DEMO_USER_ID,
            "org_user_role_id": first("roles"),
            "payment_id": first("payments", "voidInfo"),
            "received_payment_id": first("receivable_payments"),
            "credit_memo_id": first("credit_memos", "usage"),
            "vendor_credit_id": first("vendor_credits", "usage"),
            "recurring_bill_id": first("recurring_bills"),
            "recurring_invoice_id": first("recurring_invoices"),
            "chart_of_accounts_id": first("chart_of_accounts", "parentId"),
            "accounting_class_id": first("accounting_classes", "parentId"),
            "department_id": first("departments", "parentId"),
            "employee_id": first("employees", "parentId"),
            "item_id": first("items", "parentId"),
            "job_id": first("jobs", "parentId"),
            "location_id": first("locations", "parentId"),
            "document_id": organization.list("bill_documents")[0]["id"],
        }
        #: Values for one endpoint only: `{endpoint: {variable: value}}`.
        self.overrides: dict[str, dict[str, str]] = {
            # A vendor that has a bank account to read or delete, and one that has none yet.
            "GET /v3/vendors/{}/bank-account": {
                "vendor_id": next(v["id"] for v in vendors if v["id"] in banked)
            },
            "DELETE /v3/vendors/{}/bank-account": {
                "vendor_id": next(v["id"] for v in vendors if v["id"] in banked)
            },
            "POST /v3/vendors/{}/bank-account": {
                "vendor_id": next(v["id"] for v in vendors if v["id"] not in banked)
            },
            # A bill with documents to list.
            "GET /v3/documents/bills/{}": {
                "bill_id": next(b["id"] for b in bills if b["id"] in documented)
            },
        }

    def get(self, name: str, endpoint: str, session_id: str) -> str:
        if name == "session_id":
            return session_id
        override = self.overrides.get(endpoint, {})
        return override.get(name) or self.values.get(name) or f"placeholder-{name}"

    def learn(self, endpoint: str, answer: Any) -> None:
        """Values BILL hands out along the way (an MFA challenge, a rememberMeId)."""
        if not isinstance(answer, Mapping):
            return
        if endpoint == "POST /v3/mfa/challenge":
            self.values["mfa_challenge_id"] = str(answer.get("challengeId"))
        elif endpoint == "POST /v3/mfa/challenge/validate":
            self.values["mfa_remember_me_id"] = str(answer.get("rememberMeId"))


#: Keys BILL's answers leave out while unset ("responses omit unpopulated fields": reported
#: from live tests by a third-party integration, unverified; BILL's examples show every field
#: at once because Postman generated them from BILL's OpenAPI).
_NOT_GIVEN = (
    "optional: unset when the create (or a PUT, which replaces the object) does not give it; "
    "the example PATCH, archive and restore follow the example PUT"
)
_NOT_PROCESSED = "set once BILL processes and disburses the payment; a new one is scheduled"

#: Keys of any answer: key path (without a list envelope) -> why the answer may lack it.
OMITTED_ANYWHERE: Mapping[str, str] = {
    "nextPage": "absent on the last page (a recorded sandbox answer of GET /v3/users has "
    "neither key on its one page: NangoHQ/integration-templates, integrations/bill/mocks)",
    "prevPage": "absent on the first page (same recording)",
    "billPayments[].vendorCredits": "empty unless vendor credits paid part of the bill",
}

_BILL_OPTIONAL = {
    "approvers": "present once an approval policy assigns approvers",
    **dict.fromkeys(
        [
            "description",
            "payFromChartOfAccountId",
            "purchaseOrderNumber",
            "classifications",
            "billLineItems[].classifications",
        ],
        _NOT_GIVEN,
    ),
}
_INVOICE_OPTIONAL = dict.fromkeys(
    [
        "classifications",
        "invoiceLineItems[].classifications",
        "payToChartOfAccountId",
        "salesTaxItemId",
        "enableCardPayment",
        "convenienceFee",
    ],
    _NOT_GIVEN,
)
_BANK = "paymentInformation.bankAccount"
_VENDOR_OPTIONAL = dict.fromkeys(
    [
        "accountNumber",
        "shortName",
        "additionalInfo",
        "address.line2",
        "autoPay",
        "paymentInformation.email",
        f"{_BANK}.type",
        f"{_BANK}.ownerType",
        f"{_BANK}.paymentCurrency",
    ],
    _NOT_GIVEN,
)


#: Keys of write answers (create, update, archive, restore) per object.
OMITTED_AFTER_WRITE: Mapping[str, Mapping[str, str]] = {
    "bills": _BILL_OPTIONAL,
    "invoices": {
        **_INVOICE_OPTIONAL,
        "payments": "empty until the invoice is paid",
        "invoicePdfId": "BILL makes the invoice PDF; the emulator makes none",
    },
    "vendors": {
        **_VENDOR_OPTIONAL,
        "rppsId": "only for vendors paid through RPPS",
        "balance.lastUpdatedDate": "a new vendor's balance has never changed",
        "paymentInformation.lastPaymentDate": "the vendor has not been paid yet",
        "paymentInformation.virtualCard": "only for vendors enrolled in virtual card payments",
        "paymentInformation.paymentPurpose": "only for international vendors",
        "paymentInformation.payByType": "set by BILL once a payment method is chosen",
        "paymentInformation.payBySubType": "set by BILL once a payment method is chosen",
    },
    "customers": dict.fromkeys(
        [
            "accountNumber",
            "description",
            "fax",
            "invoiceCurrency",
            "paymentTermId",
            "shippingAddress",
            "billingAddress.line2",
        ],
        _NOT_GIVEN,
    ),
    "payments": {
        "cardFundingPurpose": "only for payments funded by a card",
        "paymentPurpose": "only for international payments",
        "remittanceEmail": _NOT_GIVEN,
        "processingOptions.requestCheckDeliveryType": "only for check payments",
        "voidInfo": "empty until a void is requested",
        **dict.fromkeys(
            [
                "confirmationNumber",
                "transactionNumber",
                "disbursementInfo",
                "disbursementStatus",
                "disbursementType",
            ],
            _NOT_PROCESSED,
        ),
    },
}


def omission(table: Mapping[str, str], path: str) -> str | None:
    """Why an answer may lack `path` (a key path without its list envelope): the reason given
    for it or for a key it sits under, else None."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        for candidate in (key, key.removesuffix("[]")):
            if candidate in table:
                return table[candidate]
    return None
