"""Settings of a function, read once per container from its environment and validated."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    """Checked by ``get_settings`` (a plain dataclass: no model to build on the cold path)."""

    table_name: str
    """The DynamoDB table holding threads and messages (env TABLE_NAME): 3 to 255 characters."""

    # How long one DynamoDB attempt may take, and how many attempts a call gets. The defaults are chosen for
    # DynamoDB from Lambda (see client.py for the reasoning); the local server and the tests set budgets
    # suited to an embedded store on a busy machine.
    dynamodb_connect_timeout: float = 0.5
    """Seconds to open a connection (env DYNAMODB_CONNECT_TIMEOUT): more than 0, at most 60."""
    dynamodb_read_timeout: float = 1.0
    """Seconds to wait for an answer once the request is sent (env DYNAMODB_READ_TIMEOUT): more than 0, at
    most 300."""
    dynamodb_max_attempts: int = 3
    """Attempts per call, the first included (env DYNAMODB_MAX_ATTEMPTS): 1 to 10."""
    dynamodb_endpoint: str = ""
    """Where DynamoDB is, when not AWS's regional endpoint (env AWS_ENDPOINT_URL_DYNAMODB, which boto3 reads
    itself; known here so that a client is kept for the endpoint it was built for)."""
    region: str = ""
    """The AWS region (env AWS_REGION or AWS_DEFAULT_REGION; boto3 reads it itself too)."""


class SettingsError(RuntimeError):
    """The function's environment is missing or has a wrong setting: a deployment error."""


# Each number setting: its variable, its type, and the open lower and closed upper bound.
_NUMBERS: dict[str, tuple[str, type[int] | type[float], float, float]] = {
    "dynamodb_connect_timeout": ("DYNAMODB_CONNECT_TIMEOUT", float, 0, 60),
    "dynamodb_read_timeout": ("DYNAMODB_READ_TIMEOUT", float, 0, 300),
    "dynamodb_max_attempts": ("DYNAMODB_MAX_ATTEMPTS", int, 0, 10),
}


def _number(field: str, text: str) -> float:
    variable, kind, above, most = _NUMBERS[field]
    try:
        value = kind(text)
    except ValueError:
        wanted = "a whole number" if kind is int else "a number"
        raise SettingsError(f"invalid function settings: {variable}={text!r} is not {wanted}") from None
    if not above < value <= most or value != value:  # the last test refuses NaN
        raise SettingsError(
            f"invalid function settings: {variable}={text!r} must be more than {above:g} and at most {most:g}"
        )
    return value


@cache
def get_settings() -> Settings:
    """The settings of this container. Tests call ``get_settings.cache_clear()`` after changing the env."""
    table_name = os.environ.get("TABLE_NAME", "")
    if not 3 <= len(table_name) <= 255:
        raise SettingsError(
            f"invalid function settings: TABLE_NAME={table_name!r} must be 3 to 255 characters"
        )
    numbers: dict[str, float] = {}
    for field, (variable, _, _, _) in _NUMBERS.items():
        text = os.environ.get(variable)
        if text:
            numbers[field] = _number(field, text)
    return Settings(
        table_name=table_name,
        dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        or os.environ.get("AWS_ENDPOINT_URL", ""),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
        **numbers,  # type: ignore[arg-type]
    )
