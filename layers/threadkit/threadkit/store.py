"""The DynamoDB store. The only module that knows the table's layout or speaks to DynamoDB.

Layout (one table, see README "Table design"):

* partition key ``pk`` = ``<tenant>#<thread_id>``: one thread of one tenant, its item and its messages;
* sort key ``sk`` = ``thread`` for the thread's own item, the message id for a message. Ids are time-ordered,
  fixed-length base-62 (``ids.py``), so the sort key order *is* creation order, and a cursor id *is* a key
  position: "after X" is ``sk > X``, with no read. ``thread`` sorts after every ``msg_`` id, outside the
  range that message queries read;
* a deleted thread keeps its item, marked ``deleted_at``, until the purge (``purge.py``) has removed its
  messages: every operation on the thread or its messages checks that item, so the thread is gone at once;
* sparse global index ``by_run`` (``gsi1pk`` = ``<pk>#<run_id>``, ``gsi1sk`` = id): only messages that
  belong to a run carry its keys, so a ``run_id`` filter is one page of one query, however long the thread.

Every page is a single ``Query`` for ``limit + 1`` items; the extra item tells ``has_more`` exactly.
Callers ask for pages and records; ``ClientError`` never leaves this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from threadkit import ids
from threadkit.models import MAX_METADATA_KEY_LENGTH, MAX_METADATA_PAIRS, MAX_METADATA_VALUE_LENGTH
from threadkit.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUN_INDEX = "by_run"

# DynamoDB refuses items over 400 KB (409,600 bytes). The store keeps every item at or below ITEM_SIZE_LIMIT,
# by its own count, so no write ever depends on how a given DynamoDB implementation measures the limit.
ITEM_SIZE_LIMIT = 400_000
# Room kept in every message item for the largest metadata a later modify may set: 16 pairs of a 64-character
# key and a 512-character value, every character escaped to JSON's six-byte \uXXXX form.
METADATA_RESERVE = 2 + MAX_METADATA_PAIRS * (
    2 + 6 * MAX_METADATA_KEY_LENGTH + 1 + 2 + 6 * MAX_METADATA_VALUE_LENGTH + 1
)
# Bound on everything else in an item: keys (tenant, thread id and run id of at most 128 characters each,
# 4 bytes a character), the index keys, attribute names, numbers and the short fields.
ITEM_OVERHEAD = 4096
CONTENT_LIMIT = ITEM_SIZE_LIMIT - METADATA_RESERVE - ITEM_OVERHEAD
"""Bytes available to a message's content and attachments, as stored (UTF-8 JSON)."""

# DynamoDB accepts at most 4 MB in one transaction; a thread's initial messages are written in one.
TRANSACTION_SIZE_LIMIT = 4_000_000
THREAD_SK = "thread"
_LIVE_THREAD = "attribute_exists(pk) AND attribute_not_exists(deleted_at)"

_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
    }
)
_THROTTLING_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})


class StoreError(Exception):
    """DynamoDB failed in a way the client cannot fix."""


class NotFound(StoreError):
    """The addressed item does not exist (a failed existence condition)."""


class ThreadMissing(NotFound):
    """The thread does not exist, or is deleted."""


class MessageMissing(NotFound):
    """The message does not exist in that thread."""


class Throttled(StoreError):
    """DynamoDB throttled the request, even after the client's retries."""


