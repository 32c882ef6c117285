"""The local server's own pages: the OpenAPI document at ``/v1/openapi.json`` and a Swagger UI at ``/docs``.

The document is the committed one (``python -m local.openapi``) but for ``servers[0].url``, which names this
server as it runs (host and port), so that the page's "Try it out" reaches it. The page loads that document
from the same server, and Swagger UI's script and style sheet are the copies that Powertools for AWS Lambda
ships in its package (``event_handler/openapi/swagger_ui``), served from ``/docs/``: nothing comes from the
network. These pages are the local server's only: API Gateway serves neither.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from local import openapi

OPENAPI_PATH = openapi.BASE_PATH + "/openapi.json"
DOCS_PATH = "/docs"
SCRIPT = "swagger-ui-bundle.min.js"
STYLE = "swagger-ui.min.css"
ASSETS = {
    f"{DOCS_PATH}/{SCRIPT}": (SCRIPT, "application/javascript; charset=utf-8"),
    f"{DOCS_PATH}/{STYLE}": (STYLE, "text/css; charset=utf-8"),
}
ASSET_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
HTML_TYPE = "text/html; charset=utf-8"


def served_document(document: Mapping[str, Any], base_url: str) -> bytes:
    """``document`` as this server serves it: its first server is ``base_url`` (ending in ``/v1``)."""
    served = dict(document)
    servers = [dict(s) for s in document.get("servers", [])] or [{}]
    servers[0] = {**servers[0], "url": base_url, "description": "This local server (make serve)"}
    served["servers"] = servers
    return openapi.render(served).encode()


@cache
def asset(name: str) -> bytes:
    """One of Swagger UI's files, as Powertools ships it."""
    return resources.files(ASSET_PACKAGE).joinpath(name).read_bytes()


def page(title: str) -> bytes:
    """The Swagger UI page: the document from ``OPENAPI_PATH`` on this server, Swagger UI from ``/docs/``."""
    options = {
        "url": OPENAPI_PATH,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "docExpansion": "list",
        "tryItOutEnabled": False,
        "persistAuthorization": False,
    }
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)}</title>
  <link rel="stylesheet" href="{DOCS_PATH}/{STYLE}">
</head>
<body>
  <div id="swagger-ui">Loading {html.escape(OPENAPI_PATH)} ...</div>
  <script src="{DOCS_PATH}/{SCRIPT}"></script>
  <script>
    const options = {json.dumps(options)};
    options.presets = [SwaggerUIBundle.presets.apis];
    options.layout = "BaseLayout";
    window.ui = SwaggerUIBundle(options);
  </script>
</body>
</html>
""".encode()


def answer(method: str, path: str, document: bytes, title: str) -> tuple[bytes, str] | None:
    """The body and content type of the server's own page at ``path``, or None when it is not one."""
    if method not in ("GET", "HEAD"):
        return None
    if path == OPENAPI_PATH:
        return document, "application/json"
    if path in (DOCS_PATH, DOCS_PATH + "/"):
        return page(title), HTML_TYPE
    if path in ASSETS:
        name, content_type = ASSETS[path]
        return asset(name), content_type
    return None
