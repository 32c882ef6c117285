"""What a cold-start child imports: the code as ``sam build`` built it (``.aws-sam/build``, ``make build``).

Lambda's ``/var/task`` and ``/opt`` are read-only: whatever bytecode the package ships is all there is, and
every module without it is compiled from source at each cold start. The children therefore import from a
scratch copy of the build, never from the work tree:

* ``task/<function>/``: the function's folder as built;
* ``opt/python/``: the layer as built (its makefile compiles it for Python 3.13, hash-based and unchecked);
* ``before/python/``: the same layer without any bytecode, as the previous build method shipped it (the
  "before" row).

The layer's native wheels are Lambda's (arm64). Where this machine cannot load them, the same pinned version
of that distribution from this venv (this machine's build) stands in, its Python modules compiled the way the
layer's are; ``Deployment.stand_ins`` names them. boto3 and the standard library come from this interpreter
with their installed bytecode, as the Lambda runtime provides them.
"""

from __future__ import annotations

import platform
import py_compile
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.paths import HTTP_FUNCTIONS, ROOT
from local.template import functions

BUILT = ROOT / ".aws-sam" / "build"
_NO_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc")


class NotBuilt(RuntimeError):
    """``.aws-sam/build`` is missing or incomplete."""


@dataclass
class Deployment:
    root: Path
    stand_ins: list[str] = field(default_factory=list)

    @property
    def layer(self) -> Path:
        return self.root / "opt" / "python"

    @property
    def layer_before(self) -> Path:
        return self.root / "before" / "python"

    def code(self, function: str) -> Path:
        return self.root / "task" / function


def built_function_dirs(built: Path = BUILT) -> dict[str, Path]:
    """Each HTTP function's built folder, by its name under ``functions/``."""
    found: dict[str, Path] = {}
    for logical_id, resource in functions().items():
        code_uri = str(resource.get("Properties", {}).get("CodeUri", "")).rstrip("/")
        name = code_uri.rsplit("/", 1)[-1]
        if name in HTTP_FUNCTIONS:
            found[name] = built / logical_id
    return found


def _foreign_distributions(layer: Path) -> list[str]:
    """Distributions in ``layer`` with native modules built for another machine than this one."""
    here = platform.machine().lower()
    foreign: set[str] = set()
    for record in layer.glob("*.dist-info/RECORD"):
        for line in record.read_text(encoding="utf-8").splitlines():
            path = line.split(",", 1)[0]
            if path.endswith(".so") and here not in path and ("aarch64" in path or "x86_64" in path):
                foreign.add(record.parent.name.split("-")[0])
    return sorted(foreign)


def _stand_in(layer: Path, dist_name: str) -> str:
    """Replaces ``dist_name``'s files in ``layer`` with this venv's build of the same version."""
    built_version = next(layer.glob(f"{dist_name}-*.dist-info")).name.removesuffix(".dist-info").split("-")[1]
    local = metadata.distribution(dist_name)
    if local.version != built_version:
        raise NotBuilt(f"the layer has {dist_name} {built_version}, this venv {local.version}: `make venv`")
    for line in (next(layer.glob(f"{dist_name}-*.dist-info")) / "RECORD").read_text().splitlines():
        target = layer / line.split(",", 1)[0]
        if target.is_file():
            target.unlink()
    for file in local.files or []:
        if file.parts[0] == ".." or file.suffix == ".pyc" or "__pycache__" in file.parts:
            continue
        source = Path(str(local.locate_file(file)))
        if source.is_file():
            destination = layer / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
            if destination.suffix == ".py":
                py_compile.compile(
                    str(destination),
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                    doraise=True,
                )
    return f"{dist_name} {local.version} ({platform.machine()} build of the layer's pinned version)"


def prepare(root: Path, built: Path = BUILT) -> Deployment:
    layer = built / "CoreLayer" / "python"
    dirs = built_function_dirs(built)
    absent = [name for name in HTTP_FUNCTIONS if name not in dirs or not dirs[name].is_dir()]
    if not layer.is_dir() or absent:
        raise NotBuilt(
            f"{built} lacks {'the layer' if not layer.is_dir() else ', '.join(absent)}: `make build`"
        )
    deployment = Deployment(root)
    for name, path in dirs.items():
        shutil.copytree(path, deployment.code(name))
    shutil.copytree(layer, deployment.layer)
    for dist_name in _foreign_distributions(deployment.layer):
        deployment.stand_ins.append(_stand_in(deployment.layer, dist_name))
    shutil.copytree(deployment.layer, deployment.layer_before, ignore=_NO_BYTECODE)
    return deployment
