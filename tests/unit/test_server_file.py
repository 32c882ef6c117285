"""The file a running local server writes in its data folder (``server.json``), which the key tool's
``--local`` reads: written at start, removed at stop, but never another server's."""

from __future__ import annotations

import json
from pathlib import Path

from local.datastore import SERVER_FILE, Store, running_server


def _store(folder: Path, endpoint: str) -> Store:
    data = folder / "dynamodb.sqlite3"
    return Store(endpoint, "messages-local", "us-east-1", embedded=True, created=False, data_file=data)


def test_a_server_says_where_it_is_while_it_runs(tmp_path: Path) -> None:
    store = _store(tmp_path, "http://127.0.0.1:3001")
    store.advertise("http://127.0.0.1:3000/v1")
    assert running_server({"LOCAL_DATA_DIR": str(tmp_path)}) == {
        "api": "http://127.0.0.1:3000/v1",
        "dynamodb": "http://127.0.0.1:3001",
        "table": "messages-local",
    }
    store.stop()
    assert not (tmp_path / SERVER_FILE).exists()


def test_a_server_that_stops_leaves_the_file_of_one_started_after_it(tmp_path: Path) -> None:
    first, second = _store(tmp_path, "http://127.0.0.1:3001"), _store(tmp_path, "http://127.0.0.1:4001")
    first.advertise("http://127.0.0.1:3000/v1")
    second.advertise("http://127.0.0.1:4000/v1")
    first.stop()
    assert json.loads((tmp_path / SERVER_FILE).read_text())["api"] == "http://127.0.0.1:4000/v1"
    second.stop()
    assert not (tmp_path / SERVER_FILE).exists()
