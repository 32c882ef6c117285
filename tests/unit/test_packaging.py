"""The layer installs exactly the runtime dependencies the project is tested with, compiled for Lambda's
Python."""

from __future__ import annotations

import importlib.util
import py_compile
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.sam_template import ROOT, template

BUILT_LAYER = ROOT / ".aws-sam" / "build" / "CoreLayer" / "python"


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


# --- the layer as built: compiled for Lambda's Python ------------------------------------------------------


def _check_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_build", ROOT / "scripts" / "check_build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_layer_is_built_by_its_makefile_for_arm64() -> None:
    layer = template()["Resources"]["CoreLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (ROOT / "layers" / "threadkit" / "Makefile").read_text()
    assert "\nbuild-CoreLayer:" in makefile
    assert "--platform manylinux2014_aarch64" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile


@pytest.mark.skipif(not BUILT_LAYER.is_dir(), reason="no .aws-sam/build: `make build` (part of `make test`)")
def test_every_module_of_the_built_layer_has_its_unchecked_bytecode() -> None:
    modules = list(BUILT_LAYER.rglob("*.py"))
    assert any(path.relative_to(BUILT_LAYER).parts[0] == "threadkit" for path in modules)
    assert any(path.relative_to(BUILT_LAYER).parts[0] == "pydantic" for path in modules)
    assert _check_build().missing_bytecode(BUILT_LAYER) == []


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        (None, "has no mod.cpython-313.pyc"),
        (py_compile.PycInvalidationMode.TIMESTAMP, "is not unchecked hash-based bytecode (flags 0)"),
        (py_compile.PycInvalidationMode.CHECKED_HASH, "is not unchecked hash-based bytecode (flags 3)"),
        (py_compile.PycInvalidationMode.UNCHECKED_HASH, None),
    ],
)
def test_the_build_check_refuses_a_layer_without_unchecked_bytecode(
    tmp_path: Path, mode: py_compile.PycInvalidationMode | None, problem: str | None
) -> None:
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    source.write_text("VALUE = 1\n")
    if mode is not None:
        target = source.parent / "__pycache__" / "mod.cpython-313.pyc"
        py_compile.compile(str(source), cfile=str(target), invalidation_mode=mode, doraise=True)
    found = _check_build().missing_bytecode(tmp_path)
    assert found == ([] if problem is None else [found[0]])
    if problem is not None:
        assert found[0].endswith(problem)
