"""BILL's own examples, replayed: every request of the official Postman collection on an
endpoint the emulator implements is accepted with the example's status and answered with the
example's keys; every other request is answered 404 BDC_1121 (see bill_emulator/replay.py)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bill_emulator import Emulator
from bill_emulator.auth import Accounts
from bill_emulator.replay import Outcome, envelope, key_paths, replay, summary
from bill_emulator.replay_data import OMITTED_AFTER_WRITE, OMITTED_ANYWHERE, omission

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = REPO_ROOT / "reference" / "bill-v3" / "bill-v3-postman-collection.json"


@cache
def collection() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(COLLECTION.read_text(encoding="utf-8"))
    return loaded


def describe(outcome: Outcome) -> str:
    return (
        f"{outcome.method} {outcome.template} ({outcome.name}): {outcome.status} "
        f"{outcome.code or ''}, expected {outcome.expected_status}; missing {outcome.missing}; "
        f"extra {outcome.extra}"
    )


def test_bills_examples_are_accepted_with_their_status_and_keys(emulator: Emulator) -> None:
    assert emulator.base_url is not None
    outcomes = replay(collection(), emulator, emulator.base_url)
    print(summary(outcomes))  # the figures in README.md (pytest -s shows them)
    implemented = [o for o in outcomes if o.implemented]
    assert len(outcomes) == 302
    assert len(implemented) >= 70
    wrong = [describe(o) for o in implemented if not o.keys_equal]
    assert not wrong, "\n".join(wrong)
    not_refused = [
        describe(o) for o in outcomes if not o.implemented and not o.refused_as_not_implemented
    ]
    assert not not_refused, "\n".join(not_refused)
    # The endpoints the connectors use are among those replayed.
    replayed = {f"{o.method} {o.template}" for o in implemented}
    for endpoint in (
        "POST /v3/login",
        "GET /v3/bills",
        "POST /v3/vendors/bulk",
        "POST /v3/bills/bulk",
        "PUT /v3/invoices/{}",
        "PATCH /v3/bills/{}",
        "GET /v3/vendors/{}/bank-account",
        "POST /v3/payments",
    ):
        assert endpoint in replayed, endpoint


def test_the_readme_states_the_replay_figures(emulator: Emulator) -> None:
    """README.md's emulator section quotes the replay's summary line as it is."""
    assert emulator.base_url is not None
    line = summary(replay(collection(), emulator, emulator.base_url))
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert " ".join(line.split()) in " ".join(readme.split())


def test_a_missing_key_is_found(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay is not a rubber stamp: an answer without one of BILL's keys fails it."""
    original = Accounts.describe

    def without_mfa_bypass(self: Accounts, session: Any) -> dict[str, Any]:
        return {k: v for k, v in original(self, session).items() if k != "mfaBypass"}

    monkeypatch.setattr(Accounts, "describe", without_mfa_bypass)
    assert emulator.base_url is not None
    outcomes = replay(collection(), emulator, emulator.base_url)
    session = next(o for o in outcomes if o.template == "/v3/login/session")
    assert session.accepted
    assert not session.keys_equal
    assert session.missing == ["mfaBypass"]


def test_key_paths_and_envelopes() -> None:
    answer = {"results": [{"id": "x", "lines": [{"amount": 1}, {"price": 2}]}], "nextPage": "t"}
    assert key_paths(answer) == {
        "results",
        "nextPage",
        "results[].id",
        "results[].lines",
        "results[].lines[].amount",
        "results[].lines[].price",
    }
    assert envelope(answer) == "results[]."
    assert envelope([{"id": "x"}]) == "[]."
    assert envelope({"vendors": [{"id": "x"}]}) == "vendors[]."
    assert envelope({"id": "x"}) == ""


def test_each_omission_names_its_reason() -> None:
    """Keys BILL leaves out while unset are listed once each, with a reason in words, and a
    key under a listed one goes with it."""
    tables = [OMITTED_ANYWHERE, *OMITTED_AFTER_WRITE.values()]
    for table in tables:
        for key, reason in table.items():
            assert re.fullmatch(r"[A-Za-z0-9.\[\]]+", key), key
            assert len(reason.split()) >= 4, (key, reason)
    bills = OMITTED_AFTER_WRITE["bills"]
    assert omission(bills, "approvers[].userId") == bills["approvers"]
    assert omission(bills, "vendorName") is None
