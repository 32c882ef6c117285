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
        print(f"check_build: {build} holds the layer (python/threadkit) and the functions, no dev tooling")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
