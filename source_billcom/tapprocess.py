"""tap-billcom as a child process: its stdout handed line by line to the caller, its log
records turned into Airbyte LOG messages, its error texts kept for the TRACE message, and
SIGTERM/SIGINT passed on to it.

The tap logs through the SDK's own structured formatter (`singer_sdk.logging.
StructuredFormatter`, chosen with the SDK's documented `SINGER_SDK_LOG_CONFIG` setting:
https://sdk.meltano.com/en/latest/implementation/logging.html), one JSON object a line, so
levels and messages are read, not guessed from text.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import msgspec

from source_billcom.messages import ENCODER, LEVELS, Output

LOGGING_CONFIG = """\
version: 1
disable_existing_loggers: false
formatters:
  structured:
    (): singer_sdk.logging.StructuredFormatter
handlers:
  stderr:
    class: logging.StreamHandler
    formatter: structured
    stream: ext://sys.stderr
root:
  handlers: [stderr]
"""

#: Signals a runner stops a sync with; passed on to the tap (a second one kills it).
FORWARDED = (signal.SIGTERM, signal.SIGINT)


class _LogRecord(msgspec.Struct):
    level: str
    message: Any = None
    exception: Any = None
    metric_info: Any = None


@dataclass
class TapExit:
    """How the tap ended, and what it said on the way."""

    returncode: int
    #: Signals this process received and passed on while the tap ran.
    signals: list[int] = field(default_factory=list)
    #: Messages of the tap's ERROR and CRITICAL log records, in order.
    errors: list[str] = field(default_factory=list)
    #: The last INFO messages (the connection check's verdict is one).
    infos: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    #: Exception reports, and stderr text that was not a log record (the end of it).
    traces: deque[str] = field(default_factory=lambda: deque(maxlen=50))


def tap_command(*args: str) -> list[str]:
    """The tap's command line: this interpreter's `tap_billcom` (the `tap-billcom` script)."""
    return [sys.executable, "-m", "tap_billcom", *args]


def run_tap(
    args: Sequence[str],
    output: Output,
    folder: Path,
    on_line: Callable[[bytes], None],
    signals: Forwarding,
) -> TapExit:
    """Run `tap-billcom ARGS` to its end, calling `on_line` with each line of its stdout
    (not at all once a signal has asked this process to stop)."""
    result = TapExit(returncode=0, signals=signals.received)
    if signals.received:
        return result
    logging_config = folder / "logging.yml"
    logging_config.write_text(LOGGING_CONFIG)
    env = {**os.environ, "SINGER_SDK_LOG_CONFIG": str(logging_config)}
    # Its own session: a Ctrl-C in a terminal reaches the tap once, through this process.
    process = subprocess.Popen(  # noqa: S603 (this interpreter and module, no shell)
        tap_command(*args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    signals.process = process
    assert process.stdout is not None
    assert process.stderr is not None
    logs = threading.Thread(
        target=_translate_logs, args=(process.stderr, output, result), daemon=True
    )
    logs.start()
    for line in process.stdout:
        on_line(line)
    result.returncode = process.wait()
    logs.join()
    return result


class Forwarding:
    """Passes SIGTERM and SIGINT on to the running tap (a second one kills it), and keeps
    what arrived, so a command asked to stop starts no further tap."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.received: list[int] = []

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL if len(self.received) > 1 else signum)


@contextlib.contextmanager
def forwarded_signals() -> Iterator[Forwarding]:
    """For the whole command: SIGTERM and SIGINT go to the tap, which stops as it would under
    a Singer runner; this process reads on until the tap's output ends, so the last STATE the
    tap wrote is translated."""
    forwarding = Forwarding()
    previous = {signum: signal.signal(signum, forwarding) for signum in FORWARDED}
    try:
        yield forwarding
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _translate_logs(stream: IO[bytes], output: Output, result: TapExit) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if not line.strip():
            continue
        try:
            record = msgspec.json.decode(line, type=_LogRecord)
        except msgspec.DecodeError:
            # Not a log record: a traceback or a usage error printed by the interpreter.
            result.traces.append(line)
            output.log("WARN", line)
            continue
        text = str(record.message)
        level = LEVELS.get(record.level, "INFO")
        if record.metric_info is not None:
            # The SDK's metrics (a few per request) are for tuning, not for a sync's log.
            text = f"METRIC: {ENCODER.encode(record.metric_info).decode()}"
            level = "DEBUG"
        stack_trace = format_exception(record.exception) if record.exception else None
        if stack_trace:
            result.traces.append(stack_trace)
        if level in ("ERROR", "FATAL"):
            result.errors.append(text)
        elif level == "INFO":
            result.infos.append(text)
        output.log(level, text, stack_trace)


def format_exception(report: Any) -> str:
    """The text of an exception report of singer_sdk.logging.StructuredFormatter, laid out
    as Python prints a traceback (causes first)."""
    if not isinstance(report, dict):
        return str(report)
    lines: list[str] = []
    chained = report.get("cause") or report.get("context")
    if chained:
        lines += [format_exception(chained), ""]
    frames = report.get("traceback") or []
    if frames:
        lines.append("Traceback (most recent call last):")
    for frame in frames:
        where = f'"{frame.get("filename")}", line {frame.get("lineno")}'
        lines.append(f"  File {where}, in {frame.get('function')}")
        if str(frame.get("line") or "").strip():
            lines.append(f"    {str(frame['line']).strip()}")
    lines.append(f"{report.get('module')}.{report.get('type')}: {report.get('message')}")
    return "\n".join(lines)
