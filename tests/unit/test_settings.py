"""A function's settings, read once from its environment: the defaults, the user's budgets, and a clear error
for a setting no deployment should have."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from threadkit.storage import settings

BUDGETS = ("DYNAMODB_CONNECT_TIMEOUT", "DYNAMODB_READ_TIMEOUT", "DYNAMODB_MAX_ATTEMPTS")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TABLE_NAME", "messages")
    for name in (*BUDGETS, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def test_the_defaults_are_the_deployed_budget() -> None:
    found = settings.get_settings()
    assert (found.table_name, found.dynamodb_endpoint, found.region) == ("messages", "", "us-east-1")
    assert (found.dynamodb_connect_timeout, found.dynamodb_read_timeout, found.dynamodb_max_attempts) == (
        0.5,
        1.0,
        3,
    )


def test_budgets_and_the_endpoint_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in zip(BUDGETS, ("2", "7.5", "10"), strict=True):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8000")
    found = settings.get_settings()
    assert (found.dynamodb_connect_timeout, found.dynamodb_read_timeout, found.dynamodb_max_attempts) == (
        2.0,
        7.5,
        10,
    )
    assert isinstance(found.dynamodb_max_attempts, int)
    assert found.dynamodb_endpoint == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("TABLE_NAME", "", "TABLE_NAME='' must be 3 to 255 characters"),
        ("TABLE_NAME", "t" * 256, "must be 3 to 255 characters"),
        ("DYNAMODB_CONNECT_TIMEOUT", "0", "DYNAMODB_CONNECT_TIMEOUT='0' must be more than 0 and at most 60"),
        ("DYNAMODB_READ_TIMEOUT", "301", "DYNAMODB_READ_TIMEOUT='301' must be more than 0 and at most 300"),
        ("DYNAMODB_READ_TIMEOUT", "nan", "DYNAMODB_READ_TIMEOUT='nan' must be more than 0 and at most 300"),
        ("DYNAMODB_MAX_ATTEMPTS", "0", "DYNAMODB_MAX_ATTEMPTS='0' must be more than 0 and at most 10"),
        ("DYNAMODB_MAX_ATTEMPTS", "2.5", "DYNAMODB_MAX_ATTEMPTS='2.5' is not a whole number"),
        ("DYNAMODB_CONNECT_TIMEOUT", "soon", "DYNAMODB_CONNECT_TIMEOUT='soon' is not a number"),
    ],
)
def test_a_wrong_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.SettingsError, match=r"^invalid function settings: ") as raised:
        settings.get_settings()
    assert problem in str(raised.value)
