"""DynamoDB's faults on the wire: retried within the functions' time budget, then a 429 or a 503 with
Retry-After, and nothing written.

Every operation's DynamoDB calls go through the store's own retries (``threadkit.storage.client.Caller``;
botocore makes one attempt per call). The faults are injected in botocore's ``before-send`` event, where a
request is about to go on the wire: a handler there answers an attempt with DynamoDB's error response (or an
HTML page from a proxy, or raises what the HTTP layer raises on a timeout or a lost connection) instead of
sending it, and counts every attempt. What passes through goes to the embedded DynamoDB in a child process.
The waits between attempts are recorded instead of slept.

What the client sees when the retries run out (docs/contract.md, "Errors"; README, "Retries"):

* throttling (ProvisionedThroughputExceeded, ThrottlingException, RequestLimitExceeded, a transaction
  cancelled for throttling): 429 ``rate_limit_exceeded``;
* DynamoDB failing or unreachable (InternalServerError, ServiceUnavailable, any 5xx, HTML or not, connect and
  read timeouts, refused or reset connections) and a conflicting transaction: 503 ``service_unavailable``;
* both with ``Retry-After``, in the error envelope, and nothing written; never a 500 with a stack. A write
  whose attempt may have reached DynamoDB (a lost answer, a 5xx) is read back before the answer: here it was
  never sent, so the read finds nothing and the 503 stands (``tests/faults/test_outcomes.py`` has the writes
  that did land).
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import create_thread
import delete_message
import delete_thread
import modify_thread
import pytest
import retrieve_message
import retrieve_thread
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.httpsession import URLLib3Session

from tests.support.api import (
    MESSAGE_ROUTE,
    assert_error,
    assert_list_page,
    assert_message,
    checked,
    create_event,
    error,
    list_event,
    message_path,
    modify_event,
    send_create,
    send_list,
    send_modify,
    text_part,
)
from tests.support.api_events import TEST_TENANT, Answer, http_event
from tests.support.embedded import admin_client, embedded_store, functions_on
from tests.support.sam_template import functions, table_definition, template
from tests.support.seeding import is_thread_id
from threadkit import storage
from threadkit.contract.models import CreateMessageRequest, CreateThreadRequest
from threadkit.domain import messages, threads
from threadkit.storage import client, schema, settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RATE_LIMITED = error(
    "Rate limit reached for requests. Please try again shortly.", type="requests", code="rate_limit_exceeded"
)
UNAVAILABLE = error(
    "The server is temporarily unable to handle your request. Please retry shortly.",
    type="server_error",
    code="service_unavailable",
)
ENVELOPES = {429: RATE_LIMITED, 503: UNAVAILABLE}
RETRY_AFTER = "1"
FAULT_TABLE = "faults-test"


# --- the server, the attempts and the waits ---------------------------------------------------------------


ATTEMPTS = 3


@pytest.fixture(scope="module")
def store_endpoint() -> Iterator[str]:
    with embedded_store() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def fault_table(store_endpoint: str) -> Iterator[str]:
    """One table (the template's) for the module; each test works in threads of its own."""
    admin = admin_client(store_endpoint)
    name = FAULT_TABLE
    admin.create_table(TableName=name, **table_definition())
    yield name
    admin.delete_table(TableName=name)


# The deployed number of attempts, and timeouts that fit the handlers' 10 s context yet leave a loaded
# machine's embedded store seconds to answer.
BUDGET = {
    "DYNAMODB_CONNECT_TIMEOUT": "2",
    "DYNAMODB_READ_TIMEOUT": "5",
    "DYNAMODB_MAX_ATTEMPTS": str(ATTEMPTS),
}


@pytest.fixture
def server(
    store_endpoint: str, fault_table: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DynamoDBClient]:
    """The functions on the store's table; yields the tests' own client on it."""
    with functions_on(store_endpoint, fault_table, monkeypatch, BUDGET):
        yield admin_client(store_endpoint)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(client, "pause", recorded.append)
    return recorded


Respond = Callable[[AWSPreparedRequest], AWSResponse]


class Faults:
    """A ``before-send`` handler on the functions' DynamoDB client: counts every attempt of every operation
    (``PutItem``, ``Query`` …), and answers the first ``times`` attempts of one operation with a fault instead
    of sending them."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self._operation: str | None = None
        self._respond: Respond | None = None
        self._left = 0

    def fail(self, operation: str, respond: Respond, *, times: int = 1_000) -> None:
        self.attempts.clear()
        self.bodies.clear()
        self._operation, self._respond, self._left = operation, respond, times

    def __call__(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> Any:
        """``before-send``'s handler: a response (or an exception) instead of sending, or None to send."""
        operation = event_name.rsplit(".", 1)[-1]
        self.attempts[operation] += 1
        body = request.body
        self.bodies.append((operation, json.loads(body) if isinstance(body, bytes | str) else {}))
        if operation != self._operation or self._left <= 0 or self._respond is None:
            return None
        self._left -= 1
        return self._respond(request)


@pytest.fixture
def faults(server: DynamoDBClient) -> Faults:
    handler = Faults()
    client.dynamodb_client().meta.events.register("before-send.dynamodb", handler)
    return handler


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def dynamodb_error(
    status: int, code: str, *, headers: dict[str, str] | None = None, **fields: Any
) -> Respond:
    """DynamoDB's error response, as its JSON protocol writes it."""

    def respond(request: AWSPreparedRequest) -> AWSResponse:
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": f"injected {code}", **fields}
        all_headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": "fault",
            **(headers or {}),
        }
        return AWSResponse(request.url, status, _headers(all_headers), _Body(json.dumps(body).encode()))

    return respond


