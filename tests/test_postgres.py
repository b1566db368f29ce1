"""PostgreSQL both ways, through Meltano, against a throwaway PostgreSQL server:

- ERP to BILL: `meltano run tap-erp target-billcom` reads the ERP of
  examples/postgres/erp.sql (tap-postgres, shaped by meltano.yml's stream maps and the ERP's
  two views) into the BILL emulator; reading BILL back finds every ERP row once, with its
  vendor or customer, accounts and exact amounts, and a re-run writes nothing.
- BILL to warehouse: `meltano run tap-billcom target-postgres` lands every stream in schema
  `billcom`; SQL finds the emulator's row counts, every bill's vendor and amounts exact to
  the cent.

The server comes from the installed binaries (`pg_config --bindir`), started and stopped by
pytest-postgresql's executor through scripts/pg_ctl_as_postgres, which runs pg_ctl as the
`postgres` user under root (CI), since PostgreSQL refuses to run as root. The tests fail when
it cannot start: `.ci/run` installs the `postgresql` package when missing.
Meltano runs in a temporary copy of meltano.yml (the fixtures of tests/test_meltano.py), one
for the module: the plugins are installed once for both tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import port_for
import psycopg
import pytest
from psycopg import sql
from pytest_postgresql.executors import PostgreSQLExecutor

from bill_core import catalog
from bill_emulator import DEMO_CREDENTIALS, Emulator, Organization
from tests.taprun import ROOT, assert_no_secret
from tests.targetrun import write_calls
from tests.test_meltano import (  # the same Meltano and temporary project
    RESULTS_FILE,
    Meltano,
    meltano_project,  # noqa: F401  (fixture)
    project_plugin,
    read_results,
)

ERP_SQL = ROOT / "examples" / "postgres" / "erp.sql"
PG_CTL = ROOT / "scripts" / "pg_ctl_as_postgres"
#: Settings of the PostgreSQL plugins from the environment; never inherited by the tests.
PG_ENV_PREFIXES = ("TAP_POSTGRES_", "TAP_ERP_", "TARGET_POSTGRES_", "PG")
#: target-postgres 0.8.1 needs a password even for a server with trust authentication.
UNUSED_PASSWORD = "unused"
#: Every stream meltano.yml selects: all but the per-parent child streams.
TOP_LEVEL = sorted(o.stream for o in catalog.OBJECTS if o.parent is None)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    log: Path

    def connect(self, dbname: str) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                host=self.host, port=self.port, user=self.user, dbname=dbname, autocommit=True
            )
        except psycopg.OperationalError as error:
            log = self.log.read_text(errors="replace") if self.log.exists() else "(none)"
            pytest.fail(f"{error}\nserver log ({self.log}), last lines:\n{log[-3000:]}")

    def rows(self, dbname: str, query: str | sql.Composable) -> list[tuple[Any, ...]]:
        with self.connect(dbname) as connection:
            return connection.execute(query).fetchall()


@pytest.fixture(scope="module")
def postgresql_server() -> Iterator[PostgreSQLExecutor]:
    """A throwaway server (pytest-postgresql's executor): initdb, start on a free port, then
    stop and remove it. Its data directory is NOT under pytest's temporary directories: those
    are 0700 and owned by the user running pytest, and every pytest session that starts (say
    another test run on the same machine) makes /tmp/pytest-of-<user> 0700 again, which locks
    a server running as `postgres` out of its own data directory (PANIC ... pg_control:
    Permission denied)."""
    assert os.access(PG_CTL, os.X_OK), f"{PG_CTL} must be executable (git mode 100755)"
    folder = Path(tempfile.mkdtemp(prefix="test-postgres-"))
    executor = PostgreSQLExecutor(
        executable=str(PG_CTL),
        host="127.0.0.1",
        port=port_for.select_random(),
        datadir=str(folder / "data"),
        unixsocketdir=tempfile.gettempdir(),
        logfile=str(folder / "server.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        # TCP on 127.0.0.1 only (a port taken there fails the start); nothing here needs to
        # survive a crash.
        postgres_options=(
            "-c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ),
    )
    try:
        executor.start()
        yield executor
    finally:
        if executor.running():
            executor.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgresql_server: PostgreSQLExecutor) -> Server:
    """The running server with two databases: `erp` (examples/postgres/erp.sql) and an
    empty `warehouse`."""
    found = Server(
        postgresql_server.host,
        int(postgresql_server.port),
        postgresql_server.user,
        Path(postgresql_server.logfile),
    )
    with found.connect("postgres") as connection:
        for name in ("erp", "warehouse"):
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with found.connect("erp") as connection:
        connection.execute(ERP_SQL.read_text())
    return found


@pytest.fixture(scope="module")
def installed(meltano_exe: Path, meltano_project: Path) -> Path:  # noqa: F811
    """The four plugins of both pipelines installed into the module's project, in parallel."""
    plugins = ("tap-erp", "target-billcom", "tap-billcom", "target-postgres")
    Meltano(meltano_exe, meltano_project, "http://unused.invalid")("install", *plugins)
    return meltano_project


@pytest.fixture
def meltano(
    meltano_exe: Path,
    installed: Path,
    emulator: Emulator,
    server: Server,
) -> Meltano:
    runner = Meltano(meltano_exe, installed, emulator.base_url)
    runner.env = {k: v for k, v in runner.env.items() if not k.startswith(PG_ENV_PREFIXES)}
    # TAP_POSTGRES_* reach tap-erp too (it inherits tap-postgres). Not TAP_POSTGRES_DATABASE:
    # it would override tap-erp's `database: erp`.
    for prefix in ("TAP_POSTGRES", "TARGET_POSTGRES"):
        runner.env.update(
            {
                f"{prefix}_HOST": server.host,
                f"{prefix}_PORT": str(server.port),
                f"{prefix}_USER": server.user,
                f"{prefix}_PASSWORD": UNUSED_PASSWORD,
            }
        )
    runner.env.update(
        {
            f"TARGET_BILLCOM_{name.upper()}": DEMO_CREDENTIALS[name]
            for name in ("username", "password", "organization_id", "dev_key")
        }
    )
    runner.env["TARGET_BILLCOM_BASE_URL"] = emulator.base_url
    return runner


def secrets_of(emulator: Emulator) -> list[str]:
    return [DEMO_CREDENTIALS["password"], DEMO_CREDENTIALS["dev_key"], *emulator.secret_values()]


def money(value: Any) -> Decimal:
    """An amount as BILL (the emulator) holds it, as an exact decimal."""
    assert isinstance(value, int | float | Decimal), value
    return Decimal(str(value))


# -- meltano.yml (no Meltano needed) -----------------------------------------------------------


def test_meltano_yml_postgres_plugins() -> None:
    tap = project_plugin("extractors", "tap-postgres")
    erp = project_plugin("extractors", "tap-erp")
    target = project_plugin("loaders", "target-postgres")
    assert tap["pip_url"] == "meltanolabs-tap-postgres==0.10.0"
    assert target["pip_url"] == "meltanolabs-target-postgres==0.8.1"
    # tap-erp is tap-postgres configured: the same package, so the same venv.
    assert erp["inherit_from"] == "tap-postgres"
    assert (erp["namespace"], erp["pip_url"]) == (tap["namespace"], tap["pip_url"])
    # tap-postgres selects nothing by default: tap-erp selects what its maps turn into BILL's.
    maps = erp["config"]["stream_maps"]
    assert sorted(erp["select"]) == sorted(f"{stream}.*" for stream in maps)
    assert sorted(m["__alias__"] for m in maps.values()) == [
        "bills",
        "customers",
        "invoices",
        "vendors",
    ]
    # COPY passes amounts through a float; the tests below query schema billcom.
    assert target["config"]["use_copy"] is False
    assert target["config"]["default_target_schema"] == "billcom"


# -- ERP to BILL -------------------------------------------------------------------------------


def erp_expected(server: Server) -> dict[str, Any]:
    """What BILL should hold, read from the ERP's tables (not its views)."""
    suppliers = server.rows("erp", "SELECT supplier_name, email, phone FROM erp.suppliers")
    customers = server.rows("erp", "SELECT customer_name, email FROM erp.customers")
    bills: dict[str, dict[str, Any]] = {}
    for row in server.rows(
        "erp",
        """SELECT i.invoice_number, s.supplier_name, i.invoice_date::text, i.due_date::text,
                  l.gl_account, l.description, l.amount
             FROM erp.ap_invoices i
             JOIN erp.suppliers s USING (supplier_id)
             JOIN erp.ap_invoice_lines l USING (ap_invoice_id)
            ORDER BY i.ap_invoice_id, l.line_no""",
    ):
        number, supplier, invoice_date, due_date, account, description, amount = row
        bill = bills.setdefault(
            number,
            {"vendor": supplier, "invoiceDate": invoice_date, "dueDate": due_date, "lines": []},
        )
        bill["lines"].append((account, description, amount))
    invoices: dict[str, dict[str, Any]] = {}
    for row in server.rows(
        "erp",
        """SELECT i.invoice_number, c.customer_name, i.invoice_date::text, i.due_date::text,
                  l.description, l.quantity, l.unit_price
             FROM erp.ar_invoices i
             JOIN erp.customers c USING (customer_id)
             JOIN erp.ar_invoice_lines l USING (ar_invoice_id)
            ORDER BY i.ar_invoice_id, l.line_no""",
    ):
        number, customer, invoice_date, due_date, description, quantity, price = row
        invoice = invoices.setdefault(
            number,
            {"customer": customer, "invoiceDate": invoice_date, "dueDate": due_date, "lines": []},
        )
        invoice["lines"].append((description, quantity, price))
    return {"suppliers": suppliers, "customers": customers, "bills": bills, "invoices": invoices}


def one_named(records: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [r for r in records if r.get("name") == name]
    assert len(found) == 1, f"{len(found)} BILL records named {name!r}"
    return found[0]


def assert_erp_in_bill(expected: dict[str, Any], organization: Organization) -> set[str]:
    """Every ERP row is in BILL once, as expected; returns the BILL ids found."""
    ids: set[str] = set()
    vendors, customers = organization.list("vendors"), organization.list("customers")
    vendor_ids: dict[str, str] = {}
    for name, email, phone in expected["suppliers"]:
        vendor = one_named(vendors, name)
        assert (vendor.get("email"), vendor.get("phone")) == (email, phone), name
        vendor_ids[name] = vendor["id"]
    customer_ids: dict[str, str] = {}
    for name, email in expected["customers"]:
        customer = one_named(customers, name)
        assert customer.get("email") == email, name
        customer_ids[name] = customer["id"]
    accounts = {a["id"]: a["name"] for a in organization.list("chart_of_accounts")}

    for number, source in expected["bills"].items():
        found = [
            b
            for b in organization.list("bills")
            if (b.get("invoice") or {}).get("invoiceNumber") == number
        ]
        assert len(found) == 1, f"{len(found)} BILL bills {number}"
        bill = found[0]
        assert bill["vendorId"] == vendor_ids[source["vendor"]], number
        assert bill["invoice"]["invoiceDate"] == source["invoiceDate"], number
        assert bill["dueDate"] == source["dueDate"], number
        lines = [
            (
                accounts.get(line["classifications"]["chartOfAccountId"]),
                line.get("description"),
                money(line["amount"]),
            )
            for line in bill["billLineItems"]
        ]
        assert lines == source["lines"], number
        assert money(bill["amount"]) == sum(line[2] for line in source["lines"]), number
        ids.add(bill["id"])

    for number, source in expected["invoices"].items():
        found = [i for i in organization.list("invoices") if i.get("invoiceNumber") == number]
        assert len(found) == 1, f"{len(found)} BILL invoices {number}"
        invoice = found[0]
        assert invoice["customerId"] == customer_ids[source["customer"]], number
        assert (invoice["invoiceDate"], invoice["dueDate"]) == (
            source["invoiceDate"],
            source["dueDate"],
        ), number
        lines = [
            (line.get("description"), money(line["quantity"]), money(line["price"]))
            for line in invoice["invoiceLineItems"]
        ]
        assert lines == source["lines"], number
        total = sum(quantity * price for _, quantity, price in source["lines"])
        assert money(invoice["totalAmount"]) == total, number
        ids.add(invoice["id"])
    return ids | set(vendor_ids.values()) | set(customer_ids.values())


def run_erp_to_bill(meltano: Meltano, emulator: Emulator) -> list[dict[str, Any]]:
    results_file = meltano.project / RESULTS_FILE
    results_file.unlink(missing_ok=True)
    run = meltano("run", "tap-erp", "target-billcom")
    assert_no_secret(run.stdout + run.stderr + results_file.read_text(), secrets_of(emulator))
    return read_results(results_file)


def test_erp_in_postgres_into_billcom_then_rerun_writes_nothing(
    meltano: Meltano, emulator: Emulator, server: Server
) -> None:
    expected = erp_expected(server)
    counts = {
        "vendors": len(expected["suppliers"]),
        "customers": len(expected["customers"]),
        "bills": len(expected["bills"]),
        "invoices": len(expected["invoices"]),
    }
    assert all(counts.values()), counts
    before = {stream: len(emulator.organization().list(stream)) for stream in counts}

    results = run_erp_to_bill(meltano, emulator)
    assert {(r["stream"], r["action"]) for r in results} == {(s, "created") for s in counts}
    assert {s: sum(r["stream"] == s for r in results) for s in counts} == counts
    organization = emulator.organization()
    after = {stream: len(organization.list(stream)) for stream in counts}
    assert after == {stream: before[stream] + counts[stream] for stream in counts}
    ids = assert_erp_in_bill(expected, organization)
    assert ids == {r["id"] for r in results}

    emulator.clear_requests()
    results = run_erp_to_bill(meltano, emulator)
    assert write_calls(emulator) == []
    assert {(r["stream"], r["action"]) for r in results} == {(s, "unchanged") for s in counts}
    assert {r["id"] for r in results} == ids


# -- BILL to warehouse -------------------------------------------------------------------------


def test_billcom_into_postgres_warehouse(
    meltano: Meltano, emulator: Emulator, server: Server
) -> None:
    organization = emulator.organization()
    run = meltano("run", "tap-billcom", "target-postgres")
    assert_no_secret(run.stdout + run.stderr, secrets_of(emulator))

    def warehouse(query: str | sql.Composable) -> list[tuple[Any, ...]]:
        return server.rows("warehouse", query)

    # One table per stream, with the emulator's row count (archived records included).
    tables = warehouse(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'billcom' ORDER BY table_name"
    )
    assert [t for (t,) in tables] == TOP_LEVEL
    count = sql.SQL("SELECT count(*) FROM {}")
    counts = {t: warehouse(count.format(sql.Identifier("billcom", t)))[0][0] for t in TOP_LEVEL}
    assert counts == {t: len(organization.list(t)) for t in TOP_LEVEL}
    assert counts["bills"] > 100

    bills = organization.list("bills")
    vendors = {v["id"]: v["name"] for v in organization.list("vendors")}
    # Every bill joins its vendor, the one BILL names.
    joined = warehouse(
        'SELECT b.id, v.name FROM billcom.bills b JOIN billcom.vendors v ON v.id = b."vendorId"'
    )
    assert sorted(joined) == sorted((b["id"], vendors[b["vendorId"]]) for b in bills)

    # Money lands as NUMERIC (not a float) and adds up to the cent, per vendor and in total.
    types = warehouse(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'billcom' AND column_name IN ('amount', 'totalAmount')"
    )
    assert {(t, c): d for t, c, d in types if t in {"bills", "invoices"}} == {
        ("bills", "amount"): "numeric",
        ("invoices", "totalAmount"): "numeric",
    }
    per_vendor: dict[str, Decimal] = {}
    for bill in bills:
        name = vendors[bill["vendorId"]]
        per_vendor[name] = per_vendor.get(name, Decimal(0)) + money(bill["amount"])
    rows = warehouse(
        """SELECT v.name, sum(b.amount)
             FROM billcom.bills b JOIN billcom.vendors v ON v.id = b."vendorId"
            GROUP BY v.name"""
    )
    assert dict(rows) == per_vendor
    total = sum((money(b["amount"]) for b in bills), Decimal(0))
    assert warehouse("SELECT sum(amount) FROM billcom.bills") == [(total,)]
    # Line items land as jsonb[]; their amounts are exact too.
    lines = sum((money(li["amount"]) for b in bills for li in b["billLineItems"]), Decimal(0))
    assert warehouse(
        """SELECT sum((line ->> 'amount')::numeric)
             FROM billcom.bills, unnest("billLineItems") AS line"""
    ) == [(lines,)]
    invoices = organization.list("invoices")
    invoiced = sum((money(i["totalAmount"]) for i in invoices), Decimal(0))
    assert warehouse('SELECT sum("totalAmount") FROM billcom.invoices') == [(invoiced,)]
