"""Connection settings shared by tap-billcom and target-billcom: one definition, one validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from singer_sdk import typing as th

from bill_core.catalog import ORGANIZATION_PREFIX
from bill_core.errors import BillConfigError

#: https://developer.bill.com/docs/get-started-in-production; paths are under /v3.
BASE_URLS: Mapping[str, str] = {
    "production": "https://gateway.prod.bill.com/connect",
    "sandbox": "https://gateway.stage.bill.com/connect",
}

#: Sessions end after 35 idle minutes (https://developer.bill.com/reference/login.md) and sync
#: token sessions after 48 idle hours (https://developer.bill.com/docs/token-based-sign-in).
USER_SESSION_IDLE_SECONDS = 35 * 60
SYNC_TOKEN_SESSION_IDLE_SECONDS = 48 * 3600


def connection_properties() -> list[th.Property]:
    """The sign-in and HTTP settings, as SDK config properties (they feed --about and Hub)."""
    return [
        th.Property(
            "username",
            th.StringType,
            required=True,
            title="Username",
            description=(
                "Email of the BILL user the connector signs in as; for a sync token, the "
                "token's name (with `sync_token: true`)."
            ),
        ),
        th.Property(
            "password",
            th.StringType,
            required=True,
            secret=True,
            title="Password",
            description="The user's password; for a sync token, the token value.",
        ),
        th.Property(
            "organization_id",
            th.StringType,
            required=True,
            title="Organization ID",
            description=(
                "BILL organization id (starts with 008), shown in BILL under Settings > "
                "Sync & Integrations > Manage Developer Keys."
            ),
        ),
        th.Property(
            "dev_key",
            th.StringType,
            required=True,
            secret=True,
            title="Developer key",
            description="BILL developer key of the same environment as `environment`.",
        ),
        th.Property(
            "environment",
            th.StringType,
            default="production",
            allowed_values=["production", "sandbox"],
            title="Environment",
            description=(
                "`production` (gateway.prod.bill.com) or `sandbox` (gateway.stage.bill.com). "
                "Keys and data never cross environments."
            ),
        ),
        th.Property(
            "base_url",
            th.StringType,
            title="Base URL",
            description=(
                "Gateway root that overrides `environment`, e.g. a local BILL emulator "
                "`http://127.0.0.1:8765`; sign-in is `{base_url}/v3/login`."
            ),
        ),
        th.Property(
            "sync_token",
            th.BooleanType,
            default=False,
            title="Sign in with a sync token",
            description=(
                "Treat `username`/`password` as an AP/AR sync token's name and value "
                "(a limited session that cannot pay)."
            ),
        ),
        th.Property(
            "mfa_remember_me_id",
            th.StringType,
            secret=True,
            title="MFA remember-me ID",
            description=(
                "`rememberMeId` from BILL's MFA challenge (valid 30 days); with `mfa_device` "
                "it makes the session MFA-trusted."
            ),
        ),
        th.Property(
            "mfa_device",
            th.StringType,
            title="MFA device name",
            description="The device nickname given when `mfa_remember_me_id` was issued.",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType,
            default=3,
            title="Maximum concurrent requests",
            description=(
                "Requests in flight at once. BILL allows 3 per developer key and organization "
                "(BDC_1322 beyond); lower it when other jobs share the key."
            ),
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=8,
            title="Maximum retries",
            description=(
                "Retries of one request on 5xx, network errors, 429 and BDC_1322, with "
                "exponential backoff and jitter."
            ),
        ),
        th.Property(
            "retry_initial_wait",
            th.NumberType,
            default=1.0,
            title="First retry wait (seconds)",
            description="Wait before the first retry; it doubles on each further retry.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=120.0,
            title="Request timeout (seconds)",
            description="How long to wait for BILL to answer one request.",
        ),
    ]


@dataclass(frozen=True)
class ConnectionSettings:
    """Validated connection settings. Its repr never shows a secret."""

    base_url: str
    username: str
    organization_id: str
    environment: str
    password: str
    dev_key: str
    sync_token: bool = False
    mfa_remember_me_id: str | None = None
    mfa_device: str | None = None
    max_concurrent_requests: int = 3
    max_retries: int = 8
    retry_initial_wait: float = 1.0
    request_timeout: float = 120.0

    def __repr__(self) -> str:
        return (
            f"ConnectionSettings(base_url={self.base_url!r}, username={self.username!r}, "
            f"organization_id={self.organization_id!r}, sync_token={self.sync_token})"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.dev_key, self.mfa_remember_me_id) if s)

    @property
    def session_idle_seconds(self) -> int:
        return SYNC_TOKEN_SESSION_IDLE_SECONDS if self.sync_token else USER_SESSION_IDLE_SECONDS

    @property
    def cache_key(self) -> tuple[Any, ...]:
        """Identity of one BILL session: same key, same session within a process."""
        return (
            self.base_url,
            self.username,
            self.password,
            self.organization_id,
            self.dev_key,
            self.sync_token,
            self.mfa_remember_me_id,
            self.mfa_device,
            self.max_concurrent_requests,
            self.max_retries,
            self.retry_initial_wait,
            self.request_timeout,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ConnectionSettings:
        """Validate a tap or target config; errors name the setting and the fix."""
        missing = [
            name
            for name in ("username", "password", "organization_id", "dev_key")
            if not str(config.get(name) or "").strip()
        ]
        if missing:
            names = ", ".join(f"`{n}`" for n in missing)
            msg = f"Missing setting(s) {names}"
            raise BillConfigError(
                msg,
                hint=(
                    "set them in meltano.yml / the config file, or as TAP_BILLCOM_* / "
                    "TARGET_BILLCOM_* environment variables"
                ),
            )
        environment = str(config.get("environment") or "production")
        if environment not in BASE_URLS:
            msg = f"`environment` is {environment!r}"
            raise BillConfigError(msg, hint="use `production` or `sandbox`")
        base_url = str(config.get("base_url") or BASE_URLS[environment]).rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            msg = f"`base_url` {base_url!r} is not an http(s) URL"
            raise BillConfigError(msg, hint="give the gateway root, e.g. " + BASE_URLS[environment])
        if base_url.endswith("/v3"):
            msg = f"`base_url` {base_url!r} ends with /v3"
            raise BillConfigError(
                msg, hint="give the gateway root without /v3, e.g. " + BASE_URLS[environment]
            )
        organization_id = str(config["organization_id"]).strip()
        if not organization_id.startswith(ORGANIZATION_PREFIX):
            msg = f"`organization_id` {organization_id!r} does not start with 008"
            raise BillConfigError(
                msg,
                hint=(
                    "copy the organization id (not the user id 006..., nor a vendor or customer "
                    "id) from BILL: Settings > Sync & Integrations > Manage Developer Keys"
                ),
            )
        remember_me = config.get("mfa_remember_me_id") or None
        device = config.get("mfa_device") or None
        if bool(remember_me) != bool(device):
            msg = "`mfa_remember_me_id` and `mfa_device` must be set together"
            raise BillConfigError(
                msg, hint="give both values returned with the MFA challenge, or neither"
            )
        concurrency = _number(config, "max_concurrent_requests", 3, int)
        if not 1 <= concurrency <= 3:
            msg = f"`max_concurrent_requests` is {concurrency}"
            raise BillConfigError(
                msg, hint="use 1, 2 or 3: BILL rejects a 4th concurrent request (BDC_1322)"
            )
        retries = _number(config, "max_retries", 8, int, minimum=0)
        first_wait = _number(config, "retry_initial_wait", 1.0, float, minimum=0)
        timeout = _number(config, "request_timeout", 120.0, float, minimum=0, above=True)
        return cls(
            base_url=base_url,
            username=str(config["username"]).strip(),
            password=str(config["password"]),
            organization_id=organization_id,
            dev_key=str(config["dev_key"]).strip(),
            environment=environment,
            sync_token=bool(config.get("sync_token", False)),
            mfa_remember_me_id=remember_me,
            mfa_device=device,
            max_concurrent_requests=concurrency,
            max_retries=retries,
            retry_initial_wait=first_wait,
            request_timeout=timeout,
        )


def _number(
    config: Mapping[str, Any],
    name: str,
    default: Any,
    kind: type,
    *,
    minimum: float | None = None,
    above: bool = False,
) -> Any:
    """A numeric setting; absent (None) means the default. A value out of range is refused,
    never quietly replaced (0 used to mean "default" for some settings)."""
    value = config.get(name)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        msg = f"`{name}` is {value!r}, not a number"
        raise BillConfigError(msg, hint=f"give a number, e.g. {default}") from None
    if minimum is not None and (number <= minimum if above else number < minimum):
        msg = f"`{name}` is {value}"
        limit = f"a number above {minimum:g}" if above else f"{minimum:g} or more"
        raise BillConfigError(msg, hint=f"use {limit}, e.g. {default}")
    return number
