"""API Gateway HTTP API (payload 2.0) events, and calling a function's handler with one."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

# The key every test request carries (and the sample events in events/): tenant "default".
TEST_API_KEY = "sk-sample-key-for-events-000000000000"
TEST_TENANT = "default"


@dataclass
class FakeContext:
    """What Powertools' Logger reads from a Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | bytes | None = None,
    headers: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """A payload-2.0 event as API Gateway sends it. ``body`` is sent as JSON; ``raw_body`` as given
    (bytes are sent base64-encoded, as API Gateway does for binary bodies)."""
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    all_headers = {
        "accept": "application/json",
        "openai-beta": "assistants=v2",
        "host": "api.test",
        "authorization": f"Bearer {TEST_API_KEY}",
    }
    text: str | None = None
    encoded = False
    if body is not None:
        text = json.dumps(body)
        all_headers["content-type"] = "application/json"
    if raw_body is not None:
        if isinstance(raw_body, bytes):
            text, encoded = base64.b64encode(raw_body).decode(), True
        else:
            text = raw_body
    edit_headers(all_headers, headers or {})
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "tests",
            },
            "requestId": request_id,
            "routeKey": route_key or "$default",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000000,
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if text is not None:
        event["body"] = text
    return event


def edit_headers(headers: dict[str, Any], changes: Mapping[str, str | None]) -> dict[str, Any]:
    """Sets each of ``changes`` in ``headers`` (names in lower case, as the events carry them); a None value
    removes that header. Returns ``headers``."""
    for name, value in changes.items():
        if value is None:
            headers.pop(name.lower(), None)
        else:
            headers[name.lower()] = value
    return headers


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any]


def call(handler: Any, event: dict[str, Any]) -> Answer:
    """Invokes a handler the way Lambda does and decodes its proxy response."""
    raw = handler(event, FakeContext())
    body = raw.get("body")
    if raw.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return Answer(
        status=raw["statusCode"],
        headers={k.lower(): v for k, v in (raw.get("headers") or {}).items()},
        body=json.loads(body) if body else None,
        raw=raw,
    )
