"""Every sample event in events/ gets its documented answer from the function that template.yaml routes it to.

The function is found as API Gateway would find it (the HttpApi event's method and path, ``$default`` for
anything else) and called through its template ``Handler``, the entry point ``sam local invoke`` uses. The
events a function accepts are here; those it refuses are rows of the contract table
(``tests/support/contract_rows.py``, sent by tests/handlers/test_contract.py), as every event is with its key
taken away.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import (
    assert_list_page,
    assert_message,
    create_text,
    text_part,
)
from tests.support.api_events import Answer
from tests.support.contract_rows import ROWS
from tests.support.routing import EVENT_FILES, EVENTS, load, route_of, send
from tests.support.seeding import is_thread_id, make_message, make_thread

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
    return [make_message(_thread(event), message_id, metadata={"before": "modify"})]


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


def _listed(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    # limit=2&order=asc over three seeded messages
    assert_list_page(answer, seeded[:2], has_more=True)


def _modified(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(
        answer.body,
        thread_id=_thread(event),
        content=[text_part("seeded")],
        metadata={"modified": "true", "user": "abc123"},
    )
    assert answer.body["id"] == seeded[0]


THREAD_KEYS = ["id", "object", "created_at", "metadata", "tool_resources"]


def _thread_created(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert list(answer.body) == THREAD_KEYS
    assert is_thread_id(answer.body["id"])
    assert answer.body["metadata"] == {"source": "sample"}
    assert answer.body["tool_resources"] == {}


def _thread_read(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert list(answer.body) == THREAD_KEYS
    assert answer.body["id"] == _thread(event)
    assert answer.body["object"] == "thread"


def _thread_modified(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    _thread_read(event, answer, seeded)
    assert answer.body["metadata"] == {"modified": "true", "user": "abc123"}


def _thread_deleted(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert answer.body == {"id": _thread(event), "object": "thread.deleted", "deleted": True}


def _message_read(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(
        answer.body, thread_id=_thread(event), content=[text_part("seeded")], metadata={"before": "modify"}
    )
    assert answer.body["id"] == seeded[0]


def _message_deleted(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert answer.body == {"id": seeded[0], "object": "thread.message.deleted", "deleted": True}


def _seed_threads(event: dict[str, Any]) -> list[str]:
    """Three threads of user abc123 and one of another user, oldest first."""
    made = [make_thread(metadata={"user": "abc123"}) for _ in range(2)]
    make_thread(metadata={"user": "someone else"})
    return [*made, make_thread(metadata={"user": "abc123"})]


def _threads_listed(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    # limit=2&metadata[user]=abc123: the newest two of user abc123
    assert answer.status == 200, answer.body
    assert answer.body == {
        "object": "list",
        "data": answer.body["data"],
        "first_id": seeded[2],
        "last_id": seeded[1],
        "has_more": True,
    }
    assert [thread["id"] for thread in answer.body["data"]] == [seeded[2], seeded[1]]


def _seed_export(event: dict[str, Any]) -> list[str]:
    return [create_text(f"seeded {i}", thread_id=_thread(event))["id"] for i in range(3)]


def _exported(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    assert list(answer.body) == ["object", "thread", "messages", "has_more", "last_id"]
    assert answer.body["thread"]["id"] == _thread(event)
    assert [m["id"] for m in answer.body["messages"]] == seeded
    assert (answer.body["has_more"], answer.body["last_id"]) == (False, seeded[-1])


def _imported(event: dict[str, Any], answer: Answer, seeded: list[str]) -> None:
    assert answer.status == 200, answer.body
    body = json.loads(event["body"])
    assert answer.body["thread"] == body["thread"]
    given = [m["id"] for m in body["messages"]["data"]]
    # The page was listed newest first: the history is stored oldest first.
    assert list(answer.body["message_ids"]) == given[::-1]


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
    """Whether the event's thread is created (through the store) before the seed and the event."""

    @property
    def id(self) -> str:
        return f"{self.event}-{self.case}" if self.case else self.event


EXPECTATIONS = [
    Expectation("create_message", "CreateMessageFunction", _created_message),
    Expectation("create_message_parts", "CreateMessageFunction", _created_parts),
    Expectation("list_messages", "ListMessagesFunction", _listed, seed=_seed_listed),
    Expectation("modify_message", "ModifyMessageFunction", _modified, seed=_seed_modified, case="seeded"),
    Expectation("create_thread", "CreateThreadFunction", _thread_created, thread=False),
    Expectation("retrieve_thread", "RetrieveThreadFunction", _thread_read),
    Expectation("modify_thread", "ModifyThreadFunction", _thread_modified),
    Expectation("delete_thread", "DeleteThreadFunction", _thread_deleted),
    Expectation(
        "retrieve_message", "RetrieveMessageFunction", _message_read, seed=_seed_modified, case="seeded"
    ),
    Expectation(
        "delete_message", "DeleteMessageFunction", _message_deleted, seed=_seed_modified, case="seeded"
    ),
    Expectation("list_threads", "ListThreadsFunction", _threads_listed, seed=_seed_threads),
    Expectation("export_thread", "ExportThreadFunction", _exported, seed=_seed_export),
    Expectation("import_thread", "ImportThreadFunction", _imported),
]
# The sample events refused as they are (with their key), each a row of the contract table.
REFUSED = {row.request.sample for row in ROWS if row.request.sample and row.status != 401}


# --- tests --------------------------------------------------------------------------------------------------


def test_events_directory_has_sample_events() -> None:
    assert EVENT_FILES, f"no events in {EVENTS}"


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_every_event_file_has_an_expectation(path: Path) -> None:
    documented = {e.event for e in EXPECTATIONS} | REFUSED
    assert path.stem in documented, f"{path.name} has no expectation here and no row in contract_rows.py"


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

    answer = send(event)

    expectation.check(event, answer, seeded)
    assert answer.headers.get("content-type") == "application/json"
    assert answer.headers.get("x-request-id") == event["requestContext"]["requestId"]
