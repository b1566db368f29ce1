"""Match, resolve, validate and decide: each record becomes create, update, unchanged,
archive or failed, before any write call is made.

Singer RECORDs are upserts: the same record may come more than once in a run (a tap re-sends
a record that changed while it paged; CDC feeds send every change). A record's identity is its
stream's `key_properties` (else the BILL id it carries, else its match key); within a batch
only its last version is planned and the earlier ones are `superseded`, and a later batch's
version updates what an earlier one wrote. Two *different* records that would land on one
BILL object are a conflict, reported on the later one.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bill_core.writes import (
    CLASSIFICATION_REFERENCES,
    SHAPES,
    Problem,
    get_path,
    line_total_problems,
    validate,
)
from target_billcom.index import Indexes, Key, key_of, key_view
from target_billcom.mapping import NAME_REFERENCES, Change, Incoming, diff, incoming
from target_billcom.references import References, latest


class Step(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ARCHIVE = "archive"
    FAIL = "fail"
    #: A later version of the same record follows in this batch: that one is written.
    SUPERSEDED = "superseded"
    #: A reference names an object that may still arrive: planned again at end of input.
    DEFER = "defer"


@dataclass
class Planned:
    """One record and what will be done with it."""

    stream: str
    incoming: Incoming
    match_key: str
    step: Step
    existing: dict[str, Any] | None = None
    change: Change | None = None
    #: Restore an archived object before updating it.
    restore: bool = False
    #: Create, then archive (an archived object that does not exist here yet).
    archive_after: bool = False
    problems: list[Problem] = field(default_factory=list)
    code: str | None = None
    #: Why the record needs no call (an UNCHANGED record that is not simply equal).
    note: str | None = None
    #: Which input record this is, across its versions (see Planner.identity).
    identity: bytes | None = None
    #: The record as it came, kept only for a deferred record (spooled, planned again).
    record: Mapping[str, Any] | None = None
    #: The outcome given to this record (exactly one per record).
    outcome: Any = None

    @property
    def body(self) -> dict[str, Any]:
        return self.incoming.body

    @property
    def message(self) -> str:
        return "; ".join(str(p) for p in self.problems)


#: Code of a record that would move an invoice to another customer (target-billcom's own).
CUSTOMER_CONFLICT = "CUSTOMER_CONFLICT"


class Planner:
    """Plans batches of one stream at a time against the run's indexes."""

    def __init__(
        self, indexes: Indexes, references: References, match_keys: Mapping[str, Sequence[str]]
    ) -> None:
        self.indexes = indexes
        self.references = references
        self.match_keys = match_keys
        #: Record identity -> the BILL object this run matched or created for it.
        self._objects: dict[bytes, str] = {}
        #: (stream, BILL id) -> identity of the record that object belongs to in this run.
        self._claims: dict[tuple[str, str], bytes] = {}
        #: (stream, BILL id) -> whether the claimed object ends active.
        self._ends_active: dict[tuple[str, str], bool] = {}
        #: (stream, key) -> (identity, match key) of the record whose object ends active
        #: with that key, and the other way round.
        self._holders: dict[tuple[str, Key], tuple[bytes, str]] = {}
        self._held_by: dict[bytes, tuple[str, Key]] = {}

    # -- identity --------------------------------------------------------------------------

    def identity(
        self, stream: str, record: Mapping[str, Any], key_properties: Sequence[str] = ()
    ) -> bytes | None:
        """Which input record this is, whatever its version: its `key_properties` values,
        else the id it carries, else its match key (as given, names and all)."""
        values = [record.get(k) for k in key_properties] if key_properties else []
        if values and all(v not in (None, "") for v in values):
            text = "k" + json.dumps(values, default=str, sort_keys=True)
        elif record.get("id"):
            text = "i" + str(record["id"])
        else:
            key = self._given_key(stream, record)
            if key is None:
                return None  # no complete key: the record is no version of anything
            text = "m" + json.dumps(key)
        return hashlib.blake2b(f"{stream}\0{text}".encode(), digest_size=16).digest()

    def _given_key(self, stream: str, record: Mapping[str, Any]) -> list[str] | None:
        """The match key as the record gives it (a name where it names a reference), each
        part trimmed and case-folded; None when a part is missing."""
        try:
            item = incoming(stream, record)
        except (TypeError, ValueError, AttributeError):
            return None
        parts = []
        for name in self.match_keys[stream]:
            named = item.names.get(name) or item.names.get(NAMED_AS.get(name, ""))
            value = named or get_path(key_view(stream, item.body), name)
            text = str(value).strip().casefold() if value is not None else ""
            if not text:
                return None
            parts.append(text)
        return parts

    def claim(self, stream: str, identity: bytes | None, bill_id: str, *, active: bool) -> None:
        """The object now belongs to this record for the rest of the run (and ends active
        or archived, as the record asks, whatever it is in the index until then)."""
        if identity is not None:
            self._objects[identity] = bill_id
            self._claims[(stream, bill_id)] = identity
            self._ends_active[(stream, bill_id)] = active

    # -- planning --------------------------------------------------------------------------

    def plan(
        self,
        stream: str,
        records: Sequence[Mapping[str, Any]],
        key_properties: Sequence[str] = (),
        *,
        final: bool = True,
    ) -> list[Planned]:
        """One Planned per record. `final=False`: a record whose reference names an object
        not (yet) in BILL is deferred instead of failed."""
        identities = [self.identity(stream, r, key_properties) for r in records]
        last = {identity: n for n, identity in enumerate(identities) if identity is not None}
        plan = []
        for number, (record, identity) in enumerate(zip(records, identities, strict=True)):
            if identity is not None and last[identity] != number:
                plan.append(self._superseded(stream, record, identity))
                continue
            planned = self._plan_one(stream, record, identity, final=final)
            if planned.step is Step.DEFER:
                planned.record = record
            plan.append(planned)
        return plan

    def match_key(self, stream: str, record: Mapping[str, Any]) -> str:
        """The match key of a record that is not planned (the run stopped before it), as the
        results file names every record: a bill by vendor and invoice number, not "None"."""
        try:
            return describe_key(stream, incoming(stream, record), self.match_keys[stream])
        except (TypeError, ValueError, AttributeError):
            return str(record.get("id") or "?")

    def _superseded(self, stream: str, record: Mapping[str, Any], identity: bytes) -> Planned:
        planned = Planned(stream, Incoming(stream, {}), self.match_key(stream, record), Step.FAIL)
        planned.step, planned.identity = Step.SUPERSEDED, identity
        return planned

    def _plan_one(
        self, stream: str, record: Mapping[str, Any], identity: bytes | None, *, final: bool
    ) -> Planned:
        try:
            item = incoming(stream, record)
        except (TypeError, ValueError, AttributeError) as error:
            failed = Planned(stream, Incoming(stream, {}), "?", Step.FAIL)
            failed.problems = [Problem("record", str(error))]
            return failed
        problems, missing = self._resolve(stream, item)
        fields = self.match_keys[stream]
        key = key_of(stream, item.body, fields)
        planned = Planned(stream, item, describe_key(stream, item, fields), Step.FAIL)
        planned.identity = identity
        index = self.indexes[stream]
        existing = index.get(item.given_id)
        by_id = existing is not None
        if existing is None and identity in self._objects:
            existing = index.get(self._objects[identity])  # written by an earlier version
            by_id = existing is not None
        if missing and not final and len(missing) == len(problems) and not item.deleted:
            planned.step = Step.DEFER
            return planned
        if existing is None and key is not None:
            # A row deleted at the source is the live object (archive it), unlike a record
            # that exists archived (an organization copy), matched to an archived one.
            wanted = item.archive and not item.deleted
            existing, problem = self._match(planned, key, want_archived=wanted)
            problems += [problem] if problem else []
        if item.deleted and existing is None and (key is not None or missing):
            # Deleted at the source and never in BILL (or its parent is not): nothing to do.
            planned.step, planned.note = Step.UNCHANGED, "deleted at the source; not in BILL"
            return planned
        if existing is None and key is None and not problems:
            absent = [f for f in fields if not get_path(item.body, f)]
            problems.append(Problem(",".join(absent or fields), "match key is missing"))
        final_key = key or (key_of(stream, existing, fields) if existing else None)
        if final_key is not None and not problems:
            problems += self._hold(planned, final_key)
        if existing is not None and not by_id:
            problems += _customer_conflict(planned, existing)
        problems += validate(SHAPES[stream], item.body, partial=existing is not None)
        problems += line_total_problems(SHAPES[stream], item.body)
        planned.existing = existing
        if problems:
            planned.problems = problems
            planned.code = problems[0].code
            return planned
        if existing is not None:
            self.claim(stream, identity, str(existing["id"]), active=not item.archive)
            self.references.remember(stream, item.given_id, str(existing["id"]))
            return self._decide_existing(planned)
        planned.step = Step.CREATE
        planned.archive_after = item.archive
        return planned

    def _match(
        self, planned: Planned, key: Key, *, want_archived: bool
    ) -> tuple[dict[str, Any] | None, Problem | None]:
        """The existing object a record without a BILL id is about: by match key, never one
        another record of this run owns; an archived and an active object may share a key
        (BILL allows it), so one in the state the record asks for is preferred, and only
        several active ones are ambiguous."""
        stream = planned.stream
        candidates = self.indexes[stream].find(key)
        free = [
            c
            for c in candidates
            if self._claims.get((stream, str(c["id"]))) in (None, planned.identity)
        ]
        same = [c for c in free if (c.get("archived") is True) == want_archived]
        other = [c for c in free if (c.get("archived") is True) != want_archived]
        active, archived = (other, same) if want_archived else (same, other)
        if len(active) > 1:
            fields = ",".join(self.match_keys[stream])
            what = f"{len(active)} BILL {stream} match {planned.match_key}"
            return None, Problem(
                fields, f"{what}: give the record the BILL id of the one to update"
            )
        if want_archived and archived:
            return latest(archived), None
        if active or archived:
            return (active or [latest(archived)])[0], None
        # Another record's object that is or will be active (an archived one it restores)
        # cannot get a second active twin.
        taken = [
            c
            for c in candidates
            if c not in free
            and self._ends_active.get((stream, str(c["id"])), c.get("archived") is not True)
        ]
        if taken and not want_archived:
            return None, self._duplicate(planned)
        return None, None

    def _hold(self, planned: Planned, key: Key) -> list[Problem]:
        """Two different records of this run must not leave two active objects with one key
        (created, updated or restored alike); archived objects may share keys."""
        held = (planned.stream, key)
        identity = planned.identity or b""
        mine = self._held_by.get(identity)
        if planned.incoming.archive:
            if mine is not None and self._holders.get(mine, (b"",))[0] == identity:
                del self._holders[mine]  # this record's object ends archived: key is free
            return []
        holder = self._holders.get(held)
        if holder is not None and holder[0] != identity:
            return [self._duplicate(planned, holder[1])]
        if mine is not None and mine != held and self._holders.get(mine, (b"",))[0] == identity:
            del self._holders[mine]  # renamed: its old key is free
        self._holders[held] = (identity, planned.match_key)
        self._held_by[identity] = held
        return []

    def _duplicate(self, planned: Planned, first: str | None = None) -> Problem:
        fields = ",".join(self.match_keys[planned.stream])
        earlier = f" ({first})" if first else ""
        return Problem(fields, f"duplicate of an earlier, different record{earlier} in this run")

    def _decide_existing(self, planned: Planned) -> Planned:
        existing = planned.existing or {}
        planned.change = diff(planned.stream, planned.body, existing)
        was_archived = existing.get("archived") is True
        if planned.incoming.archive:
            planned.step = Step.ARCHIVE if not was_archived or planned.change else Step.UNCHANGED
        elif was_archived:
            planned.restore = True
            planned.step = Step.UPDATE
        else:
            planned.step = Step.UPDATE if planned.change else Step.UNCHANGED
        return planned

    def _resolve(self, stream: str, item: Incoming) -> tuple[list[Problem], list[Problem]]:
        """(problems, the ones naming objects not in BILL yet) of the record's references."""
        problems: list[Problem] = []
        missing: list[Problem] = []
        shape = SHAPES[stream]
        names = NAME_REFERENCES.get(stream, {})
        for path, target in shape.references.items():
            value = get_path(item.body, path)
            name = item.names.get(path)
            if not value and not name:
                continue
            local, problem, absent = self.references.resolve(target, value, name)
            if problem:
                found = Problem(path if path not in names else names[path][0], problem)
                problems.append(found)
                missing += [found] if absent else []
            else:
                _set_path(item.body, path, local)
        lines = item.body.get(shape.line_items or "") or []
        holders = [item.body, *(line for line in lines if isinstance(line, dict))]
        for number, holder in enumerate(holders):
            where = "" if number == 0 else f"{shape.line_items}[{number - 1}]."
            found_problems, found_missing = self._resolve_classifications(holder, where)
            problems += found_problems
            missing += found_missing
        return problems, missing

    def _resolve_classifications(
        self, holder: dict[str, Any], where: str
    ) -> tuple[list[Problem], list[Problem]]:
        classifications = holder.get("classifications")
        if not isinstance(classifications, dict):
            return [], []
        problems, missing = [], []
        for name_field, id_field in CLASSIFICATION_NAMES_BY_FIELD.items():
            name = classifications.pop(name_field, None)
            value = classifications.get(id_field)
            if not value and not name:
                continue
            target = CLASSIFICATION_REFERENCES[id_field]
            local, problem, absent = self.references.resolve(target, value, name)
            if problem:
                found = Problem(f"{where}classifications.{id_field}", problem)
                problems.append(found)
                missing += [found] if absent else []
            else:
                classifications[id_field] = local
        return problems, missing


