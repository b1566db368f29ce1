"""BILL's error codes and its error body.

v3 errors are a JSON array `[{"timestamp", "code", "severity", "category", "message"}]`
(https://developer.bill.com/docs/common-api-error-codes). Messages are BILL's own text where
the docs give it (https://developer.bill.com/docs/faq,
https://developersupport.bill.com/hc/en-us/articles/208762056-Error-codes-list).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bill_emulator.formats import format_time

#: Codes whose HTTP status the emulator configures (BILL documents none for them):
#: https://developer.bill.com/docs/api-rate-limits
RATE_LIMIT_CODES = frozenset({"BDC_1144", "BDC_1322"})


@dataclass(frozen=True)
class ErrorKind:
    status: int
    category: str
    message: str


KNOWN: dict[str, ErrorKind] = {
    "BDC_1001": ErrorKind(500, "SERVER", "System error occurred."),
    "BDC_1002": ErrorKind(500, "SERVER", "Unknown error occurred."),
    # Login errors: BILL documents no status; 400 like every other bad request (assumption).
    "BDC_1101": ErrorKind(400, "REQUEST", "User name and/or password do not match our records."),
    "BDC_1102": ErrorKind(400, "REQUEST", "Developer key is invalid."),
    "BDC_1104": ErrorKind(400, "REQUEST", "Developer terms are not accepted."),
    # Not produced by the emulator's own sign-in; for faults (Fault("bdc", code=...)).
    "BDC_1107": ErrorKind(400, "REQUEST", "Organization is locked."),
    "BDC_1110": ErrorKind(400, "REQUEST", "Login is locked."),
    "BDC_1108": ErrorKind(400, "REQUEST", "Missing parameter value for parameter: {}"),
    # 401 reported as live-verified by a third-party integration (unverified). Double space is
    # BILL's text.
    "BDC_1109": ErrorKind(401, "DOWNSTREAM", "Session is invalid.  Please log in."),
    "BDC_1117": ErrorKind(400, "REQUEST", "Missing required data for {}"),
    "BDC_1119": ErrorKind(400, "REQUEST", "Invalid field,value: {}"),
    # Status of an unknown id is undocumented (BILL's reference pages list only 4XX, e.g.
    # https://developer.bill.com/hc/reference/getvendor): 404 assumed.
    "BDC_1120": ErrorKind(404, "REQUEST", "No data found."),
    "BDC_1121": ErrorKind(404, "REQUEST", "API not supported."),
    "BDC_1122": ErrorKind(400, "REQUEST", "Error Parsing Json Object: {}"),
    "BDC_1123": ErrorKind(400, "REQUEST", "Invalid organization id."),
    "BDC_1129": ErrorKind(400, "REQUEST", "Invalid parameter value for {}"),
    "BDC_1130": ErrorKind(400, "REQUEST", "Invalid list filter field: {}"),
    "BDC_1131": ErrorKind(400, "REQUEST", "Invalid list filter operator: {}"),
    "BDC_1144": ErrorKind(
        429, "DOWNSTREAM", "Max number of allowed requests per hour reached: {}."
    ),
    "BDC_1322": ErrorKind(
        429, "DOWNSTREAM", "Max number of concurrent requests per organization reached."
    ),
    # MFA codes seen only in third-party integration code comments: assumption.
    "BDC_1356": ErrorKind(400, "REQUEST", "The MFA token is invalid or has expired."),
    "BDC_1361": ErrorKind(403, "REQUEST", "Session is not trusted. {}"),
}


class BillError(Exception):
    """A BILL error answer: code, message, HTTP status and category.

    `status=None` means "the emulator's configured status for this code" (rate limits).
    """

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        message: str | None = None,
        status: int | None = None,
    ) -> None:
        kind = KNOWN.get(code, ErrorKind(400, "REQUEST", "{}"))
        if message is None:
            message = kind.message.format(detail) if "{}" in kind.message else kind.message
        self.code = code
        self.message = message
        self.category = kind.category
        self.status = status if status is not None or code in RATE_LIMIT_CODES else kind.status
        super().__init__(f"{code}: {message}")

    def body(self, now_ms: int) -> list[dict[str, Any]]:
        return error_body(self.code, self.message, self.category, now_ms)


class InvalidRequestError(BillError):
    """A request refused for several problems at once, one error object each: a refused
    write names every bad field, as BILL's error array allows
    (https://developer.bill.com/docs/common-api-error-codes).

    `errors` are (code, message) pairs; the first one is this error's `code` and `message`.
    """

    def __init__(self, errors: Sequence[tuple[str, str]], *, status: int = 400) -> None:
        if not errors:
            msg = "InvalidRequestError needs at least one error"
            raise ValueError(msg)
        code, message = errors[0]
        super().__init__(code, message=message, status=status)
        self.errors = tuple(errors)

    def body(self, now_ms: int) -> list[dict[str, Any]]:
        return [
            entry
            for code, message in self.errors
            for entry in error_body(code, message, self.category, now_ms)
        ]


def error_body(code: str, message: str, category: str, now_ms: int) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": format_time(now_ms),
            "code": code,
            "severity": "ERROR",
            "category": category,
            "message": message,
        }
    ]


def default_status(code: str, rate_limit_status: int) -> int:
    """The status the emulator answers a code with (used by the "bdc" fault too)."""
    if code in RATE_LIMIT_CODES:
        return rate_limit_status
    return KNOWN[code].status if code in KNOWN else 400
