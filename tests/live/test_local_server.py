"""The local server (``python -m local.serve``): HTTP in, API Gateway events to the functions, and back.

Most tests talk HTTP to one live server in this process (``live_api``); the command's own behaviour (busy
port, Ctrl-C, ``local.openapi --check``) is tested by running it as a subprocess. Loopback only.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import queue
import secrets
import shlex
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from local import openapi, runtime
from local.datastore import DataStoreError, ensure_table, start_store
from local.gateway import Request, make_event, proxy_answer
from local.routes import Match, Route, RouteTable, function_specs
from local.runtime import function_environment
from local.serve import LocalServer
from local.template import ROOT, table_definition, template
from tests.support.api import UNPARSABLE, assert_message, error, text_part, thread_not_found
from tests.support.live import call, running_server, wait_until_ready
from tests.support.seeding import is_thread_id

PYTHON = sys.executable
COMMAND_TIMEOUT = 20.0


def unknown_thread() -> str:
    """A well-formed thread id that no one created (its operations are 404s for the thread)."""
    return "thread_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def create_thread(base: str) -> str:
    """Creates a thread over HTTP, as a client does; returns its id."""
    reply = call("POST", f"{base}/threads", {})
    assert reply.status == 200, reply.body
    thread_id = reply.json["id"]
    assert is_thread_id(thread_id), reply.json
    return str(thread_id)


def messages_url(base: str, thread_id: str) -> str:
    return f"{base}/threads/{thread_id}/messages"


def assert_json_answer(reply: Any) -> None:
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-request-id"]


# --- the operations over HTTP -------------------------------------------------------------------------------


def test_create_list_and_modify_answer_exactly_over_http(live_api: str) -> None:
    thread = create_thread(live_api)
    created = call("POST", messages_url(live_api, thread), {"role": "user", "content": "Hello, world!"})
    assert created.status == 200, created.body
    assert_json_answer(created)
    message = created.json
    assert_message(message, thread_id=thread, content=[text_part("Hello, world!")])

    listed = call("GET", messages_url(live_api, thread) + "?limit=5&order=asc")
    assert listed.status == 200, listed.body
    assert_json_answer(listed)
    assert listed.json == {
        "object": "list",
        "data": [message],
        "first_id": message["id"],
        "last_id": message["id"],
        "has_more": False,
    }

    url = f"{messages_url(live_api, thread)}/{message['id']}"
    modified = call("POST", url, {"metadata": {"k": "v"}})
    assert modified.status == 200, modified.body
    assert_json_answer(modified)
    assert modified.json == {**message, "metadata": {"k": "v"}}
    assert call("GET", messages_url(live_api, thread)).json["data"] == [modified.json]


def _items_of(server: LocalServer, thread_id: str) -> list[dict[str, Any]]:
    """Every item of the thread's partition in the live server's table, whatever its tenant."""
    import boto3

    assert server.store is not None
    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=server.store.endpoint, region_name=server.store.region
    )
    items: list[dict[str, Any]] = client.scan(TableName=server.store.table_name, ConsistentRead=True)["Items"]
    return [item for item in items if item["pk"]["S"].endswith("#" + thread_id)]


def test_message_operations_in_a_thread_never_created_are_404_and_write_nothing(
    live_server: LocalServer, live_api: str
) -> None:
    thread = unknown_thread()
    url = messages_url(live_api, thread)
    replies = [
        call("POST", url, {"role": "user", "content": "Hello, world!"}),
        call("GET", url + "?limit=5&order=asc"),
        call("POST", f"{url}/msg_{'0' * 24}", {"metadata": {"k": "v"}}),
    ]
    for reply in replies:
        assert (reply.status, reply.json) == (404, thread_not_found(thread))
        assert_json_answer(reply)
    assert _items_of(live_server, thread) == []


def test_an_invalid_request_gets_the_contracts_400_from_the_function(live_api: str) -> None:
    reply = call("POST", messages_url(live_api, unknown_thread()), {"role": "system", "content": "x"})
    assert (reply.status, reply.json) == (
        400,
        error(
            "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
            param="role",
            code="invalid_value",
        ),
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/threads/thread_x/messages"),
        ("DELETE", "/v1/threads/thread_x/messages"),
        ("PATCH", "/v1/threads/thread_x/messages/msg_x"),
        ("GET", "/v1/assistants"),
        ("GET", "/v1/threads/thread_x/messages/"),
        ("POST", "/"),
    ],
)
def test_unknown_routes_and_wrong_methods_get_the_404_envelope(live_api: str, method: str, path: str) -> None:
    origin = live_api.removesuffix("/v1")
    reply = call(method, origin + path)
    assert reply.status == 404
    assert_json_answer(reply)
    assert reply.json == error(f"Invalid URL ({method} {path})")
    assert list(reply.json["error"]) == ["message", "type", "param", "code"]


@pytest.fixture
def invocations(live_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Any]]:
    """Records every (function, event, context) the live server invokes, events as they were sent."""
    seen: list[tuple[str, Any, Any]] = []
    for name, function in live_server.functions.items():

        def recorder(event: Any, context: Any, _handler: Any = function.handler, _name: str = name) -> Any:
            seen.append((_name, copy.deepcopy(event), context))
            return _handler(event, context)

        monkeypatch.setattr(function, "handler", recorder)
    return seen


def test_a_binary_body_goes_base64_encoded_and_gets_the_parse_error(
    live_api: str, invocations: list[tuple[str, Any, Any]]
) -> None:
    binary = b"\xff\xfe{\x00\x80 not utf-8"
    thread = unknown_thread()
    reply = call("POST", messages_url(live_api, thread), binary, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.json) == (400, error(UNPARSABLE))

    ((function, event, _),) = invocations
    assert function == "CreateMessageFunction"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == binary
    assert event["pathParameters"] == {"thread_id": thread}
    assert event["requestContext"]["requestId"] == reply.headers["x-request-id"]


def test_handlers_get_a_lambda_context(live_api: str, invocations: list[tuple[str, Any, Any]]) -> None:
    call("GET", messages_url(live_api, unknown_thread()))
    call("PUT", messages_url(live_api, unknown_thread()))
    (list_name, _, list_context), (default_name, event, default_context) = invocations
    assert (list_name, default_name) == ("ListMessagesFunction", "RouteNotFoundFunction")
    assert event["routeKey"] == "$default"
    assert (list_context.function_name, list_context.memory_limit_in_mb) == ("ListMessagesFunction", 1024)
    assert (default_context.function_name, default_context.memory_limit_in_mb) == (
        "RouteNotFoundFunction",
        256,
    )
    assert list_context.invoked_function_arn.endswith(":function:ListMessagesFunction")
    assert list_context.aws_request_id != default_context.aws_request_id
    # Locally nothing stops a function at its Timeout: its context says it has LOCAL_FUNCTION_TIMEOUT.
    assert 10_000 < list_context.get_remaining_time_in_millis() <= runtime.LOCAL_FUNCTION_TIMEOUT * 1000


def test_every_answer_has_its_own_request_id(live_api: str) -> None:
    thread = unknown_thread()
    replies = [
        call("GET", messages_url(live_api, thread)),
        call("GET", messages_url(live_api, thread)),
        call("POST", messages_url(live_api, thread), {"role": "user", "content": "x"}),
        call("PUT", messages_url(live_api, thread)),
        call("GET", f"{live_api}/openapi.json"),
    ]
    ids = [r.headers.get("x-request-id") for r in replies]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)
    for reply in replies[:4]:
        assert reply.headers["apigw-requestid"] == reply.headers["x-request-id"]


def test_fifty_concurrent_requests_all_succeed(live_api: str) -> None:
    thread = create_thread(live_api)

    def create(index: int) -> int:
        reply = call("POST", messages_url(live_api, thread), {"role": "user", "content": f"m{index}"})
        return reply.status

    def list_page(_: int) -> int:
        return call("GET", messages_url(live_api, thread)).status

    with ThreadPoolExecutor(max_workers=50) as pool:
        futures = [pool.submit(create if i % 2 == 0 else list_page, i) for i in range(50)]
        statuses = [f.result(timeout=COMMAND_TIMEOUT) for f in futures]  # a reset would raise here
    assert statuses == [200] * 50

    page = call("GET", messages_url(live_api, thread) + "?limit=100&order=asc").json
    assert sorted(m["content"][0]["text"]["value"] for m in page["data"]) == sorted(
        f"m{i}" for i in range(0, 50, 2)
    )


# --- the event and the answer -------------------------------------------------------------------------------


def test_the_event_has_the_fields_of_a_real_payload_2_event() -> None:
    request = Request(
        "GET",
        "/v1/threads/thread_a%20b/messages?limit=2&tag=x&tag=y&empty=",
        [
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "tests/1"),
            ("X-Multi", "a"),
            ("x-multi", "b"),
            ("Cookie", "a=1; b=2"),
        ],
        source_ip="127.0.0.2",
        port=3000,
        request_id="abcdefghijklmno=",
    )
    route = Route("GET", "/v1/threads/{thread_id}/messages", "ListMessagesFunction")
    match = RouteTable([route]).resolve("GET", request.raw_path)
    assert match is not None
    event = make_event(request, match, now=1795608000.5)
    trace = event["headers"].pop("x-amzn-trace-id")
    assert trace.startswith("Root=1-")
    assert event == {
        "version": "2.0",
        "routeKey": "GET /v1/threads/{thread_id}/messages",
        "rawPath": "/v1/threads/thread_a%20b/messages",
        "rawQueryString": "limit=2&tag=x&tag=y&empty=",
        "cookies": ["a=1", "b=2"],
        "headers": {
            "host": "127.0.0.1:3000",
            "user-agent": "tests/1",
            "x-multi": "a,b",
            "x-forwarded-for": "127.0.0.2",
            "x-forwarded-port": "3000",
            "x-forwarded-proto": "http",
        },
        "queryStringParameters": {"limit": "2", "tag": "x,y", "empty": ""},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": {
                "method": "GET",
                "path": "/v1/threads/thread_a%20b/messages",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.2",
                "userAgent": "tests/1",
            },
            "requestId": "abcdefghijklmno=",
            "routeKey": "GET /v1/threads/{thread_id}/messages",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000500,
        },
        "pathParameters": {"thread_id": "thread_a b"},
        "isBase64Encoded": False,
    }


def test_a_json_body_is_text_and_an_absent_one_is_left_out() -> None:
    match = Match(Route("POST", "/p", "F"), {})
    text = make_event(
        Request("POST", "/p", [("Content-Type", "application/json")], '{"a":"é"}'.encode()), match
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"a":"é"}', False)
    assert text["headers"]["content-length"] == str(len('{"a":"é"}'.encode()))
    untyped = make_event(Request("POST", "/p", [], b"{}"), match)
    assert (untyped["body"], untyped["isBase64Encoded"]) == ("{}", False)
    image = make_event(Request("POST", "/p", [("Content-Type", "image/png")], b"{}"), match)
    assert (image["body"], image["isBase64Encoded"]) == ("e30=", True)
    empty = make_event(Request("GET", "/p", []), match)
    assert "body" not in empty
    assert empty["isBase64Encoded"] is False


def test_the_proxy_response_is_written_back_as_it_is() -> None:
    answer = proxy_answer(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/png", "X-One": "1", "Content-Length": "999"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        },
        "rid=",
    )
    assert answer.status == 201
    assert answer.body == b"\x89PNG"
    assert answer.headers == [
        ("Content-Type", "image/png"),
        ("X-One", "1"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2"),
        ("apigw-requestid", "rid="),
    ]
    inferred = proxy_answer({"hello": "world"}, "rid=")
    assert (inferred.status, json.loads(inferred.body)) == (200, {"hello": "world"})


# --- routes from the template -------------------------------------------------------------------------------


def _with_run_route(tmpl: dict[str, Any]) -> dict[str, Any]:
    """The template plus a function on a route it does not have yet (retrieving a run)."""
    changed = copy.deepcopy(tmpl)
    resources = changed["Resources"]
    assert "RetrieveRunFunction" not in resources
    retrieve = copy.deepcopy(resources["RetrieveMessageFunction"])
    retrieve["Properties"]["Events"] = {
        "Retrieve": {
            "Type": "HttpApi",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "Method": "GET",
                "Path": "/v1/threads/{thread_id}/runs/{run_id}",
            },
        }
    }
    resources["RetrieveRunFunction"] = retrieve
    return changed


def test_a_route_added_to_the_template_is_routed_with_no_other_change() -> None:
    path = "/v1/threads/thread_x/runs/run_y"
    message_path = "/v1/threads/thread_x/messages/msg_y"
    default = Match(Route("ANY", "$default", "RouteNotFoundFunction"), {})
    before = RouteTable.from_template(template())
    assert before.resolve("GET", path) == default

    changed = _with_run_route(template())
    table = RouteTable.from_template(changed)
    match = table.resolve("GET", path)
    assert match is not None
    assert match.route.function == "RetrieveRunFunction"
    assert match.route.route_key == "GET /v1/threads/{thread_id}/runs/{run_id}"
    assert match.path_parameters == {"thread_id": "thread_x", "run_id": "run_y"}
    assert table.resolve("POST", path) == default
    for method in ("GET", "POST", "DELETE"):
        assert table.resolve(method, message_path) == before.resolve(method, message_path)
    assert "RetrieveRunFunction" in function_specs(changed)


def test_route_selection_prefers_exact_methods_and_specific_paths() -> None:
    table = RouteTable(
        [
            Route("ANY", "$default", "Default"),
            Route("ANY", "/v1/{proxy+}", "Greedy"),
            Route("GET", "/v1/threads/{id}", "Param"),
            Route("ANY", "/v1/threads/{id}", "AnyParam"),
            Route("GET", "/v1/threads/special", "Literal"),
        ]
    )

    def function(method: str, path: str) -> tuple[str, dict[str, str]]:
        found = table.resolve(method, path)
        assert found is not None
        return found.route.function, found.path_parameters

    assert function("GET", "/v1/threads/special") == ("Literal", {})
    assert function("GET", "/v1/threads/t1") == ("Param", {"id": "t1"})
    assert function("POST", "/v1/threads/t1") == ("AnyParam", {"id": "t1"})
    assert function("GET", "/v1/threads/t1/more") == ("Greedy", {"proxy": "threads/t1/more"})
    assert function("GET", "/v2/x") == ("Default", {})
    assert RouteTable([Route("GET", "/a", "A")]).resolve("GET", "/b") is None


# --- the environment and the store --------------------------------------------------------------------------


def test_functions_get_the_templates_environment_with_the_local_table(live_server: LocalServer) -> None:
    assert live_server.store is not None
    specs = function_specs(template())
    env = function_environment(template(), specs, live_server.store, {})
    assert env == {
        "TABLE_NAME": live_server.store.table_name,
        "POWERTOOLS_SERVICE_NAME": "messages-api",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": "MessagesApi",
        "TRACING_ENABLED": "false",  # Fn::If on the Tracing parameter's default
    }
    chosen = function_environment(
        template(), specs, live_server.store, {"POWERTOOLS_LOG_LEVEL": "DEBUG", "TABLE_NAME": "other"}
    )
    assert chosen["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert chosen["TABLE_NAME"] == live_server.store.table_name


def test_a_users_endpoint_is_used_and_its_table_created_only_if_missing(live_server: LocalServer) -> None:
    assert live_server.store is not None
    assert live_server.store.embedded
    endpoint = live_server.store.endpoint
    name = "user-table-" + secrets.token_hex(4)
    environ = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": name}
    first = start_store(environ)
    assert (first.embedded, first.created, first.table_name) == (False, True, name)
    assert "created" in first.describe()
    again = start_store(environ)
    assert (again.created, again.endpoint) == (False, endpoint)
    assert "exists" in again.describe()


def test_an_unreachable_endpoint_is_a_plain_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
    environ = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}"}
    with pytest.raises(DataStoreError, match="cannot reach DynamoDB"):
        start_store(environ)


def test_ensure_table_is_idempotent(live_server: LocalServer) -> None:
    import boto3

    assert live_server.store is not None
    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=live_server.store.endpoint, region_name=live_server.store.region
    )
    name = "idempotent-" + secrets.token_hex(4)
    assert ensure_table(client, name, table_definition()) is True
    assert ensure_table(client, name, table_definition()) is False


# --- the OpenAPI document -----------------------------------------------------------------------------------


def test_the_served_document_is_the_committed_one_and_is_up_to_date(live_api: str) -> None:
    reply = call("GET", f"{live_api}/openapi.json")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    served, committed = reply.json, json.loads((ROOT / "openapi.json").read_text())
    # The same document, but for its server: this one, as it runs (see tests/live/test_local_docs.py).
    assert served["servers"][0]["url"] == live_api
    assert {**served, "servers": committed["servers"]} == committed
    check = subprocess.run(
        [PYTHON, "-m", "local.openapi", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_check_fails_with_a_message_when_the_document_is_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    assert openapi.main(["--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert openapi.main(["--output", str(stale)]) == 0
    assert openapi.main(["--check", "--output", str(stale)]) == 0


def test_the_document_is_valid_openapi_3_1_and_documents_the_errors() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"][0]["url"] == "http://127.0.0.1:3000/v1"
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert "ResponseValidationError" not in text
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    operations = {
        (method, path): op for path, item in document["paths"].items() for method, op in item.items()
    }
    routes = RouteTable.from_template(template()).routes
    assert set(operations) == {
        (r.method.lower(), r.path.removeprefix("/v1")) for r in routes if r.path != "$default"
    }
    assert ("post", "/threads/{thread_id}/messages") in operations
    for (method, path), operation in operations.items():
        # Whether 404 is documented is test_every_operation_that_can_answer_404_documents_it's.
        documented = set(operation["responses"])
        # No 422 among them; 409 only where an Idempotency-Key can be in use.
        expected = {"200", "400", "401", "413", "429", "500", "503"} | (
            {"409"} if "409" in documented else set()
        )
        assert documented - {"404"} == expected, (method, path)
        for status in documented - {"200"}:
            assert operation["responses"][status]["content"]["application/json"]["schema"] == error_ref
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    not_found = document["components"]["responses"]["RouteNotFound"]
    assert not_found["content"]["application/json"]["schema"] == error_ref


def test_every_operation_that_can_answer_404_documents_it() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    undocumented = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            # Every operation on a thread is a 404 when the thread does not exist; creating one never is.
            can_404 = "{thread_id}" in path
            if ("404" in operation["responses"]) != can_404:
                undocumented.append((method, path))
    assert undocumented == []


def test_server_url_plus_path_reaches_each_documented_route(live_api: str) -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    server = document["servers"][0]["url"]
    for path, item in document["paths"].items():
        for method in item:
            url = (server + path).replace("http://127.0.0.1:3000/v1", live_api)
            url = url.replace("{thread_id}", unknown_thread()).replace("{message_id}", "msg_" + "0" * 24)
            reply = call(method.upper(), url, {} if method == "post" else None)
            assert not reply.json.get("error", {}).get("message", "").startswith("Invalid URL"), (
                method,
                path,
            )


# --- the command --------------------------------------------------------------------------------------------


def _command_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL_DYNAMODB", "TABLE_NAME")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def test_a_busy_port_is_a_one_line_message_and_exit_1() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [PYTHON, "-m", "local.serve"],
            cwd=ROOT,
            env=_command_env(PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"Port {port}" in lines[0]
    assert "PORT=" in lines[0]
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_the_server_cleanly() -> None:
    process = subprocess.Popen(
        [PYTHON, "-m", "local.serve"],
        cwd=ROOT,
        env=_command_env(PORT="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + COMMAND_TIMEOUT
        base_url = None
        while base_url is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if " at http://" in line:
                base_url = line.split(" at ", 1)[1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1")
        wait_until_ready(base_url)
        curl = shlex.split(next(line for line in output if line.strip().startswith("curl ")))
        headers = dict(curl[i + 1].split(": ", 1) for i, word in enumerate(curl) if word == "-H")
        url = next(word for word in curl if word.startswith("http://"))
        # The printed example works against the running command, as printed.
        created = call("POST", url, curl[curl.index("-d") + 1], headers=headers)
        assert created.status == 200, created.body
        assert created.json["object"] == "thread"

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=COMMAND_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    text = "".join(output)
    assert "Traceback" not in text
    assert "curl -s http://127.0.0.1:" in text
    assert text.rstrip().endswith("Stopped.")


def test_the_printed_curl_example_works_as_it_is(live_server: LocalServer) -> None:
    example = live_server.curl_example()
    assert example is not None
    curl = shlex.split(example)
    headers = dict(curl[i + 1].split(": ", 1) for i, word in enumerate(curl) if word == "-H")
    url = next(word for word in curl if word.startswith("http://"))
    method = "POST" if "-d" in curl else "GET"

    reply = call(method, url, curl[curl.index("-d") + 1] if "-d" in curl else None, headers=headers)

    assert reply.status == 200, reply.body
    assert reply.json["object"] == "thread"
    thread_id = reply.json["id"]
    listed = call("GET", f"{live_server.base_url}/threads/{thread_id}/messages", None, headers=headers)
    assert [m["content"] for m in listed.json["data"]] == [[text_part("Hello, world!")]]


def test_running_server_restores_the_environment() -> None:
    before = os.environ.get("TABLE_NAME")
    with running_server({"TABLE_NAME": "restore-check", "AWS_ENDPOINT_URL_DYNAMODB": None}) as server:
        assert os.environ["TABLE_NAME"] == "restore-check"
        assert server.store is not None
        assert server.store.table_name == "restore-check"
    assert os.environ.get("TABLE_NAME") == before
