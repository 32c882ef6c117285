"""Many writers at once: nothing lost, nothing duplicated, a stable order, and no item created by a modify.

A Powertools resolver (a function's handler) serves one request at a time, like a Lambda container; but the
store, the ids and boto3's client must be right when many containers write to one thread at once. These tests
run the domain functions (``threadkit.domain.messages``) from real threads in this process, against the
embedded DynamoDB that ``make serve`` runs (a real HTTP endpoint with many connections open at once, each
request atomic, as DynamoDB's are), with the table ``template.yaml`` declares. The threads share one
container-wide client and store, built while they race for it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from tests.support.api_events import TEST_TENANT
from tests.support.embedded import admin_client, embedded_store, functions_on, new_table
from threadkit import storage
from threadkit.contract import errors
from threadkit.contract.models import (
    CreateMessageRequest,
    CreateThreadRequest,
    Message,
    ModifyMessageRequest,
    Order,
)
from threadkit.domain import messages, threads
from threadkit.storage import schema

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")

TENANT = TEST_TENANT


@pytest.fixture(scope="module")
def store_endpoint() -> Iterator[str]:
    with embedded_store() as endpoint:
        yield endpoint


@pytest.fixture
def server_table(
    store_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DynamoDBClient, str]]:
    """A fresh table (the template's) on the store, the functions pointed at it; yields the tests' own
    client and the table's name."""
    admin = admin_client(store_endpoint)
    table_name = new_table(store_endpoint, "concurrency")
    with functions_on(store_endpoint, table_name, monkeypatch):
        yield admin, table_name
    admin.delete_table(TableName=table_name)


# --- helpers ------------------------------------------------------------------------------------------------


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """``work(0)`` … ``work(count - 1)``, each in its own thread, all released at once; their results in that
    order. A failure in any thread fails the test."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T:
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start, index) for index in range(count)]
        return [future.result(timeout=120) for future in futures]


def new_thread() -> str:
    return threads.create_thread(TENANT, CreateThreadRequest()).id


def create(thread_id: str, text: str) -> Message:
    return messages.create_message(
        TENANT, thread_id, CreateMessageRequest.model_validate({"role": "user", "content": text})
    )


def modify(thread_id: str, message_id: str, metadata: dict[str, str]) -> Message:
    return messages.modify_message(
        TENANT, thread_id, message_id, ModifyMessageRequest.model_validate({"metadata": metadata})
    )


def walk(thread_id: str, order: Order, limit: int = 100) -> list[Message]:
    """Every message of the thread, page after page with ``after``, as a client's auto-pager reads them."""
    seen: list[Message] = []
    after: str | None = None
    for _ in range(10_000):
        page = messages.list_messages(
            TENANT, thread_id, limit=limit, order=order, after=after, before=None, run_id=None
        )
        seen.extend(page.data)
        if not page.has_more:
            return seen
        after = page.last_id
    raise AssertionError("the walk never ended")


def partition_items(admin: DynamoDBClient, table_name: str, thread_id: str) -> list[dict[str, Any]]:
    """Every item of the thread's partition, its own and its messages', read straight from the table."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": schema.partition_key(TENANT, thread_id)}},
        "ConsistentRead": True,
    }
    while True:
        answer = admin.query(**query)
        items.extend(answer["Items"])
        if "LastEvaluatedKey" not in answer:
            return items
        query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def message_keys(items: list[dict[str, Any]]) -> list[str]:
    return [item["sk"]["S"] for item in items if item["sk"]["S"] != schema.THREAD_SK]


# --- the test server ---------------------------------------------------------------------------------------


def test_the_embedded_store_undoes_a_cancelled_transaction_as_dynamodb_does(
    server_table: tuple[DynamoDBClient, str],
) -> None:
    admin, table_name = server_table
    thread_id = new_thread()
    message = create(thread_id, "before")
    key = {"pk": {"S": schema.partition_key(TENANT, thread_id)}, "sk": {"S": message.id}}
    before = partition_items(admin, table_name, thread_id)
    new_key = {"pk": key["pk"], "sk": {"S": "msg_" + "0" * 24}}

    with pytest.raises(admin.exceptions.TransactionCanceledException):
        admin.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table_name, "Item": {**new_key, "role": {"S": "user"}}}},
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": key,
                        "UpdateExpression": "SET #m = :m",
                        "ExpressionAttributeNames": {"#m": "metadata"},
                        "ExpressionAttributeValues": {":m": {"S": '{"changed":"yes"}'}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table_name,
                        "Key": {"pk": key["pk"], "sk": {"S": schema.THREAD_SK}},
                        "ConditionExpression": "attribute_not_exists(pk)",  # fails: the thread exists
                    }
                },
            ]
        )

    assert partition_items(admin, table_name, thread_id) == before
    assert messages.retrieve_message(TENANT, thread_id, message.id) == message


# --- many creates in one thread -----------------------------------------------------------------------------

WORKERS = 16
MESSAGES_PER_WORKER = 25


def test_concurrent_creates_in_one_thread_lose_nothing_duplicate_nothing_and_list_in_a_stable_order(
    server_table: tuple[DynamoDBClient, str],
) -> None:
    admin, table_name = server_table
    thread_id = new_thread()
    storage.reset()  # the workers race to build the container's client and store
    stores: list[int] = []

    def work(worker: int) -> list[Message]:
        stores.append(id(storage.message_store()))
        return [create(thread_id, f"worker {worker} message {n}") for n in range(MESSAGES_PER_WORKER)]

    made = run_together(WORKERS, work)

    assert len(set(stores)) == 1  # one client and one store for the container, however the race went
    created = {message.id: message for batch in made for message in batch}
    assert len(created) == WORKERS * MESSAGES_PER_WORKER  # no id minted twice
    for worker, batch in enumerate(made):
        assert [m.content[0].text.value for m in batch] == [  # type: ignore[union-attr]
            f"worker {worker} message {n}" for n in range(MESSAGES_PER_WORKER)
        ]
        ids = [m.id for m in batch]
        assert ids == sorted(set(ids))  # each worker's ids in its creation order, none twice
    # Nothing lost, nothing duplicated: the table holds exactly these messages.
    assert sorted(message_keys(partition_items(admin, table_name, thread_id))) == sorted(created)

    ascending = walk(thread_id, "asc")
    ids = [m.id for m in ascending]
    assert len(ids) == len(created)
    assert all(a < b for a, b in itertools.pairwise(ids))  # strictly increasing: no repeat, no disorder
    assert set(ids) == set(created)
    assert [m.model_dump() for m in ascending] == [created[i].model_dump() for i in ids]
    times = [m.created_at for m in ascending]
    assert times == sorted(times)  # created_at never goes back along the order
    # The order is stable: a second walk, and one with other pages, see the very same sequence.
    assert [m.id for m in walk(thread_id, "asc")] == ids
    assert [m.id for m in walk(thread_id, "asc", limit=33)] == ids
    assert [m.id for m in walk(thread_id, "desc")] == ids[::-1]


# --- many modifies of one message ---------------------------------------------------------------------------

MODIFIERS = 8
MODIFIES_PER_WORKER = 6


def test_concurrent_modifies_of_one_message_leave_it_whole_with_one_of_the_maps(
    server_table: tuple[DynamoDBClient, str],
) -> None:
    admin, table_name = server_table
    thread_id = new_thread()
    original = create(thread_id, "modified by many")
    sent = [{"worker": str(w), "n": str(n)} for w in range(MODIFIERS) for n in range(MODIFIES_PER_WORKER)]

    def work(worker: int) -> list[Message]:
        return [
            modify(thread_id, original.id, {"worker": str(worker), "n": str(n)})
            for n in range(MODIFIES_PER_WORKER)
        ]

    answers = [answer for batch in run_together(MODIFIERS, work) for answer in batch]

    for answer in answers:
        assert answer.metadata in sent
        assert answer.model_dump(exclude={"metadata"}) == original.model_dump(exclude={"metadata"})
    final = messages.retrieve_message(TENANT, thread_id, original.id)
    assert final.metadata in sent
    assert message_keys(partition_items(admin, table_name, thread_id)) == [original.id]


ROUNDS = 4


def test_modifies_racing_a_delete_never_bring_the_message_back(
    server_table: tuple[DynamoDBClient, str],
) -> None:
    admin, table_name = server_table
    thread_id = new_thread()
    kept = create(thread_id, "a neighbour that nobody touches")
    for _ in range(ROUNDS):
        doomed = create(thread_id, "modified while it is deleted")
        first_modify_done = threading.Event()

        def work(
            worker: int, doomed: Message = doomed, first_modify_done: threading.Event = first_modify_done
        ) -> Any:
            if worker == 0:
                # The deleter: once modifies are under way, delete the message in the middle of them.
                first_modify_done.wait(timeout=10)
                messages.delete_message(TENANT, thread_id, doomed.id)
                return time.monotonic()
            outcomes: list[tuple[float, Message | errors.ApiError]] = []
            for n in range(MODIFIES_PER_WORKER):
                started = time.monotonic()
                try:
                    answer: Message | errors.ApiError = modify(
                        thread_id, doomed.id, {"worker": str(worker), "n": str(n)}
                    )
                except errors.ApiError as exc:
                    answer = exc
                first_modify_done.set()
                outcomes.append((started, answer))
            return outcomes

        deleted_at, *modifiers = run_together(MODIFIERS + 1, work)

        not_found = (404, errors.message_not_found(doomed.id).envelope())
        for outcomes in modifiers:
            for started, answer in outcomes:
                if isinstance(answer, errors.ApiError):  # the message was gone: the contract's 404
                    assert (answer.status, answer.envelope()) == not_found
                else:  # a modify that came before the delete: the message as it was
                    assert answer.model_dump(exclude={"metadata"}) == doomed.model_dump(exclude={"metadata"})
                if started > deleted_at:  # a modify sent after the delete returned finds nothing
                    assert isinstance(answer, errors.ApiError)
        # No modify recreated the message, not even as a bare item with metadata alone.
        assert message_keys(partition_items(admin, table_name, thread_id)) == [kept.id]
        with pytest.raises(errors.ApiError) as missing:
            messages.retrieve_message(TENANT, thread_id, doomed.id)
        assert missing.value.status == 404
