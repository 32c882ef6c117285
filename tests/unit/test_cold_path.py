"""What a cold start loads: one Powertools resolver, not all; the models a function uses, built when first
used; and, in a SnapStart function, what each restored environment drops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from types import ModuleType

import pytest

from tests.support.sam_template import ROOT
from threadkit import storage
from threadkit.edge import auth, snapstart
from threadkit.storage import client, keys

LAYER = ROOT / "layers" / "threadkit"


def _modules_after(script: str, function: str = "create_message") -> dict[str, object]:
    """What ``script`` prints as JSON, run in a fresh interpreter with a function's code and the layer on
    ``sys.path`` (as Lambda has them) and nothing imported before."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function), str(LAYER)]),
        "TABLE_NAME": "messages",
        "POWERTOOLS_SERVICE_NAME": "messages-api",
    }
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=False
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    result: dict[str, object] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def test_a_function_loads_one_resolver_and_no_event_class_it_does_not_read() -> None:
    found = _modules_after(
        "import json, sys, create_message\n"
        "names = sorted(m for m in sys.modules if m.startswith(('aws_lambda_powertools', 'aws_xray_sdk')))\n"
        "print(json.dumps({'modules': names}))"
    )
    modules = found["modules"]
    assert isinstance(modules, list)
    loaded = set(modules)
    assert "aws_lambda_powertools.event_handler.api_gateway" in loaded
    for never in (
        "aws_lambda_powertools.event_handler.appsync",
        "aws_lambda_powertools.event_handler.bedrock_agent",
        "aws_lambda_powertools.event_handler.events_appsync",
        "aws_lambda_powertools.utilities.data_classes.sqs_event",
        "aws_lambda_powertools.utilities.data_classes.kafka_event",
        "aws_xray_sdk",
    ):
        assert never not in loaded, never


def test_powertools_packages_opened_lean_still_export_every_name() -> None:
    found = _modules_after(
        "import json, create_message\n"
        "from aws_lambda_powertools.event_handler import AppSyncResolver, APIGatewayHttpResolver\n"
        "from aws_lambda_powertools.event_handler import content_types\n"
        "from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, SQSEvent\n"
        "import aws_lambda_powertools.event_handler as handler\n"
        "print(json.dumps({'names': [AppSyncResolver.__name__, APIGatewayHttpResolver.__name__,\n"
        "    content_types.__name__, SQSEvent.__name__, DynamoDBStreamEvent.__name__,\n"
        "    handler.Response.__name__]}))"
    )
    assert found["names"] == [
        "AppSyncResolver",
        "APIGatewayHttpResolver",
        "aws_lambda_powertools.event_handler.content_types",
        "SQSEvent",
        "DynamoDBStreamEvent",
        "Response",
    ]


def test_models_a_function_does_not_use_are_never_built() -> None:
    found = _modules_after(
        "import json, create_message\n"
        "from threadkit.contract import models\n"
        "print(json.dumps({'built': [models.Thread.__pydantic_complete__, "
        "models.ModifyThreadRequest.__pydantic_complete__]}))"
    )
    assert found["built"] == [False, False]


# --- SnapStart ----------------------------------------------------------------------------------------------


@pytest.fixture
def runtime_hooks(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    """Lambda's ``snapshot_restore_py``, as the Python runtime provides it: the hooks registered with it."""
    registered: list[Callable[[], None]] = []
    module = ModuleType("snapshot_restore_py")
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_outside_snapstart_nothing_is_registered(
    runtime_hooks: list[Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    assert snapstart.install() is False
    assert runtime_hooks == []


@pytest.mark.usefixtures("table")
def test_after_a_restore_the_client_and_the_key_cache_are_new(
    runtime_hooks: list[Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    assert snapstart.install() is True
    assert runtime_hooks == [snapstart.after_restore]
    before_client = client.dynamodb_client()
    before_cache = auth.key_cache()
    before_cache.get(
        "sk-snapshot-time", lambda _: keys.ApiKey("key_1", "a", "k", created_at=1, revoked_at=None)
    )

    runtime_hooks[0]()

    assert client.dynamodb_client() is not before_client
    assert auth.key_cache() is not before_cache
    assert auth.key_cache().get("sk-snapshot-time", lambda _: None) is None
    storage.reset()
