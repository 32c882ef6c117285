"""What deploying takes, and what a deployment runs.

* ``samconfig.toml`` answers everything ``sam deploy`` would ask, in each environment, with parameters the
  template has and values it accepts; ``make deploy`` builds, then deploys with it.
* CI runs README's test command; the pre-commit hooks run the commands of ``make lint``; the license and the
  changelog say what ``pyproject.toml`` says.
* No function loads a tracer unless tracing is on, and then the one of OpenTelemetry (the ADOT layer's), never
  the X-Ray SDK. Each check runs in a fresh interpreter, as a cold start does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.sam_template import ROOT, functions, template

SAMCONFIG: dict[str, Any] = tomllib.loads((ROOT / "samconfig.toml").read_text())
ENVIRONMENTS = ("default", "prod")
PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _deploy(environment: str) -> dict[str, Any]:
    parameters: dict[str, Any] = SAMCONFIG[environment]["deploy"]["parameters"]
    return parameters


def _overrides(environment: str) -> dict[str, str]:
    """The environment's parameter_overrides ("Key=Value Key2=Value2") as a map."""
    pairs = shlex.split(_deploy(environment).get("parameter_overrides", ""))
    return dict(pair.split("=", 1) for pair in pairs)


def _recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with the Makefile's ``X := value`` variables expanded."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    variables = dict(re.findall(r"^([A-Z_]+) := (\S+)$", "\n".join(lines), re.MULTILINE))
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip().lstrip("@")
        for _ in range(3):  # BIN := $(VENV)/bin
            command = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), command)
        recipe.append(command)
    return recipe


# --- sam deploy asks nothing --------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_sam_deploy_finds_every_answer_it_would_ask_for_in_samconfig(environment: str) -> None:
    deploy = _deploy(environment)
    assert deploy["stack_name"]
    assert deploy["resolve_s3"] is True  # SAM's own bucket: no bucket to ask for
    capabilities = deploy["capabilities"]
    capabilities = capabilities.split() if isinstance(capabilities, str) else capabilities
    assert "CAPABILITY_IAM" in capabilities
    nested = {"AWS::Serverless::Application", "AWS::CloudFormation::Stack"}
    if any(resource["Type"] in nested for resource in template()["Resources"].values()):
        assert "CAPABILITY_AUTO_EXPAND" in capabilities
    assert deploy["confirm_changeset"] is False  # no "Deploy this changeset? [y/N]"
    assert "guided" not in deploy
    assert "region" not in deploy  # the user's AWS configuration decides
    missing = {
        name
        for name, spec in template()["Parameters"].items()
        if "Default" not in spec and name not in _overrides(environment)
    }
    assert not missing


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_overridden_parameter_is_the_templates_with_a_value_it_accepts(environment: str) -> None:
    parameters = template()["Parameters"]
    assert _overrides(environment) or environment == "default"
    for name, value in _overrides(environment).items():
        assert name in parameters, name
        spec = parameters[name]
        if "AllowedValues" in spec:
            assert value in [str(allowed) for allowed in spec["AllowedValues"]], name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), name
        if spec["Type"] == "Number":
            assert float(spec.get("MinValue", "-inf")) <= float(value) <= float(spec.get("MaxValue", "inf"))


def test_each_environment_is_its_own_stack_and_sam_delete_takes_down_that_one() -> None:
    stacks = {environment: _deploy(environment)["stack_name"] for environment in ENVIRONMENTS}
    assert len(set(stacks.values())) == len(ENVIRONMENTS)
    for environment, stack in stacks.items():
        assert SAMCONFIG[environment]["delete"]["parameters"]["stack_name"] == stack
        assert _deploy(environment)["s3_prefix"] == stack  # sam delete removes this stack's code only


def test_samconfig_is_committed_not_ignored() -> None:
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert not {"samconfig.toml", "*.toml", "/samconfig.toml"} & ignored


