"""The embedded DynamoDB-compatible server (local/dynamodb), driven by real boto3 clients.

Each rule checked here is DynamoDB's documented behaviour; the last tests run the same operations
against moto and against this server and compare what the common cases answer.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.dynamodb import EmbeddedDynamoDB
from local.dynamodb.attributes import encode_key, normalise_number
from local.dynamodb.protocol import Service

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "BillingMode": "PAY_PER_REQUEST",
}


_SESSION: list[boto3.session.Session] = []


def make_client(endpoint: str) -> Any:
    """A client of its own; they share one session, which loads the service model once (creating the
    clients happens on the test's thread; using them from several threads is safe)."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )


def raw_call(
    endpoint: str, operation: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One request written by hand, for what botocore would refuse to send."""
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        connection.request(
            "POST",
            "/",
            body=data,
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
                **(headers or {}),
            },
        )
        answer = connection.getresponse()
        assert answer.getheader("Content-Type") == "application/x-amz-json-1.0"
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def error_of(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value


def code_of(call: Any, **kwargs: Any) -> str:
    code: str = error_of(call, **kwargs).response["Error"]["Code"]
    return code


def message_of(call: Any, **kwargs: Any) -> str:
    message: str = error_of(call, **kwargs).response["Error"]["Message"]
    return message


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: object) -> dict[str, str]:
    return {"N": str(value)}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedDynamoDB]:
    with EmbeddedDynamoDB(None) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: EmbeddedDynamoDB) -> Any:
    return make_client(server.endpoint)


def create(client: Any, range_type: str = "S", indexes: list[dict[str, Any]] | None = None) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    definitions = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": range_type},
    ]
    extra: dict[str, Any] = {}
    if indexes:
        definitions += [
            {"AttributeName": "gpk", "AttributeType": "S"},
            {"AttributeName": "gsk", "AttributeType": "N"},
        ]
        extra["GlobalSecondaryIndexes"] = indexes
    client.create_table(TableName=name, AttributeDefinitions=definitions, **KEYS, **extra)
    return name


def by_gsi(projection: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "IndexName": "by-g",
        "KeySchema": [
            {"AttributeName": "gpk", "KeyType": "HASH"},
            {"AttributeName": "gsk", "KeyType": "RANGE"},
        ],
        "Projection": projection or {"ProjectionType": "ALL"},
    }


@pytest.fixture
def table(client: Any) -> str:
    return create(client)


# --- tables -------------------------------------------------------------------------------------------------


def test_given_a_new_table_when_described_then_it_is_active_with_dynamodb_fields(client: Any) -> None:
    name = create(client, indexes=[by_gsi()])
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    described = client.describe_table(TableName=name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert uuid.UUID(described["TableId"])
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["KeySchema"] == KEYS["KeySchema"]
    assert (described["ItemCount"], described["TableSizeBytes"]) == (0, 0)
    assert "CreationDateTime" in described
    (index,) = described["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["IndexStatus"]) == ("by-g", "ACTIVE")
    again = {
        "AttributeDefinitions": described["AttributeDefinitions"],
        "GlobalSecondaryIndexes": [by_gsi()],
        **KEYS,
    }
    assert code_of(client.create_table, TableName=name, **again) == "ResourceInUseException"


def test_given_tables_when_listed_by_pages_then_names_come_in_order_with_a_continuation(client: Any) -> None:
    names = sorted(create(client) for _ in range(3))
    listed = client.list_tables()["TableNames"]
    assert [name for name in listed if name in names] == names
    first = client.list_tables(ExclusiveStartTableName=names[0], Limit=1)
    assert first["TableNames"] == [listed[listed.index(names[0]) + 1]]
    assert first["LastEvaluatedTableName"] == first["TableNames"][0]
    assert "LastEvaluatedTableName" not in client.list_tables(ExclusiveStartTableName=listed[-2], Limit=5)


def test_given_a_table_arn_instead_of_its_name_then_requests_reach_the_table(client: Any, table: str) -> None:
    arn = client.describe_table(TableName=table)["Table"]["TableArn"]
    client.put_item(TableName=arn, Item={"pk": s("a"), "sk": s("1")})
    assert client.get_item(TableName=table, Key={"pk": s("a"), "sk": s("1")})["Item"] == {
        "pk": s("a"),
        "sk": s("1"),
    }


def test_given_a_table_when_deleted_then_it_is_gone(client: Any, table: str) -> None:
    assert client.delete_table(TableName=table)["TableDescription"]["TableStatus"] == "DELETING"
    assert code_of(client.describe_table, TableName=table) == "ResourceNotFoundException"
    assert (
        code_of(client.get_item, TableName=table, Key={"pk": s("a"), "sk": s("b")})
        == "ResourceNotFoundException"
    )
    assert code_of(client.delete_table, TableName=table) == "ResourceNotFoundException"


def test_given_a_ttl_setting_when_described_then_it_is_remembered(client: Any, table: str) -> None:
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert (
        client.update_time_to_live(TableName=table, TimeToLiveSpecification=spec)["TimeToLiveSpecification"]
        == spec
    )
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    assert (
        code_of(client.update_time_to_live, TableName=table, TimeToLiveSpecification=spec)
        == "ValidationException"
    )


def test_given_local_secondary_indexes_when_creating_then_they_are_refused_plainly(client: Any) -> None:
    lsi = [{"IndexName": "lsi", "KeySchema": KEYS["KeySchema"], "Projection": {"ProjectionType": "ALL"}}]
    definitions = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    error = error_of(
        client.create_table,
        TableName="with-lsi",
        AttributeDefinitions=definitions,
        LocalSecondaryIndexes=lsi,
        **KEYS,
    )
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "LocalSecondaryIndexes" in error.response["Error"]["Message"]


# --- items --------------------------------------------------------------------------------------------------


def test_given_items_when_put_got_and_deleted_then_all_old_returns_the_previous_item(
    client: Any, table: str
) -> None:
    key = {"pk": s("a"), "sk": s("1")}
    assert "Attributes" not in client.put_item(
        TableName=table, Item={**key, "v": n(1)}, ReturnValues="ALL_OLD"
    )
    old = client.put_item(TableName=table, Item={**key, "v": n(2)}, ReturnValues="ALL_OLD")["Attributes"]
    assert old == {**key, "v": n(1)}
    assert client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"] == {**key, "v": n(2)}
    assert client.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")["Attributes"] == {
        **key,
        "v": n(2),
    }
    assert "Item" not in client.get_item(TableName=table, Key=key)
    assert "Attributes" not in client.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert (
        code_of(client.put_item, TableName=table, Item=key, ReturnValues="ALL_NEW") == "ValidationException"
    )


def test_given_a_projection_when_getting_then_only_those_paths_come_back(client: Any, table: str) -> None:
    item = {
        "pk": s("a"),
        "sk": s("1"),
        "m": {"M": {"x": n(1), "y": {"M": {"z": s("deep")}}}},
        "l": {"L": [s("l0"), s("l1"), s("l2")]},
        "name": s("kept"),
    }
    client.put_item(TableName=table, Item=item)
    got = client.get_item(
        TableName=table,
        Key={"pk": s("a"), "sk": s("1")},
        ProjectionExpression="m.y.z, l[2], l[0], #n, absent",
        ExpressionAttributeNames={"#n": "name"},
    )["Item"]
    assert got == {
        "m": {"M": {"y": {"M": {"z": s("deep")}}}},
        "l": {"L": [s("l0"), s("l2")]},
        "name": s("kept"),
    }
    overlap = {"TableName": table, "Key": {"pk": s("a"), "sk": s("1")}, "ProjectionExpression": "m, m.x"}
    assert "overlap" in message_of(client.get_item, **overlap)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.0010", "0.001"),
        ("+7", "7"),
        ("-12.3400e-2", "-0.1234"),
    ],
)
def test_given_a_number_when_stored_then_it_comes_back_normalised(
    client: Any, table: str, sent: str, stored: str
) -> None:
    key = {"pk": s("n"), "sk": s(sent)}
    client.put_item(TableName=table, Item={**key, "v": n(sent), "ns": {"NS": [sent]}})
    item = client.get_item(TableName=table, Key=key)["Item"]
    assert (item["v"], item["ns"]) == (n(stored), {"NS": [stored]})


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("1" * 38, True),
        ("1" * 39, False),
        ("1" * 38 + "000", True),
        ("9.9E125", True),
        ("1E126", False),
        ("1E-130", True),
        ("1E-131", False),
        ("abc", False),
        ("NaN", False),
    ],
)
def test_given_numbers_at_dynamodb_limits_then_only_valid_ones_are_stored(
    client: Any, table: str, number: str, accepted: bool
) -> None:
    item = {"pk": s("n"), "sk": s("limits"), "v": n(number)}
    if accepted:
        client.put_item(TableName=table, Item=item)
    else:
        assert code_of(client.put_item, TableName=table, Item=item) == "ValidationException"


def test_given_items_near_400_kb_then_the_dynamodb_size_rule_decides(client: Any, table: str) -> None:
    # pk(2) + "a"(1) + sk(2) + "1"(1) + "d"(1) = 7 bytes besides the string.
    fits = {"pk": s("a"), "sk": s("1"), "d": s("x" * (409_600 - 7))}
    client.put_item(TableName=table, Item=fits)
    too_big = {"pk": s("a"), "sk": s("1"), "d": s("x" * (409_600 - 6))}
    assert (
        message_of(client.put_item, TableName=table, Item=too_big)
        == "Item size has exceeded the maximum allowed size"
    )
    grow = {"TableName": table, "Key": {"pk": s("a"), "sk": s("1")}, "UpdateExpression": "SET e = :e"}
    assert (
        code_of(client.update_item, **grow, ExpressionAttributeValues={":e": s("y")}) == "ValidationException"
    )


def test_given_an_item_of_every_type_when_stored_then_table_size_follows_dynamodb_rule(
    client: Any, table: str
) -> None:
    item = {
        "pk": s("ab"),  # 2 + 2
        "sk": s("c"),  # 2 + 1
        "n": n("123.45"),  # 1 + (5 digits -> 3 + 1)
        "m": {"M": {"x": {"BOOL": True}}},  # 1 + 3 + (1 + 1)
        "l": {"L": [{"NULL": True}]},  # 1 + 3 + 1
        "ss": {"SS": ["a", "bc"]},  # 2 + 3
        "b": {"B": b"\x00\x01\x02"},  # 1 + 3
    }
    client.put_item(TableName=table, Item=item)
    described = client.describe_table(TableName=table)["Table"]
    assert (described["ItemCount"], described["TableSizeBytes"]) == (1, 4 + 3 + 5 + 6 + 5 + 5 + 4)
    assert client.get_item(TableName=table, Key={"pk": s("ab"), "sk": s("c")})["Item"] == item


def test_given_bad_keys_then_writes_and_reads_are_refused_with_dynamodb_messages(client: Any) -> None:
    table = create(client, indexes=[by_gsi()])
    assert "Missing the key sk" in message_of(client.put_item, TableName=table, Item={"pk": s("a")})
    assert "Type mismatch for key sk" in message_of(
        client.put_item, TableName=table, Item={"pk": s("a"), "sk": n(1)}
    )
    assert "empty string" in message_of(client.put_item, TableName=table, Item={"pk": s(""), "sk": s("1")})
    bad_index = {"pk": s("a"), "sk": s("1"), "gpk": s("g"), "gsk": s("not a number")}
    assert "Type mismatch for Index Key gsk" in message_of(client.put_item, TableName=table, Item=bad_index)
    assert message_of(client.get_item, TableName=table, Key={"pk": s("a")}) == (
        "The provided key element does not match the schema"
    )
    extra = {"pk": s("a"), "sk": s("1"), "x": s("y")}
    assert (
        message_of(client.delete_item, TableName=table, Key=extra)
        == "The provided key element does not match the schema"
    )
    client.put_item(TableName=table, Item={"pk": s("a"), "sk": s("1"), "empty": s(""), "gpk": s("g")})


def test_given_legacy_parameters_then_they_are_refused_rather_than_ignored(client: Any, table: str) -> None:
    item = {"pk": s("a"), "sk": s("1")}
    error = error_of(client.put_item, TableName=table, Item=item, Expected={"pk": {"Exists": False}})
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "Expected" in error.response["Error"]["Message"]


# --- conditions ---------------------------------------------------------------------------------------------

ITEM = {
    "pk": s("c"),
    "sk": s("1"),
    "num": n("10"),
    "txt": s("hello world"),
    "bin": {"B": b"\x80\x01"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "tags": {"SS": ["red", "green"]},
    "nums": {"NS": ["1", "2.5"]},
    "lst": {"L": [s("first"), n(2), {"M": {"deep": s("x")}}]},
    "mp": {"M": {"a": {"M": {"b": n(5)}}, "dotted.name": s("odd")}},
    "emoji": s("\U0001f600"),
}
VALUES = {
    ":ten": n("10.0"),
    ":nine": n(9),
    ":eleven": n(11),
    ":hello": s("hello"),
    ":world": s("world"),
    ":ten_s": s("10"),
    ":red": s("red"),
    ":two5": n("2.5"),
    ":first": s("first"),
    ":S": s("S"),
    ":SS": s("SS"),
    ":low_bin": {"B": b"\x7f"},
    ":half_width": s("\uff61"),
    ":five": n(5),
    ":odd": s("odd"),
    ":three": n(3),
    ":eleven_s": n(11),
    ":two": n(2),
}


@pytest.fixture(scope="module")
def conditions_table(server: EmbeddedDynamoDB) -> str:
    client = make_client(server.endpoint)
    table = create(client)
    client.put_item(TableName=table, Item=ITEM)
    return table


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("num = :ten", True),
        ("num <> :ten", False),
        ("num = :ten_s", False),  # a number never equals a string
        ("num <> :ten_s", True),
        ("num < :ten_s", False),  # ordering across types is neither smaller nor greater
        ("num >= :ten_s", False),
        ("num > :nine AND num < :eleven", True),
        ("num <= :ten AND num >= :ten", True),
        ("num BETWEEN :nine AND :eleven", True),
        ("num BETWEEN :eleven AND :eleven_s", False),
        ("num IN (:nine, :ten)", True),
        ("num IN (:nine, :eleven)", False),
        ("absent <> :ten", True),
        ("absent = :ten", False),
        ("absent < :ten", False),
        ("NOT num = :ten", False),
        ("NOT num = :nine OR num = :nine AND num = :nine", True),  # NOT > AND > OR
        ("(NOT num = :nine OR num = :nine) AND num = :nine", False),
        ("num = :nine OR num = :ten AND txt = :hello", False),
        ("attribute_exists(mp.a.b) AND attribute_not_exists(mp.a.c)", True),
        ("attribute_exists(#d)", False),
        ("mp.#d = :odd", True),
        ("attribute_type(txt, :S) AND attribute_type(tags, :SS)", True),
        ("attribute_type(txt, :SS)", False),
        ("begins_with(txt, :hello)", True),
        ("begins_with(txt, :world)", False),
        ("contains(txt, :world)", True),
        ("contains(tags, :red)", True),
        ("contains(nums, :two5)", True),
        ("contains(lst, :first)", True),
        ("contains(tags, :hello)", False),
        ("size(txt) = :eleven AND size(tags) < :three AND size(lst) = :three", True),
        ("size(mp) < :three", True),
        ("size(emoji) = :two", True),  # sizes of strings count UTF-16 code units
        ("size(:hello) > :three", True),
        ("lst[1] = :two5", False),
        ("lst[2].deep = :first", False),
        ("mp.a.b = :five", True),
        ("bin > :low_bin", True),  # binary compares as unsigned bytes
        ("emoji > :half_width", True),  # strings compare by UTF-8 bytes (not UTF-16 units)
        ("flag = :ten", False),
        ("nothing <> :ten", True),
    ],
)
def test_given_an_item_when_a_condition_is_tested_then_it_holds_as_dynamodb_says(
    client: Any, conditions_table: str, expression: str, expected: bool
) -> None:
    table = conditions_table
    names = {"#d": "dotted.name"} if "#d" in expression else None
    used = {key: value for key, value in VALUES.items() if key in re.findall(r":\w+", expression)}
    request: dict[str, Any] = {"TableName": table, "Item": ITEM, "ConditionExpression": expression}
    if used:
        request["ExpressionAttributeValues"] = used
    if names:
        request["ExpressionAttributeNames"] = names
    if expected:
        client.put_item(**request)
    else:
        assert code_of(client.put_item, **request) == "ConditionalCheckFailedException"


def test_given_a_failed_condition_when_all_old_is_asked_then_the_error_carries_the_item(
    client: Any, table: str
) -> None:
    item = {"pk": s("a"), "sk": s("1"), "v": n(1)}
    client.put_item(TableName=table, Item=item)
    request = {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    error = error_of(client.put_item, **request, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error.response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert dict(error.response).get("Item") == item
    assert "Item" not in error_of(client.put_item, **request).response
    absent = {"pk": s("b"), "sk": s("1")}
    error = error_of(
        client.delete_item,
        TableName=table,
        Key=absent,
        ConditionExpression="attribute_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert "Item" not in error.response


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("num = ", "Syntax error"),
        ("num === :v", "Syntax error"),
        ("nosuch(num)", "Invalid function name"),
        ("size(num)", "Syntax error"),
        ("attribute_exists(:v)", "requires a document path"),
        ("size(:n) = :n", "Incorrect operand type"),
        ("begins_with(num)", "Incorrect number of operands"),
        ("attribute_type(num, :v)", "Invalid attribute type name"),
        ("data = :v", "reserved keyword"),
        ("#missing = :v", "attribute name used in the document path is not defined"),
        ("num = :missing AND num = :v", "attribute value used in expression is not defined"),
        ("", "can not be empty"),
    ],
)
def test_given_a_broken_condition_then_it_is_a_validation_error(
    client: Any, table: str, expression: str, message: str
) -> None:
    request = {
        "TableName": table,
        "Item": {"pk": s("a"), "sk": s("1")},
        "ConditionExpression": expression,
        "ExpressionAttributeValues": {":v": s("x"), ":n": n(1)},
    }
    if not expression:
        del request["ExpressionAttributeValues"]
    error = error_of(client.put_item, **request)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert message in error.response["Error"]["Message"]


def test_given_unused_placeholders_then_the_request_is_refused(client: Any, table: str) -> None:
    key = {"pk": s("a"), "sk": s("1")}
    unused_value = message_of(
        client.update_item,
        TableName=table,
        Key=key,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": n(1), ":extra": n(2)},
    )
    assert unused_value == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}"
    unused_name = message_of(
        client.get_item,
        TableName=table,
        Key=key,
        ProjectionExpression="#a",
        ExpressionAttributeNames={"#a": "a", "#b": "b"},
    )
    assert unused_name == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    no_expression = message_of(
        client.get_item, TableName=table, Key=key, ExpressionAttributeNames={"#a": "a"}
    )
    assert no_expression == "ExpressionAttributeNames can only be specified when using expressions"
    # A placeholder used by any one of the request's expressions counts as used.
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #v = :v",
        ConditionExpression="attribute_not_exists(#c) OR #c = :v",
        ExpressionAttributeNames={"#v": "v", "#c": "c"},
        ExpressionAttributeValues={":v": n(1)},
    )


# --- updates ------------------------------------------------------------------------------------------------


def update(
    client: Any, table: str, expression: str, values: dict[str, Any] | None = None, **extra: Any
) -> Any:
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": s("u"), "sk": s("1")},
        "UpdateExpression": expression,
    }
    if values:
        request["ExpressionAttributeValues"] = values
    return client.update_item(**request, **extra)


def test_given_no_item_when_updated_then_it_is_created_with_its_key(client: Any, table: str) -> None:
    new = update(
        client,
        table,
        "SET c = if_not_exists(c, :zero) + :one",
        {":zero": n(0), ":one": n(1)},
        ReturnValues="ALL_NEW",
    )
    assert new["Attributes"] == {"pk": s("u"), "sk": s("1"), "c": n(1)}
    again = update(
        client,
        table,
        "SET c = if_not_exists(c, :zero) + :one",
        {":zero": n(0), ":one": n(1)},
        ReturnValues="UPDATED_OLD",
    )
    assert again["Attributes"] == {"c": n(1)}
    other = {"TableName": table, "Key": {"pk": s("other"), "sk": s("1")}, "UpdateExpression": "SET c = :one"}
    error = error_of(
        client.update_item,
        **other,
        ExpressionAttributeValues={":one": n(1)},
        ConditionExpression="attribute_exists(pk)",
    )
    assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Item" not in client.get_item(TableName=table, Key={"pk": s("other"), "sk": s("1")})
    assert update(client, table, "REMOVE nothing", ReturnValues="ALL_NEW")["Attributes"] == {
        "pk": s("u"),
        "sk": s("1"),
        "c": n(2),
    }


def test_given_every_kind_of_action_when_updating_then_the_item_changes_as_dynamodb_does(
    client: Any, table: str
) -> None:
    start = {
        "pk": s("u"),
        "sk": s("1"),
        "n": n(5),
        "gone": s("x"),
        "lst": {"L": [s("a"), s("b"), s("c"), s("d")]},
        "mp": {"M": {"deep": n(1)}},
        "tags": {"SS": ["a", "b"]},
        "sole": {"SS": ["z"]},
        "colors": {"SS": ["a", "b"]},
    }
    client.put_item(TableName=table, Item=start)
    answer = update(
        client,
        table,
        "REMOVE gone, lst[0], lst[2] ADD n :two, tags :cd, fresh :one DELETE colors :a, sole :z "
        "SET mp.deep = mp.deep - :one, mp.#new = :hello, copied = n, appended = list_append(:pre, lst)",
        {
            ":two": n(2),
            ":cd": {"SS": ["c", "d"]},
            ":one": n(1),
            ":a": {"SS": ["a"]},
            ":z": {"SS": ["z"]},
            ":hello": s("hello"),
            ":pre": {"L": [s("p")]},
        },
        ExpressionAttributeNames={"#new": "new"},
        ReturnValues="ALL_NEW",
    )
    item = answer["Attributes"]
    assert item["n"] == n(7)
    assert item["copied"] == n(5)  # operands read the item as it was before the update
    assert "gone" not in item
    assert "sole" not in item
    assert item["lst"] == {"L": [s("b"), s("d")]}
    assert item["appended"] == {"L": [s("p"), s("a"), s("b"), s("c"), s("d")]}
    assert item["mp"] == {"M": {"deep": n(0), "new": s("hello")}}
    assert sorted(item["tags"]["SS"]) == ["a", "b", "c", "d"]
    assert item["colors"] == {"SS": ["b"]}
    assert item["fresh"] == n(1)
    updated_new = update(
        client, table, "SET n = n + :one, mp.deep = :one", {":one": n(1)}, ReturnValues="UPDATED_NEW"
    )
    assert updated_new["Attributes"] == {"n": n(8), "mp": {"M": {"deep": n(1)}}}
    all_old = update(client, table, "SET n = :one", {":one": n(1)}, ReturnValues="ALL_OLD")
    assert all_old["Attributes"]["n"] == n(8)
    assert "Attributes" not in update(client, table, "SET n = :one", {":one": n(1)})


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        ("SET pk = :v", {":v": s("x")}, "This attribute is part of the key"),
        ("SET a = :v SET b = :v", {":v": s("x")}, 'The "SET" section can only be used once'),
        ("SET a = :v, a.b = :v", {":v": s("x")}, "Two document paths overlap"),
        ("SET a = absent + :v", {":v": n(1)}, "refers to an attribute that does not exist"),
        ("SET a = :v + :v", {":v": s("x")}, "incorrect data type"),
        ("ADD a :v", {":v": s("x")}, "Incorrect operand type"),
        ("DELETE a :v", {":v": n(1)}, "Incorrect operand type"),
        (
            "SET nested.deeper = :v",
            {":v": s("x")},
            "document path provided in the update expression is invalid",
        ),
        ("SET a = size(b)", None, "not allowed in an update expression"),
        ("MERGE a", None, "Syntax error"),
    ],
)
def test_given_a_broken_update_then_it_is_a_validation_error_and_nothing_changes(
    client: Any, table: str, expression: str, values: dict[str, Any] | None, message: str
) -> None:
    key = {"pk": s("u"), "sk": s("1")}
    client.put_item(TableName=table, Item={**key, "kept": s("yes")})
    request: dict[str, Any] = {"TableName": table, "Key": key, "UpdateExpression": expression}
    if values:
        request["ExpressionAttributeValues"] = values
    error = error_of(client.update_item, **request)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert message in error.response["Error"]["Message"]
    assert client.get_item(TableName=table, Key=key)["Item"] == {**key, "kept": s("yes")}


# --- queries and scans --------------------------------------------------------------------------------------

NUMBERS = [
    "-1e10",
    "-123.5",
    "-123.45",
    "-1",
    "-0.001",
    "0",
    "0.001",
    "0.5",
    "1",
    "1.5",
    "10",
    "123.45",
    "1e20",
]


def numeric_table(client: Any) -> str:
    table = create(client, range_type="N")
    for number in NUMBERS:
        client.put_item(TableName=table, Item={"pk": s("p"), "sk": n(number), "v": n(number)})
    client.put_item(TableName=table, Item={"pk": s("other"), "sk": n(0)})
    return table


def sort_keys(answer: dict[str, Any]) -> list[Decimal]:
    return [Decimal(item["sk"]["N"]) for item in answer["Items"]]


def query(client: Any, table: str, condition: str, values: dict[str, Any], **extra: Any) -> Any:
    return client.query(
        TableName=table, KeyConditionExpression=condition, ExpressionAttributeValues=values, **extra
    )


def test_given_a_numeric_sort_key_when_queried_then_items_come_in_numeric_order(client: Any) -> None:
    table = numeric_table(client)
    ordered = sorted(Decimal(number) for number in NUMBERS)
    assert sort_keys(query(client, table, "pk = :p", {":p": s("p")})) == ordered
    backwards = query(client, table, "pk = :p", {":p": s("p")}, ScanIndexForward=False)
    assert sort_keys(backwards) == ordered[::-1]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("sk = :a", {":a": n("0.5")}, ["0.5"]),
        ("sk < :a", {":a": n("-1")}, ["-1e10", "-123.5", "-123.45"]),
        ("sk <= :a", {":a": n("-1")}, ["-1e10", "-123.5", "-123.45", "-1"]),
        ("sk > :a", {":a": n("10")}, ["123.45", "1e20"]),
        ("sk >= :a", {":a": n("10.0")}, ["10", "123.45", "1e20"]),
        ("sk BETWEEN :a AND :b", {":a": n("-0.001"), ":b": n("0.5")}, ["-0.001", "0", "0.001", "0.5"]),
    ],
)
def test_given_a_range_condition_when_querying_then_only_that_range_is_read(
    client: Any, condition: str, values: dict[str, Any], expected: list[str]
) -> None:
    table = numeric_table(client)
    answer = query(client, table, f"pk = :p AND {condition}", {":p": s("p"), **values})
    assert sort_keys(answer) == [Decimal(number) for number in expected]
    assert answer["ScannedCount"] == len(expected)


def test_given_string_keys_when_querying_with_begins_with_then_prefix_matches_come_in_byte_order(
    client: Any, table: str
) -> None:
    keys = ["a", "ab", "abc", "ab\U0001f600", "ab\uff61", "abd", "b", "ab\x7f"]
    for key in keys:
        client.put_item(TableName=table, Item={"pk": s("p"), "sk": s(key)})
    answer = query(client, table, "pk = :p AND begins_with(sk, :ab)", {":p": s("p"), ":ab": s("ab")})
    got = [item["sk"]["S"] for item in answer["Items"]]
    assert got == sorted((key for key in keys if key.startswith("ab")), key=lambda key: key.encode())


def test_given_a_limit_when_querying_then_last_evaluated_key_follows_dynamodb_paging_rules(
    client: Any, table: str
) -> None:
    for index in range(5):
        client.put_item(
            TableName=table, Item={"pk": s("p"), "sk": s(f"{index}"), "odd": {"BOOL": index % 2 == 1}}
        )
    exact = query(client, table, "pk = :p", {":p": s("p")}, Limit=5)
    assert exact["Count"] == 5
    assert exact["LastEvaluatedKey"] == {"pk": s("p"), "sk": s("4")}
    after = query(
        client, table, "pk = :p", {":p": s("p")}, Limit=5, ExclusiveStartKey=exact["LastEvaluatedKey"]
    )
    assert after["Items"] == []
    assert "LastEvaluatedKey" not in after
    assert "LastEvaluatedKey" not in query(client, table, "pk = :p", {":p": s("p")}, Limit=6)
    # The filter applies after the limit: two items read, one kept.
    filtered = query(
        client, table, "pk = :p", {":p": s("p"), ":t": {"BOOL": True}}, Limit=2, FilterExpression="odd = :t"
    )
    assert (filtered["Count"], filtered["ScannedCount"]) == (1, 2)
    assert filtered["LastEvaluatedKey"] == {"pk": s("p"), "sk": s("1")}
    pages, start = [], None
    while True:
        extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = query(client, table, "pk = :p", {":p": s("p")}, Limit=2, ScanIndexForward=False, **extra)
        pages.append([item["sk"]["S"] for item in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert pages == [["4", "3"], ["2", "1"], ["0"]]
    counted = query(client, table, "pk = :p", {":p": s("p")}, Select="COUNT")
    assert counted["Count"] == 5
    assert "Items" not in counted
    projected = query(
        client, table, "pk = :p AND sk = :s", {":p": s("p"), ":s": s("3")}, ProjectionExpression="odd"
    )
    assert projected["Items"] == [{"odd": {"BOOL": True}}]
    outside = {"pk": s("elsewhere"), "sk": s("1")}
    assert code_of(
        query,
        client=client,
        table=table,
        condition="pk = :p",
        values={":p": s("p")},
        ExclusiveStartKey=outside,
    ) == ("ValidationException")


def test_given_items_past_one_megabyte_when_read_then_pages_stop_at_the_item_that_crosses_it(
    client: Any, table: str
) -> None:
    for index in range(12):  # each item is 3 + 6 + 1 + 100,000 = 100,010 bytes by DynamoDB's rule
        client.put_item(TableName=table, Item={"pk": s("p"), "sk": s(f"{index:04}"), "d": s("x" * 100_000)})
    first = query(client, table, "pk = :p", {":p": s("p")}, Select="COUNT")
    assert first["Count"] == 11  # 10 items are 1,000,100 bytes; the 11th crosses 1,048,576
    assert first["LastEvaluatedKey"] == {"pk": s("p"), "sk": s("0010")}
    rest = query(client, table, "pk = :p", {":p": s("p")}, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["sk"] for item in rest["Items"]] == [s("0011")]
    assert "LastEvaluatedKey" not in rest
    scanned = client.scan(TableName=table, Select="COUNT")
    assert scanned["Count"] == 11
    assert scanned["LastEvaluatedKey"] == first["LastEvaluatedKey"]


@pytest.mark.parametrize(
    ("condition", "values", "message"),
    [
        ("sk = :s", {":s": s("1")}, "Query condition missed key schema element: pk"),
        ("pk > :p", {":p": s("1")}, "Query key condition not supported"),
        (
            "pk = :p OR sk = :s",
            {":p": s("1"), ":s": s("1")},
            "Invalid operator used in KeyConditionExpression",
        ),
        ("pk = :p AND extra = :s", {":p": s("1"), ":s": s("1")}, "Query condition missed key schema element"),
        (
            "pk = :p AND sk = :s AND sk > :s",
            {":p": s("1"), ":s": s("1")},
            "Conditions can be of length 1 or 2 only",
        ),
        ("pk = :p", {":p": n(1)}, "Condition parameter type does not match schema type"),
        (
            "pk = :p AND sk BETWEEN :b AND :a",
            {":p": s("1"), ":a": s("a"), ":b": s("b")},
            "BETWEEN operator requires upper bound",
        ),
    ],
)
def test_given_a_bad_key_condition_then_the_query_is_refused(
    client: Any, table: str, condition: str, values: dict[str, Any], message: str
) -> None:
    error = error_of(query, client=client, table=table, condition=condition, values=values)
    assert error.response["Error"]["Code"] == "ValidationException"
    assert message in error.response["Error"]["Message"]


def test_given_a_filter_on_a_key_attribute_when_querying_then_it_is_refused(client: Any, table: str) -> None:
    message = message_of(
        query,
        client=client,
        table=table,
        condition="pk = :p",
        values={":p": s("p")},
        FilterExpression="sk = :p",
    )
    assert (
        message == "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )
    scanned = client.scan(
        TableName=table, FilterExpression="sk = :p", ExpressionAttributeValues={":p": s("p")}
    )
    assert scanned["Count"] == 0


def test_given_a_global_index_when_queried_then_only_items_with_its_keys_are_there(client: Any) -> None:
    table = create(client, indexes=[by_gsi()])
    client.put_item(TableName=table, Item={"pk": s("a"), "sk": s("1"), "gpk": s("g"), "gsk": n(2)})
    client.put_item(TableName=table, Item={"pk": s("b"), "sk": s("1"), "gpk": s("g"), "gsk": n(1)})
    client.put_item(TableName=table, Item={"pk": s("c"), "sk": s("1"), "gpk": s("g")})  # no gsk: not indexed
    client.put_item(TableName=table, Item={"pk": s("d"), "sk": s("1"), "gsk": n(3)})  # no gpk: not indexed
    client.put_item(TableName=table, Item={"pk": s("e"), "sk": s("1"), "gpk": s("g"), "gsk": n(2)})
    answer = query(client, table, "gpk = :g", {":g": s("g")}, IndexName="by-g")
    assert [item["pk"]["S"] for item in answer["Items"]] == ["b", "a", "e"]
    page = query(
        client, table, "gpk = :g AND gsk >= :two", {":g": s("g"), ":two": n(2)}, IndexName="by-g", Limit=1
    )
    assert page["LastEvaluatedKey"] == {"gpk": s("g"), "gsk": n(2), "pk": s("a"), "sk": s("1")}
    page = query(
        client,
        table,
        "gpk = :g AND gsk >= :two",
        {":g": s("g"), ":two": n(2)},
        IndexName="by-g",
        Limit=1,
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert [item["pk"]["S"] for item in page["Items"]] == ["e"]
    client.update_item(TableName=table, Key={"pk": s("a"), "sk": s("1")}, UpdateExpression="REMOVE gsk")
    client.delete_item(TableName=table, Key={"pk": s("b"), "sk": s("1")})
    assert [
        item["pk"]["S"]
        for item in query(client, table, "gpk = :g", {":g": s("g")}, IndexName="by-g")["Items"]
    ] == ["e"]
    assert [item["pk"]["S"] for item in client.scan(TableName=table, IndexName="by-g")["Items"]] == ["e"]
    index = client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["ItemCount"] == 1
    consistent = error_of(
        query,
        client=client,
        table=table,
        condition="gpk = :g",
        values={":g": s("g")},
        IndexName="by-g",
        ConsistentRead=True,
    )
    assert consistent.response["Error"]["Code"] == "ValidationException"
    assert (
        code_of(
            query, client=client, table=table, condition="gpk = :g", values={":g": s("g")}, IndexName="nope"
        )
        == "ValidationException"
    )


def test_given_keys_only_and_include_indexes_then_entries_carry_only_their_projection(client: Any) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"ProjectionType": "KEYS_ONLY"}, {"pk", "sk", "gpk", "gsk"}),
        ({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kept"]}, {"pk", "sk", "gpk", "gsk", "kept"}),
    ]
    for projection, expected in cases:
        table = create(client, indexes=[by_gsi(projection)])
        item = {"pk": s("a"), "sk": s("1"), "gpk": s("g"), "gsk": n(1), "kept": s("k"), "dropped": s("d")}
        client.put_item(TableName=table, Item=item)
        (entry,) = query(client, table, "gpk = :g", {":g": s("g")}, IndexName="by-g")["Items"]
        assert set(entry) == expected
        select_all = error_of(
            query,
            client=client,
            table=table,
            condition="gpk = :g",
            values={":g": s("g")},
            IndexName="by-g",
            Select="ALL_ATTRIBUTES",
        )
        assert select_all.response["Error"]["Code"] == "ValidationException"


def test_given_items_in_several_partitions_when_scanned_then_they_come_in_key_order_by_pages(
    client: Any, table: str
) -> None:
    keys = [(p, k) for p in ("b", "a", "c") for k in ("2", "1")]
    for p, k in keys:
        client.put_item(TableName=table, Item={"pk": s(p), "sk": s(k), "keep": {"BOOL": k == "1"}})
    seen, start, pages = [], None, 0
    while True:
        extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = client.scan(
            TableName=table,
            Limit=4,
            FilterExpression="keep = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
            **extra,
        )
        seen += [(item["pk"]["S"], item["sk"]["S"]) for item in page["Items"]]
        pages += 1
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert seen == [("a", "1"), ("b", "1"), ("c", "1")]
    assert pages == 2
    assert code_of(client.scan, TableName=table, Segment=0, TotalSegments=2) == "ValidationException"


# At most 38 digits, magnitudes from 1E-130 to 1E+125 (scaleb rounds to 28 digits, which can carry a
# mantissa of nines up to the next power of ten: the exponent stays one below the limit).
NUMBER_KEYS = st.builds(
    lambda mantissa, exponent: Decimal(mantissa).scaleb(exponent),
    st.integers(-(10**38) + 1, 10**38 - 1),
    st.integers(-130, 87),
)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(NUMBER_KEYS, min_size=2, max_size=8))
def test_given_any_numbers_when_encoded_as_keys_then_byte_order_is_numeric_order(
    numbers: list[Decimal],
) -> None:
    texts = [normalise_number(format(number, "f")) for number in numbers]
    by_bytes = sorted(texts, key=lambda text: encode_key({"N": text}))
    assert [Decimal(text) for text in by_bytes] == sorted(Decimal(text) for text in texts)
    for left, right in itertools.pairwise(texts):
        assert (encode_key({"N": left}) == encode_key({"N": right})) == (Decimal(left) == Decimal(right))


# --- transactions and batches -------------------------------------------------------------------------------


def put(table: str, item: dict[str, Any], condition: str | None = None, **extra: Any) -> dict[str, Any]:
    action: dict[str, Any] = {"TableName": table, "Item": item, **extra}
    if condition:
        action["ConditionExpression"] = condition
    return {"Put": action}


def check(table: str, key: dict[str, Any], condition: str, **extra: Any) -> dict[str, Any]:
    return {"ConditionCheck": {"TableName": table, "Key": key, "ConditionExpression": condition, **extra}}


def test_given_a_failing_condition_when_a_transaction_runs_then_nothing_changes_and_reasons_say_why(
    client: Any, table: str
) -> None:
    anchor = {"pk": s("t"), "sk": s("anchor"), "v": n(1)}
    other = {"pk": s("t"), "sk": s("other")}
    client.put_item(TableName=table, Item=anchor)
    client.put_item(TableName=table, Item=other)
    bump = {
        "TableName": table,
        "Key": {"pk": s("t"), "sk": s("anchor")},
        "UpdateExpression": "SET v = :two",
        "ExpressionAttributeValues": {":two": n(2)},
    }
    absent = {
        "TableName": table,
        "Key": {"pk": s("t"), "sk": s("absent")},
        "ConditionExpression": "attribute_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    actions = [
        put(table, {"pk": s("t"), "sk": s("new")}, "attribute_not_exists(pk)"),
        {"Update": bump},
        check(table, other, "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        {"Delete": absent},
    ]
    error = error_of(client.transact_write_items, TransactItems=actions)
    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    assert error.response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, None, ConditionalCheckFailed, ConditionalCheckFailed]"
    )
    failed = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    assert error.response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "None"},
        {**failed, "Item": other},
        failed,
    ]
    assert query(client, table, "pk = :t", {":t": s("t")})["Items"] == [anchor, other]
    succeeding = [actions[0], actions[1], {"Delete": {"TableName": table, "Key": other}}]
    assert client.transact_write_items(TransactItems=succeeding)["ResponseMetadata"]["HTTPStatusCode"] == 200
    items = query(client, table, "pk = :t", {":t": s("t")})["Items"]
    assert items == [{**anchor, "v": n(2)}, {"pk": s("t"), "sk": s("new")}]


def test_given_a_broken_update_in_a_transaction_then_its_reason_is_a_validation_error(
    client: Any, table: str
) -> None:
    actions = [
        put(table, {"pk": s("t"), "sk": s("1")}),
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": s("t"), "sk": s("2")},
                "UpdateExpression": "SET v = v + :one",
                "ExpressionAttributeValues": {":one": n(1)},
            }
        },
    ]
    error = error_of(client.transact_write_items, TransactItems=actions)
    reasons = error.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ValidationError"]
    assert "Item" not in client.get_item(TableName=table, Key={"pk": s("t"), "sk": s("1")})


def test_given_transaction_limits_then_requests_beyond_them_are_validation_errors(
    client: Any, server: EmbeddedDynamoDB, table: str
) -> None:
    same = [
        put(table, {"pk": s("t"), "sk": s("1")}),
        check(table, {"pk": s("t"), "sk": s("1")}, "attribute_not_exists(pk)"),
    ]
    assert message_of(client.transact_write_items, TransactItems=same) == (
        "Transaction request cannot include multiple operations on one item"
    )
    many = [put(table, {"pk": s("t"), "sk": s(f"{index}")}) for index in range(101)]
    status, answer = raw_call(server.endpoint, "TransactWriteItems", {"TransactItems": many})
    assert (status, answer["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#ValidationException")
    big = [put(table, {"pk": s("t"), "sk": s(f"{index}"), "d": s("x" * 390_000)}) for index in range(11)]
    assert (
        message_of(client.transact_write_items, TransactItems=big)
        == "Transaction request cannot be larger than 4 MB"
    )
    assert client.scan(TableName=table)["Items"] == []


def test_given_a_client_request_token_then_a_repeat_changes_nothing_and_a_different_request_is_refused(
    client: Any, table: str
) -> None:
    token = str(uuid.uuid4())
    first = [put(table, {"pk": s("t"), "sk": s("1")}, "attribute_not_exists(pk)")]
    client.transact_write_items(TransactItems=first, ClientRequestToken=token)
    client.delete_item(TableName=table, Key={"pk": s("t"), "sk": s("1")})
    client.transact_write_items(TransactItems=first, ClientRequestToken=token)
    assert "Item" not in client.get_item(TableName=table, Key={"pk": s("t"), "sk": s("1")})
    other = [put(table, {"pk": s("t"), "sk": s("2")})]
    assert code_of(client.transact_write_items, TransactItems=other, ClientRequestToken=token) == (
        "IdempotentParameterMismatchException"
    )
    # A cancelled transaction does not claim its token.
    client.put_item(TableName=table, Item={"pk": s("t"), "sk": s("3")})
    failing = [put(table, {"pk": s("t"), "sk": s("3")}, "attribute_not_exists(pk)")]
    fresh = str(uuid.uuid4())
    assert (
        code_of(client.transact_write_items, TransactItems=failing, ClientRequestToken=fresh)
        == "TransactionCanceledException"
    )
    client.transact_write_items(TransactItems=other, ClientRequestToken=fresh)
    assert "Item" in client.get_item(TableName=table, Key={"pk": s("t"), "sk": s("2")})


def test_given_transact_get_items_then_responses_come_in_order_with_empty_ones_for_missing_items(
    client: Any, table: str
) -> None:
    client.put_item(TableName=table, Item={"pk": s("g"), "sk": s("1"), "v": n(1), "w": n(2)})
    gets = [
        {"Get": {"TableName": table, "Key": {"pk": s("g"), "sk": s("missing")}}},
        {"Get": {"TableName": table, "Key": {"pk": s("g"), "sk": s("1")}, "ProjectionExpression": "w"}},
    ]
    assert client.transact_get_items(TransactItems=gets)["Responses"] == [{}, {"Item": {"w": n(2)}}]
    twice = [gets[1], gets[1]]
    assert code_of(client.transact_get_items, TransactItems=twice) == "ValidationException"


def test_given_more_than_the_batch_and_transaction_limits_then_requests_are_refused(
    server: EmbeddedDynamoDB, table: str
) -> None:
    puts = [{"PutRequest": {"Item": {"pk": s("b"), "sk": s(f"{index}")}}} for index in range(26)]
    gets = [{"Get": {"TableName": table, "Key": {"pk": s("b"), "sk": s(f"{index}")}}} for index in range(101)]
    for operation, body in [
        ("BatchWriteItem", {"RequestItems": {table: puts}}),
        ("TransactGetItems", {"TransactItems": gets}),
    ]:
        status, answer = raw_call(server.endpoint, operation, body)
        assert (status, answer["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#ValidationException")
    status, answer = raw_call(server.endpoint, "Scan", {"TableName": table})
    assert (status, answer["Items"]) == (200, [])


def test_given_batches_then_they_write_and_read_everything_and_refuse_duplicates(
    client: Any, table: str
) -> None:
    puts = [
        {"PutRequest": {"Item": {"pk": s("b"), "sk": s(f"{index:02}"), "v": n(index)}}} for index in range(25)
    ]
    assert client.batch_write_item(RequestItems={table: puts})["UnprocessedItems"] == {}
    keys = [{"pk": s("b"), "sk": s(f"{index:02}")} for index in range(30)]
    answer = client.batch_get_item(RequestItems={table: {"Keys": keys, "ProjectionExpression": "v"}})
    assert sorted(int(item["v"]["N"]) for item in answer["Responses"][table]) == list(range(25))
    assert answer["UnprocessedKeys"] == {}
    deletes = [{"DeleteRequest": {"Key": key}} for key in keys[:10]]
    client.batch_write_item(RequestItems={table: deletes})
    assert client.describe_table(TableName=table)["Table"]["ItemCount"] == 15
    duplicate = [puts[0], {"DeleteRequest": {"Key": keys[0]}}]
    assert (
        message_of(client.batch_write_item, RequestItems={table: duplicate})
        == "Provided list of item keys contains duplicates"
    )
    assert code_of(client.batch_write_item, RequestItems={table: [*puts, puts[0]]}) == "ValidationException"
    assert (
        code_of(client.batch_get_item, RequestItems={table: {"Keys": [keys[0], keys[0]]}})
        == "ValidationException"
    )
    too_many = [{"pk": s("b"), "sk": s(f"{index:03}")} for index in range(101)]
    assert code_of(client.batch_get_item, RequestItems={table: {"Keys": too_many}}) == "ValidationException"


# --- the wire -----------------------------------------------------------------------------------------------


def test_given_bodies_that_are_not_json_objects_then_answers_are_serialization_exceptions(
    server: EmbeddedDynamoDB,
) -> None:
    for body in (b"not json", b"[1, 2]", b'"text"', b"{" * 100_000):
        status, answer = raw_call(server.endpoint, "ListTables", body)
        assert status == 400
        assert answer["__type"] == "com.amazonaws.dynamodb.v20120810#SerializationException"
        assert answer["message"]


def test_given_a_lone_surrogate_in_a_string_then_the_request_is_refused(
    server: EmbeddedDynamoDB, table: str
) -> None:
    item = b'{"TableName": "%s", "Item": {"pk": {"S": "\\ud800"}, "sk": {"S": "1"}}}' % table.encode()
    status, answer = raw_call(server.endpoint, "PutItem", item)
    assert (status, answer["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#SerializationException")
    pair = b'{"TableName": "%s", "Item": {"pk": {"S": "\\ud83d\\ude00"}, "sk": {"S": "1"}}}' % table.encode()
    assert raw_call(server.endpoint, "PutItem", pair)[0] == 200


def test_given_an_unknown_operation_then_it_is_an_unknown_operation_exception(
    server: EmbeddedDynamoDB,
) -> None:
    status, answer = raw_call(server.endpoint, "DescribeEverything", {})
    assert (status, answer["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#UnknownOperationException")
    status, answer = raw_call(server.endpoint, "ListTables", {}, headers={"X-Amz-Target": "Other.ListTables"})
    assert (status, answer["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#UnknownOperationException")


def raw_exchange(server: EmbeddedDynamoDB, request: bytes) -> bytes:
    """Sends bytes as they are and reads until the server closes the connection."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_given_bad_framing_then_the_answer_is_a_400_and_the_connection_closes(
    server: EmbeddedDynamoDB,
) -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
    for framing in (
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        b"\r\n{}",
        b"Content-Length: nope\r\n\r\n{}",
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        f"Content-Length: {17 * 1024 * 1024}\r\n\r\n".encode(),
    ):
        answer = raw_exchange(server, head + framing)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 400 Bad Request", answer[:200]
        headers, _, body = rest.partition(b"\r\n\r\n")
        assert b"content-type: application/x-amz-json-1.0" in headers.lower()
        assert json.loads(body)["__type"].startswith("com.amazonaws.dynamodb.v20120810#")


def test_given_requests_the_http_layer_cannot_read_then_errors_still_have_dynamodb_shape(
    server: EmbeddedDynamoDB,
) -> None:
    for request in (
        b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"POST / HTTP/1.1\r\nX-Long: " + b"x" * 70_000 + b"\r\n\r\n",
    ):
        answer = raw_exchange(server, request)
        headers, _, body = answer.partition(b"\r\n\r\n")
        assert headers.split(b" ")[1] in (b"431", b"501"), answer[:200]
        assert json.loads(body)["__type"] == "com.amazonaws.dynamodb.v20120810#SerializationException"


def test_given_one_connection_when_requests_follow_each_other_then_it_is_kept_alive(
    server: EmbeddedDynamoDB,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        sockets = set()
        for _ in range(3):
            connection.request(
                "POST", "/", body=b"{}", headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"}
            )
            answer = connection.getresponse()
            assert answer.status == 200
            assert "TableNames" in json.loads(answer.read())
            assert answer.getheader("Content-Length") is not None
            sockets.add(id(connection.sock))
        assert len(sockets) == 1
    finally:
        connection.close()


def test_given_an_unexpected_failure_then_it_is_a_500_internal_server_error(
    client: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Service, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(Service, "handle", broken)
    error = error_of(client.list_tables)
    assert error.response["Error"]["Code"] == "InternalServerError"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "RuntimeError: boom" in capfd.readouterr().err


# --- persistence, concurrency and the command line ----------------------------------------------------------


def test_given_a_data_file_when_the_server_restarts_then_the_data_is_still_there(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "folder" / "data.sqlite"
    with EmbeddedDynamoDB(str(path)) as first:
        client = make_client(first.endpoint)
        table = create(client, indexes=[by_gsi()])
        client.put_item(TableName=table, Item={"pk": s("a"), "sk": s("1"), "gpk": s("g"), "gsk": n(1)})
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
        token = str(uuid.uuid4())
        actions = [put(table, {"pk": s("a"), "sk": s("2")})]
        client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
    assert path.exists()
    with EmbeddedDynamoDB(str(path)) as second:
        client = make_client(second.endpoint)
        assert client.get_item(TableName=table, Key={"pk": s("a"), "sk": s("1")})["Item"]["gpk"] == s("g")
        assert query(client, table, "gpk = :g", {":g": s("g")}, IndexName="by-g")["Count"] == 1
        assert client.describe_table(TableName=table)["Table"]["ItemCount"] == 2
        assert (
            client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"]
            == "ENABLED"
        )
        other = [put(table, {"pk": s("a"), "sk": s("3")})]
        assert code_of(client.transact_write_items, TransactItems=other, ClientRequestToken=token) == (
            "IdempotentParameterMismatchException"
        )
    import sqlite3

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_given_sixteen_threads_when_they_write_in_transactions_then_nothing_is_lost(
    server: EmbeddedDynamoDB,
) -> None:
    setup = make_client(server.endpoint)
    table = create(setup)
    setup.put_item(TableName=table, Item={"pk": s("c"), "sk": s("anchor")})
    clients = [make_client(server.endpoint) for _ in range(16)]
    rounds = 10
    wins: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        client = clients[worker]
        for round_ in range(rounds):
            try:
                client.transact_write_items(
                    TransactItems=[
                        check(table, {"pk": s("c"), "sk": s("anchor")}, "attribute_exists(pk)"),
                        put(
                            table, {"pk": s("c"), "sk": s(f"w{worker}-{round_}")}, "attribute_not_exists(pk)"
                        ),
                        {
                            "Update": {
                                "TableName": table,
                                "Key": {"pk": s("c"), "sk": s("counter")},
                                "UpdateExpression": "ADD tally :one",
                                "ExpressionAttributeValues": {":one": n(1)},
                            }
                        },
                    ]
                )
                # Every worker races for the same key; exactly one may win each round.
                client.transact_write_items(
                    TransactItems=[
                        put(
                            table,
                            {"pk": s("c"), "sk": s(f"race-{round_}"), "by": n(worker)},
                            "attribute_not_exists(pk)",
                        )
                    ]
                )
                with lock:
                    wins.append(f"race-{round_}")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    with lock:
                        problems.append(repr(exc))
            except Exception as exc:
                with lock:
                    problems.append(repr(exc))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert problems == []
    counter = setup.get_item(TableName=table, Key={"pk": s("c"), "sk": s("counter")})["Item"]
    assert counter["tally"] == n(16 * rounds)
    assert sorted(wins) == sorted(f"race-{round_}" for round_ in range(rounds))
    written = query(
        setup, table, "pk = :c AND begins_with(sk, :w)", {":c": s("c"), ":w": s("w")}, Select="COUNT"
    )
    assert written["Count"] == 16 * rounds


def run_cli(*arguments: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dynamodb", "--host", "127.0.0.1", "--port", "0", *arguments],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    # The line comes once the server listens; a server that neither prints nor dies within a minute is killed.
    ready, _, _ = select.select([process.stdout], [], [], 60)
    if not ready:
        process.kill()
        process.communicate()
        pytest.fail("the server printed nothing within 60 s")
    return process, process.stdout.readline()


@pytest.mark.parametrize("storage", ["--memory", "--data"])
def test_given_the_command_line_when_started_and_terminated_then_it_serves_and_exits_cleanly(
    tmp_path: Path, storage: str
) -> None:
    arguments = [storage] if storage == "--memory" else [storage, str(tmp_path / "new" / "db.sqlite")]
    process, line = run_cli(*arguments)
    try:
        assert line.startswith("listening on http://127.0.0.1:"), line
        endpoint = line.split()[-1]
        client = make_client(endpoint)
        table = create(client)
        client.put_item(TableName=table, Item={"pk": s("a"), "sk": s("1")})
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out == ""
    assert err == ""
    if storage == "--data":
        assert (tmp_path / "new" / "db.sqlite").exists()


def test_given_log_requests_when_the_command_line_serves_then_each_request_is_one_line_on_stderr() -> None:
    process, line = run_cli("--memory", "--log-requests")
    try:
        client = make_client(line.split()[-1])
        client.list_tables()
        code_of(client.describe_table, TableName="absent-table")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert out == ""
    lines = err.splitlines()
    assert [entry.split()[:2] for entry in lines] == [["ListTables", "200"], ["DescribeTable", "400"]]


def test_given_a_taken_port_when_the_command_line_starts_then_it_fails_on_stderr(
    server: EmbeddedDynamoDB,
) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "local.dynamodb", "--port", str(server.port), "--memory"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert process.returncode != 0
    assert process.stdout == ""
    assert "cannot start" in process.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    [
        "TableName",
        "Key",
        "Item",
        "KeyConditionExpression",
        "ConditionExpression",
        "UpdateExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
        "TransactItems",
        "RequestItems",
        "Limit",
        "ExclusiveStartKey",
        "ProjectionExpression",
        "ReturnValues",
        "IndexName",
        "Select",
        "KeySchema",
        "AttributeDefinitions",
        "GlobalSecondaryIndexes",
    ]
)
OPERATIONS = st.sampled_from(
    [
        "CreateTable",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "TransactWriteItems",
        "TransactGetItems",
        "BatchWriteItem",
        "BatchGetItem",
        "DescribeTable",
        "UpdateTimeToLive",
        "ListTables",
    ]
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operation=OPERATIONS, body=st.dictionaries(FIELDS, JSON_VALUES, max_size=5), named=st.booleans())
def test_given_any_malformed_request_then_the_answer_is_never_an_internal_error(
    server: EmbeddedDynamoDB, operation: str, body: dict[str, Any], named: bool
) -> None:
    if named and not isinstance(body.get("TableName"), str):
        body["TableName"] = "fuzzed"
        definition = {
            "TableName": "fuzzed",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        }
        definition["KeySchema"] = [{"AttributeName": "pk", "KeyType": "HASH"}]
        raw_call(server.endpoint, "CreateTable", definition)  # the first time only; later it is in use
    status, answer = raw_call(server.endpoint, operation, body)
    assert status in (200, 400), answer
    if status == 400:
        assert answer["__type"] != "com.amazonaws.dynamodb.v20120810#InternalServerError"


# --- the same operations against moto -----------------------------------------------------------------------


def scenario(client: Any) -> list[Any]:
    """Common operations whose answers DynamoDB, moto and this server agree on."""
    answers: list[Any] = []

    def record(call: Any, **kwargs: Any) -> Any:
        try:
            answer = call(**kwargs)
        except ClientError as exc:
            answers.append(("error", exc.response["Error"]["Code"], exc.response.get("CancellationReasons")))
            return None
        answer.pop("ResponseMetadata", None)
        for unasked in (
            "ConsumedCapacity",
            "ItemCollectionMetrics",
        ):  # moto adds them; DynamoDB only on request
            answer.pop(unasked, None)
        if "Items" in answer and call.__name__ == "scan":
            answer["Items"].sort(key=lambda item: json.dumps(item, sort_keys=True))
        answers.append(answer)
        return answer

    definitions = [
        {"AttributeName": name, "AttributeType": kind}
        for name, kind in [("pk", "S"), ("sk", "N"), ("gpk", "S"), ("gsk", "N")]
    ]
    index = by_gsi()
    client.create_table(
        TableName="diff", AttributeDefinitions=definitions, GlobalSecondaryIndexes=[index], **KEYS
    )
    described = client.describe_table(TableName="diff")["Table"]
    answers.append([described[field] for field in ("TableName", "KeySchema", "TableStatus")])
    for number in ("3", "1.50", "-2", "10", "0"):
        item = {"pk": s("p"), "sk": n(number), "v": n(number), "tags": {"SS": ["a"]}}
        if number != "0":
            item.update(gpk=s("g"), gsk=n(len(number)))
        record(client.put_item, TableName="diff", Item=item, ReturnValues="ALL_OLD")
    record(
        client.put_item, TableName="diff", Item={"pk": s("p"), "sk": n(3), "v": n(30)}, ReturnValues="ALL_OLD"
    )
    record(client.get_item, TableName="diff", Key={"pk": s("p"), "sk": n("1.5")})
    record(client.get_item, TableName="diff", Key={"pk": s("p"), "sk": n(99)})
    record(
        client.get_item, TableName="diff", Key={"pk": s("p"), "sk": n("1.5")}, ProjectionExpression="v, tags"
    )
    record(
        client.update_item,
        TableName="diff",
        Key={"pk": s("p"), "sk": n(10)},
        UpdateExpression="SET v = v + :one, #l = list_append(if_not_exists(#l, :empty), :l) "
        "ADD tags :b REMOVE gsk",
        ExpressionAttributeNames={"#l": "list"},
        ExpressionAttributeValues={
            ":one": n(1),
            ":empty": {"L": []},
            ":l": {"L": [s("x")]},
            ":b": {"SS": ["b"]},
        },
        ReturnValues="ALL_NEW",
    )
    record(
        client.update_item,
        TableName="diff",
        Key={"pk": s("p"), "sk": n(-2)},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": s("new")},
        ReturnValues="UPDATED_OLD",
    )
    record(
        client.update_item,
        TableName="diff",
        Key={"pk": s("q"), "sk": n(1)},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": s("created")},
        ReturnValues="ALL_NEW",
    )
    record(
        client.put_item,
        TableName="diff",
        Item={"pk": s("p"), "sk": n(3)},
        ConditionExpression="attribute_not_exists(pk)",
    )
    record(
        client.put_item,
        TableName="diff",
        Item={"pk": s("p"), "sk": n(3)},
        ConditionExpression="v < :v",
        ExpressionAttributeValues={":v": n(5)},
    )
    record(
        client.delete_item,
        TableName="diff",
        Key={"pk": s("p"), "sk": n(0)},
        ConditionExpression="attribute_exists(v)",
        ReturnValues="ALL_OLD",
    )
    conditions = {"KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi"}
    values = {":p": s("p"), ":lo": n(-5), ":hi": n(5)}
    record(client.query, TableName="diff", **conditions, ExpressionAttributeValues=values)
    record(
        client.query,
        TableName="diff",
        **conditions,
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
        Limit=2,
    )
    record(
        client.query,
        TableName="diff",
        KeyConditionExpression="pk = :p AND sk > :z",
        ExpressionAttributeValues={":p": s("p"), ":z": n(0), ":a": s("a")},
        FilterExpression="contains(tags, :a)",
        ProjectionExpression="sk, tags",
    )
    record(
        client.query,
        TableName="diff",
        IndexName="by-g",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": s("g")},
    )
    record(
        client.query,
        TableName="diff",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": s("p")},
        Select="COUNT",
    )
    record(client.scan, TableName="diff", FilterExpression="attribute_exists(gpk)")
    record(
        client.transact_write_items,
        TransactItems=[
            put("diff", {"pk": s("t"), "sk": n(1)}),
            check("diff", {"pk": s("p"), "sk": n(3)}, "attribute_not_exists(pk)"),
        ],
    )
    record(
        client.transact_write_items,
        TransactItems=[
            put("diff", {"pk": s("t"), "sk": n(1)}, "attribute_not_exists(pk)"),
            {
                "Update": {
                    "TableName": "diff",
                    "Key": {"pk": s("p"), "sk": n(3)},
                    "UpdateExpression": "SET w = :w",
                    "ExpressionAttributeValues": {":w": n(1)},
                }
            },
        ],
    )
    record(
        client.transact_get_items,
        TransactItems=[
            {"Get": {"TableName": "diff", "Key": {"pk": s("t"), "sk": n(1)}}},
            {"Get": {"TableName": "diff", "Key": {"pk": s("t"), "sk": n(2)}}},
            {"Get": {"TableName": "diff", "Key": {"pk": s("p"), "sk": n(3)}}},
        ],
    )
    record(
        client.batch_write_item,
        RequestItems={
            "diff": [{"PutRequest": {"Item": {"pk": s("b"), "sk": n(index)}}} for index in range(3)]
            + [{"DeleteRequest": {"Key": {"pk": s("t"), "sk": n(1)}}}]
        },
    )
    answer = record(
        client.batch_get_item,
        RequestItems={"diff": {"Keys": [{"pk": s("b"), "sk": n(index)} for index in range(4)]}},
    )
    if answer:
        answer["Responses"]["diff"].sort(key=lambda item: item["sk"]["N"])
    record(client.get_item, TableName="missing-table", Key={"pk": s("p"), "sk": n(1)})
    record(client.get_item, TableName="diff", Key={"pk": s("p")})
    record(client.scan, TableName="diff", Select="COUNT")
    return answers


def canonical(answer: Any) -> Any:
    """Sets in sorted order and numbers in normal form: moto returns numbers as they were sent (DynamoDB,
    like this server, normalises them), and no one promises an order for a set's members."""
    if isinstance(answer, list | tuple):
        return [canonical(element) for element in answer]
    if not isinstance(answer, dict):
        return answer
    if len(answer) == 1 and "N" in answer and isinstance(answer["N"], str):
        return {"N": normalise_number(answer["N"])}
    if len(answer) == 1 and "NS" in answer:
        return {"NS": sorted(normalise_number(number) for number in answer["NS"])}
    if len(answer) == 1 and ("SS" in answer or "BS" in answer):
        ((kind, members),) = answer.items()
        return {kind: sorted(members)}
    return {key: canonical(value) for key, value in answer.items()}


def test_given_the_same_operations_when_run_on_moto_and_here_then_the_answers_match(
    server: EmbeddedDynamoDB,
) -> None:
    from moto import mock_aws

    with mock_aws():
        moto_answers = scenario(boto3.session.Session().client("dynamodb", region_name="us-east-1"))
    ours = scenario(make_client(server.endpoint))
    assert len(ours) == len(moto_answers)
    for index, (mine, theirs) in enumerate(zip(ours, moto_answers, strict=True)):
        assert canonical(mine) == canonical(theirs), f"answer {index} differs"
