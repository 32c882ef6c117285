"""Botocore's stubber on a DynamoDB client, for one failing call: the cases of a table of the calls each
operation makes, in order, and the answers of the calls before the failing one, as for a live thread (only the
thread's GetItem ever precedes another call)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.support.moto_table import TABLE_NAME
from threadkit.storage import schema

CREATED_AT = 1_761_861_545  # the live thread's creation time


def failing_calls(calls: Mapping[str, list[str]]) -> list[Any]:
    """A case ``(operation, index)`` for each call of each operation in ``calls``, the call that fails, named
    ``operation-call``."""
    return [
        pytest.param(operation, index, id=f"{operation}-{call}")
        for operation, operation_calls in calls.items()
        for index, call in enumerate(operation_calls)
    ]


def live_thread_item(tenant: str, thread_id: str) -> dict[str, Any]:
    """The thread's own item, live, as GetItem returns it."""
    return {
        "pk": {"S": schema.partition_key(tenant, thread_id)},
        "sk": {"S": schema.THREAD_SK},
        "created_at": {"N": str(CREATED_AT)},
        "metadata": {"S": "{}"},
        "tool_resources": {"S": "{}"},
    }


def queue_until_failure(stubber: Stubber, calls: list[str], failing: int, tenant: str, thread_id: str) -> str:
    """Queues the answers of the ``calls`` before the ``failing`` one, each the consistent GetItem of the live
    thread; returns the name of the failing call."""
    for call in calls[:failing]:
        assert call == "get_item", call
        item = live_thread_item(tenant, thread_id)
        key = {"pk": item["pk"], "sk": item["sk"]}
        stubber.add_response(
            "get_item",
            {"Item": live_thread_item(tenant, thread_id)},
            expected_params={"TableName": TABLE_NAME, "Key": key, "ConsistentRead": True},
        )
    return calls[failing]
