"""Idempotent creates: an Idempotency-Key makes create message and create thread exactly-once, per tenant
(docs/contract.md, "Idempotency-Key"). A malformed key is a row of the contract table,
``tests/support/contract_rows.py``."""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

import create_message
import create_thread
import pytest

from tests.support.api import create_event
from tests.support.api_events import Answer, call, http_event
from tests.support.hooks import RequestCounter
from tests.support.moto_table import TABLE_NAME
from tests.support.seeding import make_thread
from threadkit.domain import idempotency
from threadkit.storage import keys
from threadkit.storage.client import Caller
from threadkit.storage.message_store import MessageStore

THREAD = "thread_" + "I" * 24
OTHER_KEY = "sk-idempotency-other-tenant-0000000000000"


def _create(body: Any, key: str | None, *, api_key: str | None = None, thread_id: str = THREAD) -> Answer:
    headers: dict[str, str | None] = {"idempotency-key": key}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return call(create_message.lambda_handler, create_event(body, thread_id=thread_id, headers=headers))


def _messages(table: Any) -> list[dict[str, Any]]:
    items = table.scan(TableName=TABLE_NAME)["Items"]
    return [i for i in items if i["sk"]["S"].startswith("msg_")]


def _records(table: Any) -> list[dict[str, Any]]:
    items = table.scan(TableName=TABLE_NAME)["Items"]
    return [i for i in items if i["pk"]["S"].startswith(idempotency.PARTITION_PREFIX)]


BODY = {"role": "user", "content": "pay invoice 42"}


@pytest.fixture
def thread(table: Any) -> str:
    return make_thread(THREAD)


def test_a_retry_with_the_same_key_and_body_returns_the_same_message(table: Any, thread: str) -> None:
    first = _create(BODY, "retry-1")
    second = _create(BODY, "retry-1")

    assert first.status == second.status == 200
    assert second.body == first.body
    assert len(_messages(table)) == 1
    (record,) = _records(table)
    assert record["pk"]["S"] == "idempotency#default"
    assert int(record["expiration"]["N"]) - int(first.body["created_at"]) in range(
        idempotency.EXPIRES_AFTER_SECONDS - 5, idempotency.EXPIRES_AFTER_SECONDS + 5
    )


def test_the_same_key_with_a_different_body_is_400_and_creates_nothing(table: Any, thread: str) -> None:
    assert _create(BODY, "reuse").status == 200
    answer = _create({**BODY, "content": "pay invoice 43"}, "reuse")

    assert answer.status == 400
    assert answer.body == {
        "error": {
            "message": "Keys for idempotent requests can only be used with the same parameters they were "
            "first used with. Try using a key other than the one used for the original request.",
            "type": "invalid_request_error",
            "param": "Idempotency-Key",
            "code": "idempotency_key_reused",
        }
    }
    assert len(_messages(table)) == 1


def test_the_same_key_in_another_thread_is_a_different_request(table: Any, thread: str) -> None:
    other = make_thread("thread_" + "J" * 24)
    assert _create(BODY, "k").status == 200
    assert _create(BODY, "k", thread_id=other).status == 400


def test_keys_are_scoped_per_tenant(table: Any, thread: str) -> None:
    keys.KeyStore(TABLE_NAME, Caller(table)).create("other", "other tenant", secret=OTHER_KEY)
    other_thread = call(
        create_thread.lambda_handler,
        http_event("POST", "/v1/threads", body={}, headers={"authorization": f"Bearer {OTHER_KEY}"}),
    ).body["id"]

    mine = _create(BODY, "shared-key")
    theirs = _create(BODY, "shared-key", api_key=OTHER_KEY, thread_id=other_thread)

    assert mine.status == theirs.status == 200
    assert mine.body["id"] != theirs.body["id"]
    assert {r["pk"]["S"] for r in _records(table)} == {"idempotency#default", "idempotency#other"}


def test_without_the_header_nothing_changes_and_no_request_is_added(
    table: Any, thread: str, dynamodb_requests: RequestCounter
) -> None:
    first, second = _create(BODY, None), _create(BODY, None)
    assert first.body["id"] != second.body["id"]
    assert dynamodb_requests.operations == ["TransactWriteItems", "TransactWriteItems"]
    assert _records(table) == []


def test_a_failed_create_leaves_no_record_so_a_retry_runs_again(table: Any) -> None:
    missing = _create(BODY, "before-thread")
    assert missing.status == 404
    make_thread(THREAD)
    assert _create(BODY, "before-thread").status == 200


def test_concurrent_requests_with_one_key_make_one_message(table: Any, thread: str) -> None:
    # Two containers at once: the second finds the first's record in progress.
    started, release = threading.Event(), threading.Event()
    real = MessageStore.add

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(timeout=10)
        return real(*args, **kwargs)

    answers: list[Answer] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MessageStore, "add", slow)
        worker = threading.Thread(target=lambda: answers.append(_create(BODY, "concurrent")))
        worker.start()
        assert started.wait(timeout=10)
        patch.setattr(MessageStore, "add", real)
        # The twin arrives in a second container while the first is still creating.
        twin = _second_container_create(BODY, "concurrent")
        release.set()
        worker.join(timeout=10)

    assert twin.status == 409
    assert twin.body["error"]["code"] == "idempotency_key_in_use"
    assert twin.headers["retry-after"] == "1"
    assert answers[0].status == 200
    assert len(_messages(table)) == 1
    assert _create(BODY, "concurrent").body == answers[0].body


def _second_container_create(body: Any, key: str) -> Answer:
    """The same function in another container: its own module instance, hence its own resolver."""
    spec = importlib.util.find_spec("create_message")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    event = http_event(
        "POST",
        f"/v1/threads/{THREAD}/messages",
        path_parameters={"thread_id": THREAD},
        body=body,
        headers={"idempotency-key": key},
    )
    return call(module.lambda_handler, event)


def test_create_thread_is_idempotent_too(table: Any) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "metadata": {"a": "b"}}

    def once() -> Answer:
        return call(
            create_thread.lambda_handler,
            http_event("POST", "/v1/threads", body=body, headers={"idempotency-key": "t-1"}),
        )

    first, second = once(), once()
    assert first.status == second.status == 200
    assert first.body == second.body
    threads = [i for i in table.scan(TableName=TABLE_NAME)["Items"] if i["sk"]["S"] == "thread"]
    assert len(threads) == 1
