"""CONTRACT.md, "Create" and the error rows that apply to it: POST /v1/threads/{thread_id}/messages."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.api import (
    UNPARSABLE,
    assert_error,
    assert_list_page,
    assert_message,
    create_event,
    error,
    list_event,
    send_create,
    send_list,
    text_part,
    thread_not_found,
)
from tests.support.moto_table import TABLE_NAME
from tests.support.seeding import (
    MISSING_THREAD_KINDS,
    api_thread,
    missing_thread,
    thread,  # noqa: F401 - fixture
)
from tests.support.texts import random_text
from threadkit.storage import schema


def _body(**fields: Any) -> dict[str, Any]:
    return {"role": "user", "content": "Hello, world!", **fields}


def _scan(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


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


@pytest.mark.usefixtures("thread")
def test_create_with_content_larger_than_the_store_holds_is_400_naming_the_limit() -> None:
    # Random four-byte characters: the largest legal text that even compressed exceeds what an item holds
    # (tests/handlers/test_large_messages.py has the compressible ones, which are stored).
    texts = [random_text(256_000)]
    size = schema.stored_size([text_part(t) for t in texts], [])

    answer = send_create(
        create_event({"role": "user", "content": [{"type": "text", "text": t} for t in texts]})
    )

    assert_error(
        answer,
        400,
        error(
            "Invalid 'content': message too large to store. Expected content and attachments of at most "
            f"{schema.CONTENT_LIMIT} bytes as stored (UTF-8 JSON, compressed with zlib when larger), but got "
            f"{size} bytes instead.",
            param="content",
            code="message_too_large",
        ),
    )
    assert send_list(list_event()).body["data"] == []


# --- a thread that does not exist: 404, and nothing is written ---------------------------------------------


@pytest.mark.parametrize("kind", MISSING_THREAD_KINDS)
def test_create_in_a_thread_that_does_not_exist_is_404_and_writes_nothing(table: Any, kind: str) -> None:
    thread_id = missing_thread(kind)
    items = _scan(table)

    answer = send_create(create_event(_body(), thread_id=thread_id))

    assert_error(answer, 404, thread_not_found(thread_id))
    assert _scan(table) == items


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    "thread_id", ["thread_", "thread_abc", "thread_" + "a" * 25, "thread_" + "é" * 24, "thread_" + "-" * 24]
)
def test_create_in_a_thread_id_this_api_never_minted_is_404_without_a_request(thread_id: str) -> None:
    answer = send_create(create_event(_body(), thread_id=thread_id))

    assert_error(answer, 404, thread_not_found(thread_id))


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    "raw_body",
    [
        pytest.param("   ", id="whitespace"),
        pytest.param('{"role": "user", "content": NaN}', id="nan"),
        pytest.param('{"role": "user", "content": "hi", "metadata": {"k": Infinity}}', id="infinity"),
        pytest.param('{"role": "user", "content": -Infinity}', id="minus-infinity"),
        pytest.param("{", id="truncated-object"),
        pytest.param("role=user&content=hi", id="form-encoded"),
        pytest.param("{'role': 'user'}", id="single-quotes"),
        pytest.param('{"role": "user", "content": "hi",}', id="trailing-comma"),
        pytest.param("[]", id="array"),
        pytest.param('"x"', id="string"),
        pytest.param("null", id="null"),
        pytest.param("5", id="number"),
        pytest.param("true", id="boolean"),
    ],
)
def test_create_with_body_that_is_not_a_json_object_is_400_unparsable(raw_body: str) -> None:
    answer = send_create(create_event(raw_body=raw_body))

    assert_error(answer, 400, error(UNPARSABLE))


@pytest.mark.usefixtures("thread")
def test_create_with_body_that_is_an_array_of_a_valid_object_is_400_unparsable() -> None:
    answer = send_create(create_event(raw_body='[{"role": "user", "content": "hi"}]'))

    assert_error(answer, 400, error(UNPARSABLE))
    assert send_list(list_event()).body["data"] == []


@pytest.mark.usefixtures("no_dynamodb")
def test_create_without_body_is_the_400_for_a_missing_role() -> None:
    # No body reads as {} (as OpenAI read it): then the first required field is missing.
    event = create_event()
    assert "body" not in event

    assert_error(
        send_create(event),
        400,
        error("Missing required parameter: 'role'.", param="role", code="missing_required_parameter"),
    )


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            _body(file_ids=["file-1"]),
            error("Unknown parameter: 'file_ids'.", param="file_ids", code="unknown_parameter"),
            id="unknown-key-file_ids",
        ),
        pytest.param(
            _body(assistant_id="asst_abc"),
            error("Unknown parameter: 'assistant_id'.", param="assistant_id", code="unknown_parameter"),
            id="unknown-key-assistant_id",
        ),
        pytest.param(
            _body(content=[{"type": "text", "text": "hi", "annotations": []}]),
            error(
                "Unknown parameter: 'content[0].annotations'.",
                param="content[0].annotations",
                code="unknown_parameter",
            ),
            id="unknown-key-in-part",
        ),
        pytest.param(
            {"content": "hi"},
            error("Missing required parameter: 'role'.", param="role", code="missing_required_parameter"),
            id="missing-role",
        ),
        pytest.param(
            {"role": "user"},
            error(
                "Missing required parameter: 'content'.", param="content", code="missing_required_parameter"
            ),
            id="missing-content",
        ),
        pytest.param(
            {},
            error("Missing required parameter: 'role'.", param="role", code="missing_required_parameter"),
            id="empty-object",
        ),
        pytest.param(
            _body(role="system"),
            error(
                "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
                param="role",
                code="invalid_value",
            ),
            id="role-system",
        ),
        pytest.param(
            _body(content=5),
            error(
                "Invalid type for 'content': expected one of a string or array of objects, "
                "but got an integer instead.",
                param="content",
                code="invalid_type",
            ),
            id="content-integer",
        ),
        pytest.param(
            _body(metadata={"modified": True}),
            error(
                "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
                param="metadata.modified",
                code="invalid_type",
            ),
            id="metadata-value-boolean",
        ),
        pytest.param(
            _body(metadata="x"),
            error(
                "Invalid type for 'metadata': expected an object, but got a string instead.",
                param="metadata",
                code="invalid_type",
            ),
            id="metadata-string",
        ),
        pytest.param(
            _body(attachments="x"),
            error(
                "Invalid type for 'attachments': expected an array, but got a string instead.",
                param="attachments",
                code="invalid_type",
            ),
            id="attachments-string",
        ),
        pytest.param(
            _body(content=[5]),
            error(
                "Invalid type for 'content[0]': expected an object, but got an integer instead.",
                param="content[0]",
                code="invalid_type",
            ),
            id="part-integer",
        ),
        pytest.param(
            _body(content=[{"type": "text", "text": "a"}, {"type": "text", "text": 5}]),
            error(
                "Invalid type for 'content[1].text': expected a string, but got an integer instead.",
                param="content[1].text",
                code="invalid_type",
            ),
            id="part-text-integer",
        ),
        pytest.param(
            _body(metadata={f"key{i}": "v" for i in range(17)}),
            error(
                "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
                "but got an object with 17 properties instead.",
                param="metadata",
                code="object_above_max_properties",
            ),
            id="metadata-17-keys",
        ),
        pytest.param(
            _body(metadata={"k": "v" * 513}),
            error(
                "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
                "but got a string with length 513 instead.",
                param="metadata.k",
                code="string_above_max_length",
            ),
            id="metadata-value-513",
        ),
        pytest.param(
            _body(metadata={"k": "x" * 695}),
            error(
                "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
                "but got a string with length 695 instead.",
                param="metadata.k",
                code="string_above_max_length",
            ),
            id="metadata-value-695-contract-example",
        ),
        pytest.param(
            _body(metadata={"k": "€" * 513}),
            error(
                "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
                "but got a string with length 513 instead.",
                param="metadata.k",
                code="string_above_max_length",
            ),
            id="metadata-value-513-multibyte-characters",
        ),
        pytest.param(
            _body(metadata={"k" * 65: "v"}),
            error(
                "Invalid 'metadata': property name too long. Expected a string with maximum length 64, "
                "but got a string with length 65 instead.",
                param="metadata",
                code="property_name_above_max_length",
            ),
            id="metadata-key-65",
        ),
        pytest.param(
            _body(metadata={"": "v"}),
            error(
                "Invalid 'metadata': property name too short. Expected a string with minimum length 1, "
                "but got a string with length 0 instead.",
                param="metadata",
                code="property_name_below_min_length",
            ),
            id="metadata-key-empty",
        ),
        pytest.param(
            _body(content=""),
            error("Message content must be non-empty.", param="content"),
            id="empty-string",
        ),
        pytest.param(
            _body(content=[]),
            error("Message content must be non-empty.", param="content"),
            id="empty-array",
        ),
        pytest.param(
            _body(content=[{"type": "text", "text": ""}]),
            error("Message content must be non-empty.", param="content[0].text"),
            id="empty-text-part",
        ),
        pytest.param(
            _body(content=[{"type": "text", "text": "a"}, {"type": "text", "text": ""}]),
            error("Message content must be non-empty.", param="content[1].text"),
            id="second-text-part-empty",
        ),
        pytest.param(
            _body(content="a" * 256_001),
            error(
                "Invalid 'content': string too long. Expected a string with maximum length 256000, "
                "but got a string with length 256001 instead.",
                param="content",
                code="string_above_max_length",
            ),
            id="string-of-256001",
        ),
        pytest.param(
            _body(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "é" * 256_001}]),
            error(
                "Invalid 'content[1].text': string too long. Expected a string with maximum length 256000, "
                "but got a string with length 256001 instead.",
                param="content[1].text",
                code="string_above_max_length",
            ),
            id="text-part-of-256001",
        ),
        pytest.param(
            _body(content=[{"type": "audio", "text": "a"}]),
            error(
                "Invalid value: 'audio'. Supported values are: 'text', 'image_url', and 'image_file'.",
                param="content[0].type",
                code="invalid_value",
            ),
            id="bad-part-type",
        ),
        pytest.param(
            _body(content=[{"type": "text", "text": "a"}, {"text": "a"}]),
            error(
                "Missing required parameter: 'content[1].type'.",
                param="content[1].type",
                code="missing_required_parameter",
            ),
            id="missing-part-type",
        ),
        pytest.param(
            _body(content=[{"type": "text"}]),
            error(
                "Missing required parameter: 'content[0].text'.",
                param="content[0].text",
                code="missing_required_parameter",
            ),
            id="text-part-without-text",
        ),
        pytest.param(
            _body(
                content=[{"type": "image_url", "image_url": {"url": "https://a.test/x.png", "detail": "4k"}}]
            ),
            error(
                "Invalid value: '4k'. Supported values are: 'auto', 'low', and 'high'.",
                param="content[0].image_url.detail",
                code="invalid_value",
            ),
            id="bad-image-detail",
        ),
        pytest.param(
            _body(content=[{"type": "image_file", "image_file": {}}]),
            error(
                "Missing required parameter: 'content[0].image_file.file_id'.",
                param="content[0].image_file.file_id",
                code="missing_required_parameter",
            ),
            id="image-file-without-file_id",
        ),
        pytest.param(
            _body(attachments=[{"file_id": "f", "tools": []} for _ in range(11)]),
            error(
                "Invalid 'attachments': array too long. Expected an array with maximum length 10, "
                "but got an array with length 11 instead.",
                param="attachments",
                code="array_above_max_length",
            ),
            id="11-attachments",
        ),
        pytest.param(
            _body(attachments=[{"file_id": "f", "tools": []}, {"file_id": "g", "tools": [{"type": "x"}]}]),
            error(
                "Invalid value: 'x'. Supported values are: 'code_interpreter' and 'file_search'.",
                param="attachments[1].tools[0].type",
                code="invalid_value",
            ),
            id="bad-tool-type",
        ),
        pytest.param(
            _body(attachments=[{"file_id": "f", "tools": [{}]}]),
            error(
                "Missing required parameter: 'attachments[0].tools[0].type'.",
                param="attachments[0].tools[0].type",
                code="missing_required_parameter",
            ),
            id="tool-without-type",
        ),
        pytest.param(
            _body(attachments=[{"tools": []}]),
            error(
                "Missing required parameter: 'attachments[0].file_id'.",
                param="attachments[0].file_id",
                code="missing_required_parameter",
            ),
            id="attachment-without-file_id",
        ),
    ],
)
def test_create_with_invalid_body_is_400_with_openai_error(body: Any, expected: dict[str, Any]) -> None:
    answer = send_create(create_event(body))

    assert_error(answer, 400, expected)


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize(
    "url",
    [
        "notaurl",
        "ftp://example.com/a.png",
        "javascript:alert(1)",
        "https://",
        "https://exa mple.com/a.png",
        "",
    ],
)
def test_create_with_bad_image_url_is_400_invalid_value(url: str) -> None:
    body = _body(content=[{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": url}}])

    answer = send_create(create_event(body))

    assert_error(
        answer,
        400,
        error(
            "Invalid 'content[1].image_url.url'. "
            "Expected a valid URL, but got a value with an invalid format.",
            param="content[1].image_url.url",
            code="invalid_value",
        ),
    )


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("thread_id", ["thr_abc123", "abc", "THREAD_abc123DEF456ghi789JKL012", "msg_abc"])
def test_create_in_thread_id_without_thread_prefix_is_400_invalid_value(thread_id: str) -> None:
    answer = send_create(create_event(_body(), thread_id=thread_id))

    assert_error(
        answer,
        400,
        error(
            f"Invalid 'thread_id': '{thread_id}'. Expected an ID that begins with 'thread'.",
            param="thread_id",
            code="invalid_value",
        ),
    )


@pytest.mark.usefixtures("no_dynamodb")
@pytest.mark.parametrize("beta", ["assistants=v1", "assistants=v3", "tools=v1", ""])
def test_create_with_other_openai_beta_header_is_400_invalid_beta(beta: str) -> None:
    answer = send_create(create_event(_body(), headers={"openai-beta": beta}))

    assert_error(
        answer,
        400,
        error(
            f"Invalid 'OpenAI-Beta' header: '{beta}'. This API serves the Assistants v2 API only: "
            "send 'OpenAI-Beta: assistants=v2', or no 'OpenAI-Beta' header.",
            code="invalid_beta",
        ),
    )
