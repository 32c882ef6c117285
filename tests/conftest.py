from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from tests.support.api_events import TEST_API_KEY, TEST_TENANT
from tests.support.hooks import RequestCounter, listening
from tests.support.live import live_api, live_server  # noqa: F401 - session fixtures, defined once here
from tests.support.moto_table import TABLE_NAME, recreate
from threadkit.edge import auth
from threadkit.storage import keys

TEST_KEY = keys.ApiKey(key_id="key_tests", tenant=TEST_TENANT, name="tests", created_at=0, revoked_at=None)


# Property tests give the same verdict on every run and machine: a fixed sequence of examples, no example
# database carried between runs, no deadline (a loaded machine is slow, not wrong).
hypothesis_settings.register_profile("project", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("project")


def pytest_configure(config: pytest.Config) -> None:
    """Local servers started by the tests keep their data in memory, never in the project's .data folder (a
    test that wants a folder sets LOCAL_DATA_DIR itself)."""
    os.environ["LOCAL_DATA_DIR"] = "memory"


@pytest.fixture(autouse=True)
def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and settings, and no cached client or settings from another test."""
    from threadkit.storage import settings

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": TABLE_NAME,
        "POWERTOOLS_SERVICE_NAME": "messages-api-tests",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    # The deployed budget (a live server of this session sets its own, locally generous one).
    for budget in ("DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT", "DYNAMODB_MAX_ATTEMPTS"):
        monkeypatch.delenv(budget, raising=False)
    settings.get_settings.cache_clear()
    # The container already knows the tests' key (as after its first request), for as long as the test
    # runs: tests that are not about keys count no key read and need no key in the table.
    previous = auth.use_key_cache(keys.KeyCache(ttl=float("inf")))
    auth.key_cache().get(TEST_API_KEY, lambda _: TEST_KEY)
    yield
    auth.use_key_cache(previous)  # tests may have put in a cache of their own (``auth.use_key_cache``)
    settings.get_settings.cache_clear()


@pytest.fixture(scope="session")
def _moto() -> Iterator[boto3.session.Session]:
    """moto, once for the session (entering it for each test would cost a tenth of a second each time), and
    a session for the tests' own clients (built once: boto3's default session is reset by moto)."""
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def table(_moto: boto3.session.Session) -> Any:
    """The template's table, in moto, empty: made anew for each test, before the functions build a client."""
    client = _moto.client("dynamodb")
    recreate(client)
    return client


@pytest.fixture
def dynamodb_requests(table: Any) -> Iterator[RequestCounter]:
    """Counts the DynamoDB API calls the functions make (botocore's before-call event)."""
    counter = RequestCounter()
    with listening("before-call.dynamodb", counter):
        yield counter
