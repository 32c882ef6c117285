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
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from local import docs, keytool, openapi, ports, wire
from local.console import LogTarget, access_line, functions_output, log_target
from local.datastore import DataStoreError, Store, start_store
from local.gateway import DEFAULT_PORT, Answer, Request, gateway_error, make_event, proxy_answer
from local.ports import LocalError, PortInUse
from local.routes import RouteTable, function_specs, load_handler
from local.runtime import LOCAL_FUNCTION_TIMEOUT, Function, function_environment
from local.template import ROOT, TemplateError, template

DEFAULT_HOST = "127.0.0.1"
CREATE_ROUTE = "POST /v1/threads"


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
        self.docs_title = ""
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
            self.store = start_store(os.environ, self.template, notice=self._notice, port=self._store_port())
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
            document = openapi.build_document(self.template, self.root)
            self.openapi_body = docs.served_document(document, self.base_url)
            self.docs_title = str(document["info"]["title"])
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

    def _store_port(self) -> int | None:
        """The embedded store's port (see ``local/ports.py``), checked free; None when the store is the
        user's (``AWS_ENDPOINT_URL_DYNAMODB``)."""
        if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
            return None
        port = ports.store_port(self.requested_port, os.environ)
        if port and not ports.is_free(ports.STORE_HOST, port):
            source = "LOCAL_DYNAMODB_PORT" if os.environ.get("LOCAL_DYNAMODB_PORT") else "PORT+1"
            raise PortInUse(self.host, port, api_port=self.port, store_from=source)
        return port

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
        answer, _ = self.answer(request)
        if self.log_requests:
            elapsed = (time.monotonic() - started) * 1000
            line = access_line(request.method, request.target, answer.status, elapsed)
            print(line, file=self.out, flush=True)
        return wire.Outgoing(answer.status, answer.headers, answer.body)

    def answer(self, request: Request) -> tuple[Answer, str]:
        """The response to ``request`` and what answered it (a route key, or the server itself)."""
        own = docs.answer(request.method, request.raw_path, self.openapi_body, self.docs_title)
        if own is not None:
            body, content_type = own
            headers = [
                ("Content-Type", content_type),
                ("apigw-requestid", request.request_id),
                ("x-request-id", request.request_id),
            ]
            return Answer(200, headers, body), "local server"
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

    def banner(self, logs: str | None = None) -> str:
        """What the user sees at start; ``logs`` says where the functions' log lines go."""
        assert self.store is not None
        width = max(len(r.route_key) for r in self.routes.routes) if self.routes.routes else 0
        lines = [f"Messages API (local) at {self.base_url}", f"  store:   {self.store.describe()}"]
        env = ", ".join(f"{k}={v}" for k, v in self.environment.items())
        lines.append(f"  env:     {env}")
        for index, route in enumerate(self.routes.routes):
            label = "  routes:  " if index == 0 else "           "
            lines.append(f"{label}{route.route_key.ljust(width)}  -> {route.function}")
        origin = self.base_url.removesuffix(openapi.BASE_PATH)
        lines.append(f"  docs:    {origin}{docs.DOCS_PATH}  (Swagger UI of {origin}{docs.OPENAPI_PATH})")
        if logs is not None:
            lines.append(f"  logs:    {logs}")
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
    try:
        logs = log_target(env)
        with _stop_on_signals(), functions_output(logs) as console:
            return _serve(LocalServer(host, int(port_text), log_requests=True, out=console), logs)
    except (LocalError, DataStoreError, TemplateError, keytool.KeyConfigError) as exc:
        print(exc, file=sys.stderr)
        return 1


def _serve(server: LocalServer, logs: LogTarget) -> int:
    """Starts ``server``, shows the banner on its console and serves until a signal."""
    try:
        server.start()
        print(server.banner(logs=logs.describe()), file=server.out, flush=True)
        threading.Event().wait()
    except _Stop:
        pass
    finally:
        server.stop()
    print("Stopped.", file=server.out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
