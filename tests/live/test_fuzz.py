"""Schemathesis (pinned) against the live local server: generated requests, every response checked.

Three schemas drive it, each bounded and deterministic (Hypothesis ``derandomize``, no example database):

* the project's own ``openapi.json`` (the committed file; the server serves it at ``/v1/openapi.json``): every
  operation in it, threads included (a test checks that none is left out);
* OpenAI's spec subset (the 3.1 file in tests/support/openai_spec) with the contract's errata overlay;
* the same subset as published, with free-form ids, where only "no 5xx" and "JSON answers" are asked (its
  error statuses are undocumented, so most answers would break status conformance by design).

Threads are made by the API, so a generated id names no thread. In the first two schemas, ``thread_id`` and
``message_id`` are therefore an enum of placeholders, each replaced just before the request by a real id
(``LiveIds``): a live thread and one of its messages (made anew when a case deletes them), a deleted thread,
a message of another thread, or a well-formed id that was never created. Positive cases thus reach the
handlers (a test checks that every operation answered 200 at least once, and 404 where it addresses a
thread); negative cases still send malformed ids. The spec's paths are relative to
``https://api.openai.com/v1``: requests go to ``live_api`` (which ends in ``/v1``) instead, through a session
that refuses anything but loopback, with ``Authorization: Bearer LIVE_API_KEY``. Each response must not be a
5xx, must have a documented status, a JSON content type and a body of the documented schema (schemathesis'
checks on the schema in use), and must also pass ``tests/support/spec.py`` (OpenAI's spec with the overlay,
plus the thread operations).

Three properties use real threads and messages: any schema-valid modify body is a 200 that replaces the
metadata (or keeps it on null), any schema-valid modify-thread body is a 200 that replaces what it gives, and
any schema-valid list query on a real thread is a 200 page.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import spec
from tests.support.live import LIVE_API_KEY, call
from tests.support.spec import ResponseRecorder, is_loopback

ROOT = Path(__file__).resolve().parents[2]
OWN_SPEC = ROOT / "openapi.json"
PLACEHOLDER_SERVER = "http://127.0.0.1:9/v1"  # never called: every case is sent to live_api

# The ids a case may address. Placeholders (never sent) stand for ids only the server can mint; the rest are
# well-formed ids that no one created. The live ones come first: schemathesis' coverage cases start there.
# Placeholders are URL-safe: schemathesis percent-encodes path parameters before the test sees them.
LIVE_THREAD = "thread_LIVE"
DELETED_THREAD = "thread_DELETED"
UNKNOWN_THREAD = "thread_0AbCdEfGhIjKlMnOpQrStUvW"
LIVE_MESSAGE = "msg_LIVE"  # a message of the live thread
OTHER_MESSAGE = "msg_OTHER"  # a message of another live thread
UNKNOWN_MESSAGE = "msg_0AbCdEfGhIjKlMnOpQrStUvW"
ID_CHOICES = {
    "thread_id": [LIVE_THREAD, DELETED_THREAD, UNKNOWN_THREAD],
    "message_id": [LIVE_MESSAGE, OTHER_MESSAGE, UNKNOWN_MESSAGE],
}
# Per operation, for the Hypothesis phases (schemathesis adds its deterministic coverage cases). A deeper run:
# FUZZ_EXAMPLES=1000 .venv/bin/pytest tests/live/test_fuzz.py
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
RAW_EXAMPLES = max(1, EXAMPLES // 2)

FULL_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BASIC_CHECKS = [not_a_server_error, content_type_conformance]

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def prepared(document: dict[str, Any], *, id_choices: bool) -> dict[str, Any]:
    """``document`` with a loopback placeholder server and, if asked, ``ID_CHOICES`` as the ids' schema."""
    document = copy.deepcopy(document)
    document["servers"] = [{"url": PLACEHOLDER_SERVER}]
    if id_choices:
        for item in document["paths"].values():
            for operation in item.values():
                for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                    if parameter.get("in") == "path" and parameter.get("name") in ID_CHOICES:
                        parameter["schema"] = {"type": "string", "enum": ID_CHOICES[parameter["name"]]}
    return document


def load(document: dict[str, Any], *, id_choices: bool, max_examples: int) -> Any:
    schema = schemathesis.openapi.from_dict(prepared(document, id_choices=id_choices))
    schema.config.generation.update(max_examples=max_examples, deterministic=True, database="none")
    return schema


