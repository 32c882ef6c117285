"""Paging through a thread with the list function: every walk visits each message once, in order.

The messages are created through the create function with a controlled clock, so that many of them share
one ``created_at`` second: the order among those must still be creation order, and ``has_more`` exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import create_message
import list_messages
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api_events import TEST_TENANT, call, http_event
from tests.support.moto_table import recreate
from tests.support.paging import Order, expected_page
from tests.support.seeding import make_thread
from threadkit import storage
from threadkit.contract import ids
from threadkit.contract.models import CreateMessageRequest
from threadkit.domain import messages
from threadkit.storage import schema

FIRST_SECOND = 1_761_861_545
NS = 1_000_000_000
LOWEST = ids.lowest(ids.MESSAGE_PREFIX)
HIGHEST = ids.highest(ids.MESSAGE_PREFIX)

_THREAD_NUMBERS = itertools.count(1)


def fresh_thread() -> str:
    """A new, empty thread (made through the store, so that the test's fake clock is not read)."""
    return make_thread(f"thread_{next(_THREAD_NUMBERS):024d}")


def thread_of(count: int) -> tuple[str, list[str]]:
    """A new thread holding ``count`` messages, minted in turn (from ``ids.default_factory``, which the tests
    drive with a fake clock) as the create function mints them, and written with the thread in one
    transaction (create_message's path is the contract tests' subject; here it is the walks)."""
    thread_id = f"thread_{next(_THREAD_NUMBERS):024d}"
    body = CreateMessageRequest.model_validate({"role": "user", "content": "message"})
    records = [messages.new_record(thread_id, body) for _ in range(count)]
    thread = schema.ThreadRecord(id=thread_id, created_at=FIRST_SECOND)
    storage.thread_store().create_thread(TEST_TENANT, thread, records)
    return thread_id, [record.id for record in records]


def clock_of(seconds: list[int]) -> Callable[[], int]:
    readings: Iterator[int] = iter(seconds)
    return lambda: next(readings) * NS


# --- calling the functions ----------------------------------------------------------------------------------


def create(thread_id: str, text: str) -> dict[str, Any]:
    event = http_event(
        "POST",
        f"/v1/threads/{thread_id}/messages",
        route_key="POST /v1/threads/{thread_id}/messages",
        path_parameters={"thread_id": thread_id},
        body={"role": "user", "content": text},
    )
    answer = call(create_message.lambda_handler, event)
    assert answer.status == 200, answer.body
    message: dict[str, Any] = answer.body
    return message


def list_page(thread_id: str, **query: str | None) -> dict[str, Any]:
    """One page from the list function, checked for what every page must be."""
    params = {k: v for k, v in query.items() if v is not None}
    event = http_event(
        "GET",
        f"/v1/threads/{thread_id}/messages",
        route_key="GET /v1/threads/{thread_id}/messages",
        path_parameters={"thread_id": thread_id},
        query=params,
    )
    answer = call(list_messages.lambda_handler, event)
    assert answer.status == 200, answer.body
    page: dict[str, Any] = answer.body
    assert list(page) == ["object", "data", "first_id", "last_id", "has_more"]
    assert page["object"] == "list"
    data = page["data"]
    assert len(data) <= int(params.get("limit", "20"))
    assert page["first_id"] == (data[0]["id"] if data else None)
    assert page["last_id"] == (data[-1]["id"] if data else None)
    assert isinstance(page["has_more"], bool)
    assert all(m["thread_id"] == thread_id for m in data)
    return page


def store_page(thread_id: str, **query: str | None) -> dict[str, Any]:
    """One page from the domain's list (what the list function answers, without the HTTP edge around it)."""
    after, before = query.get("after"), query.get("before")
    order: Order = "desc" if query.get("order") == "desc" else "asc"
    page = messages.list_messages(
        TEST_TENANT,
        thread_id,
        limit=int(query.get("limit") or 20),
        order=order,
        after=after,
        before=before,
        run_id=None,
    )
    return page.model_dump(mode="json")


Lister = Callable[..., dict[str, Any]]


def page_ids(page: dict[str, Any]) -> list[str]:
    return [m["id"] for m in page["data"]]


# --- what the contract says a page is -----------------------------------------------------------------------


def check_page(
    page: dict[str, Any],
    created: list[str],
    order: Order,
    limit: int,
    after: str | None = None,
    before: str | None = None,
) -> None:
    expected_ids, expected_more = expected_page(created, order, limit, after, before)
    assert (page_ids(page), page["has_more"]) == (expected_ids, expected_more), (order, limit, after, before)


# --- walks --------------------------------------------------------------------------------------------------


def walk_after(
    thread_id: str, created: list[str], order: Order, limit: int, lister: Lister = list_page
) -> tuple[list[str], list[dict[str, Any]]]:
    """Pages from the start with ``after`` until has_more is false; the ids seen and the pages."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = lister(thread_id, order=order, limit=str(limit), after=cursor)
        check_page(page, created, order, limit, after=cursor)
        pages.append(page)
        if not page["has_more"]:
            break
        assert page["data"], "a page with has_more true is never empty"
        cursor = page["last_id"]
        assert len(pages) <= len(created) + 1, "the walk does not end"
    return [i for page in pages for i in page_ids(page)], pages


def walk_before(
    thread_id: str, created: list[str], order: Order, limit: int, start: str, lister: Lister = list_page
) -> list[str]:
    """Pages back from the cursor ``start`` with ``before`` until has_more is false; the ids seen, put back
    in ``order``."""
    pages: list[list[str]] = []
    cursor = start
    while True:
        page = lister(thread_id, order=order, limit=str(limit), before=cursor)
        check_page(page, created, order, limit, before=cursor)
        pages.append(page_ids(page))
        if not page["has_more"]:
            break
        assert page["data"], "a page with has_more true is never empty"
        cursor = page["first_id"]
        assert len(pages) <= len(created) + 1, "the walk does not end"
    return [i for got in reversed(pages) for i in got]


# --- the property -------------------------------------------------------------------------------------------

# Steps between consecutive creations, in seconds: mostly none, so that many messages share a second.
STEP = st.sampled_from([0, 0, 0, 0, 0, 1, 1, 2, 61])
STEPS = st.integers(0, 35).flatmap(lambda n: st.lists(STEP, min_size=n, max_size=n))
# 1 to 10, and sometimes the largest page (100), which holds any of these threads whole.
LIMITS = st.integers(1, 11).map(lambda n: 100 if n == 11 else n)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=STEPS,
    limit=LIMITS,
    back_order=st.sampled_from(["asc", "desc"]),
    back_from=st.sampled_from(["end-of-walk", "end-of-space"]),
)
def test_given_messages_sharing_seconds_when_walking_every_way_then_each_comes_exactly_once_in_order(
    table: Any,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[int],
    limit: int,
    back_order: Order,
    back_from: str,
) -> None:
    recreate(table)  # each example starts over: moto copies the whole table for each transaction
    seconds = list(itertools.accumulate(steps, initial=FIRST_SECOND))[1:]
    monkeypatch.setattr(ids, "default_factory", ids.IdFactory(clock_ns=clock_of(seconds)))
    thread_id, created = thread_of(len(seconds))
    second_of = dict(zip(created, seconds, strict=True))
    n = len(created)
    assert len(set(created)) == n

    # When walking with `after`, ascending: every message once, in creation order, at its own second.
    walked, pages = walk_after(thread_id, created, "asc", limit, store_page)
    assert walked == created
    messages = [m for page in pages for m in page["data"]]
    assert [m["created_at"] for m in messages] == seconds
    assert all(m["created_at"] == second_of[m["id"]] == m["completed_at"] for m in messages)
    assert all(a <= b for a, b in itertools.pairwise(m["created_at"] for m in messages))
    assert len(pages) == max(1, -(-n // limit))

    # When walking with `after`, descending: every message once, newest first.
    walked_desc, pages_desc = walk_after(thread_id, created, "desc", limit, store_page)
    assert walked_desc == created[::-1]
    assert len(pages_desc) == len(pages)

    # When walking back with `before`, from the last page of a full walk or from past the end of the id
    # space: every message once (the last page of the walk, then the rest).
    in_order = created if back_order == "asc" else created[::-1]
    if back_from == "end-of-walk":
        last = page_ids((pages if back_order == "asc" else pages_desc)[-1])
        if last:
            back = walk_before(thread_id, created, back_order, limit, last[0], store_page)
            assert back + last == in_order
    else:
        start = HIGHEST if back_order == "asc" else LOWEST
        assert walk_before(thread_id, created, back_order, limit, start, store_page) == in_order


# --- both cursors, and the official SDK's auto-pager --------------------------------------------------------


@pytest.fixture
def twelve(table: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """A thread of twelve messages, four to a second; its id and the message ids in creation order."""
    seconds = [FIRST_SECOND + n // 4 for n in range(12)]
    monkeypatch.setattr(ids, "default_factory", ids.IdFactory(clock_ns=clock_of(seconds)))
    thread_id = fresh_thread()
    return thread_id, [create(thread_id, f"message {n}")["id"] for n in range(12)]


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 6, 100])
def test_given_both_after_and_before_then_the_page_is_the_messages_strictly_between_them(
    twelve: tuple[str, list[str]], limit: int
) -> None:
    thread_id, m = twelve
    cases: list[tuple[Order, str, str]] = [("asc", m[2], m[9]), ("desc", m[9], m[2])]
    for order, after, before in cases:
        page = list_page(thread_id, order=order, limit=str(limit), after=after, before=before)
        between = m[3:9] if order == "asc" else m[8:2:-1]
        assert page_ids(page) == between[:limit]
        assert page["has_more"] == (len(between) > limit)
        check_page(page, m, order, limit, after=after, before=before)


@pytest.mark.parametrize(
    ("order", "after", "before"),
    [("asc", 5, 6), ("asc", 5, 5), ("asc", 9, 2), ("desc", 6, 5), ("desc", 2, 9), ("desc", 4, 4)],
)
def test_given_cursors_with_nothing_strictly_between_them_then_the_page_is_empty_without_more(
    twelve: tuple[str, list[str]], order: Order, after: int, before: int
) -> None:
    thread_id, m = twelve
    page = list_page(thread_id, order=order, limit="20", after=m[after], before=m[before])
    assert page == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def sdk_auto_pager(thread_id: str, **first_params: str) -> tuple[list[str], list[dict[str, str]]]:
    """What openai-python's ``SyncCursorPage`` iteration sends: the first call's params, then the same
    params plus ``after`` = the last item's id, until a page is empty or says ``has_more: false``
    (``_base_client`` merges a page's ``PageInfo.params`` into the original request's params)."""
    requests = [dict(first_params)]
    seen: list[str] = []
    while True:
        page = list_page(thread_id, **requests[-1])
        seen.extend(page_ids(page))
        if not page["data"] or page["has_more"] is False:
            return seen, requests
        requests.append({**requests[-1], "after": page["data"][-1]["id"]})
        assert len(requests) < 50, "the SDK would loop forever"


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 3, 5, 100])
def test_given_the_sdk_auto_pager_started_with_before_then_it_ends_and_never_repeats_a_message(
    twelve: tuple[str, list[str]], order: Order, limit: int
) -> None:
    thread_id, m = twelve
    before = m[8] if order == "asc" else m[3]

    seen, requests = sdk_auto_pager(thread_id, order=order, limit=str(limit), before=before)

    # The first page is the `limit` messages nearest to `before`; every later request carries both
    # cursors, and gets exactly the messages strictly between them, which here are none.
    in_order = m[:8] if order == "asc" else m[:3:-1]
    assert seen == in_order[-limit:]
    assert len(seen) == len(set(seen))
    assert len(requests) == (2 if len(in_order) > limit else 1)
    for request in requests[1:]:
        assert request["before"] == before
        assert list_page(thread_id, **request)["data"] == []


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 3, 5, 100])
def test_given_the_sdk_auto_pager_started_with_after_then_it_visits_every_later_message_once(
    twelve: tuple[str, list[str]], order: Order, limit: int
) -> None:
    thread_id, m = twelve
    in_order = m if order == "asc" else m[::-1]

    seen, requests = sdk_auto_pager(thread_id, order=order, limit=str(limit), after=in_order[1])

    assert seen == in_order[2:]
    assert len(requests) == max(1, -(-len(in_order[2:]) // limit))


@pytest.mark.parametrize("limit", [1, 4, 100])
def test_given_the_sdk_auto_pager_without_cursors_then_it_visits_every_message_once(
    twelve: tuple[str, list[str]], limit: int
) -> None:
    thread_id, m = twelve
    seen, _ = sdk_auto_pager(thread_id, limit=str(limit))
    assert seen == m[::-1]  # desc by default
