"""Portkey's open-source gateway (``@portkey-ai/gateway`` 1.15.2 from npm) in front of the live local server.

The gateway is installed from ``tests/support/portkey_gateway/package.json`` and ``package-lock.json`` (``npm
ci``, run by ``make test`` before the tests, which reach no network; ``@hono/node-server`` is pinned to 1.14.1
by an npm override, as newer ones turn the gateway's 200s into 500s).
``tests/support/portkey_gateway/start.mjs`` starts it bound to 127.0.0.1 only (its CLI has no host option) and
refuses any outgoing connection outside loopback; the test checks the listening socket. Clients (the
portkey-ai SDK in its custom-host form, and the openai SDK with the same headers) send ``x-portkey-provider:
openai``, ``x-portkey-custom-host: <live_api>`` and ``Authorization: Bearer LIVE_API_KEY`` (the key the
gateway passes on to the provider, here our server); what they receive must be what the server answered,
intact: status, body, headers the contract promises, error classes. Threads are made by the API, through the
gateway; the thread's whole life goes through it too. A spy on the live server checks what arrives after the
gateway: the key, on every request.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from portkey_ai import Portkey
from portkey_ai._vendor import openai as vendored_openai

from local.gateway import Answer, Request
from local.serve import LocalServer
from tests.support import live
from tests.support.api import EMPTY_LIST, assert_message, message_not_found, text_part, thread_not_found
from tests.support.live import LIVE_API_KEY, MISSING, call, last_body, new_thread
from tests.support.sam_template import SUPPORT
from tests.support.spec import ResponseRecorder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GATEWAY_DIR = SUPPORT / "portkey_gateway"
GATEWAY_VERSION = "1.15.2"
NODE_SERVER_VERSION = "1.14.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
BEARER = {"Authorization": f"Bearer {LIVE_API_KEY}"}


# --- the gateway process ------------------------------------------------------------------------------------


def _installed_version(package: str) -> str | None:
    manifest = GATEWAY_DIR / "node_modules" / package / "package.json"
    if not manifest.exists():
        return None
    version = json.loads(manifest.read_text())["version"]
    return str(version)


def ensure_installed() -> None:
    """The pinned gateway must be installed already (``make test`` runs ``npm ci`` in
    tests/support/portkey_gateway): the tests reach no network."""
    found = (_installed_version("@portkey-ai/gateway"), _installed_version("@hono/node-server"))
    if found != (GATEWAY_VERSION, NODE_SERVER_VERSION):
        pytest.fail(f"the pinned gateway is not installed in {GATEWAY_DIR} (found {found}): run `make test`")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening_addresses(port: int) -> list[str]:
    """The local addresses of every TCP socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(_decode_address(address, width))
    return found


