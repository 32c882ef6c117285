"""Every sample event in events/ gets its documented answer from the function that template.yaml routes it to.

The function is found as API Gateway would find it (the HttpApi event's method and path, ``$default`` for
anything else) and called through its template ``Handler``, the entry point ``sam local invoke`` uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import (
    assert_error,
    assert_list_page,
    assert_message,
    create_text,
    error,
    message_not_found,
    text_part,
    thread_not_found,
)
from tests.support.api_events import TEST_TENANT, Answer, call
from tests.support.moto_table import TABLE_NAME
from tests.support.routing import EVENT_FILES, EVENTS, handler_of, load, route_of
from tests.support.seeding import is_thread_id, make_thread
from threadkit import storage
from threadkit.storage import schema

# --- what each event is documented to get -------------------------------------------------------------------


def _thread(event: dict[str, Any]) -> str:
    thread_id: str = event["pathParameters"]["thread_id"]
    return thread_id


def _has_thread(event: dict[str, Any]) -> bool:
    return "thread_id" in (event.get("pathParameters") or {})


def _seed_listed(event: dict[str, Any]) -> list[str]:
    return [create_text(f"seeded {i}", thread_id=_thread(event))["id"] for i in range(3)]


def _seed_modified(event: dict[str, Any]) -> list[str]:
    """Stores the message the event addresses, with that exact id, in that thread."""
    message_id = event["pathParameters"]["message_id"]
    created_at = int(time.time())
    record = schema.MessageRecord(
        id=message_id,
        thread_id=_thread(event),
        created_at=created_at,
        role="user",
        content=[text_part("seeded")],
        metadata={"before": "modify"},
        completed_at=created_at,
    )
    storage.message_store().add(TEST_TENANT, record)
    return [message_id]


def _created_message(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(
        answer.body,
        thread_id=_thread(event),
        content=[text_part("How does AI work? Explain it in simple terms.")],
        metadata={"source": "sample"},
    )


def _created_parts(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(
        answer.body,
        thread_id=_thread(event),
        content=[
            text_part("What is in this image?"),
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "auto"}},
        ],
        attachments=[{"file_id": "file-abc123", "tools": [{"type": "file_search"}]}],
    )


def _role_invalid(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer,
        400,
        error(
            "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
            param="role",
            code="invalid_value",
        ),
    )


def _listed(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    # limit=2&order=asc over three seeded messages
    assert_list_page(answer, seeded[:2], has_more=True)


def _limit_invalid(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer,
        400,
        error(
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
            param="limit",
            code="integer_below_min_value",
        ),
    )


def _modified(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(
        answer.body,
        thread_id=_thread(event),
        content=[text_part("seeded")],
        metadata={"modified": "true", "user": "abc123"},
    )
    assert answer.body["id"] == seeded[0]


def _not_found(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    message_id = event["pathParameters"]["message_id"]
    assert_error(answer, 404, message_not_found(message_id))


def _thread_not_found(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(answer, 404, thread_not_found(_thread(event)))


def _metadata_invalid(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer,
        400,
        error(
            "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
            param="metadata.modified",
            code="invalid_type",
        ),
    )


def _invalid_url(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    method = event["requestContext"]["http"]["method"]
    assert_error(answer, 404, error(f"Invalid URL ({method} {event['rawPath']})"))


THREAD_KEYS = ["id", "object", "created_at", "metadata", "tool_resources"]


def _thread_created(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert list(answer.body) == THREAD_KEYS
    assert is_thread_id(answer.body["id"])
    assert answer.body["metadata"] == {"source": "sample"}
    assert answer.body["tool_resources"] == {}


def _thread_messages_invalid(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer,
        400,
        error(
            "Invalid 'messages': array too long. Expected an array with maximum length 32, "
            "but got an array with length 33 instead.",
            param="messages",
            code="array_above_max_length",
        ),
    )


def _thread_read(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert list(answer.body) == THREAD_KEYS
    assert answer.body["id"] == _thread(event)
    assert answer.body["object"] == "thread"


def _thread_modified(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    _thread_read(event, answer, seeded)
    assert answer.body["metadata"] == {"modified": "true", "user": "abc123"}


def _thread_unknown_key(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer, 400, error("Unknown parameter: 'messages'.", param="messages", code="unknown_parameter")
    )


def _thread_deleted(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert answer.body == {"id": _thread(event), "object": "thread.deleted", "deleted": True}


def _thread_id_invalid(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer,
        400,
        error(
            "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.",
            param="thread_id",
            code="invalid_value",
        ),
    )


def _message_read(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(
        answer.body, thread_id=_thread(event), content=[text_part("seeded")], metadata={"before": "modify"}
    )
    assert answer.body["id"] == seeded[0]


def _message_deleted(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert answer.body == {"id": seeded[0], "object": "thread.message.deleted", "deleted": True}


def _message_id_invalid(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert_error(
        answer,
        400,
        error(
            "Invalid 'message_id': 'abc'. Expected an ID that begins with 'msg'.",
            param="message_id",
            code="invalid_value",
        ),
    )


Check = Callable[[dict[str, Any], Answer, list[str]], None]
Seed = Callable[[dict[str, Any]], list[str]]


def _nothing(event: dict[str, Any]) -> list[str]:
    return []


@dataclass(frozen=True)
class Expectation:
    event: str
    function: str
    check: Check
    seed: Seed = field(default=_nothing)
    case: str = ""
    thread: bool = True
    """Whether the event's thread is created (through the store) before the seed and the event. Without it,
    the event must write nothing (unless ``writes``)."""
    writes: bool = False

    @property
    def id(self) -> str:
        return f"{self.event}-{self.case}" if self.case else self.event


EXPECTATIONS = [
    Expectation("create_message", "CreateMessageFunction", _created_message),
    Expectation("create_message_parts", "CreateMessageFunction", _created_parts),
    Expectation("create_message_invalid", "CreateMessageFunction", _role_invalid),
    Expectation("list_messages", "ListMessagesFunction", _listed, seed=_seed_listed),
    Expectation("list_messages_invalid", "ListMessagesFunction", _limit_invalid, seed=_seed_listed),
    Expectation("modify_message", "ModifyMessageFunction", _modified, seed=_seed_modified, case="seeded"),
    Expectation("modify_message", "ModifyMessageFunction", _not_found, case="not-seeded"),
    Expectation("modify_message_invalid", "ModifyMessageFunction", _metadata_invalid, seed=_seed_modified),
    Expectation("modify_message_invalid", "ModifyMessageFunction", _metadata_invalid, case="not-seeded"),
    Expectation("route_not_found", "RouteNotFoundFunction", _invalid_url, thread=False),
    # The thread the event addresses was never created: every message operation is a 404 for the thread.
    Expectation("create_message", "CreateMessageFunction", _thread_not_found, case="no-thread", thread=False),
    Expectation(
        "create_message_parts", "CreateMessageFunction", _thread_not_found, case="no-thread", thread=False
    ),
    Expectation("list_messages", "ListMessagesFunction", _thread_not_found, case="no-thread", thread=False),
    Expectation("modify_message", "ModifyMessageFunction", _thread_not_found, case="no-thread", thread=False),
    # Threads, and retrieve / delete of a message.
    Expectation("create_thread", "CreateThreadFunction", _thread_created, thread=False, writes=True),
    Expectation("create_thread_invalid", "CreateThreadFunction", _thread_messages_invalid, thread=False),
    Expectation("retrieve_thread", "RetrieveThreadFunction", _thread_read),
    Expectation(
        "retrieve_thread", "RetrieveThreadFunction", _thread_not_found, case="no-thread", thread=False
    ),
    Expectation("retrieve_thread_invalid", "RetrieveThreadFunction", _thread_id_invalid, thread=False),
    Expectation("modify_thread", "ModifyThreadFunction", _thread_modified),
    Expectation("modify_thread", "ModifyThreadFunction", _thread_not_found, case="no-thread", thread=False),
    Expectation("modify_thread_invalid", "ModifyThreadFunction", _thread_unknown_key),
    Expectation("delete_thread", "DeleteThreadFunction", _thread_deleted),
    Expectation("delete_thread", "DeleteThreadFunction", _thread_not_found, case="no-thread", thread=False),
    Expectation("delete_thread_invalid", "DeleteThreadFunction", _thread_id_invalid, thread=False),
    Expectation(
        "retrieve_message", "RetrieveMessageFunction", _message_read, seed=_seed_modified, case="seeded"
    ),
    Expectation("retrieve_message", "RetrieveMessageFunction", _not_found, case="not-seeded"),
    Expectation("retrieve_message_invalid", "RetrieveMessageFunction", _message_id_invalid),
    Expectation(
        "delete_message", "DeleteMessageFunction", _message_deleted, seed=_seed_modified, case="seeded"
    ),
    Expectation("delete_message", "DeleteMessageFunction", _not_found, case="not-seeded"),
    Expectation("delete_message_invalid", "DeleteMessageFunction", _message_id_invalid),
]


# --- tests --------------------------------------------------------------------------------------------------


def test_events_directory_has_sample_events() -> None:
    assert EVENT_FILES, f"no events in {EVENTS}"


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_every_event_file_has_an_expectation(path: Path) -> None:
    assert path.stem in {e.event for e in EXPECTATIONS}, f"{path.name} has no expectation in test_events.py"


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=[e.id for e in EXPECTATIONS])
def test_every_expectation_has_its_event_file(expectation: Expectation) -> None:
    assert (EVENTS / f"{expectation.event}.json").is_file()


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=[e.id for e in EXPECTATIONS])
def test_event_is_routed_by_the_template_to_its_function(expectation: Expectation) -> None:
    event = load(EVENTS / f"{expectation.event}.json")

    route = route_of(event)

    assert route.function == expectation.function
    assert event["routeKey"] == event["requestContext"]["routeKey"] == route.route_key
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
    assert event["requestContext"]["requestId"] == f"sample-{expectation.event}"


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_every_event_addresses_a_thread_id_this_api_could_mint(path: Path) -> None:
    """So that the thread can exist: create it (here, through the store) before feeding the event."""
    event = load(path)
    if _has_thread(event) and _thread(event) != "abc":  # "abc": the events about a malformed thread id
        assert is_thread_id(_thread(event)), path.name


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=[e.id for e in EXPECTATIONS])
def test_event_gets_its_documented_answer(table: Any, expectation: Expectation) -> None:
    event = load(EVENTS / f"{expectation.event}.json")
    if expectation.thread and _has_thread(event):
        make_thread(_thread(event))
    seeded = expectation.seed(event)
    handler = handler_of(route_of(event))
    items = table.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]

    answer = call(handler, event)

    expectation.check(event, answer, seeded)
    assert answer.headers.get("content-type") == "application/json"
    assert answer.headers.get("x-request-id") == event["requestContext"]["requestId"]
    if not expectation.thread and not expectation.writes:
        assert items == []
        assert table.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"] == []
