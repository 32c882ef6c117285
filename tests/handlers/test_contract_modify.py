"""CONTRACT.md, "Modify" and its error rows: POST /v1/threads/{thread_id}/messages/{message_id}."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import (
    OTHER_THREAD,
    THREAD,
    UNKNOWN_MESSAGE,
    UNPARSABLE,
    assert_error,
    assert_message,
    create,
    error,
    list_event,
    message_not_found,
    modify_event,
    send_list,
    send_modify,
    text_part,
    thread_not_found,
)
from tests.support.moto_table import TABLE_NAME
from tests.support.seeding import (
    MISSING_THREAD_KINDS,
    item_keys,
    make_thread,
    missing_thread,
    thread,  # noqa: F401 - fixture
    thread_key,
)

ORIGINAL_METADATA = {"source": "sample", "user": "abc123"}


def _created(metadata: dict[str, str] | None = None) -> dict[str, Any]:
    return create(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hello"},
                {"type": "image_file", "image_file": {"file_id": "f"}},
            ],
            "attachments": [{"file_id": "file-1", "tools": [{"type": "file_search"}]}],
            "metadata": ORIGINAL_METADATA if metadata is None else metadata,
        }
    )


def _scan(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _listed(message_id: str, thread_id: str = THREAD) -> dict[str, Any]:
    (found,) = [m for m in send_list(list_event(thread_id)).body["data"] if m["id"] == message_id]
    assert isinstance(found, dict)
    return found


# --- success ------------------------------------------------------------------------------------------------


NEW_METADATA = {
    "one-pair": {"modified": "true"},
    "overlapping-keys": {"user": "xyz", "new": "1"},
    "sixteen-longest-values": {f"k{i}": "v" * 512 for i in range(16)},
    "multibyte-at-limits": {"é" * 64: "€" * 512},
}


@pytest.mark.usefixtures("thread")
def test_modify_with_metadata_replaces_the_whole_map(subtests: pytest.Subtests) -> None:
    for name, metadata in NEW_METADATA.items():
        with subtests.test(name):
            message = _created()

            answer = send_modify(modify_event(message["id"], {"metadata": metadata}))

            assert answer.status == 200, answer.body
            assert answer.body == {**message, "metadata": metadata}
            assert list(answer.body) == list(message)
            assert list(answer.body["metadata"]) == list(metadata)
            assert _listed(message["id"]) == answer.body


@pytest.mark.usefixtures("thread")
def test_modify_with_empty_metadata_clears_it(table: Any) -> None:
    message = _created()

    answer = send_modify(modify_event(message["id"], {"metadata": {}}))

    assert answer.status == 200
    assert answer.body == {**message, "metadata": {}}
    assert _listed(message["id"])["metadata"] == {}


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("body", [{"metadata": None}, {}], ids=["null", "absent"])
def test_modify_without_metadata_leaves_the_message_unchanged(table: Any, body: dict[str, Any]) -> None:
    message = _created()
    items = _scan(table)

    answer = send_modify(modify_event(message["id"], body))

    assert answer.status == 200
    assert answer.body == message
    assert _scan(table) == items


@pytest.mark.usefixtures("thread")
def test_modify_keeps_role_content_and_times(table: Any) -> None:
    message = create({"role": "assistant", "content": "answer", "metadata": {"a": "1"}})

    answer = send_modify(modify_event(message["id"], {"metadata": {"b": "2"}}))

    assert_message(answer.body, role="assistant", content=[text_part("answer")], metadata={"b": "2"})
    assert answer.body["created_at"] == message["created_at"]
    assert answer.body["completed_at"] == message["completed_at"]


@pytest.mark.usefixtures("thread")
def test_modify_twice_keeps_only_the_last_metadata(table: Any) -> None:
    message = _created()

    send_modify(modify_event(message["id"], {"metadata": {"a": "1"}}))
    answer = send_modify(modify_event(message["id"], {"metadata": {"b": "2"}}))

    assert answer.body["metadata"] == {"b": "2"}
    assert _listed(message["id"])["metadata"] == {"b": "2"}


@pytest.mark.usefixtures("thread")
def test_modify_touches_only_that_message(table: Any) -> None:
    first = _created({"n": "1"})
    second = _created({"n": "2"})

    send_modify(modify_event(first["id"], {"metadata": {}}))

    assert _listed(second["id"]) == second


# --- not found: 404, and nothing is written -----------------------------------------------------------------


MISSING_IDS = [UNKNOWN_MESSAGE, "msg_" + "0" * 24, "msg_" + "z" * 24, "msg_short", "msg_" + "-" * 24]


@pytest.mark.usefixtures("thread")
def test_modify_of_missing_message_is_404_and_writes_nothing(table: Any, subtests: pytest.Subtests) -> None:
    message = _created()
    items = _scan(table)
    for message_id in MISSING_IDS:
        with subtests.test(message_id):
            answer = send_modify(modify_event(message_id, {"metadata": {"a": "b"}}))

            assert_error(answer, 404, message_not_found(message_id))
            assert _scan(table) == items
    assert _listed(message["id"]) == message


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("body", [{"metadata": None}, {}], ids=["null", "absent"])
def test_modify_of_missing_message_without_metadata_is_404_and_writes_nothing(
    table: Any, body: dict[str, Any]
) -> None:
    items = _scan(table)

    answer = send_modify(modify_event(UNKNOWN_MESSAGE, body))

    assert_error(answer, 404, message_not_found(UNKNOWN_MESSAGE))
    assert _scan(table) == items
    assert item_keys(items) == [thread_key(THREAD)]  # the thread's own item, and no message


@pytest.mark.usefixtures("thread")
def test_modify_of_message_in_another_thread_is_404_and_writes_nothing(table: Any) -> None:
    make_thread(OTHER_THREAD)
    message = _created()
    items = _scan(table)

    answer = send_modify(modify_event(message["id"], {"metadata": {"a": "b"}}, thread_id=OTHER_THREAD))

    assert_error(answer, 404, message_not_found(message["id"]))
    assert _scan(table) == items
    assert _listed(message["id"]) == message
    assert send_list(list_event(OTHER_THREAD)).body["data"] == []


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize(
    "body", [{"metadata": {"a": "b"}}, {"metadata": None}, {}], ids=["set", "null", "absent"]
)
@pytest.mark.parametrize("kind", MISSING_THREAD_KINDS)
def test_modify_in_a_thread_that_does_not_exist_is_404_and_writes_nothing(
    table: Any, kind: str, body: dict[str, Any]
) -> None:
    message = _created()
    thread_id = missing_thread(kind)
    items = _scan(table)
    for message_id in [message["id"], UNKNOWN_MESSAGE, "msg_short"]:
        answer = send_modify(modify_event(message_id, body, thread_id=thread_id))

        assert_error(answer, 404, thread_not_found(thread_id))
        assert _scan(table) == items
    assert _listed(message["id"]) == message


# --- errors: 400, and nothing is written --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"metadata": {}, "foo": "bar"},
            error("Unknown parameter: 'foo'.", param="foo", code="unknown_parameter"),
            id="unknown-key",
        ),
        pytest.param(
            {"role": "assistant"},
            error("Unknown parameter: 'role'.", param="role", code="unknown_parameter"),
            id="role",
        ),
        pytest.param(
            {"content": "changed", "metadata": {}},
            error("Unknown parameter: 'content'.", param="content", code="unknown_parameter"),
            id="content",
        ),
        pytest.param(
            {"attachments": []},
            error("Unknown parameter: 'attachments'.", param="attachments", code="unknown_parameter"),
            id="attachments",
        ),
        pytest.param(
            {"file_ids": []},
            error("Unknown parameter: 'file_ids'.", param="file_ids", code="unknown_parameter"),
            id="v1-file_ids",
        ),
        pytest.param(
            {"metadata": {"modified": True}},
            error(
                "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
                param="metadata.modified",
                code="invalid_type",
            ),
            id="metadata-value-boolean",
        ),
        pytest.param(
            {"metadata": ["a"]},
            error(
                "Invalid type for 'metadata': expected an object, but got an array instead.",
                param="metadata",
                code="invalid_type",
            ),
            id="metadata-array",
        ),
        pytest.param(
            {"metadata": {f"k{i}": "v" for i in range(17)}},
            error(
                "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
                "but got an object with 17 properties instead.",
                param="metadata",
                code="object_above_max_properties",
            ),
            id="metadata-17-keys",
        ),
        pytest.param(
            {"metadata": {"k": "x" * 695}},
            error(
                "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
                "but got a string with length 695 instead.",
                param="metadata.k",
                code="string_above_max_length",
            ),
            id="metadata-value-695",
        ),
        pytest.param(
            {"metadata": {"k" * 65: "v"}},
            error(
                "Invalid 'metadata': property name too long. Expected a string with maximum length 64, "
                "but got a string with length 65 instead.",
                param="metadata",
                code="property_name_above_max_length",
            ),
            id="metadata-key-65",
        ),
    ],
)
@pytest.mark.usefixtures("no_dynamodb")
def test_modify_with_invalid_body_is_400_without_touching_the_table(
    body: dict[str, Any], expected: dict[str, Any]
) -> None:
    answer = send_modify(modify_event(UNKNOWN_MESSAGE, body))

    assert_error(answer, 400, expected)


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("raw_body", ["{", "[]", "null", '"metadata"', "5", '{"metadata": NaN}'])
def test_modify_with_body_that_is_not_a_json_object_is_400_unparsable(raw_body: str) -> None:
    answer = send_modify(modify_event(UNKNOWN_MESSAGE, raw_body=raw_body))

    assert_error(answer, 400, error(UNPARSABLE))


@pytest.mark.usefixtures("thread")
def test_modify_with_body_that_is_an_array_of_an_object_is_400_unparsable(table: Any) -> None:
    message = _created()
    items = _scan(table)

    answer = send_modify(modify_event(message["id"], raw_body='[{"metadata": {"a": "b"}}]'))

    assert_error(answer, 400, error(UNPARSABLE))
    assert _scan(table) == items


@pytest.mark.parametrize(
    "message_id", ["message_abc", "abc", "MSG_abc123", "thread_abc123DEF456ghi789JKL012"]
)
@pytest.mark.usefixtures("no_dynamodb")
def test_modify_of_message_id_without_msg_prefix_is_400_invalid_value(message_id: str) -> None:
    answer = send_modify(modify_event(message_id, {"metadata": {}}))

    assert_error(
        answer,
        400,
        error(
            f"Invalid 'message_id': '{message_id}'. Expected an ID that begins with 'msg'.",
            param="message_id",
            code="invalid_value",
        ),
    )


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("thread_id", ["thr_abc", "abc"])
def test_modify_in_thread_id_without_thread_prefix_is_400_invalid_value(thread_id: str) -> None:
    answer = send_modify(modify_event(UNKNOWN_MESSAGE, {"metadata": {}}, thread_id=thread_id))

    assert_error(
        answer,
        400,
        error(
            f"Invalid 'thread_id': '{thread_id}'. Expected an ID that begins with 'thread'.",
            param="thread_id",
            code="invalid_value",
        ),
    )
