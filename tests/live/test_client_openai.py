"""The official ``openai`` Python SDK (pinned) against the live local server, as an app would use it.

``OpenAI(base_url=live_api, api_key=LIVE_API_KEY)``: threads are made by the API (``beta.threads.create``),
never invented here. Create (a string, content parts), list with the SDK's cursor auto-pagination over 250
messages in both orders, ``before`` paging by hand, update, retrieve, delete, the thread's whole life
(create with messages, retrieve, update, delete, then ``NotFoundError`` for the thread and its messages), a
thread that does not exist (never created, deleted, never minted), and the SDK's error classes. Every
response the SDK receives goes through ``tests/support/spec.py`` (OpenAI's spec subset with the contract's
errata, plus the thread operations), by an httpx event hook on the SDK's own HTTP client. Loopback only.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any, cast

import openai
import pytest
from openai import OpenAI
from openai.types.beta import Thread, ThreadDeleted
from openai.types.beta.threads import (
    ImageFileContentBlock,
    ImageURLContentBlock,
    Message,
    MessageDeleted,
    TextContentBlock,
)

from tests.support import live
from tests.support.api import EMPTY_LIST, assert_message, message_not_found, text_part, thread_not_found
from tests.support.live import LIVE_API_KEY, MISSING, NEVER_MINTED, UNKNOWN_THREAD, last_body, new_thread
from tests.support.spec import ResponseRecorder

pytestmark = pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning")

MANY = 250  # messages in the paging thread


def make_client(base_url: str, hooks: live.Hooks) -> OpenAI:
    return OpenAI(
        base_url=base_url,
        api_key=LIVE_API_KEY,
        max_retries=0,
        timeout=30.0,
        http_client=openai.DefaultHttpxClient(event_hooks=hooks),
    )


@pytest.fixture
def client(live_api: str, recorder: ResponseRecorder) -> Iterator[OpenAI]:
    with make_client(live_api, recorder.httpx_hooks()) as client:
        yield client


@pytest.fixture
def thread(client: OpenAI) -> str:
    """A fresh, empty thread made through the test's client (its answer is validated too)."""
    return new_thread(client)


@pytest.fixture(scope="module")
def paging_thread(live_api: str) -> tuple[str, list[str]]:
    """A thread with MANY messages ("message 000", ...), and their ids in creation order."""
    return live.new_paging_thread(lambda hooks: make_client(live_api, hooks), MANY)


# --- create -------------------------------------------------------------------------------------------------


