"""Seeded AP and AR records whose references and amounts agree with each other.

- bills reference vendors, invoices customers, line items the chart of accounts;
- a bill's `amount` is the sum of its line items, an invoice's `totalAmount` the sum of
  `price * quantity` over its lines;
- payments pay distinct bills and received payments distinct invoices; vendor credits and
  credit memos are applied to the same vendor's bills / customer's invoices; `paidAmount`,
  `creditAmount`, `dueAmount` (= amount - paid - credit, never negative) and the payment
  status follow from them; vendor and customer balances are the sums of what is due.

Amounts are integer cents until written (exact sums, see `formats.money`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bill_core import catalog
from bill_emulator import demo, seed_credits, seed_parties, words
from bill_emulator.formats import date_plus_days, format_date, format_time, money, new_id
from bill_emulator.models import LINE_ITEM_PREFIXES
from bill_emulator.store import Record

if TYPE_CHECKING:
    from bill_emulator.seed import Seeder


@dataclass
class Money:
    """What is owed on one bill or invoice, in cents."""

    amount: int
    paid: int = 0
    credit: int = 0
    scheduled: int = 0

    @property
    def due(self) -> int:
        return self.amount - self.paid - self.credit


class TransactionSeeder:
    def __init__(self, seeder: Seeder) -> None:
        self.seeder = seeder
        self.data = seeder.data
        self.refs = seeder.ctx.refs
        self.bill_money: list[Money] = []
        self.invoice_money: list[Money] = []
        self.bills_by_vendor: dict[str, list[int]] = {}
        self.invoices_by_customer: dict[str, list[int]] = {}

    def build(self) -> None:
        seed_parties.vendors(self.seeder)
        seed_parties.customers(self.seeder)
        self._bills()
        self._invoices()
        self._payments()
        self._receivable_payments()
        seed_credits.vendor_credits(self)
        seed_credits.credit_memos(self)
        self._finish_bills()
        self._finish_invoices()
        seed_credits.recurring_bills(self)
        seed_credits.recurring_invoices(self)

    # -- parties -------------------------------------------------------------------------

    def _bills(self) -> None:
        obj, rng = catalog.get("bills"), self.seeder.rng("bills")
        vendors = self.data["vendors"]
        expense = self.seeder.accounts["EXPENSE"]
        bank = self.seeder.accounts["BANK"][0]
        documents: list[Record] = []
        line_prefix = LINE_ITEM_PREFIXES["billLineItems"]
        for index, stamp in enumerate(self.seeder.stamps("bills")):
            vendor = vendors[rng.randrange(len(vendors))]
            lines = []
            total = 0
            for _ in range(rng.randint(1, 3)):
                line: Record = {
                    "id": new_id(line_prefix, rng),
                    "description": words.goods(rng),
                    "classifications": {"chartOfAccountId": expense[rng.randrange(len(expense))]},
                }
                # Half the lines are a single amount (BILL takes `amount`, or quantity + price).
                if rng.random() < 0.5:
                    quantity, price = rng.randint(1, 10), rng.randrange(100, 50_000)
                else:
                    quantity, price = 1, rng.randrange(1_000, 500_000)
                amount = quantity * price
                line["quantity"], line["price"], line["amount"] = (
                    quantity,
                    money(price),
                    money(amount),
                )
                total += amount
                lines.append(line)
            invoice_date = format_date(stamp.created_ms)
            number = f"INV-{rng.randrange(100_000, 999_999)}"
            self.data["bills"].append(
                {
                    **stamp.base(obj),
                    "vendorId": vendor["id"],
                    "vendorName": vendor["name"],
                    "description": words.sentence(rng),
                    "invoice": {"invoiceNumber": number, "invoiceDate": invoice_date},
                    "dueDate": date_plus_days(invoice_date, 30),
                    "billLineItems": lines,
                    "payFromChartOfAccountId": bank,
                    "exchangeRate": 1.0,
                    "approvalStatus": ("APPROVED", "ASSIGNED", "DENIED")[rng.randrange(3) // 2],
                    "classifications": {
                        "chartOfAccountId": lines[0]["classifications"]["chartOfAccountId"]
                    },
                    "purchaseOrderNumber": f"PO-{rng.randrange(1000, 9999)}",
                }
            )
            self.bill_money.append(Money(total))
            self.bills_by_vendor.setdefault(vendor["id"], []).append(index)
            for copy in range(rng.randrange(3)):
                documents.append(
                    {
                        "billId": stamp.id,
                        "name": f"{number}.pdf" if copy == 0 else f"{number}-{copy}.png",
                    }
                )
        child = catalog.get("bill_documents")
        stamps = self.seeder.stamps("bill_documents", len(documents))
        for stamp, document in zip(stamps, documents, strict=True):
            link = f"https://emulator.invalid/v3/documents/{stamp.id}"
            self.data["bill_documents"].append(
                {**stamp.base(child), **document, "downloadLink": link}
            )

    def _invoices(self) -> None:
        obj, rng = catalog.get("invoices"), self.seeder.rng("invoices")
        customers = self.refs["customers"]
        income = self.seeder.accounts["INCOME"]
        bank = self.seeder.accounts["BANK"][0]
        line_prefix = LINE_ITEM_PREFIXES["invoiceLineItems"]
        for index, stamp in enumerate(self.seeder.stamps("invoices")):
            customer_id = customers[rng.randrange(len(customers))]
            lines = []
            total = 0
            for _ in range(rng.randint(1, 4)):
                quantity, price = rng.randint(1, 5), rng.randrange(500, 200_000)
                total += quantity * price
                lines.append(
                    {
                        "id": new_id(line_prefix, rng),
                        "description": words.goods(rng),
                        "quantity": quantity,
                        "price": money(price),
                        "classifications": {"chartOfAccountId": income[rng.randrange(len(income))]},
                    }
                )
            invoice_date = format_date(stamp.created_ms)
            self.data["invoices"].append(
                {
                    **stamp.base(obj),
                    "invoiceNumber": f"INV-{index + 1:06d}",
                    "invoiceDate": invoice_date,
                    "dueDate": date_plus_days(invoice_date, 30),
                    "customerId": customer_id,
                    "invoiceLineItems": lines,
                    "exchangeRate": 1.0,
                    "payToChartOfAccountId": bank,
                    "payments": [],
                    # Totals are the sum of the lines: no sales tax on seeded invoices.
                    "salesTaxTotal": 0.0,
                    "salesTaxPercentage": 0.0,
                }
            )
            self.invoice_money.append(Money(total))
            self.invoices_by_customer.setdefault(customer_id, []).append(index)

    def _payments(self) -> None:
        obj, rng = catalog.get("payments"), self.seeder.rng("payments")
        stamps = self.seeder.stamps("payments")
        bills = self.data["bills"]
        funding = self.refs["bank_accounts"][0]
        for stamp, bill_index in zip(
            stamps, rng.sample(range(len(bills)), len(stamps)), strict=True
        ):
            bill, owed = bills[bill_index], self.bill_money[bill_index]
            amount = owed.due if rng.random() < 0.75 else max(owed.due // 2, 1)
            scheduled = rng.random() < 0.15
            if scheduled:
                owed.scheduled += amount
            else:
                owed.paid += amount
            bill_payment: Record = {
                "id": new_id("blp", rng),
                "billId": bill["id"],
                "amount": money(amount),
                "vendorCredits": [],
            }
            if rng.random() < 0.1:
                # Vendor credits used in the payment: left to the filler (`fill`), which points
                # them at real vendor credits (they are seeded after payments).
                del bill_payment["vendorCredits"]
            self.data["payments"].append(
                {
                    **stamp.base(obj),
                    "vendorId": bill["vendorId"],
                    "vendorName": bill["vendorName"],
                    "billId": bill["id"],
                    "amount": money(amount),
                    "fundingAmount": money(amount),
                    "billPayments": [bill_payment],
                    "description": f"Payment for {bill['invoice']['invoiceNumber']}",
                    "processDate": format_date(stamp.created_ms),
                    "fundingAccount": {"type": "BANK_ACCOUNT", "id": funding},
                    "status": "SCHEDULED" if scheduled else "PAID",
                    "singleStatus": "SCHEDULED" if scheduled else "CLEARED",
                    "exchangeRate": 1.0,
                    "onlinePayment": True,
                    "createdBy": demo.DEMO_USER_ID,
                    "cancelRequestSubmitted": False,
                    "voidInfo": _void_requests(rng, stamp.updated_ms, scheduled=scheduled),
                }
            )

    def _receivable_payments(self) -> None:
        obj, rng = catalog.get("receivable_payments"), self.seeder.rng("receivable_payments")
        stamps = self.seeder.stamps("receivable_payments")
        invoices = self.data["invoices"]
        for stamp, invoice_index in zip(
            stamps, rng.sample(range(len(invoices)), len(stamps)), strict=True
        ):
            invoice, owed = invoices[invoice_index], self.invoice_money[invoice_index]
            amount = owed.due if rng.random() < 0.8 else max(owed.due // 2, 1)
            owed.paid += amount
            paid_on = format_date(stamp.created_ms)
            invoice["payments"].append(
                {
                    "id": new_id("0ip", rng),
                    "amount": money(amount),
                    "status": "PAID",
                    "date": paid_on,
                }
            )
            self.data["receivable_payments"].append(
                {
                    **stamp.base(obj),
                    "customerId": invoice["customerId"],
                    "amount": money(amount),
                    "invoicePayments": [
                        {
                            "invoiceId": invoice["id"],
                            "amount": money(amount),
                            "paymentDate": paid_on,
                        }
                    ],
                    "paymentDate": paid_on,
                    "unappliedAmount": 0.0,
                    "convenienceFeeAmount": 0.0,
                    "status": "PAID",
                    "referenceNumber": f"RCPT-{words.digits(rng, 6)}",
                    "description": f"Payment of {invoice['invoiceNumber']}",
                }
            )

    def _finish_bills(self) -> None:
        balances: dict[str, int] = {}
        for bill, owed in zip(self.data["bills"], self.bill_money, strict=True):
            bill.update(
                amount=money(owed.amount),
                fundingAmount=money(owed.amount),
                paidAmount=money(owed.paid),
                creditAmount=money(owed.credit),
                scheduledAmount=money(owed.scheduled),
                dueAmount=money(owed.due),
                paymentStatus=_bill_status(owed),
            )
            if not bill["archived"]:
                balances[bill["vendorId"]] = balances.get(bill["vendorId"], 0) + owed.due
        for vendor in self.data["vendors"]:
            vendor["balance"] = {
                "amount": money(balances.get(vendor["id"], 0)),
                "lastUpdatedDate": vendor["updatedTime"],
            }

    def _finish_invoices(self) -> None:
        balances: dict[str, int] = {}
        for invoice, owed in zip(self.data["invoices"], self.invoice_money, strict=True):
            status = "OPEN"
            if owed.due == 0:
                status = "PAID"
            elif owed.paid:
                status = "PARTIAL_PAYMENT"
            invoice.update(
                totalAmount=money(owed.amount),
                dueAmount=money(owed.due),
                creditAmount=money(owed.credit),
                scheduledAmount=0.0,
                status=status,
            )
            if not invoice["archived"]:
                customer_id = invoice["customerId"]
                balances[customer_id] = balances.get(customer_id, 0) + owed.due
        for customer in self.data["customers"]:
            customer["balance"] = {"amount": money(balances.get(customer["id"], 0))}

    # -- templates -----------------------------------------------------------------------


def _bill_status(owed: Money) -> str:
    if owed.amount and owed.due == 0:
        return "PAID"
    if owed.paid:
        return "PARTIALLY_PAID"
    if owed.scheduled:
        return "SCHEDULED"
    return "UNPAID"


def _void_requests(rng: random.Random, when_ms: int, *, scheduled: bool) -> list[Record]:
    """Now and then a void request BILL turned down: the payment stands, as its amounts say."""
    if scheduled or rng.random() >= 0.05:
        return []
    stamp = format_time(when_ms)
    return [
        {
            "id": new_id("vdi", rng),
            "requestedBy": demo.DEMO_USER_ID,
            "type": "VOID_ONLY",
            "status": "REJECTED",
            "reason": "Duplicate payment suspected",
            "createdTime": stamp,
            "updatedTime": stamp,
        }
    ]
