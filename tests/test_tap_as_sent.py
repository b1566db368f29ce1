"""Records of large lists go out as the JSON text BILL sent (bill_core.paging.RawRow): the
same Singer records as the SDK's decode-and-encode path, whatever BILL's layout, and records
with a field the schema lacks still lose that field."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest

from bill_emulator import Emulator, EmulatorConfig
from tests.conftest import config_for
from tests.taprun import TapRun, run_tap

_DECODER = msgspec.json.Decoder(float_hook=Decimal)


@pytest.fixture(scope="module")
def large() -> Iterator[Emulator]:
    """6,000 bills: read by windows (the path that writes records as sent)."""
    emulator = Emulator(EmulatorConfig(records=10_000))
    with emulator.serve():
        yield emulator


def exact_records(run: TapRun, stream: str) -> list[dict[str, Any]]:
    """The stream's records decoded from stdout with every number exact; every line of
    stdout must be one whole message."""
    records = []
    for line in run.stdout.splitlines():
        message = _DECODER.decode(line)
        if message["type"] == "RECORD" and message["stream"] == stream:
            assert message["time_extracted"].endswith("Z")
            records.append(message["record"])
    return records


def bookmarks(run: TapRun) -> list[Any]:
    """The bills bookmark of every STATE message (the signpost is the run's start time)."""
    return [
        state.get("bookmarks", {}).get("bills", {}).get("replication_key_value")
        for state in run.states
    ]


def api_bills(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Every bill as the API answers it, numbers exact."""
    client_view = emulator.organization().list("bills")
    return {b["id"]: _DECODER.decode(msgspec.json.encode(b)) for b in client_view}


def test_records_as_sent_equal_the_sdk_path_and_the_api(large: Emulator) -> None:
    config = config_for(large.base_url)
    as_sent = run_tap(config, streams=["bills"], emulator=large)
    assert as_sent.returncode == 0, as_sent.stderr[-3000:]
    # A stream map (even one that only renames) sends records through the SDK's own path.
    mapped_config = {**config, "stream_maps": {"bills": {"__alias__": "bills_mapped"}}}
    mapped = run_tap(mapped_config, streams=["bills"], emulator=large)
    assert mapped.returncode == 0, mapped.stderr[-3000:]

    fast, sdk = exact_records(as_sent, "bills"), exact_records(mapped, "bills_mapped")
    assert len(fast) == 6000
    assert fast == sdk
    assert {r["id"]: r for r in fast} == api_bills(large)
    # The same bookmark after every 100 records (the as-sent path keeps it without the SDK's
    # per-record look-ups).
    assert bookmarks(as_sent) == bookmarks(mapped)
    assert as_sent.bookmark("bills") == max(r["updatedTime"] for r in fast)


def test_fields_outside_the_schema_are_left_out_with_one_warning(large: Emulator) -> None:
    organization = large.organization()
    store = organization.stores["bills"]
    changed = sorted(store.by_id.values(), key=lambda b: b["updatedTime"])[100:160]
    originals = {b["id"]: b for b in changed}
    try:
        for bill in changed:  # stored records are replaced, never changed in place
            store.by_id[bill["id"]] = {**bill, "lateAddedField": {"x": 1}, "another": True}
        run = run_tap(config_for(large.base_url), streams=["bills"], emulator=large)
    finally:
        for bill_id, bill in originals.items():
            store.by_id[bill_id] = bill
    assert run.returncode == 0, run.stderr[-3000:]
    records = {r["id"]: r for r in exact_records(run, "bills")}
    assert len(records) == 6000
    api = api_bills(large)
    # The changed records lost exactly the two fields; every other record is as BILL sent it.
    assert records == api
    warnings = [line for line in run.stderr.splitlines() if "schema does not describe" in line]
    assert len(warnings) == 1, warnings
    assert "another, lateAddedField" in warnings[0]


def test_indented_answers_still_give_one_message_per_line() -> None:
    emulator = Emulator(EmulatorConfig(records=10_000, json_indent=2))
    with emulator.serve():
        run = run_tap(config_for(emulator.base_url), streams=["bills"], emulator=emulator)
        assert run.returncode == 0, run.stderr[-3000:]
        records = exact_records(run, "bills")  # fails on any line that is not a message
        assert len(records) == 6000
        assert {r["id"]: r for r in records} == api_bills(emulator)


class _Proxy(http.server.ThreadingHTTPServer):
    """A forward HTTP proxy (absolute-form request targets) that counts what it carried."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.carried: list[str] = []


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        target = urlsplit(self.path)
        self.server.carried.append(f"{self.command} {target.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream = http.client.HTTPConnection(target.netloc, timeout=30)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_list_pages_go_through_a_configured_proxy(large: Emulator) -> None:
    """Pages sent without requests' layers are only those no proxy applies to: with
    HTTP_PROXY set, every call (sign-in and list pages) goes through the proxy."""
    proxy = _Proxy()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            "HTTP_PROXY": f"http://127.0.0.1:{proxy.server_address[1]}",
            "NO_PROXY": "",
            "no_proxy": "",
            "http_proxy": "",
        }
        env["http_proxy"] = env["HTTP_PROXY"]
        run = run_tap(config_for(large.base_url), streams=["bills"], emulator=large, env=env)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(exact_records(run, "bills")) == 6000
    pages = [c for c in proxy.carried if c == "GET /v3/bills"]
    assert len(pages) >= 60
    assert "POST /v3/login" in proxy.carried
