"""Texts for the size limits: random four-byte characters that zlib cannot shrink much, text with the
statistics of language, and the largest metadata a request may set."""

from __future__ import annotations

import json
import random
from functools import cache
from typing import Any

from tests.support.api import text_part
from threadkit.contract.models import (
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_TEXT_LENGTH,
)
from threadkit.storage import schema

FOUR_BYTE_FIRST = 0x10000  # the supplementary planes: every character is four bytes of UTF-8
FOUR_BYTE_END = 0x110000


@cache
def random_text(length: int, *, seed: int = 0) -> str:
    """Random characters of four UTF-8 bytes each: 20 bits of entropy a character, so zlib cannot bring the
    text much below three bytes a character (a 256,000-character text stays above 750 KB)."""
    rng = random.Random(seed)
    return "".join(chr(rng.randrange(FOUR_BYTE_FIRST, FOUR_BYTE_END)) for _ in range(length))


def natural_text(length: int, *, seed: int = 0) -> str:
    """Text of four-byte characters with the statistics of language: words of one to four characters (CJK
    Extension B) from a vocabulary of 800, in Zipf's frequencies, written without spaces."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(chr(rng.randrange(0x20000, 0x2A6E0)) for _ in range(rng.randint(1, 4))) for _ in range(800)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return "".join(rng.choices(vocabulary, weights, k=length))[:length]


def text_content(*texts: str) -> list[dict[str, Any]]:
    return [text_part(text) for text in texts]


def largest_random_text(limit: int, *, attachments: list[dict[str, Any]] | None = None) -> str:
    """The longest prefix of one random text whose message (with ``attachments``) takes at most ``limit``
    bytes as stored: the largest message the store holds, within a few bytes."""
    return _largest_random_text(limit, json.dumps(attachments or []))


@cache
def _largest_random_text(limit: int, attachments_json: str) -> str:
    pool = random_text(MAX_TEXT_LENGTH)
    attachments = json.loads(attachments_json)

    def stored(length: int) -> int:
        return schema.stored_size(text_content(pool[:length]), attachments)

    low, high = 0, len(pool)  # stored(low) <= limit < stored(high)
    assert stored(high) > limit
    while high - low > 1:
        middle = (low + high) // 2
        if stored(middle) <= limit:
            low = middle
        else:
            high = middle
    return pool[:low]


LARGEST_TEXTS = {
    "a repeated emoji": "😀" * MAX_TEXT_LENGTH,
    "natural text": natural_text(MAX_TEXT_LENGTH),
}


def largest_metadata(first: int) -> dict[str, str]:
    """The largest metadata a request may set with four-byte characters: 16 pairs, 64-character keys,
    512-character values (1 KB + 32 KB of UTF-8)."""
    return {
        chr(first + n) * MAX_METADATA_KEY_LENGTH: chr(first + 100 + n) * MAX_METADATA_VALUE_LENGTH
        for n in range(MAX_METADATA_PAIRS)
    }


def escaped_metadata() -> dict[str, str]:
    """The largest metadata as the store's reserve counts it: every character one that JSON escapes to six
    bytes (control characters)."""
    escaped = [chr(c) for c in range(0x20) if chr(c) not in "\b\t\n\f\r"]
    return {
        escaped[0] * (MAX_METADATA_KEY_LENGTH - 1) + escaped[n]: escaped[n] * MAX_METADATA_VALUE_LENGTH
        for n in range(MAX_METADATA_PAIRS)
    }
