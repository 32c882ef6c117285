"""The sample events in events/ against a table made ready by the two commands README gives for
``sam local invoke`` (the key tool's ``--secret`` for their key, ``local.samples`` for their thread and
message): every event gets its function's answer for a thread that exists, in any order, with nothing copied
from one event into another. The functions are the local server's (the handlers ``sam local invoke`` runs),
on its embedded store; SAM's Docker run is not repeated here. The environment file README shows names only
variables the template declares (SAM passes a function no other)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local import keytool, samples
from local.serve import LocalServer
from local.template import ROOT, function_properties, functions, template
from tests.support.api_events import TEST_API_KEY
from tests.support.live import running_server
from threadkit.edge import auth

EVENTS = ROOT / "events"
ENV_FILE = EVENTS / "env.json"


def _http_events() -> list[Path]:
    return sorted(p for p in EVENTS.glob("*.json") if "routeKey" in json.loads(p.read_text()))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample-events")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[LocalServer]:
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": None,
        "TABLE_NAME": "messages-events",
        "LOCAL_DATA_DIR": str(data_dir),
        "LOCAL_DYNAMODB_PORT": None,
        "MESSAGES_API_KEYS": None,
    }
    with running_server(env) as running:
        yield running


@pytest.fixture(scope="module")
def ready(server: LocalServer, data_dir: Path) -> dict[str, str]:
    """The events' key made as README says (tenant default, its secret chosen)."""
    env = {"LOCAL_DATA_DIR": str(data_dir)}
    command = ["--local", "create", "--tenant", "default", "--name", "sample events"]
    command += ["--secret", TEST_API_KEY]
    assert keytool.run(command, env, out=io.StringIO()) == 0
    return env


def _invoke(server: LocalServer, event: dict[str, Any]) -> tuple[int, Any]:
    match = server.routes.resolve(event["requestContext"]["http"]["method"], event["rawPath"])
    assert match is not None
    result = server.functions[match.route.function].invoke(event)
    return result["statusCode"], json.loads(result["body"])


def _prepare(env: dict[str, str]) -> str:
    out = io.StringIO()
    assert samples.run(["--local"], env, out=out) == 0
    return out.getvalue()


def test_the_events_address_one_thread_with_one_message_under_one_key() -> None:
    found = samples.read_events(EVENTS.glob("*.json"))
    assert found.secret == TEST_API_KEY
    assert found.threads == {"thread_abc123DEF456ghi789JKL012": ["msg_0AbCdEfGhIjKlMnOpQrStUvW"]}


def test_without_the_key_the_samples_command_says_how_to_make_it(server: LocalServer, data_dir: Path) -> None:
    env = {"LOCAL_DATA_DIR": str(data_dir)}
    table, call = keytool.table_caller({**env, **keytool.local_environment(env)})
    absent = samples.Samples("sk-never-made-0000000000000000000", {"thread_" + "A" * 24: []})
    with pytest.raises(samples.SampleError) as refused:
        samples.write_samples(table, call, absent, io.StringIO(), local=True)
    assert "local.keytool --local create --tenant default" in str(refused.value)
    assert "--secret sk-never-made-0000000000000000000" in str(refused.value)


@pytest.mark.parametrize("path", _http_events(), ids=lambda p: p.stem)
def test_every_event_gets_its_answer_once_the_table_is_ready(
    server: LocalServer, ready: dict[str, str], path: Path
) -> None:
    printed = _prepare(ready)
    assert "thread_abc123DEF456ghi789JKL012 (tenant default) with msg_0AbCdEfGhIjKlMnOpQrStUvW" in printed
    auth.key_cache().clear()
    status, body = _invoke(server, json.loads(path.read_text()))
    if path.stem.endswith("_invalid"):
        assert status == 400, body
    elif path.stem == "route_not_found":
        assert status == 404, body
        assert body["error"]["message"].startswith("Invalid URL")
    else:
        # The answer of a thread and message that exist, with a valid key: 200 for every event that reads
        # or changes them (an import of that same thread id finds it there: 409).
        assert status not in (401, 404), body
        assert status < 500, body
        assert status == 200 or path.stem.startswith("import_"), body


def test_the_events_run_one_after_another_with_one_preparation(
    server: LocalServer, ready: dict[str, str]
) -> None:
    # Once prepared, the events run in an order that ends with the deletes all answer 200.
    _prepare(ready)
    order = ["retrieve_thread", "modify_thread", "list_messages", "create_message", "create_message_parts"]
    order += ["retrieve_message", "modify_message", "delete_message", "create_thread", "delete_thread"]
    for stem in order:
        status, body = _invoke(server, json.loads((EVENTS / f"{stem}.json").read_text()))
        assert status == 200, (stem, body)
    # And a second preparation brings back what the deletes removed.
    _prepare(ready)
    status, body = _invoke(server, json.loads((EVENTS / "retrieve_message.json").read_text()))
    assert status == 200, body
    status, body = _invoke(server, json.loads((EVENTS / "list_messages.json").read_text()))
    assert [m["id"] for m in body["data"]] == ["msg_0AbCdEfGhIjKlMnOpQrStUvW"]


def test_the_env_vars_file_names_only_variables_the_template_declares() -> None:
    env = json.loads(ENV_FILE.read_text())
    tmpl = template()
    declared = {
        name: set((function_properties(name, tmpl).get("Environment") or {}).get("Variables") or {})
        for name in functions(tmpl)
    }
    assert set(env) <= {"Parameters", *declared}
    for scope, variables in env.items():
        assert isinstance(variables, dict)
        allowed = set.intersection(*declared.values()) if scope == "Parameters" else declared[scope]
        assert set(variables) <= allowed, scope
        assert all(isinstance(value, str) for value in variables.values())
