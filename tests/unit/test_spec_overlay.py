"""The spec validator (``tests/support/spec.py``): OpenAI's spec subset, and why the errata overlay matters.

Each erratum of the contract (where docs/contract.md departs from the spec's schemas: "The list object",
"Create message", "List messages", "Errors") gets a body that the raw spec judges wrongly and the overlay
judges as the contract does; bodies that break the contract fail both. The thread operations, which the
subset lacks, are added by ``with_threads`` with our own small schemas: thread objects and deletions as
docs/contract.md, "The thread object" and "Deleted objects" describe them pass, bodies that break it fail, and
the message operations stay the spec's. No server: these are the validator's own tests.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import spec
from tests.support.spec import MESSAGE, MESSAGES, THREAD, THREADS, ResponseRecorder, SpecViolation

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
THREAD_ID = "thread_abc123DEF456ghi789JKL012"
MESSAGE_ID = "msg_0AbCdEfGhIjKlMnOpQrStUvW"


def message(**changes: Any) -> dict[str, Any]:
    """The contract's example message object."""
    body: dict[str, Any] = {
        "id": MESSAGE_ID,
        "object": "thread.message",
        "created_at": 1761861545,
        "assistant_id": None,
        "thread_id": THREAD_ID,
        "run_id": None,
        "role": "user",
        "content": [{"type": "text", "text": {"value": "Hello, world!", "annotations": []}}],
        "attachments": [],
        "metadata": {},
        "status": "completed",
        "incomplete_details": None,
        "completed_at": 1761861545,
        "incomplete_at": None,
    }
    body.update(changes)
    return body


def thread(**changes: Any) -> dict[str, Any]:
    """The thread object of docs/contract.md, "The thread object"."""
    body: dict[str, Any] = {
        "id": THREAD_ID,
        "object": "thread",
        "created_at": 1761861545,
        "metadata": {},
        "tool_resources": {},
    }
    body.update(changes)
    return body


def thread_deleted(**changes: Any) -> dict[str, Any]:
    return {"id": THREAD_ID, "object": "thread.deleted", "deleted": True, **changes}


