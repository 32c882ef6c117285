"""Settings of a function, read once per container from its environment and validated."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    """The DynamoDB table holding threads and messages (env TABLE_NAME)."""

    # How long one DynamoDB attempt may take, and how many attempts a call gets. The defaults are chosen for
    # DynamoDB from Lambda (see client.py for the reasoning); the local server and the tests set budgets
    # suited to an embedded store on a busy machine.
    dynamodb_connect_timeout: float = Field(default=0.5, gt=0, le=60)
    """Seconds to open a connection (env DYNAMODB_CONNECT_TIMEOUT)."""
    dynamodb_read_timeout: float = Field(default=1.0, gt=0, le=300)
    """Seconds to wait for an answer once the request is sent (env DYNAMODB_READ_TIMEOUT)."""
    dynamodb_max_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts per call, the first included (env DYNAMODB_MAX_ATTEMPTS)."""
    dynamodb_endpoint: str = ""
    """Where DynamoDB is, when not AWS's regional endpoint (env AWS_ENDPOINT_URL_DYNAMODB, which boto3 reads
    itself; known here so that a client is kept for the endpoint it was built for)."""
    region: str = ""
    """The AWS region (env AWS_REGION or AWS_DEFAULT_REGION; boto3 reads it itself too)."""


class SettingsError(RuntimeError):
    """The function's environment is missing or has a wrong setting: a deployment error."""


_ENVIRONMENT = {
    "table_name": "TABLE_NAME",
    "dynamodb_connect_timeout": "DYNAMODB_CONNECT_TIMEOUT",
    "dynamodb_read_timeout": "DYNAMODB_READ_TIMEOUT",
    "dynamodb_max_attempts": "DYNAMODB_MAX_ATTEMPTS",
}


@cache
def get_settings() -> Settings:
    """The settings of this container. Tests call ``get_settings.cache_clear()`` after changing the env."""
    raw: dict[str, str] = {
        "table_name": os.environ.get("TABLE_NAME", ""),
        "dynamodb_endpoint": os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        or os.environ.get("AWS_ENDPOINT_URL", ""),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
    }
    for field, variable in _ENVIRONMENT.items():
        value = os.environ.get(variable)
        if value:
            raw[field] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"invalid function settings: {exc}") from exc
