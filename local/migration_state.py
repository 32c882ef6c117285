"""What the migration command remembers between runs, and what it shows while it runs.

The state file (JSON, rewritten whole after each thread) holds, per destination, each thread already handled
and, for an import, the ``Idempotency-Key`` it was sent with and the id map the API answered. A destination
is the operation, the base URL and a fingerprint of the key (never the key): the same thread may be imported
into two tenants. A re-run skips what is done; a thread whose import was sent but not answered is sent
again with the same key, and one imported in parts that stopped midway (``parts_sent`` of ``parts``) again
from its first part.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

STATE_NAME = ".threads-api-state.json"
VERSION = 1


class StateError(RuntimeError):
    """The state file exists but cannot be used."""


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:12]


def write_atomically(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file in the same folder: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class State:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._scopes: dict[str, dict[str, dict[str, Any]]] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                scopes = loaded["scopes"]
                if loaded.get("version") != VERSION or not isinstance(scopes, dict):
                    raise ValueError("unknown version")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise StateError(f"the state file {path} cannot be used ({exc}): move it away") from exc
            self._scopes = scopes

    @staticmethod
    def scope(operation: str, base_url: str, api_key: str) -> str:
        return f"{operation} {base_url.rstrip('/')} key:{key_fingerprint(api_key)}"

    def entry(self, scope: str, thread_id: str) -> dict[str, Any] | None:
        return self._scopes.get(scope, {}).get(thread_id)

    def is_done(self, scope: str, thread_id: str) -> bool:
        entry = self.entry(scope, thread_id)
        return entry is not None and entry.get("status") == "done"

    def record(self, scope: str, thread_id: str, **fields: Any) -> None:
        self._scopes.setdefault(scope, {})[thread_id] = fields
        self.save()

    def save(self) -> None:
        text = json.dumps({"version": VERSION, "scopes": self._scopes}, indent=1, ensure_ascii=False)
        write_atomically(self.path, text + "\n")


class Progress:
    """Threads done out of the total and messages done: a bar redrawn in place on a terminal, a plain line
    per thread otherwise."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, tty: bool | None = None, width: int = 28):
        self.total = total
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.width = width
        self.threads = 0
        self.messages = 0
        self.current = ""

    def begin(self, name: str) -> None:
        self.current = name
        self._draw()

    def add_messages(self, count: int) -> None:
        self.messages += count
        self._draw()

    def note(self, text: str) -> None:
        """A line of its own (a retry, a warning), above the bar on a terminal."""
        self._line(text)

    def end(self, name: str, outcome: str) -> None:
        self.threads += 1
        self.current = ""
        if self.tty:
            if outcome.startswith("failed"):
                self._line(f"{name}: {outcome}")
            else:
                self._draw()
        else:
            self._line(f"[{self.threads}/{self.total}] {name}: {outcome} ({self.messages:,} messages so far)")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self._draw()

    def _draw(self) -> None:
        if not self.tty:
            self.stream.flush()
            return
        filled = self.width * self.threads // self.total if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        doing = f"  {self.current}" if self.current else ""
        self.stream.write(
            f"\r\x1b[K[{bar}] {self.threads}/{self.total} threads  {self.messages:,} messages{doing}"
        )
        self.stream.flush()
