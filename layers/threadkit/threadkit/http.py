"""The HTTP edge shared by every function: the resolver, the event's normalisation, and error responses.

Each function builds its resolver with ``new_app()`` and answers with ``serve(app, event, context)``. Between
them, every answer of this API, errors and unknown routes included, is JSON in OpenAI's shape:

* Powertools' own answers (422 validation bodies, 404 for a wrong method, 500 for an odd body) are replaced;
* bodies are decoded here, once: a base64 body that is not UTF-8, or text that is not JSON, becomes OpenAI's
  "could not parse" error instead of an exception deep inside the resolver;
* any unexpected exception is logged with its stack and answered with a plain 500 envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from contextvars import ContextVar
from functools import partial
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.shared.json_encoder import Encoder
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit import client, errors, idempotency, keys, observability
from threadkit.models import ErrorResponse
from threadkit.settings import get_settings
from threadkit.validation import to_api_error

logger = observability.logger

SUPPORTED_BETA = "assistants=v2"
_UNPARSABLE = "\x00"  # stands for a body that could not be decoded: never valid JSON
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# The largest body the contract allows is a message of 256,000 four-byte characters sent as JSON escapes
# (12 bytes each) with full metadata: about 3.2 MB. Anything larger is refused before any work.
MAX_BODY_BYTES = 6 * 1024 * 1024


def _not_json(constant: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, though Python's reader takes them."""
    raise ValueError(f"{constant} is not JSON")


def _load_json(text: str | bytes | bytearray) -> Any:
    """The resolver's JSON reader: every body of this API is a JSON object. Anything else, deep nesting and
    the non-JSON numbers included, is a decode error (Powertools would otherwise take the first element of an
    array)."""
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(f"not JSON: {type(exc).__name__}", str(text)[:64], 0) from None
    if not isinstance(value, dict):
        raise json.JSONDecodeError("not a JSON object", str(text)[:64], 0)
    return value


def error_response(error: errors.ApiError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type="application/json",
        body=json.dumps(error.envelope()),
        headers=dict(error.headers),
    )


_ERROR_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Missing, unknown or revoked API key",
    404: "Not found",
    409: "A request with the same Idempotency-Key is still being processed",
    413: "Request body too large",
    429: "Rate limited; retry after the Retry-After header's seconds",
    500: "Server error",
    503: "Storage unavailable; retry after the Retry-After header's seconds",
}


def error_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses, all in the error envelope, plus those every
    route can answer: 401 (no valid API key), 413 (a body too large) and 503 (storage unavailable)."""
    statuses = tuple(sorted({*statuses, 401, 413, 503}))
    return {
        status: {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
        for status in statuses
    }


def new_app() -> APIGatewayHttpResolver:
    """A resolver configured for this API; the function module adds its one route."""
    app = APIGatewayHttpResolver(
        enable_validation=True,
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
        serializer=partial(json.dumps, separators=(",", ":"), ensure_ascii=False, cls=Encoder),
        json_body_deserializer=_load_json,
    )

    @app.exception_handler(errors.ApiError)
    def _api_error(exc: errors.ApiError) -> Response[str]:
        if exc.status >= 500:
            logger.exception("request failed", extra={"status": exc.status})
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response[str]:
        return error_response(to_api_error(list(exc.errors())))

    @app.exception_handler(ResponseValidationError)
    def _invalid_response(exc: ResponseValidationError) -> Response[str]:
        logger.error("response failed its own schema", extra={"errors": str(exc.errors())[:2000]})
        return error_response(errors.server_error())

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled exception")
        return error_response(errors.server_error())

    @app.not_found
    def _no_route(exc: NotFoundError) -> Response[str]:
        event = app.current_event
        return error_response(errors.invalid_url(event.request_context.http.method, event.raw_path))

    return app


_tenant: ContextVar[str] = ContextVar("tenant")
_key_cache = keys.KeyCache()


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Makes this create exactly-once for 24 hours: a retry with the same key and request gets "
        "what the first one created; the same key with a different request is a 400.",
    ),
]


def current_tenant(app: APIGatewayHttpResolver) -> str:
    """The tenant of the API key that authenticated this request (set by ``serve`` before routing)."""
    return _tenant.get()


def key_cache() -> keys.KeyCache:
    """What this container knows of API keys."""
    return _key_cache


def _credentials(headers: dict[str, str]) -> list[str]:
    """The secrets a request offers, in the order they are tried: ``x-portkey-api-key`` (the portkey-ai SDK),
    then ``Authorization: Bearer`` (the openai SDK; the portkey-ai SDK sends a placeholder there)."""
    offered = []
    portkey = headers.get("x-portkey-api-key", "").strip()
    if portkey:
        offered.append(portkey)
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        offered.append(token.strip())
    return offered


def authenticate(headers: dict[str, str]) -> str:
    """The tenant of the first active key the request offers; a 401 when there is none. Reads the key table
    only for secrets of a plausible shape, and only once per key per ``keys.CACHE_SECONDS`` per container."""
    lookup = keys.KeyStore(get_settings().table_name).lookup
    for secret in _credentials(headers):
        if not keys.is_plausible(secret):
            continue
        try:
            key = _key_cache.get(secret, lookup)
        except keys.KeyStoreError as exc:
            raise errors.service_unavailable() from exc
        if key is not None and key.active:
            return key.tenant
    raise errors.invalid_api_key()


def _normalise(event: dict[str, Any]) -> None:
    """Makes the event's body plain text that the resolver reads as JSON, whatever the client sent."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    body = event.get("body")
    if event.get("isBase64Encoded") and body:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            body = _UNPARSABLE
        event["isBase64Encoded"] = False
        event["body"] = body
    method = str((event.get("requestContext") or {}).get("http", {}).get("method", "")).upper()
    if not body and method in _METHODS_WITH_BODY:
        # No body, or an empty one, is an empty object, as OpenAI read it (the official .NET SDK creates a
        # thread with no body at all): a route whose body has a required field then says which is missing.
        event["body"] = body = "{}"
    if body:
        # Every body of this API is JSON, whatever Content-Type says (OpenAI read it so too).
        headers["content-type"] = "application/json"
    event["headers"] = headers


def _request_id(event: dict[str, Any]) -> str:
    context = event.get("requestContext")
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return str(request_id) if request_id else f"req_{uuid.uuid4().hex}"


def _check_size(event: dict[str, Any]) -> None:
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise errors.body_too_large(size, MAX_BODY_BYTES)


def serve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answers one API Gateway HTTP API (payload 2.0) event with this API's conventions: the body's size
    first (no work on a body too large), then the API key (before any read of user data, on every route),
    then the route. Traced as a whole when tracing is on."""
    operation = str(event.get("routeKey") or "$default")
    with observability.traced(operation), client.deadline(_seconds_left(context)):
        return _serve(app, event, context)


def _seconds_left(context: LambdaContext | None) -> float | None:
    """The invocation's remaining time, from the Lambda context (None without one)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return None if remaining is None else remaining() / 1000


def _serve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    request_id = _request_id(event)
    operation = str(event.get("routeKey") or "$default")
    tenant: str | None = None
    try:
        event["headers"] = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        _check_size(event)
        tenant = authenticate(event["headers"])
        token = _tenant.set(tenant)
        try:
            _normalise(event)
            beta = event["headers"].get("openai-beta")
            if beta is not None and beta.strip() != SUPPORTED_BETA:
                raise errors.invalid_beta(beta)
            answer = app.resolve(event, context)
        finally:
            _tenant.reset(token)
    except errors.ApiError as exc:
        answer = _as_proxy_response(error_response(exc))
    except Exception:
        logger.exception("unhandled exception outside the resolver")
        answer = _as_proxy_response(error_response(errors.server_error()))
    headers = answer.setdefault("headers", {})
    headers["Content-Type"] = "application/json"
    headers["x-request-id"] = request_id
    observability.record(
        operation=operation,
        status=int(answer.get("statusCode", 500)),
        latency_ms=(time.perf_counter() - started) * 1000,
        tenant=tenant,
    )
    return answer


def _as_proxy_response(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": dict(response.headers),
        "body": response.body,
        "isBase64Encoded": False,
    }
