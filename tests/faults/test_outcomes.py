"""A write's outcome is known before the client is answered.

When an attempt of a write is sent and its answer never comes (a read timeout, a connection closed after the
request went out) or is a DynamoDB 5xx, DynamoDB may or may not have carried it out. These tests put a
stand-in between the functions and the table (moto, in this process) that carries attempts out, or not, and
then loses their answers, and check what the client gets: the success the write was when it landed (one item,
never two), a 503 that promises nothing was written when a consistent read shows it was not, and only when
even that read fails, a 503 that says the outcome is unknown (``x-should-retry: false`` on a create without
an ``Idempotency-Key``, whose blind retry could make a second one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import create_thread
import delete_message
import delete_thread
import modify_thread
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.support.api import (
    THREAD,
    assert_error,
    checked,
    create,
    create_event,
    error,
    message_event,
    modify_event,
    send_create,
    send_modify,
)
from tests.support.api_events import TEST_TENANT, Answer, http_event
from tests.support.moto_table import TABLE_NAME
from tests.support.seeding import make_thread
from threadkit.storage import client, schema, settings

UNAVAILABLE = error(
    "The server is temporarily unable to handle your request. Please retry shortly.",
    type="server_error",
    code="service_unavailable",
)
UNKNOWN = error(
    "The server could not confirm whether your request was carried out. Check before you send it again "
    "(a create sent again with the same Idempotency-Key is always safe).",
    type="server_error",
    code="outcome_unknown",
)


def lost_answer(**_: Any) -> Exception:
    return ReadTimeoutError(endpoint_url="http://dynamodb")


def html_500(**_: Any) -> Exception:
    response: Any = {
        "Error": {"Code": "500", "Message": "<html>boom</html>"},
        "ResponseMetadata": {"HTTPStatusCode": 500},
    }
    return ClientError(response, "Operation")


class Between:
    """Stands between the functions and their client. For ``operation``, each attempt in ``plan`` is either
    carried out (``"done"``) or not (``"dropped"``), and then its answer is replaced by ``failure``; attempts
    past the plan go through untouched. ``reads_fail`` makes every consistent ``GetItem`` fail too."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.operation = ""
        self.plan: list[str] = []
        self.failure: Callable[..., Exception] = lost_answer
        self.reads_fail = False
        self.attempts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        def attempt(**params: Any) -> Any:
            self.attempts.append(name)
            if self.reads_fail and name == "get_item" and self.operation != "get_item":
                raise lost_answer()
            if name != self.operation or not self.plan:
                return method(**params)
            step = self.plan.pop(0)
            if step == "done":
                # A retry that meets its own earlier attempt fails; its answer is lost all the same.
                with contextlib.suppress(ClientError):
                    method(**params)
            raise self.failure(**params)

        return attempt


@pytest.fixture
def between(table: Any, monkeypatch: pytest.MonkeyPatch) -> Between:
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "3")
    settings.get_settings.cache_clear()
    monkeypatch.setattr(client, "pause", lambda seconds: None)
    stand_in = Between(client.dynamodb_client())
    monkeypatch.setattr(client, "dynamodb_client", lambda: stand_in)
    return stand_in


def scan() -> list[dict[str, Any]]:
    stand_in = cast("Between", client.dynamodb_client())
    items: list[dict[str, Any]] = stand_in.real.scan(TableName=TABLE_NAME)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def messages_in(thread_id: str) -> list[str]:
    pk = schema.partition_key(TEST_TENANT, thread_id)
    return [i["sk"]["S"] for i in scan() if i["pk"]["S"] == pk and i["sk"]["S"].startswith("msg_")]


def threads() -> list[str]:
    return [i["pk"]["S"] for i in scan() if i["sk"]["S"] == schema.THREAD_SK]


BODY = {"role": "user", "content": "Hello"}


def send_delete_message(thread_id: str, message_id: str) -> Answer:
    return checked(delete_message.lambda_handler, message_event("DELETE", thread_id, message_id))


def send_thread(method: str, thread_id: str | None = None, body: Any = None, **headers: str) -> Answer:
    handlers = {"POST": create_thread if thread_id is None else modify_thread, "DELETE": delete_thread}
    path = "/v1/threads" + ("" if thread_id is None else f"/{thread_id}")
    return checked(
        handlers[method].lambda_handler,
        http_event(
            method,
            path,
            route_key=f"{method} /v1/threads" + ("" if thread_id is None else "/{thread_id}"),
            path_parameters=None if thread_id is None else {"thread_id": thread_id},
            body=body,
            headers=headers or None,
        ),
    )


