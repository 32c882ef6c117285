"""What a cold-start child imports: the code as ``sam build`` deploys it, source only.

``sam build`` copies the functions' and the layer's source without ``__pycache__``, and installs the layer's
packages without compiling them either; Lambda's ``/var/task`` and ``/opt`` are read-only, so nothing is
cached there and every module of the deployment is compiled from source at every cold start. The children
therefore import from a scratch copy of the sources, never from the work tree (whose ``__pycache__``, if a
test run left one, would make the figures depend on it):

* ``task/<function>/``: the function's folder;
* ``opt/python/``: the layer's own package, ``threadkit``;
* ``deps/``: the layer's third-party packages (``layers/threadkit/requirements.txt`` and what they require),
  copied from this venv without bytecode, for the "layer as deployed" row. Installed packages elsewhere
  (boto3, which the Lambda runtime provides, and the standard library) keep their bytecode.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench.paths import HTTP_FUNCTIONS, LAYER, function_dir

_NO_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass
class Deployment:
    root: Path
    distributions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def layer(self) -> Path:
        return self.root / "opt" / "python"

    @property
    def dependencies(self) -> Path:
        return self.root / "deps"

    def code(self, function: str) -> Path:
        return self.root / "task" / function


def _requirements() -> list[Requirement]:
    lines = (LAYER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip()]


def _closure(roots: list[Requirement]) -> tuple[list[metadata.Distribution], list[str]]:
    """The installed distributions ``roots`` need (markers evaluated, no extras), and those not installed."""
    found: dict[str, metadata.Distribution] = {}
    missing: list[str] = []
    pending = list(roots)
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found or name in missing:
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        found[name] = distribution
        for text in distribution.requires or []:
            needed = Requirement(text)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                pending.append(needed)
    return list(found.values()), missing


def _copy_distribution(distribution: metadata.Distribution, target: Path) -> None:
    for file in distribution.files or []:
        if file.parts[0] == ".." or file.suffix == ".pyc" or "__pycache__" in file.parts:
            continue
        source = Path(str(distribution.locate_file(file)))
        if source.is_file():
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def prepare(root: Path) -> Deployment:
    deployment = Deployment(root)
    for name in HTTP_FUNCTIONS:
        shutil.copytree(function_dir(name), deployment.code(name), ignore=_NO_BYTECODE)
    shutil.copytree(LAYER / "threadkit", deployment.layer / "threadkit", ignore=_NO_BYTECODE)
    distributions, deployment.missing = _closure(_requirements())
    for distribution in distributions:
        _copy_distribution(distribution, deployment.dependencies)
        deployment.distributions.append(f"{distribution.metadata['Name']} {distribution.version}")
    return deployment
