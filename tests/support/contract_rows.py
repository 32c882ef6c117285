"""The contract's error rows as one table: every request this API must refuse, and exactly what it answers.

The reference is docs/contract.md; each group of rows below names its section. A row is

* ``id``: its name, unique in the table;
* ``route``: the route template.yaml sends the request to (``"POST /v1/threads/{thread_id}/messages"``, or
  ``"$default"``), so the function that answers it;
* ``request``: method, path, query, header changes, body (JSON) or raw body, and event fields set as they are
  (``event_fields``: a base64 flag, no headers at all). ``sample`` names the file in events/ that sends this
  very request: the row is then sent from that file, so the sample events keep their documented answers;
* ``setup``: what must be in the table first (``Seed``): a live thread, a deleted one, one of another tenant,
  a message, API keys;
* ``status``, ``body``: the answer, its whole body (the error envelope);
* ``headers``: answer headers that matter, a None value for a header that must be absent (by default
  ``Retry-After`` and ``x-should-retry``, which no 4xx of these rows carries);
* ``store``: what the store may see (``Store``). Whatever it is, the table is unchanged by the request.

tests/handlers/test_contract.py sends every row through the function template.yaml routes it to. Requests
whose answer needs a failing DynamoDB (429, 503, 500) are not rows: tests/handlers/test_http_edge.py and
tests/faults/ inject those faults.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any
from urllib.parse import parse_qs

from tests.support.api import (
    OTHER_THREAD,
    THREAD,
    UNAUTHORIZED,
    UNKNOWN_MESSAGE,
    UNKNOWN_THREAD,
    UNPARSABLE,
    error,
    invalid_beta,
    invalid_message_id,
    invalid_thread_id,
    invalid_url,
    message_not_found,
    openai_message,
    text_part,
    thread_not_found,
)
from tests.support.api_events import TEST_TENANT, edit_headers
from tests.support.moto_table import TABLE_NAME
from tests.support.routing import EVENTS, load, routed_event
from tests.support.seeding import (
    KEY_A,
    REVOKED_KEY,
    delete_message,
    make_keys,
    make_message,
    make_thread,
    mark_thread_deleted,
)
from tests.support.texts import random_text
from threadkit.edge.events import MAX_BODY_BYTES
from threadkit.storage import schema

# --- routes, ids and what the table holds -------------------------------------------------------------------

CREATE_THREAD = "POST /v1/threads"
RETRIEVE_THREAD = "GET /v1/threads/{thread_id}"
MODIFY_THREAD = "POST /v1/threads/{thread_id}"
DELETE_THREAD = "DELETE /v1/threads/{thread_id}"
CREATE_MESSAGE = "POST /v1/threads/{thread_id}/messages"
LIST_MESSAGES = "GET /v1/threads/{thread_id}/messages"
RETRIEVE_MESSAGE = "GET /v1/threads/{thread_id}/messages/{message_id}"
MODIFY_MESSAGE = "POST /v1/threads/{thread_id}/messages/{message_id}"
DELETE_MESSAGE = "DELETE /v1/threads/{thread_id}/messages/{message_id}"
LIST_THREADS = "GET /v1/threads"
IMPORT_THREAD = "POST /v1/threads/import"
EXPORT_THREAD = "GET /v1/threads/{thread_id}/export"
DEFAULT = "$default"

ROUTE_NAMES = {
    CREATE_THREAD: "create-thread",
    RETRIEVE_THREAD: "retrieve-thread",
    MODIFY_THREAD: "modify-thread",
    DELETE_THREAD: "delete-thread",
    CREATE_MESSAGE: "create-message",
    LIST_MESSAGES: "list-messages",
    RETRIEVE_MESSAGE: "retrieve-message",
    MODIFY_MESSAGE: "modify-message",
    DELETE_MESSAGE: "delete-message",
    LIST_THREADS: "list-threads",
    IMPORT_THREAD: "import-thread",
    EXPORT_THREAD: "export-thread",
    DEFAULT: "default",
}
THREAD_ROUTES = [
    RETRIEVE_THREAD,
    EXPORT_THREAD,
    MODIFY_THREAD,
    DELETE_THREAD,
    CREATE_MESSAGE,
    LIST_MESSAGES,
    RETRIEVE_MESSAGE,
    MODIFY_MESSAGE,
    DELETE_MESSAGE,
]
MESSAGE_ROUTES = [RETRIEVE_MESSAGE, MODIFY_MESSAGE, DELETE_MESSAGE]

MESSAGE = "msg_Seeded000000000000000000"
"""The message the rows' setups store (in ``THREAD``, or in a missing thread)."""
SAMPLE_MESSAGE = "msg_0AbCdEfGhIjKlMnOpQrStUvW"
"""The message id of the sample events in events/."""
DELETED_THREAD = "thread_" + "D" * 24
OTHER_TENANT = "another-tenant"
HIGHEST = "msg_" + "z" * 24

# A request that is valid but for what a row is about has this body.
VALID_BODIES: dict[str, Any] = {
    CREATE_THREAD: {},
    MODIFY_THREAD: {"metadata": {"a": "b"}},
    CREATE_MESSAGE: {"role": "user", "content": "Hello, world!"},
    MODIFY_MESSAGE: {"metadata": {"a": "b"}},
    IMPORT_THREAD: {"thread": {"id": THREAD}, "messages": []},
}


class Store(Enum):
    """What the store may see of a request. The table is unchanged by it in every case."""

    UNTOUCHED = "no DynamoDB request at all: answered before the store is asked"
    KEYS_ONLY = "no DynamoDB request but reads of the offered API keys"
    UNCHANGED = "DynamoDB requests that leave the table as it was"


@dataclass(frozen=True)
class Seed:
    """Something the table must hold before a row's request; ``make`` gets the tests' moto client."""

    what: str
    make: Callable[[Any], object]


def live_thread(thread_id: str = THREAD) -> Seed:
    return Seed(f"live thread {thread_id}", lambda table: make_thread(thread_id))


def live_message(thread_id: str = THREAD, message_id: str = MESSAGE) -> Seed:
    return Seed(f"message {message_id} in {thread_id}", lambda table: make_message(thread_id, message_id))


def _deleted_thread(table: Any) -> None:
    make_thread(DELETED_THREAD)
    make_message(DELETED_THREAD, MESSAGE)
    mark_thread_deleted(DELETED_THREAD)


def _foreign_thread(table: Any) -> None:
    make_thread(THREAD, tenant=OTHER_TENANT)
    make_message(THREAD, MESSAGE, tenant=OTHER_TENANT)


def _deleted_message(table: Any) -> None:
    make_thread(THREAD)
    make_message(THREAD, MESSAGE)
    delete_message(THREAD, MESSAGE)


DELETED = Seed(f"{DELETED_THREAD} with its message {MESSAGE}, deleted", _deleted_thread)
FOREIGN = Seed(f"{THREAD} with its message {MESSAGE}, of {OTHER_TENANT} only", _foreign_thread)
DELETED_MESSAGE = Seed(f"live {THREAD}, its message {MESSAGE} deleted", _deleted_message)
API_KEYS = Seed("keys of tenants a and b, and a revoked key", make_keys)


# --- requests and rows --------------------------------------------------------------------------------------

# The request headers a sample event must carry as its row says (the others are the same in every event).
_ASKED_HEADERS = ("authorization", "x-portkey-api-key", "openai-beta", "idempotency-key")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str] | None = None
    headers: Mapping[str, str | None] | None = None
    """Changes to the default headers of ``api_events.http_event`` (a valid key, ``assistants=v2``); a None
    value removes that header."""
    body: Any = None
    """Sent as JSON; None: no body (unless ``raw_body``)."""
    raw_body: str | bytes | None = None
    """Sent as it is; bytes base64-encoded, as API Gateway sends a binary body."""
    event_fields: Mapping[str, Any] | None = None
    """Top-level event fields set after the event is built (``{"headers": None}``)."""
    sample: str | None = None
    """The sample event in events/ that sends this request: the row sends that file (with ``headers``)."""

    def event(self) -> dict[str, Any]:
        """The API Gateway event of this request, with the route key and path parameters of its route."""
        event = routed_event(
            self.method,
            self.path,
            query=dict(self.query) if self.query else None,
            headers=self.headers,
            body=self.body,
            raw_body=self.raw_body,
        )
        event.update(self.event_fields or {})
        if self.sample is None:
            return event
        sample = load(EVENTS / f"{self.sample}.json")
        context = sample["requestContext"]
        assert context["requestId"] == f"sample-{self.sample}", self.sample
        assert sample["routeKey"] == context["routeKey"], self.sample
        assert context["http"]["path"] == sample["rawPath"], self.sample
        edit_headers(sample["headers"], self.headers or {})
        assert asked(sample) == asked(event), f"events/{self.sample}.json does not send its row's request"
        return sample


