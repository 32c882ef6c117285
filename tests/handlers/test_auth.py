"""API keys and tenants: every route needs a key, and a tenant sees only its own threads.

Each HTTP route is exercised through its sample event in events/ (the same entry point the template names),
with the key material swapped for each case.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local import keytool as keys_tool
from tests.support.api_events import Answer, call, http_event
from tests.support.hooks import listening
from tests.support.moto_table import TABLE_NAME
from tests.support.routing import EVENTS, handler_of, load, route_of
from threadkit.edge import auth, events
from threadkit.storage import keys
from threadkit.storage.client import Caller

EVENT_FILES = sorted(p for p in EVENTS.glob("*.json") if p.stem != "purge_threads")
UNAUTHORIZED = {
    "error": {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
KEY_A = "sk-tenant-a-000000000000000000000000000000"
KEY_B = "sk-tenant-b-000000000000000000000000000000"
REVOKED = "sk-revoked-0000000000000000000000000000000"


class Reads:
    """Every DynamoDB call with its parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))


@pytest.fixture
def keyed(table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    """Keys for tenants a and b and a revoked one in the table; an empty key cache; a log of every call."""
    items = [
        keys.key_item(KEY_A, keys.ApiKey("key_a", "a", "tenant a", created_at=1, revoked_at=None)),
        keys.key_item(KEY_B, keys.ApiKey("key_b", "b", "tenant b", created_at=1, revoked_at=None)),
        keys.key_item(REVOKED, keys.ApiKey("key_r", "a", "revoked", created_at=1, revoked_at=2)),
    ]
    table.batch_write_item(RequestItems={TABLE_NAME: [{"PutRequest": {"Item": item}} for item in items]})
    auth.use_key_cache(keys.KeyCache())  # the root conftest puts its own back
    reads = Reads()
    with listening("provide-client-params.dynamodb", reads):
        yield reads


def _send(event: dict[str, Any]) -> Answer:
    return call(handler_of(route_of(event)), event)


def _with_headers(event: dict[str, Any], **headers: str | None) -> dict[str, Any]:
    event = copy.deepcopy(event)
    for name in ("authorization", "x-portkey-api-key"):
        event["headers"].pop(name, None)
    for name, value in headers.items():
        if value is not None:
            event["headers"][name.replace("_", "-")] = value
    return event


def _only_key_reads(reads: Reads) -> None:
    """No call but key lookups: nothing of any tenant's data was read or written."""
    for operation, params in reads.calls:
        assert operation == "GetItem", operation
        assert params["Key"]["pk"] == {"S": keys.KEYS_PK}


BAD_CREDENTIALS: dict[str, dict[str, str | None]] = {
    "no key": {},
    "basic scheme": {"authorization": f"Basic {KEY_A}"},
    "bearer without token": {"authorization": "Bearer"},
    "bearer with spaces only": {"authorization": "Bearer    "},
    "token without scheme": {"authorization": KEY_A},
    "unknown key": {"authorization": "Bearer sk-unknown-000000000000000000000000000000"},
    "revoked key": {"authorization": f"Bearer {REVOKED}"},
    "placeholder only": {"authorization": "Bearer OPENAI_API_KEY"},
    "unknown portkey key with placeholder": {
        "x_portkey_api_key": "sk-unknown-000000000000000000000000000000",
        "authorization": "Bearer OPENAI_API_KEY",
    },
    "revoked portkey key": {"x_portkey_api_key": REVOKED},
}


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
@pytest.mark.parametrize("case", list(BAD_CREDENTIALS))
def test_every_route_answers_401_without_a_valid_key_and_reads_no_user_data(
    keyed: Reads, table: Any, path: Path, case: str
) -> None:
    before = table.scan(TableName=TABLE_NAME)["Items"]
    event = _with_headers(load(path), **BAD_CREDENTIALS[case])

    answer = _send(event)

    assert (answer.status, answer.body) == (401, UNAUTHORIZED)
    assert answer.headers["x-request-id"] == event["requestContext"]["requestId"]
    _only_key_reads(keyed)
    assert table.scan(TableName=TABLE_NAME)["Items"] == before


def test_a_malformed_key_costs_no_read(keyed: Reads) -> None:
    for value in (
        "Bearer short",
        "Bearer OPENAI_API_KEY",
        "Bearer " + "x" * 300,
        "Bearer sk-has space in it",
    ):
        answer = _send(_with_headers(load(EVENTS / "create_thread.json"), authorization=value))
        assert (answer.status, answer.body) == (401, UNAUTHORIZED)
    assert keyed.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"authorization": f"Bearer {KEY_A}"}, id="openai-sdk"),
        pytest.param(
            {"x_portkey_api_key": KEY_A, "authorization": "Bearer OPENAI_API_KEY"}, id="portkey-sdk"
        ),
        pytest.param({"x_portkey_api_key": KEY_A}, id="portkey-key-alone"),
        pytest.param(
            {"x_portkey_api_key": "pk-some-gateway-key-000000000000", "authorization": f"Bearer {KEY_A}"},
            id="gateway-key-then-bearer",
        ),
    ],
)
def test_both_sdks_header_styles_authenticate(keyed: Reads, headers: dict[str, str]) -> None:
    answer = _send(_with_headers(load(EVENTS / "create_thread.json"), **headers))
    assert answer.status == 200, answer.body