def gateway_error(status: int) -> Respond:
    """A 5xx that is not DynamoDB's own answer (a proxy's HTML page)."""

    def respond(request: AWSPreparedRequest) -> AWSResponse:
        page = f"<html><body><h1>{status}</h1>Server Error</body></html>".encode()
        return AWSResponse(request.url, status, _headers({"Content-Type": "text/html"}), _Body(page))

    return respond


def _headers(values: dict[str, str]) -> HTTPHeaders:
    headers = HTTPHeaders()
    for name, value in values.items():
        headers[name] = value
    return headers


def raising(exception: type[BotoCoreError]) -> Respond:
    """What botocore's HTTP layer raises when a connection fails or an answer does not come in time."""

    def respond(request: AWSPreparedRequest) -> AWSResponse:
        raise exception(endpoint_url=request.url)

    return respond


def cancelled(reason: str) -> Respond:
    """A transaction cancelled for ``reason`` on its second item."""
    return dynamodb_error(
        400, "TransactionCanceledException", CancellationReasons=[{"Code": "None"}, {"Code": reason}]
    )


@dataclass(frozen=True)
class Fault:
    name: str
    respond: Respond
    status: int
    lost: bool = False
    """The attempt may have reached DynamoDB (its answer lost or a 5xx): a failed write is read back."""


FAULTS = [
    Fault("throughput-exceeded", dynamodb_error(400, "ProvisionedThroughputExceededException"), 429),
    Fault("throttling", dynamodb_error(400, "ThrottlingException"), 429),
    Fault("request-limit", dynamodb_error(400, "RequestLimitExceeded"), 429),
    Fault("internal-server-error", dynamodb_error(500, "InternalServerError"), 503, lost=True),
    Fault("service-unavailable", dynamodb_error(503, "ServiceUnavailable"), 503, lost=True),
    Fault("bad-gateway", gateway_error(502), 503, lost=True),
    Fault("html-500", gateway_error(500), 503, lost=True),
    Fault("read-timeout", raising(ReadTimeoutError), 503, lost=True),
    Fault("connect-timeout", raising(ConnectTimeoutError), 503),
    Fault("unreachable", raising(EndpointConnectionError), 503),
    Fault("connection-reset", raising(ConnectionClosedError), 503, lost=True),
]
# A single-item write that met a transaction in progress on its item.
CONFLICTS = [Fault("transaction-conflict", dynamodb_error(400, "TransactionConflictException"), 503)]
# A cancelled transaction says why per item.
CANCELLATIONS = [
    Fault("cancelled-throttling", cancelled("ThrottlingError"), 429),
    Fault("cancelled-throughput", cancelled("ProvisionedThroughputExceeded"), 429),
    Fault("cancelled-conflict", cancelled("TransactionConflict"), 503),
]
CLEARING = [
    fault
    for fault in FAULTS
    if fault.name in {"throughput-exceeded", "internal-server-error", "read-timeout"}
]


# --- the operations ---------------------------------------------------------------------------------------

BODY = {"role": "user", "content": "Hello, world!"}


def _new_thread() -> str:
    return threads.create_thread(TEST_TENANT, CreateThreadRequest()).id


def _new_message() -> dict[str, str]:
    thread_id = _new_thread()
    message = messages.create_message(TEST_TENANT, thread_id, CreateMessageRequest.model_validate(BODY))
    return {"thread_id": thread_id, "message_id": message.id}


def _message_event(method: str, ids: dict[str, str], body: Any = None) -> dict[str, Any]:
    return http_event(
        method,
        message_path(ids["thread_id"], ids["message_id"]),
        route_key=MESSAGE_ROUTE.format(method=method),
        path_parameters=dict(ids),
        body=body,
    )


