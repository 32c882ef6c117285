"""The local API server: template.yaml's HTTP API and functions on this machine, as API Gateway runs them.

    .venv/bin/python -m local.serve          # http://127.0.0.1:3000/v1 (PORT and HOST change it)

Each request is routed by the template's routes (see ``local/routes.py``) to its function's handler, as an
API Gateway HTTP API payload 2.0 event with a Lambda-like context, and the handler's proxy response is
written back as it is. Like a Lambda container, each function handles one request at a time (one lock per
function); the server itself is threaded. The store is an embedded DynamoDB unless
``AWS_ENDPOINT_URL_DYNAMODB`` points elsewhere (see ``local/store.py``). ``GET /v1/openapi.json`` serves the
OpenAPI document (``local/openapi.py``).
"""

from __future__ import annotations

import base64
import errno
import json
import os
import secrets
import signal
import socket
import string
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from local import keys as keys_tool
from local import openapi, wire
from local.routes import FunctionSpec, Handler, Match, RouteTable, function_specs, load_handler
from local.store import Store, StoreError, start_store
from local.template import (
    PSEUDO_PARAMETERS,
    ROOT,
    TABLE,
    TemplateError,
    parameter_defaults,
    resolve,
    resources,
    template,
    with_conditions,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
ACCOUNT_ID = PSEUDO_PARAMETERS["AWS::AccountId"]
OPENAPI_PATH = openapi.BASE_PATH + "/openapi.json"
CREATE_ROUTE = "POST /v1/threads"

_TEXT_TYPES = {"application/json", "application/xml", "application/javascript", "application/yaml"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ID_ALPHABET = string.ascii_letters + string.digits
# Headers this server writes itself, whatever a handler's response says.
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive"}


class LocalError(RuntimeError):
    """A start-up failure to tell the user in one line (no traceback)."""


class PortInUse(LocalError):
    def __init__(self, host: str, port: int) -> None:
        free = free_port_near(host, port)
        super().__init__(
            f"Port {port} on {host} is already in use: stop what is using it, or pick another port, "
            f"e.g. PORT={free} make serve"
        )
        self.port = port


def free_port_near(host: str, port: int) -> int:
    """The first port after ``port`` that can be bound on ``host`` now (the embedded store takes a port of its
    own, chosen when it starts, so any free port will do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port + 1, min(port + 200, 65535)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return 0


# --- Lambda's side: context, environment, invocation --------------------------------------------------------


class LambdaContext:
    """What a Python handler gets as ``context`` in Lambda (the fields Powertools and handlers read)."""

    def __init__(self, spec: FunctionSpec, region: str, timeout_s: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = spec.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


LOCAL_FUNCTION_TIMEOUT = 300.0
"""Seconds a function may take locally (``LOCAL_FUNCTION_TIMEOUT``). Lambda stops a function at its
Timeout; locally nothing stops it, and its context says it has this long: a busy laptop is slow, not
failing."""


class Function:
    """One function's container: its handler, called one request at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        handler: Handler,
        region: str,
        init_lock: threading.Lock,
        timeout_s: float = LOCAL_FUNCTION_TIMEOUT,
    ) -> None:
        self.spec = spec
        self.handler = handler
        self.region = region
        self.timeout_s = max(float(spec.timeout_s), timeout_s)
        self.lock = threading.Lock()
        self._init_lock = init_lock
        self._warm = False

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.lock:
            if self._warm:
                return self.handler(event, LambdaContext(self.spec, self.region, self.timeout_s))
            # A cold start's first call builds clients and caches that functions may share in this process:
            # one at a time, so that no two build them at once (boto3's session is not thread-safe).
            with self._init_lock:
                result = self.handler(event, LambdaContext(self.spec, self.region, self.timeout_s))
                self._warm = True
                return result


def function_environment(
    tmpl: Mapping[str, Any], specs: Mapping[str, FunctionSpec], store: Store, environ: Mapping[str, str]
) -> dict[str, str]:
    """The functions' environment variables from the template, resolved for this machine.

    A reference to the table is the table in use; a parameter is its default. A variable the user has set
    in the environment wins (``POWERTOOLS_LOG_LEVEL=DEBUG``), except the table, which is the store's.
    """
    names = dict(parameter_defaults(tmpl))
    names["AWS::Region"] = store.region
    for name in tmpl.get("Resources", {}):
        names.setdefault(name, name)
    arn = f"arn:aws:dynamodb:{store.region}:{ACCOUNT_ID}:table/{store.table_name}"
    for name in resources(TABLE, tmpl):
        names.update({name: store.table_name, f"{name}.Arn": arn})
    table_refs = set(resources(TABLE, tmpl))
    names = with_conditions(tmpl, names)
    merged: dict[str, str] = {}
    for spec in specs.values():
        for key, value in spec.environment.items():
            if key in merged:
                continue
            refers_to_table = isinstance(value, Mapping) and value.get("Ref") in table_refs
            resolved = resolve(value, names)
            merged[key] = resolved if refers_to_table else environ.get(key, resolved)
    return merged


# --- API Gateway's side: the event and the answer -----------------------------------------------------------


def request_id() -> str:
    """An id in API Gateway's shape (``apigw-requestid``), unique per request."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def _is_textual(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _clock(now: float) -> str:
    t = time.gmtime(now)
    day = f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}"
    return f"{day}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


@dataclass
class Request:
    """An HTTP request as it came in."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    port: int = DEFAULT_PORT
    request_id: str = field(default_factory=request_id)

    @property
    def raw_path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query


def make_event(request: Request, match: Match, now: float | None = None) -> dict[str, Any]:
    """The payload 2.0 event API Gateway would send for ``request`` on ``match``'s route."""
    now = time.time() if now is None else now
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", f"127.0.0.1:{request.port}")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers.setdefault("x-forwarded-port", str(request.port))
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")
    if request.body:
        headers["content-length"] = str(len(request.body))

    route_key = match.route.route_key
    raw_path, raw_query = request.raw_path, request.raw_query
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": _clock(now),
        "timeEpoch": int(now * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        try:
            text = request.body.decode("utf-8") if _is_textual(headers.get("content-type")) else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
            event["isBase64Encoded"] = False
    else:
        event["isBase64Encoded"] = False
    return event


@dataclass
class Answer:
    """An HTTP response to write: status, headers in order (repeats allowed), body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_answer(status: int, body: Any, request_id: str, headers: Mapping[str, str] | None = None) -> Answer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(
        status,
        [("Content-Type", "application/json"), ("apigw-requestid", request_id), *(headers or {}).items()],
        data,
    )


def gateway_error(status: int, message: str, request_id: str) -> Answer:
    """API Gateway's own answers (no route, integration failure, payload too large)."""
    return json_answer(status, {"message": message}, request_id)


def proxy_answer(result: Any, request_id: str) -> Answer:
    """A handler's result as API Gateway (payload 2.0) turns it into an HTTP response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # No statusCode: API Gateway answers 200 with the returned JSON as the body.
        return json_answer(200, json.dumps(result).encode(), request_id)
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"invalid statusCode {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if str(name).lower() not in _HOP_HEADERS:
            headers.append((str(name), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if str(name).lower() not in _HOP_HEADERS:
            headers.extend((str(name), str(v)) for v in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    headers.append(("apigw-requestid", request_id))
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(str(body), validate=True)
    else:
        data = str(body).encode("utf-8")
    return Answer(status, headers, data)


# --- the server ---------------------------------------------------------------------------------------------


def _as_request(incoming: wire.Incoming, port: int) -> Request:
    return Request(
        method=incoming.method,
        target=incoming.target,
        headers=incoming.headers,
        body=incoming.body,
        source_ip=incoming.peer,
        protocol=incoming.http_version,
        port=port,
    )


class LocalServer:
    """The API on this machine. ``start()`` binds, starts the store, loads the functions and serves in a
    background thread; ``stop()`` undoes all of it, the process environment included."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        tmpl: Mapping[str, Any] | None = None,
        root: Path = ROOT,
        log_requests: bool = False,
        out: TextIO | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.port = port
        self.template = template() if tmpl is None else tmpl
        self.root = root
        self.log_requests = log_requests
        self.out = out or sys.stdout
        self.routes = RouteTable.from_template(self.template)
        self.functions: dict[str, Function] = {}
        self.store: Store | None = None
        self.environment: dict[str, str] = {}
        self.openapi_body = b""
        self.local_key: str | None = None
        self._httpd: wire.Listener | None = None
        self._thread: threading.Thread | None = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 (only naming the address the server listens on)
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{openapi.BASE_PATH}"

    def start(self) -> LocalServer:
        try:
            self._bind()
            self.store = start_store(os.environ, self.template, notice=self._notice)
            self._set_environment(self.store.environment)
            self.local_key = keys_tool.provision(
                keys_tool.key_store({**os.environ, "TABLE_NAME": self.store.table_name}),
                os.environ,
                make_local_key=self.store.embedded,
            )
            specs = function_specs(self.template, self.root)
            self.environment = function_environment(self.template, specs, self.store, os.environ)
            self._set_environment(self.environment)
            init_lock = threading.Lock()
            timeout = float(os.environ.get("LOCAL_FUNCTION_TIMEOUT") or LOCAL_FUNCTION_TIMEOUT)
            for name in self.routes.functions():
                spec = specs[name]
                self.functions[name] = Function(
                    spec, load_handler(spec), self.store.region, init_lock, timeout
                )
            self.openapi_body = openapi.render(openapi.build_document(self.template, self.root)).encode()
        except BaseException:
            self.stop()
            raise
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.1,), name="local-api", daemon=True
        )
        self._thread.start()
        self.store.advertise(self.base_url)
        return self

    def _notice(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _bind(self) -> None:
        try:
            self._httpd = wire.Listener((self.host, self.requested_port), self._respond)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(self.host, self.requested_port) from None
            raise LocalError(
                f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror or exc}"
            ) from None
        self.port = int(self._httpd.server_address[1])

    def _set_environment(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            if self._thread is not None:
                httpd.shutdown()
                self._thread.join(timeout=5)
                self._thread = None
            httpd.close_connections()
            httpd.server_close()
        store, self.store = self.store, None
        if store is not None:
            store.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> LocalServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- one request

    def _respond(self, incoming: wire.Incoming) -> wire.Outgoing:
        started = time.monotonic()
        request = _as_request(incoming, self.port)
        answer, label = self.answer(request)
        if self.log_requests:
            elapsed = (time.monotonic() - started) * 1000
            print(
                f"{request.method} {request.target} -> {answer.status} [{label}] {elapsed:.0f} ms",
                file=self.out,
                flush=True,
            )
        return wire.Outgoing(answer.status, answer.headers, answer.body)

    def answer(self, request: Request) -> tuple[Answer, str]:
        """The response to ``request`` and what answered it (a route key, or the server itself)."""
        if request.method == "GET" and request.raw_path == OPENAPI_PATH:
            headers = {"x-request-id": request.request_id}
            return json_answer(200, self.openapi_body, request.request_id, headers), "openapi"
        match = self.routes.resolve(request.method, request.raw_path)
        if match is None:
            return gateway_error(404, "Not Found", request.request_id), "no route"
        function = self.functions[match.route.function]
        label = f"{match.route.route_key} -> {function.spec.name}"
        try:
            result = function.invoke(make_event(request, match))
            return proxy_answer(result, request.request_id), label
        except Exception:
            # Lambda would log the error and API Gateway answer its own 500.
            print(f"{function.spec.name} failed on {request.method} {request.raw_path}:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return gateway_error(500, "Internal Server Error", request.request_id), label

    # --- what the user sees at start

    def banner(self) -> str:
        assert self.store is not None
        width = max(len(r.route_key) for r in self.routes.routes) if self.routes.routes else 0
        lines = [f"Messages API (local) at {self.base_url}", f"  store:   {self.store.describe()}"]
        env = ", ".join(f"{k}={v}" for k, v in self.environment.items())
        lines.append(f"  env:     {env}")
        for index, route in enumerate(self.routes.routes):
            label = "  routes:  " if index == 0 else "           "
            lines.append(f"{label}{route.route_key.ljust(width)}  -> {route.function}")
        lines.append(f"  OpenAPI: {self.base_url}{OPENAPI_PATH[len(openapi.BASE_PATH) :]}")
        if self.local_key:
            lines.append(
                f"  API key: {self.local_key}  (tenant local; more: python -m local.keys --local create)"
            )
        else:
            lines.append("  API keys: those in MESSAGES_API_KEYS and the table (python -m local.keys)")
        example = self.curl_example()
        if example:
            lines += ["Try it:", f"  {example}"]
        lines.append("Ctrl-C stops the server.")
        return "\n".join(lines)

    def curl_example(self) -> str | None:
        """A curl command that creates a thread with a first message, if the template has that route."""
        if not any(r.route_key == CREATE_ROUTE for r in self.routes.routes):
            return None
        path = CREATE_ROUTE.split(" ", 1)[1]
        url = self.base_url + path[len(openapi.BASE_PATH) :]
        body = json.dumps({"messages": [{"role": "user", "content": "Hello, world!"}]})
        key = self.local_key or "$MESSAGES_API_KEY"
        return (
            f"curl -s {url} -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
            f"-H 'OpenAI-Beta: assistants=v2' -d '{body}'"
        )


# --- the command --------------------------------------------------------------------------------------------


class _Stop(Exception):
    """SIGINT or SIGTERM arrived."""


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``_Stop`` in the main thread, once; a second one exits at once."""

    def first(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, again)
        signal.signal(signal.SIGTERM, again)
        raise _Stop

    def again(signum: int, frame: FrameType | None) -> None:
        os._exit(0)

    previous = {s: signal.signal(s, first) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    host = env.get("HOST") or DEFAULT_HOST
    port_text = env.get("PORT") or str(DEFAULT_PORT)
    if not port_text.isdigit() or int(port_text) > 65535:
        print(f"PORT must be a number from 0 to 65535, not {port_text!r}", file=sys.stderr)
        return 1
    server = LocalServer(host, int(port_text), log_requests=True)
    with _stop_on_signals():
        try:
            server.start()
            print(server.banner(), flush=True)
            threading.Event().wait()
        except _Stop:
            pass
        except (LocalError, StoreError, TemplateError, keys_tool.KeyConfigError) as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            server.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
