"""The local server's HTTP/1.1 connections, framed by h11: requests in, answers out, nothing unbounded.

Each connection runs in a thread of its own and reads with ``h11`` (a well-kept HTTP/1.1 state machine),
which refuses bad framing: negative, malformed or oversized chunk sizes, conflicting or invalid
``Content-Length`` headers, a body shorter than declared. Every read is bounded in bytes (``MAX_HEAD`` for a
request's line and headers, ``MAX_BODY`` for its body, which API Gateway caps too) and in time (a read waits
at most ``READ_TIMEOUT``, a whole request must arrive within ``REQUEST_TIMEOUT``, an idle keep-alive
connection is closed after ``IDLE_TIMEOUT``). A request that breaks a rule is answered in the API's error
envelope (400, 408, 413, 414 or 431) and goes no further: no function sees it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import h11

MAX_HEAD = 64 * 1024
MAX_REQUEST_LINE = 16 * 1024
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
READ_TIMEOUT = 30.0
REQUEST_TIMEOUT = 120.0
IDLE_TIMEOUT = 120.0


@dataclass
class Incoming:
    """A request as it came in: method, target, headers in order (repeats kept), body, the peer's address."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    peer: str
    http_version: str


@dataclass
class Outgoing:
    """An answer to write: status, headers in order (repeats allowed), body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Refused(Exception):
    """A request the server will not pass on: answered with ``status`` and ``message`` in the envelope."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def refusal(status: int, message: str, code: str) -> Outgoing:
    """The API's error envelope for a request the server refused before routing it, with a request id like
    every answer."""
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    request_id = f"req_{uuid.uuid4().hex}"
    headers = [("Content-Type", "application/json"), ("x-request-id", request_id)]
    return Outgoing(status, headers, json.dumps(body).encode())


Respond = Callable[[Incoming], Outgoing]


class Listener(socketserver.ThreadingTCPServer):
    """Accepts connections on (host, port) and hands each request to ``respond``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the default of 5 resets clients under modest concurrency

    def __init__(self, address: tuple[str, int], respond: Respond) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.respond = respond
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Connection)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._open.add if open_ else self._open.discard)(connection)

    def close_connections(self) -> None:
        """Ends every open connection (at stop: idle keep-alive connections would hold their threads)."""
        with self._lock:
            for connection in list(self._open):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Connection(socketserver.BaseRequestHandler):
    server: Listener

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers go out at once
        self.server.track(sock, True)
        try:
            self._serve(sock)
        except OSError:
            return  # the peer went away
        finally:
            self.server.track(sock, False)

    def _serve(self, sock: socket.socket) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        while True:
            try:
                incoming = self._read(sock, conn)
            except Refused as refused:
                self._send(sock, conn, refusal(refused.status, refused.message, refused.code), close=True)
                return
            if incoming is None:
                return
            answer = self.server.respond(incoming)
            self._send(sock, conn, answer, close=False, head=incoming.method == "HEAD")
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return  # the client asked to close, or spoke HTTP/1.0
            conn.start_next_cycle()

    def _read(self, sock: socket.socket, conn: h11.Connection) -> Incoming | None:
        """The next request, whole; None when the peer closed (or stayed idle too long) between requests."""
        started: float | None = None
        head = b""
        request: h11.Request | None = None
        body = bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _refused(exc, head) from None
            if event is h11.NEED_DATA:
                idle = request is None and not head
                sock.settimeout(IDLE_TIMEOUT if idle else READ_TIMEOUT)
                if started is not None and time.monotonic() - started > REQUEST_TIMEOUT:
                    raise Refused(408, "The request was not received in time.", "request_timeout")
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    if idle:
                        return None
                    raise Refused(408, "The request was not received in time.", "request_timeout") from None
                if started is None:
                    started = time.monotonic()
                if request is None:
                    head += data[: MAX_HEAD + 1 - len(head)]
                conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            if isinstance(event, h11.Request):
                request = event
                _check_head(event, head)
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY:
                    raise _too_large()
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return Incoming(
                    method=request.method.decode("ascii", "replace"),
                    target=request.target.decode("utf-8", "surrogateescape"),
                    headers=[
                        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers
                    ],
                    body=bytes(body),
                    peer=str(self.client_address[0]),
                    http_version="HTTP/" + request.http_version.decode("ascii"),
                )

    def _send(
        self, sock: socket.socket, conn: h11.Connection, answer: Outgoing, *, close: bool, head: bool = False
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return  # a response already went out, or the connection cannot take one
        headers = [(name, value) for name, value in answer.headers if name.lower() not in _FRAMING]
        headers.append(("Content-Length", str(len(answer.body))))
        if close:
            headers.append(("Connection", "close"))
        try:
            reason = _REASONS.get(answer.status, b"")
            out = conn.send(h11.Response(status_code=answer.status, headers=headers, reason=reason))
            if not head and answer.body:
                out = (out or b"") + (conn.send(h11.Data(data=answer.body)) or b"")
            out = (out or b"") + (conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:
            return
        sock.settimeout(READ_TIMEOUT)
        sock.sendall(out)


_FRAMING = {"content-length", "transfer-encoding", "connection"}
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}


def _check_head(request: h11.Request, head: bytes) -> None:
    """What h11 lets through but this server refuses: a long URL, a long head, both framings at once (a way
    to smuggle one request in another), and a declared body over the limit."""
    if len(request.target) > MAX_REQUEST_LINE:
        raise Refused(414, f"Request URL too long: at most {MAX_REQUEST_LINE} bytes.", "uri_too_long")
    end_of_head = head.find(b"\r\n\r\n")
    if len(head) > MAX_HEAD and (end_of_head == -1 or end_of_head + 4 > MAX_HEAD):
        raise Refused(431, f"Request headers too large: at most {MAX_HEAD} bytes.", "headers_too_large")
    names = [name for name, _ in request.headers]
    if b"content-length" in names and b"transfer-encoding" in names:
        raise Refused(
            400, "The request could not be read: both Content-Length and Transfer-Encoding.", "bad_request"
        )
    for name, value in request.headers:
        if name == b"content-length" and int(value) > MAX_BODY:
            raise _too_large()


def _too_large() -> Refused:
    return Refused(
        413,
        f"Request body too large: this API accepts at most {MAX_BODY} bytes.",
        "request_too_large",
    )


def _refused(exc: h11.RemoteProtocolError, head: bytes) -> Refused:
    """What a framing error means for the client."""
    if exc.error_status_hint == 431:
        first_line = head.split(b"\n", 1)[0]
        if b"\n" not in head or len(first_line) > MAX_REQUEST_LINE:
            return Refused(414, f"Request URL too long: at most {MAX_REQUEST_LINE} bytes.", "uri_too_long")
        return Refused(431, f"Request headers too large: at most {MAX_HEAD} bytes.", "headers_too_large")
    return Refused(400, f"The request could not be read: {exc}.", "bad_request")