def with_contract_limits(document: dict[str, Any]) -> dict[str, Any]:
    """``openapi.json`` with the metadata limits it only states in prose (keys of 1 to 64 characters, values
    of at most 512), for the thread property below, like the overlay does for OpenAI's spec."""
    document = copy.deepcopy(document)
    for name in ("CreateThreadRequest", "ModifyThreadRequest"):
        metadata = document["components"]["schemas"][name]["properties"]["metadata"]
        shape = next(s for s in metadata["anyOf"] if s.get("type") == "object")
        shape["propertyNames"] = {"minLength": 1, "maxLength": spec.METADATA_KEY_MAX}
        shape["additionalProperties"] = {"type": "string", "maxLength": spec.METADATA_VALUE_MAX}
    return document


OWN_DOCUMENT = json.loads(OWN_SPEC.read_text())
OWN = load(OWN_DOCUMENT, id_choices=True, max_examples=EXAMPLES)
OWN_LIMITED = load(with_contract_limits(OWN_DOCUMENT), id_choices=True, max_examples=EXAMPLES)
OPENAI = load(spec.overlay_spec(), id_choices=True, max_examples=EXAMPLES)
OPENAI_RAW = load(spec.raw_spec(), id_choices=False, max_examples=RAW_EXAMPLES)

# The operations README.md lists, by the method and path template openapi.json gives them.
OPERATIONS = {
    ("POST", "/threads"),
    ("GET", "/threads/{thread_id}"),
    ("POST", "/threads/{thread_id}"),
    ("DELETE", "/threads/{thread_id}"),
    ("POST", "/threads/{thread_id}/messages"),
    ("GET", "/threads/{thread_id}/messages"),
    ("GET", "/threads/{thread_id}/messages/{message_id}"),
    ("POST", "/threads/{thread_id}/messages/{message_id}"),
    ("DELETE", "/threads/{thread_id}/messages/{message_id}"),
    ("GET", "/threads"),
    ("POST", "/threads/import"),
    ("GET", "/threads/{thread_id}/export"),
}


TestFunction = TypeVar("TestFunction", bound=Callable[..., None])


def parametrize(schema: Any) -> Callable[[TestFunction], TestFunction]:
    """``schema.parametrize()``, typed (schemathesis annotates it as a bare ``Callable``)."""
    return cast(Callable[[TestFunction], TestFunction], schema.parametrize())


class LoopbackSession(requests.Session):
    """A requests session that sends nothing outside loopback, and validates every answer it gets with
    ``tests/support/spec.py``."""

    def __init__(self) -> None:
        super().__init__()
        self.recorder = ResponseRecorder()
        self.hooks = self.recorder.requests_hooks()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.recorder.check_url(request.url or "")
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def session(live_api: str) -> Iterator[LoopbackSession]:
    assert is_loopback(urlsplit(live_api).hostname)
    with LoopbackSession() as session:
        yield session


# One connection per request: on a kept-alive connection the local server's answers currently wait ~40 ms
# each (Nagle's algorithm meets delayed ACKs; reported), which would make this file five times slower.
HEADERS = {
    "OpenAI-Beta": "assistants=v2",
    "Connection": "close",
    "Authorization": f"Bearer {LIVE_API_KEY}",
}


