"""The migration command (``threads-api``) against the live local server: export a thread to a folder and
import the folder under another tenant; copy a thread from the server to itself under another tenant through
the two standard routes; import a document too large for one request, in parts."""

from __future__ import annotations

import io
import json
import secrets
import string
from pathlib import Path
from typing import Any

from local import migrate
from tests.support.live import LIVE_API_KEY, OTHER_API_KEY, call


def _thread_with_messages(base: str, count: int) -> str:
    """A thread made through the API: 32 messages with the thread, the rest one by one, roles alternating."""
    initial = [
        {"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n}", "metadata": {"n": str(n)}}
        for n in range(min(count, 32))
    ]
    created = call("POST", f"{base}/threads", {"messages": initial, "metadata": {"app": "migration"}})
    assert created.status == 200, created.body
    thread_id: str = created.json["id"]
    for n in range(32, count):
        body = {"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n}"}
        assert call("POST", f"{base}/threads/{thread_id}/messages", body).status == 200
    return thread_id


def _messages(base: str, thread_id: str, key: str) -> list[dict[str, Any]]:
    """Every message of the thread, oldest first, through the standard list."""
    messages: list[dict[str, Any]] = []
    after = ""
    while True:
        page = call("GET", f"{base}/threads/{thread_id}/messages?limit=100&order=asc{after}", api_key=key)
        assert page.status == 200, page.body
        messages.extend(page.json["data"])
        if not page.json["has_more"]:
            return messages
        after = f"&after={page.json['last_id']}"


def _without_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k != "id"} for m in messages]


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = migrate.run(list(argv), {}, out=io.StringIO(), err=err, tty=False)
    return code, err.getvalue()


def _assert_same_thread(base: str, thread_id: str) -> None:
    original = call("GET", f"{base}/threads/{thread_id}").json
    copied = call("GET", f"{base}/threads/{thread_id}", api_key=OTHER_API_KEY)
    assert copied.status == 200, copied.body
    assert copied.json == original
    ours, theirs = _messages(base, thread_id, LIVE_API_KEY), _messages(base, thread_id, OTHER_API_KEY)
    assert _without_ids(theirs) == _without_ids(ours)
    assert {m["id"] for m in theirs}.isdisjoint(m["id"] for m in ours)  # minted anew


def test_export_to_a_folder_then_import_it_under_another_tenant(live_api: str, tmp_path: Path) -> None:
    thread_id = _thread_with_messages(live_api, 40)
    out = tmp_path / "exports"
    code, err = _cli(
        "export", thread_id, "--out", str(out), "--page-size", "16", "--base-url", live_api, "--api-key",
        LIVE_API_KEY,
    )  # fmt: skip
    assert code == 0, err
    assert (out / f"{thread_id}.json").is_file()
    state = str(tmp_path / "import-state.json")
    code, err = _cli("import", str(out), "--base-url", live_api, "--api-key", OTHER_API_KEY, "--state", state)
    assert code == 0, err
    assert "1 imported" in err
    _assert_same_thread(live_api, thread_id)
    # Again with what is done remembered: skipped. Again without: the same content is the same
    # Idempotency-Key, which the API answers as before; other content under that id is its 409, a failure.
    code, err = _cli("import", str(out), "--base-url", live_api, "--api-key", OTHER_API_KEY, "--state", state)
    assert code == 0, err
    assert "1 already done" in err
    fresh = str(tmp_path / "fresh-state.json")
    code, err = _cli("import", str(out), "--base-url", live_api, "--api-key", OTHER_API_KEY, "--state", fresh)
    assert code == 0, err
    assert "1 imported" in err
    path = out / f"{thread_id}.json"
    document = json.loads(path.read_text())
    document["thread"]["metadata"] = {"app": "changed"}
    path.write_text(json.dumps(document))
    third = str(tmp_path / "third-state.json")
    code, err = _cli("import", str(out), "--base-url", live_api, "--api-key", OTHER_API_KEY, "--state", third)
    assert code == 1
    assert f"failed: {thread_id} ({path}): already exists on the target" in err
    _assert_same_thread(live_api, thread_id)


def test_copy_from_the_server_to_itself_under_another_tenant(live_api: str, tmp_path: Path) -> None:
    thread_id = _thread_with_messages(live_api, 102)  # two pages of the standard list
    state = str(tmp_path / "state.json")
    argv = ["copy", thread_id, "--from-url", live_api, "--from-key", LIVE_API_KEY]
    argv += ["--base-url", live_api, "--api-key", OTHER_API_KEY, "--state", state]
    code, err = _cli(*argv)
    assert code == 0, err
    assert "102 messages imported" in err
    _assert_same_thread(live_api, thread_id)
    code, err = _cli(*argv)
    assert code == 0, err
    assert "1 already done" in err


def test_a_document_over_the_request_limit_imports_in_parts(live_api: str, tmp_path: Path) -> None:
    thread_id = "thread_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    count = 90
    oldest_first: list[dict[str, Any]] = [
        {
            "id": f"msg_given{n:04d}",
            "object": "thread.message",
            "created_at": 1_700_000_000 + n // 3,  # three by three alike: ties keep the history's order
            "role": "user" if n % 2 == 0 else "assistant",
            "content": [{"type": "text", "text": {"value": f"message {n} " + "x" * 600, "annotations": []}}],
            "metadata": {"n": str(n)},
        }
        for n in range(count)
    ]
    thread = {"id": thread_id, "object": "thread", "created_at": 1_700_000_000, "metadata": {"app": "parts"}}
    document = {
        "thread": thread,
        "messages": {"object": "list", "data": oldest_first[::-1], "has_more": False},
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(document))
    assert path.stat().st_size > 3 * 20_000
    state = tmp_path / "state.json"
    argv = ["import", str(path), "--max-request-bytes", "20000", "--state", str(state)]
    code, err = _cli(*argv, "--base-url", live_api, "--api-key", OTHER_API_KEY)
    assert code == 0, err
    assert f"imported {count} messages in " in err
    listed = _messages(live_api, thread_id, OTHER_API_KEY)
    texts = [m["content"][0]["text"]["value"] for m in listed]
    assert texts == [m["content"][0]["text"]["value"] for m in oldest_first]
    assert [m["created_at"] for m in listed] == [m["created_at"] for m in oldest_first]
    entry = json.loads(state.read_text())["scopes"]
    (imported,) = [e[thread_id] for e in entry.values()]
    assert imported["parts"] >= 3
    assert imported["message_ids"] == {g["id"]: m["id"] for g, m in zip(oldest_first, listed, strict=True)}
    assert call("GET", f"{live_api}/threads/{thread_id}", api_key=OTHER_API_KEY).json["metadata"] == {
        "app": "parts"
    }
