"""The project's OpenAPI 3.1 document, generated from the functions' own Powertools routes.

Every function of template.yaml is imported and its resolver asked for its schema
(``get_openapi_json_schema``); their paths and components are merged into one document, then made to say
what this API really answers:

* routes are declared with the ``/v1`` prefix and the client's base URL ends in ``/v1`` (as OpenAI's did), so
  the server URL carries ``/v1`` and paths are written without it: server URL + path is the route;
* Powertools' automatic 422 / ``HTTPValidationError`` answers are removed (this API never answers 422: bad
  requests are 400 in OpenAI's envelope), and its 500 ``ResponseValidationError`` becomes the 500 envelope;
* every operation documents the contract's errors with ``ErrorResponse``: 400, 404 where a message is
  addressed, 429 (with ``Retry-After``) and 500; the ``$default`` route's 404 is ``components.responses``;
* every answer carries ``x-request-id``.

``python -m local.openapi`` writes openapi.json at the repository root; ``--check`` exits 1 when it is stale.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from local.routes import ANY, DEFAULT_ROUTE, FunctionSpec, RouteTable, function_specs, import_module
from local.template import ROOT, TemplateError, template

BASE_PATH = "/v1"
SERVER_URL = "http://127.0.0.1:3000" + BASE_PATH
OUTPUT = ROOT / "openapi.json"
TITLE = "OpenAI Assistants v2 Messages API (self-hosted)"

ERROR_SCHEMA = "ErrorResponse"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
REQUEST_ID_HEADER = {"x-request-id": {"$ref": "#/components/headers/RequestId"}}
HEADERS = {
    "RequestId": {
        "description": "The request's id (API Gateway's request id); every answer carries it.",
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
# The contract's error responses: status -> description (used when the function declares none of its own).
ERRORS = {
    "400": "Invalid request: the body, a parameter or a header breaks the contract",
    "404": "No such message in this thread",
    "429": "Rate limited, or the store is throttled: retry after `Retry-After` seconds",
    "500": "Server error (no details, ever)",
}
# Powertools' own validation answers, which this API replaces with the envelope above.
POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def project_version(root: Path = ROOT) -> str:
    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def resolvers(specs: Mapping[str, FunctionSpec]) -> dict[str, Any]:
    """Each function's Powertools resolver (functions without one, if any, are left out)."""
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    found: dict[str, Any] = {}
    for name, spec in specs.items():
        module: ModuleType = import_module(spec)
        apps = {id(v): v for v in vars(module).values() if isinstance(v, ApiGatewayResolver)}
        if len(apps) > 1:
            raise TemplateError(f"{name}: {spec.module_name} has more than one resolver")
        if apps:
            found[name] = next(iter(apps.values()))
    return found


def build_document(tmpl: Mapping[str, Any] | None = None, root: Path = ROOT) -> dict[str, Any]:
    """The whole OpenAPI document for the template's functions."""
    source = template() if tmpl is None else tmpl
    specs = function_specs(source, root)
    routes = RouteTable.from_template(source)
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    tags: dict[str, None] = {}
    for name, app in resolvers(specs).items():
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=project_version(root)))
        for schema_name, schema in part.get("components", {}).get("schemas", {}).items():
            if (
                schema_name in schemas
                and schemas[schema_name] != schema
                and schema_name not in POWERTOOLS_SCHEMAS
            ):
                raise TemplateError(f"two functions define schema {schema_name!r} differently")
            schemas.setdefault(schema_name, schema)
        for path, item in part.get("paths", {}).items():
            for method, operation in item.items():
                _check_routed(routes, name, method, path)
                if not path.startswith(BASE_PATH + "/"):
                    raise TemplateError(f"{name}: route {path} is outside {BASE_PATH}")
                short = path[len(BASE_PATH) :]
                if method in paths.get(short, {}):
                    raise TemplateError(f"{method.upper()} {path} is declared by two functions")
                paths.setdefault(short, {})[method] = _operation(operation)
                tags.update(dict.fromkeys(operation.get("tags", [])))
    if ERROR_SCHEMA not in schemas:
        raise TemplateError(f"no function declares the {ERROR_SCHEMA} schema")

    components: dict[str, Any] = {
        "schemas": schemas,
        "headers": copy.deepcopy(HEADERS),
        "securitySchemes": {
            "ApiKey": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            "PortkeyApiKey": {"type": "apiKey", "in": "header", "name": "x-portkey-api-key"},
        },
    }
    default = routes.default
    if default is not None:
        components["responses"] = {"RouteNotFound": _route_not_found(specs[default.function])}
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": project_version(root),
            "description": _description(source),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": SERVER_URL, "description": "The local server: python -m local.serve"}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": components,
        "security": [{"ApiKey": []}, {"PortkeyApiKey": []}],
    }
    _prune_schemas(document)
    return document


