"""Threads in the table: create (with initial messages, all or none), read, modify and delete."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from threadkit.contract import ids
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
    THREADS_INDEX,
    TRANSACTION_SIZE_LIMIT,
    MessageRecord,
    ThreadPage,
    ThreadRecord,
    dumps,
    is_live_thread,
    item_size,
    list_key,
    message_item,
    metadata_map,
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
            sets[0] = "metadata = :m, meta = :mm"
            values = {":m": {"S": dumps(metadata)}, ":mm": metadata_map(metadata)}
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
        item = answer["Attributes"]
        if "gsi2pk" not in item:
            self._join_list(tenant, item)
        return thread_from_item(item)

    def _join_list(self, tenant: str, item: dict[str, Any]) -> None:
        """Gives a thread written before the list of threads existed its list keys (just once)."""
        record = thread_from_item(item)
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key=thread_key(tenant, record.id),
                UpdateExpression="SET gsi2pk = :tenant, gsi2sk = :position, meta = :meta",
                ConditionExpression=LIVE_THREAD,
                ExpressionAttributeValues={
                    ":tenant": {"S": tenant},
                    ":position": {"S": list_key(record.created_at, record.id)},
                    ":meta": metadata_map(record.metadata),
                },
            )
        except ConditionFailed:
            return  # deleted meanwhile: it stays out of the list

    def delete_thread(self, tenant: str, thread_id: str, *, at: int) -> None:
        """Marks the thread deleted, in one conditional request; from then on it is missing everywhere.

        The item stays, marked, as the purge's work order, and leaves the list of threads (its index keys go):
        the table's stream hands the change to the purge function, which removes the messages and then the
        item itself. The mark carries a token of this call, so that a retry that meets its own earlier attempt
        is told from a thread deleted by another request.
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
                UpdateExpression="SET deleted_at = :at, purge_round = :zero, deleted_by = :by "
                "REMOVE gsi2pk, gsi2sk",
                ConditionExpression=LIVE_THREAD,
                ExpressionAttributeValues={":at": {"N": str(at)}, ":zero": {"N": "0"}, ":by": token},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as exc:
            if not landed(exc.found.get(0)):
                raise ThreadMissing(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(exc, key, landed)

    def list_position(self, tenant: str, thread_id: str) -> str:
        """Where a thread stands in the list (its ``by_tenant`` sort key), read from its item even when it is
        deleted and not yet purged; ``ThreadMissing`` when there is no item."""
        item = self._get(thread_key(tenant, thread_id))
        if item is None:
            raise ThreadMissing(thread_id)
        return list_key(int(item["created_at"]["N"]), thread_id)

    def list_threads(
        self,
        tenant: str,
        *,
        order: Literal["asc", "desc"],
        limit: int,
        after: str | None = None,
        before: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ThreadPage:
        """One page of the tenant's threads in creation order, strictly between the cursors' positions
        (``list_position``), as ``MessageStore.page`` walks messages: ``limit + 1`` items of one ``Query`` of
        the ``by_tenant`` index tell ``has_more`` exactly. ``metadata``: only threads with every one of those
        pairs (a filter: DynamoDB reads the threads that do not match too, and pages on past them)."""
        ascending = order == "asc"
        low: str | None = _LOWEST
        high: str | None = _HIGHEST
        if after is not None:
            if ascending:
                low = _next_position(after, +1)
            else:
                high = _next_position(after, -1)
        if before is not None:
            if ascending:
                high = _next_position(before, -1)
            else:
                low = _next_position(before, +1)
        if low is None or high is None or low > high:
            return ThreadPage([], has_more=False)
        towards_cursor = before is not None and after is None
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": THREADS_INDEX,
            "ScanIndexForward": ascending != towards_cursor,
            "KeyConditionExpression": "gsi2pk = :tenant AND gsi2sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {":tenant": {"S": tenant}, ":lo": {"S": low}, ":hi": {"S": high}},
        }
        if metadata:
            names = {"#meta": "meta"}
            tests = []
            for index, (key, value) in enumerate(sorted(metadata.items())):
                names[f"#k{index}"] = key
                query["ExpressionAttributeValues"][f":v{index}"] = {"S": value}
                tests.append(f"#meta.#k{index} = :v{index}")
            query["FilterExpression"] = " AND ".join(tests)
            query["ExpressionAttributeNames"] = names
        items, _ = self._query_up_to(query, limit + 1)
        records = [thread_from_item(item) for item in items[:limit]]
        if towards_cursor:
            records.reverse()
        return ThreadPage(records, has_more=len(items) > limit)


_LOWEST = list_key(0, ids.lowest(ids.THREAD_PREFIX))
_HIGHEST = list_key(10**10 - 1, ids.highest(ids.THREAD_PREFIX))


def _next_position(position: str, step: int) -> str | None:
    """The list position ``step`` (+1 or -1) away: every position is 10 digits, ``#`` and a well-formed thread
    id, so the neighbour is the id's neighbour, or past the end of its second the other end of the next."""
    created_at, thread_id = int(position[:10]), position[11:]
    neighbour = ids.neighbour(thread_id, ids.THREAD_PREFIX, step)
    if neighbour is not None:
        return list_key(created_at, neighbour)
    created_at += step
    if not 0 <= created_at < 10**10:
        return None
    edge = ids.lowest(ids.THREAD_PREFIX) if step > 0 else ids.highest(ids.THREAD_PREFIX)
    return list_key(created_at, edge)
