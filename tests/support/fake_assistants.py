"""A small in-memory Assistants API on loopback for the migration command's unit tests: the two standard
routes (retrieve thread, list messages), this API's export and import routes (an import in parts too:
``more``, ``import_token``, parts oldest first, the thread invisible until its last part), and scripted
answers (a 503, a lost answer) in front of them. The bearer key is the tenant."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DROP = -1  # a scripted "status" that closes the connection without an answer
HANDLE = 0  # a scripted "status" that answers as usual (with ``lapse``)
PART_LEASE_HINT = "5"  # Retry-After of a 409 import_in_progress


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    size: int = 0  # of the raw body, in bytes


@dataclass
class Script:
    """Answers ``status`` (``DROP``: no answer) to the next ``times`` requests matching method and path (and
    ``when``, if given); with ``then_handle``, the request is also carried out first (its answer lost or
    replaced). With ``lapse``, the thread's unfinished import lapses first, as if 15 minutes had passed."""

    method: str
    path: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    then_handle: bool = False
    when: Callable[[Seen], bool] | None = None
    lapse: bool = False


@dataclass
class Pending:
    """An import in parts that has not had its last part: invisible to every route."""

    token: str
    thread: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # given id -> new id
    newest: int | None = None
    lapsed: bool = False


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
        self.max_body: int | None = None  # a request larger than this is a 413
        self.pending: dict[tuple[str, str], Pending] = {}  # (tenant, thread id) -> an import in parts
        self.tokens = 0

    def put(self, tenant: str, doc: dict[str, Any]) -> None:
        self.threads[(tenant, doc["thread"]["id"])] = {"thread": doc["thread"], "messages": doc["messages"]}

    def stored(self, tenant: str, thread_id: str) -> dict[str, Any] | None:
        return self.threads.get((tenant, thread_id))

    def requests(self, method: str, suffix: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.endswith(suffix)]

    def lapse(self, tenant: str, thread_id: str) -> None:
        """The thread's unfinished import lapses (15 minutes without a part): its token is no longer taken,
        and a new first part takes the thread over."""
        pending = self.pending.get((tenant, thread_id))
        if pending is not None:
            pending.lapsed = True

    def answer(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.seen.append(seen)
            for script in self.scripts:
                if script.times > 0 and (script.method, script.path) == (seen.method, seen.path):
                    if script.when is not None and not script.when(seen):
                        continue
                    script.times -= 1
                    if script.lapse:
                        tenant = seen.headers.get("authorization", "").removeprefix("Bearer ")
                        self.lapse(tenant, seen.body["thread"]["id"])
                    if script.status == HANDLE:
                        return self._route(seen)
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
        if self.max_body is not None and seen.size > self.max_body:
            return _error(413, f"Request too large: {seen.size} bytes, at most {self.max_body}.")
        if seen.body.get("more") is True or "import_token" in seen.body:
            return self._import_part(tenant, seen.body)  # a part: the key is not replayed, as by the API
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

    def _import_part(self, tenant: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        thread, messages, token = body["thread"], body["messages"], body.get("import_token")
        where = (tenant, thread["id"])
        pending = self.pending.get(where)
        if token is None:
            if where in self.threads:
                return _error(409, f"A thread with id '{thread['id']}' already exists.", "thread_exists")
            if pending is not None and not pending.lapsed:
                status, _, envelope = _error(409, "Another import is in progress.", "import_in_progress")
                return status, {"Retry-After": PART_LEASE_HINT}, envelope
            self.tokens += 1
            pending = self.pending[where] = Pending(f"{self.tokens:032x}", thread)  # what was left: dropped
        elif pending is None or pending.token != token or pending.lapsed:
            return _error(409, "No import is waiting for this 'import_token'.", "import_expired")
        fresh = [m for m in sorted(messages, key=lambda m: m["created_at"]) if m["id"] not in pending.sources]
        if fresh and pending.newest is not None and fresh[0]["created_at"] < pending.newest:
            return _error(400, "Invalid 'messages': the parts of an import must come oldest first.")
        for message in fresh:
            new_id = f"msg_new{tenant[:4]}{len(pending.messages):06d}"
            pending.sources[message["id"]] = new_id
            pending.messages.append({**message, "id": new_id})
            pending.newest = message["created_at"]
        answer: dict[str, Any] = {
            "thread": thread,
            "message_ids": {m["id"]: pending.sources[m["id"]] for m in messages},
        }
        if body.get("more") is True:
            return 200, {}, {**answer, "import_token": pending.token}
        del self.pending[where]
        self.threads[where] = {"thread": thread, "messages": pending.messages}
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
            len(raw),
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
