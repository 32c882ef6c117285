"""Storage: the only part of the package that speaks to DynamoDB (and the only one that imports boto3 or
botocore).

* ``schema``: keys, item encoding and the size rules (nothing here makes a call);
* ``client``: the container's client, its retries inside the invocation's deadline; ``faults``: what a failed
  call means;
* ``thread_store``, ``message_store``, ``purge_store``, ``import_store`` (on ``access``): threads, messages,
  the purge's work and imports of whole threads, as the domain asks for them; ``records``: Idempotency-Key
  records; ``keys``: API keys;
* ``settings``: the table and the time budget, read once from the environment.

The stores are kept per container and table (``thread_store()`` ...); ``reset()`` forgets them and the client.
"""

from __future__ import annotations

import threading

from threadkit.storage import client
from threadkit.storage.import_store import ImportStore
from threadkit.storage.message_store import MessageStore
from threadkit.storage.purge_store import PurgeStore
from threadkit.storage.settings import get_settings
from threadkit.storage.thread_store import ThreadStore

_BUILD = threading.Lock()
_stores: dict[tuple[type, str], object] = {}


def _kept(kind: type[ThreadStore] | type[MessageStore] | type[PurgeStore] | type[ImportStore]) -> object:
    table = get_settings().table_name
    with _BUILD:
        found = _stores.get((kind, table))
        if found is None:
            found = _stores.setdefault((kind, table), kind(table))
        return found


def thread_store() -> ThreadStore:
    """The container's store of threads on the configured table."""
    found = _kept(ThreadStore)
    assert isinstance(found, ThreadStore)
    return found


def message_store() -> MessageStore:
    """The container's store of messages on the configured table."""
    found = _kept(MessageStore)
    assert isinstance(found, MessageStore)
    return found


def purge_store() -> PurgeStore:
    """The container's store for the purge of deleted threads, on the configured table."""
    found = _kept(PurgeStore)
    assert isinstance(found, PurgeStore)
    return found


def import_store() -> ImportStore:
    """The container's store for imports of whole threads, on the configured table."""
    found = _kept(ImportStore)
    assert isinstance(found, ImportStore)
    return found


def reset() -> None:
    """Forgets the stores and the client (tests, after switching mocks or settings)."""
    with _BUILD:
        _stores.clear()
    client.reset()
