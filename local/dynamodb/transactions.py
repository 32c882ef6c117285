"""TransactWriteItems, TransactGetItems, BatchWriteItem and BatchGetItem.

A transaction checks every action first, then evaluates all of them against the stored items and
writes only if every condition holds; otherwise it is cancelled with one reason per action, in order.
A ClientRequestToken makes a successful TransactWriteItems idempotent for ten minutes: a repeat of
the same request answers success and changes nothing, a different request with that token is refused.
The batch operations run each call as one atomic unit and never leave anything unprocessed.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from .attributes import Item, check_attributes, check_key
from .database import Database
from .evaluation import project
from .exceptions import DynamoError, validation
from .expressions import parse_projection
from .operations import Outcome, Write, evaluate, locate, prepare_write
from .params import array, boolean, mapping, members, one_of, optional_text, text
from .syntax import Placeholders

MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_SIZE = 4 * 1024 * 1024
MAX_BATCH_WRITE = 25
MAX_BATCH_GET = 100
WRITE_ACTIONS = ("Put", "Update", "Delete", "ConditionCheck")
_SAME_ITEM = "Transaction request cannot include multiple operations on one item"


def _reason(outcome: Outcome | None, failure: DynamoError | None) -> dict[str, Any]:
    if failure is not None:
        return {"Code": "ValidationError", "Message": failure.message}
    if outcome is None or outcome.failure is None:
        return {"Code": "None"}
    reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    reason.update(outcome.failure.extra)
    return reason


def _digest(body: dict[str, Any]) -> str:
    request = {name: value for name, value in body.items() if name != "ClientRequestToken"}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def transact_write_items(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    entries = array(body, "TransactItems", 1, MAX_TRANSACTION_ITEMS)
    token = optional_text(body, "ClientRequestToken")
    if token is not None and not 1 <= len(token) <= 36:
        raise validation("ClientRequestToken must be 1 to 36 characters long")
    writes: list[Write] = []
    for entry in entries:
        kind, action = one_of(members(entry, "TransactItems"), WRITE_ACTIONS, "TransactItems")
        writes.append(prepare_write(kind, action))
    if sum(write.request_size for write in writes) > MAX_TRANSACTION_SIZE:
        raise validation("Transaction request cannot be larger than 4 MB")
    digest = _digest(body)
    with db.transaction():
        now = time.time()
        if token is not None:
            previous = db.token_digest(token, now)
            if previous == digest:
                return {}
            if previous is not None:
                raise DynamoError(
                    "IdempotentParameterMismatchException",
                    "The request uses the same client token as a previous, but non-identical request.",
                )
        located = [locate(db, write) for write in writes]
        seen: set[tuple[str, bytes, bytes]] = set()
        for table, key, _ in located:
            if (table.name, *key) in seen:
                raise validation(_SAME_ITEM)
            seen.add((table.name, *key))
        outcomes: list[Outcome | None] = []
        failures: list[DynamoError | None] = []
        for write, (table, key, key_item) in zip(writes, located, strict=True):
            try:
                outcomes.append(evaluate(db, write, table, key, key_item))
                failures.append(None)
            except DynamoError as exc:
                if exc.code != "ValidationException":
                    raise
                outcomes.append(None)
                failures.append(exc)
        reasons = [_reason(outcome, failure) for outcome, failure in zip(outcomes, failures, strict=True)]
        if any(reason["Code"] != "None" for reason in reasons):
            codes = ", ".join(reason["Code"] for reason in reasons)
            raise DynamoError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                extra={"CancellationReasons": reasons},
            )
        for write, outcome in zip(writes, outcomes, strict=True):
            if outcome is not None and write.kind != "ConditionCheck":
                db.write(outcome.table, outcome.key, outcome.old, outcome.new)
        if token is not None:
            db.remember_token(token, digest, now)
    return {}


def transact_get_items(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    entries = array(body, "TransactItems", 1, MAX_TRANSACTION_ITEMS)
    gets = []
    for entry in entries:
        _, get = one_of(members(entry, "TransactItems"), ("Get",), "TransactItems")
        placeholders = Placeholders(get.get("ExpressionAttributeNames"), get.get("ExpressionAttributeValues"))
        projection = None
        if get.get("ProjectionExpression") is not None:
            projection = parse_projection(get["ProjectionExpression"], placeholders)
        placeholders.check_all_used()
        gets.append((text(get, "TableName"), mapping(get, "Key"), projection))
    responses: list[dict[str, Any]] = []
    with db.transaction(write=False):
        seen: set[tuple[str, bytes, bytes]] = set()
        found: list[tuple[Item | None, Any]] = []
        for table_name, raw_key, projection in gets:
            table = db.table(table_name)
            key = table.key.encode(check_key(table.key, raw_key))
            if (table.name, *key) in seen:
                raise validation(_SAME_ITEM)
            seen.add((table.name, *key))
            found.append((db.get(table, key), projection))
    for item, projection in found:
        if item is None:
            responses.append({})
        else:
            responses.append({"Item": project(item, projection) if projection is not None else item})
    return {"Responses": responses}


def batch_write_item(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    requests = mapping(body, "RequestItems")
    if not requests:
        raise validation("RequestItems must not be empty")
    writes: list[Write] = []
    for table_name, entries in requests.items():
        for entry in array({"RequestItems": entries}, "RequestItems", 1, MAX_BATCH_WRITE):
            kind, request = one_of(members(entry, table_name), ("PutRequest", "DeleteRequest"), table_name)
            if kind == "PutRequest":
                writes.append(prepare_write("Put", {"TableName": table_name, "Item": request.get("Item")}))
            else:
                writes.append(prepare_write("Delete", {"TableName": table_name, "Key": request.get("Key")}))
    if len(writes) > MAX_BATCH_WRITE:
        raise validation("Too many items requested for the BatchWriteItem call")
    with db.transaction():
        located = [locate(db, write) for write in writes]
        seen: set[tuple[str, bytes, bytes]] = set()
        for table, key, _ in located:
            if (table.name, *key) in seen:
                raise validation("Provided list of item keys contains duplicates")
            seen.add((table.name, *key))
        for write, (table, key, key_item) in zip(writes, located, strict=True):
            outcome = evaluate(db, write, table, key, key_item)
            db.write(table, key, outcome.old, outcome.new)
    return {"UnprocessedItems": {}}


def batch_get_item(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    requests = mapping(body, "RequestItems")
    if not requests:
        raise validation("RequestItems must not be empty")
    plans = []
    total = 0
    for table_name, raw in requests.items():
        request = members(raw, table_name)
        keys = [check_attributes(key) for key in array(request, "Keys", 1, MAX_BATCH_GET)]
        total += len(keys)
        placeholders = Placeholders(request.get("ExpressionAttributeNames"), None)
        projection = None
        if request.get("ProjectionExpression") is not None:
            projection = parse_projection(request["ProjectionExpression"], placeholders)
        placeholders.check_all_used()
        boolean(request, "ConsistentRead")
        plans.append((table_name, keys, projection))
    if total > MAX_BATCH_GET:
        raise validation("Too many items requested for the BatchGetItem call")
    responses: dict[str, list[Item]] = {}
    with db.transaction(write=False):
        for table_name, keys, projection in plans:
            table = db.table(table_name)
            encoded = [table.key.encode(check_key(table.key, key)) for key in keys]
            if len(set(encoded)) != len(encoded):
                raise validation("Provided list of item keys contains duplicates")
            found = responses.setdefault(table_name, [])
            for key in encoded:
                item = db.get(table, key)
                if item is not None:
                    found.append(project(item, projection) if projection is not None else item)
    return {"Responses": responses, "UnprocessedKeys": {}}
