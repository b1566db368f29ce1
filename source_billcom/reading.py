"""The tap's Singer messages during `read`, as Airbyte RECORD, STATE and stream status
messages.

Records go out as the tap wrote them (their JSON text is never decoded, so every number
keeps BILL's digits). The tap's STATE covers every stream at once; each stream whose
bookmark changed becomes a per-stream Airbyte STATE with the stream's bookmark as its
`stream_state` (the next `read` hands it back as that stream's Singer bookmark), and the
count of the stream's records since its previous STATE.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import msgspec

from source_billcom.messages import Output, record_prefix
from source_billcom.translate import ReadPlan

STARTED = "STARTED"
RUNNING = "RUNNING"
COMPLETE = "COMPLETE"
INCOMPLETE = "INCOMPLETE"


#: msgspec takes no Raw in a union (`Raw | None`): an absent field is an empty Raw.
NONE = msgspec.Raw()


class _SingerMessage(msgspec.Struct):
    type: str
    stream: str | None = None
    record: msgspec.Raw = NONE
    value: msgspec.Raw = NONE


class _SingerState(msgspec.Struct):
    bookmarks: dict[str, msgspec.Raw] = {}


_MESSAGE = msgspec.json.Decoder(_SingerMessage)
_STATE = msgspec.json.Decoder(_SingerState)
_ANY = msgspec.json.Decoder()


class Translator:
    """Called with each line the tap writes to stdout during a sync."""

    def __init__(self, plan: ReadPlan, states: Mapping[str, msgspec.Raw], output: Output) -> None:
        self.plan = plan
        self.output = output
        self.prefixes = {name: record_prefix(name) for name in plan.streams}
        #: Each incremental stream's state as last sent (or as given to `read`).
        self.sent: dict[str, Any] = {
            name: _ANY.decode(states[name]) if name in states and name not in plan.fresh else {}
            for name in plan.incremental
        }
        self.sent_raw: dict[str, msgspec.Raw] = {}
        #: Records per stream since its last STATE message, and in all.
        self.pending: Counter[str] = Counter()
        self.records: Counter[str] = Counter()
        self.status: dict[str, str] = {}
        #: Lines that were not JSON (a tap killed mid-write leaves its last line cut short).
        self.unreadable = 0

    def __call__(self, line: bytes) -> None:
        try:
            message = _MESSAGE.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.unreadable += 1
            return
        kind, stream = message.type, message.stream
        if kind == "RECORD" and message.record:
            prefix = self.prefixes.get(stream or "")
            if prefix is None or stream is None:
                return  # a parent read only for its children's sake sends none
            if self.status.get(stream) != RUNNING:
                self._status(stream, RUNNING)
            self.output.record(prefix, message.record)
            self.pending[stream] += 1
        elif kind == "STATE" and message.value:
            self._state(_STATE.decode(message.value).bookmarks)
        elif kind == "SCHEMA" and stream in self.prefixes and stream not in self.status:
            self._status(stream, STARTED)

    def _state(self, bookmarks: Mapping[str, msgspec.Raw]) -> None:
        for name in self.plan.incremental:
            raw = bookmarks.get(name)
            if raw is None:
                continue
            value = _ANY.decode(raw)
            if value == self.sent[name]:
                continue
            self.sent[name] = value
            self.sent_raw[name] = raw
            self._send_state(name, raw)

    def _send_state(self, name: str, stream_state: msgspec.Raw | Mapping[str, Any]) -> None:
        count = self.pending.pop(name, 0)
        self.records[name] += count
        self.output.state(name, stream_state, count)

    def _status(self, stream: str, status: str) -> None:
        if status == RUNNING and stream not in self.status:
            self._status(stream, STARTED)
        self.status[stream] = status
        self.output.stream_status(stream, status)

    def finish(self, complete: bool) -> None:
        """The end of the tap's output. After a whole sync every configured stream gets a
        last STATE (a stream read in full: an empty one, which Airbyte needs to commit its
        records) and COMPLETE; otherwise every stream begun is INCOMPLETE, and its records
        after its last STATE are left unvouched for, as the tap left them."""
        if not complete:
            for stream, status in list(self.status.items()):
                if status != COMPLETE:
                    self._status(stream, INCOMPLETE)
            self.output.flush()
            return
        for stream in self.plan.streams:
            if stream not in self.status:
                self._status(stream, STARTED)
            if stream in self.plan.incremental:
                if stream not in self.sent_raw or self.pending[stream]:
                    self._send_state(stream, self.sent_raw.get(stream) or self.sent[stream])
            else:
                self._send_state(stream, {})
            self._status(stream, COMPLETE)
        self.output.flush()
