"""Seeded reference data: roles, users, classifications, payment terms, bank accounts and
the organization record itself. Small fixed counts, recognisable names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bill_core import catalog
from bill_emulator import demo, words
from bill_emulator.store import Record

if TYPE_CHECKING:
    from bill_emulator.seed import Seeder

ROLES = (
    ("ADMINISTRATOR", "Administrator"),
    ("ACCOUNTANT", "Accountant"),
    ("APPROVER", "Approver"),
    ("CLERK", "Clerk"),
    ("PAYER", "Payer"),
)
#: (number, name, account type, parent index or None); account types as BILL's Postman
#: examples and the v2 API's account type codes name them.
CHART_OF_ACCOUNTS = (
    ("1000", "Operating Checking", "BANK", None),
    ("1010", "Payroll Checking", "BANK", 0),
    ("1200", "Accounts Receivable", "ACCOUNTS_RECEIVABLE", None),
    ("2000", "Accounts Payable", "ACCOUNTS_PAYABLE", None),
    ("4000", "Product Sales", "INCOME", None),
    ("4100", "Service Revenue", "INCOME", None),
    ("5000", "Cost of Goods Sold", "COST_OF_GOODS_SOLD", None),
    ("6000", "Office Supplies", "EXPENSE", None),
    ("6100", "Rent", "EXPENSE", None),
    ("6200", "Software Subscriptions", "EXPENSE", None),
    ("6300", "Professional Services", "EXPENSE", None),
    ("6400", "Travel", "EXPENSE", None),
)
CLASSIFICATION_NAMES = {
    "accounting_classes": ("Retail", "Wholesale", "Online", "Services"),
    "departments": ("Operations", "Finance", "Sales", "Engineering"),
    "jobs": ("Website redesign", "Office move", "Annual audit", "ERP rollout"),
    "locations": ("San Jose HQ", "Austin", "Toronto", "Remote"),
}
#: (name, type, price in cents, percentage); item types: samples in BILL's Postman examples.
ITEMS = (
    ("Widget", "INVENTORY", 2500, None),
    ("Setup fee", "OTHER_CHARGE", 15000, None),
    ("State sales tax", "SALES_TAX", None, 825),
    ("Delivery", "OTHER_CHARGE", 4500, None),
)
PAYMENT_TERMS = (("Net 15", 15), ("Net 30", 30), ("Net 45", 45), ("Due on receipt", 0))


def build(seeder: Seeder) -> None:
    _roles(seeder)
    _users(seeder)
    _chart_of_accounts(seeder)
    for stream, names in CLASSIFICATION_NAMES.items():
        _named_classification(seeder, stream, names)
    _employees(seeder)
    _items(seeder)
    _payment_terms(seeder)
    _bank_accounts(seeder)


def _roles(seeder: Seeder) -> None:
    obj = catalog.get("roles")
    for stamp, (role_type, description) in zip(seeder.stamps("roles"), ROLES, strict=False):
        seeder.data["roles"].append(
            {**stamp.base(obj), "type": role_type, "description": description}
        )


def _users(seeder: Seeder) -> None:
    obj = catalog.get("users")
    rng = seeder.rng("users")
    stamps = seeder.stamps("users")
    # The demo user (who signs in) is the first user of every seeded organization.
    stamps[0].id = demo.DEMO_USER_ID
    stamps[0].archived = False
    seeder.ctx.refs["users"][0] = demo.DEMO_USER_ID
    roles = seeder.data["roles"]
    for index, stamp in enumerate(stamps):
        if index == 0:
            first, last = demo.DEMO_USER_FIRST_NAME, demo.DEMO_USER_LAST_NAME
            email = demo.DEMO_CREDENTIALS["username"]
        else:
            first, last = words.person(rng)
            email = f"{first.lower()}.{last.lower()}@example.com"
        role = roles[index % len(roles)]
        seeder.data["users"].append(
            {
                **stamp.base(obj),
                "firstName": first,
                "lastName": last,
                "email": email,
                "role": {
                    "id": role["id"],
                    "type": role["type"],
                    "description": role["description"],
                },
            }
        )


def _chart_of_accounts(seeder: Seeder) -> None:
    obj = catalog.get("chart_of_accounts")
    records = seeder.data["chart_of_accounts"]
    for stamp, (number, name, account_type, parent) in zip(
        seeder.stamps("chart_of_accounts"), CHART_OF_ACCOUNTS, strict=False
    ):
        record = {
            **stamp.base(obj),
            "name": name,
            "description": f"{number} {name}",
            "account": {"type": account_type, "number": number},
        }
        if parent is not None:
            record["parentId"] = records[parent]["id"]
        records.append(record)
        seeder.accounts.setdefault(account_type, []).append(stamp.id)
    # References from bills, invoices and items must point at accounts of a fitting type.
    seeder.accounts["EXPENSE"] += seeder.accounts.get("COST_OF_GOODS_SOLD", [])


def _with_parent(records: list[Record]) -> None:
    # Records need a parent now and then so `parentId` is exercised: the last sits under the
    # first.
    if len(records) > 1:
        records[-1]["parentId"] = records[0]["id"]


def _named_classification(seeder: Seeder, stream: str, names: tuple[str, ...]) -> None:
    obj = catalog.get(stream)
    records = seeder.data[stream]
    for stamp, name in zip(seeder.stamps(stream), names, strict=False):
        records.append(
            {
                **stamp.base(obj),
                "name": name,
                "shortName": name[:3].upper(),
                "description": f"{name} ({obj.noun})",
            }
        )
    _with_parent(records)


def _employees(seeder: Seeder) -> None:
    obj = catalog.get("employees")
    rng = seeder.rng("employees")
    records = seeder.data["employees"]
    for stamp in seeder.stamps("employees"):
        first, last = words.person(rng)
        records.append(
            {
                **stamp.base(obj),
                "firstName": first,
                "lastName": last,
                "shortName": f"{first[0]}{last[0]}",
            }
        )
    _with_parent(records)


def _items(seeder: Seeder) -> None:
    obj = catalog.get("items")
    records = seeder.data["items"]
    income, expense = seeder.accounts["INCOME"], seeder.accounts["EXPENSE"]
    for stamp, (name, item_type, price, percentage) in zip(
        seeder.stamps("items"), ITEMS, strict=False
    ):
        record: Record = {
            **stamp.base(obj),
            "name": name,
            "type": item_type,
            "shortName": name[:3].upper(),
            "description": name,
            "purchaseDescription": name,
            "taxable": item_type != "SALES_TAX",
            "chartOfAccountId": income[0],
            "expenseChartOfAccountId": expense[0],
        }
        if price is not None:
            record["price"] = price / 100
            record["purchaseCost"] = price * 6 // 10 / 100
        if percentage is not None:
            record["percentage"] = percentage / 100
        records.append(record)
    _with_parent(records)


def _payment_terms(seeder: Seeder) -> None:
    obj = catalog.get("payment_terms")
    for stamp, (name, days) in zip(seeder.stamps("payment_terms"), PAYMENT_TERMS, strict=False):
        seeder.data["payment_terms"].append({**stamp.base(obj), "name": name, "daysDue": days})


def _bank_accounts(seeder: Seeder) -> None:
    obj = catalog.get("bank_accounts")
    rng = seeder.rng("bank_accounts")
    banks = seeder.accounts["BANK"]
    for index, stamp in enumerate(seeder.stamps("bank_accounts")):
        seeder.data["bank_accounts"].append(
            {
                **stamp.base(obj),
                "archived": False,  # payments fund from these
                "status": "VERIFIED",
                "createdBy": demo.DEMO_USER_ID,
                "routingNumber": words.ROUTING_NUMBERS[index % len(words.ROUTING_NUMBERS)],
                "accountNumber": words.digits(rng, 10),
                "nameOnAccount": seeder.organization_name,
                "type": "CHECKING" if index == 0 else "SAVINGS",
                "ownerType": "BUSINESS",
                "bankName": words.BANKS[index % len(words.BANKS)],
                "accessToAdmins": True,
                "default": {"payables": index == 0, "receivables": index == 0},
                "chartOfAccountId": banks[index % len(banks)],
            }
        )


def build_organization(seeder: Seeder) -> None:
    obj = catalog.get("organization")
    rng = seeder.rng("organization")
    stamp = seeder.stamps("organization")[0]
    stamp.id = seeder.organization_id
    seeder.ctx.refs["organization"] = [stamp.id]
    place = words.address(rng)
    seeder.data["organization"].append(
        {
            **stamp.base(obj),
            "archived": False,
            "name": seeder.organization_name,
            "address": place,
            "mailingAddress": dict(place),
            "phone": words.phone(rng),
        }
    )
