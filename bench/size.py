"""Part 4: what each function deploys, unzipped, with the layer, against Lambda's 250 MB limit.

Measures ``.aws-sam/build`` when it exists (``make build``). Otherwise, when the SAM CLI is in ``.tools/``
and a Python 3.13 can be found, runs ``sam build`` into a temporary directory that is removed afterwards
(nothing is written into the work tree, and a concurrent ``make build`` is not disturbed). That build is the
one step of the bench that leaves the machine: pip fetches the layer's pinned packages from the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import procs
from bench.paths import ROOT, TEMPLATE
from local.template import LAYER, functions, resources

# Lambda's limit for a function's code and all its layers, unzipped: 250 MB (262,144,000 bytes).
LIMIT_BYTES = 250 * 1024 * 1024
BUILD_TIMEOUT = 600.0
SAM = ROOT / ".tools" / "bin" / "sam"
BUILT = ROOT / ".aws-sam" / "build"
HOW_TO_BUILD = (
    "`make build` builds .aws-sam/build (it installs the SAM CLI into .tools/ first; it needs Python 3.13, "
    "e.g. `pyenv install 3.13` or the python3.13 package of your system)"
)


@dataclass
class FunctionSize:
    logical_id: str
    code_bytes: int | None
    total_bytes: int | None

    @property
    def passed(self) -> bool:
        return self.total_bytes is not None and self.total_bytes <= LIMIT_BYTES


@dataclass
class SizeResults:
    source: str
    layer: str = ""
    layer_bytes: int | None = None
    layer_files: int = 0
    layer_pyc_files: int = 0
    layer_largest: list[tuple[str, int]] = field(default_factory=list)
    functions: list[FunctionSize] = field(default_factory=list)
    build_seconds: float | None = None
    error: str | None = None
    limit_bytes: int = LIMIT_BYTES

    def as_json(self) -> dict[str, object]:
        summary = asdict(self)
        summary["functions"] = [asdict(f) | {"pass": f.passed} for f in self.functions]
        return summary


def _tree(path: Path) -> tuple[int, int]:
    """Bytes and files under ``path`` (links are not followed)."""
    size = files = 0
    for folder, _, names in os.walk(path):
        for name in names:
            size += (Path(folder) / name).lstat().st_size
            files += 1
    return size, files


def _describe_layer(layer: Path, result: SizeResults) -> None:
    result.layer_bytes, result.layer_files = _tree(layer)
    result.layer_pyc_files = sum(1 for _ in layer.rglob("*.pyc"))
    packages = layer / "python"
    if packages.is_dir():
        entries = [
            (entry.name, _tree(entry)[0] if entry.is_dir() else entry.lstat().st_size)
            for entry in packages.iterdir()
            if not entry.name.endswith((".dist-info", ".data"))
        ]
        result.layer_largest = sorted(entries, key=lambda entry: -entry[1])[:4]


def _measure(built: Path, source: str) -> SizeResults:
    (layer,) = resources(LAYER)
    result = SizeResults(source=source, layer=layer)
    if (built / layer).is_dir():
        _describe_layer(built / layer, result)
    for logical_id in functions():
        folder = built / logical_id
        code = _tree(folder)[0] if folder.is_dir() else None
        total = None if code is None or result.layer_bytes is None else code + result.layer_bytes
        result.functions.append(FunctionSize(logical_id, code, total))
    return result


def _runs_313(python: str) -> bool:
    try:
        check = procs.run_bounded(
            [python, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 13))"], timeout=30
        )
    except (OSError, TimeoutError):
        return False
    return check.returncode == 0


def python313() -> str | None:
    """A Python 3.13 that runs (a pyenv shim of a version that is not selected does not)."""
    candidates = [shutil.which("python3.13")]
    if sys.version_info[:2] == (3, 13):
        candidates.append(sys.executable)
    try:
        found = procs.run_bounded([str(ROOT / "scripts" / "find-python")], timeout=30)
        candidates.append(found.stdout.strip() or None)
    except (OSError, TimeoutError):
        pass
    return next((c for c in candidates if c and _runs_313(c)), None)


def measure(allow_build: bool, progress: Callable[[str], None]) -> SizeResults:
    if BUILT.is_dir():
        return _measure(BUILT, ".aws-sam/build (existing)")
    if not allow_build:
        return SizeResults(source="none", error=f"no .aws-sam/build and --no-build given: {HOW_TO_BUILD}")
    if not SAM.exists():
        return SizeResults(
            source="none", error=f"no .aws-sam/build and no SAM CLI in .tools/: {HOW_TO_BUILD}"
        )
    python = python313()
    if python is None:
        return SizeResults(
            source="none", error=f"no .aws-sam/build and no Python 3.13 for sam build: {HOW_TO_BUILD}"
        )
    progress("package size: sam build into a temporary directory")
    environment = {
        **os.environ,
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    with tempfile.TemporaryDirectory(prefix="bench-sam-") as scratch:
        build_dir = Path(scratch) / "build"
        started = time.monotonic()
        try:
            built = procs.run_bounded(
                [str(SAM), "build", "--template", str(TEMPLATE), "--build-dir", str(build_dir)],
                timeout=BUILD_TIMEOUT,
                env=environment,
                cwd=str(ROOT),
            )
        except (OSError, TimeoutError, subprocess.SubprocessError) as exc:
            return SizeResults(source="sam build", error=f"sam build failed: {exc}")
        elapsed = time.monotonic() - started
        if built.returncode != 0:
            tail = (built.stderr or built.stdout).strip()[-800:]
            return SizeResults(source="sam build", error=f"sam build exited {built.returncode}: {tail}")
        result = _measure(build_dir, f"sam build (Python {python}) into a temporary directory, since removed")
        result.build_seconds = elapsed
        return result
