"""The migration command (``threads-api``, local/migrate.py) against a fake Assistants API on loopback:
import, export, copy, resuming, conflicts, retries, the size check, a thread in parts, the exit status and
``keys``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local import apiclient, keytool, migrate
from local.migration_state import STATE_NAME
from local.thread_docs import MAX_BODY_BYTES, import_request, part_margin
from tests.support.fake_assistants import DROP, HANDLE, FakeAssistants, Script, document, serving

THREAD_A = "thread_AAAAAAAAAAAAAAAAAAAAAAAA"
THREAD_B = "thread_BBBBBBBBBBBBBBBBBBBBBBBB"
THREAD_C = "thread_CCCCCCCCCCCCCCCCCCCCCCCC"


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths (a default state file) land in the test's folder."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def api() -> Iterator[FakeAssistants]:
    with serving() as fake:
        yield fake


@dataclass
class Result:
    code: int
    out: str
    err: str
    sleeps: list[float]


def cli(api: FakeAssistants, *argv: str, key: str = "dest", tty: bool = False, **environ: str) -> Result:
    sleeps: list[float] = []
    out, err = io.StringIO(), io.StringIO()
    full = [*argv, "--base-url", api.base_url, "--api-key", key]
    code = migrate.run(full, environ, out=out, err=err, sleep=sleeps.append, tty=tty)
    return Result(code, out.getvalue(), err.getvalue(), sleeps)


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    return path


def state_of(path: Path) -> dict[str, Any]:
    scopes: dict[str, Any] = json.loads(path.read_text())["scopes"]
    return {thread: entry for entries in scopes.values() for thread, entry in entries.items()}


# --- import -------------------------------------------------------------------------------------------------


def test_import_of_a_file_sends_the_document_with_an_idempotency_key_and_keeps_the_id_map(
    api: FakeAssistants, tmp_path: Path
) -> None:
    doc = document(THREAD_A, 3, has_more=False, last_id="x")
    state = tmp_path / "state.json"
    result = cli(api, "import", str(write(tmp_path / "a.json", doc)), "--state", str(state))
    assert result.code == 0, result.err
    (post,) = api.requests("POST", "/threads/import")
    assert post.body == {"thread": doc["thread"], "messages": doc["messages"]}  # export's extra keys left out
    assert post.headers["idempotency-key"].startswith(f"threads-api-import-{THREAD_A}-")
    assert post.headers["authorization"] == "Bearer dest"
    stored = api.stored("dest", THREAD_A)
    assert stored is not None
    assert [m["content"] for m in stored["messages"]] == [m["content"] for m in doc["messages"]]
    entry = state_of(state)[THREAD_A]
    assert entry["status"] == "done"
    assert entry["message_ids"] == {
        m["id"]: n["id"] for m, n in zip(doc["messages"], stored["messages"], strict=True)
    }
    assert "1 thread: 1 imported, 0 already done, 0 failed; 3 messages imported" in result.err


def test_import_of_a_folder_takes_its_json_files_but_not_the_state_file(
    api: FakeAssistants, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    write(folder / f"{THREAD_A}.json", document(THREAD_A, 2))
    raw = document(THREAD_B, 4)
    dump = {
        "thread": raw["thread"],
        "messages": {"object": "list", "data": raw["messages"], "has_more": False},
    }
    write(folder / f"{THREAD_B}.json", dump)  # a raw dump: thread plus a list page
    write(folder / STATE_NAME, {"version": 1, "scopes": {}})
    (folder / "notes.txt").write_text("not a document")
    result = cli(api, "import", str(folder), "--state", str(tmp_path / "state.json"))
    assert result.code == 0, result.err
    assert len(api.requests("POST", "/threads/import")) == 2
    b = api.stored("dest", THREAD_B)
    assert b is not None
    assert len(b["messages"]) == 4
    assert f"[2/2] {THREAD_B}" in result.err  # a plain line per thread when stderr is no terminal


def test_same_content_gives_the_same_idempotency_key_and_other_content_another() -> None:
    doc = document(THREAD_A, 2)
    reordered = {"messages": doc["messages"], "thread": dict(reversed(list(doc["thread"].items())))}
    changed = document(THREAD_A, 3)
    assert import_request(doc).idempotency_key == import_request(reordered).idempotency_key
    assert import_request(doc).idempotency_key != import_request(changed).idempotency_key
    assert len(import_request(doc).idempotency_key) <= 255


def test_a_message_too_large_for_any_request_fails_its_thread_unsent(
    api: FakeAssistants, tmp_path: Path
) -> None:
    big = document(THREAD_A, 3)
    big["messages"][1]["content"][0]["text"]["value"] = "x" * MAX_BODY_BYTES  # over 6 MiB once framed
    write(tmp_path / "big.json", big)
    write(tmp_path / "small.json", document(THREAD_B, 2))
    result = cli(api, "import", str(tmp_path / "big.json"), str(tmp_path / "small.json"), "--state", "s.json")
    assert result.code == 1
    assert [s.body["thread"]["id"] for s in api.requests("POST")] == [THREAD_B]
    name = big["messages"][1]["id"]
    assert f"failed: {THREAD_A} ({tmp_path / 'big.json'}): message {name} alone is " in result.err
    assert f"at most {MAX_BODY_BYTES:,} bytes" in result.err
    assert "not even in parts; nothing was sent" in result.err
    # A lower limit, for a deployment whose gateway takes less: one message over it fails the thread.
    doc = document(THREAD_C, 30)
    doc["messages"][7]["content"][0]["text"]["value"] = "y" * 3000
    write(tmp_path / "c.json", doc)
    lower = cli(api, "import", str(tmp_path / "c.json"), "--max-request-bytes", "2000", "--state", "s.json")
    assert lower.code == 1
    assert f"message {doc['messages'][7]['id']} alone is " in lower.err
    assert api.stored("dest", THREAD_C) is None
    assert len(api.requests("POST")) == 1


def test_an_incomplete_document_is_refused(api: FakeAssistants, tmp_path: Path) -> None:
    page = write(tmp_path / "page.json", document(THREAD_A, 2, has_more=True, last_id="msg_x"))
    result = cli(api, "import", str(page), "--state", str(tmp_path / "s.json"))
    assert result.code == 1
    assert "one page of a longer export" in result.err
    assert api.requests("POST") == []


# --- a thread too large for one request, in parts ----------------------------------------------------------

IMPORT = "/v1/threads/import"
LIMIT = 5000


def long_document(thread_id: str, count: int) -> dict[str, Any]:
    """``count`` messages of about 400 bytes each, two by two with the same ``created_at``."""
    doc = document(thread_id, count)
    for n, message in enumerate(doc["messages"]):
        message["content"][0]["text"]["value"] = f"message {n} " + "x" * 300
        message["created_at"] = 1_700_000_000 + n // 2
    return doc


def given_ids(doc: dict[str, Any]) -> list[str]:
    return [m["id"] for m in doc["messages"]]


def first_part_after_token(seen: Any) -> bool:
    return "import_token" in seen.body


def last_part(seen: Any) -> bool:
    return "import_token" in seen.body and seen.body.get("more") is not True


def assert_imported_whole(api: FakeAssistants, doc: dict[str, Any], entry: dict[str, Any]) -> None:
    """The thread is stored once, oldest first, and the state's id map covers every message."""
    stored = api.stored("dest", doc["thread"]["id"])
    assert stored is not None
    texts = [m["content"][0]["text"]["value"] for m in stored["messages"]]
    assert texts == [m["content"][0]["text"]["value"] for m in doc["messages"]]
    assert entry["status"] == "done"
    assert entry["message_ids"] == dict(
        zip(given_ids(doc), [m["id"] for m in stored["messages"]], strict=True)
    )


