"""Domain logic of messages: create, list, retrieve, modify and delete, apart from HTTP and DynamoDB."""

from __future__ import annotations

from typing import Any

from threadkit import errors, ids, store
from threadkit.models import (
    CreateMessageRequest,
    Message,
    MessageDeleted,
    MessageList,
    ModifyMessageRequest,
    Order,
)

MAX_ID_LENGTH = 128
# Seconds a client is told to wait (Retry-After) after a throttled or unavailable store: DynamoDB's throttling
# and brief failures pass within about that, and the client's retries already used the rest of the budget.
RETRY_AFTER_SECONDS = 1


def check_thread_id(thread_id: str) -> None:
    """A 400 for an id that is not a thread id at all; a 404 for one this API never minted."""
    if not thread_id.startswith(ids.THREAD_PREFIX):
        raise errors.invalid_id("thread_id", thread_id, "thread")
    if not ids.is_well_formed(thread_id, ids.THREAD_PREFIX):
        raise errors.thread_not_found(thread_id)


def check_message_id(message_id: str) -> None:
    if not message_id.startswith(ids.MESSAGE_PREFIX):
        raise errors.invalid_id("message_id", message_id, "msg")


def _cursor(param: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not ids.is_well_formed(value, ids.MESSAGE_PREFIX):
        raise errors.invalid_cursor(param, value)
    return value


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


def new_record(thread_id: str, request: CreateMessageRequest) -> store.MessageRecord:
    """A new message for ``request``, with a fresh time-ordered id."""
    message_id, created_at = ids.default_factory.new(ids.MESSAGE_PREFIX)
    return store.MessageRecord(
        id=message_id,
        thread_id=thread_id,
        created_at=created_at,
        role=request.role,
        content=stored_content(request),
        attachments=[a.model_dump() for a in request.attachments or []],
        metadata=dict(request.metadata or {}),
        completed_at=created_at,
    )


def to_wire(record: store.MessageRecord) -> Message:
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


def store_failure(exc: store.StoreError, thread_id: str, message_id: str | None = None) -> errors.ApiError:
    """The client's error for a store failure: what the client can fix is a 4xx; DynamoDB's throttling a 429
    and its other passing faults a 503, both with ``Retry-After`` (the store's retries already ran out);
    anything else a bare 500."""
    if isinstance(exc, store.ThreadMissing):
        return errors.thread_not_found(thread_id)
    if isinstance(exc, store.MessageMissing) and message_id is not None:
        return errors.message_not_found(message_id)
    if isinstance(exc, store.ThreadTooLarge):
        return errors.thread_too_large(exc.size, exc.limit)
    if isinstance(exc, store.TooLarge):
        return errors.message_too_large_to_store(exc.size, exc.limit)
    if isinstance(exc, store.Throttled):
        return errors.rate_limited(retry_after_seconds=RETRY_AFTER_SECONDS)
    if isinstance(exc, store.Unavailable):
        return errors.service_unavailable(retry_after_seconds=RETRY_AFTER_SECONDS)
    return errors.server_error()


def create_message(tenant: str, thread_id: str, request: CreateMessageRequest) -> Message:
    check_thread_id(thread_id)
    record = new_record(thread_id, request)
    try:
        store.get_store().add(tenant, record)
    except store.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    return to_wire(record)


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
    after = _cursor("after", after)
    before = _cursor("before", before)
    if run_id is not None and len(run_id) > MAX_ID_LENGTH:
        raise errors.string_too_long("run_id", MAX_ID_LENGTH, len(run_id))
    try:
        page = store.get_store().page(
            tenant, thread_id, order=order, limit=limit, after=after, before=before, run_id=run_id or None
        )
    except store.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    data = [to_wire(record) for record in page.records]
    return MessageList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
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
            store.get_store().get_thread(tenant, thread_id)
            raise errors.message_not_found(message_id)
        record = store.get_store().get_message(tenant, thread_id, message_id)
    except store.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc
    return to_wire(record)


def modify_message(tenant: str, thread_id: str, message_id: str, request: ModifyMessageRequest) -> Message:
    well_formed = _check_ids(thread_id, message_id)
    try:
        if not well_formed:
            store.get_store().get_thread(tenant, thread_id)
            raise errors.message_not_found(message_id)
        record = store.get_store().set_metadata(tenant, thread_id, message_id, request.metadata)
    except store.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc
    return to_wire(record)


def delete_message(tenant: str, thread_id: str, message_id: str) -> MessageDeleted:
    well_formed = _check_ids(thread_id, message_id)
    try:
        if not well_formed:
            store.get_store().get_thread(tenant, thread_id)
            raise errors.message_not_found(message_id)
        store.get_store().delete_message(tenant, thread_id, message_id)
    except store.StoreError as exc:
        raise store_failure(exc, thread_id, message_id) from exc
    return MessageDeleted(id=message_id)
