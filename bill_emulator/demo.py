"""The emulator's demo sign-in: fixed values, the same for every seed.

These are not secrets: they only open the local emulator. They are still kept out of the
CLI's output and out of every error message, like real credentials would be.
"""

from __future__ import annotations

DEMO_ORGANIZATION_ID = "00802EMULATORDEMOorg"
DEMO_USER_ID = "00602EMULATORDEMOusr"
DEMO_USER_FIRST_NAME = "Dana"
DEMO_USER_LAST_NAME = "Demo"
DEMO_ORGANIZATION_NAME = "Emulator Demo Company"

#: A plain dict (tests build tap/target configs from it); treat it as read-only.
DEMO_CREDENTIALS: dict[str, str] = {
    "username": "demo@example.com",
    "password": "emulator-demo-password",
    "organization_id": DEMO_ORGANIZATION_ID,
    "dev_key": "EMULATOR-DEVKEY-0000000001",
    # Issued for the other environment (production when the emulator plays sandbox):
    # BILL answers such a key with BDC_1102 (third-party integration notes, unverified).
    "other_environment_dev_key": "EMULATOR-DEVKEY-OTHERENV-02",
    "sync_token_name": "emulator-sync-token",
    "sync_token_value": "emulator-sync-token-value-0001",
    # The code BILL would text; the emulator accepts it in /v3/mfa/challenge/validate.
    "mfa_token": "123456",
}
