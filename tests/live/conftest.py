"""Live tests: the local server (``make serve``'s) over loopback HTTP, driven by curl-like calls and by the
real clients (the openai and portkey-ai SDKs, the Node SDK, Portkey's gateway). Marker: ``live``
(``pytest -m live``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.spec import ResponseRecorder

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(autouse=True)
def _aws_environment() -> None:
    """Replaces the root conftest's: the server's functions read the environment the server set up, which a
    per-test one would overwrite."""


@pytest.fixture
def recorder() -> Iterator[ResponseRecorder]:
    """Validates every response the test's SDK client receives against the spec; at the end, all must have
    been valid."""
    recorder = ResponseRecorder()
    yield recorder
    recorder.assert_clean()
