"""Importing a whole thread, all or nothing as every route sees it: the messages first, invisible, then the
thread's item, without which no route finds the thread.

1. ``begin``: one transaction checks that the tenant has no item for the thread (a live thread, or a deleted
   one not yet purged) and puts the import marker (``sk`` = ``import``) with this import's owner token and a
   lease. A marker whose lease ran out (an import that died) is taken over.
2. ``clear``: removes message items already in the partition (left by an import that died).
3. ``put_messages``: ``BatchWriteItem``, 25 items a call, unprocessed items sent again.
4. ``finish``: one transaction puts the thread's item (only if there is none) and deletes the marker (only if
   still this import's). From then on the thread is visible, whole.

A failed import ``abandon``s: one transaction puts the thread's item marked deleted and deletes the marker;
the purge (fed by the table's stream, as for any deleted thread) then removes the messages. An import that
dies before either leaves its marker; the table's TTL (``expiration``, after the lease and an hour) removes
it, and the purge function, told of that by the stream, abandons the import the same way
(``abandon_expired``) unless another import holds the thread by then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threadkit.contract import ids
from threadkit.storage import client
from threadkit.storage.faults import (
    ConditionFailed,
    ImportLost,
    ImportRunning,
    PartOutOfOrder,
    ThreadExists,
    Throttled,
    Unavailable,
)
from threadkit.storage.purge_store import PurgeStore
from threadkit.storage.schema import BATCH_WRITE_LIMIT, IMPORT_SK, partition_key, thread_key

MARKER_TTL_SECONDS = 3600
"""How long after its lease a dead import's marker stays before the table's TTL may remove it."""
UNPROCESSED_ATTEMPTS = 8


def marker_key(tenant: str, thread_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": IMPORT_SK}}


def _abandoned_thread(tenant: str, thread_id: str, *, owner: str, at: int) -> dict[str, Any]:
    """A thread's item marked deleted from the start: the purge's work order for an import's leftovers."""
    return {
        **thread_key(tenant, thread_id),
        "created_at": {"N": str(at)},
        "metadata": {"S": "{}"},
        "tool_resources": {"S": "{}"},
        "deleted_at": {"N": str(at)},
        "purge_round": {"N": "0"},
        "deleted_by": {"S": owner},
    }


