"""The HTTP front end: DynamoDB's JSON 1.0 protocol over HTTP/1.1 with keep-alive, and
:class:`EmbeddedDynamoDB`, which runs the whole server in a background thread.

A request is ``POST /`` with ``X-Amz-Target: DynamoDB_20120810.<Operation>`` and a JSON object as
its body. Signatures are not checked: any credentials do. Bodies must come with a Content-Length of
at most 16 MiB; anything else about the framing is refused with a 400 and the connection is closed,
since the next request on it could not be found reliably.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
import traceback
import uuid
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any

from . import operations, queries, tables, transactions
from .database import Database
from .exceptions import DynamoError

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
MAX_BODY = 16 * 1024 * 1024


class Service:
    """The API operations by name, bound to one database."""

    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region
        self._operations: dict[str, Callable[[Database, dict[str, Any]], dict[str, Any]]] = {
            "CreateTable": lambda db, body: tables.create_table(db, region, body),
            "DescribeTable": tables.describe_table,
            "DeleteTable": tables.delete_table,
            "ListTables": tables.list_tables,
            "UpdateTimeToLive": tables.update_time_to_live,
            "DescribeTimeToLive": tables.describe_time_to_live,
            "PutItem": operations.put_item,
            "GetItem": operations.get_item,
            "UpdateItem": operations.update_item,
            "DeleteItem": operations.delete_item,
            "Query": queries.query,
            "Scan": queries.scan,
            "TransactWriteItems": transactions.transact_write_items,
            "TransactGetItems": transactions.transact_get_items,
            "BatchWriteItem": transactions.batch_write_item,
            "BatchGetItem": transactions.batch_get_item,
        }

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        handler = self._operations.get(operation)
        if handler is None:
            raise DynamoError(
                "UnknownOperationException",
                f"Operation {operation!r} is not supported by this embedded DynamoDB",
            )
        try:
            return handler(self.db, body)
        except RecursionError:
            raise DynamoError("ValidationException", "The request is nested too deeply") from None


# Raw UTF-8 cannot carry a lone surrogate, but a JSON escape can; only then is the body checked in full.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(body: dict[str, Any]) -> bool:
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _framing(message: str) -> DynamoError:
    return DynamoError("SerializationException", message)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent unless asked: DynamoDB clients poll and retry, and a line each would drown real errors."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors that the HTTP layer finds itself (a malformed request line, an unsupported method ...),
        in DynamoDB's error shape rather than the HTML page the base class would write."""
        self.close_connection = True
        self._send(code, _framing(message or "The request could not be read").body())

    def do_GET(self) -> None:
        data = f"healthy: dynamodb.{self.server.service.region}.amazonaws.com ".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        started = time.monotonic()
        operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
        try:
            body = self._body()
            if body is None:
                return
            status, answer = 200, self._dispatch(body)
        except DynamoError as exc:
            status, answer = exc.status, exc.body()
        self._send(status, answer)
        if self.server.log_requests:
            elapsed = (time.monotonic() - started) * 1000
            print(f"{operation or '-'} {status} {elapsed:.1f} ms", file=sys.stderr, flush=True)

    def _body(self) -> dict[str, Any] | None:
        """The request's JSON object; None when the connection broke before the body arrived."""
        if self.headers.get("Transfer-Encoding") is not None:
            self.close_connection = True
            raise _framing("Transfer-Encoding is not supported; send a Content-Length")
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) != 1 or not lengths[0].strip().isdigit():
            self.close_connection = True
            raise _framing("The request needs exactly one valid Content-Length header")
        length = int(lengths[0])
        if length > MAX_BODY:
            self.close_connection = True
            raise DynamoError("ValidationException", f"Request size exceeds the limit of {MAX_BODY} bytes")
        try:
            data = self.rfile.read(length)
        except (TimeoutError, OSError):
            self.close_connection = True
            return None
        if len(data) < length:
            self.close_connection = True
            return None
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            raise _framing("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _framing("The request body must be a JSON object")
        if _SURROGATE_ESCAPE.search(data) and _has_lone_surrogate(body):
            raise _framing("The request body holds a lone UTF-16 surrogate, which is not valid Unicode")
        return body

    def _dispatch(self, body: dict[str, Any]) -> dict[str, Any]:
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            raise DynamoError("UnknownOperationException", f"Unknown target {target!r}")
        try:
            return self.server.service.handle(target[len(TARGET_PREFIX) :], body)
        except DynamoError:
            raise
        except Exception:
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            raise DynamoError("InternalServerError", "Internal server error", status=500) from None

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
        self.send_header("x-amz-crc32", str(zlib.crc32(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], service: Service, idle_timeout: float, log_requests: bool
    ) -> None:
        self.service = service
        self.idle_timeout = idle_timeout
        self.log_requests = log_requests
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (or a connection ended by :meth:`close_connections`) is no error."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer would look up the host's fully qualified name here, which can stall on some hosts.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Ends the connections still open (idle keep-alive ones, mostly) so their threads finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class EmbeddedDynamoDB:
    """A DynamoDB-compatible server in this process, on a background thread.

    ``path`` is the SQLite file that keeps the data (created if missing), or None (or ":memory:") to
    keep it in memory. Port 0 picks a free port; :attr:`endpoint` tells which once started.
    """

    def __init__(
        self,
        path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        *,
        log_requests: bool = False,
        idle_timeout: float = 120.0,
    ) -> None:
        self.path = None if path in (None, ":memory:") else path
        self.host = host
        self.region = region
        self._port = port
        self._log_requests = log_requests
        self._idle_timeout = idle_timeout
        self._db: Database | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmbeddedDynamoDB:
        """Opens the database, binds the port and serves in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the server is already running")
        db = Database(self.path)
        try:
            server = _Server(
                (self.host, self._port), Service(db, self.region), self._idle_timeout, self._log_requests
            )
        except BaseException:
            db.close()
            raise
        self._db, self._server = db, server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="embedded-dynamodb", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops accepting, ends open connections, waits for the operation under way and closes the
        database. Safe to call more than once."""
        server, db, thread = self._server, self._db, self._thread
        self._server = self._db = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if thread is not None:
            thread.join()
        if db is not None:
            db.close()

    def __enter__(self) -> EmbeddedDynamoDB:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
