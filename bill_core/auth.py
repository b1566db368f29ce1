"""The BILL session: sign-in (user, sync token, MFA-trusted), reuse, and renewal on expiry.

One `BillAuth` per process and connection (see `bill_core.client.get_client`): BILL allows 200
logins per developer key per hour (https://developer.bill.com/docs/api-rate-limits), so the
session is created once, shared by every stream or sink, and renewed only when BILL says it
expired (401 BDC_1109) or when it has been idle long enough that BILL will have dropped it.

A refused sign-in (wrong password BDC_1101, key BDC_1102, organization BDC_1123, access
BDC_1104, locked BDC_1107/BDC_1110, ...) is sent once per process and never again: every
caller waiting for the session (prefetch, window workers, sinks) gets that same refusal.
Retrying a wrong password from every thread is how BILL ends up locking the login. A BILL
that cannot be reached at all on the first contact is reported once the same way.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import AuthBase

from bill_core.errors import BillAuthError, BillUnreachableError
from bill_core.settings import BASE_URLS, ConnectionSettings

LOGGER = logging.getLogger("bill_core")

#: v2 login hosts, for sync tokens that BILL's v3 login refuses
#: (https://developer.bill.com/docs/token-based-sign-in tells to use the v2 login).
V2_LOGIN_URLS = {
    BASE_URLS["production"]: "https://api.bill.com/api/v2/Login.json",
    BASE_URLS["sandbox"]: "https://api-stage.bill.com/api/v2/Login.json",
}
#: Renew a session proactively this long before BILL's idle limit would end it.
IDLE_MARGIN_SECONDS = 5 * 60


@dataclass
class SessionInfo:
    """What BILL answered to the sign-in (no secret besides the id itself)."""

    session_id: str
    user_id: str | None
    trusted: bool
    generation: int


class BillAuth(AuthBase):
    """Adds `devKey` and `sessionId` headers, signing in lazily and at most once per expiry.

    `login` is given the function that posts the sign-in (the client's retrying transport),
    so sign-in goes through the same concurrency gate and retries as every other call.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._session: SessionInfo | None = None
        self._generation = 0
        self._last_used = 0.0
        self.logins = 0
        #: Sign-in requests sent (refused ones included).
        self.attempts = 0
        #: BILL's refusal of this process's sign-in: raised again to every later caller.
        self.refused: Exception | None = None
        self._post: Callable[[str, dict[str, Any], bool], dict[str, Any]] | None = None

    def bind(self, post: Callable[[str, dict[str, Any], bool], dict[str, Any]]) -> None:
        """Give the transport used to sign in: post(url, body, form_encoded) -> JSON body."""
        self._post = post

    @property
    def session(self) -> SessionInfo | None:
        return self._session

    def current(self) -> SessionInfo:
        """The live session, signing in first when there is none or it idled out."""
        with self._lock:
            idle = time.monotonic() - self._last_used
            limit = self.settings.session_idle_seconds - IDLE_MARGIN_SECONDS
            if self._session is not None and idle > limit:
                LOGGER.info("BILL session idle for %.0f s; signing in again", idle)
                self._session = None
            if self._session is None:
                if self.refused is not None:
                    raise copy.copy(self.refused)  # (a copy: threads raise it at once)
                try:
                    self._session = self._login()
                except (BillAuthError, BillUnreachableError) as error:
                    self.refused = error
                    raise
            self._last_used = time.monotonic()
            return self._session

    def invalidate(self, generation: int) -> bool:
        """Forget the session that BILL rejected; True if this call dropped it.

        Several threads may see the same expiry; only the first drops the session, so the
        next `current()` signs in once for all of them.
        """
        with self._lock:
            if self._session is not None and self._session.generation == generation:
                self._session = None
                return True
            return False

    def apply(self, request: requests.PreparedRequest) -> SessionInfo:
        """Set the session headers on a request; returns the session used."""
        session = self.current()
        request.headers["devKey"] = self.settings.dev_key
        request.headers["sessionId"] = session.session_id
        return session

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.apply(request)
        return request

    def _login(self) -> SessionInfo:
        if self._post is None:  # pragma: no cover - programming error
            msg = "BillAuth used before it was bound to a client"
            raise RuntimeError(msg)
        settings = self.settings
        body: dict[str, Any] = {
            "username": settings.username,
            "password": settings.password,
            "organizationId": settings.organization_id,
            "devKey": settings.dev_key,
        }
        if settings.mfa_remember_me_id:
            body["rememberMeId"] = settings.mfa_remember_me_id
            body["device"] = settings.mfa_device
        try:
            self.attempts += 1
            answer = self._post(f"{settings.base_url}/v3/login", body, False)
        except BillAuthError as error:
            if not (settings.sync_token and error.code == "BDC_1101"):
                raise
            # BILL's docs disagree on whether sync tokens sign in through v3 or v2
            # (https://developer.bill.com/docs/token-based-sign-in): try v2 before giving up.
            LOGGER.info("BILL's v3 login refused the sync token; trying the v2 login")
            answer = self._login_v2()
        self._generation += 1
        self.logins += 1
        session_id = str(answer.get("sessionId") or "")
        if not session_id:
            msg = "BILL's sign-in answer carried no sessionId"
            raise BillAuthError(msg, hint="check `base_url`: it must be BILL's gateway root")
        trusted = bool(answer.get("trusted", False))
        if settings.mfa_remember_me_id and not trusted:
            LOGGER.warning(
                "BILL did not trust this session although mfa_remember_me_id is set: the "
                "remember-me id may have expired (they last 30 days); MFA-gated operations "
                "will fail with BDC_1361 until it is renewed"
            )
        LOGGER.info(
            "Signed in to BILL organization %s (%s%s)",
            settings.organization_id,
            "sync token" if settings.sync_token else "user",
            ", MFA-trusted" if trusted else "",
        )
        return SessionInfo(
            session_id=session_id,
            user_id=answer.get("userId"),
            trusted=trusted,
            generation=self._generation,
        )

    def _login_v2(self) -> dict[str, Any]:
        settings = self.settings
        url = V2_LOGIN_URLS.get(settings.base_url, f"{settings.base_url}/v2/Login.json")
        form = {
            "userName": settings.username,
            "password": settings.password,
            "orgId": settings.organization_id,
            "devKey": settings.dev_key,
        }
        assert self._post is not None
        self.attempts += 1
        answer = self._post(url, form, True)
        data = answer.get("response_data") if isinstance(answer, dict) else None
        return data if isinstance(data, dict) else {}
