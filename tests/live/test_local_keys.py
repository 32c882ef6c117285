"""The local server's keys: the key it prints, MESSAGES_API_KEYS, and the key tool against its store."""

from __future__ import annotations

import io
import json
import socket
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


def test_the_key_tool_makes_a_key_with_a_chosen_secret(server: LocalServer, data_dir: Path) -> None:
    env = {"LOCAL_DATA_DIR": str(data_dir)}
    chosen = "sk-chosen-by-a-script-00000000000000"
    assert _create_thread(server, chosen) == 401
    out = io.StringIO()
    command = ["--local", "create", "--tenant", "t3", "--name", "script", "--secret", chosen]
    assert keys_tool.run(command, env, out=out) == 0
    assert chosen not in out.getvalue()  # the user knows it already; it is not printed back
    auth.key_cache().clear()
    assert _create_thread(server, chosen) == 200

    # Run again (a setup script's second run): the key is left as it is.
    again = io.StringIO()
    assert keys_tool.run(command, env, out=again) == 0
    assert "exists already" in again.getvalue()
    assert again.getvalue().split()[0] == out.getvalue().split()[0]
    listing = io.StringIO()
    assert keys_tool.run(["--local", "list"], env, out=listing) == 0
    assert listing.getvalue().count(" t3 ") == 1


def test_a_chosen_secret_must_be_a_possible_key_and_not_another_tenants(
    server: LocalServer, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"LOCAL_DATA_DIR": str(data_dir)}
    short = ["--local", "create", "--tenant", "t4", "--name", "x", "--secret", "sk-short"]
    assert keys_tool.run(short, env, out=io.StringIO()) == 2
    assert "--secret: 20 to 256 printable ASCII characters" in capsys.readouterr().err
    taken = ["--local", "create", "--tenant", "t4", "--name", "x", "--secret", KEY_T1]
    assert keys_tool.run(taken, env, out=io.StringIO()) == 1
    assert "exists already" in capsys.readouterr().err
    auth.key_cache().clear()
    thread = call("POST", f"{server.base_url}/threads", {}, api_key=KEY_T1).json["id"]
    assert call("GET", f"{server.base_url}/threads/{thread}", api_key=KEY_T1).status == 200  # still t1's


def test_the_key_tool_ignores_what_a_stopped_server_left(tmp_path: Path) -> None:
    # A server killed without its stop leaves its file; nothing listens where it says.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        gone = probe.getsockname()[1]
    (tmp_path / "server.json").write_text(
        json.dumps({"api": "http://127.0.0.1:1/v1", "dynamodb": f"http://127.0.0.1:{gone}", "table": "t"})
    )
    with pytest.raises(SystemExit, match="No running local server found"):
        keys_tool.run(["--local", "list"], {"LOCAL_DATA_DIR": str(tmp_path)}, out=io.StringIO())
