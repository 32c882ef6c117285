"""The HTTP API of template.yaml: its routes, the functions behind them, and how a request picks its route.

Everything comes from the template: each ``AWS::Serverless::Function``'s ``HttpApi`` events (``Method``
and ``Path``, ``ANY``, ``$default``), its ``Handler``, ``CodeUri``, layers, memory and timeout. A route added
to the template is served with no change here.

Route selection follows API Gateway HTTP APIs: a path matches segment by segment (``{name}`` takes one
non-empty segment, a final ``{name+}`` takes the rest); the most specific path wins (a literal segment beats
``{name}``, which beats ``{name+}``, compared from the left); among equally specific paths an exact method
beats ``ANY``; ``$default`` takes whatever nothing else does.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from local.template import LAYER, ROOT, TemplateError, function_properties, functions, resources

DEFAULT_ROUTE = "$default"
ANY = "ANY"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", ANY})

_LITERAL, _PARAM, _GREEDY = 0, 1, 2
_PARAM_SEGMENT = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, as the local server runs it."""

    name: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...] = ()
    memory_mb: int = 128
    timeout_s: int = 3
    environment: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Route:
    """One route of the HTTP API: ``method`` is upper case or ``ANY``; ``path`` a template or ``$default``."""

    method: str
    path: str
    function: str

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise TemplateError(f"{self.function}: unsupported HttpApi method {self.method!r}")
        if self.path == DEFAULT_ROUTE:
            return
        if not self.path.startswith("/"):
            raise TemplateError(f"{self.function}: HttpApi path {self.path!r} must start with '/'")
        segments = self._segments()
        for index, segment in enumerate(segments):
            if "{" in segment or "}" in segment:
                found = _PARAM_SEGMENT.match(segment)
                if not found:
                    raise TemplateError(f"{self.function}: bad path segment {segment!r} in {self.path!r}")
                if found.group(2) and index != len(segments) - 1:
                    raise TemplateError(f"{self.function}: {segment!r} must be the last segment of a path")

    @property
    def route_key(self) -> str:
        """API Gateway's name for the route: ``POST /v1/threads/{thread_id}/messages`` or ``$default``."""
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"

    def _segments(self) -> list[str]:
        return self.path.split("/")[1:]

    def specificity(self) -> tuple[tuple[int, ...], int]:
        """Smaller is more specific: per-segment kinds from the left, then exact method before ANY."""
        kinds = []
        for segment in self._segments():
            found = _PARAM_SEGMENT.match(segment)
            kinds.append(_LITERAL if not found else _GREEDY if found.group(2) else _PARAM)
        return tuple(kinds), int(self.method == ANY)

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The path parameters (URL-decoded) if this route takes the request, else None."""
        if self.path == DEFAULT_ROUTE or self.method not in (ANY, method):
            return None
        wanted = self._segments()
        given = raw_path.split("/")[1:] if raw_path.startswith("/") else None
        if given is None:
            return None
        parameters: dict[str, str] = {}
        for index, segment in enumerate(wanted):
            found = _PARAM_SEGMENT.match(segment)
            if found and found.group(2):
                rest = given[index:]
                if not rest or not rest[0]:
                    return None
                parameters[found.group(1)] = unquote("/".join(rest))
                return parameters
            if index >= len(given):
                return None
            if found:
                if not given[index]:
                    return None
                parameters[found.group(1)] = unquote(given[index])
            elif segment != given[index]:
                return None
        return parameters if len(given) == len(wanted) else None


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    """The routes of an HTTP API, most specific first."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: (r.path == DEFAULT_ROUTE, r.specificity(), r.path))
        seen: dict[tuple[str, str], str] = {}
        for route in self.routes:
            key = (route.method if route.path != DEFAULT_ROUTE else ANY, route.path)
            if key in seen:
                raise TemplateError(
                    f"route {route.route_key} is declared by both {seen[key]} and {route.function}"
                )
            seen[key] = route.function
        self.default = next((r for r in self.routes if r.path == DEFAULT_ROUTE), None)

    @classmethod
    def from_template(cls, tmpl: Mapping[str, Any]) -> RouteTable:
        return cls(template_routes(tmpl))

    def resolve(self, method: str, raw_path: str) -> Match | None:
        """The route that takes ``method raw_path`` (``$default`` if no other does), or None."""
        for route in self.routes:
            parameters = route.match(method, raw_path)
            if parameters is not None:
                return Match(route, parameters)
        return Match(self.default, {}) if self.default else None

    def functions(self) -> list[str]:
        """The functions behind the routes, each once, in route order."""
        return list(dict.fromkeys(r.function for r in self.routes))


def template_routes(tmpl: Mapping[str, Any]) -> list[Route]:
    """Every HttpApi event of every function (payload format 2.0 only, as the local server speaks it)."""
    routes = []
    for name, function in functions(tmpl).items():
        for event in (function.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            version = str(props.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                raise TemplateError(f"{name}: payload format {version} is not supported locally (only 2.0)")
            path = str(props.get("Path", DEFAULT_ROUTE))
            method = str(props.get("Method", ANY)).upper()
            if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                method = ANY
            routes.append(Route(method, path, name))
    return routes


def function_specs(tmpl: Mapping[str, Any], root: Path = ROOT) -> dict[str, FunctionSpec]:
    """The template's functions that have local code, with Globals applied."""
    layers = resources(LAYER, tmpl)
    specs = {}
    for name in functions(tmpl):
        props = function_properties(name, tmpl)
        code_uri, handler = props.get("CodeUri"), props.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{name}: needs a local CodeUri and a 'module.function' Handler")
        layer_dirs = []
        for layer in props.get("Layers") or []:
            ref = layer.get("Ref") if isinstance(layer, Mapping) else None
            content = layers.get(str(ref), {}).get("Properties", {}).get("ContentUri")
            if isinstance(content, str):
                # A Python layer's code sits in python/ once built; the source tree may be that folder itself.
                folder = root / content
                layer_dirs.append(folder / "python" if (folder / "python").is_dir() else folder)
        variables = (props.get("Environment") or {}).get("Variables") or {}
        specs[name] = FunctionSpec(
            name=name,
            handler=handler,
            code_dir=root / code_uri,
            layer_dirs=tuple(layer_dirs),
            memory_mb=int(props.get("MemorySize", 128)),
            timeout_s=int(props.get("Timeout", 3)),
            environment=dict(variables),
            description=str(props.get("Description", "")),
        )
    return specs


def import_module(spec: FunctionSpec) -> ModuleType:
    """Imports a function's handler module as Lambda would find it: its code folder and layers on sys.path."""
    for folder in (*reversed(spec.layer_dirs), spec.code_dir):
        entry = str(folder.resolve())
        if entry not in sys.path:
            sys.path.insert(0, entry)
    module = importlib.import_module(spec.module_name)
    where = Path(module.__file__ or "").resolve()
    if not where.is_relative_to(spec.code_dir.resolve()):
        raise TemplateError(
            f"{spec.name}: module {spec.module_name!r} was found at {where}, not in {spec.code_dir} "
            "(do two functions share a module name?)"
        )
    return module


def load_handler(spec: FunctionSpec) -> Handler:
    handler = getattr(import_module(spec), spec.attribute, None)
    if not callable(handler):
        raise TemplateError(f"{spec.name}: {spec.handler} is not a function")
    return handler  # type: ignore[no-any-return]