def _check_routed(routes: RouteTable, function: str, method: str, path: str) -> None:
    """An operation the template does not route to its function would be a lie in the document."""
    for route in routes.routes:
        if route.function == function and route.path == path and route.method in (method.upper(), ANY):
            return
    raise TemplateError(
        f"{function} declares {method.upper()} {path}, but template.yaml routes no such request to it"
    )


def _operation(operation: dict[str, Any]) -> dict[str, Any]:
    operation = copy.deepcopy(operation)
    declared = operation.get("responses", {})
    responses: dict[str, Any] = {}
    for status, response in declared.items():
        if status == "422":
            continue
        responses[status] = response
    addressed = any(
        p.get("in") == "path" and p.get("name") == "message_id" for p in operation.get("parameters", [])
    )
    for status, description in ERRORS.items():
        if status == "404" and not addressed and status not in declared:
            continue
        own = declared.get(status, {})
        own_schema = own.get("content", {}).get("application/json", {}).get("schema")
        responses[status] = {
            "description": own["description"] if own_schema == ERROR_REF else description,
            "content": {"application/json": {"schema": dict(ERROR_REF)}},
        }
    for status, response in responses.items():
        headers = dict(REQUEST_ID_HEADER)
        if status == "429":
            headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
        response["headers"] = {**response.get("headers", {}), **headers}
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _route_not_found(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "description": (
            f"The API's `{DEFAULT_ROUTE}` route ({spec.name}): any method and path that no operation takes "
            "is answered 404 with `Invalid URL (<METHOD> <path>)`."
        ),
        "headers": dict(REQUEST_ID_HEADER),
        "content": {
            "application/json": {
                "schema": dict(ERROR_REF),
                "example": {
                    "error": {
                        "message": "Invalid URL (PUT /v1/threads/thread_x/messages)",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            }
        },
    }


def _description(tmpl: Mapping[str, Any]) -> str:
    summary = " ".join(str(tmpl.get("Description", "")).split())
    return (
        f"{summary}\n\nThe base URL ends in `{BASE_PATH}`, as OpenAI's did. Every answer is JSON and carries "
        "`x-request-id`; every error has the envelope `ErrorResponse`. A method or path that no operation "
        "takes is answered by the `$default` route: see `components.responses.RouteNotFound`."
    )


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _prune_schemas(document: dict[str, Any]) -> None:
    """Drops the schemas nothing refers to (Powertools' validation errors, once their answers are gone)."""
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    outside = {k: v for k, v in document.items() if k != "components"}
    outside["components"] = {k: v for k, v in document["components"].items() if k != "schemas"}
    pending = [r[len(prefix) :] for r in _refs(outside) if r.startswith(prefix)]
    used: set[str] = set()
    while pending:
        name = pending.pop()
        if name in used or name not in schemas:
            continue
        used.add(name)
        pending.extend(r[len(prefix) :] for r in _refs(schemas[name]) if r.startswith(prefix))
    document["components"]["schemas"] = {k: v for k, v in schemas.items() if k in used}


def render(document: Mapping[str, Any]) -> str:
    """The document as committed: sorted keys, two-space indent, a trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    args = parser.parse_args(argv)
    text = render(build_document())
    target: Path = args.output
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            state = "missing" if current is None else "out of date with the functions' routes"
            print(
                f"{target.name} is {state}: regenerate it with `.venv/bin/python -m local.openapi`",
                file=sys.stderr,
            )
            return 1
        print(f"{target.name} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
