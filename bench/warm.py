"""Part 2: the time of a warm call, in-process, with DynamoDB answered by botocore's Stubber.

First each scenario runs once against moto's in-process mock, on a thread of 111 messages, and the DynamoDB
calls it makes are recorded: the parameters and the parsed responses. Then, on the container's client
(``threadkit.storage.client.dynamodb_client()``) under a Stubber, the function and its baseline are called in
turn, ``calls`` times each after a warm-up, each call with a fresh copy of the event, the exact recorded
responses queued and the API-key cache primed (so no key read). The baseline makes the same DynamoDB calls
with the plain client (the recorded parameters) and returns a JSON string of what they answered: the
difference is what the function adds on top of its DynamoDB requests (routing, validation, models,
serialization, logging).
"""

from __future__ import annotations

import copy
import importlib
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.stub import Stubber
from botocore.validate import validate_parameters
from moto import mock_aws

from bench import fixtures
from threadkit import storage
from threadkit.storage import client, settings

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

THREAD_MESSAGES = 111  # more than the largest page plus one
WARMUP_CALLS = 50


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    function: str
    event: dict[str, Any]
    target_ms: float


def scenarios() -> list[Scenario]:
    thread_id = fixtures.event_thread_id()
    return [
        Scenario("create", "create message", "create_message", fixtures.event("create_message"), 1.0),
        Scenario(
            "list_20",
            "list of 20",
            "list_messages",
            fixtures.event("list_messages", thread_id=thread_id, query={"limit": "20"}),
            1.0,
        ),
        Scenario("modify", "modify message", "modify_message", fixtures.event("modify_message"), 1.0),
        Scenario(
            "list_100",
            "list of 100",
            "list_messages",
            fixtures.event("list_messages", thread_id=thread_id, query={"limit": "100"}),
            5.0,
        ),
    ]


