"""Checks what `sam build` made: the shared package in the layer's python/, and no test or dev tooling.

Usage: python scripts/check_build.py .aws-sam/build
"""

from __future__ import annotations

import sys
from pathlib import Path

# Importable names that belong to tests and tooling, never to a deployed function or layer.
DEV_ONLY = {
    "pytest",
    "_pytest",
    "moto",
    "hypothesis",
    "mypy",
    "ruff",
    "coverage",
    "pytest_cov",
    "boto3",
    "botocore",
    "yaml",
    "cfnlint",
    "samcli",
    "samtranslator",
    "tests",
    "mypy_boto3_dynamodb",
}
REQUIRED_IN_LAYER = {"threadkit", "aws_lambda_powertools", "pydantic", "pydantic_core"}
# Lambda runs CPython 3.13: the layer's bytecode must be 3.13's, hash-based and unchecked (PEP 552 flags
# 0b01), so that it stays valid whatever timestamps copying gives the sources.
BYTECODE_TAG = "cpython-313"
UNCHECKED_HASH = 0b01


def missing_bytecode(layer: Path) -> list[str]:
    """The modules under ``layer`` without a 3.13, unchecked hash-based ``.pyc`` beside them."""
    found: list[str] = []
    for source in sorted(layer.rglob("*.py")):
        compiled = source.parent / "__pycache__" / f"{source.stem}.{BYTECODE_TAG}.pyc"
        if not compiled.is_file():
            found.append(f"{source.relative_to(layer)} has no {compiled.name}")
            continue
        with compiled.open("rb") as handle:
            flags = int.from_bytes(handle.read(8)[4:8], "little")
        if flags != UNCHECKED_HASH:
            found.append(
                f"{compiled.relative_to(layer)} is not unchecked hash-based bytecode (flags {flags})"
            )
    return found


def problems(build: Path) -> list[str]:
    found: list[str] = []
    layer = build / "CoreLayer" / "python"
    if not (layer / "threadkit" / "__init__.py").is_file():
        found.append(f"{layer}/threadkit is missing")
    present = {p.name.split("-")[0] for p in layer.iterdir()} if layer.is_dir() else set()
    found += [f"layer lacks {name}" for name in sorted(REQUIRED_IN_LAYER - present)]
    found += [f"layer ships dev-only {name}" for name in sorted(DEV_ONLY & present)]
    if any(p.name == "tests" for p in layer.rglob("tests") if p.parent.name == "threadkit"):
        found.append("layer ships threadkit tests")
    if layer.is_dir():
        missing = missing_bytecode(layer)
        found += [f"layer: {problem}" for problem in missing[:10]]
        if len(missing) > 10:
            found.append(f"layer: {len(missing) - 10} more modules without bytecode")
    functions = [d for d in build.iterdir() if d.is_dir() and d.name.endswith("Function")]
    if not functions:
        found.append("no function was built")
    for function in functions:
        names = {p.name for p in function.iterdir()}
        extra = {n for n in names if n.split("-")[0].split(".")[0] in DEV_ONLY}
        found += [f"{function.name} ships dev-only {n}" for n in sorted(extra)]
        if not any(n.endswith(".py") for n in names):
            found.append(f"{function.name} has no handler module")
    return found


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")
    found = problems(build)
    for problem in found:
        print(f"check_build: {problem}", file=sys.stderr)
    if not found:
        print(
            f"check_build: {build} holds the layer (python/threadkit, compiled for Python 3.13) and the "
            "functions, no dev tooling"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
