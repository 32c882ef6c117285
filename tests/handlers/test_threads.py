"""Threads and the whole message resource: create / retrieve / modify / delete threads, retrieve and delete
messages, each answered as docs/contract.md, "Routes" and "Objects" say, with the DynamoDB requests each
operation takes. Their error rows are in the contract table, ``tests/support/contract_rows.py``."""

from __future__ import annotations

import re
from typing import Any

from tests.support.api import message_not_found
from tests.support.api_events import Answer
from tests.support.hooks import RequestCounter
from tests.support.routing import routed_event, send

THREAD_KEYS = ["id", "object", "created_at", "metadata", "tool_resources"]


def _send(method: str, path: str, **fields: Any) -> Answer:
    """The answer to this request from the function template.yaml routes it to."""
    return send(routed_event(method, path, **fields))


def new_thread(body: Any = None) -> Answer:
    return _send("POST", "/v1/threads", body={} if body is None else body)


def get_thread(thread_id: str) -> Answer:
    return _send("GET", f"/v1/threads/{thread_id}")


def update_thread(thread_id: str, body: Any) -> Answer:
    return _send("POST", f"/v1/threads/{thread_id}", body=body)


def remove_thread(thread_id: str) -> Answer:
    return _send("DELETE", f"/v1/threads/{thread_id}")


def add_message(thread_id: str, content: str = "hello") -> Answer:
    return _send("POST", f"/v1/threads/{thread_id}/messages", body={"role": "user", "content": content})


def listed(thread_id: str, **query: str) -> Answer:
    return _send("GET", f"/v1/threads/{thread_id}/messages", query=query or None)


def get_message(thread_id: str, message_id: str) -> Answer:
    return _send("GET", f"/v1/threads/{thread_id}/messages/{message_id}")


def remove_message(thread_id: str, message_id: str) -> Answer:
    return _send("DELETE", f"/v1/threads/{thread_id}/messages/{message_id}")


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


# --- retrieve / modify / delete thread ----------------------------------------------------------------------


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
    expected = message_not_found(gone["id"])
    assert (get_message(thread_id, gone["id"]).status, get_message(thread_id, gone["id"]).body) == (
        404,
        expected,
    )
    assert (remove_message(thread_id, gone["id"]).status, remove_message(thread_id, gone["id"]).body) == (
        404,
        expected,
    )
