"""Seeded vendors and customers, with their bank accounts and contacts (child streams).

A vendor's bank account appears both inside the vendor (`paymentInformation.bankAccount`) and
as the vendor's `/bank-account` record, with the same numbers; about half of the vendors have
one. Customers have 0-2 bank accounts and 1-2 contacts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bill_core import catalog
from bill_emulator import words
from bill_emulator.store import Record

if TYPE_CHECKING:
    from bill_emulator.seed import Seeder


def pick(rng: random.Random, ids: Sequence[str]) -> str:
    return ids[rng.randrange(len(ids))]


def vendors(seeder: Seeder) -> None:
    obj, rng = catalog.get("vendors"), seeder.rng("vendors")
    bank_accounts: list[tuple[str, Record]] = []
    for index, stamp in enumerate(seeder.stamps("vendors")):
        name = words.company_name(rng, index)
        place = words.address(rng)
        currency = "USD" if place["country"] == "US" else "CAD"
        email = words.email_for(name, rng)
        information: Record = {"payeeName": name, "email": email}
        has_bank = rng.random() < 0.5
        if has_bank:
            account = bank_account(rng, name, currency)
            information["bankAccount"] = account
            bank_accounts.append((stamp.id, account))
        information["payByType"] = "ACH" if has_bank else "CHECK"
        seeder.data["vendors"].append(
            {
                **stamp.base(obj),
                "name": name,
                "shortName": name.split()[0][:10],
                "accountNumber": f"ACCT-{words.digits(rng, 6)}",
                "accountType": "BUSINESS" if rng.random() < 0.85 else "PERSON",
                "email": email,
                "phone": words.phone(rng),
                "address": place,
                "paymentInformation": information,
                "additionalInfo": {
                    "companyName": name,
                    "taxIdType": "EIN",
                    "paymentTermId": pick(rng, seeder.ctx.refs["payment_terms"]),
                },
                "bankAccountStatus": "NO_NET_LINKED_ACCOUNT" if has_bank else "NO_ACCOUNT",
                "billCurrency": currency,
                "recurringPayments": False,
                "networkStatus": "NOT_CONNECTED",
            }
        )
    child = catalog.get("vendor_bank_accounts")
    stamps = seeder.stamps("vendor_bank_accounts", len(bank_accounts))
    for stamp, (vendor_id, account) in zip(stamps, bank_accounts, strict=True):
        seeder.data["vendor_bank_accounts"].append(
            # `status` values are undocumented (field added 2026-05-21): VERIFIED assumed.
            {**stamp.base(child), "vendorId": vendor_id, **account, "status": "VERIFIED"}
        )


def customers(seeder: Seeder) -> None:
    obj, rng = catalog.get("customers"), seeder.rng("customers")
    accounts: list[Record] = []
    contacts: list[Record] = []
    for index, stamp in enumerate(seeder.stamps("customers")):
        first, last = words.person(rng)
        is_company = rng.random() < 0.8
        name = words.company_name(rng, index + 7) if is_company else f"{first} {last}"
        place = words.address(rng)
        bank_count = rng.randrange(3)
        record: Record = {
            **stamp.base(obj),
            "name": name,
            "contact": {"firstName": first, "lastName": last},
            "email": words.email_for(last, rng),
            "phone": words.phone(rng),
            "invoiceCurrency": "USD" if place["country"] == "US" else "CAD",
            "accountType": "BUSINESS" if is_company else "PERSON",
            "paymentTermId": pick(rng, seeder.ctx.refs["payment_terms"]),
            "accountNumber": f"CUST-{words.digits(rng, 6)}",
            "billingAddress": place,
            "shippingAddress": dict(place) if rng.random() < 0.7 else words.address(rng),
            "authorizedToCharge": bank_count > 0,
        }
        if is_company:
            record["companyName"] = name
        seeder.data["customers"].append(record)
        for _ in range(bank_count):
            accounts.append(
                {
                    "customerId": stamp.id,
                    **bank_account(rng, name, "USD"),
                    "nickname": f"{name[:20]} {words.digits(rng, 2)}",
                }
            )
        for _ in range(rng.randint(1, 2)):
            contact_first, contact_last = words.person(rng)
            contacts.append(
                {
                    "customerId": stamp.id,
                    "firstName": contact_first,
                    "lastName": contact_last,
                    "email": words.email_for(contact_last, rng),
                    "phone": words.phone(rng),
                }
            )
    for stream, records in (
        ("customer_bank_accounts", accounts),
        ("customer_contacts", contacts),
    ):
        child = catalog.get(stream)
        stamps = seeder.stamps(stream, len(records))
        for stamp, record in zip(stamps, records, strict=True):
            seeder.data[stream].append({**stamp.base(child), **record})


# -- payables and receivables --------------------------------------------------------


def bank_account(rng: random.Random, name: str, currency: str) -> Record:
    return {
        "nameOnAccount": name,
        "accountNumber": words.digits(rng, rng.randint(9, 12)),
        "routingNumber": words.ROUTING_NUMBERS[rng.randrange(len(words.ROUTING_NUMBERS))],
        "type": "CHECKING" if rng.random() < 0.8 else "SAVINGS",
        "ownerType": "BUSINESS",
        "paymentCurrency": currency,
    }
