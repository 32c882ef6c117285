"""How threads and messages are kept in the table: keys, items, and the size rules.

One table (README "Table design"):

* partition key ``pk`` = ``<tenant>#<thread_id>``: one thread of one tenant, its item and its messages;
* sort key ``sk`` = ``thread`` for the thread's own item, the message id for a message. Ids are time-ordered,
  fixed-length base-62 (``contract/ids.py``), so the sort key order *is* creation order, and a cursor id *is*
  a key position: "after X" is ``sk > X``, with no read. ``thread`` sorts after every ``msg_`` id, outside the
  range that message queries read;
* a deleted thread keeps its item, marked ``deleted_at``, until the purge has removed its messages;
* sparse global index ``by_run`` (``gsi1pk`` = ``<pk>#<run_id>``, ``gsi1sk`` = id): only messages that belong
  to a run carry its keys, so a ``run_id`` filter is one page of one query, however long the thread;
* sparse global index ``by_tenant`` (``gsi2pk`` = tenant, ``gsi2sk`` = ``<created_at, 10 digits>#<id>``):
  only live threads carry its keys (a delete removes them), so the list of a tenant's threads is one query
  in creation order. A thread's metadata is also kept as a map (``meta``) for the list's metadata filters;
* while a thread is being imported, its partition holds an import marker (``sk`` = ``import``) instead of the
  thread's item: the messages are written first, invisible, and the thread's item last (``import_store.py``).

A message's content and attachments are JSON: UTF-8 strings when they fit in the item as they are, otherwise
zlib-compressed binary attributes (reading takes either), so that every message a request may carry is stored
whole whenever its compression fits (see ``stored_content``). Nothing here talks to DynamoDB.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from threadkit.contract.models import MAX_METADATA_KEY_LENGTH, MAX_METADATA_PAIRS, MAX_METADATA_VALUE_LENGTH
from threadkit.storage.faults import TooLarge

RUN_INDEX = "by_run"
THREADS_INDEX = "by_tenant"
IMPORT_SK = "import"
MAX_CREATED_AT = 9_999_999_999
"""The latest ``created_at`` a thread may carry (10 digits in the list's sort key: the year 2286)."""

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
LIVE_THREAD = "attribute_exists(pk) AND attribute_not_exists(deleted_at)"


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


@dataclass(frozen=True, slots=True)
class ThreadPage:
    records: list[ThreadRecord]
    has_more: bool


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def partition_key(tenant: str, thread_id: str) -> str:
    return f"{tenant}#{thread_id}"


def split_partition_key(pk: str) -> tuple[str, str]:
    """(tenant, thread_id) of a partition key."""
    tenant, thread_id = pk.split("#", 1)
    return tenant, thread_id


def content_size(content: list[dict[str, Any]], attachments: list[dict[str, Any]]) -> int:
    """What content and attachments take as UTF-8 JSON; they are stored so when it is at most the limit."""
    return len(dumps(content).encode()) + len(dumps(attachments).encode())


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
    texts = (dumps(content), dumps(attachments))
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
    return sum(value_size(value) for value in stored_content(content, attachments))


def json_value(value: dict[str, Any]) -> tuple[Any, int]:
    """The JSON value an attribute holds, as text (``S``) or zlib-compressed UTF-8 (``B``), and the UTF-8
    bytes of that JSON."""
    if "B" in value:
        raw = zlib.decompress(value["B"])
        return json.loads(raw.decode("utf-8")), len(raw)
    text = value["S"]
    if text == "[]" or text == "{}":  # most messages' attachments and metadata: no parse needed
        return ([] if text == "[]" else {}), 2
    return json.loads(text), len(text.encode())


def least_json_bytes(item: dict[str, Any]) -> int:
    """A lower bound of the UTF-8 bytes of a message item's JSON attributes, without decoding them (a
    compressed attribute counts its compressed size)."""
    return sum(value_size(item.get(name, {})) for name in ("content", "attachments", "metadata"))


def value_size(value: dict[str, Any]) -> int:
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
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def message_key(tenant: str, thread_id: str, message_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": message_id}}


def thread_key(tenant: str, thread_id: str) -> dict[str, Any]:
    return {"pk": {"S": partition_key(tenant, thread_id)}, "sk": {"S": THREAD_SK}}


def message_item(tenant: str, record: MessageRecord) -> dict[str, Any]:
    content, attachments = stored_content(record.content, record.attachments)
    size = value_size(content) + value_size(attachments)
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
        "metadata": {"S": dumps(record.metadata)},
        "status": {"S": record.status},
    }
    if record.assistant_id is not None:
        item["assistant_id"] = {"S": record.assistant_id}
    if record.run_id is not None:
        item["run_id"] = {"S": record.run_id}
        item["gsi1pk"] = {"S": f"{pk}#{record.run_id}"}
        item["gsi1sk"] = {"S": record.id}
    if record.incomplete_details is not None:
        item["incomplete_details"] = {"S": dumps(record.incomplete_details)}
    if record.completed_at is not None:
        item["completed_at"] = {"N": str(record.completed_at)}
    if record.incomplete_at is not None:
        item["incomplete_at"] = {"N": str(record.incomplete_at)}
    return item


def message_from_item(item: dict[str, Any]) -> MessageRecord:
    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value["S"])

    def number(name: str) -> int | None:
        value = item.get(name)
        return None if value is None else int(value["N"])

    details = text("incomplete_details")
    content, content_bytes = json_value(item["content"])
    attachments, attachments_bytes = json_value(item["attachments"])
    metadata, metadata_bytes = json_value(item["metadata"])
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


def list_key(created_at: int, thread_id: str) -> str:
    """A thread's sort key in the ``by_tenant`` index: creation time, then id."""
    return f"{created_at:010d}#{thread_id}"


def metadata_map(metadata: dict[str, str]) -> dict[str, Any]:
    """Metadata as a map attribute, which a filter can address pair by pair (``meta.#key = :value``)."""
    return {"M": {key: {"S": value} for key, value in metadata.items()}}


def thread_item(tenant: str, record: ThreadRecord) -> dict[str, Any]:
    return {
        **thread_key(tenant, record.id),
        "created_at": {"N": str(record.created_at)},
        "metadata": {"S": dumps(record.metadata)},
        "meta": metadata_map(record.metadata),
        "tool_resources": {"S": dumps(record.tool_resources)},
        "gsi2pk": {"S": tenant},
        "gsi2sk": {"S": list_key(record.created_at, record.id)},
    }


def thread_from_item(item: dict[str, Any]) -> ThreadRecord:
    return ThreadRecord(
        id=split_partition_key(item["pk"]["S"])[1],
        created_at=int(item["created_at"]["N"]),
        metadata=json.loads(item["metadata"]["S"]),
        tool_resources=json.loads(item["tool_resources"]["S"]),
    )


@dataclass(frozen=True, slots=True)
class DeletedThread:
    """A thread marked deleted, as the table's stream shows it: whose it is and which purge round is next."""

    tenant: str
    thread_id: str
    round_number: int


def deleted_thread_of(image: dict[str, Any]) -> DeletedThread | None:
    """The deleted thread a stream record's new image (deserialized to plain values) shows, or None when the
    image is of anything else."""
    if not image or image.get("sk") != THREAD_SK or "deleted_at" not in image:
        return None
    tenant, thread_id = split_partition_key(str(image["pk"]))
    return DeletedThread(tenant, thread_id, int(image.get("purge_round", 0)))


def is_live_thread(item: dict[str, Any] | None) -> bool:
    return item is not None and "pk" in item and "deleted_at" not in item


BATCH_WRITE_LIMIT = 25
