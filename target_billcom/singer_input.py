"""Reading Singer input line by line without letting one bad line sink the run.

The SDK's reader stops the whole run at the first line it cannot use (not JSON, no "type", an
unknown type, a RECORD before its SCHEMA, a RECORD without "record"...), after writing none
of the records buffered before it and leaving them out of the results file. For a reverse-ETL
target that promises a line per record, that is the worst outcome: the good records around a
corrupt line are neither written nor reported. Here each unusable line becomes a `failed`
line in the results file naming the line number and what is wrong (never its content, which
may hold bank details), the run goes on, and it still exits 1 (unless `allow_failures`).
STATE messages are withheld from the first bad line on (see TargetBillcom), so the runner
keeps the previous bookmark and the next run reads that input again, which re-runs make safe.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from singer_sdk.exceptions import MissingKeyPropertiesError, RecordsWithoutSchemaException
from singer_sdk.io_base import SingerMessageType, SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.singerlib.json import deserialize_json

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

#: What each message type must carry, and of which JSON type, before the SDK may see it.
REQUIRED: Mapping[str, Mapping[str, type]] = {
    SingerMessageType.SCHEMA: {"stream": str, "schema": dict},
    SingerMessageType.RECORD: {"stream": str, "record": dict},
    SingerMessageType.STATE: {"value": dict},
    SingerMessageType.ACTIVATE_VERSION: {"stream": str, "version": int},
    SingerMessageType.BATCH: {"stream": str, "encoding": dict, "manifest": list},
}
#: Problems the SDK raises for a single message that the run can step over.
LINE_ERRORS = (InvalidInputLine, RecordsWithoutSchemaException, MissingKeyPropertiesError)

BadLine = Callable[[int, str | None, str], None]


class InputStopped(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a signal handler into a reader waiting for its next line."""


class TolerantSingerReader(SingerReader):
    """The SDK's reader, but an unusable line is reported (`on_bad_line`) and skipped, and
    `stop()` (from a signal handler) ends the input: no further line is taken."""

    #: Called with (line number, stream if known, problem); set by the target.
    on_bad_line: BadLine | None = None

    def __init__(self) -> None:
        super().__init__()
        self.bad_lines = 0
        self.stopped = False
        #: True only while blocked waiting for the next line (nothing half-processed).
        self._waiting = False

    def stop(self) -> None:
        """Take no further input. Call from a signal handler (main thread): a reader blocked
        on its input is woken at once; one processing a line stops after it."""
        self.stopped = True
        if self._waiting:
            raise InputStopped

    @override
    def process_lines(
        self,
        file_input: IO[str] | None,
        callbacks: dict[str, Callable[[dict[Any, Any]], None]],
    ) -> Counter[str]:
        stats: Counter[str] = Counter()
        try:
            for number, line in enumerate(self._lines(file_input or self.default_input), 1):
                if not line.strip():
                    continue  # a blank line carries no message: nothing to report
                message, problem = self._message(line)
                if message is None:
                    self._bad(number, None, problem)
                    continue
                kind = message["type"]
                try:
                    callbacks[kind](message)
                except LINE_ERRORS as error:
                    problem = "was refused: " + _one_line(str(error))
                    self._bad(number, message.get("stream"), problem)
                    continue
                stats[kind] += 1
        except InputStopped:
            pass  # stopped while waiting for a line: none was half-processed
        return stats

    def _lines(self, source: IO[str]) -> Iterator[str]:
        lines = iter(source)
        while not self.stopped:
            self._waiting = True
            try:
                line = next(lines, None)
            finally:
                self._waiting = False
            if line is None:
                return
            yield line

    def _message(  # noqa: PLR0911 - one return per way a line can be unusable
        self, line: str
    ) -> tuple[dict[str, Any] | None, str]:
        try:
            message = deserialize_json(line)
        except json.JSONDecodeError as error:
            return None, f"is not JSON ({error.msg} at character {error.pos + 1})"
        if not isinstance(message, dict):
            return None, f"is JSON {type(message).__name__}, not a Singer message object"
        kind = message.get("type")
        if kind is None:
            return None, 'has no "type" (a Singer message is a SCHEMA, RECORD or STATE)'
        if kind not in REQUIRED:
            return None, f"has unknown message type {str(kind)[:40]!r}"
        for key, expected in REQUIRED[kind].items():
            if not isinstance(message.get(key), expected):
                what = "no" if message.get(key) is None else "a non-" + expected.__name__
                return None, f'is a {kind} message with {what} "{key}"'
        if kind == SingerMessageType.SCHEMA and not isinstance(
            message["schema"].get("properties"), dict
        ):
            return None, 'is a SCHEMA message whose schema has no "properties" object'
        return message, ""

    def _bad(self, number: int, stream: Any, problem: str) -> None:
        self.bad_lines += 1
        if self.on_bad_line is not None:
            self.on_bad_line(number, stream if isinstance(stream, str) else None, problem)

    @override
    def deserialize_json(self, line: str) -> dict[Any, Any]:
        # The SDK's version logs the whole line; a line may hold bank details.
        return deserialize_json(line)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unusable message"
