"""The one HTTP client every BILL call goes through (tap streams, target sinks, sign-in).

`BillClient` is a `requests.Session` so the SDK's REST streams can use it as their
`requests_session`; its `send` adds, around every request:

- a concurrency gate: at most `max_concurrent_requests` in flight (BILL: 3 per developer key
  and organization, BDC_1322 beyond; https://developer.bill.com/docs/api-rate-limits);
- the session headers, with transparent re-login on 401 BDC_1109 (one login per expiry);
- retries with exponential backoff and jitter on 5xx, 429, BDC_1322, network errors and
  truncated or malformed bodies (BILL prescribes 2^n-second client backoff);
- typed errors (`bill_core.errors`) decided by the BDC code in the body, whatever the status;
- no retry of a write whose outcome is unknown: `BillAmbiguousWriteError` tells the caller to
  look before it writes again (BILL has no idempotency key).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import random
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import backoff
import msgspec
import requests
import simplejson
import urllib3
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.hooks import default_hooks
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri, select_proxy

from bill_core import errors
from bill_core.auth import BillAuth
from bill_core.errors import (
    BillAmbiguousWriteError,
    BillAuthError,
    BillError,
    BillErrorDetail,
    BillInterruptedError,
    BillPermissionError,
    BillRateLimitError,
    BillRequestError,
    BillTransientError,
    BillUnreachableError,
)
from bill_core.paging import RawPage
from bill_core.prefetch import Prefetcher
from bill_core.settings import ConnectionSettings

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

LOGGER = logging.getLogger("bill_core")

_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)
#: POSTs that are safe to repeat: sign-in, and archive/restore (idempotent in BILL:
#: archiving an archived object answers 200).
_REPEATABLE_POST_SUFFIXES = ("/v3/login", "/Login.json", "/v3/logout", "/archive", "/restore")
#: Consecutive BDC_1109 answers on fresh sessions before giving up (BILL rejects every session).
_MAX_RELOGINS_PER_REQUEST = 2
#: Until BILL has answered once, a connection that cannot be made (DNS, refused, TLS, no
#: answer) is tried this often, each connect waiting at most this long, and then reported as
#: a setting or network problem: minutes of backoff would only hide a wrong `base_url`.
FIRST_CONTACT_ATTEMPTS = 2
FIRST_CONTACT_CONNECT_TIMEOUT = 5.0
_BODY_ATTRIBUTE = "_bill_json"
_MISSING = object()
#: Set by `BillClient.call(repeatable=True)` for the request it sends (same thread).
_REPEATABLE: contextvars.ContextVar[bool] = contextvars.ContextVar("repeatable", default=False)
#: Marks the requests `call_page` builds: a 2xx answer is checked (and cached) as a RawPage,
#: not decoded whole, and the request goes by `_send_direct`. (A request, not the thread: a
#: sign-in that a list page sets off is an ordinary call.)
_LIST_PAGE = "_bill_list_page"


class ClientStats:
    """Counters for the end-of-run summary line (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.relogins = 0
        self.codes: Counter[str] = Counter()
        self.peak_in_flight = 0
        self._in_flight = 0

    def started(self) -> None:
        with self._lock:
            self.requests += 1
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def finished(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def count(self, *, retry: bool = False, relogin: bool = False, code: str | None = None) -> None:
        with self._lock:
            self.retries += retry
            self.relogins += relogin
            if code:
                self.codes[code] += 1


def json_body(response: requests.Response) -> Any:
    """The response's JSON (money as Decimal), parsed once by the client and cached."""
    cached = getattr(response, _BODY_ATTRIBUTE, _MISSING)
    if cached is _MISSING:
        cached = _parse(response)
        setattr(response, _BODY_ATTRIBUTE, cached)
    return cached


#: msgspec decodes a 100-record page about twice as fast as the json module; every number with
#: a fraction or exponent becomes a Decimal from its exact text, and NaN/Infinity are refused.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def decode_json(data: bytes | msgspec.Raw) -> Any:
    """BILL's JSON with money as Decimal; a ValueError (msgspec.DecodeError) if malformed."""
    return _DECODER.decode(data)


def _parse(response: requests.Response) -> Any:
    if not response.content:
        return None
    return decode_json(response.content)


_PAGE_DECODER = msgspec.json.Decoder(RawPage)
_PAGE_ATTRIBUTE = "_bill_page"


def page_body(response: requests.Response) -> RawPage:
    """A list answer with its records as JSON text (see RawPage), parsed once and cached."""
    cached = getattr(response, _PAGE_ATTRIBUTE, None)
    if cached is None:
        content = response.content or b"{}"
        if b"\n" in content or b"\r" in content:
            # Whitespace only (JSON strings cannot hold raw line breaks): a record's text
            # may be written out as one line of Singer output, so it is made compact.
            content = msgspec.json.format(content, indent=-1)
        cached = _PAGE_DECODER.decode(content)
        setattr(response, _PAGE_ATTRIBUTE, cached)
    return cached


def next_hour_utc(now: dt.datetime | None = None) -> dt.datetime:
    """When BILL's hourly request window resets (the start of the next hour)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)


class _ReadWholeAdapter(HTTPAdapter):
    """requests' adapter, reading a body in one call instead of 10 KB chunks through
    `iter_content` (a 100-bill page is about 200 KB); read errors become the exceptions
    requests raises for them, so retries treat them alike."""

    @override
    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        response = super().send(
            request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        if not stream:
            try:
                response._content = response.raw.read(decode_content=True) or b""
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _as_requests_error(exc, request) from exc
            response._content_consumed = True  # type: ignore[attr-defined]
        return response


class BillClient(requests.Session):
    """A requests session that speaks BILL: gate, session, retries, typed errors."""

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__()
        self.settings = settings
        self.verify = True  # TLS verification is never turned off against BILL's hosts.
        self.headers["Accept"] = "application/json"
        adapter = _ReadWholeAdapter(
            pool_connections=4, pool_maxsize=max(8, 2 * settings.max_concurrent_requests)
        )
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.bill_auth = BillAuth(settings)
        self.bill_auth.bind(self._sign_in_post)
        self._gate = threading.BoundedSemaphore(settings.max_concurrent_requests)
        self.stats = ClientStats()
        self.hourly_limit_reached: BillRateLimitError | None = None
        #: Whether BILL has answered anything yet (see FIRST_CONTACT_ATTEMPTS).
        self.contacted = False
        #: Set by `abort` (a signal told the run to stop): no new request, no further retry.
        self._aborted = threading.Event()
        self.abort_reason = ""
        #: First pages requested ahead of time (bill_core/prefetch.py), when the caller asks.
        self.prefetcher: Prefetcher | None = None
        #: Proxies, CA bundle and client certificate from the environment, per host.
        self._environment: dict[str, dict[str, Any]] = {}
        #: urllib3 pools `_send_direct` uses, per host and TLS settings.
        self._direct_pools: dict[tuple[str, ...], Any] = {}

    # -- public helpers -------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    def abort(self, reason: str) -> None:
        """Stop sending: requests in flight finish, nothing new is sent, waits between retries
        end now; each raises BillInterruptedError instead."""
        self.abort_reason = reason
        self._aborted.set()

    def _check_aborted(self, request: requests.PreparedRequest) -> None:
        if self._aborted.is_set():
            msg = f"{request.method} {_path(request)} not sent: {self.abort_reason}"
            raise BillInterruptedError(
                msg, hint="run again; nothing is lost (re-runs never duplicate)"
            )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        repeatable: bool = False,
    ) -> Any:
        """Send one BILL call and return its JSON body (None when empty).

        `repeatable=True`: the caller knows that sending this write twice has the effect of
        sending it once (a PATCH that only sets fields), so a lost answer or a 5xx is retried
        like a read instead of raising `BillAmbiguousWriteError`.
        """
        data = (
            None
            if body is None
            else simplejson.dumps(body, use_decimal=True, default=_json_default)
        )
        headers = {"Content-Type": "application/json"} if data is not None else None
        token = _REPEATABLE.set(repeatable)
        try:
            response = self.request(
                method,
                self.url(path),
                params=params,
                data=data,
                headers=headers,
                timeout=self.settings.request_timeout,
            )
        finally:
            _REPEATABLE.reset(token)
        return json_body(response)

    def call_page(self, path: str, params: Mapping[str, Any]) -> RawPage:
        """GET one page of a list, its records left as JSON text until used (see RawPage).

        The request is what `self.request("GET", ...)` would send, built without its
        per-call work (URL parsing, a .netrc look-up, the environment's proxy settings read
        again): a large sync sends thousands of these."""
        request = self._list_request(self.url(path), params)
        setattr(request, _LIST_PAGE, True)
        response = self.send(
            request,
            timeout=self.settings.request_timeout,
            allow_redirects=True,
            **self._environment_for(request.url or ""),
        )
        return page_body(response)

    def _list_request(self, url: str, params: Mapping[str, Any]) -> PreparedRequest:
        request = PreparedRequest()
        request.method = "GET"
        # As requests encodes `params` (None values left out).
        query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        # urlencode's output is quoted already; requests would requote the whole URL.
        request.url = f"{requote_uri(url)}?{query}" if query else requote_uri(url)
        request.headers = CaseInsensitiveDict(self.headers)  # type: ignore[arg-type]
        request.body = None
        if self.cookies:
            request.prepare_cookies(self.cookies)
        request.hooks = default_hooks()
        request.prepare_hooks(self.hooks)
        return request

    def _environment_for(self, url: str) -> dict[str, Any]:
        """What requests reads from the environment for each call (HTTPS_PROXY, NO_PROXY,
        REQUESTS_CA_BUNDLE, ...), read once per host: it does not change during a run."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        settings = self._environment.get(host)
        if settings is None:
            settings = dict(self.merge_environment_settings(url, {}, None, None, None))
            self._environment[host] = settings
        return settings

    # -- transport ------------------------------------------------------------------------

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send with gate, session, retries and BILL error mapping (the SDK calls this too);
        a request whose answer was prefetched gets that answer."""
        if self.prefetcher is not None and (ready := self.prefetcher.take(request)) is not None:
            return ready
        return self._send_retrying(request, **kwargs)

    def _send_retrying(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.settings.request_timeout)
        authenticated = not _is_sign_in(request)
        idempotent = _is_idempotent(request) or _REPEATABLE.get()
        waits = backoff.expo(factor=self.settings.retry_initial_wait, max_value=60)
        next(waits)  # python-backoff's generators yield once before the first value
        attempt = relogins = 0
        while True:
            self._check_aborted(request)
            generation = self.bill_auth.apply(request).generation if authenticated else 0
            first_contact = not self.contacted
            try:
                response = self._send_gated(request, **self._timeouts(kwargs, first_contact))
                self.contacted = True
                body = _read_body(response)
            except (*_NETWORK_ERRORS, ValueError) as exc:
                attempt = self._network_failure(
                    request, exc, attempt, waits, idempotent=idempotent, first=first_contact
                )
                continue
            details = errors.parse_error_body(body) if response.status_code >= 400 else []
            code = next((d.code for d in details if d.code), None)
            if code:
                self.stats.count(code=code)
            if code == errors.SESSION_INVALID or (
                response.status_code == 401 and code is None and authenticated
            ):
                if not authenticated:
                    raise self._error(request, response, details, code)
                relogins += 1
                if relogins > _MAX_RELOGINS_PER_REQUEST:
                    msg = "BILL rejected every new session for this call"
                    raise BillAuthError(msg, code=code, status=response.status_code)
                if self.bill_auth.invalidate(generation):
                    self.stats.count(relogin=True)
                    LOGGER.info("BILL session expired (%s); signing in again", code or "401")
                continue
            if code == errors.HOURLY_LIMIT:
                raise self._hourly_limit(request, response, details)
            retriable = (
                code == errors.CONCURRENCY_LIMIT
                or response.status_code == 429
                or response.status_code >= 500
            )
            if retriable:
                # A 5xx on a create may come after BILL stored it; 429/BDC_1322 are refusals.
                rejected_before_processing = code == errors.CONCURRENCY_LIMIT or (
                    response.status_code == 429
                )
                if not idempotent and not rejected_before_processing:
                    msg = f"{request.method} {_path(request)} answered {response.status_code}"
                    raise BillAmbiguousWriteError(
                        msg, hint="look the object up in BILL before sending it again"
                    )
                reason = f"{response.status_code} {code or response.reason}"
                attempt = self._retry_or_raise(request, attempt, waits, reason)
                continue
            if response.status_code >= 400:
                raise self._error(request, response, details, code)
            return response

    def _send_gated(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # TLS verification stays on whoever asks otherwise (a caller, an SDK default); a CA
        # bundle path (REQUESTS_CA_BUNDLE) is kept.
        kwargs["verify"] = kwargs.get("verify") or True
        direct = _is_list_page(request) and not select_proxy(
            request.url or "", kwargs.get("proxies")
        )
        with self._gate:
            self.stats.started()
            try:
                if direct:
                    return self._send_direct(request, **kwargs)
                return super().send(request, **kwargs)
            finally:
                self.stats.finished()

    def _send_direct(
        self,
        request: requests.PreparedRequest,
        *,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
        **_: Any,
    ) -> requests.Response:
        """A list page (a GET, no proxy) sent on the connection pool requests would use,
        configured as requests configures it (TLS verification, CA bundle, client
        certificate), without requests' layers around it: no redirects to follow, no hooks,
        the body read whole. About half the CPU per page of `Session.send`; network errors
        become the requests exceptions the retries expect."""
        adapter = self.get_adapter(request.url or "")
        assert isinstance(adapter, HTTPAdapter)  # mounted in __init__
        try:
            parts = urlsplit(request.url or "")
            key = (parts.scheme, parts.netloc, repr(verify), repr(cert))
            pool: Any = self._direct_pools.get(key)
            if pool is None or pool.pool is None:  # urllib3 empties `pool` when it closes one
                # requests works the pool's settings out (with a stat of the CA bundle) on
                # every call; they depend only on the host and the TLS settings.
                pool = adapter.get_connection_with_tls_context(
                    request, verify, proxies=proxies, cert=cert
                )
                self._direct_pools[key] = pool
            answer = pool.urlopen(
                method="GET",
                url=adapter.request_url(request, proxies or {}),
                headers=request.headers,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                decode_content=True,
                retries=adapter.max_retries,
                timeout=_urllib3_timeout(timeout),
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _as_requests_error(exc, request) from exc
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.reason = answer.reason or ""
        response.url = request.url or ""
        response.request = request
        response.raw = answer
        response._content = answer.data or b""
        response._content_consumed = True  # type: ignore[attr-defined]
        if "set-cookie" in answer.headers:
            extract_cookies_to_jar(self.cookies, request, answer)
            extract_cookies_to_jar(response.cookies, request, answer)
        return response

    @staticmethod
    def _timeouts(kwargs: dict[str, Any], first_contact: bool) -> dict[str, Any]:
        if not first_contact:
            return kwargs
        read = kwargs["timeout"]
        connect = min(FIRST_CONTACT_CONNECT_TIMEOUT, float(read))
        return {**kwargs, "timeout": (connect, read)}

    def _network_failure(
        self,
        request: requests.PreparedRequest,
        exc: BaseException,
        attempt: int,
        waits: Iterator[float],
        *,
        idempotent: bool,
        first: bool,
    ) -> int:
        """The next attempt's number after a request got no usable answer, or the error."""
        failure = _connect_failure(exc) if first else None
        if failure is not None:
            return self._first_contact_failed(request, attempt, waits, failure)
        reason = _describe(exc)
        if not idempotent and _may_have_been_sent(exc):
            msg = f"{request.method} {_path(request)} got no usable answer ({reason})"
            raise BillAmbiguousWriteError(
                msg, hint="look the object up in BILL before sending it again"
            ) from None
        return self._retry_or_raise(request, attempt, waits, reason)

    def _first_contact_failed(
        self, request: requests.PreparedRequest, attempt: int, waits: Iterator[float], failure: str
    ) -> int:
        """BILL was never reached: try once more, then name the URL and the likely fix."""
        if attempt + 1 < FIRST_CONTACT_ATTEMPTS:
            return self._retry_or_raise(
                request, attempt, waits, failure, limit=FIRST_CONTACT_ATTEMPTS - 1
            )
        parts = urlsplit(request.url or "")
        where = f"{parts.scheme}://{parts.netloc}"
        settings = self.settings
        msg = f"Cannot reach BILL at {where} ({failure}; {attempt + 1} attempts)"
        hint = (
            f"check `base_url` (this run uses {settings.base_url}) or `environment` "
            f"({settings.environment}); {_CONNECT_HINTS.get(failure, '')}"
            "then the network, a firewall or a proxy (HTTPS_PROXY, NO_PROXY)"
        )
        raise BillUnreachableError(msg, hint=hint)

    def _retry_or_raise(
        self,
        request: requests.PreparedRequest,
        attempt: int,
        waits: Iterator[float],
        reason: str,
        *,
        limit: int | None = None,
    ) -> int:
        attempt += 1
        limit = self.settings.max_retries if limit is None else limit
        if attempt > limit:
            msg = f"{request.method} {_path(request)} failed after {limit} retries ({reason})"
            raise BillTransientError(
                msg, hint="BILL or the network is failing; run again later (state is saved)"
            )
        wait = next(waits)
        wait = wait / 2 + random.uniform(0, wait / 2)  # "equal jitter": spread, never zero
        self.stats.count(retry=True)
        LOGGER.warning(
            "BILL call %s %s: %s; retry %d/%d in %.2f s",
            request.method,
            _path(request),
            reason,
            attempt,
            limit,
            wait,
        )
        if self._aborted.wait(wait):  # a stop does not wait out the backoff
            self._check_aborted(request)
        return attempt

    def _hourly_limit(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        details: list[BillErrorDetail],
    ) -> BillRateLimitError:
        resets = next_hour_utc()
        minutes = max(1, round((resets - dt.datetime.now(dt.timezone.utc)).total_seconds() / 60))
        msg = (
            f"BILL's hourly request limit is reached ({request.method} {_path(request)}); it "
            f"resets at {resets:%H:%M} UTC, in about {minutes} min"
        )
        error = BillRateLimitError(
            msg,
            resets_at=resets.isoformat(),
            code=errors.HOURLY_LIMIT,
            status=response.status_code,
            details=details,
        )
        self.hourly_limit_reached = error
        return error

    def _error(
        self,
        request: requests.PreparedRequest,
        response: requests.Response,
        details: list[BillErrorDetail],
        code: str | None,
    ) -> BillError:
        messages = "; ".join(str(d) for d in details) or (response.reason or "no message")
        what = f"BILL answered {response.status_code} to {request.method} {_path(request)}"
        text = errors.redact(f"{what}: {messages}", self._secrets())
        kwargs: dict[str, Any] = {"code": code, "status": response.status_code, "details": details}
        if code in errors.LOGIN_CODES or not _is_authenticated_path(request):
            if code == "BDC_1102":
                kwargs["hint"] = (
                    f"{errors.HINTS['BDC_1102']}; this run uses environment="
                    f"{self.settings.environment} at {self.settings.base_url}"
                )
            return BillAuthError(text, **kwargs)
        if code == errors.UNTRUSTED_SESSION or response.status_code == 403:
            if self.settings.sync_token:
                kwargs["hint"] = (
                    "sync-token sessions cannot pay or use MFA-gated operations; sign in as a "
                    "user with `mfa_remember_me_id` and `mfa_device` for this"
                )
            return BillPermissionError(text, **kwargs)
        return BillRequestError(text, **kwargs)

    def _secrets(self) -> tuple[str, ...]:
        session = self.bill_auth.session
        extra = (session.session_id,) if session else ()
        return self.settings.secrets + extra

    def _sign_in_post(self, url: str, body: dict[str, Any], form: bool) -> dict[str, Any]:
        """Post a sign-in through the same retries; v2 answers errors inside a 200."""
        # `auth=_unauthenticated`: the SDK sets this session's `auth` to BillAuth, and a
        # sign-in must not ask BillAuth for the session it is creating.
        payload: dict[str, Any] = {"data": body} if form else {"json": body}
        response = self.post(
            url, auth=_unauthenticated, timeout=self.settings.request_timeout, **payload
        )
        answer = json_body(response)
        if form and isinstance(answer, dict) and answer.get("response_status") not in (0, "0"):
            details = errors.parse_error_body(answer)
            code = next((d.code for d in details if d.code), None)
            text = "BILL's v2 login refused the sync token: " + (
                "; ".join(str(d) for d in details) or "no message"
            )
            raise BillAuthError(errors.redact(text, self._secrets()), code=code, details=details)
        return answer if isinstance(answer, dict) else {}


def _unauthenticated(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _json_default(value: Any) -> Any:
    # Decimals are written as exact JSON numbers by simplejson's use_decimal, never via float.
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    msg = f"Cannot encode {type(value).__name__} as JSON"
    raise TypeError(msg)


def _path(request: requests.PreparedRequest) -> str:
    return urlsplit(request.url or "").path


def _is_sign_in(request: requests.PreparedRequest) -> bool:
    return _path(request).endswith(("/v3/login", "/Login.json"))


def _is_authenticated_path(request: requests.PreparedRequest) -> bool:
    return not _is_sign_in(request)


def _is_idempotent(request: requests.PreparedRequest) -> bool:
    method = (request.method or "GET").upper()
    if method in {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}:
        return True
    return method == "POST" and _path(request).endswith(_REPEATABLE_POST_SUFFIXES)


#: urllib3's errors met sending or reading, and the requests exception raised for each.
_REQUESTS_ERRORS: tuple[tuple[type[BaseException], type[requests.RequestException]], ...] = (
    (urllib3.exceptions.ReadTimeoutError, requests.exceptions.ReadTimeout),
    (urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError),
    (urllib3.exceptions.DecodeError, requests.exceptions.ContentDecodingError),
    (urllib3.exceptions.SSLError, requests.exceptions.SSLError),
)


def _as_requests_error(
    exc: BaseException, request: requests.PreparedRequest
) -> requests.exceptions.RequestException:
    """The requests exception for a urllib3 error (what requests raises for it), so the
    retries and their messages treat both transports alike."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
            reason, urllib3.exceptions.NewConnectionError
        ):
            return requests.exceptions.ConnectTimeout(exc, request=request)
        return requests.exceptions.ConnectionError(exc, request=request)
    for error, raised in _REQUESTS_ERRORS:
        if isinstance(exc, error):
            return raised(exc, request=request)
    return requests.exceptions.ConnectionError(exc, request=request)


def _urllib3_timeout(timeout: Any) -> urllib3.Timeout:
    """requests' timeout (a number, or a (connect, read) pair) for urllib3."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return urllib3.Timeout(connect=connect, read=read)


def _read_body(response: requests.Response) -> Any:
    """A 2xx body must be JSON (else it was cut or garbled: the caller retries on the
    ValueError); error bodies may be a gateway's HTML, read leniently."""
    if response.status_code >= 400:
        return _lenient(response)
    return page_body(response) if _is_list_page(response.request) else json_body(response)


def _is_list_page(request: Any) -> bool:
    return bool(getattr(request, _LIST_PAGE, False))


def _lenient(response: requests.Response) -> Any:
    try:
        return json_body(response)
    except ValueError:
        return None


def _may_have_been_sent(exc: BaseException) -> bool:
    """False only when the connection was never made, so BILL cannot have seen the request."""
    return not isinstance(exc, requests.exceptions.ConnectTimeout) and not (
        isinstance(exc, requests.exceptions.ConnectionError)
        and "NewConnectionError" in repr(exc.args)
    )


_CONNECT_HINTS = {
    "the host name does not resolve": "a typo in the host name? ",
    "the connection was refused": "is the port right, and is the server running? ",
    "the TLS handshake failed": (
        "https:// for a server that speaks plain HTTP (a local emulator is http://)? a proxy "
        "that intercepts TLS needs its CA in REQUESTS_CA_BUNDLE; "
    ),
}


#: (exception class, text in its arguments or "", what kept the connection from being made),
#: first match wins (SSLError and ProxyError are ConnectionErrors too).
_CONNECT_FAILURES: tuple[tuple[type[BaseException], str, str], ...] = (
    (requests.exceptions.SSLError, "", "the TLS handshake failed"),
    (requests.exceptions.ProxyError, "", "the proxy refused or failed"),
    (requests.exceptions.ConnectTimeout, "", "no answer to the connection"),
    (requests.exceptions.ConnectionError, "NameResolutionError", "the host name does not resolve"),
    (requests.exceptions.ConnectionError, "NewConnectionError", "the connection was refused"),
)


def _connect_failure(exc: BaseException) -> str | None:
    """What kept a connection from being made (None: it was made, or it is unclear)."""
    text = repr(exc.args)
    for kind, marker, failure in _CONNECT_FAILURES:
        if isinstance(exc, kind) and marker in text:
            return failure
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValueError) and not isinstance(exc, requests.exceptions.RequestException):
        return "malformed JSON in the answer"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "answer cut short"
    return "connection failed or was reset"


_CLIENTS: dict[tuple[Any, ...], BillClient] = {}
_CLIENTS_LOCK = threading.Lock()


def get_client(settings: ConnectionSettings) -> BillClient:
    """The process-wide client for these settings: one BILL session shared by all callers."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(settings.cache_key)
        if client is None:
            client = _CLIENTS[settings.cache_key] = BillClient(settings)
        return client


def active_clients() -> list[BillClient]:
    """The clients this process created (for end-of-run summaries)."""
    with _CLIENTS_LOCK:
        return list(_CLIENTS.values())


def clear_clients() -> None:
    """Forget every shared client (tests start each run with a fresh session)."""
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            with contextlib.suppress(Exception):
                client.close()
        _CLIENTS.clear()