def asked(event: dict[str, Any]) -> dict[str, Any]:
    """What an event asks for, apart from what differs between any two events (request ids, times)."""
    body = event.get("body")
    return {
        "method": event["requestContext"]["http"]["method"],
        "path": event["rawPath"],
        "route": event["routeKey"],
        "path parameters": event.get("pathParameters"),
        "query": parse_qs(event.get("rawQueryString") or "", keep_blank_values=True),
        "body": json.loads(body) if body and not event.get("isBase64Encoded") else body,
        "headers": {name: (event.get("headers") or {}).get(name) for name in _ASKED_HEADERS},
    }


NO_RETRY: Mapping[str, str | None] = {"retry-after": None, "x-should-retry": None}


@dataclass(frozen=True)
class Row:
    id: str
    route: str
    request: Request
    status: int
    body: dict[str, Any]
    setup: tuple[Seed, ...] = ()
    store: Store = Store.UNTOUCHED
    headers: Mapping[str, str | None] = field(default_factory=lambda: dict(NO_RETRY))


_VALID: Any = object()


def at(
    route: str, *, thread_id: str = THREAD, message_id: str = MESSAGE, body: Any = _VALID, **fields: Any
) -> Request:
    """A request on ``route`` for these ids, with ``body`` (by default the route's valid body, or none when
    a ``raw_body`` is given)."""
    method, template = route.split(" ", 1)
    if body is _VALID:
        body = None if "raw_body" in fields else VALID_BODIES.get(route)
    path = template.format(thread_id=thread_id, message_id=message_id)
    return Request(method, path, body=body, **fields)


def refused(
    id: str,
    route: str,
    expected: dict[str, Any],
    *,
    status: int = 400,
    setup: tuple[Seed, ...] = (),
    **request: Any,
) -> Row:
    """A row answered before the store is asked (``Store.UNTOUCHED``)."""
    return Row(f"{ROUTE_NAMES[route]}-{id}", route, at(route, **request), status, expected, setup=setup)


def not_found(
    id: str, route: str, expected: dict[str, Any], *, setup: tuple[Seed, ...] = (), **request: Any
) -> Row:
    """A 404 found out by reading the table (``Store.UNCHANGED``)."""
    return Row(
        f"{ROUTE_NAMES[route]}-{id}", route, at(route, **request), 404, expected, setup, Store.UNCHANGED
    )


# --- docs/contract.md, "Ids: 400 or 404" --------------------------------------------------------------------

NOT_THREAD_IDS = {
    "abc": "abc",
    "thr": "thr_abc",
    "thr-long": "thr_abc123",
    "upper-case": "THREAD_abc123DEF456ghi789JKL012",
    "message-id": "msg_abc",
    "messages": "messages",
}
NEVER_MINTED_THREAD_IDS = {
    "empty": "thread_",
    "short": "thread_abc",
    "25-characters": "thread_" + "a" * 25,
    "200-characters": "thread_" + "a" * 200,
    "not-ascii": "thread_" + "é" * 24,
    "punctuation": "thread_" + "-" * 24,
}
# kind: the thread id, and what the table holds (a message MESSAGE in that thread where it exists at all)
MISSING_THREADS: dict[str, tuple[str, tuple[Seed, ...]]] = {
    "never-created": (UNKNOWN_THREAD, ()),
    "deleted": (DELETED_THREAD, (DELETED,)),
    "other-tenant": (THREAD, (FOREIGN,)),
}
NOT_MESSAGE_IDS = {
    "abc": "abc",
    "message": "message_abc",
    "upper-case": "MSG_abc123",
    "thread-id": "thread_abc123DEF456ghi789JKL012",
}
NEVER_MINTED_MESSAGE_IDS = {"short": "msg_short", "abc": "msg_abc", "punctuation": "msg_" + "-" * 24}
MISSING_MESSAGE_IDS = {
    "unknown": UNKNOWN_MESSAGE,
    "lowest": "msg_" + "0" * 24,
    "highest": HIGHEST,
    "upper-z": "msg_" + "Z" * 24,
}
WITH_MESSAGE = (live_thread(), live_message())


def _id_rows() -> list[Row]:
    rows: list[Row] = []
    for route in THREAD_ROUTES:
        for name, thread_id in NOT_THREAD_IDS.items():
            rows.append(
                refused(f"thread-id-{name}", route, invalid_thread_id(thread_id), thread_id=thread_id)
            )
        for name, thread_id in NEVER_MINTED_THREAD_IDS.items():
            rows.append(
                refused(
                    f"never-minted-thread-{name}",
                    route,
                    thread_not_found(thread_id),
                    status=404,
                    thread_id=thread_id,
                )
            )
        for kind, (thread_id, setup) in MISSING_THREADS.items():
            rows.append(
                not_found(
                    f"{kind}-thread", route, thread_not_found(thread_id), setup=setup, thread_id=thread_id
                )
            )
    for route in MESSAGE_ROUTES:
        for name, message_id in NOT_MESSAGE_IDS.items():
            rows.append(
                refused(f"message-id-{name}", route, invalid_message_id(message_id), message_id=message_id)
            )
        # The thread is checked first: a message id this API never minted costs the thread's read.
        for name, message_id in NEVER_MINTED_MESSAGE_IDS.items():
            rows.append(
                not_found(
                    f"never-minted-message-{name}",
                    route,
                    message_not_found(message_id),
                    setup=WITH_MESSAGE,
                    message_id=message_id,
                )
            )
        for name, message_id in MISSING_MESSAGE_IDS.items():
            rows.append(
                not_found(
                    f"missing-message-{name}",
                    route,
                    message_not_found(message_id),
                    setup=WITH_MESSAGE,
                    message_id=message_id,
                )
            )
        rows.append(
            not_found(
                "message-of-another-thread",
                route,
                message_not_found(MESSAGE),
                setup=(*WITH_MESSAGE, live_thread(OTHER_THREAD)),
                thread_id=OTHER_THREAD,
            )
        )
        rows.append(not_found("deleted-message", route, message_not_found(MESSAGE), setup=(DELETED_MESSAGE,)))
    return rows


def _missing_rows() -> list[Row]:
    """docs/contract.md, "Modify message" and "List messages": a missing thread or message is a 404 whatever
    the body or the query, and nothing is written."""
    rows: list[Row] = []
    for name, body in {"null": {"metadata": None}, "absent": {}}.items():
        rows.append(
            not_found(
                f"missing-message-metadata-{name}",
                MODIFY_MESSAGE,
                message_not_found(UNKNOWN_MESSAGE),
                setup=(live_thread(),),
                message_id=UNKNOWN_MESSAGE,
                body=body,
            )
        )
    kinds = {
        "never-created": (UNKNOWN_THREAD, (), Store.UNCHANGED),
        "deleted": (DELETED_THREAD, (DELETED,), Store.UNCHANGED),
        "never-minted": ("thread_abc", (), Store.UNTOUCHED),
    }
    bodies: dict[str, Any] = {"set": {"metadata": {"a": "b"}}, "null": {"metadata": None}, "absent": {}}
    message_ids = {"of-another-thread": MESSAGE, "unknown": UNKNOWN_MESSAGE, "never-minted": "msg_short"}
    for kind, (thread_id, setup, store) in kinds.items():
        for body_name, body in bodies.items():
            for message_name, message_id in message_ids.items():
                rows.append(
                    Row(
                        f"modify-message-{kind}-thread-message-{message_name}-metadata-{body_name}",
                        MODIFY_MESSAGE,
                        at(MODIFY_MESSAGE, thread_id=thread_id, message_id=message_id, body=body),
                        404,
                        thread_not_found(thread_id),
                        setup=(*WITH_MESSAGE, *setup),
                        store=store,
                    )
                )
    queries: dict[str, dict[str, str]] = {
        "asc-100": {"order": "asc", "limit": "100"},
        "cursors": {"after": UNKNOWN_MESSAGE, "before": HIGHEST},
        "run_id": {"run_id": "run_abc"},
    }
    for kind, (thread_id, setup, store) in kinds.items():
        for query_name, query in queries.items():
            rows.append(
                Row(
                    f"list-messages-{kind}-thread-{query_name}",
                    LIST_MESSAGES,
                    at(LIST_MESSAGES, thread_id=thread_id, query=query),
                    404,
                    thread_not_found(thread_id),
                    setup=setup,
                    store=store,
                )
            )
    return rows