def test_a_document_over_the_limit_is_imported_in_parts_oldest_first_with_the_token(
    api: FakeAssistants, tmp_path: Path
) -> None:
    doc = long_document(THREAD_A, 40)
    newest_first = {**doc, "messages": doc["messages"][::-1]}  # a desc dump: read backwards, ties too
    api.max_body = LIMIT
    state = tmp_path / "state.json"
    path = str(write(tmp_path / "a.json", newest_first))
    result = cli(api, "import", path, "--max-request-bytes", str(LIMIT), "--state", str(state))
    assert result.code == 0, result.err
    parts = api.requests("POST", "/threads/import")
    assert len(parts) >= 4
    assert all(part.size <= LIMIT - part_margin(LIMIT) for part in parts)
    assert all(part.body["thread"] == doc["thread"] for part in parts)
    first, *middle, last = parts
    assert (first.body["more"], "import_token" in first.body) == (True, False)
    assert all(part.body["more"] is True for part in middle)
    assert "more" not in last.body
    assert {part.body["import_token"] for part in [*middle, last]} == {f"{1:032x}"}  # the fake's first
    assert [m["id"] for part in parts for m in part.body["messages"]] == given_ids(doc)
    keys = [part.headers["idempotency-key"] for part in parts]
    assert len(set(keys)) == len(parts)
    assert all(key.startswith(f"threads-api-part-{THREAD_A}-") and len(key) <= 255 for key in keys)
    entry = state_of(state)[THREAD_A]
    assert entry["parts"] == len(parts)
    assert_imported_whole(api, doc, entry)
    assert f"imported 40 messages in {len(parts)} parts" in result.err
    assert "40 messages imported" in result.err
    # Done is done: a second run sends nothing.
    assert cli(api, "import", path, "--max-request-bytes", str(LIMIT), "--state", str(state)).code == 0
    assert len(api.requests("POST")) == len(parts)


