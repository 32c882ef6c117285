"""Every operation costs exactly the DynamoDB requests it is designed for; nothing can read a whole table.

Create: one TransactWriteItems (checks the thread, puts the message). List: the thread's GetItem, then one
Query. Modify: the thread's GetItem, then one UpdateItem. A request the API rejects, or an id it never
minted, costs none; a thread that does not exist costs the one request that finds it missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import create_message
import list_messages
import modify_message
import pytest

from tests.support.api import message_not_found, thread_not_found
from tests.support.api_events import Answer, call, http_event
from tests.support.hooks import RequestCounter, listening
from tests.support.moto_table import scan
from tests.support.sam_template import ROOT, functions, template
from tests.support.seeding import item_keys, make_thread, mark_thread_deleted, thread_key
from threadkit.contract import ids

THREAD = "thread_" + "R" * 24
OTHER_THREAD = "thread_" + "O" * 24
MISSING_THREAD = "thread_" + "M" * 24


def messages_path(thread_id: str) -> str:
    return f"/v1/threads/{thread_id}/messages"


def create(thread_id: str, text: str) -> Answer:
    event = http_event(
        "POST",
        messages_path(thread_id),
        route_key="POST /v1/threads/{thread_id}/messages",
        path_parameters={"thread_id": thread_id},
        body={"role": "user", "content": text},
    )
    return call(create_message.lambda_handler, event)


def list_page(thread_id: str, **query: str) -> Answer:
    event = http_event(
        "GET",
        messages_path(thread_id),
        route_key="GET /v1/threads/{thread_id}/messages",
        path_parameters={"thread_id": thread_id},
        query=query or None,
    )
    return call(list_messages.lambda_handler, event)


def modify(thread_id: str, message_id: str, body: Any) -> Answer:
    event = http_event(
        "POST",
        f"{messages_path(thread_id)}/{message_id}",
        route_key="POST /v1/threads/{thread_id}/messages/{message_id}",
        path_parameters={"thread_id": thread_id, "message_id": message_id},
        body=body,
    )
    return call(modify_message.lambda_handler, event)


@pytest.fixture
def thread_ids(dynamodb_requests: RequestCounter) -> list[str]:
    """Seven messages in THREAD, made through the create function; the counter starts at zero after."""
    make_thread(THREAD)
    made = []
    for n in range(7):
        answer = create(THREAD, f"message {n}")
        assert answer.status == 200, answer.body
        made.append(answer.body["id"])
    dynamodb_requests.reset()
    return made


# --- create -------------------------------------------------------------------------------------------------


def test_given_a_valid_message_when_created_then_exactly_one_transact_write_items_is_made(
    dynamodb_requests: RequestCounter,
) -> None:
    make_thread(THREAD)
    for n in range(3):
        dynamodb_requests.reset()
        answer = create(THREAD, f"hello {n}")
        assert answer.status == 200, answer.body
        assert dynamodb_requests.operations == ["TransactWriteItems"]


@pytest.mark.parametrize("deleted", [False, True], ids=["never-created", "deleted"])
def test_given_a_missing_thread_when_created_in_then_one_transact_write_items_is_made_and_nothing_written(
    table: Any, dynamodb_requests: RequestCounter, deleted: bool
) -> None:
    if deleted:
        make_thread(MISSING_THREAD)
        mark_thread_deleted(MISSING_THREAD)
    before = scan(table)
    dynamodb_requests.reset()

    answer = create(MISSING_THREAD, "hello")

    assert (answer.status, answer.body) == (404, thread_not_found(MISSING_THREAD))
    assert dynamodb_requests.operations == ["TransactWriteItems"]
    assert scan(table) == before


def test_given_an_invalid_create_when_rejected_then_no_request_is_made(
    dynamodb_requests: RequestCounter,
) -> None:
    answer = create("not_a_thread", "hello")
    assert answer.status == 400
    assert dynamodb_requests.operations == []


# --- list ---------------------------------------------------------------------------------------------------


LIST_QUERIES: list[dict[str, Any]] = [
    {},
    {"order": "asc"},
    {"order": "desc"},
    {"limit": "1"},
    {"limit": "100"},
    {"limit": "3", "order": "asc", "after": 1},
    {"limit": "3", "order": "desc", "after": 5},
    {"limit": "3", "order": "asc", "before": 5},
    {"limit": "3", "order": "desc", "before": 1},
    {"limit": "2", "order": "asc", "after": 0, "before": 6},
    {"limit": "2", "order": "desc", "after": 6, "before": 0},
    {"order": "asc", "after": 6},  # nothing past the newest message: still one Query, an empty page
    {"order": "asc", "after": "msg_" + "0" * 24},  # the lowest id: a well-formed cursor of no message
    {"order": "desc", "before": "msg_" + "1" * 24},
    {"run_id": "run_abc"},
    {"run_id": "run_abc", "order": "asc", "limit": "2", "after": 2},
    {"run_id": "run_abc", "order": "desc", "before": 3},
]


@pytest.mark.parametrize("query", LIST_QUERIES, ids=[str(q) for q in LIST_QUERIES])
def test_given_any_list_query_when_listed_then_one_get_item_and_exactly_one_query_are_made(
    dynamodb_requests: RequestCounter, thread_ids: list[str], query: dict[str, Any]
) -> None:
    # Integers stand for the id of the message created in that position.
    params = {k: thread_ids[v] if isinstance(v, int) else v for k, v in query.items()}

    answer = list_page(THREAD, **params)

    assert answer.status == 200, answer.body
    assert dynamodb_requests.operations == ["GetItem", "Query"]


def test_given_an_empty_thread_when_listed_then_one_get_item_and_exactly_one_query_are_made(
    dynamodb_requests: RequestCounter,
) -> None:
    empty = make_thread("thread_" + "E" * 24)
    dynamodb_requests.reset()
    answer = list_page(empty)
    assert answer.status == 200, answer.body
    assert answer.body["data"] == []
    assert dynamodb_requests.operations == ["GetItem", "Query"]


@pytest.mark.parametrize("query", [{}, {"order": "asc", "after": "msg_" + "z" * 24}, {"run_id": "run_abc"}])
def test_given_a_missing_thread_when_listed_then_only_its_get_item_is_made_and_nothing_written(
    table: Any, dynamodb_requests: RequestCounter, query: dict[str, str]
) -> None:
    before = scan(table)
    answer = list_page(MISSING_THREAD, **query)
    assert (answer.status, answer.body) == (404, thread_not_found(MISSING_THREAD))
    assert dynamodb_requests.operations == ["GetItem"]
    assert scan(table) == before


def test_given_a_long_walk_when_every_page_is_listed_then_each_page_costs_a_get_item_and_one_query_no_scan(
    dynamodb_requests: RequestCounter, thread_ids: list[str]
) -> None:
    pages = 0
    cursor: dict[str, str] = {}
    while True:
        answer = list_page(THREAD, order="asc", limit="2", **cursor)
        assert answer.status == 200, answer.body
        pages += 1
        if not answer.body["has_more"]:
            break
        cursor = {"after": answer.body["last_id"]}
    assert pages == 4
    assert dynamodb_requests.operations == ["GetItem", "Query"] * pages


@pytest.mark.parametrize(
    ("order", "cursor", "value"),
    [
        ("asc", "after", "msg_" + "z" * 24),  # past the highest id: nothing can follow
        ("desc", "after", "msg_" + "0" * 24),  # below the lowest id: nothing can follow
        ("asc", "before", "msg_" + "0" * 24),
        ("desc", "before", "msg_" + "z" * 24),
    ],
)
def test_given_a_cursor_at_the_end_of_the_id_space_when_listed_then_an_empty_page_costs_only_the_threads_read(
    dynamodb_requests: RequestCounter, thread_ids: list[str], order: str, cursor: str, value: str
) -> None:
    # The thread's GetItem tells an empty page from a missing thread; no Query can find anything.
    answer = list_page(THREAD, order=order, **{cursor: value})
    assert answer.status == 200, answer.body
    assert answer.body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert dynamodb_requests.operations == ["GetItem"]


@pytest.mark.parametrize(
    "query",
    [{"after": "msg_short"}, {"before": "nope"}, {"limit": "0"}, {"order": "sideways"}],
)
def test_given_an_invalid_list_query_when_rejected_then_no_request_is_made(
    dynamodb_requests: RequestCounter, query: dict[str, str]
) -> None:
    answer = list_page(THREAD, **query)
    assert answer.status == 400
    assert dynamodb_requests.operations == []


# --- modify -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"metadata": {"k": "v"}}, {"metadata": {}}, {"metadata": None}, {}])
def test_given_an_existing_message_when_modified_then_one_get_item_and_exactly_one_update_item_are_made(
    dynamodb_requests: RequestCounter, thread_ids: list[str], body: dict[str, Any]
) -> None:
    answer = modify(THREAD, thread_ids[3], body)
    assert answer.status == 200, answer.body
    assert answer.body["id"] == thread_ids[3]
    assert dynamodb_requests.operations == ["GetItem", "UpdateItem"]


@pytest.mark.parametrize("body", [{"metadata": {"k": "v"}}, {"metadata": None}])
@pytest.mark.parametrize("where", ["unknown-id", "other-thread"])
def test_given_a_missing_message_when_modified_then_a_get_item_and_one_update_item_leave_the_table_unchanged(
    table: Any,
    dynamodb_requests: RequestCounter,
    thread_ids: list[str],
    body: dict[str, Any],
    where: str,
) -> None:
    make_thread(OTHER_THREAD)
    before = scan(table)
    dynamodb_requests.reset()
    if where == "unknown-id":
        thread_id, message_id = THREAD, ids.neighbour(thread_ids[3], ids.MESSAGE_PREFIX, +1)
    else:
        thread_id, message_id = OTHER_THREAD, thread_ids[3]
    assert message_id is not None

    answer = modify(thread_id, message_id, body)

    assert (answer.status, answer.body) == (404, message_not_found(message_id))
    assert dynamodb_requests.operations == ["GetItem", "UpdateItem"]
    assert scan(table) == before


@pytest.mark.parametrize("body", [{"metadata": {"k": "v"}}, {"metadata": None}])
def test_given_a_missing_thread_when_modified_in_then_only_its_get_item_is_made_and_nothing_written(
    table: Any, dynamodb_requests: RequestCounter, thread_ids: list[str], body: dict[str, Any]
) -> None:
    before = scan(table)

    answer = modify(MISSING_THREAD, thread_ids[3], body)

    assert (answer.status, answer.body) == (404, thread_not_found(MISSING_THREAD))
    assert dynamodb_requests.operations == ["GetItem"]
    assert scan(table) == before


def test_given_a_message_id_no_factory_could_mint_when_modified_then_404_after_only_the_threads_read(
    table: Any, dynamodb_requests: RequestCounter
) -> None:
    # The thread's GetItem tells "no such message" from "no such thread"; the message needs no request.
    make_thread(THREAD)
    dynamodb_requests.reset()
    answer = modify(THREAD, "msg_abc123", {"metadata": {"k": "v"}})
    assert (answer.status, answer.body) == (404, message_not_found("msg_abc123"))
    assert dynamodb_requests.operations == ["GetItem"]
    assert item_keys(scan(table)) == [thread_key(THREAD)]


@pytest.mark.parametrize("thread_id", ["thread_abc", "thread_" + "a" * 25])
@pytest.mark.parametrize("operation", ["create", "list", "modify"])
def test_given_a_thread_id_no_factory_could_mint_then_404_without_a_request(
    table: Any, dynamodb_requests: RequestCounter, operation: str, thread_id: str
) -> None:
    if operation == "create":
        answer = create(thread_id, "hello")
    elif operation == "list":
        answer = list_page(thread_id)
    else:
        answer = modify(thread_id, "msg_" + "0" * 24, {"metadata": {"k": "v"}})
    assert (answer.status, answer.body) == (404, thread_not_found(thread_id))
    assert dynamodb_requests.operations == []
    assert scan(table) == []


# --- no Scan, anywhere --------------------------------------------------------------------------------------

SCAN_CALL = re.compile(r"\.scan\(|\bScan\b|[\"']scan[\"']|dynamodb:Scan")


def _source_files() -> list[Path]:
    files = [
        path
        for folder in ("layers", "functions")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if ".aws-sam" not in path.parts
    ]
    assert any(path.name == "message_store.py" for path in files)
    return files


def test_given_the_source_tree_then_nothing_calls_scan() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _source_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SCAN_CALL.search(line)
    ]
    assert offending == []


# SAM policy templates a function may also have: they grant no DynamoDB action.
NON_DYNAMODB_POLICY_TEMPLATES = {"SQSSendMessagePolicy"}


def test_given_the_template_then_no_policy_allows_scan_or_a_wildcard() -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "Scan" not in text
    declared = template()
    for name, function in functions().items():
        for policy in function["Properties"].get("Policies", []):
            assert isinstance(policy, dict), (name, policy)
            # Managed policies on key and idempotency items only: see test_template.
            if policy in ({"Ref": "ApiKeyReadPolicy"}, {"Ref": "IdempotencyRecordsPolicy"}):
                continue
            # The table's own KMS key, when one is given: it grants kms actions only.
            if policy == {"Fn::If": ["HasTableKmsKey", {"Ref": "TableKeyPolicy"}, {"Ref": "AWS::NoValue"}]}:
                continue
            if "Statement" not in policy:
                assert set(policy) <= NON_DYNAMODB_POLICY_TEMPLATES, (name, policy)
                continue
            for statement in policy["Statement"]:
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    assert action.startswith("dynamodb:"), (name, action)
                    assert "*" not in action, (name, action)
                    assert action != "dynamodb:Scan", name
    key_statements = declared["Resources"]["TableKeyPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert all(action.startswith("kms:") for s in key_statements for action in s["Action"])
    list_function = declared["Resources"]["ListMessagesFunction"]["Properties"]
    (statement,) = [s for p in list_function["Policies"] if "Statement" in p for s in p["Statement"]]
    assert statement["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]


@pytest.mark.parametrize("run_id", [None, "run_abc"])
def test_given_a_list_then_its_one_query_reads_the_thread_or_the_run_index_by_key(
    dynamodb_requests: RequestCounter, thread_ids: list[str], run_id: str | None
) -> None:

    seen: list[dict[str, Any]] = []
    reads: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    def capture_read(params: dict[str, Any], **_: Any) -> None:
        reads.append(dict(params))

    query = {"limit": "3"} if run_id is None else {"limit": "3", "run_id": run_id}

    with (
        listening("before-parameter-build.dynamodb.Query", capture),
        listening("before-parameter-build.dynamodb.GetItem", capture_read),
    ):
        answer = list_page(THREAD, **query)

    assert answer.status == 200, answer.body
    assert dynamodb_requests.operations == ["GetItem", "Query"]
    # The GetItem is the thread's own item, read consistently: a thread whose create returned is found.
    (read,) = reads
    assert read["Key"] == {"pk": {"S": f"default#{THREAD}"}, "sk": {"S": "thread"}}
    assert read["ConsistentRead"] is True
    (params,) = seen
    assert params["Limit"] == 4
    if run_id is None:
        assert "IndexName" not in params
        assert params["ConsistentRead"] is True
        assert params["KeyConditionExpression"].startswith("pk = :pk")
    else:
        assert params["IndexName"] == "by_run"
        assert params["KeyConditionExpression"].startswith("gsi1pk = :pk")
        assert params["ExpressionAttributeValues"][":pk"] == {"S": f"default#{THREAD}#{run_id}"}
