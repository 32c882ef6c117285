"""The largest messages: stored whole and returned byte for byte, or refused with a 400 naming the limit.

docs/contract.md, "Create message" and "Size limits": every request that passes validation is stored and
comes back exactly as sent, whatever its size; if the store cannot hold it, the answer is a 400 that names the
limit, never a 5xx. A DynamoDB item holds 400 KB, and the largest legal text alone is 1 MB of UTF-8 (256,000
four-byte characters): the store keeps content and attachments that do not fit as JSON zlib-compressed
(``schema.stored_content``). These tests drive the functions with the largest legal requests of both kinds,
compressible (stored whole) and random (refused), and check the stored items by the store's own size
accounting, which is exact and independent of moto's item limit (405,000 bytes) and of DynamoDB's (409,600).
"""

from __future__ import annotations

import json
import re
from typing import Any

import create_thread
import list_messages
import pytest
import retrieve_message
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import dynamo_type

from tests.support.api import (
    THREAD,
    assert_error,
    assert_message,
    checked,
    create_event,
    error,
    list_event,
    message_event,
    modify_event,
    send_create,
    send_list,
    send_modify,
)
from tests.support.api_events import TEST_TENANT, Answer, http_event
from tests.support.moto_table import TABLE_NAME
from tests.support.seeding import thread  # noqa: F401 - fixture
from tests.support.texts import (
    LARGEST_TEXTS,
    escaped_metadata,
    largest_metadata,
    largest_random_text,
    random_text,
    text_content,
)
from threadkit.contract.models import (
    MAX_TEXT_LENGTH,
)
from threadkit.storage import schema

# --- helpers ------------------------------------------------------------------------------------------------

MOTO_ITEM_LIMIT = 405_000


@pytest.fixture
def moto_counts_replaced_attributes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixes moto's item size check for updates: moto (5.2) adds an attribute's new value to the item's size
    *including* the value it replaces, so it refuses to replace 33 KB of metadata on an item of 380 KB that
    would stay far below its own limit (DynamoDB counts the item as it is after the update). With the fix,
    moto refuses exactly what exceeds its limit, so these tests see the store's own accounting."""

    def size(value: Any) -> int:
        return int(value.size()) if type(value) is dynamo_type.DynamoType else len(str(value).encode())

    def setitem(self: dict[str, Any], key: str, value: Any) -> None:
        others = sum(len(name.encode()) + size(kept) for name, kept in self.items() if name != key)
        if others + len(key.encode()) + size(value) > MOTO_ITEM_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    monkeypatch.setattr(dynamo_type.LimitedSizeDict, "__setitem__", setitem)


def retrieve(message_id: str, thread_id: str = THREAD) -> Answer:
    return checked(retrieve_message.lambda_handler, message_event("GET", thread_id, message_id))


def new_thread(body: dict[str, Any]) -> Answer:
    """Creates a thread; the body is sent as UTF-8 JSON (not escaped), as most clients send it, so that the
    largest requests stay within the API's body limit."""
    return checked(
        create_thread.lambda_handler,
        http_event(
            "POST", "/v1/threads", route_key="POST /v1/threads", raw_body=json.dumps(body, ensure_ascii=False)
        ),
    )


def list_all(thread_id: str) -> list[dict[str, Any]]:
    answer = checked(
        list_messages.lambda_handler,
        http_event(
            "GET",
            f"/v1/threads/{thread_id}/messages",
            route_key="GET /v1/threads/{thread_id}/messages",
            path_parameters={"thread_id": thread_id},
            query={"order": "asc", "limit": "100"},
        ),
    )
    assert answer.status == 200, answer.body
    assert answer.body["has_more"] is False
    data: list[dict[str, Any]] = answer.body["data"]
    return data


