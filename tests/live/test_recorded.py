"""What real clients sent to OpenAI, sent again here: the same answers, but for the contract's choices.

``tests/support/recorded/openai-dotnet.json`` holds exchanges the official .NET SDK recorded against OpenAI's
API (see its NOTICE). Each request goes to the local server exactly as it was sent (headers, an absent body
included); its answer must equal OpenAI's once ids and times are this server's own and the contract's
documented choices are allowed for:

* message objects carry the spec's four required fields (``status``, ``incomplete_details``, ``completed_at``,
  ``incomplete_at``), which OpenAI's answers left out;
* modify message answers ``attachments`` where OpenAI still answered the v1 field ``file_ids``;
* a thread's ``tool_resources`` is ``{}`` until resources are set, where OpenAI's retrieve once showed an
  empty ``code_interpreter.file_ids``.

Also the shapes other clients sent: the R client's empty body with ``Content-Type: application/json``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.live import LIVE_API_KEY, call
from tests.support.sam_template import SUPPORT

RECORDED = json.loads((SUPPORT / "recorded" / "openai-dotnet.json").read_text())
FOUR_FIELDS = ("status", "incomplete_details", "completed_at", "incomplete_at")
IDS = re.compile(r"\b(thread|msg)_[0-9A-Za-z]{24}\b")


def _allowing_choices(ours: Any, theirs: Any, path: str, method: str) -> Any:
    """``ours`` with the contract's documented choices undone, to compare with OpenAI's ``theirs``."""
    if isinstance(ours, dict) and ours.get("object") == "thread.message":
        ours = {key: value for key, value in ours.items() if key not in FOUR_FIELDS}
        if isinstance(theirs, dict) and "file_ids" in theirs and "attachments" in ours:
            ours = {("file_ids" if k == "attachments" else k): v for k, v in ours.items()}
    if isinstance(ours, dict) and ours.get("object") == "list":
        ours = {
            **ours,
            "data": [
                _allowing_choices(m, t, path, method)
                for m, t in zip(ours["data"], theirs["data"], strict=True)
            ],
        }
    if (
        isinstance(ours, dict)
        and ours.get("object") == "thread"
        and method == "GET"
        and theirs.get("tool_resources") == {"code_interpreter": {"file_ids": []}}
        and ours.get("tool_resources") == {}
    ):
        ours = {**ours, "tool_resources": theirs["tool_resources"]}
    return ours


class IdMap:
    """OpenAI's ids in the recording, mapped to the ones this server minted in their place."""

    def __init__(self) -> None:
        self.ours: dict[str, str] = {}

    def learn(self, theirs: Any, ours: Any) -> None:
        if isinstance(theirs, dict) and isinstance(ours, dict):
            for key in theirs.keys() & ours.keys():
                self.learn(theirs[key], ours[key])
        elif isinstance(theirs, list) and isinstance(ours, list):
            for a, b in zip(theirs, ours, strict=False):
                self.learn(a, b)
        elif isinstance(theirs, str) and isinstance(ours, str) and IDS.fullmatch(theirs):
            self.ours.setdefault(theirs, ours)

    def apply(self, text: str) -> str:
        return IDS.sub(lambda found: self.ours.get(found.group(0), found.group(0)), text)


def _times_as_recorded(ours: Any, theirs: Any) -> Any:
    """``ours`` with each ``created_at`` replaced by OpenAI's (times differ; their presence is compared)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return {
            key: (
                theirs[key]
                if key == "created_at" and key in theirs and isinstance(value, int)
                else _times_as_recorded(value, theirs.get(key))
            )
            for key, value in ours.items()
        }
    if isinstance(ours, list) and isinstance(theirs, list):
        return [_times_as_recorded(a, b) for a, b in zip(ours, theirs, strict=False)] + ours[len(theirs) :]
    return ours


@pytest.mark.parametrize("session", list(RECORDED))
def test_a_recorded_dotnet_session_replays_with_no_difference_but_the_documented_choices(
    live_api: str, session: str
) -> None:
    ids = IdMap()
    for number, exchange in enumerate(RECORDED[session]):
        path = ids.apply(exchange["path"])
        headers = {**exchange["headers"], "Authorization": f"Bearer {LIVE_API_KEY}"}
        body = None if exchange["body"] is None else json.dumps(exchange["body"]).encode()
        if body is not None:
            headers["Content-Length"] = str(len(body))
        answer = call(exchange["method"], live_api + path.removeprefix("/v1"), body, headers, api_key=None)

        assert answer.status == exchange["status"], (number, answer.json)
        theirs = json.loads(ids.apply(json.dumps(exchange["answer"])))
        ours = _allowing_choices(answer.json, theirs, path, exchange["method"])
        ids.learn(exchange["answer"], answer.json)
        theirs = json.loads(ids.apply(json.dumps(exchange["answer"])))
        assert _times_as_recorded(ours, theirs) == theirs, number
        assert list(ours) == list(theirs), number  # the keys in OpenAI's order too


# --- the bodiless creates -----------------------------------------------------------------------------------

THREAD_KEYS = ["id", "object", "created_at", "metadata", "tool_resources"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Content-Length": "0"}, id="dotnet-no-body-no-content-type"),
        pytest.param({"Content-Length": "0", "Content-Type": "application/json"}, id="r-empty-json-body"),
        pytest.param({}, id="no-content-length-at-all"),
    ],
)
def test_a_create_thread_without_a_body_is_a_new_thread(live_api: str, headers: dict[str, str]) -> None:
    answer = call("POST", f"{live_api}/threads", None, headers)

    assert answer.status == 200, answer.body
    assert list(answer.json) == THREAD_KEYS
    assert answer.json["metadata"] == answer.json["tool_resources"] == {}
    fetched = call("GET", f"{live_api}/threads/{answer.json['id']}")
    assert fetched.json == answer.json


def test_a_modify_without_a_body_changes_nothing_and_answers_as_for_an_empty_object(live_api: str) -> None:
    thread = call("POST", f"{live_api}/threads", {"metadata": {"k": "v"}}).json
    message = call(
        "POST", f"{live_api}/threads/{thread['id']}/messages", {"role": "user", "content": "hi"}
    ).json

    modified_thread = call("POST", f"{live_api}/threads/{thread['id']}", b"", {"Content-Length": "0"})
    modified_message = call(
        "POST", f"{live_api}/threads/{thread['id']}/messages/{message['id']}", b"", {"Content-Length": "0"}
    )

    assert (modified_thread.status, modified_thread.json) == (200, thread)
    assert (modified_message.status, modified_message.json) == (200, message)


def test_a_create_message_without_a_body_is_the_missing_role_400(live_api: str) -> None:
    thread = call("POST", f"{live_api}/threads", {}).json

    answer = call("POST", f"{live_api}/threads/{thread['id']}/messages", None, {"Content-Length": "0"})

    assert (answer.status, answer.json) == (
        400,
        {
            "error": {
                "message": "Missing required parameter: 'role'.",
                "type": "invalid_request_error",
                "param": "role",
                "code": "missing_required_parameter",
            }
        },
    )