# --- the write landed: the client gets the success it was ---------------------------------------------------


@dataclass(frozen=True)
class Write:
    operation: str
    run: Callable[[], Answer]
    check: Callable[[Answer], None]


def _create_message_once(answer: Answer) -> None:
    assert answer.status == 200, answer.body
    assert messages_in(THREAD) == [answer.body["id"]]


def _created_thread_once(answer: Answer) -> None:
    assert answer.status == 200, answer.body
    assert threads() == [schema.partition_key(TEST_TENANT, answer.body["id"])]


def _deleted_message(message_id: str) -> Callable[[Answer], None]:
    def check(answer: Answer) -> None:
        assert (answer.status, answer.body) == (
            200,
            {"id": message_id, "object": "thread.message.deleted", "deleted": True},
        )
        assert messages_in(THREAD) == []

    return check


PLANS = {
    # the first attempt lands, its answer is lost; the retry meets it
    "first-lands": ["done"],
    # every attempt's answer is lost, the first one landed: found by reading back
    "all-lost-first-landed": ["done", "done", "done"],
}


@pytest.mark.parametrize("failure", [lost_answer, html_500], ids=["lost", "html-500"])
@pytest.mark.parametrize("plan", list(PLANS))
def test_a_create_that_landed_is_a_200_with_one_message(
    between: Between, plan: str, failure: Callable[..., Exception]
) -> None:
    make_thread(THREAD)
    between.operation, between.plan, between.failure = "transact_write_items", list(PLANS[plan]), failure

    _create_message_once(send_create(create_event(BODY)))


@pytest.mark.parametrize("messages", [False, True], ids=["alone", "with-messages"])
@pytest.mark.parametrize("plan", list(PLANS))
def test_a_thread_create_that_landed_is_a_200_with_one_thread(
    between: Between, plan: str, messages: bool
) -> None:
    between.operation = "transact_write_items" if messages else "put_item"
    between.plan = list(PLANS[plan])

    answer = send_thread("POST", body={"messages": [BODY]} if messages else {})

    _created_thread_once(answer)


@pytest.mark.parametrize("plan", list(PLANS))
def test_a_delete_that_landed_is_the_deletion(between: Between, plan: str) -> None:
    make_thread(THREAD)
    message_id = create(BODY)["id"]
    between.operation, between.plan = "transact_write_items", list(PLANS[plan])

    _deleted_message(message_id)(send_delete_message(THREAD, message_id))


@pytest.mark.parametrize("plan", list(PLANS))
def test_a_thread_delete_that_landed_is_the_deletion(between: Between, plan: str) -> None:
    thread_id = make_thread()
    between.operation, between.plan = "update_item", list(PLANS[plan])

    answer = send_thread("DELETE", thread_id)

    assert (answer.status, answer.body) == (
        200,
        {"id": thread_id, "object": "thread.deleted", "deleted": True},
    )


def test_a_second_delete_of_a_thread_is_still_404(between: Between) -> None:
    # The token on the deletion tells a retry that meets its own write from a thread deleted before.
    thread_id = make_thread()
    assert send_thread("DELETE", thread_id).status == 200

    answer = send_thread("DELETE", thread_id)

    assert_error(answer, 404, error(f"No thread found with id '{thread_id}'."))


@pytest.mark.parametrize("plan", list(PLANS))
def test_a_modify_that_landed_is_the_modified_message(between: Between, plan: str) -> None:
    make_thread(THREAD)
    message_id = create(BODY)["id"]
    between.operation, between.plan = "update_item", list(PLANS[plan])

    answer = send_modify(modify_event(message_id, {"metadata": {"seen": "yes"}}))

    assert answer.status == 200, answer.body
    assert (answer.body["id"], answer.body["metadata"]) == (message_id, {"seen": "yes"})


