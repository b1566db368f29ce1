"""Helpers shared by the emulator tests (importable because pytest puts this folder on
sys.path: the tests folders have no __init__.py)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import requests

from bill_emulator import DEMO_CREDENTIALS


def login_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": DEMO_CREDENTIALS["username"],
        "password": DEMO_CREDENTIALS["password"],
        "organizationId": DEMO_CREDENTIALS["organization_id"],
        "devKey": DEMO_CREDENTIALS["dev_key"],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


class Api:
    """A requests session signed in to the emulator, with BILL's two auth headers."""

    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base_url = base_url
        self.http = http
        self.session_id = ""

    def login(self, **overrides: Any) -> requests.Response:
        answer = self.http.post(f"{self.base_url}/v3/login", json=login_body(**overrides))
        if answer.status_code == 200:
            self.session_id = answer.json()["sessionId"]
            self.http.headers.update(
                {"devKey": DEMO_CREDENTIALS["dev_key"], "sessionId": self.session_id}
            )
        return answer

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.base_url}{path}", params=params, timeout=10)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.http.post(f"{self.base_url}{path}", json=body, timeout=10)

    def patch(self, path: str, body: Any = None) -> requests.Response:
        return self.http.patch(f"{self.base_url}{path}", json=body, timeout=10)

    def put(self, path: str, body: Any = None) -> requests.Response:
        return self.http.put(f"{self.base_url}{path}", json=body, timeout=10)

    def send(self, method: str, path: str, data: bytes) -> requests.Response:
        """A raw body (for bodies that are not JSON)."""
        headers = {"Content-Type": "application/json"}
        url = f"{self.base_url}{path}"
        return self.http.request(method, url, data=data, headers=headers, timeout=10)


def codes(answer: requests.Response) -> list[str]:
    body = answer.json()
    assert isinstance(body, list), body
    return [error["code"] for error in body]


def messages(answer: requests.Response) -> list[str]:
    body = answer.json()
    assert isinstance(body, list), body
    return [error["message"] for error in body]


def tap_schema(stream: str) -> dict[str, Any]:
    """The tap's JSON Schema of a stream (bill_core/schemas): what the emulator serves must
    fit it, though the emulator itself never reads it."""
    schema: dict[str, Any] = json.loads(
        resources.files("bill_core.schemas").joinpath(f"{stream}.json").read_text("utf-8")
    )
    return schema
