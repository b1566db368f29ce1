"""One target run: the shared client, the indexes of what exists, the plan and its outcomes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bill_core.client import BillClient
from bill_core.errors import BillRateLimitError
from target_billcom.execution import Executor
from target_billcom.index import Indexes, key_view
from target_billcom.planning import Planner, References
from target_billcom.results import Action, Results

if TYPE_CHECKING:
    from singer_sdk import Target

    from target_billcom.sinks import BillSink

LOGGER = logging.getLogger("target_billcom")


class Run:
    def __init__(
        self,
        target: Target,
        client: BillClient,
        *,
        match_keys: Mapping[str, Sequence[str]],
        results_path: str | None,
        dry_run: bool,
    ) -> None:
        self.target = target
        self.client = client
        self.dry_run = dry_run
        self.indexes = Indexes(client, match_keys)
        self.references = References(self.indexes)
        self.planner = Planner(self.indexes, self.references, match_keys)
        self.results = Results(results_path, dry_run=dry_run)
        self.executor = Executor(
            client, self.indexes, self.references, self.results, dry_run=dry_run
        )
        self._sinks: list[BillSink] = []
        self._lock = threading.RLock()
        self.batches = 0

    @property
    def stopped(self) -> BillRateLimitError | None:
        return self.executor.stopped or self.client.hourly_limit_reached

    def register(self, sink: BillSink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def drain_parents(self, sink: BillSink) -> None:
        """Write pending parents (and read pending reference streams) first, whatever order
        the streams arrived in."""
        parents = type(sink).parents
        for other in list(self._sinks):
            if other is not sink and (other.bill_stream in parents or other.is_reference):
                self.target.drain_one(other)

    def write(self, stream: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Plan and write one batch; every record gets exactly one outcome."""
        with self._lock:
            self.batches += 1
            if self.stopped is None:
                try:
                    plan = self.planner.plan(stream, records)
                except BillRateLimitError as error:
                    self.executor.stopped = error
                    plan = None
                if plan is not None:
                    self.executor.execute(plan)
                    LOGGER.info(
                        "Batch %d of %s: %d records, %d write calls so far",
                        self.batches,
                        stream,
                        len(records),
                        self.executor.write_calls,
                    )
                    return
            for record in records:
                self.results.record(
                    stream,
                    self.planner.match_key(stream, record),
                    Action.NOT_WRITTEN,
                    code="BDC_1144",
                    message="BILL's hourly request limit stopped the run before this record",
                )

    def learn_references(self, stream: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Remember another organization's classification ids by name, for translation."""
        with self._lock:
            for record in records:
                name = key_view(stream, record).get("name")
                if record.get("id") and name:
                    self.references.foreign_names[stream][str(record["id"])] = str(name)
                    self.results.record(
                        stream, str(name), Action.REFERENCE, bill_id=str(record["id"])
                    )
