"""Checks on write requests: what a body must look like (`write_shapes`, `bank_details`:
BILL's documentation), plus what only the server can know: which fields it accepts, whether
referenced objects exist in this organization, whether a vendor name is taken (a switch).

Every check returns `Problem`s (field, message, BDC code) instead of raising, so one answer
can name every bad field, as BILL's error array does
(https://developer.bill.com/docs/common-api-error-codes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bill_core import catalog
from bill_emulator import bank_details
from bill_emulator.models import Organization
from bill_emulator.store import Record
from bill_emulator.write_shapes import (
    CLASSIFICATION_REFERENCES,
    MALFORMED,
    MISSING,
    Problem,
    WriteShape,
    get_path,
    validate,
)

#: BILL's answer to an invoice written with `customerId` instead of `customer: {id}`
#: (https://developer.bill.com/docs/ar-invoices writes the customer as `customer: {id}`;
#: the message was reported from a live test by a third-party integration, unverified).
CUSTOMER_REQUIRED = Problem("customer", "The customer field is required", MISSING)
#: BILL's answer to `customer` given as a string (same third-party report).
CUSTOMER_NOT_OBJECT = Problem(
    "customer", 'Cannot construct instance of InvoiceCustomer (expected {"id": ...})', MALFORMED
)
#: Where a write carries bank account details.
BANK_ACCOUNT = "paymentInformation.bankAccount"


class Checker:
    """Checks the bodies of one request against one organization.

    Use it under `organization.lock`: the answers hold only while nothing else writes. One
    checker per request, so vendor names are also compared within one bulk request.
    """

    def __init__(
        self, organization: Organization, shape: WriteShape, *, unique_vendor_names: bool = False
    ) -> None:
        self.organization = organization
        self.shape = shape
        self.noun = catalog.get(shape.stream).noun
        #: The switch EmulatorConfig.refuse_duplicate_vendor_names.
        self.unique_vendor_names = unique_vendor_names
        self._names_in_request: set[str] = set()
        self._active_names: dict[str, list[str]] | None = None

    # -- per operation -------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> list[Problem]:
        rules = self._rules(body, partial=False)
        return [
            *rules,
            *self._unknown_fields(body, rules),
            *self._references(body),
            *self._vendor_name(body, None),
        ]

    def replace(self, body: Mapping[str, Any], current: Record) -> list[Problem]:
        """PUT: the whole object, as for create; line ids must be the object's own."""
        rules = self._rules(body, partial=False)
        return [
            *rules,
            *self._unknown_fields(body, rules),
            *self._line_ids(body, current),
            *self._references(body),
            *self._vendor_name(body, current),
        ]

    def update(
        self,
        body: Mapping[str, Any],
        effective: Mapping[str, Any],
        current: Record,
        after: Mapping[str, Any],
    ) -> list[Problem]:
        """PATCH. `effective` is the body with each line that names an id merged into that
        line (so a line patch need not repeat its amount); `after` is the object as the patch
        would leave it, in write shape (a patch must not empty a required field)."""
        rules = self._rules(effective, partial=True)
        required = {p.field for p in rules}
        emptied = [
            p
            for p in validate(self.shape, after)
            if p.code == MISSING
            and p.field in (*self.shape.required, self.shape.line_items)
            and p.field not in required
        ]
        return [
            *rules,
            *emptied,
            *self._unknown_fields(body, rules),
            *self._line_ids(body, current),
            *self._references(body),
            *self._vendor_name(body, current),
        ]

    # -- the checks ----------------------------------------------------------------------

    def _rules(self, body: Mapping[str, Any], *, partial: bool) -> list[Problem]:
        """`validate`, bank details, and BILL's own words for a missing invoice customer."""
        problems = validate(self.shape, body, partial=partial)
        account = get_path(body, BANK_ACCOUNT)
        if self.shape.stream == "vendors" and account is not None:
            problems += bank_details.problems(BANK_ACCOUNT, account)
        if self.shape.stream != "invoices":
            return problems
        customer = body.get("customer")
        if customer is not None and not isinstance(customer, Mapping):
            kept = [p for p in problems if p.field != "customer.id"]
            return [CUSTOMER_NOT_OBJECT, *kept]
        if customer is None and not partial:
            return [CUSTOMER_REQUIRED if p.field == "customer.id" else p for p in problems]
        return problems

    def _unknown_fields(self, body: Mapping[str, Any], rules: list[Problem]) -> Iterator[Problem]:
        """Only the shape's writable fields are accepted (assumption: BILL refuses unknown
        fields; https://developer.bill.com/docs/ap-bills lists what a write takes)."""
        for name in body:
            if name in self.shape.writable:
                continue
            if name == "customerId" and CUSTOMER_REQUIRED in rules:
                continue  # BILL answers that request with the customer message alone
            article = "an" if self.noun[0] in "aeiou" else "a"
            yield Problem(name, f"is not a field {article} {self.noun} can be written with")
        lines = self.shape.line_items
        for index, line in _lines(body, lines):
            for name in line:
                if name not in self.shape.line_writable:
                    yield Problem(f"{lines}[{index}].{name}", "is not a line item field")

    def _line_ids(self, body: Mapping[str, Any], current: Record) -> Iterator[Problem]:
        """A line naming an id updates that line, so the id must be one of this object's."""
        lines = self.shape.line_items
        known = {line.get("id") for _, line in _lines(current, lines)}
        for index, line in _lines(body, lines):
            line_id = line.get("id")
            if line_id is not None and (not isinstance(line_id, str) or line_id not in known):
                yield Problem(f"{lines}[{index}].id", f"{line_id} does not exist")

    def _references(self, body: Mapping[str, Any]) -> Iterator[Problem]:
        """Referenced objects must exist in this organization (archived ones count)."""
        for path, stream in self.shape.references.items():
            value = get_path(body, path)
            if value not in (None, "") and not self._exists(stream, value):
                yield Problem(path, f"{value} does not exist")
        if "classifications" in self.shape.writable:
            yield from self._classifications("classifications", body.get("classifications"))
        lines = self.shape.line_items
        for index, line in _lines(body, lines):
            where = f"{lines}[{index}].classifications"
            yield from self._classifications(where, line.get("classifications"))

    def _classifications(self, where: str, value: Any) -> Iterator[Problem]:
        if value is None:
            return
        if not isinstance(value, Mapping):
            yield Problem(where, "must be an object")
            return
        for name, stream in CLASSIFICATION_REFERENCES.items():
            reference = value.get(name)
            if reference not in (None, "") and not self._exists(stream, reference):
                yield Problem(f"{where}.{name}", f"{reference} does not exist")

    def _vendor_name(self, body: Mapping[str, Any], current: Record | None) -> list[Problem]:
        """With the switch on: no two non-archived vendors share a name, compared
        case-insensitively. BILL's docs state no such rule (https://developer.bill.com/docs/
        ap-vendors), so by default names may repeat."""
        name = body.get("name")
        if not self.unique_vendor_names or self.shape.stream != "vendors":
            return []
        if not isinstance(name, str) or not name.strip():
            return []
        folded = _fold(name)
        if current is not None and _fold(current.get("name")) == folded:
            return []  # not a change of name
        own_id = current["id"] if current is not None else None
        holders = [i for i in self._active_vendor_names().get(folded, []) if i != own_id]
        taken = bool(holders) or folded in self._names_in_request
        self._names_in_request.add(folded)
        if taken:
            return [Problem("name", f'a vendor named "{name}" already exists')]
        return []

    # -- helpers -------------------------------------------------------------------------

    def _exists(self, stream: str, value: Any) -> bool:
        return isinstance(value, str) and self.organization.find(stream, value) is not None

    def _active_vendor_names(self) -> dict[str, list[str]]:
        if self._active_names is None:
            names: dict[str, list[str]] = {}
            for vendor in self.organization.list("vendors"):
                if not vendor.get("archived"):
                    names.setdefault(_fold(vendor.get("name")), []).append(vendor["id"])
            self._active_names = names
        return self._active_names


def _fold(name: Any) -> str:
    return name.strip().casefold() if isinstance(name, str) else ""


def _lines(body: Mapping[str, Any], field: str | None) -> list[tuple[int, Mapping[str, Any]]]:
    """(position, line) of the body's line items that are objects (validate reports the
    others)."""
    lines = body.get(field) if field else None
    if not isinstance(lines, list):
        return []
    return [(index, line) for index, line in enumerate(lines) if isinstance(line, Mapping)]
