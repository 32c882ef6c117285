"""docs/contract.md, "Create message": POST /v1/threads/{thread_id}/messages, what it accepts and stores.

Its error rows (bodies, ids, headers, a missing thread) are in the contract table,
``tests/support/contract_rows.py``, which tests/handlers/test_contract.py sends."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.api import (
    assert_list_page,
    assert_message,
    create_event,
    list_event,
    send_create,
    send_list,
    text_part,
)
from tests.support.seeding import (
    api_thread,
    thread,  # noqa: F401 - fixture
)
from threadkit.storage import schema


def _body(**fields: Any) -> dict[str, Any]:
    return {"role": "user", "content": "Hello, world!", **fields}


# --- success ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("thread")
def test_create_with_string_content_is_200_message_with_one_text_part() -> None:
    before = int(time.time())

    answer = send_create(create_event({"role": "user", "content": "Hello, world!"}))

    assert answer.status == 200
    assert_message(answer.body, content=[text_part("Hello, world!")])
    assert before <= answer.body["created_at"] <= int(time.time())
    assert answer.body["completed_at"] == answer.body["created_at"]


@dataclass(frozen=True)
class Accepted:
    """A body the contract accepts, and the message fields it must come back with."""

    name: str
    body: dict[str, Any]
    content: list[dict[str, Any]]
    role: str = "user"
    attachments: list[dict[str, Any]] | None = None
    metadata: dict[str, str] | None = None


def _check_accepted(subtests: pytest.Subtests, cases: list[Accepted]) -> None:
    """Each case in a thread of its own, created through the API (one moto table for the lot): the answer,
    then the next list."""
    for case in cases:
        with subtests.test(case.name):
            thread_id = api_thread()["id"]

            answer = send_create(create_event(case.body, thread_id=thread_id))
            listed = send_list(list_event(thread_id))

            assert answer.status == 200, answer.body
            assert_message(
                answer.body,
                thread_id=thread_id,
                role=case.role,
                content=case.content,
                attachments=case.attachments,
                metadata=case.metadata,
            )
            assert_list_page(listed, [answer.body["id"]], has_more=False)
            assert listed.body["data"] == [answer.body]


def _image_url(url: str, detail: str | None = None) -> dict[str, Any]:
    image = {"url": url} if detail is None else {"url": url, "detail": detail}
    return {"type": "image_url", "image_url": image}


def _image_file(file_id: str, detail: str | None = None) -> dict[str, Any]:
    image = {"file_id": file_id} if detail is None else {"file_id": file_id, "detail": detail}
    return {"type": "image_file", "image_file": image}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


CONTENT_CASES = [
    Accepted("string", _body(content="Hello"), [text_part("Hello")]),
    Accepted("assistant-role", _body(role="assistant", content="Hi"), [text_part("Hi")], role="assistant"),
    Accepted("text-part", _body(content=[_text("one")]), [text_part("one")]),
    Accepted(
        "image_url-detail-defaults-to-auto",
        _body(content=[_image_url("https://example.com/cat.png")]),
        [_image_url("https://example.com/cat.png", "auto")],
    ),
    Accepted(
        "image_url-detail-echoed",
        _body(content=[_image_url("http://example.com/a.jpg", "high")]),
        [_image_url("http://example.com/a.jpg", "high")],
    ),
    Accepted(
        "image_file-detail-defaults-to-auto",
        _body(content=[_image_file("file-abc123")]),
        [_image_file("file-abc123", "auto")],
    ),
    Accepted(
        "image_file-detail-echoed",
        _body(content=[_image_file("file-abc123", "low")]),
        [_image_file("file-abc123", "low")],
    ),
    Accepted(
        "mixed-parts-keep-their-order",
        _body(
            content=[
                _image_file("file-1"),
                _text("first text"),
                _image_url("https://example.com/x.png", "low"),
                _text("second text"),
            ]
        ),
        [
            _image_file("file-1", "auto"),
            text_part("first text"),
            _image_url("https://example.com/x.png", "low"),
            text_part("second text"),
        ],
    ),
    Accepted("string-of-256000", _body(content="a" * 256_000), [text_part("a" * 256_000)]),
    Accepted("text-part-of-256000", _body(content=[_text("b" * 256_000)]), [text_part("b" * 256_000)]),
    Accepted("spaces-kept", _body(content="  padded  "), [text_part("  padded  ")]),
    Accepted(
        "controls-and-separators-kept",
        _body(content=[_text("line\r\nbreaks\n\tand tabs\u2028")]),
        [text_part("line\r\nbreaks\n\tand tabs\u2028")],
    ),
    Accepted(
        "unicode-kept",
        _body(content="naïve café — 日本語 😀 \U0001f9d1\u200d\U0001f4bb e\u0301"),
        [text_part("naïve café — 日本語 😀 \U0001f9d1\u200d\U0001f4bb e\u0301")],
    ),
    Accepted(
        "escapes-kept",
        _body(content='quotes " \\ backslash \u0000 nul'),
        [text_part('quotes " \\ backslash \u0000 nul')],
    ),
    Accepted(
        "markup-kept",
        _body(content='<script>alert(1)</script> {"json": true}'),
        [text_part('<script>alert(1)</script> {"json": true}')],
    ),
]


@pytest.mark.usefixtures("table")
def test_create_with_valid_content_returns_and_stores_the_contract_message(subtests: pytest.Subtests) -> None:
    _check_accepted(subtests, CONTENT_CASES)


THREE_ATTACHMENTS: list[dict[str, Any]] = [
    {"file_id": "file-b", "tools": [{"type": "file_search"}, {"type": "code_interpreter"}]},
    {"file_id": "file-a", "tools": [{"type": "code_interpreter"}]},
    {"file_id": "file-c", "tools": []},
]
TEN_ATTACHMENTS = [{"file_id": f"file-{i}", "tools": [{"type": "file_search"}]} for i in range(10)]
HELLO = [text_part("Hello, world!")]

ATTACHMENT_AND_METADATA_CASES = [
    Accepted("both-absent", _body(), HELLO),
    Accepted("both-null", _body(attachments=None, metadata=None), HELLO),
    Accepted("both-empty", _body(attachments=[], metadata={}), HELLO),
    Accepted(
        "three-attachments-in-order",
        _body(attachments=THREE_ATTACHMENTS),
        HELLO,
        attachments=THREE_ATTACHMENTS,
    ),
    Accepted("ten-attachments", _body(attachments=TEN_ATTACHMENTS), HELLO, attachments=TEN_ATTACHMENTS),
    Accepted(
        "metadata-two-pairs",
        _body(metadata={"modified": "true", "user": "abc123"}),
        HELLO,
        metadata={"modified": "true", "user": "abc123"},
    ),
    Accepted(
        "metadata-sixteen-pairs",
        _body(metadata={f"key{i}": f"value{i}" for i in range(16)}),
        HELLO,
        metadata={f"key{i}": f"value{i}" for i in range(16)},
    ),
    Accepted(
        "metadata-longest-key-and-value",
        _body(metadata={"k" * 64: "v" * 512}),
        HELLO,
        metadata={"k" * 64: "v" * 512},
    ),
    Accepted(
        "metadata-lengths-in-characters-not-bytes",
        _body(metadata={"é" * 64: "€" * 512}),
        HELLO,
        metadata={"é" * 64: "€" * 512},
    ),
    Accepted(
        "metadata-astral-characters",
        _body(metadata={"😀": "😀" * 512}),
        HELLO,
        metadata={"😀": "😀" * 512},
    ),
    Accepted("metadata-empty-value", _body(metadata={"k": ""}), HELLO, metadata={"k": ""}),
]


@pytest.mark.usefixtures("table")
def test_create_echoes_attachments_and_metadata_with_empty_defaults(subtests: pytest.Subtests) -> None:
    _check_accepted(subtests, ATTACHMENT_AND_METADATA_CASES)


@pytest.mark.usefixtures("thread")
def test_create_is_readable_in_the_very_next_list() -> None:
    created = send_create(create_event(_body(metadata={"a": "b"})))

    listed = send_list(list_event())

    assert_list_page(listed, [created.body["id"]], has_more=False)
    assert listed.body["data"][0] == created.body


@pytest.mark.usefixtures("thread")
def test_create_without_openai_beta_header_is_accepted() -> None:
    answer = send_create(create_event(_body(), headers={"openai-beta": None}))

    assert answer.status == 200
    assert_message(answer.body, content=[text_part("Hello, world!")])


@pytest.mark.usefixtures("thread")
def test_create_with_content_as_large_as_the_store_holds_is_stored_whole() -> None:
    # Two ASCII text parts, sized so that content takes exactly the store's limit.
    first = "a" * 256_000
    parts = [text_part(first), text_part("")]
    room = schema.CONTENT_LIMIT - schema.content_size(parts, [])
    second = "b" * room
    assert schema.content_size([text_part(first), text_part(second)], []) == schema.CONTENT_LIMIT

    answer = send_create(
        create_event(
            {"role": "user", "content": [{"type": "text", "text": first}, {"type": "text", "text": second}]}
        )
    )

    assert answer.status == 200
    assert answer.body["content"] == [text_part(first), text_part(second)]
    listed = send_list(list_event())
    assert listed.body["data"] == [answer.body]
