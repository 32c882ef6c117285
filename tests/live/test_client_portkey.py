"""The ``portkey-ai`` Python SDK (pinned) against the live local server, as the Portkey docs use it.

``Portkey(api_key=LIVE_API_KEY, virtual_key=..., base_url=live_api)``: the SDK then talks to our server only
(never to Portkey's cloud: ``base_url`` wins, and a request hook refuses anything but loopback), sending
``x-portkey-api-key`` (the key), ``x-portkey-virtual-key`` and the placeholder ``Authorization: Bearer
OPENAI_API_KEY``. Threads are made by the API (``portkey.beta.threads.create``). The flow is the OpenAI SDK's
through Portkey's own signatures: ``portkey.beta.threads.create/retrieve/update/delete(thread_id)``,
``messages.create/list(thread_id)``, ``messages.retrieve/update(thread_id, message_id)``,
``messages.delete(message_id, thread_id=...)``; its ``list`` returns one page, so paging is by hand.
Errors are raised by the OpenAI SDK that portkey-ai vendors. Every response is validated by
``tests/support/spec.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any, Literal

import httpx
import pytest
from portkey_ai import Portkey
from portkey_ai._vendor import openai as vendored_openai
from portkey_ai.api_resources.types.thread_message_type import (
    MessageContentText,
    MessageList,
    ThreadMessage,
    ThreadMessageDeleted,
)
from portkey_ai.api_resources.types.thread_type import Thread, ThreadDeleted

from tests.support import live
from tests.support.api import EMPTY_LIST, assert_message, message_not_found, text_part
from tests.support.live import LIVE_API_KEY, MISSING, NEVER_MINTED, UNKNOWN_THREAD, last_body, new_thread
from tests.support.spec import ResponseRecorder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MANY = 150  # messages in the paging thread
PORTKEY_KEY = LIVE_API_KEY
VIRTUAL_KEY = "openai-local-test"


@pytest.fixture(autouse=True)
def _no_portkey_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Portkey's own environment variables (a cloud base URL, a key) must not steer these tests."""
    for name in ("PORTKEY_API_KEY", "PORTKEY_BASE_URL", "PORTKEY_PROXY", "PORTKEY_GATEWAY_URL"):
        monkeypatch.delenv(name, raising=False)


def make_portkey(base_url: str, hooks: live.Hooks) -> closing[Portkey]:
    """The documented form, with a virtual key; closed on leaving its ``with``."""
    return closing(
        Portkey(
            api_key=PORTKEY_KEY,
            virtual_key=VIRTUAL_KEY,
            base_url=base_url,
            http_client=httpx.Client(event_hooks=hooks, timeout=30.0),
        )
    )


@pytest.fixture
def portkey(live_api: str, recorder: ResponseRecorder) -> Iterator[Portkey]:
    with make_portkey(live_api, recorder.httpx_hooks()) as portkey:
        yield portkey


@pytest.fixture
def thread(portkey: Portkey) -> str:
    """A fresh, empty thread made through the test's client (its answer is validated too)."""
    return new_thread(portkey)


@pytest.fixture(scope="module")
def paging_thread(live_api: str) -> tuple[str, list[str]]:
    """A thread with MANY messages ("message 000", ...), and their ids in creation order."""
    return live.new_paging_thread(lambda hooks: make_portkey(live_api, hooks), MANY)


def ids_of(page: MessageList) -> list[str]:
    return [m.id or "" for m in page.data or []]