def test_a_part_whose_answer_was_lost_is_sent_again_and_stored_once(
    api: FakeAssistants, tmp_path: Path
) -> None:
    doc = long_document(THREAD_A, 30)
    api.scripts.append(Script("POST", IMPORT, DROP, then_handle=True, when=first_part_after_token))
    state = tmp_path / "state.json"
    path = str(write(tmp_path / "a.json", doc))
    result = cli(api, "import", path, "--max-request-bytes", str(LIMIT), "--state", str(state))
    assert result.code == 0, result.err
    assert result.sleeps == [0.5]
    _, lost, again, *_ = api.requests("POST")
    assert (again.body, again.headers["idempotency-key"]) == (lost.body, lost.headers["idempotency-key"])
    assert_imported_whole(api, doc, state_of(state)[THREAD_A])


def test_a_lost_answer_to_the_last_part_counts_as_done_with_the_map_of_the_others(
    api: FakeAssistants, tmp_path: Path
) -> None:
    doc = long_document(THREAD_A, 30)
    api.scripts.append(Script("POST", IMPORT, DROP, then_handle=True, when=last_part))
    state = tmp_path / "state.json"
    path = str(write(tmp_path / "a.json", doc))
    result = cli(api, "import", path, "--max-request-bytes", str(LIMIT), "--state", str(state))
    assert result.code == 0, result.err
    assert "the last part's answer was lost" in result.err
    last = api.requests("POST", "/threads/import")[-1]
    assert last_part(last)
    entry = state_of(state)[THREAD_A]
    stored = api.stored("dest", THREAD_A)
    assert stored is not None
    assert [m["content"] for m in stored["messages"]] == [m["content"] for m in doc["messages"]]
    known = len(given_ids(doc)) - len(last.body["messages"])
    new_ids = [m["id"] for m in stored["messages"]]
    assert entry["message_ids"] == dict(zip(given_ids(doc)[:known], new_ids[:known], strict=True))
    assert "not in message_ids" in entry["note"]


