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

A message's content and attachments are JSON: UTF-8 strings when they fit in the item as they are, otherwise
zlib-compressed binary attributes (reading takes either), so that every message a request may carry is stored
whole whenever its compression fits (see ``stored_content``).

Faults: the client (``dynamodb_client``) retries throttling, 5xx answers and lost or timed-out connections
within a budget that fits the functions' 10-second timeout; what is left after its retries becomes
``Throttled`` (a 429 for the client) or ``Unavailable`` (a 503), never an unexplained failure.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

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
"""Bytes available to a message's content and attachments as stored: UTF-8 JSON, or its zlib compression
when the JSON does not fit (see ``stored_content``)."""
COMPRESSION_LEVEL = 6

# DynamoDB accepts at most 4 MB in one transaction; a thread's initial messages are written in one.
TRANSACTION_SIZE_LIMIT = 4_000_000
THREAD_SK = "thread"
_LIVE_THREAD = "attribute_exists(pk) AND attribute_not_exists(deleted_at)"

# What a failed call means for the client. Throttling (the table's or the account's throughput) is a 429: the
# client sends too much, and should slow down. The rest is a 503: DynamoDB failed (5xx), could not be reached
# or did not answer in time, or the write met a concurrent transaction on the same item (a conflict is no rate
# the client exceeded, and the same request succeeds when it is sent again).
_THROTTLING = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_THROTTLING_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
_UNAVAILABLE = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
_UNAVAILABLE_REASONS = frozenset({"TransactionConflict"})
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


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


class Unavailable(StoreError):
    """DynamoDB failed, was unreachable, did not answer in time, or met a conflicting transaction, even after
    the client's retries: worth sending again shortly."""


class TooLarge(StoreError):
    """A message whose content and attachments take more than ``limit`` bytes as stored."""

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
    """What content and attachments take as UTF-8 JSON; they are stored so when it is at most the limit."""
    return len(_dumps(content).encode()) + len(_dumps(attachments).encode())


