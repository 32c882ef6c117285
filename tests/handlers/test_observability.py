"""What a request leaves for operators: a structured log line with the request id and EMF metrics. Secrets
and message content never reach the logs. (Tracing, and that it costs nothing when off: test_deploy.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import create_message
import pytest

from tests.support.api_events import TEST_API_KEY, call, http_event
from tests.support.seeding import make_thread
from threadkit.edge import observability

THREAD = "thread_" + "O" * 24
SECRET_TEXT = "my bank password is hunter2"


@pytest.fixture
def info_logs(table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """INFO logs for the test (the suite runs at CRITICAL), set after the other fixtures."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    level = observability.logger.log_level
    observability.logger.setLevel("INFO")
    yield
    observability.logger.setLevel(level)


def _formatted(caplog: pytest.LogCaptureFixture) -> str:
    """The log lines as the function's JSON formatter writes them."""
    formatter = observability.logger.registered_formatter
    return "\n".join(formatter.format(record) for record in caplog.records)


def _lines(output: str) -> list[dict[str, Any]]:
    found = []
    for line in output.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


@pytest.mark.usefixtures("info_logs")
def test_a_request_logs_one_line_with_its_request_id_and_emits_metrics(
    table: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    make_thread(THREAD)
    event = http_event(
        "POST",
        f"/v1/threads/{THREAD}/messages",
        route_key="POST /v1/threads/{thread_id}/messages",
        path_parameters={"thread_id": THREAD},
        body={"role": "user", "content": SECRET_TEXT, "metadata": {"note": SECRET_TEXT}},
    )
    answer = call(create_message.lambda_handler, event)
    assert answer.status == 200

    output = capsys.readouterr().out + "\n" + _formatted(caplog)
    records = _lines(output)
    (line,) = [r for r in records if r.get("message") == "request"]
    assert line["correlation_id"] == event["requestContext"]["requestId"] == answer.headers["x-request-id"]
    assert line["operation"] == "POST /v1/threads/{thread_id}/messages"
    assert line["status"] == 200
    assert line["tenant"] == "default"
    (emf,) = [r for r in records if "_aws" in r]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "MessagesApi"
    assert ["Operation"] in [d[-1:] for d in directive["Dimensions"]] or any(
        "Operation" in d for d in directive["Dimensions"]
    )
    assert {m["Name"] for m in directive["Metrics"]} == {
        "Requests",
        "Errors4xx",
        "Errors5xx",
        "DynamoDBThrottles",
        "Latency",
    }
    assert (emf["Requests"], emf["Errors4xx"], emf["Errors5xx"]) == (1.0, 0.0, 0.0) or (
        emf["Requests"],
        emf["Errors4xx"],
        emf["Errors5xx"],
    ) == ([1.0], [0.0], [0.0])
    assert SECRET_TEXT not in output
    assert TEST_API_KEY not in output


@pytest.mark.usefixtures("info_logs")
def test_an_error_is_counted_by_its_status_class_and_logs_no_body(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    event = http_event(
        "POST",
        f"/v1/threads/{THREAD}/messages",
        path_parameters={"thread_id": THREAD},
        body={"role": "system", "content": SECRET_TEXT},
        headers={"authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert call(create_message.lambda_handler, event).status == 400
    output = capsys.readouterr().out + "\n" + _formatted(caplog)
    (emf,) = [r for r in _lines(output) if "_aws" in r]
    assert emf["Errors4xx"] in (1.0, [1.0])
    assert SECRET_TEXT not in output
    assert TEST_API_KEY not in output