def _thread_event(method: str, thread_id: str | None, body: Any = None) -> dict[str, Any]:
    path = "/v1/threads" if thread_id is None else f"/v1/threads/{thread_id}"
    return http_event(
        method,
        path,
        route_key=f"{method} /v1/threads" + ("" if thread_id is None else "/{thread_id}"),
        path_parameters=None if thread_id is None else {"thread_id": thread_id},
        body=body,
    )


def _check_thread(answer: Answer, ids: dict[str, str], metadata: dict[str, str] | None = None) -> None:
    assert answer.status == 200, answer.body
    assert is_thread_id(answer.body["id"])
    assert answer.body["object"] == "thread"
    assert answer.body["metadata"] == (metadata or {})
    if "thread_id" in ids:
        assert answer.body["id"] == ids["thread_id"]


def _check_created_message(answer: Answer, ids: dict[str, str]) -> None:
    assert answer.status == 200, answer.body
    assert_message(answer.body, thread_id=ids["thread_id"], content=[text_part("Hello, world!")])
    listed = send_list(list_event(ids["thread_id"]))
    assert_list_page(listed, [answer.body["id"]], has_more=False)  # stored once, whatever the retries


def _check_thread_with_messages(answer: Answer, ids: dict[str, str]) -> None:
    _check_thread(answer, ids)
    listed = send_list(list_event(answer.body["id"]))
    assert [m["content"] for m in listed.body["data"]] == [[text_part("Hello, world!")]]


def _check_message(answer: Answer, ids: dict[str, str], metadata: dict[str, str] | None = None) -> None:
    assert answer.status == 200, answer.body
    assert answer.body["id"] == ids["message_id"]
    assert_message(
        answer.body, thread_id=ids["thread_id"], content=[text_part("Hello, world!")], metadata=metadata
    )


def _check_deleted(kind: str, key: str) -> Callable[[Answer, dict[str, str]], None]:
    def check(answer: Answer, ids: dict[str, str]) -> None:
        assert (answer.status, answer.body) == (200, {"id": ids[key], "object": kind, "deleted": True})

    return check


@dataclass(frozen=True)
class Operation:
    calls: tuple[str, ...]
    """The DynamoDB calls the operation makes, in order."""
    prepare: Callable[[], dict[str, str]]
    send: Callable[[dict[str, str]], Answer]
    check: Callable[[Answer, dict[str, str]], None]
    """What a success answers."""


OPERATIONS = {
    "create-message": Operation(
        ("TransactWriteItems",),
        lambda: {"thread_id": _new_thread()},
        lambda ids: send_create(create_event(BODY, thread_id=ids["thread_id"])),
        _check_created_message,
    ),
    "list-messages": Operation(
        ("GetItem", "Query"),
        _new_message,
        lambda ids: send_list(list_event(ids["thread_id"])),
        lambda answer, ids: assert_list_page(answer, [ids["message_id"]], has_more=False),
    ),
    "modify-message": Operation(
        ("GetItem", "UpdateItem"),
        _new_message,
        lambda ids: send_modify(
            modify_event(ids["message_id"], {"metadata": {"k": "v"}}, thread_id=ids["thread_id"])
        ),
        lambda answer, ids: _check_message(answer, ids, {"k": "v"}),
    ),
    "retrieve-message": Operation(
        ("TransactGetItems",),
        _new_message,
        lambda ids: checked(retrieve_message.lambda_handler, _message_event("GET", ids)),
        _check_message,
    ),
    "delete-message": Operation(
        ("TransactWriteItems",),
        _new_message,
        lambda ids: checked(delete_message.lambda_handler, _message_event("DELETE", ids)),
        _check_deleted("thread.message.deleted", "message_id"),
    ),
    "create-thread": Operation(
        ("PutItem",),
        dict,
        lambda ids: checked(create_thread.lambda_handler, _thread_event("POST", None, {})),
        _check_thread,
    ),
    "create-thread-with-messages": Operation(
        ("TransactWriteItems",),
        dict,
        lambda ids: checked(create_thread.lambda_handler, _thread_event("POST", None, {"messages": [BODY]})),
        _check_thread_with_messages,
    ),
    "retrieve-thread": Operation(
        ("GetItem",),
        lambda: {"thread_id": _new_thread()},
        lambda ids: checked(retrieve_thread.lambda_handler, _thread_event("GET", ids["thread_id"])),
        _check_thread,
    ),
    "modify-thread": Operation(
        ("UpdateItem",),
        lambda: {"thread_id": _new_thread()},
        lambda ids: checked(
            modify_thread.lambda_handler, _thread_event("POST", ids["thread_id"], {"metadata": {"k": "v"}})
        ),
        lambda answer, ids: _check_thread(answer, ids, {"k": "v"}),
    ),
    "delete-thread": Operation(
        ("UpdateItem",),
        lambda: {"thread_id": _new_thread()},
        lambda ids: checked(delete_thread.lambda_handler, _thread_event("DELETE", ids["thread_id"])),
        _check_deleted("thread.deleted", "thread_id"),
    ),
}
CALL_SITES = [
    (name, index, call)
    for name, operation in OPERATIONS.items()
    for index, call in enumerate(operation.calls)
]