# --- docs/contract.md, "Request bodies" ---------------------------------------------------------------------

UNPARSABLE_ERROR = error(UNPARSABLE)
NOT_A_JSON_OBJECT = {
    "whitespace": "   ",
    "nan": '{"role": "user", "content": NaN}',
    "infinity": '{"role": "user", "content": "hi", "metadata": {"k": Infinity}}',
    "minus-infinity": '{"role": "user", "content": -Infinity}',
    "truncated-object": "{",
    "form-encoded": "role=user&content=hi",
    "single-quotes": "{'role': 'user'}",
    "trailing-comma": '{"role": "user", "content": "hi",}',
    "array": "[]",
    "string": '"x"',
    "null": "null",
    "number": "5",
    "boolean": "true",
}
MODIFY_NOT_A_JSON_OBJECT = {
    "truncated-object": "{",
    "array": "[]",
    "null": "null",
    "string": '"metadata"',
    "number": "5",
    "nan": '{"metadata": NaN}',
}
NOT_UTF8 = {
    "not-utf8": b"\xff\xfe\xfd",
    "latin1-json": b'{"role": "user", "content": "caf\xe9"}',
    "control-bytes": b"\x00\x01\x02",
}
NOT_BASE64 = {
    "not-base64": "not base64!!",
    "unpadded": "e30",
    "percent-signs": "%%%%",
    "padding-inside": "eyJyb2xlIjoidXNlciJ9=",
}
TOO_DEEP = {
    "100000-open-brackets": "[" * 100_000,
    "100000-open-objects": '{"a":' * 100_000,
    "5000-closed-brackets": "[" * 5_000 + "]" * 5_000,
    "5000-closed-brackets-around-an-object": "[" * 5_000 + "{}" + "]" * 5_000,
}


def _body_rows() -> list[Row]:
    rows: list[Row] = []
    for name, raw in NOT_A_JSON_OBJECT.items():
        rows.append(refused(f"unparsable-{name}", CREATE_MESSAGE, UNPARSABLE_ERROR, raw_body=raw))
    for name, raw in MODIFY_NOT_A_JSON_OBJECT.items():
        rows.append(
            refused(
                f"unparsable-{name}",
                MODIFY_MESSAGE,
                UNPARSABLE_ERROR,
                message_id=UNKNOWN_MESSAGE,
                raw_body=raw,
            )
        )
    for name, raw_bytes in NOT_UTF8.items():
        rows.append(refused(f"base64-{name}", CREATE_MESSAGE, UNPARSABLE_ERROR, raw_body=raw_bytes))
    for name, text in NOT_BASE64.items():
        rows.append(
            refused(
                f"base64-{name}",
                CREATE_MESSAGE,
                UNPARSABLE_ERROR,
                event_fields={"isBase64Encoded": True, "body": text},
            )
        )
    for name, raw in TOO_DEEP.items():
        rows.append(refused(f"nested-{name}", CREATE_MESSAGE, UNPARSABLE_ERROR, raw_body=raw))
        rows.append(
            refused(
                f"nested-{name}", MODIFY_MESSAGE, UNPARSABLE_ERROR, message_id=UNKNOWN_MESSAGE, raw_body=raw
            )
        )
    # A JSON array is no body even when it holds a valid one; the thread (and message) exist.
    rows.append(
        refused(
            "unparsable-array-of-a-valid-body",
            CREATE_MESSAGE,
            UNPARSABLE_ERROR,
            setup=(live_thread(),),
            raw_body='[{"role": "user", "content": "hi"}]',
        )
    )
    rows.append(
        refused(
            "unparsable-array-of-a-valid-body",
            MODIFY_MESSAGE,
            UNPARSABLE_ERROR,
            setup=WITH_MESSAGE,
            raw_body='[{"metadata": {"a": "b"}}]',
        )
    )
    # No body reads as {} (as OpenAI read it): then the first required field is missing.
    rows.append(
        refused(
            "no-body",
            CREATE_MESSAGE,
            error("Missing required parameter: 'role'.", param="role", code="missing_required_parameter"),
            body=None,
        )
    )
    return rows


# --- docs/contract.md, "Create message" (and "Errors", "400 errors") ----------------------------------------


def _message(**fields: Any) -> dict[str, Any]:
    return {"role": "user", "content": "Hello, world!", **fields}


