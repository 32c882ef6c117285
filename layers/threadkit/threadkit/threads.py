"""Domain logic of threads: create (with initial messages), retrieve, modify and delete."""

from __future__ import annotations

import time
from typing import Any

from threadkit import ids, messages, store
from threadkit.models import CreateThreadRequest, ModifyThreadRequest, Thread, ThreadDeleted, ToolResources


def _tool_resources(value: ToolResources | None) -> dict[str, Any]:
    return {} if value is None else value.model_dump(exclude_none=True)


def to_wire(record: store.ThreadRecord) -> Thread:
    return Thread.model_validate(
        {
            "id": record.id,
            "object": "thread",
            "created_at": record.created_at,
            "metadata": record.metadata,
            "tool_resources": record.tool_resources,
        }
    )


def create_thread(tenant: str, request: CreateThreadRequest) -> Thread:
    thread_id, created_at = ids.default_factory.new(ids.THREAD_PREFIX)
    record = store.ThreadRecord(
        id=thread_id,
        created_at=created_at,
        metadata=dict(request.metadata or {}),
        tool_resources=_tool_resources(request.tool_resources),
    )
    # Ids are minted in order, so the initial messages keep the given order, even within one second.
    initial = [messages.new_record(thread_id, message) for message in request.messages or []]
    try:
        store.get_store().create_thread(tenant, record, initial)
    except store.StoreError as exc:
        raise messages.store_failure(exc, thread_id) from exc
    return to_wire(record)


def retrieve_thread(tenant: str, thread_id: str) -> Thread:
    messages.check_thread_id(thread_id)
    try:
        record = store.get_store().get_thread(tenant, thread_id)
    except store.StoreError as exc:
        raise messages.store_failure(exc, thread_id) from exc
    return to_wire(record)


def modify_thread(tenant: str, thread_id: str, request: ModifyThreadRequest) -> Thread:
    messages.check_thread_id(thread_id)
    try:
        record = store.get_store().update_thread(
            tenant,
            thread_id,
            metadata=request.metadata,
            tool_resources=None
            if request.tool_resources is None
            else _tool_resources(request.tool_resources),
        )
    except store.StoreError as exc:
        raise messages.store_failure(exc, thread_id) from exc
    return to_wire(record)


def delete_thread(tenant: str, thread_id: str) -> ThreadDeleted:
    messages.check_thread_id(thread_id)
    try:
        store.get_store().delete_thread(tenant, thread_id, at=int(time.time()))
    except store.StoreError as exc:
        raise messages.store_failure(exc, thread_id) from exc
    return ThreadDeleted(id=thread_id)
