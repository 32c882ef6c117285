"""The local server cannot be hung or tricked: malformed framing is a 400 in the envelope, too large a body a
413, too long a URL a 414, a request that never finishes a 408; each within a bounded time, and none of them
reaches a function (no message is created).

These talk raw HTTP/1.1 over a socket, since no client library would send such requests.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from local import wire
from tests.support.live import LIVE_API_KEY, call

ANSWER_WITHIN = 60.0  # seconds a refusal may take on a loaded machine (it takes milliseconds)


@pytest.fixture
def thread(live_api: str) -> Iterator[tuple[str, str]]:
    """A thread of the live server: (its messages path, its messages URL)."""
    created = call("POST", f"{live_api}/threads", {})
    assert created.status == 200
    url = f"{live_api}/threads/{created.json['id']}/messages"
    yield urlsplit(url).path, url
    assert call("GET", url).json["data"] == [], "a refused request created a message"


def exchange(live_api: str, raw: bytes, *, shut_write: bool = False) -> tuple[int, dict[str, Any]]:
    """Sends ``raw`` on a new connection (then half-closes it, if asked) and reads the whole answer."""
    parts = urlsplit(live_api)
    with socket.create_connection((parts.hostname, parts.port), timeout=ANSWER_WITHIN) as sock:
        sock.sendall(raw)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection without an answer: {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk
            body += chunk
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def post(path: str, headers: list[str], body: bytes = b"") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {LIVE_API_KEY}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


MESSAGE = b'{"role": "user", "content": "hi"}'


def envelope(status: int, body: dict[str, Any], code: str) -> None:
    assert list(body) == ["error"]
    assert list(body["error"]) == ["message", "type", "param", "code"]
    assert (body["error"]["type"], body["error"]["param"], body["error"]["code"]) == (
        "invalid_request_error",
        None,
        code,
    )


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(b"-1\r\n" + MESSAGE + b"\r\n0\r\n\r\n", id="minus-one"),
        pytest.param(b"-5\r\nhello\r\n0\r\n\r\n", id="minus-five"),
        pytest.param(b"zz\r\nhello\r\n0\r\n\r\n", id="not-hex"),
        pytest.param(b"21\r\n" + MESSAGE + b"XX\r\n0\r\n\r\n", id="chunk-longer-than-said"),
    ],
)
def test_a_malformed_chunk_is_a_400(live_api: str, thread: tuple[str, str], chunks: bytes) -> None:
    path, _ = thread
    status, body = exchange(live_api, post(path, ["Transfer-Encoding: chunked"], chunks))

    assert status == 400
    envelope(status, body, "bad_request")


@pytest.mark.parametrize(
    "lengths",
    [
        pytest.param(["Content-Length: 5", "Content-Length: 33"], id="conflicting"),
        pytest.param(["Content-Length: -1"], id="negative"),
        pytest.param(["Content-Length: ten"], id="not-a-number"),
        pytest.param(["Content-Length: 33", "Transfer-Encoding: chunked"], id="both-framings"),
    ],
)
def test_an_invalid_content_length_is_a_400(
    live_api: str, thread: tuple[str, str], lengths: list[str]
) -> None:
    path, _ = thread
    status, body = exchange(live_api, post(path, lengths, MESSAGE))

    assert status == 400
    envelope(status, body, "bad_request")


def test_a_body_cut_short_and_closed_is_a_400_and_creates_nothing(
    live_api: str, thread: tuple[str, str]
) -> None:
    path, _ = thread
    status, body = exchange(
        live_api, post(path, [f"Content-Length: {len(MESSAGE) + 10}"], MESSAGE), shut_write=True
    )

    assert status == 400
    envelope(status, body, "bad_request")


def test_too_large_a_body_is_a_413_whether_declared_or_chunked(
    live_api: str, thread: tuple[str, str]
) -> None:
    path, _ = thread
    declared = exchange(live_api, post(path, [f"Content-Length: {11 * 1024 * 1024}"]))
    block = b"a" * (1024 * 1024)
    chunked_body = (b"100000\r\n" + block + b"\r\n") * 11 + b"0\r\n\r\n"
    chunked = exchange(live_api, post(path, ["Transfer-Encoding: chunked"], chunked_body))

    for status, body in (declared, chunked):
        assert status == 413
        envelope(status, body, "request_too_large")


def test_too_long_a_url_is_a_414(live_api: str) -> None:
    path = urlsplit(live_api).path + "/threads/" + "x" * 70_000
    raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

    status, body = exchange(live_api, raw)

    assert status == 414
    envelope(status, body, "uri_too_long")


def test_a_request_that_never_finishes_is_a_408(
    live_api: str, thread: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The body is announced and never sent: the read gives up after READ_TIMEOUT (shortened here).
    monkeypatch.setattr(wire, "READ_TIMEOUT", 0.5)
    path, _ = thread

    status, body = exchange(live_api, post(path, ["Content-Length: 33"], b'{"role"'))

    assert status == 408
    envelope(status, body, "request_timeout")


def test_after_all_that_the_server_still_answers(live_api: str, thread: tuple[str, str]) -> None:
    path, url = thread
    status, body = exchange(
        live_api, post(path, [f"Content-Length: {len(MESSAGE)}", "Connection: close"], MESSAGE)
    )

    assert status == 200
    assert body["object"] == "thread.message"
    assert call("DELETE", f"{url}/{body['id']}").status == 200
