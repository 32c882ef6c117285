"""Domain logic of threads: create (with initial messages), retrieve, modify and delete."""

from __future__ import annotations

import time
from typing import Any

from threadkit import storage
from threadkit.contract import errors, ids
from threadkit.contract.models import (
    CreateThreadRequest,
    ModifyThreadRequest,
    Thread,
    ThreadDeleted,
    ToolResources,
)
from threadkit.domain import idempotency, messages
from threadkit.domain.addressing import check_thread_id
from threadkit.domain.failures import store_failure
from threadkit.storage import faults, schema


def _tool_resources(value: ToolResources | None) -> dict[str, Any]:
    return {} if value is None else value.model_dump(exclude_none=True)


def to_wire(record: schema.ThreadRecord) -> Thread:
    return Thread.model_validate(
        {
            "id": record.id,
            "object": "thread",
            "created_at": record.created_at,
            "metadata": record.metadata,
            "tool_resources": record.tool_resources,
        }
    )


def _new_thread(request: CreateThreadRequest) -> tuple[schema.ThreadRecord, list[schema.MessageRecord]]:
    thread_id, created_at = ids.default_factory.new(ids.THREAD_PREFIX)
    record = schema.ThreadRecord(
        id=thread_id,
        created_at=created_at,
        metadata=dict(request.metadata or {}),
        tool_resources=_tool_resources(request.tool_resources),
    )
    # Ids are minted in order, so the initial messages keep the given order, even within one second.
    initial = []
    for index, message in enumerate(request.messages or []):
        try:
            initial.append(messages.new_record(thread_id, message))
        except errors.ApiError as exc:
            raise exc.under(f"messages[{index}].") from None
    return record, initial


def create_thread(tenant: str, request: CreateThreadRequest, *, idempotency_key: str | None = None) -> Thread:
    """Creates a thread with its initial messages; with an ``idempotency_key``, exactly once per key."""
    record, initial = _new_thread(request)
    asked = {"body": request.model_dump(mode="json")}
    with idempotency.once(tenant, "create_thread", idempotency_key, asked, record.id) as run:
        if run.earlier is not None:
            earlier = _earlier_thread(tenant, run.earlier, must_exist=run.completed)
            if earlier is not None:
                run.answered_with(earlier.id)
                return earlier
            record, initial = _new_thread(request)
            run.reserve(record.id)
        try:
            storage.thread_store().create_thread(tenant, record, initial)
        except faults.StoreError as exc:
            raise store_failure(exc, record.id, retry_is_safe=run.keyed) from exc
        return to_wire(record)


def _earlier_thread(tenant: str, thread_id: str, *, must_exist: bool) -> Thread | None:
    try:
        return to_wire(storage.thread_store().get_thread(tenant, thread_id))
    except faults.ThreadMissing as exc:
        if must_exist:
            raise errors.thread_not_found(thread_id) from exc
        return None
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc


def retrieve_thread(tenant: str, thread_id: str) -> Thread:
    check_thread_id(thread_id)
    try:
        record = storage.thread_store().get_thread(tenant, thread_id)
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    return to_wire(record)


def modify_thread(tenant: str, thread_id: str, request: ModifyThreadRequest) -> Thread:
    check_thread_id(thread_id)
    try:
        record = storage.thread_store().update_thread(
            tenant,
            thread_id,
            metadata=request.metadata,
            tool_resources=None
            if request.tool_resources is None
            else _tool_resources(request.tool_resources),
        )
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    return to_wire(record)


def delete_thread(tenant: str, thread_id: str) -> ThreadDeleted:
    check_thread_id(thread_id)
    try:
        storage.thread_store().delete_thread(tenant, thread_id, at=int(time.time()))
    except faults.StoreError as exc:
        raise store_failure(exc, thread_id) from exc
    return ThreadDeleted(id=thread_id)
