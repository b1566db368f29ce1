"""Write bodies for the emulator's write tests (BILL's write shape, seeded references)."""

from __future__ import annotations

from typing import Any

from bill_emulator.models import Organization


def ids(organization: Organization, stream: str) -> list[str]:
    return [r["id"] for r in organization.list(stream) if not r.get("archived")]


def vendor_body(name: str = "Happy Music Supplies", **extra: Any) -> dict[str, Any]:
    return {"name": name, "accountType": "BUSINESS", "email": "info@happy.example", **extra}


def bill_body(organization: Organization, number: str = "202501", **extra: Any) -> dict[str, Any]:
    return {
        "vendorId": ids(organization, "vendors")[0],
        "dueDate": "2025-12-31",
        "invoice": {"invoiceNumber": number, "invoiceDate": "2025-12-01"},
        "billLineItems": [
            {"amount": 149, "description": "USB audio interface"},
            {"amount": 79.99, "description": "Drum foot pedal"},
        ],
        **extra,
    }


def invoice_body(organization: Organization, **extra: Any) -> dict[str, Any]:
    return {
        "customer": {"id": ids(organization, "customers")[0]},
        "invoiceNumber": "202502",
        "dueDate": "2025-12-31",
        "invoiceLineItems": [
            {"quantity": 2, "description": "Drum sticks", "price": 14.99},
            {"quantity": 1, "description": "Guitar picks", "price": 50},
        ],
        "processingOptions": {"sendEmail": False},
        **extra,
    }


def body_for(stream: str, organization: Organization) -> dict[str, Any]:
    if stream == "vendors":
        return vendor_body()
    if stream == "customers":
        return {"name": "Drum Club", "email": "club@drums.example"}
    if stream == "bills":
        return bill_body(organization)
    return invoice_body(organization)


PREFIXES = {"vendors": "009", "customers": "0cu", "bills": "00n", "invoices": "00e"}
