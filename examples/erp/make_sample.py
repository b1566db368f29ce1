"""Write examples/erp/sample.singer: an ERP's vendors, customers, AP bills and AR invoices as
Singer messages in BILL v3 field names, referencing each other by name.

    python examples/erp/make_sample.py

Bills come first on purpose: target-billcom writes parents before children whatever order
the streams arrive in. Amounts are exact decimals written as JSON numbers.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson

HERE = Path(__file__).resolve().parent
TEXT = {"type": ["string", "null"]}
NUMBER = {"type": ["number", "null"]}
DATE = {"type": ["string", "null"], "format": "date"}
ADDRESS = {
    "type": ["object", "null"],
    "properties": dict.fromkeys(
        ("line1", "city", "stateOrProvince", "zipOrPostalCode", "country"), TEXT
    ),
}
CLASSIFICATIONS = {
    "type": ["object", "null"],
    "properties": {"chartOfAccountName": TEXT, "departmentName": TEXT, "itemName": TEXT},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "vendors": {
        "name": TEXT,
        "email": TEXT,
        "phone": TEXT,
        "accountType": TEXT,
        "billCurrency": TEXT,
        "address": ADDRESS,
    },
    "customers": {
        "name": TEXT,
        "email": TEXT,
        "companyName": TEXT,
        "accountType": TEXT,
        "invoiceCurrency": TEXT,
        "billingAddress": ADDRESS,
    },
    "bills": {
        "vendorName": TEXT,
        "dueDate": DATE,
        "description": TEXT,
        "invoice": {"type": "object", "properties": {"invoiceNumber": TEXT, "invoiceDate": DATE}},
        "billLineItems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "amount": NUMBER,
                    "description": TEXT,
                    "classifications": CLASSIFICATIONS,
                },
            },
        },
    },
    "invoices": {
        "customerName": TEXT,
        "invoiceNumber": TEXT,
        "invoiceDate": DATE,
        "dueDate": DATE,
        "invoiceLineItems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "quantity": NUMBER,
                    "price": NUMBER,
                    "description": TEXT,
                    "classifications": CLASSIFICATIONS,
                },
            },
        },
    },
}
VENDORS = [
    "Northwind Traders",
    "Contoso Paper Co.",
    "Fabrikam Freight",
    "Litware Software",
    "Adventure Works Rentals",
    "Tailspin Cleaning",
    "Wingtip Catering",
    "Proseware Legal",
]
CUSTOMERS = [
    "Alpine Ski House",
    "Coho Winery",
    "Datum Corporation",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Lucerne Publishing",
]
ACCOUNTS = ["Office Supplies", "Rent", "Software Subscriptions", "Professional Services", "Travel"]


def address(number: int) -> dict[str, str]:
    return {
        "line1": f"{100 + number} Market Street",
        "city": "San Jose",
        "stateOrProvince": "CA",
        "zipOrPostalCode": f"9500{number % 10}",
        "country": "US",
    }


def records() -> dict[str, list[dict[str, Any]]]:
    vendors = [
        {
            "name": n,
            "email": f"ap@{n.split()[0].lower()}.example",
            "phone": "4085550100",
            "accountType": "BUSINESS",
            "billCurrency": "USD",
            "address": address(i),
        }
        for i, n in enumerate(VENDORS)
    ]
    customers = [
        {
            "name": n,
            "email": f"billing@{n.split()[0].lower()}.example",
            "companyName": f"{n} LLC",
            "accountType": "BUSINESS",
            "invoiceCurrency": "USD",
            "billingAddress": address(i),
        }
        for i, n in enumerate(CUSTOMERS)
    ]
    bills = []
    for i in range(24):
        lines = [
            {
                "amount": Decimal(f"{(i * 37 + j * 11) % 900 + 25}.{(i * 7 + j) % 100:02d}"),
                "description": f"Service period {i + 1}, part {j + 1}",
                "classifications": {"chartOfAccountName": ACCOUNTS[(i + j) % len(ACCOUNTS)]},
            }
            for j in range(1 + i % 3)
        ]
        bills.append(
            {
                "vendorName": VENDORS[i % len(VENDORS)],
                "dueDate": f"2026-12-{i + 1:02d}",
                "description": f"AP invoice {i + 1}",
                "invoice": {
                    "invoiceNumber": f"AP-{2026_1000 + i}",
                    "invoiceDate": f"2026-11-{i + 1:02d}",
                },
                "billLineItems": lines,
            }
        )
    invoices = []
    for i in range(18):
        lines = [
            {
                "quantity": Decimal(1 + (i + j) % 4),
                "price": Decimal(f"{(i * 53 + j * 17) % 500 + 10}.{(i + j * 3) % 100:02d}"),
                "description": f"Consulting block {j + 1}",
            }
            for j in range(1 + i % 2)
        ]
        invoices.append(
            {
                "customerName": CUSTOMERS[i % len(CUSTOMERS)],
                "invoiceNumber": f"AR-{2026_5000 + i}",
                "invoiceDate": "2026-11-20",
                "dueDate": f"2026-12-{i + 10:02d}",
                "invoiceLineItems": lines,
            }
        )
    return {"bills": bills, "vendors": vendors, "invoices": invoices, "customers": customers}


def main() -> None:
    lines = []
    for stream, rows in records().items():
        schema = {"type": "object", "properties": SCHEMAS[stream]}
        lines.append({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": []})
        lines.extend({"type": "RECORD", "stream": stream, "record": row} for row in rows)
        lines.append({"type": "STATE", "value": {"bookmarks": {stream: {"done": True}}}})
    # simplejson writes Decimals as exact JSON numbers (never through float).
    text = "".join(simplejson.dumps(line, use_decimal=True) + "\n" for line in lines)
    (HERE / "sample.singer").write_text(text)


if __name__ == "__main__":
    main()
