"""Airbyte protocol messages checked against Airbyte's published models
(`airbyte-protocol-models`, https://github.com/airbytehq/airbyte-protocol), strictly: the
models accept unknown keys, so every key of every message must also be one the model
declares (a misspelt `emmited_at` would otherwise pass)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from airbyte_protocol.models import (
    AirbyteMessage,
    AirbyteStateBlob,
    ConfiguredAirbyteCatalog,
)
from pydantic import BaseModel

from tests.taprun import ROOT, assert_no_secret, config_secrets


def validate(line: str) -> AirbyteMessage:
    """One stdout line as an AirbyteMessage; AssertionError unless it is exactly one."""
    message = AirbyteMessage.parse_raw(line)
    undeclared = list(_undeclared(message, "$"))
    assert not undeclared, f"keys the protocol does not declare: {undeclared} in {line[:300]}"
    return message


def _undeclared(value: Any, path: str) -> Iterable[str]:
    if isinstance(value, AirbyteStateBlob):
        return  # a stream's state is the source's own
    if isinstance(value, BaseModel):
        for name in set(value.__dict__) - set(value.__fields__):
            yield f"{path}.{name}"
        for name in value.__fields__:
            yield from _undeclared(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _undeclared(item, f"{path}[{index}]")


@dataclass
class SourceRun:
    """What one `source-billcom` command wrote, every line validated."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[AirbyteMessage] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[AirbyteMessage]:
        return [m for m in self.messages if m.type.value == kind]

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.raw:
            if message["type"] == "RECORD":
                by_stream[message["record"]["stream"]].append(message["record"]["data"])
        return dict(by_stream)

    def ids(self, stream: str) -> list[str]:
        return [r["id"] for r in self.records.get(stream, [])]

    @property
    def states(self) -> list[dict[str, Any]]:
        """Each STATE message's `state`, as the runner keeps it for the next run."""
        return [m["state"] for m in self.raw if m["type"] == "STATE"]

    def last_states(self) -> list[dict[str, Any]]:
        """The latest STATE of each stream: what a runner passes as the next run's --state."""
        latest: dict[str, dict[str, Any]] = {}
        for state in self.states:
            latest[state["stream"]["stream_descriptor"]["name"]] = state
        return list(latest.values())

    def stream_state(self, stream: str) -> Any:
        found = [s for s in self.states if s["stream"]["stream_descriptor"]["name"] == stream]
        return found[-1]["stream"]["stream_state"] if found else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [
            m["trace"]["error"]
            for m in self.raw
            if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"
        ]

    def statuses(self, stream: str) -> list[str]:
        return [
            m["trace"]["stream_status"]["status"]
            for m in self.raw
            if m["type"] == "TRACE"
            and m["trace"]["type"] == "STREAM_STATUS"
            and m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
        ]

    def logs(self, level: str | None = None) -> list[str]:
        return [
            m["log"]["message"]
            for m in self.raw
            if m["type"] == "LOG" and (level is None or m["log"]["level"] == level)
        ]

    def counts(self) -> Counter[str]:
        return Counter(m["type"] for m in self.raw)


def parse_run(returncode: int, stdout: str, stderr: str) -> SourceRun:
    run = SourceRun(returncode, stdout, stderr)
    for line in stdout.splitlines():
        run.messages.append(validate(line))
        run.raw.append(json.loads(line))
    return run


def source_executable() -> str:
    """The `source-billcom` console script beside this interpreter (as a runner finds it)."""
    return str(Path(sys.executable).parent / "source-billcom")


def source_command(
    folder: Path,
    command: str,
    config: Mapping[str, Any] | None = None,
    *,
    catalog: Mapping[str, Any] | None = None,
    state: Any = None,
) -> list[str]:
    args = [source_executable(), command]
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
        args += ["--config", str(folder / "config.json")]
    if catalog is not None:
        ConfiguredAirbyteCatalog.parse_obj(catalog)
        (folder / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(folder / "catalog.json")]
    if state is not None:
        (folder / "state.json").write_text(json.dumps(state))
        args += ["--state", str(folder / "state.json")]
    return args


def run_source(
    folder: Path,
    command: str,
    config: Mapping[str, Any] | None = None,
    *,
    catalog: Mapping[str, Any] | None = None,
    state: Any = None,
    emulator: Any = None,
    timeout: float = 180,
) -> SourceRun:
    """Run one command to its end; every stdout line must be a valid Airbyte message, and no
    known secret may appear anywhere in what it wrote."""
    args = source_command(folder, command, config, catalog=catalog, state=state)
    return run_args(args, config, emulator=emulator, timeout=timeout)


def run_args(
    args: list[str],
    config: Mapping[str, Any] | None,
    *,
    emulator: Any = None,
    timeout: float = 180,
) -> SourceRun:
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )
    scan(result.stdout, result.stderr, config, emulator)
    return parse_run(result.returncode, result.stdout, result.stderr)


def scan(stdout: str, stderr: str, config: Mapping[str, Any] | None, emulator: Any) -> None:
    known = config_secrets(config or {})
    if emulator is not None:
        known += emulator.secret_values()
    assert_no_secret(stdout, known, kind="source-billcom stdout (Airbyte messages)")
    assert_no_secret(stderr, known, kind="source-billcom stderr")


def configured_catalog(
    catalog: Mapping[str, Any], modes: Mapping[str, str] | Sequence[str]
) -> dict[str, Any]:
    """A ConfiguredAirbyteCatalog of the discovered `catalog`: the streams in `modes` with
    their sync mode (a list: incremental where the stream supports it)."""
    if not isinstance(modes, Mapping):
        modes = dict.fromkeys(modes, "incremental")
    streams = []
    for stream in catalog["streams"]:
        mode = modes.get(stream["name"])
        if mode is None:
            continue
        if mode not in stream["supported_sync_modes"]:
            mode = "full_refresh"
        streams.append(
            {
                "stream": stream,
                "sync_mode": mode,
                "destination_sync_mode": "append",
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream["source_defined_primary_key"],
            }
        )
    return {"streams": streams}


class BackgroundSource:
    """A `source-billcom read` whose output is read while it runs (to signal it mid-sync)."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        self._lines: list[str] = []
        self._stderr: list[str] = []
        self._seen = threading.Condition()
        self._open = 2
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self._lines)),
            threading.Thread(target=self._read, args=(self.process.stderr, self._stderr)),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str] | None, into: list[str]) -> None:
        assert stream is not None
        for line in stream:
            with self._seen:
                into.append(line)
                self._seen.notify_all()
        with self._seen:
            self._open -= 1
            self._seen.notify_all()

    def count(self, kind: str) -> int:
        return sum(1 for line in self._lines if line.startswith(f'{{"type":"{kind}"'))

    def wait_for(self, kind: str, count: int = 1, timeout: float = 60) -> bool:
        """Wait until `count` messages of this type were written (False: the output ended
        or the time ran out first)."""
        with self._seen:
            self._seen.wait_for(
                lambda: self.count(kind) >= count or not self._open, timeout=timeout
            )
            return self.count(kind) >= count

    def tap_pids(self) -> list[int]:
        """The adapter's child processes (the tap), from /proc."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def signal(self, signum: signal.Signals) -> None:
        os.kill(self.process.pid, signum)

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        returncode = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return returncode, "".join(self._lines), "".join(self._stderr)
