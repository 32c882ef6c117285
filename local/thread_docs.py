"""Whole threads as documents: reading export files, the import request made from one, and reading a thread
from an API (this one's export route, or the two standard routes any Assistants API has).

A document is ``{"thread": <thread object>, "messages": [<message objects>]}``; the export route's pages add
``object``, ``has_more`` and ``last_id``, and a raw dump may hold a list page ``{"object": "list", "data":
[...]}`` in place of the array. The import request is the thread and the messages as given, as compact JSON:
its size is measured before it is sent. A thread over the request limit (6 MiB) is split into parts, each
under it: the messages oldest first (the API's own order, ``history_order``), as many a part as fit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from local.apiclient import Endpoint

MAX_BODY_BYTES = 6 * 1024 * 1024  # the API's request-size limit (a 413 beyond)
PART_MARGIN_CAP = 64 * 1024  # the most a part of a large thread leaves unused below the limit
TOKEN_ROOM = 64  # the longest import_token the API answers, counted in every part's size
EXPORT_PAGE_LIMIT = 1000  # the export route's largest page
LIST_PAGE_LIMIT = 100  # the standard message list's largest page
_FILE_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


class DocumentError(ValueError):
    """A document that cannot be imported, or a thread that could not be read whole: the reason, in words."""


@dataclass(frozen=True)
class ImportPart:
    """One request of a thread imported in parts: the thread and some of its messages, as compact JSON."""

    thread_json: bytes
    messages_json: tuple[bytes, ...]

    def body(self, *, more: bool, token: str | None) -> bytes:
        """The request: ``more`` while parts follow, ``token`` (the first part's answer) after the first."""
        tail = b',"more":true' if more else b""
        if token is not None:
            tail += b',"import_token":' + json.dumps(token).encode("utf-8")
        messages = b",".join(self.messages_json)
        return b'{"thread":' + self.thread_json + b',"messages":[' + messages + b"]" + tail + b"}"


@dataclass(frozen=True)
class ImportRequest:
    """What ``POST /threads/import`` is sent for one thread: ``body`` in one request, or, when that is over
    the limit, ``parts`` (then ``body`` is empty), oldest messages first."""

    thread_id: str
    body: bytes
    message_count: int
    idempotency_key: str
    parts: tuple[ImportPart, ...] = ()


def is_file_safe_id(thread_id: str) -> bool:
    """A thread id that can name a file as it is (OpenAI's ids and this API's are)."""
    return _FILE_SAFE_ID.fullmatch(thread_id) is not None


def _messages_of(document: dict[str, Any]) -> list[Any]:
    messages = document.get("messages")
    if isinstance(messages, dict):
        if messages.get("has_more") is True:
            raise DocumentError("its message list is one page of a longer list (has_more is true)")
        messages = messages.get("data")
    if not isinstance(messages, list):
        raise DocumentError('"messages" is neither an array of messages nor a list page with "data"')
    return messages


def import_request(document: Any, max_bytes: int = MAX_BODY_BYTES) -> ImportRequest:
    """The import request for ``document``; DocumentError when it is not a whole thread or is too large."""
    if not isinstance(document, dict) or not isinstance(document.get("thread"), dict):
        raise DocumentError('not an export document: no "thread" object')
    thread = document["thread"]
    thread_id = thread.get("id")
    if not isinstance(thread_id, str) or not thread_id:
        raise DocumentError('the "thread" object has no id')
    if document.get("has_more") is True:
        raise DocumentError("the document is one page of a longer export (has_more is true), not the thread")
    messages = _messages_of(document)
    payload = {"thread": thread, "messages": document["messages"]}
    body = _compact(payload)
    canonical = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]
    key = f"threads-api-import-{thread_id[:120]}-{digest}"
    if len(body) <= max_bytes:
        return ImportRequest(thread_id, body, len(messages), key)
    parts = split(thread, messages, max_bytes)
    if len(parts) == 1:  # a list page's cursors made the difference: its messages alone fit
        return ImportRequest(thread_id, parts[0].body(more=False, token=None), len(messages), key)
    return ImportRequest(thread_id, b"", len(messages), key, parts)