def table_items(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def message_item(client: Any, message_id: str, thread_id: str = THREAD) -> dict[str, Any]:
    item: dict[str, Any] = client.get_item(
        TableName=TABLE_NAME,
        Key={"pk": {"S": schema.partition_key(TEST_TENANT, thread_id)}, "sk": {"S": message_id}},
        ConsistentRead=True,
    )["Item"]
    return item


def too_large(size: int) -> dict[str, Any]:
    return error(
        "Invalid 'content': message too large to store. Expected content and attachments of at most "
        f"{schema.CONTENT_LIMIT} bytes as stored (UTF-8 JSON, compressed with zlib when larger), but got "
        f"{size} bytes instead.",
        param="content",
        code="message_too_large",
    )


# --- the largest legal text -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", LARGEST_TEXTS.values(), ids=LARGEST_TEXTS.keys())
@pytest.mark.usefixtures("thread")
def test_the_largest_compressible_text_is_stored_whole_and_comes_back_byte_for_byte(
    table: Any, text: str
) -> None:
    content = text_content(text)
    assert len(text) == MAX_TEXT_LENGTH
    assert len(text.encode()) == 4 * MAX_TEXT_LENGTH
    assert schema.content_size(content, []) > schema.CONTENT_LIMIT  # it fits only compressed

    created = send_create(create_event({"role": "user", "content": text}))

    assert created.status == 200, created.body
    assert_message(created.body, content=content)
    retrieved = retrieve(created.body["id"])
    assert retrieved.status == 200
    assert retrieved.body == created.body
    listed = send_list(list_event(order="asc"))
    assert listed.body["data"] == [created.body]
    # Byte for byte: the text inside the JSON the client receives is the text that was sent.
    for answer in (created, retrieved):
        received = json.loads(answer.raw["body"])["content"][0]["text"]["value"]
        assert received.encode() == text.encode()
    item = message_item(table, created.body["id"])
    assert set(item["content"]) == {"B"}
    assert set(item["attachments"]) == {"S"}
    stored = len(item["content"]["B"]) + len(item["attachments"]["S"].encode())
    assert stored == schema.stored_size(content, []) <= schema.CONTENT_LIMIT
    assert schema.item_size(item) <= schema.ITEM_SIZE_LIMIT


@pytest.mark.usefixtures("thread")
def test_the_largest_random_text_is_400_naming_the_limit_and_nothing_is_written(table: Any) -> None:
    text = random_text(MAX_TEXT_LENGTH)
    content = text_content(text)
    size = schema.stored_size(content, [])
    assert size > schema.CONTENT_LIMIT
    before = table_items(table)

    answer = send_create(create_event({"role": "user", "content": text}))

    assert_error(answer, 400, too_large(size))
    assert table_items(table) == before
    assert send_list(list_event()).body["data"] == []


@pytest.mark.usefixtures("thread")
def test_a_message_just_over_the_limit_as_stored_is_400_and_one_at_the_limit_is_stored() -> None:
    attachments = [{"file_id": "file-" + "a" * 40, "tools": [{"type": "file_search"}]}]
    text = largest_random_text(schema.CONTENT_LIMIT, attachments=attachments)
    longer = text + random_text(1, seed=1)
    fits = schema.stored_size(text_content(text), attachments)
    exceeds = schema.stored_size(text_content(longer), attachments)
    assert fits <= schema.CONTENT_LIMIT < exceeds
    assert schema.CONTENT_LIMIT - fits < 16  # the largest message the store holds, within a few bytes

    refused = send_create(create_event({"role": "user", "content": longer, "attachments": attachments}))
    assert_error(refused, 400, too_large(exceeds))
    assert send_list(list_event()).body["data"] == []

    created = send_create(create_event({"role": "user", "content": text, "attachments": attachments}))
    assert created.status == 200, created.body
    assert_message(created.body, content=text_content(text), attachments=attachments)
    assert retrieve(created.body["id"]).body == created.body


@pytest.mark.usefixtures("thread")
def test_content_that_fits_as_json_is_stored_as_a_plain_string(table: Any) -> None:
    text = "é" * 100_000  # 200 KB of UTF-8: fits as it is, although it would compress to almost nothing
    created = send_create(create_event({"role": "user", "content": text}))
    assert created.status == 200
    item = message_item(table, created.body["id"])
    assert item["content"] == {"S": json.dumps(text_content(text), ensure_ascii=False, separators=(",", ":"))}
    assert item["attachments"] == {"S": "[]"}
    assert retrieve(created.body["id"]).body == created.body


# --- the largest metadata on the largest message ------------------------------------------------------------


@pytest.mark.usefixtures("thread", "moto_counts_replaced_attributes_once")
def test_the_largest_metadata_fits_on_create_and_on_every_later_modify_of_the_largest_message(
    table: Any,
) -> None:
    text = largest_random_text(schema.CONTENT_LIMIT)
    content = text_content(text)
    assert schema.CONTENT_LIMIT - schema.stored_size(content, []) < 16
    first = largest_metadata(0x1F600)
    assert len(json.dumps(first, ensure_ascii=False).encode()) > 32 * 1024

    created = send_create(create_event({"role": "user", "content": text, "metadata": first}))

    assert created.status == 200, created.body
    assert_message(created.body, content=content, metadata=first)
    item = message_item(table, created.body["id"])
    assert set(item["content"]) == {"B"}
    assert schema.item_size(item) <= schema.ITEM_SIZE_LIMIT
    for metadata in (largest_metadata(0x1F900), escaped_metadata(), {}, first):
        modified = send_modify(modify_event(created.body["id"], {"metadata": metadata}))
        assert modified.status == 200, modified.body
        assert modified.body == {**created.body, "metadata": metadata}
        item = message_item(table, created.body["id"])
        # The store's own count, not moto's (405,000) or DynamoDB's (409,600): never above its limit.
        assert schema.item_size(item) <= schema.ITEM_SIZE_LIMIT < 405_000 < 409_600
        assert retrieve(created.body["id"]).body == modified.body


def test_item_size_counts_binary_values_by_their_bytes() -> None:
    item = {"pk": {"S": "é"}, "content": {"B": b"\x00" * 10}, "created_at": {"N": "1761861545"}}
    assert schema.item_size(item) == 2 + 2 + len("content") + 10 + len("created_at") + (10 // 2 + 2)


# --- a thread's initial messages ----------------------------------------------------------------------------


def test_a_thread_stores_its_largest_initial_messages_the_same_way(table: Any) -> None:
    texts = [*LARGEST_TEXTS.values(), "hello", largest_random_text(schema.CONTENT_LIMIT)]
    body = {"messages": [{"role": "user", "content": text} for text in texts]}

    answer = new_thread(body)

    assert answer.status == 200, answer.body
    thread_id = answer.body["id"]
    listed = list_all(thread_id)
    assert [m["content"] for m in listed] == [text_content(text) for text in texts]
    for message in listed:
        assert retrieve(message["id"], thread_id).body == message
    kinds = [set(message_item(table, m["id"], thread_id)["content"]) for m in listed]
    assert kinds == [{"B"}, {"B"}, {"S"}, {"B"}]
    items = [message_item(table, m["id"], thread_id) for m in listed]
    assert all(schema.item_size(item) <= schema.ITEM_SIZE_LIMIT for item in items)


def test_initial_messages_over_4mb_as_stored_are_refused_whole_naming_the_limit(table: Any) -> None:
    # Twelve random texts that each fit one item, compressed, but not one transaction together.
    text = largest_random_text(schema.CONTENT_LIMIT)[:-1000]
    body = {"messages": [{"role": "user", "content": text}] * 12}
    assert len(json.dumps(body, ensure_ascii=False).encode()) < 6 * 1024 * 1024  # within the body limit

    answer = new_thread(body)

    assert answer.status == 400, answer.body
    assert answer.body["error"]["param"] == "messages"
    assert answer.body["error"]["code"] == "messages_too_large"
    stated = re.search(
        r"of at most (\d+) bytes in all, but got (\d+) bytes instead", answer.body["error"]["message"]
    )
    assert stated is not None, answer.body
    limit, size = (int(group) for group in stated.groups())
    assert limit == schema.TRANSACTION_SIZE_LIMIT < size
    assert size > 12 * schema.stored_size(text_content(text), [])
    assert table_items(table) == []
