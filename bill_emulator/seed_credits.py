"""Seeded vendor credits and credit memos (applied to the same party's open bills and
invoices), and recurring bill and invoice templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bill_core import catalog
from bill_emulator import words
from bill_emulator.formats import date_plus_days, format_date, money, new_id
from bill_emulator.models import LINE_ITEM_PREFIXES
from bill_emulator.seed_parties import pick
from bill_emulator.store import Record

if TYPE_CHECKING:
    from bill_emulator.seed_transactions import Money, TransactionSeeder


@dataclass
class Credit:
    """A vendor credit or credit memo being built (amounts in cents)."""

    base: Record
    party_id: str
    lines: list[Record] = field(default_factory=list)
    total: int = 0
    applied: int = 0
    #: (index of the bill or invoice, cents applied to it)
    usage: list[tuple[int, int]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.applied == 0:
            return "NOT_APPLIED"
        return "FULLY_APPLIED" if self.applied >= self.total else "PARTIALLY_APPLIED"


def _credits(
    tx: TransactionSeeder,
    stream: str,
    party: str,
    by_party: dict[str, list[int]],
    owed_list: list[Money],
) -> list[Credit]:
    """Credits for random parties, applied (half of the time) to one of that party's open
    bills or invoices."""
    obj, rng = catalog.get(stream), tx.seeder.rng(stream)
    created = []
    for stamp in tx.seeder.stamps(stream):
        credit = Credit(stamp.base(obj), pick(rng, tx.refs[party]))
        for _ in range(rng.randint(1, 2)):
            quantity, price = rng.randint(1, 3), rng.randrange(500, 50_000)
            credit.total += quantity * price
            credit.lines.append(
                {"quantity": quantity, "price": money(price), "amount": money(quantity * price)}
            )
        open_documents = [
            i
            for i in by_party.get(credit.party_id, ())
            if owed_list[i].due > 0 and owed_list[i].scheduled == 0
        ]
        if open_documents and rng.random() < 0.5:
            target = open_documents[rng.randrange(len(open_documents))]
            applied = min(credit.total, owed_list[target].due)
            owed_list[target].credit += applied
            credit.applied = applied
            credit.usage.append((target, applied))
        created.append(credit)
    return created


def vendor_credits(tx: TransactionSeeder) -> None:
    bills = tx.data["bills"]
    rng = tx.seeder.rng("vendor_credits:text")
    expense = tx.seeder.accounts["EXPENSE"]
    for credit in _credits(tx, "vendor_credits", "vendors", tx.bills_by_vendor, tx.bill_money):
        items = [
            {
                "id": new_id(LINE_ITEM_PREFIXES["vendorCreditLineItems"], rng),
                "description": f"Credit: {words.goods(rng)}",
                "amount": line["amount"],
                "classifications": {"chartOfAccountId": expense[0]},
            }
            for line in credit.lines
        ]
        tx.data["vendor_credits"].append(
            {
                **credit.base,
                "vendorId": credit.party_id,
                "referenceNumber": f"VC-{words.digits(rng, 5)}",
                "creditDate": credit.base["createdTime"][:10],
                "description": "Vendor credit",
                "amount": money(credit.total),
                "appliedAmount": money(credit.applied),
                "status": credit.status,
                "vendorCreditLineItems": items,
                "usage": [
                    {"billId": bills[i]["id"], "amount": money(amount)}
                    for i, amount in credit.usage
                ],
            }
        )


def credit_memos(tx: TransactionSeeder) -> None:
    invoices = tx.data["invoices"]
    rng = tx.seeder.rng("credit_memos:text")
    income = tx.seeder.accounts["INCOME"]
    for credit in _credits(
        tx, "credit_memos", "customers", tx.invoices_by_customer, tx.invoice_money
    ):
        items = [
            {
                **line,
                "id": new_id(LINE_ITEM_PREFIXES["creditMemoLineItems"], rng),
                "description": f"Credit: {words.goods(rng)}",
                "taxable": False,
                "classifications": {"chartOfAccountId": income[0]},
            }
            for line in credit.lines
        ]
        tx.data["credit_memos"].append(
            {
                **credit.base,
                "customerId": credit.party_id,
                "referenceNumber": f"CM-{words.digits(rng, 5)}",
                "creditDate": credit.base["createdTime"][:10],
                "description": "Customer credit",
                "amount": money(credit.total),
                "appliedAmount": money(credit.applied),
                "salesTaxTotal": 0.0,
                "salesTaxPercentage": 0.0,
                "status": credit.status,
                "creditMemoLineItems": items,
                "usage": [
                    {"invoiceId": invoices[i]["id"], "amount": money(amount)}
                    for i, amount in credit.usage
                ],
            }
        )


def recurring_bills(tx: TransactionSeeder) -> None:
    obj, rng = catalog.get("recurring_bills"), tx.seeder.rng("recurring_bills")
    expense = tx.seeder.accounts["EXPENSE"]
    for stamp in tx.seeder.stamps("recurring_bills"):
        start = format_date(stamp.created_ms)
        tx.data["recurring_bills"].append(
            {
                **stamp.base(obj),
                "vendorId": pick(rng, tx.refs["vendors"]),
                "description": f"Monthly {words.goods(rng).lower()}",
                "schedule": _schedule(start),
                "recurringBillLineItems": [
                    {
                        "id": new_id(LINE_ITEM_PREFIXES["recurringBillLineItems"], rng),
                        "amount": money(rng.randrange(5_000, 300_000)),
                        "description": words.goods(rng),
                        "classifications": {"chartOfAccountId": expense[0]},
                    }
                ],
                "processingOptions": {"autoPayment": False},
                "paymentInformation": {"bankAccountId": tx.refs["bank_accounts"][0]},
            }
        )


def recurring_invoices(tx: TransactionSeeder) -> None:
    obj, rng = catalog.get("recurring_invoices"), tx.seeder.rng("recurring_invoices")
    income = tx.seeder.accounts["INCOME"]
    for stamp in tx.seeder.stamps("recurring_invoices"):
        quantity, price = rng.randint(1, 3), rng.randrange(5_000, 100_000)
        tx.data["recurring_invoices"].append(
            {
                **stamp.base(obj),
                "customerId": pick(rng, tx.refs["customers"]),
                "description": "Monthly service retainer",
                "schedule": _schedule(format_date(stamp.created_ms)),
                "recurringInvoiceLineItems": [
                    {
                        "id": new_id(LINE_ITEM_PREFIXES["recurringInvoiceLineItems"], rng),
                        "description": "Service retainer",
                        "quantity": quantity,
                        "price": money(price),
                        "amount": money(quantity * price),
                        "taxable": False,
                        "classifications": {"chartOfAccountId": income[-1]},
                    }
                ],
                "sendEmail": False,
            }
        )


def _schedule(start: str) -> Record:
    return {
        "period": "MONTHLY",
        "frequency": 1,
        "nextDueDate": date_plus_days(start, 30),
        "endDate": date_plus_days(start, 365),
        "daysInAdvance": 5,
    }
