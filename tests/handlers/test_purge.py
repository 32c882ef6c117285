"""Deleting a thread: gone at once for every operation, purged in the background in bounded batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import create_message
import delete_message
import delete_thread
import list_messages
import modify_message
import modify_thread
import purge_threads
import pytest
import retrieve_message
import retrieve_thread

from tests.support.api_events import FakeContext, call, http_event
from tests.support.hooks import listening
from tests.support.moto_table import TABLE_NAME
from tests.support.sam_template import ROOT
from threadkit import storage
from threadkit.contract import ids
from threadkit.domain import purge
from threadkit.storage import schema
from threadkit.storage.purge_store import PurgeStore

TENANT = "default"


@dataclass
class StreamContext(FakeContext):
    """A Lambda context whose remaining time the test controls."""

    remaining_ms: list[int] = field(default_factory=lambda: [120_000])

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms[0]


@dataclass
class BatchLog:
    sizes: list[int] = field(default_factory=list)

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.sizes.extend(len(requests) for requests in params["RequestItems"].values())


@pytest.fixture
def batches(table: Any) -> Iterator[BatchLog]:
    log = BatchLog()
    with listening("provide-client-params.dynamodb.BatchWriteItem", log):
        yield log


def _purge_handler(event: dict[str, Any], context: StreamContext) -> Any:
    """The purge function's entry point, as the stream's event source mapping calls it."""
    handler: Any = purge_threads.lambda_handler
    return handler(event, context)


def _thread_with_messages(table: Any, count: int, *, runs: int = 0) -> str:
    """A thread and ``count`` messages, written straight into the table (fast), ``runs`` of them in a run."""
    thread_id, created_at = ids.default_factory.new(ids.THREAD_PREFIX)
    storage.thread_store().create_thread(TENANT, schema.ThreadRecord(id=thread_id, created_at=created_at), [])
    pk = schema.partition_key(TENANT, thread_id)
    requests = []
    for n in range(count):
        message_id, _ = ids.default_factory.new(ids.MESSAGE_PREFIX)
        item = {
            "pk": {"S": pk},
            "sk": {"S": message_id},
            "created_at": {"N": str(created_at)},
            "role": {"S": "user"},
            "content": {"S": f'[{{"type":"text","text":{{"value":"m{n}","annotations":[]}}}}]'},
            "attachments": {"S": "[]"},
            "metadata": {"S": "{}"},
            "status": {"S": "completed"},
        }
        if n < runs:
            item |= {"run_id": {"S": "run_1"}, "gsi1pk": {"S": f"{pk}#run_1"}, "gsi1sk": {"S": message_id}}
        requests.append({"PutRequest": {"Item": item}})
    for start in range(0, len(requests), 25):
        table.batch_write_item(RequestItems={TABLE_NAME: requests[start : start + 25]})
    return thread_id


def _items(table: Any, thread_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "TableName": TABLE_NAME,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": schema.partition_key(TENANT, thread_id)}},
    }
    while True:
        page = table.query(**query)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _stream_event(table: Any, thread_id: str, event_name: str = "MODIFY") -> dict[str, Any] | None:
    """The stream record the table would emit for the thread item's current state, as the event source
    mapping's filter lets it through (None: the item is gone, so nothing passes the filter)."""
    item = table.get_item(
        TableName=TABLE_NAME,
        Key={"pk": {"S": schema.partition_key(TENANT, thread_id)}, "sk": {"S": "thread"}},
    ).get("Item")
    if item is None or "deleted_at" not in item:
        return None
    return {
        "Records": [
            {
                "eventID": "1",
                "eventName": event_name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": item["pk"], "sk": item["sk"]},
                    "NewImage": item,
                    "SequenceNumber": "100",
                    "SizeBytes": 100,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/messages-test/stream/x",
            }
        ]
    }


