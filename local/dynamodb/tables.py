"""Table operations: CreateTable, DescribeTable, DeleteTable, ListTables and the time-to-live setting.

Tables are ACTIVE as soon as they exist. Capacity, encryption, streams, deletion protection and tags
are accepted and not acted on; the time-to-live setting is remembered, but nothing expires items.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from typing import Any

from .database import Database, Table
from .exceptions import DynamoError, invalid, validation
from .params import array, boolean, choice, integer, mapping, members, optional_text, text

ACCOUNT = "000000000000"
_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
MAX_INDEXES = 20


def _check_name(name: str, field: str) -> None:
    if not _NAME.fullmatch(name):
        raise validation(
            f"1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255"
        )


def _key_schema(raw: list[Any], types: dict[str, str], where: str) -> list[dict[str, str]]:
    elements = [members(element, where) for element in raw]
    kinds = [element.get("KeyType") for element in elements]
    if kinds not in (["HASH"], ["HASH", "RANGE"]):
        raise invalid(f"{where}: the first key must be HASH and an optional second one RANGE")
    schema = []
    for element in elements:
        name = element.get("AttributeName")
        if not isinstance(name, str) or not name:
            raise invalid(f"{where}: every key needs an AttributeName")
        if name not in types:
            defined = ", ".join(sorted(types))
            raise invalid(
                f"Some index key attributes are not defined in AttributeDefinitions. Keys: [{name}], "
                f"AttributeDefinitions: [{defined}]"
            )
        schema.append({"AttributeName": name, "KeyType": str(element["KeyType"])})
    if len(schema) == 2 and schema[0]["AttributeName"] == schema[1]["AttributeName"]:
        raise invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    return schema


def _throughput(body: dict[str, Any]) -> dict[str, int]:
    given = mapping(body, "ProvisionedThroughput", required=False)
    units = {name: integer(given, name, 0) or 0 for name in ("ReadCapacityUnits", "WriteCapacityUnits")}
    return {"NumberOfDecreasesToday": 0, **units}


def _indexes(body: dict[str, Any], types: dict[str, str], table_arn: str) -> list[dict[str, Any]]:
    described = []
    names: set[str] = set()
    raw = array(body, "GlobalSecondaryIndexes")
    if len(raw) > MAX_INDEXES:
        raise invalid(f"GlobalSecondaryIndex count exceeds {MAX_INDEXES}")
    for element in raw:
        index = members(element, "GlobalSecondaryIndexes")
        name = text(index, "IndexName")
        _check_name(name, "globalSecondaryIndexes.member.indexName")
        if name in names:
            raise invalid(f"Duplicate index name: {name}")
        names.add(name)
        schema = _key_schema(array(index, "KeySchema", 1, 2), types, f"Index {name} KeySchema")
        projection = mapping(index, "Projection")
        kind = choice(projection, "ProjectionType", ("ALL", "KEYS_ONLY", "INCLUDE"), "ALL")
        shown: dict[str, Any] = {"ProjectionType": kind}
        if kind == "INCLUDE":
            include = array(projection, "NonKeyAttributes", 1, 100)
            if not all(isinstance(attribute, str) and attribute for attribute in include):
                raise invalid("NonKeyAttributes must be attribute names")
            shown["NonKeyAttributes"] = include
        elif projection.get("NonKeyAttributes"):
            raise invalid("ProjectionType is not INCLUDE, but NonKeyAttributes is specified")
        described.append(
            {
                "IndexName": name,
                "KeySchema": schema,
                "Projection": shown,
                "IndexArn": f"{table_arn}/index/{name}",
                "ProvisionedThroughput": _throughput(index),
            }
        )
    return described


def create_table(db: Database, region: str, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "TableName")
    _check_name(name, "tableName")
    if body.get("LocalSecondaryIndexes"):
        raise validation("LocalSecondaryIndexes are not supported by this embedded DynamoDB")
    types: dict[str, str] = {}
    for element in array(body, "AttributeDefinitions", 1):
        declared = members(element, "AttributeDefinitions")
        attribute = text(declared, "AttributeName")
        if attribute in types:
            raise invalid("Cannot have two attributes with the same name")
        types[attribute] = choice(declared, "AttributeType", ("S", "N", "B"), "")
        if not types[attribute]:
            raise invalid(f"AttributeType of {attribute} must be S, N or B")
    key_schema = _key_schema(array(body, "KeySchema", 1, 2), types, "KeySchema")
    table_arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
    indexes = _indexes(body, types, table_arn)
    used = {e["AttributeName"] for e in key_schema}
    used.update(e["AttributeName"] for index in indexes for e in index["KeySchema"])
    if used != set(types):
        raise invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions"
        )
    mode = choice(body, "BillingMode", ("PROVISIONED", "PAY_PER_REQUEST"), "PROVISIONED")
    now = time.time()
    definition: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in types.items()],
        "CreationDateTime": now,
        "ProvisionedThroughput": _throughput(body),
        "TableArn": table_arn,
        "TableId": str(uuid.uuid4()),
        "BillingModeSummary": {"BillingMode": mode, "LastUpdateToPayPerRequestDateTime": now},
        "DeletionProtectionEnabled": boolean(body, "DeletionProtectionEnabled"),
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    with db.transaction():
        if db.has_table(name):
            raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
        table = db.create_table(definition)
        return {"TableDescription": describe(db, table)}


def describe(db: Database, table: Table, status: str = "ACTIVE") -> dict[str, Any]:
    """What DescribeTable shows: the definition plus the live status and counts."""
    description = copy.deepcopy(table.definition)
    description["TableStatus"] = status
    description["ItemCount"], description["TableSizeBytes"] = db.counts(table)
    for index in description.get("GlobalSecondaryIndexes", []):
        index["IndexStatus"] = "ACTIVE"
        index["ItemCount"], index["IndexSizeBytes"] = db.counts(table, index["IndexName"])
    return description


def describe_table(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "TableName")
    with db.transaction(write=False):
        return {"Table": describe(db, db.table(name))}


def delete_table(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "TableName")
    with db.transaction():
        table = db.table(name)
        description = describe(db, table, status="DELETING")
        db.delete_table(table)
        return {"TableDescription": description}


def list_tables(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    limit = integer(body, "Limit", 1, 100) or 100
    start = optional_text(body, "ExclusiveStartTableName")
    with db.transaction(write=False):
        names = [name for name in db.table_names() if start is None or name > start]
    answer: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        answer["LastEvaluatedTableName"] = names[limit - 1]
    return answer


def update_time_to_live(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "TableName")
    specification = mapping(body, "TimeToLiveSpecification")
    enabled = boolean(specification, "Enabled")
    attribute = text(specification, "AttributeName")
    if not attribute:
        raise validation("TimeToLiveSpecification.AttributeName must not be empty")
    with db.transaction():
        table = db.table(name)
        current = table.ttl.get("TimeToLiveStatus", "DISABLED")
        if enabled and current == "ENABLED":
            raise validation("TimeToLive is already enabled")
        if not enabled and current == "DISABLED":
            raise validation("TimeToLive is already disabled")
        setting = {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute} if enabled else {}
        db.set_ttl(table, setting)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def describe_time_to_live(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "TableName")
    with db.transaction(write=False):
        table = db.table(name)
        return {"TimeToLiveDescription": dict(table.ttl) or {"TimeToLiveStatus": "DISABLED"}}
