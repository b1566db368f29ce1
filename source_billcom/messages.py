"""Airbyte protocol messages on stdout, one JSON object a line.

Protocol: https://docs.airbyte.com/platform/understanding-airbyte/airbyte-protocol (message
shapes as in the `airbyte-protocol-models` package, which the tests validate against).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import IO, Any

import msgspec

from bill_core.errors import redact

#: Money stays a JSON number with its digits (msgspec writes Decimal as a string by default).
ENCODER = msgspec.json.Encoder(decimal_format="number")

#: Python logging level names (as singer_sdk.logging.StructuredFormatter writes them) ->
#: Airbyte log levels.
LEVELS: Mapping[str, str] = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARN",
    "error": "ERROR",
    "critical": "FATAL",
}

CONFIG_ERROR = "config_error"
TRANSIENT_ERROR = "transient_error"
SYSTEM_ERROR = "system_error"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Output:
    """Writes Airbyte messages to stdout (shared by the thread translating the tap's logs).

    RECORD messages are held and written in blocks of about 64 KiB; every other message
    writes out what is held first, then itself, and flushes, so a STATE never reaches the
    runner before the records it covers. Text that goes out in LOG, TRACE and connection
    status messages has every known secret value replaced (a last line of defence: the
    tap's texts carry none).
    """

    BLOCK = 64 * 1024

    def __init__(self, stream: IO[bytes] | None = None, secrets: Iterable[str] = ()) -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._held = bytearray()
        self._lock = threading.Lock()
        self.secrets = tuple(secrets)

    def clean(self, text: str) -> str:
        return redact(text, self.secrets)

    def message(self, body: Mapping[str, Any]) -> None:
        line = ENCODER.encode(body) + b"\n"
        with self._lock:
            self._held += line
            self._flush()

    def record(self, prefix: bytes, data: bytes) -> None:
        """A RECORD message: `prefix` from `record_prefix`, `data` the record's JSON text as
        the tap wrote it (so every number keeps BILL's digits)."""
        with self._lock:
            held = self._held
            held += prefix
            held += data
            held += b',"emitted_at":%d}}\n' % now_ms()
            if len(held) >= self.BLOCK:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._held:
            self._stream.write(self._held)
            self._held.clear()
        self._stream.flush()

    # -- message kinds --------------------------------------------------------------------

    def log(self, level: str, text: str, stack_trace: str | None = None) -> None:
        body: dict[str, Any] = {"level": level, "message": self.clean(text)}
        if stack_trace:
            body["stack_trace"] = self.clean(stack_trace)
        self.message({"type": "LOG", "log": body})

    def error(
        self,
        text: str,
        failure_type: str,
        *,
        internal: str | None = None,
        stack_trace: str | None = None,
    ) -> None:
        """A TRACE error message: `text` is what the user reads and acts on."""
        error: dict[str, Any] = {"message": self.clean(text), "failure_type": failure_type}
        if internal:
            error["internal_message"] = self.clean(internal)
        if stack_trace:
            error["stack_trace"] = self.clean(stack_trace)
        self.message(
            {
                "type": "TRACE",
                "trace": {"type": "ERROR", "emitted_at": float(now_ms()), "error": error},
            }
        )

    def stream_status(self, stream: str, status: str) -> None:
        """STARTED, RUNNING, COMPLETE or INCOMPLETE."""
        self.message(
            {
                "type": "TRACE",
                "trace": {
                    "type": "STREAM_STATUS",
                    "emitted_at": float(now_ms()),
                    "stream_status": {"stream_descriptor": {"name": stream}, "status": status},
                },
            }
        )

    def state(
        self, stream: str, stream_state: msgspec.Raw | Mapping[str, Any], records: int
    ) -> None:
        """A per-stream STATE message; `records`: this stream's records since its last one
        (Airbyte wants the count as a double)."""
        self.message(
            {
                "type": "STATE",
                "state": {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state},
                    "sourceStats": {"recordCount": float(records)},
                },
            }
        )

    def connection_status(self, succeeded: bool, text: str) -> None:
        status = "SUCCEEDED" if succeeded else "FAILED"
        self.message(
            {
                "type": "CONNECTION_STATUS",
                "connectionStatus": {"status": status, "message": self.clean(text)},
            }
        )


def record_prefix(stream: str) -> bytes:
    """The start of a RECORD message of `stream`, up to its data."""
    return b'{"type":"RECORD","record":{"stream":' + ENCODER.encode(stream) + b',"data":'
