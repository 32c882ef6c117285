"""Query and Scan, on a table or on one of its global secondary indexes.

A Query turns its key condition into one partition and a range of sort keys, which the database
reads in order; a Scan walks every key in order. Both stop, as DynamoDB does, after ``Limit`` items
or once the items read reach 1 MB (the item that crosses the line is still part of the page), and
then hand back ``LastEvaluatedKey`` even when nothing follows. The filter is applied to the items
read, after the limit, so a page may hold fewer items than ``Limit``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from .attributes import Item, KeySchema, Value, check_attributes, encode_key, successor, type_of
from .database import Database, Index, Row, Table
from .evaluation import holds, project
from .exceptions import invalid, validation
from .expressions import parse_condition, parse_projection
from .params import boolean, choice, integer, optional_text, refuse_legacy, text
from .syntax import Between, Call, Comparison, Condition, In, Literal, Logical, Not, Path, Placeholders

PAGE_SIZE = 1024 * 1024
SELECT = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
Bound = tuple[bytes, bool] | None


@dataclass(frozen=True)
class _Read:
    """The parts shared by Query and Scan, checked."""

    table_name: str
    index_name: str | None
    placeholders: Placeholders
    filter: Condition | None
    projection: list[Path] | None
    select: str
    limit: int | None
    consistent: bool


def _read(body: dict[str, Any], placeholders: Placeholders) -> _Read:
    """Parses the filter and projection; the caller has parsed any key condition first."""
    refuse_legacy(body)
    for name in ("Segment", "TotalSegments"):
        if name in body:
            raise validation("Parallel scans (Segment, TotalSegments) are not supported by this server")
    table_name = text(body, "TableName")
    index_name = optional_text(body, "IndexName")
    condition = None
    if body.get("FilterExpression") is not None:
        condition = parse_condition(body["FilterExpression"], "FilterExpression", placeholders)
    projection = None
    if body.get("ProjectionExpression") is not None:
        projection = parse_projection(body["ProjectionExpression"], placeholders)
    placeholders.check_all_used()
    default = "ALL_ATTRIBUTES" if index_name is None else "ALL_PROJECTED_ATTRIBUTES"
    if projection is not None:
        default = "SPECIFIC_ATTRIBUTES"
    select = choice(body, "Select", SELECT, default)
    if projection is not None and select != "SPECIFIC_ATTRIBUTES":
        raise validation(f"Cannot specify the ProjectionExpression when choosing to get {select}")
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        raise validation("Select SPECIFIC_ATTRIBUTES needs a ProjectionExpression")
    if select == "ALL_PROJECTED_ATTRIBUTES" and index_name is None:
        raise validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    limit = integer(body, "Limit", 1)
    consistent = boolean(body, "ConsistentRead")
    return _Read(table_name, index_name, placeholders, condition, projection, select, limit, consistent)


def _index(table: Table, read: _Read) -> Index | None:
    if read.index_name is None:
        return None
    index = table.indexes.get(read.index_name)
    if index is None:
        raise validation(f"The table does not have the specified index: {read.index_name}")
    if read.consistent:
        raise validation("Consistent reads are not supported on global secondary indexes")
    if read.select == "ALL_ATTRIBUTES" and index.projection != "ALL":
        raise invalid(
            f"Select type ALL_ATTRIBUTES is not supported for global secondary index {index.name} because "
            "its projection type is not ALL"
        )
    return index


def _key_names(table: Table, index: Index | None) -> list[str]:
    names = index.key.names() if index is not None else []
    return names + [name for name in table.key.names() if name not in names]


def _start(raw: object, table: Table, index: Index | None) -> Item | None:
    """The checked ExclusiveStartKey: exactly the key attributes of the table (and index)."""
    if raw is None:
        return None
    start = check_attributes(raw)
    wanted = {
        name: kind for schema in (table.key, *([index.key] if index else [])) for name, kind in schema.parts()
    }
    if start.keys() != wanted.keys() or any(type_of(start[name]) != kind for name, kind in wanted.items()):
        raise validation(
            "The provided starting key is invalid: The provided key element does not match the schema"
        )
    return start


def _page(rows: Generator[Row, None, None], read: _Read, key_names: list[str]) -> dict[str, Any]:
    items: list[Item] = []
    count = scanned = size = 0
    last: Item | None = None
    try:
        for row in rows:
            scanned += 1
            size += row.size
            if read.filter is None or holds(read.filter, row.item):
                count += 1
                if read.select != "COUNT":
                    items.append(project(row.item, read.projection) if read.projection else row.item)
            if (read.limit is not None and scanned >= read.limit) or size >= PAGE_SIZE:
                last = {name: row.item[name] for name in key_names}
                break
    finally:
        rows.close()
    answer: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
    if read.select != "COUNT":
        answer["Items"] = items
    if last is not None:
        answer["LastEvaluatedKey"] = last
    return answer


def _conjuncts(condition: Condition) -> list[Condition]:
    if isinstance(condition, Logical):
        if condition.op != "AND":
            raise validation("Invalid operator used in KeyConditionExpression: OR")
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _key_value(operand: object, name: str, kind: str) -> bytes:
    if not isinstance(operand, Literal):
        raise validation("Invalid KeyConditionExpression: the key must be compared with an expression value")
    value: Value = operand.value
    if type_of(value) != kind:
        raise invalid("Condition parameter type does not match schema type")
    if kind in ("S", "B") and not value[kind]:
        raise validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            f"cannot contain an empty string value. Key: {name}"
        )
    return encode_key(value)


def _subject(condition: Condition) -> str:
    if isinstance(condition, Comparison | Between):
        subject = condition.left if isinstance(condition, Comparison) else condition.subject
    elif isinstance(condition, Call) and condition.name == "begins_with":
        subject = condition.args[0]
    else:
        raise validation("Invalid operator used in KeyConditionExpression")
    if not isinstance(subject, Path) or len(subject.elements) != 1:
        raise validation("Invalid KeyConditionExpression: key conditions must name a key attribute")
    return str(subject.elements[0])


def key_range(condition: Condition, schema: KeySchema) -> tuple[bytes, tuple[Bound, Bound]]:
    """The partition and the sort-key bounds that a KeyConditionExpression selects."""
    parts = _conjuncts(condition)
    if len(parts) > 2:
        raise validation("Conditions can be of length 1 or 2 only")
    by_name: dict[str, Condition] = {}
    for part in parts:
        name = _subject(part)
        if name in by_name:
            raise validation("KeyConditionExpressions must only contain one condition per key")
        if name not in schema.names():
            raise validation(f"Query condition missed key schema element: {schema.hash_name}")
        by_name[name] = part
    hash_part = by_name.get(schema.hash_name)
    if hash_part is None:
        raise validation(f"Query condition missed key schema element: {schema.hash_name}")
    if not isinstance(hash_part, Comparison) or hash_part.op != "=":
        raise validation("Query key condition not supported")
    hash_key = _key_value(hash_part.right, schema.hash_name, schema.hash_type)
    range_part = by_name.get(schema.range_name or "")
    if range_part is None or schema.range_name is None or schema.range_type is None:
        return hash_key, (None, None)
    name, kind = schema.range_name, schema.range_type
    if isinstance(range_part, Between):
        low, high = _key_value(range_part.low, name, kind), _key_value(range_part.high, name, kind)
        return hash_key, ((low, True), (high, True))
    if isinstance(range_part, Call):
        if kind == "N":
            raise validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
                "operator or function: begins_with, operand type: N"
            )
        prefix = _key_value(range_part.args[1], name, kind)
        after = successor(prefix)
        return hash_key, ((prefix, True), (after, False) if after is not None else None)
    assert isinstance(range_part, Comparison)
    value = _key_value(range_part.right, name, kind)
    bounds: dict[str, tuple[Bound, Bound]] = {
        "=": ((value, True), (value, True)),
        "<": (None, (value, False)),
        "<=": (None, (value, True)),
        ">": ((value, False), None),
        ">=": ((value, True), None),
    }
    if range_part.op not in bounds:
        raise validation("Query key condition not supported")
    return hash_key, bounds[range_part.op]


def _names(node: object) -> Iterator[str]:
    """The top-level attribute names that a condition refers to."""
    if isinstance(node, Path):
        yield str(node.elements[0])
    elif isinstance(node, Logical):
        yield from _names(node.left)
        yield from _names(node.right)
    elif isinstance(node, Not):
        yield from _names(node.condition)
    elif isinstance(node, Comparison):
        yield from _names(node.left)
        yield from _names(node.right)
    elif isinstance(node, Between):
        for operand in (node.subject, node.low, node.high):
            yield from _names(operand)
    elif isinstance(node, In):
        for operand in (node.subject, *node.choices):
            yield from _names(operand)
    elif isinstance(node, Call):
        for operand in node.args:
            yield from _names(operand)


def _check_filter(condition: Condition | None, schema: KeySchema) -> None:
    """A Query's filter may not test the key it queries by: that belongs in the key condition."""
    if condition is None:
        return
    for name in _names(condition):
        if name in schema.names():
            raise validation(
                "Filter Expression can only contain non-primary key attributes: "
                f"Primary key attribute: {name}"
            )