def _run_stream(table: Any, thread_id: str, context: StreamContext, *, max_rounds: int = 50) -> int:
    """Feeds the purge function the stream records its own changes cause, until none passes the filter."""
    rounds = 0
    while (event := _stream_event(table, thread_id)) is not None:
        rounds += 1
        assert rounds <= max_rounds, "the purge does not converge"
        assert _purge_handler(event, context) == {"batchItemFailures": []}
    return rounds


def _api(thread_id: str, message_id: str) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    t, m = thread_id, message_id
    msg = {"thread_id": t, "message_id": m}
    yield (
        "retrieve thread",
        retrieve_thread,
        http_event("GET", f"/v1/threads/{t}", path_parameters={"thread_id": t}),
    )
    yield (
        "modify thread",
        modify_thread,
        http_event("POST", f"/v1/threads/{t}", path_parameters={"thread_id": t}, body={"metadata": {}}),
    )
    yield (
        "delete thread",
        delete_thread,
        http_event("DELETE", f"/v1/threads/{t}", path_parameters={"thread_id": t}),
    )
    yield (
        "create message",
        create_message,
        http_event(
            "POST",
            f"/v1/threads/{t}/messages",
            path_parameters={"thread_id": t},
            body={"role": "user", "content": "x"},
        ),
    )
    yield (
        "list",
        list_messages,
        http_event("GET", f"/v1/threads/{t}/messages", path_parameters={"thread_id": t}),
    )
    yield (
        "retrieve",
        retrieve_message,
        http_event("GET", f"/v1/threads/{t}/messages/{m}", path_parameters=msg),
    )
    yield (
        "modify",
        modify_message,
        http_event("POST", f"/v1/threads/{t}/messages/{m}", path_parameters=msg, body={"metadata": {}}),
    )
    yield "delete", delete_message, http_event("DELETE", f"/v1/threads/{t}/messages/{m}", path_parameters=msg)


def test_a_deleted_thread_is_gone_at_once_for_every_operation_and_nothing_is_written(table: Any) -> None:
    thread_id = _thread_with_messages(table, 30)
    message_id = _items(table, thread_id)[0]["sk"]["S"]

    answer = call(
        delete_thread.lambda_handler, next(e for n, _, e in _api(thread_id, "") if n == "delete thread")
    )
    assert answer.status == 200
    assert answer.body == {"id": thread_id, "object": "thread.deleted", "deleted": True}

    before = _items(table, thread_id)
    for name, module, event in _api(thread_id, message_id):
        answer = call(module.lambda_handler, event)
        assert answer.status == 404, name
        assert answer.body == {
            "error": {
                "message": f"No thread found with id '{thread_id}'.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }, name
    assert _items(table, thread_id) == before


def test_the_purge_removes_every_item_of_a_long_thread_in_rounds_and_batches_of_at_most_25(
    table: Any, batches: BatchLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(purge, "MAX_ITEMS_PER_RUN", 500)  # several rounds, each handed over by the stream
    thread_id = _thread_with_messages(table, 1600, runs=40)
    other = _thread_with_messages(table, 5)
    call(
        delete_thread.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )

    rounds = _run_stream(table, thread_id, StreamContext())

    assert rounds == 4
    assert _items(table, thread_id) == []
    run_index = table.query(
        TableName=TABLE_NAME,
        IndexName="by_run",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.partition_key(TENANT, thread_id) + "#run_1"}},
    )
    assert run_index["Items"] == []
    assert batches.sizes
    assert max(batches.sizes) <= 25
    assert sum(batches.sizes) == 1600
    assert len(_items(table, other)) == 6  # another thread is untouched


def test_a_run_that_is_short_of_time_hands_over_to_the_next_one(table: Any, batches: BatchLog) -> None:
    thread_id = _thread_with_messages(table, 600)
    call(
        delete_thread.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )
    context = StreamContext(remaining_ms=[purge.TIME_RESERVE_MS + 1])
    event = _stream_event(table, thread_id)
    assert event is not None

    # Read once for the store's deadline, then before each round of deletes: time for one round only.
    clock = iter([purge.TIME_RESERVE_MS + 1, purge.TIME_RESERVE_MS + 1, 0])
    context.get_remaining_time_in_millis = lambda: next(clock)  # type: ignore[method-assign]
    _purge_handler(event, context)

    left = _items(table, thread_id)
    assert len(left) == 1 + 600 - purge.KEYS_PER_QUERY  # one query's worth went; the thread item remains
    thread_item = next(item for item in left if item["sk"]["S"] == "thread")
    assert thread_item["purge_round"] == {"N": "1"}
    assert _run_stream(table, thread_id, StreamContext()) == 1
    assert _items(table, thread_id) == []


def test_a_stale_record_of_an_already_purged_thread_is_ignored(table: Any) -> None:
    thread_id = _thread_with_messages(table, 3)
    call(
        delete_thread.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )
    stale = _stream_event(table, thread_id)
    assert stale is not None
    _run_stream(table, thread_id, StreamContext())

    assert _purge_handler(stale, StreamContext()) == {"batchItemFailures": []}
    assert _items(table, thread_id) == []


def test_records_that_are_not_deleted_threads_are_skipped(table: Any, batches: BatchLog) -> None:
    thread_id = _thread_with_messages(table, 3)
    item = table.get_item(
        TableName=TABLE_NAME,
        Key={"pk": {"S": schema.partition_key(TENANT, thread_id)}, "sk": {"S": "thread"}},
    )["Item"]
    event = {
        "Records": [
            {
                "eventID": "1",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"pk": item["pk"], "sk": item["sk"]},
                    "NewImage": item,
                    "SequenceNumber": "1",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/messages-test/stream/x",
            }
        ]
    }
    assert _purge_handler(event, StreamContext()) == {"batchItemFailures": []}
    assert len(_items(table, thread_id)) == 4
    assert batches.sizes == []


