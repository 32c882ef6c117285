"""The layer installs exactly the runtime dependencies the project is tested with."""

from __future__ import annotations

import tomllib

from tests.support.sam_template import ROOT


def _pins(lines: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_layer_requirements_pin_the_same_runtime_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    layer = (ROOT / "layers" / "threadkit" / "requirements.txt").read_text().splitlines()
    assert _pins(layer) == _pins(project["dependencies"])


def test_layer_requirements_hold_no_test_or_aws_sdk_packages() -> None:
    layer = _pins((ROOT / "layers" / "threadkit" / "requirements.txt").read_text().splitlines())
    assert not {"boto3", "botocore", "moto", "pytest", "hypothesis"} & set(layer)
