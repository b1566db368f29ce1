"""One sink per BILL object. Sinks buffer records; at drain time the run plans the batch
against BILL and writes it, parents (vendors, customers) before the children that need them."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.sinks import BatchSink

from target_billcom.results import Action

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from target_billcom.run import Run


class BillSink(BatchSink):
    """Buffers a stream's records and hands each batch to the run."""

    #: The BILL object this sink writes (catalog stream name).
    bill_stream: ClassVar[str]
    #: Streams whose pending records must be written before this one's (their line items
    #: may name customers too: `classifications.customerId`).
    parents: ClassVar[tuple[str, ...]] = ()
    #: Read-only input (another organization's classifications), drained before children.
    is_reference: ClassVar[bool] = False
    #: Bound by TargetBillcom.get_sink_class.
    run: ClassVar[Run]
    #: A multiple of both bulk limits (20 vendors, 100 bills), so chunks stay full; the
    #: SDK's `batch_size_rows` setting overrides it.
    MAX_SIZE_DEFAULT = 10_000
    #: Bad records must not stop the run: each is validated by the planner, which gives
    #: a per-record error naming the field (the SDK would only log, or abort the whole run).
    fail_on_record_validation_exception = False

    @property
    @override
    def include_sdc_metadata_properties(self) -> bool:
        # Keep `_sdc_deleted_at`: it is how a tap says "archive this" (the SDK would strip it).
        return True

    @override
    def setup(self) -> None:
        # The SDK parses `format: date`/`date-time` fields before a record reaches us, and one
        # unparseable value (an ERP's "0000-00-00") aborts the whole run. Dates stay text
        # here; the planner checks them per record and names the field.
        self.schema = {
            **self.schema,
            "properties": {
                name: _without_format(definition)
                for name, definition in (self.schema.get("properties") or {}).items()
            },
        }
        self.run.register(self)

    @override
    def get_validator(self) -> None:
        return None  # the planner validates, with messages that never echo secret fields

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self.run.drain_parents(self)
        records: Sequence[Mapping[str, Any]] = context.get("records", [])
        self.run.write(self.bill_stream, records, self.key_properties or ())


class VendorsSink(BillSink):
    bill_stream = "vendors"


class CustomersSink(BillSink):
    bill_stream = "customers"


class BillsSink(BillSink):
    bill_stream = "bills"
    parents = ("vendors", "customers")


class InvoicesSink(BillSink):
    bill_stream = "invoices"
    parents = ("customers",)


class ReferenceSink(BillSink):
    """A classification stream (chart of accounts, classes, ...) from another organization:
    not written, but read so its ids can be translated by name into this organization's."""

    bill_stream = ""
    is_reference = True

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self.run.learn_references(self.stream_name, context.get("records", []))


class UnknownStreamSink(BillSink):
    """A stream target-billcom cannot write: every record is reported, never dropped."""

    bill_stream = ""

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        for record in context.get("records", []):
            self.run.results.record(
                self.stream_name,
                str(record.get("id") or record.get("name") or "?"),
                Action.FAILED,
                message=(
                    f"target-billcom writes vendors, customers, bills and invoices; map "
                    f"'{self.stream_name}' to one of them with `stream_aliases` or a stream map"
                ),
            )


def _without_format(definition: Any) -> Any:
    """The schema without `format`, at every depth (`anyOf: [{format: date}, null]`,
    nested objects, array items): the planner checks dates itself, per record."""
    if isinstance(definition, list):
        return [_without_format(item) for item in definition]
    if not isinstance(definition, Mapping):
        return definition
    return {
        key: _without_format(value)
        for key, value in definition.items()
        if not (key == "format" and isinstance(value, str))  # a property named "format" stays
    }


SINKS: Mapping[str, type[BillSink]] = {
    sink.bill_stream: sink for sink in (VendorsSink, CustomersSink, BillsSink, InvoicesSink)
}
