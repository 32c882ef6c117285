"""Identifiers: OpenAI-shaped, unguessable, and ordered by creation time.

A message id is ``msg_`` followed by 24 base-62 characters. The alphabet is ``0-9A-Za-z``, which is also its
ASCII order, so comparing two ids as strings compares them as numbers. The first 10 characters are the
creation time in microseconds since the Unix epoch (enough until the year 28,000), the last 14 are random
(83 bits from the operating system's CSPRNG). So:

* ids sort in creation order, and the store uses the id itself as the sort key: a cursor is a key position;
* ids minted by concurrent Lambdas cannot collide (same microsecond *and* same 83 random bits);
* within one process, ids are strictly increasing even when the clock stalls or steps back.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
BODY_LENGTH = 24
TIME_LENGTH = 10
RANDOM_LENGTH = BODY_LENGTH - TIME_LENGTH
_RANDOM_SPACE = 62**RANDOM_LENGTH
_BODY_SPACE = 62**BODY_LENGTH

MESSAGE_PREFIX = "msg_"
THREAD_PREFIX = "thread_"


def encode(number: int, width: int) -> str:
    """``number`` in base 62, left-padded with ``0`` to ``width`` characters."""
    if number < 0 or number >= 62**width:
        raise ValueError(f"{number} does not fit in {width} base-62 digits")
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def decode(text: str) -> int:
    """The number written in base 62 by ``text``; ``ValueError`` when a character is not base 62."""
    number = 0
    for char in text:
        try:
            number = number * 62 + _INDEX[char]
        except KeyError:
            raise ValueError(f"not a base-62 digit: {char!r}") from None
    return number


def is_well_formed(value: str, prefix: str) -> bool:
    """Whether ``value`` is ``prefix`` followed by exactly 24 base-62 characters."""
    body = value[len(prefix) :]
    return value.startswith(prefix) and len(body) == BODY_LENGTH and all(c in _INDEX for c in body)


def neighbour(value: str, prefix: str, step: int) -> str | None:
    """The well-formed id ``step`` (+1 or -1) away from ``value``, or None past either end of the space."""
    number = decode(value[len(prefix) :]) + step
    if not 0 <= number < _BODY_SPACE:
        return None
    return prefix + encode(number, BODY_LENGTH)


def lowest(prefix: str) -> str:
    return prefix + ALPHABET[0] * BODY_LENGTH


def highest(prefix: str) -> str:
    return prefix + ALPHABET[-1] * BODY_LENGTH


def micros_of(value: str, prefix: str) -> int:
    """The creation time, in microseconds, that a well-formed id carries."""
    return decode(value[len(prefix) : len(prefix) + TIME_LENGTH])


class IdFactory:
    """Mints time-ordered ids. One per process; thread-safe."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._last_micros = 0
        self._lock = threading.Lock()

    def _next_micros(self) -> int:
        with self._lock:
            micros = max(self._clock_ns() // 1000, self._last_micros + 1)
            self._last_micros = micros
            return micros

    def new(self, prefix: str) -> tuple[str, int]:
        """A new id with ``prefix`` and its creation time in whole seconds (the API's ``created_at``)."""
        micros = self._next_micros()
        body = encode(micros, TIME_LENGTH) + encode(secrets.randbelow(_RANDOM_SPACE), RANDOM_LENGTH)
        return prefix + body, micros // 1_000_000


default_factory = IdFactory()