def page(data: list[dict[str, Any]], *, has_more: bool = False) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def error_body(param: str | None = "role", code: str | None = "invalid_value") -> dict[str, Any]:
    return {
        "error": {
            "message": "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


def raw_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    return spec.response_errors(method, path, status, body, overlay=False)


def overlay_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    return spec.response_errors(method, path, status, body)


# --- the vendored files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [spec.SPEC_PATH.name, spec.SPEC_30_PATH.name])
def test_vendored_spec_is_the_reference_copy(name: str) -> None:
    reference = REFERENCE / name
    if not reference.exists():
        pytest.skip(f"no shared/reference/{name} beside this checkout to compare with")
    assert (spec.SPEC_DIR / name).read_bytes() == reference.read_bytes()


def test_vendored_files_carry_their_source_and_licence() -> None:
    notice = (spec.SPEC_DIR / "NOTICE.md").read_text()
    assert "openai/openai-openapi" in notice
    assert "MIT" in notice
    assert "2026-08-21" in notice
    assert "2025-04-29" in notice
    assert spec.raw_spec()["openapi"] == "3.1.0"
    assert spec.raw_spec()["info"]["license"]["identifier"] == "MIT"
    assert spec.raw_spec_30()["openapi"] == "3.0.0"


def test_both_editions_describe_the_same_operations() -> None:
    def operations(document: dict[str, Any]) -> dict[tuple[str, str], str]:
        return {
            (path, method): operation["operationId"]
            for path, item in document["paths"].items()
            for method, operation in item.items()
        }

    assert operations(spec.raw_spec()) == operations(spec.raw_spec_30())
    assert operations(spec.raw_spec()) == {
        (MESSAGES, "get"): "listMessages",
        (MESSAGES, "post"): "createMessage",
        (MESSAGE, "get"): "getMessage",
        (MESSAGE, "post"): "modifyMessage",
        (MESSAGE, "delete"): "deleteMessage",
    }


def test_overlay_leaves_the_loaded_spec_alone() -> None:
    before = spec.raw_spec()
    spec.apply_overlay(before)
    assert before == spec.raw_spec()
    assert spec.overlay_spec() != spec.raw_spec()


# --- good bodies pass both ----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", [False, True], ids=["raw", "overlay"])
def test_contract_bodies_pass(overlay: bool) -> None:
    checked = spec.validator(overlay=overlay)
    full = message(
        content=[
            {"type": "text", "text": {"value": "x" * 1000, "annotations": []}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "auto"}},
            {"type": "image_file", "image_file": {"file_id": "file-abc", "detail": "low"}},
        ],
        attachments=[
            {"file_id": "file-abc", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}
        ],
        metadata={f"k{i}": "v" * 512 for i in range(16)},
        role="assistant",
    )
    checked.validate("POST", MESSAGES, 200, full)
    checked.validate("POST", MESSAGE, 200, full)
    checked.validate("GET", MESSAGE, 200, full)
    checked.validate("GET", MESSAGES, 200, page([full, message()], has_more=True))
    checked.validate(
        "DELETE", MESSAGE, 200, {"id": MESSAGE_ID, "object": "thread.message.deleted", "deleted": True}
    )
    checked.validate("POST", MESSAGES, 429, error_body(None, "rate_limit_exceeded"))


# --- erratum 1: null first_id / last_id on an empty page ----------------------------------------------------


def test_empty_page_fails_the_raw_spec_and_passes_the_overlay() -> None:
    empty = page([])
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    problems = raw_errors("GET", MESSAGES, 200, empty)
    assert problems
    assert any("None is not of type 'string'" in p for p in problems), problems
    with pytest.raises(SpecViolation):
        spec.validate_response("GET", MESSAGES, 200, empty, overlay=False)
    spec.validate_response("GET", MESSAGES, 200, empty)


def test_overlay_still_requires_the_cursor_keys() -> None:
    body = page([])
    del body["first_id"]
    assert overlay_errors("GET", MESSAGES, 200, body)
    assert overlay_errors("GET", MESSAGES, 200, {**page([]), "last_id": 7})


# --- erratum 2: limits --------------------------------------------------------------------------------------


def test_limit_parameter_range_is_in_the_overlay_only() -> None:
    def limit_schema(document: dict[str, Any]) -> dict[str, Any]:
        parameters = document["paths"][MESSAGES]["get"]["parameters"]
        schema: dict[str, Any] = next(p for p in parameters if p["name"] == "limit")["schema"]
        return schema

    assert "minimum" not in limit_schema(spec.raw_spec())
    assert "maximum" not in limit_schema(spec.raw_spec())
    assert limit_schema(spec.overlay_spec()) == {
        "type": "integer",
        "default": 20,
        "minimum": 1,
        "maximum": 100,
    }


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({f"k{i}": "v" for i in range(17)}, "too many properties"),
        ({"k": "v" * 513}, "is too long"),
        ({"k" * 65: "v"}, "is too long"),
        ({"": "v"}, "should be non-empty"),
    ],
    ids=["17-pairs", "value-513", "key-65", "empty-key"],
)
def test_metadata_limits(metadata: dict[str, str], expected: str) -> None:
    body = message(metadata=metadata)
    assert raw_errors("POST", MESSAGES, 200, body) == []
    problems = overlay_errors("POST", MESSAGES, 200, body)
    assert any(expected in p for p in problems), problems


def test_metadata_limits_count_characters_not_bytes() -> None:
    body = message(metadata={"é" * 64: "€" * 512})  # 128 and 1,536 bytes in UTF-8
    assert overlay_errors("POST", MESSAGE, 200, body) == []


def test_text_limit() -> None:
    at_limit = message(content=[{"type": "text", "text": {"value": "a" * 256_000, "annotations": []}}])
    over = message(content=[{"type": "text", "text": {"value": "a" * 256_001, "annotations": []}}])
    assert overlay_errors("POST", MESSAGES, 200, at_limit) == []
    assert raw_errors("POST", MESSAGES, 200, over) == []
    assert overlay_errors("POST", MESSAGES, 200, over)