def _decode_address(hex_address: str, width: int) -> str:
    raw = bytes.fromhex(hex_address)
    if width == 8:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_ready(gateway: Gateway, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if gateway.process.poll() is not None:
            pytest.fail(f"the gateway exited with {gateway.process.returncode}:\n{gateway.output()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=2)
            try:
                connection.request("GET", "/")
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the gateway did not answer within {timeout} s:\n{gateway.output()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the gateway test needs Node.js 20+ and npm")
    ensure_installed()
    port = free_port()
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [node, str(GATEWAY_DIR / "start.mjs"), f"--port={port}", "--headless"],
            cwd=GATEWAY_DIR,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GATEWAY_HOST": "127.0.0.1"},
        )
    running = Gateway(process, port, log)
    try:
        wait_until_ready(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    assert "loopback-guard: refused" not in running.output(), running.output()


@pytest.fixture
def portkey(gateway: Gateway, live_api: str, recorder: ResponseRecorder) -> Iterator[Portkey]:
    """The portkey-ai SDK in its custom-host form, pointed at the gateway."""
    with closing(
        Portkey(
            api_key=LIVE_API_KEY,
            provider="openai",
            custom_host=live_api,
            base_url=gateway.base_url,
            Authorization=LIVE_API_KEY,  # sent as "Bearer ...": what the gateway passes on to the provider
            http_client=httpx.Client(event_hooks=recorder.httpx_hooks(), timeout=30.0),
        )
    ) as portkey:
        yield portkey


@pytest.fixture
def client(gateway: Gateway, live_api: str, recorder: ResponseRecorder) -> Iterator[openai.OpenAI]:
    """The openai SDK pointed at the gateway, with the gateway's routing headers."""
    with openai.OpenAI(
        base_url=gateway.base_url,
        api_key=LIVE_API_KEY,
        max_retries=0,
        timeout=30.0,
        default_headers={"x-portkey-provider": "openai", "x-portkey-custom-host": live_api},
        http_client=openai.DefaultHttpxClient(event_hooks=recorder.httpx_hooks()),
    ) as client:
        yield client


def direct(live_api: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The same call straight to the server (no gateway), to compare with."""
    reply = call(method, live_api + path, body, headers=BEARER)
    return reply.status, reply.json


@pytest.fixture
def arrivals(live_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> list[Request]:
    """Every request that reaches the live server during the test (after the gateway), as it arrived."""
    seen: list[Request] = []
    answer: Callable[[Request], tuple[Answer, str]] = live_server.answer

    def spy(request: Request) -> tuple[Answer, str]:
        seen.append(request)
        return answer(request)

    monkeypatch.setattr(live_server, "answer", spy)
    return seen


def header(request: Request, name: str) -> list[str]:
    return [value for key, value in request.headers if key.lower() == name]


# --- the process --------------------------------------------------------------------------------------------


def test_gateway_listens_on_loopback_only(gateway: Gateway) -> None:
    addresses = listening_addresses(gateway.port)
    assert addresses, f"nothing listens on port {gateway.port}"
    assert set(addresses) == {"127.0.0.1"}, addresses


def test_gateway_is_the_pinned_one(gateway: Gateway) -> None:
    assert _installed_version("@portkey-ai/gateway") == GATEWAY_VERSION
    assert _installed_version("@hono/node-server") == NODE_SERVER_VERSION
    lock = json.loads((GATEWAY_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@portkey-ai/gateway"]["version"] == GATEWAY_VERSION
    assert lock["packages"]["node_modules/@hono/node-server"]["version"] == NODE_SERVER_VERSION


# --- portkey-ai SDK through the gateway ---------------------------------------------------------------------


def test_portkey_create_list_update(portkey: Portkey, recorder: ResponseRecorder, live_api: str) -> None:
    thread = new_thread(portkey)
    messages = portkey.beta.threads.messages

    first = messages.create(thread, role="user", content="Hello through the gateway, é ✓")
    assert_message(
        last_body(recorder), thread_id=thread, content=[text_part("Hello through the gateway, é ✓")]
    )
    created_body = last_body(recorder)

    parts = [
        {"type": "text", "text": "parts"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    answered = [
        text_part("parts"),
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "auto"}},
    ]
    second = live.create_with_parts(
        portkey,
        recorder,
        thread,
        parts,
        answered,
        attachments=[{"file_id": "file-abc", "tools": [{"type": "code_interpreter"}]}],
        metadata={"via": "gateway"},
    )

    listed = messages.list(thread, order="asc")
    assert [m.id for m in listed.data or []] == [first.id, second.id]
    assert last_body(recorder) == direct(live_api, "GET", f"/threads/{thread}/messages?order=asc")[1]
    assert last_body(recorder)["data"][0] == created_body

    assert second.id
    updated = messages.update(thread, second.id, metadata={"via": "gateway", "n": "2"})
    assert updated.metadata == {"via": "gateway", "n": "2"}
    status, body = direct(live_api, "GET", f"/threads/{thread}/messages?limit=1")
    assert status == 200
    assert body["data"] == [last_body(recorder)]
    assert all(e.status == 200 for e in recorder.exchanges)


def test_portkey_paging_through_the_gateway(portkey: Portkey, live_api: str) -> None:
    thread = new_thread(portkey)
    ids = [
        portkey.beta.threads.messages.create(thread, role="user", content=f"m{n}").id or "" for n in range(23)
    ]
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(10):  # bound
        if cursor is None:
            page = portkey.beta.threads.messages.list(thread, order="desc", limit=5)
        else:
            page = portkey.beta.threads.messages.list(thread, order="desc", limit=5, after=cursor)
        pages.append([m.id or "" for m in page.data or []])
        if not page.has_more:
            break
        cursor = page.last_id
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [i for p in pages for i in p] == ids[::-1]
    before = portkey.beta.threads.messages.list(thread, order="asc", before=ids[10], limit=4)
    assert [m.id for m in before.data or []] == ids[6:10]
    assert before.has_more is True


def test_portkey_errors_through_the_gateway(
    portkey: Portkey, recorder: ResponseRecorder, live_api: str
) -> None:
    thread = new_thread(portkey)
    recorder.exchanges.clear()
    with pytest.raises(vendored_openai.BadRequestError) as bad:
        portkey.beta.threads.messages.create(thread, role="system", content="hi")
    assert (bad.value.status_code, bad.value.code, bad.value.param) == (400, "invalid_value", "role")
    assert (
        last_body(recorder)
        == direct(live_api, "POST", f"/threads/{thread}/messages", {"role": "system", "content": "hi"})[1]
    )

    with pytest.raises(vendored_openai.NotFoundError) as missing:
        portkey.beta.threads.messages.update(thread, MISSING, metadata={"k": "v"})
    assert missing.value.status_code == 404
    assert missing.value.body == message_not_found(MISSING)["error"]

    with pytest.raises(vendored_openai.BadRequestError) as limit:
        portkey.beta.threads.messages.list(thread, limit=101)
    assert (limit.value.code, limit.value.param) == ("integer_above_max_value", "limit")
    assert recorder.statuses() == [400, 404, 400]


# --- openai SDK through the gateway -------------------------------------------------------------------------


def test_openai_sdk_auto_pagination_through_the_gateway(
    client: openai.OpenAI, recorder: ResponseRecorder, live_api: str
) -> None:
    thread = new_thread(client)
    ids = [client.beta.threads.messages.create(thread, role="user", content=f"m{n}").id for n in range(30)]
    recorder.exchanges.clear()
    orders: list[tuple[Literal["asc", "desc"], list[str]]] = [("asc", ids), ("desc", ids[::-1])]
    for order, expected in orders:
        pager = client.beta.threads.messages.list(thread, order=order, limit=10)
        seen = [m.id for m in _bounded(pager, 100)]
        assert seen == expected
    assert [len(e.body["data"]) for e in recorder.exchanges] == [10, 10, 10, 10, 10, 10]
    assert [e.body["has_more"] for e in recorder.exchanges] == [True, True, False] * 2

    empty = client.beta.threads.messages.list(new_thread(client))
    assert empty.data == []
    assert last_body(recorder) == EMPTY_LIST


def _bounded(pager: Any, bound: int) -> list[Any]:
    seen = []
    for item in pager:
        seen.append(item)
        assert len(seen) <= bound, "the pager does not stop"
    return seen


def test_openai_sdk_errors_through_the_gateway(client: openai.OpenAI, recorder: ResponseRecorder) -> None:
    thread = new_thread(client)
    recorder.exchanges.clear()
    with pytest.raises(openai.BadRequestError) as bad:
        client.beta.threads.messages.create(thread, role="user", content="hi", metadata={"k": "v" * 513})
    assert (bad.value.code, bad.value.param) == ("string_above_max_length", "metadata.k")
    assert bad.value.request_id == bad.value.response.headers["x-request-id"]

    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.update(MISSING, thread_id=thread, metadata={})

    with pytest.raises(openai.BadRequestError) as prefix:
        client.beta.threads.messages.list("not-a-thread")
    assert (prefix.value.code, prefix.value.param) == ("invalid_value", "thread_id")
    assert recorder.statuses() == [400, 404, 400]


def test_update_through_the_gateway_writes_nothing_on_404(client: openai.OpenAI, live_api: str) -> None:
    thread = new_thread(client)
    created = client.beta.threads.messages.create(thread, role="user", content="hi", metadata={"k": "v"})
    other = new_thread(client)
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.threads.messages.update(created.id, thread_id=other, metadata={"k": "w"})
    assert caught.value.body == message_not_found(created.id)["error"]
    status, body = direct(live_api, "GET", f"/threads/{thread}/messages")
    assert status == 200
    assert [m["metadata"] for m in body["data"]] == [{"k": "v"}]


# --- threads through the gateway ----------------------------------------------------------------------------


def test_portkey_thread_lifecycle_through_the_gateway(
    portkey: Portkey, recorder: ResponseRecorder, live_api: str
) -> None:
    """Create a thread (with a message), create / list / retrieve / delete messages, retrieve / update /
    delete the thread, then 404s: every answer as the server gives it directly."""
    threads, messages = portkey.beta.threads, portkey.beta.threads.messages

    thread = threads.create(messages=[{"role": "user", "content": "first, é ✓"}], metadata={"via": "gateway"})
    assert thread.id
    thread_id = thread.id
    created_thread = last_body(recorder)
    assert created_thread == {
        "id": thread_id,
        "object": "thread",
        "created_at": thread.created_at,
        "metadata": {"via": "gateway"},
        "tool_resources": {},
    }
    assert direct(live_api, "GET", f"/threads/{thread_id}") == (200, created_thread)

    listed = messages.list(thread_id)
    (first,) = last_body(recorder)["data"]
    assert_message(first, thread_id=thread_id, content=[text_part("first, é ✓")])
    assert [m.id for m in listed.data or []] == [first["id"]]

    created = messages.create(thread_id, role="assistant", content="second", metadata={"n": "2"})
    assert created.id
    created_body = last_body(recorder)
    assert_message(
        created_body,
        thread_id=thread_id,
        role="assistant",
        content=[text_part("second")],
        metadata={"n": "2"},
    )
    listed = messages.list(thread_id, order="asc")
    assert [m.id for m in listed.data or []] == [first["id"], created.id]
    assert last_body(recorder) == direct(live_api, "GET", f"/threads/{thread_id}/messages?order=asc")[1]

    retrieved = messages.retrieve(thread_id, created.id)
    assert retrieved.id == created.id
    assert last_body(recorder) == created_body
    assert direct(live_api, "GET", f"/threads/{thread_id}/messages/{created.id}") == (200, created_body)

    deleted = messages.delete(created.id, thread_id=thread_id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "thread.message.deleted", True)
    assert last_body(recorder) == {"id": created.id, "object": "thread.message.deleted", "deleted": True}
    with pytest.raises(vendored_openai.NotFoundError) as gone:
        messages.retrieve(thread_id, created.id)
    assert gone.value.body == message_not_found(created.id)["error"]
    assert direct(live_api, "GET", f"/threads/{thread_id}/messages/{created.id}") == (
        404,
        message_not_found(created.id),
    )

    assert threads.retrieve(thread_id).id == thread_id
    assert last_body(recorder) == created_thread
    updated = threads.update(thread_id, metadata={"via": "gateway", "stage": "2"})
    assert updated.metadata == {"via": "gateway", "stage": "2"}
    assert direct(live_api, "GET", f"/threads/{thread_id}") == (200, last_body(recorder))

    removed = threads.delete(thread_id)
    assert (removed.id, removed.object, removed.deleted) == (thread_id, "thread.deleted", True)
    assert last_body(recorder) == {"id": thread_id, "object": "thread.deleted", "deleted": True}

    live.assert_thread_is_gone(
        portkey, recorder, thread_id, first["id"], vendored_openai.NotFoundError, thread_id_first=True
    )
    assert direct(live_api, "GET", f"/threads/{thread_id}/messages") == (404, thread_not_found(thread_id))


def test_openai_sdk_thread_lifecycle_through_the_gateway(
    client: openai.OpenAI, recorder: ResponseRecorder, live_api: str
) -> None:
    threads, messages = client.beta.threads, client.beta.threads.messages
    thread = threads.create(messages=[{"role": "user", "content": "hi"}])
    assert direct(live_api, "GET", f"/threads/{thread.id}") == (200, last_body(recorder))
    (initial,) = messages.list(thread.id).data
    created = messages.create(thread.id, role="user", content="second")
    assert messages.retrieve(created.id, thread_id=thread.id) == created
    assert [m.id for m in messages.list(thread.id)] == [created.id, initial.id]
    assert messages.delete(created.id, thread_id=thread.id).deleted is True
    assert last_body(recorder) == {"id": created.id, "object": "thread.message.deleted", "deleted": True}
    assert [m.id for m in messages.list(thread.id)] == [initial.id]
    assert threads.update(thread.id, metadata={"k": "v"}).metadata == {"k": "v"}
    assert threads.retrieve(thread.id).metadata == {"k": "v"}
    assert threads.delete(thread.id).deleted is True
    with pytest.raises(openai.NotFoundError) as caught:
        messages.list(thread.id)
    assert caught.value.body == thread_not_found(thread.id)["error"]
    with pytest.raises(openai.NotFoundError) as caught:
        threads.retrieve(thread.id)
    assert caught.value.body == thread_not_found(thread.id)["error"]
    with pytest.raises(openai.NotFoundError) as caught:
        messages.create("thread_0AbCdEfGhIjKlMnOpQrStUvW", role="user", content="hi")
    assert caught.value.body == thread_not_found("thread_0AbCdEfGhIjKlMnOpQrStUvW")["error"]


# --- the key, after the gateway -----------------------------------------------------------------------------


def test_the_key_reaches_the_server_through_the_gateway(
    portkey: Portkey, client: openai.OpenAI, arrivals: list[Request]
) -> None:
    """Both SDKs, through the gateway: every request that arrives carries ``Authorization: Bearer
    LIVE_API_KEY``, so turning keys on is configuring the server with it."""
    thread = new_thread(portkey)
    portkey.beta.threads.messages.create(thread, role="user", content="hi")
    client.beta.threads.messages.list(thread)
    client.beta.threads.delete(thread)
    assert [(r.method, r.raw_path) for r in arrivals] == [
        ("POST", "/v1/threads"),
        ("POST", f"/v1/threads/{thread}/messages"),
        ("GET", f"/v1/threads/{thread}/messages"),
        ("DELETE", f"/v1/threads/{thread}"),
    ]
    for request in arrivals:
        assert header(request, "authorization") == [f"Bearer {LIVE_API_KEY}"], request.headers
