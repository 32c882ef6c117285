"""Domain logic of messages: create, list, retrieve, modify and delete, apart from HTTP and DynamoDB."""

from __future__ import annotations

from typing import Any

from threadkit import storage
from threadkit.contract import answers, errors, ids
from threadkit.contract.models import (
    CreateMessageRequest,
    Message,
    MessageDeleted,
    MessageList,
    ModifyMessageRequest,
    Order,
)
from threadkit.domain import idempotency
from threadkit.domain.addressing import MAX_ID_LENGTH, check_message_id, check_thread_id, cursor
from threadkit.domain.failures import store_failure
from threadkit.storage import faults, schema


def stored_content(request: CreateMessageRequest) -> list[dict[str, Any]]:
    """The content parts as stored and returned: a string is one text part; texts carry annotations."""
    if isinstance(request.content, str):
        return [{"type": "text", "text": {"value": request.content, "annotations": []}}]
    parts: list[dict[str, Any]] = []
    for part in request.content:
        if part.type == "text":
            parts.append({"type": "text", "text": {"value": part.text, "annotations": []}})
        else:
            parts.append(part.model_dump())
    return parts


def new_record(thread_id: str, request: CreateMessageRequest) -> schema.MessageRecord:
    """A new message for ``request``, with a fresh time-ordered id; a 400 if its answer could not be given
    (``answers.MESSAGE_LIMIT``)."""
    message_id, created_at = ids.default_factory.new(ids.MESSAGE_PREFIX)
    record = schema.MessageRecord(
        id=message_id,
        thread_id=thread_id,
        created_at=created_at,
        role=request.role,
        content=stored_content(request),
        attachments=[a.model_dump() for a in request.attachments or []],
        metadata=dict(request.metadata or {}),
        completed_at=created_at,
    )
    size = answers.payload_size(to_wire(record))
    if size > answers.MESSAGE_LIMIT:
        raise errors.message_too_large_to_answer(size, answers.MESSAGE_LIMIT)
    return record


def to_wire(record: schema.MessageRecord) -> Message:
    return Message.model_validate(
        {
            "id": record.id,
            "object": "thread.message",
            "created_at": record.created_at,
            "assistant_id": record.assistant_id,
            "thread_id": record.thread_id,
            "run_id": record.run_id,
            "role": record.role,
            "content": record.content,
            "attachments": record.attachments,
            "metadata": record.metadata,
            "status": record.status,
            "incomplete_details": record.incomplete_details,
            "completed_at": record.completed_at,
            "incomplete_at": record.incomplete_at,
        }
    )


# Bytes of a message's JSON besides its content, attachments and metadata (ids, run and assistant ids of at
# most 128 characters, numbers, keys), with room to spare: with the escaping in Lambda's payload, an answer
# takes at most twice its JSON.
_FIXED_JSON_BYTES = 1024


def fit_page(
    records: list[schema.MessageRecord], *, reversed_: bool, limit: int = answers.PAGE_LIMIT
) -> tuple[list[Message], bool]:
    """The messages of a page that fit in ``limit`` bytes together (at least one), nearest to the cursor
    first; and whether any were left out. ``reversed_``: the records are in the requested order, the one
    nearest to the cursor last."""
    if sum(2 * (r.json_bytes + _FIXED_JSON_BYTES) for r in records) <= limit:
        return [to_wire(record) for record in records], False
    ordered = records[::-1] if reversed_ else records
    kept: list[Message] = []
    total = 0
    for record in ordered:
        message = to_wire(record)
        size = answers.payload_size(message) + 1  # and the comma between messages
        if kept and total + size > limit:
            break
        kept.append(message)
        total += size
    left_out = len(kept) < len(records)
    return (kept[::-1] if reversed_ else kept), left_out


def create_message(
    tenant: str, thread_id: str, request: CreateMessageRequest, *, idempotency_key: str | None = None
) -> Message:
    """Adds a message to a thread; with an ``idempotency_key``, exactly once per key (``idempotency.py``)."""
    check_thread_id(thread_id)
    record = new_record(thread_id, request)
    asked = {"thread_id": thread_id, "body": request.model_dump(mode="json")}
    with idempotency.once(tenant, "create_message", idempotency_key, asked, record.id) as run:
        if run.earlier is not None:
            earlier = _earlier_message(tenant, thread_id, run.earlier, must_exist=run.completed)
            if earlier is not None:
                run.answered_with(earlier.id)
                return earlier
            record = new_record(thread_id, request)
            run.reserve(record.id)
        try:
            storage.message_store().add(tenant, record)
        except faults.StoreError as exc:
            raise store_failure(exc, thread_id, retry_is_safe=run.keyed) from exc
        return to_wire(record)


def _earlier_message(tenant: str, thread_id: str, message_id: str, *, must_exist: bool) -> Message | None:
    """The message an earlier request with the same Idempotency-Key created; None if it was never written
    (and ``must_exist`` is False)."""
    try:
        return to_wire(storage.message_store().get_message(tenant, thread_id, message_id))
    except faults.MessageMissing as exc:
        if must_exist:
            raise errors.message_not_found(message_id) from exc
        return None
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc


def list_messages(
    tenant: str,
    thread_id: str,
    *,
    limit: int,
    order: Order,
    after: str | None,
    before: str | None,
    run_id: str | None,
) -> MessageList:
    check_thread_id(thread_id)
    after = cursor("after", after)
    before = cursor("before", before)
    if run_id is not None and len(run_id) > MAX_ID_LENGTH:
        raise errors.string_too_long("run_id", MAX_ID_LENGTH, len(run_id))
    try:
        page = storage.message_store().page(
            tenant,
            thread_id,
            order=order,
            limit=limit,
            after=after,
            before=before,
            run_id=run_id or None,
            max_bytes=answers.PAGE_LIMIT,
        )
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    data, left_out = fit_page(page.records, reversed_=page.reversed)
    return MessageList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more or left_out,
    )


def _check_ids(thread_id: str, message_id: str) -> bool:
    """Checks both ids; False when the message id is one this API never minted (so: not found)."""
    check_thread_id(thread_id)
    check_message_id(message_id)
    return ids.is_well_formed(message_id, ids.MESSAGE_PREFIX)


def retrieve_message(tenant: str, thread_id: str, message_id: str) -> Message:
    well_formed = _check_ids(thread_id, message_id)
    try:
        if not well_formed:
            storage.thread_store().get_thread(tenant, thread_id)
            raise errors.message_not_found(message_id)
        record = storage.message_store().get_message(tenant, thread_id, message_id)
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc
    return to_wire(record)


def modify_message(tenant: str, thread_id: str, message_id: str, request: ModifyMessageRequest) -> Message:
    well_formed = _check_ids(thread_id, message_id)
    try:
        if not well_formed:
            storage.thread_store().get_thread(tenant, thread_id)
            raise errors.message_not_found(message_id)
        record = storage.message_store().set_metadata(tenant, thread_id, message_id, request.metadata)
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc
    return to_wire(record)


def delete_message(tenant: str, thread_id: str, message_id: str) -> MessageDeleted:
    well_formed = _check_ids(thread_id, message_id)
    try:
        if not well_formed:
            storage.thread_store().get_thread(tenant, thread_id)
            raise errors.message_not_found(message_id)
        storage.message_store().delete_message(tenant, thread_id, message_id)
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc
    return MessageDeleted(id=message_id)
