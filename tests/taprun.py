"""Run tap-billcom as a runner would (a separate process) and read what it emitted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                by_stream[message["stream"]].append(message["record"])
        return dict(by_stream)

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def bookmark(self, stream: str) -> str | None:
        value = self.last_state.get("bookmarks", {}).get(stream, {})
        return value.get("replication_key_value")

    def ids(self, stream: str) -> list[str]:
        return [r["id"] for r in self.records.get(stream, [])]


def parse_messages(text: str) -> list[dict[str, Any]]:
    """Singer messages from stdout; a SIGKILL may leave the last line cut short."""
    messages = []
    for line in text.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            continue
    return messages


@cache
def discovered_catalog() -> str:
    config = {
        "username": "u",
        "password": "p",
        "organization_id": "00802AAAAAAAAAAAAAAA",
        "dev_key": "k",
        "base_url": "http://127.0.0.1:9",
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "config.json")
        path.write_text(json.dumps(config))
        result = subprocess.run(
            [sys.executable, "-m", "tap_billcom", "--config", str(path), "--discover"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    return result.stdout


def catalog_selecting(streams: Iterable[str]) -> dict[str, Any]:
    wanted = set(streams)
    catalog = json.loads(discovered_catalog())
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def tap_command(
    folder: Path,
    config: Mapping[str, Any],
    *,
    state: Mapping[str, Any] | None = None,
    streams: Iterable[str] | None = None,
    extra_args: Iterable[str] = (),
) -> list[str]:
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "tap_billcom", "--config", str(config_path), *extra_args]
    if state is not None:
        (folder / "state.json").write_text(json.dumps(state))
        command += ["--state", str(folder / "state.json")]
    if streams is not None:
        (folder / "catalog.json").write_text(json.dumps(catalog_selecting(streams)))
        command += ["--catalog", str(folder / "catalog.json")]
    return command


def run_tap(
    config: Mapping[str, Any],
    *,
    state: Mapping[str, Any] | None = None,
    streams: Iterable[str] | None = None,
    extra_args: Iterable[str] = (),
    timeout: float = 180,
    emulator: Any = None,
    secrets: Iterable[str] = (),
) -> TapRun:
    """Run the tap to completion; fail the test if any known secret appears in its output.

    Always scanned: the config's password, dev key and MFA remember-me id; with `emulator`,
    also every session id it issued (during this run too) and every full bank account number.
    """
    with tempfile.TemporaryDirectory() as folder:
        command = tap_command(
            Path(folder), config, state=state, streams=streams, extra_args=extra_args
        )
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            check=False,
        )
    run = TapRun(result.returncode, result.stdout, result.stderr, parse_messages(result.stdout))
    known = [config.get(k) or "" for k in ("password", "dev_key", "mfa_remember_me_id")]
    if emulator is not None:
        known += emulator.secret_values()
    assert_no_secret(run.stdout + run.stderr, [*known, *secrets])
    return run


def start_tap(
    folder: Path,
    config: Mapping[str, Any],
    *,
    state: Mapping[str, Any] | None = None,
    streams: Iterable[str] | None = None,
) -> subprocess.Popen[str]:
    """Start the tap in the background (to kill it mid-stream)."""
    command = tap_command(folder, config, state=state, streams=streams)
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def kill(process: subprocess.Popen[str]) -> TapRun:
    process.send_signal(signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=30)
    return TapRun(process.returncode, stdout, stderr, parse_messages(stdout))


def assert_no_secret(text: str, secrets: Iterable[str]) -> None:
    leaked = [s for s in secrets if s and s in text]
    hints = [secret[:3] + "..." for secret in leaked]
    assert not leaked, f"{len(leaked)} secret value(s) appear in the output: {hints}"
