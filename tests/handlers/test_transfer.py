"""Beyond OpenAI's API: the list of threads, and whole threads imported and exported (docs/contract.md,
"Threads beyond OpenAI"). Their error rows are in the contract table, ``tests/support/contract_rows.py``."""

from __future__ import annotations

import copy
import itertools
import json
import time
from pathlib import Path
from typing import Any

import purge_threads
import pytest
from boto3.dynamodb.types import TypeDeserializer

from tests.support.api import openai_message, text_part, thread_not_found
from tests.support.api_events import TEST_TENANT, Answer, FakeContext
from tests.support.moto_table import TABLE_NAME, scan
from tests.support.routing import routed_event, send
from tests.support.seeding import KEY_A, KEY_B, make_keys
from threadkit import storage
from threadkit.contract import ids
from threadkit.domain import purge
from threadkit.storage import schema
from threadkit.storage.import_store import marker_key

ORIGINAL_THREAD = "thread_QpCgkhAkmWdPsCjbHuxXjsIN"
deserialize = TypeDeserializer().deserialize
_ordinal = itertools.count(1)


@pytest.fixture(autouse=True)
def _time_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every invocation here has ten minutes: these tests say what an import, a list or an export does, and
    moto on a busy machine takes far longer than DynamoDB (a 2,000-message import is 80 batch writes). The
    deadline itself is tested in tests/faults."""
    monkeypatch.setattr(FakeContext, "get_remaining_time_in_millis", lambda self: 600_000)


def _send(method: str, path: str, *, key: str | None = None, **fields: Any) -> Answer:
    if key is not None:
        fields["headers"] = {**fields.get("headers", {}), "authorization": f"Bearer {key}"}
    return send(routed_event(method, path, **fields))


def import_doc(document: Any, *, key: str | None = None, headers: dict[str, str] | None = None) -> Answer:
    return _send("POST", "/v1/threads/import", key=key, body=document, headers=headers or {})


def export(thread_id: str, *, key: str | None = None, **query: str) -> Answer:
    return _send("GET", f"/v1/threads/{thread_id}/export", key=key, query=query or None)


def list_threads(*, key: str | None = None, **query: str) -> Answer:
    return _send("GET", "/v1/threads", key=key, query=query or None)


def list_messages(thread_id: str, *, key: str | None = None, **query: str) -> Answer:
    return _send("GET", f"/v1/threads/{thread_id}/messages", key=key, query=query or None)


def new_thread(body: dict[str, Any] | None = None, *, key: str | None = None) -> dict[str, Any]:
    answer = _send("POST", "/v1/threads", key=key, body=body or {})
    assert answer.status == 200, answer.body
    thread: dict[str, Any] = answer.body
    return thread


def given_message(created_at: int, text: str, **fields: Any) -> dict[str, Any]:
    """A message as OpenAI returned it."""
    given = openai_message(
        id=f"msg_given{next(_ordinal):05d}",
        created_at=created_at,
        content=[text_part(text)],
        thread_id=ORIGINAL_THREAD,
    )
    return given | fields


def document(messages: list[dict[str, Any]], **thread: Any) -> dict[str, Any]:
    return {
        "thread": {
            "id": ORIGINAL_THREAD,
            "object": "thread",
            "created_at": 1_700_000_000,
            "metadata": {"user": "u1"},
            "tool_resources": {},
        }
        | thread,
        "messages": messages,
    }


def without_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k != "id"} for m in messages]


RICH = [
    given_message(1_700_000_001, "What is in the report?"),
    given_message(
        1_700_000_005,
        "The total is 42.",
        role="assistant",
        assistant_id="asst_abc",
        run_id="run_1",
        content=[
            {
                "type": "text",
                "text": {
                    "value": "The total is 42【4:0†report.pdf】.",
                    "annotations": [
                        {
                            "type": "file_citation",
                            "text": "【4:0†report.pdf】",
                            "start_index": 15,
                            "end_index": 31,
                            "file_citation": {"file_id": "file-abc"},
                        }
                    ],
                },
            },
            {"type": "image_file", "image_file": {"file_id": "file-img", "detail": "auto"}},
        ],
        completed_at=1_700_000_007,
        metadata={"k": "v"},
    ),
    given_message(
        1_700_000_009,
        "Partial",
        role="assistant",
        assistant_id="asst_abc",
        run_id="run_2",
        status="incomplete",
        incomplete_details={"reason": "max_tokens"},
        incomplete_at=1_700_000_010,
        attachments=[{"file_id": "file-x", "tools": [{"type": "file_search"}]}],
    ),
]


def test_an_import_keeps_the_thread_and_every_field_of_every_message_but_the_id(table: Any) -> None:
    answer = import_doc(document(RICH))

    assert answer.status == 200, answer.body
    assert list(answer.body) == ["thread", "message_ids"]
    assert answer.body["thread"] == {
        "id": ORIGINAL_THREAD,
        "object": "thread",
        "created_at": 1_700_000_000,
        "metadata": {"user": "u1"},
        "tool_resources": {},
    }
    mapping = answer.body["message_ids"]
    assert list(mapping) == [m["id"] for m in RICH]
    assert list(mapping.values()) == sorted(mapping.values())
    assert all(ids.is_well_formed(new, ids.MESSAGE_PREFIX) for new in mapping.values())
    assert _send("GET", f"/v1/threads/{ORIGINAL_THREAD}").body == answer.body["thread"]
    listed = list_messages(ORIGINAL_THREAD, order="asc").body
    assert [m["id"] for m in listed["data"]] == list(mapping.values())
    assert without_ids(listed["data"]) == without_ids(RICH)
    by_run = list_messages(ORIGINAL_THREAD, run_id="run_1").body["data"]
    assert [m["id"] for m in by_run] == [mapping[RICH[1]["id"]]]


def test_a_desc_list_page_imports_oldest_first_with_ties_in_history_order(table: Any) -> None:
    oldest_first = [
        given_message(10, "a"),
        given_message(20, "b"),
        given_message(20, "c"),
        given_message(30, "d"),
    ]
    page = {"object": "list", "data": oldest_first[::-1], "first_id": "x", "last_id": "y", "has_more": False}

    answer = import_doc(document(page))  # type: ignore[arg-type]

    assert answer.status == 200, answer.body
    texts = [
        m["content"][0]["text"]["value"] for m in list_messages(ORIGINAL_THREAD, order="asc").body["data"]
    ]
    assert texts == ["a", "b", "c", "d"]


def test_messages_are_sorted_by_created_at_ties_kept_in_document_order(table: Any) -> None:
    given = [given_message(30, "c"), given_message(10, "a"), given_message(30, "d"), given_message(20, "b")]
    assert import_doc(document(given)).status == 200
    texts = [
        m["content"][0]["text"]["value"] for m in list_messages(ORIGINAL_THREAD, order="asc").body["data"]
    ]
    assert texts == ["a", "b", "c", "d"]


def test_importing_a_thread_id_the_tenant_has_is_a_409_and_changes_nothing(table: Any) -> None:
    assert import_doc(document(RICH)).status == 200
    before = scan(table)

    again = import_doc(document([given_message(5, "other")]))

    assert (again.status, again.body) == (
        409,
        {
            "error": {
                "message": f"A thread with id '{ORIGINAL_THREAD}' already exists.",
                "type": "invalid_request_error",
                "param": "thread.id",
                "code": "thread_exists",
            }
        },
    )
    assert scan(table) == before


def test_tenants_do_not_see_list_or_import_over_each_others_threads(table: Any) -> None:
    make_keys(table)
    assert import_doc(document(RICH), key=KEY_A).status == 200

    assert _send("GET", f"/v1/threads/{ORIGINAL_THREAD}", key=KEY_B).status == 404
    assert export(ORIGINAL_THREAD, key=KEY_B).body == thread_not_found(ORIGINAL_THREAD)
    assert list_threads(key=KEY_B).body["data"] == []
    assert [t["id"] for t in list_threads(key=KEY_A).body["data"]] == [ORIGINAL_THREAD]
    # Tenant b may hold a thread of the same id: it is its own, and a's is untouched.
    mine = import_doc(document([given_message(1, "b's")]), key=KEY_B)
    assert mine.status == 200
    assert len(list_messages(ORIGINAL_THREAD, key=KEY_A).body["data"]) == len(RICH)
    assert len(list_messages(ORIGINAL_THREAD, key=KEY_B).body["data"]) == 1


def test_without_an_id_the_thread_gets_a_new_one(table: Any) -> None:
    doc = document(RICH[:1])
    del doc["thread"]["id"]
    answer = import_doc(doc)
    assert answer.status == 200
    assert ids.is_well_formed(answer.body["thread"]["id"], ids.THREAD_PREFIX)
    assert answer.body["thread"]["id"] != ORIGINAL_THREAD


def test_export_then_import_into_another_tenant_reproduces_the_thread(table: Any) -> None:
    make_keys(table)
    assert import_doc(document(RICH), key=KEY_A).status == 200
    exported = export(ORIGINAL_THREAD, key=KEY_A)
    assert exported.status == 200
    assert list(exported.body) == ["object", "thread", "messages", "has_more", "last_id"]
    assert exported.body["object"] == "thread.export"
    assert exported.body["has_more"] is False

    copied = import_doc(exported.body, key=KEY_B)

    assert copied.status == 200, copied.body
    assert copied.body["thread"] == exported.body["thread"]
    again = export(ORIGINAL_THREAD, key=KEY_B).body
    assert without_ids(again["messages"]) == without_ids(exported.body["messages"])
    assert list(copied.body["message_ids"]) == [m["id"] for m in exported.body["messages"]]


def test_a_long_thread_exports_in_pages_that_join_up(table: Any) -> None:
    assert import_doc(document([given_message(100 + i, f"m{i}") for i in range(25)])).status == 200
    seen: list[str] = []
    after: dict[str, str] = {}
    while True:
        page = export(ORIGINAL_THREAD, limit="10", **after).body
        seen += [m["content"][0]["text"]["value"] for m in page["messages"]]
        if not page["has_more"]:
            break
        after = {"after": page["last_id"]}
    assert seen == [f"m{i}" for i in range(25)]


def test_a_repeat_with_the_same_idempotency_key_answers_the_same_import(table: Any) -> None:
    headers = {"idempotency-key": "import-1"}
    first = import_doc(document(RICH), headers=headers)
    before = scan(table)

    second = import_doc(document(RICH), headers=headers)

    assert (second.status, second.body) == (200, first.body)
    assert scan(table) == before


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_list_of_threads_pages_through_in_both_orders_with_exact_has_more(table: Any, order: str) -> None:
    made = [new_thread()["id"] for _ in range(7)]
    expected = made if order == "asc" else made[::-1]
    seen: list[str] = []
    query = {"order": order, "limit": "3"}
    while True:
        page = list_threads(**query).body
        assert list(page) == ["object", "data", "first_id", "last_id", "has_more"]
        seen += [t["id"] for t in page["data"]]
        assert page["has_more"] == (len(seen) < len(expected))
        if not page["has_more"]:
            break
        query["after"] = page["last_id"]
    assert seen == expected
    before = list_threads(order=order, before=expected[4]).body
    assert [t["id"] for t in before["data"]] == expected[:4]
    both = list_threads(order=order, after=expected[1], before=expected[5]).body
    assert ([t["id"] for t in both["data"]], both["has_more"]) == (expected[2:5], False)


def test_the_list_of_threads_filters_by_every_metadata_pair(table: Any) -> None:
    a = new_thread({"metadata": {"user": "u1", "topic": "x"}})["id"]
    new_thread({"metadata": {"user": "u2", "topic": "x"}})
    c = new_thread({"metadata": {"user": "u1"}})["id"]
    query = {"metadata[user]": "u1"}
    assert [t["id"] for t in list_threads(**query).body["data"]] == [c, a]
    both = list_threads(**{"metadata[user]": "u1", "metadata[topic]": "x"}).body
    assert [t["id"] for t in both["data"]] == [a]
    _send("POST", f"/v1/threads/{c}", body={"metadata": {"user": "u3"}})
    assert [t["id"] for t in list_threads(**query).body["data"]] == [a]


def test_a_deleted_thread_leaves_the_list(table: Any) -> None:
    kept, gone = new_thread()["id"], new_thread()["id"]
    assert _send("DELETE", f"/v1/threads/{gone}").status == 200
    assert [t["id"] for t in list_threads().body["data"]] == [kept]


def test_an_imported_thread_stands_in_the_list_by_its_created_at(table: Any) -> None:
    recent = new_thread()["id"]
    assert import_doc(document(RICH)).status == 200
    assert [t["id"] for t in list_threads().body["data"]] == [recent, ORIGINAL_THREAD]


def test_an_import_that_fails_midway_leaves_no_thread_and_hands_its_messages_to_the_purge(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threadkit.storage import faults
    from threadkit.storage.import_store import ImportStore

    def fail(self: ImportStore, items: list[dict[str, Any]]) -> None:
        real(self, items[:2])
        raise faults.Unavailable("store down")

    real = ImportStore.put_messages
    monkeypatch.setattr(ImportStore, "put_messages", fail)

    answer = import_doc(document(copy.deepcopy(RICH)))

    assert answer.status == 503
    assert _send("GET", f"/v1/threads/{ORIGINAL_THREAD}").status == 404
    items = {(item["sk"]["S"][:4], "deleted_at" in item) for item in scan(table)}
    # What was written waits for the purge under a thread item marked deleted; no marker is left.
    assert ("thre", True) in items
    assert not any(item["sk"]["S"] == schema.IMPORT_SK for item in scan(table))


RECORDED = Path(__file__).parents[1] / "support" / "recorded" / "openai-thread.json"


def test_a_thread_recorded_from_openai_imports_as_it_was_dumped(table: Any) -> None:
    """tests/support/recorded/PROVENANCE.md: a thread and its desc list page, as OpenAI's API answered."""
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    thread_id = recorded["thread"]["id"]
    history = recorded["messages"]["data"][::-1]

    answer = import_doc(recorded)

    assert answer.status == 200, answer.body
    assert answer.body["thread"] == recorded["thread"]
    assert _send("GET", f"/v1/threads/{thread_id}").body == recorded["thread"]
    listed = list_messages(thread_id, order="asc").body["data"]
    assert [m["id"] for m in listed] == [answer.body["message_ids"][m["id"]] for m in history]
    # The recording's messages carry no status fields (OpenAI's answer then): every field they have is kept.
    assert [{k: m[k] for k in given} for m, given in zip(listed, history, strict=True)] == [
        given | {"id": m["id"]} for m, given in zip(listed, history, strict=True)
    ]
    runs = {m["run_id"] for m in history if m["run_id"]}
    assert runs
    for run_id in runs:
        found = list_messages(thread_id, run_id=run_id).body["data"]
        of_run = [m for m in history if m["run_id"] == run_id][::-1]
        assert [m["id"] for m in found] == [answer.body["message_ids"][m["id"]] for m in of_run]


