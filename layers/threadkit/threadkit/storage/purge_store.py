"""The purge's side of the table: the keys of a deleted thread's messages, deleting them in batches, handing
the work over to the next run, and removing the thread's own item at the end."""

from __future__ import annotations

from typing import Any

from threadkit.contract import ids
from threadkit.storage.access import TableAccess
from threadkit.storage.faults import ConditionFailed, ThreadMissing
from threadkit.storage.schema import BATCH_WRITE_LIMIT, partition_key, thread_key


class PurgeStore(TableAccess):
    """Deleted threads' items, removed in bounded batches."""

    def message_keys(self, tenant: str, thread_id: str, *, limit: int) -> list[dict[str, Any]]:
        """Keys of up to ``limit`` messages of a thread, oldest first (for the purge)."""
        keys, _ = self._query_up_to(
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {
                    ":pk": {"S": partition_key(tenant, thread_id)},
                    ":lo": {"S": ids.lowest(ids.MESSAGE_PREFIX)},
                    ":hi": {"S": ids.highest(ids.MESSAGE_PREFIX)},
                },
                "ProjectionExpression": "pk, sk",
                "ConsistentRead": True,
            },
            limit,
        )
        return keys

    def delete_keys(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One ``BatchWriteItem`` deleting up to 25 items; returns the keys DynamoDB left unprocessed.
        Deleting is idempotent: a retried batch that meets its own earlier attempt changes nothing."""
        if len(keys) > BATCH_WRITE_LIMIT:
            raise ValueError(f"at most {BATCH_WRITE_LIMIT} keys per batch")
        answer = self._call(
            "batch_write_item",
            RequestItems={self._table: [{"DeleteRequest": {"Key": key}} for key in keys]},
        )
        left = answer.get("UnprocessedItems", {}).get(self._table, [])
        return [request["DeleteRequest"]["Key"] for request in left]

    def hand_over_purge(self, tenant: str, thread_id: str, *, round_number: int) -> None:
        """Records a purge round on the deleted thread's item; the change re-triggers the purge."""
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key=thread_key(tenant, thread_id),
                UpdateExpression="SET purge_round = :r",
                ConditionExpression="attribute_exists(deleted_at)",
                ExpressionAttributeValues={":r": {"N": str(round_number)}},
            )
        except ConditionFailed as exc:
            raise ThreadMissing(thread_id) from exc

    def finish_purge(self, tenant: str, thread_id: str) -> None:
        """Removes the deleted thread's own item, once its messages are gone."""
        try:
            self._call(
                "delete_item",
                TableName=self._table,
                Key=thread_key(tenant, thread_id),
                ConditionExpression="attribute_exists(deleted_at)",
            )
        except ConditionFailed as exc:
            raise ThreadMissing(thread_id) from exc
