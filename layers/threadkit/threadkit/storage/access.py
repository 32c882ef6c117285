"""What every part of the store shares: the table, the calls, reading an item, finding out what became of a
write whose answer was lost, and the thread check that every message operation starts with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threadkit.storage import client
from threadkit.storage.faults import StoreError, ThreadMissing
from threadkit.storage.schema import (
    ThreadRecord,
    is_live_thread,
    least_json_bytes,
    thread_from_item,
    thread_key,
)


class TableAccess:
    """One table, reached through ``call`` (by default the container's client, with its retries)."""

    def __init__(self, table_name: str, call: client.Caller = client.call) -> None:
        self._table = table_name
        self._call = call

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        answer = self._call("get_item", TableName=self._table, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def _settle(
        self, failure: StoreError, key: dict[str, Any], landed: Callable[[dict[str, Any] | None], bool]
    ) -> dict[str, Any]:
        """After a write failed: the item at ``key`` (``{}`` when there is none) if the write was carried out
        all the same (``landed`` says so of a consistent read), else ``failure`` raised again, ``uncertain``
        only if even the read failed."""
        if not failure.uncertain:
            raise failure
        try:
            item = self._get(key)
        except StoreError:
            raise failure  # noqa: B904 (the write's own failure, with its cause, is what stays unknown)
        if landed(item):
            return item or {}
        failure.uncertain = False  # a consistent read shows that the write was not carried out
        raise failure

    def get_thread(self, tenant: str, thread_id: str) -> ThreadRecord:
        """The thread; ``ThreadMissing`` if it does not exist or is deleted."""
        item = self._get(thread_key(tenant, thread_id))
        if item is None or not is_live_thread(item):
            raise ThreadMissing(thread_id)
        return thread_from_item(item)

    def _query_up_to(
        self, query: dict[str, Any], wanted: int, max_bytes: int | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``wanted`` items of a query: one request, unless DynamoDB's 1 MB response cap cuts it; and
        whether it stopped early because the items read (at least two) hold more than ``max_bytes``."""
        items: list[dict[str, Any]] = []
        least = 0
        while True:
            answer = self._call("query", **query, Limit=wanted - len(items))
            found = answer.get("Items", [])
            items.extend(found)
            resume = answer.get("LastEvaluatedKey")
            if len(items) >= wanted or not resume:
                return items, False
            if max_bytes is not None:
                least += sum(least_json_bytes(item) for item in found)
                if least > max_bytes and len(items) >= 2:
                    return items, True
            query["ExclusiveStartKey"] = resume
