"""What every part of the bench shares: the sample events, the API key, the table, the
Lambda context, and the thread and messages that the sample events address."""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from bench import env
from bench.paths import event_path
from local.template import table_definition
from threadkit.contract import ids
from threadkit.edge import auth
from threadkit.storage import keys, schema
from threadkit.storage.client import Caller
from threadkit.storage.thread_store import ThreadStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The tenant of the bench's API key; every seeded thread belongs to it.
TENANT = "default"
TABLE_NAME = env.TABLE_NAME


# --- sample events ----------------------------------------------------------------------------------------


@cache
def _event_text(name: str) -> str:
    return event_path(name).read_text(encoding="utf-8")


def event(name: str, *, thread_id: str | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    """A fresh copy of events/<name>.json; ``thread_id`` moves it to another thread, ``query`` replaces its
    query string."""
    loaded: dict[str, Any] = json.loads(_event_text(name))
    if thread_id is not None:
        old = loaded["pathParameters"]["thread_id"]
        loaded["pathParameters"]["thread_id"] = thread_id
        loaded["rawPath"] = loaded["rawPath"].replace(old, thread_id)
        loaded["requestContext"]["http"]["path"] = loaded["requestContext"]["http"]["path"].replace(
            old, thread_id
        )
    if query is not None:
        loaded["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        loaded["queryStringParameters"] = dict(query)
    return loaded


@cache
def api_key() -> str:
    """The secret the sample events send (``Authorization: Bearer ...``)."""
    header: str = event("create_message")["headers"]["authorization"]
    scheme, _, token = header.partition(" ")
    assert scheme.lower() == "bearer", scheme
    return token


@cache
def event_thread_id() -> str:
    """The thread the sample events address."""
    thread_id: str = event("retrieve_thread")["pathParameters"]["thread_id"]
    return thread_id


@cache
def event_message_id() -> str:
    """The message the sample events address."""
    message_id: str = event("retrieve_message")["pathParameters"]["message_id"]
    return message_id


def expected_status(function: str) -> int:
    """What the function answers its sample event with, when the thread and message it names exist (a 404
    for the unknown route, a 409 for the import of that very thread, a 200 for every other)."""
    return {"route_not_found": 404, "import_thread": 409}.get(function, 200)


def copy_event(template: dict[str, Any]) -> dict[str, Any]:
    """The handlers rewrite the event they are given: each call gets its own."""
    return copy.deepcopy(template)


# --- the Lambda context -------------------------------------------------------------------------------------


@dataclass
class FakeContext:
    """What Powertools' Logger reads from a Lambda context."""

    function_name: str = "bench-function"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


# --- the table and its content ------------------------------------------------------------------------------


def create_table(client: DynamoDBClient) -> None:
    """The template's table, as deployed."""
    client.create_table(TableName=TABLE_NAME, **table_definition())


def store_key(client: DynamoDBClient) -> None:
    """The sample events' API key, in the table, for ``TENANT``."""
    keys.KeyStore(TABLE_NAME, Caller(client, max_attempts=1)).create(TENANT, "bench", secret=api_key())


def prime_key_cache() -> None:
    """The container has just read the key (as after its first request): the next 30 seconds read none."""
    known = keys.ApiKey(key_id="key_bench", tenant=TENANT, name="bench", created_at=0, revoked_at=None)
    auth.key_cache().clear()
    auth.key_cache().get(api_key(), lambda _: known)


def text_message(thread_id: str, message_id: str | None = None, text: str = "seeded") -> schema.MessageRecord:
    """A message as create-message would store it (a fresh id unless one is given)."""
    minted, created_at = ids.default_factory.new(ids.MESSAGE_PREFIX)
    return schema.MessageRecord(
        id=message_id or minted,
        thread_id=thread_id,
        created_at=created_at,
        role="user",
        content=[{"type": "text", "text": {"value": text, "annotations": []}}],
        metadata={"source": "bench"},
        completed_at=created_at,
    )


def new_thread_id() -> str:
    return ids.default_factory.new(ids.THREAD_PREFIX)[0]


def new_message_id() -> str:
    return ids.default_factory.new(ids.MESSAGE_PREFIX)[0]


def reset_event_thread(client: DynamoDBClient, message_ids: list[str]) -> None:
    """Puts the sample events' thread back, live, with exactly ``message_ids`` (whatever earlier events
    deleted), through the store's own writes."""
    thread_id = event_thread_id()
    pk = schema.partition_key(TENANT, thread_id)
    for sk in [schema.THREAD_SK, *message_ids]:
        client.delete_item(TableName=TABLE_NAME, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    thread = schema.ThreadRecord(id=thread_id, created_at=int(time.time()), metadata={"source": "bench"})
    messages = [text_message(thread_id, message_id) for message_id in message_ids]
    ThreadStore(TABLE_NAME, Caller(client, max_attempts=1)).create_thread(TENANT, thread, messages)
