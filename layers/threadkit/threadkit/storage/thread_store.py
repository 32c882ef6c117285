"""Threads in the table: create (with initial messages, all or none), read, modify and delete."""

from __future__ import annotations

import uuid
from typing import Any

from threadkit.storage.access import TableAccess
from threadkit.storage.faults import (
    ConditionFailed,
    ThreadMissing,
    ThreadTooLarge,
    Throttled,
    Unavailable,
)
from threadkit.storage.schema import (
    LIVE_THREAD,
    TRANSACTION_SIZE_LIMIT,
    MessageRecord,
    ThreadRecord,
    dumps,
    is_live_thread,
    item_size,
    message_item,
    thread_from_item,
    thread_item,
    thread_key,
)


class ThreadStore(TableAccess):
    """A tenant's threads. Every method is one request, plus a consistent read when a write's outcome must be
    found out."""

    def create_thread(self, tenant: str, thread: ThreadRecord, messages: list[MessageRecord]) -> None:
        """Writes a thread and its initial messages: all or none, in one request."""
        items = [thread_item(tenant, thread)] + [message_item(tenant, m) for m in messages]
        key = thread_key(tenant, thread.id)
        try:
            if len(items) == 1:
                self._call(
                    "put_item",
                    write=True,
                    TableName=self._table,
                    Item=items[0],
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            total = sum(item_size(item) for item in items)
            if total > TRANSACTION_SIZE_LIMIT:
                raise ThreadTooLarge(total, TRANSACTION_SIZE_LIMIT)
            self._call(
                "transact_write_items",
                write=True,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                    for item in items
                ],
            )
        except ConditionFailed as exc:
            # Thread and message ids never repeat, so the only items these puts can meet are their own: an
            # earlier attempt of this call that DynamoDB carried out, whose answer was lost.
            if exc.found.get(0, items[0]) != items[0]:
                raise
        except (Throttled, Unavailable) as exc:
            self._settle(exc, key, lambda found: found == items[0])

    def update_thread(
        self,
        tenant: str,
        thread_id: str,
        *,
        metadata: dict[str, str] | None,
        tool_resources: dict[str, Any] | None,
    ) -> ThreadRecord:
        """Replaces what is given (None: leaves it) and returns the thread, in one conditional request."""
        sets = ["metadata = if_not_exists(metadata, :empty)"]
        values: dict[str, Any] = {":empty": {"S": "{}"}}
        if metadata is not None:
            sets[0] = "metadata = :m"
            values = {":m": {"S": dumps(metadata)}}
        if tool_resources is not None:
            sets.append("tool_resources = :t")
            values[":t"] = {"S": dumps(tool_resources)}
        key = thread_key(tenant, thread_id)
        wanted = {
            name: values[placeholder]
            for name, placeholder in (("metadata", ":m"), ("tool_resources", ":t"))
            if placeholder in values
        }

        def landed(item: dict[str, Any] | None) -> bool:
            return (
                item is not None and is_live_thread(item) and all(item.get(n) == v for n, v in wanted.items())
            )

        try:
            answer = self._call(
                "update_item",
                write=True,
                TableName=self._table,
                Key=key,
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=LIVE_THREAD,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed as exc:
            raise ThreadMissing(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            return thread_from_item(self._settle(exc, key, landed))
        return thread_from_item(answer["Attributes"])

    def delete_thread(self, tenant: str, thread_id: str, *, at: int) -> None:
        """Marks the thread deleted, in one conditional request; from then on it is missing everywhere.

        The item stays, marked, as the purge's work order: the table's stream hands the change to the purge
        function, which removes the messages and then the item itself. The mark carries a token of this call,
        so that a retry that meets its own earlier attempt is told from a thread deleted by another request.
        """
        key = thread_key(tenant, thread_id)
        token = {"S": uuid.uuid4().hex}

        def landed(item: dict[str, Any] | None) -> bool:
            return item is not None and item.get("deleted_by") == token

        try:
            self._call(
                "update_item",
                write=True,
                TableName=self._table,
                Key=key,
                UpdateExpression="SET deleted_at = :at, purge_round = :zero, deleted_by = :by",
                ConditionExpression=LIVE_THREAD,
                ExpressionAttributeValues={":at": {"N": str(at)}, ":zero": {"N": "0"}, ":by": token},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as exc:
            if not landed(exc.found.get(0)):
                raise ThreadMissing(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(exc, key, landed)
