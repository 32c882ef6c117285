"""Reading a request's parameters, refusing those of the wrong type with DynamoDB's validation message.

botocore checks shapes before sending, so these checks matter for other clients and for requests
written by hand; they keep any malformed request a 400 rather than an internal error.
"""

from __future__ import annotations

from typing import Any

from .exceptions import validation

LEGACY = (
    "AttributesToGet",
    "Expected",
    "ConditionalOperator",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributeUpdates",
)


def _constraint(name: str, value: object, constraint: str) -> Exception:
    field = name[:1].lower() + name[1:]
    return validation(
        f"1 validation error detected: Value '{value}' at '{field}' "
        f"failed to satisfy constraint: {constraint}"
    )


def refuse_legacy(body: dict[str, Any]) -> None:
    """The pre-expression parameters are not implemented; saying so beats ignoring them silently."""
    for name in LEGACY:
        if name in body:
            raise validation(
                f"{name} is a legacy parameter that this server does not support; use expressions"
            )


def text(body: dict[str, Any], name: str) -> str:
    """A required string parameter."""
    value = body.get(name)
    if value is None:
        raise _constraint(name, None, "Member must not be null")
    if not isinstance(value, str):
        raise validation(f"{name} must be a string")
    return value


def optional_text(body: dict[str, Any], name: str) -> str | None:
    return text(body, name) if body.get(name) is not None else None


def choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise _constraint(name, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    return str(value)


def integer(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise validation(f"{name} must be an integer")
    if value < low:
        raise _constraint(name, value, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        raise _constraint(name, value, f"Member must have value less than or equal to {high}")
    return value


def boolean(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise validation(f"{name} must be true or false")
    return value


def mapping(body: dict[str, Any], name: str, required: bool = True) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        if required:
            raise _constraint(name, None, "Member must not be null")
        return {}
    if not isinstance(value, dict):
        raise validation(f"{name} must be a map")
    return value


def array(body: dict[str, Any], name: str, low: int = 0, high: int | None = None) -> list[Any]:
    value = body.get(name)
    if value is None:
        if low > 0:
            raise _constraint(name, None, "Member must not be null")
        return []
    if not isinstance(value, list):
        raise validation(f"{name} must be a list")
    if len(value) < low:
        raise _constraint(name, value, f"Member must have length greater than or equal to {low}")
    if high is not None and len(value) > high:
        raise _constraint(name, value, f"Member must have length less than or equal to {high}")
    return value


def members(value: object, where: str) -> dict[str, Any]:
    """An element of a list parameter that must be a map."""
    if not isinstance(value, dict):
        raise validation(f"Each element of {where} must be a map")
    return value


def one_of(entry: dict[str, Any], names: tuple[str, ...], where: str) -> tuple[str, dict[str, Any]]:
    """The single action set in an entry such as a TransactItems element."""
    present = [name for name in names if entry.get(name) is not None]
    if len(present) != 1:
        raise validation(f"Each element of {where} must set exactly one of {', '.join(names)}")
    return present[0], members(entry[present[0]], present[0])
