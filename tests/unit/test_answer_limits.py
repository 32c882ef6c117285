"""Every answer fits in Lambda's 6 MiB response payload, by construction; and a large message is still
created exactly once with an Idempotency-Key.

What Lambda counts is the handler's proxy response serialized as JSON, the API's answer being one string in
it (so each quote and backslash in the answer takes two bytes): ``lambda_payload`` measures exactly that.
"""

from __future__ import annotations

import json

import create_message
import pytest
import retrieve_message

from tests.support.api import (
    MESSAGE_ROUTE,
    THREAD,
    assert_error,
    create_event,
    error,
    list_event,
    message_path,
    send_create,
    send_list,
)
from tests.support.api_events import Answer, call, http_event
from tests.support.seeding import thread  # noqa: F401 - fixture
from threadkit.contract import answers, models

LAMBDA_LIMIT = 6 * 1024 * 1024


def lambda_payload(answer: Answer) -> int:
    """Bytes of the handler's response as the Python 3.13 runtime sends it to Lambda (UTF-8 JSON)."""
    return len(json.dumps(answer.raw, ensure_ascii=False).encode())


def quotes_part() -> dict[str, str]:
    # The longest legal text of the character whose answer costs most: '"' is 2 bytes in the answer's JSON
    # and 4 in Lambda's payload. It compresses to almost nothing, so the store takes it.
    return {"type": "text", "text": '"' * models.MAX_TEXT_LENGTH}


BIGGEST_PARTS = 5  # 5 x 1,024,000 bytes in the payload: the most such texts a message may hold


@pytest.mark.usefixtures("thread")
def test_the_largest_legal_message_answers_within_the_payload_limit_on_every_route() -> None:
    created = send_create(create_event({"role": "user", "content": [quotes_part()] * BIGGEST_PARTS}))
    assert created.status == 200, created.body

    retrieved = call(
        retrieve_message.lambda_handler,
        http_event(
            "GET",
            message_path(THREAD, created.body["id"]),
            route_key=MESSAGE_ROUTE.format(method="GET"),
            path_parameters={"thread_id": THREAD, "message_id": created.body["id"]},
        ),
    )

    assert retrieved.body == created.body
    for answer in (created, retrieved):
        assert 5_000_000 < lambda_payload(answer) <= LAMBDA_LIMIT


@pytest.mark.usefixtures("thread")
def test_a_message_whose_answer_would_not_fit_is_a_400_naming_the_limit_and_writes_nothing() -> None:
    answer = send_create(create_event({"role": "user", "content": [quotes_part()] * (BIGGEST_PARTS + 1)}))

    assert answer.status == 400
    size = int(answer.body["error"]["message"].split("but got ")[1].split(" ")[0])
    assert_error(
        answer,
        400,
        error(
            "Invalid 'content': message too large to return. Expected a message whose answer takes at most "
            f"6000000 bytes (its JSON, counted as escaped in Lambda's response), but got {size} bytes "
            "instead.",
            param="content",
            code="message_too_large",
        ),
    )
    assert size > answers.MESSAGE_LIMIT
    assert send_list(list_event()).body["data"] == []


@pytest.mark.usefixtures("thread")
def test_a_message_has_at_most_1000_content_parts() -> None:
    part = {"type": "image_file", "image_file": {"file_id": "file-1"}}
    assert send_create(create_event({"role": "user", "content": [part] * 1000})).status == 200

    answer = send_create(create_event({"role": "user", "content": [part] * 1001}))

    assert_error(
        answer,
        400,
        error(
            "Invalid 'content': array too long. Expected an array with maximum length 1000, but got an array "
            "with length 1001 instead.",
            param="content",
            code="array_above_max_length",
        ),
    )


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.usefixtures("thread")
def test_a_page_of_the_largest_messages_stops_early_and_says_has_more(order: str) -> None:
    made = []
    for n in range(4):
        body = {"role": "user", "content": [quotes_part()] * BIGGEST_PARTS, "metadata": {"n": str(n)}}
        answer = send_create(create_event(body))
        assert answer.status == 200, answer.body
        made.append(answer.body["id"])
    expected = made if order == "asc" else made[::-1]

    seen: list[str] = []
    pages = 0
    after: dict[str, str] = {}
    while True:
        page = send_list(list_event(limit="7", order=order, **after))
        assert page.status == 200, page.body
        assert lambda_payload(page) <= LAMBDA_LIMIT
        ids = [m["id"] for m in page.body["data"]]
        assert ids
        seen += ids
        pages += 1
        if not page.body["has_more"]:
            break
        after = {"after": page.body["last_id"]}

    assert seen == expected  # every message once, in order: has_more was true exactly while more were left
    assert pages == 4  # one such message fills a page


@pytest.mark.usefixtures("thread")
def test_paging_back_with_before_keeps_the_messages_nearest_to_the_cursor() -> None:
    made = [
        send_create(create_event({"role": "user", "content": [quotes_part()] * BIGGEST_PARTS})).body["id"]
        for _ in range(3)
    ]
    small = send_create(create_event({"role": "user", "content": "tail"})).body["id"]

    page = send_list(list_event(order="asc", before=small, limit="10"))

    assert [m["id"] for m in page.body["data"]] == [made[2]]  # the nearest to the cursor, alone
    assert page.body["has_more"] is True  # more before first_id
    assert lambda_payload(page) <= LAMBDA_LIMIT


# --- exactly once, whatever the size ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["é" * models.MAX_TEXT_LENGTH, "中" * 150_000, "😀" * 33_000], ids=["e-acute", "han", "emoji"]
)
@pytest.mark.usefixtures("thread")
def test_the_same_idempotency_key_with_a_large_message_sent_three_times_makes_one_message(text: str) -> None:
    def send() -> Answer:
        event = create_event({"role": "user", "content": text}, headers={"idempotency-key": "big-1"})
        return call(create_message.lambda_handler, event)

    answers_ = [send() for _ in range(3)]

    assert [a.status for a in answers_] == [200, 200, 200]
    assert len({a.body["id"] for a in answers_}) == 1
    assert answers_[1].body == answers_[2].body == answers_[0].body
    listed = send_list(list_event()).body["data"]
    assert [m["id"] for m in listed] == [answers_[0].body["id"]]
