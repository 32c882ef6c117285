"""The HTTP edge every function shares: odd bodies and headers, wrong routes, faults and throttling.

docs/contract.md, "Scope and conventions": every body is JSON with an ``x-request-id``; "Routes": unknown
routes are OpenAI's 404; "Other statuses": throttling is a 429 with ``Retry-After``, anything unexpected a
bare 500 envelope. No input may ever produce any other 5xx. The requests the edge refuses (bodies it cannot
read, ``OpenAI-Beta``, no key, unknown routes) are rows of the contract table,
``tests/support/contract_rows.py``. Here is what a row cannot say: a function called with a route that is not
its own, answers that depend on the Python's recursion limit, faults, and properties over generated inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import create_message
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import (
    SERVER_ERROR,
    THREAD,
    UNKNOWN_MESSAGE,
    UNPARSABLE,
    assert_error,
    assert_message,
    create,
    create_event,
    error,
    invalid_url,
    list_event,
    message_path,
    messages_path,
    modify_event,
    send_create,
    send_default,
    send_list,
    send_modify,
    text_part,
)
from tests.support.api_events import TEST_API_KEY, TEST_TENANT, Answer, call, http_event
from tests.support.dynamodb_stubs import failing_calls, queue_until_failure
from tests.support.seeding import thread  # noqa: F401 - fixture
from threadkit.contract import errors
from threadkit.domain import messages
from threadkit.edge import events as edge_events
from threadkit.storage import client
from threadkit.storage import settings as function_settings
from threadkit.storage.message_store import MessageStore

VALID = {"role": "user", "content": "Hello, world!"}
SENDERS: dict[str, Callable[[dict[str, Any]], Answer]] = {
    "create": send_create,
    "list": send_list,
    "modify": send_modify,
}


def _event_for(operation: str) -> dict[str, Any]:
    """A valid request of ``operation`` (modify addresses a message that does not exist)."""
    if operation == "create":
        return create_event(VALID)
    if operation == "list":
        return list_event()
    return modify_event(UNKNOWN_MESSAGE, {"metadata": {"a": "b"}})


# --- bodies -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("thread")
def test_base64_body_of_utf8_json_is_decoded_and_accepted() -> None:
    raw = json.dumps({"role": "user", "content": "café 😀"}, ensure_ascii=False).encode()

    answer = send_create(create_event(raw_body=raw))

    assert answer.status == 200
    assert_message(answer.body, content=[text_part("café 😀")])


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("operation", ["create", "modify"])
def test_deeply_nested_object_under_an_unknown_key_is_400(operation: str) -> None:
    deep = '{"a":' * 5_000 + "1" + "}" * 5_000
    if operation == "create":
        answer = send_create(create_event(raw_body='{"role": "user", "content": "x", "a": ' + deep + "}"))
    else:
        answer = send_modify(modify_event(UNKNOWN_MESSAGE, raw_body='{"a": ' + deep + "}"))

    unknown = error("Unknown parameter: 'a'.", param="a", code="unknown_parameter")
    assert answer.status == 400, answer.body
    assert answer.body in (unknown, error(UNPARSABLE))


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("depth", [10, 500, 3_000, 9_000])
def test_deeply_nested_value_inside_an_object_is_400(depth: int) -> None:
    raw_body = '{"role": "user", "content": "x", "metadata": {"k": ' + "[" * depth + "]" * depth + "}}"

    answer = send_create(create_event(raw_body=raw_body))

    wrong_type = error(
        "Invalid type for 'metadata.k': expected a string, but got an array instead.",
        param="metadata.k",
        code="invalid_type",
    )
    assert answer.status == 400, answer.body
    assert answer.body in (wrong_type, error(UNPARSABLE))


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data; boundary=----x",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
        "application/octet-stream",
        None,
    ],
)
def test_json_body_with_any_content_type_is_read_as_json(content_type: str | None) -> None:
    answer = send_create(create_event(VALID, headers={"content-type": content_type}))

    assert answer.status == 200
    assert_message(answer.body, content=[text_part("Hello, world!")])


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=----x"])
def test_modify_body_with_other_content_type_is_read_as_json(content_type: str) -> None:
    message = create(VALID)
    event = modify_event(message["id"], {"metadata": {"a": "b"}})
    event["headers"]["content-type"] = content_type

    answer = send_modify(event)

    assert answer.status == 200
    assert answer.body == {**message, "metadata": {"a": "b"}}


# --- headers ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("operation", ["create", "list"])
def test_absent_openai_beta_header_is_accepted_on_every_operation(operation: str) -> None:
    event = _event_for(operation)
    del event["headers"]["openai-beta"]

    assert SENDERS[operation](event).status == 200


@pytest.mark.usefixtures("thread")
def test_header_names_are_case_insensitive() -> None:
    event = create_event(VALID)
    headers = event["headers"]
    headers["OpenAI-Beta"] = headers.pop("openai-beta")
    headers["Content-Type"] = headers.pop("content-type")

    assert send_create(event).status == 200


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"authorization": f"Bearer {TEST_API_KEY}"}, id="openai-sdk"),
        pytest.param(
            {"x-portkey-api-key": TEST_API_KEY, "authorization": "Bearer OPENAI_API_KEY"}, id="portkey-sdk"
        ),
    ],
)
def test_requests_of_either_sdk_are_accepted(headers: dict[str, str]) -> None:
    answer = send_create(create_event(VALID, headers=headers))

    assert answer.status == 200


@pytest.mark.usefixtures("thread")
def test_event_without_request_id_still_gets_an_x_request_id() -> None:
    event = create_event(VALID)
    del event["requestContext"]["requestId"]

    answer = call(create_message.lambda_handler, event)

    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"]


# --- routes -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    ("sender", "method", "path"),
    [
        pytest.param(send_create, "GET", messages_path(), id="create-GET"),
        pytest.param(send_create, "PUT", messages_path(), id="create-PUT"),
        pytest.param(send_create, "DELETE", messages_path(), id="create-DELETE"),
        pytest.param(send_create, "PATCH", messages_path(), id="create-PATCH"),
        pytest.param(send_create, "POST", messages_path() + "/extra/segments", id="create-other-path"),
        pytest.param(send_list, "POST", messages_path(), id="list-POST"),
        pytest.param(send_list, "DELETE", messages_path(), id="list-DELETE"),
        pytest.param(send_modify, "GET", message_path(THREAD, UNKNOWN_MESSAGE), id="modify-GET"),
        pytest.param(send_modify, "PATCH", message_path(THREAD, UNKNOWN_MESSAGE), id="modify-PATCH"),
        pytest.param(send_modify, "DELETE", message_path(THREAD, UNKNOWN_MESSAGE), id="modify-DELETE"),
        pytest.param(send_default, "POST", "/v1/threads", id="default-a-route-of-another-function"),
    ],
)
def test_function_called_with_another_method_or_path_is_404_invalid_url(
    sender: Callable[[dict[str, Any]], Answer], method: str, path: str
) -> None:
    answer = sender(http_event(method, path, body=VALID))

    assert_error(answer, 404, invalid_url(method, path))


# --- faults -------------------------------------------------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("secret-internal-detail at /var/task/threadkit/store.py")


def _assert_bare_server_error(answer: Answer) -> None:
    assert_error(answer, 500, SERVER_ERROR)
    raw = json.dumps(answer.raw)
    for leak in ("Traceback", "secret-internal-detail", "RuntimeError", "/var/task", ".py"):
        assert leak not in raw


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    ("operation", "target"),
    [
        ("create", "add"),
        ("list", "page"),
        ("modify", "set_metadata"),
    ],
)
def test_unexpected_exception_in_the_store_is_a_bare_500(
    monkeypatch: pytest.MonkeyPatch, operation: str, target: str
) -> None:
    monkeypatch.setattr(MessageStore, target, _boom)

    _assert_bare_server_error(SENDERS[operation](_event_for(operation)))


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("operation", ["create", "list", "modify"])
def test_unexpected_exception_in_the_domain_is_a_bare_500(
    monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    monkeypatch.setattr(messages, "check_thread_id", _boom)

    _assert_bare_server_error(SENDERS[operation](_event_for(operation)))


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("sender", [send_create, send_list, send_modify, send_default])
def test_unexpected_exception_before_routing_is_a_bare_500(
    monkeypatch: pytest.MonkeyPatch, sender: Callable[[dict[str, Any]], Answer]
) -> None:
    monkeypatch.setattr(edge_events, "normalise", _boom)

    _assert_bare_server_error(sender(create_event(VALID)))


@pytest.mark.usefixtures("no_dynamodb")
def test_unexpected_exception_in_the_not_found_answer_is_a_bare_500(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "invalid_url", _boom)

    _assert_bare_server_error(send_default(http_event("PUT", "/v1/threads/thread_x/messages")))


# The DynamoDB calls each operation makes, in order. Every call before the failing one answers as for a live
# THREAD (only the thread's GetItem ever precedes another call).
OPERATION_CALLS = {
    "create": ["transact_write_items"],
    "list": ["get_item", "query"],
    "modify": ["get_item", "update_item"],
}
FAILING_CALLS = failing_calls(OPERATION_CALLS)


def _queue_until_failure(stubber: Stubber, operation: str, failing: int) -> str:
    """Queues the answers of the calls before the ``failing`` one; returns the name of the failing call."""
    return queue_until_failure(stubber, OPERATION_CALLS[operation], failing, TEST_TENANT, THREAD)


@pytest.fixture
def stubber(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """Botocore's stubber on the functions' DynamoDB client: each call answers what the test queues, and a
    call that was not queued fails, so these tests need no table and never reach AWS. One attempt per call:
    what the retries do is tests/faults/test_faults.py's subject."""
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "1")
    function_settings.get_settings.cache_clear()
    with Stubber(client.dynamodb_client()) as stub:
        yield stub


