"""Match, resolve, validate and decide: each record becomes create, update, unchanged,
archive or failed, before any write call is made."""

from __future__ import annotations

import enum
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bill_core import catalog
from bill_core.writes import (
    CLASSIFICATION_REFERENCES,
    SHAPES,
    Problem,
    get_path,
    validate,
)
from target_billcom.index import Indexes, key_of
from target_billcom.mapping import NAME_REFERENCES, Change, Incoming, diff, incoming


class Step(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ARCHIVE = "archive"
    FAIL = "fail"


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
    #: The outcome given to this record (exactly one per record).
    outcome: Any = None

    @property
    def body(self) -> dict[str, Any]:
        return self.incoming.body

    @property
    def message(self) -> str:
        return "; ".join(str(p) for p in self.problems)


class References:
    """Turns ids of another organization and names into this organization's ids."""

    def __init__(self, indexes: Indexes) -> None:
        self.indexes = indexes
        self._lock = threading.Lock()
        #: stream -> id given in the input -> id in this organization.
        self.translations: dict[str, dict[str, str]] = defaultdict(dict)
        #: classification stream -> id in the input's organization -> its name.
        self.foreign_names: dict[str, dict[str, str]] = defaultdict(dict)

    def remember(self, stream: str, given_id: str | None, local_id: str) -> None:
        if given_id and given_id != local_id:
            with self._lock:
                self.translations[stream][given_id] = local_id

    def resolve(  # noqa: PLR0911 - one return per way a reference resolves or fails
        self, stream: str, value: Any, name: Any
    ) -> tuple[str | None, str | None]:
        """(local id, problem) for a reference given by id and/or name."""
        index = self.indexes[stream]
        if value:
            text = str(value)
            if text in index:
                return text, None
            with self._lock:
                translated = self.translations[stream].get(text)
                name = name or self.foreign_names[stream].get(text)
            if translated:
                return translated, None
        if name:
            found = index.find((str(name).strip().casefold(),))
            if len(found) == 1:
                return str(found[0]["id"]), None
            if len(found) > 1:
                return None, f"{len(found)} {stream} are named {name!r}: give the id"
            return None, f"no {catalog.get(stream).noun} named {name!r} in BILL"
        if value:
            return None, f"{catalog.get(stream).noun} {value!r} does not exist in this organization"
        return None, None


class Planner:
    """Plans one batch of one stream against the run's indexes."""

    def __init__(
        self, indexes: Indexes, references: References, match_keys: Mapping[str, Sequence[str]]
    ) -> None:
        self.indexes = indexes
        self.references = references
        self.match_keys = match_keys
        self._seen: dict[str, dict[str, str]] = defaultdict(dict)

    def plan(self, stream: str, records: Sequence[Mapping[str, Any]]) -> list[Planned]:
        return [self._plan_one(stream, record) for record in records]

    def match_key(self, stream: str, record: Mapping[str, Any]) -> str:
        """The match key of a record that is not planned (the run stopped before it), as the
        results file names every record: a bill by vendor and invoice number, not "None"."""
        try:
            return describe_key(stream, incoming(stream, record), self.match_keys[stream])
        except (TypeError, ValueError, AttributeError):
            return str(record.get("id") or "?")

    def _plan_one(self, stream: str, record: Mapping[str, Any]) -> Planned:
        shape = SHAPES[stream]
        try:
            item = incoming(stream, record)
        except (TypeError, ValueError, AttributeError) as error:
            return Planned(
                stream,
                Incoming(stream, {}),
                "?",
                Step.FAIL,
                problems=[Problem("record", str(error))],
            )
        problems = self._resolve(stream, item)
        fields = self.match_keys[stream]
        key = key_of(stream, item.body, fields)
        match_key = describe_key(stream, item, fields)
        index = self.indexes[stream]
        existing = index.get(item.given_id)
        if existing is None and key is not None:
            candidates = index.find(key)
            if len(candidates) > 1:
                problems.append(
                    Problem(
                        ",".join(fields),
                        f"{len(candidates)} BILL {stream} match {match_key}: give the record "
                        "the BILL id of the one to update",
                    )
                )
            elif candidates:
                existing = candidates[0]
        if existing is None and key is None and not problems:
            missing = [f for f in fields if not get_path(item.body, f)]
            problems.append(Problem(",".join(missing or fields), "match key is missing"))
        identity = str(existing["id"]) if existing else ("|".join(key) if key else None)
        if identity and not problems:
            first = self._seen[stream].get(identity)
            if first is not None:
                problems.append(
                    Problem(
                        ",".join(fields), f"duplicate of an earlier record ({first}) in this run"
                    )
                )
            else:
                self._seen[stream][identity] = match_key
        problems += validate(shape, item.body, partial=existing is not None)
        planned = Planned(stream, item, match_key, Step.FAIL, existing=existing)
        if problems:
            planned.problems = problems
            planned.code = problems[0].code
            return planned
        if existing is not None:
            self.references.remember(stream, item.given_id, str(existing["id"]))
            return self._decide_existing(planned)
        planned.step = Step.CREATE
        planned.archive_after = item.archive
        return planned

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

    def _resolve(self, stream: str, item: Incoming) -> list[Problem]:
        problems: list[Problem] = []
        shape = SHAPES[stream]
        names = NAME_REFERENCES.get(stream, {})
        for path, target in shape.references.items():
            value = get_path(item.body, path)
            name = item.names.get(path)
            if not value and not name:
                continue
            local, problem = self.references.resolve(target, value, name)
            if problem:
                problems.append(Problem(path if path not in names else names[path][0], problem))
            else:
                _set_path(item.body, path, local)
        lines = item.body.get(shape.line_items or "") or []
        holders = [item.body, *(line for line in lines if isinstance(line, dict))]
        for number, holder in enumerate(holders):
            where = "" if number == 0 else f"{shape.line_items}[{number - 1}]."
            problems += self._resolve_classifications(holder, where)
        return problems

    def _resolve_classifications(self, holder: dict[str, Any], where: str) -> list[Problem]:
        classifications = holder.get("classifications")
        if not isinstance(classifications, dict):
            return []
        problems = []
        for name_field, id_field in CLASSIFICATION_NAMES_BY_FIELD.items():
            name = classifications.pop(name_field, None)
            value = classifications.get(id_field)
            if not value and not name:
                continue
            target = CLASSIFICATION_REFERENCES[id_field]
            local, problem = self.references.resolve(target, value, name)
            if problem:
                problems.append(Problem(f"{where}classifications.{id_field}", problem))
            else:
                classifications[id_field] = local
        return problems


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
