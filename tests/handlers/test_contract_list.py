"""docs/contract.md, "List messages" and "Paging": GET /v1/threads/{thread_id}/messages, the pages it answers.

Its error rows (queries, cursors, ids, a missing thread) are in the contract table,
``tests/support/contract_rows.py``, which tests/handlers/test_contract.py sends."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.api import (
    OTHER_THREAD,
    THREAD,
    UNKNOWN_MESSAGE,
    assert_list_page,
    create_text,
    list_event,
    send_list,
)
from tests.support.seeding import (
    make_message,
    make_thread,
    thread,  # noqa: F401 - fixture
)
from threadkit.contract import ids

LOWEST = "msg_" + "0" * 24
HIGHEST = "msg_" + "z" * 24


def _seed(count: int, thread_id: str = THREAD) -> list[dict[str, Any]]:
    """``count`` messages created through the API, oldest first."""
    return [create_text(f"message {i}", thread_id=thread_id) for i in range(count)]


def _ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["id"] for m in messages]


# --- the page -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("thread")
def test_list_of_empty_thread_is_empty_page_with_null_ids() -> None:
    answer = send_list(list_event())

    assert answer.status == 200
    assert answer.body == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.usefixtures("thread")
def test_list_by_default_is_newest_first_with_whole_message_objects() -> None:
    created = _seed(3)

    answer = send_list(list_event())

    assert_list_page(answer, _ids(created)[::-1], has_more=False)
    assert answer.body["data"] == created[::-1]


@pytest.mark.usefixtures("thread")
def test_list_shows_messages_created_in_the_same_second_in_creation_order() -> None:
    created = _seed(6)
    assert len({m["created_at"] for m in created}) <= 2  # the case the contract describes

    answer = send_list(list_event(order="asc"))

    assert_list_page(answer, _ids(created), has_more=False)


@pytest.mark.usefixtures("thread")
def test_list_default_limit_is_20_and_has_more_tells_of_the_rest() -> None:
    created = _ids(_seed(21))

    first = send_list(list_event())
    second = send_list(list_event(after=first.body["last_id"]))

    assert_list_page(first, created[::-1][:20], has_more=True)
    assert_list_page(second, [created[0]], has_more=False)


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("limit", ["1", "100"])
def test_list_with_limit_at_either_bound_is_accepted(limit: str) -> None:
    created = _ids(_seed(2))

    answer = send_list(list_event(limit=limit))

    assert_list_page(answer, created[::-1][: int(limit)], has_more=limit == "1")


@pytest.mark.usefixtures("thread")
def test_list_only_shows_messages_of_its_thread() -> None:
    make_thread(OTHER_THREAD)
    mine = _ids(_seed(2))
    _seed(2, thread_id=OTHER_THREAD)

    answer = send_list(list_event(order="asc"))

    assert_list_page(answer, mine, has_more=False)


@pytest.mark.usefixtures("thread")
def test_list_sees_every_create_that_has_returned() -> None:
    seen: list[str] = []
    for i in range(4):
        created = create_text(f"m{i}")
        seen.insert(0, created["id"])

        answer = send_list(list_event())

        assert_list_page(answer, seen, has_more=False)
        assert answer.body["data"][0] == created


# --- cursors ------------------------------------------------------------------------------------------------
#
# Listing is read-only, so the cases of a table share one seeded thread (one moto table per test function);
# each case is reported on its own as a subtest.


@dataclass(frozen=True)
class CursorCase:
    name: str
    query: dict[str, str | int]
    """An int ``after`` / ``before`` is the index of a seeded message; a string is sent as it is."""
    expected: list[int]
    """Indexes (oldest first) of the messages the page must hold, in order."""
    has_more: bool


# Five messages 0..4, created in this order.
CURSOR_CASES = [
    CursorCase("desc-default", {}, [4, 3, 2, 1, 0], False),
    CursorCase("desc-explicit", {"order": "desc"}, [4, 3, 2, 1, 0], False),
    CursorCase("asc", {"order": "asc"}, [0, 1, 2, 3, 4], False),
    CursorCase("desc-limit-2", {"limit": "2"}, [4, 3], True),
    CursorCase("asc-limit-2", {"order": "asc", "limit": "2"}, [0, 1], True),
    CursorCase("asc-limit-4", {"order": "asc", "limit": "4"}, [0, 1, 2, 3], True),
    CursorCase("asc-limit-exact-fit", {"order": "asc", "limit": "5"}, [0, 1, 2, 3, 4], False),
    CursorCase("asc-after", {"order": "asc", "after": 1}, [2, 3, 4], False),
    CursorCase("asc-after-limit-2", {"order": "asc", "after": 1, "limit": "2"}, [2, 3], True),
    CursorCase("asc-after-exact-fit", {"order": "asc", "after": 1, "limit": "3"}, [2, 3, 4], False),
    CursorCase("asc-after-newest", {"order": "asc", "after": 4}, [], False),
    CursorCase("desc-after", {"after": 3}, [2, 1, 0], False),
    CursorCase("desc-after-limit-2", {"after": 3, "limit": "2"}, [2, 1], True),
    CursorCase("desc-after-oldest", {"after": 0}, [], False),
    CursorCase("asc-before", {"order": "asc", "before": 3}, [0, 1, 2], False),
    CursorCase("asc-before-limit-2", {"order": "asc", "before": 3, "limit": "2"}, [1, 2], True),
    CursorCase("asc-before-exact-fit", {"order": "asc", "before": 3, "limit": "3"}, [0, 1, 2], False),
    CursorCase("asc-before-oldest", {"order": "asc", "before": 0}, [], False),
    CursorCase("desc-before-is-newer", {"before": 1}, [4, 3, 2], False),
    CursorCase("desc-before-limit-2", {"before": 1, "limit": "2"}, [3, 2], True),
    CursorCase("desc-before-newest", {"before": 4}, [], False),
    CursorCase("asc-between", {"order": "asc", "after": 0, "before": 4}, [1, 2, 3], False),
    CursorCase("asc-between-limit-2", {"order": "asc", "after": 0, "before": 4, "limit": "2"}, [1, 2], True),
    CursorCase("desc-between", {"after": 4, "before": 0}, [3, 2, 1], False),
    CursorCase("desc-between-limit-2", {"after": 4, "before": 0, "limit": "2"}, [3, 2], True),
    CursorCase("asc-between-neighbours", {"order": "asc", "after": 2, "before": 3}, [], False),
    CursorCase("asc-between-inverted", {"order": "asc", "after": 3, "before": 1}, [], False),
]

# Cursors that are well-formed ids of no message: a 200 page from the cursor's position, never an error.
UNKNOWN_CURSOR_CASES = [
    CursorCase("after-lowest-asc", {"order": "asc", "after": LOWEST}, [0, 1, 2, 3, 4], False),
    CursorCase("after-highest-asc", {"order": "asc", "after": HIGHEST}, [], False),
    CursorCase("after-highest-desc", {"after": HIGHEST}, [4, 3, 2, 1, 0], False),
    CursorCase("after-a-future-id-desc", {"after": UNKNOWN_MESSAGE}, [4, 3, 2, 1, 0], False),
    CursorCase("after-a-future-id-desc-limit-2", {"after": UNKNOWN_MESSAGE, "limit": "2"}, [4, 3], True),
    CursorCase("before-highest-asc", {"order": "asc", "before": HIGHEST}, [0, 1, 2, 3, 4], False),
    CursorCase("before-highest-asc-limit-2", {"order": "asc", "before": HIGHEST, "limit": "2"}, [3, 4], True),
    CursorCase("before-lowest-desc", {"before": LOWEST}, [4, 3, 2, 1, 0], False),
    CursorCase("both-inverted", {"order": "asc", "after": HIGHEST, "before": LOWEST}, [], False),
    CursorCase(
        "both-around-everything", {"order": "asc", "after": LOWEST, "before": HIGHEST}, [0, 1, 2, 3, 4], False
    ),
]


def _check_cases(subtests: pytest.Subtests, cases: list[CursorCase]) -> None:
    created = _ids(_seed(5))
    for case in cases:
        with subtests.test(case.name):
            query = {k: created[v] if isinstance(v, int) else v for k, v in case.query.items()}

            answer = send_list(list_event(**query))

            assert_list_page(answer, [created[i] for i in case.expected], has_more=case.has_more)


@pytest.mark.usefixtures("thread")
def test_list_with_cursors_returns_exactly_the_contract_page(subtests: pytest.Subtests) -> None:
    _check_cases(subtests, CURSOR_CASES)


@pytest.mark.usefixtures("thread")
def test_list_with_unknown_well_formed_cursor_is_200_page_from_its_position(
    subtests: pytest.Subtests,
) -> None:
    _check_cases(subtests, UNKNOWN_CURSOR_CASES)


def _walk_forward(order: str, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    query: dict[str, str] = {"order": order, "limit": str(limit)}
    while pages <= 10:
        answer = send_list(list_event(**query))
        assert answer.status == 200, answer.body
        pages += 1
        seen += _ids(answer.body["data"])
        if not answer.body["has_more"]:
            break
        query["after"] = answer.body["last_id"]
    return seen, pages


def _walk_backward(order: str, limit: int, cursor: str) -> tuple[list[str], int]:
    pages: list[list[str]] = []
    while len(pages) <= 10:
        answer = send_list(list_event(order=order, limit=str(limit), before=cursor))
        assert answer.status == 200, answer.body
        pages.insert(0, _ids(answer.body["data"]))
        if not answer.body["has_more"]:
            break
        cursor = answer.body["first_id"]
    return [i for page in pages for i in page], len(pages)


WALKS = [("asc", 1), ("asc", 2), ("asc", 5), ("asc", 20), ("desc", 1), ("desc", 2), ("desc", 3)]


@pytest.mark.usefixtures("thread")
def test_list_paged_forward_with_after_visits_every_message_once(subtests: pytest.Subtests) -> None:
    created = _ids(_seed(5))
    for order, limit in WALKS:
        with subtests.test(f"{order}-limit-{limit}"):
            seen, pages = _walk_forward(order, limit)

            assert seen == (created if order == "asc" else created[::-1])
            assert pages == math.ceil(5 / limit)


@pytest.mark.usefixtures("thread")
def test_list_paged_backward_with_before_visits_every_message_once(subtests: pytest.Subtests) -> None:
    created = _ids(_seed(5))
    for order, limit in WALKS:
        with subtests.test(f"{order}-limit-{limit}"):
            in_order = created if order == "asc" else created[::-1]

            seen, pages = _walk_backward(order, limit, cursor=in_order[-1])

            assert seen == in_order[:-1]
            assert pages == math.ceil(4 / limit)


@pytest.mark.usefixtures("thread")
def test_list_with_unknown_cursor_between_messages_pages_from_its_position() -> None:
    created = _ids(_seed(4))
    unknown = ids.neighbour(created[1], ids.MESSAGE_PREFIX, +1)
    assert unknown is not None
    assert unknown not in created

    after = send_list(list_event(order="asc", after=unknown))
    before = send_list(list_event(order="asc", before=unknown))

    assert_list_page(after, created[2:], has_more=False)
    assert_list_page(before, created[:2], has_more=False)


@pytest.mark.usefixtures("thread")
def test_list_with_cursor_on_empty_thread_is_empty_page() -> None:
    answer = send_list(list_event(after=UNKNOWN_MESSAGE, before=HIGHEST))

    assert_list_page(answer, [], has_more=False)


# --- run_id -------------------------------------------------------------------------------------------------


def _seed_run_message(run_id: str) -> str:
    return make_message(
        THREAD, text="from a run", role="assistant", assistant_id="asst_abc123", run_id=run_id
    )


@pytest.mark.usefixtures("thread")
def test_list_by_run_id_only_shows_that_runs_messages() -> None:
    created = _ids(_seed(2))
    in_run = _seed_run_message("run_abc123")
    _seed_run_message("run_other")

    by_run = send_list(list_event(run_id="run_abc123"))
    no_run = send_list(list_event(run_id="run_nothing"))
    everything = send_list(list_event(order="asc"))

    assert_list_page(by_run, [in_run], has_more=False)
    assert by_run.body["data"][0]["run_id"] == "run_abc123"
    assert by_run.body["data"][0]["assistant_id"] == "asst_abc123"
    assert_list_page(no_run, [], has_more=False)
    assert _ids(everything.body["data"])[:2] == created


@pytest.mark.usefixtures("thread")
def test_list_by_run_id_skips_messages_made_through_the_api() -> None:
    _seed(2)

    answer = send_list(list_event(run_id="run_abc123"))

    assert_list_page(answer, [], has_more=False)
