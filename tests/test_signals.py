"""SIGTERM and SIGINT, as a scheduler or a person at a terminal sends them mid-run.

target-billcom: stops taking input, lets calls in flight finish, sends nothing new, writes a
`not_written` line for every record it did not write, passes no STATE on, exits 128+signal.
tap-billcom: flushes the STATE of what it emitted and exits 128+signal; a run restarted
from that STATE loses nothing.

Each test waits for an event (a request the emulator received, a message the tap wrote),
then signals the real process: no sleeps, no timing assertions.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bill_emulator import Emulator, EmulatorConfig
from tap_billcom.tap import write_all
from tests.conftest import config_for
from tests.taprun import ROOT, assert_no_secret, config_secrets, kill, run_tap, start_tap
from tests.targetrun import messages_for, singer_lines, write_calls

SIGNALS = [signal.SIGTERM, signal.SIGINT]


def writes_seen(emulator: Emulator, path: str, count: int) -> threading.Event:
    """Set once the emulator has received `count` POSTs to `path`."""
    seen = threading.Event()
    calls = Counter[str]()

    def watch(record: Any) -> None:
        if record.method == "POST" and record.path == path:
            calls[path] += 1
            if calls[path] >= count:
                seen.set()

    emulator.on_request(watch)
    return seen


def target_process(
    folder: str, config: dict[str, Any], text: str | None = None
) -> subprocess.Popen[str]:
    """The target reading `text` from a file (or, without it, from a pipe left open)."""
    config_path = Path(folder, "config.json")
    config_path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "target_billcom", "--config", str(config_path)]
    if text is None:
        stdin: Any = subprocess.PIPE
    else:
        Path(folder, "input.singer").write_text(text)
        command += ["--input", str(Path(folder, "input.singer"))]
        stdin = subprocess.DEVNULL
    return subprocess.Popen(
        command, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )


def results(folder: str) -> list[dict[str, Any]]:
    path = Path(folder, "results.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_writes_leaves_every_record_accounted_for_and_no_state(
    signum: int,
) -> None:
    emulator = Emulator(EmulatorConfig(records=20, latency_seconds=0.02))
    customers = [{"name": f"Signal Customer {n:03d}", "email": f"s{n}@x.com"} for n in range(300)]
    text = singer_lines(
        [*messages_for("customers", customers), {"type": "STATE", "value": {"erp": 300}}]
    )
    before = {c["id"] for c in emulator.organization().list("customers")}
    with emulator.serve() as base_url, tempfile.TemporaryDirectory() as folder:
        config = config_for(base_url, results_path=str(Path(folder, "results.jsonl")))
        creates = writes_seen(emulator, "/v3/customers", 30)
        process = target_process(folder, config, text)
        assert creates.wait(timeout=120), "the target never started writing"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
        lines = results(folder)
        in_flight_after = len(write_calls(emulator))
    assert process.returncode == 128 + signum, stderr[-3000:]
    assert stdout == "", "STATE was passed on"
    # One line per record, each either created or not_written.
    assert sorted(line["match_key"] for line in lines) == sorted(c["name"] for c in customers)
    actions = Counter(line["action"] for line in lines)
    assert set(actions) == {"created", "not_written"}, actions
    assert actions["not_written"] > 0
    # BILL holds exactly the records reported created: none lost, none unreported.
    held = {c["name"] for c in emulator.organization().list("customers") if c["id"] not in before}
    assert held == {line["match_key"] for line in lines if line["action"] == "created"}
    assert in_flight_after == actions["created"]  # nothing was sent after the stop
    assert all(
        signal.Signals(signum).name in line.get("code", "")
        for line in lines
        if line["action"] == "not_written"
    )
    assert f"Stopped by {signal.Signals(signum).name}" in stderr
    assert_no_secret(stderr, config_secrets(config), kind="target stderr (logs, errors)")


def test_a_signal_while_the_target_waits_for_input_ends_it(emulator: Emulator) -> None:
    """The upstream tap is still running (stdin open): the signal must not wait for it."""
    text = singer_lines(messages_for("vendors", [{"name": "Buffered", "email": "b@x.com"}]))
    with tempfile.TemporaryDirectory() as folder:
        config = config_for(
            emulator.base_url or "", results_path=str(Path(folder, "results.jsonl"))
        )
        process = target_process(folder, config)
        assert process.stdin is not None
        assert process.stderr is not None
        process.stdin.write(text)
        process.stdin.flush()
        reading, logged = threading.Event(), []

        def watch(stream: Any) -> None:
            for line in stream:
                logged.append(line)
                if "Reading Singer messages" in line:
                    reading.set()

        watcher = threading.Thread(target=watch, args=(process.stderr,), daemon=True)
        watcher.start()
        ready = reading.wait(timeout=60)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        finally:
            process.kill()
            process.stdin.close()
            watcher.join(timeout=30)
            process.stderr.close()
            process.stdout.close() if process.stdout else None
        stderr = "".join(logged)
        lines = results(folder)
    assert ready, "the target never said it reads its input"
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert all(line["action"] == "not_written" for line in lines)
    assert write_calls(emulator) == []


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_mid_stream_flushes_state_exits_nonzero_and_a_restart_loses_nothing(
    signum: int, tmp_path: Path
) -> None:
    emulator = Emulator(EmulatorConfig(records=3000, latency_seconds=0.01))
    with emulator.serve() as base_url:
        config = config_for(base_url)
        tap = start_tap(tmp_path, config, streams=["bills"])
        assert tap.wait_for(3, "STATE"), "the tap never emitted three STATE messages"
        tap.process.send_signal(signum)
        tap.process.wait(timeout=60)
        stdout, stderr = tap.output()
        first = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        states = [m["value"] for m in first if m["type"] == "STATE"]
        restarted = run_tap(config, state=states[-1], streams=["bills"], emulator=emulator)
        every = {b["id"] for b in emulator.organization().list("bills")}
    assert tap.process.returncode == 128 + signum, stderr[-2000:]
    assert first[-1]["type"] == "STATE", "the last STATE was not flushed"
    emitted = {m["record"]["id"] for m in first if m["type"] == "RECORD"}
    assert emitted < every  # stopped mid-stream
    assert restarted.returncode == 0
    assert emitted | set(restarted.ids("bills")) == every
    assert_no_secret(stderr, config_secrets(config), kind="tap stderr (logs, errors)")
    _ = kill  # (SIGKILL is covered in test_reliability_tap.py)


def test_a_block_of_output_is_written_whole_by_a_raw_stdout_that_writes_part_of_it() -> None:
    """With PYTHONUNBUFFERED (as Meltano runs taps) stdout is the raw file, whose write may
    take only part of a block (a pipe write cut short by a signal): the rest must follow,
    not be dropped (it left a RECORD line cut in two before the last STATE)."""

    class ShortWrites:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, chunk: Any) -> int:
            taken = bytes(chunk[:1000])
            self.data += taken
            return len(taken)

    out = ShortWrites()
    block = bytearray(b"".join(b'{"type":"RECORD","n":%d}\n' % n for n in range(3000)))
    write_all(out, block)
    assert out.data == block
