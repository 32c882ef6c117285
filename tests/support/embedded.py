"""The embedded DynamoDB for the tests that need a real endpoint (many connections, faults on the wire): the
same child process ``make serve`` runs (``local.dynamodb.process``), in memory, with the template's table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from local.dynamodb.process import EmbeddedProcess
from tests.support.sam_template import table_definition
from threadkit import storage
from threadkit.storage import settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"
# The functions' budget against the embedded store on a loaded machine: slow is slow, never a failure.
GENEROUS_BUDGET = {
    "DYNAMODB_CONNECT_TIMEOUT": "10",
    "DYNAMODB_READ_TIMEOUT": "60",
    "DYNAMODB_MAX_ATTEMPTS": "3",
}


@contextmanager
def embedded_store() -> Iterator[str]:
    """The embedded DynamoDB in a child process, in memory, on a free loopback port; yields its endpoint."""
    with EmbeddedProcess(None) as process:
        yield process.endpoint


@cache
def admin_client(endpoint: str) -> DynamoDBClient:
    """A plain client for the tests' own reads and writes (one attempt, generous timeouts)."""
    client: DynamoDBClient = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=10, read_timeout=60
        ),
    )
    return client


def new_table(endpoint: str, prefix: str = "tests") -> str:
    """A fresh table of the template's shape on the store; returns its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    admin_client(endpoint).create_table(TableName=name, **table_definition())
    return name


@contextmanager
def functions_on(
    endpoint: str, table_name: str, monkeypatch: pytest.MonkeyPatch, budget: dict[str, str] | None = None
) -> Iterator[None]:
    """Points the functions' settings and store at ``table_name`` on the store at ``endpoint``, with a fresh
    client and store, and the given time budget (default ``GENEROUS_BUDGET``)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    monkeypatch.setenv("TABLE_NAME", table_name)
    for name, value in (GENEROUS_BUDGET if budget is None else budget).items():
        monkeypatch.setenv(name, value)
    settings.get_settings.cache_clear()
    storage.reset()
    try:
        yield
    finally:
        settings.get_settings.cache_clear()
        storage.reset()
