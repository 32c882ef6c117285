"""One invocation, from API Gateway's event to the proxy response: the body's size first (no work on a body
too large), then the API key (before any read of user data, on every route), then the ``OpenAI-Beta`` header,
then the route; the answer gets its ``x-request-id``, and the request its log line and metrics. The storage's
deadline is the invocation's remaining time."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract import errors
from threadkit.edge import auth, events, observability
from threadkit.edge.observability import logger
from threadkit.edge.resolver import error_response
from threadkit.storage import client


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
    request_id = events.request_id(event)
    operation = str(event.get("routeKey") or "$default")
    tenant: str | None = None
    try:
        event["headers"] = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        events.check_size(event)
        tenant = auth.authenticate(event["headers"])
        with auth.acting_for(tenant):
            events.normalise(event)
            beta = event["headers"].get("openai-beta")
            if beta is not None and beta.strip() != events.SUPPORTED_BETA:
                raise errors.invalid_beta(beta)
            answer = app.resolve(event, context)
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
