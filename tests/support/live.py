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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.serve import LocalServer
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


def assert_thread(body: Any, thread: Any, **expected: Any) -> None:
    """``body`` (the raw answer) is exactly the thread object with the ``expected`` metadata and tool
    resources, and ``thread`` (the SDK's parsed object) agrees with it."""
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
