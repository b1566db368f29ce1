"""Replay BILL's own example requests against the emulator: the emulator's fidelity check.

For every request of BILL's official Postman collection (reference/bill-v3/ in the
repository; https://developer.bill.com/docs/bill-v3-api-postman-collection), send the example
request (method, path, query, body) with the collection's placeholders filled with real ids
of the seeded organization, and compare with the example response:

- endpoints the emulator implements must answer the example's status and every key of the
  example's body, except keys BILL leaves out when they are unset (`OMITTED`, each with its
  reason); keys the example lacks are reported as extra;
- every other endpoint must answer 404 BDC_1121 "API not supported." (not implemented: not
  counted as accepted).

    python -m bill_emulator.replay reference/bill-v3/bill-v3-postman-collection.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bill_emulator import routes, shapes
from bill_emulator.demo import DEMO_CREDENTIALS
from bill_emulator.emulator import Emulator, EmulatorConfig
from bill_emulator.replay_data import OMITTED_AFTER_WRITE, OMITTED_ANYWHERE, Placeholders, omission

_VARIABLE = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")
#: Postman's filler for a value: a `page` token of "string" is no token (a first page).
FILLER = "string"


@dataclass
class Outcome:
    """One example request replayed."""

    name: str
    method: str
    #: BILL's path template, `:vendorId` written `{}`.
    template: str
    implemented: bool
    expected_status: int
    #: The emulator's object behind the endpoint (None: sign-in, MFA, not implemented).
    stream: str | None = None
    status: int = 0
    code: str | None = None
    #: Example keys the answer lacks (not counting OMITTED), and answer keys the example lacks.
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.implemented and self.status == self.expected_status

    @property
    def keys_equal(self) -> bool:
        return self.accepted and not self.missing and not self.extra

    @property
    def refused_as_not_implemented(self) -> bool:
        return not self.implemented and (self.status, self.code) == (404, "BDC_1121")


def requests_of(items: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for item in items:
        if "item" in item:
            yield from requests_of(item["item"])
        else:
            yield item


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key of a JSON value as a dotted path, `[]` for array items."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path, *key_paths(item, path)}
    elif isinstance(value, list):
        for item in value:
            found |= key_paths(item, f"{prefix}[]")
    return found


def envelope(example: Any) -> str:
    """The prefix of an answer's object keys: `results[].` (a list), `[].` (a bare array, as
    bulk bills answer), `vendors[].` (a wrapped bulk answer), "" (one object)."""
    if isinstance(example, list):
        return "[]."
    if isinstance(example, dict) and isinstance(example.get("results"), list):
        return "results[]."
    if isinstance(example, dict) and len(example) == 1:
        (key, value) = next(iter(example.items()))
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return f"{key}[]."
    return ""


class Replayer:
    def __init__(self, emulator: Emulator, base_url: str) -> None:
        self.emulator = emulator
        self.base_url = base_url
        self.http = requests.Session()
        self.values = Placeholders(emulator.organization())
        self.session_id = self._login()

    def _login(self) -> str:
        body = {
            "username": DEMO_CREDENTIALS["username"],
            "password": DEMO_CREDENTIALS["password"],
            "organizationId": DEMO_CREDENTIALS["organization_id"],
            "devKey": DEMO_CREDENTIALS["dev_key"],
        }
        answer = self.http.post(f"{self.base_url}/v3/login", json=body, timeout=10)
        answer.raise_for_status()
        session_id: str = answer.json()["sessionId"]
        return session_id

    def fill(self, text: str, endpoint: str) -> str:
        return _VARIABLE.sub(lambda m: self.values.get(m[1], endpoint, self.session_id), text)

    def replay(self, item: Mapping[str, Any]) -> Outcome:
        request = item["request"]
        success = [r for r in item.get("response", []) if r.get("code") in (200, 201, 204)]
        example = success[0] if success else {"code": 200, "originalRequest": request}
        sent = example.get("originalRequest") or request
        method = request["method"]
        template = "/" + "/".join(
            "{}" if p.startswith(":") else p for p in request["url"].get("path", [])
        )
        endpoint = f"{method} {template}"
        variables = {v["key"]: v.get("value") or "" for v in request["url"].get("variable", [])}
        segments = [
            self.fill(variables.get(p[1:], "") if p.startswith(":") else p, endpoint)
            for p in request["url"].get("path", [])
        ]
        path = "/" + "/".join(segments)
        query = [
            (q["key"], self.fill(q.get("value") or "", endpoint))
            for q in sent["url"].get("query", [])
            if not q.get("disabled") and not (q["key"] == "page" and q.get("value") == FILLER)
        ]
        headers = {h["key"]: self.fill(h.get("value") or "", endpoint) for h in sent["header"]}
        if endpoint == "POST /v3/logout":  # end a session of its own, not the replay's
            headers["sessionId"] = self._login()
        raw = (sent.get("body") or {}).get("raw")
        body = self.fill(raw, endpoint).encode() if raw else None
        found = routes.find(method, path)
        outcome = Outcome(
            name=item["name"],
            method=method,
            template=template,
            implemented=found is not None,
            expected_status=int(example["code"]),
            stream=found[0].stream if found is not None else None,
        )
        answer = self.http.request(
            method, self.base_url + path, params=query, headers=headers, data=body, timeout=30
        )
        outcome.status = answer.status_code
        parsed = answer.json() if answer.content else None
        if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
            outcome.code = parsed[0].get("code")
        if outcome.accepted:
            self._compare(outcome, example.get("body"), parsed)
            self.values.learn(endpoint, parsed)
        return outcome

    def _compare(self, outcome: Outcome, example_body: str | None, answer: Any) -> None:
        """Missing: example keys the answer lacks, unless BILL leaves them out while unset.
        Extra: answer keys neither the example nor the object's documented shape has (a field
        BILL added later is documented, see `shapes`)."""
        example = json.loads(example_body) if example_body else None
        expected, got = key_paths(example), key_paths(answer)
        prefix = envelope(example)

        def within(path: str) -> str:
            return path.removeprefix(prefix)

        omitted = dict(OMITTED_ANYWHERE)
        if outcome.method != "GET" and outcome.stream is not None:
            omitted.update(OMITTED_AFTER_WRITE.get(outcome.stream, {}))
        outcome.missing = sorted(p for p in expected - got if omission(omitted, within(p)) is None)
        documented = key_paths(shapes.shape(outcome.stream)) if outcome.stream else set()
        outcome.extra = sorted(p for p in got - expected if within(p) not in documented)

    def close(self) -> None:
        self.http.close()


def replay(collection: Mapping[str, Any], emulator: Emulator, base_url: str) -> list[Outcome]:
    """Every request of the collection, in its order, replayed against a served emulator."""
    replayer = Replayer(emulator, base_url)
    try:
        return [replayer.replay(item) for item in requests_of(collection["item"])]
    finally:
        replayer.close()


def summary(outcomes: Sequence[Outcome]) -> str:
    implemented = [o for o in outcomes if o.implemented]
    accepted = [o for o in implemented if o.accepted]
    equal = [o for o in accepted if o.keys_equal]
    others = [o for o in outcomes if not o.implemented]
    refused = [o for o in others if o.refused_as_not_implemented]
    return (
        f"{len(outcomes)} example requests in BILL's collection: {len(implemented)} on endpoints "
        f"the emulator implements (replayed), {len(accepted)} accepted with the example's "
        f"status, {len(equal)} answered with the example's keys; {len(others)} on endpoints "
        f"it does not implement, {len(refused)} of them answered 404 BDC_1121."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("collection", type=Path, help="BILL's v3 Postman collection (JSON)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every difference")
    args = parser.parse_args(argv)
    collection = json.loads(args.collection.read_text(encoding="utf-8"))
    emulator = Emulator(EmulatorConfig(records=300))
    with emulator.serve() as base_url:
        outcomes = replay(collection, emulator, base_url)
    for outcome in outcomes:
        faulty = (outcome.implemented and not outcome.keys_equal) or not (
            outcome.implemented or outcome.refused_as_not_implemented
        )
        if args.verbose or faulty:
            print(
                f"{outcome.method} {outcome.template} ({outcome.name}): {outcome.status} "
                f"{outcome.code or ''} expected {outcome.expected_status}; "
                f"missing {outcome.missing}; extra {outcome.extra}",
                file=sys.stderr,
            )
    print(summary(outcomes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
