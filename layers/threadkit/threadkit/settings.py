"""Settings of a function, read once per container from its environment and validated."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    """The DynamoDB table holding threads and messages (env TABLE_NAME)."""
    default_tenant: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    """The tenant that owns every key until API keys arrive (env DEFAULT_TENANT)."""


class SettingsError(RuntimeError):
    """The function's environment is missing or has a wrong setting: a deployment error."""


@cache
def get_settings() -> Settings:
    """The settings of this container. Tests call ``get_settings.cache_clear()`` after changing the env."""
    raw = {
        "table_name": os.environ.get("TABLE_NAME", ""),
        "default_tenant": os.environ.get("DEFAULT_TENANT", "default"),
    }
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"invalid function settings: {exc}") from exc
