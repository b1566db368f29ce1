"""Carry out a plan: bulk creates where BILL has them (isolating bad records when an
all-or-nothing bulk call fails), one call per record elsewhere, at most
`max_concurrent_requests` in flight, and a look-up before re-sending any create whose answer
was lost (BILL has no idempotency key)."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bill_core import catalog
from bill_core.client import BillClient
from bill_core.errors import (
    CONCURRENCY_LIMIT,
    BillAmbiguousWriteError,
    BillError,
    BillInterruptedError,
    BillRateLimitError,
    BillTransientError,
)
from target_billcom.index import Indexes
from target_billcom.mapping import for_create, written_mismatch
from target_billcom.planning import Planned, Step
from target_billcom.references import References
from target_billcom.results import Action, Results

LOGGER = logging.getLogger("target_billcom")
SUPERSEDED_MESSAGE = "a later version of this record in the same input was written instead"


class Executor:
    """Writes planned records to BILL and records every outcome."""

    def __init__(
        self,
        client: BillClient,
        indexes: Indexes,
        references: References,
        results: Results,
        *,
        dry_run: bool,
    ) -> None:
        self.client = client
        self.indexes = indexes
        self.references = references
        self.results = results
        self.dry_run = dry_run
        self.stopped: BillRateLimitError | None = None
        #: Why the run was told to stop (a signal), if it was.
        self.interrupted: str | None = None
        #: BILL refused the sign-in, or could not be reached: nothing can be written.
        self.refused: BillError | None = None
        self.write_calls = 0
        self._dry_ids = itertools.count(1)

    # -- entry point ----------------------------------------------------------------------

    @property
    def halted(self) -> bool:
        return self.stopped is not None or self.interrupted is not None or self.refused is not None

    def execute(self, plan: Sequence[Planned]) -> None:
        for item in plan:
            if item.step is Step.FAIL:
                self._outcome(item, Action.FAILED, code=item.code, message=item.message)
            elif item.step is Step.UNCHANGED:
                self._outcome(item, Action.UNCHANGED, bill_id=_id(item.existing), message=item.note)
            elif item.step is Step.SUPERSEDED:
                self._outcome(item, Action.SUPERSEDED, message=SUPERSEDED_MESSAGE)
        creates = [i for i in plan if i.step is Step.CREATE]
        others = [i for i in plan if i.step in (Step.UPDATE, Step.ARCHIVE)]
        if self.dry_run:
            self._dry_run(creates, others)
            return
        # Objects that end archived are created (and archived) first: an archived and an
        # active object may share a name, but BILL may refuse a second *active* one, which
        # is what an archived one is until its archive call.
        for group in (
            [i for i in creates if i.archive_after],
            [i for i in creates if not i.archive_after],
        ):
            self._create(group)
            archive_after = [i for i in group if i.archive_after and i.existing and not i.outcome]
            self._concurrently(archive_after, self._archive_created)
        self._concurrently(others, self._update_one)

    def _create(self, creates: list[Planned]) -> None:
        entry = catalog.get(creates[0].stream) if creates else None
        if entry is not None and entry.bulk_create_limit:
            for chunk in _chunks(creates, entry.bulk_create_limit):
                self._guarded(chunk, self._bulk_create)
        else:
            self._concurrently(creates, self._create_one)

    # -- creates --------------------------------------------------------------------------

    def _bulk_create(self, chunk: list[Planned], lost_answers: int = 0) -> None:
        entry = catalog.get(chunk[0].stream)
        try:
            answer = self._write(
                "POST", f"{entry.path}/bulk", [for_create(i.stream, i.body) for i in chunk]
            )
        except BillAmbiguousWriteError as error:
            LOGGER.warning(
                "No answer to a bulk create of %d %s; looking them up", len(chunk), entry.stream
            )
            self._recover(chunk, lost_answers + 1, error)
            return
        except (BillRateLimitError, BillInterruptedError):
            raise
        except BillError as error:
            if len(chunk) == 1:
                self._fail(chunk[0], error)
                return
            # All-or-nothing (https://developer.bill.com/reference/createbulkvendor): halve
            # until each bad record stands alone, so every good record is still written.
            middle = len(chunk) // 2
            self._bulk_create(chunk[:middle], lost_answers)
            self._bulk_create(chunk[middle:], lost_answers)
            return
        created = answer.get(entry.bulk_response_key) if entry.bulk_response_key else answer
        for item, record in zip(chunk, created or [], strict=False):
            self._created(item, record)

    def _create_one(self, item: Planned, lost_answers: int = 0) -> None:
        entry = catalog.get(item.stream)
        try:
            record = self._write("POST", entry.path, for_create(item.stream, item.body))
        except BillAmbiguousWriteError as error:
            self._recover([item], lost_answers + 1, error)
            return
        self._created(item, record)

    def _recover(self, items: list[Planned], lost_answers: int, error: BillError) -> None:
        """After a create with no answer (timeout, reset, 5xx): keep what BILL stored and
        send the rest again, looking again after each further lost answer, at most
        `max_retries` times (BILL has no idempotency key; a blind resend could duplicate)."""
        index = self.indexes[items[0].stream]
        missing = []
        for item in items:
            try:
                found = index.lookup(item.body)
            except BillRateLimitError:
                raise
            except BillError as lookup_error:
                self._fail(item, lookup_error)
                continue
            if found:
                self._created(item, found[0], recovered=True)
            else:
                missing.append(item)
        if not missing:
            return
        settings = self.client.settings
        if lost_answers > settings.max_retries or self.interrupted:
            for item in missing:
                self._fail(item, error)
            return
        wait = min(60.0, settings.retry_initial_wait * 2 ** (lost_answers - 1))
        time.sleep(wait / 2 + random.uniform(0, wait / 2))
        if catalog.get(items[0].stream).bulk_create_limit:
            self._bulk_create(missing, lost_answers)
        else:
            for item in missing:
                self._create_one(item, lost_answers)

    def _created(self, item: Planned, record: dict[str, Any], *, recovered: bool = False) -> None:
        self.indexes[item.stream].put(record)
        self.references.remember(item.stream, item.incoming.given_id, str(record["id"]))
        item.existing = record
        if self._mismatch(item, record):
            return
        if item.archive_after:
            return  # recorded once archived
        message = "found in BILL after a lost answer; not sent again" if recovered else None
        self._outcome(item, Action.CREATED, bill_id=str(record["id"]), message=message)

    def _mismatch(self, item: Planned, record: Any) -> bool:
        """BILL took the write but holds something else than the input (a dropped field,
        another total): the record failed, whatever the status said."""
        found = written_mismatch(item.stream, item.body, record)
        if found is None:
            return False
        code, message = found
        self._outcome(item, Action.FAILED, bill_id=_id(item.existing), code=code, message=message)
        return True

    def _archive_created(self, item: Planned) -> None:
        entry = catalog.get(item.stream)
        record = self._write("POST", f"{entry.path}/{_id(item.existing)}/archive", None)
        self.indexes[item.stream].put(record or {**(item.existing or {}), "archived": True})
        self._outcome(item, Action.ARCHIVED, bill_id=_id(item.existing), message="created archived")

    # -- updates and archives ------------------------------------------------------------

    def _update_one(self, item: Planned) -> None:
        entry = catalog.get(item.stream)
        bill_id = _id(item.existing)
        path = f"{entry.path}/{bill_id}"
        record = item.existing
        if item.restore:
            record = self._write("POST", f"{path}/restore", None) or record
        if item.change is not None:
            # A PATCH here only sets fields (changed lines go by PUT), so sending it again
            # after a lost answer or a 5xx has the effect of sending it once.
            record = self._write(item.change.method, path, item.change.body, repeatable=True)
            if record:
                self.indexes[item.stream].put(record)
            if self._mismatch(item, record):
                return
        if item.step is Step.ARCHIVE:
            record = self._write("POST", f"{path}/archive", None) or record
        if record:
            self.indexes[item.stream].put(record)
        if item.step is Step.ARCHIVE:
            self._outcome(item, Action.ARCHIVED, bill_id=bill_id)
        else:
            fields = ", ".join(item.change.fields) if item.change else "archived"
            self._outcome(item, Action.UPDATED, bill_id=bill_id, message=f"changed: {fields}")

    # -- plumbing ---------------------------------------------------------------------------

    def _write(self, method: str, path: str, body: Any, *, repeatable: bool = False) -> Any:
        self.write_calls += 1
        return self.client.call(method, path, body=body, repeatable=repeatable)

    def _concurrently(self, items: list[Planned], work: Callable[[Planned], None]) -> None:
        if not items:
            return
        workers = self.client.settings.max_concurrent_requests
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda item: self._guarded([item], lambda chunk: work(chunk[0])), items))

    def _guarded(self, items: list[Planned], work: Callable[[list[Planned]], None]) -> None:
        """Run one unit of work; its errors become the records' outcomes, never a crash."""
        if self.halted:
            self._not_written(items)
            return
        try:
            work(items)
        except BillRateLimitError as error:
            self.stopped = error
            self._not_written(items)
        except BillError as error:
            for item in items:
                if item.outcome is None:
                    self._fail(item, error)

    def not_written_reason(self) -> tuple[str, str]:
        """(code, message) of a record the run stopped before."""
        if self.stopped is not None:
            return "BDC_1144", "BILL's hourly request limit stopped the run before this record"
        if self.refused is not None:
            return str(self.refused.code or "SIGN_IN"), f"not written: {self.refused}"
        return str(self.interrupted), (
            f"the run was stopped ({self.interrupted}) before this record was written; run "
            "again (re-runs never duplicate)"
        )

    def _not_written(self, items: Iterable[Planned], message: str | None = None) -> None:
        code, reason = self.not_written_reason()
        for item in items:
            if item.outcome is not None:
                continue  # written (or failed) before the stop
            self._outcome(
                item,
                Action.NOT_WRITTEN,
                bill_id=_id(item.existing),
                code=code,
                message=message or reason,
            )

    def _fail(self, item: Planned, error: BillError) -> None:
        if isinstance(error, BillInterruptedError) or (
            self.interrupted and isinstance(error, BillAmbiguousWriteError)
        ):
            # Stopped with this record's create unanswered: BILL may hold it; the next run
            # finds it by its match key rather than creating it again.
            self._not_written([item], message=f"{self.not_written_reason()[1]}; {error}")
            return
        retryable = isinstance(error, BillTransientError | BillAmbiguousWriteError) or (
            (error.status or 0) >= 500 or error.code == CONCURRENCY_LIMIT
        )
        self._outcome(
            item,
            Action.FAILED,
            bill_id=_id(item.existing),
            code=error.code,
            message=str(error),
            retryable=retryable,
        )

    def _outcome(self, item: Planned, action: Action, **kwargs: Any) -> None:
        item.outcome = action
        self.results.record(item.stream, item.match_key, action, **kwargs)

    def _dry_run(self, creates: list[Planned], others: list[Planned]) -> None:
        for item in creates:
            fake = {**item.body, "id": f"dry-run-{next(self._dry_ids)}"}
            if item.stream == "invoices":
                fake["customerId"] = (item.body.get("customer") or {}).get("id")
            self.indexes[item.stream].put(fake)
            self.references.remember(item.stream, item.incoming.given_id, fake["id"])
            self._outcome(item, Action.CREATED, message="dry run: would be created")
        for item in others:
            action = Action.ARCHIVED if item.step is Step.ARCHIVE else Action.UPDATED
            fields = ", ".join(item.change.fields) if item.change else ""
            self._outcome(
                item, action, bill_id=_id(item.existing), message=f"dry run: would change {fields}"
            )


def _id(record: dict[str, Any] | None) -> str | None:
    return str(record["id"]) if record and record.get("id") else None


def _chunks(items: list[Planned], size: int) -> Iterable[list[Planned]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
