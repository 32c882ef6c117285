"""API Gateway's side of the local server: a request as an HTTP API payload 2.0 event, and a function's
proxy response (or the gateway's own error) as the HTTP answer."""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.routes import Match
from local.template import PSEUDO_PARAMETERS

DEFAULT_PORT = 3000
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
ACCOUNT_ID = PSEUDO_PARAMETERS["AWS::AccountId"]

_TEXT_TYPES = {"application/json", "application/xml", "application/javascript", "application/yaml"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ID_ALPHABET = string.ascii_letters + string.digits

# Headers this server writes itself, whatever a handler's response says.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive"}


def request_id() -> str:
    """An id in API Gateway's shape (``apigw-requestid``), unique per request."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def _is_textual(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _clock(now: float) -> str:
    t = time.gmtime(now)
    day = f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}"
    return f"{day}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


@dataclass
class Request:
    """An HTTP request as it came in."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    port: int = DEFAULT_PORT
    request_id: str = field(default_factory=request_id)

    @property
    def raw_path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query


def make_event(request: Request, match: Match, now: float | None = None) -> dict[str, Any]:
    """The payload 2.0 event API Gateway would send for ``request`` on ``match``'s route."""
    now = time.time() if now is None else now
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", f"127.0.0.1:{request.port}")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers.setdefault("x-forwarded-port", str(request.port))
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")
    if request.body:
        headers["content-length"] = str(len(request.body))

    route_key = match.route.route_key
    raw_path, raw_query = request.raw_path, request.raw_query
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": _clock(now),
        "timeEpoch": int(now * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        try:
            text = request.body.decode("utf-8") if _is_textual(headers.get("content-type")) else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
            event["isBase64Encoded"] = False
    else:
        event["isBase64Encoded"] = False
    return event


@dataclass
class Answer:
    """An HTTP response to write: status, headers in order (repeats allowed), body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_answer(status: int, body: Any, request_id: str, headers: Mapping[str, str] | None = None) -> Answer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(
        status,
        [("Content-Type", "application/json"), ("apigw-requestid", request_id), *(headers or {}).items()],
        data,
    )


def gateway_error(status: int, message: str, request_id: str) -> Answer:
    """API Gateway's own answers (no route, integration failure, payload too large)."""
    return json_answer(status, {"message": message}, request_id)


def proxy_answer(result: Any, request_id: str) -> Answer:
    """A handler's result as API Gateway (payload 2.0) turns it into an HTTP response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # No statusCode: API Gateway answers 200 with the returned JSON as the body.
        return json_answer(200, json.dumps(result).encode(), request_id)
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"invalid statusCode {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if str(name).lower() not in _HOP_HEADERS:
            headers.append((str(name), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if str(name).lower() not in _HOP_HEADERS:
            headers.extend((str(name), str(v)) for v in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    headers.append(("apigw-requestid", request_id))
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(str(body), validate=True)
    else:
        data = str(body).encode("utf-8")
    return Answer(status, headers, data)
