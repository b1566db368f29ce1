"""tap-billcom: every BILL v3 payables/receivables object as a Singer stream."""

from __future__ import annotations

import atexit
import contextlib
import copy
import datetime as dt
import io
import json
import sys
import time
from functools import cached_property
from typing import IO, Any

import click
import msgspec
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.contrib.msgspec import encoder as singer_encoder
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._state import StateWriter
from singer_sdk.helpers.types import TapState
from singer_sdk.singerlib import Message, RecordMessage, StateMessage

from bill_core.check import check_connection
from bill_core.cli import check_config_files, check_environment, exit_for_settings
from bill_core.client import active_clients, get_client
from bill_core.errors import BillConfigError, BillError
from bill_core.inputs import future_warning, read_state, start_date
from bill_core.prefetch import Prefetcher
from bill_core.settings import ConnectionSettings, connection_properties
from bill_core.stopping import STOP, StopRequested
from tap_billcom.client import READERS_AHEAD, RECORDS_EMITTED, BillStream
from tap_billcom.streams import STREAM_TYPES

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

#: Exit statuses: a BILL error (1), a setting to fix (2), BILL's hourly request limit stopped
#: the sync cleanly (3: state saved, run again after the hour).
EXIT_BILL_ERROR = 1
EXIT_CONFIG_ERROR = 2
EXIT_HOURLY_LIMIT = 3


def state_line(value: Any) -> bytes:
    """A STATE message's line, as the SDK's `to_dict` and msgspec writer make it, without the
    deep copy of the whole state `to_dict` makes (a STATE goes out every 100 records)."""
    return bytes(serialize_jsonl({"type": "STATE", "value": value}))


class BufferedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing RECORD messages in blocks of about 64 KiB instead of
    one write (and flush) each: Meltano runs taps with PYTHONUNBUFFERED, so every write is a
    system call. Any other message (STATE above all) first writes out what is held, then
    itself, and flushes, so a STATE never reaches the target before the records it covers; a
    record held back when the process dies is one no STATE has vouched for, re-sent next run.
    """

    BLOCK = 64 * 1024

    def __init__(self) -> None:
        super().__init__()
        self._held = bytearray()
        self._prefixes: dict[str, bytes] = {}
        self._extracted: dt.datetime | None = None
        self._extracted_text = b""
        # Records held when the process ends on an error still reach the target.
        atexit.register(self._flush_at_exit)

    @override
    def serialize_message(self, message: Message) -> bytearray:
        if isinstance(message, StateMessage):
            return bytearray(state_line(message.value))
        return super().serialize_message(message)

    @override
    def write_message(self, message: Message) -> None:
        with STOP.writing():
            self._held += self.format_message(message)
            if not isinstance(message, RecordMessage) or len(self._held) >= self.BLOCK:
                self.flush()

    def write_record_text(
        self, stream: str, record: bytes | msgspec.Raw, version: int | None, extracted: dt.datetime
    ) -> None:
        """A RECORD message whose record is JSON text already (see RawRow): the same line
        `write_message` would write for it decoded, without decoding and encoding it."""
        prefix = self._prefixes.get(stream)
        if prefix is None:
            prefix = b'{"type":"RECORD","stream":' + singer_encoder.encode(stream) + b',"record":'
            self._prefixes[stream] = prefix
        if extracted is not self._extracted:
            self._extracted = extracted
            self._extracted_text = b',"time_extracted":' + singer_encoder.encode(extracted) + b"}\n"
        version_text = b"" if version is None else b',"version":%d' % version
        with STOP.writing():
            self._held += b"".join((prefix, record, version_text, self._extracted_text))
            if len(self._held) >= self.BLOCK:
                self.flush()

    def write_line(self, line: bytes) -> None:
        """A message other than a RECORD, serialised already: written out with what is held."""
        with STOP.writing():
            self._held += line
            self.flush()

    def _flush_at_exit(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.flush()

    def flush(self) -> None:
        # Never cut by a stop signal (bill_core/stopping.py): written, then cleared.
        with STOP.writing():
            if self._held:
                write_all(sys.stdout.buffer, self._held)
                self._held.clear()
            sys.stdout.flush()


def write_all(out: Any, data: bytearray) -> None:
    """Write every byte. With PYTHONUNBUFFERED (Meltano sets it) `sys.stdout.buffer` is the
    raw file, whose `write` may write only part of a large block (a pipe write interrupted
    by a signal after some bytes went through): the rest was silently lost, leaving a line
    cut in two in the target's input."""
    written = 0
    while written < len(data):
        written += out.write(data[written:]) or 0


