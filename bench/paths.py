"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
EVENTS = ROOT / "events"
LAYER = ROOT / "layers" / "threadkit"
FUNCTIONS = ROOT / "functions"
TEMPLATE = ROOT / "template.yaml"
RESULTS = BENCH / "results.json"

# The functions behind the HTTP API, each with its sample event events/<name>.json.
HTTP_FUNCTIONS = (
    "create_message",
    "list_messages",
    "modify_message",
    "retrieve_message",
    "delete_message",
    "create_thread",
    "retrieve_thread",
    "modify_thread",
    "delete_thread",
    "list_threads",
    "import_thread",
    "export_thread",
    "route_not_found",
)


def function_dir(name: str) -> Path:
    return FUNCTIONS / name


def event_path(name: str) -> Path:
    return EVENTS / f"{name}.json"


def code_paths() -> list[str]:
    """What a Lambda container has on ``sys.path`` (the layer, the function's code), for every function at
    once, then the repository root (for ``local.template``)."""
    return [str(LAYER), *(str(function_dir(name)) for name in HTTP_FUNCTIONS), str(ROOT)]