def walk(
    fetch: Callable[[str | None], MessageList], next_cursor: Callable[[MessageList], str | None], bound: int
) -> list[list[str]]:
    """Pages by hand: ``fetch(cursor)`` until ``has_more`` is false, at most ``bound`` pages."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(bound):
        page = fetch(cursor)
        pages.append(ids_of(page))
        assert (page.first_id, page.last_id) == ((pages[-1][0], pages[-1][-1]) if pages[-1] else (None, None))
        if not page.has_more:
            return pages
        cursor = next_cursor(page)
    raise AssertionError(f"still has_more after {bound} pages")


# --- create -------------------------------------------------------------------------------------------------


def test_create_with_a_string(portkey: Portkey, recorder: ResponseRecorder, thread: str) -> None:
    message = live.create_text_message(portkey, recorder, thread, "Hello, world!")

    assert isinstance(message, ThreadMessage)
    assert message.content is not None
    block = message.content[0]
    assert isinstance(block, MessageContentText)
    assert block.text is not None


def test_create_with_content_parts(portkey: Portkey, recorder: ResponseRecorder, thread: str) -> None:
    attachments = [{"file_id": "file-abc123", "tools": [{"type": "file_search"}]}]
    parts = [
        {"type": "text", "text": "Look:"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
        {"type": "image_file", "image_file": {"file_id": "file-img789"}},
    ]
    answered = [
        text_part("Look:"),
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
        {"type": "image_file", "image_file": {"file_id": "file-img789", "detail": "auto"}},
    ]
    message = live.create_with_parts(
        portkey, recorder, thread, parts, answered, attachments=attachments, metadata={"source": "portkey"}
    )
    assert message.content is not None
    assert [part.type for part in message.content] == ["text", "image_url", "image_file"]
    assert message.role == "assistant"
    assert message.metadata == {"source": "portkey"}
    assert message.attachments is not None
    assert [a.file_id for a in message.attachments] == ["file-abc123"]


def test_portkey_sends_its_headers_and_the_placeholder_key(live_api: str) -> None:
    for request in live.short_thread_requests(live_api, lambda hooks: make_portkey(live_api, hooks)):
        assert request.headers["x-portkey-api-key"] == LIVE_API_KEY
        assert request.headers["x-portkey-virtual-key"] == VIRTUAL_KEY
        assert request.headers["authorization"] == "Bearer OPENAI_API_KEY"
        assert request.headers["openai-beta"] == "assistants=v2"


def test_custom_host_form(live_api: str, recorder: ResponseRecorder) -> None:
    """The other documented form: provider and custom host (headers for a gateway; ours ignores them)."""
    with closing(
        Portkey(
            api_key=PORTKEY_KEY,
            provider="openai",
            custom_host=live_api,
            base_url=live_api,
            http_client=httpx.Client(event_hooks=recorder.httpx_hooks(), timeout=30.0),
        )
    ) as portkey:
        thread = new_thread(portkey)
        created = portkey.beta.threads.messages.create(thread, role="user", content="via custom host")
        listed = portkey.beta.threads.messages.list(thread)
    assert ids_of(listed) == [created.id]


# --- list, paged by hand ------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [20, 50, 13])
def test_after_paging(
    portkey: Portkey, paging_thread: tuple[str, list[str]], order: Literal["asc", "desc"], limit: int
) -> None:
    thread, ids = paging_thread

    def fetch(cursor: str | None) -> MessageList:
        if cursor is None:
            return portkey.beta.threads.messages.list(thread, order=order, limit=limit)
        return portkey.beta.threads.messages.list(thread, order=order, limit=limit, after=cursor)

    pages = walk(fetch, lambda page: page.last_id, bound=MANY)
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)), "a message came twice"
    assert seen == (ids if order == "asc" else ids[::-1])
    assert len(pages) == -(-MANY // limit)
    assert all(len(page) == limit for page in pages[:-1])


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_before_paging(
    portkey: Portkey, paging_thread: tuple[str, list[str]], order: Literal["asc", "desc"]
) -> None:
    """From the far end back: ``before`` gives the nearest ``limit`` messages on the near side of the cursor,
    in the requested order; the next cursor is the page's first id."""
    thread, ids = paging_thread
    in_order = ids if order == "asc" else ids[::-1]

    def fetch(cursor: str | None) -> MessageList:
        return portkey.beta.threads.messages.list(
            thread, order=order, limit=20, before=cursor or in_order[-1]
        )

    pages = walk(fetch, lambda page: page.first_id, bound=MANY)
    assert pages[0] == in_order[-21:-1]
    assert [i for page in reversed(pages) for i in page] == in_order[:-1]
    assert [len(page) for page in pages] == [20] * ((MANY - 1) // 20) + [(MANY - 1) % 20]


def test_list_defaults_and_empty_thread(
    portkey: Portkey, recorder: ResponseRecorder, paging_thread: tuple[str, list[str]]
) -> None:
    thread, ids = paging_thread
    page = portkey.beta.threads.messages.list(thread)
    assert ids_of(page) == ids[::-1][:20]
    assert (page.object, page.has_more, page.first_id, page.last_id) == ("list", True, ids[-1], ids[-20])
    empty = portkey.beta.threads.messages.list(new_thread(portkey))
    assert (empty.data, empty.first_id, empty.last_id, empty.has_more) == ([], None, None, False)
    assert last_body(recorder) == EMPTY_LIST


# --- update -------------------------------------------------------------------------------------------------


def test_update_replaces_metadata(portkey: Portkey, recorder: ResponseRecorder, thread: str) -> None:
    messages = portkey.beta.threads.messages
    created = messages.create(thread, role="user", content="hi", metadata={"a": "1", "b": "2"})
    assert created.id

    updated = messages.update(thread, created.id, metadata={"modified": "true"})
    assert updated.metadata == {"modified": "true"}
    assert_message(
        last_body(recorder), thread_id=thread, content=[text_part("hi")], metadata={"modified": "true"}
    )
    assert (updated.id, updated.created_at) == (created.id, created.created_at)

    assert messages.update(thread, created.id).metadata == {"modified": "true"}
    assert messages.update(thread, created.id, metadata=None).metadata == {"modified": "true"}
    assert messages.update(thread, created.id, metadata={}).metadata == {}
    assert [m.metadata for m in messages.list(thread).data or []] == [{}]


# --- retrieve and delete -----------------------------------------------------------------------------------


def test_retrieve_and_delete(portkey: Portkey, recorder: ResponseRecorder, thread: str) -> None:
    messages = portkey.beta.threads.messages
    created = messages.create(thread, role="user", content="hi", metadata={"k": "v"})
    created_body = last_body(recorder)
    assert created.id

    retrieved = messages.retrieve(thread, created.id)
    assert isinstance(retrieved, ThreadMessage)
    assert last_body(recorder) == created_body
    assert_message(last_body(recorder), thread_id=thread, content=[text_part("hi")], metadata={"k": "v"})
    assert (retrieved.id, retrieved.metadata) == (created.id, {"k": "v"})

    deleted = messages.delete(created.id, thread_id=thread)
    assert isinstance(deleted, ThreadMessageDeleted)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "thread.message.deleted", True)
    assert last_body(recorder) == {"id": created.id, "object": "thread.message.deleted", "deleted": True}
    assert messages.list(thread).data == []
    for call in (
        lambda: messages.retrieve(thread, created.id or ""),
        lambda: messages.delete(created.id or "", thread_id=thread),
        lambda: messages.update(thread, created.id or "", metadata={"k": "w"}),
    ):
        with pytest.raises(vendored_openai.NotFoundError) as caught:
            call()
        assert caught.value.body == message_not_found(created.id)["error"]


