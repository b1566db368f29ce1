"""The connection check behind `tap-billcom --test` and `target-billcom --test`: sign in,
read the session and one page, write nothing, and say plainly what worked."""

from __future__ import annotations

from bill_core.client import BillClient


def check_connection(client: BillClient) -> str:
    """A one-line verdict; raises the actionable BillError when something is wrong."""
    session = client.bill_auth.current()
    details = client.call("GET", "/v3/login/session") or {}
    page = client.call("GET", "/v3/vendors", params={"max": 1}) or {}
    settings = client.settings
    trusted = "MFA-trusted" if session.trusted else "not MFA-trusted"
    mode = "sync token" if settings.sync_token else "user"
    return (
        f"Connection OK: signed in to BILL organization {details.get('organizationId')} at "
        f"{settings.base_url} ({mode}, {trusted}); read {len(page.get('results') or [])} "
        f"vendor(s) from the first page. Nothing was written."
    )
