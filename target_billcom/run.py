"""One target run: the shared client, the indexes of what exists, the plan and its outcomes."""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

import msgspec

from bill_core.client import BillClient, decode_json
from bill_core.errors import (
    BillAuthError,
    BillInterruptedError,
    BillRateLimitError,
    BillUnreachableError,
)
from target_billcom.execution import SUPERSEDED_MESSAGE, Executor
from target_billcom.index import Indexes, key_view
from target_billcom.planning import Planned, Planner, Step
from target_billcom.references import References
from target_billcom.results import Action, Results

if TYPE_CHECKING:
    from singer_sdk import Target

    from target_billcom.sinks import BillSink

LOGGER = logging.getLogger("target_billcom")
#: Parents first when deferred records are planned again at the end of the input.
WRITE_ORDER = ("vendors", "customers", "bills", "invoices")
_ENCODER = msgspec.json.Encoder(decimal_format="number")


class Deferred:
    """Records whose references name objects not in BILL yet, held until the end of the
    input: the objects may still come (a sink drains every 10,000 records, whatever arrives
    later). They wait in a temporary file, not in memory, so a large input whose parents
    come last costs disk, not RAM; only a 16-byte identity per waiting record stays here."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        #: identity -> (line number in the file, stream, match key) of the waiting version.
        self._waiting: dict[bytes, tuple[int, str, str]] = {}
        self._dropped: set[int] = set()
        self._lines = 0

    def __len__(self) -> int:
        return self._lines - len(self._dropped)

    def add(self, item: Planned, key_properties: Sequence[str]) -> None:
        if self._file is None:
            # Open for the run's life (closed in close()); deleted by the OS when closed.
            self._file = tempfile.TemporaryFile(prefix="target-billcom-deferred-")  # noqa: SIM115
        line = {"stream": item.stream, "keys": list(key_properties), "record": item.record}
        self._file.write(_ENCODER.encode(line) + b"\n")
        if item.identity is not None:
            self._waiting[item.identity] = (self._lines, item.stream, item.match_key)
        self._lines += 1

    def supersede(self, identity: bytes | None) -> tuple[str, str] | None:
        """A newer version of a waiting record came: the waiting one is superseded; returns
        its (stream, match key)."""
        waiting = self._waiting.pop(identity, None) if identity is not None else None
        if waiting is None:
            return None
        self._dropped.add(waiting[0])
        return waiting[1], waiting[2]

    def drain(self, stream: str) -> Iterator[tuple[Sequence[str], dict[str, Any]]]:
        """The waiting records of one stream, in input order."""
        if self._file is None:
            return
        self._file.seek(0)
        for number, line in enumerate(self._file):
            if number in self._dropped:
                continue
            entry = decode_json(line)
            if entry["stream"] == stream:
                yield entry["keys"], entry["record"]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._waiting.clear()
        self._dropped.clear()
        self._lines = 0


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
        self.deferred = Deferred()
        self._sinks: list[BillSink] = []
        self._lock = threading.RLock()
        self.batches = 0

    @property
    def stopped(self) -> BillRateLimitError | None:
        return self.executor.stopped or self.client.hourly_limit_reached

    @property
    def interrupted(self) -> str | None:
        return self.executor.interrupted

    def interrupt(self, reason: str) -> None:
        """A signal told the run to stop: calls in flight finish, nothing new is sent, and
        every record not written gets a `not_written` line (from any thread)."""
        self.executor.interrupted = reason
        self.client.abort(f"the run was stopped ({reason})")

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

    def write(
        self,
        stream: str,
        records: Sequence[Mapping[str, Any]],
        key_properties: Sequence[str] = (),
        *,
        final: bool = False,
    ) -> None:
        """Plan and write one batch; every record gets exactly one outcome (records whose
        references may still arrive wait for `finish`)."""
        with self._lock:
            self.batches += 1
            if not self.executor.halted:
                if not final:
                    self._supersede_waiting(stream, records, key_properties)
                try:
                    plan = self.planner.plan(stream, records, key_properties, final=final)
                except BillRateLimitError as error:
                    self.executor.stopped = error
                    plan = None
                except BillInterruptedError:
                    plan = None
                except (BillAuthError, BillUnreachableError) as error:
                    # Refused once (bill_core.auth): every record is reported not written.
                    self.executor.refused = error
                    plan = None
                if plan is not None:
                    self._execute(stream, plan, key_properties)
                    return
            code, message = self.executor.not_written_reason()
            for record in records:
                self.results.record(
                    stream,
                    self.planner.match_key(stream, record),
                    Action.NOT_WRITTEN,
                    code=code,
                    message=message,
                )

    def _supersede_waiting(
        self, stream: str, records: Sequence[Mapping[str, Any]], key_properties: Sequence[str]
    ) -> None:
        if not len(self.deferred):
            return
        for record in records:
            waiting = self.deferred.supersede(self.planner.identity(stream, record, key_properties))
            if waiting is not None:
                self.results.record(*waiting, Action.SUPERSEDED, message=SUPERSEDED_MESSAGE)

    def _execute(self, stream: str, plan: list[Planned], key_properties: Sequence[str]) -> None:
        waiting = [item for item in plan if item.step is Step.DEFER]
        for item in waiting:
            self.deferred.add(item, key_properties)
        if waiting:
            LOGGER.info(
                "%d %s wait for objects they reference that are not in BILL yet (%s); planned "
                "again at the end of the input",
                len(waiting),
                stream,
                waiting[0].match_key,
            )
        self.executor.execute([item for item in plan if item.step is not Step.DEFER])
        for item in plan:
            if item.step is Step.CREATE and item.existing is not None:
                self.planner.claim(
                    stream, item.identity, str(item.existing["id"]), active=not item.archive_after
                )
        LOGGER.info(
            "Batch %d of %s: %d records, %d write calls so far",
            self.batches,
            stream,
            len(plan),
            self.executor.write_calls,
        )

    def finish(self, batch_size: int) -> None:
        """End of input: plan the waiting records again, parents first; what still names an
        object BILL does not have fails now."""
        if len(self.deferred):
            LOGGER.info("Planning %d record(s) that waited for references", len(self.deferred))
        for stream in WRITE_ORDER:
            batch: list[dict[str, Any]] = []
            batch_keys: Sequence[str] = ()
            for keys, record in self.deferred.drain(stream):
                if batch and (len(batch) >= batch_size or keys != batch_keys):
                    self.write(stream, batch, batch_keys, final=True)
                    batch = []
                batch.append(record)
                batch_keys = keys
            if batch:
                self.write(stream, batch, batch_keys, final=True)
        self.deferred.close()

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
