"""What template.yaml promises: the functions, their routes, least-privilege IAM and the table's settings."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support.sam_template import ROOT, functions, resources, template

EXPECTED_ROUTES = {
    "CreateMessageFunction": ("POST", "/v1/threads/{thread_id}/messages", "create_message.lambda_handler"),
    "ListMessagesFunction": ("GET", "/v1/threads/{thread_id}/messages", "list_messages.lambda_handler"),
    "ModifyMessageFunction": (
        "POST",
        "/v1/threads/{thread_id}/messages/{message_id}",
        "modify_message.lambda_handler",
    ),
    "RetrieveMessageFunction": (
        "GET",
        "/v1/threads/{thread_id}/messages/{message_id}",
        "retrieve_message.lambda_handler",
    ),
    "DeleteMessageFunction": (
        "DELETE",
        "/v1/threads/{thread_id}/messages/{message_id}",
        "delete_message.lambda_handler",
    ),
    "CreateThreadFunction": ("POST", "/v1/threads", "create_thread.lambda_handler"),
    "RetrieveThreadFunction": ("GET", "/v1/threads/{thread_id}", "retrieve_thread.lambda_handler"),
    "ModifyThreadFunction": ("POST", "/v1/threads/{thread_id}", "modify_thread.lambda_handler"),
    "DeleteThreadFunction": ("DELETE", "/v1/threads/{thread_id}", "delete_thread.lambda_handler"),
    "RouteNotFoundFunction": ("ANY", "$default", "route_not_found.lambda_handler"),
}
IDEMPOTENT = {"CreateMessageFunction", "CreateThreadFunction"}
# Functions fed by something other than the HTTP API.
BACKGROUND = {"PurgeThreadsFunction": "purge_threads.lambda_handler"}
EXPECTED_ACTIONS = {
    "CreateMessageFunction": {"dynamodb:ConditionCheckItem", "dynamodb:PutItem"},
    "ListMessagesFunction": {"dynamodb:GetItem", "dynamodb:Query"},
    "ModifyMessageFunction": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    "RetrieveMessageFunction": {"dynamodb:GetItem"},
    "DeleteMessageFunction": {"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"},
    "CreateThreadFunction": {"dynamodb:PutItem"},
    "RetrieveThreadFunction": {"dynamodb:GetItem"},
    "ModifyThreadFunction": {"dynamodb:UpdateItem"},
    "DeleteThreadFunction": {"dynamodb:UpdateItem"},
    "PurgeThreadsFunction": {
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
    },
    "RouteNotFoundFunction": set(),
}


def _http_events(function: dict[str, Any]) -> list[dict[str, Any]]:
    events = function["Properties"].get("Events", {}).values()
    return [e["Properties"] for e in events if e["Type"] == "HttpApi"]


def _actions(function: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for policy in function["Properties"].get("Policies", []):
        assert isinstance(policy, dict), "only inline statements, no SAM policy templates"
        if policy == {"Ref": "ApiKeyReadPolicy"}:
            found.add("apikeys:GetItem")
            continue
        if policy == {"Ref": "IdempotencyRecordsPolicy"}:
            found.add("idempotency:records")
            continue
        if "SQSSendMessagePolicy" in policy:
            found.add("sqs:SendMessage")
            continue
        assert "Statement" in policy
        for statement in policy["Statement"]:
            actions = statement["Action"]
            found.update([actions] if isinstance(actions, str) else actions)
    return found


def test_each_operation_is_its_own_function_with_one_route_on_the_explicit_http_api() -> None:
    declared = functions()
    assert set(declared) == set(EXPECTED_ROUTES) | set(BACKGROUND)
    for name, (method, path, handler) in EXPECTED_ROUTES.items():
        props = declared[name]["Properties"]
        assert props["Handler"] == handler
        (route,) = _http_events(declared[name])
        assert (route["Method"], route["Path"]) == (method, path)
        assert route["ApiId"] == {"Ref": "HttpApi"}
        module_file = ROOT / props["CodeUri"] / f"{handler.split('.')[0]}.py"
        assert module_file.is_file(), module_file
    assert list(resources("AWS::Serverless::HttpApi")) == ["HttpApi"]


def test_each_function_may_only_do_what_its_operation_needs_on_the_table() -> None:
    for name, function in functions().items():
        reads_keys = {"apikeys:GetItem"} if name in EXPECTED_ROUTES else set()
        idempotent = {"idempotency:records"} if name in IDEMPOTENT else set()
        assert _actions(function) == EXPECTED_ACTIONS[name] | reads_keys | idempotent, name


def test_the_key_read_policy_reaches_only_the_key_items() -> None:
    policy = template()["Resources"]["ApiKeyReadPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Action"] == "dynamodb:GetItem"
    assert statement["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["apikeys"]}}


def test_deleted_threads_reach_the_purge_through_the_table_stream_filtered_to_deleted_threads() -> None:
    function = functions()["PurgeThreadsFunction"]
    assert function["Properties"]["Handler"] == BACKGROUND["PurgeThreadsFunction"]
    (event,) = function["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    props = event["Properties"]
    assert props["Stream"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in props["DestinationConfig"]
    pattern = json.loads(props["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern["dynamodb"]["NewImage"]["sk"] == {"S": ["thread"]}
    assert pattern["dynamodb"]["NewImage"]["deleted_at"] == {"N": [{"exists": True}]}
    (table,) = resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_pytest_and_mypy_see_every_function_module() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    code_uris = {f["Properties"]["CodeUri"].rstrip("/") for f in functions().values()}
    assert set(project["tool"]["pytest"]["ini_options"]["pythonpath"]) == code_uris | {"layers/threadkit"}
    assert set(project["tool"]["mypy"]["mypy_path"].split(":")) == code_uris | {"layers/threadkit"}


def test_no_scan_is_granted_or_called_anywhere() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert "Scan" not in text
    assert "DynamoDBCrudPolicy" not in text
    assert "DynamoDBReadPolicy" not in text
    for path in [*Path(ROOT / "layers").rglob("*.py"), *Path(ROOT / "functions").rglob("*.py")]:
        assert not re.search(r"\bscan\b|\bScan\b", path.read_text()), path


def test_functions_share_runtime_architecture_layer_and_settings_through_globals() -> None:
    globals_ = template()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Layers"] == [{"Ref": "CoreLayer"}]
    assert globals_["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "MessagesTable"}
    for function in functions().values():
        for key in ("Runtime", "Architectures", "Layers"):
            assert key not in function["Properties"]


def test_the_shared_layer_is_built_by_sam_for_python313_arm64() -> None:
    layer = template()["Resources"]["CoreLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert (ROOT / layer["Properties"]["ContentUri"] / "threadkit" / "__init__.py").is_file()


def test_the_table_is_on_demand_recoverable_and_encrypted_with_no_hard_coded_name() -> None:
    (table,) = resources("AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "TableName" not in props
    assert "LocalSecondaryIndexes" not in props
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_run"


@pytest.mark.parametrize("kind", ["AWS::Serverless::Function", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table"])
def test_no_resource_has_a_hard_coded_name(kind: str) -> None:
    for resource in resources(kind).values():
        props = resource.get("Properties", {})
        assert not {"FunctionName", "LogGroupName", "TableName"} & set(props)


def test_the_api_base_url_output_ends_in_v1() -> None:
    output = template()["Outputs"]["ApiBaseUrl"]["Value"]
    assert output["Fn::Sub"].endswith("/v1")


def test_the_api_is_throttled_by_template_parameters() -> None:
    api = template()["Resources"]["HttpApi"]["Properties"]
    assert api["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
    }
    parameters = template()["Parameters"]
    assert parameters["ThrottlingRateLimit"]["Type"] == "Number"
    assert parameters["ThrottlingBurstLimit"]["Type"] == "Number"


def test_idempotency_records_are_reachable_only_in_their_partitions_and_expire_by_ttl() -> None:
    policy = template()["Resources"]["IdempotencyRecordsPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["idempotency#*"]}}
    (table,) = resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_the_table_is_protected_from_deletion() -> None:
    (table,) = resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_logs_are_kept_for_the_retention_parameter() -> None:
    groups = resources("AWS::Logs::LogGroup")
    assert set(groups) == {"AccessLogs", "FunctionLogs"}
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template()["Globals"]["Function"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogs"}}


def test_alarms_watch_the_5xx_rate_throttles_and_purge_failures() -> None:
    alarms = resources("AWS::CloudWatch::Alarm")
    assert set(alarms) == {"ServerErrorRateAlarm", "DynamoDBThrottleAlarm", "PurgeFailuresAlarm"}
    rate = alarms["ServerErrorRateAlarm"]["Properties"]["Metrics"]
    assert {m["Id"] for m in rate} == {"errors", "requests", "rate"}
    assert alarms["DynamoDBThrottleAlarm"]["Properties"]["MetricName"] == "ThrottledRequests"


def test_tracing_is_a_parameter_and_off_by_default() -> None:
    assert template()["Parameters"]["Tracing"]["Default"] == "Disabled"
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TRACING_ENABLED"] == {"Fn::If": ["TracingOn", "true", "false"]}
