"""Run tap-billcom as a runner would (a separate process) and read what it emitted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

from bill_emulator import DEMO_CREDENTIALS

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
    env: Mapping[str, str] | None = None,
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
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            check=False,
        )
    run = TapRun(result.returncode, result.stdout, result.stderr, parse_messages(result.stdout))
    scan_tap_run(run, config, emulator=emulator, secrets=secrets)
    return run


def scan_tap_run(
    run: TapRun, config: Mapping[str, Any], *, emulator: Any = None, secrets: Iterable[str] = ()
) -> None:
    """Fail unless the run's stdout (records), STATE and stderr (logs, exception text) are
    free of every secret known for it; each artifact is also counted by `SCAN`."""
    known = [*config_secrets(config), *secrets]
    if emulator is not None:
        known += emulator.secret_values()
    assert_no_secret(run.stdout, known, kind="tap stdout (records)")
    assert_no_secret(json.dumps(run.states), known, kind="STATE")
    assert_no_secret(run.stderr, known, kind="tap stderr (logs, errors)")


def config_secrets(config: Mapping[str, Any]) -> list[str]:
    return [str(config.get(k) or "") for k in ("password", "dev_key", "mfa_remember_me_id")]


class BackgroundTap:
    """A tap process whose output is read while it runs (a pipe left unread would stall the
    tap once it holds 64 KiB), so a test can watch its messages and kill it mid-stream."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._lines: list[str] = []
        self._stderr: list[str] = []
        self._changed = threading.Condition()
        #: Messages written so far, by Singer message type.
        self.counts: Counter[str] = Counter()
        self._open = 2
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(process.stdout, self._lines), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self._stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], into: list[str]) -> None:
        for line in stream:
            message = parse_messages(line) if into is self._lines else []
            with self._changed:
                into.append(line)
                self.counts.update(m.get("type") for m in message)
                self._changed.notify_all()
        with self._changed:
            self._open -= 1
            self._changed.notify_all()

    def wait_for(self, count: int, message_type: str = "STATE", timeout: float = 60) -> bool:
        """Wait until the tap has written `count` messages of this type (False: its output
        ended, or the timeout passed, first)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.counts[message_type] >= count or not self._open, timeout=timeout
            )
            return self.counts[message_type] >= count

    def output(self) -> tuple[str, str]:
        """Everything the tap wrote (call once it has ended)."""
        for reader in self._readers:
            reader.join(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        with self._changed:
            return "".join(self._lines), "".join(self._stderr)


def start_tap(
    folder: Path,
    config: Mapping[str, Any],
    *,
    state: Mapping[str, Any] | None = None,
    streams: Iterable[str] | None = None,
) -> BackgroundTap:
    """Start the tap in the background (to kill it mid-stream)."""
    command = tap_command(folder, config, state=state, streams=streams)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return BackgroundTap(process)


def kill(
    tap: BackgroundTap,
    config: Mapping[str, Any] | None = None,
    *,
    emulator: Any = None,
) -> TapRun:
    """SIGKILL the tap (no clean-up, no last STATE) and return what it wrote before."""
    tap.process.send_signal(signal.SIGKILL)
    tap.process.wait(timeout=30)
    stdout, stderr = tap.output()
    run = TapRun(tap.process.returncode, stdout, stderr, parse_messages(stdout))
    scan_tap_run(run, config or {}, emulator=emulator)
    return run


# -- secrets ---------------------------------------------------------------------------------

#: Demo sign-in values that must never be printed. (The 6-digit MFA code would match amounts;
#: user names and the organization id are not secret.)
STATIC_SECRETS = (
    DEMO_CREDENTIALS["password"],
    DEMO_CREDENTIALS["dev_key"],
    DEMO_CREDENTIALS["other_environment_dev_key"],
    DEMO_CREDENTIALS["sync_token_value"],
)


@dataclass
class SecretScan:
    """Everything the test session scanned for secrets: what, how much, against which values.

    Every helper (run_tap, run_target, kill, assert_no_secret) and the in-process log and
    exception collector in conftest.py report here; conftest.py prints the totals and fails
    the session on any hit.
    """

    artifacts: Counter[str] = field(default_factory=Counter)
    scanned_characters: int = 0
    values: set[str] = field(default_factory=set)
    hits: list[str] = field(default_factory=list)
    #: The latest artifact of each kind (tests/test_secrets.py re-reads them).
    last: dict[str, str] = field(default_factory=dict)

    def scan(self, kind: str, text: str, secrets: Iterable[str]) -> list[str]:
        """The secret values that appear in `text` (recorded as hits)."""
        if not text:
            return []  # nothing was produced: not counted as an artifact
        # Shorter values (a blank setting, a 3-character test password) would match anywhere.
        values = {s for s in (*STATIC_SECRETS, *secrets) if s and len(s.strip()) >= 4}
        leaked = sorted(s for s in values if s in text)
        self.artifacts[kind] += 1
        self.scanned_characters += len(text)
        self.values |= values
        self.last[kind] = text
        self.hits += [f"{kind}: {secret[:3]}..." for secret in leaked]
        return leaked

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.artifacts.items()))
        return (
            f"secret scan: {sum(self.artifacts.values())} artifacts ({kinds}), "
            f"{self.scanned_characters:,} characters, {len(self.values)} distinct secret "
            f"values, {len(self.hits)} hit(s)"
        )


SCAN = SecretScan()


def assert_no_secret(text: str, secrets: Iterable[str], *, kind: str = "output") -> None:
    leaked = SCAN.scan(kind, text, secrets)
    hints = [secret[:3] + "..." for secret in leaked]
    assert not leaked, f"{len(leaked)} secret value(s) appear in the {kind}: {hints}"
