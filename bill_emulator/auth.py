"""Sign-in, sessions and MFA trust (no HTTP here).

Sources (https://developer.bill.com/reference/login, the v3 Postman collection in
reference/bill-v3/): `POST /v3/login` takes username, password,
organizationId and devKey (+ rememberMeId and device for a trusted session); a session is
valid only with the devKey that created it and dies after 35 idle minutes (each call resets
the timer); sync-token sessions last 48 idle hours and cannot use MFA-gated operations;
MFA challenge/validate issues a rememberMeId valid for 30 days.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bill_emulator.clock import Clock
from bill_emulator.demo import DEMO_CREDENTIALS, DEMO_USER_ID
from bill_emulator.errors import BillError
from bill_emulator.limits import Limits
from bill_emulator.models import Organization

SYNC_TOKEN_IDLE_SECONDS = 48 * 3600  # https://developer.bill.com/docs/token-based-sign-in
REMEMBER_ME_SECONDS = 30 * 86400
LOGIN_FIELDS = ("username", "password", "organizationId", "devKey")
#: v2 form field -> v3 field (https://developer.bill.com/v2/docs/authentication-overview).
V2_LOGIN_FIELDS = {
    "userName": "username",
    "password": "password",
    "orgId": "organizationId",
    "devKey": "devKey",
}


@dataclass
class Session:
    session_id: str
    dev_key: str
    organization_id: str
    user_id: str
    trusted: bool
    sync_token: bool
    idle_seconds: float
    last_used: float


@dataclass(frozen=True)
class RememberMe:
    device: str | None
    expires: float


class Accounts:
    """The demo user's and the sync token's sign-ins, and the sessions they open."""

    def __init__(
        self,
        clock: Clock,
        limits: Limits,
        organizations: Callable[[str], Organization | None],
        *,
        session_idle_seconds: float,
        sync_token_v3_login: bool,
    ) -> None:
        self._clock = clock
        self._limits = limits
        self._organizations = organizations
        self._idle = session_idle_seconds
        self._sync_token_v3 = sync_token_v3_login
        self._sessions: dict[str, Session] = {}
        self._challenges: dict[str, str] = {}
        self._remembered: dict[str, RememberMe] = {}
        #: Every session id ever issued, for `secret_values`.
        self._issued: list[str] = []
        self._lock = threading.Lock()

    # -- sign-in -------------------------------------------------------------------------

    def login(self, fields: Mapping[str, Any], *, v2: bool = False) -> Session:
        """Open a session or raise the BillError BILL would answer.

        The checks run in the order a request is read: missing fields (BDC_1108), devKey
        (BDC_1102), hourly login limit, credentials (BDC_1101), organization (BDC_1123), API
        access (BDC_1104).
        """
        names = {v: k for k, v in V2_LOGIN_FIELDS.items()} if v2 else {}
        for name in LOGIN_FIELDS:
            if not isinstance(fields.get(name), str) or not fields[name]:
                raise BillError("BDC_1108", names.get(name, name))
        dev_key = fields["devKey"]
        # The key issued for the other environment is refused like an unknown one: BILL
        # answers BDC_1102 (third-party integration notes, unverified).
        if dev_key != DEMO_CREDENTIALS["dev_key"]:
            raise BillError("BDC_1102")
        self._limits.count_login(dev_key)
        self._limits.count_request(dev_key)
        sync_token = self._check_credentials(fields["username"], fields["password"], v2=v2)
        organization = self._organizations(fields["organizationId"])
        if organization is None:
            raise BillError("BDC_1123")
        if not organization.api_access_enabled:
            raise BillError("BDC_1104")
        trusted = not sync_token and self._remembered_device(
            fields.get("rememberMeId"), fields.get("device")
        )
        return self._open(
            dev_key, organization.organization_id, trusted=trusted, sync_token=sync_token
        )

    def _check_credentials(self, username: str, password: str, *, v2: bool) -> bool:
        """True for a sync-token sign-in, False for the demo user; else BDC_1101."""
        if username == DEMO_CREDENTIALS["username"] and secrets.compare_digest(
            password, DEMO_CREDENTIALS["password"]
        ):
            return False
        sync_token_allowed = v2 or self._sync_token_v3
        if (
            sync_token_allowed
            and username == DEMO_CREDENTIALS["sync_token_name"]
            and secrets.compare_digest(password, DEMO_CREDENTIALS["sync_token_value"])
        ):
            return True
        raise BillError("BDC_1101")

    def _remembered_device(self, remember_me_id: Any, device: Any) -> bool:
        # An unknown or expired rememberMeId still signs in, untrusted (assumption: BILL's
        # docs do not say whether it refuses the login instead).
        if not isinstance(remember_me_id, str):
            return False
        with self._lock:
            remembered = self._remembered.get(remember_me_id)
        if remembered is None or remembered.expires < self._clock.time():
            return False
        return remembered.device is None or remembered.device == device

    def _open(
        self, dev_key: str, organization_id: str, *, trusted: bool, sync_token: bool
    ) -> Session:
        session = Session(
            session_id=secrets.token_urlsafe(24),
            dev_key=dev_key,
            organization_id=organization_id,
            user_id=DEMO_USER_ID,
            trusted=trusted,
            sync_token=sync_token,
            idle_seconds=SYNC_TOKEN_IDLE_SECONDS if sync_token else self._idle,
            last_used=self._clock.monotonic(),
        )
        with self._lock:
            self._sessions[session.session_id] = session
            self._issued.append(session.session_id)
        return session

    # -- sessions ------------------------------------------------------------------------

    def authenticate(self, dev_key: str | None, session_id: str | None) -> Session:
        """The live session for these headers (and reset its idle timer), else BDC_1109."""
        now = self._clock.monotonic()
        with self._lock:
            session = self._sessions.get(session_id or "")
            if session is None or session.dev_key != dev_key:
                raise BillError("BDC_1109")
            if now - session.last_used > session.idle_seconds:
                del self._sessions[session.session_id]
                raise BillError("BDC_1109")
            session.last_used = now
            return session

    def logout(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.session_id, None)

    def kill_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    def describe(self, session: Session) -> dict[str, Any]:
        """`GET /v3/login/session`: the fields of BILL's example answer (Postman collection,
        "Get API session details")."""
        return {
            "organizationId": session.organization_id,
            "userId": session.user_id,
            # The demo user has MFA set up; sync-token sessions have no MFA at all.
            "mfaStatus": "DISABLED" if session.sync_token else "ENABLED",
            "mfaBypass": False,
        }

    # -- MFA -----------------------------------------------------------------------------

    def challenge(self, session: Session) -> str:
        self._refuse_sync_token(session)
        challenge_id = secrets.token_urlsafe(12)
        with self._lock:
            self._challenges[challenge_id] = session.session_id
        return challenge_id

    def validate(self, session: Session, body: Mapping[str, Any]) -> str:
        """Trust the session when the token is the texted one; returns a rememberMeId."""
        self._refuse_sync_token(session)
        for name in ("challengeId", "token"):
            if not body.get(name):
                raise BillError("BDC_1108", name)
        with self._lock:
            owner = self._challenges.get(str(body["challengeId"]))
        if owner != session.session_id or str(body["token"]) != DEMO_CREDENTIALS["mfa_token"]:
            raise BillError("BDC_1356")
        device = body.get("device") or body.get("machineName")
        remember_me_id = secrets.token_urlsafe(24)
        with self._lock:
            self._challenges.pop(str(body["challengeId"]), None)
            self._remembered[remember_me_id] = RememberMe(
                device if isinstance(device, str) else None,
                self._clock.time() + REMEMBER_ME_SECONDS,
            )
            session.trusted = True
        return remember_me_id

    def step_up(self, session: Session, body: Mapping[str, Any]) -> None:
        self._refuse_sync_token(session)
        if not body.get("rememberMeId"):
            raise BillError("BDC_1108", "rememberMeId")
        if not self._remembered_device(body.get("rememberMeId"), body.get("device")):
            raise BillError("BDC_1356", message="The rememberMeId is invalid or has expired.")
        with self._lock:
            session.trusted = True

    def require_trusted(self, session: Session) -> None:
        """BDC_1361 (403) unless the session is MFA-trusted (BILL's "Create a payment" request:
        an MFA-trusted session is required; the code is from third-party integrations)."""
        self._refuse_sync_token(session)
        if not session.trusted:
            raise BillError(
                "BDC_1361",
                "Complete an MFA challenge (/v3/mfa/challenge, /v3/mfa/challenge/validate) "
                "or step up with a rememberMeId (/v3/mfa/step-up) first.",
            )

    def _refuse_sync_token(self, session: Session) -> None:
        if session.sync_token:
            raise BillError(
                "BDC_1361", "Sessions signed in with a sync token cannot use MFA operations."
            )

    def secret_values(self) -> list[str]:
        """Session ids and rememberMeIds issued so far (for leak checks in tests)."""
        with self._lock:
            return [*self._issued, *self._remembered]