def test_make_deploy_builds_then_deploys_with_samconfig_and_no_guided_questions() -> None:
    recipe = _recipe("deploy")
    build = next(i for i, command in enumerate(recipe) if command.endswith("$(MAKE) build"))
    (deploy,) = [command for command in recipe if " sam deploy" in f" {command}" or "/sam deploy" in command]
    assert build < recipe.index(deploy)
    assert "--config-env $(CONFIG_ENV)" in deploy
    assert "--guided" not in " ".join(recipe)
    # With --template-file, sam looks for samconfig.toml beside that template (in .aws-sam/build).
    assert "--template-file" not in deploy
    (delete,) = [command for command in _recipe("delete") if "/sam delete" in command]
    assert "--config-env $(CONFIG_ENV)" in delete


@pytest.mark.parametrize(
    ("environment", "region_is_dropped"), [({}, True), ({"AWS_DEFAULT_REGION": "eu-west-1"}, False)]
)
def test_make_deploy_and_delete_leave_the_region_to_the_users_aws_configuration(
    environment: dict[str, str], region_is_dropped: bool
) -> None:
    """The Makefile sets us-east-1 for its offline checks; a deploy must not inherit it."""
    env = {key: value for key, value in os.environ.items() if key not in {"AWS_DEFAULT_REGION", "MAKEFLAGS"}}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "delete"],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (delete,) = [line for line in done.stdout.splitlines() if "sam delete" in line]
    assert delete.startswith("env -u AWS_DEFAULT_REGION ") is region_is_dropped


# --- CI, pre-commit, license, changelog ---------------------------------------------------------------------


def _readme_test_command() -> str:
    """The command of README's "The two commands" whose comment says it runs the tests."""
    section = (ROOT / "README.md").read_text().split("## The two commands", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.partition("#") for line in block.strip().splitlines()]
    (command,) = [command.strip() for command, _, comment in commands if "the tests" in comment]
    return command


def test_ci_runs_readmes_test_command_on_python_313_and_node_20_on_every_push_and_pull_request() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = workflow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu")
    steps = job["steps"]
    actions = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert str(actions["actions/setup-python"]["with"]["python-version"]) == "3.13"
    assert str(actions["actions/setup-node"]["with"]["node-version"]) == "20"
    assert "actions/checkout" in actions
    assert steps[-1]["run"].strip() == _readme_test_command() == "make test"


def test_the_pre_commit_hooks_run_the_commands_of_make_lint() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert all(hook["language"] == "system" for hook in hooks)
    assert all(hook["pass_filenames"] is False for hook in hooks)  # the command itself, not one per file
    entries = [shlex.split(hook["entry"]) + hook.get("args", []) for hook in hooks]
    assert entries == [shlex.split(command) for command in _recipe("lint")]
    assert all(entry[0].startswith(".venv/bin/") for entry in entries)


