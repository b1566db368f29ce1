"""`make demo`: an ERP's records -> target-billcom -> BILL, then BILL -> tap-billcom -> DuckDB.

No BILL account is needed: the script starts the local BILL emulator (seeded demo organization)
on a free port and points Meltano's plugins at it through TAP_BILLCOM_* and TARGET_BILLCOM_*
environment variables (never printed). Both directions, through Meltano:

1. reverse ETL: `meltano run tap-singer-jsonl target-billcom` loads the ERP sample
   (examples/erp/sample.singer: vendors, customers, bills, invoices) into BILL and prints
   target-billcom's summary table;
2. `meltano run tap-billcom target-duckdb` copies the organization, the ERP's records included,
   into output/warehouse.duckdb; the script shows what landed and two queries;
3. the same command again, to show that the second run only reads what changed since the
   saved bookmark.

Needs: .venv (this package, plus duckdb==1.2.2) and .venv-meltano (meltano==4.4.1); the
Makefile's `demo` target provides both. Meltano logs go to output/demo-*.log.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "output"
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
MELTANO_VERSION = "4.4.1"
WAREHOUSE = OUTPUT / "warehouse.duckdb"  # target-duckdb's filepath in meltano.yml
SCHEMA = "billcom"  # target-duckdb's default_target_schema in meltano.yml
JOB = ("tap-billcom", "target-duckdb")
STATE_ID = "dev:tap-billcom-to-target-duckdb"  # <environment>:<tap>-to-<target>
ERP_JOB = ("tap-singer-jsonl", "target-billcom")
ERP_SAMPLE = ROOT / "examples" / "erp" / "sample.singer"  # tap-singer-jsonl reads examples/erp
RESULTS = OUTPUT / "billcom-results.jsonl"  # target-billcom's results_path in meltano.yml
ERP_STREAMS = ("vendors", "customers", "bills", "invoices")
#: Environment variables no inherited value may set: the demo's plugins' and Meltano's own.
PLUGIN_ENV_PREFIXES = (
    "TAP_BILLCOM_",
    "TARGET_BILLCOM_",
    "TAP_SINGER_JSONL_",
    "TARGET_DUCKDB_",
    "TARGET_JSONL_",
    "MELTANO_",
)

# Open payables by vendor, due by the end of this month (overdue included). target-duckdb
# lower-cases column names (dueAmount -> dueamount), keeps `date` strings as VARCHAR and loads
# JSON numbers as DOUBLE, hence the cast and the rounding.
OPEN_PAYABLES = f"""
select coalesce(v.name, b.vendorname, b.vendorid)              as vendor,
       count(*)                                                as open_bills,
       sum(b.dueamount)::decimal(18, 2)                        as due,
       count(*) filter (where b.duedate::date < current_date)  as overdue_bills,
       min(b.duedate::date)                                    as oldest_due
from {SCHEMA}.bills b
left join {SCHEMA}.vendors v on v.id = b.vendorid
where coalesce(b.paymentstatus, '') <> 'PAID'
  and not coalesce(b.archived, false)
  and b.dueamount > 0
  and b.duedate::date <= last_day(current_date)
group by all
order by due desc
limit 10
"""  # noqa: S608 (constants only)

# The ERP's bills, as the tap read them back from BILL: the ERP named each vendor by name;
# target-billcom resolved it to the BILL vendorId the join below uses.
ERP_BILLS = f"""
select v.name                              as vendor,
       count(*)                            as bills,
       sum(b.amount)::decimal(18, 2)       as amount,
       min(b.duedate)                      as first_due
from {SCHEMA}.bills b
join {SCHEMA}.vendors v on v.id = b.vendorid
where b.id in (select unnest(?::varchar[]))
group by all
order by vendor
"""  # noqa: S608 (constants only)

INCREMENTAL_LINE = re.compile(r"Starting incremental sync of '(\w+)' with bookmark value: (\S+)")

#: Values never to be printed (the demo's password and developer key): say() and fail() mask them.
SECRETS: list[str] = []


def masked(text: str) -> str:
    for secret in SECRETS:
        text = text.replace(secret, "********")
    return text


def say(text: str = "") -> None:
    print(masked(text), flush=True)


def fail(text: str) -> None:
    print(masked(f"demo failed: {text}"), file=sys.stderr, flush=True)
    raise SystemExit(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_first_line(stream: IO[str], timeout: float) -> str | None:
    """The emulator's first stdout line (its base URL), or None if it never comes."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout).strip() or None
    except queue.Empty:
        return None


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"the emulator exited with status {process.returncode}; see output/emulator.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    fail(f"the emulator did not answer {url} within {timeout:.0f} s")