class TooLarge(StoreError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, limit {limit}")
        self.size = size
        self.limit = limit


class ThreadTooLarge(TooLarge):
    """A thread's initial messages exceed what one transaction can write."""


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message as the domain sees it, independent of the wire and of the table."""

    id: str
    thread_id: str
    created_at: int
    role: str
    content: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    assistant_id: str | None = None
    run_id: str | None = None
    status: str = "completed"
    incomplete_details: dict[str, Any] | None = None
    completed_at: int | None = None
    incomplete_at: int | None = None


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    id: str
    created_at: int
    metadata: dict[str, str] = field(default_factory=dict)
    tool_resources: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    records: list[MessageRecord]
    has_more: bool


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def partition_key(tenant: str, thread_id: str) -> str:
    return f"{tenant}#{thread_id}"


def split_partition_key(pk: str) -> tuple[str, str]:
    """(tenant, thread_id) of a partition key."""
    tenant, thread_id = pk.split("#", 1)
    return tenant, thread_id


def content_size(content: list[dict[str, Any]], attachments: list[dict[str, Any]]) -> int:
    """What content and attachments take in an item, the measure that ``CONTENT_LIMIT`` bounds."""
    return len(_dumps(content).encode()) + len(_dumps(attachments).encode())


def item_size(item: dict[str, Any]) -> int:
    """An item's size by DynamoDB's rule: attribute names plus values (strings in UTF-8 bytes)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            size += len(value["N"]) // 2 + 2
    return size


def _message_key(tenant: str, thread_id: str, message_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": message_id}}


def _thread_key(tenant: str, thread_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": THREAD_SK}}


def _message_item(tenant: str, record: MessageRecord) -> dict[str, Any]:
    size = content_size(record.content, record.attachments)
    if size > CONTENT_LIMIT:
        raise TooLarge(size, CONTENT_LIMIT)
    pk = partition_key(tenant, record.thread_id)
    item: dict[str, Any] = {
        "pk": {"S": pk},
        "sk": {"S": record.id},
        "created_at": {"N": str(record.created_at)},
        "role": {"S": record.role},
        "content": {"S": _dumps(record.content)},
        "attachments": {"S": _dumps(record.attachments)},
        "metadata": {"S": _dumps(record.metadata)},
        "status": {"S": record.status},
    }
    if record.assistant_id is not None:
        item["assistant_id"] = {"S": record.assistant_id}
    if record.run_id is not None:
        item["run_id"] = {"S": record.run_id}
        item["gsi1pk"] = {"S": f"{pk}#{record.run_id}"}
        item["gsi1sk"] = {"S": record.id}
    if record.incomplete_details is not None:
        item["incomplete_details"] = {"S": _dumps(record.incomplete_details)}
    if record.completed_at is not None:
        item["completed_at"] = {"N": str(record.completed_at)}
    if record.incomplete_at is not None:
        item["incomplete_at"] = {"N": str(record.incomplete_at)}
    return item


def _message_from_item(item: dict[str, Any]) -> MessageRecord:
    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value["S"])

    def number(name: str) -> int | None:
        value = item.get(name)
        return None if value is None else int(value["N"])

    details = text("incomplete_details")
    return MessageRecord(
        id=item["sk"]["S"],
        thread_id=split_partition_key(item["pk"]["S"])[1],
        created_at=int(item["created_at"]["N"]),
        role=item["role"]["S"],
        content=json.loads(item["content"]["S"]),
        attachments=json.loads(item["attachments"]["S"]),
        metadata=json.loads(item["metadata"]["S"]),
        assistant_id=text("assistant_id"),
        run_id=text("run_id"),
        status=item["status"]["S"],
        incomplete_details=None if details is None else json.loads(details),
        completed_at=number("completed_at"),
        incomplete_at=number("incomplete_at"),
    )


def _thread_item(tenant: str, record: ThreadRecord) -> dict[str, Any]:
    return {
        **_thread_key(tenant, record.id),
        "created_at": {"N": str(record.created_at)},
        "metadata": {"S": _dumps(record.metadata)},
        "tool_resources": {"S": _dumps(record.tool_resources)},
    }


def _thread_from_item(item: dict[str, Any]) -> ThreadRecord:
    return ThreadRecord(
        id=split_partition_key(item["pk"]["S"])[1],
        created_at=int(item["created_at"]["N"]),
        metadata=json.loads(item["metadata"]["S"]),
        tool_resources=json.loads(item["tool_resources"]["S"]),
    )


def _is_live_thread(item: dict[str, Any] | None) -> bool:
    return item is not None and "pk" in item and "deleted_at" not in item


def _translate(
    exc: ClientError | BotoCoreError, reasons: tuple[type[NotFound] | None, ...] = ()
) -> StoreError:
    """The store's error for a failed call; ``reasons`` names, per transaction item, what its failed
    condition means."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "TransactionCanceledException":
            cancellations = exc.response.get("CancellationReasons", [])
            for index, reason in enumerate(cancellations):
                reason_code = reason.get("Code")
                if reason_code == "ConditionalCheckFailed" and index < len(reasons):
                    missing = reasons[index]
                    if missing is not None:
                        return missing(reason_code)
                if reason_code in _THROTTLING_REASONS:
                    return Throttled(reason_code)
        if code == "ConditionalCheckFailedException":
            return reasons[0](code) if reasons and reasons[0] is not None else NotFound(code)
        if code in _THROTTLING:
            return Throttled(code)
    return StoreError(str(exc))


class MessageStore:
    """Threads and their messages in one DynamoDB table. Every method is at most two requests."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- threads ----------------------------------------------------------------------------------------

    def create_thread(self, tenant: str, thread: ThreadRecord, messages: list[MessageRecord]) -> None:
        """Writes a thread and its initial messages: all or none, in one request."""
        items = [_thread_item(tenant, thread)] + [_message_item(tenant, m) for m in messages]
        try:
            if len(items) == 1:
                self._client.put_item(
                    TableName=self._table, Item=items[0], ConditionExpression="attribute_not_exists(pk)"
                )
                return
            total = sum(item_size(item) for item in items)
            if total > TRANSACTION_SIZE_LIMIT:
                raise ThreadTooLarge(total, TRANSACTION_SIZE_LIMIT)
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                    for item in items
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc

    def get_thread(self, tenant: str, thread_id: str) -> ThreadRecord:
        """The thread; ``ThreadMissing`` if it does not exist or is deleted."""
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=_thread_key(tenant, thread_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        item = answer.get("Item")
        if item is None or not _is_live_thread(item):
            raise ThreadMissing(thread_id)
        return _thread_from_item(item)

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
            values = {":m": {"S": _dumps(metadata)}}
        if tool_resources is not None:
            sets.append("tool_resources = :t")
            values[":t"] = {"S": _dumps(tool_resources)}
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=_thread_key(tenant, thread_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=_LIVE_THREAD,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (ThreadMissing,)) from exc
        return _thread_from_item(answer["Attributes"])

    def delete_thread(self, tenant: str, thread_id: str, *, at: int) -> None:
        """Marks the thread deleted, in one conditional request; from then on it is missing everywhere.

        The item stays, marked, as the purge's work order: the table's stream hands the change to the purge
        function, which removes the messages and then the item itself.
        """
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_thread_key(tenant, thread_id),
                UpdateExpression="SET deleted_at = :at, purge_round = :zero",
                ConditionExpression=_LIVE_THREAD,
                ExpressionAttributeValues={":at": {"N": str(at)}, ":zero": {"N": "0"}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (ThreadMissing,)) from exc

    # --- messages ---------------------------------------------------------------------------------------

    def add(self, tenant: str, record: MessageRecord) -> None:
        """Writes a new message into a live thread; one transaction checks the thread and writes the
        message (never over another: ids are unique, and the write is conditional)."""
        item = _message_item(tenant, record)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": _thread_key(tenant, record.thread_id),
                            "ConditionExpression": _LIVE_THREAD,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (ThreadMissing, None)) from exc

    def get_message(self, tenant: str, thread_id: str, message_id: str) -> MessageRecord:
        """The message, read with its thread in one consistent transaction."""
        try:
            answer = self._client.transact_get_items(
                TransactItems=[
                    {"Get": {"TableName": self._table, "Key": _thread_key(tenant, thread_id)}},
                    {"Get": {"TableName": self._table, "Key": _message_key(tenant, thread_id, message_id)}},
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        thread, message = (response.get("Item") for response in answer["Responses"])
        if not _is_live_thread(thread):
            raise ThreadMissing(thread_id)
        if not message:
            raise MessageMissing(message_id)
        return _message_from_item(message)

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
            expression, value = "SET metadata = :m", _dumps(metadata)
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=_message_key(tenant, thread_id, message_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":m": {"S": value}},
                ReturnValues="ALL_NEW",
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (MessageMissing,)) from exc
        return _message_from_item(answer["Attributes"])

    def delete_message(self, tenant: str, thread_id: str, message_id: str) -> None:
        """Deletes a message of a live thread: one transaction checks the thread and deletes the message
        if it exists."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": _thread_key(tenant, thread_id),
                            "ConditionExpression": _LIVE_THREAD,
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": _message_key(tenant, thread_id, message_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (ThreadMissing, MessageMissing)) from exc

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
    ) -> Page:
        """One page of a live thread's messages in ``order``, strictly between the cursors that are given.

        ``after`` walks away from its cursor in ``order``; ``before`` alone takes the ``limit`` messages
        nearest to its cursor on the other side, still returned in ``order``. ``has_more`` says whether
        messages exist past the page on the side away from the cursor. Cursors must be well-formed ids.
        Two requests: the thread's item (a query cannot also read it), then one ``Query``.
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
        items = self._query_up_to(query, wanted)
        records = [_message_from_item(item) for item in items[:limit]]
        if towards_cursor:
            records.reverse()
        return Page(records, has_more=len(items) > limit)

    def _query_up_to(self, query: dict[str, Any], wanted: int) -> list[dict[str, Any]]:
        """Up to ``wanted`` items of a query: one request, unless DynamoDB's 1 MB response cap cuts it."""
        items: list[dict[str, Any]] = []
        try:
            while True:
                answer = self._client.query(**query, Limit=wanted - len(items))
                items.extend(answer.get("Items", []))
                resume = answer.get("LastEvaluatedKey")
                if len(items) >= wanted or not resume:
                    return items
                query["ExclusiveStartKey"] = resume
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc

    # --- purge of deleted threads -------------------------------------------------------------------------

    def message_keys(self, tenant: str, thread_id: str, *, limit: int) -> list[dict[str, Any]]:
        """Keys of up to ``limit`` messages of a thread, oldest first (for the purge)."""
        return self._query_up_to(
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

    def delete_keys(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One ``BatchWriteItem`` deleting up to 25 items; returns the keys DynamoDB left unprocessed."""
        if len(keys) > BATCH_WRITE_LIMIT:
            raise ValueError(f"at most {BATCH_WRITE_LIMIT} keys per batch")
        try:
            answer = self._client.batch_write_item(
                RequestItems={self._table: [{"DeleteRequest": {"Key": key}} for key in keys]}
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        left = answer.get("UnprocessedItems", {}).get(self._table, [])
        return [request["DeleteRequest"]["Key"] for request in left]

    def hand_over_purge(self, tenant: str, thread_id: str, *, round_number: int) -> None:
        """Records a purge round on the deleted thread's item; the change re-triggers the purge."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_thread_key(tenant, thread_id),
                UpdateExpression="SET purge_round = :r",
                ConditionExpression="attribute_exists(deleted_at)",
                ExpressionAttributeValues={":r": {"N": str(round_number)}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (ThreadMissing,)) from exc

    def finish_purge(self, tenant: str, thread_id: str) -> None:
        """Removes the deleted thread's own item, once its messages are gone."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_thread_key(tenant, thread_id),
                ConditionExpression="attribute_exists(deleted_at)",
            )
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, (ThreadMissing,)) from exc


BATCH_WRITE_LIMIT = 25


@cache
def dynamodb_client() -> DynamoDBClient:
    """The container's DynamoDB client, built once. Tests call ``dynamodb_client.cache_clear()``."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    client: DynamoDBClient = boto3.client("dynamodb", config=config)
    return client


@cache
def get_store() -> MessageStore:
    """The container's store on the configured table. Tests call ``get_store.cache_clear()``."""
    return MessageStore(dynamodb_client(), get_settings().table_name)


def reset() -> None:
    """Forgets the cached client and store (tests, after switching mocks or settings)."""
    get_store.cache_clear()
    dynamodb_client.cache_clear()