def _faults_for(call: str) -> list[Fault]:
    if call.startswith("Transact"):
        return FAULTS + CANCELLATIONS
    return FAULTS + (CONFLICTS if call in {"PutItem", "UpdateItem"} else [])


def table_state(admin: DynamoDBClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = admin.scan(TableName=FAULT_TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


# --- retries run out ----------------------------------------------------------------------------------------

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})


def expected_attempts(steps: Operation, failing: int, fault: Fault) -> dict[str, int]:
    """The calls made: those before the failing one once each, the failing one as often as the store
    retries, none after it; and for a write whose attempts may have reached DynamoDB, one read of its item."""
    call = steps.calls[failing]
    attempts: Counter[str] = Counter(steps.calls[:failing])
    attempts[call] += ATTEMPTS
    if fault.lost and call in WRITES:
        attempts["GetItem"] += 1
    return dict(attempts)


@pytest.mark.parametrize(
    ("operation", "failing", "fault"),
    [
        pytest.param(name, index, fault, id=f"{name}-{call}-{fault.name}")
        for name, index, call in CALL_SITES
        for fault in _faults_for(call)
    ],
)
def test_a_fault_that_outlasts_the_retries_is_429_or_503_with_retry_after_and_writes_nothing(
    server: DynamoDBClient, faults: Faults, waits: list[float], operation: str, failing: int, fault: Fault
) -> None:
    steps = OPERATIONS[operation]
    ids = steps.prepare()
    before = table_state(server)
    faults.fail(steps.calls[failing], fault.respond)

    answer = steps.send(ids)

    assert_error(answer, fault.status, ENVELOPES[fault.status])
    assert answer.headers.get("retry-after") == RETRY_AFTER
    assert "x-should-retry" not in answer.headers  # nothing was written: a retry is safe
    assert dict(faults.attempts) == expected_attempts(steps, failing, fault)
    assert len(waits) == ATTEMPTS - 1
    assert all(0 <= wait <= client.MAX_BACKOFF for wait in waits)
    assert table_state(server) == before


# --- a fault that clears ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "failing", "fault"),
    [
        pytest.param(name, index, fault, id=f"{name}-{call}-{fault.name}")
        for name, index, call in CALL_SITES
        for fault in CLEARING
    ],
)
def test_a_fault_that_clears_on_the_second_attempt_is_a_normal_200(
    server: DynamoDBClient, faults: Faults, waits: list[float], operation: str, failing: int, fault: Fault
) -> None:
    steps = OPERATIONS[operation]
    ids = steps.prepare()
    call = steps.calls[failing]
    faults.fail(call, fault.respond, times=1)

    answer = steps.send(ids)

    assert answer.status == 200, answer.body
    assert "retry-after" not in answer.headers
    steps.check(answer, ids)
    assert faults.attempts[call] == 2
    assert len(waits) == 1


def write_then_lose_the_answer(request: AWSPreparedRequest) -> AWSResponse:
    """DynamoDB carries the attempt out; its answer is lost on the way back."""
    session = URLLib3Session()
    try:
        session.send(request)
    finally:
        session.close()
    raise ReadTimeoutError(endpoint_url=request.url)


@pytest.mark.parametrize("times", [1, ATTEMPTS], ids=["first-answer-lost", "every-answer-lost"])
@pytest.mark.parametrize("operation", ["create-thread", "create-message", "create-thread-with-messages"])
def test_a_create_whose_answer_was_lost_on_the_wire_is_created_once(
    server: DynamoDBClient, faults: Faults, waits: list[float], operation: str, times: int
) -> None:
    steps = OPERATIONS[operation]
    ids = steps.prepare()
    before = table_state(server)
    faults.fail(steps.calls[0], write_then_lose_the_answer, times=times)

    answer = steps.send(ids)

    steps.check(answer, ids)
    added = [item for item in table_state(server) if item not in before]
    kinds = sorted("thread" if item["sk"]["S"] == schema.THREAD_SK else "message" for item in added)
    expected = {
        "create-thread": ["thread"],
        "create-message": ["message"],
        "create-thread-with-messages": ["message", "thread"],
    }[operation]
    assert kinds == expected  # once, whatever the retries


