"""Exactly-once creates with an ``Idempotency-Key`` header (Stripe's convention), on Powertools' idempotency
utility with its records in the messages table.

* The same key with the same request returns the first answer (same id), for 24 hours.
* The same key with a different request (body or thread) is a 400 ``idempotency_key_reused``.
* A request whose twin is still running is a 409 ``idempotency_key_in_use`` with ``Retry-After``: only one of
  them creates anything.
* Keys are per tenant: records live in the tenant's own partition (``pk`` = ``idempotency#<tenant>``, ``sk`` =
  the hashed key), so tenants cannot collide or see each other's keys, and the table's TTL on ``expiration``
  removes them (Powertools also treats an expired record as absent, whenever TTL gets to it).
* A failed create (a 4xx or 5xx) leaves no record, so a retry runs again.

Without the header none of this is imported or read: no cold-start or DynamoDB cost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from threadkit import errors, store
from threadkit.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

HEADER = "idempotency-key"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255
PARTITION_PREFIX = "idempotency#"


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.invalid_idempotency_key(MAX_KEY_LENGTH)


def run_once(
    *,
    tenant: str,
    operation: str,
    key: str,
    request: dict[str, Any],
    context: LambdaContext | None,
    create: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """``create()``'s answer, computed once per (tenant, operation, key) within 24 hours."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    check_key(key)
    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=PARTITION_PREFIX + tenant,
        boto3_client=store.dynamodb_client(),
    )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        lambda_context=context,
    )

    @idempotent_function(
        data_keyword_argument="attempt", persistence_store=persistence, config=config, key_prefix=operation
    )
    def attempt_once(attempt: dict[str, Any]) -> dict[str, Any]:
        return create()

    try:
        result: dict[str, Any] = attempt_once(attempt={"key": key, "request": request})
    except IdempotencyValidationError as exc:
        raise errors.idempotency_key_reused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise errors.idempotency_key_in_use() from exc
    except IdempotencyPersistenceLayerError as exc:
        # The record could not be read or written even after the client's retries.
        raise errors.service_unavailable() from exc
    return result