def test_the_license_is_the_mit_license_pyproject_declares() -> None:
    assert PROJECT["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    holders = [author["name"] for author in PROJECT.get("authors", [])] or ["The Messages API authors"]
    for holder in holders:
        assert re.search(rf"^Copyright \(c\) \d{{4}} .*{re.escape(holder)}", text, re.MULTILINE), holder


def test_the_changelog_has_an_unreleased_section_and_pyprojects_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    version = re.escape(PROJECT["version"])
    assert any(re.fullmatch(rf"\[{version}\] - \d{{4}}-\d{{2}}-\d{{2}}", heading) for heading in headings)


# --- tracing: nothing loaded unless it is on, and never the X-Ray SDK ---------------------------------------

TRACERS = ("aws_xray_sdk", "opentelemetry")


def _code_dirs() -> list[str]:
    return [str(ROOT / function["Properties"]["CodeUri"]) for function in functions().values()]


def _fresh_interpreter(script: str, *, tracing: str, path: list[str] | None = None) -> Any:
    """Runs ``script`` in a new Python with ``path``, every function's folder and the layer first on
    ``sys.path``; what the script prints last, as JSON."""
    env = {
        **os.environ,
        "TRACING_ENABLED": tracing,
        "TABLE_NAME": "messages-table",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    folders = [*(path or []), *_code_dirs(), str(ROOT / "layers" / "threadkit")]
    prelude = f"import json, sys\nsys.path[:0] = {folders!r}\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# Every function imported, then one request without a key (answered 401 before any DynamoDB call).
A_REQUEST = """
for function in {modules!r}:
    __import__(function)
import create_thread
from tests.support.api_events import FakeContext, http_event
event = http_event("POST", "/v1/threads", route_key="POST /v1/threads", headers={{"authorization": None}})
answer = create_thread.lambda_handler(event, FakeContext())
assert answer["statusCode"] == 401, answer
"""


def _modules_after_a_request(tracing: str) -> set[str]:
    modules = [function["Properties"]["Handler"].split(".")[0] for function in functions().values()]
    script = A_REQUEST.format(modules=modules) + "print(json.dumps(sorted(sys.modules)))\n"
    return set(_fresh_interpreter(script, tracing=tracing))


def _powertools_own_tracing_modules() -> set[str]:
    """What ``import aws_lambda_powertools`` loads of its tracing package by itself: its ``__init__`` imports
    the ``Tracer`` class (not the X-Ray SDK), and importing any Powertools module runs that ``__init__``."""
    script = "import json, sys, aws_lambda_powertools; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout)
    return {name for name in loaded if name.startswith("aws_lambda_powertools.tracing")}


def test_with_tracing_off_a_function_loads_no_tracer() -> None:
    loaded = _modules_after_a_request("false")
    assert not {name for name in loaded if name.startswith(TRACERS)}
    powertools_tracing = {name for name in loaded if name.startswith("aws_lambda_powertools.tracing")}
    assert powertools_tracing <= _powertools_own_tracing_modules()


def test_with_tracing_on_a_function_never_loads_the_xray_sdk() -> None:
    loaded = _modules_after_a_request("true")
    assert not {name for name in loaded if name.startswith("aws_xray_sdk")}


FAKE_OPENTELEMETRY = '''
"""Stands for the OpenTelemetry API that the ADOT layer brings: records the spans it is asked for."""
from contextlib import contextmanager

SPANS = []


class _Tracer:
    @contextmanager
    def start_as_current_span(self, name, attributes=None):
        SPANS.append({"name": name, "attributes": dict(attributes or {})})
        yield


def get_tracer(name):
    return _Tracer()
'''


def test_with_the_adot_layers_opentelemetry_each_request_is_a_span_named_after_its_route(
    tmp_path: Path,
) -> None:
    package = tmp_path / "opentelemetry"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "trace.py").write_text(FAKE_OPENTELEMETRY)
    script = A_REQUEST.format(modules=["create_thread"])
    script += "from opentelemetry import trace\nprint(json.dumps(trace.SPANS))\n"
    spans = _fresh_interpreter(script, tracing="true", path=[str(tmp_path)])
    assert spans == [
        {
            "name": "POST /v1/threads",
            "attributes": {"http.request.method": "POST", "http.route": "/v1/threads"},
        }
    ]


def test_no_code_of_the_functions_or_their_layer_uses_the_xray_sdk_or_powertools_tracer() -> None:
    sources = [*(ROOT / "layers" / "threadkit").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    pattern = re.compile(r"\baws_xray_sdk\b|aws_lambda_powertools\.tracing|\bTracer\(|import Tracer\b")
    assert [path for path in sources if pattern.search(path.read_text())] == []
    requirements = (ROOT / "layers" / "threadkit" / "requirements.txt").read_text().lower()
    assert "aws-xray-sdk" not in requirements
    assert not [dependency for dependency in PROJECT["dependencies"] if "xray" in dependency.lower()]