@contextmanager
def emulator(records: int, seed: int) -> Iterator[str]:
    """Run `python -m bill_emulator` on a free port; yield its base URL; stop it on exit."""
    port = free_port()
    log = (OUTPUT / "emulator.log").open("w")
    command = [sys.executable, "-m", "bill_emulator", "--port", str(port)]
    command += ["--records", str(records), "--seed", str(seed)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = read_first_line(process.stdout, timeout=60)
        match = re.search(r"https?://\S+", line or "")
        base_url = match.group(0).rstrip("/") if match else f"http://127.0.0.1:{port}"
        wait_healthy(f"{base_url}/v3/health", process, timeout=60)
        yield base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def meltano_env(base_url: str) -> dict[str, str]:
    """The environment for Meltano: the emulator's demo credentials as the TAP_BILLCOM_* and
    TARGET_BILLCOM_* settings of tap-billcom and target-billcom."""
    from bill_emulator import DEMO_CREDENTIALS

    SECRETS[:] = [DEMO_CREDENTIALS["password"], DEMO_CREDENTIALS["dev_key"]]
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing inherited may override the demo's settings or Meltano's project.
        if not key.startswith(PLUGIN_ENV_PREFIXES) and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update({"MELTANO_PROJECT_ROOT": str(ROOT), "NO_COLOR": "1"})
    for prefix in ("TAP_BILLCOM_", "TARGET_BILLCOM_"):
        for name in ("username", "password", "organization_id", "dev_key"):
            env[f"{prefix}{name.upper()}"] = DEMO_CREDENTIALS[name]
        env[f"{prefix}BASE_URL"] = base_url
    return env


def meltano(args: list[str], env: Mapping[str, str], log_name: str, *, check: bool = True) -> str:
    """Run Meltano in the repository's project; its log goes to output/<log_name>."""
    log_path = OUTPUT / log_name
    started = time.monotonic()
    # JSON logs keep each SDK metric's tags (the stream); the console format drops them.
    result = subprocess.run(
        [str(MELTANO), "--log-format=json", *args],
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    log_path.write_text(result.stderr)
    if check and result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-20:])
        fail(f"`meltano {' '.join(args)}` exited {result.returncode}; end of {log_path}:\n{tail}")
    say(f"   meltano {' '.join(args)}: {time.monotonic() - started:.1f} s (log: output/{log_name})")
    return result.stdout


def log_events(log: str) -> Iterator[dict[str, Any]]:
    """The JSON events of a `meltano --log-format=json` log."""
    for line in log.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def read_log(log: str) -> tuple[Counter[str], dict[str, str]]:
    """From a `meltano --log-format=json run` log: records read per stream (the SDK's
    record_count metrics) and the bookmark each incremental stream started from."""
    counts: Counter[str] = Counter()
    started: dict[str, str] = {}
    for event in log_events(log):
        metric = event.get("metric_info") or {}
        if metric.get("metric") == "record_count" and "stream" in metric.get("tags", {}):
            counts[metric["tags"]["stream"]] += int(metric["value"])
        match = INCREMENTAL_LINE.match(str(event.get("event", "")))
        if match:
            started[match.group(1)] = match.group(2)
    return counts, started


def target_summary(log: str) -> tuple[list[str], str | None]:
    """target-billcom's summary table (the lines after its "Summary" log line) and its
    one-line "target-billcom finished: ..." figures, from the run's JSON log."""
    table: list[str] = []
    finished = None
    for event in log_events(log):
        text = str(event.get("event", ""))
        if text.startswith("Summary\n"):
            table = text.splitlines()[1:]
        elif text.startswith("target-billcom finished"):
            finished = text
    return table, finished


def sample_counts() -> Counter[str]:
    """RECORD messages per stream in the ERP sample."""
    counts: Counter[str] = Counter()
    for line in ERP_SAMPLE.read_text().splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            counts[message["stream"]] += 1
    return counts