@pytest.mark.parametrize(
    "content",
    ["", "a" * 256_001, [{"type": "text", "text": ""}], [{"type": "text", "text": "a" * 256_001}]],
    ids=["empty-string", "long-string", "empty-part", "long-part"],
)
def test_request_text_limits(content: Any) -> None:
    body = {"role": "user", "content": content}
    assert spec.raw_validator().request_errors("POST", MESSAGES, body) == []
    assert spec.overlay_validator().request_errors("POST", MESSAGES, body)


# --- erratum 3: required on each attachment -----------------------------------------------------------------


@pytest.mark.parametrize(
    "attachment",
    [{"file_id": "file-abc"}, {"tools": [{"type": "file_search"}]}, {}],
    ids=["no-tools", "no-file-id", "empty"],
)
def test_attachment_items_require_file_id_and_tools(attachment: dict[str, Any]) -> None:
    request = {"role": "user", "content": "hi", "attachments": [attachment]}
    assert spec.raw_validator().request_errors("POST", MESSAGES, request) == []
    assert spec.overlay_validator().request_errors("POST", MESSAGES, request)
    response = message(attachments=[attachment])
    assert raw_errors("POST", MESSAGES, 200, response) == []
    assert overlay_errors("POST", MESSAGES, 200, response)


def test_complete_attachments_pass_the_request_schema() -> None:
    request = {
        "role": "user",
        "content": "hi",
        "attachments": [{"file_id": "file-abc", "tools": [{"type": "file_search"}]}],
        "metadata": {"k": "v"},
    }
    assert spec.overlay_validator().request_errors("POST", MESSAGES, request) == []
    assert spec.overlay_validator().request_errors("POST", MESSAGES, {**request, "attachments": None}) == []
    assert spec.overlay_validator().request_errors("POST", MESSAGES, {**request, "file_ids": []})


# --- the error envelope -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500])
@pytest.mark.parametrize(("method", "path"), [("GET", MESSAGES), ("POST", MESSAGES), ("POST", MESSAGE)])
def test_error_envelope_for_every_error_status(status: int, method: str, path: str) -> None:
    body = error_body(None, None)
    if status != 429:  # the raw spec documents 429 only
        problems = raw_errors(method, path, status, body)
        assert any("is not documented" in p for p in problems), problems
    assert overlay_errors(method, path, status, body) == []
    assert overlay_errors(method, path, status, error_body()) == []


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "m", "type": "invalid_request_error", "param": None}},
        {"error": {"message": "m", "type": "invalid_request_error", "code": None}},
        {"error": {"type": "invalid_request_error", "param": None, "code": None}},
        {"error": {"message": "m", "param": None, "code": None}},
        {"error": {"message": "m", "type": "invalid_request_error", "param": 3, "code": None}},
        {"error": {"message": None, "type": "invalid_request_error", "param": None, "code": None}},
        {"error": "Invalid value"},
        {"message": "m", "type": "invalid_request_error", "param": None, "code": None},
        {"status": "failure", "message": "Invalid custom host"},
    ],
    ids=[
        "no-code",
        "no-param",
        "no-message",
        "no-type",
        "int-param",
        "null-message",
        "string",
        "flat",
        "gateway",
    ],
)
def test_bad_error_envelopes_fail(body: dict[str, Any]) -> None:
    assert overlay_errors("POST", MESSAGES, 400, body)
    assert overlay_errors("GET", MESSAGES, 404, body)


# --- known-bad bodies fail both -----------------------------------------------------------------------------


def _without(key: str) -> dict[str, Any]:
    body = message()
    del body[key]
    return body


BAD_MESSAGES = {
    "created-at-string": message(created_at="1761861545"),
    "created-at-float": message(created_at=1761861545.5),
    "role-system": message(role="system"),
    "object": message(object="message"),
    "status": message(status="done"),
    "text-not-object": message(content=[{"type": "text", "text": "Hello"}]),
    "no-annotations": message(content=[{"type": "text", "text": {"value": "Hello"}}]),
    "unknown-part": message(content=[{"type": "audio", "audio": {}}]),
    "image-detail": message(content=[{"type": "image_url", "image_url": {"url": "u", "detail": "max"}}]),
    "metadata-number": message(metadata={"k": 1}),
    "content-string": message(content="Hello"),
    "tool-type": message(attachments=[{"file_id": "f", "tools": [{"type": "retrieval"}]}]),
    "no-status": _without("status"),
    "no-completed-at": _without("completed_at"),
    "no-assistant-id": _without("assistant_id"),
    "no-metadata": _without("metadata"),
    "not-an-object": ["msg"],
}


