"""Whole threads in and out: import (all or nothing, ``storage/import_store.py``) and export, page by page.

An import keeps the thread's id, ``created_at``, metadata and tool resources, and of each message everything
but its id: messages get new ids, minted in ``created_at`` order, so that the id order (which is the list
order) is the history's order; the answer maps each given id to its new one. Each imported message keeps its
given id in the table (``source_id``), so a repeat with the same ``Idempotency-Key`` answers the same map.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from itertools import pairwise
from typing import Any

from threadkit import storage
from threadkit.contract import answers, errors, ids
from threadkit.contract.transfer import ImportedMessage, ImportThreadRequest, ThreadExport, ThreadImported
from threadkit.domain import idempotency, messages, threads
from threadkit.domain.addressing import check_thread_id, cursor
from threadkit.domain.failures import store_failure
from threadkit.storage import client, faults, schema
from threadkit.storage.import_store import ImportStore

SOURCE_ID = "source_id"
LEASE_MARGIN_SECONDS = 60
DEFAULT_LEASE_SECONDS = 900
PART_LEASE_SECONDS = 900
"""How long an import in parts waits for its next part before another import may take the thread over."""


def history_order(given: list[ImportedMessage]) -> list[ImportedMessage]:
    """The messages oldest first: by ``created_at``, ties in the document's order, which is read newest first
    when the document runs that way (a ``desc`` page: ``created_at`` never rising, and falling somewhere)."""
    stamps = [message.created_at for message in given]
    newest_first = any(a > b for a, b in pairwise(stamps)) and all(a >= b for a, b in pairwise(stamps))
    ordered = given[::-1] if newest_first else given
    return sorted(ordered, key=lambda message: message.created_at)


def _record(thread_id: str, given: ImportedMessage) -> schema.MessageRecord:
    message_id, _ = ids.default_factory.new(ids.MESSAGE_PREFIX)
    return schema.MessageRecord(
        id=message_id,
        thread_id=thread_id,
        created_at=given.created_at,
        role=given.role,
        content=[part.model_dump(mode="json") for part in given.content],
        attachments=[a.model_dump(mode="json") for a in given.attachments or []],
        metadata=dict(given.metadata or {}),
        assistant_id=given.assistant_id,
        run_id=given.run_id,
        status=given.status,
        incomplete_details=None
        if given.incomplete_details is None
        else given.incomplete_details.model_dump(mode="json"),
        completed_at=given.completed_at,
        incomplete_at=given.incomplete_at,
    )


def _message_items(
    tenant: str, thread_id: str, request: ImportThreadRequest
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The message items to write, in history order, and the map of given ids to new ones; a 400 for a
    message that could not be stored or answered, or a given id that appears twice."""
    index_of = {id(message): index for index, message in enumerate(request.messages)}
    items: list[dict[str, Any]] = []
    mapping: dict[str, str] = {}
    for given in history_order(request.messages):
        prefix = f"messages[{index_of[id(given)]}]."
        if given.id in mapping:
            raise errors.duplicate_id(prefix + "id", given.id)
        record = _record(thread_id, given)
        size = answers.payload_size(messages.to_wire(record))
        if size > answers.MESSAGE_LIMIT:
            raise errors.message_too_large_to_answer(size, answers.MESSAGE_LIMIT).under(prefix)
        try:
            item = schema.message_item(tenant, record)
        except faults.TooLarge as exc:
            raise errors.message_too_large_to_store(exc.size, exc.limit).under(prefix) from None
        item[SOURCE_ID] = {"S": given.id}
        items.append(item)
        mapping[given.id] = record.id
    return items, mapping


def _thread_record(request: ImportThreadRequest) -> schema.ThreadRecord:
    given = request.thread
    if given.id is None:
        thread_id, now = ids.default_factory.new(ids.THREAD_PREFIX)
    else:
        if not ids.is_well_formed(given.id, ids.THREAD_PREFIX):
            raise errors.invalid_cursor("thread.id", given.id, "thread")
        thread_id, now = given.id, int(time.time())
    return schema.ThreadRecord(
        id=thread_id,
        created_at=now if given.created_at is None else given.created_at,
        metadata=dict(given.metadata or {}),
        tool_resources={}
        if given.tool_resources is None
        else given.tool_resources.model_dump(exclude_none=True),
    )


def import_thread(
    tenant: str, request: ImportThreadRequest, *, idempotency_key: str | None = None
) -> ThreadImported:
    """Imports a whole thread, or one part of it (``more``, ``import_token``); with an ``idempotency_key``,
    exactly once per key."""
    if request.import_token is not None and request.thread.id is None:
        raise errors.missing_parameter("thread.id")
    record = _thread_record(request)
    items, mapping = _message_items(tenant, record.id, request)
    part = request.more or request.import_token is not None
    asked = {"body": request.model_dump(mode="json")}
    with idempotency.once(tenant, "import_thread", idempotency_key, asked, record.id) as run:
        if run.earlier is not None:
            earlier = None if part else _earlier_import(tenant, run.earlier)
            if earlier is not None:
                run.answered_with(earlier.thread.id)
                return earlier
            if run.completed and not part:
                raise errors.thread_not_found(run.earlier)
            if not run.completed:
                run.reserve(record.id)
        token = _write(
            tenant, record, items, mapping, request, key=idempotency_key, retry_is_safe=run.keyed or part
        )
    return ThreadImported(thread=threads.to_wire(record), message_ids=mapping, import_token=token)


def _lease_until(now: int, *, waiting: bool) -> int:
    """Until when an import holds its thread: this invocation's time, or between parts ``PART_LEASE``."""
    if waiting:
        return now + PART_LEASE_SECONDS
    left = client.seconds_left()
    return now + int(DEFAULT_LEASE_SECONDS if left is None else left) + LEASE_MARGIN_SECONDS


