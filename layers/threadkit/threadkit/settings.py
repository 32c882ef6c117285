"""Settings of a function, read once per container from its environment and validated."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    """The DynamoDB table holding threads and messages (env TABLE_NAME)."""


class SettingsError(RuntimeError):
    """The function's environment is missing or has a wrong setting: a deployment error."""


@cache
def get_settings() -> Settings:
    """The settings of this container. Tests call ``get_settings.cache_clear()`` after changing the env."""
    raw = {
        "table_name": os.environ.get("TABLE_NAME", ""),
    }
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"invalid function settings: {exc}") from exc
