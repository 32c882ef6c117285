"""Part 3: the DynamoDB work of one call, counted with botocore's event hooks on the container's client.

Runs in-process against moto's in-process mock. For each call: the requests (``before-call``), the items that
came back (``Item``, ``Items``, ``Responses``, ``Attributes`` of the parsed responses), the items the query
evaluated (``ScannedCount``), their size by DynamoDB's rule, and the ``ConsumedCapacity`` moto reports when
asked (``ReturnConsumedCapacity=TOTAL`` is added to every request that takes it; moto answers a fixed figure
per request, not DynamoDB's per-size one, so the item counts and bytes are the measure).

A list of 20 runs on threads of 10, 1,000 and 100,000 messages. Only the first message of each thread is
written through the store; the others are copies of its item with fresh ids, written straight into moto's
backend (a request per message would take minutes).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from bench import env, fixtures
from threadkit import storage
from threadkit.edge import auth
from threadkit.storage import client, schema, settings

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

THREAD_SIZES = (10, 1_000, 100_000)
PAGE = 20


@dataclass
class Work:
    label: str
    requests: int = 0
    operations: list[str] = field(default_factory=list)
    items_read: int = 0
    scanned: int = 0
    bytes_read: int = 0
    moto_capacity: float | None = None
    status: int = 0
    thread_messages: int | None = None


@dataclass
class WorkResults:
    lists: list[Work]
    operations: list[Work]
    bounded: bool

    def as_json(self) -> dict[str, object]:
        return {
            "list_of_20": [asdict(work) for work in self.lists],
            "operations": [asdict(work) for work in self.operations],
            "list_work_independent_of_thread_size": self.bounded,
        }


def _returned_items(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if parsed.get("Item"):
        items.append(parsed["Item"])
    items.extend(parsed.get("Items", []))
    items.extend(response["Item"] for response in parsed.get("Responses", []) if response.get("Item"))
    if parsed.get("Attributes"):
        items.append(parsed["Attributes"])
    return items


def _capacity(parsed: dict[str, Any]) -> float | None:
    reported = parsed.get("ConsumedCapacity")
    entries = reported if isinstance(reported, list) else [reported] if reported else []
    if not entries:
        return None
    return float(sum(entry.get("CapacityUnits", 0.0) for entry in entries))


class Meter:
    """Counts the DynamoDB requests a client makes and what they return."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._methods = {api: method for method, api in client.meta.method_to_api_mapping.items()}
        self._work: Work | None = None  # only while a handler runs
        client.meta.events.register("before-parameter-build.dynamodb", self._ask_capacity)
        client.meta.events.register("before-call.dynamodb", self._request)
        client.meta.events.register("after-call.dynamodb", self._response)

    def _ask_capacity(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        shape = model.input_shape
        if self._work is not None and shape is not None and "ReturnConsumedCapacity" in shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _request(self, model: OperationModel, **_: Any) -> None:
        if self._work is not None:
            self._work.requests += 1
            self._work.operations.append(model.name)

    def _response(self, parsed: dict[str, Any], **_: Any) -> None:
        if self._work is None:
            return
        items = _returned_items(parsed)
        self._work.items_read += len(items)
        self._work.bytes_read += sum(schema.item_size(item) for item in items)
        self._work.scanned += int(parsed.get("ScannedCount", 0))
        capacity = _capacity(parsed)
        if capacity is not None:
            self._work.moto_capacity = (self._work.moto_capacity or 0.0) + capacity

    def call(self, label: str, function: str, event: dict[str, Any]) -> Work:
        handler: Handler = importlib.import_module(function).lambda_handler
        work = self._work = Work(label)
        try:
            answer = handler(event, fixtures.FakeContext())
        finally:
            self._work = None
        work.status = int(answer["statusCode"])
        return work

    def close(self) -> None:
        self._client.meta.events.unregister("before-parameter-build.dynamodb", self._ask_capacity)
        self._client.meta.events.unregister("before-call.dynamodb", self._request)
        self._client.meta.events.unregister("after-call.dynamodb", self._response)


def _thread_of(client: DynamoDBClient, size: int) -> str:
    """A new thread of ``size`` messages: the first written by the store, the others copies of its item with
    fresh ids, put straight into moto's backend (moto's own ``Item.__deepcopy__``, without its per-attribute
    size check: the copies only differ in their sort key)."""
    thread_id = fixtures.new_thread_id()
    storage.thread_store().create_thread(fixtures.TENANT, schema.ThreadRecord(id=thread_id, created_at=0), [])
    message_store = storage.message_store()
    first = fixtures.text_message(thread_id, text="How does AI work? Explain it in simple terms.")
    message_store.add(fixtures.TENANT, first)
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][env.REGION].get_table(fixtures.TABLE_NAME)
    partition = table.items[DynamoType({"S": schema.partition_key(fixtures.TENANT, thread_id)})]
    original = partition[DynamoType({"S": first.id})]
    for _ in range(size - 1):
        copied = copy.deepcopy(original)
        sort_key = DynamoType({"S": fixtures.new_message_id()})
        copied.range_key = sort_key
        dict.__setitem__(copied.attrs, "sk", sort_key)
        partition[sort_key] = copied
    if len(partition) != size + 1:  # the messages and the thread's own item
        raise RuntimeError(f"seeded {len(partition) - 1} messages, wanted {size}")
    return thread_id


