"""target-billcom: create and update BILL vendors, customers, bills and invoices from an ERP
(or any tap), idempotently, bulk where BILL allows it, every record accounted for."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.sinks import Sink

from bill_core import catalog
from bill_core.check import check_connection
from bill_core.cli import check_config_files, check_environment, exit_for_settings
from bill_core.client import active_clients, get_client
from bill_core.errors import BillConfigError, BillError
from bill_core.settings import ConnectionSettings, connection_properties
from bill_core.writes import SHAPES
from target_billcom.results import Action
from target_billcom.run import Run
from target_billcom.singer_input import TolerantSingerReader
from target_billcom.sinks import SINKS, BillSink, ReferenceSink, UnknownStreamSink

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

EXIT_FAILED_RECORDS = 1
EXIT_CONFIG_ERROR = 2
EXIT_HOURLY_LIMIT = 3
#: Streams (as tap-billcom names them) read only to translate another organization's ids by
#: name: classifications and payment terms.
REFERENCE_STREAMS = frozenset(
    {
        "chart_of_accounts",
        "accounting_classes",
        "departments",
        "employees",
        "items",
        "jobs",
        "locations",
        "payment_terms",
    }
)


class RecordsFailedError(BillError):
    """Some records failed and `allow_failures` is false."""


class RunInterruptedError(BillError):
    """A signal stopped the run; exit with 128 + the signal's number, as a shell would."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        name = signal.Signals(signum).name
        super().__init__(
            f"Stopped by {name}: records not written are marked not_written in the results "
            "file and STATE was not passed on",
            hint="run again: what was written is matched, nothing is duplicated",
        )


