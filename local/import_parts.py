"""Importing a thread too large for one request, in parts (for ``threads-api``, local/migrate.py).

The parts (``thread_docs.split``) go oldest first: the first with ``"more": true``, whose answer carries an
``import_token``; each next one with that token, and with ``more`` until the last, which makes the thread
visible, whole. The thread's id map is the union of every part's. Each part has its own ``Idempotency-Key``
(the thread id, a hash of the part's body, which holds the token, and the part's number); a part sent again
after a lost answer is safe besides, since the API then stores only the messages it has not stored.

An import that stops midway (an interruption, a failure) is not continued: the next run imports the thread
again from its first part. The API removes what the unfinished import wrote once its lease lapses, 15
minutes after its last part; until then a new first part is answered 409 ``import_in_progress``, which is
waited for (Retry-After) within ``--attempts``. An import that lapses during a run (409 ``import_expired``)
is started again once.
"""

from __future__ import annotations

import hashlib
import time

from local.apiclient import ApiError, Endpoint
from local.migration_state import Progress, State
from local.thread_docs import ImportRequest

LEASE_MINUTES = 15  # how long the API keeps an unfinished import after its last part
RESTARTS = 1  # how many times a run starts a lapsed import again


def part_key(thread_id: str, index: int, body: bytes) -> str:
    """The part's Idempotency-Key: the same part of the same import, and nothing else, shares it."""
    digest = hashlib.sha256(body).hexdigest()[:40]
    return f"threads-api-part-{thread_id[:120]}-{digest}-{index + 1}"


class _Parts:
    """One thread's import in parts: sending them, and reading what a failed part means."""

    def __init__(
        self, state: State, progress: Progress, target: Endpoint, scope: str, request: ImportRequest
    ) -> None:
        self.state = state
        self.progress = progress
        self.target = target
        self.scope = scope
        self.request = request
        self.total = len(request.parts)

    def record(self, **fields: object) -> None:
        self.state.record(
            self.scope, self.request.thread_id, idempotency_key=self.request.idempotency_key, **fields
        )

    def done(
        self, message_ids: dict[str, str] | None, detail: str, note: str | None = None
    ) -> tuple[str, str]:
        extra = {} if note is None else {"note": note}
        count = self.request.message_count
        self.record(
            status="done",
            new_thread_id=self.request.thread_id,
            messages=count,
            parts=self.total,
            message_ids=message_ids,
            **extra,
        )
        self.progress.add_messages(count)
        return "done", detail

    def sent_last_before(self) -> bool:
        """Whether an earlier attempt sent this same import's last part (which may have landed)."""
        entry = self.state.entry(self.scope, self.request.thread_id)
        return (
            entry is not None
            and entry.get("status") == "sent"
            and entry.get("idempotency_key") == self.request.idempotency_key
            and entry.get("parts_sent") == self.total
        )

    def send(self, restart_allowed: bool) -> tuple[str, str] | None:
        """Sends every part; the outcome, or None when the import lapsed and is to start again."""
        thread_id = self.request.thread_id
        landed_before = self.sent_last_before()
        token: str | None = None
        merged: dict[str, str] = {}
        for index, part in enumerate(self.request.parts):
            last = index == self.total - 1
            body = part.body(more=not last, token=token)
            self.progress.begin(f"{thread_id} (part {index + 1} of {self.total})")
            self.record(status="sent", parts=self.total, parts_sent=index + 1, sent_at=int(time.time()))
            try:
                answer = self.target.post(
                    body, "threads", "import", idempotency_key=part_key(thread_id, index, body)
                )
            except ApiError as exc:
                return self.failed(exc, index, merged, landed_before, restart_allowed)
            ids = answer.get("message_ids") if isinstance(answer, dict) else None
            thread = answer.get("thread") if isinstance(answer, dict) else None
            token = answer.get("import_token") if isinstance(answer, dict) else None
            if not isinstance(ids, dict) or not isinstance(thread, dict):
                return "failed", "the import answer has no thread and message_ids: is this the threads API?"
            if not last and not isinstance(token, str):
                reason = (
                    f"the API answered part {index + 1} of {self.total} without an import_token: it does not "
                    "import in parts (an older version may have taken that part for the whole thread)"
                )
                self.record(status="failed", reason=reason)
                return "failed", reason
            merged.update(ids)
        return self.done(merged, f"imported {self.request.message_count:,} messages in {self.total} parts")

    def failed(
        self,
        exc: ApiError,
        index: int,
        merged: dict[str, str],
        landed_before: bool,
        restart_allowed: bool,
    ) -> tuple[str, str] | None:
        where = f"part {index + 1} of {self.total}"
        if index == 0 and exc.status == 409 and exc.code == "thread_exists":
            if landed_before:
                return self.done(
                    None,
                    "imported by an earlier attempt whose last answer was lost (no id map)",
                    note="imported by an earlier attempt whose last part's answer was lost: no id map",
                )
            self.record(status="failed", reason=str(exc))
            return "failed", f"already exists on the target ({exc.message})"
        if index == 0 and exc.status == 409 and exc.code == "import_in_progress":
            return "failed", (
                f"{exc}: an unfinished import of this thread holds it (an interrupted run, or a first part "
                f"whose answer was lost); the API lets it go {LEASE_MINUTES} minutes after its last part: "
                "run the same command again then"
            )
        if index > 0 and exc.status == 409 and exc.code == "import_expired":
            if index == self.total - 1 and exc.uncertain_before and self.thread_exists():
                missing = len(self.request.parts[-1].messages_json)
                return self.done(
                    merged,
                    f"imported {self.request.message_count:,} messages in {self.total} parts; the last "
                    f"part's answer was lost, so its {missing:,} messages are not in the id map",
                    note=f"the last part's answer was lost: its {missing} messages are not in message_ids",
                )
            if restart_allowed:
                return None
            return "failed", f"{where}: {exc} (again, after starting over)"
        if 400 <= exc.status < 500 and exc.status not in (408, 409, 429):
            self.record(status="failed", reason=f"{where}: {exc}")
        lapse = (
            f"; the API removes the parts already sent {LEASE_MINUTES} minutes after the last"
            if index > 0
            else ""
        )
        return "failed", f"{where}: {exc}{lapse}"

    def thread_exists(self) -> bool:
        """Whether the thread is visible now (its last part landed although the answer was lost)."""
        try:
            self.target.get("threads", self.request.thread_id)
        except ApiError:
            return False
        return True


def import_in_parts(
    state: State, progress: Progress, target: Endpoint, scope: str, request: ImportRequest
) -> tuple[str, str]:
    """Imports ``request.parts`` in order; returns (status, detail) as ``migrate.import_one`` does."""
    parts = _Parts(state, progress, target, scope, request)
    for round_ in range(RESTARTS + 1):
        outcome = parts.send(restart_allowed=round_ < RESTARTS)
        if outcome is not None:
            return outcome
        progress.note(
            f"{request.thread_id}: the import lapsed (409 import_expired): starting again from part 1"
        )
    return "failed", "the import lapsed"  # not reached: the last round does not start again