@pytest.mark.parametrize("operation", ["create-message", "delete-message", "create-thread-with-messages"])
def test_a_retried_transaction_sends_the_same_client_request_token(
    server: DynamoDBClient, faults: Faults, waits: list[float], operation: str
) -> None:
    # DynamoDB carries a TransactWriteItems out once per ClientRequestToken (for ten minutes), and so does
    # the embedded store: a retry of a transaction that was carried out, whose answer was lost, changes
    # nothing.
    steps = OPERATIONS[operation]
    ids = steps.prepare()
    faults.fail("TransactWriteItems", raising(ReadTimeoutError), times=1)

    answer = steps.send(ids)

    assert answer.status == 200, answer.body
    tokens = [body.get("ClientRequestToken") for call, body in faults.bodies if call == "TransactWriteItems"]
    assert len(tokens) == 2
    assert tokens[0]
    assert tokens[0] == tokens[1]


# --- real timeouts and real refusals ------------------------------------------------------------------------


@pytest.fixture
def endpoint_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], Faults]:
    """Points the functions at ``http://127.0.0.1:<port>`` with short timeouts (the test waits them out);
    returns the attempt counter on the new client."""

    def point(port: int) -> Faults:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("DYNAMODB_CONNECT_TIMEOUT", "0.2")
        monkeypatch.setenv("DYNAMODB_READ_TIMEOUT", "0.2")
        monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", str(ATTEMPTS))
        settings.get_settings.cache_clear()
        storage.reset()
        counter = Faults()
        client.dynamodb_client().meta.events.register("before-send.dynamodb", counter)
        return counter

    return point


def test_an_endpoint_that_never_answers_is_503_after_the_retries(
    endpoint_at: Callable[[int], Faults], waits: list[float]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the kernel's queue; nothing ever reads or answers them
        attempts = endpoint_at(silent.getsockname()[1])

        answer = OPERATIONS["retrieve-thread"].send({"thread_id": "thread_" + "R" * 24})

    assert_error(answer, 503, UNAVAILABLE)
    assert answer.headers.get("retry-after") == RETRY_AFTER
    assert dict(attempts.attempts) == {"GetItem": ATTEMPTS}
    assert len(waits) == ATTEMPTS - 1


def test_a_write_to_an_endpoint_that_never_answers_says_its_outcome_is_unknown(
    endpoint_at: Callable[[int], Faults], waits: list[float]
) -> None:
    # Every attempt was sent and never answered, and the read that would tell is not answered either.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        attempts = endpoint_at(silent.getsockname()[1])

        answer = OPERATIONS["modify-thread"].send({"thread_id": "thread_" + "R" * 24})

    assert answer.status == 503
    assert answer.body["error"]["code"] == "outcome_unknown"
    assert answer.headers["x-should-retry"] == "true"  # setting metadata twice is harmless
    assert dict(attempts.attempts) == {"UpdateItem": ATTEMPTS, "GetItem": ATTEMPTS}


def test_an_endpoint_that_refuses_connections_is_503_after_the_retries(
    endpoint_at: Callable[[int], Faults], waits: list[float]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it once the probe is closed
    attempts = endpoint_at(port)

    answer = OPERATIONS["modify-thread"].send({"thread_id": "thread_" + "R" * 24})

    assert_error(answer, 503, UNAVAILABLE)  # a refused connection sent nothing: nothing to find out
    assert answer.headers.get("retry-after") == RETRY_AFTER
    assert dict(attempts.attempts) == {"UpdateItem": ATTEMPTS}


def test_the_functions_timeouts_leave_room_for_a_call_at_its_worst() -> None:
    # The deadline keeps every request inside its function's timeout (tests/faults/test_retries.py); the
    # timeouts must leave room for at least two whole calls at their worst, the second being a write's
    # read-back.
    timeout = template()["Globals"]["Function"]["Timeout"]
    settings.get_settings.cache_clear()
    budget = settings.get_settings()
    worst_call = (
        ATTEMPTS * (budget.dynamodb_connect_timeout + budget.dynamodb_read_timeout) + client.MAX_BACKOFF
    )
    assert timeout == 10
    for name, resource in functions().items():
        own = resource["Properties"].get("Timeout", timeout)
        assert own >= timeout, name
        if name.startswith("Create"):
            assert own >= 2 * worst_call + client.ANSWER_RESERVE, name
