"""The DynamoDB store on moto: run filter, Query continuation, exact has_more, item sizes, error mapping."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.support import paging
from tests.support.dynamodb_stubs import failing_calls, queue_until_failure
from tests.support.moto_table import TABLE_NAME, recreate, scan
from tests.support.paging import Order
from tests.support.seeding import item_keys, make_thread, thread_key
from tests.support.texts import largest_random_text, random_text
from threadkit.contract import ids
from threadkit.contract.models import MAX_METADATA_KEY_LENGTH, MAX_METADATA_PAIRS, MAX_METADATA_VALUE_LENGTH
from threadkit.storage import faults, schema
from threadkit.storage.client import Caller
from threadkit.storage.message_store import MessageStore
from threadkit.storage.schema import MessageRecord, ThreadRecord
from threadkit.storage.thread_store import ThreadStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TENANT = "default"
THREAD = "thread_" + "S" * 24
OTHER_THREAD = "thread_" + "T" * 24
SECOND = 1_761_861_545
NS = 1_000_000_000


# --- helpers ------------------------------------------------------------------------------------------------


def seconds_clock(seconds: list[int]) -> Callable[[], int]:
    readings: Iterator[int] = iter(seconds)
    return lambda: next(readings) * NS


def make_records(
    thread_id: str, runs: list[str | None], *, first_second: int = SECOND
) -> list[MessageRecord]:
    """One record per entry of ``runs``, three to a second, in creation order; ``None``: no run."""
    seconds = [first_second + n // 3 for n in range(len(runs))]
    factory = ids.IdFactory(clock_ns=seconds_clock(seconds))
    records = []
    for n, run_id in enumerate(runs):
        message_id, created_at = factory.new(ids.MESSAGE_PREFIX)
        records.append(
            MessageRecord(
                id=message_id,
                thread_id=thread_id,
                created_at=created_at,
                role="user" if run_id is None else "assistant",
                content=[{"type": "text", "text": {"value": f"message {n}", "annotations": []}}],
                assistant_id=None if run_id is None else "asst_" + "A" * 24,
                run_id=run_id,
                completed_at=created_at,
            )
        )
    return records


def write(message_store: MessageStore, records: list[MessageRecord]) -> None:
    for record in records:
        message_store.add(TENANT, record)


def expected_page(
    created: list[str], order: Order, limit: int, after: str | None, before: str | None
) -> tuple[list[str], bool]:
    """What the contract says a page holds, computed from the ids alone (ids sort in creation order)."""
    return paging.expected_page(sorted(created), order, limit, after, before)


def key_of(item: dict[str, Any], index: str | None) -> dict[str, Any]:
    key = {"pk": item["pk"], "sk": item["sk"]}
    if index is not None:
        key.update(gsi1pk=item["gsi1pk"], gsi1sk=item["gsi1sk"])
    return key


class ShapedClient:
    """A moto client whose Query answers are reshaped the ways real DynamoDB may shape them.

    ``cap``: the first ``capped_calls`` queries return at most this many items, with a LastEvaluatedKey at
    the last one, as DynamoDB does when a response reaches 1 MB. ``last_key``: ``"moto"`` leaves moto's
    LastEvaluatedKey alone (moto drops it when a page ends exactly at Limit), ``"at_limit"`` adds it whenever
    Limit items came back (real DynamoDB), ``"always"`` adds it to every non-empty answer (a 1 MB cut that
    falls on the very last item), ``"never"`` removes it.
    """

    def __init__(
        self,
        client: Any,
        *,
        cap: int | None = None,
        capped_calls: int = 1,
        last_key: Literal["moto", "at_limit", "always", "never"] = "moto",
    ) -> None:
        self._client = client
        self._cap = cap
        self._capped_calls = capped_calls
        self._last_key = last_key
        self.queries: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(copy.deepcopy(kwargs))
        index = kwargs.get("IndexName")
        limit = kwargs["Limit"]
        cut = self._cap is not None and len(self.queries) <= self._capped_calls and self._cap < limit
        if cut:
            assert self._cap is not None
            answer: dict[str, Any] = self._client.query(**{**kwargs, "Limit": self._cap})
            answer.pop("LastEvaluatedKey", None)
            if len(answer["Items"]) == self._cap:
                answer["LastEvaluatedKey"] = key_of(answer["Items"][-1], index)
        else:
            answer = self._client.query(**kwargs)
            items = answer["Items"]
            if self._last_key == "never":
                answer.pop("LastEvaluatedKey", None)
            elif (self._last_key == "at_limit" and len(items) == limit) or (
                self._last_key == "always" and items
            ):
                answer["LastEvaluatedKey"] = key_of(items[-1], index)
        self.answers.append(copy.deepcopy(answer))
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def shaped_store(client: ShapedClient) -> MessageStore:
    return MessageStore(TABLE_NAME, Caller(cast("DynamoDBClient", client)))


@pytest.fixture
def message_store(table: Any) -> MessageStore:
    return MessageStore(TABLE_NAME, Caller(table))


@pytest.fixture
def thread_store(table: Any) -> ThreadStore:
    return ThreadStore(TABLE_NAME, Caller(table))


# --- the run filter -----------------------------------------------------------------------------------------

RUN_PATTERN: list[str | None] = [
    "run_A",
    None,
    "run_B",
    "run_A",
    None,
    "run_A",
    "run_A",
    None,
    "run_B",
    "run_A",
]
RUNS = RUN_PATTERN * 3


@pytest.fixture
def run_thread(message_store: MessageStore, thread_store: ThreadStore) -> list[MessageRecord]:
    make_thread(THREAD, thread_store=thread_store)
    make_thread(OTHER_THREAD, thread_store=thread_store)
    records = make_records(THREAD, RUNS)
    write(message_store, records)
    # The same run id in another thread must stay out of this thread's pages.
    write(message_store, make_records(OTHER_THREAD, ["run_A"] * 5, first_second=SECOND + 5))
    return records


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_given_a_run_id_when_walking_with_after_then_exactly_that_runs_messages_come_in_order(
    message_store: MessageStore, run_thread: list[MessageRecord], order: Order
) -> None:
    for run_id in ["run_A", "run_B"]:
        run_ids = [r.id for r in run_thread if r.run_id == run_id]
        for limit in [1, 2, 3, 4, 13, 100]:
            cursor: str | None = None
            seen: list[str] = []
            while True:
                page = message_store.page(
                    TENANT, THREAD, order=order, limit=limit, after=cursor, run_id=run_id
                )
                got = [r.id for r in page.records]
                case = (run_id, limit, cursor)
                assert (got, page.has_more) == expected_page(run_ids, order, limit, cursor, None), case
                assert all(r.run_id == run_id and r.thread_id == THREAD for r in page.records), case
                seen.extend(got)
                if not page.has_more:
                    break
                cursor = got[-1]
            assert seen == sorted(run_ids, reverse=order == "desc"), (run_id, limit)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_given_a_run_id_when_walking_with_before_then_every_run_message_comes_once(
    message_store: MessageStore, run_thread: list[MessageRecord], order: Order
) -> None:
    run_ids = [r.id for r in run_thread if r.run_id == "run_A"]
    for limit in [1, 3, 5, 100]:
        cursor = ids.highest(ids.MESSAGE_PREFIX) if order == "asc" else ids.lowest(ids.MESSAGE_PREFIX)
        pages: list[list[str]] = []
        while True:
            page = message_store.page(TENANT, THREAD, order=order, limit=limit, before=cursor, run_id="run_A")
            got = [r.id for r in page.records]
            assert (got, page.has_more) == expected_page(run_ids, order, limit, None, cursor), (limit, cursor)
            pages.append(got)
            if not page.has_more:
                break
            cursor = got[0]
        walked = [i for got in reversed(pages) for i in got]
        assert walked == sorted(run_ids, reverse=order == "desc"), limit


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_given_a_run_id_and_cursors_on_messages_outside_the_run_then_the_page_is_the_runs_messages_between(
    message_store: MessageStore, run_thread: list[MessageRecord], order: Order
) -> None:
    run_ids = [r.id for r in run_thread if r.run_id == "run_A"]
    outside = [r.id for r in run_thread if r.run_id is None]
    for limit in [1, 2, 100]:
        for after in [None, outside[0], outside[4], outside[-1]]:
            for before in [None, outside[1], outside[6], run_ids[-1]]:
                page = message_store.page(
                    TENANT, THREAD, order=order, limit=limit, after=after, before=before, run_id="run_A"
                )
                expected = expected_page(run_ids, order, limit, after, before)
                assert ([r.id for r in page.records], page.has_more) == expected, (limit, after, before)


def test_given_an_unknown_run_id_then_the_page_is_empty_and_has_no_more(
    message_store: MessageStore, run_thread: list[MessageRecord]
) -> None:
    page = message_store.page(TENANT, THREAD, order="desc", limit=20, run_id="run_unknown")
    assert page == schema.Page([], has_more=False)


def test_given_messages_without_a_run_then_the_run_index_never_holds_them(
    table: Any, message_store: MessageStore, run_thread: list[MessageRecord]
) -> None:
    indexed = table.scan(TableName=TABLE_NAME, IndexName=schema.RUN_INDEX)["Items"]
    assert sorted(i["sk"]["S"] for i in indexed if i["pk"]["S"].endswith(THREAD)) == sorted(
        r.id for r in run_thread if r.run_id is not None
    )
    assert all("run_id" in i for i in indexed)
    plain = {r.id for r in run_thread if r.run_id is None}
    for run_id in ["run_A", "run_B"]:
        page = message_store.page(TENANT, THREAD, order="asc", limit=100, run_id=run_id)
        assert not plain & {r.id for r in page.records}


def test_given_a_run_message_when_read_back_then_its_run_and_assistant_come_back(
    message_store: MessageStore, run_thread: list[MessageRecord]
) -> None:
    page = message_store.page(TENANT, THREAD, order="asc", limit=100, run_id="run_B")
    assert page.records == [r for r in run_thread if r.run_id == "run_B"]
    everything = message_store.page(TENANT, THREAD, order="asc", limit=100)
    assert everything.records == run_thread


# --- a Query cut short by DynamoDB's 1 MB response cap ------------------------------------------------------


_THREAD_NUMBERS = itertools.count(1)


def fresh_thread(table: Any, runs: list[str | None]) -> tuple[str, list[str]]:
    """A new thread in ``table`` holding one message per entry of ``runs``, written with the thread in one
    transaction (moto copies the whole table for each transaction); its id and the message ids."""
    thread_id = f"thread_{next(_THREAD_NUMBERS):024d}"
    records = make_records(thread_id, runs)
    thread = ThreadRecord(id=thread_id, created_at=SECOND)
    ThreadStore(TABLE_NAME, Caller(table)).create_thread(TENANT, thread, records)
    return thread_id, [r.id for r in records]


@pytest.mark.parametrize("run_id", [None, "run_A"])
def test_given_a_query_cut_short_by_the_1mb_cap_then_the_store_continues_and_the_page_is_exact(
    table: Any, run_id: str | None
) -> None:
    limit = 5
    for order in ("asc", "desc"):
        for cursor in ("none", "after", "before", "both"):
            case = (order, cursor)
            recreate(table)  # moto copies the whole table per transaction: each case starts over
            thread_id, created = fresh_thread(table, ["run_A"] * 24)
            in_order = sorted(created, reverse=order == "desc")
            after = in_order[2] if cursor in ("after", "both") else None
            before = in_order[-2] if cursor in ("before", "both") else None
            client = ShapedClient(table, cap=2)

            page = shaped_store(client).page(
                TENANT, thread_id, order=order, limit=limit, after=after, before=before, run_id=run_id
            )

            got = ([r.id for r in page.records], page.has_more)
            assert got == expected_page(created, order, limit, after, before), case
            assert page.has_more is True, case
            first, second = client.queries
            assert first["Limit"] == limit + 1, case
            assert "ExclusiveStartKey" not in first, case
            assert len(client.answers[0]["Items"]) == 2, case
            assert second["ExclusiveStartKey"] == client.answers[0]["LastEvaluatedKey"], case
            assert second["Limit"] == limit + 1 - 2, case
            assert {k: v for k, v in second.items() if k not in ("ExclusiveStartKey", "Limit")} == {
                k: v for k, v in first.items() if k != "Limit"
            }, case


def test_given_every_response_cut_by_the_1mb_cap_then_the_page_and_has_more_are_still_exact(
    table: Any,
) -> None:
    limit = 4
    for order in ("asc", "desc"):
        for total in (0, 1, 3, 4, 5, 6, 7, 11):
            case = (order, total)
            thread_id, created = fresh_thread(table, [None] * total)
            client = ShapedClient(table, cap=2, capped_calls=100)

            page = shaped_store(client).page(TENANT, thread_id, order=order, limit=limit)

            got = ([r.id for r in page.records], page.has_more)
            assert got == expected_page(created, order, limit, None, None), case
            assert page.has_more == (total > limit), case
            for earlier, later in zip(client.answers, client.queries[1:], strict=False):
                assert later["ExclusiveStartKey"] == earlier["LastEvaluatedKey"], case
            # Reads no more than limit + 1 items in all, and stops once it has them or the range ends.
            assert sum(len(a["Items"]) for a in client.answers) == min(total, limit + 1), case


def test_given_a_1mb_cut_that_falls_on_the_last_item_then_one_more_query_finds_nothing_and_has_more_is_false(
    table: Any,
) -> None:
    thread_id, created = fresh_thread(table, [None] * 4)
    client = ShapedClient(table, cap=2, capped_calls=100)

    page = shaped_store(client).page(TENANT, thread_id, order="asc", limit=4)

    assert [r.id for r in page.records] == created
    assert page.has_more is False
    assert [len(a["Items"]) for a in client.answers] == [2, 2, 0]


# --- has_more never relies on LastEvaluatedKey --------------------------------------------------------------


@pytest.mark.parametrize("last_key", ["moto", "at_limit", "always", "never"])
def test_given_a_page_ending_at_the_query_limit_with_or_without_last_evaluated_key_then_has_more_is_right(
    table: Any, last_key: Literal["moto", "at_limit", "always", "never"]
) -> None:
    limit = 5
    for order in ("asc", "desc"):
        for cursor in ("none", "after", "before"):
            for extra in (-2, -1, 0, 1, 2, 9):
                case = (order, cursor, extra)
                recreate(table)  # moto copies the whole table per transaction: each case starts over
                # `extra` more messages than the page holds lie past the cursor (itself one more message).
                thread_id, created = fresh_thread(table, [None] * (limit + extra + (cursor != "none")))
                in_order = sorted(created, reverse=order == "desc")
                after = in_order[0] if cursor == "after" else None
                before = in_order[-1] if cursor == "before" else None
                client = ShapedClient(table, last_key=last_key)

                page = shaped_store(client).page(
                    TENANT, thread_id, order=order, limit=limit, after=after, before=before
                )

                got = ([r.id for r in page.records], page.has_more)
                assert got == expected_page(created, order, limit, after, before), case
                assert page.has_more == (extra > 0), case
                assert len(page.records) == min(limit, limit + extra), case
                # One Query, except when a LastEvaluatedKey came with fewer items than asked for: then
                # one more, which finds nothing.
                short_with_key = last_key == "always" and extra <= 0
                assert len(client.queries) == (2 if short_with_key else 1), case


# --- item sizes ---------------------------------------------------------------------------------------------

# Characters JSON writes in its six-byte \uXXXX form (with ensure_ascii off, only control characters are).
ESCAPED = [chr(c) for c in range(0x20) if chr(c) not in "\b\t\n\f\r"]


def worst_metadata() -> dict[str, str]:
    """The largest metadata a request can set: 16 pairs, 64-character keys, 512-character values, every
    character escaped by JSON to six bytes."""
    assert len(ESCAPED) >= MAX_METADATA_PAIRS
    return {
        ESCAPED[0] * (MAX_METADATA_KEY_LENGTH - 1) + ESCAPED[n]: ESCAPED[n] * MAX_METADATA_VALUE_LENGTH
        for n in range(MAX_METADATA_PAIRS)
    }


def content_of_size(size: int) -> list[dict[str, Any]]:
    """Text parts (each within the 256,000-character limit) whose stored content takes exactly ``size``
    bytes together with empty attachments."""

    def parts_of(first: str, second: str) -> list[dict[str, Any]]:
        return [{"type": "text", "text": {"value": value, "annotations": []}} for value in (first, second)]

    remaining = size - schema.content_size(parts_of("", ""), [])
    assert remaining > 0
    half = remaining // 2
    parts = parts_of("é" * (half // 2) + "a" * (half % 2), "x" * (remaining - half))
    assert schema.content_size(parts, []) == size
    return parts


def test_given_the_limits_then_they_leave_room_below_dynamodbs_400kb() -> None:
    assert schema.ITEM_SIZE_LIMIT < 405_000 < 409_600
    assert len(json.dumps(worst_metadata(), separators=(",", ":")).encode()) <= schema.METADATA_RESERVE
    assert schema.CONTENT_LIMIT == schema.ITEM_SIZE_LIMIT - schema.METADATA_RESERVE - schema.ITEM_OVERHEAD
    assert schema.CONTENT_LIMIT > 256_000 + 100  # a full 256,000-character ASCII text fits


def test_given_the_largest_content_and_metadata_with_the_longest_keys_then_the_item_fits_by_its_own_count(
    table: Any,
) -> None:
    tenant = "t" * 64
    thread_id = "thread_" + "😀" * 121  # 128 characters of four UTF-8 bytes each
    run_id = "run_" + "😀" * 124
    record = MessageRecord(
        id=ids.IdFactory().new(ids.MESSAGE_PREFIX)[0],
        thread_id=thread_id,
        created_at=SECOND,
        role="assistant",
        content=content_of_size(schema.CONTENT_LIMIT),
        assistant_id="asst_" + "A" * 24,
        run_id=run_id,
        status="incomplete",
        incomplete_details={"reason": "max_tokens"},
        completed_at=None,
        incomplete_at=SECOND,
    )
    message_store = MessageStore(TABLE_NAME, Caller(table))
    # The store's bound holds for any id of up to 128 characters, beyond the ids the API mints and accepts.
    ThreadStore(TABLE_NAME, Caller(table)).create_thread(
        tenant, schema.ThreadRecord(id=thread_id, created_at=SECOND), []
    )

    message_store.add(tenant, record)
    updated = message_store.set_metadata(tenant, thread_id, record.id, worst_metadata())

    assert updated.metadata == worst_metadata()
    raw, thread_item = scan(table)
    pk = schema.partition_key(tenant, thread_id)
    assert item_keys([raw, thread_item]) == [(pk, record.id), (pk, schema.THREAD_SK)]
    size = schema.item_size(raw)
    assert size <= schema.ITEM_SIZE_LIMIT < 405_000 < 409_600
    assert updated.content == record.content


def test_given_an_item_then_item_size_counts_names_and_utf8_values() -> None:
    item = {"pk": {"S": "é"}, "created_at": {"N": "1761861545"}, "ab": {"S": "😀"}}
    assert schema.item_size(item) == 2 + 2 + len("created_at") + (10 // 2 + 2) + 2 + 4


def test_given_content_at_the_limit_then_it_is_stored(
    message_store: MessageStore, thread_store: ThreadStore, table: Any
) -> None:
    make_thread(THREAD, thread_store=thread_store)
    (record,) = make_records(THREAD, [None])
    record = dataclasses.replace(record, content=content_of_size(schema.CONTENT_LIMIT))
    message_store.add(TENANT, record)
    assert item_keys(scan(table)) == [
        (schema.partition_key(TENANT, THREAD), record.id),
        thread_key(THREAD),
    ]


def test_given_content_over_the_limit_as_json_then_it_is_stored_compressed_and_read_back_whole(
    message_store: MessageStore, thread_store: ThreadStore, table: Any
) -> None:
    make_thread(THREAD, thread_store=thread_store)
    (record,) = make_records(THREAD, [None])
    record = dataclasses.replace(record, content=content_of_size(schema.CONTENT_LIMIT + 1))

    message_store.add(TENANT, record)

    raw, _ = scan(table)
    assert set(raw["content"]) == {"B"}
    assert raw["attachments"] == {"S": "[]"}
    assert schema.item_size(raw) <= schema.ITEM_SIZE_LIMIT
    assert message_store.get_message(TENANT, THREAD, record.id) == record
    assert message_store.page(TENANT, THREAD, order="asc", limit=1).records == [record]


def test_given_content_over_the_limit_even_compressed_when_added_then_too_large_and_nothing_is_written(
    message_store: MessageStore, thread_store: ThreadStore, table: Any
) -> None:
    make_thread(THREAD, thread_store=thread_store)
    before = scan(table)
    (record,) = make_records(THREAD, [None])
    content = [{"type": "text", "text": {"value": random_text(256_000), "annotations": []}}]
    record = dataclasses.replace(record, content=content)
    size = schema.stored_size(content, [])
    assert size > schema.CONTENT_LIMIT
    with pytest.raises(faults.TooLarge) as raised:
        message_store.add(TENANT, record)
    assert (raised.value.size, raised.value.limit) == (size, schema.CONTENT_LIMIT)
    assert scan(table) == before
    assert item_keys(before) == [thread_key(THREAD)]


def test_given_attachments_then_they_count_towards_the_content_limit(
    message_store: MessageStore, thread_store: ThreadStore, table: Any
) -> None:
    make_thread(THREAD, thread_store=thread_store)
    before = scan(table)
    (record,) = make_records(THREAD, [None])
    attachments = [{"file_id": f"file-{n}-" + random_text(20, seed=n), "tools": []} for n in range(10)]
    content = [
        {"type": "text", "text": {"value": largest_random_text(schema.CONTENT_LIMIT), "annotations": []}}
    ]
    record = dataclasses.replace(record, content=content, attachments=attachments)
    assert schema.stored_size(content, []) <= schema.CONTENT_LIMIT < schema.stored_size(content, attachments)
    with pytest.raises(faults.TooLarge):
        message_store.add(TENANT, record)
    assert scan(table) == before


# --- set_metadata -------------------------------------------------------------------------------------------


def test_given_a_missing_message_when_setting_metadata_then_not_found_and_no_item_is_created(
    message_store: MessageStore, thread_store: ThreadStore, table: Any
) -> None:
    make_thread(THREAD, thread_store=thread_store)
    make_thread(OTHER_THREAD, thread_store=thread_store)
    records = make_records(THREAD, [None, None])
    write(message_store, records)
    before = scan(table)
    missing = ids.neighbour(records[0].id, ids.MESSAGE_PREFIX, +1)
    assert missing is not None
    for thread_id, message_id in [(THREAD, missing), (OTHER_THREAD, records[0].id)]:
        for metadata in [{"k": "v"}, {}, None]:
            with pytest.raises(faults.MessageMissing):
                message_store.set_metadata(TENANT, thread_id, message_id, metadata)
    # The thread exists for this tenant only.
    with pytest.raises(faults.ThreadMissing):
        message_store.set_metadata("other-tenant", THREAD, records[0].id, {"k": "v"})
    assert scan(table) == before


def test_given_a_message_when_setting_metadata_then_it_replaces_the_map_and_none_leaves_it(
    message_store: MessageStore, thread_store: ThreadStore
) -> None:
    make_thread(THREAD, thread_store=thread_store)
    (record,) = make_records(THREAD, [None])
    message_store.add(TENANT, record)
    first = message_store.set_metadata(TENANT, THREAD, record.id, {"a": "1", "b": "2"})
    assert first.metadata == {"a": "1", "b": "2"}
    second = message_store.set_metadata(TENANT, THREAD, record.id, {"c": "3"})
    assert second.metadata == {"c": "3"}
    unchanged = message_store.set_metadata(TENANT, THREAD, record.id, None)
    assert unchanged.metadata == {"c": "3"}
    cleared = message_store.set_metadata(TENANT, THREAD, record.id, {})
    assert cleared == dataclasses.replace(record, metadata={})


# --- a thread that does not exist ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["never-created", "deleted", "other-tenant"])
def test_given_a_missing_thread_then_every_message_method_raises_thread_missing_and_writes_nothing(
    message_store: MessageStore, thread_store: ThreadStore, table: Any, kind: str
) -> None:
    make_thread(OTHER_THREAD, thread_store=thread_store)
    (kept,) = make_records(OTHER_THREAD, [None])
    message_store.add(TENANT, kept)
    if kind == "deleted":
        make_thread(THREAD, thread_store=thread_store)
        (message,) = make_records(THREAD, [None])
        message_store.add(TENANT, message)
        thread_store.delete_thread(TENANT, THREAD, at=SECOND)
    elif kind == "other-tenant":
        make_thread(THREAD, tenant="other-tenant", thread_store=thread_store)
    before = scan(table)
    (record,) = make_records(THREAD, [None])

    with pytest.raises(faults.ThreadMissing):
        message_store.add(TENANT, record)
    with pytest.raises(faults.ThreadMissing):
        message_store.page(TENANT, THREAD, order="desc", limit=20)
    for metadata in [{"k": "v"}, None]:
        with pytest.raises(faults.ThreadMissing):
            message_store.set_metadata(TENANT, THREAD, record.id, metadata)
    assert scan(table) == before


# --- errors -------------------------------------------------------------------------------------------------


# What each store method sends, in order. The calls before the failing one answer as for a live THREAD.
STORE_CALLS = {
    "add": ["transact_write_items"],
    "set_metadata": ["get_item", "update_item"],
    "page": ["get_item", "query"],
}
FAILING_CALLS = failing_calls(STORE_CALLS)


def stubbed_store(
    code: str,
    method: str,
    failing: int,
    modeled_fields: dict[str, Any] | None = None,
    *,
    status: int = 400,
) -> tuple[MessageStore, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(client)
    failing_call = queue_until_failure(stubber, STORE_CALLS[method], failing, TENANT, THREAD)
    stubber.add_client_error(
        failing_call, service_error_code=code, http_status_code=status, modeled_fields=modeled_fields
    )
    stubber.activate()
    return MessageStore(TABLE_NAME, Caller(client, max_attempts=1)), stubber


def call_method(message_store: MessageStore, method: str) -> None:
    (record,) = make_records(THREAD, [None])
    if method == "add":
        message_store.add(TENANT, record)
    elif method == "set_metadata":
        message_store.set_metadata(TENANT, THREAD, record.id, {"k": "v"})
    else:
        message_store.page(TENANT, THREAD, order="desc", limit=20)


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
@pytest.mark.parametrize(("method", "failing"), FAILING_CALLS)
def test_given_a_throttling_error_then_the_store_raises_throttled(
    code: str, method: str, failing: int
) -> None:
    message_store, stubber = stubbed_store(code, method, failing)
    with pytest.raises(faults.Throttled) as raised:
        call_method(message_store, method)
    assert isinstance(raised.value.__cause__, ClientError)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
        ("TransactionConflictException", 400),
        ("SomethingNew", 502),
    ],
)
@pytest.mark.parametrize(("method", "failing"), FAILING_CALLS)
def test_given_a_server_side_or_transient_error_then_the_store_raises_unavailable(
    code: str, status: int, method: str, failing: int
) -> None:
    message_store, stubber = stubbed_store(code, method, failing, status=status)
    with pytest.raises(faults.Unavailable) as raised:
        call_method(message_store, method)
    assert isinstance(raised.value.__cause__, ClientError)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("method", "failing"), FAILING_CALLS)
@pytest.mark.parametrize(
    "code", ["ValidationException", "ResourceNotFoundException", "AccessDeniedException"]
)
def test_given_another_client_error_then_the_store_raises_a_plain_store_error(
    code: str, method: str, failing: int
) -> None:
    message_store, stubber = stubbed_store(code, method, failing)
    with pytest.raises(faults.StoreError) as raised:
        call_method(message_store, method)
    assert type(raised.value) is faults.StoreError
    assert isinstance(raised.value.__cause__, ClientError)
    stubber.assert_no_pending_responses()


def test_given_a_failed_condition_then_the_store_raises_not_found() -> None:
    message_store, stubber = stubbed_store("ConditionalCheckFailedException", "set_metadata", 1)
    with pytest.raises(faults.MessageMissing):
        call_method(message_store, "set_metadata")
    stubber.assert_no_pending_responses()


def test_given_an_add_whose_put_finds_its_own_message_then_the_earlier_attempt_landed_and_it_succeeds() -> (
    None
):
    # Ids are unique, so the only item with this message's id is this write, done by an attempt whose answer
    # was lost (a timeout, then botocore's retry): success, not a 500.
    message_store, stubber = stubbed_store(
        "TransactionCanceledException",
        "add",
        0,
        modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]},
    )
    call_method(message_store, "add")
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("reasons", "raised"),
    [
        pytest.param(["ConditionalCheckFailed", "None"], faults.ThreadMissing, id="thread-check-failed"),
        pytest.param(["None", "ThrottlingError"], faults.Throttled, id="throttled"),
        pytest.param(["ProvisionedThroughputExceeded", "None"], faults.Throttled, id="over-capacity"),
        # Another transaction on the same item at the same moment: no rate exceeded, worth sending again.
        pytest.param(["None", "TransactionConflict"], faults.Unavailable, id="conflict"),
    ],
)
def test_given_a_cancelled_add_transaction_then_the_store_raises_what_its_reasons_mean(
    reasons: list[str], raised: type[faults.StoreError]
) -> None:
    message_store, stubber = stubbed_store(
        "TransactionCanceledException",
        "add",
        0,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in reasons]},
    )
    with pytest.raises(faults.StoreError) as caught:
        call_method(message_store, "add")
    assert type(caught.value) is raised
    stubber.assert_no_pending_responses()
