"""The DynamoDB store. The only module that knows the table's layout.

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
Callers ask for pages and records; botocore's errors never leave the storage code (``client.call`` turns
them into ``faults.StoreError``).

A message's content and attachments are JSON: UTF-8 strings when they fit in the item as they are, otherwise
zlib-compressed binary attributes (reading takes either), so that every message a request may carry is stored
whole whenever its compression fits (see ``stored_content``).

Writes whose outcome is unknown: when a write fails after an attempt that may have been carried out (its
answer lost or late, or a DynamoDB 5xx), the store reads the item back, strongly consistent, and reports
success if the write is there (``_settle``). A write's retry that meets its own earlier attempt (a put whose
item exists, a delete whose item is gone) is recognised as that attempt. Only a write whose fate stays unknown
within the time budget is reported as ``Unavailable`` with ``uncertain`` set.
"""

from __future__ import annotations

import json
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from threadkit import client, ids
from threadkit.faults import (
    ConditionFailed,
    MessageMissing,
    NotFound,
    StoreError,
    ThreadMissing,
    ThreadTooLarge,
    Throttled,
    TooLarge,
    Unavailable,
)
from threadkit.models import MAX_METADATA_KEY_LENGTH, MAX_METADATA_PAIRS, MAX_METADATA_VALUE_LENGTH
from threadkit.settings import get_settings

__all__ = [
    "ConditionFailed",
    "MessageMissing",
    "MessageRecord",
    "MessageStore",
    "NotFound",
    "Page",
    "StoreError",
    "ThreadMissing",
    "ThreadRecord",
    "ThreadTooLarge",
    "Throttled",
    "TooLarge",
    "Unavailable",
]

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
    json_bytes: int = field(default=0, compare=False)
    """UTF-8 bytes of the message's content, attachments and metadata as JSON, when it was read from the
    table (0 otherwise): a lower bound of its answer's size, and half an upper one."""


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
    reversed: bool = False
    """True when the records were read towards the cursor (``before`` alone): the ones nearest to it last."""


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


def _json_value(value: dict[str, Any]) -> tuple[Any, int]:
    """The JSON value an attribute holds, as text (``S``) or zlib-compressed UTF-8 (``B``), and the UTF-8
    bytes of that JSON."""
    if "B" in value:
        raw = zlib.decompress(value["B"])
        return json.loads(raw.decode("utf-8")), len(raw)
    text = value["S"]
    return json.loads(text), len(text.encode())


