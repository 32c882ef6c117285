"""API keys and tenants: docs/contract.md, "Authentication": every route needs a key, and a tenant sees only
its own threads.

The requests refused for their key (401 on every route, through each sample event in events/ with its key
material swapped) and another tenant's threads and messages (404) are rows of the contract table,
``tests/support/contract_rows.py``. Here: the keys that are accepted, the key cache, the key store and tool.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from typing import Any

import pytest

from local import keytool as keys_tool
from tests.support.api import UNAUTHORIZED
from tests.support.api_events import Answer
from tests.support.hooks import RequestLog, listening
from tests.support.moto_table import TABLE_NAME
from tests.support.routing import EVENTS, load, routed_event, send
from tests.support.seeding import KEY_A, KEY_B, make_keys
from threadkit.edge import auth
from threadkit.storage import keys
from threadkit.storage.client import Caller


@pytest.fixture
def keyed(table: Any) -> Iterator[RequestLog]:
    """Keys for tenants a and b and a revoked one in the table; an empty key cache; a log of every call."""
    make_keys(table)
    auth.use_key_cache(keys.KeyCache())  # the root conftest puts its own back
    log = RequestLog()
    with listening("provide-client-params.dynamodb", log):
        yield log


def _with_headers(event: dict[str, Any], **headers: str | None) -> dict[str, Any]:
    event = copy.deepcopy(event)
    for name in ("authorization", "x-portkey-api-key"):
        event["headers"].pop(name, None)
    for name, value in headers.items():
        if value is not None:
            event["headers"][name.replace("_", "-")] = value
    return event


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
def test_both_sdks_header_styles_authenticate(keyed: RequestLog, headers: dict[str, str]) -> None:
    answer = send(_with_headers(load(EVENTS / "create_thread.json"), **headers))
    assert answer.status == 200, answer.body


def test_a_key_is_read_once_per_container_while_cached(keyed: RequestLog) -> None:
    for _ in range(3):
        assert (
            send(_with_headers(load(EVENTS / "create_thread.json"), authorization=f"Bearer {KEY_A}")).status
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
    assert send(event).status == 200

    key_store.revoke(key.key_id)
    now[0] += keys.CACHE_SECONDS - 1
    assert send(event).status == 200  # still cached: at most CACHE_SECONDS after the revocation
    now[0] += 2
    answer = send(event)
    assert (answer.status, answer.body) == (401, UNAUTHORIZED)


# --- tenant isolation ---------------------------------------------------------------------------------------


def _as(key: str, method: str, path: str, body: Any = None) -> Answer:
    return send(routed_event(method, path, body=body, headers={"authorization": f"Bearer {key}"}))


def test_the_same_thread_id_names_different_threads_for_different_tenants(keyed: RequestLog) -> None:
    a = _as(KEY_A, "POST", "/v1/threads", body={}).body["id"]
    b = _as(KEY_B, "POST", "/v1/threads", body={}).body["id"]
    assert a != b
    assert _as(KEY_A, "GET", f"/v1/threads/{a}").status == 200
    assert _as(KEY_A, "GET", f"/v1/threads/{b}").status == 404


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
    answer = send(_with_headers(load(EVENTS / "create_thread.json"), authorization=f"Bearer {KEY_A}"))
    assert answer.status == 503
    assert answer.body["error"]["code"] == "service_unavailable"
    assert answer.headers["retry-after"] == "1"