def _compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def part_margin(max_bytes: int) -> int:
    """Room each part leaves below the limit: 1/32 of it, at most 64 KiB."""
    return min(PART_MARGIN_CAP, max_bytes // 32)


def history_order(messages: list[Any]) -> list[Any]:
    """The messages oldest first, as the API stores them: by ``created_at``, ties in the document's order,
    read backwards when the document runs newest first (``created_at`` never rising, and falling somewhere).
    """
    stamps: list[int] = []
    for index, message in enumerate(messages):
        stamp = message.get("created_at") if isinstance(message, dict) else None
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise DocumentError(
                f"messages[{index}] has no integer created_at, which orders the parts of a thread too large "
                "for one request; nothing was sent"
            )
        stamps.append(stamp)
    pairs = list(pairwise(stamps))
    newest_first = any(a > b for a, b in pairs) and all(a >= b for a, b in pairs)
    positions = list(range(len(messages)))
    if newest_first:
        positions.reverse()
    positions.sort(key=lambda position: stamps[position])
    return [messages[position] for position in positions]


def split(thread: dict[str, Any], messages: list[Any], max_bytes: int) -> tuple[ImportPart, ...]:
    """The parts of a thread too large for one request: its messages in history order, each part as many as
    fit under ``max_bytes`` less ``part_margin`` (counting ``more`` and the longest ``import_token``);
    DocumentError when a single message does not fit alone."""
    thread_json = _compact(thread)
    frame = len(ImportPart(thread_json, ()).body(more=True, token="0" * TOKEN_ROOM))
    room = max_bytes - part_margin(max_bytes) - frame
    if room <= 0:
        raise DocumentError(
            f"the thread object alone is {len(thread_json):,} bytes of JSON: a request of at most "
            f"{max_bytes:,} bytes has no room for its messages; nothing was sent"
        )
    parts: list[ImportPart] = []
    batch: list[bytes] = []
    used = 0
    for message in history_order(messages):
        encoded = _compact(message)
        if len(encoded) > room:
            given = message.get("id")
            name = f"message {given}" if isinstance(given, str) else "a message"
            raise DocumentError(
                f"{name} alone is {len(encoded):,} bytes of JSON, and a request may carry at most "
                f"{max_bytes:,} bytes ({room:,} for messages, besides the thread and a margin): "
                "the thread cannot be imported, not even in parts; nothing was sent"
            )
        if batch and used + 1 + len(encoded) > room:
            parts.append(ImportPart(thread_json, tuple(batch)))
            batch, used = [], 0
        used += len(encoded) + (1 if batch else 0)
        batch.append(encoded)
    parts.append(ImportPart(thread_json, tuple(batch)))
    return tuple(parts)


def load(path: Path, max_bytes: int = MAX_BODY_BYTES) -> ImportRequest:
    """The import request for the export document in ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"cannot be read ({exc})") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DocumentError(f"is not JSON ({exc})") from exc
    return import_request(document, max_bytes)


def thread_id_in(path: Path) -> str | None:
    """The thread id a document names, if it can be read at all (to name a failed file by its thread)."""
    try:
        thread = json.loads(path.read_text(encoding="utf-8")).get("thread")
        thread_id = thread.get("id") if isinstance(thread, dict) else None
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return thread_id if isinstance(thread_id, str) else None


def expand(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Each file as it is and each folder as its ``*.json`` files (sorted; hidden files such as the state file
    left out); and the paths that name nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.json") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(name)
    return files, missing


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DocumentError(f"the API answered something other than {what}")
    return value


def export_thread(
    api: Endpoint,
    thread_id: str,
    page_limit: int = EXPORT_PAGE_LIMIT,
    on_page: Callable[[int], None] = lambda _: None,
) -> dict[str, Any]:
    """The whole thread from this API's export route, every page merged into one document."""
    thread: dict[str, Any] | None = None
    messages: list[Any] = []
    after: str | None = None
    while True:
        page = _dict(
            api.get("threads", thread_id, "export", query={"after": after, "limit": page_limit}), "a page"
        )
        page_thread = _dict(page.get("thread"), "a thread in the export page")
        batch = page.get("messages")
        if not isinstance(batch, list):
            raise DocumentError("an export page has no message array")
        if thread is None:
            thread = page_thread
        elif page_thread.get("id") != thread.get("id"):
            raise DocumentError("the export pages name different threads")
        messages.extend(batch)
        on_page(len(batch))
        if page.get("has_more") is not True:
            break
        last_id = page.get("last_id")
        if not isinstance(last_id, str) or last_id == after:
            raise DocumentError("the export did not advance (has_more without a new last_id)")
        after = last_id
    last = messages[-1].get("id") if messages and isinstance(messages[-1], dict) else None
    return {
        "object": "thread.export",
        "thread": thread,
        "messages": messages,
        "has_more": False,
        "last_id": last,
    }


def read_thread(
    api: Endpoint, thread_id: str, on_page: Callable[[int], None] = lambda _: None
) -> dict[str, Any]:
    """The whole thread from the two standard routes: retrieve, then every message list page, oldest first."""
    thread = _dict(api.get("threads", thread_id), "a thread")
    messages: list[Any] = []
    after: str | None = None
    while True:
        query: dict[str, str | int | None] = {"limit": LIST_PAGE_LIMIT, "order": "asc", "after": after}
        page = _dict(api.get("threads", thread_id, "messages", query=query), "a list page")
        data = page.get("data")
        if not isinstance(data, list):
            raise DocumentError("a message list page has no data array")
        messages.extend(data)
        on_page(len(data))
        if page.get("has_more") is not True:
            break
        last_id = page.get("last_id")
        if not isinstance(last_id, str) and data and isinstance(data[-1], dict):
            last_id = data[-1].get("id")
        if not data or not isinstance(last_id, str) or last_id == after:
            raise DocumentError("the message list did not advance (has_more without a new last_id)")
        after = last_id
    return {"thread": thread, "messages": messages}
