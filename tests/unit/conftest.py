"""Unit tests: pure functions and single modules (ids, sizes, the template, the embedded store's engine), no
handler and no server. Marker: ``unit`` (``pytest -m unit``)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.unit)
