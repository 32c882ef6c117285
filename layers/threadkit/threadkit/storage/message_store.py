"""Messages in the table: add, read, set metadata, delete, and pages in either order between cursors.

Every page is a single ``Query`` for ``limit + 1`` items (the extra item tells ``has_more`` exactly), after a
read of the thread's item (a query cannot also check it).
"""

from __future__ import annotations

from typing import Any, Literal

from threadkit.contract import ids
from threadkit.storage.access import TableAccess
from threadkit.storage.faults import ConditionFailed, MessageMissing, ThreadMissing, Throttled, Unavailable
from threadkit.storage.schema import (
    LIVE_THREAD,
    RUN_INDEX,
    MessageRecord,
    Page,
    dumps,
    is_live_thread,
    message_from_item,
    message_item,
    message_key,
    partition_key,
    thread_key,
)


class MessageStore(TableAccess):
    """The messages of a tenant's live threads. Every method is at most two requests, plus a consistent read
    when a write's outcome must be found out."""

    def add(self, tenant: str, record: MessageRecord) -> None:
        """Writes a new message into a live thread; one transaction checks the thread and writes the
        message (never over another: ids are unique, and the write is conditional)."""
        item = message_item(tenant, record)
        try:
            self._call(
                "transact_write_items",
                write=True,
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": thread_key(tenant, record.thread_id),
                            "ConditionExpression": LIVE_THREAD,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
            )
        except ConditionFailed as exc:
            if exc.failed != (1,):
                raise ThreadMissing(record.thread_id) from exc
            # Only the put failed: the message's id is ours alone (ids.py), so the item that exists is this
            # very write, carried out by an attempt whose answer was lost.
        except (Throttled, Unavailable) as exc:
            self._settle(exc, message_key(tenant, record.thread_id, record.id), lambda found: found == item)

    def get_message(self, tenant: str, thread_id: str, message_id: str) -> MessageRecord:
        """The message, read with its thread in one consistent transaction."""
        answer = self._call(
            "transact_get_items",
            TransactItems=[
                {"Get": {"TableName": self._table, "Key": thread_key(tenant, thread_id)}},
                {"Get": {"TableName": self._table, "Key": message_key(tenant, thread_id, message_id)}},
            ],
        )
        thread, message = (response.get("Item") for response in answer["Responses"])
        if not is_live_thread(thread):
            raise ThreadMissing(thread_id)
        if not message:
            raise MessageMissing(message_id)
        return message_from_item(message)

    def set_metadata(
        self, tenant: str, thread_id: str, message_id: str, metadata: dict[str, str] | None
    ) -> MessageRecord:
        """Replaces a message's metadata (None: leaves it) and returns the message.

        Two requests: the thread's item, then one conditional ``UpdateItem`` that returns the new state. A
        message missing from this thread fails the condition, so no item is ever created. (A transaction
        could check the thread in the same request, but cannot return the updated item.)
        """
        self.get_thread(tenant, thread_id)
        if metadata is None:
            expression, value = "SET metadata = if_not_exists(metadata, :m)", "{}"
        else:
            expression, value = "SET metadata = :m", dumps(metadata)
        key = message_key(tenant, thread_id, message_id)

        def landed(item: dict[str, Any] | None) -> bool:
            return item is not None and (metadata is None or item.get("metadata") == {"S": value})

        try:
            answer = self._call(
                "update_item",
                write=True,
                TableName=self._table,
                Key=key,
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":m": {"S": value}},
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed as exc:
            raise MessageMissing(message_id) from exc
        except (Throttled, Unavailable) as exc:
            return message_from_item(self._settle(exc, key, landed))
        return message_from_item(answer["Attributes"])

    def delete_message(self, tenant: str, thread_id: str, message_id: str) -> None:
        """Deletes a message of a live thread: one transaction checks the thread and deletes the message
        if it exists. A retry that finds the message gone after an earlier attempt that may have been
        carried out counts as that attempt."""
        key = message_key(tenant, thread_id, message_id)
        try:
            self._call(
                "transact_write_items",
                write=True,
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": thread_key(tenant, thread_id),
                            "ConditionExpression": LIVE_THREAD,
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": key,
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ],
            )
        except ConditionFailed as exc:
            if 0 in exc.failed:
                raise ThreadMissing(thread_id) from exc
            if not exc.uncertain:
                raise MessageMissing(message_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(exc, key, lambda found: found is None)

    def page(
        self,
        tenant: str,
        thread_id: str,
        *,
        order: Literal["asc", "desc"],
        limit: int,
        after: str | None = None,
        before: str | None = None,
        run_id: str | None = None,
        max_bytes: int | None = None,
    ) -> Page:
        """One page of a live thread's messages in ``order``, strictly between the cursors that are given.

        ``after`` walks away from its cursor in ``order``; ``before`` alone takes the ``limit`` messages
        nearest to its cursor on the other side, still returned in ``order``. ``has_more`` says whether
        messages exist past the page on the side away from the cursor. Cursors must be well-formed ids.
        Two requests: the thread's item (a query cannot also read it), then one ``Query``.

        ``max_bytes``: reading stops early, with ``has_more``, once the messages read (at least two) surely
        exceed that many bytes of JSON; the caller then drops at least the last of them.
        """
        self.get_thread(tenant, thread_id)
        ascending = order == "asc"
        low: str | None = ids.lowest(ids.MESSAGE_PREFIX)
        high: str | None = ids.highest(ids.MESSAGE_PREFIX)
        if after is not None:
            if ascending:
                low = ids.neighbour(after, ids.MESSAGE_PREFIX, +1)
            else:
                high = ids.neighbour(after, ids.MESSAGE_PREFIX, -1)
        if before is not None:
            if ascending:
                high = ids.neighbour(before, ids.MESSAGE_PREFIX, -1)
            else:
                low = ids.neighbour(before, ids.MESSAGE_PREFIX, +1)
        if low is None or high is None or low > high:
            return Page([], has_more=False)

        # With `before` alone the page is the stretch nearest to that cursor: read towards it, then turn.
        towards_cursor = before is not None and after is None
        scan_forward = ascending != towards_cursor

        pk = partition_key(tenant, thread_id)
        query: dict[str, Any] = {
            "TableName": self._table,
            "ScanIndexForward": scan_forward,
            "ExpressionAttributeValues": {":lo": {"S": low}, ":hi": {"S": high}},
        }
        if run_id is None:
            query["KeyConditionExpression"] = "pk = :pk AND sk BETWEEN :lo AND :hi"
            query["ExpressionAttributeValues"][":pk"] = {"S": pk}
            query["ConsistentRead"] = True
        else:
            # A global index cannot be read consistently: run messages show up here within a second.
            query["IndexName"] = RUN_INDEX
            query["KeyConditionExpression"] = "gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi"
            query["ExpressionAttributeValues"][":pk"] = {"S": f"{pk}#{run_id}"}

        wanted = limit + 1
        items, full = self._query_up_to(query, wanted, max_bytes)
        records = [message_from_item(item) for item in items[:limit]]
        if towards_cursor:
            records.reverse()
        return Page(records, has_more=len(items) > limit or full, reversed=towards_cursor)
