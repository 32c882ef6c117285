"""Exactly-once creates with an ``Idempotency-Key`` header (Stripe's convention), whatever their size.

``once`` wraps a create. Before anything is written, the request claims the key with a record that names the
id it is about to create (``records.py``); after the write the record is marked completed. So:

* the same key with the same request returns what the first request created (the same id), re-read from the
  table, for 24 hours: a record holds an id, never a copy of an answer, so a message of any legal size
  replays;
* the same key with a different request (body or thread) is a 400 ``idempotency_key_reused``;
* a request whose twin is still running is a 409 ``idempotency_key_in_use`` with ``Retry-After``: only one of
  them creates anything;
* a create that failed and wrote nothing leaves no record, so a retry runs again; a create whose outcome
  stayed unknown (a 503 that could not be resolved) leaves its record, free to take over at once: the retry
  looks for the id it names, answers it if it was written, and otherwise creates it anew (only a write still
  in flight inside DynamoDB when the retry looked could land after it: DynamoDB gives no bound on that).

Keys are per tenant. Without the header, ``once`` does nothing and reads nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from threadkit.contract import errors
from threadkit.storage import client, records
from threadkit.storage.faults import StoreError

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
EXPIRES_AFTER_SECONDS = records.EXPIRES_AFTER_SECONDS
PARTITION_PREFIX = records.PARTITION_PREFIX
DEFAULT_LEASE_SECONDS = 15.0
"""How long a claim holds when the invocation's deadline is unknown (the creates' function timeout)."""


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise errors.invalid_idempotency_key(MAX_KEY_LENGTH)


def fingerprint(request: Mapping[str, Any]) -> str:
    """A hash of a request as the API understood it (canonical JSON)."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Run:
    """One create under ``once``.

    ``earlier`` is the id an earlier request with the same key created (``completed``) or was about to create
    when it stopped without telling (not ``completed``): the caller answers with it if it exists. Otherwise
    the caller creates ``resource_id``; after taking a record over it first ``reserve``s a new id.
    """

    def __init__(self, tenant: str, operation: str, key: str | None, resource_id: str) -> None:
        self.tenant = tenant
        self.operation = operation
        self.key = key
        self.resource_id = resource_id
        self.earlier: str | None = None
        self.completed = False
        self.owner = secrets.token_hex(16)
        self.owns_record = False

    @property
    def keyed(self) -> bool:
        return self.key is not None

    def reserve(self, resource_id: str) -> None:
        """Names ``resource_id`` as what this run creates (instead of ``earlier``, which does not exist)."""
        self.resource_id = resource_id
        self.earlier = None
        if self.key is not None:
            _write(
                lambda: records.get_records().reserve(
                    self.tenant, self.operation, self.key or "", owner=self.owner, resource_id=resource_id
                )
            )

    def answered_with(self, resource_id: str) -> None:
        """The run answers with ``resource_id`` (its own, or the earlier one it found)."""
        self.resource_id = resource_id


def _write(action: Any) -> None:
    """A record write whose failure must fail the request: a 503 (the store's retries ran out)."""
    try:
        action()
    except StoreError as exc:
        raise errors.service_unavailable() from exc


def _lease_until_ms() -> int:
    left = client.seconds_left()
    seconds = DEFAULT_LEASE_SECONDS if left is None else max(left, 0.0)
    return int((time.time() + seconds) * 1000)


@contextmanager
def once(
    tenant: str, operation: str, key: str | None, request: Mapping[str, Any], resource_id: str
) -> Iterator[Run]:
    """Runs the body once per (tenant, operation, key) within 24 hours; without a key, just runs it."""
    run = Run(tenant, operation, key, resource_id)
    if key is None:
        yield run
        return
    check_key(key)
    _claim(run, fingerprint(request))
    try:
        yield run
    except errors.ApiError as exc:
        _finish_failed(run, may_have_written=exc.may_have_written)
        raise
    except BaseException:
        _finish_failed(run, may_have_written=True)
        raise
    if run.owns_record:
        _quietly(
            lambda: records.get_records().complete(
                tenant, operation, key, owner=run.owner, resource_id=run.resource_id
            )
        )


def _claim(run: Run, request_hash: str) -> None:
    assert run.key is not None
    table = records.get_records()
    try:
        found = table.start(
            run.tenant,
            run.operation,
            run.key,
            fingerprint=request_hash,
            resource_id=run.resource_id,
            owner=run.owner,
            lease_until_ms=_lease_until_ms(),
            now=int(time.time()),
        )
        if found is None:
            run.owns_record = True
            return
        if found.fingerprint != request_hash:
            raise errors.idempotency_key_reused()
        if found.status == "completed":
            run.earlier, run.completed = found.resource_id, True
            return
        if found.lease_until_ms > time.time() * 1000 or not table.take_over(
            run.tenant,
            run.operation,
            run.key,
            old_owner=found.owner,
            owner=run.owner,
            lease_until_ms=_lease_until_ms(),
        ):
            raise errors.idempotency_key_in_use()
        run.owns_record = True
        run.earlier = found.resource_id
    except StoreError as exc:
        raise errors.service_unavailable() from exc


def _finish_failed(run: Run, *, may_have_written: bool) -> None:
    """After a failed create: a record that may stand for a written item is kept, free to take over at once;
    one that stands for nothing is removed, so that a retry runs again."""
    if not run.owns_record or run.key is None:
        return
    table = records.get_records()
    if may_have_written:
        _quietly(lambda: table.expire_lease(run.tenant, run.operation, run.key or "", owner=run.owner))
    else:
        _quietly(lambda: table.release(run.tenant, run.operation, run.key or "", owner=run.owner))


def _quietly(action: Any) -> None:
    """A record write whose failure the answer does not depend on: the lease runs out by itself, and the next
    request with the key finds out what happened from the id the record names."""
    try:
        action()
    except StoreError:
        return