class TextStateWriter(StateWriter):
    """The SDK's StateWriter (a STATE only when the state changed), deciding by the STATE
    line's text instead of comparing the state with a deep copy of it: the line is encoded
    anyway, and that deep copy of every stream's bookmarks, every 100 records, was 4% of a
    large sync's CPU."""

    def __init__(self, message_writer: Any) -> None:
        super().__init__(message_writer)
        self._last_line: bytes | None = None

    @override
    def write_state(self, state: TapState) -> None:
        line = state_line(state)
        if line == self._last_line:
            return
        self._last_line = line
        writer = self._message_writer
        if isinstance(writer, BufferedMsgSpecWriter):
            writer.write_line(line)
        else:
            writer.write_message(StateMessage(value=state))


class TapBillcom(Tap):
    """Singer tap for BILL (formerly Bill.com) v3 AP/AR objects."""

    name = "tap-billcom"
    message_writer_class = BufferedMsgSpecWriter

    config_jsonschema = th.PropertiesList(
        *connection_properties(),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description=(
                "Only records updated at or after this instant are read on the first run of "
                "an incremental stream (later runs continue from the saved bookmark)."
            ),
        ),
        th.Property(
            "include_archived",
            th.BooleanType,
            default=True,
            title="Include archived records",
            description=(
                "Emit archived (soft-deleted) records too, with `archived: true`. BILL never "
                "deletes AP/AR objects, so this is how a warehouse learns of removals."
            ),
        ),
        th.Property(
            "progress_interval",
            th.NumberType,
            default=30,
            title="Progress log interval (seconds)",
            description=(
                "During long syncs, log per stream every this many seconds: records so far, "
                "requests, rate and the current updatedTime position (0: never)."
            ),
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        STOP.install(self.logger)  # replaces the SDK's handler (which exits 0)
        STOP.on_stop = self.write_last_state
        first = start_date(self.config)  # a date the SDK cannot read fails here, named
        warning = future_warning("`start_date`", first) if first else None
        if warning:
            self.logger.warning("%s.", warning)

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        check_config_files(cls.logger, ctx, value)
        return super().cb_config(ctx, param, value)

    @classmethod
    @override
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run the CLI; end with one summary line, and BILL errors as one-line messages."""
        started = time.monotonic()
        try:
            check_environment(cls, kwargs.get("config"))
            if kwargs.get("state") is not None:
                kwargs["state"] = cls._checked_state(kwargs["state"])
            super().invoke(*args, **kwargs)
        except ConfigValidationError as error:
            exit_for_settings(cls.logger, error, cls.name)
        except BillError as error:
            cls.logger.error("%s", error)
            sys.exit(EXIT_CONFIG_ERROR if isinstance(error, BillConfigError) else EXIT_BILL_ERROR)
        except StopRequested as stop:
            if STOP.on_stop is not None:
                STOP.on_stop()
            cls.logger.error("Stopped by %s; the next run resumes from the last STATE", stop)
            sys.exit(128 + stop.signum)
        finally:
            while READERS_AHEAD:
                READERS_AHEAD.pop().close()
            for client in active_clients():
                if client.prefetcher is not None:
                    client.prefetcher.close()
                stats = client.stats
                cls.logger.info(
                    "tap-billcom finished in %.1f s: %d streams, %d records, %d requests, "
                    "%d retries, %d sign-ins, peak %d in flight",
                    time.monotonic() - started,
                    len(RECORDS_EMITTED),
                    sum(RECORDS_EMITTED.values()),
                    stats.requests,
                    stats.retries,
                    client.bill_auth.logins,
                    stats.peak_in_flight,
                )
        limited = [c.hourly_limit_reached for c in active_clients() if c.hourly_limit_reached]
        if limited:
            cls.logger.error(
                "%s. Stopped cleanly; state is saved and the next run resumes from it.",
                limited[0],
            )
            sys.exit(EXIT_HOURLY_LIMIT)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        try:
            super().cb_discover(ctx, param, value)
        except BillConfigError as error:  # e.g. a start_date that is not a date
            cls.logger.error("%s", error)
            ctx.exit(EXIT_CONFIG_ERROR)

    @classmethod
    def _checked_state(cls, state: IO[str]) -> IO[str]:
        """The `--state` file, checked (an InputError names it and the fix) and unwrapped
        from a STATE message or Meltano's `singer_state`, as the SDK reads it."""
        value, notes = read_state(state.read(), getattr(state, "name", "--state"))
        for note in notes:
            cls.logger.warning("%s.", note)
        return io.StringIO(json.dumps(value))

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`tap-billcom --test`: sign in and read one page, emitting no records; print a
        verdict or the actionable error. (`--test=schema` keeps the SDK's behaviour.)"""
        if value != "all":
            super().cb_test(ctx, param, value)
            return
        config = ctx.params.get("config")
        try:
            tap = cls(
                config=getattr(config, "config", None),
                parse_env_config=bool(getattr(config, "parse_env", False)),
                validate_config=True,
            )
            verdict = check_connection(get_client(ConnectionSettings.from_config(tap.config)))
        except ConfigValidationError as error:
            exit_for_settings(cls.logger, error, cls.name)
        except BillError as error:
            cls.logger.error("Connection check failed: %s", error)
            ctx.exit(EXIT_CONFIG_ERROR if isinstance(error, BillConfigError) else EXIT_BILL_ERROR)
        cls.logger.info("%s", verdict)
        ctx.exit()

    def write_last_state(self) -> None:
        """After a stop signal (raised between two writes): the state of what was emitted."""
        self.write_message(StateMessage(value=copy.deepcopy(self.state)))

    @property
    @override
    def state_writer(self) -> StateWriter:
        return self._text_state_writer

    @cached_property
    def _text_state_writer(self) -> TextStateWriter:
        return TextStateWriter(self.message_writer)

    def prefetch_first_pages(self) -> None:
        """Once per run: ask BILL for every selected stream's first page in the background,
        so small streams cost no round trip of their own (see bill_core/prefetch.py)."""
        client = get_client(ConnectionSettings.from_config(self.config))
        if client.prefetcher is not None or client.settings.max_concurrent_requests < 2:
            return
        client.prefetcher = Prefetcher(client.settings.max_concurrent_requests)
        for stream in self.streams.values():
            if isinstance(stream, BillStream) and stream.selected and not stream.parent_stream_type:
                url, params = stream.first_request()
                client.prefetcher.add(client, url, params)

    def read_ahead(self, current: BillStream) -> None:
        """`current` has request slots to spare: the next stream read by windows starts."""
        order = [
            stream
            for stream in self.streams.values()
            if isinstance(stream, BillStream) and stream.selected and not stream.parent_stream_type
        ]
        if current not in order:
            return
        later = order[order.index(current) + 1 :]
        following = next((stream for stream in later if stream.windowed), None)
        if following is not None:
            following.start_reading_ahead()

    @override
    def discover_streams(self) -> list[BillStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]


if __name__ == "__main__":
    TapBillcom.cli()