def api(base_url: str, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
    """One request of the fixtures' own (with the key), which must succeed; its JSON answer."""
    reply = call(method, base_url + path, body, headers={"Authorization": f"Bearer {LIVE_API_KEY}"})
    assert reply.status == 200, (method, path, reply.status, reply.body)
    return reply.json


@dataclass
class LiveIds:
    """The real ids behind ``ID_CHOICES``' placeholders. A case that deletes the live message or thread gets
    a new one for the next case, so every case finds them alive."""

    base_url: str
    thread_id: str = ""
    message_id: str = ""
    deleted_thread_id: str = ""
    other_message_id: str = ""
    renewals: int = 0

    def __post_init__(self) -> None:
        self.renew_thread()
        other = api(self.base_url, "POST", "/threads", {"messages": [{"role": "user", "content": "other"}]})
        self.other_message_id = api(self.base_url, "GET", f"/threads/{other['id']}/messages")["data"][0]["id"]
        self.deleted_thread_id = api(self.base_url, "POST", "/threads", {})["id"]
        api(self.base_url, "DELETE", f"/threads/{self.deleted_thread_id}")

    def renew_thread(self) -> None:
        self.thread_id = api(self.base_url, "POST", "/threads", {"metadata": {"fuzz": "live"}})["id"]
        self.renew_message()

    def renew_message(self) -> None:
        body = {"role": "user", "content": "live"}
        self.message_id = api(self.base_url, "POST", f"/threads/{self.thread_id}/messages", body)["id"]
        self.renewals += 1

    def substitute(self, case: Any) -> None:
        """Replaces the placeholders in ``case``'s path parameters by the real ids."""
        real = {
            LIVE_THREAD: self.thread_id,
            DELETED_THREAD: self.deleted_thread_id,
            LIVE_MESSAGE: self.message_id,
            OTHER_MESSAGE: self.other_message_id,
        }
        if case.path_parameters:
            case.path_parameters = {
                name: real.get(value, value) if isinstance(value, str) else value
                for name, value in case.path_parameters.items()
            }

    def after(self, case: Any, status: int) -> None:
        """Renews what a successful delete removed."""
        if case.method.upper() != "DELETE" or status != 200:
            return
        parameters = case.path_parameters or {}
        if parameters.get("thread_id") != self.thread_id:
            return
        if "message_id" not in parameters:
            self.renew_thread()
        elif parameters["message_id"] == self.message_id:
            self.renew_message()


@pytest.fixture(scope="module")
def live_ids(live_api: str) -> LiveIds:
    return LiveIds(live_api)


@dataclass
class Seen:
    """The statuses each operation of a schema answered, over the whole module."""

    statuses: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def add(self, case: Any, status: int) -> None:
        method = case.operation.method.upper()
        if case.method.upper() == method:  # not a coverage case that tries another method on the path
            self.statuses.setdefault((method, case.operation.path), set()).add(status)


OWN_SEEN = Seen()
OPENAI_SEEN = Seen()


def send_and_check(
    case: Any,
    base_url: str,
    session: LoopbackSession,
    checks: list[Any],
    live_ids: LiveIds | None = None,
    seen: Seen | None = None,
) -> requests.Response:
    if live_ids is not None:
        live_ids.substitute(case)
    before = len(session.recorder.exchanges)
    response: requests.Response = case.call(base_url=base_url, session=session, headers=HEADERS)
    if live_ids is not None:
        live_ids.after(case, response.status_code)
    if seen is not None:
        seen.add(case, response.status_code)
    case.validate_response(response, checks=checks)
    assert len(session.recorder.exchanges) == before + 1
    exchange = session.recorder.exchanges[-1]
    assert exchange.problems == [], "\n".join(exchange.problems)
    return response


# --- the project's own openapi.json -------------------------------------------------------------------------


def test_served_document_is_the_committed_one(live_api: str) -> None:
    reply = call("GET", f"{live_api}/openapi.json", headers={"Authorization": f"Bearer {LIVE_API_KEY}"})
    assert reply.status == 200
    committed = json.loads(OWN_SPEC.read_text())
    # The committed document, naming this server as it runs (tests/live/test_local_docs.py).
    assert reply.json == {**committed, "servers": [{**committed["servers"][0], **reply.json["servers"][0]}]}
    assert reply.json["servers"][0]["url"] == live_api


def operations_of(schema: Any) -> set[tuple[str, str]]:
    return {(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()}


def test_every_operation_of_openapi_json_is_fuzzed() -> None:
    """test_own_spec is parametrized with every operation of openapi.json: README's twelve."""
    documented = {
        (method.upper(), path)
        for path, item in OWN_DOCUMENT["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    }
    assert documented == OPERATIONS
    assert operations_of(OWN) == OPERATIONS
    assert operations_of(OPENAI) == {operation for operation in OPERATIONS if "messages" in operation[1]}


@parametrize(OWN)
@FUZZ_SETTINGS
def test_own_spec(case: Any, live_api: str, session: LoopbackSession, live_ids: LiveIds) -> None:
    send_and_check(case, live_api, session, FULL_CHECKS, live_ids, OWN_SEEN)


def test_own_spec_reached_every_handler() -> None:
    """What test_own_spec's cases got (it runs first): each operation answered 200 at least once, and the
    ones that address a thread also 404 (a deleted or unknown thread), so positive cases did reach the
    handlers instead of all stopping at the thread check."""
    if not OWN_SEEN.statuses:
        pytest.skip("test_own_spec did not run in this session")
    for (method, path), statuses in sorted(OWN_SEEN.statuses.items()):
        assert 200 in statuses, f"{method} {path} never answered 200: {sorted(statuses)}"
        if "{thread_id}" in path:
            assert 404 in statuses, f"{method} {path} never answered 404: {sorted(statuses)}"
        assert all(status < 500 for status in statuses), f"{method} {path}: {sorted(statuses)}"


# --- OpenAI's spec subset -----------------------------------------------------------------------------------


@parametrize(OPENAI)
@FUZZ_SETTINGS
def test_openai_spec_with_overlay(
    case: Any, live_api: str, session: LoopbackSession, live_ids: LiveIds
) -> None:
    send_and_check(case, live_api, session, FULL_CHECKS, live_ids, OPENAI_SEEN)


def test_openai_spec_reached_every_handler() -> None:
    if not OPENAI_SEEN.statuses:
        pytest.skip("test_openai_spec_with_overlay did not run in this session")
    for (method, path), statuses in sorted(OPENAI_SEEN.statuses.items()):
        assert 200 in statuses, f"{method} {path} never answered 200: {sorted(statuses)}"
        assert 404 in statuses, f"{method} {path} never answered 404: {sorted(statuses)}"


@parametrize(OPENAI_RAW)
@settings(FUZZ_SETTINGS, max_examples=RAW_EXAMPLES)
def test_openai_spec_as_published_random_ids(case: Any, live_api: str, session: LoopbackSession) -> None:
    send_and_check(case, live_api, session, BASIC_CHECKS)


# --- properties on real threads and messages: what positive (schema-valid) requests must get ---------------

MODIFY = OPENAI["/threads/{thread_id}/messages/{message_id}"]["POST"]
LIST = OPENAI["/threads/{thread_id}/messages"]["GET"]
MODIFY_THREAD = OWN_LIMITED["/threads/{thread_id}"]["POST"]


@dataclass
class Target:
    thread_id: str
    message_ids: list[str]
    metadata: dict[str, str]
    thread_metadata: dict[str, str] = field(default_factory=dict)
    tool_resources: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def target(live_api: str) -> Target:
    thread_id = api(live_api, "POST", "/threads", {})["id"]
    ids = [
        api(live_api, "POST", f"/threads/{thread_id}/messages", {"role": "user", "content": f"t{n}"})["id"]
        for n in range(3)
    ]
    return Target(thread_id, ids, {})


@given(case=MODIFY.as_strategy(GenerationMode.POSITIVE))
@FUZZ_SETTINGS
def test_modify_accepts_every_valid_metadata(
    case: Any, live_api: str, session: LoopbackSession, target: Target
) -> None:
    """Any metadata within the overlay's limits replaces the map; null or absent leaves it as it was."""
    case.path_parameters = {"thread_id": target.thread_id, "message_id": target.message_ids[0]}
    response = send_and_check(case, live_api, session, FULL_CHECKS)
    assert response.status_code == 200, response.text
    sent = case.body.get("metadata") if isinstance(case.body, dict) else None
    expected = target.metadata if sent is None else sent
    assert response.json()["metadata"] == expected
    target.metadata = expected


@given(case=LIST.as_strategy(GenerationMode.POSITIVE))
@FUZZ_SETTINGS
def test_list_accepts_every_valid_query(
    case: Any, live_api: str, session: LoopbackSession, target: Target
) -> None:
    """Any schema-valid query (limit 1-100, either order, well-formed or unknown cursors) is a 200 page."""
    case.path_parameters = {"thread_id": target.thread_id}
    for cursor in ("after", "before"):
        if cursor in case.query:  # a cursor must look like a message id; the rest is the contract's 400
            value = str(case.query[cursor])
            case.query[cursor] = value if value.startswith("msg_") else target.message_ids[len(value) % 3]
    response = send_and_check(case, live_api, session, FULL_CHECKS)
    assert response.status_code == 200, response.text
    page = response.json()
    assert len(page["data"]) <= int(case.query.get("limit", 20))
    assert {m["id"] for m in page["data"]} <= set(target.message_ids)


@given(case=MODIFY_THREAD.as_strategy(GenerationMode.POSITIVE))
@FUZZ_SETTINGS
def test_modify_thread_accepts_every_valid_body(
    case: Any, live_api: str, session: LoopbackSession, target: Target
) -> None:
    """Any body within the contract's limits is a 200: metadata and tool_resources, each when given, replace
    what the thread has (``{}`` clears); null or absent leaves it."""
    case.path_parameters = {"thread_id": target.thread_id}
    response = send_and_check(case, live_api, session, FULL_CHECKS)
    assert response.status_code == 200, response.text
    body = case.body if isinstance(case.body, dict) else {}
    if body.get("metadata") is not None:
        target.thread_metadata = body["metadata"]
    if body.get("tool_resources") is not None:
        given_resources = body["tool_resources"]
        target.tool_resources = {key: value for key, value in given_resources.items() if value is not None}
    thread = response.json()
    assert thread["id"] == target.thread_id
    assert thread["metadata"] == target.thread_metadata
    assert _without_empty_lists(thread["tool_resources"]) == _without_empty_lists(target.tool_resources)


def _without_empty_lists(tool_resources: dict[str, Any]) -> dict[str, Any]:
    """``{"code_interpreter": {}}`` comes back as ``{"code_interpreter": {"file_ids": []}}``: the same."""
    return {
        tool: {key: value for key, value in (resources or {}).items() if value}
        for tool, resources in tool_resources.items()
    }
