"""The official openai Node SDK against the live local server: create, list with its auto-pagination, update,
retrieve and delete, as a Node app does.

The SDK is pinned in ``tests/support/node_client/package.json`` and ``package-lock.json``; ``make test``
installs it (``npm ci``) before the tests run, so the tests need no network.
``tests/support/node_client/flow.mjs`` drives it and prints what it saw; this module checks that against the
contract.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.support.api import MESSAGE_KEYS, text_part
from tests.support.live import LIVE_API_KEY
from tests.support.sam_template import SUPPORT

NODE_DIR = SUPPORT / "node_client"
SDK_VERSION = "6.49.0"
COUNT = 23  # pages of 7 and of 10: several, the last one short


def installed_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / "openai" / "package.json"
    if not manifest.is_file():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


@pytest.fixture(scope="module")
def seen(live_api: str) -> dict[str, Any]:
    """What the Node SDK saw of one whole flow against the live server."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Node SDK test needs Node.js 20+ (see README)")
    if installed_version() != SDK_VERSION:
        pytest.fail(f"openai {SDK_VERSION} is not installed in {NODE_DIR}: run `make test` (it runs npm ci)")
    result = subprocess.run(
        [node, str(NODE_DIR / "flow.mjs"), live_api, LIVE_API_KEY, str(COUNT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    flow: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return flow


def test_the_node_sdk_creates_a_thread_and_messages(seen: dict[str, Any]) -> None:
    thread = seen["thread"]
    assert list(thread) == ["id", "object", "created_at", "metadata", "tool_resources"]
    assert (thread["object"], thread["metadata"], thread["tool_resources"]) == (
        "thread",
        {"client": "node"},
        {},
    )
    assert len(seen["created"]) == len(set(seen["created"])) == COUNT


def test_the_node_sdk_auto_pagination_visits_every_message_once_in_order(seen: dict[str, Any]) -> None:
    assert seen["ascending"] == seen["created"]
    assert seen["descending"] == seen["created"][::-1]


def test_the_node_sdk_updates_retrieves_and_deletes(seen: dict[str, Any]) -> None:
    first = seen["created"][0]
    for message in (seen["updated"], seen["retrieved"]):
        assert list(message) == MESSAGE_KEYS
        assert (message["id"], message["metadata"]) == (first, {"seen": "yes"})
        assert message["content"] == [text_part("message 0")]
    assert seen["deleted"] == {"id": seen["created"][1], "object": "thread.message.deleted", "deleted": True}
    assert seen["missing"] == {
        "status": 404,
        "error": {
            "message": f"No message found with id '{seen['created'][1]}'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
    }
    assert seen["threadDeleted"] == {"id": seen["thread"]["id"], "object": "thread.deleted", "deleted": True}
