"""Sample events and their functions, found as API Gateway finds them: by the HttpApi event's method and path
in template.yaml (``$default`` for anything else), then called through the template's ``Handler``, the entry
point ``sam local invoke`` uses. ``send(event)`` is the one way the tests call a handler with an event."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.api_events import Answer, call, http_event
from tests.support.sam_template import ROOT, functions

EVENTS = ROOT / "events"
# HTTP events (API Gateway payload 2.0); purge_threads.json is a DynamoDB stream event (test_purge.py).
EVENT_FILES = sorted(p for p in EVENTS.glob("*.json") if p.stem not in ("purge_threads", "env"))


@dataclass(frozen=True)
class Route:
    function: str
    handler: str
    method: str
    path: str

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def matches(self, method: str, path: str) -> bool:
        if self.path == "$default":
            return False
        return self.method in (method, "ANY") and self.parameters(path) is not None

    def parameters(self, path: str) -> dict[str, str] | None:
        """The path parameters API Gateway gives the function for ``path`` (``{"thread_id": ...}``); None
        when ``path`` is not this route's."""
        if self.path == "$default":
            return None
        pattern = re.sub(r"\\\{([^/]+?)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return None if found is None else found.groupdict()


def routes() -> list[Route]:
    found = []
    for name, resource in functions().items():
        props = resource["Properties"]
        for event in props.get("Events", {}).values():
            if event["Type"] == "HttpApi":
                spec = event["Properties"]
                found.append(Route(name, props["Handler"], spec["Method"].upper(), spec["Path"]))
    return found


def route_of(event: dict[str, Any]) -> Route:
    """The route API Gateway picks: of those whose method and path match, the most specific (a literal
    segment beats a ``{parameter}``: ``POST /v1/threads/import`` is not ``POST /v1/threads/{thread_id}``),
    else ``$default``."""
    method = event["requestContext"]["http"]["method"]
    matching = [r for r in routes() if r.matches(method, event["rawPath"])]
    if matching:
        fewest = min(r.path.count("{") for r in matching)
        matching = [r for r in matching if r.path.count("{") == fewest]
    else:
        matching = [r for r in routes() if r.path == "$default"]
    assert len(matching) == 1, matching
    return matching[0]


def handler_of(route: Route) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module_name, attribute = route.handler.rsplit(".", 1)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(
        importlib.import_module(module_name), attribute
    )
    return handler


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def routed_event(method: str, path: str, **fields: Any) -> dict[str, Any]:
    """``api_events.http_event(method, path, **fields)`` as API Gateway hands it to the function it routes it
    to: with that route's key and, on a route with ids in its path, the path parameters."""
    event = http_event(method, path, **fields)
    route = route_of(event)
    event["routeKey"] = event["requestContext"]["routeKey"] = route.route_key
    parameters = route.parameters(path)
    if parameters:
        event["pathParameters"] = parameters
    return event


def send(event: dict[str, Any]) -> Answer:
    """``event``'s answer from the function API Gateway would route it to."""
    return call(handler_of(route_of(event)), event)