class ErpLoad:
    """One `meltano run tap-singer-jsonl target-billcom`: the ERP sample into BILL."""

    def __init__(self, env: Mapping[str, str]) -> None:
        RESULTS.unlink(missing_ok=True)  # the results of this run only
        meltano(["run", *ERP_JOB], env, "demo-erp.log")
        self.summary, self.finished = target_summary((OUTPUT / "demo-erp.log").read_text())
        if not RESULTS.exists():
            fail(f"target-billcom wrote no {RESULTS.relative_to(ROOT)}; see output/demo-erp.log")
        self.results = [json.loads(line) for line in RESULTS.read_text().splitlines()]
        self.sent = sample_counts()

    @property
    def ids(self) -> dict[str, list[str]]:
        """The BILL ids of the records that landed, per stream."""
        ids: dict[str, list[str]] = {}
        for result in self.results:
            if result.get("id") and result.get("action") in {"created", "updated", "unchanged"}:
                ids.setdefault(result["stream"], []).append(result["id"])
        return ids


def show_erp(load: ErpLoad) -> None:
    sent = ", ".join(f"{load.sent[s]} {s}" for s in ERP_STREAMS)
    say(f"   The ERP sent {sent} ({sum(load.sent.values())} records; references by name).")
    if load.summary:
        say("   target-billcom's summary (from its log):")
        for line in load.summary:
            say("   " + line.rstrip())
    else:  # the log format changed: rebuild the table from the results file
        actions = Counter((r["stream"], r["action"]) for r in load.results)
        say("   target-billcom's results file, per stream and action:")
        print_table(["stream", "action", "records"], sorted((*k, n) for k, n in actions.items()))
    if load.finished:
        say(f"   {load.finished}")
    landed = sum(len(ids) for ids in load.ids.values())
    failed = [r for r in load.results if r.get("action") == "failed"]
    say(
        f"   {landed} of {sum(load.sent.values())} records are in BILL now; one line each in "
        f"{RESULTS.relative_to(ROOT)}."
    )
    if failed:
        say(f"   WARNING: {len(failed)} records failed; see {RESULTS.relative_to(ROOT)}")


def erp_rows_in(connection: Any, stream: str, ids: list[str]) -> int:
    """How many of the ERP records' BILL ids are rows of the warehouse table `stream`."""
    row = connection.execute(
        f"select count(*) from {SCHEMA}.{stream} where id in (select unnest(?::varchar[]))",  # noqa: S608
        [ids],
    ).fetchone()
    return int(row[0]) if row else 0


def table_counts(connection: Any) -> dict[str, int]:
    tables = connection.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1",
        [SCHEMA],
    ).fetchall()
    return {
        name: connection.execute(f'select count(*) from {SCHEMA}."{name}"').fetchone()[0]  # noqa: S608
        for (name,) in tables
    }


