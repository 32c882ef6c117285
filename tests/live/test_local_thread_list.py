"""The list of threads and whole-thread import through the local server, as an HTTP client sends them: the
``metadata[<key>]`` filters arrive percent-encoded, as httpx (and so the openai SDK) writes them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.live import LIVE_API_KEY, OTHER_API_KEY


def _client(live_api: str, key: str = LIVE_API_KEY) -> httpx.Client:
    return httpx.Client(base_url=live_api, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def test_a_metadata_filter_sent_percent_encoded_lists_only_the_matching_threads(live_api: str) -> None:
    run = uuid.uuid4().hex
    with _client(live_api) as api:
        made = [
            api.post("/threads", json={"metadata": {"run": run, "n": str(n % 2)}}).json()["id"]
            for n in range(4)
        ]
        page = api.get("/threads", params={"metadata[run]": run, "metadata[n]": "1", "order": "asc"})
    assert "metadata%5Brun%5D" in str(page.request.url)
    assert page.status_code == 200, page.text
    assert [t["id"] for t in page.json()["data"]] == [made[1], made[3]]


def test_an_export_imports_into_another_tenant_over_http(live_api: str) -> None:
    with _client(live_api) as api:
        thread = api.post(
            "/threads", json={"messages": [{"role": "user", "content": f"m{i}"} for i in range(3)]}
        )
        thread_id = thread.json()["id"]
        exported: dict[str, Any] = api.get(f"/threads/{thread_id}/export").json()
    with _client(live_api, OTHER_API_KEY) as other:
        imported = other.post("/threads/import", json=exported)
        assert imported.status_code == 200, imported.text
        listed = other.get(f"/threads/{thread_id}/messages", params={"order": "asc"}).json()["data"]
    assert [m["content"] for m in listed] == [m["content"] for m in exported["messages"]]
    assert [m["created_at"] for m in listed] == [m["created_at"] for m in exported["messages"]]
