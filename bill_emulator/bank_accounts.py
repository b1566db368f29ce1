"""A vendor's bank account, written on its own: `POST` and `DELETE
/v3/vendors/{vendorId}/bank-account` (no HTTP here).

BILL keeps one bank account per vendor; changing it is delete then create, and a new account
waits two business days for verification (BILL's "Create a vendor bank account" request in
the Postman collection; https://developer.bill.com/changelog/2024-09-03-new-v3-api-endpoints-
for-vendor-bank-account-operations). The vendor shows the account in
`paymentInformation.bankAccount`, as seeded vendors do, so a change moves the vendor's
`updatedTime` (assumption).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bill_emulator import bank_details, shapes
from bill_emulator.errors import BillError, InvalidRequestError
from bill_emulator.models import Organization
from bill_emulator.store import Record

STREAM = "vendor_bank_accounts"


def create(organization: Organization, vendor_id: str, body: Mapping[str, Any]) -> Record:
    with organization.lock:
        vendor = organization.get("vendors", vendor_id)
        problems = list(bank_details.problems("", body))
        if problems:
            raise InvalidRequestError([(p.code, str(p)) for p in problems])
        if organization.stores[STREAM].children(vendor_id):
            raise BillError("BDC_1119", "vendorId: the vendor already has a bank account")
        # Stored as BILL's answers show an account (`bankCountry` is taken, not shown).
        shown = shapes.top_level_fields(STREAM) or frozenset()
        account = {k: v for k, v in body.items() if k in shown}
        created = organization.create(
            STREAM, {**account, "vendorId": vendor_id, "status": "PENDING"}
        )
        information = {**(vendor.get("paymentInformation") or {}), "bankAccount": account}
        organization.update(
            "vendors",
            vendor_id,
            {"paymentInformation": information, "bankAccountStatus": "NO_NET_LINKED_ACCOUNT"},
        )
        return created


def delete(organization: Organization, vendor_id: str) -> None:
    with organization.lock:
        vendor = organization.get("vendors", vendor_id)
        accounts = organization.stores[STREAM].children(vendor_id)
        if not accounts:
            raise BillError("BDC_1120")
        for account in accounts:
            organization.delete(STREAM, account["id"])
        information = {
            k: v for k, v in (vendor.get("paymentInformation") or {}).items() if k != "bankAccount"
        }
        organization.update(
            "vendors",
            vendor_id,
            {"paymentInformation": information, "bankAccountStatus": "NO_ACCOUNT"},
        )
