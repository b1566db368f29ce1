"""The emulator's public face: configuration, organizations, request log, serving."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bill_core import catalog
from bill_emulator.auth import Accounts
from bill_emulator.clock import Clock
from bill_emulator.demo import DEMO_ORGANIZATION_ID, DEMO_ORGANIZATION_NAME
from bill_emulator.faults import FaultPlan
from bill_emulator.formats import SeedRandom, new_id
from bill_emulator.gateway import Gateway, RequestRecord
from bill_emulator.limits import Limits
from bill_emulator.models import Organization
from bill_emulator.query import ListRules
from bill_emulator.seed import empty_organization_record, seed_organization
from bill_emulator.server import EmulatorServer
from bill_emulator.views import MASKED
from bill_emulator.words import company_name


@dataclass(frozen=True)
class EmulatorConfig:
    #: Seed of all generated data and ids: the same seed gives the same organization.
    seed: int = 1
    #: Transactional records to seed (bills 60%, invoices 15%, ...; see seed.py).
    records: int = 600
    #: BILL ends sessions after 35 idle minutes (https://developer.bill.com/reference/login).
    session_idle_seconds: float = 2100.0
    #: Time every API request takes, counted as in flight.
    latency_seconds: float = 0.0
    #: https://developer.bill.com/docs/api-rate-limits: 3 in flight per devKey per organization,
    #: 20,000 requests and 200 logins per devKey per hour.
    max_in_flight: int = 3
    hourly_request_limit: int = 20000
    hourly_login_limit: int = 200
    #: "sandbox" or "production": which BILL environment the demo devKey belongs to.
    environment: str = "sandbox"
    #: Whether `POST /v3/login` accepts a sync token (BILL's docs disagree; when False, a
    #: client must fall back to `POST /v2/Login.json`).
    sync_token_v3_login: bool = True
    #: HTTP status of BDC_1144/BDC_1322: BILL documents none
    #: (https://developer.bill.com/docs/api-rate-limits); 429 is our assumption.
    rate_limit_status: int = 429
    #: Indent answers by this many spaces (None: compact JSON). BILL's docs do not say how
    #: answers are laid out, so a client must read both.
    json_indent: int | None = None

    # Switches for behaviour BILL does not document: each defaults to the plausible reading,
    # the other setting is the strict one (bill_emulator/README.md gives the sources).
    #: Refuse a vendor whose name an active vendor has (BILL's docs state no such rule, and
    #: BILL allows an archived and an active vendor of one name).
    refuse_duplicate_vendor_names: bool = False
    #: Refuse `filters` beside a `page` token (a public report says BILL does; page tokens
    #: carry the filters they were made with either way).
    refuse_filters_with_page: bool = False
    #: Refuse an `updatedTime` filter on lists https://developer.bill.com/docs/filterable-fields
    #: does not document it for (all but vendors, customers, bills, invoices, bank accounts).
    refuse_undocumented_updated_time_filter: bool = False

    @property
    def list_rules(self) -> ListRules:
        return ListRules(
            refuse_filters_with_page=self.refuse_filters_with_page,
            documented_updated_time_only=self.refuse_undocumented_updated_time_filter,
        )


class Emulator:
    """A local BILL v3 API. Behaviour lives in the models; `serve()` puts HTTP in front."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = Clock()
        self.faults = FaultPlan()
        self.limits = Limits(
            self.clock,
            max_in_flight=self.config.max_in_flight,
            hourly_request_limit=self.config.hourly_request_limit,
            hourly_login_limit=self.config.hourly_login_limit,
        )
        self._organizations: dict[str, Organization] = {}
        self._ids = SeedRandom(f"{self.config.seed}:organizations")
        self.accounts = Accounts(
            self.clock,
            self.limits,
            self._organizations.get,
            session_idle_seconds=self.config.session_idle_seconds,
            sync_token_v3_login=self.config.sync_token_v3_login,
        )
        self.gateway = Gateway(self)
        self._log: list[RequestRecord] = []
        self._callbacks: list[Callable[[RequestRecord], None]] = []
        self._lock = threading.Lock()
        self.base_url: str | None = None
        demo = self._new_organization(DEMO_ORGANIZATION_ID, DEMO_ORGANIZATION_NAME)
        seed_organization(demo, self.config.seed, self.config.records, org_index=0)

    # -- organizations -------------------------------------------------------------------

    def organization(self, org_id: str | None = None) -> Organization:
        """An organization by id (default: the seeded demo organization)."""
        return self._organizations[org_id or DEMO_ORGANIZATION_ID]

    def add_organization(self, seeded: bool = False) -> Organization:
        """A new organization the demo user can sign in to; empty unless `seeded`."""
        with self._lock:
            index = len(self._organizations)
            org_id = new_id(catalog.ORGANIZATION_PREFIX, self._ids)
            name = company_name(self._ids, 500 + index)
        organization = self._new_organization(org_id, name)
        if seeded:
            seed_organization(organization, self.config.seed, self.config.records, index)
        else:
            record = empty_organization_record(organization, self.clock.now_ms())
            organization.load({"organization": [record]}, self.clock.now_ms())
        return organization

    def _new_organization(self, org_id: str, name: str) -> Organization:
        rng = SeedRandom(f"{self.config.seed}:{org_id}:changes")
        organization = Organization(org_id, self.clock, rng, name)
        with self._lock:
            self._organizations[org_id] = organization
        return organization

    # -- sessions and observation --------------------------------------------------------

    def kill_sessions(self) -> None:
        """Every current session becomes invalid: the next call answers 401 BDC_1109."""
        self.accounts.kill_sessions()

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the API requests handled so far, in completion order."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Forget the request log and the in-flight peak (start a fresh observation)."""
        with self._lock:
            self._log.clear()
        self.limits.reset_peak()

    @property
    def peak_in_flight(self) -> int:
        """Most requests admitted at once for one (devKey, organization)."""
        return self.limits.peak_in_flight

    def on_request(self, callback: Callable[[RequestRecord], None]) -> None:
        """Call `callback(record)` before each API request is handled."""
        with self._lock:
            self._callbacks.append(callback)

    def notify(self, record: RequestRecord) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(record)

    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def secret_values(self) -> list[str]:
        """Values that must never appear in a client's logs or output: session ids,
        rememberMeIds and full bank account numbers (the demo passwords are in
        DEMO_CREDENTIALS)."""
        values = self.accounts.secret_values()
        for organization in list(self._organizations.values()):
            for stream, paths in MASKED.items():
                for record in organization.list(stream):
                    for path in paths:
                        value: object = record
                        for key in path:
                            value = value.get(key) if isinstance(value, dict) else None
                        if isinstance(value, str) and value:
                            values.append(value)
        return values

    # -- serving -------------------------------------------------------------------------

    @contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve HTTP on `host:port` (0: a free port) in a daemon thread; yields the base URL
        (the gateway root: API paths are under /v3)."""
        server = EmulatorServer((host, port), self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name=f"bill-emulator-{server.server_port}",
        )
        thread.start()
        base_url = f"http://{host}:{server.server_port}"
        self.base_url = base_url
        try:
            yield base_url
        finally:
            server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join()
            if self.base_url == base_url:
                self.base_url = None
