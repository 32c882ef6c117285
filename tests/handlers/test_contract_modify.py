"""docs/contract.md, "Modify message": POST /v1/threads/{thread_id}/messages/{message_id} replaces metadata.

Its error rows (bodies, ids, a missing thread or message) are in the contract table,
``tests/support/contract_rows.py``, which tests/handlers/test_contract.py sends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import (
    THREAD,
    assert_message,
    create,
    list_event,
    modify_event,
    send_list,
    send_modify,
    text_part,
)
from tests.support.moto_table import scan
from tests.support.seeding import (
    thread,  # noqa: F401 - fixture
)

ORIGINAL_METADATA = {"source": "sample", "user": "abc123"}


def _created(metadata: dict[str, str] | None = None) -> dict[str, Any]:
    return create(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hello"},
                {"type": "image_file", "image_file": {"file_id": "f"}},
            ],
            "attachments": [{"file_id": "file-1", "tools": [{"type": "file_search"}]}],
            "metadata": ORIGINAL_METADATA if metadata is None else metadata,
        }
    )


def _listed(message_id: str, thread_id: str = THREAD) -> dict[str, Any]:
    (found,) = [m for m in send_list(list_event(thread_id)).body["data"] if m["id"] == message_id]
    assert isinstance(found, dict)
    return found


# --- success ------------------------------------------------------------------------------------------------


NEW_METADATA = {
    "one-pair": {"modified": "true"},
    "overlapping-keys": {"user": "xyz", "new": "1"},
    "sixteen-longest-values": {f"k{i}": "v" * 512 for i in range(16)},
    "multibyte-at-limits": {"é" * 64: "€" * 512},
}


@pytest.mark.usefixtures("thread")
def test_modify_with_metadata_replaces_the_whole_map(subtests: pytest.Subtests) -> None:
    for name, metadata in NEW_METADATA.items():
        with subtests.test(name):
            message = _created()

            answer = send_modify(modify_event(message["id"], {"metadata": metadata}))

            assert answer.status == 200, answer.body
            assert answer.body == {**message, "metadata": metadata}
            assert list(answer.body) == list(message)
            assert list(answer.body["metadata"]) == list(metadata)
            assert _listed(message["id"]) == answer.body


@pytest.mark.usefixtures("thread")
def test_modify_with_empty_metadata_clears_it(table: Any) -> None:
    message = _created()

    answer = send_modify(modify_event(message["id"], {"metadata": {}}))

    assert answer.status == 200
    assert answer.body == {**message, "metadata": {}}
    assert _listed(message["id"])["metadata"] == {}


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("body", [{"metadata": None}, {}], ids=["null", "absent"])
def test_modify_without_metadata_leaves_the_message_unchanged(table: Any, body: dict[str, Any]) -> None:
    message = _created()
    items = scan(table)

    answer = send_modify(modify_event(message["id"], body))

    assert answer.status == 200
    assert answer.body == message
    assert scan(table) == items


@pytest.mark.usefixtures("thread")
def test_modify_keeps_role_content_and_times(table: Any) -> None:
    message = create({"role": "assistant", "content": "answer", "metadata": {"a": "1"}})

    answer = send_modify(modify_event(message["id"], {"metadata": {"b": "2"}}))

    assert_message(answer.body, role="assistant", content=[text_part("answer")], metadata={"b": "2"})
    assert answer.body["created_at"] == message["created_at"]
    assert answer.body["completed_at"] == message["completed_at"]


@pytest.mark.usefixtures("thread")
def test_modify_twice_keeps_only_the_last_metadata(table: Any) -> None:
    message = _created()

    send_modify(modify_event(message["id"], {"metadata": {"a": "1"}}))
    answer = send_modify(modify_event(message["id"], {"metadata": {"b": "2"}}))

    assert answer.body["metadata"] == {"b": "2"}
    assert _listed(message["id"])["metadata"] == {"b": "2"}


@pytest.mark.usefixtures("thread")
def test_modify_touches_only_that_message(table: Any) -> None:
    first = _created({"n": "1"})
    second = _created({"n": "2"})

    send_modify(modify_event(first["id"], {"metadata": {}}))

    assert _listed(second["id"]) == second