class TargetBillcom(Target):
    """Singer target writing vendors, customers, bills and invoices into BILL."""

    name = "target-billcom"
    #: The distribution that ships it (for the version shown by --about and at start-up).
    package_name = "tap-billcom"
    message_reader_class = TolerantSingerReader

    config_jsonschema = th.PropertiesList(
        *connection_properties(),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            title="Dry run",
            description=(
                "Read BILL, match, validate and write the full plan to the results file, "
                "without a single write call."
            ),
        ),
        th.Property(
            "allow_failures",
            th.BooleanType,
            default=False,
            title="Allow failures",
            description=(
                "Exit 0 even when some records failed (they are still in the results file). "
                "By default the run exits 1 when any record failed."
            ),
        ),
        th.Property(
            "results_path",
            th.StringType,
            default="billcom-results.jsonl",
            title="Results file",
            description=(
                "JSON Lines file with one line per record: stream, match key, action "
                "(created, updated, unchanged, archived, superseded, failed, not_written), BILL "
                "id, BILL or target-billcom error code and message. Must not be empty."
            ),
        ),
        th.Property(
            "match_keys",
            th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
            title="Match keys",
            description=(
                "Fields that identify an existing BILL object when a record has no BILL id of "
                "this organization, per stream. Defaults: vendors [name], customers [name], "
                "bills [vendorId, invoice.invoiceNumber], invoices [invoiceNumber]."
            ),
        ),
        th.Property(
            "stream_aliases",
            th.ObjectType(additional_properties=th.StringType),
            title="Stream aliases",
            description=(
                "Input stream name -> vendors, customers, bills or invoices, e.g. "
                '{"erp-suppliers": "vendors", "ap_invoices": "bills"}.'
            ),
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.started = time.monotonic()
        super().__init__(*args, **kwargs)
        # Sinks drain one at a time: BILL allows 3 requests in flight for the whole
        # organization (the run's own pool uses them), and parents must land first.
        self.max_parallelism = 1
        if isinstance(self.message_reader, TolerantSingerReader):
            self.message_reader.on_bad_line = self._bad_input_line
        self._withheld_state_logged = False
        #: The last STATE withheld while records wait for their references (sent once they
        #: are written, if nothing else holds it back).
        self._held_state: dict[str, Any] | None = None
        self.interrupted_by: int | None = None
        # The SDK's handlers drain every sink and exit 0, passing STATE on for records never
        # written; these stop taking input instead (see _on_signal). Replacing a handler is
        # plain Python (`signal.signal`), no SDK internals.
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._on_signal)
        self._check_settings()
        self.logger.info("Reading Singer messages (SIGTERM or SIGINT stops the run cleanly)")

    def _check_settings(self) -> None:
        """Settings the JSON Schema cannot judge, checked before any input is read."""
        _ = self.match_keys
        aliases = self.config.get("stream_aliases") or {}
        wrong = sorted(
            f"{source!r} to {name!r}"
            for source, name in aliases.items()
            if name not in SINKS and name not in REFERENCE_STREAMS
        )
        if wrong:
            msg = f"`stream_aliases` maps {', '.join(wrong)}"
            raise BillConfigError(msg, hint="map each to vendors, customers, bills or invoices")
        if "results_path" in self.config and not str(self.config["results_path"] or "").strip():
            msg = "`results_path` is empty"
            raise BillConfigError(
                msg,
                hint=(
                    "give a file for the results (every record gets a line there; default "
                    "billcom-results.jsonl), or leave the setting out for the default"
                ),
            )

    def _on_signal(self, signum: int, _frame: Any) -> None:
        """SIGTERM/SIGINT: stop taking input; calls in flight finish (no new call, no retry);
        every record not written gets a `not_written` line; STATE is withheld; exit
        128 + signum. A second signal ends the process at once."""
        if self.interrupted_by is not None:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.interrupted_by = signum
        name = signal.Signals(signum).name
        self.logger.warning(
            "%s received: stopping. No more input is read, calls in flight finish, records "
            "not written are marked not_written, STATE is not passed on (%s again to stop at "
            "once)",
            name,
            name,
        )
        run = self.__dict__.get("run")  # a cached_property: only if the run started
        if run is not None:
            run.interrupt(name)
        if isinstance(self.message_reader, TolerantSingerReader):
            self.message_reader.stop()

    def _bad_input_line(self, number: int, stream: str | None, problem: str) -> None:
        message = f"input line {number} {problem}; the line was skipped"
        self.logger.warning("%s", message)
        self.run.results.record(
            stream or "(input)", f"line {number}", Action.FAILED, message=message
        )

    def _state_withheld_because(self) -> str | None:
        if self.interrupted_by is not None:
            return f"the run was stopped by {signal.Signals(self.interrupted_by).name}"
        if self.run.stopped is not None:
            return "BILL's hourly limit stopped the run before every record was written"
        if self.run.executor.refused is not None:
            return "BILL could not be signed in to"
        reader = self.message_reader
        if isinstance(reader, TolerantSingerReader) and reader.bad_lines:
            return f"{reader.bad_lines} input line(s) could not be read"
        retryable = self.run.results.retryable_failures
        if retryable:
            return (
                f"{retryable} record(s) failed for a reason a retry could fix (5xx, network, "
                "rate limits)"
            )
        return None

    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        # The one place the SDK sends STATE on (no public hook exists). Passing it on after
        # records were left unwritten, or lines unread, would move the runner's bookmark past
        # them for good; withheld, the next run reads them again (re-runs never duplicate).
        reason = self._state_withheld_because()
        if reason is None and len(self.run.deferred):
            self._held_state = state  # passed on once the waiting records are written
            return
        if reason is None:
            self._held_state = None
            super()._write_state_message(state)
            return
        if not self._withheld_state_logged:
            self._withheld_state_logged = True
            self.logger.warning(
                "STATE is not passed on (%s): the runner keeps its previous bookmark, so the "
                "next run reads these records again",
                reason,
            )

    @cached_property
    def run(self) -> Run:
        settings = ConnectionSettings.from_config(self.config)
        results_path = self.config.get("results_path") or None
        if results_path:
            _check_writable(results_path)
        run = Run(
            self,
            get_client(settings),
            match_keys=self.match_keys,
            results_path=results_path,
            dry_run=bool(self.config.get("dry_run", False)),
        )
        if self.interrupted_by is not None:
            run.interrupt(signal.Signals(self.interrupted_by).name)
        return run

    @cached_property
    def match_keys(self) -> Mapping[str, tuple[str, ...]]:
        configured = self.config.get("match_keys") or {}
        unknown = sorted(set(configured) - set(SHAPES))
        if unknown:
            msg = f"`match_keys` names unknown stream(s) {', '.join(unknown)}"
            raise BillConfigError(msg, hint="use vendors, customers, bills or invoices")
        keys = {s: tuple(configured.get(s) or SHAPES[s].default_match_key) for s in SHAPES}
        for stream in catalog.OBJECTS:
            keys.setdefault(stream.stream, ("name",))
        return keys

    def bill_stream(self, stream_name: str) -> str:
        aliases = self.config.get("stream_aliases") or {}
        name = aliases.get(stream_name, stream_name)
        if stream_name in aliases and name not in SINKS:
            msg = f"`stream_aliases` maps {stream_name!r} to {name!r}"
            raise BillConfigError(msg, hint="map to vendors, customers, bills or invoices")
        return str(name)

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        bill_stream = self.bill_stream(stream_name)
        base: type[BillSink]
        if bill_stream in SINKS:
            base = SINKS[bill_stream]
        elif bill_stream in REFERENCE_STREAMS:
            base = ReferenceSink
        else:
            base = UnknownStreamSink
        # Bind this run to the sink class (the SDK constructs sinks itself).
        return type(base.__name__, (base,), {"run": self.run})

    @override
    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        run = self.run
        run.finish(int(self.config.get("batch_size_rows") or BillSink.MAX_SIZE_DEFAULT))
        if self._held_state is not None:
            self._write_state_message(self._held_state)
        run.results.close()
        self.logger.info("Summary\n%s", run.results.summary_table())
        stats = run.client.stats
        streams, records = run.results.totals()
        self.logger.info(
            "target-billcom finished in %.1f s: %d streams, %d records, %d write calls, "
            "%d requests, %d retries, %d sign-ins",
            time.monotonic() - self.started,
            streams,
            records,
            run.executor.write_calls,
            stats.requests,
            stats.retries,
            run.client.bill_auth.logins,
        )
        failures = run.results.failures
        for failure in failures[:10]:
            self.logger.error(
                "Failed %s %s: %s", failure.stream, failure.match_key, failure.message
            )
        if self.interrupted_by is not None:
            raise RunInterruptedError(self.interrupted_by)
        if run.executor.refused is not None:
            raise run.executor.refused  # one message, exit 1 (records: not_written)
        if run.stopped is not None:
            return
        if failures and not self.config.get("allow_failures", False):
            msg = (
                f"{len(failures)} record(s) failed; see {self.config.get('results_path')} "
                "(set allow_failures to exit 0 anyway)"
            )
            raise RecordsFailedError(msg, hint="fix the records named there and run again")

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        command.params.append(
            click.Option(
                ["--test"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=cls._connection_test,
                help="Sign in to BILL and read one page, writing nothing; print a verdict.",
            )
        )
        return command

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        check_config_files(cls.logger, ctx, value)
        return super().cb_config(ctx, param, value)

    @classmethod
    def _connection_test(cls, ctx: click.Context, _: click.Parameter, value: bool) -> None:
        if not value:
            return
        config_input = ctx.params.get("config")
        config = getattr(config_input, "config", None) or {}
        try:
            check_environment(cls, config_input)
            target = cls(
                config=config,
                parse_env_config=bool(getattr(config_input, "parse_env", False)),
                validate_config=True,
            )
            verdict = check_connection(target.run.client)
        except ConfigValidationError as error:
            exit_for_settings(cls.logger, error, cls.name)
        except BillError as error:
            cls.logger.error("Connection check failed: %s", error)
            ctx.exit(EXIT_CONFIG_ERROR if isinstance(error, BillConfigError) else 1)
        cls.logger.info("%s", verdict)
        ctx.exit(0)

    @classmethod
    @override
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run the CLI; BILL errors end the run with a one-line message and an exit code."""
        try:
            check_environment(cls, kwargs.get("config"))
            super().invoke(*args, **kwargs)
        except ConfigValidationError as error:
            exit_for_settings(cls.logger, error, cls.name)
        except RecordsFailedError as error:
            cls.logger.error("%s", error)
            sys.exit(EXIT_FAILED_RECORDS)
        except RunInterruptedError as error:
            cls.logger.error("%s", error)
            sys.exit(128 + error.signum)
        except BillError as error:
            cls.logger.error("%s", error)
            sys.exit(EXIT_CONFIG_ERROR if isinstance(error, BillConfigError) else 1)
        limited = [c.hourly_limit_reached for c in active_clients() if c.hourly_limit_reached]
        if limited:
            cls.logger.error(
                "%s. Stopped cleanly: records not yet written are marked %s in the results "
                "file; run again after the hour (re-runs never duplicate).",
                str(limited[0]).rstrip("."),
                Action.NOT_WRITTEN.value,
            )
            sys.exit(EXIT_HOURLY_LIMIT)


def _check_writable(path: str) -> None:
    """Refuse a results path that cannot be written before anything is written to BILL (a
    run whose outcomes cannot be recorded must not start). Creates nothing."""
    target = Path(path).absolute()
    existing = next(p for p in (target, *target.parents) if p.exists())
    if existing == target:
        problem = None if target.is_file() and os.access(target, os.W_OK) else "not a writable file"
    elif not existing.is_dir():
        problem = f"{existing} is a file, not a directory"
    else:
        problem = None if os.access(existing, os.W_OK | os.X_OK) else f"{existing} is read-only"
    if problem:
        msg = f"`results_path` {path!r} cannot be written ({problem})"
        raise BillConfigError(msg, hint="give a file path in a directory this user can write")


if __name__ == "__main__":
    TargetBillcom.cli()