class ImportStore(PurgeStore):
    """The steps of one import (see the module docstring). ``sleep`` waits before unprocessed items are sent
    again."""

    def __init__(
        self,
        table_name: str,
        call: client.Caller = client.call,
        sleep: Callable[[float], None] = client.pause,
    ) -> None:
        super().__init__(table_name, call)
        self._sleep = sleep

    def begin(self, tenant: str, thread_id: str, *, owner: str, lease_until: int, now: int) -> None:
        """Takes the thread for this import: ``ThreadExists`` when the tenant has an item of it,
        ``ImportRunning`` when another import holds it."""
        marker = {
            **marker_key(tenant, thread_id),
            "owner": {"S": owner},
            "lease_until": {"N": str(lease_until)},
            "expiration": {"N": str(lease_until + MARKER_TTL_SECONDS)},
        }
        try:
            self._call(
                "transact_write_items",
                write=True,
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": thread_key(tenant, thread_id),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": marker,
                            # A marker of this very import (an attempt whose answer was lost, or the same
                            # first part sent again with its Idempotency-Key) is replaced, as is a lapsed one.
                            "ConditionExpression": "attribute_not_exists(pk) OR lease_until < :now "
                            "OR #owner = :owner",
                            "ExpressionAttributeNames": {"#owner": "owner"},
                            "ExpressionAttributeValues": {":now": {"N": str(now)}, ":owner": {"S": owner}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ],
            )
        except ConditionFailed as exc:
            if 0 in exc.failed:
                raise ThreadExists(thread_id, being_deleted="deleted_at" in exc.found.get(0, {})) from exc
            raise ImportRunning(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(
                exc, marker_key(tenant, thread_id), lambda found: (found or {}).get("owner") == {"S": owner}
            )

    def extend(
        self,
        tenant: str,
        thread_id: str,
        *,
        owner: str,
        lease_until: int,
        oldest: int | None = None,
        newest: int | None = None,
    ) -> None:
        """For an import in parts: renews the marker's lease, if it is still this import's
        (``ImportLost`` otherwise); with ``oldest``, only if no part stored so far is newer
        (``PartOutOfOrder``); with ``newest``, records it as the newest ``created_at`` stored."""
        sets = ["lease_until = :lease", "expiration = :expiration"]
        values: dict[str, Any] = {
            ":lease": {"N": str(lease_until)},
            ":expiration": {"N": str(lease_until + MARKER_TTL_SECONDS)},
            ":owner": {"S": owner},
        }
        condition = "#owner = :owner"
        if newest is not None:
            sets.append("newest = :newest")
            values[":newest"] = {"N": str(newest)}
        if oldest is not None:
            condition += " AND (attribute_not_exists(newest) OR newest <= :oldest)"
            values[":oldest"] = {"N": str(oldest)}
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key=marker_key(tenant, thread_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as exc:
            found = exc.found.get(0, {})
            if oldest is not None and found.get("owner") == {"S": owner}:
                raise PartOutOfOrder(oldest, int(found["newest"]["N"])) from exc
            raise ImportLost(thread_id) from exc

    def clear(self, tenant: str, thread_id: str) -> int:
        """Deletes every message item of the thread's partition (an earlier import's leftovers); how many."""
        removed = 0
        while keys := self.message_keys(tenant, thread_id, limit=500):
            for start in range(0, len(keys), BATCH_WRITE_LIMIT):
                self._until_processed(
                    [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_LIMIT]]
                )
            removed += len(keys)
        return removed

    def put_messages(self, items: list[dict[str, Any]]) -> None:
        """Writes message items, 25 a call (each is new: its id was just minted)."""
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            self._until_processed(
                [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_LIMIT]]
            )

    def _until_processed(self, requests: list[dict[str, Any]]) -> None:
        attempt = 0
        while requests:
            answer = self._call("batch_write_item", RequestItems={self._table: requests})
            requests = answer.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return
            attempt += 1
            if attempt >= UNPROCESSED_ATTEMPTS:
                raise Throttled(f"{len(requests)} writes left unprocessed")
            self._sleep(min(0.05 * 2**attempt, 1.0))

    def finish(self, tenant: str, thread_id: str, thread: dict[str, Any], *, owner: str) -> None:
        """Makes the thread visible: puts its item and removes the marker, in one transaction."""
        try:
            self._call(
                "transact_write_items",
                write=True,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": thread,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    self._marker_delete(tenant, thread_id, owner),
                ],
            )
        except ConditionFailed as exc:
            if exc.found.get(0) == thread:
                return  # an earlier attempt of this very call was carried out; its answer was lost
            if 0 in exc.failed:
                raise ThreadExists(thread_id, being_deleted="deleted_at" in exc.found[0]) from exc
            raise ImportRunning(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(exc, thread_key(tenant, thread_id), lambda found: found == thread)

    def abandon(self, tenant: str, thread_id: str, *, owner: str, at: int) -> None:
        """Gives the import up: its thread's item, marked deleted, hands the messages to the purge."""
        self._call(
            "transact_write_items",
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _abandoned_thread(tenant, thread_id, owner=owner, at=at),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                self._marker_delete(tenant, thread_id, owner),
            ],
        )

    def abandon_expired(self, tenant: str, thread_id: str, *, at: int) -> bool:
        """After the TTL removed a dead import's marker: hands what it wrote to the purge, unless the thread
        has an item or another import holds it by now. Whether it did."""
        try:
            self._call(
                "transact_write_items",
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": marker_key(tenant, thread_id),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _abandoned_thread(tenant, thread_id, owner="expired-import", at=at),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
            )
        except ConditionFailed:
            return False
        return True

    def source_ids(self, tenant: str, thread_id: str, attribute: str) -> dict[str, str]:
        """``{<attribute>: message id}`` for every message of the thread that carries ``attribute`` (an
        imported message's given id), read in pages of keys and that attribute only."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": partition_key(tenant, thread_id)},
                ":lo": {"S": ids.lowest(ids.MESSAGE_PREFIX)},
                ":hi": {"S": ids.highest(ids.MESSAGE_PREFIX)},
            },
            "ProjectionExpression": "sk, #source",
            "ExpressionAttributeNames": {"#source": attribute},
            "ConsistentRead": True,
        }
        found: dict[str, str] = {}
        while True:
            answer = self._call("query", **query)
            for item in answer.get("Items", []):
                if attribute in item:
                    found[item[attribute]["S"]] = item["sk"]["S"]
            resume = answer.get("LastEvaluatedKey")
            if not resume:
                return found
            query["ExclusiveStartKey"] = resume

    def _marker_delete(self, tenant: str, thread_id: str, owner: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": marker_key(tenant, thread_id),
                "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":owner": {"S": owner}},
            }
        }
