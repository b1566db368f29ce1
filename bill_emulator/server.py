"""The HTTP layer: bytes in, bytes out. Everything BILL-specific happens in `gateway`.

HTTP/1.1 with keep-alive and a Content-Length on every answer, so a client's connection
reuse is real, and so are the faults that break a connection (reset, truncation).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from bill_emulator.gateway import Outcome, RequestRecord
from bill_emulator.routes import ApiRequest

if TYPE_CHECKING:
    from bill_emulator.emulator import Emulator


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # Our serve() binds fresh ports; allow quick restarts on a fixed CLI port.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut every kept-alive connection, so no client keeps talking to a stopped server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (timeouts, our own resets) is routine here, not an error.
        return


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request log (Emulator.requests) replaces access logs

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = ApiRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        record = RequestRecord(
            method=self.command,
            path=url.path,
            query={k: list(v) for k, v in request.query.items()},
            headers=dict(self.headers.items()),
            started=time.monotonic(),
            body=body,
        )
        try:
            outcome = emulator.gateway.handle(request, record)
        finally:
            # Logged before the answer leaves: once a client has its answer, the request is
            # in `Emulator.requests`.
            record.ended = time.monotonic()
            emulator.log(record)
        self._write(outcome)

    def _write(self, outcome: Outcome) -> None:
        if outcome.connection in ("reset", "reset_after"):
            self._reset()
            return
        self.send_response(outcome.status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        if outcome.connection == "truncate":
            self.wfile.write(outcome.body[: len(outcome.body) // 2])
            self.wfile.flush()
            self._reset()
            return
        self.wfile.write(outcome.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset: the client gets no (further) answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
