"""The local server's keys: the key it prints, MESSAGES_API_KEYS, and the key tool against its store."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import keytool as keys_tool
from local.serve import LocalServer
from tests.support.live import LIVE_API_KEY, call, running_server
from threadkit.edge import auth

KEY_T1 = "sk-local-keys-t1-000000000000000000000000"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[LocalServer]:
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": None,
        "TABLE_NAME": "messages-keys",
        "LOCAL_DATA_DIR": str(data_dir),
        "LOCAL_DYNAMODB_PORT": None,
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


def test_the_key_tool_works_against_the_running_servers_store(server: LocalServer, data_dir: Path) -> None:
    # The tool finds the server's store from what the server wrote in its data folder, whatever its port.
    env = {"LOCAL_DATA_DIR": str(data_dir)}
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
    auth.key_cache().clear()  # what 30 seconds would do
    assert _create_thread(server, secret) == 401


def test_the_key_tool_says_so_when_no_local_server_runs(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="No running local server found"):
        keys_tool.run(["--local", "list"], {"LOCAL_DATA_DIR": str(tmp_path)}, out=io.StringIO())
