"""Calling the three message functions as API Gateway does, and what the contract says they answer.

Every message lives in a thread that must exist (``tests.support.seeding`` creates them); ``THREAD`` is the
default thread of these events, ``OTHER_THREAD`` a second one, and ``UNKNOWN_THREAD`` a well-formed id that no
test creates.
"""

from __future__ import annotations

from typing import Any

import create_message
import list_messages
import modify_message
import route_not_found
from botocore.client import BaseClient

from tests.support.api_events import Answer, call, http_event

THREAD = "thread_abc123DEF456ghi789JKL012"
OTHER_THREAD = "thread_zyx987WVU654tsr321QPO000"
UNKNOWN_THREAD = "thread_" + "X" * 24
UNKNOWN_MESSAGE = "msg_0AbCdEfGhIjKlMnOpQrStUvW"

MESSAGES_ROUTE = "{method} /v1/threads/{{thread_id}}/messages"
MESSAGE_ROUTE = "{method} /v1/threads/{{thread_id}}/messages/{{message_id}}"

MESSAGE_KEYS = [
    "id",
    "object",
    "created_at",
    "assistant_id",
    "thread_id",
    "run_id",
    "role",
    "content",
    "attachments",
    "metadata",
    "status",
    "incomplete_details",
    "completed_at",
    "incomplete_at",
]
LIST_KEYS = ["object", "data", "first_id", "last_id", "has_more"]
EMPTY_LIST: dict[str, Any] = {
    "object": "list",
    "data": [],
    "first_id": None,
    "last_id": None,
    "has_more": False,
}
ERROR_KEYS = ["message", "type", "param", "code"]

UNPARSABLE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
    "JSON. If you have trouble figuring out how to fix this, please contact us through our help center "
    "at help.openai.com.)"
)
SERVER_ERROR = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


def messages_path(thread_id: str = THREAD) -> str:
    return f"/v1/threads/{thread_id}/messages"


def message_path(thread_id: str, message_id: str) -> str:
    return f"/v1/threads/{thread_id}/messages/{message_id}"


