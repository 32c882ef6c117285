"""A small in-memory Assistants API on loopback for the migration command's unit tests: the two standard
routes (retrieve thread, list messages), this API's export and import routes, and scripted answers (a 503,
a lost answer) in front of them. The bearer key is the tenant."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DROP = -1  # a scripted "status" that closes the connection without an answer


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Script:
    """Answers ``status`` (``DROP``: no answer) to the next ``times`` requests matching method and path; with
    ``then_handle``, the request is also carried out first (its answer lost or replaced)."""

    method: str
    path: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    then_handle: bool = False


def thread_object(thread_id: str, created_at: int = 1_700_000_000, **metadata: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": created_at,
        "metadata": dict(metadata),
        "tool_resources": {},
    }


def message_object(thread_id: str, n: int, text: str | None = None) -> dict[str, Any]:
    return {
        "id": f"msg_{thread_id[-6:]}{n:06d}",
        "object": "thread.message",
        "created_at": 1_700_000_000 + n,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": 1_700_000_000 + n,
        "incomplete_at": None,
        "role": "user" if n % 2 == 0 else "assistant",
        "content": [{"type": "text", "text": {"value": text or f"message {n}", "annotations": []}}],
        "assistant_id": None if n % 2 == 0 else "asst_abc",
        "run_id": None if n % 2 == 0 else "run_abc",
        "attachments": [],
        "metadata": {},
    }


def document(thread_id: str, count: int, **extra: Any) -> dict[str, Any]:
    """An export document of a thread of ``count`` messages."""
    messages = [message_object(thread_id, n) for n in range(count)]
    return {"object": "thread.export", "thread": thread_object(thread_id), "messages": messages, **extra}


def _error(status: int, message: str, code: str | None = None) -> tuple[int, dict[str, str], Any]:
    envelope = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return status, {}, envelope


class FakeAssistants:
    def __init__(self) -> None:
        self.threads: dict[tuple[str, str], dict[str, Any]] = {}  # (tenant, thread id) -> {thread, messages}
        self.keys: dict[tuple[str, str], dict[str, Any]] = {}  # (tenant, Idempotency-Key) -> answer
        self.scripts: list[Script] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.base_url = ""
        self.replay = True  # False: a server that no longer remembers Idempotency-Keys

    def put(self, tenant: str, doc: dict[str, Any]) -> None:
        self.threads[(tenant, doc["thread"]["id"])] = {"thread": doc["thread"], "messages": doc["messages"]}

    def stored(self, tenant: str, thread_id: str) -> dict[str, Any] | None:
        return self.threads.get((tenant, thread_id))

    def requests(self, method: str, suffix: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.endswith(suffix)]

    def answer(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.seen.append(seen)
            for script in self.scripts:
                if script.times > 0 and (script.method, script.path) == (seen.method, seen.path):
                    script.times -= 1
                    if script.then_handle:
                        self._route(seen)
                    return script.status, script.headers, script.body
            return self._route(seen)

    def _route(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        auth = seen.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        tenant = auth.removeprefix("Bearer ")
        parts = seen.path.removeprefix("/v1/").split("/")
        if seen.method == "POST" and parts == ["threads", "import"]:
            return self._import(tenant, seen)
        if seen.method != "GET" or parts[0] != "threads" or len(parts) not in (2, 3):
            return _error(404, f"Invalid URL ({seen.method} {seen.path})")
        stored = self.threads.get((tenant, parts[1]))
        if stored is None:
            return _error(404, f"No thread found with id '{parts[1]}'.")
        messages: list[dict[str, Any]] = stored["messages"]
        if len(parts) == 2:
            return 200, {}, stored["thread"]
        after = seen.query.get("after")
        start = next((n + 1 for n, m in enumerate(messages) if m["id"] == after), 0) if after else 0
        if parts[2] == "messages":
            assert seen.query.get("order") == "asc"
            page = messages[start : start + int(seen.query.get("limit", "20"))]
            has_more = start + len(page) < len(messages)
            first, last = (page[0]["id"], page[-1]["id"]) if page else (None, None)
            body = {"object": "list", "data": page, "first_id": first, "last_id": last, "has_more": has_more}
            return 200, {}, body
        if parts[2] == "export":
            page = messages[start : start + int(seen.query.get("limit", "100"))]
            has_more = start + len(page) < len(messages)
            last_id = page[-1]["id"] if page else None
            body = {"object": "thread.export", "thread": stored["thread"], "messages": page}
            return 200, {}, {**body, "has_more": has_more, "last_id": last_id}
        return _error(404, f"Invalid URL ({seen.method} {seen.path})")

    def _import(self, tenant: str, seen: Seen) -> tuple[int, dict[str, str], Any]:
        key = seen.headers.get("idempotency-key")
        if key is not None and (tenant, key) in self.keys:
            return 200, {}, self.keys[(tenant, key)]
        thread = seen.body["thread"]
        messages = seen.body["messages"]
        if isinstance(messages, dict):
            messages = messages["data"]
        if (tenant, thread["id"]) in self.threads:
            return _error(409, f"A thread with id '{thread['id']}' already exists.", "thread_exists")
        ids = {m["id"]: f"msg_new{tenant[:4]}{n:06d}" for n, m in enumerate(messages)}
        stored = [{**m, "id": ids[m["id"]]} for m in messages]
        self.threads[(tenant, thread["id"])] = {"thread": thread, "messages": stored}
        answer = {"thread": thread, "message_ids": ids}
        if key is not None and self.replay:
            self.keys[(tenant, key)] = answer
        return 200, {}, answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        seen = Seen(
            self.command,
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            {k.lower(): v for k, v in self.headers.items()},
            json.loads(raw) if raw else None,
        )
        status, headers, body = self.server.fake.answer(seen)
        if status == DROP:
            self.close_connection = True
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAssistants) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def serving() -> Iterator[FakeAssistants]:
    """The fake on a free loopback port (``fake.base_url`` ends in /v1) until the block ends."""
    fake = FakeAssistants()
    server = _Server(fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)