def test_retrieve_and_delete_in_another_thread_are_not_found(portkey: Portkey, thread: str) -> None:
    messages = portkey.beta.threads.messages
    created = messages.create(thread, role="user", content="hi")
    assert created.id
    other = new_thread(portkey)
    with pytest.raises(vendored_openai.NotFoundError) as caught:
        messages.retrieve(other, created.id)
    assert caught.value.body == message_not_found(created.id)["error"]
    with pytest.raises(vendored_openai.NotFoundError) as caught:
        messages.delete(created.id, thread_id=other)
    assert caught.value.body == message_not_found(created.id)["error"]
    assert messages.retrieve(thread, created.id).id == created.id  # still there


# --- threads ------------------------------------------------------------------------------------------------


# ``body`` (the raw answer) is exactly the thread object, and ``thread`` (the SDK's Thread) agrees with it.
assert_thread = functools.partial(live.assert_thread, sdk_class=Thread)


def test_thread_lifecycle(portkey: Portkey, recorder: ResponseRecorder) -> None:
    """The issue's acceptance, through Portkey's signatures: the whole cycle, then 404s."""
    threads, messages = portkey.beta.threads, portkey.beta.threads.messages

    thread = threads.create(
        messages=[
            {"role": "user", "content": "Hello from Portkey"},
            {"role": "assistant", "content": [{"type": "text", "text": "Hi"}], "metadata": {"n": "2"}},
        ],
        metadata={"via": "portkey"},
    )
    assert_thread(last_body(recorder), thread, metadata={"via": "portkey"})
    assert thread.id
    thread_id = thread.id

    initial = messages.list(thread_id, order="asc")
    first, second = last_body(recorder)["data"]
    assert ids_of(initial) == [first["id"], second["id"]]
    assert_message(first, thread_id=thread_id, content=[text_part("Hello from Portkey")])
    assert_message(
        second, thread_id=thread_id, role="assistant", content=[text_part("Hi")], metadata={"n": "2"}
    )

    created = messages.create(thread_id, role="user", content="Another one")
    assert created.id
    assert_message(last_body(recorder), thread_id=thread_id, content=[text_part("Another one")])
    assert ids_of(messages.list(thread_id)) == [created.id, second["id"], first["id"]]
    retrieved = messages.retrieve(thread_id, created.id)
    assert (retrieved.id, retrieved.created_at, retrieved.metadata) == (created.id, created.created_at, {})
    assert messages.update(thread_id, created.id, metadata={"seen": "yes"}).metadata == {"seen": "yes"}
    assert messages.retrieve(thread_id, created.id).metadata == {"seen": "yes"}
    deleted = messages.delete(created.id, thread_id=thread_id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "thread.message.deleted", True)
    assert ids_of(messages.list(thread_id, order="asc")) == [first["id"], second["id"]]

    retrieved_thread = threads.retrieve(thread_id)
    assert_thread(last_body(recorder), retrieved_thread, metadata={"via": "portkey"})
    assert retrieved_thread.created_at == thread.created_at
    tool_resources = {"code_interpreter": {"file_ids": ["file-abc"]}}
    updated = threads.update(
        thread_id, metadata={"via": "portkey", "stage": "2"}, tool_resources=tool_resources
    )
    assert_thread(
        last_body(recorder), updated, metadata={"via": "portkey", "stage": "2"}, tool_resources=tool_resources
    )
    assert_thread(
        last_body(recorder),
        threads.retrieve(thread_id),
        metadata={"via": "portkey", "stage": "2"},
        tool_resources=tool_resources,
    )
    removed = threads.delete(thread_id)
    assert isinstance(removed, ThreadDeleted)
    assert (removed.id, removed.object, removed.deleted) == (thread_id, "thread.deleted", True)
    assert last_body(recorder) == {"id": thread_id, "object": "thread.deleted", "deleted": True}

    live.assert_thread_is_gone(
        portkey, recorder, thread_id, first["id"], vendored_openai.NotFoundError, thread_id_first=True
    )


