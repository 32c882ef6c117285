"""Domain logic of threads: create (with initial messages), list, retrieve, modify and delete."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from threadkit import storage
from threadkit.contract import errors, ids
from threadkit.contract.models import (
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE_LENGTH,
    CreateThreadRequest,
    ModifyThreadRequest,
    Order,
    Thread,
    ThreadDeleted,
    ToolResources,
)
from threadkit.contract.transfer import ThreadList
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


def metadata_filter(query: Mapping[str, str]) -> dict[str, str]:
    """The ``metadata[<key>]=<value>`` pairs of a list's query string, checked as metadata is."""
    pairs = {
        name[len("metadata[") : -1]: value
        for name, value in query.items()
        if name.startswith("metadata[") and name.endswith("]")
    }
    if len(pairs) > MAX_METADATA_PAIRS:
        raise errors.too_many_properties("metadata", MAX_METADATA_PAIRS, len(pairs))
    for key, value in pairs.items():
        if not key:
            raise errors.property_name_too_short("metadata", 1, 0)
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise errors.property_name_too_long("metadata", MAX_METADATA_KEY_LENGTH, len(key))
        if len(value) > MAX_METADATA_VALUE_LENGTH:
            raise errors.string_too_long(f"metadata[{key}]", MAX_METADATA_VALUE_LENGTH, len(value))
    return pairs


def _position(tenant: str, param: str, value: str | None) -> str | None:
    """Where the thread a cursor names stands in the list; a 400 for anything but a thread of this tenant."""
    if value is None or value == "":
        return None
    if not ids.is_well_formed(value, ids.THREAD_PREFIX):
        raise errors.invalid_cursor(param, value, "thread")
    try:
        return storage.thread_store().list_position(tenant, value)
    except faults.ThreadMissing as exc:
        raise errors.unknown_thread_cursor(param, value) from exc


def list_threads(
    tenant: str,
    *,
    limit: int,
    order: Order,
    after: str | None,
    before: str | None,
    metadata: dict[str, str],
) -> ThreadList:
    """A page of the tenant's threads by creation time; cursors are thread ids, as for messages."""
    try:
        page = storage.thread_store().list_threads(
            tenant,
            order=order,
            limit=limit,
            after=_position(tenant, "after", after),
            before=_position(tenant, "before", before),
            metadata=metadata,
        )
    except faults.StoreError as exc:
        raise store_failure(exc, "") from exc
    data = [to_wire(record) for record in page.records]
    return ThreadList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )
