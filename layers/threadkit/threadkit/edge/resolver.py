"""The resolver every function answers through: Powertools' ``APIGatewayHttpResolver``, set up so that every
answer of this API, errors and unknown routes included, is JSON in OpenAI's shape.

* Powertools' own answers (422 validation bodies, 404 for a wrong method, 500 for an odd body) are replaced
  by the error catalogue's envelopes (``contract/errors.py``), and its validation errors worded as OpenAI
  worded them (``validation.py``);
* bodies are read as JSON objects, strictly (``_load_json``);
* any unexpected exception is logged with its stack and answered with a plain 500 envelope.

Each function builds its resolver with ``new_app()``, adds its one route (with ``error_responses`` for its
OpenAPI description) and answers with ``invocation.serve``.
"""

from __future__ import annotations

import json
from functools import partial
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.shared.json_encoder import Encoder

from threadkit.contract import errors
from threadkit.contract.models import ErrorResponse
from threadkit.domain import idempotency
from threadkit.edge.observability import logger
from threadkit.edge.validation import to_api_error

# The parameter markers a function's route uses, taken from here so that ``threadkit.edge`` is imported first.
__all__ = ["Body", "IdempotencyKey", "Path", "Query", "error_response", "error_responses", "new_app"]


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


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Makes this create exactly-once for 24 hours: a retry with the same key and request gets "
        "what the first one created; the same key with a different request is a 400.",
    ),
]