@pytest.mark.parametrize("kind", ["never-created", "deleted", "never-minted"])
def test_a_thread_that_does_not_exist_is_not_found(
    portkey: Portkey, recorder: ResponseRecorder, kind: str
) -> None:
    if kind == "deleted":
        thread = new_thread(portkey)
        portkey.beta.threads.delete(thread)
    else:
        thread = UNKNOWN_THREAD if kind == "never-created" else NEVER_MINTED
    live.assert_thread_is_gone(
        portkey, recorder, thread, MISSING, vendored_openai.NotFoundError, thread_id_first=True
    )


# --- errors -------------------------------------------------------------------------------------------------


def test_role_system_is_a_bad_request(portkey: Portkey, recorder: ResponseRecorder, thread: str) -> None:
    with pytest.raises(vendored_openai.BadRequestError) as caught:
        portkey.beta.threads.messages.create(thread, role="system", content="hi")
    error = caught.value
    assert (error.status_code, error.code, error.param, error.type) == (
        400,
        "invalid_value",
        "role",
        "invalid_request_error",
    )
    assert error.body == last_body(recorder)["error"]
    assert error.body == {
        "message": "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
        "type": "invalid_request_error",
        "param": "role",
        "code": "invalid_value",
    }


def test_missing_message_is_not_found(portkey: Portkey, thread: str) -> None:
    with pytest.raises(vendored_openai.NotFoundError) as caught:
        portkey.beta.threads.messages.update(thread, MISSING, metadata={"k": "v"})
    assert caught.value.status_code == 404
    assert caught.value.body == message_not_found(MISSING)["error"]