def _expect(work: Work, status: int) -> Work:
    if work.status != status:
        raise RuntimeError(f"{work.label}: answered {work.status}, expected {status}")
    return work


# Every other operation, on the sample events' thread and message, in an order where each finds what it
# needs (delete thread last).
_OPERATIONS = [
    ("create_message", "create message"),
    ("retrieve_message", "retrieve message"),
    ("modify_message", "modify message"),
    ("list_messages", "list messages (sample event: limit=2)"),
    ("delete_message", "delete message"),
    ("create_thread", "create thread (sample: 2 initial messages)"),
    ("retrieve_thread", "retrieve thread"),
    ("modify_thread", "modify thread"),
    ("delete_thread", "delete thread"),
    ("route_not_found", "unknown route (404)"),
]


def _operations(meter: Meter) -> list[Work]:
    """Every operation once; the first call also reads the API key, as a container's first request does."""
    auth.key_cache().clear()
    first = meter.call(
        "retrieve thread, key not cached yet", "retrieve_thread", fixtures.event("retrieve_thread")
    )
    done = [_expect(first, 200)]
    fixtures.prime_key_cache()
    for function, label in _OPERATIONS:
        done.append(
            _expect(meter.call(label, function, fixtures.event(function)), fixtures.expected_status(function))
        )
    return done


def _lists(
    meter: Meter, client: DynamoDBClient, sizes: tuple[int, ...], progress: Callable[[str], None]
) -> list[Work]:
    threads = {}
    for size in sizes:
        progress(f"DynamoDB work: seeding a thread of {size:,} messages")
        threads[size] = _thread_of(client, size)
    fixtures.prime_key_cache()
    lists = []
    for size, thread_id in threads.items():
        event = fixtures.event("list_messages", thread_id=thread_id, query={"limit": str(PAGE)})
        work = _expect(meter.call(f"list of {PAGE}", "list_messages", event), 200)
        work.thread_messages = size
        lists.append(work)
    largest = max(sizes)
    event = fixtures.event("list_messages", thread_id=threads[largest], query={"limit": "100"})
    work = _expect(meter.call("list of 100", "list_messages", event), 200)
    work.thread_messages = largest
    lists.append(work)
    return lists


def _bounded(lists: list[Work]) -> bool:
    """Whether a page costs the same however long the thread (once the thread has more than a page)."""
    pages = [work for work in lists if work.label == f"list of {PAGE}"]
    full = {
        (work.requests, work.items_read, work.scanned) for work in pages if (work.thread_messages or 0) > PAGE
    }
    return len(full) <= 1 and all(work.items_read <= PAGE + 2 for work in pages)


def measure(progress: Callable[[str], None], sizes: tuple[int, ...] = THREAD_SIZES) -> WorkResults:
    settings.get_settings.cache_clear()
    with mock_aws():
        storage.reset()
        dynamodb = client.dynamodb_client()
        fixtures.create_table(dynamodb)
        fixtures.store_key(dynamodb)
        fixtures.reset_event_thread(dynamodb, [fixtures.event_message_id()])
        meter = Meter(dynamodb)
        try:
            # The operations first, while the table is small: moto copies the whole table for a transaction.
            progress("DynamoDB work: every operation once")
            operations = _operations(meter)
            lists = _lists(meter, dynamodb, sizes, progress)
        finally:
            meter.close()
    storage.reset()
    return WorkResults(lists=lists, operations=operations, bounded=_bounded(lists))