CREATE_MESSAGE_BODIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "unknown-key-file_ids": (
        _message(file_ids=["file-1"]),
        error("Unknown parameter: 'file_ids'.", param="file_ids", code="unknown_parameter"),
    ),
    "unknown-key-assistant_id": (
        _message(assistant_id="asst_abc"),
        error("Unknown parameter: 'assistant_id'.", param="assistant_id", code="unknown_parameter"),
    ),
    "unknown-key-in-part": (
        _message(content=[{"type": "text", "text": "hi", "annotations": []}]),
        error(
            "Unknown parameter: 'content[0].annotations'.",
            param="content[0].annotations",
            code="unknown_parameter",
        ),
    ),
    "missing-role": (
        {"content": "hi"},
        error("Missing required parameter: 'role'.", param="role", code="missing_required_parameter"),
    ),
    "missing-content": (
        {"role": "user"},
        error("Missing required parameter: 'content'.", param="content", code="missing_required_parameter"),
    ),
    "empty-object": (
        {},
        error("Missing required parameter: 'role'.", param="role", code="missing_required_parameter"),
    ),
    "role-system": (
        _message(role="system"),
        error(
            "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
            param="role",
            code="invalid_value",
        ),
    ),
    "content-integer": (
        _message(content=5),
        error(
            "Invalid type for 'content': expected one of a string or array of objects, "
            "but got an integer instead.",
            param="content",
            code="invalid_type",
        ),
    ),
    "metadata-value-boolean": (
        _message(metadata={"modified": True}),
        error(
            "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
            param="metadata.modified",
            code="invalid_type",
        ),
    ),
    "metadata-string": (
        _message(metadata="x"),
        error(
            "Invalid type for 'metadata': expected an object, but got a string instead.",
            param="metadata",
            code="invalid_type",
        ),
    ),
    "attachments-string": (
        _message(attachments="x"),
        error(
            "Invalid type for 'attachments': expected an array, but got a string instead.",
            param="attachments",
            code="invalid_type",
        ),
    ),
    "part-integer": (
        _message(content=[5]),
        error(
            "Invalid type for 'content[0]': expected an object, but got an integer instead.",
            param="content[0]",
            code="invalid_type",
        ),
    ),
    "part-text-integer": (
        _message(content=[{"type": "text", "text": "a"}, {"type": "text", "text": 5}]),
        error(
            "Invalid type for 'content[1].text': expected a string, but got an integer instead.",
            param="content[1].text",
            code="invalid_type",
        ),
    ),
    "metadata-17-keys": (
        _message(metadata={f"key{i}": "v" for i in range(17)}),
        error(
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
            "but got an object with 17 properties instead.",
            param="metadata",
            code="object_above_max_properties",
        ),
    ),
    "metadata-value-513": (
        _message(metadata={"k": "v" * 513}),
        error(
            "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
            "but got a string with length 513 instead.",
            param="metadata.k",
            code="string_above_max_length",
        ),
    ),
    "metadata-value-695-contract-example": (
        _message(metadata={"k": "x" * 695}),
        error(
            "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
            "but got a string with length 695 instead.",
            param="metadata.k",
            code="string_above_max_length",
        ),
    ),
    "metadata-value-513-multibyte-characters": (
        _message(metadata={"k": "€" * 513}),
        error(
            "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
            "but got a string with length 513 instead.",
            param="metadata.k",
            code="string_above_max_length",
        ),
    ),
    "metadata-key-65": (
        _message(metadata={"k" * 65: "v"}),
        error(
            "Invalid 'metadata': property name too long. Expected a string with maximum length 64, "
            "but got a string with length 65 instead.",
            param="metadata",
            code="property_name_above_max_length",
        ),
    ),
    "metadata-key-empty": (
        _message(metadata={"": "v"}),
        error(
            "Invalid 'metadata': property name too short. Expected a string with minimum length 1, "
            "but got a string with length 0 instead.",
            param="metadata",
            code="property_name_below_min_length",
        ),
    ),
    "empty-string": (
        _message(content=""),
        error("Message content must be non-empty.", param="content"),
    ),
    "empty-array": (
        _message(content=[]),
        error("Message content must be non-empty.", param="content"),
    ),
    "empty-text-part": (
        _message(content=[{"type": "text", "text": ""}]),
        error("Message content must be non-empty.", param="content[0].text"),
    ),
    "second-text-part-empty": (
        _message(content=[{"type": "text", "text": "a"}, {"type": "text", "text": ""}]),
        error("Message content must be non-empty.", param="content[1].text"),
    ),
    "string-of-256001": (
        _message(content="a" * 256_001),
        error(
            "Invalid 'content': string too long. Expected a string with maximum length 256000, "
            "but got a string with length 256001 instead.",
            param="content",
            code="string_above_max_length",
        ),
    ),
    "text-part-of-256001": (
        _message(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "é" * 256_001}]),
        error(
            "Invalid 'content[1].text': string too long. Expected a string with maximum length 256000, "
            "but got a string with length 256001 instead.",
            param="content[1].text",
            code="string_above_max_length",
        ),
    ),
    "bad-part-type": (
        _message(content=[{"type": "audio", "text": "a"}]),
        error(
            "Invalid value: 'audio'. Supported values are: 'text', 'image_url', and 'image_file'.",
            param="content[0].type",
            code="invalid_value",
        ),
    ),
    "missing-part-type": (
        _message(content=[{"type": "text", "text": "a"}, {"text": "a"}]),
        error(
            "Missing required parameter: 'content[1].type'.",
            param="content[1].type",
            code="missing_required_parameter",
        ),
    ),
    "text-part-without-text": (
        _message(content=[{"type": "text"}]),
        error(
            "Missing required parameter: 'content[0].text'.",
            param="content[0].text",
            code="missing_required_parameter",
        ),
    ),
    "bad-image-detail": (
        _message(
            content=[{"type": "image_url", "image_url": {"url": "https://a.test/x.png", "detail": "4k"}}]
        ),
        error(
            "Invalid value: '4k'. Supported values are: 'auto', 'low', and 'high'.",
            param="content[0].image_url.detail",
            code="invalid_value",
        ),
    ),
    "image-file-without-file_id": (
        _message(content=[{"type": "image_file", "image_file": {}}]),
        error(
            "Missing required parameter: 'content[0].image_file.file_id'.",
            param="content[0].image_file.file_id",
            code="missing_required_parameter",
        ),
    ),
    "11-attachments": (
        _message(attachments=[{"file_id": "f", "tools": []} for _ in range(11)]),
        error(
            "Invalid 'attachments': array too long. Expected an array with maximum length 10, "
            "but got an array with length 11 instead.",
            param="attachments",
            code="array_above_max_length",
        ),
    ),
    "bad-tool-type": (
        _message(attachments=[{"file_id": "f", "tools": []}, {"file_id": "g", "tools": [{"type": "x"}]}]),
        error(
            "Invalid value: 'x'. Supported values are: 'code_interpreter' and 'file_search'.",
            param="attachments[1].tools[0].type",
            code="invalid_value",
        ),
    ),
    "tool-without-type": (
        _message(attachments=[{"file_id": "f", "tools": [{}]}]),
        error(
            "Missing required parameter: 'attachments[0].tools[0].type'.",
            param="attachments[0].tools[0].type",
            code="missing_required_parameter",
        ),
    ),
    "attachment-without-file_id": (
        _message(attachments=[{"tools": []}]),
        error(
            "Missing required parameter: 'attachments[0].file_id'.",
            param="attachments[0].file_id",
            code="missing_required_parameter",
        ),
    ),
}
BAD_IMAGE_URLS = {
    "not-a-url": "notaurl",
    "ftp": "ftp://example.com/a.png",
    "javascript": "javascript:alert(1)",
    "no-host": "https://",
    "space-in-host": "https://exa mple.com/a.png",
    "empty": "",
}
# Bodies written as JSON text: what json.dumps would not write, or writes otherwise.
ODD_JSON: dict[str, tuple[str, dict[str, Any]]] = {
    "lone-surrogate-in-content": (
        '{"role": "user", "content": "\\ud800"}',
        error(
            "Invalid 'content': string contains an unpaired UTF-16 surrogate, which is not valid Unicode.",
            param="content",
            code="invalid_value",
        ),
    ),
    "byte-order-mark": ("\ufeff" + json.dumps(VALID_BODIES[CREATE_MESSAGE]), UNPARSABLE_ERROR),
    "infinite-number": (
        '{"role": "user", "content": "x", "metadata": {"k": 1e999}}',
        error(
            "Invalid type for 'metadata.k': expected a string, but got a decimal instead.",
            param="metadata.k",
            code="invalid_type",
        ),
    ),
    "tool-not-an-object": (
        '{"role": "user", "content": "x", "attachments": [{"file_id": "f", "tools": [5]}]}',
        error(
            "Invalid type for 'attachments[0].tools[0]': expected an object, but got an integer instead.",
            param="attachments[0].tools[0]",
            code="invalid_type",
        ),
    ),
    "part-type-not-a-string": (
        '{"role": "user", "content": [{"type": 5}]}',
        error(
            "Invalid type for 'content[0].type': expected a string, but got an integer instead.",
            param="content[0].type",
            code="invalid_type",
        ),
    ),
}
# Random four-byte characters: the largest legal text that even compressed exceeds what an item holds.
TOO_LARGE_TO_STORE = random_text(256_000)


