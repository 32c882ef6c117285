"""What template.yaml promises: the functions, their routes, least-privilege IAM and the table's settings,
and what each optional parameter adds (nothing, at its default).

``deployed(parameters)`` is the template as CloudFormation deploys it with those parameters: resources whose
condition is false left out, each ``Fn::If`` settled, ``AWS::NoValue`` removed."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from local.template import TemplateError, conditions, deployed, resolve
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
    "ListThreadsFunction": ("GET", "/v1/threads", "list_threads.lambda_handler"),
    "ImportThreadFunction": ("POST", "/v1/threads/import", "import_thread.lambda_handler"),
    "ExportThreadFunction": ("GET", "/v1/threads/{thread_id}/export", "export_thread.lambda_handler"),
}
IDEMPOTENT = {"CreateMessageFunction", "CreateThreadFunction", "ImportThreadFunction"}
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
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
    },
    "RouteNotFoundFunction": set(),
    "ListThreadsFunction": {"dynamodb:GetItem", "dynamodb:Query"},
    "ImportThreadFunction": {
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
    },
    "ExportThreadFunction": {"dynamodb:GetItem", "dynamodb:Query"},
}


def _http_events(function: dict[str, Any]) -> list[dict[str, Any]]:
    events = function["Properties"].get("Events", {}).values()
    return [e["Properties"] for e in events if e["Type"] == "HttpApi"]


def _actions(function: dict[str, Any]) -> set[str]:
    """The actions a function's policies allow (the function as ``deployed()``)."""
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
    for name, function in functions(deployed()).items():
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
    # The other filter: import markers the table's TTL removed (threadkit/storage/import_store.py).
    removed = json.loads(props["FilterCriteria"]["Filters"][1]["Pattern"])
    assert removed == {
        "eventName": ["REMOVE"],
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
        "dynamodb": {"Keys": {"sk": {"S": ["import"]}}},
    }
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
    globals_ = deployed()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Layers"] == [{"Ref": "CoreLayer"}]
    assert globals_["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "MessagesTable"}
    for function in functions().values():
        for key in ("Runtime", "Architectures", "Layers", "Tracing", "ReservedConcurrentExecutions"):
            assert key not in function["Properties"]


def test_the_shared_layer_is_for_python313_arm64() -> None:
    layer = template()["Resources"]["CoreLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert (ROOT / layer["Properties"]["ContentUri"] / "threadkit" / "__init__.py").is_file()


def test_the_table_is_on_demand_recoverable_and_encrypted_with_no_hard_coded_name() -> None:
    (table,) = resources("AWS::DynamoDB::Table", deployed()).values()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}  # KMS, with the AWS managed key aws/dynamodb
    assert "TableName" not in props
    assert "LocalSecondaryIndexes" not in props
    assert [index["IndexName"] for index in props["GlobalSecondaryIndexes"]] == ["by_run", "by_tenant"]


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


def test_the_table_outlives_the_stack_and_any_change_that_would_replace_it() -> None:
    (table,) = resources("AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


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


# --- optional parameters: nothing at their defaults ---------------------------------------------------------

OPTIONAL = {
    "Tracing": "adot",
    "CorsAllowedOrigins": "https://app.example.com,https://admin.example.com",
    "ReservedConcurrency": "25",
    "TableKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
}
KEY_POLICY = {"Ref": "TableKeyPolicy"}


def _globals(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    globals_: dict[str, Any] = deployed(parameters)["Globals"]["Function"]
    return globals_


def test_the_optional_parameters_are_off_by_default() -> None:
    names = conditions(template())
    assert names["Condition:TracingOn"] == "false"
    assert names["Condition:HasCorsOrigins"] == "false"
    assert names["Condition:HasReservedConcurrency"] == "false"
    assert names["Condition:HasTableKmsKey"] == "false"
    for name, value in OPTIONAL.items():
        assert conditions(template(), {name: value}) != names, name


def test_by_default_the_stack_has_no_cors_reserved_concurrency_customer_key_or_tracing() -> None:
    stack = deployed()
    assert "CorsConfiguration" not in stack["Resources"]["HttpApi"]["Properties"]
    assert "ReservedConcurrentExecutions" not in _globals()
    assert "TableKeyPolicy" not in stack["Resources"]
    for function in functions(stack).values():
        assert KEY_POLICY not in function["Properties"]["Policies"]
    assert _globals()["Tracing"] == "PassThrough"
    assert _globals()["Layers"] == [{"Ref": "CoreLayer"}]
    variables = _globals()["Environment"]["Variables"]
    assert variables["TRACING_ENABLED"] == "false"
    assert not {"AWS_LAMBDA_EXEC_WRAPPER", "OTEL_SERVICE_NAME"} & set(variables)


def test_a_parameter_the_template_does_not_have_is_refused() -> None:
    with pytest.raises(TemplateError, match="NoSuchParameter"):
        deployed({"NoSuchParameter": "1"})


# --- CorsAllowedOrigins -------------------------------------------------------------------------------------

SDK_HEADERS = {"authorization", "content-type", "openai-beta", "idempotency-key"}


def test_cors_allows_the_given_origins_the_apis_methods_and_the_headers_the_sdks_send() -> None:
    cors = deployed(OPTIONAL)["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]}
    methods = {method for method, _, _ in EXPECTED_ROUTES.values()} - {"ANY"}
    assert set(cors["AllowMethods"]) == methods
    headers = set(cors["AllowHeaders"])
    assert headers >= SDK_HEADERS
    assert "x-portkey-api-key" in headers  # the portkey-ai SDK's key
    assert {h for h in headers if h.startswith("x-stainless-")} >= {
        "x-stainless-retry-count",
        "x-stainless-os",
    }
    assert all(h == h.lower() and "*" not in h for h in headers)
    assert set(cors["ExposeHeaders"]) >= {"x-request-id", "retry-after", "x-should-retry"}
    assert "AllowCredentials" not in cors


@pytest.mark.parametrize(
    ("origins", "accepted"),
    [
        ("", True),
        ("https://app.example.com", True),
        ("https://app.example.com,http://localhost:5173", True),
        ("*", True),
        ("https://app.example.com, https://admin.example.com", False),
        ("app.example.com", False),
        ("https://app.example.com,", False),
    ],
)
def test_cors_origins_are_a_comma_separated_list_without_spaces(origins: str, accepted: bool) -> None:
    pattern = template()["Parameters"]["CorsAllowedOrigins"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, origins)) is accepted


# --- ReservedConcurrency ------------------------------------------------------------------------------------


def test_reserved_concurrency_is_unreserved_by_default_and_never_zero_by_default() -> None:
    parameter = template()["Parameters"]["ReservedConcurrency"]
    assert parameter["Default"] == -1
    assert parameter["MinValue"] == -1
    assert _globals(OPTIONAL)["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    assert conditions(template(), {"ReservedConcurrency": "0"})["Condition:HasReservedConcurrency"] == "true"


# --- TableKmsKeyArn -----------------------------------------------------------------------------------------


def test_a_customer_managed_key_encrypts_the_table_and_every_function_may_use_it() -> None:
    stack = deployed(OPTIONAL)
    (table,) = resources("AWS::DynamoDB::Table", stack).values()
    assert table["Properties"]["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "TableKmsKeyArn"},
    }
    (statement,) = stack["Resources"]["TableKeyPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    assert statement["Resource"] == {"Ref": "TableKmsKeyArn"}
    for name, function in functions(stack).items():
        assert KEY_POLICY in function["Properties"]["Policies"], name


def test_the_key_parameter_takes_a_kms_key_arn_or_nothing() -> None:
    pattern = template()["Parameters"]["TableKmsKeyArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, "")
    assert re.fullmatch(pattern, OPTIONAL["TableKmsKeyArn"])
    assert not re.fullmatch(pattern, "alias/aws/dynamodb")


# --- Tracing ------------------------------------------------------------------------------------------------


def test_tracing_is_off_by_default() -> None:
    parameter = template()["Parameters"]["Tracing"]
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["off", "adot"]


def test_adot_tracing_adds_the_otel_layer_its_wrapper_and_active_tracing() -> None:
    globals_ = _globals({"Tracing": "adot"})
    adot, core = globals_["Layers"]
    assert core == {"Ref": "CoreLayer"}  # last, so that its pinned packages win in /opt
    names = {**conditions(template(), {"Tracing": "adot"}), "AWS::Region": "eu-west-1"}
    assert resolve(adot, names) == (
        "arn:aws:lambda:eu-west-1:901920570463:layer:aws-otel-python-arm64-ver-1-32-0:2"
    )
    variables = globals_["Environment"]["Variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-instrument"
    assert variables["OTEL_SERVICE_NAME"] == "messages-api"
    assert variables["TRACING_ENABLED"] == "true"
    # Active tracing: sampled trace ids for the layer, and SAM grants X-Ray write access to each role.
    assert globals_["Tracing"] == "Active"


def test_the_adot_layer_is_a_parameter_of_awss_arm64_python_layer_in_the_stacks_region() -> None:
    parameter = template()["Parameters"]["AdotLayer"]
    assert re.fullmatch(r"901920570463:layer:aws-otel-python-arm64-ver-\d+-\d+-\d+:\d+", parameter["Default"])
    assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])
    assert re.fullmatch(parameter["AllowedPattern"], "615299751070:layer:AWSOpenTelemetryDistroPython:29")
    assert not re.fullmatch(parameter["AllowedPattern"], "arn:aws:lambda:us-east-1:901920570463:layer:x:1")


# --- the template as CloudFormation gets it: SAM's own translation ------------------------------------------

SAM_PYTHON = ROOT / ".tools" / "bin" / "python"


def _translated(**parameters: str) -> dict[str, Any]:
    """template.yaml through SAM's translator (the SAM CLI's Python, which ``make template`` installs)."""
    finished = subprocess.run(
        [
            str(SAM_PYTHON),
            str(ROOT / "scripts" / "translate_template.py"),
            *(f"{k}={v}" for k, v in parameters.items()),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    translated: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return translated


@pytest.mark.skipif(not SAM_PYTHON.is_file(), reason="no SAM CLI in .tools/: `make template` installs it")
@pytest.mark.parametrize("snapstart", ["off", "on"])
def test_snapstart_on_request_calls_published_versions_through_their_alias(snapstart: str) -> None:
    translated = _translated(SnapStart=snapstart)
    found = translated["resources"]
    lambdas = {name: r for name, r in found.items() if r["Type"] == "AWS::Lambda::Function"}
    aliases = {
        r["Properties"]["FunctionName"]["Ref"]: r for r in found.values() if r["Type"] == "AWS::Lambda::Alias"
    }
    assert set(aliases) == set(lambdas) == set(functions())
    assert all(alias["Properties"]["Name"] == "live" for alias in aliases.values())
    for resource in lambdas.values():
        assert resource["Properties"]["SnapStart"] == {
            "Fn::If": ["SnapStartOn", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
        }
    assert translated["conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "on"]}
    body = json.dumps(found["HttpApi"]["Properties"]["Body"])
    invoked = set(re.findall(r"\$\{(\w+)\}/invocations", body))
    assert invoked == {f"{name}Aliaslive" for name in functions() if name != "PurgeThreadsFunction"}
    (mapping,) = [r for r in found.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["Properties"]["FunctionName"] == {"Ref": "PurgeThreadsFunctionAliaslive"}


def test_snapstart_is_off_unless_asked_for() -> None:
    parameter = template()["Parameters"]["SnapStart"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("off", ["off", "on"])
