"""Threads and the whole message resource: create / retrieve / modify / delete threads, retrieve and delete
messages, each answered as the contract says, with the DynamoDB requests each operation takes."""

from __future__ import annotations

import re
from typing import Any

import create_message
import create_thread
import delete_message
import delete_thread
import list_messages
import modify_thread
import pytest
import retrieve_message
import retrieve_thread

from tests.support.api_events import Answer, call, http_event
from tests.support.hooks import RequestCounter
from tests.support.moto_table import TABLE_NAME

THREAD_KEYS = ["id", "object", "created_at", "metadata", "tool_resources"]
UNKNOWN_THREAD = "thread_" + "Z" * 24
UNKNOWN_MESSAGE = "msg_" + "Z" * 24


def error(message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def new_thread(body: Any = None) -> Answer:
    return call(
        create_thread.lambda_handler, http_event("POST", "/v1/threads", body={} if body is None else body)
    )


def get_thread(thread_id: str) -> Answer:
    return call(
        retrieve_thread.lambda_handler,
        http_event("GET", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )


def update_thread(thread_id: str, body: Any) -> Answer:
    return call(
        modify_thread.lambda_handler,
        http_event("POST", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}, body=body),
    )


def remove_thread(thread_id: str) -> Answer:
    return call(
        delete_thread.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )


def add_message(thread_id: str, content: str = "hello") -> Answer:
    return call(
        create_message.lambda_handler,
        http_event(
            "POST",
            f"/v1/threads/{thread_id}/messages",
            path_parameters={"thread_id": thread_id},
            body={"role": "user", "content": content},
        ),
    )


def listed(thread_id: str, **query: str) -> Answer:
    return call(
        list_messages.lambda_handler,
        http_event(
            "GET", f"/v1/threads/{thread_id}/messages", path_parameters={"thread_id": thread_id}, query=query
        ),
    )


def get_message(thread_id: str, message_id: str) -> Answer:
    params = {"thread_id": thread_id, "message_id": message_id}
    return call(
        retrieve_message.lambda_handler,
        http_event("GET", f"/v1/threads/{thread_id}/messages/{message_id}", path_parameters=params),
    )


def remove_message(thread_id: str, message_id: str) -> Answer:
    params = {"thread_id": thread_id, "message_id": message_id}
    return call(
        delete_message.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}/messages/{message_id}", path_parameters=params),
    )


