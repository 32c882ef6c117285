"""The functions' DynamoDB client, and the one way the store calls it: ``call``.

``call`` makes a DynamoDB call with its own retries, inside the invocation's time budget, and raises what is
left of a failure as the store's errors (``faults.py``). For a write it also says whether the write may have
been carried out although the call failed (``StoreError.uncertain``), so that the store can find out (a
consistent read of the item) before the client is answered.

The retries are ours, not botocore's (its client makes one attempt per call), for three reasons: each attempt
is classified on its own (a read timeout after the request was sent is not a refused connection), a
transaction keeps one ``ClientRequestToken`` across attempts (so DynamoDB carries it out at most once), and
no attempt starts that could run past the function's deadline.

Budget (settings.py; the defaults are for DynamoDB from Lambda in the same region):

* DynamoDB answers item operations in single-digit milliseconds, with a 99th percentile in the tens of
  milliseconds; a transaction is a few times slower, and the largest one this API sends (4 MB) still takes
  well under half a second to be carried out. A ``read_timeout`` of 1 s is therefore some fifty times the
  usual tail: it fires only when a connection or a partition is in trouble, and then a fresh attempt on a new
  connection usually succeeds at once. Opening a connection (TCP and TLS) takes milliseconds in the region;
  ``connect_timeout`` 0.5 s cuts a lost handshake short instead of waiting for the kernel's 1 s SYN
  retransmission.
* 3 attempts, the first included, separated by full-jitter waits of up to 50 ms, 100 ms (throttling: up to
  0.5 s, 1 s, so that the table's capacity can catch up). One call therefore takes at most
  3 x (0.5 s + 1 s) + 1.5 s = 6 s, and usually one attempt of a few milliseconds.
* The deadline: the edge sets it from the Lambda context (``deadline``) for each request. An attempt starts
  only while its worst case (its wait, connect and read timeouts) still ends ``ANSWER_RESERVE`` seconds
  before the function's timeout; otherwise the call fails at once as ``Unavailable``, with nothing sent. So
  whatever DynamoDB does, the function answers in time, in the API's envelope, and a write that may have been
  carried out is checked within the same budget.

A function's timeout (template.yaml) is 10 s (15 s for the creates, which make up to five calls with an
``Idempotency-Key``): two calls at their very worst, or any number of ordinary ones.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from threadkit.storage import faults
from threadkit.storage.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BACKOFF_BASE = 0.05
THROTTLED_BACKOFF_BASE = 0.5
MAX_BACKOFF = 2.0
ANSWER_RESERVE = 0.25
"""Seconds kept at the end of an invocation to answer the client."""

_deadline: ContextVar[float | None] = ContextVar("dynamodb_deadline", default=None)


@contextmanager
def deadline(seconds_left: float | None) -> Iterator[None]:
    """Within this block, no attempt starts that could end later than ``seconds_left`` from now minus
    ``ANSWER_RESERVE`` (None: no deadline)."""
    token = _deadline.set(None if seconds_left is None else time.monotonic() + seconds_left)
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_left() -> float | None:
    """Seconds until the current deadline (None when there is none)."""
    end = _deadline.get()
    return None if end is None else end - time.monotonic()


def pause(seconds: float) -> None:
    """Waits between attempts (a seam: tests record the waits instead)."""
    time.sleep(seconds)


def backoff(attempt: int, fault: faults.Fault) -> float:
    """The wait after failed attempt number ``attempt`` (1-based): full jitter, doubling."""
    base = THROTTLED_BACKOFF_BASE if fault is faults.Fault.THROTTLED else BACKOFF_BASE
    ceiling: float = min(MAX_BACKOFF, base * 2 ** (attempt - 1))
    return random.random() * ceiling  # noqa: S311 (jitter, not secrets)


def _fits(wait: float) -> bool:
    """Whether an attempt that starts after ``wait`` seconds ends, at worst, before the deadline's reserve."""
    left = seconds_left()
    if left is None:
        return True
    settings = get_settings()
    worst = wait + settings.dynamodb_connect_timeout + settings.dynamodb_read_timeout
    return left - worst >= ANSWER_RESERVE


class Caller:
    """Makes DynamoDB calls on one client (by default the container's, ``dynamodb_client()``) with retries
    within the budget: see ``__call__``. The store and the key store take one; tests pass their own client."""

    def __init__(self, dynamodb: DynamoDBClient | None = None, *, max_attempts: int | None = None) -> None:
        self._dynamodb = dynamodb
        self._max_attempts = max_attempts

    def __call__(self, operation: str, *, write: bool = False, **params: Any) -> dict[str, Any]:
        """``operation`` (a client method name, e.g. ``"put_item"``) with ``params``, retried within the
        budget.

        Raises ``faults.StoreError`` (a subclass saying what happened); for a write, ``uncertain`` tells
        whether an attempt may have been carried out. A ``transact_write_items`` keeps one
        ``ClientRequestToken`` for all its attempts.
        """
        if operation == "transact_write_items":
            params.setdefault("ClientRequestToken", uuid.uuid4().hex)
        method = getattr(self._dynamodb or dynamodb_client(), operation)
        attempts = self._max_attempts or get_settings().dynamodb_max_attempts
        uncertain = False
        number = 0
        wait = 0.0
        while True:
            if not _fits(wait):
                raise faults.Unavailable("no time left for another attempt", uncertain=uncertain)
            if wait:
                pause(wait)
            number += 1
            try:
                answer: dict[str, Any] = method(**params)
                return answer
            except (ClientError, BotoCoreError) as exc:
                attempt = faults.classify(exc)
                uncertain = uncertain or (write and attempt.fault is faults.Fault.LOST)
                if attempt.fault not in faults.RETRYABLE or number >= attempts:
                    raise faults.final_error(attempt, exc, uncertain=uncertain) from exc
                wait = backoff(number, attempt.fault)


call = Caller()
"""Calls on the container's client: what the functions use."""


def new_client() -> DynamoDBClient:
    """A DynamoDB client with the settings' timeouts, making one attempt per call (``call`` retries)."""
    settings = get_settings()
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
        tcp_keepalive=True,
        # A Lambda container handles one request at a time; the local server and the tests run many threads.
        max_pool_connections=32,
    )
    with _BUILD:
        client: DynamoDBClient = _session().client("dynamodb", config=config)
    return client


# One client per container, built once even when threads ask for it at the same time. A client is
# thread-safe once built, but building clients is not, on one session (boto3's default session included):
# this module builds its clients one at a time, on a session of its own. The client is kept for the
# environment it was built for (endpoint, region, timeouts): in Lambda that never changes; a process that
# changes it (the tests, several local servers) gets a client for the new one.
_BUILD = threading.RLock()
_clients: dict[tuple[str, ...], DynamoDBClient] = {}


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def _environment_key() -> tuple[str, ...]:
    settings = get_settings()
    return (
        settings.dynamodb_endpoint,
        settings.region,
        str(settings.dynamodb_connect_timeout),
        str(settings.dynamodb_read_timeout),
    )


def dynamodb_client() -> DynamoDBClient:
    """The container's DynamoDB client, built once for its environment (``reset`` forgets it)."""
    key = _environment_key()
    with _BUILD:
        found = _clients.get(key)
        if found is None:
            found = _clients.setdefault(key, new_client())
        return found


def reset() -> None:
    """Forgets the cached clients (tests, after switching mocks)."""
    with _BUILD:
        _clients.clear()