def _create_message_rows() -> list[Row]:
    rows = [
        refused(name, CREATE_MESSAGE, expected, body=body)
        for name, (body, expected) in CREATE_MESSAGE_BODIES.items()
    ]
    for name, url in BAD_IMAGE_URLS.items():
        body = _message(
            content=[{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": url}}]
        )
        expected = error(
            "Invalid 'content[1].image_url.url'. "
            "Expected a valid URL, but got a value with an invalid format.",
            param="content[1].image_url.url",
            code="invalid_value",
        )
        rows.append(refused(f"image-url-{name}", CREATE_MESSAGE, expected, body=body))
    rows += [
        refused(name, CREATE_MESSAGE, expected, raw_body=raw) for name, (raw, expected) in ODD_JSON.items()
    ]
    size = schema.stored_size(
        [{"type": "text", "text": {"value": TOO_LARGE_TO_STORE, "annotations": []}}], []
    )
    rows.append(
        Row(
            "create-message-too-large-to-store",
            CREATE_MESSAGE,
            at(
                CREATE_MESSAGE,
                body={"role": "user", "content": [{"type": "text", "text": TOO_LARGE_TO_STORE}]},
            ),
            400,
            error(
                "Invalid 'content': message too large to store. Expected content and attachments of at most "
                f"{schema.CONTENT_LIMIT} bytes as stored (UTF-8 JSON, compressed with zlib when larger), but "
                f"got {size} bytes instead.",
                param="content",
                code="message_too_large",
            ),
            setup=(live_thread(),),
        )
    )
    return rows


# --- docs/contract.md, "Modify message" ---------------------------------------------------------------------

MODIFY_MESSAGE_BODIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "unknown-key": (
        {"metadata": {}, "foo": "bar"},
        error("Unknown parameter: 'foo'.", param="foo", code="unknown_parameter"),
    ),
    "role": (
        {"role": "assistant"},
        error("Unknown parameter: 'role'.", param="role", code="unknown_parameter"),
    ),
    "content": (
        {"content": "changed", "metadata": {}},
        error("Unknown parameter: 'content'.", param="content", code="unknown_parameter"),
    ),
    "attachments": (
        {"attachments": []},
        error("Unknown parameter: 'attachments'.", param="attachments", code="unknown_parameter"),
    ),
    "v1-file_ids": (
        {"file_ids": []},
        error("Unknown parameter: 'file_ids'.", param="file_ids", code="unknown_parameter"),
    ),
    "metadata-value-boolean": (
        {"metadata": {"modified": True}},
        error(
            "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
            param="metadata.modified",
            code="invalid_type",
        ),
    ),
    "metadata-array": (
        {"metadata": ["a"]},
        error(
            "Invalid type for 'metadata': expected an object, but got an array instead.",
            param="metadata",
            code="invalid_type",
        ),
    ),
    "metadata-17-keys": (
        {"metadata": {f"k{i}": "v" for i in range(17)}},
        error(
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
            "but got an object with 17 properties instead.",
            param="metadata",
            code="object_above_max_properties",
        ),
    ),
    "metadata-value-695": (
        {"metadata": {"k": "x" * 695}},
        error(
            "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
            "but got a string with length 695 instead.",
            param="metadata.k",
            code="string_above_max_length",
        ),
    ),
    "metadata-key-65": (
        {"metadata": {"k" * 65: "v"}},
        error(
            "Invalid 'metadata': property name too long. Expected a string with maximum length 64, "
            "but got a string with length 65 instead.",
            param="metadata",
            code="property_name_above_max_length",
        ),
    ),
}


def _modify_message_rows() -> list[Row]:
    return [
        refused(name, MODIFY_MESSAGE, expected, message_id=UNKNOWN_MESSAGE, body=body)
        for name, (body, expected) in MODIFY_MESSAGE_BODIES.items()
    ]


# --- docs/contract.md, "Create thread" and "Modify thread" --------------------------------------------------

CREATE_THREAD_BODIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "message-role-system": (
        {"messages": [{"role": "user", "content": "ok"}, {"role": "system", "content": "no"}]},
        error(
            "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
            param="messages[1].role",
            code="invalid_value",
        ),
    ),
    "message-content-empty": (
        {"messages": [{"role": "user", "content": ""}]},
        error("Message content must be non-empty.", param="messages[0].content"),
    ),
    "33-messages": (
        {"messages": [{"role": "user", "content": "x"}] * 33},
        error(
            "Invalid 'messages': array too long. Expected an array with maximum length 32, "
            "but got an array with length 33 instead.",
            param="messages",
            code="array_above_max_length",
        ),
    ),
    "2-vector-stores": (
        {"tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
        error(
            "Invalid 'tool_resources.file_search.vector_store_ids': array too long. Expected an array "
            "with maximum length 1, but got an array with length 2 instead.",
            param="tool_resources.file_search.vector_store_ids",
            code="array_above_max_length",
        ),
    ),
    "21-file-ids": (
        {"tool_resources": {"code_interpreter": {"file_ids": [f"f{n}" for n in range(21)]}}},
        error(
            "Invalid 'tool_resources.code_interpreter.file_ids': array too long. Expected an array with "
            "maximum length 20, but got an array with length 21 instead.",
            param="tool_resources.code_interpreter.file_ids",
            code="array_above_max_length",
        ),
    ),
    "vector-stores": (
        {"tool_resources": {"file_search": {"vector_stores": [{}]}}},
        error(
            "Unknown parameter: 'tool_resources.file_search.vector_stores'.",
            param="tool_resources.file_search.vector_stores",
            code="unknown_parameter",
        ),
    ),
    "unknown-key-assistant_id": (
        {"assistant_id": "asst_1"},
        error("Unknown parameter: 'assistant_id'.", param="assistant_id", code="unknown_parameter"),
    ),
    "metadata-value-boolean": (
        {"metadata": {"k": True}},
        error(
            "Invalid type for 'metadata.k': expected a string, but got a boolean instead.",
            param="metadata.k",
            code="invalid_type",
        ),
    ),
}
MODIFY_THREAD_BODIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "messages": (
        {"messages": []},
        error("Unknown parameter: 'messages'.", param="messages", code="unknown_parameter"),
    ),
    "metadata-string": (
        {"metadata": "x"},
        error(
            "Invalid type for 'metadata': expected an object, but got a string instead.",
            param="metadata",
            code="invalid_type",
        ),
    ),
    "vector-stores": (
        {"tool_resources": {"file_search": {"vector_stores": [{}]}}},
        error(
            "Unknown parameter: 'tool_resources.file_search.vector_stores'.",
            param="tool_resources.file_search.vector_stores",
            code="unknown_parameter",
        ),
    ),
}


def _thread_body_rows() -> list[Row]:
    rows = [
        refused(name, CREATE_THREAD, expected, body=body)
        for name, (body, expected) in CREATE_THREAD_BODIES.items()
    ]
    rows += [
        refused(name, MODIFY_THREAD, expected, setup=(live_thread(),), body=body)
        for name, (body, expected) in MODIFY_THREAD_BODIES.items()
    ]
    rows += [
        refused(f"unparsable-{name}", CREATE_THREAD, UNPARSABLE_ERROR, raw_body=raw)
        for name, raw in MODIFY_NOT_A_JSON_OBJECT.items()
    ]
    rows += [
        refused(f"unparsable-{name}", MODIFY_THREAD, UNPARSABLE_ERROR, raw_body=raw)
        for name, raw in MODIFY_NOT_A_JSON_OBJECT.items()
    ]
    # docs/contract.md, "Size limits": 17 texts of 250,000 characters, each stored as plain JSON, and the
    # thread's own item: 4,253,795 bytes as DynamoDB counts them, over one transaction's 4,000,000.
    rows.append(
        refused(
            "initial-messages-too-large",
            CREATE_THREAD,
            error(
                "Invalid 'messages': too large to store at once. Expected initial messages of at most "
                "4000000 bytes in all, but got 4253795 bytes instead. Create the thread with fewer messages, "
                "then add the rest.",
                param="messages",
                code="messages_too_large",
            ),
            body={"messages": [{"role": "user", "content": "x" * 250_000}] * 17},
        )
    )
    return rows


# --- docs/contract.md, "List messages" and "Paging" ---------------------------------------------------------


def _not_an_integer(value: str) -> tuple[dict[str, str], dict[str, Any]]:
    return {"limit": value}, error(
        "Invalid type for 'limit': expected an integer, but got a string instead.",
        param="limit",
        code="invalid_type",
    )


