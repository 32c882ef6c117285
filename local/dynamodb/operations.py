"""The single-item operations (PutItem, GetItem, UpdateItem, DeleteItem) and the checked write
actions that they share with TransactWriteItems and BatchWriteItem.

A write goes in three steps: :func:`prepare_write` checks the request and parses its expressions
without touching storage; inside the database transaction :func:`locate` finds the table and the
item's key, and :func:`evaluate` reads the current item, tests the condition and computes the new
item. Only then is anything written, so a refused write changes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .attributes import (
    Item,
    check_attributes,
    check_item_key,
    check_item_size,
    check_key,
    value_size,
)
from .database import Database, Table
from .evaluation import apply_update, holds, project
from .exceptions import DynamoError, condition_failed, validation
from .expressions import parse_condition, parse_projection, parse_update
from .params import boolean, choice, mapping, refuse_legacy, text
from .syntax import Action, Condition, Placeholders

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


@dataclass(frozen=True)
class Write:
    """A checked Put, Update, Delete or ConditionCheck, not yet run."""

    kind: str
    table_name: str
    item: Item | None  # Put only
    key: Item | None  # the others
    condition: Condition | None
    actions: list[Action] | None  # Update only
    old_on_failure: bool
    request_size: int  # the item or key plus the expression values, for the transaction size limit


@dataclass
class Outcome:
    """What a write would do: the item before and after, or why it cannot be done."""

    table: Table
    key: tuple[bytes, bytes]
    old: Item | None
    new: Item | None
    failure: DynamoError | None = None


def prepare_write(kind: str, body: dict[str, Any]) -> Write:
    refuse_legacy(body)
    table_name = text(body, "TableName")
    placeholders = Placeholders(body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"))
    item = key = None
    if kind == "Put":
        item = check_attributes(mapping(body, "Item"))
        check_item_size(item)
    else:
        key = check_attributes(mapping(body, "Key"))
    actions = None
    if kind == "Update" and body.get("UpdateExpression") is not None:
        actions = parse_update(body["UpdateExpression"], placeholders)
    condition = None
    if body.get("ConditionExpression") is not None:
        condition = parse_condition(body["ConditionExpression"], "ConditionExpression", placeholders)
    elif kind == "ConditionCheck":
        raise validation("ConditionExpression must be given for a ConditionCheck")
    placeholders.check_all_used()
    on_failure = choice(body, "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"), "NONE")
    size = sum(len(name.encode()) + value_size(value) for name, value in (item or key or {}).items())
    size += sum(value_size(value) for value in placeholders.values.values())
    return Write(kind, table_name, item, key, condition, actions, on_failure == "ALL_OLD", size)


def locate(db: Database, write: Write) -> tuple[Table, tuple[bytes, bytes], Item]:
    """The write's table, the encoded key of its item and the key attributes themselves."""
    table = db.table(write.table_name)
    if write.item is not None:
        check_item_key(table.key, write.item)
        table.check_index_keys(write.item)
        key_item = table.key.project(write.item)
    else:
        key_item = check_key(table.key, write.key)
    return table, table.key.encode(key_item), key_item


def evaluate(db: Database, write: Write, table: Table, key: tuple[bytes, bytes], key_item: Item) -> Outcome:
    """Reads the item and works out the write; a failed condition is reported in the outcome, while a
    broken update (an operand of the wrong type, say) raises its ValidationException."""
    old = db.get(table, key)
    if write.condition is not None and not holds(write.condition, old or {}):
        shown = old if write.old_on_failure else None
        return Outcome(table, key, old, old, condition_failed(shown))
    new: Item | None
    if write.kind == "Put":
        new = write.item
    elif write.kind == "Update":
        base = old if old is not None else dict(key_item)
        new = apply_update(write.actions, base, table.key.names()) if write.actions else copy.deepcopy(base)
        check_item_size(new)
        table.check_index_keys(new)
    elif write.kind == "Delete":
        new = None
    else:
        new = old
    return Outcome(table, key, old, new)


def _run(db: Database, write: Write) -> Outcome:
    with db.transaction():
        table, key, key_item = locate(db, write)
        outcome = evaluate(db, write, table, key, key_item)
        if outcome.failure is not None:
            raise outcome.failure
        db.write(table, key, outcome.old, outcome.new)
        return outcome


def _return_values(body: dict[str, Any], allowed: tuple[str, ...]) -> str:
    wanted = choice(body, "ReturnValues", RETURN_VALUES, "NONE")
    if wanted not in allowed:
        raise validation("Return values set to invalid value")
    return wanted


def _attributes(item: Item | None) -> dict[str, Any]:
    return {"Attributes": item} if item else {}


def put_item(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    wanted = _return_values(body, ("NONE", "ALL_OLD"))
    outcome = _run(db, prepare_write("Put", body))
    return _attributes(outcome.old) if wanted == "ALL_OLD" else {}


def delete_item(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    wanted = _return_values(body, ("NONE", "ALL_OLD"))
    outcome = _run(db, prepare_write("Delete", body))
    return _attributes(outcome.old) if wanted == "ALL_OLD" else {}


def update_item(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    wanted = _return_values(body, RETURN_VALUES)
    write = prepare_write("Update", body)
    outcome = _run(db, write)
    paths = [action.path for action in write.actions or []]
    if wanted == "ALL_OLD":
        return _attributes(outcome.old)
    if wanted == "ALL_NEW":
        return _attributes(outcome.new)
    if wanted == "UPDATED_OLD":
        return _attributes(project(outcome.old or {}, paths))
    if wanted == "UPDATED_NEW":
        return _attributes(project(outcome.new or {}, paths))
    return {}


def get_item(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    refuse_legacy(body)
    table_name = text(body, "TableName")
    raw_key = mapping(body, "Key")
    placeholders = Placeholders(body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"))
    projection = None
    if body.get("ProjectionExpression") is not None:
        projection = parse_projection(body["ProjectionExpression"], placeholders)
    placeholders.check_all_used()
    boolean(body, "ConsistentRead")
    with db.transaction(write=False):
        table = db.table(table_name)
        key_item = check_key(table.key, raw_key)
        item = db.get(table, table.key.encode(key_item))
    if item is None:
        return {}
    return {"Item": project(item, projection) if projection is not None else item}