def _least_json_bytes(item: dict[str, Any]) -> int:
    """A lower bound of the UTF-8 bytes of a message item's JSON attributes, without decoding them (a
    compressed attribute counts its compressed size)."""
    return sum(_value_size(item.get(name, {})) for name in ("content", "attachments", "metadata"))


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
    content, content_bytes = _json_value(item["content"])
    attachments, attachments_bytes = _json_value(item["attachments"])
    metadata, metadata_bytes = _json_value(item["metadata"])
    return MessageRecord(
        id=item["sk"]["S"],
        thread_id=split_partition_key(item["pk"]["S"])[1],
        created_at=int(item["created_at"]["N"]),
        role=item["role"]["S"],
        content=content,
        attachments=attachments,
        metadata=metadata,
        assistant_id=text("assistant_id"),
        run_id=text("run_id"),
        status=item["status"]["S"],
        incomplete_details=None if details is None else json.loads(details),
        completed_at=number("completed_at"),
        incomplete_at=number("incomplete_at"),
        json_bytes=content_bytes + attachments_bytes + metadata_bytes,
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


BATCH_WRITE_LIMIT = 25


class MessageStore:
    """Threads and their messages in one DynamoDB table. Every method is at most two requests, plus a
    consistent read when a write's outcome must be found out."""

    def __init__(self, table_name: str, call: client.Caller = client.call) -> None:
        self._table = table_name
        self._call = call

    # --- reading back after a write of unknown outcome ----------------------------------------------------

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

    # --- threads ----------------------------------------------------------------------------------------

    def create_thread(self, tenant: str, thread: ThreadRecord, messages: list[MessageRecord]) -> None:
        """Writes a thread and its initial messages: all or none, in one request."""
        items = [_thread_item(tenant, thread)] + [_message_item(tenant, m) for m in messages]
        key = _thread_key(tenant, thread.id)
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

    def get_thread(self, tenant: str, thread_id: str) -> ThreadRecord:
        """The thread; ``ThreadMissing`` if it does not exist or is deleted."""
        item = self._get(_thread_key(tenant, thread_id))
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
        key = _thread_key(tenant, thread_id)
        wanted = {
            name: values[placeholder]
            for name, placeholder in (("metadata", ":m"), ("tool_resources", ":t"))
            if placeholder in values
        }

        def landed(item: dict[str, Any] | None) -> bool:
            return (
                item is not None
                and _is_live_thread(item)
                and all(item.get(n) == v for n, v in wanted.items())
            )

        try:
            answer = self._call(
                "update_item",
                write=True,
                TableName=self._table,
                Key=key,
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=_LIVE_THREAD,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed as exc:
            raise ThreadMissing(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            return _thread_from_item(self._settle(exc, key, landed))
        return _thread_from_item(answer["Attributes"])

    def delete_thread(self, tenant: str, thread_id: str, *, at: int) -> None:
        """Marks the thread deleted, in one conditional request; from then on it is missing everywhere.

        The item stays, marked, as the purge's work order: the table's stream hands the change to the purge
        function, which removes the messages and then the item itself. The mark carries a token of this call,
        so that a retry that meets its own earlier attempt is told from a thread deleted by another request.
        """
        key = _thread_key(tenant, thread_id)
        token = {"S": uuid.uuid4().hex}

        def landed(item: dict[str, Any] | None) -> bool:
            return item is not None and item.get("deleted_by") == token

        try:
            self._call(
                "update_item",
                write=True,
                TableName=self._table,
                Key=key,
                UpdateExpression="SET deleted_at = :at, purge_round = :zero, deleted_by = :by",
                ConditionExpression=_LIVE_THREAD,
                ExpressionAttributeValues={":at": {"N": str(at)}, ":zero": {"N": "0"}, ":by": token},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as exc:
            if not landed(exc.found.get(0)):
                raise ThreadMissing(thread_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(exc, key, landed)

    # --- messages ---------------------------------------------------------------------------------------

    def add(self, tenant: str, record: MessageRecord) -> None:
        """Writes a new message into a live thread; one transaction checks the thread and writes the
        message (never over another: ids are unique, and the write is conditional)."""
        item = _message_item(tenant, record)
        try:
            self._call(
                "transact_write_items",
                write=True,
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
                ],
            )
        except ConditionFailed as exc:
            if exc.failed != (1,):
                raise ThreadMissing(record.thread_id) from exc
            # Only the put failed: the message's id is ours alone (ids.py), so the item that exists is this
            # very write, carried out by an attempt whose answer was lost.
        except (Throttled, Unavailable) as exc:
            self._settle(exc, _message_key(tenant, record.thread_id, record.id), lambda found: found == item)

    def get_message(self, tenant: str, thread_id: str, message_id: str) -> MessageRecord:
        """The message, read with its thread in one consistent transaction."""
        answer = self._call(
            "transact_get_items",
            TransactItems=[
                {"Get": {"TableName": self._table, "Key": _thread_key(tenant, thread_id)}},
                {"Get": {"TableName": self._table, "Key": _message_key(tenant, thread_id, message_id)}},
            ],
        )
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
        key = _message_key(tenant, thread_id, message_id)

        def landed(item: dict[str, Any] | None) -> bool:
            return item is not None and (metadata is None or item.get("metadata") == {"S": value})

        try:
            answer = self._call(
                "update_item",
                write=True,
                TableName=self._table,
                Key=key,
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":m": {"S": value}},
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed as exc:
            raise MessageMissing(message_id) from exc
        except (Throttled, Unavailable) as exc:
            return _message_from_item(self._settle(exc, key, landed))
        return _message_from_item(answer["Attributes"])

    def delete_message(self, tenant: str, thread_id: str, message_id: str) -> None:
        """Deletes a message of a live thread: one transaction checks the thread and deletes the message
        if it exists. A retry that finds the message gone after an earlier attempt that may have been
        carried out counts as that attempt."""
        key = _message_key(tenant, thread_id, message_id)
        try:
            self._call(
                "transact_write_items",
                write=True,
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
                            "Key": key,
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ],
            )
        except ConditionFailed as exc:
            if 0 in exc.failed:
                raise ThreadMissing(thread_id) from exc
            if not exc.uncertain:
                raise MessageMissing(message_id) from exc
        except (Throttled, Unavailable) as exc:
            self._settle(exc, key, lambda found: found is None)

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
        max_bytes: int | None = None,
    ) -> Page:
        """One page of a live thread's messages in ``order``, strictly between the cursors that are given.

        ``after`` walks away from its cursor in ``order``; ``before`` alone takes the ``limit`` messages
        nearest to its cursor on the other side, still returned in ``order``. ``has_more`` says whether
        messages exist past the page on the side away from the cursor. Cursors must be well-formed ids.
        Two requests: the thread's item (a query cannot also read it), then one ``Query``.

        ``max_bytes``: reading stops early, with ``has_more``, once the messages read (at least two) surely
        exceed that many bytes of JSON; the caller then drops at least the last of them.
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
        items, full = self._query_up_to(query, wanted, max_bytes)
        records = [_message_from_item(item) for item in items[:limit]]
        if towards_cursor:
            records.reverse()
        return Page(records, has_more=len(items) > limit or full, reversed=towards_cursor)

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
                least += sum(_least_json_bytes(item) for item in found)
                if least > max_bytes and len(items) >= 2:
                    return items, True
            query["ExclusiveStartKey"] = resume

    # --- purge of deleted threads -------------------------------------------------------------------------

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
                Key=_thread_key(tenant, thread_id),
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
                Key=_thread_key(tenant, thread_id),
                ConditionExpression="attribute_exists(deleted_at)",
            )
        except ConditionFailed as exc:
            raise ThreadMissing(thread_id) from exc


# One store per container and table, built once.
_BUILD = threading.Lock()
_stores: dict[str, MessageStore] = {}


def get_store() -> MessageStore:
    """The container's store on the configured table, built once (``reset`` forgets it)."""
    table = get_settings().table_name
    with _BUILD:
        found = _stores.get(table)
        if found is None:
            found = _stores.setdefault(table, MessageStore(table))
        return found


def reset() -> None:
    """Forgets the cached clients and stores (tests, after switching mocks)."""
    with _BUILD:
        _stores.clear()
    client.reset()
