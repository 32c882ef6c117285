"""Domain logic of messages: what create, list and modify mean, independent of HTTP and of DynamoDB."""

from __future__ import annotations

from typing import Any

from threadkit import errors, ids, store
from threadkit.models import (
    CreateMessageRequest,
    Message,
    MessageList,
    ModifyMessageRequest,
    Order,
)

MAX_ID_LENGTH = 128


def check_thread_id(thread_id: str) -> None:
    if not thread_id.startswith(ids.THREAD_PREFIX):
        raise errors.invalid_id("thread_id", thread_id, "thread")
    if len(thread_id) > MAX_ID_LENGTH:
        raise errors.string_too_long("thread_id", MAX_ID_LENGTH, len(thread_id))


def check_message_id(message_id: str) -> None:
    if not message_id.startswith(ids.MESSAGE_PREFIX):
        raise errors.invalid_id("message_id", message_id, "msg")


def _cursor(param: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not ids.is_well_formed(value, ids.MESSAGE_PREFIX):
        raise errors.invalid_cursor(param, value)
    return value


def _stored_content(request: CreateMessageRequest) -> list[dict[str, Any]]:
    if isinstance(request.content, str):
        return [{"type": "text", "text": {"value": request.content, "annotations": []}}]
    parts: list[dict[str, Any]] = []
    for part in request.content:
        if part.type == "text":
            parts.append({"type": "text", "text": {"value": part.text, "annotations": []}})
        else:
            parts.append(part.model_dump())
    return parts


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


def _store_call_failed(exc: store.StoreError) -> errors.ApiError:
    if isinstance(exc, store.Throttled):
        return errors.rate_limited(retry_after_seconds=1)
    return errors.server_error()


def create_message(tenant: str, thread_id: str, request: CreateMessageRequest) -> Message:
    check_thread_id(thread_id)
    message_id, created_at = ids.default_factory.new(ids.MESSAGE_PREFIX)
    record = store.MessageRecord(
        id=message_id,
        thread_id=thread_id,
        created_at=created_at,
        role=request.role,
        content=_stored_content(request),
        attachments=[a.model_dump() for a in request.attachments or []],
        metadata=dict(request.metadata or {}),
        completed_at=created_at,
    )
    try:
        store.get_store().add(tenant, record)
    except store.TooLarge as exc:
        raise errors.message_too_large(exc.size, exc.limit) from exc
    except store.StoreError as exc:
        raise _store_call_failed(exc) from exc
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
        raise _store_call_failed(exc) from exc
    data = [to_wire(record) for record in page.records]
    return MessageList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )


def modify_message(tenant: str, thread_id: str, message_id: str, request: ModifyMessageRequest) -> Message:
    check_thread_id(thread_id)
    check_message_id(message_id)
    if not ids.is_well_formed(message_id, ids.MESSAGE_PREFIX):
        # No such id was ever minted: not found, without a request.
        raise errors.message_not_found(message_id)
    try:
        record = store.get_store().set_metadata(tenant, thread_id, message_id, request.metadata)
    except store.NotFound as exc:
        raise errors.message_not_found(message_id) from exc
    except store.StoreError as exc:
        raise _store_call_failed(exc) from exc
    return to_wire(record)
