"""The environment the functions run with, in this process and in the cold-start children."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

TABLE_NAME = "messages-bench"
REGION = "us-east-1"

_FUNCTION_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # No shared config, no profile, no instance metadata: nothing but the endpoints given here is reached.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": TABLE_NAME,
    "POWERTOOLS_SERVICE_NAME": "messages-api-bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
_FOREIGN = ("AWS_", "POWERTOOLS_", "BOTO_", "TABLE_NAME", "TRACING_ENABLED")


def _inherited() -> dict[str, str]:
    """This process's environment without any AWS, Powertools or function setting of the user's."""
    return {name: value for name, value in os.environ.items() if not name.startswith(_FOREIGN)}


def configure_process() -> None:
    """Gives this process the functions' environment; must run before threadkit is imported (its loggers
    read it then). In-process parts talk to moto's in-process mock or to botocore's Stubber only."""
    kept = _inherited()
    for name in [name for name in os.environ if name not in kept]:
        del os.environ[name]
    os.environ.update(_FUNCTION_ENVIRONMENT)


def child_environment(endpoint: str) -> dict[str, str]:
    """The environment of a cold-start child: the functions' settings and DynamoDB at ``endpoint``. No
    bytecode is written: the project's code is compiled at every start, as on Lambda (whose package has no
    ``__pycache__``), while installed packages use the bytecode they were installed with."""
    return {
        **_inherited(),
        **_FUNCTION_ENVIRONMENT,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@contextlib.contextmanager
def stdout_discarded() -> Iterator[None]:
    """Sends what the functions print (log lines, embedded-format metrics) to /dev/null at the file
    descriptor, so they still pay for writing it, as on Lambda, but the bench's output stays readable."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)
