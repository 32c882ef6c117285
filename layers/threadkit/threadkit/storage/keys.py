"""API keys: who is calling, and for which tenant.

A key is ``sk-`` followed by 48 base-62 characters (285 bits from the OS's CSPRNG), shown once when it is
made. The table keeps only its SHA-256 digest (a key is far too random to guess, so a fast hash is enough),
with its tenant, a name, a short public id, when it was made and whether it is revoked:

    pk = "apikeys", sk = <sha256 hex of the key>

All keys share one small partition, so the key tool can list them with one ``Query``; a request reads its key
with one ``GetItem``, and each container keeps what it read for ``CACHE_SECONDS`` (so a revoked key stops
working within that time, and a busy function reads its key once per that time, not per request).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from threadkit.contract import ids
from threadkit.storage import client
from threadkit.storage.faults import StoreError

KEYS_PK = "apikeys"
KEY_PREFIX = "sk-"
KEY_BODY_LENGTH = 48
CACHE_SECONDS = 30.0
TENANT_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class KeyStoreError(Exception):
    """The key table could not be read or written."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    tenant: str
    name: str
    created_at: int
    revoked_at: int | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def valid_tenant(tenant: str) -> bool:
    return re.fullmatch(TENANT_PATTERN, tenant) is not None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def is_plausible(secret: str) -> bool:
    """Whether ``secret`` could be a key at all: 20 to 256 printable ASCII characters, no spaces. No read is
    spent on anything else (such as the ``OPENAI_API_KEY`` placeholder some SDKs send)."""
    return 20 <= len(secret) <= 256 and secret.isascii() and secret.isprintable() and " " not in secret


def new_secret() -> str:
    return KEY_PREFIX + "".join(secrets.choice(ids.ALPHABET) for _ in range(KEY_BODY_LENGTH))


def key_item(secret: str, key: ApiKey) -> dict[str, Any]:
    """The table's item for ``key``, whose secret is ``secret`` (only its digest is kept)."""
    item: dict[str, Any] = {
        "pk": {"S": KEYS_PK},
        "sk": {"S": digest(secret)},
        "key_id": {"S": key.key_id},
        "tenant": {"S": key.tenant},
        "name": {"S": key.name},
        "created_at": {"N": str(key.created_at)},
    }
    if key.revoked_at is not None:
        item["revoked_at"] = {"N": str(key.revoked_at)}
    return item


def _from_item(item: dict[str, Any]) -> ApiKey:
    revoked = item.get("revoked_at")
    return ApiKey(
        key_id=item["key_id"]["S"],
        tenant=item["tenant"]["S"],
        name=item["name"]["S"],
        created_at=int(item["created_at"]["N"]),
        revoked_at=None if revoked is None else int(revoked["N"]),
    )


class KeyStore:
    def __init__(self, table_name: str, call: client.Caller = client.call) -> None:
        self._call = call
        self._table = table_name

    def create(self, tenant: str, name: str, *, secret: str | None = None) -> tuple[str, ApiKey]:
        """A new key for ``tenant``: (the secret, to show once; what is stored)."""
        secret = secret or new_secret()
        if not valid_tenant(tenant):
            raise ValueError(f"invalid tenant {tenant!r}")
        if not is_plausible(secret):
            raise ValueError("a key is 20 to 256 printable ASCII characters without spaces")
        key = ApiKey(
            key_id="key_" + secrets.token_hex(6),
            tenant=tenant,
            name=name,
            created_at=int(time.time()),
            revoked_at=None,
        )
        try:
            self._call(
                "put_item",
                write=True,
                TableName=self._table,
                Item=key_item(secret, key),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except StoreError as exc:
            raise KeyStoreError(str(exc)) from exc
        return secret, key

    def lookup(self, secret: str) -> ApiKey | None:
        """The key with this secret, or None. One consistent ``GetItem``."""
        try:
            answer = self._call(
                "get_item",
                TableName=self._table,
                Key={"pk": {"S": KEYS_PK}, "sk": {"S": digest(secret)}},
                ConsistentRead=True,
            )
        except StoreError as exc:
            raise KeyStoreError(str(exc)) from exc
        item = answer.get("Item")
        return None if item is None else _from_item(item)

    def list(self) -> list[ApiKey]:
        """Every key, never its secret."""
        found: list[ApiKey] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": KEYS_PK}},
            "ConsistentRead": True,
        }
        try:
            while True:
                answer = self._call("query", **query)
                found += [_from_item(item) for item in answer.get("Items", [])]
                if "LastEvaluatedKey" not in answer:
                    return sorted(found, key=lambda k: (k.tenant, k.created_at, k.key_id))
                query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        except StoreError as exc:
            raise KeyStoreError(str(exc)) from exc

    def revoke(self, key_id: str) -> ApiKey | None:
        """Marks the key with this public id revoked; None when there is none."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "key_id = :id",
            "ExpressionAttributeValues": {":pk": {"S": KEYS_PK}, ":id": {"S": key_id}},
            "ConsistentRead": True,
        }
        try:
            while True:
                answer = self._call("query", **query)
                for item in answer.get("Items", []):
                    updated = self._call(
                        "update_item",
                        write=True,
                        TableName=self._table,
                        Key={"pk": item["pk"], "sk": item["sk"]},
                        UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                        ExpressionAttributeValues={":now": {"N": str(int(time.time()))}},
                        ReturnValues="ALL_NEW",
                    )
                    return _from_item(updated["Attributes"])
                if "LastEvaluatedKey" not in answer:
                    return None
                query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        except StoreError as exc:
            raise KeyStoreError(str(exc)) from exc


class KeyCache:
    """What this container last read of each key, for ``ttl`` seconds (hits and misses alike)."""

    def __init__(self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def get(self, secret: str, load: Callable[[str], ApiKey | None]) -> ApiKey | None:
        hashed = digest(secret)
        now = self._clock()
        with self._lock:
            cached = self._entries.get(hashed)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        key = load(secret)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[hashed] = (now, key)
        return key

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
