"""URL table: which method and path does what (moto's `urls` + `responses`).

List, item and single-object routes come from bill_core.catalog, so every catalog object is
served at its documented path without being written down twice; the write routes (vendors,
customers, bills, invoices) are in `write_routes`. Handlers translate one
request into calls on the models and return a `Reply`; they know nothing about sockets.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bill_core import catalog
from bill_emulator import payments, query, shapes, views
from bill_emulator.errors import BillError
from bill_emulator.faults import Fault

if TYPE_CHECKING:
    from bill_emulator.auth import Session
    from bill_emulator.emulator import Emulator
    from bill_emulator.models import Organization


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, list[str]]
    #: Header names lower-cased (HTTP header names are case-insensitive).
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Reply:
    status: int
    #: JSON-able body; None means an empty body (logout).
    body: Any = None
    #: Set by logins so the request log can name the new session.
    session: Session | None = None
    #: The BDC code of an error answered with status 200 (v2).
    code: str | None = None


@dataclass
class Call:
    """One routed request, authenticated where the route needs it."""

    emulator: Emulator
    request: ApiRequest
    route: Route
    params: dict[str, str]
    session: Session | None = None
    fault: Fault | None = None

    @property
    def organization(self) -> Organization:
        assert self.session is not None, "route needs authentication"
        return self.emulator.organization(self.session.organization_id)

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise BillError("BDC_1122", str(error)) from None
        if not isinstance(body, dict):
            raise BillError("BDC_1122", "expected a JSON object")
        return body


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    authenticated: bool = True
    stream: str | None = None
    is_list: bool = False
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.template.strip("/").split("/")))

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, value in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                if not value:
                    return None
                params[pattern[1:-1]] = value
            elif pattern != value:
                return None
        return params


def find(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route of a request; None (404 BDC_1121 "API not supported") when the emulator
    has none, including a path BILL documents as an endpoint of its own that would otherwise
    fit one of ours with an id (`GET /v3/payments/options` is not a payment)."""
    segments = path.strip("/").split("/")
    for route in _routes():
        if route.method == method:
            params = route.match(segments)
            if params is not None:
                documented = _documented(method, tuple(segments))
                if documented is not None and documented != _generic(route.segments):
                    return None
                return route, params
    return None