@pytest.mark.parametrize("overlay", [False, True], ids=["raw", "overlay"])
@pytest.mark.parametrize("name", list(BAD_MESSAGES))
def test_known_bad_messages_fail(name: str, overlay: bool) -> None:
    body = BAD_MESSAGES[name]
    assert spec.response_errors("POST", MESSAGES, 200, body, overlay=overlay)
    listing = {
        "object": "list",
        "data": [message(), body],
        "first_id": MESSAGE_ID,
        "last_id": "msg_x",
        "has_more": False,
    }
    assert spec.response_errors("GET", MESSAGES, 200, listing, overlay=overlay)


@pytest.mark.parametrize("overlay", [False, True], ids=["raw", "overlay"])
def test_known_bad_pages_fail(overlay: bool) -> None:
    good = page([message()])
    for key in ("object", "data", "first_id", "last_id", "has_more"):
        broken = copy.deepcopy(good)
        del broken[key]
        assert spec.response_errors("GET", MESSAGES, 200, broken, overlay=overlay), key
    assert spec.response_errors("GET", MESSAGES, 200, {**good, "has_more": "false"}, overlay=overlay)
    assert spec.response_errors("GET", MESSAGES, 200, {**good, "data": {}}, overlay=overlay)


def test_a_path_takes_the_most_specific_template_that_has_the_operation() -> None:
    contract = spec.contract_validator()
    assert contract.match_path("/v1/threads/import", method="POST") == THREADS + "/import"
    # No GET /threads/import: API Gateway routes it to GET /threads/{thread_id}.
    assert contract.match_path("/v1/threads/import", method="GET") == THREAD


def test_undocumented_operations_and_statuses_fail() -> None:
    assert any("no such operation" in p for p in overlay_errors("PUT", MESSAGES, 200, {}))
    assert any("no such operation" in p for p in overlay_errors("GET", "/threads", 200, {}))
    assert any("no such operation" in p for p in overlay_errors("GET", THREAD, 200, thread()))
    contract = spec.contract_validator()
    assert any("no such operation" in p for p in contract.errors("PATCH", THREADS, 200, thread()))
    assert any("no such operation" in p for p in contract.errors("PUT", THREAD, 200, thread()))
    assert any("not documented" in p for p in contract.errors("POST", THREADS, 201, thread()))
    assert any("not documented" in p for p in contract.errors("DELETE", THREAD, 502, error_body()))
    assert any("not documented" in p for p in overlay_errors("POST", MESSAGES, 201, message()))
    assert any("not documented" in p for p in overlay_errors("POST", MESSAGES, 502, error_body()))


def _oai_examples() -> list[tuple[str, str, dict[str, Any]]]:
    document = yaml.safe_load(spec.SPEC_PATH.read_text())
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            response = operation["x-oaiMeta"]["examples"]["response"]
            found.append((method.upper(), path, json.loads(response)))
    return found