def table_items(table: Any) -> list[dict[str, Any]]:
    return sorted(table.scan(TableName=TABLE_NAME)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def not_found_thread(thread_id: str) -> dict[str, Any]:
    return error(f"No thread found with id '{thread_id}'.")


# --- create thread ------------------------------------------------------------------------------------------


def test_create_thread_returns_the_thread_object_in_openai_key_order(table: Any) -> None:
    answer = new_thread()
    assert answer.status == 200
    assert list(answer.body) == THREAD_KEYS
    assert re.fullmatch(r"thread_[0-9A-Za-z]{24}", answer.body["id"])
    assert answer.body["object"] == "thread"
    assert answer.body["metadata"] == {}
    assert answer.body["tool_resources"] == {}
    assert get_thread(answer.body["id"]).body == answer.body


def test_create_thread_echoes_metadata_and_tool_resources(table: Any) -> None:
    body = {
        "metadata": {"user": "u1"},
        "tool_resources": {
            "code_interpreter": {"file_ids": ["file-1", "file-2"]},
            "file_search": {"vector_store_ids": ["vs_1"]},
        },
    }
    answer = new_thread(body)
    assert answer.status == 200
    assert answer.body["metadata"] == body["metadata"]
    assert answer.body["tool_resources"] == body["tool_resources"]


def test_create_thread_with_messages_stores_all_of_them_in_the_given_order(
    table: Any, dynamodb_requests: RequestCounter
) -> None:
    contents = [f"message {n}" for n in range(12)]
    answer = new_thread({"messages": [{"role": "user", "content": c} for c in contents]})
    assert answer.status == 200
    assert dynamodb_requests.operations == ["TransactWriteItems"]
    page = listed(answer.body["id"], order="asc", limit="100").body
    assert [m["content"][0]["text"]["value"] for m in page["data"]] == contents
    assert {m["thread_id"] for m in page["data"]} == {answer.body["id"]}
    assert page["has_more"] is False


def test_create_thread_without_messages_is_one_put(table: Any, dynamodb_requests: RequestCounter) -> None:
    assert new_thread({"metadata": {"a": "b"}}).status == 200
    assert dynamodb_requests.operations == ["PutItem"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"messages": [{"role": "user", "content": "ok"}, {"role": "system", "content": "no"}]},
            error(
                "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
                "messages[1].role",
                "invalid_value",
            ),
        ),
        (
            {"messages": [{"role": "user", "content": ""}]},
            error("Message content must be non-empty.", "messages[0].content"),
        ),
        (
            {"messages": [{"role": "user", "content": "x"}] * 33},
            error(
                "Invalid 'messages': array too long. Expected an array with maximum length 32, "
                "but got an array with length 33 instead.",
                "messages",
                "array_above_max_length",
            ),
        ),
        (
            {"tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
            error(
                "Invalid 'tool_resources.file_search.vector_store_ids': array too long. Expected an array "
                "with maximum length 1, but got an array with length 2 instead.",
                "tool_resources.file_search.vector_store_ids",
                "array_above_max_length",
            ),
        ),
        (
            {"tool_resources": {"code_interpreter": {"file_ids": [f"f{n}" for n in range(21)]}}},
            error(
                "Invalid 'tool_resources.code_interpreter.file_ids': array too long. Expected an array with "
                "maximum length 20, but got an array with length 21 instead.",
                "tool_resources.code_interpreter.file_ids",
                "array_above_max_length",
            ),
        ),
        (
            {"tool_resources": {"file_search": {"vector_stores": [{}]}}},
            error(
                "Unknown parameter: 'tool_resources.file_search.vector_stores'.",
                "tool_resources.file_search.vector_stores",
                "unknown_parameter",
            ),
        ),
        (
            {"assistant_id": "asst_1"},
            error("Unknown parameter: 'assistant_id'.", "assistant_id", "unknown_parameter"),
        ),
        (
            {"metadata": {"k": True}},
            error(
                "Invalid type for 'metadata.k': expected a string, but got a boolean instead.",
                "metadata.k",
                "invalid_type",
            ),
        ),
    ],
)
def test_create_thread_with_invalid_input_is_400_and_writes_nothing(
    table: Any, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    answer = new_thread(body)
    assert (answer.status, answer.body) == (400, expected)
    assert table_items(table) == []


def test_initial_messages_too_large_for_one_transaction_are_refused_whole(table: Any) -> None:
    big = "x" * 250_000
    answer = new_thread({"messages": [{"role": "user", "content": big}] * 17})
    assert answer.status == 400
    assert answer.body["error"]["param"] == "messages"
    assert answer.body["error"]["code"] == "messages_too_large"
    assert "at most 4000000 bytes" in answer.body["error"]["message"]
    assert table_items(table) == []


# --- retrieve / modify / delete thread ----------------------------------------------------------------------


@pytest.mark.parametrize("thread_id", [UNKNOWN_THREAD, "thread_abc", "thread_" + "a" * 200])
def test_a_thread_that_does_not_exist_is_404_for_every_thread_operation(table: Any, thread_id: str) -> None:
    for answer in (
        get_thread(thread_id),
        update_thread(thread_id, {"metadata": {"a": "b"}}),
        remove_thread(thread_id),
    ):
        assert (answer.status, answer.body) == (404, not_found_thread(thread_id))
    assert table_items(table) == []


def test_a_thread_id_without_the_prefix_is_400(table: Any) -> None:
    expected = error(
        "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.", "thread_id", "invalid_value"
    )
    for answer in (get_thread("abc"), update_thread("abc", {}), remove_thread("abc")):
        assert (answer.status, answer.body) == (400, expected)


def test_modify_thread_replaces_metadata_and_tool_resources_and_null_leaves_them(
    table: Any, dynamodb_requests: RequestCounter
) -> None:
    thread = new_thread({"metadata": {"a": "1", "b": "2"}}).body
    dynamodb_requests.reset()

    answer = update_thread(thread["id"], {"metadata": {"c": "3"}})
    assert dynamodb_requests.operations == ["UpdateItem"]
    assert answer.status == 200
    assert answer.body == {**thread, "metadata": {"c": "3"}}

    answer = update_thread(thread["id"], {"tool_resources": {"code_interpreter": {"file_ids": ["f"]}}})
    assert answer.body["metadata"] == {"c": "3"}
    assert answer.body["tool_resources"] == {"code_interpreter": {"file_ids": ["f"]}}

    answer = update_thread(thread["id"], {"metadata": None})
    assert answer.body["metadata"] == {"c": "3"}
    answer = update_thread(thread["id"], {"metadata": {}})
    assert answer.body["metadata"] == {}
    assert get_thread(thread["id"]).body == answer.body


def test_modify_thread_rejects_unknown_keys(table: Any) -> None:
    thread = new_thread().body
    answer = update_thread(thread["id"], {"messages": []})
    assert (answer.status, answer.body) == (
        400,
        error("Unknown parameter: 'messages'.", "messages", "unknown_parameter"),
    )


def test_delete_thread_answers_the_deletion_and_a_second_delete_is_404(
    table: Any, dynamodb_requests: RequestCounter
) -> None:
    thread_id = new_thread().body["id"]
    dynamodb_requests.reset()
    answer = remove_thread(thread_id)
    assert dynamodb_requests.operations == ["UpdateItem"]
    assert (answer.status, answer.body) == (
        200,
        {"id": thread_id, "object": "thread.deleted", "deleted": True},
    )
    assert list(answer.body) == ["id", "object", "deleted"]
    assert remove_thread(thread_id).status == 404
    assert get_thread(thread_id).status == 404


# --- retrieve / delete message ------------------------------------------------------------------------------


def test_retrieve_message_returns_exactly_what_create_returned(
    table: Any, dynamodb_requests: RequestCounter
) -> None:
    thread_id = new_thread().body["id"]
    created = add_message(thread_id, "Hello, world!").body
    dynamodb_requests.reset()
    answer = get_message(thread_id, created["id"])
    assert dynamodb_requests.operations == ["TransactGetItems"]
    assert (answer.status, answer.body) == (200, created)
    assert list(answer.body) == list(created)


def test_a_message_of_another_thread_is_404_for_retrieve_and_delete(table: Any) -> None:
    first, second = new_thread().body["id"], new_thread().body["id"]
    message_id = add_message(first).body["id"]
    expected = error(f"No message found with id '{message_id}'.")
    assert (get_message(second, message_id).status, get_message(second, message_id).body) == (404, expected)
    assert (remove_message(second, message_id).status, remove_message(second, message_id).body) == (
        404,
        expected,
    )
    assert get_message(first, message_id).status == 200


@pytest.mark.parametrize("message_id", [UNKNOWN_MESSAGE, "msg_abc"])
def test_a_message_that_does_not_exist_is_404(table: Any, message_id: str) -> None:
    thread_id = new_thread().body["id"]
    expected = error(f"No message found with id '{message_id}'.")
    for answer in (get_message(thread_id, message_id), remove_message(thread_id, message_id)):
        assert (answer.status, answer.body) == (404, expected)


def test_a_message_id_without_the_prefix_is_400(table: Any) -> None:
    thread_id = new_thread().body["id"]
    expected = error(
        "Invalid 'message_id': 'abc'. Expected an ID that begins with 'msg'.", "message_id", "invalid_value"
    )
    for answer in (get_message(thread_id, "abc"), remove_message(thread_id, "abc")):
        assert (answer.status, answer.body) == (400, expected)


def test_a_deleted_message_is_gone_from_list_and_retrieve_at_once(
    table: Any, dynamodb_requests: RequestCounter
) -> None:
    thread_id = new_thread().body["id"]
    kept, gone = add_message(thread_id, "kept").body, add_message(thread_id, "gone").body
    dynamodb_requests.reset()

    answer = remove_message(thread_id, gone["id"])

    assert dynamodb_requests.operations == ["TransactWriteItems"]
    assert (answer.status, answer.body) == (
        200,
        {"id": gone["id"], "object": "thread.message.deleted", "deleted": True},
    )
    assert [m["id"] for m in listed(thread_id).body["data"]] == [kept["id"]]
    expected = error(f"No message found with id '{gone['id']}'.")
    assert (get_message(thread_id, gone["id"]).status, get_message(thread_id, gone["id"]).body) == (
        404,
        expected,
    )
    assert (remove_message(thread_id, gone["id"]).status, remove_message(thread_id, gone["id"]).body) == (
        404,
        expected,
    )


def test_create_message_in_a_thread_that_does_not_exist_is_404_and_writes_nothing(table: Any) -> None:
    answer = add_message(UNKNOWN_THREAD)
    assert (answer.status, answer.body) == (404, not_found_thread(UNKNOWN_THREAD))
    assert table_items(table) == []
