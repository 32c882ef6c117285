"""What an id in a request's path or query means: a 400 when it is not an id of that kind at all, a 404 when
it is one this API could never have minted (no read spent on it), a key position when it is a cursor."""

from __future__ import annotations

from threadkit.contract import errors, ids

MAX_ID_LENGTH = 128
"""The longest ``run_id`` a list accepts."""


def check_thread_id(thread_id: str) -> None:
    """A 400 for an id that is not a thread id at all; a 404 for one this API never minted."""
    if not thread_id.startswith(ids.THREAD_PREFIX):
        raise errors.invalid_id("thread_id", thread_id, "thread")
    if not ids.is_well_formed(thread_id, ids.THREAD_PREFIX):
        raise errors.thread_not_found(thread_id)


def check_message_id(message_id: str) -> None:
    if not message_id.startswith(ids.MESSAGE_PREFIX):
        raise errors.invalid_id("message_id", message_id, "msg")


def cursor(param: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not ids.is_well_formed(value, ids.MESSAGE_PREFIX):
        raise errors.invalid_cursor(param, value)
    return value
