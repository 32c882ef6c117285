"""OpenAI's published spec subset as a response validator, with the errata of docs/contract.md as an overlay.

``tests/support/openai_spec/openai-messages.openapi.yaml`` (OpenAPI 3.1, a verbatim subset of
openai/openai-openapi) is the reference; its schema dialect is JSON Schema 2020-12, so responses are checked
with ``jsonschema``'s Draft 2020-12 validator, the whole document registered as one resource so that its
``#/components/...`` references resolve. The overlay (``apply_overlay``) tells the validator what the
contract (docs/contract.md) says where the spec is wrong or silent, and nothing else:

1. ``ListMessagesResponse.first_id`` / ``last_id`` may be null (an empty page): "The list object".
2. The limits the spec only states in prose: ``limit`` 1-100; metadata at most 16 pairs, keys 1-64 characters,
   values at most 512; a text at most 256,000 characters (and, as the contract says, not empty): "Create
   message" and "List messages".
3. ``required: [file_id, tools]`` belongs to each attachment, not to the attachments array: "Create message".
4. Every error status the contract names (400, 401, 404, 409, 413, 429, 500, 503) answers the error envelope:
   all four keys present, ``param`` and ``code`` string or null: "Errors".

The subset has no thread operations. ``with_threads`` adds them to an overlaid document, with small schemas of
our own (``THREAD_SCHEMAS``, what docs/contract.md, "The thread object" says): ``ThreadObject`` is exactly
``{id, object: "thread", created_at, metadata, tool_resources}`` (the id in the contract's shape, metadata
within the overlay's limits and never null, ``tool_resources`` an object, ``{}`` when none are set) and
``DeleteThreadResponse`` exactly ``{id, object: "thread.deleted", deleted: true}``; every error status answers
the same envelope. Messages keep the spec's own operations (``getMessage``, ``deleteMessage``, ...).
``contract_spec()`` / ``contract_validator()`` are that document: the overlay plus the threads.

``validate_response(method, path_template, status, body)`` raises ``SpecViolation`` (an ``AssertionError``)
when ``body`` is not what the spec (by default with the overlay) documents for that status.
``ResponseRecorder`` validates every response a client receives against ``contract_validator()`` (so thread
answers too): pass ``recorder.httpx_hooks()`` as an httpx (or httpx2, the openai SDK's) client's
``event_hooks``, or ``recorder.requests_hooks()`` as a requests session's ``hooks``; a test then calls
``recorder.assert_clean()``. Its request hook also refuses any host outside the loopback range, so a
misconfigured client cannot reach the network.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import yaml
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).resolve().parent / "openai_spec"
SPEC_PATH = SPEC_DIR / "openai-messages.openapi.yaml"  # OpenAPI 3.1 (2026-08-21)
SPEC_30_PATH = SPEC_DIR / "openai-messages.openapi-3.0.yaml"  # OpenAPI 3.0 (2025-04-29), for 3.0-only tools

BASE_PATH = "/v1"  # the spec's server is https://api.openai.com/v1; its paths are relative to that
MESSAGES = "/threads/{thread_id}/messages"
MESSAGE = "/threads/{thread_id}/messages/{message_id}"
THREADS = "/threads"  # not in the subset: added by with_threads
THREAD = "/threads/{thread_id}"
THREAD_ID_PATTERN = "^thread_[0-9A-Za-z]{24}$"  # the contract's shape of a thread id

ERROR_STATUSES = ("400", "401", "404", "409", "413", "429", "500", "503")
LIMIT_MIN, LIMIT_MAX = 1, 100
METADATA_MAX_PAIRS, METADATA_KEY_MAX, METADATA_VALUE_MAX = 16, 64, 512
TEXT_MAX = 256_000

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_REPORTED = 5  # violations reported per response
_MAX_SHOWN = 300  # characters of an offending value shown in a message


class SpecViolation(AssertionError):
    """A response that the spec does not document, or whose body does not match the documented schema."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


# --- the documents ------------------------------------------------------------------------------------------


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def raw_spec() -> dict[str, Any]:
    """OpenAI's 3.1 spec subset as published (a fresh copy: callers may change it)."""
    return copy.deepcopy(_load(SPEC_PATH))


def raw_spec_30() -> dict[str, Any]:
    """The same subset from the last OpenAPI 3.0 edition (a fresh copy)."""
    return copy.deepcopy(_load(SPEC_30_PATH))


