"""target-billcom given records shaped like BILL's own example requests (the Postman
collection in reference/bill-v3/), written to the emulator, which takes them as BILL does."""

from __future__ import annotations

from typing import Any

from bill_emulator import Emulator
from tests.targetrun import messages_for, run_target, singer_lines


def test_an_invoice_line_given_as_amount_and_quantity_keeps_its_amount(
    emulator: Emulator, tap_config: dict[str, Any]
) -> None:
    customer = next(c for c in emulator.organization().list("customers") if not c["archived"])
    invoice = {
        "invoiceNumber": "EX-1",
        "customerId": customer["id"],
        "invoiceLineItems": [
            {"description": "Premium drummer gloves", "amount": 29.99, "quantity": 1},
            {"description": "Classic extreme drum sticks", "price": 14.99, "quantity": 2},
        ],
    }
    run = run_target(
        tap_config, singer_lines(messages_for("invoices", [invoice])), emulator=emulator
    )
    assert run.returncode == 0, run.stderr[-3000:]
    written = next(
        i for i in emulator.organization().list("invoices") if i.get("invoiceNumber") == "EX-1"
    )
    assert written["totalAmount"] == 59.97
