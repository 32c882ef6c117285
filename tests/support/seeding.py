"""Threads for the tests: every message operation needs a thread that exists, or it is a 404.

Two ways to have one, both checked:

* ``make_thread`` writes it through the store (one ``PutItem``), with a chosen well-formed id or a fresh one:
  for tests about messages, whose thread is only a precondition, and for the fixed ids of the sample events;
* ``api_thread`` creates it through the create-thread function, as a client does: for tests about the HTTP
  surface.

The ``thread`` fixture creates ``THREAD``, the default thread of ``tests.support.api``'s events. A test module
imports it (``from tests.support.seeding import thread  # noqa: F401``) and asks for it by name, with
``@pytest.mark.usefixtures("thread")``.

Messages with a chosen id (``make_message``) and API keys of other tenants (``make_keys``) are written through
the store or straight into the table, as the tests that need them set them up.
"""

from __future__ import annotations

import re
import time
from typing import Any

import create_thread
import pytest

from tests.support.api import THREAD, UNKNOWN_THREAD, checked, text_part
from tests.support.api_events import TEST_TENANT, http_event
from tests.support.moto_table import TABLE_NAME
from threadkit import storage
from threadkit.contract import ids
from threadkit.storage import keys, schema
from threadkit.storage.thread_store import ThreadStore

THREAD_ID = re.compile(r"thread_[0-9A-Za-z]{24}")


def is_thread_id(value: Any) -> bool:
    """Whether ``value`` is an id this API could have minted: ``thread_`` and 24 base-62 characters."""
    return isinstance(value, str) and THREAD_ID.fullmatch(value) is not None


def make_thread(
    thread_id: str | None = None,
    *,
    metadata: dict[str, str] | None = None,
    tenant: str | None = None,
    thread_store: ThreadStore | None = None,
) -> str:
    """Creates a live thread through the store and returns its id.

    ``thread_id`` must be well-formed (a fresh one is minted when it is None, without touching
    ``ids.default_factory``, which tests may drive with a fake clock). The write is the store's own,
    conditional: a thread that exists already fails the test.
    """
    if thread_id is None:
        thread_id = ids.IdFactory().new(ids.THREAD_PREFIX)[0]
    assert is_thread_id(thread_id), f"{thread_id!r} is not an id this API could mint"
    record = schema.ThreadRecord(id=thread_id, created_at=int(time.time()), metadata=dict(metadata or {}))
    (thread_store or storage.thread_store()).create_thread(tenant or TEST_TENANT, record, [])
    return thread_id


def mark_thread_deleted(thread_id: str, *, tenant: str | None = None) -> None:
    """Deletes a thread the way the delete-thread function does (its item stays, marked, for the purge)."""
    storage.thread_store().delete_thread(tenant or TEST_TENANT, thread_id, at=int(time.time()))


def make_message(
    thread_id: str,
    message_id: str | None = None,
    *,
    text: str = "seeded",
    role: str = "user",
    metadata: dict[str, str] | None = None,
    assistant_id: str | None = None,
    run_id: str | None = None,
    tenant: str | None = None,
) -> str:
    """Stores a message in ``thread_id`` (a live thread) through the store and returns its id: ``message_id``
    when given (any well-formed id), else a fresh time-ordered one from ``ids.default_factory``."""
    if message_id is None:
        message_id, created_at = ids.default_factory.new(ids.MESSAGE_PREFIX)
    else:
        created_at = int(time.time())
    record = schema.MessageRecord(
        id=message_id,
        thread_id=thread_id,
        created_at=created_at,
        role=role,
        content=[text_part(text)],
        metadata=dict(metadata or {}),
        assistant_id=assistant_id,
        run_id=run_id,
        completed_at=created_at,
    )
    storage.message_store().add(tenant or TEST_TENANT, record)
    return message_id


def delete_message(thread_id: str, message_id: str, *, tenant: str | None = None) -> None:
    """Deletes a message the way the delete-message function does."""
    storage.message_store().delete_message(tenant or TEST_TENANT, thread_id, message_id)


# API keys of two more tenants, and a revoked one (of tenant "a"): for the tests about keys and tenants.
KEY_A = "sk-tenant-a-000000000000000000000000000000"
KEY_B = "sk-tenant-b-000000000000000000000000000000"
REVOKED_KEY = "sk-revoked-0000000000000000000000000000000"


def make_keys(table: Any) -> None:
    """Writes ``KEY_A`` (tenant "a"), ``KEY_B`` (tenant "b") and ``REVOKED_KEY`` into the tests' table, as
    the key tool does."""
    items = [
        keys.key_item(KEY_A, keys.ApiKey("key_a", "a", "tenant a", created_at=1, revoked_at=None)),
        keys.key_item(KEY_B, keys.ApiKey("key_b", "b", "tenant b", created_at=1, revoked_at=None)),
        keys.key_item(REVOKED_KEY, keys.ApiKey("key_r", "a", "revoked", created_at=1, revoked_at=2)),
    ]
    table.batch_write_item(RequestItems={TABLE_NAME: [{"PutRequest": {"Item": item}} for item in items]})


# The ways a thread can be missing: every message operation answers each of them alike (404, nothing written).
MISSING_THREAD_KINDS = ["never-created", "deleted", "never-minted"]


def missing_thread(kind: str) -> str:
    """The id of a thread that does not exist, of the given kind (see ``MISSING_THREAD_KINDS``); needs the
    table. "never-minted" starts with ``thread_`` but is no id this API could mint."""
    if kind == "never-created":
        return UNKNOWN_THREAD
    if kind == "deleted":
        thread_id = make_thread()
        mark_thread_deleted(thread_id)
        return thread_id
    if kind == "never-minted":
        return "thread_abc"
    raise ValueError(kind)


def api_thread(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Creates a thread through the create-thread function, as a client does; returns the thread object."""
    event = http_event("POST", "/v1/threads", route_key="POST /v1/threads", body={} if body is None else body)
    answer = checked(create_thread.lambda_handler, event)
    assert answer.status == 200, answer.body
    assert is_thread_id(answer.body["id"]), answer.body
    thread: dict[str, Any] = answer.body
    return thread


def thread_key(thread_id: str, *, tenant: str | None = None) -> tuple[str, str]:
    """The (pk, sk) of a thread's own item."""
    return schema.partition_key(tenant or TEST_TENANT, thread_id), schema.THREAD_SK


def item_keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (pk, sk) of each of ``items``, as a table scan returns them."""
    return [(item["pk"]["S"], item["sk"]["S"]) for item in items]


@pytest.fixture
def thread(table: Any) -> str:
    """``THREAD``, created in the test's table: the thread the events of ``tests.support.api`` address."""
    return make_thread(THREAD)