def _customer_conflict(planned: Planned, existing: Mapping[str, Any]) -> list[Problem]:
    """An invoice matched by number but held by another customer is never moved silently:
    invoice numbers name one invoice of the organization, so the record most likely carries a
    wrong customer or a reused number. (With the invoice's own BILL id it is moved.)"""
    if planned.stream != "invoices":
        return []
    wanted = get_path(planned.body, "customer.id")
    current = existing.get("customerId")
    if not wanted or not current or str(wanted) == str(current):
        return []
    message = (
        f"invoice {planned.match_key} in BILL belongs to customer {current}, not to the "
        f"customer this record names ({wanted}); give the record the invoice's BILL id to "
        "move it, or another invoice number"
    )
    return [Problem("customer", message, CUSTOMER_CONFLICT)]


#: Match-key fields whose reference a record may give by name, under the name's path.
NAMED_AS = {"customerId": "customer.id"}

CLASSIFICATION_NAMES_BY_FIELD = {
    field[: -len("Id")] + "Name": field for field in CLASSIFICATION_REFERENCES
}


def _set_path(body: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        body = body.setdefault(part, {})
    body[parts[-1]] = value


def describe_key(stream: str, item: Incoming, fields: Sequence[str]) -> str:
    """The match key as a person reads it in the results file."""
    parts = []
    for name in fields:
        value = get_path(item.body, name)
        if name == "vendorId" and item.names.get("vendorId"):
            value = item.names["vendorId"]
        parts.append(f"{name}={value}" if len(fields) > 1 else str(value))
    text = ", ".join(parts)
    # Text a results file can hold even when a value is not valid Unicode (lone surrogate).
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if text not in ("None", "") else (item.given_id or "?")
