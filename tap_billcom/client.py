"""BillStream: the base of every tap-billcom stream.

Requests are built in `get_http_request` and paged by `BillPaginator`; HTTP goes through the
shared `bill_core.client.BillClient` (the stream's `requests_session`), which owns the session,
the concurrency gate, retries and BILL's error mapping. So the SDK's own retry layer is set to
a single try: retrying twice over would multiply waits.
"""

from __future__ import annotations

import copy
import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Generator, Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any, ClassVar

import requests
from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams.rest import HTTPRequest, PageContext

from bill_core import catalog, schemas
from bill_core.catalog import UPDATED_TIME, BillObject
from bill_core.client import BillClient, decode_json, get_client, json_body
from bill_core.errors import BillRateLimitError, BillRequestError
from bill_core.masking import masked, may_hold_number
from bill_core.paging import (
    ListCursor,
    ListPosition,
    RawRow,
    Resume,
    RowFields,
    format_time,
    parse_time,
    refuses_updated_time_filter,
)
from bill_core.settings import ConnectionSettings
from bill_core.windows import WindowedReader

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

#: BILL answers 404 BDC_1120 "No data found." for a child that does not exist, e.g. a vendor
#: without a bank account (assumption; https://developer.bill.com/reference/getvendorbankaccount
#: documents only 4XX).
NO_DATA = "BDC_1120"


class BillPaginator(BaseAPIPaginator[ListPosition | None]):
    """Keyset paging on updatedTime with BILL's page token as fallback (see bill_core.paging)."""

    def __init__(self, cursor: ListCursor, start: ListPosition) -> None:
        super().__init__(start)
        self.cursor = cursor

    @override
    def get_next(self, response: requests.Response) -> ListPosition | None:
        body = json_body(response) or {}
        position = self.current_value or ListPosition()
        return self.cursor.next_position(
            position, body.get("results") or [], body.get("nextPage") or None
        )

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        # A page may hold nothing new (only the boundary records, or a block of one
        # timestamp read again) yet the list goes on.
        return self.get_next(response) is not None


#: Readers started ahead of their stream's sync (closed when the tap ends, read or not).
READERS_AHEAD: list[WindowedReader] = []

#: Records emitted per stream in this process, for the tap's closing summary line.
RECORDS_EMITTED: Counter[str] = Counter()


class Progress:
    """Logs a stream's progress at a steady interval during long syncs."""

    def __init__(self, stream: BillStream, interval: float) -> None:
        self.stream = stream
        self.interval = interval
        self.started = self.last = time.monotonic()
        self.records = 0

    #: Records between looks at the clock.
    EVERY = 100

    def tick(self, record: Mapping[str, Any]) -> None:
        self.records += 1
        if self.records % self.EVERY or self.interval <= 0:
            return
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        self.stream.logger.info(
            "%s: %d records so far, %d requests, %.0f records/s, at updatedTime %s",
            self.stream.name,
            self.records,
            self.stream.list_requests,
            self.records / max(now - self.started, 1e-9),
            record.get("updatedTime", "-"),
        )

    def close(self) -> None:
        RECORDS_EMITTED[self.stream.name] += self.records


