"""What a request leaves behind for operators: one structured log line, CloudWatch metrics in embedded
format, and (only when switched on) an X-Ray trace.

* Logs: Powertools' JSON logger, with the API Gateway request id as correlation id (the same id the client
  gets as ``x-request-id``). A request's line holds its route, status, latency and tenant: never a key, a
  body or message content.
* Metrics (namespace ``POWERTOOLS_METRICS_NAMESPACE``, default ``MessagesApi``), per ``Operation`` (the route
  key): ``Requests``, ``Errors4xx``, ``Errors5xx``, ``DynamoDBThrottles`` (requests answered 429 because
  DynamoDB kept throttling) and ``Latency``. Each invocation flushes its own (nothing is shared between
  functions or threads).
* Tracing costs nothing when it is off: the X-Ray SDK is imported only when ``TRACING_ENABLED`` is ``true``.
"""

from __future__ import annotations

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
    """Powertools' Tracer (imports the X-Ray SDK, patches botocore); None when the SDK is not deployed."""
    try:
        from aws_lambda_powertools import Tracer

        return Tracer()
    except ImportError:
        logger.warning("TRACING_ENABLED is true but aws-xray-sdk is not in the layer: not tracing")
        return None


@contextmanager
def traced(operation: str) -> Iterator[None]:
    """A subsegment around the request when tracing is on; nothing at all when it is off."""
    if not tracing_enabled():
        yield
        return
    tracer = _tracer()
    if tracer is None:
        yield
        return
    with tracer.provider.in_subsegment(f"## {operation}") as subsegment:
        subsegment.put_annotation(key="operation", value=operation)
        yield
