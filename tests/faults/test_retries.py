"""The store's calls: retries within the budget, what each failed attempt means, and the deadline.

``client.Caller`` is driven here with a scripted stand-in for a botocore client: each attempt either answers
or raises what botocore raises. Waits are recorded instead of slept, and the clock is the test's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from threadkit.storage import client, faults, settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def caller(dynamodb: object) -> client.Caller:
    """A caller on a stand-in for botocore's client."""
    return client.Caller(cast("DynamoDBClient", dynamodb))


def client_error(code: str, status: int = 400, **fields: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    response.update(fields)
    return ClientError(response, "Operation")


def html_500() -> ClientError:
    """What botocore makes of a 500 whose body is an HTML page (a proxy's, or a broken endpoint's)."""
    response: Any = {"Error": {"Code": "500", "Message": "<html>oops</html>"}}
    response["ResponseMetadata"] = {"HTTPStatusCode": 500}
    return ClientError(response, "Operation")


class Scripted:
    """A client whose ``put_item`` and ``transact_write_items`` play a script: an exception to raise, or an
    answer to return, per attempt."""

    def __init__(self, *script: Exception | dict[str, Any]) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def _next(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    put_item = _next
    transact_write_items = _next
    get_item = _next


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(client, "pause", recorded.append)
    return recorded


@pytest.fixture(autouse=True)
def _three_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("DYNAMODB_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("DYNAMODB_READ_TIMEOUT", "1")
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def read_timeout() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url="http://dynamodb")


# --- what each failure means -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "error", "uncertain"),
    [
        pytest.param(read_timeout(), faults.Unavailable, True, id="read-timeout"),
        pytest.param(
            ConnectionClosedError(endpoint_url="x"), faults.Unavailable, True, id="connection-closed"
        ),
        pytest.param(client_error("InternalServerError", 500), faults.Unavailable, True, id="internal-error"),
        pytest.param(client_error("ServiceUnavailable", 503), faults.Unavailable, True, id="unavailable"),
        pytest.param(html_500(), faults.Unavailable, True, id="html-500"),
        pytest.param(
            client_error("TransactionInProgressException"), faults.Unavailable, True, id="in-progress"
        ),
        pytest.param(ConnectTimeoutError(endpoint_url="x"), faults.Unavailable, False, id="connect-timeout"),
        pytest.param(EndpointConnectionError(endpoint_url="x"), faults.Unavailable, False, id="refused"),
        pytest.param(client_error("TransactionConflictException"), faults.Unavailable, False, id="conflict"),
        pytest.param(client_error("ThrottlingException"), faults.Throttled, False, id="throttling"),
        pytest.param(
            client_error("ProvisionedThroughputExceededException"), faults.Throttled, False, id="throughput"
        ),
    ],
)
def test_a_write_that_keeps_failing_is_retried_then_says_whether_it_may_have_been_carried_out(
    waits: list[float], failure: Exception, error: type[faults.StoreError], uncertain: bool
) -> None:
    dynamodb = Scripted(failure, failure, failure)

    with pytest.raises(faults.StoreError) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert type(raised.value) is error
    assert raised.value.uncertain is uncertain
    assert len(dynamodb.calls) == 3
    assert len(waits) == 2


@pytest.mark.parametrize(
    "failure", [read_timeout(), client_error("InternalServerError", 500), html_500()], ids=str
)
def test_a_read_is_never_uncertain(waits: list[float], failure: Exception) -> None:
    dynamodb = Scripted(failure, failure, failure)

    with pytest.raises(faults.Unavailable) as raised:
        caller(dynamodb)("get_item", TableName="t", Key={})

    assert raised.value.uncertain is False


def test_one_lost_attempt_makes_the_whole_write_uncertain_even_if_the_last_one_was_refused(
    waits: list[float],
) -> None:
    dynamodb = Scripted(read_timeout(), EndpointConnectionError(endpoint_url="x"), client_error("Throttling"))

    with pytest.raises(faults.StoreError) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert raised.value.uncertain is True


@pytest.mark.parametrize(
    "code", ["ValidationException", "ResourceNotFoundException", "AccessDeniedException"]
)
def test_a_bug_or_a_missing_table_is_not_retried(waits: list[float], code: str) -> None:
    dynamodb = Scripted(client_error(code))

    with pytest.raises(faults.StoreError) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert type(raised.value) is faults.StoreError
    assert len(dynamodb.calls) == 1
    assert waits == []


def test_a_failed_condition_is_final_and_carries_what_it_found(waits: list[float]) -> None:
    found = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    dynamodb = Scripted(client_error("ConditionalCheckFailedException", Item=found))

    with pytest.raises(faults.ConditionFailed) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert (raised.value.failed, raised.value.found, raised.value.uncertain) == ((0,), {0: found}, False)
    assert len(dynamodb.calls) == 1


def test_a_failed_condition_after_a_lost_attempt_is_marked_uncertain(waits: list[float]) -> None:
    # The first attempt may have been carried out: its own write then fails the retry's condition.
    dynamodb = Scripted(read_timeout(), client_error("ConditionalCheckFailedException"))

    with pytest.raises(faults.ConditionFailed) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert raised.value.uncertain is True


@pytest.mark.parametrize(
    ("reasons", "error", "failed"),
    [
        (["None", "ConditionalCheckFailed"], faults.ConditionFailed, (1,)),
        (["ConditionalCheckFailed", "None"], faults.ConditionFailed, (0,)),
        (["None", "ThrottlingError"], faults.Throttled, ()),
        (["ProvisionedThroughputExceeded", "None"], faults.Throttled, ()),
        (["None", "TransactionConflict"], faults.Unavailable, ()),
        (["ValidationError", "None"], faults.StoreError, ()),
    ],
)
def test_a_cancelled_transaction_means_what_its_reasons_say(
    waits: list[float], reasons: list[str], error: type[faults.StoreError], failed: tuple[int, ...]
) -> None:
    cancelled = client_error(
        "TransactionCanceledException", CancellationReasons=[{"Code": code} for code in reasons]
    )
    dynamodb = Scripted(cancelled, cancelled, cancelled)

    with pytest.raises(faults.StoreError) as raised:
        caller(dynamodb)("transact_write_items", write=True, TransactItems=[])

    assert type(raised.value) is error
    if failed:
        assert isinstance(raised.value, faults.ConditionFailed)
        assert raised.value.failed == failed


def test_a_fault_that_clears_is_a_success(waits: list[float]) -> None:
    dynamodb = Scripted(client_error("InternalServerError", 500), {"ok": True})

    assert caller(dynamodb)("put_item", write=True, TableName="t", Item={}) == {"ok": True}
    assert len(waits) == 1


def test_a_transaction_keeps_one_client_request_token_for_all_its_attempts(waits: list[float]) -> None:
    # DynamoDB carries out a TransactWriteItems once per token (for ten minutes): a retry of one that was
    # carried out, whose answer was lost, changes nothing.
    dynamodb = Scripted(read_timeout(), read_timeout(), {})

    caller(dynamodb)("transact_write_items", write=True, TransactItems=[])

    tokens = {call["ClientRequestToken"] for call in dynamodb.calls}
    assert len(dynamodb.calls) == 3
    assert len(tokens) == 1
    assert all(len(token) >= 32 for token in tokens)


def test_waits_are_full_jitter_doubling_and_longer_for_throttling(
    waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "threadkit.storage.client.random.random", lambda: 1.0
    )  # the longest wait of each draw
    caller(Scripted(read_timeout(), read_timeout(), {}))("put_item", TableName="t", Item={})
    throttled = client_error("ThrottlingException")
    caller(Scripted(throttled, throttled, {}))("put_item", TableName="t", Item={})

    assert waits == [
        client.BACKOFF_BASE,
        client.BACKOFF_BASE * 2,
        client.THROTTLED_BACKOFF_BASE,
        client.THROTTLED_BACKOFF_BASE * 2,
    ]


# --- the deadline -------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("threadkit.storage.client.time.monotonic", fake)
    return fake


class Slow(Scripted):
    """Each attempt takes ``seconds`` of the test's clock, then times out."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        super().__init__(*([read_timeout()] * 10))
        self.clock = clock
        self.seconds = seconds

    def _slow(self, **params: Any) -> dict[str, Any]:
        self.clock.now += self.seconds
        return self._next(**params)

    put_item = _slow
    get_item = _slow


def test_no_attempt_starts_that_could_end_after_the_deadline(waits: list[float], clock: Clock) -> None:
    # One attempt takes at most 0.5 + 1 s; 0.25 s are kept to answer. With 3.5 s left, the first attempt
    # (1.5 s of clock) leaves 2 s: a second fits (wait ~0), a third does not.
    dynamodb = Slow(clock, 1.5)
    with client.deadline(3.5), pytest.raises(faults.Unavailable) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert len(dynamodb.calls) == 2
    assert raised.value.uncertain is True


def test_without_time_for_one_attempt_nothing_is_sent(waits: list[float], clock: Clock) -> None:
    dynamodb = Slow(clock, 0.01)
    with client.deadline(1.7), pytest.raises(faults.Unavailable) as raised:
        caller(dynamodb)("put_item", write=True, TableName="t", Item={})

    assert dynamodb.calls == []
    assert raised.value.uncertain is False


def test_without_a_deadline_every_attempt_runs(waits: list[float], clock: Clock) -> None:
    dynamodb = Slow(clock, 100.0)
    with pytest.raises(faults.Unavailable):
        caller(dynamodb)("get_item", TableName="t", Key={})

    assert len(dynamodb.calls) == 3


def test_the_deadline_is_per_request_and_ends_with_it(clock: Clock) -> None:
    assert client.seconds_left() is None
    with client.deadline(5.0):
        clock.now += 2
        assert client.seconds_left() == pytest.approx(3.0)
    assert client.seconds_left() is None


def test_the_functions_client_makes_one_attempt_per_call_with_the_settings_timeouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DYNAMODB_CONNECT_TIMEOUT", "0.25")
    monkeypatch.setenv("DYNAMODB_READ_TIMEOUT", "2.5")
    settings.get_settings.cache_clear()

    config = vars(client.new_client().meta.config)

    assert config["retries"] == {"mode": "standard", "total_max_attempts": 1}
    assert (config["connect_timeout"], config["read_timeout"]) == (0.25, 2.5)


def test_the_production_budget_is_the_documented_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT", "DYNAMODB_MAX_ATTEMPTS"):
        monkeypatch.delenv(name)
    settings.get_settings.cache_clear()
    budget = settings.get_settings()

    assert (budget.dynamodb_connect_timeout, budget.dynamodb_read_timeout, budget.dynamodb_max_attempts) == (
        0.5,
        1.0,
        3,
    )
