"""What a request leaves behind for operators: one structured log line, CloudWatch metrics in embedded
format, and (only when switched on) a trace.

* Logs: Powertools' JSON logger, with the API Gateway request id as correlation id (the same id the client
  gets as ``x-request-id``). A request's line holds its route, status, latency and tenant: never a key, a
  body or message content.
* Metrics (namespace ``POWERTOOLS_METRICS_NAMESPACE``, default ``MessagesApi``), per ``Operation`` (the route
  key): ``Requests``, ``Errors4xx``, ``Errors5xx``, ``DynamoDBThrottles`` (requests answered 429 because
  DynamoDB kept throttling) and ``Latency``. Each invocation flushes its own (nothing is shared between
  functions or threads).
* Traces (template parameter ``Tracing=adot``, which sets ``TRACING_ENABLED``) are OpenTelemetry's, from the
  AWS Distro for OpenTelemetry (ADOT) layer: its wrapper instruments the function from outside (the
  invocation's span, each DynamoDB call) and its collector sends the spans to X-Ray. Here, each request gets
  one span more, named after its route, through the OpenTelemetry API that the layer brings. When tracing is
  off, OpenTelemetry is not imported and no tracer is made; the X-Ray SDK is used nowhere.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

logger = Logger()
NAMESPACE = "MessagesApi"


def record(*, operation: str, status: int, latency_ms: float, tenant: str | None) -> None:
    """Logs the request's line and flushes its metrics."""
    line = {"operation": operation, "status": status, "latency_ms": round(latency_ms, 2), "tenant": tenant}
    logger.info("request", extra=line)
    metrics = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE)
    metrics.add_dimension(name="Operation", value=operation)
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Errors4xx", unit=MetricUnit.Count, value=int(400 <= status < 500))
    metrics.add_metric(name="Errors5xx", unit=MetricUnit.Count, value=int(status >= 500))
    metrics.add_metric(name="DynamoDBThrottles", unit=MetricUnit.Count, value=int(status == 429))
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=latency_ms)
    metrics.flush_metrics()


def tracing_enabled() -> bool:
    return os.environ.get("TRACING_ENABLED", "false").lower() == "true"


@cache
def _tracer() -> Any:
    """OpenTelemetry's tracer, from the ADOT layer (imported by name: the package comes with the layer, not
    with this project); None when the layer is not there."""
    try:
        trace = importlib.import_module("opentelemetry.trace")
    except ImportError:
        logger.warning("TRACING_ENABLED is true but OpenTelemetry is not there (no ADOT layer): not tracing")
        return None
    return trace.get_tracer("threadkit")


@contextmanager
def traced(operation: str) -> Iterator[None]:
    """A span around the request, named after its route, when tracing is on; nothing at all when it is off."""
    if not tracing_enabled():
        yield
        return
    tracer = _tracer()
    if tracer is None:
        yield
        return
    method, _, route = operation.partition(" ")
    attributes = {"http.request.method": method, "http.route": route} if route else {}
    with tracer.start_as_current_span(operation, attributes=attributes):
        yield