def overlay_spec() -> dict[str, Any]:
    """The 3.1 spec subset with the contract's errata applied (a fresh copy)."""
    return apply_overlay(raw_spec())


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "message": {"type": "string"},
        "param": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "type": {"type": "string"},
    },
    "required": ["type", "message", "param", "code"],
}
ERROR_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"$ref": "#/components/schemas/Error"}},
    "required": ["error"],
}


def apply_overlay(spec: dict[str, Any]) -> dict[str, Any]:
    """Returns a copy of the 3.1 ``spec`` with the errata of docs/contract.md applied (see the module
    docstring)."""
    spec = copy.deepcopy(spec)
    schemas: dict[str, Any] = spec["components"]["schemas"]

    # 1. An empty page has null first_id / last_id.
    listing = schemas["ListMessagesResponse"]["properties"]
    for key in ("first_id", "last_id"):
        listing[key] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

    # 2. The limits.
    for parameter in spec["paths"][MESSAGES]["get"]["parameters"]:
        if parameter.get("name") == "limit" and parameter.get("in") == "query":
            parameter["schema"].update(minimum=LIMIT_MIN, maximum=LIMIT_MAX)
    metadata_object = next(s for s in schemas["Metadata"]["anyOf"] if s.get("type") == "object")
    metadata_object["maxProperties"] = METADATA_MAX_PAIRS
    metadata_object["propertyNames"] = {"minLength": 1, "maxLength": METADATA_KEY_MAX}
    metadata_object["additionalProperties"] = {"type": "string", "maxLength": METADATA_VALUE_MAX}
    text_limits = {"minLength": 1, "maxLength": TEXT_MAX}
    content = schemas["CreateMessageRequest"]["properties"]["content"]
    next(s for s in content["oneOf"] if s.get("type") == "string").update(text_limits)
    schemas["MessageRequestContentTextObject"]["properties"]["text"].update(text_limits)
    schemas["MessageContentTextObject"]["properties"]["text"]["properties"]["value"]["maxLength"] = TEXT_MAX

    # 3. required [file_id, tools] on each attachment (a request's and, as it is echoed, a message's).
    for owner in (schemas["CreateMessageRequest"], schemas["MessageObject"]):
        array = next(s for s in owner["properties"]["attachments"]["anyOf"] if s.get("type") == "array")
        array.pop("required", None)
        array["items"]["required"] = ["file_id", "tools"]

    # 4. The error envelope, on every operation, for every error status.
    schemas["Error"] = copy.deepcopy(ERROR_SCHEMA)
    schemas["ErrorResponse"] = copy.deepcopy(ERROR_RESPONSE_SCHEMA)
    for operation in _operations(spec):
        _add_error_envelopes(operation)
    return spec


# --- the thread operations (not in the subset) -------------------------------------------------------------

_ARRAY_OF_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
THREAD_SCHEMAS: dict[str, Any] = {
    "ThreadObject": {
        "type": "object",
        "description": "The thread object, as docs/contract.md describes it (tests' own schema).",
        "properties": {
            "id": {"type": "string", "pattern": THREAD_ID_PATTERN},
            "object": {"const": "thread"},
            "created_at": {"type": "integer"},
            # The overlay's Metadata (its limits), and never null in a response.
            "metadata": {"$ref": "#/components/schemas/Metadata", "type": "object"},
            "tool_resources": {"$ref": "#/components/schemas/ThreadToolResources"},
        },
        "required": ["id", "object", "created_at", "metadata", "tool_resources"],
        "additionalProperties": False,
    },
    "ThreadToolResources": {
        "type": "object",
        "description": "{} when none are set; file_ids at most 20, vector_store_ids at most 1.",
        "properties": {
            "code_interpreter": {
                "type": "object",
                "properties": {"file_ids": {**_ARRAY_OF_STRINGS, "maxItems": 20}},
                "additionalProperties": False,
            },
            "file_search": {
                "type": "object",
                "properties": {"vector_store_ids": {**_ARRAY_OF_STRINGS, "maxItems": 1}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
    "DeleteThreadResponse": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "thread.deleted"},
            "deleted": {"const": True},
        },
        "required": ["id", "object", "deleted"],
        "additionalProperties": False,
    },
}
# Beyond OpenAI's API: the list of threads, import and export (docs/contract.md, "Threads beyond OpenAI").
THREAD_SCHEMAS |= {
    "ListThreadsResponse": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/ThreadObject"}},
            "first_id": {"type": ["string", "null"]},
            "last_id": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
        },
        "required": ["object", "data", "first_id", "last_id", "has_more"],
        "additionalProperties": False,
    },
    "ImportThreadResponse": {
        "type": "object",
        "properties": {
            "thread": {"$ref": "#/components/schemas/ThreadObject"},
            "message_ids": {"type": "object", "additionalProperties": {"type": "string"}},
            "import_token": {"type": "string"},
        },
        "required": ["thread", "message_ids"],
        "additionalProperties": False,
    },
    "ExportThreadResponse": {
        "type": "object",
        "properties": {
            "object": {"const": "thread.export"},
            "thread": {"$ref": "#/components/schemas/ThreadObject"},
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/MessageObject"}},
            "has_more": {"type": "boolean"},
            "last_id": {"type": ["string", "null"]},
        },
        "required": ["object", "thread", "messages", "has_more", "last_id"],
        "additionalProperties": False,
    },
}