def create_event(
    body: Any = None,
    *,
    thread_id: str = THREAD,
    raw_body: str | bytes | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return http_event(
        "POST",
        messages_path(thread_id),
        route_key=MESSAGES_ROUTE.format(method="POST"),
        path_parameters={"thread_id": thread_id},
        body=body,
        raw_body=raw_body,
        headers=headers,
    )


def list_event(thread_id: str = THREAD, **query: str) -> dict[str, Any]:
    return http_event(
        "GET",
        messages_path(thread_id),
        route_key=MESSAGES_ROUTE.format(method="GET"),
        path_parameters={"thread_id": thread_id},
        query=query or None,
    )


def modify_event(
    message_id: str,
    body: Any = None,
    *,
    thread_id: str = THREAD,
    raw_body: str | bytes | None = None,
) -> dict[str, Any]:
    return http_event(
        "POST",
        message_path(thread_id, message_id),
        route_key=MESSAGE_ROUTE.format(method="POST"),
        path_parameters={"thread_id": thread_id, "message_id": message_id},
        body=body,
        raw_body=raw_body,
    )


def message_event(method: str, thread_id: str, message_id: str) -> dict[str, Any]:
    """A request to one message without a body: GET retrieves it, DELETE deletes it."""
    return http_event(
        method,
        message_path(thread_id, message_id),
        route_key=MESSAGE_ROUTE.format(method=method),
        path_parameters={"thread_id": thread_id, "message_id": message_id},
    )


def send_create(event: dict[str, Any]) -> Answer:
    return checked(create_message.lambda_handler, event)


def send_list(event: dict[str, Any]) -> Answer:
    return checked(list_messages.lambda_handler, event)


def send_modify(event: dict[str, Any]) -> Answer:
    return checked(modify_message.lambda_handler, event)


def send_default(event: dict[str, Any]) -> Answer:
    return checked(route_not_found.lambda_handler, event)


def checked(handler: Any, event: dict[str, Any]) -> Answer:
    """Calls ``handler`` and checks what every answer carries: a JSON body and the event's request id."""
    request_id = event["requestContext"]["requestId"]
    answer = call(handler, event)
    assert answer.headers.get("content-type") == "application/json", answer.headers
    assert answer.headers.get("x-request-id") == request_id, answer.headers
    assert isinstance(answer.raw.get("body"), str)
    return answer


def create(body: Any, *, thread_id: str = THREAD) -> dict[str, Any]:
    """Creates a message that must succeed, and returns its body."""
    answer = send_create(create_event(body, thread_id=thread_id))
    assert answer.status == 200, answer.body
    message: dict[str, Any] = answer.body
    return message


def create_text(text: str, *, thread_id: str = THREAD) -> dict[str, Any]:
    return create({"role": "user", "content": text}, thread_id=thread_id)


def error(
    message: str, *, param: str | None = None, code: str | None = None, type: str = "invalid_request_error"
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def thread_not_found(thread_id: str) -> dict[str, Any]:
    """The contract's 404 for a thread that does not exist (never created, deleted, or never minted)."""
    return error(f"No thread found with id '{thread_id}'.")


def message_not_found(message_id: str) -> dict[str, Any]:
    """The contract's 404 for a message that is not in that (existing) thread."""
    return error(f"No message found with id '{message_id}'.")


def invalid_thread_id(thread_id: str) -> dict[str, Any]:
    return error(
        f"Invalid 'thread_id': '{thread_id}'. Expected an ID that begins with 'thread'.",
        param="thread_id",
        code="invalid_value",
    )


def invalid_message_id(message_id: str) -> dict[str, Any]:
    return error(
        f"Invalid 'message_id': '{message_id}'. Expected an ID that begins with 'msg'.",
        param="message_id",
        code="invalid_value",
    )


def invalid_beta(value: str) -> dict[str, Any]:
    return error(
        f"Invalid 'OpenAI-Beta' header: '{value}'. This API serves the Assistants v2 API only: "
        "send 'OpenAI-Beta: assistants=v2', or no 'OpenAI-Beta' header.",
        code="invalid_beta",
    )


def invalid_url(method: str, path: str) -> dict[str, Any]:
    return error(f"Invalid URL ({method} {path})")


UNAUTHORIZED = error("Incorrect API key provided.", code="invalid_api_key")


def assert_error(answer: Answer, status: int, expected: dict[str, Any]) -> None:
    observed = (answer.status, answer.body)
    assert observed == (status, expected), f"observed {observed!r}, expected {(status, expected)!r}"
    assert list(answer.body) == ["error"]
    assert list(answer.body["error"]) == ERROR_KEYS


def text_part(value: str) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": []}}


def openai_message(
    *, id: str, created_at: int, content: list[dict[str, Any]], thread_id: str, **fields: Any
) -> dict[str, Any]:
    """A whole message object as OpenAI returns it, in its key order: a user's, completed, of no run, unless
    ``fields`` say otherwise."""
    return {
        "id": id,
        "object": "thread.message",
        "created_at": created_at,
        "assistant_id": None,
        "thread_id": thread_id,
        "run_id": None,
        "role": "user",
        "content": content,
        "attachments": [],
        "metadata": {},
        "status": "completed",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
    } | fields


def expected_message(
    *,
    id: str,
    created_at: int,
    content: list[dict[str, Any]],
    thread_id: str = THREAD,
    role: str = "user",
    attachments: list[dict[str, Any]] | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The whole message object the contract describes, in its key order."""
    return openai_message(
        id=id,
        created_at=created_at,
        content=content,
        thread_id=thread_id,
        role=role,
        attachments=attachments or [],
        metadata=metadata or {},
        completed_at=created_at,
    )


def assert_message(body: Any, **expected: Any) -> None:
    """``body`` is exactly the contract's message object with these fields (id and time as it has them)."""
    assert isinstance(body, dict)
    assert list(body) == MESSAGE_KEYS
    assert is_message_id(body["id"])
    assert isinstance(body["created_at"], int)
    assert body == expected_message(id=body["id"], created_at=body["created_at"], **expected)


def is_message_id(value: Any) -> bool:
    body = value[4:] if isinstance(value, str) else ""
    return value.startswith("msg_") and len(body) == 24 and body.isascii() and body.isalnum()


def assert_list_page(answer: Answer, ids: list[str], *, has_more: bool) -> None:
    assert answer.status == 200, answer.body
    body = answer.body
    assert list(body) == LIST_KEYS
    got = [m["id"] for m in body["data"]]
    assert got == ids, (got, ids)
    assert body == {
        "object": "list",
        "data": body["data"],
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
        "has_more": has_more,
    }
    for message in body["data"]:
        assert list(message) == MESSAGE_KEYS


class DynamoDBCalled(BaseException):
    """Raised by a DynamoDB call in a test that must be answered without one.

    A ``BaseException`` so that no ``except Exception`` of the functions turns it into a 500: the test fails.
    """


def forbid_aws_calls(monkeypatch: Any) -> None:
    """Makes any AWS API call fail the test: for requests that must be rejected before the store."""

    def called(self: Any, operation_name: str, api_params: Any) -> Any:
        raise DynamoDBCalled(f"{operation_name} was called; this request must be answered without DynamoDB")

    monkeypatch.setattr(BaseClient, "_make_api_call", called)
