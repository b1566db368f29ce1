"""Deterministic seed data: the same (seed, records) always yields the same organization.

`records` is the number of transactional records, spread like a real AP-heavy company
(bills dominate); reference data has small fixed counts. The seeder sets every field that
must agree with another (ids, references, amounts, statuses); `fill` completes each record
with the rest of its documented fields (`shapes`).

Timestamps: each stream's records are spread over 270 days from 2026-01-01T00:00:00.000Z;
about 30% were updated up to 14 days after creation. All of it lies before "now", so changes
made later through the emulator always come after. About 5% of records share their
`updatedTime` with neighbours in groups of 2-5, like a bulk create, so clients must handle
ties in `updatedTime`.
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass
from typing import Any

from bill_core import catalog
from bill_emulator import fill, shapes, views
from bill_emulator.fill import FillContext
from bill_emulator.formats import SeedRandom, format_time, new_id
from bill_emulator.models import Organization
from bill_emulator.seed_transactions import TransactionSeeder
from bill_emulator.store import Record

SPAN_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00.000Z
SPAN_MS = 270 * 86_400_000
#: Probability that a timeline slot starts a bulk-create group (mean size 3.5 -> ~5% of
#: records share their updatedTime).
GROUP_START = 0.015
UPDATED_LATER = 0.3
MAX_UPDATE_DELAY_MS = 14 * 86_400_000
ARCHIVED_SHARE = 0.05

TRANSACTIONAL_SHARES: dict[str, float] = {
    "bills": 0.60,
    "invoices": 0.15,
    "vendors": 0.05,
    "customers": 0.05,
    "payments": 0.07,
    "receivable_payments": 0.04,
    "credit_memos": 0.02,
    "vendor_credits": 0.02,
}
FIXED_COUNTS: dict[str, int] = {
    "roles": 5,
    "users": 3,
    "chart_of_accounts": 12,
    "accounting_classes": 4,
    "departments": 4,
    "employees": 4,
    "items": 4,
    "jobs": 4,
    "locations": 4,
    "payment_terms": 4,
    "bank_accounts": 2,
    "recurring_bills": 3,
    "recurring_invoices": 3,
    "organization": 1,
}


def counts(records: int) -> dict[str, int]:
    """Records per top-level stream for a `records` total (child streams depend on parents)."""
    planned = {
        stream: max(1, round(records * share)) for stream, share in TRANSACTIONAL_SHARES.items()
    }
    # Each payment pays a distinct bill, each received payment a distinct invoice.
    planned["payments"] = min(planned["payments"], planned["bills"])
    planned["receivable_payments"] = min(planned["receivable_payments"], planned["invoices"])
    return {**FIXED_COUNTS, **planned}


def timeline(count: int, rng: random.Random) -> list[tuple[int, int]]:
    """(createdTime, updatedTime) in epoch ms for `count` records, in creation order."""
    step = max(SPAN_MS // max(count, 1), 1)
    times: list[tuple[int, int]] = []
    slot = 0
    while len(times) < count:
        created = SPAN_START_MS + slot * step + rng.randrange(step)
        left = count - len(times)
        if left >= 2 and rng.random() < GROUP_START:
            size = min(rng.randint(2, 5), left)
            times.extend([(created, created)] * size)
            slot += size
            continue
        updated = created
        if rng.random() < UPDATED_LATER:
            updated += rng.randrange(1, MAX_UPDATE_DELAY_MS)
        times.append((created, updated))
        slot += 1
    return times


@dataclass
class Stamp:
    """Identity and timestamps of one record to build."""

    id: str
    created_ms: int
    updated_ms: int
    archived: bool

    def base(self, bill_object: catalog.BillObject) -> Record:
        record: Record = {
            "id": self.id,
            "createdTime": format_time(self.created_ms),
            "updatedTime": format_time(self.updated_ms),
        }
        if shapes.archivable(bill_object.stream):
            record["archived"] = self.archived
        return record


class Seeder:
    """Builds every stream of one organization, in reference order."""

    def __init__(
        self, seed: int, records: int, organization_id: str, org_index: int, organization_name: str
    ) -> None:
        self.seed = seed
        self.org_index = org_index
        self.organization_id = organization_id
        self.organization_name = organization_name
        self.counts = counts(records)
        self.data: dict[str, list[Record]] = {obj.stream: [] for obj in catalog.OBJECTS}
        self.ctx = FillContext(
            rng=self.rng("fill"),
            organization_id=organization_id,
            start_ms=SPAN_START_MS,
            end_ms=SPAN_START_MS + SPAN_MS,
        )
        #: The latest updatedTime seeded: the organization stamps later changes after it.
        self.latest_ms = SPAN_START_MS
        #: Chart-of-accounts ids by account type (BANK, EXPENSE, INCOME, ...).
        self.accounts: dict[str, list[str]] = {}

    def rng(self, purpose: str) -> random.Random:
        # String seeds hash with SHA-512: stable across runs and PYTHONHASHSEED.
        return SeedRandom(f"{self.seed}:{self.org_index}:{purpose}")

    def stamps(self, stream: str, count: int | None = None) -> list[Stamp]:
        """Ids and times for a stream; ids are registered for references at once."""
        bill_object = catalog.get(stream)
        rng = self.rng(f"{stream}:stamps")
        total = self.counts[stream] if count is None else count
        result = [
            Stamp(
                new_id(bill_object.id_prefix, rng),
                created,
                updated,
                shapes.archivable(stream) and rng.random() < ARCHIVED_SHARE,
            )
            for created, updated in timeline(total, rng)
        ]
        self.ctx.refs[stream] = [stamp.id for stamp in result]
        self.latest_ms = max([self.latest_ms, *(stamp.updated_ms for stamp in result)])
        return result

    def build(self) -> dict[str, list[Record]]:
        from bill_emulator import seed_reference

        seed_reference.build(self)
        TransactionSeeder(self).build()
        seed_reference.build_organization(self)
        for stream, records in self.data.items():
            ctx = FillContext(
                rng=self.rng(f"{stream}:fill"),
                organization_id=self.organization_id,
                start_ms=SPAN_START_MS,
                end_ms=SPAN_START_MS + SPAN_MS,
                refs=self.ctx.refs,
            )
            fill.complete(stream, records, ctx)
        return self.data


def seed_organization(organization: Organization, seed: int, records: int, org_index: int) -> None:
    """Fill an (empty) organization with seeded data."""
    seeder = Seeder(seed, records, organization.organization_id, org_index, organization.name)
    # Seeding allocates millions of acyclic dicts; the cyclic collector would walk the
    # growing heap again and again for nothing (about a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        organization.load(seeder.build(), seeder.latest_ms)
        # Each record's JSON text now, while its values are still close together in memory
        # (see views.present_text).
        for stream, store in organization.stores.items():
            for record in store:
                views.present_text(stream, store, record)
    finally:
        if collecting:
            gc.enable()


def empty_organization_record(organization: Organization, now_ms: int) -> dict[str, Any]:
    """The one `organization` record an unseeded organization still has."""
    stamp = format_time(now_ms)
    return {
        "id": organization.organization_id,
        "name": organization.name,
        "archived": False,
        "createdTime": stamp,
        "updatedTime": stamp,
    }