@dataclass(frozen=True)
class Call:
    """One DynamoDB call: the client method, its parameters, and the parsed response."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]


@dataclass
class WarmResult:
    key: str
    title: str
    target_ms: float
    calls: int
    dynamodb_calls: list[str] = field(default_factory=list)
    function_ms: list[float] = field(default_factory=list)
    baseline_ms: list[float] = field(default_factory=list)
    function_cpu_ms: list[float] = field(default_factory=list)
    baseline_cpu_ms: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def function_median(self) -> float:
        return statistics.median(self.function_ms)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_ms)

    @property
    def difference(self) -> float:
        return self.function_median - self.baseline_median

    @property
    def cpu_difference(self) -> float:
        """The same difference in thread CPU time: what other processes on the machine cannot inflate."""
        return statistics.median(self.function_cpu_ms) - statistics.median(self.baseline_cpu_ms)

    def as_json(self) -> dict[str, object]:
        summary: dict[str, object] = {
            "key": self.key,
            "title": self.title,
            "calls": self.calls,
            "target_ms_above_baseline": self.target_ms,
            "dynamodb_calls": self.dynamodb_calls,
            "error": self.error,
        }
        if self.function_ms and self.baseline_ms:
            summary |= {
                "function_median_ms": self.function_median,
                "baseline_median_ms": self.baseline_median,
                "difference_ms": self.difference,
                "function_cpu_median_ms": statistics.median(self.function_cpu_ms),
                "baseline_cpu_median_ms": statistics.median(self.baseline_cpu_ms),
                "cpu_difference_ms": self.cpu_difference,
                "function_p90_ms": _percentile(self.function_ms, 0.9),
                "baseline_p90_ms": _percentile(self.baseline_ms, 0.9),
                "pass": self.difference <= self.target_ms,
            }
        return summary


@dataclass
class WarmResults:
    scenarios: list[WarmResult]

    def as_json(self) -> dict[str, object]:
        return {"scenarios": [result.as_json() for result in self.scenarios]}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class _Recorder:
    """Records the DynamoDB calls a client makes (botocore's event hooks)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._methods = {api: method for method, api in client.meta.method_to_api_mapping.items()}
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self.calls: list[Call] = []
        client.meta.events.register("provide-client-params.dynamodb", self._params)
        client.meta.events.register("after-call.dynamodb", self._response)

    def _params(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        self._pending.append((self._methods[model.name], copy.deepcopy(params)))

    def _response(self, parsed: dict[str, Any], model: OperationModel, **_: Any) -> None:
        method, params = self._pending.pop(0)
        assert self._methods[model.name] == method
        self.calls.append(Call(method, params, copy.deepcopy(parsed)))

    def take(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls

    def close(self) -> None:
        self._client.meta.events.unregister("provide-client-params.dynamodb", self._params)
        self._client.meta.events.unregister("after-call.dynamodb", self._response)


class _Stubber(Stubber):
    """botocore's Stubber, validating each distinct response once rather than at every ``add_response``
    (validating a page of 101 items takes milliseconds, and every call queues the same response objects)."""

    def __init__(self, client: DynamoDBClient) -> None:
        super().__init__(client)
        self._validated: set[int] = set()

    def _validate_operation_response(self, operation_name: str, service_response: dict[str, Any]) -> None:
        if id(service_response) in self._validated:
            return
        shape = self.client.meta.service_model.operation_model(operation_name).output_shape
        response = {k: v for k, v in service_response.items() if k != "ResponseMetadata"}
        if shape is not None:
            validate_parameters(response, shape)
        self._validated.add(id(service_response))


def _handler(function: str) -> Handler:
    handler: Handler = importlib.import_module(function).lambda_handler
    return handler


def _record(cases: list[Scenario]) -> dict[str, list[Call]]:
    """Each scenario's DynamoDB calls, made for real against moto's in-process mock."""
    recorded: dict[str, list[Call]] = {}
    with mock_aws():
        storage.reset()
        dynamodb = client.dynamodb_client()
        fixtures.create_table(dynamodb)
        fixtures.prime_key_cache()
        fixtures.reset_event_thread(dynamodb, [fixtures.event_message_id()])
        create = _handler("create_message")
        for _ in range(THREAD_MESSAGES - 1):
            answer = create(fixtures.event("create_message"), fixtures.FakeContext())
            assert answer["statusCode"] == 200, answer
        recorder = _Recorder(dynamodb)
        try:
            for case in cases:
                answer = _handler(case.function)(fixtures.copy_event(case.event), fixtures.FakeContext())
                if answer["statusCode"] != 200:
                    raise RuntimeError(f"{case.title}: answered {answer['statusCode']}: {answer['body']}")
                recorded[case.key] = recorder.take()
        finally:
            recorder.close()
    storage.reset()
    return recorded


def _baseline(client: DynamoDBClient, calls: list[Call]) -> Handler:
    """A handler that makes ``calls`` with the plain client and returns the last answer as JSON."""
    bound = [(getattr(client, call.method), call.params) for call in calls]

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("body"):
            json.loads(event["body"])
        answer: dict[str, Any] = {}
        for method, params in bound:
            answer = method(**params)
        payload = answer.get("Items") or answer.get("Attributes") or answer.get("Item") or {}
        return {"statusCode": 200, "body": json.dumps(payload)}

    return handler


def _timed_call(
    stubber: Stubber, handler: Handler, case: Scenario, calls: list[Call], context: fixtures.FakeContext
) -> tuple[float, float]:
    """One call: wall-clock and thread CPU milliseconds. Everything around it (queueing the responses,
    priming the key cache, copying the event, checking the answer) is outside the clocks."""
    for call in calls:
        stubber.add_response(call.method, call.response)
    fixtures.prime_key_cache()
    event = fixtures.copy_event(case.event)
    started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
    answer = handler(event, context)
    elapsed_cpu, elapsed = time.thread_time_ns() - started_cpu, time.perf_counter_ns() - started
    if answer["statusCode"] != 200:
        raise RuntimeError(f"{case.title}: answered {answer['statusCode']}: {answer.get('body')}")
    stubber.assert_no_pending_responses()
    return elapsed / 1e6, elapsed_cpu / 1e6


def _measure_case(
    case: Scenario, recorded: list[Call], calls: int, client: DynamoDBClient, context: fixtures.FakeContext
) -> WarmResult:
    result = WarmResult(case.key, case.title, case.target_ms, calls)
    result.dynamodb_calls = [call.method for call in recorded]
    sides = [
        (_handler(case.function), result.function_ms, result.function_cpu_ms),
        (_baseline(client, recorded), result.baseline_ms, result.baseline_cpu_ms),
    ]
    try:
        with _Stubber(client) as stubber:
            for index in range(WARMUP_CALLS + calls):
                # Alternate which goes first, so that neither always follows the other.
                for handler, wall, cpu in sides if index % 2 else reversed(sides):
                    elapsed, elapsed_cpu = _timed_call(stubber, handler, case, recorded, context)
                    if index >= WARMUP_CALLS:
                        wall.append(elapsed)
                        cpu.append(elapsed_cpu)
    except Exception as exc:  # reported in the table; the other scenarios still run
        result.error = f"{type(exc).__name__}: {exc}"[:500]
        for _, wall, cpu in sides:
            wall.clear()
            cpu.clear()
    return result


def measure(calls: int, progress: Callable[[str], None]) -> WarmResults:
    cases = scenarios()
    settings.get_settings.cache_clear()
    progress("warm calls: recording each scenario's DynamoDB calls against moto")
    recorded = _record(cases)
    dynamodb = client.dynamodb_client()
    context = fixtures.FakeContext()
    results = []
    for case in cases:
        progress(f"warm calls: {case.title}, {calls:,} calls each")
        results.append(_measure_case(case, recorded[case.key], calls, dynamodb, context))
    storage.reset()
    return WarmResults(results)
