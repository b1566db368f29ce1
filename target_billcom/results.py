"""Per-record outcomes: the JSON Lines results file and the end-of-run summary table."""

from __future__ import annotations

import enum
import json
import threading
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any


class Action(str, enum.Enum):
    """Where a record ended (or, in a dry run, would end)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ARCHIVED = "archived"
    FAILED = "failed"
    #: Not yet written when BILL's hourly limit or a signal stopped the run (re-run it).
    NOT_WRITTEN = "not_written"
    #: An earlier version of a record that came again later in the same input (Singer
    #: RECORDs are upserts: the last version is the one written).
    SUPERSEDED = "superseded"
    #: Read only to translate another organization's ids (classification streams).
    REFERENCE = "reference"


@dataclass(frozen=True)
class Outcome:
    """One line of the results file."""

    stream: str
    match_key: str
    action: str
    id: str | None = None
    code: str | None = None
    message: str | None = None
    dry_run: bool = False


SUMMARY_COLUMNS = (
    Action.CREATED,
    Action.UPDATED,
    Action.UNCHANGED,
    Action.ARCHIVED,
    Action.SUPERSEDED,
    Action.FAILED,
    Action.NOT_WRITTEN,
)


class Results:
    """Collects outcomes (thread-safe), appends them to the results file, counts them."""

    def __init__(self, path: str | None, *, dry_run: bool) -> None:
        self.dry_run = dry_run
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = defaultdict(Counter)
        self._failures: list[Outcome] = []
        #: Records that failed for a reason a later run could fix by itself (5xx, network,
        #: rate limits): STATE is then withheld, so the runner sends them again.
        self.retryable_failures = 0
        self._path = Path(path) if path else None
        self._file: IO[str] | None = None

    def record(
        self,
        stream: str,
        match_key: str,
        action: Action,
        *,
        bill_id: str | None = None,
        code: str | None = None,
        message: str | None = None,
        retryable: bool = False,
    ) -> Outcome:
        outcome = Outcome(
            stream=stream,
            match_key=match_key,
            action=action.value,
            id=bill_id,
            code=code,
            message=message,
            dry_run=self.dry_run,
        )
        with self._lock:
            self._counts[stream][action.value] += 1
            if action is Action.FAILED:
                self._failures.append(outcome)
                self.retryable_failures += retryable
            if self._path is not None:
                if self._file is None:  # opened on the first outcome: --test writes none
                    self._path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = self._path.open("w", encoding="utf-8")
                self._file.write(json.dumps(_compact(asdict(outcome)), ensure_ascii=False) + "\n")
                self._file.flush()
        return outcome

    @property
    def failures(self) -> list[Outcome]:
        with self._lock:
            return list(self._failures)

    def count(self, stream: str, action: Action) -> int:
        with self._lock:
            return self._counts[stream][action.value]

    def totals(self) -> tuple[int, int]:
        """(streams with outcomes, records with an outcome)."""
        with self._lock:
            counts = [sum(c.values()) for c in self._counts.values()]
        return sum(1 for n in counts if n), sum(counts)

    def summary_table(self) -> str:
        """Per stream: created, updated, unchanged, archived, failed, not written."""
        with self._lock:
            streams = sorted(s for s, c in self._counts.items() if sum(c.values()))
            header = ["stream", *(a.value for a in SUMMARY_COLUMNS)]
            rows = [
                [stream, *(str(self._counts[stream][a.value]) for a in SUMMARY_COLUMNS)]
                for stream in streams
            ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in [header, *rows]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        title = "target-billcom dry run (nothing written)" if self.dry_run else "target-billcom"
        return "\n".join([title, *lines])

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v is not False}