LIST_QUERIES: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "limit-0": (
        {"limit": "0"},
        error(
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
            param="limit",
            code="integer_below_min_value",
        ),
    ),
    "limit-negative": (
        {"limit": "-1"},
        error(
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got -1 instead.",
            param="limit",
            code="integer_below_min_value",
        ),
    ),
    "limit-101": (
        {"limit": "101"},
        error(
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
            param="limit",
            code="integer_above_max_value",
        ),
    ),
    "limit-abc": _not_an_integer("abc"),
    "limit-decimal": _not_an_integer("1.5"),
    # Integers are plain decimal digits, as OpenAI read them (pydantic alone would take these).
    "limit-spelled-one-point-zero": _not_an_integer("1.0"),
    "limit-spelled-underscore": _not_an_integer("10_0"),
    "limit-spelled-plus-sign": _not_an_integer("+1"),
    "limit-spelled-leading-space": _not_an_integer(" 1"),
    "limit-spelled-exponent": _not_an_integer("1e1"),
    "order-foo": (
        {"order": "foo"},
        error(
            "Invalid value: 'foo'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        ),
    ),
    "order-upper-case": (
        {"order": "ASC"},
        error(
            "Invalid value: 'ASC'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        ),
    ),
    "run_id-129": (
        {"run_id": "r" * 129},
        error(
            "Invalid 'run_id': string too long. Expected a string with maximum length 128, "
            "but got a string with length 129 instead.",
            param="run_id",
            code="string_above_max_length",
        ),
    ),
}
MALFORMED_CURSORS = {
    "bad": "bad",
    "short": "msg_short",
    "25-characters": "msg_" + "a" * 25,
    "punctuation": "msg_" + "-" * 24,
    "not-ascii": "msg_" + "é" * 24,
    "upper-case-prefix": "MSG_" + "a" * 24,
    "thread-id": "thread_abc123DEF456ghi789JKL012",
}


def _list_rows() -> list[Row]:
    rows = [
        refused(name, LIST_MESSAGES, expected, query=query)
        for name, (query, expected) in LIST_QUERIES.items()
    ]
    for param in ("after", "before"):
        for name, value in MALFORMED_CURSORS.items():
            expected = error(
                f"Invalid '{param}': '{value}'. "
                "Expected a message ID: 'msg_' followed by 24 letters or digits.",
                param=param,
                code="invalid_value",
            )
            rows.append(refused(f"{param}-{name}", LIST_MESSAGES, expected, query={param: value}))
    return rows


# --- docs/contract.md, "Scope and conventions": OpenAI-Beta -------------------------------------------------

# Any route, $default included: the header is checked before the route.
_ANY_ROUTE: dict[str, Request] = {
    **{route: at(route) for route in [CREATE_THREAD, LIST_THREADS, IMPORT_THREAD, *THREAD_ROUTES]},
    DEFAULT: Request("PUT", "/v1/threads/thread_x/messages"),
}


def _beta_rows() -> list[Row]:
    rows = [
        Row(
            f"{ROUTE_NAMES[route]}-beta-v1",
            route,
            replace(request, headers={"openai-beta": "assistants=v1"}),
            400,
            invalid_beta("assistants=v1"),
        )
        for route, request in _ANY_ROUTE.items()
    ]
    for name, value in {"v3": "assistants=v3", "tools": "tools=v1", "empty": ""}.items():
        rows.append(
            refused(f"beta-{name}", CREATE_MESSAGE, invalid_beta(value), headers={"openai-beta": value})
        )
    return rows


# --- docs/contract.md, "Authentication" ---------------------------------------------------------------------

# A whole thread as OpenAI returned it: events/import_thread.json imports it.
IMPORT_SAMPLE: dict[str, Any] = {
    "thread": {
        "id": THREAD,
        "object": "thread",
        "created_at": 1730000000,
        "metadata": {"source": "sample"},
        "tool_resources": {},
    },
    "messages": {
        "object": "list",
        "data": [
            openai_message(
                id="msg_abc123DEF456ghi789JKL013",
                created_at=1730000005,
                content=[text_part("AI learns patterns from data.")],
                thread_id=THREAD,
                assistant_id="asst_abc123",
                run_id="run_abc123",
                role="assistant",
                completed_at=1730000006,
            ),
            openai_message(
                id="msg_abc123DEF456ghi789JKL012",
                created_at=1730000001,
                content=[text_part("How does AI work?")],
                thread_id=THREAD,
            ),
        ],
        "first_id": "msg_abc123DEF456ghi789JKL013",
        "last_id": "msg_abc123DEF456ghi789JKL012",
        "has_more": False,
    },
}

# The requests of the sample events in events/, by file name.
SAMPLES: dict[str, tuple[str, Request]] = {
    name: (route, replace(request, sample=name))
    for name, route, request in [
        (
            "create_message",
            CREATE_MESSAGE,
            at(
                CREATE_MESSAGE,
                body={
                    "role": "user",
                    "content": "How does AI work? Explain it in simple terms.",
                    "metadata": {"source": "sample"},
                },
            ),
        ),
        (
            "create_message_invalid",
            CREATE_MESSAGE,
            at(CREATE_MESSAGE, body={"role": "system", "content": "You are a helpful assistant."}),
        ),
        (
            "create_message_parts",
            CREATE_MESSAGE,
            at(
                CREATE_MESSAGE,
                body={
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in this image?"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    ],
                    "attachments": [{"file_id": "file-abc123", "tools": [{"type": "file_search"}]}],
                },
            ),
        ),
        (
            "create_thread",
            CREATE_THREAD,
            at(
                CREATE_THREAD,
                body={
                    "messages": [
                        {"role": "user", "content": "Hello, what is AI?"},
                        {"role": "user", "content": "How does AI work? Explain it in simple terms."},
                    ],
                    "metadata": {"source": "sample"},
                },
            ),
        ),
        (
            "create_thread_invalid",
            CREATE_THREAD,
            at(CREATE_THREAD, body={"messages": [{"role": "user", "content": "x"}] * 33}),
        ),
        ("retrieve_thread", RETRIEVE_THREAD, at(RETRIEVE_THREAD)),
        ("retrieve_thread_invalid", RETRIEVE_THREAD, at(RETRIEVE_THREAD, thread_id="abc")),
        (
            "modify_thread",
            MODIFY_THREAD,
            at(MODIFY_THREAD, body={"metadata": {"modified": "true", "user": "abc123"}}),
        ),
        ("modify_thread_invalid", MODIFY_THREAD, at(MODIFY_THREAD, body={"messages": []})),
        ("delete_thread", DELETE_THREAD, at(DELETE_THREAD)),
        ("delete_thread_invalid", DELETE_THREAD, at(DELETE_THREAD, thread_id="abc")),
        ("list_messages", LIST_MESSAGES, at(LIST_MESSAGES, query={"limit": "2", "order": "asc"})),
        ("list_messages_invalid", LIST_MESSAGES, at(LIST_MESSAGES, query={"limit": "0"})),
        ("retrieve_message", RETRIEVE_MESSAGE, at(RETRIEVE_MESSAGE, message_id=SAMPLE_MESSAGE)),
        ("retrieve_message_invalid", RETRIEVE_MESSAGE, at(RETRIEVE_MESSAGE, message_id="abc")),
        (
            "modify_message",
            MODIFY_MESSAGE,
            at(
                MODIFY_MESSAGE,
                message_id=SAMPLE_MESSAGE,
                body={"metadata": {"modified": "true", "user": "abc123"}},
            ),
        ),
        (
            "modify_message_invalid",
            MODIFY_MESSAGE,
            at(MODIFY_MESSAGE, message_id=SAMPLE_MESSAGE, body={"metadata": {"modified": True}}),
        ),
        ("delete_message", DELETE_MESSAGE, at(DELETE_MESSAGE, message_id=SAMPLE_MESSAGE)),
        ("delete_message_invalid", DELETE_MESSAGE, at(DELETE_MESSAGE, message_id="abc")),
        ("route_not_found", DEFAULT, Request("PUT", f"/v1/threads/{THREAD}/messages")),
        ("list_threads", LIST_THREADS, at(LIST_THREADS, query={"limit": "2", "metadata[user]": "abc123"})),
        ("list_threads_invalid", LIST_THREADS, at(LIST_THREADS, query={"after": "abc"})),
        ("export_thread", EXPORT_THREAD, at(EXPORT_THREAD, query={"limit": "100"})),
        ("export_thread_invalid", EXPORT_THREAD, at(EXPORT_THREAD, query={"after": "abc"})),
        ("import_thread", IMPORT_THREAD, at(IMPORT_THREAD, body=IMPORT_SAMPLE)),
        (
            "import_thread_invalid",
            IMPORT_THREAD,
            at(IMPORT_THREAD, body={"thread": {"id": "abc"}, "messages": []}),
        ),
    ]
}

_NO_KEY = {"authorization": None, "x-portkey-api-key": None}
# How a request can fail to offer an active key: the headers it sends, and whether any key is looked up.
BAD_CREDENTIALS: dict[str, tuple[dict[str, str | None], Store]] = {
    "no-key": ({}, Store.UNTOUCHED),
    "basic-scheme": ({"authorization": f"Basic {KEY_A}"}, Store.UNTOUCHED),
    "bearer-without-token": ({"authorization": "Bearer"}, Store.UNTOUCHED),
    "bearer-with-spaces-only": ({"authorization": "Bearer    "}, Store.UNTOUCHED),
    "token-without-scheme": ({"authorization": KEY_A}, Store.UNTOUCHED),
    "unknown-key": ({"authorization": "Bearer sk-unknown-000000000000000000000000000000"}, Store.KEYS_ONLY),
    "revoked-key": ({"authorization": f"Bearer {REVOKED_KEY}"}, Store.KEYS_ONLY),
    "placeholder-only": ({"authorization": "Bearer OPENAI_API_KEY"}, Store.UNTOUCHED),
    "unknown-portkey-key-with-placeholder": (
        {
            "x-portkey-api-key": "sk-unknown-000000000000000000000000000000",
            "authorization": "Bearer OPENAI_API_KEY",
        },
        Store.KEYS_ONLY,
    ),
    "revoked-portkey-key": ({"x-portkey-api-key": REVOKED_KEY}, Store.KEYS_ONLY),
}
# Values that cannot be a key (not 20 to 256 printable characters, or with a space): refused without a read.
MALFORMED_KEYS = {
    "short": "Bearer short",
    "placeholder": "Bearer OPENAI_API_KEY",
    "300-characters": "Bearer " + "x" * 300,
    "with-spaces": "Bearer sk-has space in it",
}


def _auth_rows() -> list[Row]:
    """Every route, unknown routes included, answers 401 without an active key, whatever else is wrong with
    the request (the key is checked before the body, the ids and the route): each sample event, its key
    headers swapped for each way of offering no active key."""
    rows = [
        Row(
            f"401-{case}-{name}",
            route,
            replace(request, headers={**_NO_KEY, **headers}),
            401,
            UNAUTHORIZED,
            setup=(API_KEYS,),
            store=store,
        )
        for name, (route, request) in SAMPLES.items()
        for case, (headers, store) in BAD_CREDENTIALS.items()
    ]
    route, create_thread = SAMPLES["create_thread"]
    rows += [
        Row(
            f"401-malformed-key-{case}",
            route,
            replace(create_thread, headers={**_NO_KEY, "authorization": value}),
            401,
            UNAUTHORIZED,
            setup=(API_KEYS,),
        )
        for case, value in MALFORMED_KEYS.items()
    ]
    rows.append(
        refused(
            "401-no-headers-at-all", CREATE_MESSAGE, UNAUTHORIZED, status=401, event_fields={"headers": None}
        )
    )
    return rows


# --- docs/contract.md, "Size limits": the request body ------------------------------------------------------

TOO_LARGE_BODY = '{"metadata": {"k": "' + "x" * MAX_BODY_BYTES + '"}}'
TOO_LARGE = error(
    f"Request body too large: got {MAX_BODY_BYTES + 23} bytes, "
    f"and this API accepts at most {MAX_BODY_BYTES} bytes.",
    code="request_too_large",
)


def _size_rows() -> list[Row]:
    """413 on every route, before anything else is done: before the key is checked (a request without one)."""
    rows = [
        Row(
            f"{ROUTE_NAMES[route]}-413",
            route,
            replace(request, body=None, raw_body=TOO_LARGE_BODY),
            413,
            TOO_LARGE,
        )
        for route, request in _ANY_ROUTE.items()
    ]
    rows.append(
        Row(
            "create-thread-413-without-a-key",
            CREATE_THREAD,
            at(CREATE_THREAD, raw_body=TOO_LARGE_BODY, headers=_NO_KEY),
            413,
            TOO_LARGE,
        )
    )
    return rows


# --- docs/contract.md, "Routes": any other method or path ---------------------------------------------------

OTHER_ROUTES = [
    ("PUT", "/v1/threads/thread_x/messages"),
    ("PATCH", "/v1/threads/thread_x/messages/msg_x"),
    ("GET", "/v1/models"),
    ("POST", "/v2/threads/thread_x/messages"),
    ("GET", "/"),
    ("DELETE", "/v1"),
    ("OPTIONS", "/v1/threads/thread_x/messages"),
    ("GET", "/v1/threads/thread_x/messages/msg_x/files"),
    ("PUT", "/v1/threads"),
    ("PATCH", f"/v1/threads/{THREAD}"),
    ("POST", "/v1/threads/thread_x/messages/msg_x/extra/segments"),
]


def _route_rows() -> list[Row]:
    rows = [
        Row(f"default-{method}-{path}", DEFAULT, Request(method, path), 404, invalid_url(method, path))
        for method, path in OTHER_ROUTES
    ]
    # The path in the message is the raw path, without the query string; the body is never read.
    rows.append(
        Row(
            "default-contract-example-with-a-query-and-a-body",
            DEFAULT,
            Request("PUT", "/v1/threads/thread_x/messages", query={"limit": "abc"}, raw_body="{not json"),
            404,
            invalid_url("PUT", "/v1/threads/thread_x/messages"),
        )
    )
    return rows


# --- docs/contract.md, "Idempotency-Key" --------------------------------------------------------------------

MALFORMED_IDEMPOTENCY_KEYS = {"empty": "", "256-characters": "x" * 256, "tab": "tab\there"}


def _idempotency_rows() -> list[Row]:
    expected = error(
        "Invalid 'Idempotency-Key' header: expected 1 to 255 printable characters.",
        code="invalid_idempotency_key",
    )
    return [
        refused(f"idempotency-key-{name}", route, expected, headers={"idempotency-key": key})
        for route in (CREATE_MESSAGE, CREATE_THREAD)
        for name, key in MALFORMED_IDEMPOTENCY_KEYS.items()
    ]


# --- the sample events in events/ that are refused ----------------------------------------------------------


def _sample(
    name: str,
    expected: dict[str, Any],
    *,
    status: int = 400,
    case: str = "",
    setup: tuple[Seed, ...] = (),
    store: Store = Store.UNTOUCHED,
) -> Row:
    route, request = SAMPLES[name]
    return Row(f"sample-{name}{case}", route, request, status, expected, setup=setup, store=store)


def _sample_rows() -> list[Row]:
    """What each sample event that is refused is documented to get: with its thread (and message) in the
    table or not."""
    thread = (live_thread(),)
    role = CREATE_MESSAGE_BODIES["role-system"][1]
    metadata = MODIFY_MESSAGE_BODIES["metadata-value-boolean"][1]
    # The thread the event addresses was never created: every operation on it is a 404 for the thread.
    no_thread = [
        _sample(name, thread_not_found(THREAD), status=404, case="-no-thread", store=Store.UNCHANGED)
        for name in (
            "create_message",
            "create_message_parts",
            "list_messages",
            "modify_message",
            "retrieve_thread",
            "modify_thread",
            "delete_thread",
        )
    ]
    # The thread exists, the message the event addresses does not.
    no_message = [
        _sample(
            name,
            message_not_found(SAMPLE_MESSAGE),
            status=404,
            case="-not-seeded",
            setup=thread,
            store=Store.UNCHANGED,
        )
        for name in ("modify_message", "retrieve_message", "delete_message")
    ]
    return [
        *no_thread,
        *no_message,
        _sample("create_message_invalid", role, setup=thread),
        _sample("list_messages_invalid", LIST_QUERIES["limit-0"][1], setup=thread),
        _sample(
            "modify_message_invalid",
            metadata,
            case="-seeded",
            setup=(*thread, live_message(message_id=SAMPLE_MESSAGE)),
        ),
        _sample("modify_message_invalid", metadata, case="-not-seeded", setup=thread),
        _sample("route_not_found", invalid_url("PUT", f"/v1/threads/{THREAD}/messages"), status=404),
        _sample("create_thread_invalid", CREATE_THREAD_BODIES["33-messages"][1]),
        _sample("retrieve_thread_invalid", invalid_thread_id("abc")),
        _sample("modify_thread_invalid", MODIFY_THREAD_BODIES["messages"][1], setup=thread),
        _sample("delete_thread_invalid", invalid_thread_id("abc")),
        _sample("retrieve_message_invalid", invalid_message_id("abc")),
        _sample("delete_message_invalid", invalid_message_id("abc")),
    ]


# --- docs/contract.md, "Threads beyond OpenAI": list, import, export ---------------------------------------


def _import_marker(table: Any) -> None:
    """Another import of ``THREAD`` holds it: its marker, leased for an hour."""
    lease = int(time.time()) + 3600
    table.put_item(
        TableName=TABLE_NAME,
        Item={
            "pk": {"S": schema.partition_key(TEST_TENANT, THREAD)},
            "sk": {"S": schema.IMPORT_SK},
            "owner": {"S": "another-import"},
            "lease_until": {"N": str(lease)},
            "expiration": {"N": str(lease + 3600)},
        },
    )


IMPORTING = Seed(f"an import of {THREAD} in progress", _import_marker)
THREAD_CURSORS = {
    "bad": "abc",
    "message-id": "msg_abc123DEF456ghi789JKL012",
    "short": "thread_abc",
    "upper-case-prefix": "THREAD_" + "a" * 24,
}


def _import(**body: Any) -> dict[str, Any]:
    return {"thread": {"id": THREAD}, "messages": []} | body


IMPORTED = {
    "id": "msg_given",
    "created_at": 1,
    "role": "user",
    "content": [{"type": "text", "text": {"value": "hi", "annotations": []}}],
}
IMPORT_BODIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "no-thread": (
        {"messages": []},
        error("Missing required parameter: 'thread'.", param="thread", code="missing_required_parameter"),
    ),
    "no-messages": (
        {"thread": {}},
        error("Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"),
    ),
    "thread-id-not-a-thread-id": (
        _import(thread={"id": "abc"}),
        error(
            "Invalid 'thread.id': 'abc'. Expected a thread ID: 'thread_' followed by 24 letters or digits.",
            param="thread.id",
            code="invalid_value",
        ),
    ),
    "thread-created-at-negative": (
        _import(thread={"created_at": -1}),
        error(
            "Invalid 'thread.created_at': integer below minimum value. Expected a value >= 0, but got -1 "
            "instead.",
            param="thread.created_at",
            code="integer_below_min_value",
        ),
    ),
    "message-without-id": (
        _import(messages=[{k: v for k, v in IMPORTED.items() if k != "id"}]),
        error(
            "Missing required parameter: 'messages[0].id'.",
            param="messages[0].id",
            code="missing_required_parameter",
        ),
    ),
    "message-without-created-at": (
        _import(messages=[{k: v for k, v in IMPORTED.items() if k != "created_at"}]),
        error(
            "Missing required parameter: 'messages[0].created_at'.",
            param="messages[0].created_at",
            code="missing_required_parameter",
        ),
    ),
    "message-role-system": (
        _import(messages=[IMPORTED | {"role": "system"}]),
        error(
            "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
            param="messages[0].role",
            code="invalid_value",
        ),
    ),
    "message-content-a-string": (
        _import(messages=[IMPORTED | {"content": "hi"}]),
        error(
            "Invalid type for 'messages[0].content': expected an array, but got a string instead.",
            param="messages[0].content",
            code="invalid_type",
        ),
    ),
    "duplicate-message-ids": (
        _import(messages=[IMPORTED, IMPORTED | {"created_at": 2}]),
        error(
            "Invalid 'messages[1].id': 'msg_given' appears more than once.",
            param="messages[1].id",
            code="invalid_value",
        ),
    ),
    "import-token-without-thread-id": (
        {"thread": {}, "messages": [], "import_token": "f" * 32},
        error(
            "Missing required parameter: 'thread.id'.", param="thread.id", code="missing_required_parameter"
        ),
    ),
    "import-token-65-characters": (
        _import(import_token="f" * 65),
        error(
            "Invalid 'import_token': string too long. Expected a string with maximum length 64, but got a "
            "string with length 65 instead.",
            param="import_token",
            code="string_above_max_length",
        ),
    ),
    "messages-an-object-without-data": (
        _import(messages={"object": "list"}),
        error(
            "Invalid type for 'messages': expected an array, but got an object instead.",
            param="messages",
            code="invalid_type",
        ),
    ),
}