@pytest.mark.parametrize(
    ("method", "path", "body"), _oai_examples(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_erratum_4_the_specs_own_examples(method: str, path: str, body: dict[str, Any]) -> None:
    """The spec's x-oaiMeta examples predate its schemas: messages lack status and friends (and the modify
    example has v1's file_ids), so they fail even with the overlay; the delete example is fine."""
    problems = overlay_errors(method, path, 200, body)
    if method == "DELETE":
        assert problems == []
    else:
        assert problems
        assert any("'status' is a required property" in p for p in problems), problems


# --- paths and the recorder ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template"),
    [
        (f"/v1/threads/{THREAD_ID}/messages", MESSAGES),
        (f"/v1/threads/{THREAD_ID}/messages/{MESSAGE_ID}", MESSAGE),
        (f"/threads/{THREAD_ID}/messages", MESSAGES),
        (f"/v1/threads/{THREAD_ID}/messages/{MESSAGE_ID}/files", None),
        ("/v1/threads", None),
        (f"/v1/threads/{THREAD_ID}", None),
        (f"/v1/threads/{THREAD_ID}/messages/", None),
    ],
)
def test_match_path(path: str, template: str | None) -> None:
    assert spec.overlay_validator().match_path(path) == template


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/v1/threads", THREADS),
        (f"/v1/threads/{THREAD_ID}", THREAD),
        (f"/v1/threads/{THREAD_ID}/messages", MESSAGES),
        (f"/v1/threads/{THREAD_ID}/messages/{MESSAGE_ID}", MESSAGE),
        (f"/v1/threads/{THREAD_ID}/runs", None),
        ("/v1/threads/", None),
    ],
)
def test_match_path_with_threads(path: str, template: str | None) -> None:
    assert spec.contract_validator().match_path(path) == template


def test_match_path_under_another_base() -> None:
    checked = spec.overlay_validator()
    assert checked.match_path(f"/gw/v1/threads/{THREAD_ID}/messages", "/gw/v1") == MESSAGES


JSON = {"content-type": "application/json", "x-request-id": "req-1"}


def test_recorder_accepts_contract_answers() -> None:
    recorder = ResponseRecorder()
    url = f"http://127.0.0.1:1/v1/threads/{THREAD_ID}/messages"
    recorder.record("POST", url, 200, JSON, json.dumps(message()).encode())
    recorder.record("GET", url, 200, JSON, json.dumps(page([])).encode())
    recorder.record("POST", url, 400, {**JSON, "content-type": "application/json; charset=utf-8"}, b"{}")
    assert len(recorder.problems) == 1  # the last: {} is no error envelope
    assert recorder.statuses() == [200, 200, 400]
    assert recorder.exchanges[0].path_template == MESSAGES


@pytest.mark.parametrize(
    ("headers", "content", "expected"),
    [
        ({"content-type": "text/plain", "x-request-id": "r"}, b"{}", "content-type"),
        ({"content-type": "application/json"}, json.dumps(message()).encode(), "x-request-id"),
        (JSON, b"<html>", "not JSON"),
        (JSON, json.dumps(message(status=None)).encode(), "status"),
    ],
    ids=["content-type", "request-id", "not-json", "schema"],
)
def test_recorder_reports_bad_answers(headers: dict[str, str], content: bytes, expected: str) -> None:
    recorder = ResponseRecorder()
    recorder.record("POST", f"http://127.0.0.1:1/v1/threads/{THREAD_ID}/messages", 200, headers, content)
    assert any(expected in p for p in recorder.problems), recorder.problems
    with pytest.raises(SpecViolation, match=expected):
        recorder.assert_clean()


def test_recorder_validates_thread_answers() -> None:
    recorder = ResponseRecorder()
    base = "http://127.0.0.1:1/v1/threads"
    recorder.record("POST", base, 200, JSON, json.dumps(thread()).encode())
    recorder.record("GET", f"{base}/{THREAD_ID}", 200, JSON, json.dumps(thread()).encode())
    recorder.record("DELETE", f"{base}/{THREAD_ID}", 200, JSON, json.dumps(thread_deleted()).encode())
    recorder.record("GET", f"{base}/{THREAD_ID}", 404, JSON, json.dumps(error_body(None, None)).encode())
    recorder.record(
        "GET", f"{base}/{THREAD_ID}/messages/{MESSAGE_ID}", 200, JSON, json.dumps(message()).encode()
    )
    recorder.assert_clean(at_least=5)
    assert [e.path_template for e in recorder.exchanges] == [THREADS, THREAD, THREAD, THREAD, MESSAGE]
    recorder.record("POST", f"{base}/{THREAD_ID}", 200, JSON, json.dumps(thread(metadata=None)).encode())
    assert any("metadata" in p for p in recorder.problems), recorder.problems


