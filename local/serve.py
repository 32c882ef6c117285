"""The local API server: template.yaml's HTTP API and functions on this machine, as API Gateway runs them.

    .venv/bin/python -m local.serve          # http://127.0.0.1:3000/v1 (PORT and HOST change it)

Each request is routed by the template's routes (see ``local/routes.py``) to its function's handler, as an API
Gateway HTTP API payload 2.0 event with a Lambda-like context, and the handler's proxy response is written
back as it is. Like a Lambda container, each function handles one request at a time (one lock per function);
the server itself is threaded. The store is an embedded DynamoDB unless ``AWS_ENDPOINT_URL_DYNAMODB`` points
elsewhere (see ``local/datastore.py``). ``GET /v1/openapi.json`` serves the OpenAPI document
(``local/openapi.py``). The parts: ``gateway.py`` makes API Gateway's event and answer, ``runtime.py`` stands
in for Lambda's runtime, ``wire.py`` reads and writes HTTP/1.1.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from local import keytool, openapi, wire
from local.datastore import DataStoreError, Store, start_store
from local.gateway import (
    DEFAULT_PORT,
    Answer,
    Request,
    gateway_error,
    json_answer,
    make_event,
    proxy_answer,
)
from local.routes import RouteTable, function_specs, load_handler
from local.runtime import LOCAL_FUNCTION_TIMEOUT, Function, function_environment
from local.template import ROOT, TemplateError, template

DEFAULT_HOST = "127.0.0.1"
OPENAPI_PATH = openapi.BASE_PATH + "/openapi.json"
CREATE_ROUTE = "POST /v1/threads"


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
            self.local_key = keytool.provision(
                keytool.key_store({**os.environ, "TABLE_NAME": self.store.table_name}),
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
                f"  API key: {self.local_key}  (tenant local; more: python -m local.keytool --local create)"
            )
        else:
            lines.append("  API keys: those in MESSAGES_API_KEYS and the table (python -m local.keytool)")
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
        except (LocalError, DataStoreError, TemplateError, keytool.KeyConfigError) as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            server.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