@pytest.mark.parametrize(
    ("call", "param", "code"),
    [
        (
            lambda p, t: p.beta.threads.messages.create("abc", role="user", content="hi"),
            "thread_id",
            "invalid_value",
        ),
        (lambda p, t: p.beta.threads.retrieve("abc"), "thread_id", "invalid_value"),
        (lambda p, t: p.beta.threads.messages.list(t, limit=0), "limit", "integer_below_min_value"),
        (lambda p, t: p.beta.threads.messages.list(t, order="sideways"), "order", "invalid_value"),
        (lambda p, t: p.beta.threads.messages.list(t, after="bogus"), "after", None),
        (lambda p, t: p.beta.threads.messages.list(t, before="bogus"), "before", None),
        (
            lambda p, t: p.beta.threads.messages.create(
                t, role="user", content="hi", metadata={"k" * 65: "v"}
            ),
            "metadata",
            "property_name_above_max_length",
        ),
        (lambda p, t: p.beta.threads.messages.create(t, role="user", content=[]), "content", None),
        (
            lambda p, t: p.beta.threads.messages.create(
                t, role="user", content="hi", extra_body={"file_ids": []}
            ),
            "file_ids",
            "unknown_parameter",
        ),
        (
            lambda p, t: p.beta.threads.messages.update(t, "m_1", metadata={}),
            "message_id",
            "invalid_value",
        ),
        (
            lambda p, t: p.beta.threads.messages.retrieve(t, "m_1"),
            "message_id",
            "invalid_value",
        ),
        (
            lambda p, t: p.beta.threads.create(metadata={f"k{i}": "v" for i in range(17)}),
            "metadata",
            "object_above_max_properties",
        ),
        (
            lambda p, t: p.beta.threads.create(messages=[{"role": "system", "content": "hi"}]),
            "messages[0].role",
            "invalid_value",
        ),
        (
            lambda p, t: p.beta.threads.update(t, metadata={"k": "v" * 513}),
            "metadata.k",
            "string_above_max_length",
        ),
    ],
    ids=[
        "thread-prefix",
        "thread-prefix-retrieve-thread",
        "limit-0",
        "order",
        "after",
        "before",
        "metadata-key-65",
        "empty-parts",
        "unknown-parameter",
        "message-prefix",
        "message-prefix-retrieve",
        "thread-metadata-17",
        "thread-message-role",
        "thread-update-metadata-value-513",
    ],
)
def test_bad_requests(portkey: Portkey, thread: str, call: Any, param: str, code: str | None) -> None:
    with pytest.raises(vendored_openai.BadRequestError) as caught:
        call(portkey, thread)
    assert caught.value.param == param
    if (
        code is not None
    ):  # a malformed cursor's code is the server's choice: the contract names only the param
        assert caught.value.code == code
    assert isinstance(caught.value.body, dict)
    assert set(caught.value.body) == {"message", "type", "param", "code"}
