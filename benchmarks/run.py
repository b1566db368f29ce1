"""Benchmark tap-billcom and target-billcom against the emulator, and print one table.

    .venv/bin/python benchmarks/run.py                       # defaults: 50,000 records, 200 ms
    .venv/bin/python benchmarks/run.py --records 5000 --latency-ms 50 --target-records 2000

The emulator runs in this process (so it can count requests in flight); the tap and the target
run as separate processes, as Meltano runs them, with their output sent to a null sink. Every
figure comes from this one run. The floor of a run is the fewest requests it could make times
the latency divided by BILL's limit of 3 requests in flight (and at least requests / 20,000 h).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bill_core import catalog  # noqa: E402
from bill_emulator import DEMO_CREDENTIALS, Emulator, EmulatorConfig  # noqa: E402

BILL_CONCURRENCY = 3
HOURLY_LIMIT = 20_000
WRITE_METHODS = {"POST", "PATCH", "PUT"}


@dataclass
class Result:
    name: str
    requests: int
    minimum: int
    peak_in_flight: int
    wall: float
    floor: float
    records: int
    peak_rss_mb: float
    writes: int | None = None
    cpu: float = 0.0
    latency: float = 0.0

    @property
    def ratio(self) -> float:
        return self.wall / self.floor if self.floor else float("nan")

    @property
    def records_per_second(self) -> float:
        return self.records / self.wall if self.wall else float("nan")


def floor_seconds(requests: int, latency: float) -> float:
    """Requests x latency / 3 in flight; beyond 20,000 requests, BILL's hourly limit adds
    a wait for each further hour's budget."""
    extra_hours = max(0, math.ceil(requests / HOURLY_LIMIT) - 1)
    return max(requests * latency / BILL_CONCURRENCY, extra_hours * 3600.0)


def config(base_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "username": DEMO_CREDENTIALS["username"],
        "password": DEMO_CREDENTIALS["password"],
        "organization_id": DEMO_CREDENTIALS["organization_id"],
        "dev_key": DEMO_CREDENTIALS["dev_key"],
        "base_url": base_url,
        **extra,
    }


