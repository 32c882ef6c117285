"""The openai SDK's retries never make a message twice, even when the store answers late.

The openai SDK retries a 5xx (and a 408, 409, 429) twice by default, with no Idempotency-Key: each retry is a
new create. So a create whose write landed must never be answered with an error. Here the local server's
store sits behind a proxy that carries some writes out at once and hands their answers back later than the
functions wait, on every attempt; the functions must find out that the write landed and answer 200. 16
clients create at once; every create succeeds, and the thread holds exactly one message per create call.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from openai import OpenAI

from tests.support.embedded import embedded_store
from tests.support.live import LIVE_API_KEY, LIVE_ENV, running_server
from tests.support.proxy import LateAnswers, late_answers

CREATES = 24
CLIENTS = 16
EVERY = 8  # one create in EVERY has all its answers late
READ_TIMEOUT = 1.0
DELAY = 2.5 * READ_TIMEOUT  # held longer than the functions wait, however busy the machine


class EveryNthCreate:
    """Holds back every answer to one create message in ``EVERY`` (each of its attempts, told apart from
    other creates by the transaction's ClientRequestToken)."""

    def __init__(self) -> None:
        self._chosen: dict[str, bool] = {}
        self._count = itertools.count()
        self._lock = threading.Lock()

    def __call__(self, operation: str, request: dict[str, Any]) -> bool:
        if operation != "TransactWriteItems":
            return False
        token = str(request.get("ClientRequestToken"))
        with self._lock:
            if token not in self._chosen:
                self._chosen[token] = next(self._count) % EVERY == 0
            return self._chosen[token]


@pytest.fixture
def late_server() -> Iterator[tuple[str, LateAnswers]]:
    with embedded_store() as store, late_answers(store, EveryNthCreate(), DELAY) as (proxy, log):
        env = {
            **LIVE_ENV,
            "AWS_ENDPOINT_URL_DYNAMODB": proxy,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "TABLE_NAME": "sdk-retries",
            "DYNAMODB_CONNECT_TIMEOUT": "10",
            "DYNAMODB_READ_TIMEOUT": str(READ_TIMEOUT),
            "DYNAMODB_MAX_ATTEMPTS": "3",
        }
        with running_server(env) as server:
            yield server.base_url, log


def test_sdk_retries_with_late_store_answers_make_exactly_one_message_per_create(
    late_server: tuple[str, LateAnswers],
) -> None:
    base_url, log = late_server
    sdk = OpenAI(base_url=base_url, api_key=LIVE_API_KEY, timeout=300)  # default max_retries: 2
    thread = sdk.beta.threads.create()

    def create(number: int) -> str:
        message = sdk.beta.threads.messages.create(thread.id, role="user", content=f"message {number}")
        return message.id

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        created = list(pool.map(create, range(CREATES)))  # an error surfaced to a caller fails the test here

    listed = [m.id for m in sdk.beta.threads.messages.list(thread.id, order="asc", limit=100)]
    assert len(set(created)) == CREATES
    assert sorted(listed) == sorted(created)  # nothing lost, nothing twice
    held = log.held.count("TransactWriteItems")
    assert held >= 3 * (CREATES // EVERY)  # every attempt of those creates was answered late
    assert log.passed.count("GetItem") >= CREATES // EVERY  # and each was found out by reading it back