def test_deletes_dynamodb_leaves_unprocessed_are_retried_with_backoff(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id = _thread_with_messages(table, 30)
    call(
        delete_thread.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )
    real = PurgeStore.delete_keys
    refusals = iter([True, True, False, False, False])

    def flaky(self: PurgeStore, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if next(refusals, False):
            return keys  # DynamoDB processed none of them this time
        return real(self, keys)

    monkeypatch.setattr(PurgeStore, "delete_keys", flaky)
    pauses: list[float] = []
    outcome = purge.purge_thread(
        TENANT, thread_id, round_number=0, time_left_ms=lambda: 60_000, sleep=pauses.append
    )
    assert outcome.finished
    assert pauses == [0.1, 0.2]
    assert _items(table, thread_id) == []


def test_deletes_that_stay_unprocessed_fail_the_record_so_the_stream_retries_it(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id = _thread_with_messages(table, 5)
    call(
        delete_thread.lambda_handler,
        http_event("DELETE", f"/v1/threads/{thread_id}", path_parameters={"thread_id": thread_id}),
    )
    monkeypatch.setattr(PurgeStore, "delete_keys", lambda self, keys: keys)
    monkeypatch.setattr(purge, "pause", lambda seconds: None)
    event = _stream_event(table, thread_id)
    assert event is not None

    answer = _purge_handler(event, StreamContext())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert len(_items(table, thread_id)) == 6


def test_the_sample_stream_event_purges_the_thread_it_names(table: Any) -> None:
    event = json.loads((ROOT / "events" / "purge_threads.json").read_text())
    image = event["Records"][0]["dynamodb"]["NewImage"]
    tenant, thread_id = schema.split_partition_key(image["pk"]["S"])
    storage.thread_store().create_thread(tenant, schema.ThreadRecord(id=thread_id, created_at=1), [])
    storage.thread_store().delete_thread(tenant, thread_id, at=2)

    assert _purge_handler(event, StreamContext()) == {"batchItemFailures": []}

    assert _items(table, thread_id) == []
