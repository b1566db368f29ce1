"""References between objects: another organization's ids and names, turned into this
organization's ids (a bill's vendor, an invoice's customer, line classifications, payment
terms)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bill_core import catalog
from target_billcom.index import Indexes


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
    ) -> tuple[str | None, str | None, bool]:
        """(local id, problem, missing) for a reference given by id and/or name; `missing`:
        no such object (yet): it may be in input still to come."""
        index = self.indexes[stream]
        if value:
            text = str(value)
            if text in index:
                return text, None, False
            with self._lock:
                translated = self.translations[stream].get(text)
                name = name or self.foreign_names[stream].get(text)
            if translated:
                return translated, None, False
        if name:
            found = index.find((str(name).strip().casefold(),))
            # An archived object and an active one may share a name (BILL allows it): the
            # single active one is meant; ambiguity only counts among active ones.
            active = [f for f in found if f.get("archived") is not True]
            if len(active) > 1:
                return None, f"{len(active)} {stream} are named {name!r}: give the id", False
            if active or found:
                return str((active or [latest(found)])[0]["id"]), None, False
            return None, f"no {catalog.get(stream).noun} named {name!r} in BILL", True
        if value:
            noun = catalog.get(stream).noun
            return None, f"{noun} {value!r} does not exist in this organization", True
        return None, None, False


def latest(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The most recently updated of several objects (BILL's timestamps sort as text)."""
    return max(records, key=lambda r: str(r.get("updatedTime") or ""))