def stored_content(
    content: list[dict[str, Any]], attachments: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attribute values that hold content and attachments.

    Both are UTF-8 JSON strings (``S``) when together they fit in ``CONTENT_LIMIT``: most messages, as
    readable as ever. Otherwise each is whichever is smaller of its JSON and the zlib compression of that
    JSON (``B``). Text compresses well (a 256,000-character text of four-byte characters, 1 MB as JSON,
    typically to a third of that or much less), so the largest legal messages fit; what still exceeds the
    limit is refused with the size measured here. Reading takes either form (``_json_value``).
    """
    texts = (_dumps(content), _dumps(attachments))
    if sum(len(text.encode()) for text in texts) <= CONTENT_LIMIT:
        return {"S": texts[0]}, {"S": texts[1]}
    return _smaller(texts[0]), _smaller(texts[1])


def _smaller(text: str) -> dict[str, Any]:
    raw = text.encode()
    packed = zlib.compress(raw, COMPRESSION_LEVEL)
    return {"B": packed} if len(packed) < len(raw) else {"S": text}


def stored_size(content: list[dict[str, Any]], attachments: list[dict[str, Any]]) -> int:
    """What content and attachments take in an item (``stored_content``), the measure ``CONTENT_LIMIT``
    bounds."""
    return sum(_value_size(value) for value in stored_content(content, attachments))


def _json_value(value: dict[str, Any]) -> Any:
    """The JSON value an attribute holds, as text (``S``) or zlib-compressed UTF-8 (``B``)."""
    if "B" in value:
        return json.loads(zlib.decompress(value["B"]).decode("utf-8"))
    return json.loads(value["S"])


def _value_size(value: dict[str, Any]) -> int:
    """An attribute value's size by DynamoDB's rule: strings in UTF-8 bytes, binaries in bytes, numbers
    (bounded by) half their digits plus two."""
    if "S" in value:
        return len(value["S"].encode())
    if "B" in value:
        return len(value["B"])
    if "N" in value:
        return len(value["N"]) // 2 + 2
    return 0


def item_size(item: dict[str, Any]) -> int:
    """An item's size by DynamoDB's rule: attribute names plus values (``_value_size``)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _message_key(tenant: str, thread_id: str, message_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": message_id}}


def _thread_key(tenant: str, thread_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": THREAD_SK}}


def _message_item(tenant: str, record: MessageRecord) -> dict[str, Any]:
    content, attachments = stored_content(record.content, record.attachments)
    size = _value_size(content) + _value_size(attachments)
    if size > CONTENT_LIMIT:
        raise TooLarge(size, CONTENT_LIMIT)
    pk = partition_key(tenant, record.thread_id)
    item: dict[str, Any] = {
        "pk": {"S": pk},
        "sk": {"S": record.id},
        "created_at": {"N": str(record.created_at)},
        "role": {"S": record.role},
        "content": content,
        "attachments": attachments,
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
        content=_json_value(item["content"]),
        attachments=_json_value(item["attachments"]),
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


def _failed_condition_found(exc: ClientError) -> dict[str, Any] | None:
    """The item a single-item write's failed condition found (sent with
    ``ReturnValuesOnConditionCheckFailure=ALL_OLD``), or None when the failure is another."""
    if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
        return None
    found = exc.response.get("Item")
    return found if isinstance(found, dict) and found else None


def _translate(
    exc: ClientError | BotoCoreError, reasons: tuple[type[NotFound] | None, ...] = ()
) -> StoreError:
    """The store's error for a failed call (after the client's retries); ``reasons`` names, per transaction
    item, what its failed condition means.

    Throttling is ``Throttled``; a 5xx, a conflicting transaction, or a connection that failed or timed out is
    ``Unavailable``; anything else (a bug, a missing table, missing permissions) is a plain ``StoreError``.
    """
    if isinstance(exc, BotocoreConnectionError | HTTPClientError):
        # Connect and read timeouts, refused or reset connections, unreachable endpoints.
        return Unavailable(type(exc).__name__)
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
                if reason_code in _UNAVAILABLE_REASONS:
                    return Unavailable(reason_code)
        if code == "ConditionalCheckFailedException":
            return reasons[0](code) if reasons and reasons[0] is not None else NotFound(code)
        if code in _THROTTLING:
            return Throttled(code)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _UNAVAILABLE or status in _UNAVAILABLE_STATUSES:
            return Unavailable(code or str(status))
    return StoreError(str(exc))


def _only_put_failed(exc: ClientError | BotoCoreError) -> bool:
    """Whether a (check thread, put message) transaction failed only on the put's condition."""
    if not isinstance(exc, ClientError):
        return False
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
    return len(reasons) == 2 and reasons[0] in (None, "None") and reasons[1] == "ConditionalCheckFailed"


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
                try:
                    self._client.put_item(
                        TableName=self._table,
                        Item=items[0],
                        ConditionExpression="attribute_not_exists(pk)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    )
                except ClientError as exc:
                    # Thread ids never repeat, so the only item the put can meet is its own: an earlier
                    # attempt of this call that DynamoDB carried out, whose answer was lost, and which the
                    # client retried. (The transaction below needs no such care: botocore's
                    # ClientRequestToken makes it idempotent.)
                    if _failed_condition_found(exc) != items[0]:
                        raise
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
            if _only_put_failed(exc):
                # The message's id is ours alone (ids.py), so an existing item with it is this very write,
                # carried out by an attempt whose answer was lost (a timeout, then botocore's retry).
                return
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

# --- the client: retries and timeouts ---------------------------------------------------------------------
#
# Every function has 10 seconds (template.yaml). Each DynamoDB call is retried by botocore's "standard" mode,
# which retries throttling, 5xx answers and failed, reset or timed-out connections, waiting before retry n
# rand(0, 1) x 2^(n-1) seconds (throttling; older botocores, such as the Lambda runtime may provide, for every
# error). The worst case of one call is every attempt connecting just under CONNECT_TIMEOUT and then waiting
# READ_TIMEOUT for an answer that never comes, with the longest waits between attempts:
#
#     CALL_BUDGET = MAX_ATTEMPTS x (CONNECT_TIMEOUT + READ_TIMEOUT) + MAX_BACKOFF
#                 = 2 x (0.25 s + 0.5 s) + 1 s = 2.5 s
#
# A request makes at most three calls in a row (the API key's GetItem, at most once per key per 30 seconds;
# then the thread's GetItem and the Query or UpdateItem of list and modify), each of which may use its whole
# budget and still succeed: REQUEST_BUDGET = 3 x 2.5 s = 7.5 s, which leaves the function 2.5 s of its 10 for
# everything else (milliseconds: compressing a 1 MB message takes about 30 ms). Most operations make one or
# two calls (5 s at worst). (A create with an Idempotency-Key adds its record's PutItem and UpdateItem, see
# idempotency.py: four calls, 10 s at worst, which that path's functions would need more time for.) When
# DynamoDB is unreachable, the first call fails after 2.5 s and the client gets a 503 with Retry-After; a
# throttled call gets its one retry after at most a second, then the client gets a 429 and slows down
# itself. Two attempts rather than more is the price of that bound, and the right one for throttling: the
# client's own retry (the SDKs honour Retry-After) backs off without holding a Lambda.
#
# DynamoDB answers in milliseconds: READ_TIMEOUT is the wait for a whole request to be sent (a transaction of
# at most 4 MB) and answered, CONNECT_TIMEOUT covers the TCP and TLS handshakes in the region. A retried
# write that DynamoDB had already carried out is harmless: transactions carry botocore's ClientRequestToken,
# the metadata updates write the same values again, and create thread's conditional put recognises its own
# earlier attempt. (Only delete thread's retry would then find the thread gone: a 404, the thread deleted.)
MAX_ATTEMPTS = 2
CONNECT_TIMEOUT = 0.25
READ_TIMEOUT = 0.5
MAX_BACKOFF = float(sum(2 ** (n - 1) for n in range(1, MAX_ATTEMPTS)))
CALL_BUDGET = MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + MAX_BACKOFF
CALLS_PER_REQUEST = 3
REQUEST_BUDGET = CALLS_PER_REQUEST * CALL_BUDGET
FUNCTION_TIMEOUT = 10.0
RETRY_AFTER_HINT = "x-amz-retry-after"


def _ignore_retry_after_hint(response: Any = None, **_: Any) -> None:
    """Drops a service's ``x-amz-retry-after`` hint before botocore's standard retry reads it: newer
    botocores would wait up to 5 s longer than their backoff for it, outside the budget above. DynamoDB sends
    none today; this keeps the bound true if it ever does."""
    if response is not None:
        response[0].headers.pop(RETRY_AFTER_HINT, None)


def new_client() -> DynamoDBClient:
    """A DynamoDB client with this module's retries and timeouts (read when it is built, so tests may change
    them first)."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        tcp_keepalive=True,
    )
    with _BUILD:
        client: DynamoDBClient = _session().client("dynamodb", config=config)
    client.meta.events.register_first("needs-retry.dynamodb", _ignore_retry_after_hint)
    return client


# One client and one store per container, built once even when threads ask for them at the same time. A
# client is thread-safe once built, but building clients is not, on one session (boto3's default session
# included): this module builds its clients one at a time, on a session of its own.
_BUILD = threading.RLock()


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def _client() -> DynamoDBClient:
    return new_client()


@cache
def _store() -> MessageStore:
    return MessageStore(dynamodb_client(), get_settings().table_name)


def dynamodb_client() -> DynamoDBClient:
    """The container's DynamoDB client, built once (``reset`` forgets it)."""
    with _BUILD:
        return _client()


def get_store() -> MessageStore:
    """The container's store on the configured table, built once (``reset`` forgets it)."""
    with _BUILD:
        return _store()


def reset() -> None:
    """Forgets the cached client and store (tests, after switching mocks or settings)."""
    with _BUILD:
        _store.cache_clear()
        _client.cache_clear()
