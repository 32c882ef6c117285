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

from tests.support.api_events import Answer, call
from tests.support.sam_template import ROOT, functions

EVENTS = ROOT / "events"
# HTTP events (API Gateway payload 2.0); purge_threads.json is a DynamoDB stream event (test_purge.py).
EVENT_FILES = sorted(p for p in EVENTS.glob("*.json") if p.stem != "purge_threads")


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
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.path))
        return self.method in (method, "ANY") and re.fullmatch(pattern, path) is not None


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
    """The route API Gateway picks: the one whose method and path match, else ``$default``."""
    method = event["requestContext"]["http"]["method"]
    matching = [r for r in routes() if r.matches(method, event["rawPath"])]
    if not matching:
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


def send(event: dict[str, Any]) -> Answer:
    """``event``'s answer from the function API Gateway would route it to."""
    return call(handler_of(route_of(event)), event)