@pytest.mark.parametrize("plan", list(PLANS))
def test_a_thread_modify_that_landed_is_the_modified_thread(between: Between, plan: str) -> None:
    thread_id = make_thread()
    between.operation, between.plan = "update_item", list(PLANS[plan])

    answer = send_thread("POST", thread_id, {"metadata": {"seen": "yes"}})

    assert answer.status == 200, answer.body
    assert (answer.body["id"], answer.body["metadata"]) == (thread_id, {"seen": "yes"})


# --- the write did not land: a 503 that means nothing was written -------------------------------------------


@pytest.mark.parametrize("failure", [lost_answer, html_500], ids=["lost", "html-500"])
def test_a_create_that_did_not_land_is_a_503_and_nothing_is_written(
    between: Between, failure: Callable[..., Exception]
) -> None:
    make_thread(THREAD)
    between.operation, between.plan, between.failure = "transact_write_items", ["dropped"] * 3, failure

    answer = send_create(create_event(BODY))

    assert_error(answer, 503, UNAVAILABLE)
    assert answer.headers["retry-after"] == "1"
    assert "x-should-retry" not in answer.headers
    assert messages_in(THREAD) == []
    assert between.attempts.count("get_item") == 1  # the read that showed it


def test_a_thread_create_that_did_not_land_is_a_503_and_nothing_is_written(between: Between) -> None:
    between.operation, between.plan = "put_item", ["dropped"] * 3

    assert_error(send_thread("POST", body={}), 503, UNAVAILABLE)
    assert threads() == []


def test_a_delete_that_did_not_land_is_a_503_and_the_message_stays(between: Between) -> None:
    make_thread(THREAD)
    message_id = create(BODY)["id"]
    between.operation, between.plan = "transact_write_items", ["dropped"] * 3

    assert_error(send_delete_message(THREAD, message_id), 503, UNAVAILABLE)
    assert messages_in(THREAD) == [message_id]


def test_a_modify_that_did_not_land_is_a_503_and_the_message_is_unchanged(between: Between) -> None:
    make_thread(THREAD)
    message_id = create(BODY)["id"]
    between.operation, between.plan = "update_item", ["dropped"] * 3

    assert_error(send_modify(modify_event(message_id, {"metadata": {"seen": "yes"}})), 503, UNAVAILABLE)
    between.operation = ""
    assert send_modify(modify_event(message_id, {"metadata": None})).body["metadata"] == {}


# --- neither: the outcome is unknown, and the answer says so ------------------------------------------------


def test_a_create_whose_outcome_cannot_be_found_out_says_so_and_asks_not_to_be_retried_blindly(
    between: Between,
) -> None:
    make_thread(THREAD)
    between.operation, between.plan = "transact_write_items", ["done", "done", "done"]
    between.reads_fail = True

    answer = send_create(create_event(BODY))

    assert_error(answer, 503, UNKNOWN)
    assert answer.headers["x-should-retry"] == "false"
    assert answer.headers["retry-after"] == "1"


def test_with_an_idempotency_key_the_unknown_outcome_is_safe_to_retry_and_the_retry_finds_the_message(
    between: Between,
) -> None:
    make_thread(THREAD)
    between.operation, between.plan = "transact_write_items", ["done", "done", "done"]
    between.reads_fail = True
    keyed = create_event(BODY, headers={"idempotency-key": "order-7"})

    first = send_create(keyed)

    assert_error(first, 503, UNKNOWN)
    assert first.headers["x-should-retry"] == "true"
    (landed,) = messages_in(THREAD)

    between.reads_fail = False
    second = send_create(create_event(BODY, headers={"idempotency-key": "order-7"}))

    assert second.status == 200, second.body
    assert second.body["id"] == landed
    assert messages_in(THREAD) == [landed]


def test_with_an_idempotency_key_a_create_that_never_landed_is_made_by_the_retry(between: Between) -> None:
    make_thread(THREAD)
    between.operation, between.plan = "transact_write_items", ["dropped", "dropped", "dropped"]
    between.reads_fail = True

    assert send_create(create_event(BODY, headers={"idempotency-key": "order-8"})).status == 503
    assert messages_in(THREAD) == []

    between.reads_fail = False
    retry = send_create(create_event(BODY, headers={"idempotency-key": "order-8"}))

    assert retry.status == 200, retry.body
    assert messages_in(THREAD) == [retry.body["id"]]
    again = send_create(create_event(BODY, headers={"idempotency-key": "order-8"}))
    assert again.body == retry.body
