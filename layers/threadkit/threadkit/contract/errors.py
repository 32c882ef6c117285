"""The error catalogue: every error a client can get, as data, and its OpenAI envelope.

Each kind of error is one function or class here. Nothing else in the code builds an error body, and nothing
matches on exception messages: the HTTP layer turns an ``ApiError`` into its response as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR = "server_error"


class ApiError(Exception):
    """An error a client sees: HTTP status plus OpenAI's ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        may_have_written: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.may_have_written = may_have_written
        """True only for a write whose outcome could not be found out (``outcome_unknown``)."""

    def under(self, prefix: str) -> ApiError:
        """The same error for a param nested under ``prefix`` (``messages[0].``): the param, and its quoted
        mentions in the message, get the prefix."""
        if not prefix or self.param is None:
            return self
        param = prefix + self.param
        message = self.message.replace(f"'{self.param}'", f"'{param}'")
        return ApiError(
            self.status,
            message,
            type=self.type,
            param=param,
            code=self.code,
            headers=dict(self.headers),
            may_have_written=self.may_have_written,
        )

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.message!r}, param={self.param!r}, code={self.code!r})"


def quote_list(values: Sequence[str]) -> str:
    """OpenAI's way of listing allowed values: 'a' and 'b' / 'a', 'b', and 'c'."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


# --- 400: the request itself -------------------------------------------------------------------------------


def unparsable_body() -> ApiError:
    return ApiError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        "JSON. If you have trouble figuring out how to fix this, please contact us through our help center "
        "at help.openai.com.)",
    )


def unknown_parameter(param: str) -> ApiError:
    return ApiError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def missing_parameter(param: str) -> ApiError:
    return ApiError(
        400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def invalid_enum(param: str, value: object, allowed: Sequence[str]) -> ApiError:
    return ApiError(
        400,
        f"Invalid value: {_shown(value)}. Supported values are: {quote_list(allowed)}.",
        param=param,
        code="invalid_value",
    )


def invalid_type(param: str, expected: str, value: object) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {json_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def invalid_value(param: str, message: str) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_value")


def string_too_long(param: str, maximum: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': string too long. Expected a string with maximum length {maximum}, "
        f"but got a string with length {length} instead.",
        param=param,
        code="string_above_max_length",
    )


def array_too_long(param: str, maximum: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': array too long. Expected an array with maximum length {maximum}, "
        f"but got an array with length {length} instead.",
        param=param,
        code="array_above_max_length",
    )


def too_many_properties(param: str, maximum: int, count: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': too many properties. Expected an object with at most {maximum} properties, "
        f"but got an object with {count} properties instead.",
        param=param,
        code="object_above_max_properties",
    )


def property_name_too_long(param: str, maximum: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': property name too long. Expected a string with maximum length {maximum}, "
        f"but got a string with length {length} instead.",
        param=param,
        code="property_name_above_max_length",
    )


def property_name_too_short(param: str, minimum: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': property name too short. Expected a string with minimum length {minimum}, "
        f"but got a string with length {length} instead.",
        param=param,
        code="property_name_below_min_length",
    )


def integer_below_minimum(param: str, minimum: int, value: object) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, "
        f"but got {value} instead.",
        param=param,
        code="integer_below_min_value",
    )


def integer_above_maximum(param: str, maximum: int, value: object) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': integer above maximum value. Expected a value <= {maximum}, "
        f"but got {value} instead.",
        param=param,
        code="integer_above_max_value",
    )


def empty_content(param: str = "content") -> ApiError:
    """Empty content (``param`` = ``content``), or an empty text part (``content[<index>].text``)."""
    return ApiError(400, "Message content must be non-empty.", param=param)


def invalid_id(param: str, value: str, prefix: str) -> ApiError:
    return invalid_value(param, f"Invalid '{param}': '{value}'. Expected an ID that begins with '{prefix}'.")


def invalid_cursor(param: str, value: str, kind: str = "message") -> ApiError:
    prefix = "thread_" if kind == "thread" else "msg_"
    return invalid_value(
        param,
        f"Invalid '{param}': '{value}'. Expected a {kind} ID: '{prefix}' followed by 24 letters or digits.",
    )


def unknown_thread_cursor(param: str, value: str) -> ApiError:
    """A list of threads from a thread that the tenant does not have (any longer)."""
    return invalid_value(param, f"Invalid '{param}': no thread found with id '{value}' to list from.")


def duplicate_id(param: str, value: str) -> ApiError:
    return invalid_value(param, f"Invalid '{param}': '{value}' appears more than once.")


def message_too_large_to_store(size: int, limit: int) -> ApiError:
    """Content and attachments that exceed the store's limit even compressed (``store.stored_content``)."""
    return ApiError(
        400,
        f"Invalid 'content': message too large to store. Expected content and attachments of at most "
        f"{limit} bytes as stored (UTF-8 JSON, compressed with zlib when larger), but got {size} bytes "
        "instead.",
        param="content",
        code="message_too_large",
    )


def message_too_large_to_answer(size: int, limit: int) -> ApiError:
    """A message whose answer would not fit in Lambda's response payload (``answers.py``)."""
    return ApiError(
        400,
        f"Invalid 'content': message too large to return. Expected a message whose answer takes at most "
        f"{limit} bytes (its JSON, counted as escaped in Lambda's response), but got {size} bytes instead.",
        param="content",
        code="message_too_large",
    )


