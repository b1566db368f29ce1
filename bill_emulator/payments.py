"""Paying a bill (`POST /v3/payments`), the MFA-gated operation the emulator implements.

Body ([Postman] "Create a payment"): vendorId, billId, processDate, fundingAccount{type, id},
amount. The payment is stored SCHEDULED and the bill's scheduled amount grows, so the bill's
`updatedTime` moves as it would in BILL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bill_emulator.errors import BillError
from bill_emulator.formats import cents, money
from bill_emulator.models import Organization
from bill_emulator.store import Record

REQUIRED = ("billId", "processDate", "fundingAccount", "amount")


def pay_bill(organization: Organization, body: Mapping[str, Any], user_id: str) -> Record:
    for name in REQUIRED:
        if body.get(name) in (None, ""):
            raise BillError("BDC_1108", name)
    amount = _amount(body["amount"])
    funding = body["fundingAccount"]
    if not isinstance(funding, dict) or not funding.get("type") or not funding.get("id"):
        raise BillError("BDC_1119", f"fundingAccount: {funding}")
    with organization.lock:
        bill = organization.find("bills", str(body["billId"]))
        if bill is None:
            raise BillError("BDC_1119", f"billId: {body['billId']}")
        if body.get("vendorId") not in (None, bill["vendorId"]):
            raise BillError("BDC_1119", f"vendorId: {body['vendorId']}")
        if (
            funding["type"] == "BANK_ACCOUNT"
            and organization.find("bank_accounts", str(funding["id"])) is None
        ):
            raise BillError("BDC_1119", f"fundingAccount.id: {funding['id']}")
        payment = organization.create(
            "payments",
            {
                "vendorId": bill["vendorId"],
                "vendorName": bill.get("vendorName"),
                "billId": bill["id"],
                "billPayments": [
                    {"billId": bill["id"], "amount": money(amount), "vendorCredits": []}
                ],
                "description": body.get("description") or f"Payment for bill {bill['id']}",
                "processDate": str(body["processDate"]),
                "fundingAccount": {"type": funding["type"], "id": funding["id"]},
                "processingOptions": body.get("processingOptions") or {},
                "amount": money(amount),
                "fundingAmount": money(amount),
                "exchangeRate": 1.0,
                "status": "SCHEDULED",
                "singleStatus": "SCHEDULED",
                "onlinePayment": funding["type"] != "OFFLINE",
                "createdBy": user_id,
                "cancelRequestSubmitted": False,
            },
        )
        scheduled = cents(bill.get("scheduledAmount") or 0) + amount
        organization.update(
            "bills", bill["id"], {"scheduledAmount": money(scheduled), "paymentStatus": "SCHEDULED"}
        )
    return payment


def _amount(value: Any) -> int:
    try:
        amount = cents(value)
    except (TypeError, ValueError):
        raise BillError("BDC_1119", f"amount: {value}") from None
    if amount <= 0 or isinstance(value, bool):
        raise BillError("BDC_1119", f"amount: {value}")
    return amount