def test_recorder_reports_unknown_paths_and_counts() -> None:
    recorder = ResponseRecorder()
    with pytest.raises(AssertionError, match="only 0 responses"):
        recorder.assert_clean()
    recorder.record("GET", "http://127.0.0.1:1/v1/models", 200, JSON, b"{}")
    assert any("not an operation of the spec" in p for p in recorder.problems)


def test_recorder_accepts_the_unknown_route_answer() -> None:
    recorder = ResponseRecorder()
    invalid_url = error_body(None, None)
    invalid_url["error"]["message"] = f"Invalid URL (PUT /v1/threads/{THREAD_ID}/messages)"
    content = json.dumps(invalid_url).encode()
    recorder.record("PUT", f"http://127.0.0.1:1/v1/threads/{THREAD_ID}/messages", 404, JSON, content)
    recorder.record("GET", "http://127.0.0.1:1/v1/models", 404, JSON, content)
    recorder.assert_clean(at_least=2)
    recorder.record(
        "TRACE", f"http://127.0.0.1:1/v1/threads/{THREAD_ID}/messages", 404, JSON, b'{"error": "no"}'
    )
    assert any("error envelope" in p for p in recorder.problems), recorder.problems


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://127.0.0.2/v1", True),
        ("http://localhost:3000/v1", True),
        ("http://[::1]:3000/v1", True),
        ("https://api.openai.com/v1/threads", False),
        ("https://api.portkey.ai/v1/threads", False),
        ("http://10.0.0.1/v1", False),
        ("http://0.0.0.0:3000/v1", False),
    ],
)
def test_recorder_refuses_non_loopback_hosts(url: str, allowed: bool) -> None:
    recorder = ResponseRecorder()
    if allowed:
        recorder.check_url(url)
        assert recorder.refused == []
    else:
        with pytest.raises(spec.NotLoopback):
            recorder.check_url(url)
        assert recorder.refused == [url]
        assert recorder.problems


# --- the thread operations (the tests' own schemas) -------------------------------------------------------


def test_with_threads_adds_only_the_thread_operations() -> None:
    overlay, contract = spec.overlay_spec(), spec.contract_spec()
    operations = {
        (path, method): operation["operationId"]
        for path, item in contract["paths"].items()
        for method, operation in item.items()
    }
    assert operations == {
        (MESSAGES, "get"): "listMessages",
        (MESSAGES, "post"): "createMessage",
        (MESSAGE, "get"): "getMessage",
        (MESSAGE, "post"): "modifyMessage",
        (MESSAGE, "delete"): "deleteMessage",
        (THREADS, "post"): "createThread",
        (THREAD, "get"): "getThread",
        (THREAD, "post"): "modifyThread",
        (THREAD, "delete"): "deleteThread",
        (THREADS, "get"): "listThreads",
        (THREADS + "/import", "post"): "importThread",
        (THREAD + "/export", "get"): "exportThread",
    }
    for path in (MESSAGES, MESSAGE):
        assert contract["paths"][path] == overlay["paths"][path]
    schemas = contract["components"]["schemas"]
    assert {k: v for k, v in schemas.items() if k not in spec.THREAD_SCHEMAS} == overlay["components"][
        "schemas"
    ]
    assert set(spec.THREAD_SCHEMAS) <= set(schemas)


def test_with_threads_needs_the_overlay() -> None:
    with pytest.raises(AssertionError, match="overlaid"):
        spec.with_threads(spec.raw_spec())
    assert spec.contract_spec() == spec.with_threads(spec.overlay_spec())


GOOD_THREADS = {
    "empty": thread(),
    "metadata": thread(metadata={f"k{i}": "v" * 512 for i in range(16)}),
    "metadata-characters": thread(metadata={"é" * 64: "€" * 512}),
    "tool-resources": thread(
        tool_resources={
            "code_interpreter": {"file_ids": [f"file-{i}" for i in range(20)]},
            "file_search": {"vector_store_ids": ["vs_1"]},
        }
    ),
    "code-interpreter-empty": thread(tool_resources={"code_interpreter": {"file_ids": []}}),
}


