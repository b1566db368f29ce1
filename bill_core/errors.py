"""Typed BILL errors: each names the cause, BILL's code and what to do, and never a secret.

BILL v3 answers errors as a JSON array of `{timestamp, code, severity, category, message}`
(https://developer.bill.com/docs/common-api-error-codes). HTTP statuses of several codes are not
documented (BDC_1144, BDC_1322), so everything here is decided by the BDC code in the body,
whatever the status.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SESSION_INVALID = "BDC_1109"
HOURLY_LIMIT = "BDC_1144"
CONCURRENCY_LIMIT = "BDC_1322"
UNTRUSTED_SESSION = "BDC_1361"
LOGIN_CODES = frozenset(
    {
        "BDC_1101",
        "BDC_1102",
        "BDC_1103",
        "BDC_1104",
        "BDC_1107",
        "BDC_1110",
        "BDC_1111",
        "BDC_1113",
        "BDC_1123",
    }
)

#: What the user should do, per BDC code. Sources: https://developer.bill.com/docs/faq,
#: https://developer.bill.com/docs/api-rate-limits, developersupport.bill.com error list.
HINTS: Mapping[str, str] = {
    "BDC_1101": "check `username` and `password` (for a sync token: the token's name and value)",
    "BDC_1102": (
        "check `dev_key`; developer keys belong to one environment (a sandbox key works only "
        "with environment=sandbox, a production key only with environment=production)"
    ),
    "BDC_1103": "the developer key is inactive: ask BILL support to reactivate it or create one",
    "BDC_1104": (
        "API access is not enabled for this developer key: accept the developer terms in BILL "
        "(Settings > Sync & Integrations > Manage Developer Keys)"
    ),
    "BDC_1107": "the organization is locked out: sign in to BILL's web app to unlock it",
    "BDC_1108": "a required value is missing: check the record or setting named in the message",
    "BDC_1109": "the session expired or was ended; it is renewed automatically",
    "BDC_1110": "this login is locked after failed attempts: unlock it in BILL's web app",
    "BDC_1111": "the user is not active in this organization: check `username`",
    "BDC_1121": "this API path does not exist: check `base_url` (it must end at /connect)",
    "BDC_1123": (
        "check `organization_id` (Settings > Sync & Integrations > Manage Developer Keys shows "
        "it; it starts with 008) and that the user belongs to that organization"
    ),
    "BDC_1129": "a request parameter has an invalid value",
    "BDC_1130": "BILL does not allow filtering on this field",
    "BDC_1131": "BILL does not allow this filter operator on this field",
    "BDC_1144": (
        "BILL's limit of 20,000 requests per developer key per hour is used up; requests "
        "succeed again from the start of the next hour"
    ),
    "BDC_1322": (
        "BILL allows 3 concurrent requests per developer key and organization: lower "
        "`max_concurrent_requests` or stop other jobs using the same key"
    ),
    "BDC_1361": (
        "this operation needs an MFA-trusted session: set `mfa_remember_me_id` and "
        "`mfa_device` (from BILL's MFA challenge with rememberMe=true)"
    ),
}


@dataclass(frozen=True)
class BillErrorDetail:
    """One entry of BILL's error array."""

    code: str | None
    message: str
    severity: str | None = None
    category: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


def parse_error_body(body: Any) -> list[BillErrorDetail]:
    """Read BILL's error array, tolerating the gateway's `{"message": ...}` and v2 shapes."""
    if isinstance(body, Mapping):
        if "response_data" in body:  # v2: {"response_status": 1, "response_data": {...}}
            data = body.get("response_data") or {}
            if isinstance(data, Mapping):
                return [
                    BillErrorDetail(
                        code=_text(data.get("error_code")),
                        message=_text(data.get("error_message")) or "",
                    )
                ]
        body = [body]
    if not isinstance(body, list):
        return []
    details = []
    for item in body:
        if isinstance(item, Mapping):
            details.append(
                BillErrorDetail(
                    code=_text(item.get("code")),
                    message=_text(item.get("message")) or "",
                    severity=_text(item.get("severity")),
                    category=_text(item.get("category")),
                )
            )
    return details


def parse_error_text(text: str) -> list[BillErrorDetail]:
    try:
        return parse_error_body(json.loads(text))
    except ValueError:
        return []


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class BillError(Exception):
    """Base of every error raised by the BILL client."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Iterable[BillErrorDetail] = (),
        hint: str | None = None,
    ) -> None:
        self.code = code
        self.status = status
        self.details = tuple(details)
        self.hint = hint if hint is not None else HINTS.get(code or "")
        text = message
        if code and code not in message:
            text = f"{text} [{code}]"
        if self.hint:
            text = f"{text.rstrip('.')}. What to do: {self.hint.rstrip('.')}."
        super().__init__(text)


class BillConfigError(BillError):
    """A setting is missing or invalid; nothing was sent to BILL."""


class BillAuthError(BillError):
    """BILL refused to sign in (wrong credentials, key, organization or environment)."""


class BillPermissionError(BillError):
    """The session may not do this (untrusted for MFA, sync tokens cannot pay, role)."""


class BillRateLimitError(BillError):
    """BILL's hourly request limit is used up (BDC_1144); retrying before the hour is useless."""

    def __init__(self, message: str, *, resets_at: str, **kwargs: Any) -> None:
        self.resets_at = resets_at
        super().__init__(message, **kwargs)


class BillRequestError(BillError):
    """BILL rejected the request (validation, unknown reference, bad filter...)."""


class BillTransientError(BillError):
    """A failure that was retried until the retry budget ran out (5xx, network, BDC_1322)."""


class BillInterruptedError(BillError):
    """The run was told to stop (SIGTERM, SIGINT): no further request is sent or retried."""


class BillUnreachableError(BillTransientError):
    """BILL could not be reached at all on the first contact (DNS, refused, TLS, no answer to
    the connection): a setting or the network, not a passing fault, so it is not retried
    for minutes."""


class BillAmbiguousWriteError(BillError):
    """A write was sent but no answer came back: BILL may or may not have applied it.

    The caller must look the object up before sending the write again (BILL has no
    idempotency key for creates).
    """


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every known secret value in `text` (a last line of defence for messages)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
