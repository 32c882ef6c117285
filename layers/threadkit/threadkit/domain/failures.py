"""What a store failure means for the client: the one place where the storage's errors become the API's."""

from __future__ import annotations

from threadkit.contract import errors
from threadkit.storage import faults

# Seconds a client is told to wait (Retry-After) after a throttled or unavailable store: DynamoDB's throttling
# and brief failures pass within about that, and the client's retries already used the rest of the budget.
RETRY_AFTER_SECONDS = 1


def store_failure(
    exc: faults.StoreError, thread_id: str, message_id: str | None = None, *, retry_is_safe: bool = True
) -> errors.ApiError:
    """The client's error for a store failure: what the client can fix is a 4xx; DynamoDB's throttling a 429
    and its other passing faults a 503, both with ``Retry-After`` (the store's retries already ran out); a
    write whose outcome stayed unknown a 503 that says so (``retry_is_safe``: whether sending the same
    request again cannot do it twice); anything else a bare 500."""
    if exc.uncertain:
        return errors.outcome_unknown(retry_is_safe=retry_is_safe, retry_after_seconds=RETRY_AFTER_SECONDS)
    if isinstance(exc, faults.ThreadMissing):
        return errors.thread_not_found(thread_id)
    if isinstance(exc, faults.MessageMissing) and message_id is not None:
        return errors.message_not_found(message_id)
    if isinstance(exc, faults.ThreadTooLarge):
        return errors.thread_too_large(exc.size, exc.limit)
    if isinstance(exc, faults.TooLarge):
        return errors.message_too_large_to_store(exc.size, exc.limit)
    if isinstance(exc, faults.Throttled):
        return errors.rate_limited(retry_after_seconds=RETRY_AFTER_SECONDS)
    if isinstance(exc, faults.Unavailable):
        return errors.service_unavailable(retry_after_seconds=RETRY_AFTER_SECONDS)
    return errors.server_error()