RATE_LIMITED = error(
    "Rate limit reached for requests. Please try again shortly.", type="requests", code="rate_limit_exceeded"
)


def _assert_rate_limited(answer: Answer) -> None:
    assert_error(answer, 429, RATE_LIMITED)
    retry_after = answer.headers.get("retry-after", "")
    assert retry_after.isdigit(), answer.headers
    assert int(retry_after) >= 1


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
@pytest.mark.parametrize(("operation", "failing"), FAILING_CALLS)
def test_dynamodb_throttling_is_429_rate_limit_exceeded_with_retry_after(
    stubber: Stubber, operation: str, failing: int, code: str
) -> None:
    call_name = _queue_until_failure(stubber, operation, failing)
    stubber.add_client_error(call_name, service_error_code=code, http_status_code=400)

    answer = SENDERS[operation](_event_for(operation))

    _assert_rate_limited(answer)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("reason", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_create_transaction_cancelled_by_throttling_is_429_rate_limit_exceeded(
    stubber: Stubber, reason: str
) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": reason}]},
    )

    answer = send_create(_event_for("create"))

    _assert_rate_limited(answer)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code", ["ValidationException", "ResourceNotFoundException", "AccessDeniedException"]
)
@pytest.mark.parametrize(("operation", "failing"), FAILING_CALLS)
def test_other_dynamodb_failure_is_a_bare_500(
    stubber: Stubber, operation: str, failing: int, code: str
) -> None:
    call_name = _queue_until_failure(stubber, operation, failing)
    stubber.add_client_error(call_name, service_error_code=code, http_status_code=400)

    _assert_bare_server_error(SENDERS[operation](_event_for(operation)))
    stubber.assert_no_pending_responses()


