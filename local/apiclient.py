"""A small HTTP client for the Assistants API routes the migration command calls (``local/migrate.py``).

Standard library only (urllib), so the installed command needs nothing beyond the project's runtime
dependencies. Every call sends ``Authorization: Bearer <key>`` and ``OpenAI-Beta: assistants=v2``; answers
are JSON. Throttling (429), unavailability (502, 503, 504), a 409 that says "still running" or carries
``Retry-After``, and connection failures are retried a bounded number of times, waiting what Retry-After
asks (capped) or an exponential back-off; every write this command sends carries an ``Idempotency-Key``,
so a repeat is safe.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "threads-api/0.1"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A 409 with one of these codes means "another request for the same thing is running": wait and send again
# (as for any 409 that carries Retry-After).
RETRY_CONFLICTS = frozenset({"idempotency_key_in_use", "import_in_progress"})
DEFAULT_ATTEMPTS = 6
DEFAULT_TIMEOUT = 300.0
BACKOFF_FIRST = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 120.0


class ApiError(Exception):
    """A request that did not succeed: an error answer (``status`` set) or no answer at all (``status`` 0).
    ``uncertain_before``: an earlier attempt of it got no answer, or one that leaves open whether it was
    carried out (a 5xx, or a 409 saying the same request is still running)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        attempts: int = 1,
        uncertain_before: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.attempts = attempts
        self.uncertain_before = uncertain_before

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no answer"
        code = f" {self.code}" if self.code else ""
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{where}{code}: {self.message}{tries}"


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds to wait (it holds seconds or an HTTP date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def _error_of(answer: _Answer) -> tuple[str, str | None]:
    """The envelope's message and code, or a short description of a body that is not the envelope."""
    try:
        envelope = json.loads(answer.body)
        error = envelope["error"]
        message = error.get("message") or ""
        code = error.get("code")
        return str(message), (str(code) if code is not None else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        text = answer.body[:200].decode("utf-8", "replace").strip()
        return (text or http.client.responses.get(answer.status, "error")), None


@dataclass
class Endpoint:
    """One API: its base URL (ending in ``/v1`` or wherever its routes start) and key."""

    base_url: str
    api_key: str
    attempts: int = DEFAULT_ATTEMPTS
    timeout: float = DEFAULT_TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    on_retry: Callable[[str], None] | None = None
    _opener: urllib.request.OpenerDirector = field(default_factory=urllib.request.build_opener, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        scheme = urllib.parse.urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {self.base_url!r}")

    def url(self, *segments: str, query: Mapping[str, str | int | None] | None = None) -> str:
        path = "/".join(urllib.parse.quote(segment, safe="") for segment in segments)
        params = {key: str(value) for key, value in (query or {}).items() if value is not None}
        return f"{self.base_url}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")

    def get(self, *segments: str, query: Mapping[str, str | int | None] | None = None) -> Any:
        return self.request("GET", self.url(*segments, query=query))

    def post(self, body: bytes, *segments: str, idempotency_key: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self.request("POST", self.url(*segments), body=body, headers=headers)

    def request(
        self, method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        """Sends the request, retrying what may be retried; returns the decoded JSON of a 2xx answer."""
        all_headers = {
            "Authorization": f"Bearer {self.api_key}",
            "OpenAI-Beta": "assistants=v2",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        attempt = 0
        uncertain = False
        while True:
            attempt += 1
            wait: float | None
            try:
                answer = self._send(method, url, body, all_headers)
            except (OSError, http.client.HTTPException) as exc:
                if attempt >= self.attempts:
                    message = f"{method} {url}: {_reason(exc)}"
                    raise ApiError(0, message, attempts=attempt, uncertain_before=uncertain) from exc
                wait, why, uncertain = None, _reason(exc), True
            else:
                if 200 <= answer.status < 300:
                    try:
                        return json.loads(answer.body)
                    except ValueError as exc:
                        raise ApiError(answer.status, f"{method} {url}: the answer is not JSON") from exc
                message, code = _error_of(answer)
                retryable = answer.status in RETRY_STATUSES or (
                    answer.status == 409 and (code in RETRY_CONFLICTS or "retry-after" in answer.headers)
                )
                if not retryable or attempt >= self.attempts:
                    raise ApiError(answer.status, message, code, attempt, uncertain)
                wait, why = retry_after_seconds(answer.headers.get("retry-after")), f"HTTP {answer.status}"
                uncertain = uncertain or answer.status >= 500 or code in RETRY_CONFLICTS
            delay = min(wait, RETRY_AFTER_CAP) if wait is not None else _backoff(attempt)
            if self.on_retry is not None:
                self.on_retry(f"{why}; retrying in {delay:g} s ({attempt}/{self.attempts - 1})")
            self.sleep(delay)

    def _send(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> _Answer:
        request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _Answer(response.status, _lower(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return _Answer(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in items}


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1)))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return f"connection failed ({exc.reason})"
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"connection failed ({detail})"