def _generic(segments: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("{}" if s.startswith("{") else s for s in segments)


@functools.lru_cache(maxsize=1)
def _bill_endpoints() -> dict[tuple[str, int], list[tuple[str, ...]]]:
    """BILL's documented endpoints (its Postman collection) by method and path length."""
    table: dict[tuple[str, int], list[tuple[str, ...]]] = {}
    for endpoint in shapes.endpoints():
        method, path = endpoint.split(" ", 1)
        segments = tuple(path.strip("/").split("/"))
        table.setdefault((method, len(segments)), []).append(segments)
    return table


def _documented(method: str, segments: tuple[str, ...]) -> tuple[str, ...] | None:
    """The most literal of BILL's endpoint templates that fits this path, if any."""
    fitting = [
        template
        for template in _bill_endpoints().get((method, len(segments)), [])
        if all(t in ("{}", s) for t, s in zip(template, segments, strict=True))
    ]
    return min(fitting, key=lambda t: t.count("{}")) if fitting else None


# -- handlers: sign-in ---------------------------------------------------------------------


def health(call: Call) -> Reply:
    # [Postman] `GET /v3/health` answers {appId, appEnv, appVersion, bdcRegion} without auth.
    return Reply(
        200,
        {
            "appId": "bill-emulator",
            "appEnv": call.emulator.config.environment,
            "appVersion": "emulator",
            "bdcRegion": "local",
        },
    )


def login(call: Call) -> Reply:
    session = call.emulator.accounts.login(call.json_body())
    return Reply(
        200,
        {
            "organizationId": session.organization_id,
            "sessionId": session.session_id,
            "trusted": session.trusted,
            "userId": session.user_id,
        },
        session=session,
    )


def login_v2(call: Call) -> Reply:
    """`POST /v2/Login.json`: form fields in, v2's wrapped answer out, HTTP 200 even for errors
    (https://developer.bill.com/v2/docs/common-error-codes)."""
    form = parse_qs(call.request.body.decode("utf-8", "replace"), keep_blank_values=True)
    fields = {v3: form[v2][-1] for v2, v3 in _V2_FIELDS.items() if v2 in form}
    try:
        session = call.emulator.accounts.login(fields, v2=True)
    except BillError as error:
        return Reply(
            200,
            {
                "response_status": 1,
                "response_message": "Error",
                "response_data": {"error_code": error.code, "error_message": error.message},
            },
            code=error.code,
        )
    return Reply(
        200,
        {
            "response_status": 0,
            "response_message": "Success",
            "response_data": {
                "sessionId": session.session_id,
                "orgId": session.organization_id,
                "userId": session.user_id,
            },
        },
        session=session,
    )


_V2_FIELDS = {
    "userName": "username",
    "password": "password",
    "orgId": "organizationId",
    "devKey": "devKey",
}


def logout(call: Call) -> Reply:
    assert call.session is not None
    call.emulator.accounts.logout(call.session)
    return Reply(200, None)  # "simply a 200 without any response fields" (v3-api-login-changes)


def session_details(call: Call) -> Reply:
    assert call.session is not None
    return Reply(200, call.emulator.accounts.describe(call.session))


def mfa_challenge(call: Call) -> Reply:
    assert call.session is not None
    return Reply(200, {"challengeId": call.emulator.accounts.challenge(call.session)})


def mfa_validate(call: Call) -> Reply:
    assert call.session is not None
    remember_me_id = call.emulator.accounts.validate(call.session, call.json_body())
    return Reply(200, {"rememberMeId": remember_me_id})


def mfa_step_up(call: Call) -> Reply:
    assert call.session is not None
    call.emulator.accounts.step_up(call.session, call.json_body())
    return Reply(200, {"trusted": True})


def create_payment(call: Call) -> Reply:
    assert call.session is not None
    call.emulator.accounts.require_trusted(call.session)
    payment = payments.pay_bill(call.organization, call.json_body(), call.session.user_id)
    return Reply(201, views.present("payments", payment))


# -- handlers: records ---------------------------------------------------------------------


def _check_organization(call: Call) -> None:
    """A path's `{organizationId}` must be the session's own (assumption: BDC_1123)."""
    wanted = call.params.get("organizationId")
    if wanted is not None and call.session is not None and wanted != call.session.organization_id:
        raise BillError("BDC_1123")


def list_records(call: Call) -> Reply:
    _check_organization(call)
    stream = call.route.stream
    assert stream is not None
    bill_object = catalog.get(stream)
    organization = call.organization
    parent_id = call.params.get(bill_object.parent_key or "")
    list_query = query.build(
        call.request.query, stream, call.request.path, call.emulator.config.list_rules
    )
    with organization.lock:
        if bill_object.parent is not None and (
            parent_id is None or organization.find(bill_object.parent, parent_id) is None
        ):
            raise BillError("BDC_1120")  # the parent must exist (assumption: 404 BDC_1120)
        if call.fault is not None and call.fault.kind == "empty_page":
            return Reply(
                200, {"results": [], "nextPage": query.encode_token(list_query, list_query.offset)}
            )
        store = organization.stores[stream]
        subset = store.children(parent_id) if parent_id is not None else None
        page, total = query.run(store, list_query, subset)
    body = query.envelope(list_query, [views.present_text(stream, store, r) for r in page], total)
    if call.fault is not None and call.fault.kind == "repeat_cursor":
        repeated = list_query.page_token or query.encode_token(list_query, 0)
        body = {"nextPage": repeated, **{k: v for k, v in body.items() if k != "nextPage"}}
    return Reply(200, body)


def single_record(call: Call) -> Reply:
    _check_organization(call)
    stream = call.route.stream
    assert stream is not None
    bill_object = catalog.get(stream)
    organization = call.organization
    if bill_object.parent is None:  # the organization itself
        record = organization.get(stream, organization.organization_id)
    else:
        parent_id = call.params[bill_object.parent_key or ""]
        with organization.lock:
            organization.get(bill_object.parent, parent_id)
            children = organization.stores[stream].children(parent_id)
        if not children:
            raise BillError("BDC_1120")  # e.g. a vendor without a bank account
        record = children[-1]
    return Reply(200, views.present(stream, record))


def get_record(call: Call) -> Reply:
    _check_organization(call)
    stream = call.route.stream
    assert stream is not None
    return Reply(200, views.present(stream, call.organization.get(stream, call.params["id"])))


@functools.lru_cache(maxsize=1)
def _routes() -> tuple[Route, ...]:
    routes = [
        Route("GET", "/v3/health", health, authenticated=False),
        Route("POST", "/v3/login", login, authenticated=False),
        Route("POST", "/v2/Login.json", login_v2, authenticated=False),
        # BILL's own v2 host serves it under /api/v2
        # (https://developer.bill.com/v2/docs/api-sandbox-sign-in: https://api-stage.bill.com/api/v2).
        Route("POST", "/api/v2/Login.json", login_v2, authenticated=False),
        Route("POST", "/v3/logout", logout),
        Route("GET", "/v3/login/session", session_details),
        Route("POST", "/v3/mfa/challenge", mfa_challenge),
        Route("POST", "/v3/mfa/challenge/validate", mfa_validate),
        Route("POST", "/v3/mfa/step-up", mfa_step_up),
        Route("POST", "/v3/payments", create_payment, stream="payments"),
    ]
    for bill_object in catalog.OBJECTS:
        if bill_object.single:
            routes.append(Route("GET", bill_object.path, single_record, stream=bill_object.stream))
            continue
        routes.append(
            Route("GET", bill_object.path, list_records, stream=bill_object.stream, is_list=True)
        )
        if bill_object.parent is None:
            routes.append(
                Route("GET", bill_object.item_path, get_record, stream=bill_object.stream)
            )
    # Write handlers import this module (Call, Reply, Route): imported here, not at the top.
    from bill_emulator import write_routes

    routes += write_routes.routes()
    # Literal segments win over placeholders (`/v3/login/session` before `/v3/login/{id}`).
    routes.sort(key=lambda r: sum(s.startswith("{") for s in r.segments))
    return tuple(routes)
