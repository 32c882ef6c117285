"""The local server's DynamoDB: the embedded one (``local/dynamodb``, a child process) or the one the user
points at.

* By default: the embedded DynamoDB on 127.0.0.1 (on the port the server names, ``PORT+1``: see
  ``local/ports.py``), with dummy credentials, its data in ``<LOCAL_DATA_DIR>/dynamodb.sqlite3`` (default
  ``.data/`` in the project, so it lasts from one ``make serve`` to the next; ``LOCAL_DATA_DIR=memory`` keeps
  it in memory), and the template's table created if it is missing.
* With ``AWS_ENDPOINT_URL_DYNAMODB`` set (DynamoDB Local, LocalStack, or real AWS with real credentials):
  that endpoint and ``TABLE_NAME``, with the user's credentials; the table is created only if it is missing.

Either way the functions get time budgets suited to a store on a busy laptop (``LOCAL_BUDGETS``), unless the
user sets their own: slow is slow here, never a 503.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.dynamodb.process import ROOT, EmbeddedProcess, EmbeddedStoreError
from local.template import table_definition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_TABLE = "messages-local"
DEFAULT_REGION = "us-east-1"
DEFAULT_DATA_DIR = ROOT / ".data"
DATA_FILE = "dynamodb.sqlite3"
SERVER_FILE = "server.json"
"""Written in the data folder while a server runs: where its store is (read by the key tool's ``--local``)."""
IN_MEMORY = "memory"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# The functions' DynamoDB budget locally (see threadkit/client.py for the deployed one): a local store on a
# loaded machine can take seconds to answer, which is slowness, not a failure.
LOCAL_BUDGETS = {
    "DYNAMODB_CONNECT_TIMEOUT": "10",
    "DYNAMODB_READ_TIMEOUT": "60",
    "DYNAMODB_MAX_ATTEMPTS": "3",
}


class DataStoreError(RuntimeError):
    """The store could not be started or reached; the message says why, for a person."""


@dataclass
class Store:
    """A running store: where it is, which table, and the environment that points the functions at it."""

    endpoint: str
    table_name: str
    region: str
    embedded: bool
    created: bool
    data_file: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    _process: EmbeddedProcess | None = None
    _server_file: Path | None = None
    _advertised: str = ""

    def describe(self) -> str:
        table = f"table {self.table_name} ({'created' if self.created else 'exists, used as it is'})"
        if not self.embedded:
            return f"DynamoDB at {self.endpoint} (AWS_ENDPOINT_URL_DYNAMODB), {table}"
        where = (
            "in memory: its data ends with the server"
            if self.data_file is None
            else f"data in {_shown(self.data_file)} (kept between runs; delete it to start clean)"
        )
        return f"embedded DynamoDB at {self.endpoint}, {table}, {where}"

    def advertise(self, api_base_url: str) -> None:
        """Tells tools of this machine where the running server and its store are (``SERVER_FILE``)."""
        if self.data_file is None:
            return
        self._server_file = self.data_file.parent / SERVER_FILE
        self._advertised = (
            json.dumps({"api": api_base_url, "dynamodb": self.endpoint, "table": self.table_name}) + "\n"
        )
        self._server_file.write_text(self._advertised)

    def stop(self) -> None:
        server_file, self._server_file = self._server_file, None
        if server_file is not None:
            # Another server started on the same data folder since may have written its own: leave that.
            with contextlib.suppress(OSError):
                if server_file.read_text() == self._advertised:
                    server_file.unlink()
        process, self._process = self._process, None
        if process is not None:
            process.stop()


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def region_of(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def data_file(environ: Mapping[str, str]) -> Path | None:
    """Where the embedded store keeps its data (None: in memory)."""
    folder = environ.get("LOCAL_DATA_DIR") or str(DEFAULT_DATA_DIR)
    if folder == IN_MEMORY:
        return None
    return Path(folder).expanduser().resolve() / DATA_FILE


def running_server(environ: Mapping[str, str]) -> dict[str, str] | None:
    """What a running ``make serve`` advertised in its data folder (``api``, ``dynamodb``, ``table``)."""
    found = data_file(environ)
    if found is None:
        return None
    try:
        advertised: dict[str, str] = json.loads((found.parent / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return advertised


def start_store(
    environ: Mapping[str, str],
    tmpl: Mapping[str, Any] | None = None,
    notice: Callable[[str], None] | None = None,
    port: int | None = None,
) -> Store:
    """Starts the embedded store (on ``port``, else ``LOCAL_DYNAMODB_PORT``, else a free port), or checks the
    user's, and makes sure the table exists."""
    region = region_of(environ)
    table_name = environ.get("TABLE_NAME") or DEFAULT_TABLE
    endpoint = environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    definition = table_definition(tmpl)
    budgets = {key: environ.get(key) or value for key, value in LOCAL_BUDGETS.items()}
    if endpoint:
        client = _client(endpoint, region)
        created = ensure_table(client, table_name, definition)
        env = {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        return Store(
            endpoint, table_name, region, embedded=False, created=created, environment={**env, **budgets}
        )

    data = data_file(environ)
    if port is None:
        port = int(environ.get("LOCAL_DYNAMODB_PORT") or 0)
    process = EmbeddedProcess(data, port=port, notice=notice)
    try:
        process.start()
        client = _client(process.endpoint, region, DUMMY_CREDENTIALS)
        created = ensure_table(client, table_name, definition)
    except EmbeddedStoreError as exc:
        process.stop()
        raise DataStoreError(str(exc)) from None
    except BaseException:
        process.stop()
        raise
    env = {
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": process.endpoint,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **budgets,
    }
    return Store(
        process.endpoint,
        table_name,
        region,
        embedded=True,
        created=created,
        data_file=data,
        environment=env,
        _process=process,
    )


def _client(endpoint: str, region: str, credentials: Mapping[str, str] | None = None) -> DynamoDBClient:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 3})
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
        raise DataStoreError(
            f"no AWS credentials for {endpoint}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(any values do for DynamoDB Local and LocalStack)"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise DataStoreError(
            f"DynamoDB at {endpoint} refused table {name!r}: {error.get('Code')}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise DataStoreError(f"cannot reach DynamoDB at {endpoint}: {exc}") from None
    return created