def _write(
    tenant: str,
    record: schema.ThreadRecord,
    items: list[dict[str, Any]],
    mapping: dict[str, str],
    request: ImportThreadRequest,
    *,
    key: str | None,
    retry_is_safe: bool,
) -> str | None:
    """Writes the thread (or one part of it); the token that continues it while ``more`` parts follow."""
    store = storage.import_store()
    now = int(time.time())
    first = request.import_token is None
    token = _first_token(tenant, key) if first else str(request.import_token)
    try:
        if first:
            store.begin(tenant, record.id, owner=token, lease_until=_lease_until(now, waiting=False), now=now)
        else:
            _skip_stored(store, tenant, record.id, items, mapping)
        stamps = [int(item["created_at"]["N"]) for item in items]
        if not first:
            store.extend(
                tenant,
                record.id,
                owner=token,
                lease_until=_lease_until(now, waiting=False),
                oldest=min(stamps, default=None),
            )
    except faults.ImportLost as exc:
        if not items and not request.more and _is_live(tenant, record.id):
            return None  # the last part sent again: its earlier attempt finished the import
        raise _import_failure(exc, record.id, retry_is_safe=retry_is_safe) from exc
    except faults.StoreError as exc:
        raise _import_failure(exc, record.id, retry_is_safe=retry_is_safe) from exc
    try:
        if first:
            store.clear(tenant, record.id)
        store.put_messages(items)
        if request.more:
            store.extend(
                tenant,
                record.id,
                owner=token,
                lease_until=_lease_until(now, waiting=True),
                newest=max(stamps, default=None),
            )
            return token
        store.finish(tenant, record.id, schema.thread_item(tenant, record), owner=token)
    except faults.StoreError as exc:
        if first and not exc.uncertain and not isinstance(exc, faults.ImportRunning):
            _give_up(store, tenant, record.id, token, now)
        raise _import_failure(exc, record.id, retry_is_safe=retry_is_safe) from exc
    except BaseException:
        if first:
            _give_up(store, tenant, record.id, token, now)
        raise
    return None


def _first_token(tenant: str, key: str | None) -> str:
    """The token of a new import: random, or with an Idempotency-Key the same for every retry of that
    first request (so a retry whose first attempt's answer was lost continues that attempt's import)."""
    if key is None:
        return secrets.token_hex(16)
    return hashlib.sha256(f"import\x00{tenant}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _is_live(tenant: str, thread_id: str) -> bool:
    try:
        storage.thread_store().get_thread(tenant, thread_id)
    except faults.ThreadMissing:
        return False
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    return True


def _skip_stored(
    store: ImportStore, tenant: str, thread_id: str, items: list[dict[str, Any]], mapping: dict[str, str]
) -> None:
    """A part sent again (its answer was lost): its messages already stored keep their ids and are not
    written twice; ``items`` and ``mapping`` are changed in place."""
    stored = store.source_ids(tenant, thread_id, SOURCE_ID)
    if not stored:
        return
    items[:] = [item for item in items if item[SOURCE_ID]["S"] not in stored]
    for given in mapping:
        if given in stored:
            mapping[given] = stored[given]


def _import_failure(exc: faults.StoreError, thread_id: str, *, retry_is_safe: bool) -> errors.ApiError:
    if isinstance(exc, faults.ThreadExists):
        return (
            errors.thread_being_deleted(thread_id) if exc.being_deleted else errors.thread_exists(thread_id)
        )
    if isinstance(exc, faults.ImportRunning):
        return errors.import_in_progress(thread_id)
    if isinstance(exc, faults.ImportLost):
        return errors.import_token_unknown(thread_id)
    if isinstance(exc, faults.PartOutOfOrder):
        return errors.part_out_of_order(exc.oldest, exc.newest)
    return store_failure(exc, thread_id, retry_is_safe=retry_is_safe)


def _give_up(store: ImportStore, tenant: str, thread_id: str, owner: str, now: int) -> None:
    """Hands what the import wrote to the purge; if even that fails, the marker's TTL does it later."""
    try:
        store.abandon(tenant, thread_id, owner=owner, at=now)
    except faults.StoreError:
        return


def _earlier_import(tenant: str, thread_id: str) -> ThreadImported | None:
    """What an earlier import with the same Idempotency-Key made, rebuilt from the table; None if it made
    nothing."""
    try:
        thread = storage.thread_store().get_thread(tenant, thread_id)
        sources = storage.import_store().source_ids(tenant, thread_id, SOURCE_ID)
    except faults.ThreadMissing:
        return None
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    return ThreadImported(thread=threads.to_wire(thread), message_ids=sources)


def export_thread(tenant: str, thread_id: str, *, after: str | None, limit: int) -> ThreadExport:
    """One page of a thread's export: the thread, and its messages ascending from ``after``."""
    check_thread_id(thread_id)
    after = cursor("after", after)
    try:
        thread = threads.to_wire(storage.thread_store().get_thread(tenant, thread_id))
        page = storage.message_store().page(
            tenant, thread_id, order="asc", limit=limit, after=after, max_bytes=EXPORT_PAGE_LIMIT
        )
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    data, left_out = messages.fit_page(page.records, reversed_=False, limit=EXPORT_PAGE_LIMIT)
    return ThreadExport(
        thread=thread,
        messages=data,
        has_more=page.has_more or left_out,
        last_id=data[-1].id if data else None,
    )


EXPORT_PAGE_LIMIT = answers.PAGE_LIMIT - 200_000
"""Room in an export page for its thread (at most 16 metadata pairs and a few tool resources)."""