def thread_too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid 'messages': too large to store at once. Expected initial messages of at most {limit} "
        f"bytes in all, but got {size} bytes instead. Create the thread with fewer messages, then add "
        "the rest.",
        param="messages",
        code="messages_too_large",
    )


def unpaired_surrogate(param: str) -> ApiError:
    return invalid_value(
        param, f"Invalid '{param}': string contains an unpaired UTF-16 surrogate, which is not valid Unicode."
    )


def invalid_beta(value: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid 'OpenAI-Beta' header: '{value}'. This API serves the Assistants v2 API only: "
        "send 'OpenAI-Beta: assistants=v2', or no 'OpenAI-Beta' header.",
        code="invalid_beta",
    )


def body_too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request body too large: got {size} bytes, and this API accepts at most {limit} bytes.",
        code="request_too_large",
    )


# --- 401 ----------------------------------------------------------------------------------------------------


def invalid_api_key() -> ApiError:
    return ApiError(401, "Incorrect API key provided.", code="invalid_api_key")


def invalid_idempotency_key(maximum: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid 'Idempotency-Key' header: expected 1 to {maximum} printable characters.",
        code="invalid_idempotency_key",
    )


def idempotency_key_reused() -> ApiError:
    return ApiError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        "Try using a key other than the one used for the original request.",
        param="Idempotency-Key",
        code="idempotency_key_reused",
    )


def idempotency_key_in_use() -> ApiError:
    return ApiError(
        409,
        "A request with the same Idempotency-Key is still being processed. Retry after it completes.",
        code="idempotency_key_in_use",
        headers={"Retry-After": "1"},
    )


def thread_exists(thread_id: str) -> ApiError:
    """An import of a thread id the tenant already has."""
    return ApiError(
        409, f"A thread with id '{thread_id}' already exists.", param="thread.id", code="thread_exists"
    )


def thread_being_deleted(thread_id: str) -> ApiError:
    """An import of a thread id whose deleted thread is still being removed."""
    return ApiError(
        409,
        f"The thread with id '{thread_id}' was deleted and is still being removed. Retry in a minute.",
        param="thread.id",
        code="thread_being_deleted",
        headers={"Retry-After": "60"},
    )


def import_in_progress(thread_id: str) -> ApiError:
    return ApiError(
        409,
        f"Another import of the thread with id '{thread_id}' is in progress. Retry after it completes.",
        param="thread.id",
        code="import_in_progress",
        headers={"Retry-After": "5"},
    )


def import_token_unknown(thread_id: str) -> ApiError:
    return ApiError(
        409,
        f"No import of the thread with id '{thread_id}' is waiting for this 'import_token': it finished, or "
        "its time between parts ran out. Import the thread again from its first part.",
        param="import_token",
        code="import_expired",
    )


def part_out_of_order(oldest: int, newest: int) -> ApiError:
    return invalid_value(
        "messages",
        f"Invalid 'messages': the parts of an import must come oldest first, but this part starts at "
        f"created_at {oldest}, older than {newest} already imported.",
    )


# --- 404 ----------------------------------------------------------------------------------------------------


def message_not_found(message_id: str) -> ApiError:
    return ApiError(404, f"No message found with id '{message_id}'.")


def thread_not_found(thread_id: str) -> ApiError:
    return ApiError(404, f"No thread found with id '{thread_id}'.")


def invalid_url(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})")


# --- 5xx and throttling -------------------------------------------------------------------------------------


def server_error() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type=SERVER_ERROR,
    )


def service_unavailable(retry_after_seconds: int = 1) -> ApiError:
    return ApiError(
        503,
        "The server is temporarily unable to handle your request. Please retry shortly.",
        type=SERVER_ERROR,
        code="service_unavailable",
        headers={"Retry-After": str(retry_after_seconds)},
    )


def outcome_unknown(*, retry_is_safe: bool, retry_after_seconds: int = 1) -> ApiError:
    """A write whose every attempt was lost, late or failed in DynamoDB, and whose outcome a read could not
    tell either: it may or may not have been carried out. ``x-should-retry`` tells the openai SDKs whether to
    retry by themselves: not a create without an Idempotency-Key (its retry could make a second one)."""
    return ApiError(
        503,
        "The server could not confirm whether your request was carried out. Check before you send it again "
        "(a create sent again with the same Idempotency-Key is always safe).",
        type=SERVER_ERROR,
        code="outcome_unknown",
        headers={
            "Retry-After": str(retry_after_seconds),
            "x-should-retry": "true" if retry_is_safe else "false",
        },
        may_have_written=True,
    )


def rate_limited(retry_after_seconds: int) -> ApiError:
    return ApiError(
        429,
        "Rate limit reached for requests. Please try again shortly.",
        type="requests",
        code="rate_limit_exceeded",
        headers={"Retry-After": str(retry_after_seconds)},
    )


def json_type_name(value: object) -> str:
    """How OpenAI names the JSON type of a value in its error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a value"


def _shown(value: object) -> str:
    """A value as OpenAI quoted it: strings in single quotes, anything else as JSON."""
    if isinstance(value, str):
        return f"'{value}'"
    try:
        return json.dumps(value, ensure_ascii=False)[:200]
    except (TypeError, ValueError):
        return json_type_name(value)
