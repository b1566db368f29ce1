"""HTTP handlers of the write side: create, bulk create, update, replace, archive, restore of
vendors, customers, bills and invoices. The rules live in `writes` and `write_checks`; this
module only reads bodies and shapes answers.

Paths come from bill_core.catalog (the replay of BILL's examples checks them); statuses and
bulk answers from BILL's Postman collection (reference/bill-v3/): creates 201, everything else
200, a vendor bank account's create 200 and delete 204.
"""

from __future__ import annotations

import json
import math
from typing import Any

from bill_core import catalog
from bill_emulator import bank_accounts, views, writes
from bill_emulator.errors import BillError
from bill_emulator.routes import Call, Reply, Route

#: Largest bulk create: https://developer.bill.com/reference/createbulkvendor ("up to 20
#: vendors"), https://developer.bill.com/reference/createbulkbills (100).
BULK_LIMITS = {"vendors": 20, "bills": 100}
#: The key wrapping a bulk create's answer: `{"vendors": [...]}`; bills answer a bare array
#: (the "Create multiple vendors/bills" example responses).
BULK_KEYS: dict[str, str | None] = {"vendors": "vendors", "bills": None}


def _unique_names(call: Call) -> bool:
    return call.emulator.config.refuse_duplicate_vendor_names


def create_record(call: Call) -> Reply:
    stream = _stream(call)
    body = _body(call, dict)
    record = writes.create(call.organization, stream, body, unique_vendor_names=_unique_names(call))
    return Reply(201, views.present(stream, record))


def create_bulk(call: Call) -> Reply:
    """`POST <path>/bulk`: a JSON array of at most BULK_LIMITS items, all or nothing."""
    stream = _stream(call)
    bill_object = catalog.get(stream)
    limit = BULK_LIMITS[stream]
    items = _body(call, list)
    # Code and message of an oversized or empty batch are undocumented (assumption: BDC_1129,
    # like other out-of-range parameters; https://developer.bill.com/reference/createbulkvendor).
    if len(items) > limit:
        raise BillError("BDC_1129", message=f"at most {limit} {stream} per request")
    if not items:
        raise BillError("BDC_1129", message=f"at least 1 {bill_object.noun} per request")
    records = writes.create_many(
        call.organization, stream, items, unique_vendor_names=_unique_names(call)
    )
    shown = [views.present(stream, record) for record in records]
    key = BULK_KEYS[stream]
    return Reply(201, {key: shown} if key else shown)


def update_record(call: Call) -> Reply:
    stream = _stream(call)
    body = _body(call, dict)
    record = writes.update(
        call.organization, stream, _id(call), body, unique_vendor_names=_unique_names(call)
    )
    return Reply(200, views.present(stream, record))


def replace_record(call: Call) -> Reply:
    stream = _stream(call)
    body = _body(call, dict)
    record = writes.replace(
        call.organization, stream, _id(call), body, unique_vendor_names=_unique_names(call)
    )
    return Reply(200, views.present(stream, record))


def create_vendor_bank_account(call: Call) -> Reply:
    """`POST /v3/vendors/{vendorId}/bank-account`: 200 with the account, number masked."""
    account = bank_accounts.create(call.organization, call.params["vendorId"], _body(call, dict))
    return Reply(200, views.present("vendor_bank_accounts", account))


def delete_vendor_bank_account(call: Call) -> Reply:
    """`DELETE /v3/vendors/{vendorId}/bank-account`: 204, no body."""
    bank_accounts.delete(call.organization, call.params["vendorId"])
    return Reply(204, None)


def archive_record(call: Call) -> Reply:
    stream = _stream(call)
    return Reply(200, views.present(stream, writes.archive(call.organization, stream, _id(call))))


def restore_record(call: Call) -> Reply:
    stream = _stream(call)
    return Reply(200, views.present(stream, writes.restore(call.organization, stream, _id(call))))


def routes() -> list[Route]:
    """The write routes of every stream target-billcom writes."""
    table: list[Route] = []
    for stream in writes.WRITABLE_STREAMS:
        bill_object = catalog.get(stream)
        item = bill_object.item_path
        table += [
            Route("POST", bill_object.path, create_record, stream=stream),
            Route("PATCH", item, update_record, stream=stream),
            Route("POST", f"{item}/archive", archive_record, stream=stream),
            Route("POST", f"{item}/restore", restore_record, stream=stream),
        ]
        if writes.SHAPES[stream].line_items:  # PUT exists for bills and invoices only
            table.append(Route("PUT", item, replace_record, stream=stream))
        if stream in BULK_LIMITS:
            table.append(Route("POST", f"{bill_object.path}/bulk", create_bulk, stream=stream))
    account = catalog.get("vendor_bank_accounts")
    table += [
        Route("POST", account.path, create_vendor_bank_account, stream=account.stream),
        Route("DELETE", account.path, delete_vendor_bank_account, stream=account.stream),
    ]
    return table


def _stream(call: Call) -> str:
    stream = call.route.stream
    assert stream is not None
    return stream


def _id(call: Call) -> str:
    return call.params["id"]


def _body(call: Call, expected: type[dict[str, Any]] | type[list[Any]]) -> Any:
    """The JSON body, which must be an object (or, for bulk calls, an array): else 400
    BDC_1122 "Error Parsing Json Object" (https://developersupport.bill.com/hc/en-us/articles/
    208762056). An empty body is an empty object (then the checks name what is missing)."""
    raw = call.request.body
    if not raw.strip() and expected is dict:
        return {}
    try:
        body = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError) as error:
        raise BillError("BDC_1122", str(error)) from None
    if not isinstance(body, expected):
        wanted = "an object" if expected is dict else "an array"
        raise BillError("BDC_1122", f"expected {wanted}, not {_json_type(body)}")
    return body


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's parser accepts them by default)."""
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


def _finite(text: str) -> float:
    """1e400 parses as infinity, which cannot be answered as JSON: refused like NaN."""
    value = float(text)
    if not math.isfinite(value):
        msg = f"{text} is out of range"
        raise ValueError(msg)
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else f"a {type(value).__name__}"
