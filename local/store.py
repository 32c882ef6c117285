"""The local server's DynamoDB: an embedded one (moto, in this process) or the one the user points at.

* By default: moto's server in a child process on 127.0.0.1 (``LOCAL_DYNAMODB_PORT``, else a free port),
  dummy credentials, and the template's table created at start. Its data lives as long as the server. A
  child process keeps the store apart from anything else in this process that uses moto (tests do).
* With ``AWS_ENDPOINT_URL_DYNAMODB`` set (DynamoDB Local, LocalStack, or real AWS with real credentials):
  that endpoint and ``TABLE_NAME``, with the user's credentials; the table is created only if it is missing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local.template import table_definition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_TABLE = "messages-local"
DEFAULT_REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class StoreError(RuntimeError):
    """The store could not be started or reached; the message says why, for a person."""


@dataclass
class Store:
    """A running store: where it is, which table, and the environment that points the functions at it."""

    endpoint: str
    table_name: str
    region: str
    embedded: bool
    created: bool
    environment: dict[str, str] = field(default_factory=dict)
    _server: Any = None

    def describe(self) -> str:
        table = f"table {self.table_name} ({'created' if self.created else 'exists, used as it is'})"
        if self.embedded:
            return f"embedded DynamoDB (moto) at {self.endpoint}, {table}; its data ends with the server"
        return f"DynamoDB at {self.endpoint} (AWS_ENDPOINT_URL_DYNAMODB), {table}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()


def region_of(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def start_store(environ: Mapping[str, str], tmpl: Mapping[str, Any] | None = None) -> Store:
    """Starts the embedded store, or checks the user's, and makes sure the table exists."""
    region = region_of(environ)
    table_name = environ.get("TABLE_NAME") or DEFAULT_TABLE
    endpoint = environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    definition = table_definition(tmpl)
    if endpoint:
        client = _client(endpoint, region)
        created = ensure_table(client, table_name, definition)
        env = {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        return Store(endpoint, table_name, region, embedded=False, created=created, environment=env)

    port = int(environ.get("LOCAL_DYNAMODB_PORT") or 0) or _free_port()
    server = _MotoProcess(port)
    endpoint = server.endpoint
    try:
        client = _client(endpoint, region, DUMMY_CREDENTIALS)
        created = ensure_table(client, table_name, definition)
    except BaseException:
        server.stop()
        raise
    env = {
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    return Store(
        endpoint, table_name, region, embedded=True, created=created, environment=env, _server=server
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _MotoProcess:
    """moto's DynamoDB server as a child process on 127.0.0.1, started and waited for with a bound."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.endpoint = f"http://127.0.0.1:{port}"
        if _answers(port):
            raise StoreError(f"port {port} on 127.0.0.1 is already in use (set LOCAL_DYNAMODB_PORT)")
        # moto (werkzeug) logs a line to stderr per request: a file, never a pipe that nobody reads once the
        # store has started (a full pipe, ~1,000 requests, blocks every request of the store for good).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed by stop()
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + timeout
        while not _answers(port):
            if self._process.poll() is not None:
                self._stderr.seek(0)
                detail = self._stderr.read().decode(errors="replace")[-500:]
                raise StoreError(f"the embedded DynamoDB (moto) did not start: {detail.strip()}")
            if time.monotonic() > deadline:
                self.stop()
                raise StoreError(f"the embedded DynamoDB (moto) did not answer within {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._stderr.close()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _client(endpoint: str, region: str, credentials: Mapping[str, str] | None = None) -> DynamoDBClient:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})
    # A session of its own: boto3's default session is shared with the functions and is not thread-safe.
    session = boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"] if credentials else None,
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"] if credentials else None,
        aws_session_token=credentials["AWS_SESSION_TOKEN"] if credentials else None,
        region_name=region,
    )
    client: DynamoDBClient = session.client("dynamodb", endpoint_url=endpoint, config=config)
    return client


def ensure_table(client: DynamoDBClient, name: str, definition: Mapping[str, Any]) -> bool:
    """Creates the table unless it exists; True if it was created. Waits until it is ACTIVE."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    endpoint = client.meta.endpoint_url
    try:
        try:
            status = client.describe_table(TableName=name)["Table"].get("TableStatus", "ACTIVE")
            created = False
        except client.exceptions.ResourceNotFoundException:
            status = client.create_table(TableName=name, **definition)["TableDescription"].get(
                "TableStatus", "ACTIVE"
            )
            created = True
        if status != "ACTIVE":
            client.get_waiter("table_exists").wait(
                TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
    except NoCredentialsError:
        raise StoreError(
            f"no AWS credentials for {endpoint}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(any values do for DynamoDB Local and LocalStack)"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StoreError(
            f"DynamoDB at {endpoint} refused table {name!r}: {error.get('Code')}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise StoreError(f"cannot reach DynamoDB at {endpoint}: {exc}") from None
    return created
