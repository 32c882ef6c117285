"""The errors this server answers with, in the shape DynamoDB puts on the wire."""

from __future__ import annotations

from typing import Any

TYPE_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class DynamoError(Exception):
    """An error for the client: DynamoDB's error code, its message, the HTTP status and any extra
    top-level fields (``Item`` for a failed condition, ``CancellationReasons`` for a transaction)."""

    def __init__(
        self, code: str, message: str, *, status: int = 400, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The JSON object sent back, as botocore expects to parse it."""
        return {"__type": TYPE_PREFIX + self.code, "message": self.message, **self.extra}


def validation(message: str) -> DynamoError:
    """The most common refusal: the request breaks one of DynamoDB's rules."""
    return DynamoError("ValidationException", message)


def invalid(message: str) -> DynamoError:
    """A parameter value that DynamoDB rejects; its messages share this opening."""
    return validation("One or more parameter values were invalid: " + message)


def table_not_found(name: str) -> DynamoError:
    return DynamoError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")


def condition_failed(item: dict[str, Any] | None) -> DynamoError:
    """A write whose condition did not hold; ``item`` is the current item when the client asked for it."""
    extra = {"Item": item} if item is not None else None
    return DynamoError("ConditionalCheckFailedException", "The conditional request failed", extra=extra)
