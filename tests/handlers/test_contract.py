"""docs/contract.md, "Errors" and every section with error rows, as one table: each row of
``tests/support/contract_rows.py`` is a request sent to the function template.yaml routes it to, and it gets
exactly the status, the whole body and the headers its row says, and writes nothing (for rows answered before
the store is asked, it makes no DynamoDB request at all; for a refused key, none but the key's read)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.support.api import ERROR_KEYS, forbid_aws_calls
from tests.support.api_events import Answer
from tests.support.contract_rows import ROUTE_NAMES, ROWS, SAMPLES, Row, Store
from tests.support.hooks import RequestLog, listening
from tests.support.moto_table import scan
from tests.support.routing import EVENT_FILES, route_of, routes, send
from threadkit.storage import keys


def _send(event: dict[str, Any], store: Store) -> Answer:
    if store is Store.UNTOUCHED:
        with pytest.MonkeyPatch.context() as monkeypatch:
            forbid_aws_calls(monkeypatch)
            return send(event)
    log = RequestLog()
    with listening("provide-client-params.dynamodb", log):
        answer = send(event)
    if store is Store.KEYS_ONLY:
        for operation, params in log.calls:
            assert (operation, params["Key"]["pk"]) == ("GetItem", {"S": keys.KEYS_PK}), log.calls
    return answer


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_row(table: Any, row: Row) -> None:
    for seed in row.setup:
        seed.make(table)
    event = row.request.event()
    assert route_of(event).route_key == row.route
    before = scan(table)

    answer = _send(event, row.store)

    assert (answer.status, answer.body) == (row.status, row.body)
    assert list(answer.body) == ["error"]
    assert list(answer.body["error"]) == ERROR_KEYS
    assert answer.headers.get("content-type") == "application/json"
    assert answer.headers.get("x-request-id") == event["requestContext"]["requestId"]
    assert {name: answer.headers.get(name) for name in row.headers} == dict(row.headers)
    assert scan(table) == before


def test_row_ids_are_unique() -> None:
    repeated = [name for name, count in Counter(row.id for row in ROWS).items() if count > 1]
    assert repeated == []


def test_every_route_of_the_template_has_rows() -> None:
    assert {route.route_key for route in routes()} == set(ROUTE_NAMES) == {row.route for row in ROWS}


def test_every_sample_event_is_a_request_of_the_table() -> None:
    assert {path.stem for path in EVENT_FILES} == set(SAMPLES)