def print_table(header: list[str], rows: list[tuple[Any, ...]]) -> None:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    cells = [header, *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        line = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        say("   " + "  ".join(line).rstrip())
        if index == 0:
            say("   " + "  ".join("-" * w for w in widths))


def bookmarks(state_json: str) -> dict[str, str]:
    state = json.loads(state_json or "{}").get("singer_state", {})
    return {
        stream: value["replication_key_value"]
        for stream, value in state.get("bookmarks", {}).items()
        if isinstance(value, dict) and value.get("replication_key_value")
    }


class Run:
    """One `meltano run tap-billcom target-duckdb`: what the tap read, what the warehouse holds."""

    def __init__(
        self, number: int, env: Mapping[str, str], duckdb: Any, erp_ids: Mapping[str, list[str]]
    ) -> None:
        log_name = f"demo-run-{number}.log"
        meltano(["run", *JOB], env, log_name)
        self.read, self.started_from = read_log((OUTPUT / log_name).read_text())
        with duckdb.connect(str(WAREHOUSE), read_only=True) as connection:
            self.tables = table_counts(connection)
            self.open_payables = connection.execute(OPEN_PAYABLES).fetchall()
            self.erp_found = {
                stream: erp_rows_in(connection, stream, ids) for stream, ids in erp_ids.items()
            }
            self.erp_bills = connection.execute(ERP_BILLS, [erp_ids.get("bills", [])]).fetchall()
        self.bookmarks = bookmarks(
            meltano(["state", "get", STATE_ID], env, f"demo-state-{number}.log")
        )


def show_first(run: Run, erp: ErpLoad) -> None:
    say(f"   Landed in {WAREHOUSE.relative_to(ROOT)}, schema {SCHEMA}:")
    rows = [(t, run.read.get(t, 0), n) for t, n in sorted(run.tables.items())]
    print_table(["table", "records read", "rows"], rows)
    say(f"   total: {sum(run.tables.values())} rows in {len(run.tables)} tables")
    lost = [t for t, read, n in rows if n < read]
    if lost:  # the trap duckdb>=1.3 sets for target-duckdb 0.8.0 (see meltano.yml)
        say(f"   WARNING: fewer rows than records read in {', '.join(lost)}")
    say(f"   Meltano saved bookmarks for {len(run.bookmarks)} incremental streams ({STATE_ID}).")
    found = ", ".join(
        f"{stream} {run.erp_found.get(stream, 0)}/{len(erp.ids.get(stream, []))}"
        for stream in ERP_STREAMS
    )
    say(f"   The ERP's records, found in the warehouse by their BILL id: {found}.")
    say("")
    say("   The ERP's bills, read back from BILL (vendor resolved by target-billcom):")
    print_table(["vendor", "bills", "amount", "first due"], run.erp_bills)
    say("")
    say("   Open payables by vendor, due this month or overdue (top 10):")
    print_table(["vendor", "open bills", "due", "overdue", "oldest due"], run.open_payables)


def show_second(first: Run, second: Run) -> None:
    resumed = {s: v for s, v in second.started_from.items() if v != "None"}
    say(
        f"   The tap logged 'Starting incremental sync' for {len(resumed)} streams, each from "
        "the bookmark run 1 saved."
    )
    incremental = sorted(first.bookmarks)
    rows = [(s, first.read.get(s, 0), second.read.get(s, 0)) for s in incremental]
    say("   Records read per incremental stream (run 2 reads from the bookmark on, inclusive):")
    print_table(["stream", "run 1", "run 2"], rows)
    full_table = sum(n for s, n in second.read.items() if s not in first.bookmarks)
    say(
        f"   Run 2 read {sum(second.read.values())} records (run 1: {sum(first.read.values())});"
        f" {full_table} of them from full-table streams, which have no bookmark and are read in"
        " full every run."
    )
    same = "unchanged" if first.tables == second.tables else "CHANGED"
    say(f"   Warehouse row counts after run 2: {same} (target-duckdb upserts by primary key).")
    moved = sum(1 for s, v in second.bookmarks.items() if first.bookmarks.get(s) != v)
    say(f"   Bookmarks moved in run 2: {moved} of {len(second.bookmarks)} (no change in BILL).")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="emulator size (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="emulator seed (default 1)")
    options = parser.parse_args()

    try:
        import duckdb
    except ImportError:
        fail("duckdb is not installed in this venv: run `make demo` (it installs duckdb==1.2.2)")
    if not MELTANO.exists():
        fail(f"{MELTANO} is missing: run `make demo` (it installs meltano=={MELTANO_VERSION})")

    OUTPUT.mkdir(exist_ok=True)
    started = time.monotonic()
    say(f"1. Starting the BILL emulator ({options.records} records, seed {options.seed})")
    with emulator(options.records, options.seed) as base_url:
        say(
            f"   BILL v3 emulator at {base_url}; demo credentials go to Meltano as "
            "TAP_BILLCOM_* and TARGET_BILLCOM_*"
        )
        env = meltano_env(base_url)

        say("2. Installing the Meltano plugins (skipped when up to date)")
        meltano(["install"], env, "demo-install.log")
        # A clean start, so the demo shows a full first run: no warehouse, no saved state.
        for path in (WAREHOUSE, WAREHOUSE.with_name(WAREHOUSE.name + ".wal")):
            path.unlink(missing_ok=True)
        meltano(["state", "clear", "--force", STATE_ID], env, "demo-state-clear.log", check=False)

        say(f"3. Reverse ETL: meltano run {' '.join(ERP_JOB)}  (the ERP sample into BILL)")
        erp = ErpLoad(env)
        show_erp(erp)

        say("")
        say(f"4. First run: meltano run {' '.join(JOB)}  (no bookmark yet: reads everything)")
        first = Run(1, env, duckdb, erp.ids)
        show_first(first, erp)

        say("")
        say(f"5. Second run: meltano run {' '.join(JOB)}  (incremental, from the bookmarks)")
        second = Run(2, env, duckdb, erp.ids)
    say("   (emulator stopped)")
    show_second(first, second)

    say("")
    say(f"Done in {time.monotonic() - started:.0f} s. Look around in Python (.venv/bin/python):")
    say(f"  import duckdb; db = duckdb.connect('{WAREHOUSE.relative_to(ROOT)}', read_only=True)")
    say(f"  db.sql('from {SCHEMA}.bills limit 5').show()")


if __name__ == "__main__":
    main()