def _walk(fetch: Any, **query: str) -> list[dict[str, Any]]:
    """Every item of a list, page after page, with ``after`` set to each page's ``last_id``."""
    items: list[dict[str, Any]] = []
    while True:
        page = fetch(**query).body
        items += page["data"]
        if not page["has_more"]:
            return items
        query["after"] = page["last_id"]


def test_a_2000_message_thread_imports_lists_exports_and_moves_to_another_tenant(table: Any) -> None:
    make_keys(table)
    given = [
        given_message(1_600_000_000 + i // 3, f"message {i}", role="user" if i % 2 else "assistant")
        for i in range(2000)
    ]
    answer = import_doc(document(given), key=KEY_A)
    assert answer.status == 200, answer.body
    assert len(answer.body["message_ids"]) == 2000

    listed = _walk(lambda **q: list_messages(ORIGINAL_THREAD, key=KEY_A, **q), order="asc", limit="100")
    assert without_ids(listed) == without_ids(given)
    assert [m["id"] for m in listed] == [answer.body["message_ids"][m["id"]] for m in given]

    pages: list[dict[str, Any]] = []
    after: dict[str, str] = {}
    while True:
        page = export(ORIGINAL_THREAD, key=KEY_A, **after).body
        pages.append(page)
        if not page["has_more"]:
            break
        after = {"after": page["last_id"]}
    exported = [m for page in pages for m in page["messages"]]
    assert exported == listed
    whole = {"thread": pages[0]["thread"], "messages": exported}

    moved = import_doc(whole, key=KEY_B)

    assert moved.status == 200, moved.body
    again = _walk(lambda **q: list_messages(ORIGINAL_THREAD, key=KEY_B, **q), order="asc", limit="100")
    assert without_ids(again) == without_ids(listed)
    assert _send("GET", f"/v1/threads/{ORIGINAL_THREAD}", key=KEY_B).body == whole["thread"]


def test_250_threads_page_in_both_orders_and_filter_by_metadata(table: Any) -> None:
    made = [new_thread({"metadata": {"team": "red" if i % 5 == 0 else "blue"}})["id"] for i in range(250)]

    ascending = _walk(list_threads, order="asc", limit="100")
    descending = _walk(list_threads, order="desc", limit="100")
    assert [t["id"] for t in ascending] == made
    assert [t["id"] for t in descending] == made[::-1]
    red = _walk(list_threads, order="asc", limit="7", **{"metadata[team]": "red"})
    assert [t["id"] for t in red] == made[::5]
    last = list_threads(order="desc", limit="100", after=made[100]).body
    assert ([t["id"] for t in last["data"]], last["has_more"]) == (made[:100][::-1], False)


def _dead_import(table: Any, *, lease_until: int, messages: int = 3) -> list[str]:
    """What an import that died mid-way leaves: its marker (leased until ``lease_until``) and messages."""
    store = storage.import_store()
    store.begin(TEST_TENANT, ORIGINAL_THREAD, owner="dead", lease_until=lease_until, now=lease_until - 10)
    records = [
        schema.MessageRecord(
            id=ids.default_factory.new(ids.MESSAGE_PREFIX)[0],
            thread_id=ORIGINAL_THREAD,
            created_at=1,
            role="user",
            content=[{"type": "text", "text": {"value": "left behind", "annotations": []}}],
        )
        for _ in range(messages)
    ]
    store.put_messages([schema.message_item(TEST_TENANT, record) for record in records])
    return [record.id for record in records]


def _partition(table: Any) -> list[dict[str, Any]]:
    pk = schema.partition_key(TEST_TENANT, ORIGINAL_THREAD)
    return [item for item in scan(table) if item["pk"]["S"] == pk]


def test_an_import_takes_over_from_one_that_died_and_clears_what_it_left(table: Any) -> None:
    left = _dead_import(table, lease_until=int(time.time()) - 60)

    answer = import_doc(document(RICH))

    assert answer.status == 200, answer.body
    listed = [m["id"] for m in list_messages(ORIGINAL_THREAD, order="asc").body["data"]]
    assert listed == list(answer.body["message_ids"].values())
    assert not set(left) & {item["sk"]["S"] for item in _partition(table)}
    assert not any(item["sk"]["S"] == schema.IMPORT_SK for item in _partition(table))


def _ttl_removal(keys: dict[str, Any]) -> dict[str, Any]:
    """The stream record of an item the table's TTL removed, as the purge's filter lets it through."""
    return {
        "Records": [
            {
                "eventID": "ttl-1",
                "eventName": "REMOVE",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
                "dynamodb": {
                    "Keys": keys,
                    "SequenceNumber": "200",
                    "SizeBytes": 50,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/messages-test/stream/x",
            }
        ]
    }


def test_when_the_ttl_removes_a_dead_imports_marker_the_purge_removes_what_it_wrote(table: Any) -> None:
    _dead_import(table, lease_until=int(time.time()) - 7200)
    marker = marker_key(TEST_TENANT, ORIGINAL_THREAD)
    table.delete_item(TableName=TABLE_NAME, Key=marker)  # what the TTL does

    handler: Any = purge_threads.lambda_handler
    assert handler(_ttl_removal(marker), FakeContext()) == {"batchItemFailures": []}

    (thread_item,) = [item for item in _partition(table) if item["sk"]["S"] == schema.THREAD_SK]
    assert "deleted_at" in thread_item  # the purge's work order: the stream hands it on
    assert _send("GET", f"/v1/threads/{ORIGINAL_THREAD}").status == 404
    image = {key: deserialize(value) for key, value in thread_item.items()}
    outcome = purge.purge_deleted(image, time_left_ms=lambda: 60_000)
    assert outcome is not None
    assert outcome.finished
    assert _partition(table) == []


def test_a_ttl_removal_changes_nothing_once_another_import_holds_the_thread(table: Any) -> None:
    _dead_import(table, lease_until=int(time.time()) + 600)  # the live import's marker
    before = scan(table)
    handler: Any = purge_threads.lambda_handler
    assert handler(_ttl_removal(marker_key(TEST_TENANT, ORIGINAL_THREAD)), FakeContext()) == {
        "batchItemFailures": []
    }
    assert scan(table) == before


# --- a thread too large for one request, imported in parts -------------------------------------------------


def _parts(messages: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]


def test_a_thread_imports_in_parts_and_appears_only_with_its_last(table: Any) -> None:
    given = [given_message(1_600_000_000 + i, f"m{i}") for i in range(10)]
    first, second, last = _parts(given, 4)

    started = import_doc(document(first) | {"more": True})
    assert started.status == 200, started.body
    assert list(started.body) == ["thread", "message_ids", "import_token"]
    token = started.body["import_token"]
    middle = import_doc(document(second) | {"more": True, "import_token": token})
    assert (middle.status, middle.body["import_token"]) == (200, token)
    assert _send("GET", f"/v1/threads/{ORIGINAL_THREAD}").status == 404
    assert list_messages(ORIGINAL_THREAD).status == 404
    assert list_threads().body["data"] == []

    done = import_doc(document(last) | {"import_token": token})

    assert done.status == 200, done.body
    assert list(done.body) == ["thread", "message_ids"]
    mapping = {**started.body["message_ids"], **middle.body["message_ids"], **done.body["message_ids"]}
    listed = list_messages(ORIGINAL_THREAD, order="asc", limit="100").body["data"]
    assert [m["id"] for m in listed] == [mapping[m["id"]] for m in given]
    assert without_ids(listed) == without_ids(given)
    assert [t["id"] for t in list_threads().body["data"]] == [ORIGINAL_THREAD]


def test_a_part_sent_again_after_its_answer_was_lost_is_stored_once(table: Any) -> None:
    given = [given_message(100 + i, f"m{i}") for i in range(6)]
    first, last = _parts(given, 3)
    token = import_doc(document(first) | {"more": True}).body["import_token"]
    once = import_doc(document(last) | {"more": True, "import_token": token})
    again = import_doc(document(last) | {"more": True, "import_token": token})
    assert again.body["message_ids"] == once.body["message_ids"]
    assert import_doc(document([]) | {"import_token": token}).status == 200
    texts = [
        m["content"][0]["text"]["value"] for m in list_messages(ORIGINAL_THREAD, order="asc").body["data"]
    ]
    assert texts == [f"m{i}" for i in range(6)]


def test_a_part_older_than_the_parts_before_it_is_refused_and_writes_nothing(table: Any) -> None:
    token = import_doc(document([given_message(200, "late")]) | {"more": True}).body["import_token"]
    before = scan(table)

    answer = import_doc(document([given_message(100, "early")]) | {"more": True, "import_token": token})

    assert (answer.status, answer.body["error"]) == (
        400,
        {
            "message": "Invalid 'messages': the parts of an import must come oldest first, but this part "
            "starts at created_at 100, older than 200 already imported.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "invalid_value",
        },
    )
    assert scan(table) == before


def test_a_part_with_a_token_no_import_holds_is_a_409(table: Any) -> None:
    answer = import_doc(document([given_message(1, "x")]) | {"import_token": "f" * 32})
    assert (answer.status, answer.body["error"]["code"]) == (409, "import_expired")
    assert scan(table) == []


def test_a_thread_written_before_the_list_existed_joins_it_when_modified(table: Any) -> None:
    old = new_thread({"metadata": {"user": "u1"}})["id"]
    key = {"pk": {"S": schema.partition_key(TEST_TENANT, old)}, "sk": {"S": schema.THREAD_SK}}
    table.update_item(TableName=TABLE_NAME, Key=key, UpdateExpression="REMOVE gsi2pk, gsi2sk, meta")
    assert list_threads().body["data"] == []

    assert _send("POST", f"/v1/threads/{old}", body={}).status == 200

    assert [t["id"] for t in list_threads(**{"metadata[user]": "u1"}).body["data"]] == [old]


def test_a_first_part_sent_again_with_its_idempotency_key_continues_the_same_import(table: Any) -> None:
    given = [given_message(100 + i, f"m{i}") for i in range(4)]
    first, last = _parts(given, 2)
    headers = {"idempotency-key": "part-1"}
    lost = import_doc(document(first) | {"more": True}, headers=headers)
    again = import_doc(document(first) | {"more": True}, headers=headers)
    assert again.status == 200, again.body
    assert again.body["import_token"] == lost.body["import_token"]

    done = import_doc(document(last) | {"import_token": again.body["import_token"]})

    assert done.status == 200, done.body
    texts = [
        m["content"][0]["text"]["value"] for m in list_messages(ORIGINAL_THREAD, order="asc").body["data"]
    ]
    assert texts == ["m0", "m1", "m2", "m3"]


def test_the_last_part_sent_again_after_the_import_finished_answers_its_ids(table: Any) -> None:
    given = [given_message(100 + i, f"m{i}") for i in range(4)]
    first, last = _parts(given, 2)
    token = import_doc(document(first) | {"more": True}).body["import_token"]
    done = import_doc(document(last) | {"import_token": token})
    before = scan(table)

    again = import_doc(document(last) | {"import_token": token})

    assert (again.status, again.body) == (200, done.body)
    assert scan(table) == before


def test_an_import_in_parts_started_again_with_the_same_keys_finishes_once(table: Any) -> None:
    given = [given_message(100 + i, f"m{i}") for i in range(6)]
    parts = _parts(given, 2)

    def send_part(index: int, token: str | None) -> Answer:
        body = document(parts[index]) | ({"more": True} if index < 2 else {})
        if token is not None:
            body["import_token"] = token
        return import_doc(body, headers={"idempotency-key": f"part-{index}"})

    token = send_part(0, None).body["import_token"]
    assert send_part(1, token).status == 200  # then the run stops
    token = send_part(0, None).body["import_token"]  # the next run starts again
    assert send_part(1, token).status == 200
    done = send_part(2, token)

    assert done.status == 200, done.body
    texts = [
        m["content"][0]["text"]["value"] for m in list_messages(ORIGINAL_THREAD, order="asc").body["data"]
    ]
    assert texts == [f"m{i}" for i in range(6)]
