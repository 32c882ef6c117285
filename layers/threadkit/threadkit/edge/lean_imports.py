"""Powertools packages whose ``__init__`` imports far more than a function uses, opened without it.

``aws_lambda_powertools.event_handler`` imports every resolver (AppSync, Bedrock, VPC Lattice, ...) and
``aws_lambda_powertools.utilities.data_classes`` every event class, only to re-export them; a function needs
one resolver and two event classes. ``defer_package_init`` puts such a package in ``sys.modules`` without
running its ``__init__``: its submodules import as usual, and a name taken from the package itself is
imported from the submodule its ``__init__`` names (read from the source, not run), or is that submodule. A
name the ``__init__`` defines some other way runs the real ``__init__`` once: nothing behaves differently,
only later.

This must run before anything imports those packages: ``threadkit.edge`` does it first thing, and function
modules take Powertools' routing names from ``threadkit.edge.resolver``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from typing import Any

LEAN_PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def _reexports(name: str, source: str) -> dict[str, tuple[str, str]]:
    """``{exported name: (module, name in it)}`` for the ``from ... import`` lines of a package's __init__."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module if node.level == 0 else f"{name}.{node.module}"
            for alias in node.names:
                found[alias.asname or alias.name] = (module, alias.name)
    return found


def defer_package_init(name: str) -> None:
    """Registers package ``name`` without running its ``__init__`` (see the module docstring)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    with open(spec.origin, encoding="utf-8") as handle:
        exports = _reexports(name, handle.read())
    package = importlib.util.module_from_spec(spec)
    loaded = False

    def __getattr__(attribute: str) -> Any:
        nonlocal loaded
        where = exports.get(attribute)
        if where is not None:
            value = getattr(importlib.import_module(where[0]), where[1])
            setattr(package, attribute, value)
            return value
        if attribute.startswith("__"):
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        if (
            importlib.util.find_spec(f"{name}.{attribute}") is not None
        ):  # a submodule: ``from pkg import mod``
            return importlib.import_module(f"{name}.{attribute}")
        if not loaded:
            loaded = True
            spec.loader.exec_module(package)  # type: ignore[union-attr]
            return getattr(package, attribute)
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, package)


def open_lean() -> None:
    """Defers the ``__init__`` of every package in ``LEAN_PACKAGES``."""
    for name in LEAN_PACKAGES:
        defer_package_init(name)