def query(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    placeholders = Placeholders(body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"))
    if body.get("KeyConditionExpression") is None:
        refuse_legacy(body)
        raise validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        )
    key_condition = parse_condition(body["KeyConditionExpression"], "KeyConditionExpression", placeholders)
    read = _read(body, placeholders)
    forward = boolean(body, "ScanIndexForward", default=True)
    with db.transaction(write=False):
        table = db.table(read.table_name)
        index = _index(table, read)
        schema = index.key if index is not None else table.key
        hash_key, bounds = key_range(key_condition, schema)
        _check_filter(read.filter, schema)
        start = _start(body.get("ExclusiveStartKey"), table, index)
        position = None
        if start is not None:
            start_hash, start_range = schema.encode(start)
            if start_hash != hash_key:
                raise validation(
                    "The provided starting key is outside query boundaries based on provided conditions"
                )
            position = (start_range, *table.key.encode(start)) if index is not None else (start_range,)
        rows = db.query(table, index, hash_key, bounds, forward, position)
        return _page(rows, read, _key_names(table, index))


def scan(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    placeholders = Placeholders(body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"))
    read = _read(body, placeholders)
    with db.transaction(write=False):
        table = db.table(read.table_name)
        index = _index(table, read)
        start = _start(body.get("ExclusiveStartKey"), table, index)
        position: tuple[bytes, ...] | None = None
        if start is not None:
            position = table.key.encode(start)
            if index is not None:
                position = (*index.key.encode(start), *position)
        rows = db.scan(table, index, position)
        return _page(rows, read, _key_names(table, index))
