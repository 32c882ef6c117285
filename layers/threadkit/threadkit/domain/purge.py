"""The purge of deleted threads: removes a deleted thread's messages in bounded batches, then its item.

Deleting a thread only marks its item (``ThreadStore.delete_thread``); the table's stream hands that change to
the purge function. One run deletes at most ``max_items`` messages, in ``BatchWriteItem`` calls of at most 25
keys, and stops early when the function's remaining time runs low. If messages remain, it records a new
round on the thread's item: that change comes back through the stream and the next run goes on. When no
message is left, the thread's item goes too. However long the thread, no run times out, and a run that fails
is retried by the stream, from wherever the last one stopped: nothing is left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from threadkit import storage
from threadkit.storage import client, faults, schema

KEYS_PER_QUERY = 500
MAX_ITEMS_PER_RUN = 5000
UNPROCESSED_ATTEMPTS = 6
TIME_RESERVE_MS = 5000


class PurgeIncomplete(Exception):
    """DynamoDB kept refusing some deletes; the stream retries the record."""


@dataclass(frozen=True)
class PurgeOutcome:
    deleted: int
    finished: bool
    thread_id: str = ""


def purge_deleted(image: dict[str, Any], *, time_left_ms: Callable[[], int]) -> PurgeOutcome | None:
    """One run of the purge for a stream record's new image; None when the image is no deleted thread, or its
    thread is purged already (a record the stream delivered again)."""
    deleted = schema.deleted_thread_of(image)
    if deleted is None:
        return None
    try:
        return purge_thread(
            deleted.tenant, deleted.thread_id, round_number=deleted.round_number, time_left_ms=time_left_ms
        )
    except faults.ThreadMissing:
        return None


def abandon_expired_import(keys: dict[str, Any]) -> str | None:
    """For a stream record of an import marker the TTL removed (``keys``, deserialized): the dead import's
    thread id once its leftovers are handed to the purge; None when the keys are no marker's, or the thread
    has an item or another import by now."""
    if keys.get("sk") != schema.IMPORT_SK or "#" not in str(keys.get("pk", "")):
        return None
    tenant, thread_id = schema.split_partition_key(str(keys["pk"]))
    if not storage.import_store().abandon_expired(tenant, thread_id, at=int(time.time())):
        return None
    return thread_id


def pause(seconds: float) -> None:
    """Waits before retrying deletes that DynamoDB left unprocessed."""
    time.sleep(seconds)


def _batches(keys: list[dict[str, object]], size: int) -> list[list[dict[str, object]]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def purge_thread(
    tenant: str,
    thread_id: str,
    *,
    round_number: int,
    time_left_ms: Callable[[], int],
    max_items: int | None = None,
    sleep: Callable[[float], None] | None = None,
) -> PurgeOutcome:
    """One run of the purge of a deleted thread: at most ``max_items`` (default ``MAX_ITEMS_PER_RUN``)."""
    with client.deadline(time_left_ms() / 1000):
        return _purge(tenant, thread_id, round_number, time_left_ms, max_items, sleep or pause)


def _purge(
    tenant: str,
    thread_id: str,
    round_number: int,
    time_left_ms: Callable[[], int],
    max_items: int | None,
    sleep: Callable[[float], None],
) -> PurgeOutcome:
    max_items = MAX_ITEMS_PER_RUN if max_items is None else max_items
    purges = storage.purge_store()
    deleted = 0
    while deleted < max_items and time_left_ms() > TIME_RESERVE_MS:
        keys = purges.message_keys(tenant, thread_id, limit=min(KEYS_PER_QUERY, max_items - deleted))
        if not keys:
            purges.finish_purge(tenant, thread_id)
            return PurgeOutcome(deleted, finished=True, thread_id=thread_id)
        for batch in _batches(keys, schema.BATCH_WRITE_LIMIT):
            left = purges.delete_keys(batch)
            attempt = 0
            while left:
                attempt += 1
                if attempt >= UNPROCESSED_ATTEMPTS:
                    raise PurgeIncomplete(f"{len(left)} deletes left unprocessed")
                sleep(min(0.05 * 2**attempt, 1.0))
                left = purges.delete_keys(left)
        deleted += len(keys)
    purges.hand_over_purge(tenant, thread_id, round_number=round_number + 1)
    return PurgeOutcome(deleted, finished=False, thread_id=thread_id)
