"""A small run of benchmarks/run.py: it works end to end and its rows say what they should
(no timing is asserted: figures come from the full run, see README "Performance")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.taprun import ROOT


def test_benchmark_runs_and_reports_every_row_within_bills_limits(tmp_path: Path) -> None:
    rows_path = tmp_path / "rows.json"
    command = [sys.executable, "benchmarks/run.py", "--records", "1500", "--latency-ms", "5"]
    command += ["--target-records", "100", "--large-records", "3000", "--json", str(rows_path)]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(rows_path.read_text())}
    assert set(rows) == {
        "tap full sync",
        "tap, one request at a time",
        "tap full sync, no latency",
        "target, all new (creates)",
        "target, same input again",
        "tap full sync, 3,000 records, no latency",
    }
    assert all(row["peak_in_flight"] <= 3 for row in rows.values())
    assert rows["tap, one request at a time"]["peak_in_flight"] == 1
    assert rows["tap full sync"]["requests"] >= rows["tap full sync"]["minimum"]
    # All-new input costs exactly the minimum writes; the same input again costs none.
    assert rows["target, all new (creates)"]["writes"] == 1 + 10 + 1 + 30
    assert rows["target, same input again"]["writes"] == 0
    assert "wall/floor" in result.stdout
    # Zero-latency rows have no floor; every row has a rate and the process's own peak RSS.
    assert rows["tap full sync, no latency"]["floor"] == 0
    assert rows["tap full sync, 3,000 records, no latency"]["records"] > 3000
    assert all(row["records_per_second"] > 0 for row in rows.values())
    assert all(0 < row["peak_rss_mb"] < 1000 for row in rows.values())