@pytest.mark.parametrize("name", list(GOOD_THREADS))
@pytest.mark.parametrize(("method", "path"), [("POST", THREADS), ("GET", THREAD), ("POST", THREAD)])
def test_thread_objects_pass(method: str, path: str, name: str) -> None:
    assert spec.contract_validator().errors(method, path, 200, GOOD_THREADS[name]) == []


def _thread_without(key: str) -> dict[str, Any]:
    body = thread()
    del body[key]
    return body


BAD_THREADS = {
    "no-id": _thread_without("id"),
    "no-object": _thread_without("object"),
    "no-created-at": _thread_without("created_at"),
    "no-metadata": _thread_without("metadata"),
    "no-tool-resources": _thread_without("tool_resources"),
    "object": thread(object="thread.message"),
    "id-shape": thread(id="thread_abc"),
    "id-prefix": thread(id="msg_0AbCdEfGhIjKlMnOpQrStUvW"),
    "created-at-string": thread(created_at="1761861545"),
    "created-at-float": thread(created_at=1761861545.5),
    "metadata-null": thread(metadata=None),
    "metadata-number": thread(metadata={"k": 1}),
    "metadata-17": thread(metadata={f"k{i}": "v" for i in range(17)}),
    "metadata-value-513": thread(metadata={"k": "v" * 513}),
    "metadata-key-65": thread(metadata={"k" * 65: "v"}),
    "tool-resources-null": thread(tool_resources=None),
    "tool-resources-unknown": thread(tool_resources={"retrieval": {}}),
    "file-ids-21": thread(tool_resources={"code_interpreter": {"file_ids": [f"f{i}" for i in range(21)]}}),
    "vector-store-ids-2": thread(tool_resources={"file_search": {"vector_store_ids": ["a", "b"]}}),
    "vector-stores": thread(tool_resources={"file_search": {"vector_stores": [{}]}}),
    "extra-key": thread(messages=[]),
    "a-message": message(),
    "a-deletion": thread_deleted(),
    "not-an-object": [thread()],
}


@pytest.mark.parametrize("name", list(BAD_THREADS))
@pytest.mark.parametrize(("method", "path"), [("POST", THREADS), ("GET", THREAD), ("POST", THREAD)])
def test_bad_thread_objects_fail(method: str, path: str, name: str) -> None:
    assert spec.contract_validator().errors(method, path, 200, BAD_THREADS[name])


def test_thread_deletion() -> None:
    checked = spec.contract_validator()
    assert checked.errors("DELETE", THREAD, 200, thread_deleted()) == []
    for bad in (
        thread_deleted(deleted=False),
        thread_deleted(object="thread.message.deleted"),
        thread_deleted(extra=1),
        {"object": "thread.deleted", "deleted": True},
        {"id": THREAD_ID, "deleted": True},
        {"id": THREAD_ID, "object": "thread.deleted"},
        thread(),
    ):
        assert checked.errors("DELETE", THREAD, 200, bad), bad


def test_message_retrieve_and_delete_are_the_specs_own() -> None:
    checked = spec.contract_validator()
    assert checked.errors("GET", MESSAGE, 200, message()) == []
    assert checked.errors("GET", MESSAGE, 200, thread())
    deleted = {"id": MESSAGE_ID, "object": "thread.message.deleted", "deleted": True}
    assert checked.errors("DELETE", MESSAGE, 200, deleted) == []
    assert checked.errors("DELETE", MESSAGE, 200, {**deleted, "object": "thread.deleted"})
    assert checked.errors("DELETE", MESSAGE, 200, thread_deleted())


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500])
@pytest.mark.parametrize(
    ("method", "path"), [("POST", THREADS), ("GET", THREAD), ("POST", THREAD), ("DELETE", THREAD)]
)
def test_thread_operations_answer_the_error_envelope(status: int, method: str, path: str) -> None:
    checked = spec.contract_validator()
    assert checked.errors(method, path, status, error_body(None, None)) == []
    assert checked.errors(method, path, status, error_body()) == []
    assert checked.errors(method, path, status, {"error": {"message": "m", "type": "t", "param": None}})
    assert checked.errors(method, path, status, thread())
