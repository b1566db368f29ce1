"""The path every API request takes, independent of sockets: log, faults, route, session,
rate limits, latency, handler, BILL error body.

Order matters and follows what a gateway in front of BILL would do: an injected fault hits
before anything else (a flaky network does not care about sessions); an unknown path is 404
before authentication; a session is checked before it is counted against the hourly limit;
a request refused for concurrency is refused at once, without the latency.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from bill_emulator import routes, views
from bill_emulator.errors import BillError, default_status, error_body
from bill_emulator.faults import Fault
from bill_emulator.routes import ApiRequest, Call, Reply

if TYPE_CHECKING:
    from bill_emulator.emulator import Emulator

LOGGER = logging.getLogger(__name__)
#: A body that is not JSON: what a proxy that cut a response short leaves behind.
MALFORMED_BODY = b'{"results": [{"id": "00n02'


@dataclass
class RequestRecord:
    """One API request as the emulator saw it (before handling: status/code/ended None)."""

    method: str
    path: str
    query: dict[str, list[str]]
    #: As received; left out of repr (they carry the session id).
    headers: dict[str, str] = field(repr=False)
    started: float
    #: Raw request body; left out of repr (a login body carries the password).
    body: bytes = field(default=b"", repr=False)
    status: int | None = None
    code: str | None = None
    organization_id: str | None = None
    session_id: str | None = field(default=None, repr=False)
    ended: float | None = None
    #: Kind of the injected fault that fired on this request, if any.
    fault: str | None = None


@dataclass
class Outcome:
    """What to write back: a status and body, and what to do with the connection."""

    status: int = 200
    body: bytes = b""
    #: None (answer normally), "reset", "reset_after" or "truncate".
    connection: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Gateway:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, request: ApiRequest, record: RequestRecord) -> Outcome:
        emulator = self.emulator
        emulator.notify(record)
        found = routes.find(request.method, request.path)
        is_list = found is not None and found[0].is_list
        fault = emulator.faults.take(request.method, request.path, is_list=is_list)
        if fault is not None:
            record.fault = fault.kind
            early = self._fault_before_handling(fault, record)
            if early is not None:
                return early
        reply = self._reply(request, found, fault, record)
        record.status = reply.status
        outcome = Outcome(reply.status, _encode(reply.body, emulator.config.json_indent))
        if fault is not None and fault.kind in ("reset_after", "truncate"):
            outcome.connection = fault.kind
        return outcome

    def _fault_before_handling(self, fault: Fault, record: RequestRecord) -> Outcome | None:
        config = self.emulator.config
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return None
        if fault.kind == "reset":
            return Outcome(connection="reset")
        if fault.kind == "malformed":
            record.status = 200
            return Outcome(200, MALFORMED_BODY)
        if fault.kind in ("error", "bdc"):
            code = fault.code or ("BDC_1001" if (fault.status or 500) >= 500 else "BDC_1002")
            error = BillError(code)
            status = fault.status or default_status(code, config.rate_limit_status)
            record.status, record.code = status, code
            body = error_body(code, error.message, error.category, self.emulator.clock.now_ms())
            return Outcome(status, _encode(body))
        return None  # list kinds act inside the handler; reset_after/truncate after it

    def _reply(
        self,
        request: ApiRequest,
        found: tuple[routes.Route, dict[str, str]] | None,
        fault: Fault | None,
        record: RequestRecord,
    ) -> Reply:
        emulator = self.emulator
        try:
            if found is None:
                raise BillError("BDC_1121")
            route, params = found
            call = Call(emulator, request, route, params, fault=fault)
            if not route.authenticated:
                time.sleep(emulator.config.latency_seconds)
                reply = route.handler(call)
            else:
                reply = self._authenticated(call, record)
            if reply.session is not None:
                record.session_id = reply.session.session_id
                record.organization_id = reply.session.organization_id
            record.code = reply.code
            return reply
        except BillError as error:
            record.code = error.code
            status = error.status or emulator.config.rate_limit_status
            return Reply(status, error.body(emulator.clock.now_ms()))
        except Exception:
            LOGGER.exception("emulator error on %s %s", request.method, request.path)
            record.code = "BDC_1001"
            return Reply(500, BillError("BDC_1001").body(emulator.clock.now_ms()))

    def _authenticated(self, call: Call, record: RequestRecord) -> Reply:
        emulator = self.emulator
        headers = call.request.headers
        record.session_id = headers.get("sessionid")
        session = emulator.accounts.authenticate(headers.get("devkey"), headers.get("sessionid"))
        call.session = session
        record.organization_id = session.organization_id
        emulator.limits.count_request(session.dev_key)
        with emulator.limits.admit(session.dev_key, session.organization_id):
            time.sleep(emulator.config.latency_seconds)
            return call.route.handler(call)


def _encode(body: Any, indent: int | None = None) -> bytes:
    if body is None:
        return b""
    text = views.ENCODER.encode(body)
    return text if indent is None else msgspec.json.format(text, indent=indent)
