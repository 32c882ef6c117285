"""Idempotency records: what an ``Idempotency-Key`` has done, kept in the messages table.

A record lives in the tenant's own partition (``pk`` = ``idempotency#<tenant>``, ``sk`` = the SHA-256 of the
operation and the key), so tenants cannot collide or see each other's keys, and expires through the table's
TTL (``expiration``, 24 hours; an expired record counts as absent even before TTL removes it). It holds:

* ``fingerprint``: a hash of the request, so the same key with another request is told apart;
* ``resource_id``: the id of what the request creates, chosen *before* it is written, so that whoever comes
  next can find out whether it was written (a record never holds a copy of an answer, which may not fit);
* ``status`` (``in_progress`` or ``completed``), and while in progress ``owner`` (a token of the invocation
  that holds it) and ``lease_until`` (epoch milliseconds; past it, another request may take the record over).

Every write here is conditional on the record's owner, so two invocations never both think they own a key.
``idempotency.py`` (domain) decides what to do with what this module finds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from threadkit.storage import client
from threadkit.storage.faults import ConditionFailed, StoreError
from threadkit.storage.settings import get_settings

PARTITION_PREFIX = "idempotency#"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60

Status = Literal["in_progress", "completed"]


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    resource_id: str
    status: Status
    owner: str
    lease_until_ms: int


def _key(tenant: str, operation: str, key: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{operation}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()
    return {"pk": {"S": PARTITION_PREFIX + tenant}, "sk": {"S": digest}}


def _from_item(item: dict[str, Any]) -> IdempotencyRecord:
    status: Status = "completed" if item["status"]["S"] == "completed" else "in_progress"
    return IdempotencyRecord(
        fingerprint=item["fingerprint"]["S"],
        resource_id=item["resource_id"]["S"],
        status=status,
        owner=item.get("owner", {}).get("S", ""),
        lease_until_ms=int(item.get("lease_until", {}).get("N", "0")),
    )


class IdempotencyRecords:
    def __init__(self, table_name: str, call: client.Caller = client.call) -> None:
        self._table = table_name
        self._call = call

    def start(
        self,
        tenant: str,
        operation: str,
        key: str,
        *,
        fingerprint: str,
        resource_id: str,
        owner: str,
        lease_until_ms: int,
        now: int,
    ) -> IdempotencyRecord | None:
        """Writes a new record in progress, owned by ``owner``: None when it is written, else the live record
        that holds the key (an expired one is replaced)."""
        item = {
            **_key(tenant, operation, key),
            "fingerprint": {"S": fingerprint},
            "resource_id": {"S": resource_id},
            "status": {"S": "in_progress"},
            "owner": {"S": owner},
            "lease_until": {"N": str(lease_until_ms)},
            "expiration": {"N": str(now + EXPIRES_AFTER_SECONDS)},
        }
        try:
            self._call(
                "put_item",
                write=True,
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ConditionFailed as exc:
            found = exc.found.get(0)
        except StoreError as exc:
            if not exc.uncertain:
                raise
            try:
                found = self._get(tenant, operation, key)
            except StoreError:
                raise exc from None
            if found is None:
                exc.uncertain = False
                raise
        if found is None:
            raise StoreError("the record's condition failed, but no record was found")
        record = _from_item(found)
        # Our own earlier attempt of this very write, carried out although its answer was lost.
        return None if record.owner == owner and record.status == "in_progress" else record

    def take_over(
        self, tenant: str, operation: str, key: str, *, old_owner: str, owner: str, lease_until_ms: int
    ) -> bool:
        """Makes ``owner`` the owner of a record in progress whose lease has run out; False when another
        request changed the record first."""
        try:
            self._update(
                tenant,
                operation,
                key,
                "SET #owner = :owner, lease_until = :lease",
                "#owner = :old AND #status = :in_progress",
                {
                    ":owner": {"S": owner},
                    ":lease": {"N": str(lease_until_ms)},
                    ":old": {"S": old_owner},
                    ":in_progress": {"S": "in_progress"},
                },
            )
        except ConditionFailed as exc:
            found = exc.found.get(0)
            return found is not None and found.get("owner") == {"S": owner}
        return True

    def reserve(self, tenant: str, operation: str, key: str, *, owner: str, resource_id: str) -> None:
        """Records the id that the owner is about to create (when it takes over from a request that died)."""
        self._owned_update(tenant, operation, key, owner, "SET resource_id = :r", {":r": {"S": resource_id}})

    def complete(self, tenant: str, operation: str, key: str, *, owner: str, resource_id: str) -> None:
        """Marks the record completed: what ``resource_id`` names exists, and answers every repeat."""
        self._owned_update(
            tenant,
            operation,
            key,
            owner,
            "SET #status = :done, resource_id = :r REMOVE lease_until",
            {":done": {"S": "completed"}, ":r": {"S": resource_id}},
        )

    def expire_lease(self, tenant: str, operation: str, key: str, *, owner: str) -> None:
        """Lets the next request with this key take the record over at once (its owner has given up)."""
        self._owned_update(tenant, operation, key, owner, "SET lease_until = :zero", {":zero": {"N": "0"}})

    def release(self, tenant: str, operation: str, key: str, *, owner: str) -> None:
        """Removes the record: its request failed and wrote nothing, so a repeat runs again."""
        try:
            self._call(
                "delete_item",
                write=True,
                TableName=self._table,
                Key=_key(tenant, operation, key),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ConditionFailed:
            return  # gone already (an earlier attempt of this delete), or no longer ours

    def _owned_update(
        self, tenant: str, operation: str, key: str, owner: str, expression: str, values: dict[str, Any]
    ) -> None:
        try:
            values = {**values, ":owner": {"S": owner}}
            self._update(tenant, operation, key, expression, "#owner = :owner", values)
        except ConditionFailed as exc:
            raise StoreError("the idempotency record is no longer owned by this request") from exc

    def _update(
        self, tenant: str, operation: str, key: str, expression: str, condition: str, values: dict[str, Any]
    ) -> None:
        names = {"#owner": "owner"}
        if "#status" in expression or "#status" in condition:
            names["#status"] = "status"
        self._call(
            "update_item",
            write=True,
            TableName=self._table,
            Key=_key(tenant, operation, key),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def _get(self, tenant: str, operation: str, key: str) -> dict[str, Any] | None:
        answer = self._call(
            "get_item", TableName=self._table, Key=_key(tenant, operation, key), ConsistentRead=True
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item


def get_records() -> IdempotencyRecords:
    """The records on the configured table (a light object: built when asked, never stale)."""
    return IdempotencyRecords(get_settings().table_name)
