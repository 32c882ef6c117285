"""The API Gateway event as this API reads it: its size first, its request id, and its body made plain JSON
text whatever the client sent (base64, no body at all, any Content-Type)."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from threadkit.contract import errors

SUPPORTED_BETA = "assistants=v2"
_UNPARSABLE = "\x00"  # stands for a body that could not be decoded: never valid JSON
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# The largest body the contract allows is a message of 256,000 four-byte characters sent as JSON escapes
# (12 bytes each) with full metadata: about 3.2 MB. Anything larger is refused before any work.
MAX_BODY_BYTES = 6 * 1024 * 1024


def normalise(event: dict[str, Any]) -> None:
    """Makes the event's body plain text that the resolver reads as JSON, whatever the client sent."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    body = event.get("body")
    if event.get("isBase64Encoded") and body:
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            body = _UNPARSABLE
        event["isBase64Encoded"] = False
        event["body"] = body
    method = str((event.get("requestContext") or {}).get("http", {}).get("method", "")).upper()
    if not body and method in _METHODS_WITH_BODY:
        # No body, or an empty one, is an empty object, as OpenAI read it (the official .NET SDK creates a
        # thread with no body at all): a route whose body has a required field then says which is missing.
        event["body"] = body = "{}"
    if body:
        # Every body of this API is JSON, whatever Content-Type says (OpenAI read it so too).
        headers["content-type"] = "application/json"
    event["headers"] = headers


def request_id(event: dict[str, Any]) -> str:
    context = event.get("requestContext")
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return str(request_id) if request_id else f"req_{uuid.uuid4().hex}"


def check_size(event: dict[str, Any]) -> None:
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise errors.body_too_large(size, MAX_BODY_BYTES)