def test_create_with_a_string(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    message = live.create_text_message(client, recorder, thread, "Hello, world!")

    assert isinstance(message, Message)
    assert message.incomplete_details is None
    assert isinstance(message.content[0], TextContentBlock)


def test_create_with_content_parts(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    attachments: list[Any] = [
        {"file_id": "file-abc123", "tools": [{"type": "code_interpreter"}]},
        {"file_id": "file-def456", "tools": [{"type": "file_search"}, {"type": "code_interpreter"}]},
    ]
    parts = [
        {"type": "text", "text": "First, é ✓ 日本"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image_file", "image_file": {"file_id": "file-img789", "detail": "low"}},
        {"type": "text", "text": "Last"},
    ]
    answered = [
        text_part("First, é ✓ 日本"),
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "auto"}},
        {"type": "image_file", "image_file": {"file_id": "file-img789", "detail": "low"}},
        text_part("Last"),
    ]
    message = live.create_with_parts(
        client,
        recorder,
        thread,
        parts,
        answered,
        attachments=attachments,
        metadata={"user": "abc123", "modified": "false"},
    )

    assert [block.type for block in message.content] == ["text", "image_url", "image_file", "text"]
    assert isinstance(message.content[0], TextContentBlock)
    url_block = message.content[1]
    assert isinstance(url_block, ImageURLContentBlock)
    assert url_block.image_url.url == "https://example.com/cat.png"
    assert url_block.image_url.detail == "auto"
    file_block = message.content[2]
    assert isinstance(file_block, ImageFileContentBlock)
    assert file_block.image_file.file_id == "file-img789"
    assert file_block.image_file.detail == "low"
    assert message.role == "assistant"
    assert message.assistant_id is None
    assert message.attachments is not None
    assert [a.file_id for a in message.attachments] == ["file-abc123", "file-def456"]
    assert [[t.type for t in a.tools or []] for a in message.attachments] == [
        ["code_interpreter"],
        ["file_search", "code_interpreter"],
    ]
    assert message.metadata == {"user": "abc123", "modified": "false"}


def test_created_message_is_in_the_very_next_list(client: OpenAI, thread: str) -> None:
    ids = []
    for n in range(3):
        ids.append(client.beta.threads.messages.create(thread, role="user", content=f"m{n}").id)
        listed = client.beta.threads.messages.list(thread, limit=100)
        assert [m.id for m in listed.data] == ids[::-1]


def test_list_of_an_empty_thread(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    before = len(recorder.exchanges)
    page = client.beta.threads.messages.list(thread)
    assert page.data == []
    assert page.has_more is False
    assert last_body(recorder) == EMPTY_LIST
    assert list(page) == []
    assert len(recorder.exchanges) == before + 1


# --- list: the SDK's auto-pagination ------------------------------------------------------------------------


def iterate(pager: Any, bound: int) -> list[str]:
    """The ids the auto-pager yields, stopping at ``bound`` items whatever happens (a repeating page would
    otherwise loop forever)."""
    return [message.id for message in itertools.islice(pager, bound)]


def list_requests(recorder: ResponseRecorder) -> list[Any]:
    return [e for e in recorder.exchanges if e.method == "GET"]


@pytest.mark.parametrize("limit", [20, 50, 100, 7])
def test_auto_pagination_ascending(
    client: OpenAI, recorder: ResponseRecorder, paging_thread: tuple[str, list[str]], limit: int
) -> None:
    thread, ids = paging_thread
    seen = iterate(client.beta.threads.messages.list(thread, order="asc", limit=limit), MANY + 2 * limit)
    assert len(seen) == len(set(seen)), "a message came twice"
    assert seen == ids
    pages = list_requests(recorder)
    assert len(pages) == -(-MANY // limit), "has_more must be false on the last page, and only there"
    assert [len(p.body["data"]) for p in pages] == [limit] * (MANY // limit) + (
        [MANY % limit] if MANY % limit else []
    )
    assert [p.body["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert all(p.status == 200 for p in pages)


@pytest.mark.parametrize("limit", [20, 50])
def test_auto_pagination_descending(
    client: OpenAI, recorder: ResponseRecorder, paging_thread: tuple[str, list[str]], limit: int
) -> None:
    thread, ids = paging_thread
    seen = iterate(client.beta.threads.messages.list(thread, order="desc", limit=limit), MANY + 2 * limit)
    assert len(seen) == len(set(seen)), "a message came twice"
    assert seen == ids[::-1]
    assert len(list_requests(recorder)) == -(-MANY // limit)


def test_auto_pagination_by_pages(client: OpenAI, paging_thread: tuple[str, list[str]]) -> None:
    thread, ids = paging_thread
    pages = list(itertools.islice(client.beta.threads.messages.list(thread, limit=20).iter_pages(), 20))
    assert len(pages) == 13
    assert [m.id for p in pages for m in p.data] == ids[::-1]
    assert [p.has_more for p in pages] == [True] * 12 + [False]
    assert not pages[-1].has_next_page()


def test_default_list_is_newest_twenty(
    client: OpenAI, recorder: ResponseRecorder, paging_thread: tuple[str, list[str]]
) -> None:
    thread, ids = paging_thread
    page = client.beta.threads.messages.list(thread)
    assert [m.id for m in page.data] == ids[::-1][:20]
    assert page.has_more is True
    body = last_body(recorder)
    assert (body["first_id"], body["last_id"]) == (ids[-1], ids[-20])


def test_after_cursor_by_hand(client: OpenAI, paging_thread: tuple[str, list[str]]) -> None:
    thread, ids = paging_thread
    page = client.beta.threads.messages.list(thread, order="asc", after=ids[99], limit=30)
    assert [m.id for m in page.data] == ids[100:130]
    assert page.has_more is True
    page = client.beta.threads.messages.list(thread, order="asc", after=ids[-2], limit=30)
    assert [m.id for m in page.data] == ids[-1:]
    assert page.has_more is False
    page = client.beta.threads.messages.list(thread, order="desc", after=ids[5], limit=30)
    assert [m.id for m in page.data] == ids[4::-1]
    assert page.has_more is False


# --- list: before, by hand ----------------------------------------------------------------------------------


def test_before_paging_ascending_by_hand(
    client: OpenAI, recorder: ResponseRecorder, paging_thread: tuple[str, list[str]]
) -> None:
    """From the newest message back to the oldest, 20 at a time: each page is the 20 nearest before the
    cursor, in ascending order; has_more says whether older ones remain."""
    thread, ids = paging_thread
    cursor, pages = ids[-1], []
    for _ in range(MANY):  # bound
        page = client.beta.threads.messages.list(thread, order="asc", before=cursor, limit=20)
        pages.append([m.id for m in page.data])
        body = last_body(recorder)
        assert (body["first_id"], body["last_id"]) == (pages[-1][0], pages[-1][-1])
        if not page.has_more:
            break
        cursor = pages[-1][0]
    assert len(pages) == 13
    assert [len(p) for p in pages] == [20] * 12 + [9]
    assert pages[0] == ids[-21:-1]
    assert [i for p in reversed(pages) for i in p] == ids[:-1]


def test_before_paging_descending_by_hand(client: OpenAI, paging_thread: tuple[str, list[str]]) -> None:
    """With order=desc, ``before`` is the newer side: from the oldest message up to the newest."""
    thread, ids = paging_thread
    cursor, pages = ids[0], []
    for _ in range(MANY):  # bound
        page = client.beta.threads.messages.list(thread, order="desc", before=cursor, limit=50)
        pages.append([m.id for m in page.data])
        if not page.has_more:
            break
        cursor = pages[-1][0]
    assert [len(p) for p in pages] == [50, 50, 50, 50, 49]
    assert pages[0] == ids[50:0:-1]
    assert [i for p in reversed(pages) for i in p] == ids[:0:-1]


def test_before_with_the_auto_pager_terminates(
    client: OpenAI, recorder: ResponseRecorder, paging_thread: tuple[str, list[str]]
) -> None:
    """The SDK's next page keeps ``before`` and adds ``after`` (the page's last id): strictly between the
    two there is nothing, so the pager stops after the first page."""
    thread, ids = paging_thread
    seen = iterate(client.beta.threads.messages.list(thread, order="asc", before=ids[100], limit=20), 500)
    assert seen == ids[80:100]
    assert len(list_requests(recorder)) <= 2


def test_after_and_before_together(client: OpenAI, paging_thread: tuple[str, list[str]]) -> None:
    thread, ids = paging_thread
    page = client.beta.threads.messages.list(thread, order="asc", after=ids[10], before=ids[40], limit=100)
    assert [m.id for m in page.data] == ids[11:40]
    page = client.beta.threads.messages.list(thread, order="desc", after=ids[40], before=ids[10], limit=100)
    assert [m.id for m in page.data] == ids[39:10:-1]


def test_unknown_but_well_formed_cursor_is_a_page(
    client: OpenAI, paging_thread: tuple[str, list[str]]
) -> None:
    thread, _ = paging_thread
    page = client.beta.threads.messages.list(thread, after=MISSING, limit=5)
    assert len(page.data) <= 5


# --- update -------------------------------------------------------------------------------------------------


def test_update_replaces_metadata(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    created = client.beta.threads.messages.create(
        thread, role="user", content="hi", metadata={"a": "1", "b": "2"}
    )
    messages = client.beta.threads.messages

    updated = messages.update(created.id, thread_id=thread, metadata={"modified": "true", "user": "abc123"})
    assert updated.metadata == {"modified": "true", "user": "abc123"}
    assert_message(
        last_body(recorder),
        thread_id=thread,
        content=[text_part("hi")],
        metadata={"modified": "true", "user": "abc123"},
    )
    assert (updated.id, updated.created_at) == (created.id, created.created_at)

    unchanged = messages.update(created.id, thread_id=thread)  # no metadata: left as it is
    assert unchanged.metadata == {"modified": "true", "user": "abc123"}
    unchanged = messages.update(created.id, thread_id=thread, metadata=None)
    assert unchanged.metadata == {"modified": "true", "user": "abc123"}

    cleared = messages.update(created.id, thread_id=thread, metadata={})
    assert cleared.metadata == {}

    listed = messages.list(thread)
    assert [(m.id, m.metadata) for m in listed.data] == [(created.id, {})]


def test_update_keeps_role_and_content(client: OpenAI, thread: str) -> None:
    created = client.beta.threads.messages.create(
        thread, role="assistant", content=[{"type": "text", "text": "kept"}], metadata={"k": "v"}
    )
    updated = client.beta.threads.messages.update(created.id, thread_id=thread, metadata={"k": "w"})
    assert updated.model_dump(exclude={"metadata"}) == created.model_dump(exclude={"metadata"})
    assert updated.metadata == {"k": "w"}


# --- retrieve and delete -----------------------------------------------------------------------------------


def test_retrieve(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    created = client.beta.threads.messages.create(thread, role="user", content="hi", metadata={"k": "v"})
    created_body = last_body(recorder)
    retrieved = client.beta.threads.messages.retrieve(created.id, thread_id=thread)
    assert retrieved == created
    assert last_body(recorder) == created_body
    assert_message(last_body(recorder), thread_id=thread, content=[text_part("hi")], metadata={"k": "v"})


def test_retrieve_sees_the_update(client: OpenAI, thread: str) -> None:
    created = client.beta.threads.messages.create(thread, role="user", content="hi")
    client.beta.threads.messages.update(created.id, thread_id=thread, metadata={"seen": "yes"})
    retrieved = client.beta.threads.messages.retrieve(created.id, thread_id=thread)
    assert retrieved.metadata == {"seen": "yes"}
    assert retrieved.model_dump(exclude={"metadata"}) == created.model_dump(exclude={"metadata"})


def test_delete(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    created = client.beta.threads.messages.create(thread, role="user", content="hi")
    deleted = client.beta.threads.messages.delete(created.id, thread_id=thread)
    assert isinstance(deleted, MessageDeleted)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "thread.message.deleted", True)
    assert last_body(recorder) == {"id": created.id, "object": "thread.message.deleted", "deleted": True}
    assert client.beta.threads.messages.list(thread).data == []


def test_deleted_message_is_gone_at_once(client: OpenAI, thread: str) -> None:
    """Gone from retrieve, update, list and a second delete, while its neighbours stay."""
    messages = client.beta.threads.messages
    ids = [messages.create(thread, role="user", content=f"m{n}").id for n in range(3)]
    messages.delete(ids[1], thread_id=thread)
    expected = message_not_found(ids[1])["error"]
    for call in (
        lambda: messages.retrieve(ids[1], thread_id=thread),
        lambda: messages.update(ids[1], thread_id=thread, metadata={"k": "v"}),
        lambda: messages.delete(ids[1], thread_id=thread),
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            call()
        assert caught.value.body == expected
    assert [m.id for m in messages.list(thread, order="asc").data] == [ids[0], ids[2]]


@pytest.mark.parametrize("operation", ["retrieve", "delete"])
def test_retrieve_and_delete_in_another_thread_are_not_found(
    client: OpenAI, thread: str, operation: str
) -> None:
    messages = client.beta.threads.messages
    created = messages.create(thread, role="user", content="hi")
    other = new_thread(client)
    with pytest.raises(openai.NotFoundError) as caught:
        getattr(messages, operation)(created.id, thread_id=other)
    assert caught.value.body == message_not_found(created.id)["error"]
    assert messages.retrieve(created.id, thread_id=thread) == created  # still there, untouched


@pytest.mark.parametrize("message_id", [MISSING, "msg_abc"], ids=["well-formed", "never-minted"])
@pytest.mark.parametrize("operation", ["retrieve", "delete"])
def test_retrieve_and_delete_of_a_missing_message(
    client: OpenAI, thread: str, operation: str, message_id: str
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        getattr(client.beta.threads.messages, operation)(message_id, thread_id=thread)
    assert caught.value.status_code == 404
    assert caught.value.body == message_not_found(message_id)["error"]


@pytest.mark.parametrize("operation", ["retrieve", "delete"])
def test_retrieve_and_delete_check_the_message_prefix(client: OpenAI, thread: str, operation: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        getattr(client.beta.threads.messages, operation)("m_1", thread_id=thread)
    assert caught.value.body == {
        "message": "Invalid 'message_id': 'm_1'. Expected an ID that begins with 'msg'.",
        "type": "invalid_request_error",
        "param": "message_id",
        "code": "invalid_value",
    }


# --- threads ------------------------------------------------------------------------------------------------


# ``body`` (the raw answer) is exactly the thread object, and ``thread`` (the SDK's Thread) agrees with it.
assert_thread = functools.partial(live.assert_thread, sdk_class=Thread)


def test_thread_lifecycle(client: OpenAI, recorder: ResponseRecorder) -> None:
    """The issue's acceptance: the whole cycle through the SDK, then 404s for the thread and its messages."""
    threads, messages = client.beta.threads, client.beta.threads.messages

    thread = threads.create(
        messages=[
            {"role": "user", "content": "Hello, thread!"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Hi, é ✓"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                ],
                "attachments": [{"file_id": "file-abc", "tools": [{"type": "file_search"}]}],
                "metadata": {"n": "2"},
            },
        ],
        metadata={"project": "acceptance"},
    )
    assert_thread(last_body(recorder), thread, metadata={"project": "acceptance"})

    # The initial messages, in the given order.
    initial = messages.list(thread.id, order="asc")
    assert [m.role for m in initial.data] == ["user", "assistant"]
    first, second = last_body(recorder)["data"]
    assert_message(first, thread_id=thread.id, content=[text_part("Hello, thread!")])
    assert_message(
        second,
        thread_id=thread.id,
        role="assistant",
        content=[
            text_part("Hi, é ✓"),
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "auto"}},
        ],
        attachments=[{"file_id": "file-abc", "tools": [{"type": "file_search"}]}],
        metadata={"n": "2"},
    )
    assert first["id"] < second["id"]

    # Messages: create, list, retrieve, update, delete.
    created = messages.create(thread.id, role="user", content="Another one")
    assert_message(last_body(recorder), thread_id=thread.id, content=[text_part("Another one")])
    assert [m.id for m in messages.list(thread.id).data] == [created.id, second["id"], first["id"]]
    assert messages.retrieve(created.id, thread_id=thread.id) == created
    updated = messages.update(created.id, thread_id=thread.id, metadata={"seen": "yes"})
    assert updated.metadata == {"seen": "yes"}
    assert messages.retrieve(created.id, thread_id=thread.id).metadata == {"seen": "yes"}
    deleted = messages.delete(created.id, thread_id=thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "thread.message.deleted", True)
    with pytest.raises(openai.NotFoundError) as gone:
        messages.retrieve(created.id, thread_id=thread.id)
    assert gone.value.body == message_not_found(created.id)["error"]
    assert [m.id for m in messages.list(thread.id, order="asc").data] == [first["id"], second["id"]]

    # The thread: retrieve, update, delete.
    assert threads.retrieve(thread.id) == thread
    assert_thread(last_body(recorder), thread, metadata={"project": "acceptance"})
    renamed = threads.update(
        thread.id,
        metadata={"project": "renamed", "stage": "2"},
        tool_resources={"code_interpreter": {"file_ids": ["file-abc", "file-def"]}},
    )
    tool_resources = {"code_interpreter": {"file_ids": ["file-abc", "file-def"]}}
    assert_thread(
        last_body(recorder),
        renamed,
        metadata={"project": "renamed", "stage": "2"},
        tool_resources=tool_resources,
    )
    assert (renamed.id, renamed.created_at) == (thread.id, thread.created_at)
    assert threads.update(thread.id) == renamed  # nothing given: nothing changes
    assert threads.retrieve(thread.id) == renamed
    removed = threads.delete(thread.id)
    assert isinstance(removed, ThreadDeleted)
    assert (removed.id, removed.object, removed.deleted) == (thread.id, "thread.deleted", True)
    assert last_body(recorder) == {"id": thread.id, "object": "thread.deleted", "deleted": True}

    # Gone, at once: the thread and every message operation on it (its old messages too).
    live.assert_thread_is_gone(client, recorder, thread.id, first["id"], openai.NotFoundError)


def test_create_thread_without_anything(client: OpenAI, recorder: ResponseRecorder) -> None:
    thread = client.beta.threads.create()
    assert_thread(last_body(recorder), thread)
    assert client.beta.threads.messages.list(thread.id).data == []


def test_thread_tool_resources_and_metadata(client: OpenAI, recorder: ResponseRecorder) -> None:
    """Given: echoed; modify replaces each one given and leaves the other; ``{}`` clears the metadata."""
    tool_resources: Any = {
        "code_interpreter": {"file_ids": ["file-1", "file-2"]},
        "file_search": {"vector_store_ids": ["vs_1"]},
    }
    thread = client.beta.threads.create(metadata={"a": "1"}, tool_resources=tool_resources)
    assert_thread(last_body(recorder), thread, metadata={"a": "1"}, tool_resources=tool_resources)

    thread = client.beta.threads.update(thread.id, metadata={"b": "2"})
    assert_thread(last_body(recorder), thread, metadata={"b": "2"}, tool_resources=tool_resources)
    thread = client.beta.threads.update(thread.id, metadata=None)
    assert_thread(last_body(recorder), thread, metadata={"b": "2"}, tool_resources=tool_resources)
    thread = client.beta.threads.update(
        thread.id, tool_resources={"file_search": {"vector_store_ids": ["vs_2"]}}
    )
    replaced = {"file_search": {"vector_store_ids": ["vs_2"]}}
    assert_thread(last_body(recorder), thread, metadata={"b": "2"}, tool_resources=replaced)
    thread = client.beta.threads.update(thread.id, metadata={})
    assert_thread(last_body(recorder), thread, metadata={}, tool_resources=replaced)
    client.beta.threads.retrieve(thread.id)
    assert_thread(last_body(recorder), thread, metadata={}, tool_resources=replaced)


def test_threads_are_separate(client: OpenAI) -> None:
    one, two = new_thread(client), new_thread(client)
    assert one != two
    message = client.beta.threads.messages.create(one, role="user", content="only in one")
    assert [m.id for m in client.beta.threads.messages.list(one).data] == [message.id]
    assert client.beta.threads.messages.list(two).data == []
    client.beta.threads.delete(two)
    assert client.beta.threads.messages.retrieve(message.id, thread_id=one) == message


MISSING_THREAD_KINDS = ["never-created", "deleted", "never-minted"]


def missing_thread(client: OpenAI, kind: str) -> str:
    if kind == "never-created":
        return UNKNOWN_THREAD
    if kind == "deleted":
        thread = new_thread(client)
        client.beta.threads.delete(thread)
        return thread
    assert kind == "never-minted"
    return NEVER_MINTED


@pytest.mark.parametrize("kind", MISSING_THREAD_KINDS)
def test_a_thread_that_does_not_exist_is_not_found(
    client: OpenAI, recorder: ResponseRecorder, kind: str
) -> None:
    thread = missing_thread(client, kind)
    live.assert_thread_is_gone(client, recorder, thread, MISSING, openai.NotFoundError)


def test_deleting_a_thread_with_messages_removes_them_all(client: OpenAI) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"m{n}"} for n in range(32)])
    ids = [m.id for m in client.beta.threads.messages.list(thread.id, order="asc", limit=100).data]
    assert len(ids) == 32
    client.beta.threads.delete(thread.id)
    for message_id in (ids[0], ids[-1]):
        with pytest.raises(openai.NotFoundError) as caught:
            client.beta.threads.messages.retrieve(message_id, thread_id=thread.id)
        assert caught.value.body == thread_not_found(thread.id)["error"]


# --- errors: the SDK's classes, with the contract's code and param ------------------------------------------


def test_role_system_is_a_bad_request(client: OpenAI, recorder: ResponseRecorder, thread: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.messages.create(thread, role=cast(Any, "system"), content="hi")
    error = caught.value
    assert error.status_code == 400
    assert error.code == "invalid_value"
    assert error.param == "role"
    assert error.type == "invalid_request_error"
    assert error.message == (
        "Error code: 400 - Invalid value: 'system'. Supported values are: 'user' and 'assistant'."
    )
    assert error.body == last_body(recorder)["error"]
    assert error.request_id == error.response.headers["x-request-id"]


def test_update_of_a_missing_message_is_not_found(client: OpenAI, thread: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.threads.messages.update(MISSING, thread_id=thread, metadata={"k": "v"})
    assert caught.value.status_code == 404
    assert caught.value.body == message_not_found(MISSING)["error"]
    assert (caught.value.code, caught.value.param) == (None, None)


def test_update_in_another_thread_is_not_found(client: OpenAI, thread: str) -> None:
    created = client.beta.threads.messages.create(thread, role="user", content="hi")
    other = new_thread(client)
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.threads.messages.update(created.id, thread_id=other, metadata={"k": "v"})
    assert caught.value.body == message_not_found(created.id)["error"]
    assert client.beta.threads.messages.list(other).data == []
    assert client.beta.threads.messages.retrieve(created.id, thread_id=thread).metadata == {}


@pytest.mark.parametrize(
    ("call", "param", "code", "message"),
    [
        (
            lambda c, t: c.beta.threads.messages.create("abc", role="user", content="hi"),
            "thread_id",
            "invalid_value",
            "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.",
        ),
        (
            lambda c, t: c.beta.threads.messages.list("abc"),
            "thread_id",
            "invalid_value",
            "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.",
        ),
        (
            lambda c, t: c.beta.threads.retrieve("abc"),
            "thread_id",
            "invalid_value",
            "Invalid 'thread_id': 'abc'. Expected an ID that begins with 'thread'.",
        ),
        (
            lambda c, t: c.beta.threads.messages.update("m_1", thread_id=t, metadata={}),
            "message_id",
            "invalid_value",
            "Invalid 'message_id': 'm_1'. Expected an ID that begins with 'msg'.",
        ),
        (
            lambda c, t: c.beta.threads.messages.create(t, role="user", content=""),
            "content",
            None,
            "Message content must be non-empty.",
        ),
        (
            lambda c, t: c.beta.threads.messages.create(
                t, role="user", content="hi", metadata={f"k{i}": "v" for i in range(17)}
            ),
            "metadata",
            "object_above_max_properties",
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got "
            "an object with 17 properties instead.",
        ),
        (
            lambda c, t: c.beta.threads.messages.create(
                t, role="user", content="hi", metadata={"k": "v" * 695}
            ),
            "metadata.k",
            "string_above_max_length",
            "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, but got a "
            "string with length 695 instead.",
        ),
        (
            lambda c, t: c.beta.threads.messages.create(
                t, role="user", content="hi", extra_body={"file_ids": []}
            ),
            "file_ids",
            "unknown_parameter",
            "Unknown parameter: 'file_ids'.",
        ),
        (
            lambda c, t: c.beta.threads.messages.list(t, limit=0),
            "limit",
            "integer_below_min_value",
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            lambda c, t: c.beta.threads.messages.list(t, limit=101),
            "limit",
            "integer_above_max_value",
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
        ),
        (
            lambda c, t: c.beta.threads.messages.list(t, order=cast(Any, "foo")),
            "order",
            "invalid_value",
            "Invalid value: 'foo'. Supported values are: 'asc' and 'desc'.",
        ),
        (
            lambda c, t: c.beta.threads.create(metadata={f"k{i}": "v" for i in range(17)}),
            "metadata",
            "object_above_max_properties",
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got "
            "an object with 17 properties instead.",
        ),
        (
            lambda c, t: c.beta.threads.create(messages=[{"role": cast(Any, "system"), "content": "hi"}]),
            "messages[0].role",
            "invalid_value",
            "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
        ),
        (
            lambda c, t: c.beta.threads.update(t, metadata={"k" * 65: "v"}),
            "metadata",
            "property_name_above_max_length",
            "Invalid 'metadata': property name too long. Expected a string with maximum length 64, but got a "
            "string with length 65 instead.",
        ),
        (
            lambda c, t: c.beta.threads.create(
                tool_resources={"file_search": {"vector_stores": [{"file_ids": ["file-abc"]}]}}
            ),
            "tool_resources.file_search.vector_stores",
            "unknown_parameter",
            "Unknown parameter: 'tool_resources.file_search.vector_stores'.",
        ),
    ],
    ids=[
        "thread-prefix-create",
        "thread-prefix-list",
        "thread-prefix-retrieve-thread",
        "message-prefix",
        "empty-content",
        "metadata-17",
        "metadata-value-695",
        "unknown-parameter",
        "limit-0",
        "limit-101",
        "order-foo",
        "thread-metadata-17",
        "thread-message-role",
        "thread-update-metadata-key-65",
        "thread-vector-stores",
    ],
)
def test_bad_requests(
    client: OpenAI, thread: str, call: Any, param: str, code: str | None, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        call(client, thread)
    assert caught.value.body == {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }
    assert (caught.value.code, caught.value.param) == (code, param)


def test_thread_with_too_many_messages_is_a_bad_request(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.create(messages=[{"role": "user", "content": "hi"}] * 33)
    assert caught.value.param == "messages"
    assert isinstance(caught.value.body, dict)
    assert set(caught.value.body) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("cursor", ["after", "before"])
def test_malformed_cursor_names_its_parameter(client: OpenAI, thread: str, cursor: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.messages.list(thread, extra_query={cursor: "bogus"})
    assert caught.value.param == cursor


def test_update_with_another_key_is_unknown_parameter(client: OpenAI, thread: str) -> None:
    created = client.beta.threads.messages.create(thread, role="user", content="hi", metadata={"k": "v"})
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.messages.update(created.id, thread_id=thread, extra_body={"role": "assistant"})
    assert (caught.value.code, caught.value.param) == ("unknown_parameter", "role")
    assert client.beta.threads.messages.list(thread).data[0].metadata == {"k": "v"}


def test_wrong_beta_header(client: OpenAI, thread: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.messages.list(thread, extra_headers={"OpenAI-Beta": "assistants=v1"})
    assert caught.value.code == "invalid_beta"
    assert caught.value.status_code == 400


def test_sdk_sends_what_the_contract_expects(live_api: str) -> None:
    """The headers the SDK sends (bearer key, OpenAI-Beta), seen by a request hook, on every request."""
    for request in live.short_thread_requests(live_api, lambda hooks: make_client(live_api, hooks)):
        assert request.headers["authorization"] == f"Bearer {LIVE_API_KEY}"
        assert request.headers["openai-beta"] == "assistants=v2"
