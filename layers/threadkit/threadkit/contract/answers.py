"""How big an answer is, counted the way Lambda counts it, and the limits that keep every answer under it.

A function's answer reaches API Gateway as Lambda's response payload, at most 6 MiB (6,291,456 bytes). The
payload is the handler's proxy response serialized as JSON, in which the API's answer (itself JSON) is one
string: every quote, backslash and control character in it is escaped once more. So an answer's size here is
the UTF-8 length of its JSON *as a JSON string*, and the limits below leave room for the proxy response's
own keys and headers:

* a single message (create, retrieve, modify, and each message of a list) takes at most ``MESSAGE_LIMIT``:
  a create whose message would take more is refused with a 400 that names the limit;
* a list page holds messages while they fit in ``PAGE_LIMIT`` in all, then ends early with ``has_more: true``
  (a page always holds at least one message, which fits by the first rule).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
MESSAGE_LIMIT = 6_000_000
"""Bytes a message's answer may take; below the payload limit by room for the proxy response's keys and
headers, a list's envelope, and the largest metadata a later modify may add."""
PAGE_LIMIT = 6_000_000
"""Bytes a list page's messages may take together."""


def to_json(value: Any) -> str:
    """The API's JSON: compact, UTF-8 as it is (what every function answers with)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def payload_size(model: BaseModel) -> int:
    """Bytes ``model``'s JSON takes inside Lambda's response payload (escaped as a JSON string)."""
    text = to_json(model.model_dump(mode="json"))
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")) - 2