def test_an_import_interrupted_midway_starts_again_from_its_first_part(
    api: FakeAssistants, tmp_path: Path
) -> None:
    doc = long_document(THREAD_A, 30)
    api.scripts.append(Script("POST", IMPORT, 503, body={"error": {}}, when=first_part_after_token))
    state = tmp_path / "state.json"
    argv = ["import", str(write(tmp_path / "a.json", doc)), "--max-request-bytes", str(LIMIT)]
    argv += ["--state", str(state), "--base-url", api.base_url, "--api-key", "dest"]

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    err = io.StringIO()
    assert (
        migrate.run([*argv, "--attempts", "3"], {}, err=err, sleep=interrupt, tty=False)
        == migrate.INTERRUPTED
    )
    assert (state_of(state)[THREAD_A]["status"], state_of(state)[THREAD_A]["parts_sent"]) == ("sent", 2)
    assert api.stored("dest", THREAD_A) is None  # invisible: its last part never came
    # The next run starts from the first part; the unfinished import holds the thread until it lapses.
    held = cli(api, *argv[:-4], "--state", str(state), "--attempts", "3")
    assert held.code == 1
    assert held.sleeps == [5.0, 5.0]
    assert "import_in_progress" in held.err
    assert "run the same command again then" in held.err
    api.lapse("dest", THREAD_A)  # 15 minutes later
    before = len(api.requests("POST"))
    again = cli(api, *argv[:-4], "--state", str(state))
    assert again.code == 0, again.err
    first, *rest = api.requests("POST")[before:]
    assert "import_token" not in first.body
    assert [m["id"] for part in [first, *rest] for m in part.body["messages"]] == given_ids(doc)
    assert_imported_whole(api, doc, state_of(state)[THREAD_A])


def test_an_import_that_lapses_during_the_run_starts_again_once(api: FakeAssistants, tmp_path: Path) -> None:
    doc = long_document(THREAD_A, 30)
    api.scripts.append(Script("POST", IMPORT, HANDLE, lapse=True, when=first_part_after_token))
    state = tmp_path / "state.json"
    path = str(write(tmp_path / "a.json", doc))
    result = cli(api, "import", path, "--max-request-bytes", str(LIMIT), "--state", str(state))
    assert result.code == 0, result.err
    assert "import_expired): starting again from part 1" in result.err
    posts = api.requests("POST")
    assert [("import_token" in p.body) for p in posts[:3]] == [False, True, False]
    assert_imported_whole(api, doc, state_of(state)[THREAD_A])
    # Lapsing every time: started again once, then a failure.
    doc_b = long_document(THREAD_B, 30)
    api.scripts.append(Script("POST", IMPORT, HANDLE, times=2, lapse=True, when=first_part_after_token))
    path_b = str(write(tmp_path / "b.json", doc_b))
    failed = cli(api, "import", path_b, "--max-request-bytes", str(LIMIT), "--state", str(state))
    assert failed.code == 1
    assert "part 2 of " in failed.err
    assert "(again, after starting over)" in failed.err
    assert api.stored("dest", THREAD_B) is None


# --- failures and the exit status ---------------------------------------------------------------------------


def test_a_thread_that_exists_already_is_a_failure_named_with_its_reason(
    api: FakeAssistants, tmp_path: Path
) -> None:
    api.put("dest", document(THREAD_A, 1))
    result = cli(api, "import", str(write(tmp_path / "a.json", document(THREAD_A, 2))), "--state", "s.json")
    assert result.code == 1
    assert f"failed: {THREAD_A} ({tmp_path / 'a.json'}): already exists on the target" in result.err
    stored = api.stored("dest", THREAD_A)
    assert stored is not None
    assert len(stored["messages"]) == 1  # unchanged
    # Throttled first (nothing written), then refused: still someone else's thread.
    error = {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}
    api.scripts.append(Script("POST", "/v1/threads/import", 429, 1, {"Retry-After": "1"}, error))
    again = cli(api, "import", str(tmp_path / "a.json"), "--state", "other.json")
    assert again.code == 1
    assert "already exists on the target" in again.err
    assert len(api.requests("POST")) == 3


