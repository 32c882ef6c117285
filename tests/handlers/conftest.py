"""Handler tests: each function's ``lambda_handler`` called in this process with API Gateway events, on
moto's DynamoDB (the root conftest's ``table``). Marker: ``handlers`` (``pytest -m handlers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import forbid_aws_calls

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.handlers)


@pytest.fixture
def no_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any DynamoDB call fails the test: for answers that must come before the store is asked."""
    forbid_aws_calls(monkeypatch)
