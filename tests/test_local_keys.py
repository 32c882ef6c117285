"""The local server's keys: the key it prints, MESSAGES_API_KEYS, and the key tool against its store."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import pytest

from local import keys as keys_tool
from local.serve import LocalServer
from tests.support.live import LIVE_API_KEY, call, running_server
from threadkit import http

KEY_T1 = "sk-local-keys-t1-000000000000000000000000"


@pytest.fixture(autouse=True)
def _aws_environment() -> None:
    """The server sets up the environment its functions read; conftest's per-test one must stay out."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": None,
        "TABLE_NAME": "messages-keys",
        "LOCAL_DYNAMODB_PORT": str(_free_port()),
        "MESSAGES_API_KEYS": f"t1:{KEY_T1}",
    }
    with running_server(env) as running:
        yield running


def _create_thread(server: LocalServer, key: str | None) -> int:
    return call("POST", f"{server.base_url}/threads", {}, api_key=key).status


def test_the_server_makes_and_prints_a_working_key(server: LocalServer) -> None:
    assert server.local_key is not None
    assert server.local_key in server.banner()
    assert _create_thread(server, server.local_key) == 200
    assert _create_thread(server, None) == 401
    assert _create_thread(server, LIVE_API_KEY) == 401  # not one of this server's keys


def test_keys_named_in_messages_api_keys_work_and_see_only_their_tenant(server: LocalServer) -> None:
    thread = call("POST", f"{server.base_url}/threads", {}, api_key=KEY_T1).json["id"]
    assert call("GET", f"{server.base_url}/threads/{thread}", api_key=KEY_T1).status == 200
    assert call("GET", f"{server.base_url}/threads/{thread}", api_key=server.local_key).status == 404


def test_the_key_tool_works_against_the_running_servers_store(server: LocalServer) -> None:
    env = {
        "LOCAL_DYNAMODB_PORT": server.store.endpoint.rsplit(":", 1)[1] if server.store else "",
        "TABLE_NAME": "messages-keys",
    }
    out = io.StringIO()
    assert keys_tool.run(["--local", "create", "--tenant", "t2", "--name", "tool"], env, out=out) == 0
    created = out.getvalue()
    secret = created.split("secret (shown once): ", 1)[1].strip()
    key_id = created.split()[0]
    assert _create_thread(server, secret) == 200

    listing = io.StringIO()
    assert keys_tool.run(["--local", "list"], env, out=listing) == 0
    assert key_id in listing.getvalue()
    assert "t1" in listing.getvalue()
    assert secret not in listing.getvalue()
    assert KEY_T1 not in listing.getvalue()

    assert keys_tool.run(["--local", "revoke", key_id], env, out=io.StringIO()) == 0
    http.key_cache().clear()  # what 30 seconds would do
    assert _create_thread(server, secret) == 401
