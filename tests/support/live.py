"""The local server, live: the real HTTP server in this process on a free port, and a plain HTTP client.

``live_api`` (session scope) is the base URL of a server on the embedded DynamoDB, ending in ``/v1``. The
live tier's conftest replaces the root's autouse ``_aws_environment``: the server's functions read the
process environment that the server set up, which that fixture would change. The SDK tests share the ids
and helpers below.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.serve import LocalServer
from tests.support.api import assert_message, text_part, thread_not_found
from tests.support.seeding import is_thread_id
from tests.support.spec import ResponseRecorder

READY_TIMEOUT = 120.0  # a bound for a busy machine; readiness is polled, so a quiet one waits far less
MISSING = "msg_0AbCdEfGhIjKlMnOpQrStUvW"  # a well-formed message id that was never created
UNKNOWN_THREAD = "thread_0AbCdEfGhIjKlMnOpQrStUvW"  # well-formed, never created
NEVER_MINTED = "thread_abc"  # begins with thread_, but no id this API could mint
# The live server's keys: tenant "live" for most tests, "other" for isolation tests.
LIVE_API_KEY = "sk-live-tests-0000000000000000000000000000"
OTHER_API_KEY = "sk-live-tests-other-00000000000000000000000"
LIVE_ENV: dict[str, str | None] = {
    "AWS_ENDPOINT_URL_DYNAMODB": None,  # the embedded store
    "LOCAL_DATA_DIR": "memory",
    "LOCAL_DYNAMODB_PORT": None,
    "AWS_PROFILE": None,
    "TABLE_NAME": "messages-live",
    "MESSAGES_API_KEYS": f"live:{LIVE_API_KEY},other:{OTHER_API_KEY}",
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    url: str,
    body: bytes | str | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    api_key: str | None = LIVE_API_KEY,
) -> Reply:
    """One request on its own connection, with ``api_key`` as its bearer token (None: no key). A mapping
    body is sent as JSON."""
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    all_headers = {"OpenAI-Beta": "assistants=v2", **(headers or {})}
    if api_key is not None and not any(k.lower() == "authorization" for k in all_headers):
        all_headers["Authorization"] = f"Bearer {api_key}"
    data: bytes | None
    if isinstance(body, Mapping):
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    else:
        data = body.encode() if isinstance(body, str) else body
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, target, body=data, headers=all_headers)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def wait_until_ready(base_url: str, timeout: float = READY_TIMEOUT) -> None:
    """Polls the server until it answers (bounded: fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if call("GET", f"{base_url}/openapi.json", timeout=2).status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the local server at {base_url} did not answer within {timeout} s")
        time.sleep(0.02)


@contextmanager
def running_server(env: Mapping[str, str | None] | None = None) -> Iterator[LocalServer]:
    """A local server on a free loopback port, with ``env`` applied to the process environment while it
    runs (None unsets a variable); the environment is restored when it stops."""
    changes = dict(env or {})
    saved = {key: os.environ.get(key) for key in changes}
    _apply(changes)
    _forget_container_state()
    server = LocalServer("127.0.0.1", 0)
    try:
        server.start()
        _forget_container_state()
        wait_until_ready(server.base_url)
        yield server
    finally:
        server.stop()
        _apply(saved)
        # Another server of this process (the session's) gets its own store and settings back.
        _forget_container_state()


def _forget_container_state() -> None:
    """What the functions cached from the environment (client, settings, keys) is rebuilt from the current
    one: servers in one process share the functions' modules, as containers of one function would not."""
    from threadkit import storage
    from threadkit.edge import auth
    from threadkit.storage import settings

    storage.reset()
    settings.get_settings.cache_clear()
    auth.key_cache().clear()


def _apply(values: Mapping[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_SERVER = pytest.StashKey[LocalServer]()


@pytest.fixture(scope="session")
def live_api(request: pytest.FixtureRequest) -> Iterator[str]:
    """Starts the local server in this process (embedded store, free port), waits until it answers, yields
    its base URL (ending in /v1) and stops it at the end of the session."""
    with running_server(LIVE_ENV) as server:
        request.config.stash[_SERVER] = server
        try:
            yield server.base_url
        finally:
            if _SERVER in request.config.stash:
                del request.config.stash[_SERVER]


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, live_api: str) -> LocalServer:
    """The server behind ``live_api`` (its store, routes and functions)."""
    return request.config.stash[_SERVER]


def new_thread(client: Any) -> str:
    """A thread made by the API through the SDK under test (openai's or portkey-ai's ``beta.threads``)."""
    thread_id: str = client.beta.threads.create().id
    assert thread_id
    return thread_id


def last_body(recorder: ResponseRecorder) -> Any:
    """The body of the last response the SDK under test received."""
    return recorder.exchanges[-1].body


THREAD_KEYS = {"id", "object", "created_at", "metadata", "tool_resources"}


def assert_thread(body: Any, thread: Any, *, sdk_class: type[Any], **expected: Any) -> None:
    """``body`` (the raw answer) is exactly the thread object with the ``expected`` metadata and tool
    resources, and ``thread`` (the SDK's parsed object, of its ``sdk_class``) agrees with it."""
    assert isinstance(thread, sdk_class)
    assert isinstance(body, dict)
    assert set(body) == THREAD_KEYS
    assert is_thread_id(body["id"]), body["id"]
    assert isinstance(body["created_at"], int)
    assert body == {
        "id": body["id"],
        "object": "thread",
        "created_at": body["created_at"],
        "metadata": expected.get("metadata", {}),
        "tool_resources": expected.get("tool_resources", {}),
    }
    assert (thread.id, thread.object, thread.created_at) == (body["id"], "thread", body["created_at"])
    assert thread.metadata == body["metadata"]


# A client's httpx event hooks, and what opens an SDK client (openai's or portkey-ai's) on given ones.
Hooks = dict[str, list[Callable[[Any], None]]]
OpenSdk = Callable[[Hooks], AbstractContextManager[Any]]


def new_paging_thread(open_sdk: OpenSdk, count: int) -> tuple[str, list[str]]:
    """A thread with ``count`` messages ("message 000", ...) made through a client that ``open_sdk`` opens,
    and their ids in creation order; every answer is validated."""
    recorder = ResponseRecorder()
    ids: list[str] = []
    with open_sdk(recorder.httpx_hooks()) as client:
        thread = new_thread(client)
        for n in range(count):
            message_id = client.beta.threads.messages.create(
                thread, role="user", content=f"message {n:03}"
            ).id
            assert message_id
            ids.append(message_id)
    recorder.assert_clean(at_least=count + 1)
    assert len(set(ids)) == count
    return thread, ids


def short_thread_requests(live_api: str, open_sdk: OpenSdk) -> list[Any]:
    """Through a client that ``open_sdk`` opens: a thread, a message in it, the thread deleted. Every answer
    is valid and the three requests go where they should; returns them as the SDK sent them (httpx's)."""
    sent: list[Any] = []
    recorder = ResponseRecorder()
    hooks = recorder.httpx_hooks()
    hooks["request"].append(sent.append)
    with open_sdk(hooks) as client:
        thread = new_thread(client)
        client.beta.threads.messages.create(thread, role="user", content="hi")
        client.beta.threads.delete(thread)
    recorder.assert_clean(at_least=3)
    assert [(r.method, str(r.url)) for r in sent] == [
        ("POST", f"{live_api}/threads"),
        ("POST", f"{live_api}/threads/{thread}/messages"),
        ("DELETE", f"{live_api}/threads/{thread}"),
    ]
    return sent


def create_text_message(client: Any, recorder: ResponseRecorder, thread: str, text: str) -> Any:
    """Creates a user message of ``text`` (a string) through the SDK under test: the raw answer is exactly the
    contract's message, and the SDK's parsed one agrees with it. Returns the SDK's message."""
    message = client.beta.threads.messages.create(thread, role="user", content=text)
    assert_message(last_body(recorder), content=[text_part(text)], thread_id=thread)
    assert message.id == last_body(recorder)["id"]
    assert message.object == "thread.message"
    assert message.thread_id == thread
    assert message.role == "user"
    assert message.status == "completed"
    assert message.completed_at == message.created_at
    assert (message.assistant_id, message.run_id, message.incomplete_at) == (None, None, None)
    assert message.attachments == []
    assert message.metadata == {}
    assert message.content is not None
    assert len(message.content) == 1
    block = message.content[0]
    assert block.type == "text"
    assert block.text.value == text
    assert block.text.annotations == []
    return message


def create_with_parts(
    client: Any,
    recorder: ResponseRecorder,
    thread: str,
    parts: list[Any],
    answered: list[dict[str, Any]],
    **fields: Any,
) -> Any:
    """Creates an assistant message of content ``parts`` (and ``fields``: attachments, metadata) through the
    SDK under test: the raw answer is exactly the contract's message, its content ``answered`` and its
    ``fields`` as given. Returns the SDK's message."""
    message = client.beta.threads.messages.create(thread, role="assistant", content=parts, **fields)
    assert_message(last_body(recorder), thread_id=thread, role="assistant", content=answered, **fields)
    return message


def assert_thread_is_gone(
    client: Any,
    recorder: ResponseRecorder,
    thread_id: str,
    message_id: str,
    not_found: type[Exception],
    *,
    thread_id_first: bool = False,
) -> None:
    """Every thread and message operation on ``thread_id`` through the SDK under test is a 404 "No thread
    found" with no code or param (``not_found``: the SDK's class for it), eight answers in all; ``message_id``
    is one of its messages (or any id): the thread is checked first. openai's message calls take the message
    id first, portkey-ai's (``thread_id_first``) the thread id."""
    threads, messages = client.beta.threads, client.beta.threads.messages
    operations: dict[str, Callable[[], object]] = {
        "retrieve thread": lambda: threads.retrieve(thread_id),
        "update thread": lambda: threads.update(thread_id, metadata={"k": "v"}),
        "delete thread": lambda: threads.delete(thread_id),
        "list messages": lambda: messages.list(thread_id),
        "create message": lambda: messages.create(thread_id, role="user", content="hi"),
        "retrieve message": lambda: messages.retrieve(message_id, thread_id=thread_id),
        "update message": lambda: messages.update(message_id, thread_id=thread_id, metadata={"k": "v"}),
        "delete message": lambda: messages.delete(message_id, thread_id=thread_id),
    }
    if thread_id_first:
        operations["retrieve message"] = lambda: messages.retrieve(thread_id, message_id)
        operations["update message"] = lambda: messages.update(thread_id, message_id, metadata={"k": "v"})
    before = len(recorder.exchanges)
    for name, operation in operations.items():
        with pytest.raises(not_found) as caught:
            operation()
        error: Any = caught.value
        assert error.status_code == 404, name
        assert error.body == thread_not_found(thread_id)["error"], name
        assert (error.code, error.param) == (None, None), name
    assert recorder.statuses()[before:] == [404] * 8