def transfer_rows() -> list[Row]:
    rows: list[Row] = []
    for name, (query, expected) in LIST_QUERIES.items():
        if not name.startswith("run_id"):
            rows.append(refused(name, LIST_THREADS, expected, query=query))
    for param in ("after", "before"):
        for name, value in THREAD_CURSORS.items():
            expected = error(
                f"Invalid '{param}': '{value}'. "
                "Expected a thread ID: 'thread_' followed by 24 letters or digits.",
                param=param,
                code="invalid_value",
            )
            rows.append(refused(f"{param}-{name}", LIST_THREADS, expected, query={param: value}))
        for kind, (thread_id, setup) in {
            "never-created": (UNKNOWN_THREAD, ()),
            "other-tenant": (THREAD, (FOREIGN,)),
        }.items():
            unknown = error(
                f"Invalid '{param}': no thread found with id '{thread_id}' to list from.",
                param=param,
                code="invalid_value",
            )
            rows.append(
                Row(
                    f"list-threads-{param}-{kind}",
                    LIST_THREADS,
                    at(LIST_THREADS, query={param: thread_id}),
                    400,
                    unknown,
                    setup=setup,
                    store=Store.UNCHANGED,
                )
            )
    filters = {
        "17-filters": (
            {f"metadata[k{i}]": "v" for i in range(17)},
            error(
                "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
                "but got an object with 17 properties instead.",
                param="metadata",
                code="object_above_max_properties",
            ),
        ),
        "empty-key": (
            {"metadata[]": "v"},
            error(
                "Invalid 'metadata': property name too short. Expected a string with minimum length 1, "
                "but got a string with length 0 instead.",
                param="metadata",
                code="property_name_below_min_length",
            ),
        ),
    }
    for name, (query, expected) in filters.items():
        rows.append(refused(f"metadata-{name}", LIST_THREADS, expected, query=query))
    for name, value in MALFORMED_CURSORS.items():
        if name != "thread-id":
            expected = error(
                f"Invalid 'after': '{value}'. "
                "Expected a message ID: 'msg_' followed by 24 letters or digits.",
                param="after",
                code="invalid_value",
            )
            rows.append(refused(f"after-{name}", EXPORT_THREAD, expected, query={"after": value}))
    for name, (query, expected) in LIST_QUERIES.items():
        if name.startswith("limit-") and name != "limit-101":
            rows.append(refused(name, EXPORT_THREAD, expected, query=query))
    rows.append(
        refused(
            "limit-1001",
            EXPORT_THREAD,
            error(
                "Invalid 'limit': integer above maximum value. "
                "Expected a value <= 1000, but got 1001 instead.",
                param="limit",
                code="integer_above_max_value",
            ),
            query={"limit": "1001"},
        )
    )
    for name, (body, expected) in IMPORT_BODIES.items():
        rows.append(refused(name, IMPORT_THREAD, expected, body=body))
    rows += [
        Row(
            "import-thread-exists",
            IMPORT_THREAD,
            at(IMPORT_THREAD),
            409,
            error(f"A thread with id '{THREAD}' already exists.", param="thread.id", code="thread_exists"),
            setup=(live_thread(),),
            store=Store.UNCHANGED,
        ),
        Row(
            "import-thread-being-deleted",
            IMPORT_THREAD,
            at(IMPORT_THREAD, body=_import(thread={"id": DELETED_THREAD})),
            409,
            error(
                f"The thread with id '{DELETED_THREAD}' was deleted and is still being removed. Retry in a "
                "minute.",
                param="thread.id",
                code="thread_being_deleted",
            ),
            setup=(DELETED,),
            store=Store.UNCHANGED,
            headers={"retry-after": "60"},
        ),
        Row(
            "import-thread-unknown-import-token",
            IMPORT_THREAD,
            at(IMPORT_THREAD, body=_import(import_token="f" * 32)),
            409,
            error(
                f"No import of the thread with id '{THREAD}' is waiting for this 'import_token': it "
                "finished, or its time between parts ran out. Import the thread again from its first part.",
                param="import_token",
                code="import_expired",
            ),
            store=Store.UNCHANGED,
        ),
        Row(
            "import-thread-in-progress",
            IMPORT_THREAD,
            at(IMPORT_THREAD),
            409,
            error(
                f"Another import of the thread with id '{THREAD}' is in progress. Retry after it completes.",
                param="thread.id",
                code="import_in_progress",
            ),
            setup=(IMPORTING,),
            store=Store.UNCHANGED,
            headers={"retry-after": "5"},
        ),
    ]
    return rows