def test_a_key_is_read_once_per_container_while_cached(keyed: Reads) -> None:
    for _ in range(3):
        assert (
            _send(_with_headers(load(EVENTS / "create_thread.json"), authorization=f"Bearer {KEY_A}")).status
            == 200
        )
    key_reads = [p for op, p in keyed.calls if op == "GetItem" and p["Key"]["pk"] == {"S": keys.KEYS_PK}]
    assert len(key_reads) == 1


def test_a_revoked_key_stops_working_within_the_cache_time(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    auth.use_key_cache(keys.KeyCache(clock=lambda: now[0]))  # the root conftest puts its own back
    key_store = keys.KeyStore(TABLE_NAME, Caller(table))
    _, key = key_store.create("a", "soon revoked", secret=KEY_A)
    event = _with_headers(load(EVENTS / "create_thread.json"), authorization=f"Bearer {KEY_A}")
    assert _send(event).status == 200

    key_store.revoke(key.key_id)
    now[0] += keys.CACHE_SECONDS - 1
    assert _send(event).status == 200  # still cached: at most CACHE_SECONDS after the revocation
    now[0] += 2
    answer = _send(event)
    assert (answer.status, answer.body) == (401, UNAUTHORIZED)


# --- tenant isolation ---------------------------------------------------------------------------------------


def _as(key: str, method: str, path: str, params: dict[str, str] | None = None, body: Any = None) -> Answer:
    event = http_event(
        method, path, path_parameters=params, body=body, headers={"authorization": f"Bearer {key}"}
    )
    return _send(event)


def test_another_tenants_thread_and_message_are_404_on_every_operation_and_unchanged(
    keyed: Reads, table: Any
) -> None:
    thread = _as(
        KEY_A, "POST", "/v1/threads", body={"messages": [{"role": "user", "content": "a's secret"}]}
    ).body
    t = thread["id"]
    listed = _as(KEY_A, "GET", f"/v1/threads/{t}/messages", {"thread_id": t}).body
    m = listed["data"][0]["id"]
    before = table.scan(TableName=TABLE_NAME)["Items"]
    thread_404: dict[str, Any] = {
        "error": {
            "message": f"No thread found with id '{t}'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    attempts: list[tuple[str, str, dict[str, str], Any]] = [
        ("GET", f"/v1/threads/{t}", {"thread_id": t}, None),
        ("POST", f"/v1/threads/{t}", {"thread_id": t}, {"metadata": {"owner": "b"}}),
        ("DELETE", f"/v1/threads/{t}", {"thread_id": t}, None),
        ("POST", f"/v1/threads/{t}/messages", {"thread_id": t}, {"role": "user", "content": "b was here"}),
        ("GET", f"/v1/threads/{t}/messages", {"thread_id": t}, None),
        ("GET", f"/v1/threads/{t}/messages/{m}", {"thread_id": t, "message_id": m}, None),
        (
            "POST",
            f"/v1/threads/{t}/messages/{m}",
            {"thread_id": t, "message_id": m},
            {"metadata": {"b": "1"}},
        ),
        ("DELETE", f"/v1/threads/{t}/messages/{m}", {"thread_id": t, "message_id": m}, None),
    ]
    for method, path, params, body in attempts:
        answer = _as(KEY_B, method, path, params, body)
        # Exactly what a thread that never existed gets.
        never = _as(
            KEY_B,
            method,
            path.replace(t, "thread_" + "N" * 24),
            {**params, "thread_id": "thread_" + "N" * 24},
            body,
        )
        assert (answer.status, answer.body) == (404, thread_404), (method, path)
        assert never.status == 404
        assert never.body["error"]["message"] == thread_404["error"]["message"].replace(
            t, "thread_" + "N" * 24
        )

    assert table.scan(TableName=TABLE_NAME)["Items"] == before
    assert _as(KEY_A, "GET", f"/v1/threads/{t}/messages/{m}", {"thread_id": t, "message_id": m}).status == 200


def test_the_same_thread_id_names_different_threads_for_different_tenants(keyed: Reads) -> None:
    a = _as(KEY_A, "POST", "/v1/threads", body={}).body["id"]
    b = _as(KEY_B, "POST", "/v1/threads", body={}).body["id"]
    assert a != b
    assert _as(KEY_A, "GET", f"/v1/threads/{a}", {"thread_id": a}).status == 200
    assert _as(KEY_A, "GET", f"/v1/threads/{b}", {"thread_id": b}).status == 404


# --- body size, before any work -----------------------------------------------------------------------------


def test_a_body_larger_than_the_api_accepts_is_413_before_any_work(keyed: Reads) -> None:
    event = http_event(
        "POST", "/v1/threads", raw_body='{"metadata": {"k": "' + "x" * events.MAX_BODY_BYTES + '"}}'
    )
    answer = _send(event)
    assert answer.status == 413
    assert answer.body == {
        "error": {
            "message": f"Request body too large: got {events.MAX_BODY_BYTES + 23} bytes, and this API "
            f"accepts at most {events.MAX_BODY_BYTES} bytes.",
            "type": "invalid_request_error",
            "param": None,
            "code": "request_too_large",
        }
    }
    assert keyed.calls == []


# --- the key store and the key tool -------------------------------------------------------------------------


def test_the_table_keeps_only_a_hash_of_each_secret(table: Any) -> None:
    secret, key = keys.KeyStore(TABLE_NAME, Caller(table)).create("acme", "ci")
    assert keys.is_plausible(secret)
    assert secret.startswith("sk-")
    items = table.scan(TableName=TABLE_NAME)["Items"]
    assert secret not in repr(items)
    (item,) = [i for i in items if i["pk"]["S"] == keys.KEYS_PK]
    assert item["sk"]["S"] == keys.digest(secret)
    assert item["tenant"]["S"] == "acme"
    assert item["key_id"]["S"] == key.key_id


def _tool(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    code = keys_tool.run(argv, env, out=out)
    return code, out.getvalue()


def test_the_key_tool_creates_lists_without_secrets_and_revokes(table: Any) -> None:
    env = {"TABLE_NAME": TABLE_NAME, "AWS_DEFAULT_REGION": "us-east-1"}
    code, created = _tool(["create", "--tenant", "acme", "--name", "billing app"], env)
    assert code == 0
    secret = created.split("secret (shown once): ", 1)[1].strip()
    key_id = created.split()[0]
    assert keys.KeyStore(TABLE_NAME, Caller(table)).lookup(secret) is not None

    code, listed = _tool(["list"], env)
    assert code == 0
    assert key_id in listed
    assert "acme" in listed
    assert "billing app" in listed
    assert secret not in listed

    code, revoked = _tool(["revoke", key_id], env)
    assert code == 0
    assert f"{key_id} revoked at" in revoked
    looked_up = keys.KeyStore(TABLE_NAME, Caller(table)).lookup(secret)
    assert looked_up is not None
    assert not looked_up.active
    assert _tool(["revoke", "key_000000000000"], env)[0] == 1


def test_the_key_tool_refuses_a_bad_tenant(table: Any) -> None:
    assert _tool(["create", "--tenant", "a b", "--name", "x"], {"TABLE_NAME": TABLE_NAME})[0] == 2


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("", []),
        (f"acme:{KEY_A}", [("acme", KEY_A)]),
        (f" acme:{KEY_A} , other:{KEY_B},", [("acme", KEY_A), ("other", KEY_B)]),
    ],
)
def test_messages_api_keys_are_tenant_secret_pairs(text: str, pairs: list[tuple[str, str]]) -> None:
    assert keys_tool.parse_key_pairs(text) == pairs


@pytest.mark.parametrize("text", ["acme", f":{KEY_A}", "acme:short", f"a b:{KEY_A}"])
def test_malformed_messages_api_keys_are_refused(text: str) -> None:
    with pytest.raises(keys_tool.KeyConfigError):
        keys_tool.parse_key_pairs(text)


def test_reading_keys_when_the_table_fails_is_503_not_500(
    monkeypatch: pytest.MonkeyPatch, table: Any
) -> None:
    auth.use_key_cache(keys.KeyCache())  # the root conftest puts its own back

    def broken(self: keys.KeyStore, secret: str) -> keys.ApiKey | None:
        raise keys.KeyStoreError("down")

    monkeypatch.setattr(keys.KeyStore, "lookup", broken)
    answer = _send(_with_headers(load(EVENTS / "create_thread.json"), authorization=f"Bearer {KEY_A}"))
    assert answer.status == 503
    assert answer.body["error"]["code"] == "service_unavailable"
    assert answer.headers["retry-after"] == "1"