class BillStream(RESTStream[ListPosition | None]):
    """A BILL v3 list (or single-object) endpoint, described by its catalog entry."""

    bill_object: ClassVar[BillObject]
    schema = StreamSchema(SchemaDirectory(schemas))
    records_jsonpath = "$.results[*]"
    #: A STATE message per page, so a killed sync resumes with at most one page re-sent.
    STATE_MSG_FREQUENCY = 100
    #: BILL answers JSON, parsed into JSON types only (money as Decimal, NaN refused), so the
    #: SDK's per-value conformance has nothing to convert; `post_process` drops fields outside
    #: the schema instead, with one set comparison per record.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        entry = cls.bill_object
        cls.name = entry.stream
        cls.path = entry.path
        # The SDK's idiom is class attributes shadowing these properties; set them from the
        # catalog so no fact about an endpoint is written twice.
        cls.primary_keys = list(entry.key_properties)  # type: ignore[assignment]
        cls.replication_key = entry.replication_key  # type: ignore[assignment]
        cls.is_sorted = entry.incremental  # type: ignore[assignment,method-assign]
        cls.selected_by_default = entry.selected_by_default
        if entry.single:
            cls.records_jsonpath = "$"

    def __init__(self, tap: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(tap, *args, **kwargs)
        self.singer_tap = tap
        self.list_requests = 0
        self._reader_ahead: WindowedReader | None = None
        #: This stream's state while a windowed list is read (see _increment_stream_state).
        self._bookmark: dict[str, Any] | None = None

    @override
    def finalize_state_progress_markers(self, state: dict[str, Any] | None = None) -> None:
        super().finalize_state_progress_markers(state)
        if self.parent_stream_type is None:
            # End every stream with a STATE message, even an unchanged one (the SDK's state
            # writer skips those): a target that forgets state it saw before a RECORD
            # (target-jsonl 0.1.4 does) would otherwise leave Meltano with the previous
            # run's bookmarks.
            self.singer_tap.write_message(StateMessage(value=copy.deepcopy(self.tap_state)))

    # -- connection ---------------------------------------------------------------------------

    @cached_property
    def connection(self) -> ConnectionSettings:
        return ConnectionSettings.from_config(self.config)

    @property
    def client(self) -> BillClient:
        """The process-wide client: one BILL session for every stream."""
        return get_client(self.connection)

    @property
    @override
    def requests_session(self) -> requests.Session:
        return self.client

    @property
    @override
    def authenticator(self) -> Any:
        return self.client.bill_auth

    @property
    @override
    def url_base(self) -> str:
        return self.connection.base_url

    @property
    @override
    def timeout(self) -> int:
        return int(self.connection.request_timeout)

    @override
    def backoff_max_tries(self) -> int:
        return 1  # BillClient retries (with BILL-aware rules); one layer is enough.

    @override
    def get_url(self, context: Mapping[str, Any] | None) -> str:
        values = {"organizationId": self.connection.organization_id, **(context or {})}
        return self.url_base + self.path.format(**values)

    # -- requests and paging ------------------------------------------------------------------

    @cached_property
    def cursor(self) -> ListCursor:
        filters = []
        if not self.config.get("include_archived", True) and "archived" in (
            self.bill_object.filterable
        ):
            filters.append("archived:eq:false")
        return ListCursor(keyset=self.bill_object.incremental, base_filters=filters)

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        if self.bill_object.single:
            return SinglePagePaginator()
        return BillPaginator(self.cursor, self._start)

    @override
    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        if self.client.hourly_limit_reached:
            self.logger.warning("Skipping '%s': BILL's hourly request limit is used up", self.name)
            return
        self._start = self.start_position(context)
        self.singer_tap.prefetch_first_pages()
        progress = Progress(self, float(self.config.get("progress_interval", 30)))
        try:
            for record in self._records_or_unfiltered(context):
                progress.tick(record)
                yield record
        except BillRateLimitError as error:
            # Stop cleanly: the SDK finalizes this stream's bookmark (records are sorted, so
            # the bookmark is the last record emitted) and the next run resumes from it.
            self.logger.error("Stopping '%s': %s", self.name, error)
        except BillRequestError as error:
            if not (self.bill_object.single and error.code == NO_DATA):
                raise
            self.logger.debug("No %s for %s", self.bill_object.noun, dict(context or {}))
        finally:
            progress.close()

    def _records_or_unfiltered(self, context: Mapping[str, Any] | None) -> Iterable[Any]:
        """`_records`, and where BILL refuses the `updatedTime` filter (documented only for
        vendors, customers, bills, invoices and bank accounts:
        https://developer.bill.com/docs/filterable-fields), the rest of the list read
        unfiltered from where it broke off (see bill_core.paging)."""
        resume = Resume(self._start)
        try:
            for record in self._records(context):
                resume.see(record)
                yield record
        except BillRequestError as error:
            if not (self.cursor.filter_since and self.replication_key):
                raise
            if not refuses_updated_time_filter(error):
                raise
            self.logger.warning(
                "'%s': BILL refused the updatedTime filter (%s); reading this list sorted by "
                "updatedTime without it and skipping what precedes the bookmark: every run "
                "now reads the whole list",
                self.name,
                error.code or error.status,
            )
            self.cursor = replace(self.cursor, filter_since=False)
            self._start = resume.position()
            yield from self._records(context)

    def start_position(self, context: Mapping[str, Any] | None) -> ListPosition:
        start = self.get_starting_timestamp(context) if self.replication_key else None
        return ListPosition(since=format_time(start) if start else None)

    def first_since(self) -> str | None:
        """Where this stream's sync will start, before it starts (from the bookmark or
        start_date, as the SDK's starting timestamp): for work done ahead of time, which is
        simply not used if the stream turns out to start elsewhere."""
        if not self.replication_key:
            return None
        candidates = [self.stream_state.get("replication_key_value"), self.config.get("start_date")]
        times = [parse_time(str(c)) for c in candidates if c]
        return format_time(max(times)) if times else None

    def first_request(self) -> tuple[str, dict[str, Any]]:
        """URL and parameters of this stream's first request, before its sync starts."""
        position = ListPosition(since=self.first_since())
        params = {} if self.bill_object.single else self.cursor.params(position)
        return self.get_url(None), params

    @property
    def windowed(self) -> bool:
        """Read by concurrent updatedTime windows (see bill_core/windows.py)."""
        entry = self.bill_object
        return (
            entry.incremental
            and not entry.parent
            and self.connection.max_concurrent_requests >= 2
            and self.cursor.filter_since  # windows are updatedTime filters
        )

    def _new_reader(self) -> WindowedReader:
        return WindowedReader(
            self.client,
            self.get_url(None)[len(self.url_base) :],
            base_filters=self.cursor.base_filters,
            workers=self.connection.max_concurrent_requests,
            on_idle=lambda: self.singer_tap.read_ahead(self),
            fields=self._row_fields,
        )

    @cached_property
    def _row_fields(self) -> RowFields:
        return RowFields(self._properties)

    def start_reading_ahead(self) -> None:
        """Start this stream's windows now, while the stream before it finishes: the SDK
        syncs streams one after another, and the end of a stream leaves request slots free.
        Called once, from a worker of the previous stream's reader; the records wait in the
        reader's bounded buffers until this stream's sync reads them."""
        if self._reader_ahead is not None or self.client.hourly_limit_reached:
            return
        reader = self._new_reader()
        self._reader_ahead = reader
        READERS_AHEAD.append(reader)
        reader.start(self.first_since())

    def _records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """Large incremental lists are read by several windows in flight at once (see
        bill_core/windows.py); everything else pages through the SDK's loop."""
        if not self.windowed:
            yield from super().get_records(context)
            return
        reader, self._reader_ahead = self._reader_ahead, None
        if reader is None or reader.since != self._start.since:
            if reader is not None:
                reader.close()
            reader = self._new_reader()
        as_sent = self._writes_as_sent
        if (
            self.replication_method == REPLICATION_INCREMENTAL
            and self.is_sorted
            and self.state_partitioning_keys is None
        ):
            self._bookmark = self.stream_state
        try:
            for row in reader.read_rows(self._start.since):
                # A record with a field the schema lacks is decoded, for post_process.
                yield row if as_sent and row.described else decode_json(row.raw)
        finally:
            self.list_requests += reader.requests
            self._bookmark = None

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> None:
        """For a windowed list's records, the SDK's bookmark update for a sorted stream
        without its per-record look-ups: the bookmark becomes the record's updatedTime when
        that is not smaller (as text, as the SDK compares). Anything else, including a smaller
        value (the SDK raises for unsorted data), goes to the SDK."""
        bookmark = self._bookmark
        if bookmark is not None and type(latest_record) is RawRow and context is None:
            value = latest_record["updatedTime"]
            previous = bookmark.get("replication_key_value")
            if isinstance(value, str) and (
                previous is None or (isinstance(previous, str) and value >= previous)
            ):
                bookmark["replication_key"] = UPDATED_TIME
                bookmark["replication_key_value"] = value
                return
        super()._increment_stream_state(latest_record, context=context)

    @override
    def get_http_request(self, *, page: PageContext[ListPosition | None]) -> HTTPRequest:
        self.list_requests += 1
        request = super().get_http_request(page=page)
        if not self.bill_object.single:
            position = page.next_page_token or self._start
            self._position = position
            request.params.update(self.cursor.params(position))
        return request

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        body = json_body(response)
        if self.bill_object.single:
            if isinstance(body, dict):
                yield body
            return
        records = (body or {}).get("results") or []
        yield from self.cursor.fresh(self._position, records)

    @override
    def post_process(
        self, row: dict[str, Any], context: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        if self.bill_object.parent_key and context:
            row[self.bill_object.parent_key] = context[self.bill_object.parent_key]
        if self._skip_archived and row.get("archived") is True:
            return None
        if type(row) is RawRow:
            if not may_hold_number(self.name, row.raw):
                return row
            row = decode_json(row.raw)  # looked at, and written out, as a dict
        if not row.keys() <= self._properties:
            row = self._drop_unknown_fields(row)
        return masked(self.name, row)

    @cached_property
    def _skip_archived(self) -> bool:
        return not self.config.get("include_archived", True)

    @cached_property
    def _properties(self) -> frozenset[str]:
        return frozenset(self.schema["properties"])

    def _drop_unknown_fields(self, row: dict[str, Any]) -> dict[str, Any]:
        """Fields BILL added after our schema was generated are left out (as the SDK's
        conformance would), with one warning per stream and field."""
        unknown = sorted(row.keys() - self._properties - self._warned_fields)
        if unknown:
            self._warned_fields.update(unknown)
            self.logger.warning(
                "'%s': BILL sent fields the schema does not describe, left out: %s",
                self.name,
                ", ".join(unknown),
            )
        return {key: value for key, value in row.items() if key in self._properties}

    @cached_property
    def _warned_fields(self) -> set[str]:
        return set()

    @override
    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """The SDK's record path minus a walk of every nested field when nothing is
        deselected (most syncs): with TYPE_CONFORMANCE_LEVEL NONE the SDK's version does
        exactly this otherwise. (A private method; singer-sdk is pinned to 0.54.x and the
        SDK's standard tests, run in our suite, cover selection and stream maps.)"""
        if not self._all_properties_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=dt.datetime.now(dt.timezone.utc),
                )

    @cached_property
    def _all_properties_selected(self) -> bool:
        return all(self.mask.values())

    @cached_property
    def _writes_as_sent(self) -> bool:
        """Records go out as the JSON text BILL sent (never decoded, never encoded again)
        when nothing would change them: every field selected, no stream map, no flattening,
        and the tap's own writer (another writer only takes messages). Records with a field
        outside the schema are decoded all the same (RawRow.described)."""
        maps = self.stream_maps
        return (
            hasattr(self.singer_tap.message_writer, "write_record_text")
            and self._all_properties_selected
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not (maps[0].flattening_options and maps[0].flattening_enabled)
        )

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        if isinstance(record, RawRow):
            self.singer_tap.message_writer.write_record_text(
                self.name, record.raw, self._stream_version, record.extracted
            )
            self.state_manager.is_flushed = False
            return
        super()._write_record_message(record)

    @cached_property
    def _child_keys(self) -> frozenset[str]:
        return frozenset(
            o.parent_key for o in catalog.OBJECTS if o.parent == self.name and o.parent_key
        )

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Mapping[str, Any] | None
    ) -> Iterable[Mapping[str, Any] | None]:
        # Only when a child stream will be synced: the SDK logs a warning for every record
        # whose child context is None.
        if self._syncs_children:
            yield from super().generate_child_contexts(record, context)

    @cached_property
    def _syncs_children(self) -> bool:
        """Decided once, at the first record: selection is fixed before a sync starts."""
        return bool(self._child_keys) and any(
            child.selected or child.has_selected_descendents for child in self.child_streams
        )

    @override
    def get_child_context(
        self, record: dict[str, Any], context: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        return dict.fromkeys(self._child_keys, record["id"]) if self._child_keys else None
