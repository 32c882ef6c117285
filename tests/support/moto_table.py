"""The handler tests' table in moto: its name, and a way to start it over empty."""

from __future__ import annotations

import contextlib
from typing import Any

from tests.support.sam_template import table_definition

TABLE_NAME = "messages-test"


def recreate(client: Any) -> None:
    """Deletes the tests' table if it exists and creates it again, empty. moto copies a whole table for each
    transaction, so a test that writes a great deal starts over between its cases."""
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_table(TableName=TABLE_NAME)
    client.create_table(TableName=TABLE_NAME, **table_definition())


def scan(client: Any) -> list[dict[str, Any]]:
    """Every item of the tests' table (a consistent read), in key order: what a test compares before and after
    a request that must write nothing."""
    items: list[dict[str, Any]] = client.scan(TableName=TABLE_NAME, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
