"""source-billcom under PyAirbyte (PyPI `airbyte`), as a notebook would use it: the console
script as a local executable, every stream read into PyAirbyte's default DuckDB cache, then
read again from the state the cache kept.

PyAirbyte runs from .venv-airbyte (`make airbyte`; created here when missing: a venv that
cannot be built fails the test, never skips it). Offline it needs AIRBYTE_OFFLINE_MODE=1, or
`get_source` first tries to fetch Airbyte's connector registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from bill_core import catalog
from bill_emulator import Emulator
from tests.conftest import config_for
from tests.taprun import ROOT, assert_no_secret, config_secrets

AIRBYTE_VENV = ROOT / ".venv-airbyte"
#: Keep in step with the Makefile's PYAIRBYTE_VERSION.
PYAIRBYTE_VERSION = "0.71.3"
SCRIPT = ROOT / "tests" / "pyairbyte_read.py"
STREAMS = [o.stream for o in catalog.OBJECTS]
INCREMENTAL = [o.stream for o in catalog.OBJECTS if o.incremental]


def pyairbyte_python() -> Path:
    """.venv-airbyte's interpreter, the venv built here if `make airbyte` has not run."""
    python = AIRBYTE_VENV / "bin" / "python"
    if not (AIRBYTE_VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(AIRBYTE_VENV)], check=True)
        (AIRBYTE_VENV / ".gitignore").write_text("*\n")
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
        built = subprocess.run(
            [*pip, f"airbyte=={PYAIRBYTE_VERSION}"], capture_output=True, text=True, check=False
        )
        assert built.returncode == 0, f"cannot build .venv-airbyte:\n{built.stderr[-3000:]}"
        (AIRBYTE_VENV / ".installed").touch()
    return python


def pyairbyte_read(folder: Path, config: dict[str, Any], emulator: Emulator) -> dict[str, Any]:
    """One read by PyAirbyte in `folder` (its default cache lands under folder/.cache)."""
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH"} and not key.startswith("AIRBYTE_")
    }
    env |= {
        "AIRBYTE_OFFLINE_MODE": "1",
        "DO_NOT_TRACK": "1",
        "AIRBYTE_LOGGING_ROOT": str(folder / "logs"),
    }
    source = Path(sys.executable).parent / "source-billcom"
    result = subprocess.run(
        [str(pyairbyte_python()), str(SCRIPT), str(source), str(config_path)],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=300,
        check=False,
    )
    known = [*config_secrets(config), *emulator.secret_values()]
    assert_no_secret(result.stdout, known, kind="PyAirbyte stdout")
    assert_no_secret(result.stderr, known, kind="PyAirbyte stderr")
    for log in sorted((folder / "logs").rglob("*.log")):
        assert_no_secret(log.read_text(errors="replace"), known, kind="PyAirbyte log file")
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_pyairbyte_reads_every_stream_into_its_cache_then_only_what_changed(
    tmp_path: Path, emulator: Emulator
) -> None:
    config = config_for(emulator.base_url)
    organization = emulator.organization()
    first = pyairbyte_read(tmp_path, config, emulator)
    assert Path(first["cache"]).is_relative_to(tmp_path / ".cache")
    expected_rows = {stream: len(organization.list(stream)) for stream in STREAMS}
    assert first["rows"] == expected_rows
    assert first["processed_records"] == sum(expected_rows.values())
    for stream in INCREMENTAL:
        newest = max(r["updatedTime"] for r in organization.list(stream))
        assert first["states"][stream]["replication_key_value"] == newest, stream
    # Money lands exact in the cache.
    amounts = {b["id"]: b["amount"] for b in first["bills"]}
    assert {k: Decimal(v) for k, v in amounts.items()} == {
        b["id"]: Decimal(str(b["amount"])) for b in organization.list("bills")
    }

    changed = sorted(organization.list("bills"), key=lambda r: r["id"])[:3]
    for bill in changed:
        organization.update("bills", bill["id"], {"description": "changed between reads"})
    second = pyairbyte_read(tmp_path, config, emulator)
    # Incremental: the changed bills, the records at each bookmark, the full-table streams
    # and the children of the bills read; far fewer than the first read.
    full_table = sum(
        n
        for s, n in expected_rows.items()
        if s not in INCREMENTAL and s not in {o.stream for o in catalog.OBJECTS if o.parent}
    )
    assert second["processed_records"] < first["processed_records"] / 2
    assert second["processed_records"] >= full_table + len(changed)
    # The cache merges on the primary key: still one row per object, the changes in place.
    assert second["rows"] == expected_rows
    descriptions = {b["id"]: b["description"] for b in second["bills"]}
    assert all(descriptions[b["id"]] == "changed between reads" for b in changed)
    newest = max(r["updatedTime"] for r in organization.list("bills"))
    assert second["states"]["bills"]["replication_key_value"] == newest
    assert newest > first["states"]["bills"]["replication_key_value"]


def test_the_makefile_builds_the_pyairbyte_this_test_expects() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert f"PYAIRBYTE_VERSION := {PYAIRBYTE_VERSION}\n" in makefile
