"""Turns pydantic / Powertools validation errors into the one error OpenAI would have answered.

OpenAI reports one error per request; pydantic reports all of them. The first error in pydantic's order
(field declaration order, which follows the order of OpenAI's checks) becomes the answer. Locations become
OpenAI's param paths: ``("body", "content", "<parts>", 0, "<text>", "text")`` -> ``content[0].text``;
tags of discriminated unions are written ``<...>`` in ``models.py`` so they can be dropped here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from threadkit.contract import errors

_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})

# pydantic error type -> how OpenAI names the JSON type it expected
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
}


def param_of(loc: Sequence[Any]) -> str:
    """OpenAI's dotted / indexed param path for a pydantic location."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def to_api_error(error_list: Sequence[Mapping[str, Any]]) -> errors.ApiError:
    """The client-facing error for a non-empty list of pydantic-style errors."""
    first = error_list[0]
    return _translate(first)


def _translate(error: Mapping[str, Any]) -> errors.ApiError:
    kind: str = error.get("type", "")
    loc: Sequence[Any] = error.get("loc", ())
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    param = param_of(loc)

    if kind == "api_error":
        carried = ctx.get("api_error")
        if isinstance(carried, errors.ApiError):
            return carried.under(_prefix_of(param, carried.param))
    if kind in ("json_invalid", "unsupported_content_type", "multipart_invalid", "form_invalid") or not param:
        # Only the body as a whole has no param: it was not a JSON object.
        return errors.unparsable_body()
    if kind == "missing":
        return errors.missing_parameter(param)
    if kind == "extra_forbidden":
        return errors.unknown_parameter(param)
    if kind == "literal_error":
        return errors.invalid_enum(param, value, _literal_choices(ctx.get("expected", "")))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _union_tag_error(param, loc, ctx, value)
    if kind in _EXPECTED:
        return errors.invalid_type(param, _EXPECTED[kind], value)
    if kind == "string_too_long":
        return errors.string_too_long(param, int(ctx["max_length"]), len(str(value)))
    if kind == "too_long":
        size = len(value) if isinstance(value, dict | list) else int(ctx.get("actual_length") or 0)
        if isinstance(value, dict):
            return errors.too_many_properties(param, int(ctx["max_length"]), size)
        return errors.array_too_long(param, int(ctx["max_length"]), size)
    if kind == "string_too_short":
        if param == "content" or param.startswith("content["):
            return errors.empty_content(param)
        return errors.invalid_value(
            param, f"Invalid '{param}': empty string. Expected a string with minimum length 1."
        )
    if kind == "greater_than_equal":
        return errors.integer_below_minimum(param, int(ctx["ge"]), value)
    if kind == "less_than_equal":
        return errors.integer_above_maximum(param, int(ctx["le"]), value)
    if kind == "url_invalid":
        return errors.invalid_value(
            param, f"Invalid '{param}'. Expected a valid URL, but got a value with an invalid format."
        )
    if kind == "value_error":
        return errors.invalid_value(param, f"Invalid '{param}': {_describe(error)}.")
    return errors.invalid_value(param, f"Invalid '{param}': {error.get('msg', 'invalid value')}.")


def _prefix_of(location: str, param: str | None) -> str:
    """What stands before a model's own param path in the request: a model nested in a list or another model
    (a thread's initial message) raises errors named from its own fields; ``location`` is where it sits."""
    if not param:
        return ""
    field = param.split(".", 1)[0].split("[", 1)[0]
    if location.endswith("." + field):
        return location[: -len(field)]
    if location.endswith("]") and not location.startswith(field):
        return location + "."
    return ""


def _union_tag_error(param: str, loc: Sequence[Any], ctx: Mapping[str, Any], value: Any) -> errors.ApiError:
    if "_tag_of_content" in str(ctx.get("discriminator", "")):
        return errors.invalid_type(param, "one of a string or array of objects", value)
    tags = [t.strip().strip("'<>") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
    if not isinstance(value, dict):
        return errors.invalid_type(param, "an object", value)
    if "type" not in value:
        return errors.missing_parameter(f"{param}.type")
    kind = value["type"]
    if not isinstance(kind, str):
        return errors.invalid_type(f"{param}.type", "a string", kind)
    return errors.invalid_enum(f"{param}.type", kind, tags)


def _literal_choices(expected: str) -> list[str]:
    # pydantic writes: "'user' or 'assistant'" / "'auto', 'low' or 'high'"
    cleaned = expected.replace(" or ", ", ")
    return [part.strip().strip("'") for part in cleaned.split(",") if part.strip()]


def _describe(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    reason = ctx.get("error")
    text = str(reason) if reason is not None else str(error.get("msg", "invalid value"))
    if text.startswith("Value error, "):
        text = text[len("Value error, ") :]
    return text