def transfer_sample_rows() -> list[Row]:
    return [
        _sample(
            "export_thread", thread_not_found(THREAD), status=404, case="-no-thread", store=Store.UNCHANGED
        ),
        _sample("list_threads_invalid", rows_by_id()["list-threads-after-bad"].body),
        _sample(
            "export_thread_invalid",
            error(
                "Invalid 'after': 'abc'. Expected a message ID: 'msg_' followed by 24 letters or digits.",
                param="after",
                code="invalid_value",
            ),
            setup=(live_thread(),),
        ),
        _sample("import_thread_invalid", IMPORT_BODIES["thread-id-not-a-thread-id"][1]),
        _sample(
            "import_thread",
            rows_by_id()["import-thread-exists"].body,
            status=409,
            case="-exists",
            setup=(live_thread(),),
            store=Store.UNCHANGED,
        ),
    ]


def rows_by_id() -> dict[str, Row]:
    return {row.id: row for row in transfer_rows()}


ROWS: list[Row] = [
    *_id_rows(),
    *transfer_rows(),
    *_missing_rows(),
    *_body_rows(),
    *_create_message_rows(),
    *_modify_message_rows(),
    *_thread_body_rows(),
    *_list_rows(),
    *_beta_rows(),
    *_auth_rows(),
    *_size_rows(),
    *_route_rows(),
    *_idempotency_rows(),
    *_sample_rows(),
    *transfer_sample_rows(),
]
"""Every row of the table, in the order of docs/contract.md's sections."""
