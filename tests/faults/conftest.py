"""Fault tests: DynamoDB failing, slow or losing answers under the functions' own retries, and many writers at
once, mostly against the embedded DynamoDB in a child process. Marker: ``faults`` (``pytest -m faults``)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.faults)