# --- no input is ever a 5xx ---------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_part = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "image_file", "audio", ""])},
    optional={
        "text": st.text(max_size=10) | _json_values,
        "image_url": st.fixed_dictionaries(
            {"url": st.sampled_from(["https://a.test/x.png", "x", ""])},
            optional={"detail": st.sampled_from(["auto", "low", "high", "max"])},
        ),
        "image_file": st.fixed_dictionaries(
            {"file_id": st.sampled_from(["file-1", ""])},
            optional={"detail": st.sampled_from(["auto", "bad"])},
        ),
    },
)
_create_body = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["user", "assistant", "system", ""]) | _json_values,
        "content": st.text(max_size=10) | st.lists(_part, max_size=3) | _json_values,
        "attachments": st.none()
        | st.lists(
            st.fixed_dictionaries(
                {"file_id": st.text(max_size=5)},
                optional={
                    "tools": st.lists(st.fixed_dictionaries({"type": st.text(max_size=16)}), max_size=2)
                },
            ),
            max_size=3,
        )
        | _json_values,
        "metadata": st.none() | st.dictionaries(st.text(max_size=70), st.text(max_size=10), max_size=18),
        "file_ids": st.just([]),
    },
)
_fuzz = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _assert_answered(answer: Answer) -> None:
    assert answer.status in (200, 400, 404), answer.body
    if answer.status != 200:
        assert list(answer.body) == ["error"]
        assert list(answer.body["error"]) == ["message", "type", "param", "code"]


@pytest.mark.usefixtures("thread")
@_fuzz
@given(body=_create_body | _json_values)
def test_no_create_body_is_ever_a_5xx(body: Any) -> None:
    _assert_answered(send_create(create_event(raw_body=json.dumps(body))))


@pytest.mark.usefixtures("thread")
@_fuzz
@given(raw=st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_no_raw_body_is_ever_a_5xx(raw: bytes) -> None:
    _assert_answered(send_create(create_event(raw_body=raw)))
    _assert_answered(send_modify(modify_event(UNKNOWN_MESSAGE, raw_body=raw.decode("utf-8", "replace"))))


@pytest.mark.usefixtures("thread")
@_fuzz
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "order", "after", "before", "run_id", "other"]),
        st.text(max_size=30) | st.sampled_from(["msg_" + "a" * 24, "0", "100", "asc"]),
        max_size=4,
    )
)
def test_no_list_query_is_ever_a_5xx(query: dict[str, str]) -> None:
    _assert_answered(send_list(list_event(**query)))


@pytest.mark.usefixtures("thread")
@_fuzz
@given(
    thread_id=st.text(min_size=1, max_size=200).filter(lambda s: "/" not in s)
    | st.text(max_size=140).map(lambda s: "thread_" + s.replace("/", "")),
    message_id=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s)
    | st.text(max_size=40).map(lambda s: "msg_" + s.replace("/", "")),
    body=st.none() | st.fixed_dictionaries({}, optional={"metadata": _json_values, "x": _json_values}),
)
def test_no_path_or_modify_body_is_ever_a_5xx(thread_id: str, message_id: str, body: Any) -> None:
    _assert_answered(send_create(create_event(VALID, thread_id=thread_id)))
    _assert_answered(send_list(list_event(thread_id)))
    _assert_answered(send_modify(modify_event(message_id, body, thread_id=thread_id)))
