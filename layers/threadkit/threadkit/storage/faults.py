"""What can go wrong in a DynamoDB call, as the store's own errors, and how a failed attempt is classified.

``client.call`` classifies each failed attempt (``classify``): whether it is worth another attempt, and
whether, for a write, it may have been carried out all the same. What is left when the attempts run out is
raised as one of the errors below; nothing outside the storage code sees botocore's exceptions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ProxyConnectionError,
)


class StoreError(Exception):
    """DynamoDB failed in a way the client cannot fix.

    ``uncertain`` is True when the failed call was a write that may have been carried out nonetheless: one of
    its attempts was sent and its answer was lost, late, or a DynamoDB 5xx (which DynamoDB documents as
    "may or may not have succeeded").
    """

    def __init__(self, message: str = "", *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


class NotFound(StoreError):
    """The addressed item does not exist (a failed existence condition)."""


class ThreadMissing(NotFound):
    """The thread does not exist, or is deleted."""


class MessageMissing(NotFound):
    """The message does not exist in that thread."""


class ThreadExists(StoreError):
    """An import met an item of that thread: a live thread, or a deleted one not yet purged
    (``being_deleted``)."""

    def __init__(self, thread_id: str, *, being_deleted: bool) -> None:
        super().__init__(thread_id)
        self.being_deleted = being_deleted


class ImportRunning(StoreError):
    """Another import of that thread holds it, and its lease has not run out."""


class ImportLost(StoreError):
    """A later part of an import whose marker is gone or another import's (it finished, or timed out)."""


class PartOutOfOrder(StoreError):
    """A part of an import older than the parts before it: ``oldest`` of it, ``newest`` stored so far."""

    def __init__(self, oldest: int, newest: int) -> None:
        super().__init__(f"part from {oldest}, after {newest}")
        self.oldest = oldest
        self.newest = newest


class Throttled(StoreError):
    """DynamoDB throttled the request, even after the retries."""


class Unavailable(StoreError):
    """DynamoDB failed, was unreachable, did not answer in time, or met a conflicting transaction, even after
    the retries (or no time was left for another attempt): worth sending again shortly."""


class TooLarge(StoreError):
    """A message whose content and attachments take more than ``limit`` bytes as stored."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, limit {limit}")
        self.size = size
        self.limit = limit


class ThreadTooLarge(TooLarge):
    """A thread's initial messages exceed what one transaction can write."""


class ConditionFailed(StoreError):
    """A write's condition failed: nothing was written by this attempt.

    ``failed`` holds the indexes of the transaction's actions whose condition failed (``(0,)`` for a single
    write); ``found`` the item each of them met, when it existed and was asked for (``ALL_OLD``).
    """

    def __init__(
        self, failed: tuple[int, ...], found: dict[int, dict[str, Any]], *, uncertain: bool = False
    ) -> None:
        super().__init__(f"condition failed on {list(failed)}", uncertain=uncertain)
        self.failed = failed
        self.found = found


class Fault(enum.Enum):
    """How a failed attempt ended."""

    CONDITION = "condition"  # a condition failed: final, nothing written
    THROTTLED = "throttled"  # not carried out; worth another attempt after a longer wait
    REFUSED = "refused"  # not carried out (a conflicting transaction, no connection): worth another attempt
    LOST = "lost"  # sent, and its answer lost, late or a 5xx: may have been carried out
    BROKEN = "broken"  # anything else: a bug, a missing table or permission; final


RETRYABLE = frozenset({Fault.THROTTLED, Fault.REFUSED, Fault.LOST})

_THROTTLING = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_THROTTLING_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
_CONFLICTS = frozenset({"TransactionConflictException"})
_IN_PROGRESS = frozenset({"TransactionInProgressException"})
# No connection was made, so nothing was sent.
_UNREACHED = (ConnectTimeoutError, EndpointConnectionError, ProxyConnectionError)


@dataclass(frozen=True)
class Attempt:
    """One failed attempt: how it ended, and for a condition failure what failed."""

    fault: Fault
    failed: tuple[int, ...] = ()
    found: dict[int, dict[str, Any]] | None = None


def classify(exc: ClientError | BotoCoreError) -> Attempt:
    """How the attempt that raised ``exc`` ended."""
    if isinstance(exc, BotoCoreError):
        # A connection that was never made sent nothing; any other failure of the connection (a read timeout,
        # a connection closed or reset mid-way) may have happened after DynamoDB received the request.
        return Attempt(Fault.REFUSED if isinstance(exc, _UNREACHED) else Fault.LOST)
    response: dict[str, Any] = dict(exc.response)
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "ConditionalCheckFailedException":
        item = response.get("Item")
        return Attempt(Fault.CONDITION, (0,), {0: item} if isinstance(item, dict) and item else {})
    if code == "TransactionCanceledException":
        return _cancelled(response.get("CancellationReasons") or [])
    if code in _THROTTLING:
        return Attempt(Fault.THROTTLED)
    if code in _CONFLICTS:
        return Attempt(Fault.REFUSED)
    if code in _IN_PROGRESS:
        # The same ClientRequestToken is still being carried out.
        return Attempt(Fault.LOST)
    if isinstance(status, int) and status >= 500:
        # DynamoDB's InternalServerError / ServiceUnavailable, or any 5xx in between (an HTML page from a
        # proxy included): DynamoDB says such a request may or may not have been carried out.
        return Attempt(Fault.LOST)
    return Attempt(Fault.BROKEN)


def _cancelled(reasons: list[dict[str, Any]]) -> Attempt:
    codes = [str(reason.get("Code") or "None") for reason in reasons]
    failed = tuple(index for index, code in enumerate(codes) if code == "ConditionalCheckFailed")
    if failed:
        found = {
            index: reasons[index]["Item"]
            for index in failed
            if isinstance(reasons[index].get("Item"), dict) and reasons[index]["Item"]
        }
        return Attempt(Fault.CONDITION, failed, found)
    if any(code in _THROTTLING_REASONS for code in codes):
        return Attempt(Fault.THROTTLED)
    if any(code == "TransactionConflict" for code in codes):
        return Attempt(Fault.REFUSED)
    return Attempt(Fault.BROKEN)


def final_error(attempt: Attempt, exc: Exception, *, uncertain: bool) -> StoreError:
    """The store's error for a call whose last attempt ended as ``attempt``."""
    if attempt.fault is Fault.CONDITION:
        return ConditionFailed(attempt.failed, attempt.found or {}, uncertain=uncertain)
    if attempt.fault is Fault.THROTTLED:
        return Throttled(_describe(exc), uncertain=uncertain)
    if attempt.fault in RETRYABLE:
        return Unavailable(_describe(exc), uncertain=uncertain)
    return StoreError(_describe(exc), uncertain=uncertain)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code')}: {str(error.get('Message', ''))[:200]}"
    return f"{type(exc).__name__}: {exc}"[:300]