def test_every_failed_thread_is_named_and_the_exit_status_is_not_zero(
    api: FakeAssistants, tmp_path: Path
) -> None:
    write(tmp_path / "d" / "good.json", document(THREAD_A, 2))
    (tmp_path / "d" / "broken.json").write_text("{not json")
    write(tmp_path / "d" / "exists.json", document(THREAD_B, 1))
    api.put("dest", document(THREAD_B, 1))
    result = cli(api, "import", str(tmp_path / "d"), str(tmp_path / "nowhere.json"), "--state", "s.json")
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if line.startswith("failed: ")]
    assert len(lines) == 3
    assert any(str(tmp_path / "nowhere.json") in line and "no such file" in line for line in lines)
    assert any("broken.json" in line and "is not JSON" in line for line in lines)
    assert any(THREAD_B in line and "already exists" in line for line in lines)
    assert f"3 failed ({tmp_path / 'nowhere.json'}, " in result.err
    assert "1 imported" in result.err
    assert api.stored("dest", THREAD_A) is not None


def test_no_key_is_a_usage_error(api: FakeAssistants, tmp_path: Path) -> None:
    err = io.StringIO()
    path = str(write(tmp_path / "a.json", document(THREAD_A, 1)))
    assert migrate.run(["import", path, "--base-url", api.base_url], {}, err=err) == 2
    assert "no API key" in err.getvalue()


