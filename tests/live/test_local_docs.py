"""The local server's docs: a Swagger UI page at /docs that loads the OpenAPI document from the same server,
with Swagger UI's own files served by the server (from the copies Powertools ships), and a document whose
server URL is the running server's."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib import resources
from urllib.parse import urlsplit

import pytest

from local import docs
from tests.support.live import call


class _Page(HTMLParser):
    """The resources a page loads and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.loads.append(str(values[name]))
        self._in_script = tag == "script" and "src" not in values

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def _origin(base_url: str) -> str:
    return base_url.removesuffix("/v1")


def test_docs_is_a_swagger_ui_page_that_loads_everything_from_this_server(live_api: str) -> None:
    reply = call("GET", f"{_origin(live_api)}/docs", api_key=None)  # a browser sends no key
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    page = _Page()
    page.feed(reply.body.decode())
    assert sorted(page.loads) == ["/docs/swagger-ui-bundle.min.js", "/docs/swagger-ui.min.css"]
    # No network: every resource is a path on this server, none an absolute URL.
    assert not re.search(rb"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", reply.body, re.IGNORECASE)
    script = "\n".join(page.inline)
    options = json.loads(re.search(r"const options = (\{.*?\});", script).group(1))  # type: ignore[union-attr]
    assert options["url"] == "/v1/openapi.json"
    assert "SwaggerUIBundle(options)" in script
    for path in page.loads:
        assert call("GET", f"{_origin(live_api)}{path}", api_key=None).status == 200


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.min.js", "application/javascript; charset=utf-8"),
        ("swagger-ui.min.css", "text/css; charset=utf-8"),
    ],
)
def test_swagger_ui_files_are_the_ones_powertools_ships(live_api: str, name: str, content_type: str) -> None:
    reply = call("GET", f"{_origin(live_api)}/docs/{name}", api_key=None)
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    shipped = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui").joinpath(name)
    assert reply.body == shipped.read_bytes()
    assert len(reply.body) > 10_000


def test_the_page_loads_a_document_whose_server_is_this_one(live_api: str) -> None:
    document = call("GET", f"{_origin(live_api)}{docs.OPENAPI_PATH}", api_key=None).json
    server = document["servers"][0]["url"]
    assert server == live_api  # host and port as the server runs: a free port here, not 3000
    assert urlsplit(server).port == urlsplit(live_api).port
    # "Try it out" sends to server URL + path: that reaches the API here.
    created = call("POST", f"{server}/threads", {})
    assert created.status == 200, created.body
    assert created.json["object"] == "thread"


def test_other_paths_under_docs_are_not_the_servers(live_api: str) -> None:
    reply = call("GET", f"{_origin(live_api)}/docs/oauth2.py", api_key=None)
    assert reply.status != 200
    assert call("POST", f"{_origin(live_api)}/docs", {}, api_key=None).status != 200
