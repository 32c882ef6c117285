"""Listening to the functions' DynamoDB client: botocore's event hooks, registered for the length of a test.

The container's client outlives a test (it is kept for its environment, as in Lambda), so a hook must go when
its test ends, or the next test's calls would reach it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from threadkit.storage import client


@contextmanager
def listening(event_name: str, handler: Callable[..., Any]) -> Iterator[None]:
    """``handler`` on ``event_name`` (``before-call.dynamodb`` ...) of the functions' client, until the block
    ends."""
    events = client.dynamodb_client().meta.events
    events.register(event_name, handler)
    try:
        yield
    finally:
        events.unregister(event_name, handler)


class RequestCounter:
    """Counts DynamoDB requests by operation name (a ``provide-client-params`` listener)."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def reset(self) -> None:
        self.operations.clear()

    @property
    def count(self) -> int:
        return len(self.operations)


class RequestLog:
    """Every DynamoDB request with its parameters (a ``provide-client-params`` listener)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))
