"""A proxy in front of a DynamoDB endpoint that hands chosen answers back late: the request is carried out
by the store at once, and its answer is held for ``delay`` seconds (longer than the functions' read timeout)
before it goes back, as a slow network or a stalled DynamoDB front end would do.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Late = Callable[[str, dict[str, Any]], bool]
"""Whether to answer late: given the operation (``TransactWriteItems`` ...) and the request's JSON body."""


class LateAnswers:
    """What the proxy did: requests it passed on, and answers it held back."""

    def __init__(self, late: Late, delay: float) -> None:
        self.late = late
        self.delay = delay
        self.passed: list[str] = []
        self.held: list[str] = []
        self._lock = threading.Lock()

    def note(self, operation: str, held: bool) -> None:
        with self._lock:
            self.passed.append(operation)
            if held:
                self.held.append(operation)


@contextmanager
def late_answers(upstream: str, late: Late, delay: float) -> Iterator[tuple[str, LateAnswers]]:
    """A proxy to ``upstream`` on a free loopback port; yields its endpoint and its log."""
    target = urlsplit(upstream)
    log = LateAnswers(late, delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = str(self.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1]
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = {}
            hold = log.late(operation, request)
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                connection.request("POST", self.path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
                status, answer_headers = answer.status, answer.getheaders()
            finally:
                connection.close()
            log.note(operation, hold)
            if hold:
                time.sleep(log.delay)  # carried out already; the answer comes back late
            try:
                self.send_response(status)
                for name, value in answer_headers:
                    if name.lower() not in (
                        "content-length",
                        "connection",
                        "transfer-encoding",
                        "date",
                        "server",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                self.close_connection = True  # the client gave up waiting: exactly the point

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