def test_the_base_url_and_key_come_from_the_environment(api: FakeAssistants, tmp_path: Path) -> None:
    path = str(write(tmp_path / "a.json", document(THREAD_A, 1)))
    env = {"MESSAGES_API_BASE_URL": api.base_url, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    err = io.StringIO()
    code = migrate.run(
        ["import", path, "--state", str(tmp_path / "s")], {**env, "OPENAI_API_KEY": "k1"}, err=err
    )
    assert code == 0, err.getvalue()
    assert api.stored("k1", THREAD_A) is not None


# --- retries ------------------------------------------------------------------------------------------------


def test_a_503_is_retried_after_what_retry_after_asks(api: FakeAssistants, tmp_path: Path) -> None:
    api.scripts.append(Script("POST", "/v1/threads/import", 503, 2, {"Retry-After": "7"}, {"error": {}}))
    result = cli(api, "import", str(write(tmp_path / "a.json", document(THREAD_A, 2))), "--state", "s.json")
    assert result.code == 0, result.err
    assert result.sleeps == [7.0, 7.0]
    assert "HTTP 503; retrying in 7 s" in result.err
    assert len(api.requests("POST")) == 3


def test_a_409_import_in_progress_is_waited_for(api: FakeAssistants, tmp_path: Path) -> None:
    busy = {"error": {"message": "Another import is in progress.", "code": "import_in_progress"}}
    api.scripts.append(Script("POST", "/v1/threads/import", 409, 1, {"Retry-After": "5"}, busy))
    result = cli(api, "import", str(write(tmp_path / "a.json", document(THREAD_A, 2))), "--state", "s.json")
    assert result.code == 0, result.err
    assert result.sleeps == [5.0]


def test_retries_back_off_without_retry_after_and_are_bounded(api: FakeAssistants, tmp_path: Path) -> None:
    error = {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}
    api.scripts.append(Script("POST", "/v1/threads/import", 429, 10, body=error))
    path = str(write(tmp_path / "a.json", document(THREAD_A, 2)))
    result = cli(api, "import", path, "--state", "s.json", "--attempts", "4")
    assert result.code == 1
    assert result.sleeps == [0.5, 1.0, 2.0]
    assert len(api.requests("POST")) == 4
    assert f"failed: {THREAD_A}" in result.err
    assert "HTTP 429 rate_limit_exceeded: Rate limit reached (after 4 attempts)" in result.err


def test_retry_after_reads_seconds_and_dates() -> None:
    assert apiclient.retry_after_seconds("3") == 3.0
    assert apiclient.retry_after_seconds("Thu, 01 Jan 2026 00:00:10 GMT", now=lambda: 1767225600.0) == 10.0
    assert apiclient.retry_after_seconds("soon") is None
    assert apiclient.retry_after_seconds(None) is None


# --- resuming -----------------------------------------------------------------------------------------------


def test_a_second_run_skips_what_the_first_did(api: FakeAssistants, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    write(folder / "a.json", document(THREAD_A, 2))
    write(folder / "b.json", document(THREAD_B, 2))
    api.put("dest", document(THREAD_B, 1))  # b fails the first time
    state = str(tmp_path / "state.json")
    assert cli(api, "import", str(folder), "--state", state).code == 1
    del api.threads[("dest", THREAD_B)]
    second = cli(api, "import", str(folder), "--state", state)
    assert second.code == 0, second.err
    assert [s.body["thread"]["id"] for s in api.requests("POST")] == [THREAD_A, THREAD_B, THREAD_B]
    assert "1 imported, 1 already done, 0 failed" in second.err


def test_an_import_whose_answer_was_lost_is_done_on_the_next_run_and_never_doubled(
    api: FakeAssistants, tmp_path: Path
) -> None:
    # The server stores the thread, then the connection drops before the answer, on every attempt.
    api.scripts.append(Script("POST", "/v1/threads/import", DROP, 2, then_handle=True))
    path = str(write(tmp_path / "a.json", document(THREAD_A, 2)))
    state = tmp_path / "state.json"
    first = cli(api, "import", path, "--state", str(state), "--attempts", "1")
    assert first.code == 1
    assert "no answer" in first.err
    assert state_of(state)[THREAD_A]["status"] == "sent"
    # The same key is answered from the server's record of it: the id map comes back.
    second = cli(api, "import", path, "--state", str(state))
    assert second.code == 0, second.err
    assert state_of(state)[THREAD_A]["message_ids"]
    keys = {s.headers["idempotency-key"] for s in api.requests("POST")}
    assert len(keys) == 1
    assert len(api.threads) == 1


def test_a_thread_exists_answer_after_a_lost_answer_counts_as_done(
    api: FakeAssistants, tmp_path: Path
) -> None:
    api.replay = False  # the server no longer remembers the key: it answers 409 thread_exists
    api.scripts.append(Script("POST", "/v1/threads/import", DROP, 1, then_handle=True))
    path = str(write(tmp_path / "a.json", document(THREAD_A, 2)))
    state = tmp_path / "state.json"
    assert cli(api, "import", path, "--state", str(state), "--attempts", "1").code == 1
    second = cli(api, "import", path, "--state", str(state))
    assert second.code == 0, second.err
    entry = state_of(state)[THREAD_A]
    assert (entry["status"], entry["message_ids"]) == ("done", None)
    # Within one run too: the retry after the lost answer meets the thread the first attempt made.
    api.scripts.append(Script("POST", "/v1/threads/import", DROP, 1, then_handle=True))
    path_b = str(write(tmp_path / "b.json", document(THREAD_B, 1)))
    assert cli(api, "import", path_b, "--state", str(state)).code == 0
    # Other content under an id the target has is not this import: a failure.
    changed = str(write(tmp_path / "a2.json", document(THREAD_A, 5)))
    other = cli(api, "import", changed, "--state", str(tmp_path / "other-state.json"))
    assert other.code == 1
    assert "already exists" in other.err


# --- export and copy ----------------------------------------------------------------------------------------


def test_export_merges_every_page_into_one_document_per_thread(api: FakeAssistants, tmp_path: Path) -> None:
    doc = document(THREAD_A, 5)
    api.put("src", doc)
    api.put("src", document(THREAD_B, 0))
    out = tmp_path / "out"
    result = cli(api, "export", THREAD_A, THREAD_B, "--out", str(out), "--page-size", "2", key="src")
    assert result.code == 0, result.err
    exported = json.loads((out / f"{THREAD_A}.json").read_text())
    assert exported == {
        "object": "thread.export",
        "thread": doc["thread"],
        "messages": doc["messages"],
        "has_more": False,
        "last_id": doc["messages"][-1]["id"],
    }
    pages = api.requests("GET", f"{THREAD_A}/export")
    assert [p.query.get("after") for p in pages] == [None, doc["messages"][1]["id"], doc["messages"][3]["id"]]
    assert json.loads((out / f"{THREAD_B}.json").read_text())["messages"] == []
    again = cli(api, "export", THREAD_A, "--out", str(out), key="src")
    assert again.code == 0
    assert "1 already done" in again.err
    assert len(api.requests("GET", f"{THREAD_A}/export")) == 3


def test_export_names_a_missing_thread(api: FakeAssistants, tmp_path: Path) -> None:
    result = cli(api, "export", THREAD_C, "../etc", "--out", str(tmp_path), key="src")
    assert result.code == 1
    assert f"failed: {THREAD_C}: HTTP 404" in result.err
    assert "failed: ../etc: not a thread id" in result.err


def test_copy_reads_every_list_page_and_imports_the_thread(api: FakeAssistants, tmp_path: Path) -> None:
    doc = document(THREAD_A, 250)
    api.put("src", doc)
    api.put("src", document(THREAD_B, 3))
    threads_file = tmp_path / "threads.txt"
    threads_file.write_text(f"{THREAD_B}  # a small one\n\n{THREAD_A}\n")
    result = cli(
        api, "copy", "--from-url", api.base_url, "--from-key", "src", "--threads-file", str(threads_file),
        "--state", str(tmp_path / "state.json"),
    )  # fmt: skip
    assert result.code == 0, result.err
    pages = api.requests("GET", f"{THREAD_A}/messages")
    assert [p.query.get("after") for p in pages] == [
        None,
        doc["messages"][99]["id"],
        doc["messages"][199]["id"],
    ]
    assert all(p.headers["openai-beta"] == "assistants=v2" for p in pages)
    assert all(p.headers["authorization"] == "Bearer src" for p in api.requests("GET"))
    copied = api.stored("dest", THREAD_A)
    assert copied is not None
    assert [m["created_at"] for m in copied["messages"]] == [m["created_at"] for m in doc["messages"]]
    assert "2 imported" in result.err
    assert "253 messages imported" in result.err


def test_copy_skips_done_threads_and_names_unreadable_ones(api: FakeAssistants, tmp_path: Path) -> None:
    api.put("src", document(THREAD_A, 2))
    state = str(tmp_path / "state.json")
    args = (THREAD_A, "--from-url", api.base_url, "--from-key", "src", "--state", state)
    assert cli(api, "copy", *args).code == 0
    again = cli(api, "copy", THREAD_C, *args)
    assert again.code == 1
    assert "1 already done" in again.err
    assert f"failed: {THREAD_C}: could not be read from {api.base_url}: HTTP 404" in again.err
    assert len(api.requests("GET", f"{THREAD_A}/messages")) == 1


# --- progress and the key tool ------------------------------------------------------------------------------


def test_a_terminal_gets_a_progress_bar(api: FakeAssistants, tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.json", document(THREAD_A, 2))
    write(tmp_path / "d" / "b.json", document(THREAD_B, 3))
    result = cli(api, "import", str(tmp_path / "d"), "--state", "s.json", tty=True)
    assert result.code == 0
    assert "\r\x1b[K[##############--------------] 1/2 threads  2 messages" in result.err
    assert "] 2/2 threads  5 messages" in result.err


def test_keys_hands_its_arguments_to_the_key_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], Any]] = []

    def fake_run(argv: list[str], environ: Any, out: Any = None) -> int:
        calls.append((list(argv), environ))
        return 3

    monkeypatch.setattr(keytool, "run", fake_run)
    env = {"TABLE_NAME": "t"}
    assert migrate.run(["keys", "--local", "create", "--tenant", "a", "--name", "n"], env) == 3
    assert calls == [(["--local", "create", "--tenant", "a", "--name", "n"], env)]


def test_keys_help_is_the_key_tools(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        migrate.run(["keys", "--help"], {})
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    assert all(command in shown for command in ("create", "list", "revoke"))
