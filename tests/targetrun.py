"""Run target-billcom as a runner would (a separate process reading Singer messages)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.taprun import ROOT, assert_no_secret, config_secrets

SAMPLE = ROOT / "examples" / "erp" / "sample.singer"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str
    results: list[dict[str, Any]]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def actions(self, stream: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in self.results:
            if stream is None or line["stream"] == stream:
                counts[line["action"]] = counts.get(line["action"], 0) + 1
        return counts

    def failed(self) -> list[dict[str, Any]]:
        return [line for line in self.results if line["action"] == "failed"]


def singer_lines(messages: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(m, default=str) + "\n" for m in messages)


def messages_for(stream: str, records: Iterable[Mapping[str, Any]], **schema: Any) -> list[Any]:
    """A permissive SCHEMA then RECORD messages for one stream."""
    properties = schema or {}
    return [
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": properties},
            "key_properties": [],
        },
        *({"type": "RECORD", "stream": stream, "record": dict(r)} for r in records),
    ]


def run_target(
    config: Mapping[str, Any],
    input_text: str,
    *,
    emulator: Any = None,
    timeout: float = 180,
    secrets: Iterable[str] = (),
) -> TargetRun:
    """Feed Singer messages to the target; scan its output and results for secrets (the
    config's, the emulator's session ids and bank account numbers, and `secrets`)."""
    with tempfile.TemporaryDirectory() as folder:
        results_path = Path(folder, "results.jsonl")
        full_config = {"results_path": str(results_path), **config}
        config_path = Path(folder, "config.json")
        config_path.write_text(json.dumps(full_config))
        result = subprocess.run(
            [sys.executable, "-m", "target_billcom", "--config", str(config_path)],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )
        results_text = results_path.read_text() if results_path.exists() else ""
    run = TargetRun(
        result.returncode,
        result.stdout,
        result.stderr,
        [json.loads(line) for line in results_text.splitlines() if line.strip()],
    )
    known = [*config_secrets(config), *secrets]
    if emulator is not None:
        known += emulator.secret_values()
    assert_no_secret(run.stdout, known, kind="target stdout (STATE)")
    assert_no_secret(run.stderr, known, kind="target stderr (logs, errors)")
    assert_no_secret(results_text, known, kind="results file")
    return run


def write_calls(emulator: Any) -> list[Any]:
    return [
        r
        for r in emulator.requests
        if r.method in WRITE_METHODS and "/login" not in r.path and "/Login.json" not in r.path
    ]