def run_process(
    command: Sequence[str], stdin_path: Path | None = None
) -> tuple[float, float, float]:
    """Run to completion with stdout to /dev/null; (wall s, peak RSS in MB, CPU s).

    Peak RSS is the process's own high-water mark (VmHWM), read while it runs: getrusage's
    ru_maxrss of a child also counts the parent's memory it shared between fork and exec
    (here the emulator's whole organization)."""
    started = time.monotonic()
    with (
        open(os.devnull, "wb") as null,
        stdin_path.open("rb") if stdin_path else open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as errors,
    ):
        process = subprocess.Popen(command, stdout=null, stderr=errors, stdin=stdin, cwd=ROOT)
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, high_water_kb(process.pid))
            time.sleep(0.02)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        cpu = usage.ru_utime + usage.ru_stime
        print(f"  {command[2]}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        if status != 0:
            errors.seek(0)
            sys.stderr.write(errors.read().decode()[-3000:])
            msg = f"{command[2]} exited with status {status}"
            raise SystemExit(msg)
    return wall, (peak_kb or usage.ru_maxrss) / 1024, cpu


def high_water_kb(pid: int) -> int:
    """Peak resident memory of a running process in KiB (Linux), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def minimum_list_requests(emulator: Emulator) -> tuple[int, int]:
    """(fewest list requests a full sync of the default streams needs, records they hold)."""
    organization = emulator.organization()
    requests = records = 0
    for entry in catalog.OBJECTS:
        if not entry.selected_by_default:
            continue
        count = 1 if entry.single else len(organization.list(entry.stream))
        records += count
        requests += 1 if entry.single else max(1, math.ceil(count / 100))
    return requests, records


def bench_tap(name: str, emulator: Emulator, base_url: str, latency: float, **extra: Any) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "config.json")
        path.write_text(json.dumps(config(base_url, **extra)))
        emulator.clear_requests()
        wall, rss, cpu = run_process([sys.executable, "-m", "tap_billcom", "--config", str(path)])
    requests = [r for r in emulator.requests if r.method == "GET"]
    minimum, records = minimum_list_requests(emulator)
    return Result(
        name,
        len(requests),
        minimum,
        emulator.peak_in_flight,
        wall,
        floor_seconds(minimum, latency),
        records,
        rss,
        cpu=cpu,
        latency=latency,
    )


def erp_input(records: int) -> tuple[str, dict[str, int], int]:
    """All-new ERP input: 10% vendors, 10% customers, 50% bills, 30% invoices, by name."""
    vendors, customers = max(1, records // 10), max(1, records // 10)
    bills, invoices = records // 2, records - 2 * (records // 10) - records // 2
    lines = []

    def stream(name: str, rows: Any) -> None:
        lines.append(
            {
                "type": "SCHEMA",
                "stream": name,
                "key_properties": [],
                "schema": {"type": "object", "properties": {}},
            }
        )
        lines.extend({"type": "RECORD", "stream": name, "record": row} for row in rows)

    stream("vendors", ({"name": f"Bench Vendor {i:06d}"} for i in range(vendors)))
    stream(
        "customers",
        (
            {"name": f"Bench Customer {i:06d}", "email": f"c{i}@bench.example"}
            for i in range(customers)
        ),
    )
    stream(
        "bills",
        (
            {
                "vendorName": f"Bench Vendor {i % vendors:06d}",
                "dueDate": "2026-12-31",
                "invoice": {"invoiceNumber": f"BB-{i:07d}", "invoiceDate": "2026-11-30"},
                "billLineItems": [{"amount": 100 + i % 900, "description": "bench"}],
            }
            for i in range(bills)
        ),
    )
    stream(
        "invoices",
        (
            {
                "customerName": f"Bench Customer {i % customers:06d}",
                "invoiceNumber": f"BI-{i:07d}",
                "invoiceLineItems": [{"quantity": 1, "price": 50 + i % 400}],
            }
            for i in range(invoices)
        ),
    )
    lines.append({"type": "STATE", "value": {"bookmarks": {"bench": {"done": True}}}})
    counts = {"vendors": vendors, "customers": customers, "bills": bills, "invoices": invoices}
    minimum = math.ceil(vendors / 20) + customers + math.ceil(bills / 100) + invoices
    return "".join(json.dumps(line) + "\n" for line in lines), counts, minimum


def bench_target(
    emulator: Emulator, base_url: str, latency: float, text: str, minimum_writes: int
) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "config.json")
        path.write_text(json.dumps(config(base_url, results_path=str(Path(folder, "r.jsonl")))))
        source = Path(folder, "input.singer")
        source.write_text(text)
        emulator.clear_requests()
        wall, rss, cpu = run_process(
            [sys.executable, "-m", "target_billcom", "--config", str(path)], stdin_path=source
        )
    requests = [r for r in emulator.requests if "/login" not in r.path]
    writes = sum(1 for r in requests if r.method in WRITE_METHODS)
    reads = len(requests) - writes
    records = text.count('"type": "RECORD"')
    # The floor counts the writes the input needs plus the index reads this run made.
    floor = floor_seconds(minimum_writes + reads, latency)
    return Result(
        "target",
        len(requests),
        minimum_writes + reads,
        emulator.peak_in_flight,
        wall,
        floor,
        records,
        rss,
        writes,
        cpu,
        latency,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--target-records", type=int, default=1000)
    parser.add_argument(
        "--large-records",
        type=int,
        default=1_000_000,
        help="records of a second organization read at zero latency for peak RSS (0: skip)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    started = time.monotonic()
    emulator = Emulator(EmulatorConfig(records=args.records, latency_seconds=latency))
    # The seeded organizations live until the end: keep the cyclic garbage collector from
    # scanning them on every pass (with 1,000,000 records a full pass takes seconds).
    gc.freeze()
    print(f"seeded {args.records} records in {time.monotonic() - started:.1f} s", flush=True)
    results = []
    with emulator.serve() as base_url:
        results.append(bench_tap("tap full sync", emulator, base_url, latency))
        if not args.skip_baseline:
            results.append(
                bench_tap(
                    "tap, one request at a time",
                    emulator,
                    base_url,
                    latency,
                    max_concurrent_requests=1,
                )
            )
        # The same organization at zero latency: what the tap process itself can carry.
        emulator.config = replace(emulator.config, latency_seconds=0.0)
        results.append(bench_tap("tap full sync, no latency", emulator, base_url, 0.0))
        emulator.config = replace(emulator.config, latency_seconds=latency)
        if args.target_records:
            text, _, minimum_writes = erp_input(args.target_records)
            new = bench_target(emulator, base_url, latency, text, minimum_writes)
            new.name = "target, all new (creates)"
            again = bench_target(emulator, base_url, latency, text, 0)
            again.name = "target, same input again"
            results += [new, again]
    del emulator
    if args.large_records:
        started = time.monotonic()
        large = Emulator(EmulatorConfig(records=args.large_records, seed=2))
        gc.freeze()
        print(f"seeded {args.large_records} records in {time.monotonic() - started:.1f} s")
        with large.serve() as base_url:
            name = f"tap full sync, {args.large_records:,} records, no latency"
            results.append(bench_tap(name, large, base_url, 0.0))
    print_table(results)
    if args.json:
        rows = [
            {**vars(r), "ratio": r.ratio, "records_per_second": r.records_per_second}
            for r in results
        ]
        args.json.write_text(json.dumps(rows))
    over = [r for r in results if r.peak_in_flight > BILL_CONCURRENCY]
    return 1 if over else 0


def print_table(results: list[Result]) -> None:
    header = (
        "run",
        "latency ms",
        "requests",
        "minimum",
        "writes",
        "peak in flight",
        "wall s",
        "floor s",
        "wall/floor",
        "records/s",
        "CPU s",
        "peak RSS MB",
    )
    rows = [
        (
            r.name,
            f"{r.latency * 1000:.0f}",
            str(r.requests),
            str(r.minimum),
            "-" if r.writes is None else str(r.writes),
            str(r.peak_in_flight),
            f"{r.wall:.1f}",
            f"{r.floor:.1f}" if r.floor else "-",
            f"{r.ratio:.2f}" if r.floor else "-",
            f"{r.records_per_second:,.0f}",
            f"{r.cpu:.1f}",
            f"{r.peak_rss_mb:.0f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    print(f"BILL allows {BILL_CONCURRENCY} requests in flight; floor = minimum x latency / 3")
    for row in (header, *rows):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    sys.exit(main())