THREAD_OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    (THREADS, "post"): ("createThread", "ThreadObject"),
    (THREADS, "get"): ("listThreads", "ListThreadsResponse"),
    (THREADS + "/import", "post"): ("importThread", "ImportThreadResponse"),
    (THREAD, "get"): ("getThread", "ThreadObject"),
    (THREAD, "post"): ("modifyThread", "ThreadObject"),
    (THREAD, "delete"): ("deleteThread", "DeleteThreadResponse"),
    (THREAD + "/export", "get"): ("exportThread", "ExportThreadResponse"),
}


def with_threads(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of an overlaid ``spec`` (``apply_overlay``'s result) with the thread operations added: their
    200 answers are ``THREAD_SCHEMAS``, their error statuses the envelope. The message operations are left
    exactly as they are."""
    spec = copy.deepcopy(spec)
    schemas: dict[str, Any] = spec["components"]["schemas"]
    metadata_object = next(s for s in schemas["Metadata"]["anyOf"] if s.get("type") == "object")
    assert metadata_object.get("maxProperties") == METADATA_MAX_PAIRS, "with_threads expects an overlaid spec"
    clashes = set(THREAD_SCHEMAS) & set(schemas)
    assert not clashes, f"the spec now defines {clashes}: use its own schemas"
    schemas.update(copy.deepcopy(THREAD_SCHEMAS))
    thread_id = {
        "name": "thread_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "The ID of the thread.",
    }
    for (path, method), (operation_id, schema) in THREAD_OPERATIONS.items():
        assert method not in spec["paths"].get(path, {}), f"the spec now has {method.upper()} {path}"
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                }
            },
        }
        if "{thread_id}" in path:
            operation["parameters"] = [copy.deepcopy(thread_id)]
        _add_error_envelopes(operation)
        spec["paths"].setdefault(path, {})[method] = operation
    return spec


def contract_spec() -> dict[str, Any]:
    """The overlaid spec subset plus the thread operations (a fresh copy)."""
    return with_threads(overlay_spec())


def _add_error_envelopes(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    for status in ERROR_STATUSES:
        if status == "429" and "$ref" in responses.get(status, {}):
            continue  # components/responses/TooManyRequests: the envelope already, plus Retry-After
        responses[status] = {
            "description": "An error (the contract's envelope).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }


def _operations(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in _HTTP_METHODS
    ]


# --- validation ---------------------------------------------------------------------------------------------


class SpecValidator:
    """Validates response bodies against one OpenAPI 3.1 document's response schemas."""

    def __init__(self, spec: Mapping[str, Any], name: str = "spec") -> None:
        self.spec = spec
        self.uri = f"urn:tests:{name}"
        resource = Resource.from_contents(dict(spec), default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        self._validators: dict[tuple[str, str, str], jsonschema.protocols.Validator] = {}
        # The most specific template first, as API Gateway routes: a literal segment beats a {parameter}.
        self._templates = [
            (template, _template_regex(template))
            for template in sorted(spec["paths"], key=lambda t: t.count("{"))
        ]

    def match_path(self, path: str, base_path: str = BASE_PATH, method: str | None = None) -> str | None:
        """The spec's path template for a concrete URL path (``/v1/threads/t/messages`` with base ``/v1``):
        the most specific one, and with ``method`` the most specific one that has that operation, as API
        Gateway routes (``GET /v1/threads/import`` is ``GET /threads/{thread_id}``)."""
        if base_path and path.startswith(base_path.rstrip("/") + "/"):
            path = path[len(base_path.rstrip("/")) :]
        found = [str(template) for template, regex in self._templates if regex.fullmatch(path)]
        if method is not None:
            with_method = [template for template in found if self.has_operation(method, template)]
            found = with_method or found
        return found[0] if found else None

    def documented_statuses(self, method: str, path_template: str) -> list[str]:
        return list(self._operation(method, path_template)["responses"])

    def errors(self, method: str, path_template: str, status: int, body: Any) -> list[str]:
        """What is wrong with ``body`` as the ``status`` answer of ``method path_template`` (empty: none)."""
        try:
            validator = self._validator(method, path_template, status)
        except SpecViolation as undocumented:
            return undocumented.problems
        found = list(validator.iter_errors(body))
        if not found:
            return []
        where = f"{method.upper()} {path_template} {status}"
        best = best_match(found)
        problems = [f"{where}: {_describe(best)}"]
        problems += [f"{where}: {_describe(error)}" for error in found if error is not best]
        return problems[:_MAX_REPORTED]

    def request_errors(self, method: str, path_template: str, body: Any) -> list[str]:
        """What is wrong with ``body`` as the JSON request body of ``method path_template``."""
        key = (method.lower(), path_template, "request")
        if key not in self._validators:
            operation = self._operation(method, path_template)
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                return [f"{method.upper()} {path_template}: no JSON request body documented"]
            operation_pointer = f"/paths/{_escape(path_template)}/{method.lower()}"
            pointer = f"{operation_pointer}/requestBody/content/application~1json/schema"
            schema = {"$ref": f"{self.uri}#{quote(pointer, safe='/~')}"}
            self._validators[key] = jsonschema.Draft202012Validator(schema, registry=self.registry)
        found = list(self._validators[key].iter_errors(body))
        where = f"{method.upper()} {path_template} request"
        return [f"{where}: {_describe(error)}" for error in found][:_MAX_REPORTED]

    def has_operation(self, method: str, path_template: str) -> bool:
        item = self.spec["paths"].get(path_template)
        return isinstance(item, Mapping) and isinstance(item.get(method.lower()), Mapping)

    def envelope_errors(self, body: Any) -> list[str]:
        """What is wrong with ``body`` as the error envelope (``components/schemas/ErrorResponse``)."""
        key = ("", "", "envelope")
        if key not in self._validators:
            schema = {"$ref": f"{self.uri}#/components/schemas/ErrorResponse"}
            self._validators[key] = jsonschema.Draft202012Validator(schema, registry=self.registry)
        return [f"error envelope: {_describe(e)}" for e in self._validators[key].iter_errors(body)][
            :_MAX_REPORTED
        ]

    def validate(self, method: str, path_template: str, status: int, body: Any) -> None:
        problems = self.errors(method, path_template, status, body)
        if problems:
            raise SpecViolation(problems)

    def _operation(self, method: str, path_template: str) -> Mapping[str, Any]:
        item = self.spec["paths"].get(path_template)
        operation = item.get(method.lower()) if item else None
        if not isinstance(operation, Mapping):
            raise SpecViolation([f"{method.upper()} {path_template}: no such operation in the spec"])
        return operation

    def _validator(self, method: str, path_template: str, status: int) -> jsonschema.protocols.Validator:
        key = (method.lower(), path_template, str(status))
        if key in self._validators:
            return self._validators[key]
        operation = self._operation(method, path_template)
        responses = operation["responses"]
        code = str(status)
        if code not in responses:
            code = f"{code[0]}XX" if f"{code[0]}XX" in responses else "default"
        if code not in responses:
            documented = ", ".join(responses)
            raise SpecViolation(
                [f"{method.upper()} {path_template}: status {status} is not documented ({documented})"]
            )
        pointer = f"/paths/{_escape(path_template)}/{method.lower()}/responses/{code}"
        response = responses[code]
        if "$ref" in response:  # a components/responses entry
            pointer = response["$ref"].removeprefix("#")
            response = self.registry.resolver(self.uri).lookup(f"{self.uri}#{pointer}").contents
        media = response.get("content", {})
        if "application/json" not in media:
            raise SpecViolation([f"{method.upper()} {path_template} {status}: no JSON body documented"])
        pointer += "/content/application~1json/schema"
        schema = {"$ref": f"{self.uri}#{quote(pointer, safe='/~')}"}
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        self._validators[key] = validator
        return validator


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _describe(error: jsonschema.ValidationError) -> str:
    while error.context:  # anyOf / oneOf: say why the nearest branch failed
        error = best_match(error.context)
    location = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "body"
    message = error.message
    if len(message) > _MAX_SHOWN:  # keep the verdict at the end ("... is too long")
        message = message[: _MAX_SHOWN // 2] + " … " + message[-_MAX_SHOWN // 2 :]
    return f"{location}: {message} ({error.validator})"


@functools.cache
def raw_validator() -> SpecValidator:
    return SpecValidator(_load(SPEC_PATH), "openai-raw")


@functools.cache
def overlay_validator() -> SpecValidator:
    return SpecValidator(apply_overlay(_load(SPEC_PATH)), "openai-overlay")


@functools.cache
def contract_validator() -> SpecValidator:
    """The overlay plus the thread operations (``contract_spec``): what the recorder checks by default."""
    return SpecValidator(with_threads(apply_overlay(_load(SPEC_PATH))), "openai-contract")


def validator(*, overlay: bool = True) -> SpecValidator:
    return overlay_validator() if overlay else raw_validator()


def response_errors(
    method: str, path_template: str, status: int, body: Any, *, overlay: bool = True
) -> list[str]:
    return validator(overlay=overlay).errors(method, path_template, status, body)


def validate_response(
    method: str, path_template: str, status: int, body: Any, *, overlay: bool = True
) -> None:
    """Raises ``SpecViolation`` unless ``body`` is what the spec documents for this operation and status."""
    validator(overlay=overlay).validate(method, path_template, status, body)


# --- recording every response a client receives -------------------------------------------------------------


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class NotLoopback(RuntimeError):
    """A test client tried to reach a host outside the loopback range."""


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    path_template: str | None
    body: Any
    problems: list[str]


@dataclass
class ResponseRecorder:
    """Validates and keeps every response a client receives (see the module docstring).

    ``base_path`` is the path prefix the spec's paths are relative to (``/v1``). ``require_request_id``
    checks the contract's ``x-request-id`` header (a proxy in between may drop it).
    """

    validator: SpecValidator = field(default_factory=contract_validator)
    base_path: str = BASE_PATH
    require_request_id: bool = True
    exchanges: list[Exchange] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    # httpx / httpx2 (duck-typed: the openai SDK uses httpx2, portkey-ai its vendored openai on httpx)
    def httpx_hooks(self) -> dict[str, list[Callable[[Any], None]]]:
        return {"request": [self._httpx_request], "response": [self._httpx_response]}

    def _httpx_request(self, request: Any) -> None:
        self.check_url(str(request.url))

    def _httpx_response(self, response: Any) -> None:
        response.read()
        self.record(
            response.request.method,
            str(response.request.url),
            response.status_code,
            dict(response.headers),
            response.content,
        )

    # requests
    def requests_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        return {"response": [self._requests_response]}

    def _requests_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.record(
            response.request.method,
            response.request.url,
            response.status_code,
            dict(response.headers),
            response.content,
        )

    def check_url(self, url: str) -> None:
        host = urlsplit(url).hostname
        if not is_loopback(host):
            self.refused.append(url)
            raise NotLoopback(f"refusing a request to {url}: loopback only")

    def record(
        self, method: str, url: str, status: int, headers: Mapping[str, str], content: bytes
    ) -> Exchange:
        """Validates one response and keeps it."""
        lower = {k.lower(): v for k, v in headers.items()}
        path = urlsplit(url).path
        template = self.validator.match_path(path, self.base_path, method)
        problems: list[str] = []
        where = f"{method} {path} -> {status}"
        content_type = lower.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            problems.append(f"{where}: content-type is {content_type!r}, not application/json")
        if self.require_request_id and not lower.get("x-request-id"):
            problems.append(f"{where}: no x-request-id header")
        body: Any = None
        try:
            body = json.loads(content)
        except ValueError:
            problems.append(f"{where}: body is not JSON: {content[:_MAX_SHOWN]!r}")
        else:
            if template is not None and self.validator.has_operation(method, template):
                problems += self.validator.errors(method, template, status, body)
            elif status == 404:  # the contract's unknown route or method: 404 with the error envelope
                problems += [f"{where}: {p}" for p in self.validator.envelope_errors(body)]
            else:
                problems.append(f"{where}: not an operation of the spec, and not a 404")
        exchange = Exchange(method.upper(), url, status, template, body, problems)
        self.exchanges.append(exchange)
        return exchange

    @property
    def problems(self) -> list[str]:
        return [problem for exchange in self.exchanges for problem in exchange.problems] + [
            f"refused non-loopback request: {url}" for url in self.refused
        ]

    def statuses(self) -> list[int]:
        return [exchange.status for exchange in self.exchanges]

    def assert_clean(self, *, at_least: int = 1) -> None:
        """Every recorded response was valid, and at least ``at_least`` were recorded."""
        problems = self.problems
        if problems:
            raise SpecViolation(problems)
        assert len(self.exchanges) >= at_least, f"only {len(self.exchanges)} responses recorded"
