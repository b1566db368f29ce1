"""Fill every documented field of a record with a plausible value, chosen by name and kind.

The seeder sets the fields that must agree with each other (ids, references, amounts); this
module completes each record with every other field BILL's documentation shows for the object
(`shapes`: the example responses of BILL's Postman collection, plus hand-written additions),
so the emulator serves what BILL's examples show (the stripe-mock idea:
https://github.com/stripe/stripe-mock). A shape is compiled once per stream into closures:
seeding a million records walks no shape.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bill_core import catalog
from bill_emulator import shapes, words
from bill_emulator.formats import format_date, format_time, money, new_id
from bill_emulator.models import NESTED_ID_PREFIXES

#: A generator returns MISSING to leave an optional field out of a record.
MISSING: Any = object()


@dataclass
class FillContext:
    """What generated values may depend on: randomness, the ids seeded so far, the time span."""

    rng: random.Random
    organization_id: str
    start_ms: int
    end_ms: int
    #: Stream -> ids generated so far (references point at real records).
    refs: MutableMapping[str, list[str]] = field(default_factory=dict)


Generator = Callable[[FillContext], Any]
Completer = Callable[[Any, FillContext], None]

#: `*Id` fields -> the stream their ids belong to.
REFERENCES: Mapping[str, str] = {
    "vendorId": "vendors",
    "customerId": "customers",
    "billId": "bills",
    "invoiceId": "invoices",
    "paymentId": "payments",
    "chartOfAccountId": "chart_of_accounts",
    "accountingClassId": "accounting_classes",
    "departmentId": "departments",
    "employeeId": "employees",
    "jobId": "jobs",
    "locationId": "locations",
    "itemId": "items",
    "salesTaxItemId": "items",
    "userId": "users",
    "createdBy": "users",
    "requestedBy": "users",
    "roleId": "roles",
    "paymentTermId": "payment_terms",
}
#: Arrays whose elements' `id` references another stream.
NESTED_REFERENCES: Mapping[str, str] = {"vendorCredits": "vendor_credits"}

_INTEGER_RANGES: Mapping[str, tuple[int, int]] = {
    "leadTimeInDays": (0, 14),
    "daysBeforeDueDate": (0, 10),
    "frequency": (1, 3),
    "daysInAdvance": (0, 10),
    "daysDue": (0, 90),
    "approverOrder": (1, 3),
    "checkNumber": (1000, 99999),
    "traceNumber": (100000, 999999),
    "batchNumber": (1000, 9999),
}


def reference(ctx: FillContext, stream: str) -> str:
    ids = ctx.refs.get(stream)
    if ids:
        return ids[int(ctx.rng.random() * len(ids))]
    return new_id(catalog.get(stream).id_prefix, ctx.rng)


@functools.cache
def completer(stream: str) -> Completer | None:
    """Fills the missing fields of a record of this stream; None for an undocumented object.

    `owned` paths (see `OWNED`) are never added: the seeder decides whether they exist
    (a vendor without a bank account has no `paymentInformation.bankAccount`).
    """
    shape = shapes.shape(stream)
    if shape is None:
        return None
    _, complete = _compile_object(shape, "", "", stream)
    return complete


#: Optional nested objects whose presence the seeder decides.
OWNED: Mapping[str, frozenset[str]] = {
    "vendors": frozenset({"paymentInformation.bankAccount"}),
}


def _compile(
    node: Any, path: str, name: str, *, container: str | None, stream: str
) -> tuple[Generator, Completer | None]:
    if isinstance(node, Mapping):
        return _compile_object(node, path, name, stream)
    if isinstance(node, list):
        item_generate, item_complete = _compile(
            node[0] if node else "any", path, name, container=name, stream=stream
        )

        def generate_array(ctx: FillContext) -> list[Any]:
            return [item_generate(ctx) for _ in range(ctx.rng.randint(1, 2))]

        def complete_array(values: Any, ctx: FillContext) -> None:
            if isinstance(values, list) and item_complete is not None:
                for value in values:
                    item_complete(value, ctx)

        return generate_array, complete_array if item_complete is not None else None
    return _leaf(name, str(node), container, stream), None


def _compile_object(
    properties: Mapping[str, Any], path: str, name: str, stream: str
) -> tuple[Generator, Completer]:
    owned = OWNED.get(stream, frozenset())
    compiled: list[tuple[str, Generator, Completer | None, bool]] = []
    for key, child in properties.items():
        child_path = f"{path}.{key}" if path else key
        generate, complete = _compile(child, child_path, key, container=None, stream=stream)
        compiled.append((key, generate, complete, child_path in owned))

    def complete_object(value: Any, ctx: FillContext) -> None:
        # The hot loop of seeding: runs once per object of every seeded record.
        if value.__class__ is not dict:
            return
        for key, generate, complete, is_owned in compiled:
            if key in value:
                if complete is not None:
                    current = value[key]
                    if current is not None:
                        complete(current, ctx)
            elif not is_owned:
                generated = generate(ctx)
                if generated is not MISSING:
                    value[key] = generated

    is_address = name == "address" or name.endswith("Address")

    def generate_object(ctx: FillContext) -> dict[str, Any]:
        value = words.address(ctx.rng) if is_address else {}
        complete_object(value, ctx)
        return value

    return generate_object, complete_object


#: Whole numbers by nature, though BILL's examples show them as decimals.
WHOLE_NUMBERS = frozenset(
    {"approverOrder", "daysBeforeDueDate", "daysDue", "daysInAdvance", "frequency"}
    | {"leadTimeInDays"}
)


def _choices(name: str, kind: str) -> tuple[str, ...]:
    """The sample values of an `enum:` kind. Currencies and countries are left to the text
    rules: the seeded organization is a US one, so USD and US."""
    lowered = name.lower()
    if not kind.startswith("enum:") or lowered.endswith("currency") or lowered == "country":
        return ()
    return tuple(kind.removeprefix("enum:").split(","))


def _leaf(name: str, kind: str, container: str | None, stream: str) -> Generator:
    choices = _choices(name, kind)
    if choices:
        return lambda ctx: choices[ctx.rng.randrange(len(choices))]
    if kind == "boolean":
        return (lambda ctx: False) if name == "archived" else (lambda ctx: ctx.rng.random() < 0.5)
    if kind == "integer" or (kind == "number" and name in WHOLE_NUMBERS):
        low, high = _INTEGER_RANGES.get(name, (0, 30))
        return lambda ctx: ctx.rng.randint(low, high)
    if kind == "number":
        return _number(name)
    fmt = kind if kind in _FORMATTED else ""
    fmt = fmt or ("date-time" if name.endswith("Time") else "date" if name.endswith("Date") else "")
    if fmt in _FORMATTED:
        return _FORMATTED[fmt]
    return _string(name, container, stream)


_FORMATTED: Mapping[str, Generator] = {
    "date-time": lambda ctx: format_time(ctx.rng.randint(ctx.start_ms, ctx.end_ms)),
    "date": lambda ctx: format_date(ctx.rng.randint(ctx.start_ms, ctx.end_ms)),
}


def _number(name: str) -> Generator:
    lowered = name.lower()
    if name == "exchangeRate":
        return lambda ctx: 1.0
    if "percent" in lowered or "rate" in lowered:
        return lambda ctx: money(ctx.rng.randrange(0, 1000))
    if name == "quantity":
        return lambda ctx: ctx.rng.randint(1, 5)
    return lambda ctx: money(ctx.rng.randrange(100, 500_000))


def _string(name: str, container: str | None, stream: str) -> Generator:
    if name == "id":
        return _nested_id(container, stream)
    if name == "organizationId":
        return lambda ctx: ctx.organization_id
    if name == "parentId":
        # The seeder builds classification hierarchies itself; elsewhere there is no parent.
        return lambda ctx: MISSING
    target = REFERENCES.get(name)
    if target is None and name.endswith("ChartOfAccountId"):
        target = "chart_of_accounts"
    if target is None and name.endswith("BankAccountId"):
        target = "bank_accounts"
    if target is not None:
        return lambda ctx: reference(ctx, target)
    if name.endswith("Id"):
        return lambda ctx: new_id("0du" if "Pdf" in name else "0rv", ctx.rng)
    return _text(name)


def _nested_id(container: str | None, stream: str) -> Generator:
    if container is not None and container in NESTED_REFERENCES:
        target = NESTED_REFERENCES[container]
        return lambda ctx: reference(ctx, target)
    prefix = NESTED_ID_PREFIXES.get(container or "", catalog.get(stream).id_prefix)
    return lambda ctx: new_id(prefix, ctx.rng)


_TEXT: Mapping[str, Generator] = {
    "firstName": lambda ctx: words.person(ctx.rng)[0],
    "lastName": lambda ctx: words.person(ctx.rng)[1],
    "line1": lambda ctx: words.address(ctx.rng)["line1"],
    "line2": lambda ctx: words.address(ctx.rng)["line2"],
    "city": lambda ctx: words.address(ctx.rng)["city"],
    "stateOrProvince": lambda ctx: words.address(ctx.rng)["stateOrProvince"],
    "zipOrPostalCode": lambda ctx: words.address(ctx.rng)["zipOrPostalCode"],
    "country": lambda ctx: "US",
    "countryName": lambda ctx: "United States",
    "routingNumber": lambda ctx: words.ROUTING_NUMBERS[ctx.rng.randrange(5)],
    "bankName": lambda ctx: words.BANKS[ctx.rng.randrange(len(words.BANKS))],
    "taxId": lambda ctx: f"{words.digits(ctx.rng, 2)}-{words.digits(ctx.rng, 7)}",
    "downloadLink": lambda ctx: f"https://emulator.invalid/documents/{words.digits(ctx.rng, 8)}",
    "shortName": lambda ctx: words.company_name(ctx.rng, ctx.rng.randrange(600))[:3].upper(),
    "industry": lambda ctx: "Professional services",
}


#: (test on the lower-cased name, generator): the first rule that matches wins.
_TEXT_RULES: tuple[tuple[Callable[[str], bool], Generator], ...] = (
    (lambda n: "email" in n, lambda ctx: words.email_for(words.person(ctx.rng)[1], ctx.rng)),
    (lambda n: "phone" in n or n == "fax", lambda ctx: words.phone(ctx.rng)),
    (lambda n: "currency" in n, lambda ctx: "USD"),
    (lambda n: n.startswith("last4"), lambda ctx: words.digits(ctx.rng, 4)),
    (lambda n: "number" in n, lambda ctx: words.digits(ctx.rng, 10)),
    (lambda n: "name" in n, lambda ctx: words.company_name(ctx.rng, ctx.rng.randrange(600))),
    (
        lambda n: n in ("description", "text", "reason", "memo", "message", "note"),
        lambda ctx: words.sentence(ctx.rng),
    ),
    (lambda n: n.endswith(("type", "status")) or n in ("code", "value"), lambda ctx: "UNDEFINED"),
)


def _text(name: str) -> Generator:
    if name in _TEXT:
        return _TEXT[name]
    lowered = name.lower()
    for test, generate in _TEXT_RULES:
        if test(lowered):
            return generate
    label = name[:1].upper() + name[1:]
    return lambda ctx: f"{label} {ctx.rng.randrange(1, 1000)}"


def complete(stream: str, records: Sequence[dict[str, Any]], ctx: FillContext) -> None:
    """Complete records in place from the stream's shape (no-op for an undocumented one)."""
    fill = completer(stream)
    if fill is None:
        return
    for record in records:
        fill(record, ctx)
